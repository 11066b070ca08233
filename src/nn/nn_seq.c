/* nn_seq.c: the visit-sequence operators and architectures (nn_seq.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"
#include "nn_seq.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-trapping-math")
#endif

#define SHAPE(op, cond)                                                                    \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "lumen: internal error: %s: bad shape (%s)\n", op, #cond); \
			abort();                                                           \
		}                                                                          \
	} while (0)

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define NN_HOT __attribute__((target_clones("avx2", "default")))
#else
#define NN_HOT
#endif

/* exp in float without a libm call, so that the gate loops vectorise: Cody-Waite reduction
 * x = k ln2 + r, |r| <= ln2 / 2, then Cephes' degree-6 polynomial for e^r (relative error
 * about 2e-7 over the clamped range), times 2^k built in the exponent bits. */
static inline float vexp(float x)
{
	x = x < -87.0f ? -87.0f : x; /* selects, not fminf: they vectorise */
	x = x > 88.0f ? 88.0f : x;
	/* k = round(x / ln2): the shifted value is positive, so truncation floors it */
	int32_t ki = (int32_t)(x * 1.44269504089f + 128.5f) - 128;
	float k = (float)ki;
	float r = x - k * 0.693359375f + k * 2.12194440e-4f;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	union { int32_t i; float f; } u = {.i = (ki + 127) << 23};
	return p * u.f;
}

/* Two sigmoids for one division, s(x) = 1/A and s(y) = 1/B from 1/(A B), A = 1 + e^-x:
 * the inputs clamped to |x| <= 30 keep A B finite (s(30) rounds to 1 in float; s(-30) is
 * 9.4e-14 where the exact value would be smaller). Divisions are the dearest part of the
 * gate loops. */
static inline void sigm2(float x, float y, float *sx, float *sy)
{
	x = x < -30.0f ? -30.0f : x > 30.0f ? 30.0f : x;
	y = y < -30.0f ? -30.0f : y > 30.0f ? 30.0f : y;
	float A = 1.0f + vexp(-x), B = 1.0f + vexp(-y), inv = 1.0f / (A * B);
	*sx = B * inv;
	*sy = A * inv;
}
/* tanh x = 2 s(2x) - 1: absolute error about 2e-7, which the gradient checks do not see */
static inline float vtanh(float x) { return 2.0f / (1.0f + vexp(-2.0f * x)) - 1.0f; }

/* ---- GRU ---- */

/* One row of one forward step: the gates from the input projection gx + a gd (the row's own
 * gx with a = 0, or an IG path point's base and difference projections) and the recurrent
 * one g (3H each: update z, reset r, candidate n), the candidate c, the new state; the
 * row's present flag m carries h_{t-1} through a padded step. Simple loops over restrict
 * parameters, each of which vectorises. */
static inline void gru_fwd_row(int H, const float *restrict gx, const float *restrict gd,
			       float a, const float *restrict g, const float *restrict b,
			       const float *restrict bhn, const float *restrict h0, float m,
			       float *restrict z, float *restrict r, float *restrict c,
			       float *restrict hn, float *restrict ht)
{
	for (int j = 0; j < H; j++) {
		z[j] = gx[j] + a * gd[j] + b[j] + g[j];
		r[j] = gx[H + j] + a * gd[H + j] + b[H + j] + g[H + j];
		hn[j] = g[2 * H + j] + bhn[j];
	}
	for (int j = 0; j < H; j++) {
		z[j] = 1.0f / (1.0f + vexp(-z[j]));
		r[j] = 1.0f / (1.0f + vexp(-r[j]));
	}
	for (int j = 0; j < H; j++)
		c[j] = vtanh(gx[2 * H + j] + a * gd[2 * H + j] + b[2 * H + j] + r[j] * hn[j]);
	for (int j = 0; j < H; j++) {
		float hc = (1.0f - z[j]) * c[j] + z[j] * h0[j];
		ht[j] = m * hc + (1.0f - m) * h0[j];
	}
}

/* One row of one backward step: from dh (dL/dh_t, replaced by dL/dh_{t-1} through the
 * gates' direct paths) the pre-activation gradients dgx (3H, the input projection's) and
 * dg (3H, the recurrent projection's), and dL/dm into *dm when asked. */
static inline void gru_bwd_row(int H, const float *restrict z, const float *restrict r,
			       const float *restrict c, const float *restrict hn,
			       const float *restrict h0, float m, float *restrict dh,
			       float *restrict dgx, float *restrict dg, float *restrict dm)
{
	if (dm) { /* dL/dm = dh . (h~ - h_{t-1}) = dh . (1 - z)(c - h_{t-1}), kept out of the
		   * loop below; eight partial sums (a fixed order) so that it vectorises */
		float acc[8] = {0};
		int j = 0;
		for (; j + 8 <= H; j += 8)
			for (int l = 0; l < 8; l++)
				acc[l] += dh[j + l] * (1.0f - z[j + l]) * (c[j + l] - h0[j + l]);
		float s = 0.0f;
		for (; j < H; j++)
			s += dh[j] * (1.0f - z[j]) * (c[j] - h0[j]);
		for (int l = 0; l < 8; l++)
			s += acc[l];
		*dm = s;
	}
	for (int j = 0; j < H; j++) {
		float gj = dh[j], dhc = m * gj;
		float dan = dhc * (1.0f - z[j]) * (1.0f - c[j] * c[j]);
		float daz = dhc * (h0[j] - c[j]) * z[j] * (1.0f - z[j]);
		float dar = dan * hn[j] * r[j] * (1.0f - r[j]);
		dgx[j] = daz;
		dgx[H + j] = dar;
		dgx[2 * H + j] = dan;
		dg[j] = daz;
		dg[H + j] = dar;
		dg[2 * H + j] = dan * r[j];
		dh[j] = (1.0f - m) * gj + dhc * z[j];
	}
}

NN_HOT void nn_op_gru(nn_pass pass, int n, int K, int Fin, int H, const float *U, const float *M,
	       const float *W, const float *b, const float *Uh, const float *bhn, float *Gx,
	       float *Hs, float *Z, float *R, float *C, float *Hn, float *gh, const float *dHlast,
	       const float *dHall, float *dU, float *dM, float *dW, float *db, float *dUh,
	       float *dbhn, float *dGx, float *dh, float *dgh)
{
	SHAPE("gru", n >= 0 && K >= 1 && Fin >= 1 && H >= 1);
	size_t nH = (size_t)n * H, H3 = 3 * (size_t)H;
	if (pass == NN_FWD) {
		/* every step's input projection in one product */
		nn_sgemm(0, 0, K * n, 3 * H, Fin, 1.0f, U, Fin, W, 3 * H, 0.0f, Gx, 3 * H);
		memset(Hs, 0, nH * sizeof *Hs);
		for (int t = 0; t < K; t++) {
			const float *hp = Hs + (size_t)t * nH;
			float *ht = Hs + (size_t)(t + 1) * nH;
			nn_sgemm(0, 0, n, 3 * H, H, 1.0f, hp, H, Uh, 3 * H, 0.0f, gh, 3 * H);
			for (int i = 0; i < n; i++) {
				size_t o = (size_t)t * nH + (size_t)i * H;
				const float *gxr = Gx + ((size_t)t * n + i) * H3;
				gru_fwd_row(H, gxr, gxr, 0.0f, gh + (size_t)i * H3, b, bhn,
					    hp + (size_t)i * H, M[(size_t)t * n + i], Z + o, R + o, C + o,
					    Hn + o, ht + (size_t)i * H);
			}
		}
		nn_count_flops(14.0 * K * (double)nH);
		return;
	}
	memcpy(dh, dHlast, nH * sizeof *dh);
	for (int t = K - 1; t >= 0; t--) {
		const float *hp = Hs + (size_t)t * nH;
		if (dHall) /* what reaches h_{t+1} from outside the recurrence */
			for (size_t j = 0; j < nH; j++)
				dh[j] += dHall[(size_t)t * nH + j];
		for (int i = 0; i < n; i++) {
			size_t o = (size_t)t * nH + (size_t)i * H;
			float *dgz = dGx + ((size_t)t * n + i) * H3, *dhz = dgh + (size_t)i * H3;
			gru_bwd_row(H, Z + o, R + o, C + o, Hn + o, hp + (size_t)i * H,
				    M[(size_t)t * n + i], dh + (size_t)i * H, dgz, dhz,
				    dM ? dM + (size_t)t * n + i : NULL);
			if (dbhn)
				for (int j = 0; j < H; j++)
					dbhn[j] += dhz[2 * H + j];
		}
		/* through the recurrent product: dh_{t-1} += dgh Uh^T, dUh += h_{t-1}^T dgh */
		nn_sgemm(0, 1, n, H, 3 * H, 1.0f, dgh, 3 * H, Uh, 3 * H, 1.0f, dh, H);
		if (dUh)
			nn_sgemm(1, 0, H, 3 * H, n, 1.0f, hp, H, dgh, 3 * H, 1.0f, dUh, 3 * H);
	}
	if (dW)
		nn_sgemm(1, 0, Fin, 3 * H, K * n, 1.0f, U, Fin, dGx, 3 * H, 1.0f, dW, 3 * H);
	if (db)
		for (size_t r = 0; r < (size_t)K * n; r++)
			for (size_t j = 0; j < H3; j++)
				db[j] += dGx[r * H3 + j];
	if (dU)
		nn_sgemm(0, 1, K * n, Fin, 3 * H, 1.0f, dGx, 3 * H, W, 3 * H, 0.0f, dU, Fin);
	nn_count_flops(20.0 * K * (double)nH);
}

/* ---- 1-D convolution ---- */

void nn_op_conv1d(nn_pass pass, int n, int K, int Fin, int Cout, int w, const float *X,
		  const float *Wc, const float *bc, float *P, float *Y, const float *dY, float *dX,
		  float *dWc, float *dbc, float *dP)
{
	SHAPE("conv1d", n >= 0 && K >= 1 && Fin >= 1 && Cout >= 1 && w >= 1 && w % 2 == 1);
	int half = (w - 1) / 2, wF = w * Fin;
	size_t rows = (size_t)n * K;
	if (pass == NN_FWD) {
		for (int i = 0; i < n; i++)
			for (int t = 0; t < K; t++) {
				float *pr = P + ((size_t)i * K + t) * wF;
				for (int j = 0; j < w; j++) {
					int s = t + j - half;
					if (s < 0 || s >= K)
						memset(pr + j * Fin, 0, (size_t)Fin * sizeof *pr);
					else
						memcpy(pr + j * Fin, X + ((size_t)i * K + s) * Fin,
						       (size_t)Fin * sizeof *pr);
				}
			}
		for (size_t r = 0; r < rows; r++)
			memcpy(Y + r * Cout, bc, (size_t)Cout * sizeof *Y);
		nn_sgemm(0, 0, (int)rows, Cout, wF, 1.0f, P, wF, Wc, Cout, 1.0f, Y, Cout);
		return;
	}
	if (dWc)
		nn_sgemm(1, 0, wF, Cout, (int)rows, 1.0f, P, wF, dY, Cout, 1.0f, dWc, Cout);
	if (dbc)
		for (size_t r = 0; r < rows; r++)
			for (int c = 0; c < Cout; c++)
				dbc[c] += dY[r * Cout + c];
	if (!dX)
		return;
	nn_sgemm(0, 1, (int)rows, wF, Cout, 1.0f, dY, Cout, Wc, Cout, 0.0f, dP, wF);
	memset(dX, 0, rows * Fin * sizeof *dX);
	for (int i = 0; i < n; i++)
		for (int t = 0; t < K; t++) {
			const float *pr = dP + ((size_t)i * K + t) * wF;
			for (int j = 0; j < w; j++) {
				int s = t + j - half;
				if (s < 0 || s >= K)
					continue;
				float *dx = dX + ((size_t)i * K + s) * Fin;
				for (int f = 0; f < Fin; f++)
					dx[f] += pr[j * Fin + f];
			}
		}
}

/* ---- masked mean pooling ---- */

void nn_op_masked_pool(nn_pass pass, int n, int K, int Cn, const float *Y, const float *M,
		       float *out, const float *dout, float *dY, float *dM)
{
	SHAPE("masked_pool", n >= 0 && K >= 1 && Cn >= 1);
	for (int i = 0; i < n; i++) {
		const float *m = M + (size_t)i * K;
		float D = 1.0f;
		for (int t = 0; t < K; t++)
			D += m[t];
		const float *y = Y + (size_t)i * K * Cn;
		if (pass == NN_FWD) {
			float *o = out + (size_t)i * Cn;
			memset(o, 0, (size_t)Cn * sizeof *o);
			for (int t = 0; t < K; t++)
				for (int c = 0; c < Cn; c++)
					o[c] += m[t] * y[(size_t)t * Cn + c];
			for (int c = 0; c < Cn; c++)
				o[c] /= D;
			continue;
		}
		const float *o = out + (size_t)i * Cn, *d = dout + (size_t)i * Cn;
		float *dy = dY + (size_t)i * K * Cn;
		for (int t = 0; t < K; t++) {
			float s = 0.0f;
			for (int c = 0; c < Cn; c++) {
				dy[(size_t)t * Cn + c] = m[t] * d[c] / D;
				s += (y[(size_t)t * Cn + c] - o[c]) * d[c];
			}
			if (dM)
				dM[(size_t)i * K + t] += s / D;
		}
	}
}

/* ---- additive attention over the states ---- */

static double dot_d(const float *a, const float *b, int n)
{
	double s = 0.0;
	for (int j = 0; j < n; j++)
		s += (double)a[j] * (double)b[j];
	return s;
}

void nn_op_visit_attn(nn_pass pass, int n, int K, int H, int A, const float *Hs, const float *M,
		      const float *Wa, const float *ba, const float *v, float *Ua, float *E,
		      float *Q, float *Aw, float *ctx, const float *dctx, float *dHs, float *dM,
		      float *dWa, float *dba, float *dv, float *dUa)
{
	SHAPE("visit_attn", n >= 0 && K >= 1 && H >= 1 && A >= 1);
	size_t rows = (size_t)K * n, nH = (size_t)n * H;
	if (pass == NN_FWD) {
		for (size_t r = 0; r < rows; r++)
			memcpy(Ua + r * A, ba, (size_t)A * sizeof *Ua);
		nn_sgemm(0, 0, (int)rows, A, H, 1.0f, Hs, H, Wa, A, 1.0f, Ua, A);
		for (size_t r = 0; r < rows; r++) {
			float *u = Ua + r * A, e = 0.0f;
			for (int j = 0; j < A; j++) {
				u[j] = tanhf(u[j]);
				e += u[j] * v[j];
			}
			E[r] = e;
		}
		memset(ctx, 0, nH * sizeof *ctx);
		for (int i = 0; i < n; i++) {
			float mu = 0.0f; /* exp(e - mu) <= 1 on every real step and for the pseudo-visit */
			for (int t = 0; t < K; t++)
				if (M[(size_t)t * n + i] != 0.0f && E[(size_t)t * n + i] > mu)
					mu = E[(size_t)t * n + i];
			double den = exp(-(double)mu);
			for (int t = 0; t < K; t++) {
				size_t r = (size_t)t * n + i;
				Q[r] = expf(E[r] - mu);
				den += (double)M[r] * (double)Q[r];
			}
			float *c = ctx + (size_t)i * H;
			for (int t = 0; t < K; t++) {
				size_t r = (size_t)t * n + i;
				Q[r] = (float)((double)Q[r] / den);
				Aw[r] = M[r] * Q[r];
				const float *h = Hs + r * H;
				for (int j = 0; j < H; j++)
					c[j] += Aw[r] * h[j];
			}
		}
		nn_count_flops(2.0 * (double)rows * ((double)A * (H + 2) + 2.0 * H));
		return;
	}
	for (int i = 0; i < n; i++) {
		const float *d = dctx + (size_t)i * H;
		double gbar = 0.0;
		for (int t = 0; t < K; t++) {
			size_t r = (size_t)t * n + i;
			gbar += (double)Aw[r] * dot_d(d, Hs + r * H, H);
		}
		for (int t = 0; t < K; t++) {
			size_t r = (size_t)t * n + i;
			float gd = (float)(dot_d(d, Hs + r * H, H) - gbar), de = Aw[r] * gd;
			if (dM)
				dM[r] += Q[r] * gd;
			float *dh = dHs + r * H, *du = dUa + r * A;
			const float *u = Ua + r * A;
			for (int j = 0; j < H; j++)
				dh[j] = Aw[r] * d[j];
			for (int j = 0; j < A; j++) {
				if (dv)
					dv[j] += de * u[j];
				du[j] = de * v[j] * (1.0f - u[j] * u[j]);
			}
		}
	}
	nn_sgemm(0, 1, (int)rows, H, A, 1.0f, dUa, A, Wa, A, 1.0f, dHs, H);
	if (dWa)
		nn_sgemm(1, 0, H, A, (int)rows, 1.0f, Hs, H, dUa, A, 1.0f, dWa, A);
	if (dba)
		for (size_t r = 0; r < rows; r++)
			for (int j = 0; j < A; j++)
				dba[j] += dUa[r * A + j];
	nn_count_flops(2.0 * (double)rows * ((double)A * (2 * H + 2) + 3.0 * H));
}

/* ---- the architectures ----
 * A row is [S static slots | K steps x F features], the last feature of a step its present
 * flag m. gru: the GRU reads the steps, its last state h_K (the last real visit's state, as
 * padding carries the state through) joins the static slots; cnn: ReLU(conv(m x)) pooled by
 * the masked mean; cnn-gru: the ReLU feature maps, step by step, are the GRU's input. With
 * attention (gru, cnn-gru) the context c of nn_op_visit_attn over the states h_1..h_K joins
 * too: the head reads [static | h_K | c]. Then a head: linear, ReLU, linear. */

struct nn_seq {
	size_t cw, cb, gw, gb, gu, gbn, aw, ab, av, h1w, h1b, h2w, h2b; /* parameter offsets */
	int S, K, F, H, Cc, w, Hh, D, A, cap, n;
	float *ws;
	/* forward */
	float *xs;  /* n K x F, row-major (gathered sequence part) */
	float *mr;  /* n K mask, row-major */
	float *mt;  /* K n mask, time-major */
	float *xm;  /* n K x F masked input of the convolution */
	float *P;   /* n K x w F patches */
	float *cy;  /* n K x Cc conv output after ReLU */
	float *u;   /* K n x Fin GRU input, time-major */
	float *Gx, *Hs, *Z, *R, *C, *Hn, *gh;
	float *Ua, *E, *Q, *Aw, *ctx; /* attention (A > 0): K n x A, K n, K n, K n, n x H */
	float *arow;                  /* n K attention weights, row-major (nn_seq_attention) */
	float *feat; /* n x D */
	float *hin;  /* n x (S + D) head input */
	float *a1;   /* n x Hh */
	/* backward */
	float *da1, *dhin, *dfeat, *dGx, *dh, *dgh, *du, *dmt, *dmr, *dcy, *dP, *dxm;
	float *dhl, *dctx, *dHall, *dUa, *dma; /* attention: n x H, n x H, K n x H, K n x A, K n */
	float *pws; /* nn_seq_path_grad's workspace, for pcap rows */
	size_t pcap;
};

static int is_gru(nn_arch a) { return a == NN_GRU || a == NN_CNNGRU; }
static int is_cnn(nn_arch a) { return a == NN_CNN || a == NN_CNNGRU; }

int nn_seq_check(const nn_spec *s, lm_err *err)
{
	if (s->seq_steps < 1 || s->seq_steps > 4096 || s->seq_feat < 1 ||
	    (long)s->seq_steps * s->seq_feat > s->n_in)
		return lm_seterr(err, EX_DATAERR, "a %s model needs visit steps (got %d steps of %d "
				 "features for %d inputs)", nn_arch_name(s->arch), s->seq_steps,
				 s->seq_feat, s->n_in);
	if (is_gru(s->arch) && (s->gru_hidden < 1 || s->gru_hidden > 4096))
		return lm_seterr(err, EX_DATAERR, "bad GRU hidden size %d", s->gru_hidden);
	if (is_cnn(s->arch) && (s->conv_channels < 1 || s->conv_channels > 4096 ||
				s->conv_width < 1 || s->conv_width > 31 || s->conv_width % 2 == 0))
		return lm_seterr(err, EX_DATAERR, "bad convolution: %d channels, width %d (odd, 1..31)",
				 s->conv_channels, s->conv_width);
	if (s->attention && !is_gru(s->arch))
		return lm_seterr(err, EX_DATAERR, "attention over visits needs a GRU (gru or cnn-gru, "
				 "not %s)", nn_arch_name(s->arch));
	if (s->attention < 0 || s->attention > 4096)
		return lm_seterr(err, EX_DATAERR, "bad attention width %d (1..4096)", s->attention);
	if (s->n_hidden < 1 || s->hidden[0] < 1 || s->hidden[0] > 65536)
		return lm_seterr(err, EX_DATAERR, "bad head width");
	return 0;
}

nn_seq *nn_seq_layout(nn_model *m)
{
	const nn_spec *s = nn_get_spec(m);
	nn_seq *q = xcalloc(1, sizeof *q);
	q->K = s->seq_steps;
	q->F = s->seq_feat;
	q->S = s->n_in - q->K * q->F;
	q->H = s->gru_hidden;
	q->Cc = s->conv_channels;
	q->w = s->conv_width;
	q->Hh = s->hidden[0];
	if (is_cnn(s->arch)) {
		int fan = q->w * q->F;
		q->cw = nn_add_tensor(m, "conv.w", 2, fan, q->Cc, NN_INIT_UNIFORM,
				      1.0f / sqrtf((float)fan));
		q->cb = nn_add_tensor(m, "conv.b", 1, q->Cc, 0, NN_INIT_ZERO, 0);
	}
	if (is_gru(s->arch)) {
		int fin = s->arch == NN_CNNGRU ? q->Cc : q->F;
		float bd = 1.0f / sqrtf((float)q->H);
		q->gw = nn_add_tensor(m, "gru.w", 2, fin, 3 * q->H, NN_INIT_UNIFORM, bd);
		q->gb = nn_add_tensor(m, "gru.b", 1, 3 * q->H, 0, NN_INIT_ZERO, 0);
		q->gu = nn_add_tensor(m, "gru.u", 2, q->H, 3 * q->H, NN_INIT_UNIFORM, bd);
		q->gbn = nn_add_tensor(m, "gru.bhn", 1, q->H, 0, NN_INIT_ZERO, 0);
	}
	q->A = is_gru(s->arch) ? s->attention : 0;
	if (q->A) {
		q->aw = nn_add_tensor(m, "attn.w", 2, q->H, q->A, NN_INIT_UNIFORM,
				      1.0f / sqrtf((float)q->H));
		q->ab = nn_add_tensor(m, "attn.b", 1, q->A, 0, NN_INIT_ZERO, 0);
		q->av = nn_add_tensor(m, "attn.v", 1, q->A, 0, NN_INIT_UNIFORM,
				      1.0f / sqrtf((float)q->A));
	}
	q->D = is_gru(s->arch) ? (q->A ? 2 * q->H : q->H) : q->Cc;
	int hin = q->S + q->D;
	q->h1w = nn_add_tensor(m, "head.0.w", 2, hin, q->Hh, NN_INIT_KAIMING,
			       sqrtf(2.0f / (float)hin));
	q->h1b = nn_add_tensor(m, "head.0.b", 1, q->Hh, 0, NN_INIT_ZERO, 0);
	q->h2w = nn_add_tensor(m, "head.w", 2, q->Hh, s->n_out, NN_INIT_UNIFORM,
			       1.0f / sqrtf((float)q->Hh));
	q->h2b = nn_add_tensor(m, "head.b", 1, s->n_out, 0, NN_INIT_ZERO, 0);
	return q;
}

void nn_seq_free(nn_seq *q)
{
	if (!q)
		return;
	free(q->ws);
	free(q->pws);
	free(q);
}

static void carve(float **slot, float *base, size_t *off, size_t count)
{
	*slot = base ? base + *off : NULL;
	*off += (count + 15) & ~(size_t)15;
}

static size_t ws_layout(nn_seq *q, size_t n, float *base)
{
	size_t off = 0, K = q->K, F = q->F, H = q->H, Cc = q->Cc, w = q->w;
	size_t fin = Cc > F ? Cc : F; /* the GRU reads F features (gru) or Cc (cnn-gru) */
	carve(&q->xs, base, &off, n * K * F);
	carve(&q->mr, base, &off, n * K);
	carve(&q->mt, base, &off, n * K);
	carve(&q->xm, base, &off, n * K * F);
	carve(&q->P, base, &off, n * K * w * F);
	carve(&q->cy, base, &off, n * K * Cc);
	carve(&q->u, base, &off, n * K * fin);
	carve(&q->Gx, base, &off, n * K * 3 * H);
	carve(&q->Hs, base, &off, n * (K + 1) * H);
	carve(&q->Z, base, &off, n * K * H);
	carve(&q->R, base, &off, n * K * H);
	carve(&q->C, base, &off, n * K * H);
	carve(&q->Hn, base, &off, n * K * H);
	carve(&q->gh, base, &off, n * 3 * H);
	size_t A = (size_t)q->A, nA = A ? 1 : 0; /* the attention's buffers only when it is there */
	carve(&q->Ua, base, &off, n * K * A);
	carve(&q->E, base, &off, nA * n * K);
	carve(&q->Q, base, &off, nA * n * K);
	carve(&q->Aw, base, &off, nA * n * K);
	carve(&q->ctx, base, &off, nA * n * H);
	carve(&q->arow, base, &off, nA * n * K);
	carve(&q->dhl, base, &off, nA * n * H);
	carve(&q->dctx, base, &off, nA * n * H);
	carve(&q->dHall, base, &off, nA * n * K * H);
	carve(&q->dUa, base, &off, n * K * A);
	carve(&q->dma, base, &off, nA * n * K);
	carve(&q->feat, base, &off, n * q->D);
	carve(&q->hin, base, &off, n * (q->S + q->D));
	carve(&q->a1, base, &off, n * q->Hh);
	carve(&q->da1, base, &off, n * q->Hh);
	carve(&q->dhin, base, &off, n * (q->S + q->D));
	carve(&q->dfeat, base, &off, n * q->D);
	carve(&q->dGx, base, &off, n * K * 3 * H);
	carve(&q->dh, base, &off, n * H);
	carve(&q->dgh, base, &off, n * 3 * H);
	carve(&q->du, base, &off, n * K * fin);
	carve(&q->dmt, base, &off, n * K);
	carve(&q->dmr, base, &off, n * K);
	carve(&q->dcy, base, &off, n * K * Cc);
	carve(&q->dP, base, &off, n * K * w * F);
	carve(&q->dxm, base, &off, n * K * F);
	return off;
}

static void reserve(nn_seq *q, int n)
{
	if (n <= q->cap)
		return;
	free(q->ws);
	size_t total = ws_layout(q, (size_t)n, NULL);
	q->ws = xmallocarray(total, sizeof *q->ws);
	ws_layout(q, (size_t)n, q->ws);
	q->cap = n;
}

void nn_seq_forward(nn_seq *q, const nn_spec *s, const float *p, const float *X, int n,
		    float *logits)
{
	reserve(q, n);
	q->n = n;
	int S = q->S, K = q->K, F = q->F, H = q->H, Cc = q->Cc, D = q->D;
	size_t ni = (size_t)s->n_in;
	for (int i = 0; i < n; i++) {
		memcpy(q->xs + (size_t)i * K * F, X + i * ni + S, (size_t)K * F * sizeof *q->xs);
		for (int t = 0; t < K; t++) {
			float m = X[i * ni + S + (size_t)t * F + F - 1];
			q->mr[(size_t)i * K + t] = m;
			q->mt[(size_t)t * n + i] = m;
		}
	}
	if (is_cnn(s->arch)) {
		for (size_t r = 0; r < (size_t)n * K; r++)
			for (int f = 0; f < F; f++)
				q->xm[r * F + f] = q->xs[r * F + f] * q->mr[r];
		nn_op_conv1d(NN_FWD, n, K, F, Cc, q->w, q->xm, p + q->cw, p + q->cb, q->P, q->cy, NULL,
			     NULL, NULL, NULL, NULL);
		nn_op_relu(NN_FWD, (size_t)n * K * Cc, q->cy, q->cy, NULL, NULL);
	}
	if (s->arch == NN_CNN) {
		nn_op_masked_pool(NN_FWD, n, K, Cc, q->cy, q->mr, q->feat, NULL, NULL, NULL);
	} else {
		int fin = s->arch == NN_CNNGRU ? Cc : F;
		const float *src = s->arch == NN_CNNGRU ? q->cy : q->xs;
		for (int t = 0; t < K; t++)
			for (int i = 0; i < n; i++)
				memcpy(q->u + ((size_t)t * n + i) * fin, src + ((size_t)i * K + t) * fin,
				       (size_t)fin * sizeof *q->u);
		nn_op_gru(NN_FWD, n, K, fin, H, q->u, q->mt, p + q->gw, p + q->gb, p + q->gu,
			  p + q->gbn, q->Gx, q->Hs, q->Z, q->R, q->C, q->Hn, q->gh, NULL, NULL, NULL,
			  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
		const float *hK = q->Hs + (size_t)K * n * H;
		if (!q->A) {
			memcpy(q->feat, hK, (size_t)n * H * sizeof *q->feat);
		} else {
			nn_op_visit_attn(NN_FWD, n, K, H, q->A, q->Hs + (size_t)n * H, q->mt, p + q->aw,
					 p + q->ab, p + q->av, q->Ua, q->E, q->Q, q->Aw, q->ctx, NULL, NULL,
					 NULL, NULL, NULL, NULL, NULL);
			for (int i = 0; i < n; i++) {
				memcpy(q->feat + (size_t)i * D, hK + (size_t)i * H, (size_t)H * sizeof *q->feat);
				memcpy(q->feat + (size_t)i * D + H, q->ctx + (size_t)i * H,
				       (size_t)H * sizeof *q->feat);
				for (int t = 0; t < K; t++)
					q->arow[(size_t)i * K + t] = q->Aw[(size_t)t * n + i];
			}
		}
	}
	int hw = S + D;
	for (int i = 0; i < n; i++) {
		memcpy(q->hin + (size_t)i * hw, X + i * ni, (size_t)S * sizeof *q->hin);
		memcpy(q->hin + (size_t)i * hw + S, q->feat + (size_t)i * D, (size_t)D * sizeof *q->hin);
	}
	nn_op_linear(NN_FWD, n, hw, q->Hh, q->hin, p + q->h1w, p + q->h1b, q->a1, 0, NULL, NULL, 0,
		     NULL, NULL);
	nn_op_relu(NN_FWD, (size_t)n * q->Hh, q->a1, q->a1, NULL, NULL);
	nn_op_linear(NN_FWD, n, q->Hh, s->n_out, q->a1, p + q->h2w, p + q->h2b, logits, 0, NULL,
		     NULL, 0, NULL, NULL);
}

void nn_seq_backward(nn_seq *q, const nn_spec *s, const float *p, float *g, const float *X,
		     const float *dlogits, float *dX)
{
	int n = q->n, S = q->S, K = q->K, F = q->F, H = q->H, Cc = q->Cc, D = q->D, hw = S + D;
	size_t ni = (size_t)s->n_in;
#define G(off) (g ? g + (off) : NULL)
	nn_op_linear(NN_BWD, n, q->Hh, s->n_out, q->a1, p + q->h2w, NULL, NULL, 0, dlogits, q->da1,
		     0, G(q->h2w), G(q->h2b));
	nn_op_relu(NN_BWD, (size_t)n * q->Hh, NULL, q->a1, q->da1, q->da1);
	nn_op_linear(NN_BWD, n, hw, q->Hh, q->hin, p + q->h1w, NULL, NULL, 0, q->da1, q->dhin, 0,
		     G(q->h1w), G(q->h1b));
	for (int i = 0; i < n; i++)
		memcpy(q->dfeat + (size_t)i * D, q->dhin + (size_t)i * hw + S, (size_t)D * sizeof *q->dfeat);
	int want_dx = dX != NULL;
	memset(q->dmr, 0, (size_t)n * K * sizeof *q->dmr);
	if (s->arch == NN_CNN) {
		nn_op_masked_pool(NN_BWD, n, K, Cc, q->cy, q->mr, q->feat, q->dfeat, q->dcy,
				  want_dx ? q->dmr : NULL);
	} else {
		int fin = s->arch == NN_CNNGRU ? Cc : F;
		int need_du = want_dx || s->arch == NN_CNNGRU;
		const float *dhl = q->dfeat;
		if (q->A) { /* dfeat = [dh_K | dc]: the context's gradient back to every state */
			for (int i = 0; i < n; i++) {
				memcpy(q->dhl + (size_t)i * H, q->dfeat + (size_t)i * D, (size_t)H * sizeof *q->dhl);
				memcpy(q->dctx + (size_t)i * H, q->dfeat + (size_t)i * D + H,
				       (size_t)H * sizeof *q->dctx);
			}
			dhl = q->dhl;
			memset(q->dma, 0, (size_t)n * K * sizeof *q->dma);
			nn_op_visit_attn(NN_BWD, n, K, H, q->A, q->Hs + (size_t)n * H, q->mt, p + q->aw,
					 p + q->ab, p + q->av, q->Ua, q->E, q->Q, q->Aw, q->ctx, q->dctx,
					 q->dHall, want_dx ? q->dma : NULL, G(q->aw), G(q->ab), G(q->av),
					 q->dUa);
		}
		nn_op_gru(NN_BWD, n, K, fin, H, q->u, q->mt, p + q->gw, p + q->gb, p + q->gu, p + q->gbn,
			  q->Gx, q->Hs, q->Z, q->R, q->C, q->Hn, q->gh, dhl, q->A ? q->dHall : NULL,
			  need_du ? q->du : NULL, want_dx ? q->dmt : NULL, G(q->gw), G(q->gb), G(q->gu),
			  G(q->gbn), q->dGx, q->dh, q->dgh);
		if (need_du) {
			float *dst = s->arch == NN_CNNGRU ? q->dcy : q->dxm;
			for (int t = 0; t < K; t++)
				for (int i = 0; i < n; i++)
					memcpy(dst + ((size_t)i * K + t) * fin, q->du + ((size_t)t * n + i) * fin,
					       (size_t)fin * sizeof *dst);
		}
		if (want_dx)
			for (int t = 0; t < K; t++)
				for (int i = 0; i < n; i++)
					q->dmr[(size_t)i * K + t] +=
						q->dmt[(size_t)t * n + i] + (q->A ? q->dma[(size_t)t * n + i] : 0.0f);
	}
	if (is_cnn(s->arch)) {
		nn_op_relu(NN_BWD, (size_t)n * K * Cc, NULL, q->cy, q->dcy, q->dcy);
		nn_op_conv1d(NN_BWD, n, K, F, Cc, q->w, NULL, p + q->cw, NULL, q->P, NULL, q->dcy,
			     want_dx ? q->dxm : NULL, G(q->cw), G(q->cb), q->dP);
		if (want_dx) /* through x m: dx = dxm m, dm += dxm . x */
			for (size_t r = 0; r < (size_t)n * K; r++) {
				float acc = 0.0f;
				for (int f = 0; f < F; f++) {
					acc += q->dxm[r * F + f] * q->xs[r * F + f];
					q->dxm[r * F + f] *= q->mr[r];
				}
				q->dmr[r] += acc;
			}
	}
	if (!want_dx)
		return;
	for (int i = 0; i < n; i++) {
		float *dx = dX + i * ni;
		memcpy(dx, q->dhin + (size_t)i * hw, (size_t)S * sizeof *dx);
		memcpy(dx + S, q->dxm + (size_t)i * K * F, (size_t)K * F * sizeof *dx);
		for (int t = 0; t < K; t++)
			dx[S + (size_t)t * F + F - 1] += q->dmr[(size_t)i * K + t];
	}
	(void)X;
#undef G
}

const float *nn_seq_attention(const nn_seq *q, const nn_spec *s)
{
	return q && q->A && is_gru(s->arch) && q->cap > 0 ? q->arow : NULL;
}

/* ---- integrated-gradient paths of a GRU model ----
 * Row r = q steps + k is patient q at b + a_k d_q, d_q = x_q - b. Along it the GRU's input
 * projection is Gb + a_k Gd_q (Gb = b W, Gd_q = d_q W, per step), the present flag is
 * b_m + a_k d_m, and the head's static inputs are b_s + a_k d_s: so the forward needs no
 * row of inputs, only the recurrent products and the gates. Backward, the input gradient
 * of a row is dGx W^T (the sequence) plus the mask's own term and dhin's static part;
 * as W^T is linear, the weighted sums over k are taken first, Sg_q = sum_k w_k dGx_{q,k}
 * per step, and one product Sg W^T per patient gives the sequence gradients. With
 * attention the context over the states joins the head's input, and its gradients reach
 * every state (dHall) and every present flag (dma) as in nn_seq_backward. */

NN_HOT void nn_seq_path_grad(nn_seq *q, const nn_spec *s, const float *p, const float *X,
		      const long *idx, long np, const float *base, int steps, const double *alpha,
		      const double *w, int out, float sign, float *G)
{
	int S = q->S, K = q->K, F = q->F, H = q->H, Hh = q->Hh, no = s->n_out, A = q->A;
	int hw = S + q->D; /* the head reads [static | h_K] or [static | h_K | c] */
	size_t n = (size_t)np * steps, ni = (size_t)s->n_in, H3 = 3 * (size_t)H, nH = n * H;
	size_t need = 0, nA = A ? 1 : 0;
	float *mt, *Hs, *Z, *R, *C, *Hn, *gh, *hin, *a1, *lg, *dl, *da1, *dhin, *dh, *dgh, *dgx;
	float *Gb, *Gd, *Sg, *Sm, *dU, *dseq, *UhT;
	float *Ua, *E, *Qa, *Aw, *ctx, *dctx, *dHall, *dUa, *dma; /* attention */
	for (int pass = 0; pass < 2; pass++) {
		float *base_ws = pass ? q->pws : NULL;
		size_t off = 0;
		carve(&mt, base_ws, &off, (size_t)K * n);
		carve(&Hs, base_ws, &off, (size_t)(K + 1) * nH);
		carve(&Z, base_ws, &off, (size_t)K * nH);
		carve(&R, base_ws, &off, (size_t)K * nH);
		carve(&C, base_ws, &off, (size_t)K * nH);
		carve(&Hn, base_ws, &off, (size_t)K * nH);
		carve(&gh, base_ws, &off, n * H3);
		carve(&hin, base_ws, &off, n * hw);
		carve(&a1, base_ws, &off, n * Hh);
		carve(&lg, base_ws, &off, n * no);
		carve(&dl, base_ws, &off, n * no);
		carve(&da1, base_ws, &off, n * Hh);
		carve(&dhin, base_ws, &off, n * hw);
		carve(&dh, base_ws, &off, nH);
		carve(&dgh, base_ws, &off, n * H3);
		carve(&dgx, base_ws, &off, H3);
		carve(&Gb, base_ws, &off, (size_t)K * H3);
		carve(&Gd, base_ws, &off, (size_t)np * K * H3);
		carve(&Sg, base_ws, &off, (size_t)np * K * H3);
		carve(&Sm, base_ws, &off, (size_t)np * K);
		carve(&dU, base_ws, &off, (size_t)np * K * F);
		carve(&dseq, base_ws, &off, (size_t)np * K * F);
		carve(&UhT, base_ws, &off, H3 * H);
		carve(&Ua, base_ws, &off, nA * K * n * A);
		carve(&E, base_ws, &off, nA * K * n);
		carve(&Qa, base_ws, &off, nA * K * n);
		carve(&Aw, base_ws, &off, nA * K * n);
		carve(&ctx, base_ws, &off, nA * nH);
		carve(&dctx, base_ws, &off, nA * nH);
		carve(&dHall, base_ws, &off, nA * K * nH);
		carve(&dUa, base_ws, &off, nA * K * n * A);
		carve(&dma, base_ws, &off, nA * K * n);
		if (pass == 0) {
			need = off;
			if (need > q->pcap) {
				free(q->pws);
				q->pws = xmallocarray(need, sizeof *q->pws);
				q->pcap = need;
			}
		}
	}
	const float *W = p + q->gw, *b = p + q->gb, *Uh = p + q->gu, *bhn = p + q->gbn;
	/* Uh^T, so that the backward's recurrent product is a plain one (faster in OpenBLAS) */
	for (int a = 0; a < H; a++)
		for (size_t j = 0; j < H3; j++)
			UhT[j * H + (size_t)a] = Uh[(size_t)a * H3 + j];
	/* the projections of the baseline and of each patient's difference, per step */
	for (long c = 0; c < np; c++) {
		const float *x = X + (size_t)idx[c] * ni;
		for (size_t j = 0; j < (size_t)K * F; j++)
			dseq[(size_t)c * K * F + j] = x[S + j] - base[S + j];
	}
	nn_sgemm(0, 0, K, 3 * H, F, 1.0f, base + S, F, W, 3 * H, 0.0f, Gb, 3 * H);
	nn_sgemm(0, 0, (int)np * K, 3 * H, F, 1.0f, dseq, F, W, 3 * H, 0.0f, Gd, 3 * H);
	/* forward, time-major over the n rows */
	for (int t = 0; t < K; t++) {
		float bm = base[S + (size_t)t * F + F - 1];
		for (long c = 0; c < np; c++) {
			float dm = dseq[((size_t)c * K + t) * F + F - 1];
			for (int k = 0; k < steps; k++)
				mt[(size_t)t * n + (size_t)c * steps + k] = bm + (float)alpha[k] * dm;
		}
	}
	memset(Hs, 0, nH * sizeof *Hs);
	for (int t = 0; t < K; t++) {
		const float *hp = Hs + (size_t)t * nH;
		float *ht = Hs + (size_t)(t + 1) * nH;
		nn_sgemm(0, 0, (int)n, 3 * H, H, 1.0f, hp, H, Uh, 3 * H, 0.0f, gh, 3 * H);
		const float *gb = Gb + (size_t)t * H3;
		for (long c = 0; c < np; c++) {
			const float *gd = Gd + ((size_t)c * K + t) * H3;
			for (int k = 0; k < steps; k++) {
				size_t r = (size_t)c * steps + k, o = (size_t)t * nH + r * H;
				float a = (float)alpha[k];
				gru_fwd_row(H, gb, gd, a, gh + r * H3, b, bhn, hp + r * H, mt[(size_t)t * n + r], Z + o,
					    R + o, C + o, Hn + o, ht + r * H);
			}
		}
	}
	if (A)
		nn_op_visit_attn(NN_FWD, (int)n, K, H, A, Hs + nH, mt, p + q->aw, p + q->ab, p + q->av,
				 Ua, E, Qa, Aw, ctx, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	/* the head */
	const float *hK = Hs + (size_t)K * nH;
	for (long c = 0; c < np; c++) {
		const float *x = X + (size_t)idx[c] * ni;
		for (int k = 0; k < steps; k++) {
			size_t r = (size_t)c * steps + k;
			float a = (float)alpha[k], *h = hin + r * hw;
			for (int j = 0; j < S; j++)
				h[j] = base[j] + a * (x[j] - base[j]);
			memcpy(h + S, hK + r * H, (size_t)H * sizeof *h);
			if (A)
				memcpy(h + S + H, ctx + r * H, (size_t)H * sizeof *h);
		}
	}
	nn_op_linear(NN_FWD, (int)n, hw, Hh, hin, p + q->h1w, p + q->h1b, a1, 0, NULL, NULL, 0, NULL,
		     NULL);
	nn_op_relu(NN_FWD, n * Hh, a1, a1, NULL, NULL);
	nn_op_linear(NN_FWD, (int)n, Hh, no, a1, p + q->h2w, p + q->h2b, lg, 0, NULL, NULL, 0, NULL,
		     NULL);
	/* backward from f = sign * logit[out] */
	memset(dl, 0, n * no * sizeof *dl);
	for (size_t r = 0; r < n; r++)
		dl[r * no + (size_t)out] = sign;
	nn_op_linear(NN_BWD, (int)n, Hh, no, a1, p + q->h2w, NULL, NULL, 0, dl, da1, 0, NULL, NULL);
	nn_op_relu(NN_BWD, n * Hh, NULL, a1, da1, da1);
	nn_op_linear(NN_BWD, (int)n, hw, Hh, hin, p + q->h1w, NULL, NULL, 0, da1, dhin, 0, NULL, NULL);
	for (size_t r = 0; r < n; r++)
		memcpy(dh + r * H, dhin + r * hw + S, (size_t)H * sizeof *dh);
	if (A) {
		for (size_t r = 0; r < n; r++)
			memcpy(dctx + r * H, dhin + r * hw + S + H, (size_t)H * sizeof *dctx);
		memset(dma, 0, (size_t)K * n * sizeof *dma);
		nn_op_visit_attn(NN_BWD, (int)n, K, H, A, Hs + nH, mt, p + q->aw, p + q->ab, p + q->av,
				 Ua, E, Qa, Aw, ctx, dctx, dHall, dma, NULL, NULL, NULL, dUa);
	}
	memset(Sg, 0, (size_t)np * K * H3 * sizeof *Sg);
	for (int t = K - 1; t >= 0; t--) {
		const float *hp = Hs + (size_t)t * nH;
		if (A) /* what reaches h_{t+1} from the attention */
			for (size_t j = 0; j < nH; j++)
				dh[j] += dHall[(size_t)t * nH + j];
		for (long c = 0; c < np; c++) {
			float *restrict sg = Sg + ((size_t)c * K + t) * H3;
			double sm = 0.0;
			for (int k = 0; k < steps; k++) {
				size_t r = (size_t)c * steps + k, o = (size_t)t * nH + r * H;
				float dm, wk = (float)w[k];
				gru_bwd_row(H, Z + o, R + o, C + o, Hn + o, hp + r * H, mt[(size_t)t * n + r],
					    dh + r * H, dgx, dgh + r * H3, &dm);
				for (size_t j = 0; j < H3; j++)
					sg[j] += wk * dgx[j];
				if (A)
					dm += dma[(size_t)t * n + r];
				sm += w[k] * (double)dm;
			}
			Sm[(size_t)c * K + t] = (float)sm;
		}
		nn_sgemm(0, 0, (int)n, H, 3 * H, 1.0f, dgh, 3 * H, UhT, H, 1.0f, dh, H);
	}
	nn_sgemm(0, 1, (int)np * K, F, 3 * H, 1.0f, Sg, 3 * H, W, 3 * H, 0.0f, dU, F);
	/* the sums per patient: static inputs, the sequence through W, the present flags */
	for (long c = 0; c < np; c++) {
		float *g = G + (size_t)c * ni;
		for (int j = 0; j < S; j++) {
			double acc = 0.0;
			for (int k = 0; k < steps; k++)
				acc += w[k] * (double)dhin[((size_t)c * steps + k) * hw + j];
			g[j] = (float)acc;
		}
		memcpy(g + S, dU + (size_t)c * K * F, (size_t)K * F * sizeof *g);
		for (int t = 0; t < K; t++)
			g[S + (size_t)t * F + F - 1] += Sm[(size_t)c * K + t];
	}
	nn_count_flops(34.0 * K * (double)nH);
}
