/* audit.c: group metrics, disparities, bootstrap intervals and per-group thresholds
 * (definitions in audit.h). The bootstrap keeps each group's patients sorted by p once and
 * turns a replicate into multiplicities, so every replicate is one linear pass per group. */
#include "audit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

const audit_metric_info audit_metrics[AUDIT_NMETRIC] = {
	[AM_N] = {"n", "n", 0},
	[AM_PREV] = {"prevalence", "prev", 0},
	[AM_SEL] = {"selection_rate", "sel", 1},
	[AM_TPR] = {"tpr", "TPR", 1},
	[AM_FPR] = {"fpr", "FPR", 1},
	[AM_FNR] = {"fnr", "FNR", 1},
	[AM_TNR] = {"tnr", "TNR", 1},
	[AM_PPV] = {"ppv", "PPV", 1},
	[AM_NPV] = {"npv", "NPV", 1},
	[AM_ACC] = {"accuracy", "acc", 1},
	[AM_AUC] = {"auc", "AUC", 0},
	[AM_BRIER] = {"brier", "Brier", 0},
	[AM_MEANP] = {"mean_predicted", "mean p", 0},
	[AM_CITL] = {"calibration_in_the_large", "p-obs", 0},
	[AM_SLOPE] = {"calibration_slope", "slope", 0},
	[AM_INTERCEPT] = {"calibration_intercept", "icept", 0},
	[AM_NB] = {"net_benefit", "NB", 0},
	[AM_NB_ALL] = {"net_benefit_treat_all", "NB all", 0},
};

/* One group's rows sorted by p, highest first. */
typedef struct gdata {
	long n;
	double *p, *y;
	long nb, *bend;     /* blocks of equal p: block b ends before bend[b] */
	long ncut;          /* rows with p >= threshold (a prefix) */
	double *x;          /* logit(p), clipped as metrics.c, for the calibration fit */
	double slope, icept; /* point estimates, the bootstrap's starting point */
} gdata;

typedef struct gstat {
	double w, pos, tp, fp, sp, sq, auc;
} gstat;

typedef struct py {
	double p, y;
} py;

static int py_desc(const void *a, const void *b)
{
	double x = ((const py *)a)->p, z = ((const py *)b)->p;
	return (x < z) - (x > z);
}

/* One pass over a group with multiplicities cnt: the confusion at the threshold, sums for
 * Brier and mean risk, and AUC from the pairs (ties count 1/2). Blocks of equal p lie wholly
 * on one side of the threshold, so no comparison is needed inside the loop. */
static void group_pass(const gdata *g, const uint32_t *cnt, gstat *s)
{
	double tp = 0, fp = 0, sp = 0, sq = 0, area = 0, tp_above = 0, fp_all = 0;
	long i = 0;
	for (long b = 0; b < g->nb; b++) {
		long e = g->bend[b];
		double tpb = 0, fpb = 0;
		for (; i < e; i++) {
			double c = cnt[i], y = g->y[i], p = g->p[i], d = p - y, cy = c * y;
			tpb += cy;
			fpb += c - cy;
			sp += c * p;
			sq += c * d * d;
		}
		if (e <= g->ncut) {
			tp += tpb;
			fp += fpb;
		}
		area += fpb * (tp_above + tpb / 2);
		tp_above += tpb;
		fp_all += fpb;
	}
	s->pos = tp_above;
	s->w = tp_above + fp_all;
	s->tp = tp;
	s->fp = fp;
	s->sp = sp;
	s->sq = sq;
	s->auc = tp_above > 0 && fp_all > 0 ? area / (tp_above * fp_all) : (double)NAN;
}

static double rate(double a, double b)
{
	return b > 0 ? a / b : (double)NAN;
}

static void fill_metrics(const gstat *s, double t, double *v)
{
	double neg = s->w - s->pos, fn = s->pos - s->tp, tn = neg - s->fp, odds = t / (1 - t);
	v[AM_N] = s->w;
	v[AM_PREV] = rate(s->pos, s->w);
	v[AM_SEL] = rate(s->tp + s->fp, s->w);
	v[AM_TPR] = rate(s->tp, s->pos);
	v[AM_FPR] = rate(s->fp, neg);
	v[AM_FNR] = rate(fn, s->pos);
	v[AM_TNR] = rate(tn, neg);
	v[AM_PPV] = rate(s->tp, s->tp + s->fp);
	v[AM_NPV] = rate(tn, tn + fn);
	v[AM_ACC] = rate(s->tp + tn, s->w);
	v[AM_AUC] = s->auc;
	v[AM_BRIER] = rate(s->sq, s->w);
	v[AM_MEANP] = rate(s->sp, s->w);
	v[AM_CITL] = v[AM_MEANP] - v[AM_PREV];
	v[AM_NB] = s->w > 0 ? s->tp / s->w - s->fp / s->w * odds : (double)NAN;
	v[AM_NB_ALL] = s->w > 0 ? v[AM_PREV] - (1 - v[AM_PREV]) * odds : (double)NAN;
}

/* Differences, ratios, flags of one set of group metrics (G x M) against the reference. */
static void disparities(const double *val, int G, int ref, double *diff, double *ratio)
{
	for (int g = 0; g < G; g++)
		for (int m = 0; m < AUDIT_NMETRIC; m++) {
			double a = val[AUDIT_AT(g, m)], b = val[AUDIT_AT(ref, m)];
			diff[AUDIT_AT(g, m)] = a - b;
			ratio[AUDIT_AT(g, m)] = b != 0 ? a / b : (double)NAN;
		}
}

static void summary(const double *val, int G, audit_summary *s)
{
	double mn[3] = {INFINITY, INFINITY, INFINITY}, mx[3] = {-INFINITY, -INFINITY, -INFINITY};
	const int ms[3] = {AM_SEL, AM_TPR, AM_FPR};
	for (int g = 0; g < G; g++)
		for (int k = 0; k < 3; k++) {
			double v = val[AUDIT_AT(g, ms[k])];
			if (isnan(v))
				continue;
			if (v < mn[k])
				mn[k] = v;
			if (v > mx[k])
				mx[k] = v;
		}
	double d[3], r[3];
	for (int k = 0; k < 3; k++) {
		d[k] = isinf(mn[k]) ? (double)NAN : mx[k] - mn[k];
		r[k] = isinf(mn[k]) ? (double)NAN : mx[k] > 0 ? mn[k] / mx[k] : (mn[k] == 0 ? 1 : (double)NAN);
	}
	s->dp_diff = d[0];
	s->dp_ratio = r[0];
	s->eopp_diff = d[1];
	s->eodds_diff = d[1] > d[2] || isnan(d[2]) ? d[1] : d[2];
	s->eodds_ratio = r[1] < r[2] || isnan(r[2]) ? r[1] : r[2];
}

const char *const audit_summary_keys[AUDIT_NSUMMARY] = {
	"demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference",
	"equalized_odds_ratio", "equal_opportunity_difference"};

double *audit_summary_at(audit_summary *s, int k)
{
	switch (k) {
	case 0: return &s->dp_diff;
	case 1: return &s->dp_ratio;
	case 2: return &s->eodds_diff;
	case 3: return &s->eodds_ratio;
	default: return &s->eopp_diff;
	}
}

/* ---- bootstrap ---- */

/* Logistic recalibration y ~ a + b x with multiplicities cnt, by Newton's method started at
 * the point estimate (a replicate's optimum is near it, so a few steps converge; a step that
 * does not reduce the deviance is halved). NAN when it does not converge in 25 steps. */
static void cal_fit_warm(const gdata *g, const uint32_t *cnt, double *slope, double *icept)
{
	double a = g->icept, b = g->slope;
	*slope = *icept = (double)NAN;
	if (isnan(a) || isnan(b))
		return;
	for (int it = 0; it < 25; it++) {
		double ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
		for (long i = 0; i < g->n; i++) {
			if (!cnt[i])
				continue;
			double c = cnt[i], x = g->x[i], z = a + b * x;
			double mu = z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
			double r = c * (g->y[i] - mu), v = c * mu * (1 - mu);
			ga += r;
			gb += r * x;
			haa += v;
			hab += v * x;
			hbb += v * x * x;
		}
		double det = haa * hbb - hab * hab;
		if (!(det > 0))
			return;
		double da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
		/* damp huge steps (separation in a resample): they would not converge anyway */
		if (fabs(da) > 5 || fabs(db) > 5) {
			double f = 5 / (fabs(da) > fabs(db) ? fabs(da) : fabs(db));
			da *= f;
			db *= f;
		}
		a += da;
		b += db;
		if (fabs(da) < 1e-9 * (1 + fabs(a)) && fabs(db) < 1e-9 * (1 + fabs(b))) {
			*slope = b;
			*icept = a;
			return;
		}
	}
}

/* The xoshiro256** step of util.c's rng_next, inlined here on the same state (so the stream
 * is the same): the bootstrap of a million patients draws a billion numbers. */
static inline uint64_t rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t xo_next(uint64_t *s)
{
	uint64_t out = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return out;
}

/* Multiplicities of n draws with replacement from n rows: each 64-bit output gives two
 * unbiased 32-bit draws by Lemire's multiply-and-reject. cnt must be zeroed. */
static void resample(lm_rng *r, uint32_t *cnt, uint32_t n)
{
	uint64_t s[4];
	memcpy(s, r->s, sizeof s);
	uint32_t reject_below = (uint32_t)(-n) % n;
	uint32_t k = 0;
	while (k < n) {
		uint64_t x = xo_next(s);
		uint64_t m1 = (x >> 32) * (uint64_t)n, m2 = (x & 0xffffffffu) * (uint64_t)n;
		if ((uint32_t)m1 >= reject_below) {
			cnt[m1 >> 32]++;
			k++;
		}
		if (k < n && (uint32_t)m2 >= reject_below) {
			cnt[m2 >> 32]++;
			k++;
		}
	}
	memcpy(r->s, s, sizeof s);
}

typedef struct boot_job {
	const gdata *gd;
	int G, ref, cal;
	double t;
	uint64_t seed;
	int r0, r1;
	double *val, *diff, *ratio; /* n_boot x G x M */
	audit_summary *sum;         /* n_boot */
	double deadline;            /* 0 or when to stop */
	int stopped;                /* the deadline passed before r1 */
} boot_job;

static void *boot_worker(void *arg)
{
	boot_job *j = arg;
	long nmax = 1;
	for (int g = 0; g < j->G; g++)
		if (j->gd[g].n > nmax)
			nmax = j->gd[g].n;
	uint32_t *cnt = xmallocarray((size_t)nmax, sizeof *cnt);
	size_t per = (size_t)j->G * AUDIT_NMETRIC;
	for (int r = j->r0; r < j->r1; r++) {
		if (j->deadline > 0 && lm_seconds() > j->deadline) {
			j->stopped = 1;
			break;
		}
		lm_rng rng;
		rng_seed(&rng, j->seed + 0x9E3779B97F4A7C15ULL * (uint64_t)(r + 1));
		double *v = j->val + (size_t)r * per;
		for (int g = 0; g < j->G; g++) {
			const gdata *gd = &j->gd[g];
			memset(cnt, 0, (size_t)gd->n * sizeof *cnt);
			resample(&rng, cnt, (uint32_t)gd->n);
			gstat s;
			group_pass(gd, cnt, &s);
			double *vg = v + (size_t)g * AUDIT_NMETRIC;
			fill_metrics(&s, j->t, vg);
			vg[AM_SLOPE] = vg[AM_INTERCEPT] = (double)NAN;
			if (j->cal)
				cal_fit_warm(gd, cnt, &vg[AM_SLOPE], &vg[AM_INTERCEPT]);
		}
		disparities(v, j->G, j->ref, j->diff + (size_t)r * per, j->ratio + (size_t)r * per);
		summary(v, j->G, &j->sum[r]);
	}
	free(cnt);
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* 95% percentile interval of x[k * stride] for k < n (NaNs ignored; type-7 quantiles). */
static void pct_ci(const double *x, int n, size_t stride, double *buf, double *lo, double *hi)
{
	int k = 0;
	for (int i = 0; i < n; i++) {
		double v = x[(size_t)i * stride];
		if (!isnan(v))
			buf[k++] = v;
	}
	if (k < 2) {
		*lo = *hi = (double)NAN;
		return;
	}
	qsort(buf, (size_t)k, sizeof *buf, cmp_d);
	double q[2] = {0.025, 0.975}, *out[2] = {lo, hi};
	for (int j = 0; j < 2; j++) {
		double h = (k - 1) * q[j];
		int a = (int)floor(h);
		*out[j] = a + 1 < k ? buf[a] + (h - a) * (buf[a + 1] - buf[a]) : buf[k - 1];
	}
}

/* ---- per-group thresholds ---- */

/* Among the group's distinct p values as thresholds, the one whose TPR (which = 0) or
 * selection rate (which = 1) is nearest target; the highest such threshold on ties. */
static void match_threshold(const gdata *g, int which, double target, double *t_out,
			    double *achieved, double *acc)
{
	double pos = 0;
	for (long i = 0; i < g->n; i++)
		pos += g->y[i];
	double neg = (double)g->n - pos, tp = 0, fp = 0, best = INFINITY;
	*t_out = *achieved = *acc = (double)NAN;
	for (long i = 0; i < g->n;) {
		double t = g->p[i];
		for (; i < g->n && g->p[i] == t; i++) {
			if (g->y[i] > 0)
				tp++;
			else
				fp++;
		}
		double v = which == 0 ? rate(tp, pos) : (tp + fp) / (double)g->n;
		if (isnan(v))
			continue;
		if (fabs(v - target) < best) {
			best = fabs(v - target);
			*t_out = t;
			*achieved = v;
			*acc = (tp + (neg - fp)) / (double)g->n;
		}
	}
}

int audit_run(const audit_input *in, const audit_opts *o, audit_result *r, lm_err *err)
{
	memset(r, 0, sizeof *r);
	int G = in->G;
	if (G < 1)
		return lm_seterr(err, EX_DATAERR, "no groups to audit");
	/* gather each group's rows, sorted by p */
	gdata *gd = xcalloc((size_t)G, sizeof *gd);
	long *fill = xcalloc((size_t)G, sizeof *fill);
	long used = 0;
	double pos_all = 0;
	for (long i = 0; i < in->n; i++)
		if (in->group[i] >= 0 && in->group[i] < G) {
			gd[in->group[i]].n++;
			used++;
			pos_all += in->y[i] != 0;
		}
	int st = 0;
	for (int g = 0; g < G && !st; g++)
		if (gd[g].n == 0)
			st = lm_seterr(err, EX_DATAERR, "group %s has no patient with a prediction",
				       in->label[g]);
	if (!st && (pos_all == 0 || pos_all == used))
		st = lm_seterr(err, EX_DATAERR, "every audited patient has the same outcome (%s)",
			       pos_all ? "1" : "0");
	double t = o->threshold;
	if (!st && o->youden) {
		double *pp = xmallocarray((size_t)used, sizeof *pp), *yy = xmallocarray((size_t)used, sizeof *yy);
		long k = 0;
		for (long i = 0; i < in->n; i++)
			if (in->group[i] >= 0 && in->group[i] < G) {
				pp[k] = in->p[i];
				yy[k++] = in->y[i] != 0;
			}
		t = metrics_youden(pp, yy, NULL, used, NULL);
		free(pp);
		free(yy);
	}
	if (!st && !(t > 0 && t < 1))
		st = lm_seterr(err, EX_DATAERR, "threshold %g is not between 0 and 1", t);
	if (st) {
		free(gd);
		free(fill);
		return st;
	}
	py **tmp = xcalloc((size_t)G, sizeof *tmp);
	for (int g = 0; g < G; g++)
		tmp[g] = xmallocarray((size_t)gd[g].n, sizeof **tmp);
	for (long i = 0; i < in->n; i++) {
		int g = in->group[i];
		if (g >= 0 && g < G) {
			tmp[g][fill[g]].p = in->p[i];
			tmp[g][fill[g]++].y = in->y[i] != 0;
		}
	}
	for (int g = 0; g < G; g++) {
		qsort(tmp[g], (size_t)gd[g].n, sizeof **tmp, py_desc);
		gd[g].p = xmallocarray((size_t)gd[g].n, sizeof(double));
		gd[g].y = xmallocarray((size_t)gd[g].n, sizeof(double));
		gd[g].bend = xmallocarray((size_t)gd[g].n, sizeof(long));
		gd[g].x = xmallocarray((size_t)gd[g].n, sizeof(double));
		for (long i = 0; i < gd[g].n; i++) {
			double q = tmp[g][i].p < METRICS_EPS ? METRICS_EPS
				   : tmp[g][i].p > 1 - METRICS_EPS ? 1 - METRICS_EPS : tmp[g][i].p;
			gd[g].x[i] = log(q) - log1p(-q);
			gd[g].p[i] = tmp[g][i].p;
			gd[g].y[i] = tmp[g][i].y;
			if (i > 0 && tmp[g][i].p != tmp[g][i - 1].p)
				gd[g].bend[gd[g].nb++] = i;
			if (tmp[g][i].p >= t)
				gd[g].ncut = i + 1;
		}
		gd[g].bend[gd[g].nb++] = gd[g].n;
		free(tmp[g]);
	}
	free(tmp);
	free(fill);

	size_t GM = (size_t)G * AUDIT_NMETRIC;
	r->G = G;
	r->threshold = t;
	r->tolerance = o->tolerance;
	r->n_boot = o->n_boot;
	r->size = xmallocarray((size_t)G, sizeof *r->size);
	r->small = xmallocarray((size_t)G, sizeof *r->small);
	r->val = xmallocarray(GM, sizeof(double));
	r->lo = xmallocarray(GM, sizeof(double));
	r->hi = xmallocarray(GM, sizeof(double));
	r->diff = xmallocarray(GM, sizeof(double));
	r->diff_lo = xmallocarray(GM, sizeof(double));
	r->diff_hi = xmallocarray(GM, sizeof(double));
	r->ratio = xmallocarray(GM, sizeof(double));
	r->ratio_lo = xmallocarray(GM, sizeof(double));
	r->ratio_hi = xmallocarray(GM, sizeof(double));
	r->flag = xcalloc(GM, sizeof(int));
	r->sig = xcalloc(GM, sizeof(int));
	r->thr = xcalloc((size_t)G, sizeof *r->thr);
	int ref = o->ref;
	for (int g = 0; g < G; g++) {
		r->size[g] = gd[g].n;
		r->small[g] = gd[g].n < AUDIT_MIN_N;
	}
	if (ref < 0) {
		ref = 0;
		for (int g = 1; g < G; g++)
			if (gd[g].n > gd[ref].n)
				ref = g;
	}
	r->ref = ref;
	long nmax_all = 1;
	for (int g = 0; g < G; g++)
		if (gd[g].n > nmax_all)
			nmax_all = gd[g].n;
	uint32_t *ones = xmallocarray((size_t)nmax_all, sizeof *ones);
	for (long i = 0; i < nmax_all; i++)
		ones[i] = 1;
	for (int g = 0; g < G; g++) {
		gstat s;
		group_pass(&gd[g], ones, &s);
		double *v = r->val + AUDIT_AT(g, 0);
		fill_metrics(&s, t, v);
		metrics_calibration(gd[g].p, gd[g].y, NULL, gd[g].n, &v[AM_SLOPE], &v[AM_INTERCEPT],
				    NULL);
		gd[g].slope = v[AM_SLOPE];
		gd[g].icept = v[AM_INTERCEPT];
	}
	free(ones);
	disparities(r->val, G, ref, r->diff, r->ratio);
	summary(r->val, G, &r->sum);
	for (size_t i = 0; i < GM; i++)
		r->lo[i] = r->hi[i] = r->diff_lo[i] = r->diff_hi[i] = r->ratio_lo[i] =
			r->ratio_hi[i] = (double)NAN;
	for (int k = 0; k < AUDIT_NSUMMARY; k++)
		*audit_summary_at(&r->sum_lo, k) = *audit_summary_at(&r->sum_hi, k) = (double)NAN;

	int stopped = 0;
	if (o->n_boot > 0) {
		int B = o->n_boot, nth = o->threads < 1 ? 1 : o->threads;
		if (nth > B)
			nth = B;
		double *bv = xmallocarray((size_t)B * GM, sizeof(double));
		double *bd = xmallocarray((size_t)B * GM, sizeof(double));
		double *br = xmallocarray((size_t)B * GM, sizeof(double));
		audit_summary *bs = xmallocarray((size_t)B, sizeof *bs);
		long nmax = 0;
		for (int g = 0; g < G; g++)
			if (gd[g].n > nmax)
				nmax = gd[g].n;
		int cal = (double)nmax * B <= AUDIT_CAL_BOOT_MAX;
		boot_job *jobs = xcalloc((size_t)nth, sizeof *jobs);
		pthread_t *tid = xcalloc((size_t)nth, sizeof *tid);
		int *started = xcalloc((size_t)nth, sizeof *started);
		for (int k = 0; k < nth; k++) {
			jobs[k] = (boot_job){gd, G, ref, cal, t, o->seed, B * k / nth,
					     B * (k + 1) / nth, bv, bd, br, bs, o->deadline, 0};
			if (k > 0)
				started[k] = pthread_create(&tid[k], NULL, boot_worker, &jobs[k]) == 0;
		}
		boot_worker(&jobs[0]);
		/* a share whose thread could not start is done here */
		for (int k = 1; k < nth; k++) {
			if (started[k])
				pthread_join(tid[k], NULL);
			else
				boot_worker(&jobs[k]);
		}
		free(started);
		for (int k = 0; k < nth; k++)
			stopped |= jobs[k].stopped;
		double *buf = xmallocarray((size_t)B, sizeof(double));
		for (size_t i = 0; i < GM && !stopped; i++) {
			pct_ci(bv + i, B, GM, buf, &r->lo[i], &r->hi[i]);
			pct_ci(bd + i, B, GM, buf, &r->diff_lo[i], &r->diff_hi[i]);
			pct_ci(br + i, B, GM, buf, &r->ratio_lo[i], &r->ratio_hi[i]);
		}
		double *col = xmallocarray((size_t)B, sizeof *col);
		for (int k = 0; k < AUDIT_NSUMMARY && !stopped; k++) {
			for (int i = 0; i < B; i++)
				col[i] = *audit_summary_at(&bs[i], k);
			pct_ci(col, B, 1, buf, audit_summary_at(&r->sum_lo, k),
			       audit_summary_at(&r->sum_hi, k));
		}
		free(col);
		free(buf);
		free(bv);
		free(bd);
		free(br);
		free(bs);
		free(jobs);
		free(tid);
	}
	for (int g = 0; g < G; g++)
		for (int m = 0; m < AUDIT_NMETRIC; m++) {
			size_t i = AUDIT_AT(g, m);
			if (!audit_metrics[m].flag || g == ref || r->small[g] || isnan(r->ratio[i]))
				continue;
			r->flag[i] = r->ratio[i] < o->tolerance ? -1 : r->ratio[i] > 1 / o->tolerance ? 1 : 0;
			r->sig[i] = r->flag[i] && !isnan(r->ratio_lo[i]) &&
				    (r->ratio_lo[i] > 1 || r->ratio_hi[i] < 1);
		}
	double ref_tpr = r->val[AUDIT_AT(ref, AM_TPR)], ref_sel = r->val[AUDIT_AT(ref, AM_SEL)];
	for (int g = 0; g < G; g++) {
		audit_thresholds *th = &r->thr[g];
		th->acc = r->val[AUDIT_AT(g, AM_ACC)];
		match_threshold(&gd[g], 0, ref_tpr, &th->eo_t, &th->eo_tpr, &th->eo_acc);
		match_threshold(&gd[g], 1, ref_sel, &th->sr_t, &th->sr_sel, &th->sr_acc);
	}
	for (int g = 0; g < G; g++) {
		free(gd[g].p);
		free(gd[g].y);
		free(gd[g].bend);
		free(gd[g].x);
	}
	free(gd);
	if (stopped) {
		audit_result_free(r);
		return lm_seterr(err, EX_TEMPFAIL, "the bootstrap ran past the time limit");
	}
	return 0;
}

void audit_result_free(audit_result *r)
{
	free(r->size);
	free(r->small);
	free(r->val);
	free(r->lo);
	free(r->hi);
	free(r->diff);
	free(r->diff_lo);
	free(r->diff_hi);
	free(r->ratio);
	free(r->ratio_lo);
	free(r->ratio_hi);
	free(r->flag);
	free(r->sig);
	free(r->thr);
	memset(r, 0, sizeof *r);
}

void audit_decision_curve(const audit_input *in, const double *t, int nt, double *nb, double *all)
{
	int G = in->G;
	double *n = xcalloc((size_t)G, sizeof *n), *pos = xcalloc((size_t)G, sizeof *pos);
	double *tp = xcalloc((size_t)G * (size_t)nt, sizeof *tp);
	double *fp = xcalloc((size_t)G * (size_t)nt, sizeof *fp);
	for (long i = 0; i < in->n; i++) {
		int g = in->group[i];
		if (g < 0 || g >= G)
			continue;
		int y = in->y[i] != 0;
		n[g]++;
		pos[g] += y;
		for (int k = 0; k < nt; k++)
			if (in->p[i] >= t[k]) {
				if (y)
					tp[g * nt + k]++;
				else
					fp[g * nt + k]++;
			}
	}
	for (int g = 0; g < G; g++)
		for (int k = 0; k < nt; k++) {
			double odds = t[k] / (1 - t[k]);
			size_t i = (size_t)g * (size_t)nt + (size_t)k;
			nb[i] = n[g] > 0 ? tp[i] / n[g] - fp[i] / n[g] * odds : (double)NAN;
			all[i] = n[g] > 0 ? pos[g] / n[g] - (1 - pos[g] / n[g]) * odds : (double)NAN;
		}
	free(n);
	free(pos);
	free(tp);
	free(fp);
}

double audit_cramers_v(const int *group, int G, const double *x, long n)
{
	int K = 0;
	for (long i = 0; i < n; i++)
		if (group[i] >= 0 && !isnan(x[i]) && (int)x[i] + 1 > K)
			K = (int)x[i] + 1;
	if (K < 1 || G < 1)
		return (double)NAN;
	double *tab = xcalloc((size_t)G * (size_t)K, sizeof *tab);
	double *rs = xcalloc((size_t)G, sizeof *rs), *cs = xcalloc((size_t)K, sizeof *cs), tot = 0;
	for (long i = 0; i < n; i++) {
		if (group[i] < 0 || group[i] >= G || isnan(x[i]) || x[i] < 0)
			continue;
		int k = (int)x[i];
		tab[(size_t)group[i] * K + k]++;
		rs[group[i]]++;
		cs[k]++;
		tot++;
	}
	int nr = 0, nc = 0;
	for (int g = 0; g < G; g++)
		nr += rs[g] > 0;
	for (int k = 0; k < K; k++)
		nc += cs[k] > 0;
	double chi = 0;
	for (int g = 0; g < G; g++)
		for (int k = 0; k < K; k++) {
			if (rs[g] == 0 || cs[k] == 0)
				continue;
			double e = rs[g] * cs[k] / tot, d = tab[(size_t)g * K + k] - e;
			chi += d * d / e;
		}
	int mn = nr < nc ? nr : nc;
	double v = mn > 1 && tot > 0 ? sqrt(chi / (tot * (mn - 1))) : (double)NAN;
	free(tab);
	free(rs);
	free(cs);
	return v;
}

double audit_eta(const int *group, int G, const double *x, long n)
{
	double *s = xcalloc((size_t)G, sizeof *s), *c = xcalloc((size_t)G, sizeof *c);
	double tot = 0, cnt = 0;
	for (long i = 0; i < n; i++)
		if (group[i] >= 0 && group[i] < G && !isnan(x[i])) {
			s[group[i]] += x[i];
			c[group[i]]++;
			tot += x[i];
			cnt++;
		}
	double mean = cnt > 0 ? tot / cnt : 0, sst = 0, ssb = 0;
	for (long i = 0; i < n; i++)
		if (group[i] >= 0 && group[i] < G && !isnan(x[i]))
			sst += (x[i] - mean) * (x[i] - mean);
	for (int g = 0; g < G; g++)
		if (c[g] > 0)
			ssb += c[g] * (s[g] / c[g] - mean) * (s[g] / c[g] - mean);
	free(s);
	free(c);
	return sst > 0 ? sqrt(ssb / sst) : (double)NAN;
}

cJSON *audit_result_json(const audit_result *r, char *const *label)
{
	cJSON *o = cJSON_CreateObject();
	metrics_json_number(o, "threshold", r->threshold);
	metrics_json_number(o, "tolerance", r->tolerance);
	cJSON_AddNumberToObject(o, "bootstrap", r->n_boot);
	cJSON_AddStringToObject(o, "reference", label[r->ref]);
	cJSON *ga = cJSON_AddArrayToObject(o, "groups");
	for (int g = 0; g < r->G; g++) {
		cJSON *go = cJSON_CreateObject();
		cJSON_AddItemToArray(ga, go);
		cJSON_AddStringToObject(go, "group", label[g]);
		cJSON_AddNumberToObject(go, "n", (double)r->size[g]);
		cJSON_AddBoolToObject(go, "too_small", r->small[g]);
		cJSON *mo = cJSON_AddObjectToObject(go, "metrics");
		cJSON *dobj = cJSON_AddObjectToObject(go, "disparities");
		for (int m = 0; m < AUDIT_NMETRIC; m++) {
			size_t i = AUDIT_AT(g, m);
			cJSON *e = cJSON_AddObjectToObject(mo, audit_metrics[m].key);
			metrics_json_number(e, "value", r->val[i]);
			metrics_json_number(e, "lower", r->lo[i]);
			metrics_json_number(e, "upper", r->hi[i]);
			if (m == AM_N)
				continue;
			cJSON *d = cJSON_AddObjectToObject(dobj, audit_metrics[m].key);
			metrics_json_number(d, "difference", r->diff[i]);
			metrics_json_number(d, "difference_lower", r->diff_lo[i]);
			metrics_json_number(d, "difference_upper", r->diff_hi[i]);
			metrics_json_number(d, "ratio", r->ratio[i]);
			metrics_json_number(d, "ratio_lower", r->ratio_lo[i]);
			metrics_json_number(d, "ratio_upper", r->ratio_hi[i]);
			cJSON_AddNumberToObject(d, "flag", r->flag[i]);
			cJSON_AddBoolToObject(d, "significant", r->sig[i]);
		}
		cJSON *th = cJSON_AddObjectToObject(go, "thresholds");
		metrics_json_number(th, "equal_opportunity", r->thr[g].eo_t);
		metrics_json_number(th, "equal_opportunity_tpr", r->thr[g].eo_tpr);
		metrics_json_number(th, "equal_opportunity_accuracy", r->thr[g].eo_acc);
		metrics_json_number(th, "equal_selection", r->thr[g].sr_t);
		metrics_json_number(th, "equal_selection_rate", r->thr[g].sr_sel);
		metrics_json_number(th, "equal_selection_accuracy", r->thr[g].sr_acc);
		metrics_json_number(th, "accuracy_at_common_threshold", r->thr[g].acc);
	}
	cJSON *s = cJSON_AddObjectToObject(o, "summary");
	audit_summary sv = r->sum, sl = r->sum_lo, sh = r->sum_hi;
	for (int k = 0; k < AUDIT_NSUMMARY; k++) {
		cJSON *e = cJSON_AddObjectToObject(s, audit_summary_keys[k]);
		metrics_json_number(e, "value", *audit_summary_at(&sv, k));
		metrics_json_number(e, "lower", *audit_summary_at(&sl, k));
		metrics_json_number(e, "upper", *audit_summary_at(&sh, k));
	}
	return o;
}
