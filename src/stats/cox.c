/* cox.c: the Cox partial likelihood in one pass over time-sorted patients, its Newton–Raphson
 * fit, and the baseline hazard (see cox.h for the conventions). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cox.h"
#include "km.h"

void cox_opts_defaults(cox_opts *o)
{
	o->ties = COX_EFRON;
	o->l2 = 0;
	o->max_iter = 30;
	o->tol = 1e-10;
	o->fixed = NULL;
}

void cox_fit_free(cox_fit *fit)
{
	if (!fit)
		return;
	free(fit->beta);
	free(fit->se);
	free(fit->var);
	free(fit->aliased);
	free(fit->btime);
	free(fit->bhaz);
	memset(fit, 0, sizeof *fit);
}

static const double *sort_time;

static double dot_p(const double *x, const double *b, int p)
{
	double s = 0;
	for (int a = 0; a < p; a++)
		s += x[a] * b[a];
	return s;
}

static int cmp_desc(const void *a, const void *b)
{
	double x = sort_time[*(const long *)a], y = sort_time[*(const long *)b];
	if (x != y)
		return x < y ? 1 : -1;
	long i = *(const long *)a, j = *(const long *)b; /* stable: ties in input order */
	return (i > j) - (i < j);
}

long *cox_order(const double *time, long n)
{
	long *o = xmallocarray((size_t)(n ? n : 1), sizeof *o);
	for (long i = 0; i < n; i++)
		o[i] = i;
	sort_time = time;
	qsort(o, (size_t)n, sizeof *o, cmp_desc);
	sort_time = NULL;
	return o;
}

/* One pass from the latest time to the earliest keeps the risk set's sums
 *   S0 = sum e^eta, S1 = sum e^eta x, S2 = sum e^eta x x'
 * over everyone with time >= t. At a time with d deaths whose own sums are D0, D1, D2, Efron's
 * approximation removes the fraction k/d of the deaths for the k-th of them:
 *   loglik += sum_deaths eta - sum_k log(S0 - k/d D0)
 *   grad   += sum_deaths x   - sum_k A1_k / A0_k              (A_k = S - k/d D)
 *   info   += sum_k A2_k / A0_k - (A1_k / A0_k)(A1_k / A0_k)'
 * Breslow's takes k/d = 0 for every k. */
double cox_loglik(const double *X, const double *time, const int *event, const long *order,
		  long n, int p, const double *beta, cox_ties ties, double *grad, double *info)
{
	size_t P = (size_t)p, PP = P * P;
	double *S1 = xcalloc(P ? 2 * P : 1, sizeof *S1), *D1 = S1 + P;
	double *S2 = info ? xcalloc(2 * PP, sizeof *S2) : NULL, *D2 = info ? S2 + PP : NULL;
	double *a1 = xcalloc(P ? P : 1, sizeof *a1);
	if (grad)
		memset(grad, 0, P * sizeof *grad);
	if (info)
		memset(info, 0, PP * sizeof *info);
	double S0 = 0, ll = 0;
	long i = 0;
	while (i < n) {
		double t = time[order[i]], D0 = 0;
		int d = 0;
		memset(D1, 0, P * sizeof *D1);
		if (D2)
			memset(D2, 0, PP * sizeof *D2);
		long j = i;
		for (; j < n && time[order[j]] == t; j++) {
			long r = order[j];
			const double *x = X + (size_t)r * P;
			double eta = 0;
			for (size_t a = 0; a < P; a++)
				eta += x[a] * beta[a];
			double w = exp(eta);
			S0 += w;
			for (size_t a = 0; a < P; a++)
				S1[a] += w * x[a];
			if (S2)
				for (size_t a = 0; a < P; a++)
					for (size_t b = 0; b <= a; b++)
						S2[a * P + b] += w * x[a] * x[b];
			if (event[r]) {
				d++;
				D0 += w;
				ll += eta;
				for (size_t a = 0; a < P; a++) {
					D1[a] += w * x[a];
					if (grad)
						grad[a] += x[a];
				}
				if (D2)
					for (size_t a = 0; a < P; a++)
						for (size_t b = 0; b <= a; b++)
							D2[a * P + b] += w * x[a] * x[b];
			}
		}
		for (int k = 0; k < d; k++) {
			double f = ties == COX_EFRON ? (double)k / d : 0;
			double a0 = S0 - f * D0;
			ll -= log(a0);
			for (size_t a = 0; a < P; a++)
				a1[a] = (S1[a] - f * D1[a]) / a0;
			if (grad)
				for (size_t a = 0; a < P; a++)
					grad[a] -= a1[a];
			if (info)
				for (size_t a = 0; a < P; a++)
					for (size_t b = 0; b <= a; b++)
						info[a * P + b] +=
							(S2[a * P + b] - f * D2[a * P + b]) / a0 - a1[a] * a1[b];
		}
		i = j;
	}
	if (info)
		for (size_t a = 0; a < P; a++)
			for (size_t b = 0; b < a; b++)
				info[b * P + a] = info[a * P + b];
	free(S1);
	free(S2);
	free(a1);
	return ll;
}

/* In-place Cholesky A = L L' of the non-aliased rows and columns (lower triangle holds L).
 * With detect set, a column whose pivot falls below 1e-9 of its diagonal is marked aliased
 * (it is a combination of the earlier ones); otherwise such a pivot fails (returns -1). */
static int chol(double *A, int p, int *aliased, int detect)
{
	size_t P = (size_t)p;
	for (size_t j = 0; j < P; j++) {
		if (aliased[j])
			continue;
		double diag = A[j * P + j], s = diag;
		for (size_t k = 0; k < j; k++)
			if (!aliased[k])
				s -= A[j * P + k] * A[j * P + k];
		if (!(s > 1e-9 * fabs(diag)) || !(diag > 1e-300)) {
			if (!detect)
				return -1;
			aliased[j] = 1;
			continue;
		}
		double l = sqrt(s);
		A[j * P + j] = l;
		for (size_t i = j + 1; i < P; i++) {
			if (aliased[i])
				continue;
			double v = A[i * P + j];
			for (size_t k = 0; k < j; k++)
				if (!aliased[k])
					v -= A[i * P + k] * A[j * P + k];
			A[i * P + j] = v / l;
		}
	}
	return 0;
}

/* Solves L L' x = b in place over the non-aliased entries (aliased entries set to 0). */
static void chol_solve(const double *L, int p, const int *aliased, double *b)
{
	size_t P = (size_t)p;
	for (size_t i = 0; i < P; i++) {
		if (aliased[i]) {
			b[i] = 0;
			continue;
		}
		double v = b[i];
		for (size_t k = 0; k < i; k++)
			if (!aliased[k])
				v -= L[i * P + k] * b[k];
		b[i] = v / L[i * P + i];
	}
	for (size_t ii = P; ii-- > 0;) {
		if (aliased[ii])
			continue;
		double v = b[ii];
		for (size_t k = ii + 1; k < P; k++)
			if (!aliased[k])
				v -= L[k * P + ii] * b[k];
		b[ii] = v / L[ii * P + ii];
	}
}

/* The penalised information (info + l2 I) factored; -1 when it is not positive definite. */
static int factor_info(const double *info, int p, double l2, int *aliased, int detect,
		       double *L)
{
	size_t PP = (size_t)p * (size_t)p;
	memcpy(L, info, PP * sizeof *L);
	for (int a = 0; a < p; a++)
		L[(size_t)a * (size_t)p + (size_t)a] += l2;
	return chol(L, p, aliased, detect);
}

/* factor_info, and when the information is singular at the current b (an input whose
 * coefficient runs off to infinity, separating the events: a monotone likelihood) the same
 * with a ridge growing from 1e-9 of the mean diagonal until it factors. Returns the ridge
 * added (0 normally), or -1 when even 1e-3 fails. */
static double factor_robust(const double *info, int p, double l2, int *aliased, double *L)
{
	if (factor_info(info, p, l2, aliased, 0, L) == 0)
		return 0;
	double tr = 0;
	int k = 0;
	for (int a = 0; a < p; a++)
		if (!aliased[a]) {
			tr += info[(size_t)a * (size_t)p + (size_t)a];
			k++;
		}
	double scale = k && tr > 0 ? tr / k : 1;
	for (double eps = 1e-9; eps <= 1e-3; eps *= 100)
		if (factor_info(info, p, l2 + eps * scale, aliased, 0, L) == 0)
			return eps * scale;
	return -1;
}

void cox_baseline(const double *lp, const double *time, const int *event, long n,
		  cox_ties ties, long *nbase, double **btime, double **bhaz)
{
	long *ord = cox_order(time, n);
	long m = 0; /* distinct event times: at most the events */
	for (long i = 0; i < n; i++)
		m += event[i] != 0;
	double *tt = xmallocarray((size_t)(m ? m : 1), sizeof *tt);
	double *inc = xmallocarray((size_t)(m ? m : 1), sizeof *inc);
	long k = 0;
	double R = 0;
	for (long i = 0; i < n;) {
		double t = time[ord[i]], D = 0;
		int d = 0;
		long j = i;
		for (; j < n && time[ord[j]] == t; j++) {
			double w = exp(lp[ord[j]]);
			R += w;
			if (event[ord[j]]) {
				d++;
				D += w;
			}
		}
		if (d) {
			double h = 0;
			for (int q = 0; q < d; q++)
				h += 1.0 / (R - (ties == COX_EFRON ? (double)q / d : 0) * D);
			tt[k] = t;
			inc[k++] = h;
		}
		i = j;
	}
	free(ord);
	/* the pass went backwards in time: reverse and accumulate */
	double *bt = xmallocarray((size_t)(k ? k : 1), sizeof *bt);
	double *bh = xmallocarray((size_t)(k ? k : 1), sizeof *bh);
	double H = 0;
	for (long q = 0; q < k; q++) {
		bt[q] = tt[k - 1 - q];
		H += inc[k - 1 - q];
		bh[q] = H;
	}
	free(tt);
	free(inc);
	*nbase = k;
	*btime = bt;
	*bhaz = bh;
}

double cox_cumhaz_at(const double *btime, const double *bhaz, long nbase, double t)
{
	/* the last event time <= t, by bisection */
	long lo = 0, hi = nbase;
	while (lo < hi) {
		long mid = lo + (hi - lo) / 2;
		if (btime[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? bhaz[lo - 1] : 0;
}

double cox_surv_at(const double *btime, const double *bhaz, long nbase, double t, double lp)
{
	return exp(-cox_cumhaz_at(btime, bhaz, nbase, t) * exp(lp));
}

int cox_fit_run(const double *X, const double *time, const int *event, long n, int p,
		const cox_opts *o, cox_fit *fit, lm_err *err)
{
	memset(fit, 0, sizeof *fit);
	cox_opts def;
	if (!o) {
		cox_opts_defaults(&def);
		o = &def;
	}
	if (n < 1 || p < 0)
		return lm_seterr(err, EX_DATAERR, "no patients to fit a Cox model on");
	long events = 0;
	for (long i = 0; i < n; i++) {
		if (!isfinite(time[i]) || time[i] < 0)
			return lm_seterr(err, EX_DATAERR, "patient %ld: time %g is not a usable time",
					 i + 1, time[i]);
		if (event[i] != 0 && event[i] != 1)
			return lm_seterr(err, EX_DATAERR, "patient %ld: event %d is not 0 or 1", i + 1,
					 event[i]);
		events += event[i];
		for (int a = 0; a < p; a++)
			if (!isfinite(X[(size_t)i * (size_t)p + (size_t)a]))
				return lm_seterr(err, EX_DATAERR, "patient %ld: input %d is not a number",
						 i + 1, a + 1);
	}
	if (events == 0)
		return lm_seterr(err, EX_DATAERR, "no events: a Cox model needs at least one");
	size_t P = (size_t)p, PP = P * P;
	fit->p = p;
	fit->n = n;
	fit->events = events;
	fit->beta = xcalloc(P ? P : 1, sizeof *fit->beta);
	fit->se = xcalloc(P ? P : 1, sizeof *fit->se);
	fit->var = xcalloc(PP ? PP : 1, sizeof *fit->var);
	fit->aliased = xcalloc(P ? P : 1, sizeof *fit->aliased);
	long *ord = cox_order(time, n);
	double *grad = xcalloc(P ? P : 1, sizeof *grad), *info = xcalloc(PP ? PP : 1, sizeof *info);
	double *L = xcalloc(PP ? PP : 1, sizeof *L), *step = xcalloc(P ? P : 1, sizeof *step);
	double *trial = xcalloc(P ? P : 1, sizeof *trial);
	double *b = fit->beta;
	double ll = cox_loglik(X, time, event, ord, n, p, b, o->ties, grad, info);
	fit->loglik0 = ll;
	for (int a = 0; a < p && o->fixed; a++)
		fit->aliased[a] = o->fixed[a] != 0;
	/* which inputs can be estimated: the information at b = 0 is the risk-set covariance */
	factor_info(info, p, 0, fit->aliased, 1, L);
	double pen = 0, llp = ll;
	int it = 0, conv = 0, st = 0;
	for (it = 1; it <= o->max_iter; it++) {
		for (size_t a = 0; a < P; a++)
			step[a] = fit->aliased[a] ? 0 : grad[a] - o->l2 * b[a];
		double jit = factor_robust(info, p, o->l2, fit->aliased, L);
		if (jit > 0)
			fit->ridged = 1;
		if (jit < 0) {
			st = lm_seterr(err, EX_DATAERR,
				       "the Cox information matrix is singular at iteration %d", it);
			break;
		}
		chol_solve(L, p, fit->aliased, step);
		/* Newton step, halved until the penalised likelihood does not fall */
		double nll = 0, npen = 0, nllp = -INFINITY;
		for (int h = 0; h < 40; h++) {
			npen = 0;
			for (size_t a = 0; a < P; a++) {
				trial[a] = b[a] + step[a];
				npen += trial[a] * trial[a];
			}
			npen *= 0.5 * o->l2;
			nll = cox_loglik(X, time, event, ord, n, p, trial, o->ties, NULL, NULL);
			nllp = nll - npen;
			if (isfinite(nllp) && nllp >= llp - 1e-12 * fabs(llp))
				break;
			for (size_t a = 0; a < P; a++)
				step[a] *= 0.5;
		}
		if (!(isfinite(nllp) && nllp >= llp - 1e-12 * fabs(llp))) {
			conv = 1; /* no step improves: b is the optimum to working precision */
			break;
		}
		memcpy(b, trial, P * sizeof *b);
		double change = fabs(nllp - llp);
		ll = cox_loglik(X, time, event, ord, n, p, b, o->ties, grad, info);
		pen = npen;
		llp = ll - pen;
		if (change <= o->tol * fabs(llp)) {
			conv = 1;
			break;
		}
	}
	if (it > o->max_iter)
		it = o->max_iter;
	(void)pen;
	fit->iter = it;
	fit->converged = conv;
	fit->loglik = ll;
	if (!st) {
		double jit = factor_robust(info, p, o->l2, fit->aliased, L);
		if (jit > 0)
			fit->ridged = 1;
		if (jit < 0)
			st = lm_seterr(err, EX_DATAERR, "the Cox information matrix is singular at the fit");
	}
	if (!st) {
		/* the inverse information, a column at a time */
		for (size_t c = 0; c < P; c++) {
			memset(step, 0, P * sizeof *step);
			step[c] = 1;
			chol_solve(L, p, fit->aliased, step);
			for (size_t a = 0; a < P; a++)
				fit->var[a * P + c] = fit->aliased[a] || fit->aliased[c] ? 0 : step[a];
		}
		fit->df = 0;
		for (size_t a = 0; a < P; a++) {
			fit->se[a] = fit->aliased[a] ? (double)NAN : sqrt(fit->var[a * P + a]);
			fit->df += !fit->aliased[a];
		}
		fit->lr_chisq = 2 * (fit->loglik - fit->loglik0);
		fit->lr_p = fit->df > 0 ? km_chisq_upper(fit->lr_chisq < 0 ? 0 : fit->lr_chisq, fit->df)
					: (double)NAN;
		double *lp = xmallocarray((size_t)n, sizeof *lp);
		for (long i = 0; i < n; i++) {
			double e = 0;
			for (size_t a = 0; a < P; a++)
				e += X[(size_t)i * P + a] * b[a];
			lp[i] = e;
		}
		cox_baseline(lp, time, event, n, o->ties, &fit->nbase, &fit->btime, &fit->bhaz);
		free(lp);
	}
	free(ord);
	free(grad);
	free(info);
	free(L);
	free(step);
	free(trial);
	if (st)
		cox_fit_free(fit);
	return st;
}

/* ---- the proportional-hazards test (cox.zph) ---- */

void cox_zph_compute(const double *X, const double *time, const int *event, long n, int p,
		     const double *beta, cox_ties ties, cox_zph *z)
{
	size_t P = (size_t)p, Q = 2 * P;
	z->p = p;
	z->u = xcalloc(Q ? Q : 1, sizeof *z->u);
	z->imat = xcalloc(Q ? Q * Q : 1, sizeof *z->imat);
	/* g(t) = 1 - KM(t-), centred over the events */
	km_curve km;
	km_fit(time, event, n, &km);
	double gsum = 0;
	long ne = 0;
	for (long i = 0; i < n; i++)
		if (event[i]) {
			long lo = 0, hi = km.m; /* the last curve time < t */
			while (lo < hi) {
				long mid = lo + (hi - lo) / 2;
				if (km.time[mid] < time[i])
					lo = mid + 1;
				else
					hi = mid;
			}
			gsum += 1 - (lo ? km.surv[lo - 1] : 1);
			ne++;
		}
	double gmean = ne ? gsum / (double)ne : 0;
	long *ord = cox_order(time, n);
	double *S1 = xcalloc(P ? 2 * P : 1, sizeof *S1), *D1 = S1 + P;
	double *S2 = xcalloc(P ? 2 * P * P : 1, sizeof *S2), *D2 = S2 + P * P;
	double *xb = xcalloc(P ? P : 1, sizeof *xb), *sx = xcalloc(P ? P : 1, sizeof *sx);
	double S0 = 0;
	for (long i = 0; i < n;) {
		double t = time[ord[i]], D0 = 0;
		int d = 0;
		memset(D1, 0, P * sizeof *D1);
		memset(D2, 0, P * P * sizeof *D2);
		memset(sx, 0, P * sizeof *sx);
		long j = i;
		for (; j < n && time[ord[j]] == t; j++) {
			const double *x = X + (size_t)ord[j] * P;
			double w = exp(dot_p(x, beta, p));
			S0 += w;
			for (size_t a = 0; a < P; a++) {
				S1[a] += w * x[a];
				for (size_t b = 0; b < P; b++)
					S2[a * P + b] += w * x[a] * x[b];
			}
			if (event[ord[j]]) {
				d++;
				D0 += w;
				for (size_t a = 0; a < P; a++) {
					D1[a] += w * x[a];
					sx[a] += x[a];
					for (size_t b = 0; b < P; b++)
						D2[a * P + b] += w * x[a] * x[b];
				}
			}
		}
		if (d) {
			long lo = 0, hi = km.m;
			while (lo < hi) {
				long mid = lo + (hi - lo) / 2;
				if (km.time[mid] < t)
					lo = mid + 1;
				else
					hi = mid;
			}
			double g = 1 - (lo ? km.surv[lo - 1] : 1) - gmean;
			for (int k = 0; k < d; k++) {
				double f = ties == COX_EFRON ? (double)k / d : 0, a0 = S0 - f * D0;
				for (size_t a = 0; a < P; a++)
					xb[a] = (S1[a] - f * D1[a]) / a0;
				for (size_t a = 0; a < P; a++) {
					z->u[a] -= xb[a];
					z->u[P + a] -= g * xb[a];
					for (size_t b = 0; b < P; b++) {
						double v = (S2[a * P + b] - f * D2[a * P + b]) / a0 - xb[a] * xb[b];
						z->imat[a * Q + b] += v;
						z->imat[a * Q + P + b] += g * v;
						z->imat[(P + a) * Q + b] += g * v;
						z->imat[(P + a) * Q + P + b] += g * g * v;
					}
				}
			}
			for (size_t a = 0; a < P; a++) {
				z->u[a] += sx[a];
				z->u[P + a] += g * sx[a];
			}
		}
		i = j;
	}
	km_free(&km);
	free(ord);
	free(S1);
	free(S2);
	free(xb);
	free(sx);
}

void cox_zph_free(cox_zph *z)
{
	free(z->u);
	free(z->imat);
	memset(z, 0, sizeof *z);
}

double cox_zph_test(const cox_zph *z, const int *aliased, const int *sel, int *df)
{
	int p = z->p, Q = 2 * p, m = 0;
	int *idx = xmallocarray((size_t)Q, sizeof *idx);
	*df = 0;
	for (int a = 0; a < p; a++)
		if (!aliased[a])
			idx[m++] = a;
	for (int a = 0; a < p; a++)
		if (!aliased[a] && sel[a]) {
			idx[m++] = p + a;
			(*df)++;
		}
	double *A = xmallocarray((size_t)m * (size_t)m + 1, sizeof *A);
	double *b = xmallocarray((size_t)m + 1, sizeof *b), *u = xmallocarray((size_t)m + 1, sizeof *u);
	int *none = xcalloc((size_t)m + 1, sizeof *none);
	for (int r = 0; r < m; r++) {
		/* u: 0 for the model's own inputs (the score at the fit), as cox.zph */
		u[r] = b[r] = idx[r] >= p ? z->u[idx[r]] : 0;
		for (int c = 0; c < m; c++)
			A[(size_t)r * (size_t)m + (size_t)c] = z->imat[(size_t)idx[r] * (size_t)Q + (size_t)idx[c]];
	}
	double chi = NAN;
	if (*df > 0 && chol(A, m, none, 0) == 0) {
		chol_solve(A, m, none, b);
		chi = 0;
		for (int r = 0; r < m; r++)
			chi += u[r] * b[r];
	}
	free(idx);
	free(A);
	free(b);
	free(u);
	free(none);
	return chi;
}
