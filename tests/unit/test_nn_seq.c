/* Unit tests for the visit-sequence operators and models (src/nn/nn_seq.c): each operator's
 * backward against central differences in double, a GRU step against a hand-worked value,
 * whole-model gradient checks of gru, cnn and cnn-gru, padded steps changing nothing (garbage
 * in them, and more padding), and bit-identical training for a seed; the same for the
 * additive attention over visits (operator, a hand-worked case, its weight rule, gru and
 * cnn-gru with attention, and nn_path_grad for them: gru's own route, cnn-gru's rows). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/nn/nn.h"
#include "../../src/nn/nn_seq.h"

#pragma GCC diagnostic ignored "-Wdouble-promotion"

static float *rnd(lm_rng *r, size_t n, double sd)
{
	float *x = malloc(n * sizeof *x);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(sd * rng_normal(r));
	return x;
}

static double rel(double a, double b)
{
	double d = fabs(a) + fabs(b);
	return fabs(a - b) / (d > 1e-3 ? d : 1e-3);
}

/* ---- GRU operator ---- */

enum { GN = 3, GK = 4, GF = 2, GH = 3 };

typedef struct gru_case {
	float U[GK * GN * GF], M[GK * GN], W[GF * 3 * GH], b[3 * GH], Uh[GH * 3 * GH], bhn[GH];
	float wl[GN * GH]; /* loss = sum wl * h_K */
	float Gx[GK * GN * 3 * GH], Hs[(GK + 1) * GN * GH], Z[GK * GN * GH], R[GK * GN * GH],
		C[GK * GN * GH], Hn[GK * GN * GH], gh[GN * 3 * GH];
} gru_case;

static double gru_loss(gru_case *c)
{
	nn_op_gru(NN_FWD, GN, GK, GF, GH, c->U, c->M, c->W, c->b, c->Uh, c->bhn, c->Gx, c->Hs, c->Z,
		  c->R, c->C, c->Hn, c->gh, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		  NULL, NULL);
	double l = 0;
	for (int i = 0; i < GN * GH; i++)
		l += (double)c->wl[i] * c->Hs[GK * GN * GH + i];
	return l;
}

static double fd(gru_case *c, float *v)
{
	float s = *v, e = 1e-2f;
	*v = s + e;
	double up = gru_loss(c);
	*v = s - e;
	double dn = gru_loss(c);
	*v = s;
	return (up - dn) / (2.0 * e);
}

static void test_gru_op_grad(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 3);
	gru_case *c = calloc(1, sizeof *c);
	float *src[] = {c->U, c->W, c->b, c->Uh, c->bhn, c->wl};
	size_t len[] = {GK * GN * GF, GF * 3 * GH, 3 * GH, GH * 3 * GH, GH, GN * GH};
	for (int k = 0; k < 6; k++)
		for (size_t i = 0; i < len[k]; i++)
			src[k][i] = (float)(0.7 * rng_normal(&r));
	/* row 0 all visits, row 1 padding first then visits, row 2 a fractional mask (IG paths) */
	for (int t = 0; t < GK; t++) {
		c->M[t * GN + 0] = 1;
		c->M[t * GN + 1] = t >= 2;
		c->M[t * GN + 2] = 0.3f + 0.2f * t;
	}
	gru_loss(c);
	float dU[GK * GN * GF], dM[GK * GN], dW[GF * 3 * GH] = {0}, db[3 * GH] = {0},
	      dUh[GH * 3 * GH] = {0}, dbhn[GH] = {0}, dGx[GK * GN * 3 * GH], dh[GN * GH],
	      dgh[GN * 3 * GH];
	nn_op_gru(NN_BWD, GN, GK, GF, GH, c->U, c->M, c->W, c->b, c->Uh, c->bhn, c->Gx, c->Hs, c->Z,
		  c->R, c->C, c->Hn, c->gh, c->wl, NULL, dU, dM, dW, db, dUh, dbhn, dGx, dh, dgh);
	float *an[] = {dU, dW, db, dUh, dbhn, dM};
	float *par[] = {c->U, c->W, c->b, c->Uh, c->bhn, c->M};
	size_t pl[] = {GK * GN * GF, GF * 3 * GH, 3 * GH, GH * 3 * GH, GH, GK * GN};
	double worst = 0;
	for (int k = 0; k < 6; k++)
		for (size_t i = 0; i < pl[k]; i++) {
			double e = rel(an[k][i], fd(c, &par[k][i]));
			worst = e > worst ? e : worst;
		}
	print_message("# gru op: max relative error %.2e\n", worst);
	assert_true(worst < 2e-2);
	/* a padded step's input has no gradient */
	for (int f = 0; f < GF; f++)
		assert_true(dU[(0 * GN + 1) * GF + f] == 0.0f && dU[(1 * GN + 1) * GF + f] == 0.0f);
	free(c);
}

/* One step, one unit, by hand: z = s(0.5), r = s(-0.2), c = tanh(0.3 + 0.1 + r * 0.05),
 * h = (1 - z) c (h_0 = 0, so the recurrent product is 0 and Hn = bhn = 0.05). */
static void test_gru_hand(void **state)
{
	(void)state;
	float U[1] = {1.0f}, M[1] = {1.0f}, W[3] = {0.5f, -0.2f, 0.3f}, b[3] = {0, 0, 0.1f};
	float Uh[3] = {0.9f, 0.9f, 0.9f}, bhn[1] = {0.05f};
	float Gx[3], Hs[2], Z[1], R[1], C[1], Hn[1], gh[3];
	nn_op_gru(NN_FWD, 1, 1, 1, 1, U, M, W, b, Uh, bhn, Gx, Hs, Z, R, C, Hn, gh, NULL, NULL, NULL,
		  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	double z = 1 / (1 + exp(-0.5)), rr = 1 / (1 + exp(0.2)), cc = tanh(0.4 + rr * 0.05);
	assert_true(fabs(Hs[1] - (1 - z) * cc) < 1e-6);
	assert_true(fabs(Hs[1] - 0.1506544) < 1e-6); /* the same, worked out once */
	M[0] = 0.0f; /* a padded step keeps h_0 */
	nn_op_gru(NN_FWD, 1, 1, 1, 1, U, M, W, b, Uh, bhn, Gx, Hs, Z, R, C, Hn, gh, NULL, NULL, NULL,
		  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	assert_true(Hs[1] == 0.0f);
}

/* ---- convolution and pooling ---- */

enum { CN = 2, CK = 5, CF = 3, CC = 4, CW = 3 };

static double conv_loss(const float *X, const float *Wc, const float *bc, const float *wl)
{
	float P[CN * CK * CW * CF], Y[CN * CK * CC];
	nn_op_conv1d(NN_FWD, CN, CK, CF, CC, CW, X, Wc, bc, P, Y, NULL, NULL, NULL, NULL, NULL);
	double l = 0;
	for (int i = 0; i < CN * CK * CC; i++)
		l += (double)wl[i] * Y[i];
	return l;
}

static void test_conv_op_grad(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 5);
	float *X = rnd(&r, CN * CK * CF, 1), *Wc = rnd(&r, CW * CF * CC, 0.5), *bc = rnd(&r, CC, 0.5);
	float *wl = rnd(&r, CN * CK * CC, 1);
	float P[CN * CK * CW * CF], Y[CN * CK * CC], dX[CN * CK * CF], dW[CW * CF * CC] = {0},
	      db[CC] = {0}, dP[CN * CK * CW * CF];
	nn_op_conv1d(NN_FWD, CN, CK, CF, CC, CW, X, Wc, bc, P, Y, NULL, NULL, NULL, NULL, NULL);
	/* hand check of one output: row 1, step 0 sees the zero pad, steps 0 and 1 */
	double y = bc[2];
	for (int j = 1; j < 3; j++)
		for (int f = 0; f < CF; f++)
			y += (double)Wc[(j * CF + f) * CC + 2] * X[(1 * CK + j - 1) * CF + f];
	assert_true(fabs(Y[(1 * CK + 0) * CC + 2] - y) < 1e-5);
	nn_op_conv1d(NN_BWD, CN, CK, CF, CC, CW, NULL, Wc, NULL, P, NULL, wl, dX, dW, db, dP);
	float *par[] = {X, Wc, bc};
	float *an[] = {dX, dW, db};
	size_t pl[] = {CN * CK * CF, CW * CF * CC, CC};
	double worst = 0;
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < pl[k]; i++) {
			float s = par[k][i];
			par[k][i] = s + 1e-2f;
			double up = conv_loss(X, Wc, bc, wl);
			par[k][i] = s - 1e-2f;
			double dn = conv_loss(X, Wc, bc, wl);
			par[k][i] = s;
			double e = rel(an[k][i], (up - dn) / 2e-2);
			worst = e > worst ? e : worst;
		}
	print_message("# conv1d op: max relative error %.2e\n", worst);
	assert_true(worst < 2e-3);
	free(X);
	free(Wc);
	free(bc);
	free(wl);
}

static double pool_loss(const float *Y, const float *M, const float *wl)
{
	float out[CN * CC];
	nn_op_masked_pool(NN_FWD, CN, CK, CC, Y, M, out, NULL, NULL, NULL);
	double l = 0;
	for (int i = 0; i < CN * CC; i++)
		l += (double)wl[i] * out[i];
	return l;
}

static void test_pool_op_grad(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 7);
	float *Y = rnd(&r, CN * CK * CC, 1), *wl = rnd(&r, CN * CC, 1);
	float M[CN * CK] = {0, 0, 1, 1, 1, 0.2f, 0.9f, 0.5f, 1, 0.4f};
	float out[CN * CC], dY[CN * CK * CC], dM[CN * CK] = {0};
	nn_op_masked_pool(NN_FWD, CN, CK, CC, Y, M, out, NULL, NULL, NULL);
	/* row 0: three visits, mean with the pseudo-step: sum / 4 */
	assert_true(fabs(out[1] - (Y[2 * CC + 1] + Y[3 * CC + 1] + Y[4 * CC + 1]) / 4.0) < 1e-6);
	nn_op_masked_pool(NN_BWD, CN, CK, CC, Y, M, out, wl, dY, dM);
	double worst = 0;
	float *par[] = {Y, M};
	float *an[] = {dY, dM};
	size_t pl[] = {CN * CK * CC, CN * CK};
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < pl[k]; i++) {
			float s = par[k][i];
			par[k][i] = s + 1e-2f;
			double up = pool_loss(Y, M, wl);
			par[k][i] = s - 1e-2f;
			double dn = pool_loss(Y, M, wl);
			par[k][i] = s;
			double e = rel(an[k][i], (up - dn) / 2e-2);
			worst = e > worst ? e : worst;
		}
	print_message("# masked pool op: max relative error %.2e\n", worst);
	assert_true(worst < 2e-3);
	/* padded steps get no gradient */
	for (int c = 0; c < CC; c++)
		assert_true(dY[0 * CC + c] == 0.0f && dY[1 * CC + c] == 0.0f);
	free(Y);
	free(wl);
}

/* ---- whole models ---- */

enum { MS = 3, MF = 4 }; /* static slots; features per step (the last is the present flag) */

/* n rows, K steps right-aligned: row i has i % (K + 1) visits (row 0 none). Padded steps are
 * all zero, as the encoder writes them. */
static float *seq_rows(lm_rng *r, int n, int K)
{
	int w = MS + K * MF;
	float *X = calloc((size_t)n * w, sizeof *X);
	for (int i = 0; i < n; i++) {
		float *x = X + (size_t)i * w;
		for (int s = 0; s < MS; s++)
			x[s] = (float)rng_normal(r);
		int nv = i % (K + 1);
		for (int t = K - nv; t < K; t++) {
			for (int f = 0; f < MF - 1; f++)
				x[MS + t * MF + f] = (float)rng_normal(r);
			x[MS + t * MF + MF - 1] = 1.0f;
		}
	}
	return X;
}

/* attention: the width of the attention over visits (gru, cnn-gru), 0 none */
static nn_model *seq_model_attn(nn_arch a, int K, int n_out, int attention, uint64_t seed)
{
	nn_spec s;
	nn_spec_defaults(&s, a, MS + K * MF, n_out);
	s.seq_steps = K;
	s.seq_feat = MF;
	s.gru_hidden = 5;
	s.conv_channels = 4;
	s.hidden[0] = 6;
	s.attention = attention;
	lm_err err = {0};
	nn_model *m = nn_create(&s, seed, &err);
	assert_non_null(m);
	return m;
}

static nn_model *seq_model_out(nn_arch a, int K, int n_out, uint64_t seed)
{
	return seq_model_attn(a, K, n_out, 0, seed);
}

static nn_model *seq_model(nn_arch a, int K, uint64_t seed) { return seq_model_out(a, K, 1, seed); }

/* Seeds whose batch puts no ReLU unit within eps of its kink (a kink makes the central
 * difference disagree by O(1) however right the backward is); getenv SEQ_GRAD_SEED tries
 * others. */
static uint64_t seed_of(nn_arch a)
{
	const char *e = getenv("SEQ_GRAD_SEED");
	if (e)
		return (uint64_t)atoll(e) + (uint64_t)a;
	return 40 + (uint64_t)a;
}

static void check_model(nn_arch a)
{
	lm_rng r;
	rng_seed(&r, seed_of(a));
	int K = 4, n = 6;
	nn_model *m = seq_model(a, K, 2);
	/* biases off zero, so that no ReLU sits at its kink on a padded step */
	float *p = nn_params(m);
	for (size_t i = 0; i < nn_nparams(m); i++)
		p[i] += (float)(0.2 * rng_normal(&r));
	float *X = seq_rows(&r, n, K);
	float y[6] = {0, 1, 1, 0, 1, 0};
	double e = nn_check_grad(m, X, y, n, 1e-2);
	print_message("# %s: max relative gradient error %.2e\n", nn_arch_name(a), e);
	assert_true(e < 5e-2);
	free(X);
	nn_free(m);
}

static void test_grad_gru(void **state) { (void)state; check_model(NN_GRU); }
static void test_grad_cnn(void **state) { (void)state; check_model(NN_CNN); }
static void test_grad_cnngru(void **state) { (void)state; check_model(NN_CNNGRU); }

/* Garbage in padded steps, and the same visits under more padding, give the same logits:
 * bit for bit for the GRU (a padded step copies the state), to float rounding for the
 * convolution (the same sums over other zero terms). */
static void test_padding_changes_nothing(void **state)
{
	(void)state;
	nn_arch archs[] = {NN_GRU, NN_CNN, NN_CNNGRU};
	for (int ai = 0; ai < 3; ai++) {
		lm_rng r;
		rng_seed(&r, 21);
		int K = 4, K2 = 9, n = 5;
		nn_model *m = seq_model(archs[ai], K, 3), *m2 = seq_model(archs[ai], K2, 99);
		assert_int_equal(nn_nparams(m), nn_nparams(m2)); /* no weight depends on K */
		memcpy(nn_params(m2), nn_params(m), nn_nparams(m) * sizeof(float));
		float *X = seq_rows(&r, n, K), z[5], zg[5], z2[5];
		nn_forward(m, X, n, z, 0, NULL);
		/* garbage in the padded steps (present flag stays 0) */
		int w = MS + K * MF;
		for (int i = 0; i < n; i++)
			for (int t = 0; t < K - i % (K + 1); t++)
				for (int f = 0; f < MF - 1; f++)
					X[(size_t)i * w + MS + t * MF + f] = 100.0f * (float)(f + 1);
		nn_forward(m, X, n, zg, 0, NULL);
		/* the same rows under K2 - K more padded steps in front */
		int w2 = MS + K2 * MF;
		float *X2 = calloc((size_t)n * w2, sizeof *X2);
		for (int i = 0; i < n; i++) {
			memcpy(X2 + (size_t)i * w2, X + (size_t)i * w, MS * sizeof *X2);
			int nv = i % (K + 1);
			memcpy(X2 + (size_t)i * w2 + MS + (K2 - nv) * MF, X + (size_t)i * w + MS + (K - nv) * MF,
			       (size_t)nv * MF * sizeof *X2);
		}
		nn_forward(m2, X2, n, z2, 0, NULL);
		for (int i = 0; i < n; i++) {
			if (archs[ai] == NN_GRU)
				assert_true(z[i] == zg[i] && z[i] == z2[i]);
			else
				assert_true(fabsf(z[i] - zg[i]) < 1e-5f && fabsf(z[i] - z2[i]) < 1e-5f);
		}
		/* and the padded steps' inputs get gradient 0 */
		float dl[5] = {1, 1, 1, 1, 1};
		float *dX = calloc((size_t)n * w, sizeof *dX);
		nn_forward(m, X, n, z, 0, NULL);
		nn_backward(m, dl, dX, 0);
		for (int f = 0; f < MF - 1; f++)
			assert_true(dX[(size_t)1 * w + MS + 0 * MF + f] == 0.0f); /* row 1: one visit */
		free(dX);
		free(X);
		free(X2);
		nn_free(m);
		nn_free(m2);
	}
}

/* nn_path_grad's GRU route (input projection and static inputs linear along the path, the
 * weighted sums taken before the products back to the inputs) against the rows built here
 * and run through nn_forward and nn_backward (whose gradients test_grad_gru checks), and
 * against central differences of the weighted path sum: binary and two-output heads, both
 * signs, patients in any order, fractional present flags at every step (a mean baseline).
 * And for every other architecture the same function against the same rows. */
static void path_rows(nn_model *m, const float *X, const long *idx, long np, const float *b,
		      int steps, const double *al, const double *wt, int out, float sign, double *G)
{
	const nn_spec *sp = nn_get_spec(m);
	int w = sp->n_in, no = sp->n_out;
	size_t rows = (size_t)np * steps;
	float *P = malloc(rows * w * sizeof *P), *dX = malloc(rows * w * sizeof *dX);
	float *lg = malloc(rows * no * sizeof *lg), *dl = calloc(rows * no, sizeof *dl);
	for (long q = 0; q < np; q++)
		for (int k = 0; k < steps; k++)
			for (int j = 0; j < w; j++)
				P[((size_t)q * steps + k) * w + j] =
					b[j] + (float)al[k] * (X[(size_t)idx[q] * w + j] - b[j]);
	nn_forward(m, P, (int)rows, lg, 0, NULL);
	for (size_t r = 0; r < rows; r++)
		dl[r * no + out] = sign;
	nn_backward(m, dl, dX, 0);
	for (long q = 0; q < np; q++)
		for (int j = 0; j < w; j++) {
			double acc = 0;
			for (int k = 0; k < steps; k++)
				acc += wt[k] * dX[((size_t)q * steps + k) * w + j];
			G[(size_t)q * w + j] = acc;
		}
	free(P);
	free(dX);
	free(lg);
	free(dl);
}

static double path_f(nn_model *m, const float *x, const float *b, int steps, const double *al,
		     const double *wt, int out, float sign)
{
	const nn_spec *sp = nn_get_spec(m);
	int w = sp->n_in, no = sp->n_out;
	float *P = malloc((size_t)steps * w * sizeof *P), *lg = malloc((size_t)steps * no * sizeof *lg);
	for (int k = 0; k < steps; k++)
		for (int j = 0; j < w; j++)
			P[(size_t)k * w + j] = b[j] + (float)al[k] * (x[j] - b[j]);
	nn_forward(m, P, steps, lg, 0, NULL);
	double f = 0;
	for (int k = 0; k < steps; k++)
		f += wt[k] * sign * lg[(size_t)k * no + out];
	free(P);
	free(lg);
	return f;
}

/* One case of the path sums: model m (n_out no, parameters perturbed from r) on 9 sequence
 * rows with a mean baseline, 7 uneven path points, patients in any order: nn_path_grad
 * against path_rows within tol (relative to the largest sum), and for a GRU (its own
 * route) against central differences of the weighted path sum. */
static void check_path_case(nn_model *m, lm_rng *r, int no, float sign, double tol,
			    const char *what)
{
	int K = 5, n = 9, steps = 7, out = no - 1;
	nn_arch a = nn_get_spec(m)->arch;
	float *p = nn_params(m);
	for (size_t i = 0; i < nn_nparams(m); i++)
		p[i] += (float)(0.2 * rng_normal(r));
	int w = MS + K * MF;
	float *X = seq_rows(r, n, K), *b = calloc((size_t)w, sizeof *b);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < w; j++)
			b[j] += X[(size_t)i * w + j] / (float)n;
	double al[7], wt[7], wa[7];
	for (int k = 0; k < steps; k++) {
		al[k] = (k + 0.5) / steps + 0.03 * (k % 2);
		wt[k] = (1.0 + 0.1 * k) / steps;
		wa[k] = wt[k] * al[k];
	}
	long idx[] = {8, 0, 3, 5, 1, 4, 7};
	long np = 7;
	float *G = malloc((size_t)np * w * sizeof *G);
	double *Gr = malloc((size_t)np * w * sizeof *Gr);
	nn_path_grad(m, X, idx, np, b, steps, al, wt, out, sign, G);
	path_rows(m, X, idx, np, b, steps, al, wt, out, sign, Gr);
	double worst = 0, scale = 0;
	for (size_t i = 0; i < (size_t)np * w; i++)
		scale = fmax(scale, fabs(Gr[i]));
	for (size_t i = 0; i < (size_t)np * w; i++)
		worst = fmax(worst, fabs(G[i] - Gr[i]) / scale);
	print_message("# %s path sums (%d outputs): max error %.2e of the largest %.3f\n", what, no,
		      worst, scale);
	assert_true(scale > 1e-2);
	assert_true(worst < tol);
	/* central differences of the path sum, every input of two patients, for the GRU route
	 * (the others are nn_backward's, checked above; the convolution's ReLU kinks would need
	 * seeds chosen for them): d/dx_j of sum_k w_k f(b + a_k (x - b)) = sum_k w_k a_k g_kj,
	 * the path sums weighted by a_k more */
	double fdw = 0;
	for (int q = 0; q < 2 && a == NN_GRU; q++) {
		float *x = X + (size_t)idx[q] * w, Gq[MS + 5 * MF];
		nn_path_grad(m, X, idx + q, 1, b, steps, al, wa, out, sign, Gq);
		for (int j = 0; j < w; j++) {
			float sv = x[j], e = 1e-2f;
			x[j] = sv + e;
			double up = path_f(m, x, b, steps, al, wt, out, sign);
			x[j] = sv - e;
			double dn = path_f(m, x, b, steps, al, wt, out, sign);
			x[j] = sv;
			fdw = fmax(fdw, rel(Gq[j], (up - dn) / (2.0 * e)));
		}
	}
	if (a == NN_GRU)
		print_message("# %s path sums against central differences: max relative error "
			      "%.2e\n", what, fdw);
	assert_true(fdw < 2e-2);
	free(G);
	free(Gr);
	free(X);
	free(b);
}

static void test_path_grad(void **state)
{
	(void)state;
	nn_arch archs[] = {NN_GRU, NN_GRU, NN_CNN, NN_CNNGRU};
	for (int ai = 0; ai < 4; ai++) {
		lm_rng r;
		rng_seed(&r, 61 + (uint64_t)ai);
		int no = ai == 1 ? 2 : 1;
		nn_model *m = seq_model_out(archs[ai], 5, no, 4);
		check_path_case(m, &r, no, ai == 1 ? -1.0f : 1.0f, 2e-5, nn_arch_name(archs[ai]));
		nn_free(m);
	}
}

/* Labels for training tests: 1 when the first feature of the last step is positive
 * (malloc'd, n floats). */
static float *last_visit_labels(const float *X, int n, int K)
{
	float *y = malloc((size_t)n * sizeof *y);
	for (int i = 0; i < n; i++)
		y[i] = X[(size_t)i * (MS + K * MF) + MS + (K - 1) * MF] > 0.0f;
	return y;
}

/* The same seed trains to the same bits; another seed does not. */
static void test_deterministic(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 31);
	int K = 5, n = 200;
	float *X = seq_rows(&r, n, K), *y = last_visit_labels(X, n, K);
	float *w[3];
	for (int k = 0; k < 3; k++) {
		nn_model *m = seq_model(NN_CNNGRU, K, k == 2 ? 8 : 7);
		nn_train_opts o;
		nn_train_defaults(&o, NN_CNNGRU);
		o.epochs = 3;
		o.batch = 32;
		o.seed = 5;
		nn_train_result res;
		lm_err err = {0};
		assert_int_equal(nn_train(m, X, y, n, &o, &res, &err), 0);
		w[k] = malloc(nn_nparams(m) * sizeof(float));
		memcpy(w[k], nn_params(m), nn_nparams(m) * sizeof(float));
		if (k == 2)
			assert_true(memcmp(w[0], w[2], nn_nparams(m) * sizeof(float)) != 0);
		else if (k == 1)
			assert_memory_equal(w[0], w[1], nn_nparams(m) * sizeof(float));
		nn_free(m);
	}
	for (int k = 0; k < 3; k++)
		free(w[k]);
	free(X);
	free(y);
}

static void test_spec_checks(void **state)
{
	(void)state;
	nn_spec s;
	nn_spec_defaults(&s, NN_GRU, 10, 1);
	lm_err err = {0};
	assert_null(nn_create(&s, 1, &err)); /* no steps */
	s.seq_steps = 3;
	s.seq_feat = 4; /* 12 > 10 inputs */
	assert_null(nn_create(&s, 1, &err));
	s.seq_feat = 3;
	nn_model *m = nn_create(&s, 1, &err);
	assert_non_null(m);
	/* gru.w 3 x 96, gru.b 96, gru.u 32 x 96, gru.bhn 32, head.0 (1 + 32) x 64 + 64, head 65 */
	assert_int_equal(nn_nparams(m), 3 * 96 + 96 + 32 * 96 + 32 + 33 * 64 + 64 + 65);
	nn_free(m);
	nn_spec_defaults(&s, NN_CNN, 10, 1);
	s.seq_steps = 3;
	s.seq_feat = 3;
	s.conv_width = 2; /* even */
	assert_null(nn_create(&s, 1, &err));
	assert_int_equal(nn_arch_parse("cnn-gru"), NN_CNNGRU);
	assert_string_equal(nn_arch_name(NN_CNNGRU), "cnn-gru");
}

/* ---- attention over visits ---- */

enum { AN = 3, AK = 4, AH = 3, AA = 2 };

typedef struct attn_case {
	float Hs[AK * AN * AH], M[AK * AN], Wa[AH * AA], ba[AA], v[AA], wl[AN * AH];
	float Ua[AK * AN * AA], E[AK * AN], Q[AK * AN], Aw[AK * AN], ctx[AN * AH];
} attn_case;

static double attn_loss(attn_case *c)
{
	nn_op_visit_attn(NN_FWD, AN, AK, AH, AA, c->Hs, c->M, c->Wa, c->ba, c->v, c->Ua, c->E, c->Q,
			 c->Aw, c->ctx, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	double l = 0;
	for (int i = 0; i < AN * AH; i++)
		l += (double)c->wl[i] * c->ctx[i];
	return l;
}

/* The attention operator's backward (states, mask, Wa, ba, v) against central differences
 * of a weighted sum of the context, with real, padded and fractional mask entries. */
static void test_attn_op_grad(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 5);
	attn_case *c = calloc(1, sizeof *c);
	float *src[] = {c->Hs, c->Wa, c->ba, c->v, c->wl};
	size_t len[] = {AK * AN * AH, AH * AA, AA, AA, AN * AH};
	for (int k = 0; k < 5; k++)
		for (size_t i = 0; i < len[k]; i++)
			src[k][i] = (float)(0.8 * rng_normal(&r));
	/* row 0 every visit, row 1 two padded steps first, row 2 fractional flags (IG paths) */
	for (int t = 0; t < AK; t++) {
		c->M[t * AN + 0] = 1;
		c->M[t * AN + 1] = t >= 2;
		c->M[t * AN + 2] = 0.2f + 0.25f * t;
	}
	attn_loss(c);
	float dHs[AK * AN * AH], dM[AK * AN] = {0}, dWa[AH * AA] = {0}, dba[AA] = {0}, dv[AA] = {0},
	      dUa[AK * AN * AA];
	nn_op_visit_attn(NN_BWD, AN, AK, AH, AA, c->Hs, c->M, c->Wa, c->ba, c->v, c->Ua, c->E, c->Q,
			 c->Aw, c->ctx, c->wl, dHs, dM, dWa, dba, dv, dUa);
	/* parameter gradients accumulate: a second backward doubles them, dHs is rewritten */
	float dWa2[AH * AA], dHs2[AK * AN * AH];
	memcpy(dWa2, dWa, sizeof dWa);
	nn_op_visit_attn(NN_BWD, AN, AK, AH, AA, c->Hs, c->M, c->Wa, c->ba, c->v, c->Ua, c->E, c->Q,
			 c->Aw, c->ctx, c->wl, dHs2, NULL, dWa2, NULL, NULL, dUa);
	for (int i = 0; i < AH * AA; i++)
		assert_true(fabsf(dWa2[i] - 2 * dWa[i]) <= 1e-6f * (1 + fabsf(dWa[i])));
	assert_memory_equal(dHs, dHs2, sizeof dHs);
	float *an[] = {dHs, dM, dWa, dba, dv};
	float *par[] = {c->Hs, c->M, c->Wa, c->ba, c->v};
	size_t pl[] = {AK * AN * AH, AK * AN, AH * AA, AA, AA};
	double worst = 0;
	for (int k = 0; k < 5; k++)
		for (size_t i = 0; i < pl[k]; i++) {
			float sv = par[k][i], e = 1e-3f;
			par[k][i] = sv + e;
			double up = attn_loss(c);
			par[k][i] = sv - e;
			double dn = attn_loss(c);
			par[k][i] = sv;
			double er = rel(an[k][i], (up - dn) / (2.0 * e));
			worst = er > worst ? er : worst;
		}
	print_message("# visit attention op: max relative error %.2e\n", worst);
	assert_true(worst < 1e-2);
	/* a padded step's state gets no gradient, but its flag does (the weights are smooth in m) */
	for (int j = 0; j < AH; j++)
		assert_true(dHs[(0 * AN + 1) * AH + j] == 0.0f && dHs[(1 * AN + 1) * AH + j] == 0.0f);
	assert_true(fabsf(dM[0 * AN + 1]) > 1e-4f);
	free(c);
}

/* By hand: one unit, width 1, Wa = 1, ba = 0, v = 2, states 0.5 and -1:
 * e = 2 tanh(0.5) = 0.924234, 2 tanh(-1) = -1.523183; with both visits
 * a = (e^0.924234, e^-1.523183) / (1 + both) = (0.674149, 0.058325), c = 0.278750; with the
 * second step padded a = (e^0.924234 / (1 + e^0.924234), 0) = (0.715904, 0), c = 0.357952.
 * No visit: a = 0, c = 0. A score of 120 (e^120 overflows a float) still gives finite
 * weights, as the computation is shifted by the largest score. */
static void test_attn_hand(void **state)
{
	(void)state;
	float Hs[2] = {0.5f, -1.0f}, M[2] = {1, 1}, Wa[1] = {1}, ba[1] = {0}, v[1] = {2};
	float Ua[2], E[2], Q[2], Aw[2], c[1];
	nn_op_visit_attn(NN_FWD, 1, 2, 1, 1, Hs, M, Wa, ba, v, Ua, E, Q, Aw, c, NULL, NULL, NULL,
			 NULL, NULL, NULL, NULL);
	assert_true(fabs(Aw[0] - 0.6741491) < 1e-6 && fabs(Aw[1] - 0.0583249) < 1e-6);
	assert_true(fabs(c[0] - 0.2787497) < 1e-6);
	M[1] = 0;
	nn_op_visit_attn(NN_FWD, 1, 2, 1, 1, Hs, M, Wa, ba, v, Ua, E, Q, Aw, c, NULL, NULL, NULL,
			 NULL, NULL, NULL, NULL);
	assert_true(fabs(Aw[0] - 0.7159041) < 1e-6 && Aw[1] == 0.0f);
	assert_true(fabs(c[0] - 0.3579520) < 1e-6);
	M[0] = 0;
	nn_op_visit_attn(NN_FWD, 1, 2, 1, 1, Hs, M, Wa, ba, v, Ua, E, Q, Aw, c, NULL, NULL, NULL,
			 NULL, NULL, NULL, NULL);
	assert_true(Aw[0] == 0.0f && Aw[1] == 0.0f && c[0] == 0.0f);
	/* e = 120 tanh(0.5) = 55.45 and -91.39 on a weight of 240 tanh: e^55 is 1.4e24, still a
	 * float, so take v = 240: e = 110.9 */
	M[0] = M[1] = 1;
	v[0] = 240;
	nn_op_visit_attn(NN_FWD, 1, 2, 1, 1, Hs, M, Wa, ba, v, Ua, E, Q, Aw, c, NULL, NULL, NULL,
			 NULL, NULL, NULL, NULL);
	assert_true(E[0] > 100.0f && isfinite(Aw[0]) && fabs(Aw[0] - 1.0) < 1e-6 && Aw[1] == 0.0f);
}

/* The weights follow the rule a_t = m_t e^{e_t} / (1 + sum_s m_s e^{e_s}), with the scores
 * recomputed here in double from the states and parameters: on random states, masks of
 * every kind (none, some padded, fractional), and they sum to S / (1 + S). */
static void test_attn_rule(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 9);
	enum { N = 5, K = 6, H = 4, A = 3 };
	float *Hs = rnd(&r, K * N * H, 1.0), *Wa = rnd(&r, H * A, 0.7), *ba = rnd(&r, A, 0.3),
	      *v = rnd(&r, A, 1.5);
	float M[K * N], Ua[K * N * A], E[K * N], Q[K * N], Aw[K * N], c[N * H];
	for (int t = 0; t < K; t++)
		for (int i = 0; i < N; i++)
			M[t * N + i] = i == 0 ? 0.0f : i == 4 ? (float)(t + 1) / K : t >= K - i;
	nn_op_visit_attn(NN_FWD, N, K, H, A, Hs, M, Wa, ba, v, Ua, E, Q, Aw, c, NULL, NULL, NULL, NULL,
			 NULL, NULL, NULL);
	for (int i = 0; i < N; i++) {
		double e[K], S = 0, sum = 0;
		for (int t = 0; t < K; t++) {
			e[t] = 0;
			for (int a = 0; a < A; a++) {
				double u = ba[a];
				for (int j = 0; j < H; j++)
					u += (double)Hs[(t * N + i) * H + j] * Wa[j * A + a];
				e[t] += v[a] * tanh(u);
			}
			S += M[t * N + i] * exp(e[t]);
		}
		for (int t = 0; t < K; t++) {
			double want = M[t * N + i] * exp(e[t]) / (1 + S);
			assert_true(fabs(Aw[t * N + i] - want) < 1e-6);
			if (M[t * N + i] == 0.0f)
				assert_true(Aw[t * N + i] == 0.0f);
			sum += Aw[t * N + i];
		}
		assert_true(fabs(sum - S / (1 + S)) < 1e-6 && sum < 1.0);
		for (int j = 0; j < H; j++) {
			double cj = 0;
			for (int t = 0; t < K; t++)
				cj += Aw[t * N + i] * (double)Hs[(t * N + i) * H + j];
			assert_true(fabs(c[i * H + j] - cj) < 1e-6);
		}
	}
	for (int j = 0; j < H; j++)
		assert_true(c[j] == 0.0f); /* row 0: no visit */
	free(Hs);
	free(Wa);
	free(ba);
	free(v);
}

static nn_model *attn_model(nn_arch a, int K, uint64_t seed, int no)
{
	return seq_model_attn(a, K, no, 3, seed);
}

/* Whole-model gradient checks of gru and cnn-gru with attention (nn_check_grad: parameters
 * and inputs, the present flags included, against central differences of the loss). The
 * seeds put no head ReLU within eps of its kink, as seed_of's (SEQ_GRAD_SEED tries others). */
static void check_attn_model(nn_arch a, uint64_t seed)
{
	const char *e = getenv("SEQ_GRAD_SEED");
	lm_rng r;
	rng_seed(&r, e ? (uint64_t)atoll(e) : seed);
	int K = 4, n = 6;
	nn_model *m = attn_model(a, K, 2, 1);
	float *p = nn_params(m);
	for (size_t i = 0; i < nn_nparams(m); i++)
		p[i] += (float)(0.2 * rng_normal(&r));
	float *X = seq_rows(&r, n, K);
	float y[6] = {0, 1, 1, 0, 1, 0};
	double err = nn_check_grad(m, X, y, n, 1e-2);
	print_message("# %s with attention: max relative gradient error %.2e\n", nn_arch_name(a),
		      err);
	assert_true(err < 5e-2);
	free(X);
	nn_free(m);
}

static void test_grad_gru_attn(void **state) { (void)state; check_attn_model(NN_GRU, 43); }
static void test_grad_cnngru_attn(void **state) { (void)state; check_attn_model(NN_CNNGRU, 50); }

/* With attention too: garbage in the padded steps and more padding in front give the same
 * logits (bit for bit for gru: a padded step copies the state and adds exact zeros), padded
 * steps get weight exactly 0, the visits' weights are positive and sum below 1, a patient
 * without visits gets none, and the weights are the same under the extra padding. */
static void test_attn_padding(void **state)
{
	(void)state;
	nn_arch archs[] = {NN_GRU, NN_CNNGRU};
	for (int ai = 0; ai < 2; ai++) {
		lm_rng r;
		rng_seed(&r, 23);
		int K = 4, K2 = 9, n = 5, w = MS + K * MF, w2 = MS + K2 * MF;
		nn_model *m = attn_model(archs[ai], K, 3, 1), *m2 = attn_model(archs[ai], K2, 99, 1);
		assert_int_equal(nn_nparams(m), nn_nparams(m2));
		memcpy(nn_params(m2), nn_params(m), nn_nparams(m) * sizeof(float));
		float *X = seq_rows(&r, n, K), z[5], zg[5], z2[5], a[5 * 4], a2[5 * 9];
		nn_forward(m, X, n, z, 0, NULL);
		memcpy(a, nn_visit_attention(m), sizeof a);
		for (int i = 0; i < n; i++)
			for (int t = 0; t < K - i % (K + 1); t++)
				for (int f = 0; f < MF - 1; f++)
					X[(size_t)i * w + MS + t * MF + f] = 100.0f * (float)(f + 1);
		nn_forward(m, X, n, zg, 0, NULL);
		float *X2 = calloc((size_t)n * w2, sizeof *X2);
		for (int i = 0; i < n; i++) {
			memcpy(X2 + (size_t)i * w2, X + (size_t)i * w, MS * sizeof *X2);
			int nv = i % (K + 1);
			memcpy(X2 + (size_t)i * w2 + MS + (K2 - nv) * MF, X + (size_t)i * w + MS + (K - nv) * MF,
			       (size_t)nv * MF * sizeof *X2);
		}
		nn_forward(m2, X2, n, z2, 0, NULL);
		memcpy(a2, nn_visit_attention(m2), sizeof a2);
		for (int i = 0; i < n; i++) {
			int nv = i % (K + 1);
			if (archs[ai] == NN_GRU)
				assert_true(z[i] == zg[i] && z[i] == z2[i]);
			else
				assert_true(fabsf(z[i] - zg[i]) < 1e-5f && fabsf(z[i] - z2[i]) < 1e-5f);
			double sum = 0;
			for (int t = 0; t < K; t++) {
				float at = a[i * K + t];
				if (t < K - nv)
					assert_true(at == 0.0f);
				else
					assert_true(at > 0.0f && at < 1.0f);
				sum += at;
				if (t >= K - nv) /* the same visit under more padding */
					assert_true(fabsf(at - a2[i * K2 + t + K2 - K]) < 1e-6f);
			}
			for (int t = 0; t < K2 - nv; t++)
				assert_true(a2[i * K2 + t] == 0.0f);
			assert_true(sum < 1.0 && (nv > 0 ? sum > 0.0 : sum == 0.0));
		}
		/* padded steps' inputs get no gradient */
		float dl[5] = {1, 1, 1, 1, 1};
		float *dX = calloc((size_t)n * w, sizeof *dX);
		nn_forward(m, X, n, z, 0, NULL);
		nn_backward(m, dl, dX, 0);
		for (int f = 0; f < MF - 1; f++)
			assert_true(dX[(size_t)1 * w + MS + 0 * MF + f] == 0.0f);
		/* a model without attention has no weights to give */
		nn_model *plain = seq_model(archs[ai], K, 3);
		nn_forward(plain, X, n, z, 0, NULL);
		assert_null(nn_visit_attention(plain));
		nn_free(plain);
		free(dX);
		free(X);
		free(X2);
		nn_free(m);
		nn_free(m2);
	}
}

/* The same seed trains an attention GRU to the same bits (weights and visit weights);
 * another seed does not; the attention tensors are there, by name and shape. */
static void test_attn_deterministic(void **state)
{
	(void)state;
	lm_rng r;
	rng_seed(&r, 33);
	int K = 5, n = 200;
	float *X = seq_rows(&r, n, K), *y = last_visit_labels(X, n, K);
	float *w[3], *aw[3], z[200];
	for (int k = 0; k < 3; k++) {
		nn_model *m = attn_model(NN_GRU, K, k == 2 ? 8 : 7, 1);
		nn_train_opts o;
		nn_train_defaults(&o, NN_GRU);
		o.epochs = 3;
		o.batch = 32;
		o.seed = 5;
		nn_train_result res;
		lm_err err = {0};
		assert_int_equal(nn_train(m, X, y, n, &o, &res, &err), 0);
		w[k] = malloc(nn_nparams(m) * sizeof(float));
		memcpy(w[k], nn_params(m), nn_nparams(m) * sizeof(float));
		nn_forward(m, X, n, z, 0, NULL);
		aw[k] = malloc((size_t)n * K * sizeof(float));
		memcpy(aw[k], nn_visit_attention(m), (size_t)n * K * sizeof(float));
		if (k == 0) {
			int found = 0, shape[4];
			for (int t = 0; t < nn_ntensors(m); t++) {
				const char *nm = nn_tensor_name(m, t);
				if (!strcmp(nm, "attn.w")) {
					assert_int_equal(nn_tensor_shape(m, t, shape), 2);
					assert_true(shape[0] == 5 && shape[1] == 3);
					found++;
				}
				found += !strcmp(nm, "attn.b") || !strcmp(nm, "attn.v");
				if (!strcmp(nm, "head.0.w")) { /* [static | h_K | c] */
					nn_tensor_shape(m, t, shape);
					assert_int_equal(shape[0], MS + 2 * 5);
				}
			}
			assert_int_equal(found, 3);
		}
		if (k == 2)
			assert_true(memcmp(w[0], w[2], nn_nparams(m) * sizeof(float)) != 0);
		else if (k == 1) {
			assert_memory_equal(w[0], w[1], nn_nparams(m) * sizeof(float));
			assert_memory_equal(aw[0], aw[1], (size_t)n * K * sizeof(float));
		}
		nn_free(m);
	}
	for (int k = 0; k < 3; k++) {
		free(w[k]);
		free(aw[k]);
	}
	free(X);
	free(y);
	/* attention is refused where there is no GRU */
	nn_spec s;
	nn_spec_defaults(&s, NN_CNN, MS + K * MF, 1);
	s.seq_steps = K;
	s.seq_feat = MF;
	s.attention = 4;
	lm_err err = {0};
	assert_null(nn_create(&s, 1, &err));
	assert_int_equal(err.status, EX_DATAERR);
}

/* nn_path_grad of an attention model (the GRU route with its attention; cnn-gru the rows)
 * equals the rows built by hand through nn_forward and nn_backward, and its path sums
 * agree with central differences of the weighted path sum; binary and two-output heads. */
static void test_attn_path_grad(void **state)
{
	(void)state;
	nn_arch archs[] = {NN_GRU, NN_GRU, NN_CNNGRU};
	const char *what[] = {"gru+attention", "gru+attention", "cnn-gru+attention"};
	for (int ai = 0; ai < 3; ai++) {
		lm_rng r;
		rng_seed(&r, 71 + (uint64_t)ai);
		int no = ai == 1 ? 2 : 1;
		nn_model *m = attn_model(archs[ai], 5, 4, no);
		check_path_case(m, &r, no, ai == 1 ? -1.0f : 1.0f, 1e-6, what[ai]);
		nn_free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gru_op_grad),
		cmocka_unit_test(test_gru_hand),
		cmocka_unit_test(test_conv_op_grad),
		cmocka_unit_test(test_pool_op_grad),
		cmocka_unit_test(test_grad_gru),
		cmocka_unit_test(test_grad_cnn),
		cmocka_unit_test(test_grad_cnngru),
		cmocka_unit_test(test_padding_changes_nothing),
		cmocka_unit_test(test_path_grad),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_spec_checks),
		cmocka_unit_test(test_attn_op_grad),
		cmocka_unit_test(test_attn_hand),
		cmocka_unit_test(test_attn_rule),
		cmocka_unit_test(test_grad_gru_attn),
		cmocka_unit_test(test_grad_cnngru_attn),
		cmocka_unit_test(test_attn_padding),
		cmocka_unit_test(test_attn_deterministic),
		cmocka_unit_test(test_attn_path_grad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
