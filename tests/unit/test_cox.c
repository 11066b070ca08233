/* Unit tests for src/stats/cox.c and src/stats/surveval.c: a hand-worked partial likelihood
 * with tied deaths (Efron and Breslow), finite-difference checks of the gradient and the
 * information, a small fit against numbers computed with R 4 / survival 3.5-3 (the R call is
 * pasted below, so the test needs no R), aliased inputs, the baseline hazard, and the
 * concordance, AUC(t) and Brier(t) on hand-worked cases. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/nn/coxnet.h"
#include "../../src/stats/cox.h"
#include "../../src/stats/surveval.h"
#include "../../src/util.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* (t, event, x): (1,1,1) (2,1,0) (2,1,1) (3,0,0), beta = ln 2, so e^eta is 2 for x = 1.
 *   t = 1: risk set of all four, S0 = 6: loglik += ln 2 - ln 6
 *   t = 2: risk set {2,3,4}, S0 = 4, deaths' sum D0 = 3, d = 2:
 *     Breslow: += ln 2 - 2 ln 4;   Efron: += ln 2 - ln 4 - ln(4 - 3/2)
 *   Breslow gradient: t=1: 1 - 4/6; t=2: 1 - 2 * 2/4 = 0: total 1/3.
 *   Baseline hazard at x = 0: t=1: 1/6; t=2: Efron 1/4 + 1/2.5, Breslow 2/4. */
static const double ht[] = {1, 2, 2, 3}, hx[] = {1, 0, 1, 0};
static const int he[] = {1, 1, 1, 0};

static void test_hand_loglik(void **state)
{
	(void)state;
	long *o = cox_order(ht, 4);
	assert_int_equal(o[0], 3);
	assert_int_equal(o[3], 0);
	double b = log(2.0), g, info;
	double lb = cox_loglik(hx, ht, he, o, 4, 1, &b, COX_BRESLOW, &g, &info);
	NEAR(lb, 2 * log(2.0) - log(6.0) - 2 * log(4.0), 1e-14);
	NEAR(g, 1.0 / 3, 1e-14);
	/* information, Breslow: t=1: 4/6 - (4/6)^2; t=2: 2 (2/4 - (2/4)^2) */
	NEAR(info, 4.0 / 6 - 16.0 / 36 + 2 * (0.5 - 0.25), 1e-14);
	double le = cox_loglik(hx, ht, he, o, 4, 1, &b, COX_EFRON, NULL, NULL);
	NEAR(le, 2 * log(2.0) - log(6.0) - log(4.0) - log(2.5), 1e-14);
	double lp[4];
	for (int i = 0; i < 4; i++)
		lp[i] = b * hx[i];
	long nb;
	double *bt, *bh;
	cox_baseline(lp, ht, he, 4, COX_EFRON, &nb, &bt, &bh);
	assert_int_equal(nb, 2);
	NEAR(bt[0], 1, 0);
	NEAR(bt[1], 2, 0);
	NEAR(bh[0], 1.0 / 6, 1e-15);
	NEAR(bh[1], 1.0 / 6 + 0.25 + 0.4, 1e-15);
	NEAR(cox_cumhaz_at(bt, bh, nb, 0.5), 0, 0);
	NEAR(cox_cumhaz_at(bt, bh, nb, 1.5), 1.0 / 6, 1e-15);
	NEAR(cox_cumhaz_at(bt, bh, nb, 9), bh[1], 0);
	NEAR(cox_surv_at(bt, bh, nb, 2, log(2.0)), exp(-2 * bh[1]), 1e-15);
	free(bt);
	free(bh);
	cox_baseline(lp, ht, he, 4, COX_BRESLOW, &nb, &bt, &bh);
	NEAR(bh[1], 1.0 / 6 + 0.5, 1e-15);
	free(bt);
	free(bh);
	free(o);
}

/* R 4 / survival 3.5-3:
 *   d <- data.frame(time = c(5,8,8,12,12,12,15,20,22,30,31,40),
 *     status = c(1,1,0,1,1,0,1,0,1,1,0,1),
 *     x1 = c(1.2,0.3,-0.5,2.0,0.1,-1.1,0.7,-0.2,1.5,-0.8,0.4,-1.6),
 *     x2 = c(0,1,1,0,1,0,0,1,1,0,1,0))
 *   f <- coxph(Surv(time, status) ~ x1 + x2, data = d, ties = "efron")   # and "breslow"
 *   coef(f); sqrt(diag(vcov(f))); f$loglik
 *   s <- survfit(f, newdata = data.frame(x1 = 0, x2 = 0)); s$cumhaz[s$n.event > 0]
 *   concordance(f)$concordance */
static const double rt[] = {5, 8, 8, 12, 12, 12, 15, 20, 22, 30, 31, 40};
static const int re[] = {1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1};
static const double rx1[] = {1.2, 0.3, -0.5, 2.0, 0.1, -1.1, 0.7, -0.2, 1.5, -0.8, 0.4, -1.6};
static const double rx2[] = {0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0};

static void r_matrix(double *X)
{
	for (int i = 0; i < 12; i++) {
		X[2 * i] = rx1[i];
		X[2 * i + 1] = rx2[i];
	}
}

static void test_fit_against_r(void **state)
{
	(void)state;
	double X[24];
	r_matrix(X);
	static const struct {
		cox_ties ties;
		double b[2], se[2], ll0, ll, H[7];
	} want[] = {
		{COX_EFRON, {0.8213662550, -0.7150031555}, {0.3956731879, 0.8204136764},
		 -13.4361341606, -11.0585730557,
		 {0.0663524247, 0.1470528112, 0.3508566722, 0.5382730864, 0.8563821664, 1.5382735909,
		  5.2599938922}},
		{COX_BRESLOW, {0.7827177075, -0.6585324643}, {0.3907283292, 0.8159424506},
		 -13.5539171963, -11.3388497567,
		 {0.0680037248, 0.1503286741, 0.3298231992, 0.5158646128, 0.8280796720, 1.4823710348,
		  4.9809201082}},
	};
	for (size_t w = 0; w < 2; w++) {
		cox_opts o;
		cox_opts_defaults(&o);
		o.ties = want[w].ties;
		cox_fit f;
		lm_err err = {0};
		assert_int_equal(cox_fit_run(X, rt, re, 12, 2, &o, &f, &err), 0);
		assert_true(f.converged);
		assert_int_equal(f.df, 2);
		assert_int_equal(f.events, 8);
		for (int a = 0; a < 2; a++) {
			NEAR(f.beta[a], want[w].b[a], 1e-8);
			NEAR(f.se[a], want[w].se[a], 1e-8);
		}
		NEAR(f.loglik0, want[w].ll0, 1e-9);
		NEAR(f.loglik, want[w].ll, 1e-9);
		NEAR(f.lr_chisq, 2 * (want[w].ll - want[w].ll0), 1e-8);
		assert_int_equal(f.nbase, 7);
		for (int k = 0; k < 7; k++)
			NEAR(f.bhaz[k], want[w].H[k], 1e-8);
		double lp[12];
		for (int i = 0; i < 12; i++)
			lp[i] = f.beta[0] * rx1[i] + f.beta[1] * rx2[i];
		surveval_conc c;
		surveval_concordance(rt, re, lp, 12, 0, INFINITY, &c);
		NEAR(c.c, 0.8, 1e-12);
		cox_fit_free(&f);
	}
}

/* The analytic gradient and information against central differences of the log-likelihood,
 * on pbc-like random data with many ties. */
static void test_finite_differences(void **state)
{
	(void)state;
	enum { N = 60, P = 3 };
	double X[N * P], t[N];
	int e[N];
	uint64_t s = 12345;
	for (int i = 0; i < N; i++) {
		for (int a = 0; a < P; a++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			X[i * P + a] = (double)(s >> 11) / 9007199254740992.0 * 2 - 1;
		}
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		t[i] = (double)(1 + (s >> 33) % 12); /* 12 distinct times: ties */
		e[i] = (s >> 20) % 3 != 0;
	}
	long *o = cox_order(t, N);
	double b[P] = {0.4, -0.7, 0.2}, g[P], info[P * P];
	for (int ties = 0; ties < 2; ties++) {
		cox_ties ti = ties ? COX_BRESLOW : COX_EFRON;
		cox_loglik(X, t, e, o, N, P, b, ti, g, info);
		for (int a = 0; a < P; a++) {
			double h = 1e-5, bp[P], bm[P], gp[P], gm[P];
			memcpy(bp, b, sizeof bp);
			memcpy(bm, b, sizeof bm);
			bp[a] += h;
			bm[a] -= h;
			double lp = cox_loglik(X, t, e, o, N, P, bp, ti, gp, NULL);
			double lm = cox_loglik(X, t, e, o, N, P, bm, ti, gm, NULL);
			NEAR(g[a], (lp - lm) / (2 * h), 1e-6);
			for (int c = 0; c < P; c++) /* information = - d grad / d b */
				NEAR(info[c * P + a], -(gp[c] - gm[c]) / (2 * h), 1e-6);
		}
	}
	free(o);
}

/* A constant input and a full set of one-hot levels are aliased (R's NA coefficients); the
 * ridge penalty shrinks towards 0 and its optimum zeroes the penalised gradient. */
static void test_aliased_and_ridge(void **state)
{
	(void)state;
	double X[12 * 4];
	for (int i = 0; i < 12; i++) {
		X[4 * i] = rx1[i];
		X[4 * i + 1] = rx2[i];
		X[4 * i + 2] = 1 - rx2[i]; /* x2 + this = 1: aliased with the baseline */
		X[4 * i + 3] = 2.5;        /* constant */
	}
	cox_fit f;
	lm_err err = {0};
	assert_int_equal(cox_fit_run(X, rt, re, 12, 4, NULL, &f, &err), 0);
	assert_int_equal(f.df, 2);
	assert_false(f.aliased[0]);
	assert_false(f.aliased[1]);
	assert_true(f.aliased[2]);
	assert_true(f.aliased[3]);
	assert_true(isnan(f.se[2]));
	NEAR(f.beta[2], 0, 0);
	NEAR(f.beta[0], 0.8213662550, 1e-8);
	NEAR(f.se[1], 0.8204136764, 1e-8);
	cox_fit_free(&f);

	double X2[24];
	r_matrix(X2);
	cox_opts o;
	cox_opts_defaults(&o);
	o.l2 = 2;
	assert_int_equal(cox_fit_run(X2, rt, re, 12, 2, &o, &f, &err), 0);
	assert_true(fabs(f.beta[0]) < 0.8213662550);
	long *ord = cox_order(rt, 12);
	double g[2];
	cox_loglik(X2, rt, re, ord, 12, 2, f.beta, COX_EFRON, g, NULL);
	NEAR(g[0] - 2 * f.beta[0], 0, 1e-8);
	NEAR(g[1] - 2 * f.beta[1], 0, 1e-8);
	free(ord);
	cox_fit_free(&f);
}

static void test_bad_input(void **state)
{
	(void)state;
	double X[4] = {1, 2, 3, 4}, t[4] = {1, 2, 3, 4};
	int e0[4] = {0, 0, 0, 0}, e2[4] = {1, 2, 0, 0};
	cox_fit f;
	lm_err err = {0};
	assert_int_equal(cox_fit_run(X, t, e0, 4, 1, NULL, &f, &err), EX_DATAERR);
	assert_non_null(strstr(err.msg, "no events"));
	assert_int_equal(cox_fit_run(X, t, e2, 4, 1, NULL, &f, &err), EX_DATAERR);
	t[2] = -1;
	assert_int_equal(cox_fit_run(X, t, e0, 4, 1, NULL, &f, &err), EX_DATAERR);
	assert_non_null(strstr(err.msg, "patient 3"));
}

/* Concordance by hand: times 1 2 3 4 5 with events 1 0 1 1 0, scores 5 4 3 1 2.
 * Comparable pairs (event first): (1,2) (1,3) (1,4) (1,5) (3,4) (3,5) (4,5):
 * concordant: all of patient 1's four, (3,4), (3,5); discordant (4,5): 1 vs 2. C = 6/7.
 * A tied score counts one half; tied event times are not comparable. */
static void test_concordance_hand(void **state)
{
	(void)state;
	double t[] = {1, 2, 3, 4, 5}, r[] = {5, 4, 3, 1, 2};
	int e[] = {1, 0, 1, 1, 0};
	surveval_conc c;
	surveval_concordance(t, e, r, 5, 0, INFINITY, &c);
	NEAR(c.concordant, 6, 0);
	NEAR(c.discordant, 1, 0);
	NEAR(c.c, 6.0 / 7, 1e-15);
	r[4] = 1; /* (4,5) tied */
	surveval_concordance(t, e, r, 5, 0, INFINITY, &c);
	NEAR(c.tied, 1, 0);
	NEAR(c.c, 6.5 / 7, 1e-15);
	double t2[] = {1, 1, 2}, r2[] = {1, 2, 0};
	int e2[] = {1, 1, 0};
	surveval_concordance(t2, e2, r2, 3, 0, INFINITY, &c);
	NEAR(c.concordant + c.discordant + c.tied, 2, 0); /* (1,3) (2,3), not (1,2) */
	/* a censored patient at a death's time is at risk: comparable */
	double t3[] = {1, 1}, r3[] = {2, 1};
	int e3[] = {1, 0};
	surveval_concordance(t3, e3, r3, 2, 0, INFINITY, &c);
	NEAR(c.c, 1, 0);
	/* Uno's weights: no censoring before the deaths means G = 1 and C equals Harrell's */
	double t4[] = {1, 2, 3, 4}, r4[] = {3, 4, 2, 1};
	int e4[] = {1, 1, 1, 0};
	surveval_conc h, u;
	surveval_concordance(t4, e4, r4, 4, 0, INFINITY, &h);
	surveval_concordance(t4, e4, r4, 4, 1, INFINITY, &u);
	NEAR(h.c, 5.0 / 6, 1e-15);
	NEAR(u.c, h.c, 1e-15);
}

/* AUC(t) and Brier(t) by hand: times 1 2 3 4 with events 1 0 1 0, horizon 3.5.
 * G: censoring at 2 with 3 at risk: G = 2/3 from 2 on; at 4 (1 at risk): 0.
 * Cases: patient 1 (G(1-) = 1), patient 3 (G(3-) = 2/3, weight 3/2); control: patient 4.
 * Scores 4 1 3 2: case 1 beats the control, case 3 beats it: AUC 1; scores 1 .. : case 1
 * loses (weight 1), case 3 wins (weight 1.5): AUC 1.5 / 2.5 = 0.6.
 * Brier with S = (.2, .9, .5, .7): (0.04 / 1 + 0.25 / (2/3) + 0.09 / (2/3)) / 4 */
static void test_auc_brier_hand(void **state)
{
	(void)state;
	double t[] = {1, 2, 3, 4}, r[] = {4, 1, 3, 2}, s[] = {0.2, 0.9, 0.5, 0.7};
	int e[] = {1, 0, 1, 0};
	NEAR(surveval_auc_t(t, e, r, 4, 3.5), 1, 1e-15);
	r[0] = 1;
	NEAR(surveval_auc_t(t, e, r, 4, 3.5), 0.6, 1e-15);
	NEAR(surveval_brier_t(t, e, s, 4, 3.5), (0.04 + 0.25 * 1.5 + 0.09 * 1.5) / 4, 1e-15);
	surveval_calib c;
	surveval_calibration(t, e, s, 4, 3.5, 2, &c);
	assert_int_equal(c.groups, 2);
	assert_int_equal(c.n[0], 2);
	NEAR(c.predicted[0], (0.1 + 0.3) / 2, 1e-15); /* patients 2 and 4 */
	NEAR(c.observed[0], 0, 0);                    /* neither has an event */
	NEAR(c.predicted[1], (0.8 + 0.5) / 2, 1e-15);
	NEAR(c.observed[1], 1, 1e-15);                /* both die by 3.5 */
	surveval_calib_free(&c);
}

/* The network loss is the Breslow partial likelihood per event: equal to cox_loglik of the
 * same scores, and its gradient agrees with central differences (float scores, so the
 * difference step is 1e-2 and the tolerance 1e-4). */
static void test_coxnet_loss(void **state)
{
	(void)state;
	double X[24];
	r_matrix(X);
	double b[2] = {0.6, -0.4};
	float z[12], dz[12];
	for (int i = 0; i < 12; i++)
		z[i] = (float)(b[0] * X[2 * i] + b[1] * X[2 * i + 1]);
	long *o = cox_order(rt, 12);
	double zd[12];
	for (int i = 0; i < 12; i++)
		zd[i] = z[i];
	double one = 1, ll = cox_loglik(zd, rt, re, o, 12, 1, &one, COX_BRESLOW, NULL, NULL);
	double l = coxnet_loss(z, rt, re, o, 12, dz);
	NEAR(l, -ll / 8, 1e-12);
	for (int i = 0; i < 12; i++) {
		float zp[12], zm[12];
		memcpy(zp, z, sizeof zp);
		memcpy(zm, z, sizeof zm);
		zp[i] += 1e-2f;
		zm[i] -= 1e-2f;
		double fd = (coxnet_loss(zp, rt, re, o, 12, NULL) - coxnet_loss(zm, rt, re, o, 12, NULL)) / 2e-2;
		NEAR((double)dz[i], fd, 1e-4);
	}
	/* a shift of every score changes nothing (the baseline absorbs it) */
	for (int i = 0; i < 12; i++)
		z[i] += 50;
	NEAR(coxnet_loss(z, rt, re, o, 12, NULL), l, 1e-5);
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_loglik),      cmocka_unit_test(test_fit_against_r),
		cmocka_unit_test(test_finite_differences), cmocka_unit_test(test_aliased_and_ridge),
		cmocka_unit_test(test_bad_input),        cmocka_unit_test(test_concordance_hand),
		cmocka_unit_test(test_auc_brier_hand),    cmocka_unit_test(test_coxnet_loss),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
