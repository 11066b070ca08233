/* uplift.h: evaluation of per-patient treatment-effect estimates against what the arms
 * observed, as uplift and causal-forest users evaluate them (Qini and uplift curves, a
 * calibration of the effect by quantile of predicted benefit, the average effect, balance).
 *
 * Conventions: two arms at a time, `treated` 1 for the arm evaluated and 0 for the reference
 * arm; y the binary outcome (the event to avoid: death, readmission); effect the predicted
 * risk difference p_arm - p_reference, so that the predicted benefit is -effect (the risk
 * the arm takes away). Patients are ranked by predicted benefit, highest first, ties in
 * input order. Nothing here fails: an undefined figure (an empty arm in a group) is NAN.
 *
 * Qini curve at the top k patients: Q(k) = (Y_r(k) N_t(k) / N_r(k) - Y_t(k)) / N, the events
 * the arm avoided in the top k scaled to the whole cohort (Y_* events, N_* patients of each
 * arm among the top k; 0 while N_r(k) = 0), against the random line x Q(N). The uplift curve
 * is U(k) = (Y_r(k) / N_r(k) - Y_t(k) / N_t(k)) k / N (0 while an arm is empty in the top
 * k). Each area is the mean over k = 1..N of the curve minus the random line: above 0 the
 * ranking finds those who benefit better than chance. */
#ifndef LUMEN_UPLIFT_H
#define LUMEN_UPLIFT_H

#include <cjson/cJSON.h>

/* Curves sampled at npts + 1 evenly spaced fractions 0, 1/npts, .., 1 of the cohort. */
typedef struct uplift_curves {
	int npts;
	double *x, *qini, *uplift, *random_qini, *random_uplift; /* npts + 1 each */
	double qini_area, uplift_area; /* above random, mean over every k */
	double qini_total;             /* Q(N): the arm's benefit over the whole cohort */
} uplift_curves;
/* Fills c (arrays malloc'd; uplift_curves_free). */
void uplift_curves_compute(const double *effect, const int *treated, const double *y, long n,
			   int npts, uplift_curves *c);
void uplift_curves_free(uplift_curves *c);

/* Calibration of the effect: patients cut into ngroups groups of (nearly) equal size by
 * predicted benefit (highest first); per group the mean predicted effect and the observed
 * one, mean y of the arm - mean y of the reference, with a Wald 95% interval
 * (sqrt(p_t(1-p_t)/n_t + p_r(1-p_r)/n_r)). slope and intercept: weighted least squares of
 * observed on predicted over the groups (weights 1 / variance; a group whose variance is 0
 * gets the smallest positive variance of the others): 1 and 0 are a calibrated effect. */
#define UPLIFT_MAX_GROUPS 20
typedef struct uplift_calibration {
	int ngroups;
	long n[UPLIFT_MAX_GROUPS], n_t[UPLIFT_MAX_GROUPS], n_r[UPLIFT_MAX_GROUPS];
	double predicted[UPLIFT_MAX_GROUPS], observed[UPLIFT_MAX_GROUPS];
	double lo[UPLIFT_MAX_GROUPS], hi[UPLIFT_MAX_GROUPS];
	double slope, intercept;
} uplift_calibration;
void uplift_calibration_compute(const double *effect, const int *treated, const double *y,
				long n, int ngroups, uplift_calibration *c);

/* The same calibration with the observed effect of a group the mean of its doubly-robust
 * pseudo-outcomes psi (valid without randomisation when the propensity and outcome models
 * are), its interval 1.96 sd / sqrt(n); n_t and n_r are 0. */
void uplift_calibration_pseudo(const double *effect, const double *psi, long n, int ngroups,
			       uplift_calibration *c);

/* Difference in means y_t - y_r with its Wald 95% interval (the average effect of a
 * randomised arm). */
void uplift_ate(const int *treated, const double *y, long n, double *ate, double *lo,
		double *hi);

/* Standardised mean difference of x between the arms, (m_t - m_r) / sqrt((v_t + v_r) / 2)
 * over the non-missing values (NAN x skipped; 0 when both variances are 0). */
double uplift_smd(const double *x, const int *treated, long n);

/* The JSON of a result (numbers rounded to 6 decimals), for the model's stored metrics. */
cJSON *uplift_curves_json(const uplift_curves *c);
cJSON *uplift_calibration_json(const uplift_calibration *c);

#endif
