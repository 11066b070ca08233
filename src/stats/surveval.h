/* surveval.h: how well risk scores and survival predictions fit censored outcomes —
 * Harrell's and Uno's concordance, time-dependent AUC, the Brier score with inverse
 * probability of censoring weights (IPCW), and calibration at a horizon.
 *
 * Conventions (R's survival::concordance and riskRegression::Score, which the tests check):
 *   - a higher risk score means an earlier event;
 *   - a pair (i, j) is comparable when i has an event and T_i < T_j, or T_i = T_j and j is
 *     censored (a censored patient is at risk at a death at the same time); pairs of tied event
 *     times are not comparable; tied scores count one half;
 *   - G is the Kaplan–Meier curve of the censoring times, the deaths at a time leaving the risk
 *     set before its censorings (the reverse Kaplan–Meier of prodlim and survival's fastkm);
 *     G(t-) is its value just before t;
 *   - Uno's C weights each comparable pair of an event at T_i by 1 / G(T_i-)^2 and counts only
 *     T_i <= tau (concordance(timewt = "n/G2", ymax = tau)) (tau = +inf: no restriction);
 *   - AUC(t), cumulative cases T_i <= t with an event (weight 1 / G(T_i-)) against dynamic
 *     controls T_j > t (weight 1 / G(t)), as Score(metrics = "auc", cens.model = "km");
 *   - Brier(t) = 1/n sum_i [T_i <= t, event] S_i(t)^2 / G(T_i-) + [T_i > t] (1 - S_i(t))^2 / G(t),
 *     patients censored before t contributing 0, as Score(metrics = "brier").
 * Everything is O(n log n). */
#ifndef LUMEN_SURVEVAL_H
#define LUMEN_SURVEVAL_H

typedef struct surveval_conc {
	double c;                       /* (concordant + tied / 2) / (concordant + discordant + tied) */
	double concordant, discordant, tied; /* weighted pair counts */
} surveval_conc;

/* Concordance of risk scores `risk` with (time, event) over n patients. weighted = 0: Harrell's
 * C; 1: Uno's C with truncation tau. c is NAN when no pair is comparable. */
void surveval_concordance(const double *time, const int *event, const double *risk, long n,
			  int weighted, double tau, surveval_conc *out);

/* Time-dependent AUC at t of risk scores (for survival predictions: 1 - S_i(t)); NAN when there is no case or no control. */
double surveval_auc_t(const double *time, const int *event, const double *risk, long n, double t);

/* IPCW Brier score at t of predicted survival probabilities surv[i] = S_i(t). */
double surveval_brier_t(const double *time, const int *event, const double *surv, long n,
			double t);

/* Calibration at t: patients in `groups` groups of equal size by predicted risk 1 - S_i(t)
 * (the lowest risks first); per group the number of patients, the mean predicted risk and the
 * Kaplan–Meier risk 1 - KM(t) observed in it. Arrays are malloc'd (groups entries each); free
 * with surveval_calib_free. */
typedef struct surveval_calib {
	int groups;
	long *n;
	double *predicted, *observed;
} surveval_calib;
void surveval_calibration(const double *time, const int *event, const double *surv, long n,
			  double t, int groups, surveval_calib *out);
void surveval_calib_free(surveval_calib *c);

#endif
