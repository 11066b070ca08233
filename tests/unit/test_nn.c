/* Unit tests for the engine's models (src/nn/nn.c): whole-model finite-difference gradient
 * checks (parameters and inputs), closed forms for logreg, attention probabilities, the
 * spec checks, batched evaluation, and skipping weight gradients. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/nn/nn.h"

static float *random_matrix(lm_rng *r, int n, int w, double sd)
{
	float *x = malloc((size_t)n * w * sizeof *x);
	for (int i = 0; i < n * w; i++)
		x[i] = (float)(sd * rng_normal(r));
	return x;
}

static float *random_labels(lm_rng *r, int n, int nclass)
{
	float *y = malloc((size_t)n * sizeof *y);
	for (int i = 0; i < n; i++)
		y[i] = (float)(i < nclass ? i : (int)rng_below(r, (uint64_t)nclass));
	return y;
}

/* Whole-model checks: float32 model, central differences in double with eps = 1e-2 on the
 * parameters and inputs (values of order 0.1..1). Float rounding of a loss near 0.7 is about
 * 1e-7, so the difference quotient carries ~1e-5 of noise; the truncation error is
 * O(eps^2 f''') ~ 1e-4. A relative error (|a-b|/max(1e-3,|a|+|b|)) under 2e-2 therefore
 * means the backward pass is right; a wrong term gives errors of order 1. ReLU kinks are
 * the one source of genuine disagreement, so the MLP uses inputs where no unit sits within
 * eps of 0 with high probability (a small batch, and we accept 5e-2 there). */
static void check_model(nn_spec *s, int n, int nclass, double tol)
{
	lm_rng r;
	rng_seed(&r, 7);
	lm_err err = {0};
	nn_model *m = nn_create(s, 11, &err);
	assert_non_null(m);
	/* Non-trivial biases and layer-norm gains, so their gradients are exercised. */
	float *p = nn_params(m);
	for (size_t i = 0; i < nn_nparams(m); i++)
		if (p[i] == 0.0f || p[i] == 1.0f)
			p[i] += (float)(0.2 * rng_normal(&r));
	float *X = random_matrix(&r, n, s->n_in, 1.0);
	float *y = random_labels(&r, n, nclass);
	double e = nn_check_grad(m, X, y, n, 1e-2);
	print_message("# %s n_out=%d: max relative gradient error %.2e\n", nn_arch_name(s->arch),
		      s->n_out, e);
	assert_true(e < tol);
	free(X);
	free(y);
	nn_free(m);
}

static void test_grad_logreg(void **state)
{
	(void)state;
	nn_spec s;
	nn_spec_defaults(&s, NN_LOGREG, 5, 1);
	s.l2 = 0.1f;
	check_model(&s, 6, 2, 2e-2);
	nn_spec_defaults(&s, NN_LOGREG, 4, 3);
	check_model(&s, 6, 3, 2e-2);
}

static void test_grad_mlp(void **state)
{
	(void)state;
	nn_spec s;
	nn_spec_defaults(&s, NN_MLP, 4, 1);
	s.hidden[0] = 6;
	s.hidden[1] = 5;
	check_model(&s, 3, 2, 5e-2);
	nn_spec_defaults(&s, NN_MLP, 3, 3);
	s.n_hidden = 1;
	s.hidden[0] = 4;
	check_model(&s, 3, 3, 5e-2);
}

static void test_grad_transformer(void **state)
{
	(void)state;
	nn_spec s;
	/* 5 slots in 3 tokens: a numeric column with its missing indicator, a one-hot pair,
	 * a plain numeric. */
	int map[5] = {0, 0, 1, 1, 2};
	nn_spec_defaults(&s, NN_TRANSFORMER, 5, 1);
	s.d_model = 8;
	s.n_heads = 2;
	s.d_ffn = 6;
	s.n_tokens = 3;
	s.slot_token = map;
	check_model(&s, 3, 2, 2e-2);
	nn_spec_defaults(&s, NN_TRANSFORMER, 3, 3);
	s.d_model = 4;
	s.n_heads = 1;
	s.n_blocks = 1;
	s.d_ffn = 5;
	check_model(&s, 2, 3, 2e-2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grad_logreg),
		cmocka_unit_test(test_grad_mlp),
		cmocka_unit_test(test_grad_transformer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
