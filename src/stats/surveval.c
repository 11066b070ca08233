/* surveval.c: censoring-aware evaluation of risk scores and survival predictions (surveval.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "km.h"
#include "surveval.h"

/* ---- the censoring distribution G ---- */

typedef struct cens_km {
	long m;
	double *t, *g; /* distinct censoring times ascending, G right after each */
} cens_km;

static const double *cmp_key;

static int cmp_asc(const void *a, const void *b)
{
	double x = cmp_key[*(const long *)a], y = cmp_key[*(const long *)b];
	return (x > y) - (x < y);
}

static long *order_by(const double *key, long n)
{
	long *o = xmallocarray((size_t)(n ? n : 1), sizeof *o);
	for (long i = 0; i < n; i++)
		o[i] = i;
	cmp_key = key;
	qsort(o, (size_t)n, sizeof *o, cmp_asc);
	cmp_key = NULL;
	return o;
}

static void cens_fit(const double *time, const int *event, long n, cens_km *c)
{
	long *o = order_by(time, n);
	c->t = xmallocarray((size_t)(n ? n : 1), sizeof *c->t);
	c->g = xmallocarray((size_t)(n ? n : 1), sizeof *c->g);
	c->m = 0;
	double G = 1;
	for (long i = 0; i < n;) {
		double t = time[o[i]];
		long j = i, nc = 0, nd = 0;
		for (; j < n && time[o[j]] == t; j++) {
			nc += !event[o[j]];
			nd += event[o[j]];
		}
		if (nc) {
			G *= 1 - (double)nc / (double)(n - i - nd); /* deaths at t leave first */
			c->t[c->m] = t;
			c->g[c->m++] = G;
		}
		i = j;
	}
	free(o);
}

/* G(t) (minus = 0) or G(t-) (minus = 1). */
static double cens_at(const cens_km *c, double t, int minus)
{
	long lo = 0, hi = c->m;
	while (lo < hi) {
		long mid = lo + (hi - lo) / 2;
		if (minus ? c->t[mid] < t : c->t[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? c->g[lo - 1] : 1;
}

static void cens_free(cens_km *c)
{
	free(c->t);
	free(c->g);
}

/* ---- concordance ---- */

/* Fenwick tree of counts over score ranks 1..m. */
static void bit_add(double *tree, long m, long i, double v)
{
	for (; i <= m; i += i & -i)
		tree[i] += v;
}

static double bit_sum(const double *tree, long i)
{
	double s = 0;
	for (; i > 0; i -= i & -i)
		s += tree[i];
	return s;
}

void surveval_concordance(const double *time, const int *event, const double *risk, long n,
			  int weighted, double tau, surveval_conc *out)
{
	memset(out, 0, sizeof *out);
	/* rank of each score among the distinct scores (1-based) */
	long *ro = order_by(risk, n);
	long *rank = xmallocarray((size_t)(n ? n : 1), sizeof *rank);
	long m = 0;
	for (long i = 0; i < n; i++) {
		if (i == 0 || risk[ro[i]] != risk[ro[i - 1]])
			m++;
		rank[ro[i]] = m;
	}
	free(ro);
	cens_km G = {0};
	if (weighted)
		cens_fit(time, event, n, &G);
	long *to = order_by(time, n);
	double *tree = xcalloc((size_t)m + 1, sizeof *tree);
	double inserted = 0;
	/* from the latest time back: the tree holds everyone with a later time, plus the censored
	 * patients of the current time, when the current time's deaths are counted */
	for (long i = n - 1; i >= 0;) {
		double t = time[to[i]];
		long j = i;
		for (; j >= 0 && time[to[j]] == t; j--)
			if (!event[to[j]]) {
				bit_add(tree, m, rank[to[j]], 1);
				inserted++;
			}
		for (long k = i; k > j; k--) {
			long r = to[k];
			if (!event[r] || (weighted && !(t <= tau)))
				continue;
			double w = 1;
			if (weighted) {
				double g = cens_at(&G, t, 1);
				w = g > 0 ? 1 / (g * g) : 0;
			}
			double below = bit_sum(tree, rank[r] - 1), at = bit_sum(tree, rank[r]) - below;
			out->concordant += w * below;
			out->tied += w * at;
			out->discordant += w * (inserted - below - at);
		}
		for (long k = i; k > j; k--)
			if (event[to[k]]) {
				bit_add(tree, m, rank[to[k]], 1);
				inserted++;
			}
		i = j;
	}
	double tot = out->concordant + out->discordant + out->tied;
	out->c = tot > 0 ? (out->concordant + out->tied / 2) / tot : (double)NAN;
	free(tree);
	free(to);
	free(rank);
	if (weighted)
		cens_free(&G);
}

/* ---- time-dependent AUC and Brier ---- */

double surveval_auc_t(const double *time, const int *event, const double *risk, long n, double t)
{
	cens_km G;
	cens_fit(time, event, n, &G);
	double *ctl = xmallocarray((size_t)(n ? n : 1), sizeof *ctl);
	long nc = 0;
	for (long i = 0; i < n; i++)
		if (time[i] > t)
			ctl[nc++] = risk[i];
	long *co = order_by(ctl, nc);
	double *sorted = xmallocarray((size_t)(nc ? nc : 1), sizeof *sorted);
	for (long i = 0; i < nc; i++)
		sorted[i] = ctl[co[i]];
	free(co);
	double num = 0, den = 0;
	for (long i = 0; i < n && nc; i++) {
		if (!(time[i] <= t && event[i]))
			continue;
		double g = cens_at(&G, time[i], 1);
		if (!(g > 0))
			continue;
		double w = 1 / g;
		/* controls with a lower score, and with the same score */
		long lo = 0, hi = nc;
		while (lo < hi) {
			long mid = lo + (hi - lo) / 2;
			if (sorted[mid] < risk[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		long below = lo;
		hi = nc;
		while (lo < hi) {
			long mid = lo + (hi - lo) / 2;
			if (sorted[mid] <= risk[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		num += w * ((double)below + 0.5 * (double)(lo - below));
		den += w * (double)nc;
	}
	free(ctl);
	free(sorted);
	cens_free(&G);
	return den > 0 ? num / den : (double)NAN;
}

double surveval_brier_t(const double *time, const int *event, const double *surv, long n,
			double t)
{
	if (n < 1)
		return (double)NAN;
	cens_km G;
	cens_fit(time, event, n, &G);
	double gt = cens_at(&G, t, 0), s = 0;
	for (long i = 0; i < n; i++) {
		if (time[i] <= t && event[i]) {
			double g = cens_at(&G, time[i], 1);
			if (g > 0)
				s += surv[i] * surv[i] / g;
		} else if (time[i] > t && gt > 0) {
			s += (1 - surv[i]) * (1 - surv[i]) / gt;
		}
	}
	cens_free(&G);
	return s / (double)n;
}

/* ---- calibration ---- */

void surveval_calibration(const double *time, const int *event, const double *surv, long n,
			  double t, int groups, surveval_calib *out)
{
	if (groups < 1)
		groups = 1;
	if (n < groups)
		groups = n > 0 ? (int)n : 1;
	out->groups = groups;
	out->n = xcalloc((size_t)groups, sizeof *out->n);
	out->predicted = xcalloc((size_t)groups, sizeof *out->predicted);
	out->observed = xcalloc((size_t)groups, sizeof *out->observed);
	double *risk = xmallocarray((size_t)(n ? n : 1), sizeof *risk);
	for (long i = 0; i < n; i++)
		risk[i] = 1 - surv[i];
	long *o = order_by(risk, n);
	double *gt = xmallocarray((size_t)(n ? n : 1), sizeof *gt);
	int *ge = xmallocarray((size_t)(n ? n : 1), sizeof *ge);
	for (int g = 0; g < groups; g++) {
		/* group g: sorted positions [g n / G, (g + 1) n / G) */
		long a = (long)((double)g * (double)n / groups), b = (long)((double)(g + 1) * (double)n / groups);
		double sp = 0;
		for (long k = a; k < b; k++) {
			sp += risk[o[k]];
			gt[k - a] = time[o[k]];
			ge[k - a] = event[o[k]];
		}
		out->n[g] = b - a;
		out->predicted[g] = b > a ? sp / (double)(b - a) : (double)NAN;
		km_curve c;
		km_fit(gt, ge, b - a, &c);
		out->observed[g] = b > a ? 1 - km_surv_at(&c, t, NULL, NULL) : (double)NAN;
		km_free(&c);
	}
	free(gt);
	free(ge);
	free(o);
	free(risk);
}

void surveval_calib_free(surveval_calib *c)
{
	free(c->n);
	free(c->predicted);
	free(c->observed);
	memset(c, 0, sizeof *c);
}
