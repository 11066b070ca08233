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

/* These tests compare float results with references computed in double on purpose. */
#pragma GCC diagnostic ignored "-Wdouble-promotion"

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

/* Closed form: for logreg with the mean BCE loss and penalty 0.5 l2 |w|^2, the gradient is
 * X^T (sigmoid(X w + b) - y) / n + l2 w and db = mean(sigmoid(X w + b) - y); dX = (p - y) w^T / n.
 * Computed here in double: agreement to 1e-5 (float32 sums of 8 terms). */
static void test_logreg_closed_form(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 3);
	int n = 8, k = 3;
	nn_spec s;
	nn_spec_defaults(&s, NN_LOGREG, k, 1);
	s.l2 = 0.05f;
	lm_err err = {0};
	nn_model *m = nn_create(&s, 1, &err);
	float *w = nn_tensor_data(m, 0), *b = nn_tensor_data(m, 1);
	assert_string_equal(nn_tensor_name(m, 0), "w");
	for (int j = 0; j < k; j++)
		w[j] = (float)rng_normal(&r);
	b[0] = 0.3f;
	float *X = random_matrix(&r, n, k, 1.0), *y = random_labels(&r, n, 2);
	float logits[8], dl[8], dX[24];
	nn_zero_grad(m);
	nn_forward(m, X, n, logits, 0, NULL);
	double loss = nn_loss(m, logits, y, n, NULL, dl);
	nn_backward(m, dl, dX, 1);
	double gw[3] = {0, 0, 0}, gb = 0, want_loss = 0;
	for (int i = 0; i < n; i++) {
		double z = b[0];
		for (int j = 0; j < k; j++)
			z += (double)X[i * k + j] * (double)w[j];
		double p = 1 / (1 + exp(-z)), e = p - (double)y[i];
		want_loss += -((double)y[i] * log(p) + (1 - (double)y[i]) * log(1 - p)) / n;
		for (int j = 0; j < k; j++) {
			gw[j] += (double)X[i * k + j] * e / n;
			assert_float_equal(dX[i * k + j], e * (double)w[j] / n, 1e-6);
		}
		gb += e / n;
	}
	for (int j = 0; j < k; j++) {
		want_loss += 0.5 * 0.05 * (double)w[j] * (double)w[j];
		assert_float_equal(nn_grads(m)[j], gw[j] + 0.05 * (double)w[j], 1e-5);
	}
	assert_float_equal(nn_grads(m)[k], gb, 1e-6);
	assert_float_equal(loss, want_loss, 1e-5);
	free(X);
	free(y);
	nn_free(m);
}

static nn_model *small_transformer(int n_in, int n_out)
{
	nn_spec s;
	nn_spec_defaults(&s, NN_TRANSFORMER, n_in, n_out);
	s.d_model = 8;
	s.n_heads = 2;
	s.d_ffn = 12;
	lm_err err = {0};
	return nn_create(&s, 5, &err);
}

/* The attention maps of the last evaluation: n * H * T * T, rows summing to 1 (float: 1e-5),
 * NULL for other architectures and out-of-range blocks. */
static void test_attention_maps(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 4);
	nn_model *m = small_transformer(4, 1);
	assert_null(nn_attention(m, 0)); /* before any forward */
	float *X = random_matrix(&r, 5, 4, 1.0), logits[5];
	nn_forward(m, X, 5, logits, 0, NULL);
	for (int b = 0; b < 2; b++) {
		const float *P = nn_attention(m, b);
		assert_non_null(P);
		for (int row = 0; row < 5 * 2 * 5; row++) {
			double sum = 0;
			for (int j = 0; j < 5; j++)
				sum += (double)P[row * 5 + j];
			assert_float_equal(sum, 1.0, 1e-5);
		}
	}
	assert_null(nn_attention(m, 2));
	nn_spec s;
	nn_spec_defaults(&s, NN_MLP, 4, 1);
	lm_err err = {0};
	nn_model *mlp = nn_create(&s, 1, &err);
	nn_forward(mlp, X, 5, logits, 0, NULL);
	assert_null(nn_attention(mlp, 0));
	free(X);
	nn_free(m);
	nn_free(mlp);
}

/* Explanations run many rows at once and skip weight gradients: the batched forward must equal
 * row-by-row forwards (1e-5), want_param_grads = 0 must leave the gradient buffer untouched
 * and give the same dX as a full backward. Checked for every architecture. */
static void test_batched_and_input_grads(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 5);
	int n = 70, k = 6;
	float *X = random_matrix(&r, n, k, 1.0);
	float *big = malloc(n * sizeof *big), one[1], *ones = malloc(n * sizeof *ones);
	float *dX1 = malloc((size_t)n * k * sizeof *dX1), *dX2 = malloc((size_t)n * k * sizeof *dX2);
	for (int i = 0; i < n; i++)
		ones[i] = 1.0f;
	for (int a = 0; a < 3; a++) {
		nn_model *m;
		if (a == 2) {
			m = small_transformer(k, 1);
		} else {
			nn_spec s;
			nn_spec_defaults(&s, a == 0 ? NN_LOGREG : NN_MLP, k, 1);
			lm_err err = {0};
			m = nn_create(&s, 9, &err);
			float *p = nn_params(m);
			for (size_t i = 0; i < nn_nparams(m); i++)
				p[i] += (float)(0.1 * rng_normal(&r));
		}
		nn_forward(m, X, n, big, 0, NULL);
		for (int i = 0; i < n; i += 7) {
			nn_forward(m, X + (size_t)i * k, 1, one, 0, NULL);
			assert_float_equal(one[0], big[i], 1e-5);
		}
		nn_zero_grad(m);
		nn_forward(m, X, n, big, 0, NULL);
		nn_backward(m, ones, dX1, 0);
		for (size_t i = 0; i < nn_nparams(m); i++)
			assert_true(nn_grads(m)[i] == 0.0f);
		nn_backward(m, ones, dX2, 1);
		assert_memory_equal(dX1, dX2, (size_t)n * k * sizeof *dX1);
		nn_free(m);
	}
	free(X), free(big), free(ones), free(dX1), free(dX2);
}

/* Specs that cannot work are refused with a message; tensor names and shapes are as
 * documented in nn.h. */
static void test_spec_checks(void **state)
{
	(void)state;
	nn_spec s;
	lm_err err = {0};
	nn_spec_defaults(&s, NN_TRANSFORMER, 4, 1);
	s.n_heads = 3; /* 32 is not a multiple of 3 */
	assert_null(nn_create(&s, 1, &err));
	assert_int_equal(err.status, EX_DATAERR);
	assert_non_null(strstr(err.msg, "heads"));
	int map[4] = {0, 1, 2, 5};
	nn_spec_defaults(&s, NN_TRANSFORMER, 4, 1);
	s.n_tokens = 3;
	s.slot_token = map;
	assert_null(nn_create(&s, 1, &err));
	assert_non_null(strstr(err.msg, "slot 3 maps to token 5"));
	nn_spec_defaults(&s, NN_MLP, 4, 1);
	s.n_hidden = 0;
	assert_null(nn_create(&s, 1, &err));
	nn_spec_defaults(&s, NN_MLP, 0, 1);
	assert_null(nn_create(&s, 1, &err));
	assert_int_equal(nn_arch_parse("mlp"), NN_MLP);
	assert_int_equal(nn_arch_parse("lstm"), -1);
	assert_string_equal(nn_arch_name(NN_TRANSFORMER), "transformer");

	map[3] = 2;
	nn_spec_defaults(&s, NN_TRANSFORMER, 4, 3);
	s.n_tokens = 3;
	s.slot_token = map;
	nn_model *m = nn_create(&s, 1, &err);
	assert_non_null(m);
	map[0] = 99; /* the model keeps its own copy */
	assert_int_equal(nn_get_spec(m)->slot_token[0], 0);
	int shape[4], found = 0;
	size_t total = 0;
	for (int i = 0; i < nn_ntensors(m); i++) {
		total += nn_tensor_size(m, i);
		if (!strcmp(nn_tensor_name(m, i), "blocks.1.attn.wqkv")) {
			assert_int_equal(nn_tensor_shape(m, i, shape), 2);
			assert_int_equal(shape[0], 32);
			assert_int_equal(shape[1], 96);
			found = 1;
		}
		if (!strcmp(nn_tensor_name(m, i), "tokens.b")) {
			nn_tensor_shape(m, i, shape);
			assert_int_equal(shape[0], 3);
		}
	}
	assert_true(found);
	assert_int_equal(total, nn_nparams(m));
	/* 4*32 + 3*32 + 32 tokens; per block 2*32 + 32*96 + 96 + 32*32 + 32 + 2*32 + 32*64 + 64 +
	 * 64*32 + 32 = 8,544; head 64 + 32*3 + 3 */
	assert_int_equal(nn_nparams(m), 256 + 2 * 8544 + 163);
	nn_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grad_logreg),
		cmocka_unit_test(test_grad_mlp),
		cmocka_unit_test(test_grad_transformer),
		cmocka_unit_test(test_logreg_closed_form),
		cmocka_unit_test(test_attention_maps),
		cmocka_unit_test(test_batched_and_input_grads),
		cmocka_unit_test(test_spec_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
