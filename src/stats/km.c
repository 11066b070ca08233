/* km.c: Kaplan–Meier, log-rank and the chi-square tail (conventions in km.h). */
#include "km.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"

typedef struct obs {
	double t;
	int e;
	int g;
} obs;

static int by_time(const void *a, const void *b)
{
	const obs *x = a, *y = b;
	if (x->t != y->t)
		return (x->t > y->t) - (x->t < y->t);
	return y->e - x->e;
}

static obs *sorted_obs(const double *time, const int *event, const int *group, long n)
{
	obs *o = xmallocarray(n > 0 ? (size_t)n : 1, sizeof *o);
	for (long i = 0; i < n; i++) {
		o[i].t = time[i];
		o[i].e = event[i] != 0;
		o[i].g = group ? group[i] : 0;
	}
	qsort(o, (size_t)n, sizeof *o, by_time);
	return o;
}

void km_fit(const double *time, const int *event, long n, km_curve *c)
{
	memset(c, 0, sizeof *c);
	obs *o = sorted_obs(time, event, NULL, n);
	size_t cap = n > 0 ? (size_t)n : 1;
	c->time = xmallocarray(cap, sizeof(double));
	c->surv = xmallocarray(cap, sizeof(double));
	c->se = xmallocarray(cap, sizeof(double));
	c->lower = xmallocarray(cap, sizeof(double));
	c->upper = xmallocarray(cap, sizeof(double));
	c->n_risk = xmallocarray(cap, sizeof(long));
	c->n_event = xmallocarray(cap, sizeof(long));
	c->n_censor = xmallocarray(cap, sizeof(long));
	c->n = n;
	double s = 1, gw = 0;
	for (long i = 0; i < n;) {
		long at_risk = n - i, d = 0, cens = 0;
		double t = o[i].t;
		for (; i < n && o[i].t == t; i++) {
			if (o[i].e)
				d++;
			else
				cens++;
		}
		if (d > 0) {
			s *= 1 - (double)d / (double)at_risk;
			/* Greenwood: var(log S) accumulates d / (n (n - d)); infinite once S = 0 */
			gw = d < at_risk ? gw + (double)d / ((double)at_risk * (double)(at_risk - d))
					 : (double)INFINITY;
		}
		long k = c->m++;
		c->time[k] = t;
		c->n_risk[k] = at_risk;
		c->n_event[k] = d;
		c->n_censor[k] = cens;
		c->surv[k] = s;
		c->se[k] = sqrt(gw);
		if (s > 0) {
			c->lower[k] = s * exp(-KM_Z95 * c->se[k]);
			double u = s * exp(KM_Z95 * c->se[k]);
			c->upper[k] = u > 1 ? 1 : u;
		} else {
			c->lower[k] = c->upper[k] = (double)NAN;
		}
		c->events += d;
	}
	free(o);
	c->median = km_quantile(c, 0.5, &c->median_lower, &c->median_upper);
}

void km_free(km_curve *c)
{
	free(c->time);
	free(c->surv);
	free(c->se);
	free(c->lower);
	free(c->upper);
	free(c->n_risk);
	free(c->n_event);
	free(c->n_censor);
	memset(c, 0, sizeof *c);
}

/* Index of the last point with time <= t, or -1. */
static long point_at(const km_curve *c, double t)
{
	long lo = 0, hi = c->m; /* first index with time > t */
	while (lo < hi) {
		long mid = lo + (hi - lo) / 2;
		if (c->time[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

double km_surv_at(const km_curve *c, double t, double *lo, double *hi)
{
	long k = point_at(c, t);
	if (lo)
		*lo = k < 0 ? 1 : c->lower[k];
	if (hi)
		*hi = k < 0 ? 1 : c->upper[k];
	return k < 0 ? 1 : c->surv[k];
}

long km_at_risk(const km_curve *c, double t)
{
	long k = point_at(c, t);
	if (k >= 0 && c->time[k] == t)
		return c->n_risk[k];
	return k + 1 < c->m ? c->n_risk[k + 1] : 0;
}

/* Quantile of one step curve y over the curve's times, as R's survival:::findq: only the
 * points where y changes count; points where y is undefined are skipped; when y sits at q
 * (within sqrt(DBL_EPSILON)) the answer is the midpoint between that time and the next drop,
 * or the curve's last time when there is no later drop. */
static double step_quantile(const km_curve *c, const double *y, double q)
{
	const double tol = 1.4901161193847656e-08;
	double prev = 1;
	long first = -1;
	for (long k = 0; k < c->m; k++) {
		if (isnan(y[k]) || y[k] == prev)
			continue;
		prev = y[k];
		if (y[k] <= q + tol) {
			first = k;
			break;
		}
	}
	if (first < 0)
		return (double)NAN;
	if (fabs(y[first] - q) < tol) {
		for (long k = first + 1; k < c->m; k++)
			if (!isnan(y[k]) && y[k] != y[first])
				return (c->time[first] + c->time[k]) / 2;
		return (c->time[first] + c->time[c->m - 1]) / 2;
	}
	return c->time[first];
}

/* The lower limit is where the lower confidence curve crosses q (it drops first), the upper
 * limit where the upper curve does. */
double km_quantile(const km_curve *c, double q, double *lo, double *hi)
{
	if (lo)
		*lo = step_quantile(c, c->lower, q);
	if (hi)
		*hi = step_quantile(c, c->upper, q);
	return step_quantile(c, c->surv, q);
}

/* ---- log-rank ---- */

/* Solves A x = b (k x k, row-major, overwritten) by Gaussian elimination with partial
 * pivoting; -1 when singular. */
static int solve(double *A, double *b, int k)
{
	for (int col = 0; col < k; col++) {
		int piv = col;
		for (int r = col + 1; r < k; r++)
			if (fabs(A[r * k + col]) > fabs(A[piv * k + col]))
				piv = r;
		if (fabs(A[piv * k + col]) < 1e-12)
			return -1;
		if (piv != col) {
			for (int j = 0; j < k; j++) {
				double t = A[col * k + j];
				A[col * k + j] = A[piv * k + j];
				A[piv * k + j] = t;
			}
			double t = b[col];
			b[col] = b[piv];
			b[piv] = t;
		}
		for (int r = col + 1; r < k; r++) {
			double f = A[r * k + col] / A[col * k + col];
			for (int j = col; j < k; j++)
				A[r * k + j] -= f * A[col * k + j];
			b[r] -= f * b[col];
		}
	}
	for (int r = k - 1; r >= 0; r--) {
		double s = b[r];
		for (int j = r + 1; j < k; j++)
			s -= A[r * k + j] * b[j];
		b[r] = s / A[r * k + r];
	}
	return 0;
}

void km_logrank_test(const double *time, const int *event, const int *group, long n, int G,
		     km_logrank *out)
{
	memset(out, 0, sizeof *out);
	out->groups = G;
	out->obs = xcalloc((size_t)G, sizeof(double));
	out->expected = xcalloc((size_t)G, sizeof(double));
	double *V = xcalloc((size_t)G * (size_t)G, sizeof(double));
	long *risk = xcalloc((size_t)G, sizeof(long)), *dg = xcalloc((size_t)G, sizeof(long));
	obs *o = sorted_obs(time, event, group, n);
	for (long i = 0; i < n; i++)
		risk[o[i].g]++;
	for (long i = 0; i < n;) {
		double t = o[i].t;
		long j = i, d = 0, nr = n - i;
		memset(dg, 0, (size_t)G * sizeof *dg);
		for (; j < n && o[j].t == t; j++)
			if (o[j].e) {
				dg[o[j].g]++;
				d++;
			}
		if (d > 0) {
			double N = (double)nr, D = (double)d;
			double f = nr > 1 ? D * (N - D) / (N - 1) : 0;
			for (int g = 0; g < G; g++) {
				double pg = (double)risk[g] / N;
				out->obs[g] += (double)dg[g];
				out->expected[g] += D * pg;
				for (int h = 0; h < G; h++)
					V[g * G + h] += f * pg * ((g == h) - (double)risk[h] / N);
			}
		}
		for (; i < j; i++)
			risk[o[i].g]--;
	}
	/* as survdiff: keep the groups with expected > 0, drop the first of them */
	int *keep = xcalloc((size_t)G, sizeof(int)), k = 0;
	for (int g = 0; g < G; g++)
		if (out->expected[g] > 0)
			keep[k++] = g;
	out->df = k - 1;
	out->chisq = 0;
	if (k >= 2) {
		int m = k - 1;
		double *A = xcalloc((size_t)m * (size_t)m, sizeof(double));
		double *u = xcalloc((size_t)m, sizeof(double)), *x = xcalloc((size_t)m, sizeof(double));
		for (int a = 0; a < m; a++) {
			int ga = keep[a + 1];
			u[a] = x[a] = out->obs[ga] - out->expected[ga];
			for (int b = 0; b < m; b++)
				A[a * m + b] = V[ga * G + keep[b + 1]];
		}
		if (solve(A, x, m) == 0) {
			for (int a = 0; a < m; a++)
				out->chisq += u[a] * x[a];
		} else {
			out->chisq = (double)NAN;
		}
		free(A);
		free(u);
		free(x);
	}
	out->p = out->df > 0 ? km_chisq_upper(out->chisq, out->df) : (double)NAN;
	free(keep);
	free(o);
	free(V);
	free(risk);
	free(dg);
}

void km_logrank_free(km_logrank *t)
{
	free(t->obs);
	free(t->expected);
	t->obs = t->expected = NULL;
}

/* ---- the incomplete gamma function ----
 * P(a,x) = x^a e^-x / Gamma(a+1) * sum_k x^k / ((a+1)...(a+k))   (series, x < a + 1)
 * Q(a,x) = x^a e^-x / Gamma(a) * 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ...)))
 *          (continued fraction, evaluated by the modified Lentz method, x >= a + 1). */
double km_gamma_q(double a, double x)
{
	if (!(a > 0) || !(x >= 0) || isnan(x))
		return (double)NAN;
	if (x == 0)
		return 1;
	if (isinf(x))
		return 0;
	double lpre = a * log(x) - x - lgamma(a);
	if (x < a + 1) {
		double term = 1 / a, sum = term;
		for (int k = 1; k < 10000; k++) {
			term *= x / (a + k);
			sum += term;
			if (fabs(term) < fabs(sum) * 1e-17)
				break;
		}
		double P = exp(lpre) * sum;
		return P > 1 ? 0 : 1 - P;
	}
	const double tiny = 1e-300;
	double b = x + 1 - a, C = 1 / tiny, D = 1 / b, h = D;
	for (int i = 1; i < 10000; i++) {
		double an = -i * (i - a);
		b += 2;
		D = an * D + b;
		if (fabs(D) < tiny)
			D = tiny;
		C = b + an / C;
		if (fabs(C) < tiny)
			C = tiny;
		D = 1 / D;
		double delta = D * C;
		h *= delta;
		if (fabs(delta - 1) < 1e-16)
			break;
	}
	return exp(lpre) * h;
}

double km_chisq_upper(double x, int df)
{
	if (df <= 0 || isnan(x))
		return (double)NAN;
	if (x <= 0)
		return 1;
	return km_gamma_q(df / 2.0, x / 2);
}
