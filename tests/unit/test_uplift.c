/* Unit tests for the effect evaluation (src/stats/uplift.c) and the regression fit of the
 * DR-learner's effect model (src/nn/nnreg.c), against hand-worked cases and closed forms. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/nn/nnreg.h"
#include "../../src/stats/uplift.h"

#pragma GCC diagnostic ignored "-Wdouble-promotion"

/* Six patients by hand. Ranked by benefit (-effect): patients 0..5 in order.
 * arm:     t  r  t  r  t  r      y: 0 1 1 0 0 1
 * top 2: N_t 1 Y_t 0, N_r 1 Y_r 1: Q = (1*1/1 - 0)/6 = 1/6; U = (1 - 0) * 2/6 = 1/3
 * all 6: N_t 3 Y_t 1, N_r 3 Y_r 2: Q = (2 - 1)/6 = 1/6;     U = (2/3 - 1/3) * 1 = 1/3 */
static void test_curves_by_hand(void **state)
{
	(void)state;
	double eff[6] = {-0.6, -0.5, -0.4, -0.3, -0.2, -0.1};
	int tr[6] = {1, 0, 1, 0, 1, 0};
	double y[6] = {0, 1, 1, 0, 0, 1};
	uplift_curves c;
	uplift_curves_compute(eff, tr, y, 6, 3, &c);
	assert_true(fabs(c.qini[1] - 1.0 / 6) < 1e-12);
	assert_true(fabs(c.uplift[1] - 1.0 / 3) < 1e-12);
	assert_true(fabs(c.qini[3] - 1.0 / 6) < 1e-12);
	assert_true(fabs(c.qini_total - 1.0 / 6) < 1e-12);
	assert_true(fabs(c.random_qini[1] - 1.0 / 18) < 1e-12);
	/* Q(k) for k = 1..6: t0: N_r 0 -> 0; 1/6; k3: t y1: (1*2/1 - 1)/6 = 1/6;
	 * k4: (1*2/2 - 1)/6 = 0; k5: (1*3/2 - 1)/6 = 1/12; k6: 1/6.
	 * area = mean(Q(k) - k/6 * 1/6) = (0 + 1/6 + 1/6 + 0 + 1/12 + 1/6 - 21/36) / 6 */
	double want = (1.0 / 6 + 1.0 / 6 + 1.0 / 12 + 1.0 / 6 - 21.0 / 36) / 6;
	assert_true(fabs(c.qini_area - want) < 1e-12);
	uplift_curves_free(&c);
	/* the reversed ranking is worse than random by the same construction */
	double rev[6];
	for (int i = 0; i < 6; i++)
		rev[i] = -eff[i];
	uplift_curves_compute(rev, tr, y, 6, 3, &c);
	assert_true(c.qini_area < want);
	uplift_curves_free(&c);
}

static void test_calibration_by_hand(void **state)
{
	(void)state;
	/* two groups of four; group 1 (highest benefit): predicted -0.5, arm y 0 0, ref y 1 1:
	 * observed -1 (variance 0); group 2: predicted 0.25, arm 1 0, ref 0 1: observed 0 */
	double eff[8] = {-0.5, -0.5, -0.5, -0.5, 0.25, 0.25, 0.25, 0.25};
	int tr[8] = {1, 1, 0, 0, 1, 1, 0, 0};
	double y[8] = {0, 0, 1, 1, 1, 0, 0, 1};
	uplift_calibration c;
	uplift_calibration_compute(eff, tr, y, 8, 2, &c);
	assert_int_equal(c.ngroups, 2);
	assert_true(fabs(c.predicted[0] + 0.5) < 1e-12 && fabs(c.observed[0] + 1) < 1e-12);
	assert_true(fabs(c.predicted[1] - 0.25) < 1e-12 && fabs(c.observed[1]) < 1e-12);
	/* group 2: sqrt(0.25/2 + 0.25/2) = 0.5; 1.96 * 0.5 */
	assert_true(fabs(c.hi[1] - 1.959963984540054 * 0.5) < 1e-9);
	/* two points: the line through them, slope (0 - -1) / (0.25 - -0.5) = 4/3 */
	assert_true(fabs(c.slope - 4.0 / 3) < 1e-9);
	assert_true(fabs(c.intercept - (-1 + 4.0 / 3 * 0.5)) < 1e-9);
}

/* Pseudo-outcomes: group 1 (benefit highest) predicted -0.5 with psi -1, -0.5, -1.5, -1
 * (mean -1, sample variance 1/6, so var of the mean 1/24); group 2 predicted 0.25 with psi
 * 0, 1, -1, 0 (mean 0, variance 2/3, var of the mean 1/6): slope (0 - -1) / 0.75. */
static void test_calibration_pseudo(void **state)
{
	(void)state;
	double eff[8] = {-0.5, -0.5, -0.5, -0.5, 0.25, 0.25, 0.25, 0.25};
	double psi[8] = {-1, -0.5, -1.5, -1, 0, 1, -1, 0};
	uplift_calibration c;
	uplift_calibration_pseudo(eff, psi, 8, 2, &c);
	assert_true(fabs(c.observed[0] + 1) < 1e-12 && fabs(c.observed[1]) < 1e-12);
	assert_true(fabs(c.hi[0] - (-1 + 1.959963984540054 * sqrt(1.0 / 24))) < 1e-12);
	assert_true(fabs(c.lo[1] + 1.959963984540054 * sqrt(1.0 / 6)) < 1e-12);
	assert_true(fabs(c.slope - 4.0 / 3) < 1e-9);
}

static void test_ate_smd(void **state)
{
	(void)state;
	int tr[6] = {1, 1, 1, 0, 0, 0};
	double y[6] = {1, 0, 0, 1, 1, 0};
	double a, lo, hi;
	uplift_ate(tr, y, 6, &a, &lo, &hi);
	double h = 1.959963984540054 * sqrt((1.0 / 3 * 2.0 / 3) / 3 * 2);
	assert_true(fabs(a + 1.0 / 3) < 1e-12 && fabs(hi - a - h) < 1e-12 && fabs(a - lo - h) < 1e-12);
	/* x: arm 1 2 3 (mean 2, var 1), ref 2 3 4 (mean 3, var 1): SMD -1 */
	double x[6] = {1, 2, 3, 2, 3, 4};
	assert_true(fabs(uplift_smd(x, tr, 6) + 1) < 1e-12);
	x[0] = NAN; /* arm 2 3: mean 2.5 var 0.5; (2.5 - 3) / sqrt(0.75) */
	assert_true(fabs(uplift_smd(x, tr, 6) - (-0.5 / sqrt(0.75))) < 1e-12);
}

/* Ridge by closed form: y = 2 x0 - x1 + 0.5 exactly; with l2 1e-9 the fit recovers it. */
static void test_ridge(void **state)
{
	(void)state;
	enum { N = 200 };
	float X[N * 2], y[N];
	lm_rng r;
	rng_seed(&r, 3);
	for (int i = 0; i < N; i++) {
		X[2 * i] = (float)rng_normal(&r);
		X[2 * i + 1] = (float)rng_normal(&r);
		y[i] = 2 * X[2 * i] - X[2 * i + 1] + 0.5f;
	}
	nn_spec s;
	nn_spec_defaults(&s, NN_LOGREG, 2, 1);
	s.l2 = 1e-9f;
	lm_err err = {0};
	nn_model *m = nn_create(&s, 1, &err);
	nnreg_opts o;
	nnreg_defaults(&o);
	nnreg_result res;
	assert_int_equal(nnreg_fit(m, X, y, N, &o, &res, &err), 0);
	float z[4], q[4] = {0, 0, 1, 0};
	nn_logits(m, q, 2, z);
	assert_true(fabs(z[0] - 0.5) < 1e-4 && fabs(z[1] - 2.5) < 1e-4);
	assert_true(res.best_loss < 1e-8);
	nn_free(m);
	/* an mlp learns y = x^2 (which no linear fit can: its best MSE is var(x^2) = 2) */
	float X1[N], y1[N];
	for (int i = 0; i < N; i++) {
		X1[i] = (float)rng_normal(&r);
		y1[i] = X1[i] * X1[i];
	}
	nn_spec_defaults(&s, NN_MLP, 1, 1);
	s.dropout = 0;
	m = nn_create(&s, 2, &err);
	o.epochs = 300;
	o.lr = 1e-2f;
	o.batch = 32;
	o.patience = 30;
	assert_int_equal(nnreg_fit(m, X1, y1, N, &o, &res, &err), 0);
	assert_true(res.best_loss < 0.2);
	nn_free(m);
	/* a non-finite target is refused */
	y1[3] = NAN;
	m = nn_create(&s, 2, &err);
	assert_int_equal(nnreg_fit(m, X1, y1, N, &o, &res, &err), EX_DATAERR);
	nn_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_curves_by_hand),
		cmocka_unit_test(test_calibration_by_hand),
		cmocka_unit_test(test_calibration_pseudo),
		cmocka_unit_test(test_ate_smd),
		cmocka_unit_test(test_ridge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
