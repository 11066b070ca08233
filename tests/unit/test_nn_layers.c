/* Unit tests for the operators of src/nn/nn_layers.c. Each operator's backward pass is
 * checked against central finite differences of L = sum_i c_i Y_i (c random, fixed), so the
 * analytic gradient fed dY = c must equal dL/d(input). The differences are taken in double
 * around the float32 forward; the step actually representable in float is used as the
 * denominator. Tolerances are stated per test as the maximum of
 * |a - b| / max(1e-3, |a| + |b|). Closed forms are checked beside them: layer norm output
 * moments, attention rows summing to 1, GELU values, cross-entropy values and gradients. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/nn/nn.h"
#include "../../src/nn/nn_layers.h"

/* These tests compare float results with references computed in double on purpose. */
#pragma GCC diagnostic ignored "-Wdouble-promotion"

typedef void (*fwd_fn)(void *ctx);

/* Max relative error between analytic[i] and d/dv[i] of sum c . Y, Y recomputed by fwd. */
static double fd_check(fwd_fn fwd, void *ctx, float *v, size_t len, const float *analytic,
		       const float *Y, size_t ylen, const float *c, double eps)
{
	double worst = 0.0;
	for (size_t i = 0; i < len; i++) {
		float save = v[i];
		float up = (float)((double)save + eps), dn = (float)((double)save - eps);
		double lu = 0.0, ld = 0.0;
		v[i] = up;
		fwd(ctx);
		for (size_t j = 0; j < ylen; j++)
			lu += (double)c[j] * (double)Y[j];
		v[i] = dn;
		fwd(ctx);
		for (size_t j = 0; j < ylen; j++)
			ld += (double)c[j] * (double)Y[j];
		v[i] = save;
		double num = (lu - ld) / ((double)up - (double)dn), a = analytic[i];
		double den = fabs(a) + fabs(num);
		double e = fabs(a - num) / (den > 1e-3 ? den : 1e-3);
		worst = e > worst ? e : worst;
	}
	fwd(ctx);
	return worst;
}

static float *rnd(lm_rng *r, size_t n, double sd)
{
	float *x = malloc(n * sizeof *x);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(sd * rng_normal(r));
	return x;
}

static float *zeros(size_t n)
{
	return calloc(n, sizeof(float));
}

/* ---- linear ---- */
typedef struct {
	int n, in, out;
	float *X, *W, *b, *Y;
} lin_ctx;

static void lin_fwd(void *p)
{
	lin_ctx *c = p;
	nn_op_linear(NN_FWD, c->n, c->in, c->out, c->X, c->W, c->b, c->Y, 0, NULL, NULL, 0, NULL,
		     NULL);
}

/* Linear is exactly linear in each argument: the difference quotient is exact up to float
 * rounding of Y (~1e-7 relative over eps 1e-2 -> 1e-5); tolerance 1e-3. */
static void test_linear(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 1);
	lin_ctx c = {3, 4, 5, NULL, NULL, NULL, NULL};
	c.X = rnd(&r, 12, 1), c.W = rnd(&r, 20, 1), c.b = rnd(&r, 5, 1), c.Y = zeros(15);
	float *cc = rnd(&r, 15, 1), *dX = zeros(12), *dW = zeros(20), *db = zeros(5);
	lin_fwd(&c);
	/* Y[0][0] by hand */
	double y00 = c.b[0];
	for (int k = 0; k < 4; k++)
		y00 += (double)c.X[k] * (double)c.W[k * 5];
	assert_float_equal(c.Y[0], y00, 1e-5);
	nn_op_linear(NN_BWD, 3, 4, 5, c.X, c.W, c.b, NULL, 0, cc, dX, 0, dW, db);
	assert_true(fd_check(lin_fwd, &c, c.X, 12, dX, c.Y, 15, cc, 1e-2) < 1e-3);
	assert_true(fd_check(lin_fwd, &c, c.W, 20, dW, c.Y, 15, cc, 1e-2) < 1e-3);
	assert_true(fd_check(lin_fwd, &c, c.b, 5, db, c.Y, 15, cc, 1e-2) < 1e-3);
	/* Accumulation: a second backward doubles dW and db; acc_dx adds to dX. */
	float w0 = dW[7], b0 = db[2], x0 = dX[5];
	nn_op_linear(NN_BWD, 3, 4, 5, c.X, c.W, c.b, NULL, 0, cc, dX, 1, dW, db);
	assert_float_equal(dW[7], 2 * w0, 1e-5);
	assert_float_equal(db[2], 2 * b0, 1e-5);
	assert_float_equal(dX[5], 2 * x0, 1e-5);
	/* acc_y adds to what Y held. */
	float y1 = c.Y[4];
	nn_op_linear(NN_FWD, 3, 4, 5, c.X, c.W, c.b, c.Y, 1, NULL, NULL, 0, NULL, NULL);
	assert_float_equal(c.Y[4], 2 * y1, 1e-5);
	free(c.X), free(c.W), free(c.b), free(c.Y), free(cc), free(dX), free(dW), free(db);
}

/* ---- relu and the fused bias + relu + dropout ---- */
typedef struct {
	size_t len;
	float *X, *Y;
} ew_ctx;

static void relu_fwd(void *p)
{
	ew_ctx *c = p;
	nn_op_relu(NN_FWD, c->len, c->X, c->Y, NULL, NULL);
}

static void gelu_fwd(void *p)
{
	ew_ctx *c = p;
	nn_op_gelu(NN_FWD, c->len, c->X, c->Y, NULL, NULL);
}

/* Inputs kept at least 0.1 away from the kink; with eps 1e-2 ReLU is then exactly linear on
 * each side: tolerance 1e-3. */
static void test_relu(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 2);
	ew_ctx c = {20, rnd(&r, 20, 1), zeros(20)};
	for (int i = 0; i < 20; i++)
		c.X[i] += c.X[i] >= 0 ? 0.1f : -0.1f;
	float *cc = rnd(&r, 20, 1), *dX = zeros(20);
	relu_fwd(&c);
	for (int i = 0; i < 20; i++)
		assert_float_equal(c.Y[i], c.X[i] > 0 ? c.X[i] : 0.0f, 0.0);
	nn_op_relu(NN_BWD, 20, c.X, c.Y, cc, dX);
	assert_true(fd_check(relu_fwd, &c, c.X, 20, dX, c.Y, 20, cc, 1e-2) < 1e-3);
	free(c.X), free(c.Y), free(cc), free(dX);
}

typedef struct {
	int n, w;
	float *Z0, *Z, *b, *mask;
} brd_ctx;

static void brd_fwd(void *p)
{
	brd_ctx *c = p;
	memcpy(c->Z, c->Z0, (size_t)c->n * c->w * sizeof *c->Z);
	nn_op_bias_relu_dropout(NN_FWD, c->n, c->w, c->Z, c->b, c->mask, NULL, NULL, NULL);
}

/* Same reasoning as ReLU (pre-activations kept 0.1 from the kink; the mask is fixed):
 * tolerance 1e-3, for the pre-activation and the bias. */
static void test_bias_relu_dropout(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 3);
	brd_ctx c = {4, 6, rnd(&r, 24, 1), zeros(24), zeros(6), zeros(24)};
	nn_dropout_mask(24, 0.3f, &r, c.mask);
	for (int i = 0; i < 24; i++) /* Z0 + b away from 0 with b = 0 */
		c.Z0[i] += c.Z0[i] >= 0 ? 0.1f : -0.1f;
	float *cc = rnd(&r, 24, 1), *dZ = zeros(24), *db = zeros(6);
	brd_fwd(&c);
	for (int i = 0; i < 24; i++)
		assert_float_equal(c.Z[i], (c.Z0[i] > 0 ? c.Z0[i] : 0.0f) * c.mask[i], 1e-6);
	nn_op_bias_relu_dropout(NN_BWD, 4, 6, c.Z, NULL, c.mask, cc, dZ, db);
	assert_true(fd_check(brd_fwd, &c, c.Z0, 24, dZ, c.Z, 24, cc, 1e-2) < 1e-3);
	assert_true(fd_check(brd_fwd, &c, c.b, 6, db, c.Z, 24, cc, 1e-3) < 1e-2);
	/* In place, as the MLP uses it: dZ == dY. */
	memcpy(dZ, cc, sizeof(float) * 24);
	nn_op_bias_relu_dropout(NN_BWD, 4, 6, c.Z, NULL, c.mask, dZ, dZ, NULL);
	for (int i = 0; i < 24; i++)
		assert_float_equal(dZ[i], c.Z[i] > 0 ? cc[i] * c.mask[i] : 0.0f, 1e-6);
	free(c.Z0), free(c.Z), free(c.b), free(c.mask), free(cc), free(dZ), free(db);
}

/* GELU, tanh form. Values: 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) evaluated in double
 * with libm's tanh (GELU(1) = 0.841192, GELU(-1) = -0.158808). Gradient: smooth, eps 1e-2,
 * truncation O(eps^2) ~ 1e-4: tolerance 1e-2 (float32 tanh through expf adds ~1e-6). */
static void test_gelu(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 4);
	ew_ctx c = {30, rnd(&r, 30, 2), zeros(30)};
	float *cc = rnd(&r, 30, 1), *dX = zeros(30);
	gelu_fwd(&c);
	for (int i = 0; i < 30; i++) {
		double x = c.X[i];
		double want = 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
		assert_float_equal(c.Y[i], want, 1e-5);
	}
	float one = 1.0f, m1 = -1.0f, g1, gm1;
	nn_op_gelu(NN_FWD, 1, &one, &g1, NULL, NULL);
	nn_op_gelu(NN_FWD, 1, &m1, &gm1, NULL, NULL);
	assert_float_equal(g1, 0.841192, 1e-5);
	assert_float_equal(gm1, -0.158808, 1e-5);
	nn_op_gelu(NN_BWD, 30, c.X, NULL, cc, dX);
	assert_true(fd_check(gelu_fwd, &c, c.X, 30, dX, c.Y, 30, cc, 1e-2) < 1e-2);
	/* tails: no NaN from exp overflow */
	float big[2] = {60.0f, -60.0f}, out[2], gin[2] = {1, 1}, gout[2];
	nn_op_gelu(NN_FWD, 2, big, out, NULL, NULL);
	nn_op_gelu(NN_BWD, 2, big, NULL, gin, gout);
	assert_float_equal(out[0], 60.0f, 1e-5);
	assert_float_equal(out[1], 0.0f, 1e-5);
	assert_float_equal(gout[0], 1.0f, 1e-5);
	assert_float_equal(gout[1], 0.0f, 1e-5);
	free(c.X), free(c.Y), free(cc), free(dX);
}

/* ---- dropout ---- */
typedef struct {
	size_t len;
	float p;
	float *X, *Y, *mask;
} drop_ctx;

static void drop_fwd(void *p)
{
	drop_ctx *c = p;
	lm_rng r;
	rng_seed(&r, 99); /* same mask on every call: the finite difference sees one function */
	nn_op_dropout(NN_FWD, c->len, c->p, &r, c->mask, c->X, c->Y, NULL, NULL);
}

/* Dropout is linear for a fixed mask: tolerance 1e-3. Its statistics: over 100,000 draws
 * the dropped share is p within 5 standard errors (sd = sqrt(p(1-p)/n) = 0.0014 at p = 0.3),
 * kept units are scaled by 1/(1-p), and evaluation is the identity. */
static void test_dropout(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 5);
	drop_ctx c = {16, 0.25f, rnd(&r, 16, 1), zeros(16), zeros(16)};
	float *cc = rnd(&r, 16, 1), *dX = zeros(16);
	drop_fwd(&c);
	nn_op_dropout(NN_BWD, 16, c.p, NULL, c.mask, NULL, NULL, cc, dX);
	assert_true(fd_check(drop_fwd, &c, c.X, 16, dX, c.Y, 16, cc, 1e-2) < 1e-3);
	size_t n = 100000;
	float *mask = zeros(n);
	nn_dropout_mask(n, 0.3f, &r, mask);
	size_t dropped = 0;
	for (size_t i = 0; i < n; i++) {
		if (mask[i] == 0.0f)
			dropped++;
		else
			assert_float_equal(mask[i], 1.0 / 0.7, 1e-6);
	}
	assert_true(fabs((double)dropped / (double)n - 0.3) < 5 * 0.00145);
	float x[3] = {1, 2, 3}, y[3];
	nn_op_dropout(NN_FWD, 3, 0.5f, NULL, NULL, x, y, NULL, NULL);
	assert_memory_equal(x, y, sizeof x);
	nn_op_dropout(NN_BWD, 3, 0.5f, NULL, NULL, NULL, NULL, x, y);
	assert_memory_equal(x, y, sizeof x);
	free(c.X), free(c.Y), free(c.mask), free(cc), free(dX), free(mask);
}

/* ---- layer norm ---- */
typedef struct {
	int n, d;
	float *X, *g, *b, *Y, *mean, *rstd;
} ln_ctx;

static void ln_fwd(void *p)
{
	ln_ctx *c = p;
	nn_op_layernorm(NN_FWD, c->n, c->d, c->X, c->g, c->b, c->Y, c->mean, c->rstd, NULL, NULL, 0,
			NULL, NULL);
}

/* Output moments: with g = 1, b = 0 each row has mean 0 and (biased) variance
 * var/(var + 1e-5) ~ 1 (inputs of sd 2: within 1e-5 of 1, float sums: 1e-4). Gradients:
 * smooth, eps 1e-2 on values of sd 2 (var ~ 4): truncation ~1e-5 relative; the rows'
 * normalisation makes some gradient entries nearly cancel, so the float noise relative to
 * them is larger: tolerance 1e-2. */
static void test_layernorm(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 6);
	int n = 3, d = 8;
	ln_ctx c = {n, d, rnd(&r, 24, 2), zeros(8), zeros(8), zeros(24), zeros(3), zeros(3)};
	for (int j = 0; j < d; j++)
		c.g[j] = 1.0f;
	ln_fwd(&c);
	for (int i = 0; i < n; i++) {
		double mu = 0, var = 0;
		for (int j = 0; j < d; j++)
			mu += c.Y[i * d + j];
		mu /= d;
		for (int j = 0; j < d; j++)
			var += (c.Y[i * d + j] - mu) * (c.Y[i * d + j] - mu);
		var /= d;
		assert_float_equal(mu, 0.0, 1e-6);
		assert_float_equal(var, 1.0, 1e-4);
	}
	for (int j = 0; j < d; j++) {
		c.g[j] = (float)(1 + 0.3 * rng_normal(&r));
		c.b[j] = (float)(0.3 * rng_normal(&r));
	}
	ln_fwd(&c);
	float *cc = rnd(&r, 24, 1), *dX = zeros(24), *dg = zeros(8), *db = zeros(8);
	nn_op_layernorm(NN_BWD, n, d, c.X, c.g, NULL, NULL, c.mean, c.rstd, cc, dX, 0, dg, db);
	assert_true(fd_check(ln_fwd, &c, c.X, 24, dX, c.Y, 24, cc, 1e-2) < 1e-2);
	assert_true(fd_check(ln_fwd, &c, c.g, 8, dg, c.Y, 24, cc, 1e-2) < 1e-3);
	assert_true(fd_check(ln_fwd, &c, c.b, 8, db, c.Y, 24, cc, 1e-2) < 1e-3);
	/* acc_dx adds */
	float x0 = dX[3];
	nn_op_layernorm(NN_BWD, n, d, c.X, c.g, NULL, NULL, c.mean, c.rstd, cc, dX, 1, NULL, NULL);
	assert_float_equal(dX[3], 2 * x0, 1e-5);
	free(c.X), free(c.g), free(c.b), free(c.Y), free(c.mean), free(c.rstd);
	free(cc), free(dX), free(dg), free(db);
}

/* ---- feature tokens ---- */
typedef struct {
	int n, n_in, n_tok, d;
	const int *map;
	float *X, *W, *B, *cls, *Y;
} tok_ctx;

static void tok_fwd(void *p)
{
	tok_ctx *c = p;
	nn_op_tokens(NN_FWD, c->n, c->n_in, c->n_tok, c->d, c->map, c->X, c->W, c->B, c->cls, c->Y,
		     NULL, NULL, NULL, NULL, NULL);
}

/* Linear in every argument: tolerance 1e-3. Plus a hand-worked token: slots 0 and 1 both
 * feed token 0 (a value and its missing indicator), so token 0 = B0 + x0 W0 + x1 W1. */
static void test_tokens(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 7);
	int map[4] = {0, 0, 1, 2};
	int n = 2, n_in = 4, n_tok = 3, d = 3, T = 4;
	tok_ctx c = {n, n_in, n_tok, d, map, rnd(&r, 8, 1), rnd(&r, 12, 1), rnd(&r, 9, 1),
		     rnd(&r, 3, 1), zeros((size_t)n * T * d)};
	size_t ylen = (size_t)n * T * d;
	tok_fwd(&c);
	for (int j = 0; j < d; j++) {
		assert_float_equal(c.Y[j], c.cls[j], 0.0);
		double want = c.B[j] + c.X[0] * c.W[j] + c.X[1] * c.W[d + j];
		assert_float_equal(c.Y[d + j], want, 1e-6);
	}
	float *cc = rnd(&r, ylen, 1), *dX = zeros(8), *dW = zeros(12), *dB = zeros(9),
	      *dcls = zeros(3);
	nn_op_tokens(NN_BWD, n, n_in, n_tok, d, map, c.X, c.W, NULL, NULL, NULL, cc, dX, dW, dB,
		     dcls);
	assert_true(fd_check(tok_fwd, &c, c.X, 8, dX, c.Y, ylen, cc, 1e-2) < 1e-3);
	assert_true(fd_check(tok_fwd, &c, c.W, 12, dW, c.Y, ylen, cc, 1e-2) < 1e-3);
	assert_true(fd_check(tok_fwd, &c, c.B, 9, dB, c.Y, ylen, cc, 1e-2) < 1e-3);
	assert_true(fd_check(tok_fwd, &c, c.cls, 3, dcls, c.Y, ylen, cc, 1e-2) < 1e-3);
	free(c.X), free(c.W), free(c.B), free(c.cls), free(c.Y);
	free(cc), free(dX), free(dW), free(dB), free(dcls);
}

/* ---- attention ---- */
typedef struct {
	int n, T, d, H;
	float *QKV, *P, *O, *scratch;
} att_ctx;

static void att_fwd(void *p)
{
	att_ctx *c = p;
	nn_op_attention(NN_FWD, c->n, c->T, c->d, c->H, c->QKV, c->P, c->O, NULL, NULL, c->scratch);
}

/* Smooth (softmax of bilinear forms), eps 1e-2 on values of sd 1: tolerance 1e-2. Rows of P
 * sum to 1 (float: 1e-6). Hand case: keys all equal -> uniform attention, O = mean of V. */
static void test_attention(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 8);
	int n = 2, T = 3, d = 4, H = 2;
	size_t nq = (size_t)n * T * 3 * d, np = (size_t)n * H * T * T, no = (size_t)n * T * d;
	att_ctx c = {n, T, d, H, rnd(&r, nq, 1), zeros(np), zeros(no),
		     zeros(nn_attention_scratch(T, d / H))};
	att_fwd(&c);
	for (size_t row = 0; row < (size_t)n * H * T; row++) {
		double s = 0;
		for (int j = 0; j < T; j++) {
			assert_true(c.P[row * T + j] > 0.0f);
			s += c.P[row * T + j];
		}
		assert_float_equal(s, 1.0, 1e-6);
	}
	/* P[0][0][0][1] by hand: softmax over j of q0 . k_j / sqrt(2), head 0 = columns 0..1 */
	double sc[3], mx = -1e30, sum = 0;
	for (int j = 0; j < T; j++) {
		const float *q = c.QKV, *k = c.QKV + (size_t)j * 3 * d + d;
		sc[j] = ((double)q[0] * k[0] + (double)q[1] * k[1]) / sqrt(2.0);
		mx = sc[j] > mx ? sc[j] : mx;
	}
	for (int j = 0; j < T; j++)
		sum += exp(sc[j] - mx);
	assert_float_equal(c.P[1], exp(sc[1] - mx) / sum, 1e-6);
	float *cc = rnd(&r, no, 1), *dQKV = zeros(nq);
	nn_op_attention(NN_BWD, n, T, d, H, c.QKV, c.P, NULL, cc, dQKV, c.scratch);
	assert_true(fd_check(att_fwd, &c, c.QKV, nq, dQKV, c.O, no, cc, 1e-2) < 1e-2);
	/* equal keys: uniform weights, output the mean of the values */
	for (int t = 0; t < T; t++)
		for (int j = 0; j < d; j++)
			c.QKV[(size_t)t * 3 * d + d + j] = 0.5f;
	att_fwd(&c);
	for (int j = 0; j < T; j++)
		assert_float_equal(c.P[j], 1.0 / 3.0, 1e-6);
	double vmean = 0;
	for (int t = 0; t < T; t++)
		vmean += c.QKV[(size_t)t * 3 * d + 2 * d] / 3.0;
	assert_float_equal(c.O[0], vmean, 1e-6);
	free(c.QKV), free(c.P), free(c.O), free(c.scratch), free(cc), free(dQKV);
}

/* ---- losses ---- */

/* Closed forms: bce(z = 0) = log 2 for either label; bce(z = 2, y = 1) = log(1 + e^-2);
 * gradient sigmoid(z) - y (weighted). Softmax CE gradient = p - onehot; for z = (1, 2, 3),
 * y = 2 the loss is log(e + e^2 + e^3) - 3 = 0.407606 (worked by hand). Finite differences
 * of the returned loss (double) against dz: tolerance 1e-3. */
static void test_losses(void **state)
{
	(void)state;
	float z[3] = {0.0f, 2.0f, -1.5f}, y[3] = {1, 1, 0}, dz[3], w[2] = {1.0f, 3.0f};
	double l = nn_op_bce(1, z, y, NULL, 1.0f, dz);
	assert_float_equal(l, log(2.0), 1e-9);
	assert_float_equal(dz[0], -0.5, 1e-7);
	l = nn_op_bce(3, z, y, w, 1.0f, dz);
	double want = 3 * log(2.0) + 3 * log1p(exp(-2.0)) + 1 * log1p(exp(-1.5));
	assert_float_equal(l, want, 1e-6);
	assert_float_equal(dz[1], 3 * (1 / (1 + exp(-2.0)) - 1), 1e-6);
	assert_float_equal(dz[2], 1 / (1 + exp(1.5)), 1e-6);
	/* extreme logits stay finite */
	float zb[2] = {80.0f, -80.0f}, yb[2] = {0, 1};
	l = nn_op_bce(2, zb, yb, NULL, 1.0f, dz);
	assert_float_equal(l, 160.0, 1e-6);

	float zs[6] = {1, 2, 3, 0.5f, -1, 0.2f}, ys[2] = {2, 0}, ds[6], wc[3] = {2.0f, 1.0f, 0.5f};
	l = nn_op_softmax_ce(1, 3, zs, ys, NULL, 1.0f, ds);
	assert_float_equal(l, 0.407606, 1e-6);
	double s = exp(1.0) + exp(2.0) + exp(3.0);
	assert_float_equal(ds[0], exp(1.0) / s, 1e-6);
	assert_float_equal(ds[2], exp(3.0) / s - 1, 1e-6);
	/* finite differences through the weighted two-row loss */
	nn_op_softmax_ce(2, 3, zs, ys, wc, 0.5f, ds);
	for (int i = 0; i < 6; i++) {
		float save = zs[i];
		zs[i] = save + 1e-2f;
		double lu = 0.5 * nn_op_softmax_ce(2, 3, zs, ys, wc, 1.0f, NULL);
		zs[i] = save - 1e-2f;
		double ld = 0.5 * nn_op_softmax_ce(2, 3, zs, ys, wc, 1.0f, NULL);
		zs[i] = save;
		double num = (lu - ld) / (2e-2);
		assert_true(fabs(num - ds[i]) / fmax(1e-3, fabs(num) + fabs(ds[i])) < 1e-3);
	}
	float zz[3] = {0.3f, -0.2f, 1.1f}, yy[3] = {0, 1, 1}, dd[3];
	nn_op_bce(3, zz, yy, w, 1.0f / 3, dd);
	for (int i = 0; i < 3; i++) {
		float save = zz[i];
		zz[i] = save + 1e-2f;
		double lu = nn_op_bce(3, zz, yy, w, 1.0f, NULL) / 3;
		zz[i] = save - 1e-2f;
		double ld = nn_op_bce(3, zz, yy, w, 1.0f, NULL) / 3;
		zz[i] = save;
		double num = (lu - ld) / (2e-2);
		assert_true(fabs(num - dd[i]) / fmax(1e-3, fabs(num) + fabs(dd[i])) < 1e-3);
	}
}

/* nn_sgemm counts 2 M N K flops per call and honours transposes (hand-worked 2 x 2). */
static void test_sgemm(void **state)
{
	(void)state;
	float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8}, C[4];
	double f0 = nn_flops();
	nn_sgemm(0, 0, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
	assert_float_equal(C[0], 19, 0);
	assert_float_equal(C[3], 50, 0);
	nn_sgemm(1, 1, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2); /* A^T B^T = (BA)^T */
	assert_float_equal(C[0], 23, 0);
	assert_float_equal(C[1], 31, 0);
	assert_float_equal(C[2], 34, 0);
	assert_float_equal(nn_flops() - f0, 32.0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linear),    cmocka_unit_test(test_relu),
		cmocka_unit_test(test_bias_relu_dropout), cmocka_unit_test(test_gelu),
		cmocka_unit_test(test_dropout),   cmocka_unit_test(test_layernorm),
		cmocka_unit_test(test_tokens),    cmocka_unit_test(test_attention),
		cmocka_unit_test(test_losses),    cmocka_unit_test(test_sgemm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
