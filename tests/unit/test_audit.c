/* Unit tests for src/stats/audit.c: a hand-worked two-group case for every metric,
 * disparity, Fairlearn summary figure and per-group threshold; agreement of the audit's
 * one-pass group metrics with metrics.c (itself checked against scikit-learn) on random data
 * with ties; bootstrap determinism and significance; association measures. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/stats/audit.h"
#include "../../src/stats/metrics.h"
#include "../../src/util.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))
#define V(r, g, m) ((r)->val[AUDIT_AT(g, m)])

/* Group A (5 patients, the reference as the larger):  p .9 .8 .6 .3 .2, y 1 0 1 0 0
 * Group B (4 patients):                                p .7 .4 .4 .1,    y 1 1 0 0
 * Each patient is repeated 10 times so that both groups have >= 30 patients (rates and AUC
 * do not change under repetition). At threshold .5:
 *   A: tp 2 fp 1 tn 2 fn 0 -> prev .4, sel .6, TPR 1, FPR 1/3, FNR 0, TNR 2/3, PPV 2/3,
 *      NPV 1, acc .8; AUC: .9 beats 3 negatives, .6 beats 2 -> 5/6;
 *      Brier (.01+.64+.16+.09+.04)/5 = .188; mean p .56, p - obs = .16;
 *      net benefit 2/5 - 1/5 * (.5/.5) = .2; treat all .4 - .6 = -.2.
 *   B: tp 1 fp 0 tn 2 fn 1 -> prev .5, sel .25, TPR .5, FPR 0, FNR .5, TNR 1, PPV 1,
 *      NPV 2/3, acc .75; AUC: .7 beats 2 negatives, .4 ties one (1/2) and beats one -> 3.5/4;
 *      Brier (.09+.36+.16+.01)/4 = .155; NB .25; treat all 0.
 * Ratios B/A: sel .25/.6 = .4167 (flag below), TPR .5 (below), FPR 0 (below),
 *   FNR .5/0 undefined (not flagged), TNR 1.5 (above), PPV 1.5 (above), NPV .667 (below),
 *   acc .9375 (within .8-1.25).
 * Fairlearn: demographic parity difference .6 - .25 = .35, ratio .25/.6; equal opportunity
 *   difference 1 - .5 = .5; equalized odds difference max(.5, 1/3 - 0) = .5, ratio
 *   min(.5/1, 0/(1/3)) = 0.
 * Thresholds for B matching A (TPR 1, selection .6): B's distinct p as thresholds give
 *   (.7: TPR .5, sel .25), (.4: TPR 1, sel .75), (.1: TPR 1, sel 1): equal opportunity at .4
 *   (TPR 1, accuracy (2 + 1)/4 = .75); selection nearest .6 is .75 at .4 as well. */
static void build_hand(double *p, double *y, int *g)
{
	const double pa[] = {.9, .8, .6, .3, .2}, ya[] = {1, 0, 1, 0, 0};
	const double pb[] = {.7, .4, .4, .1}, yb[] = {1, 1, 0, 0};
	int k = 0;
	for (int rep = 0; rep < 10; rep++) {
		for (int i = 0; i < 5; i++, k++) {
			p[k] = pa[i];
			y[k] = ya[i];
			g[k] = 0;
		}
		for (int i = 0; i < 4; i++, k++) {
			p[k] = pb[i];
			y[k] = yb[i];
			g[k] = 1;
		}
	}
}

static char *labels2[] = {"grp=A", "grp=B"};

static void test_hand(void **state)
{
	(void)state;
	double p[90], y[90];
	int g[90];
	build_hand(p, y, g);
	audit_input in = {90, p, y, g, 2, labels2};
	audit_opts o = {0.5, 0, -1, 0.8, 0, 1, 1, 0};
	audit_result r;
	lm_err err;
	assert_int_equal(audit_run(&in, &o, &r, &err), 0);
	assert_int_equal(r.ref, 0);
	assert_int_equal(r.size[0], 50);
	const double wa[AUDIT_NMETRIC] = {[AM_N] = 50, [AM_PREV] = .4, [AM_SEL] = .6, [AM_TPR] = 1,
		[AM_FPR] = 1.0 / 3, [AM_FNR] = 0, [AM_TNR] = 2.0 / 3, [AM_PPV] = 2.0 / 3, [AM_NPV] = 1,
		[AM_ACC] = .8, [AM_AUC] = 5.0 / 6, [AM_BRIER] = .188, [AM_MEANP] = .56,
		[AM_CITL] = .16, [AM_NB] = .2, [AM_NB_ALL] = -.2};
	const double wb[AUDIT_NMETRIC] = {[AM_N] = 40, [AM_PREV] = .5, [AM_SEL] = .25, [AM_TPR] = .5,
		[AM_FPR] = 0, [AM_FNR] = .5, [AM_TNR] = 1, [AM_PPV] = 1, [AM_NPV] = 2.0 / 3,
		[AM_ACC] = .75, [AM_AUC] = .875, [AM_BRIER] = .155, [AM_MEANP] = .4,
		[AM_CITL] = -.1, [AM_NB] = .25, [AM_NB_ALL] = 0};
	for (int m = 0; m < AUDIT_NMETRIC; m++) {
		if (m == AM_SLOPE || m == AM_INTERCEPT)
			continue;
		NEAR(V(&r, 0, m), wa[m], 1e-12);
		NEAR(V(&r, 1, m), wb[m], 1e-12);
	}
	/* calibration per group equals metrics.c on the group alone */
	double s, a;
	const double pa[] = {.9, .8, .6, .3, .2}, ya[] = {1, 0, 1, 0, 0};
	metrics_calibration(pa, ya, NULL, 5, &s, &a, NULL);
	NEAR(V(&r, 0, AM_SLOPE), s, 1e-6);
	NEAR(V(&r, 0, AM_INTERCEPT), a, 1e-6);

	const int want_flag[AUDIT_NMETRIC] = {[AM_SEL] = -1, [AM_TPR] = -1, [AM_FPR] = -1,
		[AM_FNR] = 0, [AM_TNR] = 1, [AM_PPV] = 1, [AM_NPV] = -1, [AM_ACC] = 0};
	for (int m = 0; m < AUDIT_NMETRIC; m++) {
		assert_int_equal(r.flag[AUDIT_AT(1, m)], want_flag[m]);
		assert_int_equal(r.flag[AUDIT_AT(0, m)], 0);
		assert_int_equal(r.sig[AUDIT_AT(1, m)], 0); /* no bootstrap, no significance */
	}
	NEAR(r.ratio[AUDIT_AT(1, AM_SEL)], .25 / .6, 1e-12);
	NEAR(r.diff[AUDIT_AT(1, AM_SEL)], .25 - .6, 1e-12);
	NEAR(r.ratio[AUDIT_AT(1, AM_TNR)], 1.5, 1e-12);
	assert_true(isnan(r.ratio[AUDIT_AT(1, AM_FNR)]));
	NEAR(r.ratio[AUDIT_AT(1, AM_ACC)], .9375, 1e-12);

	NEAR(r.sum.dp_diff, .35, 1e-12);
	NEAR(r.sum.dp_ratio, .25 / .6, 1e-12);
	NEAR(r.sum.eopp_diff, .5, 1e-12);
	NEAR(r.sum.eodds_diff, .5, 1e-12);
	NEAR(r.sum.eodds_ratio, 0, 1e-12);

	NEAR(r.thr[1].eo_t, .4, 0);
	NEAR(r.thr[1].eo_tpr, 1, 1e-12);
	NEAR(r.thr[1].eo_acc, .75, 1e-12);
	NEAR(r.thr[1].sr_t, .4, 0);
	NEAR(r.thr[1].sr_sel, .75, 1e-12);
	NEAR(r.thr[1].acc, .75, 1e-12);
	NEAR(r.thr[0].eo_t, .6, 0); /* the reference matches itself at its own operating point */
	audit_result_free(&r);

	/* tolerance .5: only ratios outside .5-2 are flagged: sel .417, FPR 0 (TPR .5 is on the
	 * edge and NPV .667 within) */
	o.tolerance = 0.5;
	assert_int_equal(audit_run(&in, &o, &r, &err), 0);
	int nflag = 0;
	for (int m = 0; m < AUDIT_NMETRIC; m++)
		nflag += r.flag[AUDIT_AT(1, m)] != 0;
	assert_int_equal(nflag, 2);
	audit_result_free(&r);

	/* reference B: the ratios invert */
	o.tolerance = 0.8;
	o.ref = 1;
	assert_int_equal(audit_run(&in, &o, &r, &err), 0);
	NEAR(r.ratio[AUDIT_AT(0, AM_SEL)], .6 / .25, 1e-12);
	assert_int_equal(r.flag[AUDIT_AT(0, AM_SEL)], 1);
	audit_result_free(&r);

	/* decision curve at .5 equals the audit's net benefit; at .2 by hand for A:
	 * positives p >= .2: all 5, tp 2 fp 3 -> 2/5 - 3/5 * .25 = .25 */
	double t[2] = {0.5, 0.2}, nb[4], all[4];
	audit_decision_curve(&in, t, 2, nb, all);
	NEAR(nb[0], .2, 1e-12);
	NEAR(nb[2], .25, 1e-12);
	NEAR(nb[1], .4 - .6 * .25, 1e-12);
	NEAR(all[1], .4 - .6 * .25, 1e-12);
}

/* Too-small groups are reported, never flagged; bad input is refused. */
static void test_small_and_bad(void **state)
{
	(void)state;
	const double p[] = {.9, .8, .6, .3, .2, .7, .4, .4, .1};
	const double y[] = {1, 0, 1, 0, 0, 1, 1, 0, 0};
	const int g[] = {0, 0, 0, 0, 0, 1, 1, 1, 1};
	audit_input in = {9, p, y, g, 2, labels2};
	audit_opts o = {0.5, 0, -1, 0.8, 0, 1, 1, 0};
	audit_result r;
	lm_err err;
	assert_int_equal(audit_run(&in, &o, &r, &err), 0);
	assert_true(r.small[0] && r.small[1]);
	for (int m = 0; m < AUDIT_NMETRIC; m++)
		assert_int_equal(r.flag[AUDIT_AT(1, m)], 0);
	NEAR(V(&r, 1, AM_SEL), .25, 1e-12); /* still computed and shown */
	audit_result_free(&r);

	const int g3[] = {0, 0, 0, 0, 0, 2, 2, 2, 2};
	char *l3[] = {"a", "b", "c"};
	audit_input in3 = {9, p, y, g3, 3, l3};
	assert_int_equal(audit_run(&in3, &o, &r, &err), EX_DATAERR);
	assert_string_equal(err.msg, "group b has no patient with a prediction");
	const double ones[] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	audit_input in1 = {9, p, ones, g, 2, labels2};
	assert_int_equal(audit_run(&in1, &o, &r, &err), EX_DATAERR);
	o.youden = 1;
	assert_int_equal(audit_run(&in, &o, &r, &err), 0);
	/* Youden over all nine: equals metrics_youden on the pooled rows */
	NEAR(r.threshold, metrics_youden(p, y, NULL, 9, NULL), 0);
	audit_result_free(&r);
}

/* The one-pass group metrics equal metrics.c's (checked against scikit-learn in
 * test_metrics) on 3000 random rows with many ties, group by group. */
static void test_matches_metrics(void **state)
{
	(void)state;
	enum { N = 3000 };
	double *p = xmallocarray(N, sizeof *p), *y = xmallocarray(N, sizeof *y);
	int *g = xmallocarray(N, sizeof *g);
	lm_rng rng;
	rng_seed(&rng, 99);
	for (int i = 0; i < N; i++) {
		g[i] = (int)rng_below(&rng, 3);
		y[i] = rng_uniform(&rng) < 0.3 + 0.1 * g[i];
		p[i] = round(100 / (1 + exp(-(rng_normal(&rng) + y[i] - 0.8)))) / 100;
		if (i % 97 == 0)
			g[i] = -1;
	}
	char *lab[] = {"g0", "g1", "g2"};
	audit_input in = {N, p, y, g, 3, lab};
	audit_opts o = {0.35, 0, -1, 0.8, 0, 1, 1, 0};
	audit_result r;
	lm_err err;
	assert_int_equal(audit_run(&in, &o, &r, &err), 0);
	double *pg = xmallocarray(N, sizeof *pg), *yg = xmallocarray(N, sizeof *yg);
	for (int k = 0; k < 3; k++) {
		long n = 0;
		for (int i = 0; i < N; i++)
			if (g[i] == k) {
				pg[n] = p[i];
				yg[n++] = y[i];
			}
		metrics_binary m;
		metrics_binary_compute(pg, yg, NULL, n, 0.35, &m);
		NEAR(V(&r, k, AM_N), (double)n, 0);
		NEAR(V(&r, k, AM_AUC), m.auc, 1e-12);
		NEAR(V(&r, k, AM_BRIER), m.brier, 1e-12);
		NEAR(V(&r, k, AM_TPR), m.recall, 1e-12);
		NEAR(V(&r, k, AM_PPV), m.precision, 1e-12);
		NEAR(V(&r, k, AM_TNR), m.specificity, 1e-12);
		NEAR(V(&r, k, AM_ACC), m.accuracy, 1e-12);
		NEAR(V(&r, k, AM_SLOPE), m.cal_slope, 1e-9);
		NEAR(V(&r, k, AM_PREV), m.prevalence, 1e-12);
	}
	audit_result_free(&r);
	free(pg);
	free(yg);
	free(p);
	free(y);
	free(g);
}

/* Bootstrap: the same seed gives the same intervals with 1 or 2 threads; intervals hold
 * the point estimate; a large real disparity is significant, a null one is not. */
static void test_bootstrap(void **state)
{
	(void)state;
	enum { N = 4000 };
	double *p = xmallocarray(N, sizeof *p), *y = xmallocarray(N, sizeof *y);
	int *g = xmallocarray(N, sizeof *g);
	lm_rng rng;
	rng_seed(&rng, 5);
	for (int i = 0; i < N; i++) {
		g[i] = i % 3; /* group 2 gets predictions shifted upwards: more selected */
		y[i] = rng_uniform(&rng) < 0.4;
		double z = rng_normal(&rng) + 1.5 * y[i] - 0.9 + (g[i] == 2 ? 1.2 : 0);
		p[i] = 1 / (1 + exp(-z));
	}
	char *lab[] = {"g0", "g1", "g2"};
	audit_input in = {N, p, y, g, 3, lab};
	audit_opts o = {0.5, 0, 0, 0.8, 200, 42, 1, 0};
	audit_result r1, r2;
	lm_err err;
	assert_int_equal(audit_run(&in, &o, &r1, &err), 0);
	o.threads = 2;
	assert_int_equal(audit_run(&in, &o, &r2, &err), 0);
	size_t GM = 3 * AUDIT_NMETRIC;
	for (size_t i = 0; i < GM; i++) {
		assert_true(r1.lo[i] == r2.lo[i] || (isnan(r1.lo[i]) && isnan(r2.lo[i])));
		assert_true(r1.ratio_hi[i] == r2.ratio_hi[i] ||
			    (isnan(r1.ratio_hi[i]) && isnan(r2.ratio_hi[i])));
	}
	for (int k = 0; k < 3; k++) {
		const int ms[] = {AM_SEL, AM_TPR, AM_FPR, AM_AUC, AM_BRIER, AM_SLOPE};
		for (int j = 0; j < 6; j++) {
			size_t i = AUDIT_AT(k, ms[j]);
			assert_true(r1.lo[i] <= r1.val[i] && r1.val[i] <= r1.hi[i]);
			/* rates from ~1300 patients: intervals about +-0.03 wide (not the slope) */
			if (ms[j] != AM_SLOPE)
				assert_true(r1.hi[i] - r1.lo[i] < 0.15);
		}
	}
	/* group 2's selection rate is far above group 0's: flagged and significant */
	assert_int_equal(r1.flag[AUDIT_AT(2, AM_SEL)], 1);
	assert_int_equal(r1.sig[AUDIT_AT(2, AM_SEL)], 1);
	assert_true(r1.ratio_lo[AUDIT_AT(2, AM_SEL)] > 1);
	/* group 1 is drawn like group 0: no significant disparity anywhere */
	for (int m = 0; m < AUDIT_NMETRIC; m++)
		assert_int_equal(r1.sig[AUDIT_AT(1, m)], 0);
	assert_true(r1.sum_lo.dp_diff <= r1.sum.dp_diff && r1.sum.dp_diff <= r1.sum_hi.dp_diff);
	/* another seed moves the intervals */
	audit_result r3;
	o.seed = 43;
	assert_int_equal(audit_run(&in, &o, &r3, &err), 0);
	assert_true(r3.lo[AUDIT_AT(0, AM_SEL)] != r1.lo[AUDIT_AT(0, AM_SEL)] ||
		    r3.hi[AUDIT_AT(0, AM_SEL)] != r1.hi[AUDIT_AT(0, AM_SEL)]);
	cJSON *js = audit_result_json(&r1, lab);
	cJSON *g2 = cJSON_GetArrayItem(cJSON_GetObjectItem(js, "groups"), 2);
	cJSON *sel = cJSON_GetObjectItem(cJSON_GetObjectItem(g2, "disparities"), "selection_rate");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(sel, "significant")));
	assert_int_equal(cJSON_GetObjectItem(sel, "flag")->valueint, 1);
	cJSON_Delete(js);
	audit_result_free(&r1);
	audit_result_free(&r2);
	audit_result_free(&r3);
	free(p);
	free(y);
	free(g);
}

/* Cramér's V and eta: perfect association 1, independence 0 (by hand: with equal margins the
 * expected counts equal the observed ones, chi-square 0). */
static void test_association(void **state)
{
	(void)state;
	const int g[] = {0, 0, 1, 1};
	const double same[] = {0, 0, 1, 1}, indep[] = {0, 1, 0, 1};
	NEAR(audit_cramers_v(g, 2, same, 4), 1, 1e-12);
	NEAR(audit_cramers_v(g, 2, indep, 4), 0, 1e-12);
	const double x1[] = {1, 1, 3, 3}, x2[] = {1, 3, 1, 3};
	NEAR(audit_eta(g, 2, x1, 4), 1, 1e-12);
	NEAR(audit_eta(g, 2, x2, 4), 0, 1e-12);
	/* eta by hand: groups {1,2} and {4,5}: grand mean 3, SS_between 2*(1.5-3)^2 + 2*(4.5-3)^2
	 * = 9, SS_total 4+1+1+4 = 10 -> sqrt(.9) */
	const double x3[] = {1, 2, 4, 5};
	NEAR(audit_eta(g, 2, x3, 4), sqrt(0.9), 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand),
		cmocka_unit_test(test_small_and_bad),
		cmocka_unit_test(test_matches_metrics),
		cmocka_unit_test(test_bootstrap),
		cmocka_unit_test(test_association),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
