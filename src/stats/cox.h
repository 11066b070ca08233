/* cox.h: Cox proportional hazards — the partial likelihood with Efron or Breslow ties, its
 * Newton–Raphson fit with step halving and an optional ridge penalty, the Breslow/Efron
 * baseline cumulative hazard, and each patient's survival curve S(t | x).
 *
 * Conventions (those of R's survival::coxph and survfit.coxph, which the tests check):
 *   - the partial log-likelihood with Efron's approximation at tied deaths (ties "efron",
 *     the default) or Breslow's (ties "breslow");
 *   - a patient censored at the time of a death is still in that death's risk set;
 *   - the penalised fit maximises loglik(b) - l2/2 * |b|^2; coef standard errors come from the
 *     inverse of the (penalised) information at the optimum;
 *   - an input that is a linear combination of the earlier ones (a full set of one-hot levels,
 *     a constant) is aliased: its coefficient is 0 and not estimated, its se NAN (R's NA);
 *   - the baseline cumulative hazard is at x = 0 (the caller centres x), with increments
 *     sum_{k<d} 1 / (R - k/d D) at an event time with d deaths, R the risk-set sum of exp(lp)
 *     and D the deaths' sum (Efron), or d / R (Breslow) — survfit.coxph's ctype 2 and 1.
 * Cost: the data are sorted by time once; one likelihood, gradient and information evaluation
 * is a single pass over the patients with running risk-set sums, O(n p^2). */
#ifndef LUMEN_COX_H
#define LUMEN_COX_H

#include "../util.h"

typedef enum { COX_EFRON, COX_BRESLOW } cox_ties;

typedef struct cox_opts {
	cox_ties ties;  /* default COX_EFRON */
	double l2;      /* ridge penalty on every coefficient, default 0 */
	int max_iter;   /* default 30 */
	double tol;     /* relative change of the penalised log-likelihood, default 1e-10 */
	const int *fixed; /* p flags or NULL: inputs held at 0 and reported as aliased (the
			   * reference level of a categorical column) */
} cox_opts;

void cox_opts_defaults(cox_opts *o);

typedef struct cox_fit {
	int p;
	double *beta;     /* p coefficients on the given (e.g. standardised) inputs */
	double *se;       /* p; NAN for aliased inputs */
	double *var;      /* p x p inverse information (zero rows for aliased inputs) */
	int *aliased;     /* p flags */
	int df;           /* estimated coefficients */
	double loglik0;   /* partial log-likelihood at b = 0 */
	double loglik;    /* at the fit (without the penalty) */
	double lr_chisq, lr_p; /* 2 (loglik - loglik0) on df degrees of freedom */
	int iter, converged;
	int ridged;       /* the information was singular on the way (a coefficient running off
			   * to infinity) and a tiny ridge was added to invert it: warn */
	long n, events;
	/* baseline cumulative hazard at x = 0: a step at every distinct event time */
	long nbase;
	double *btime, *bhaz;
} cox_fit;

/* Fits the model on n patients: X n x p row-major (double), time >= 0 finite, event 0/1.
 * 0, or EX_DATAERR with err set (no patients, no events, a non-finite value). Arrays in fit
 * are malloc'd; free with cox_fit_free. A fit that did not converge in max_iter iterations
 * returns 0 with fit->converged = 0 (the caller warns). */
int cox_fit_run(const double *X, const double *time, const int *event, long n, int p,
		const cox_opts *o, cox_fit *fit, lm_err *err);
void cox_fit_free(cox_fit *fit);

/* The unpenalised partial log-likelihood at beta with its gradient (p, may be NULL) and
 * information matrix (p x p, the negative Hessian, may be NULL). `order` is the patients
 * sorted by decreasing time (cox_order), so that one pass builds every risk set. */
double cox_loglik(const double *X, const double *time, const int *event, const long *order,
		  long n, int p, const double *beta, cox_ties ties, double *grad, double *info);
/* Patients by decreasing time (malloc'd, n entries). */
long *cox_order(const double *time, long n);

/* Baseline cumulative hazard at x = 0 given the linear predictors lp of the n patients:
 * *nbase distinct event times and their cumulative hazards, malloc'd into *btime, *bhaz. */
void cox_baseline(const double *lp, const double *time, const int *event, long n,
		  cox_ties ties, long *nbase, double **btime, double **bhaz);

/* H0(t) of a baseline (0 before the first event time) and S(t | lp) = exp(-H0(t) e^lp). */
double cox_cumhaz_at(const double *btime, const double *bhaz, long nbase, double t);
double cox_surv_at(const double *btime, const double *bhaz, long nbase, double t, double lp);

/* The proportional-hazards check of R's cox.zph (transform "km"): the score test, at the fit,
 * of adding x_j g(t) for every input, g(t) = 1 - KM(t-) centred over the events. u (2p) is the
 * score (first p: the model's own, about 0; then sum over deaths of g (x - xbar)) and imat the
 * 2p x 2p information [[sum V, sum g V], [sum g V, sum g^2 V]], with Efron's (or Breslow's)
 * weighting at tied deaths. Both are malloc'd into z; free with cox_zph_free. */
typedef struct cox_zph {
	int p;
	double *u, *imat;
} cox_zph;
void cox_zph_compute(const double *X, const double *time, const int *event, long n, int p,
		     const double *beta, cox_ties ties, cox_zph *z);
void cox_zph_free(cox_zph *z);
/* The test of the inputs flagged in `sel` (p flags) given the estimated ones (not aliased):
 * chi-square u' A^-1 u over the estimated inputs plus the selected ones' time terms, as
 * cox.zph's table row; df = the selected estimated inputs. NAN when singular. */
double cox_zph_test(const cox_zph *z, const int *aliased, const int *sel, int *df);

#endif
