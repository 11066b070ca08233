/* uplift.c: Qini and uplift curves, calibration of the effect, ATE and balance (uplift.h). */
#include "uplift.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"

typedef struct ranked {
	double benefit;
	long i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	if (x->benefit != y->benefit)
		return x->benefit > y->benefit ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* Patients ordered by predicted benefit (-effect), highest first. Caller frees. */
static long *rank_by_benefit(const double *effect, long n)
{
	ranked *r = xmallocarray((size_t)(n ? n : 1), sizeof *r);
	for (long i = 0; i < n; i++) {
		r[i].benefit = isnan(effect[i]) ? -(double)INFINITY : -effect[i];
		r[i].i = i;
	}
	qsort(r, (size_t)n, sizeof *r, cmp_ranked);
	long *o = xmallocarray((size_t)(n ? n : 1), sizeof *o);
	for (long i = 0; i < n; i++)
		o[i] = r[i].i;
	free(r);
	return o;
}

void uplift_curves_compute(const double *effect, const int *treated, const double *y, long n,
			   int npts, uplift_curves *c)
{
	memset(c, 0, sizeof *c);
	if (npts < 1)
		npts = 1;
	c->npts = npts;
	double **arr[] = {&c->x, &c->qini, &c->uplift, &c->random_qini, &c->random_uplift};
	for (size_t a = 0; a < LM_ARRAY_LEN(arr); a++)
		*arr[a] = xcalloc((size_t)npts + 1, sizeof **arr[a]);
	long *o = rank_by_benefit(effect, n);
	double *q = xcalloc((size_t)n + 1, sizeof *q), *u = xcalloc((size_t)n + 1, sizeof *u);
	double yt = 0, yr = 0, nt = 0, nr = 0;
	for (long k = 1; k <= n; k++) {
		long i = o[k - 1];
		if (treated[i]) {
			nt++;
			yt += y[i] != 0;
		} else {
			nr++;
			yr += y[i] != 0;
		}
		q[k] = nr > 0 ? (yr * nt / nr - yt) / (double)n : 0;
		u[k] = nr > 0 && nt > 0 ? (yr / nr - yt / nt) * (double)k / (double)n : 0;
	}
	double qa = 0, ua = 0;
	for (long k = 1; k <= n; k++) {
		double x = (double)k / (double)n;
		qa += q[k] - x * q[n];
		ua += u[k] - x * u[n];
	}
	c->qini_area = n ? qa / (double)n : (double)NAN;
	c->uplift_area = n ? ua / (double)n : (double)NAN;
	c->qini_total = q[n];
	for (int j = 0; j <= npts; j++) {
		long k = (long)llround((double)j * (double)n / npts);
		c->x[j] = n ? (double)k / (double)n : 0;
		c->qini[j] = q[k];
		c->uplift[j] = u[k];
		c->random_qini[j] = c->x[j] * q[n];
		c->random_uplift[j] = c->x[j] * u[n];
	}
	free(q);
	free(u);
	free(o);
}

void uplift_curves_free(uplift_curves *c)
{
	free(c->x);
	free(c->qini);
	free(c->uplift);
	free(c->random_qini);
	free(c->random_uplift);
	memset(c, 0, sizeof *c);
}

/* The weighted least-squares line of observed on predicted over the groups (weights 1 / var;
 * a zero variance gets the smallest positive one). */
static void fit_line(uplift_calibration *c, const double *var)
{
	int ngroups = c->ngroups;
	double vmin = (double)INFINITY;
	for (int g = 0; g < ngroups; g++)
		if (var[g] > 0 && var[g] < vmin)
			vmin = var[g];
	double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
	for (int g = 0; g < ngroups; g++) {
		if (isnan(var[g]) || isnan(c->predicted[g]))
			continue;
		double w = 1 / (var[g] > 0 ? var[g] : isfinite(vmin) ? vmin : 1);
		sw += w;
		sx += w * c->predicted[g];
		sy += w * c->observed[g];
		sxx += w * c->predicted[g] * c->predicted[g];
		sxy += w * c->predicted[g] * c->observed[g];
	}
	double d = sw * sxx - sx * sx;
	if (sw > 0 && d > 1e-300 * (sw * sxx + 1)) {
		c->slope = (sw * sxy - sx * sy) / d;
		c->intercept = (sy - c->slope * sx) / sw;
	} else {
		c->slope = c->intercept = NAN;
	}
}

void uplift_calibration_compute(const double *effect, const int *treated, const double *y,
				long n, int ngroups, uplift_calibration *c)
{
	memset(c, 0, sizeof *c);
	if (ngroups < 1)
		ngroups = 1;
	if (ngroups > UPLIFT_MAX_GROUPS)
		ngroups = UPLIFT_MAX_GROUPS;
	if (ngroups > n && n > 0)
		ngroups = (int)n;
	c->ngroups = ngroups;
	long *o = rank_by_benefit(effect, n);
	double var[UPLIFT_MAX_GROUPS];
	for (int g = 0; g < ngroups; g++) {
		long a = (long)((double)g * (double)n / ngroups), b = (long)((double)(g + 1) * (double)n / ngroups);
		double sp = 0, yt = 0, yr = 0;
		long nt = 0, nr = 0;
		for (long k = a; k < b; k++) {
			long i = o[k];
			sp += effect[i];
			if (treated[i]) {
				nt++;
				yt += y[i] != 0;
			} else {
				nr++;
				yr += y[i] != 0;
			}
		}
		c->n[g] = b - a;
		c->n_t[g] = nt;
		c->n_r[g] = nr;
		c->predicted[g] = b > a ? sp / (double)(b - a) : (double)NAN;
		if (nt && nr) {
			double pt = yt / (double)nt, pr = yr / (double)nr;
			c->observed[g] = pt - pr;
			var[g] = pt * (1 - pt) / (double)nt + pr * (1 - pr) / (double)nr;
			double h = 1.959963984540054 * sqrt(var[g]);
			c->lo[g] = c->observed[g] - h;
			c->hi[g] = c->observed[g] + h;
		} else {
			c->observed[g] = c->lo[g] = c->hi[g] = NAN;
			var[g] = NAN;
		}
	}
	free(o);
	fit_line(c, var);
}

void uplift_calibration_pseudo(const double *effect, const double *psi, long n, int ngroups,
			       uplift_calibration *c)
{
	memset(c, 0, sizeof *c);
	if (ngroups < 1)
		ngroups = 1;
	if (ngroups > UPLIFT_MAX_GROUPS)
		ngroups = UPLIFT_MAX_GROUPS;
	if (ngroups > n && n > 0)
		ngroups = (int)n;
	c->ngroups = ngroups;
	long *o = rank_by_benefit(effect, n);
	double var[UPLIFT_MAX_GROUPS];
	for (int g = 0; g < ngroups; g++) {
		long a = (long)((double)g * (double)n / ngroups), b = (long)((double)(g + 1) * (double)n / ngroups);
		double sp = 0, sq = 0, ss = 0;
		for (long k = a; k < b; k++) {
			sp += effect[o[k]];
			sq += psi[o[k]];
		}
		long m = b - a;
		c->n[g] = m;
		c->n_t[g] = c->n_r[g] = 0;
		c->predicted[g] = m ? sp / (double)m : (double)NAN;
		c->observed[g] = m ? sq / (double)m : (double)NAN;
		for (long k = a; k < b; k++)
			ss += (psi[o[k]] - c->observed[g]) * (psi[o[k]] - c->observed[g]);
		var[g] = m > 1 ? ss / (double)(m - 1) / (double)m : (double)NAN;
		double h = 1.959963984540054 * sqrt(var[g]);
		c->lo[g] = c->observed[g] - h;
		c->hi[g] = c->observed[g] + h;
	}
	free(o);
	fit_line(c, var);
}

void uplift_ate(const int *treated, const double *y, long n, double *ate, double *lo,
		double *hi)
{
	double yt = 0, yr = 0, nt = 0, nr = 0;
	for (long i = 0; i < n; i++) {
		if (treated[i]) {
			nt++;
			yt += y[i] != 0;
		} else {
			nr++;
			yr += y[i] != 0;
		}
	}
	if (!nt || !nr) {
		*ate = *lo = *hi = NAN;
		return;
	}
	double pt = yt / nt, pr = yr / nr;
	double h = 1.959963984540054 * sqrt(pt * (1 - pt) / nt + pr * (1 - pr) / nr);
	*ate = pt - pr;
	*lo = *ate - h;
	*hi = *ate + h;
}

double uplift_smd(const double *x, const int *treated, long n)
{
	double s[2] = {0}, ss[2] = {0}, m[2] = {0};
	for (long i = 0; i < n; i++) {
		if (isnan(x[i]))
			continue;
		int a = treated[i] != 0;
		m[a]++;
		s[a] += x[i];
	}
	if (m[0] < 2 || m[1] < 2)
		return NAN;
	double mu[2] = {s[0] / m[0], s[1] / m[1]};
	for (long i = 0; i < n; i++) {
		if (isnan(x[i]))
			continue;
		int a = treated[i] != 0;
		ss[a] += (x[i] - mu[a]) * (x[i] - mu[a]);
	}
	double v = (ss[0] / (m[0] - 1) + ss[1] / (m[1] - 1)) / 2;
	if (v <= 0)
		return mu[1] == mu[0] ? 0 : (double)NAN;
	return (mu[1] - mu[0]) / sqrt(v);
}

static double r6(double v) { return round(v * 1e6) / 1e6; }

static void add_num(cJSON *o, const char *k, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, k, r6(v));
	else
		cJSON_AddNullToObject(o, k);
}

static cJSON *num_array(const double *v, int n)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(r6(v[i])) : cJSON_CreateNull());
	return a;
}

cJSON *uplift_curves_json(const uplift_curves *c)
{
	cJSON *o = cJSON_CreateObject();
	add_num(o, "qini_area", c->qini_area);
	add_num(o, "uplift_area", c->uplift_area);
	add_num(o, "qini_total", c->qini_total);
	cJSON_AddItemToObject(o, "x", num_array(c->x, c->npts + 1));
	cJSON_AddItemToObject(o, "qini", num_array(c->qini, c->npts + 1));
	cJSON_AddItemToObject(o, "uplift", num_array(c->uplift, c->npts + 1));
	cJSON_AddItemToObject(o, "random_qini", num_array(c->random_qini, c->npts + 1));
	cJSON_AddItemToObject(o, "random_uplift", num_array(c->random_uplift, c->npts + 1));
	return o;
}

cJSON *uplift_calibration_json(const uplift_calibration *c)
{
	cJSON *o = cJSON_CreateObject();
	add_num(o, "slope", c->slope);
	add_num(o, "intercept", c->intercept);
	cJSON *g = cJSON_AddArrayToObject(o, "groups");
	for (int i = 0; i < c->ngroups; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "n", (double)c->n[i]);
		cJSON_AddNumberToObject(e, "n_arm", (double)c->n_t[i]);
		cJSON_AddNumberToObject(e, "n_reference", (double)c->n_r[i]);
		add_num(e, "predicted", c->predicted[i]);
		add_num(e, "observed", c->observed[i]);
		add_num(e, "lo", c->lo[i]);
		add_num(e, "hi", c->hi[i]);
		cJSON_AddItemToArray(g, e);
	}
	return o;
}
