/* km.h: Kaplan–Meier survival curves, the log-rank test and the chi-square tail.
 *
 * Conventions (the same as R's survival package, against which the tests check them):
 *   - the curve has a point at every distinct observed time, event or censoring (survfit);
 *   - an event and a censoring at the same time: the censored patient is still at risk;
 *   - Greenwood variance of log S(t): sum over event times u <= t of d / (n (n - d));
 *   - 95% interval on the log scale (survfit's default conf.type = "log"):
 *     S exp(+-1.959964 se), the upper bound capped at 1; NAN where S = 0;
 *   - number at risk at time t counts the patients whose time is >= t (the start of the
 *     period, as R's summary(fit, times = t); lifelines reports the end of the period);
 *   - median (any quantile q): the first time the curve is <= q; when the curve sits at q
 *     exactly (within 1.5e-8) the midpoint between that time and the next drop (R's
 *     quantile.survfit); its interval is where the upper and the lower confidence curves
 *     cross q by the same rule; NAN when never reached. */
#ifndef LUMEN_KM_H
#define LUMEN_KM_H

#define KM_Z95 1.959963984540054

typedef struct km_curve {
	long n;           /* patients */
	long events;
	long m;           /* points: distinct times */
	double *time, *surv, *se, *lower, *upper; /* se: standard error of log S */
	long *n_risk, *n_event, *n_censor;
	double median, median_lower, median_upper;
} km_curve;

/* Fits a curve over n patients (time >= 0 and finite, event 0/1; the caller drops the rest).
 * Arrays are owned by out; free with km_free. Never fails (n = 0 gives an empty curve). */
void km_fit(const double *time, const int *event, long n, km_curve *out);
void km_free(km_curve *c);

/* S(t) and its interval at any time t (the last point at or before t; 1 before the first);
 * lo and hi may be NULL. */
double km_surv_at(const km_curve *c, double t, double *lo, double *hi);
/* Patients at risk at t: time >= t (start of the period). */
long km_at_risk(const km_curve *c, double t);
/* The first time S(t) <= q (q = 0.5: the median; R's quantile(fit, 1 - q)) with its interval,
 * by the rule above; lo and hi may be NULL. */
double km_quantile(const km_curve *c, double q, double *lo, double *hi);

/* Log-rank test of G groups (group[i] in 0..G-1, every group non-empty).
 * obs and expected (each G values) are malloc'd into out and freed with km_logrank_free.
 * df is the rank of the variance matrix (G - 1 unless a group has no one at risk at any
 * event time). */
typedef struct km_logrank {
	int groups, df;
	double chisq, p;
	double *obs, *expected;
} km_logrank;

void km_logrank_test(const double *time, const int *event, const int *group, long n, int G,
		     km_logrank *out);
void km_logrank_free(km_logrank *t);

/* Regularised upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a), a > 0, x >= 0
 * (series for x < a + 1, Lentz's continued fraction otherwise); NAN for invalid input. */
double km_gamma_q(double a, double x);
/* Upper tail P(X > x) of a chi-square with df degrees of freedom. */
double km_chisq_upper(double x, int df);

#endif
