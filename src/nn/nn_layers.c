/* nn_layers.c: operators with forward and backward side by side (see nn_layers.h for the math
 * each one implements), and the one sgemm wrapper. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "nn_layers.h"

/* The hot loops are compiled at -O3 (loop vectorisation; without trapping math, so that
 * float selects become vector min/max: lumen never reads the FP exception flags) and the
 * operators are cloned for AVX2 with a portable default picked at load time, so the binary
 * still runs on any x86-64. The pragma covers the inline helpers too, so they inline. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-trapping-math")
#endif
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define NN_HOT __attribute__((target_clones("avx2", "default")))
#else
#define NN_HOT
#endif

static _Thread_local double flop_count; /* per thread: parallel explanations do not race */

void nn_count_flops(double flops)
{
	flop_count += flops;
}

double nn_flops(void)
{
	return flop_count;
}

void nn_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A,
	      int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
	if (M <= 0 || N <= 0)
		return;
	if (K <= 0) { /* C = beta C: BLAS would do this too, but some builds dislike K = 0 */
		for (int i = 0; i < M; i++)
			for (int j = 0; j < N; j++)
				C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
		return;
	}
	cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
		    transB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
	flop_count += 2.0 * M * N * K;
}

/* A shape error is a bug in the caller, not bad data: say which operator and stop. */
#define SHAPE(op, cond)                                                                    \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "lumen: internal error: %s: bad shape (%s)\n", op, #cond); \
			abort();                                                           \
		}                                                                          \
	} while (0)

void nn_op_linear(nn_pass pass, int n, int in, int out, const float *X, const float *W,
		  const float *b, float *Y, int acc_y, const float *dY, float *dX, int acc_dx,
		  float *dW, float *db)
{
	SHAPE("linear", n >= 0 && in > 0 && out > 0 && W);
	if (n == 0)
		return;
	if (pass == NN_FWD) {
		SHAPE("linear", X && Y);
		/* Y (+)= X W, then the bias row on every row. */
		nn_sgemm(0, 0, n, out, in, 1.0f, X, in, W, out, acc_y ? 1.0f : 0.0f, Y, out);
		if (b)
			for (int i = 0; i < n; i++) {
				float *y = Y + (size_t)i * out;
				for (int j = 0; j < out; j++)
					y[j] += b[j];
			}
		return;
	}
	SHAPE("linear", dY);
	if (dX) /* dX = dY W^T */
		nn_sgemm(0, 1, n, in, out, 1.0f, dY, out, W, out, acc_dx ? 1.0f : 0.0f, dX, in);
	if (dW) { /* dW += X^T dY */
		SHAPE("linear", X);
		nn_sgemm(1, 0, in, out, n, 1.0f, X, in, dY, out, 1.0f, dW, out);
	}
	if (db)
		for (int i = 0; i < n; i++) {
			const float *d = dY + (size_t)i * out;
			for (int j = 0; j < out; j++)
				db[j] += d[j];
		}
}

void nn_op_relu(nn_pass pass, size_t len, const float *X, float *Y, const float *dY, float *dX)
{
	if (pass == NN_FWD) {
		SHAPE("relu", X && Y);
		for (size_t i = 0; i < len; i++)
			Y[i] = X[i] > 0.0f ? X[i] : 0.0f;
		return;
	}
	SHAPE("relu", Y && dY && dX);
	for (size_t i = 0; i < len; i++)
		dX[i] = Y[i] > 0.0f ? dY[i] : 0.0f;
}

NN_HOT void nn_op_bias_relu_dropout(nn_pass pass, int n, int w, float *Z, const float *b,
			     const float *mask, const float *dY, float *dZ, float *db)
{
	SHAPE("bias_relu_dropout", n >= 0 && w > 0 && Z);
	if (pass == NN_FWD) {
		SHAPE("bias_relu_dropout", b);
		for (int i = 0; i < n; i++) {
			float *z = Z + (size_t)i * w;
			const float *m = mask ? mask + (size_t)i * w : NULL;
			for (int j = 0; j < w; j++) {
				float v = z[j] + b[j];
				v = v > 0.0f ? v : 0.0f;
				z[j] = m ? v * m[j] : v;
			}
		}
		return;
	}
	SHAPE("bias_relu_dropout", dY && dZ);
	/* Where the mask dropped a unit Z is 0 and so is the gradient: [Z > 0] covers both. */
	for (int i = 0; i < n; i++) {
		const float *z = Z + (size_t)i * w, *dy = dY + (size_t)i * w;
		const float *m = mask ? mask + (size_t)i * w : NULL;
		float *dz = dZ + (size_t)i * w;
		for (int j = 0; j < w; j++) {
			float v = z[j] > 0.0f ? dy[j] : 0.0f;
			dz[j] = m ? v * m[j] : v;
		}
		if (db)
			for (int j = 0; j < w; j++)
				db[j] += dz[j];
	}
}

/* exp(x) for float in straight-line code the compiler can vectorise (libm's expf is a call):
 * x = n ln2 + r with |r| <= ln2/2, e^r by its degree-6 Taylor polynomial (relative error
 * < 3e-7 on that interval, about 2 float ulps), times 2^n built in the exponent bits.
 * Inputs are clamped to [-87.3, 88], where the result stays a normal float. */
static inline float exp_fast(float x)
{
	x = x < -87.3f ? -87.3f : x;
	x = x > 88.0f ? 88.0f : x;
	float t = x * 1.44269504f + 12582912.0f; /* round(x / ln2) via the 1.5 * 2^23 trick */
	float nf = t - 12582912.0f;
	float r = x - nf * 0.693145752f; /* ln2 split in two for precision */
	r = r - nf * 1.42860677e-6f;
	float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.6666667e-1f +
		  r * (4.1666668e-2f + r * (8.3333338e-3f + r * 1.3888889e-3f)))));
	int32_t n = (int32_t)nf;
	uint32_t bits = (uint32_t)(n + 127) << 23;
	float two_n;
	memcpy(&two_n, &bits, sizeof two_n);
	return p * two_n;
}

/* tanh through one exp: tanh(u) = 1 - 2 / (exp(2u) + 1), exact at both tails (exp saturating
 * gives 1, underflow gives -1). */
static inline float tanh_fast(float u)
{
	return 1.0f - 2.0f / (exp_fast(2.0f * u) + 1.0f);
}

#define GELU_C 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_A 0.044715f

NN_HOT void nn_op_gelu(nn_pass pass, size_t len, const float *X, float *Y, const float *dY, float *dX)
{
	SHAPE("gelu", X);
	if (pass == NN_FWD) {
		SHAPE("gelu", Y && Y != X);
		for (size_t i = 0; i < len; i++) {
			float x = X[i];
			float t = tanh_fast(GELU_C * (x + GELU_A * x * x * x));
			Y[i] = 0.5f * x * (1.0f + t);
		}
		return;
	}
	SHAPE("gelu", dY && dX);
	/* d/dx 0.5 x (1 + t) = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2) */
	for (size_t i = 0; i < len; i++) {
		float x = X[i];
		float t = tanh_fast(GELU_C * (x + GELU_A * x * x * x));
		float dg = 0.5f * (1.0f + t) +
			   0.5f * x * (1.0f - t * t) * GELU_C * (1.0f + 3.0f * GELU_A * x * x);
		dX[i] = dY[i] * dg;
	}
}

void nn_dropout_mask(size_t len, float p, lm_rng *rng, float *mask)
{
	/* Four 16-bit uniforms from each 64-bit draw (p is resolved to 1/65536, plenty for a
	 * dropout rate): keep when u >= p. */
	uint32_t thr = (uint32_t)(p * 65536.0f);
	float scale = 1.0f / (1.0f - p);
	size_t i = 0;
	while (i < len) {
		uint64_t r = rng_next(rng);
		for (int k = 0; k < 4 && i < len; k++, i++, r >>= 16)
			mask[i] = (uint32_t)(r & 0xffff) >= thr ? scale : 0.0f;
	}
}

void nn_op_dropout(nn_pass pass, size_t len, float p, lm_rng *rng, float *mask, const float *X,
		   float *Y, const float *dY, float *dX)
{
	SHAPE("dropout", p >= 0.0f && p < 1.0f);
	if (pass == NN_FWD) {
		SHAPE("dropout", X && Y);
		if (!rng || p <= 0.0f) {
			if (Y != X)
				memcpy(Y, X, len * sizeof *Y);
			return;
		}
		SHAPE("dropout", mask);
		nn_dropout_mask(len, p, rng, mask);
		for (size_t i = 0; i < len; i++)
			Y[i] = X[i] * mask[i];
		return;
	}
	SHAPE("dropout", dY && dX);
	if (!mask) {
		if (dX != dY)
			memcpy(dX, dY, len * sizeof *dX);
		return;
	}
	for (size_t i = 0; i < len; i++)
		dX[i] = dY[i] * mask[i];
}

#define LN_EPS 1e-5f

NN_HOT void nn_op_layernorm(nn_pass pass, int n, int d, const float *X, const float *g, const float *b,
		     float *Y, float *mean, float *rstd, const float *dY, float *dX, int acc_dx,
		     float *dg, float *db)
{
	SHAPE("layernorm", n >= 0 && d > 0 && X && g && mean && rstd);
	if (pass == NN_FWD) {
		SHAPE("layernorm", b && Y);
		for (int i = 0; i < n; i++) {
			const float *x = X + (size_t)i * d;
			float *y = Y + (size_t)i * d;
			float mu = 0.0f, var = 0.0f;
			for (int j = 0; j < d; j++)
				mu += x[j];
			mu /= (float)d;
			for (int j = 0; j < d; j++)
				var += (x[j] - mu) * (x[j] - mu);
			var /= (float)d;
			float rs = 1.0f / sqrtf(var + LN_EPS);
			mean[i] = mu;
			rstd[i] = rs;
			for (int j = 0; j < d; j++)
				y[j] = g[j] * (x[j] - mu) * rs + b[j];
		}
		return;
	}
	SHAPE("layernorm", dY);
	for (int i = 0; i < n; i++) {
		const float *x = X + (size_t)i * d, *dy = dY + (size_t)i * d;
		float mu = mean[i], rs = rstd[i];
		float s1 = 0.0f, s2 = 0.0f; /* mean(gx), mean(gx * xh) */
		for (int j = 0; j < d; j++) {
			float xh = (x[j] - mu) * rs, gx = dy[j] * g[j];
			s1 += gx;
			s2 += gx * xh;
			if (dg)
				dg[j] += dy[j] * xh;
			if (db)
				db[j] += dy[j];
		}
		s1 /= (float)d;
		s2 /= (float)d;
		if (dX) {
			float *dx = dX + (size_t)i * d;
			for (int j = 0; j < d; j++) {
				float xh = (x[j] - mu) * rs;
				float v = rs * (dy[j] * g[j] - s1 - xh * s2);
				dx[j] = acc_dx ? dx[j] + v : v;
			}
		}
	}
}

NN_HOT void nn_op_tokens(nn_pass pass, int n, int n_in, int n_tok, int d, const int *slot_token,
		  const float *X, const float *W, const float *B, const float *cls, float *Y,
		  const float *dY, float *dX, float *dW, float *dB, float *dcls)
{
	SHAPE("tokens", n >= 0 && n_in > 0 && n_tok > 0 && d > 0 && slot_token && W);
	size_t T = (size_t)n_tok + 1;
	if (pass == NN_FWD) {
		SHAPE("tokens", X && B && cls && Y);
		for (int r = 0; r < n; r++) {
			float *y = Y + (size_t)r * T * d;
			const float *x = X + (size_t)r * n_in;
			memcpy(y, cls, (size_t)d * sizeof *y);
			memcpy(y + d, B, (size_t)n_tok * d * sizeof *y);
			for (int s = 0; s < n_in; s++) {
				float v = x[s];
				if (v == 0.0f)
					continue;
				float *t = y + (size_t)(1 + slot_token[s]) * d;
				const float *w = W + (size_t)s * d;
				for (int j = 0; j < d; j++)
					t[j] += v * w[j];
			}
		}
		nn_count_flops(2.0 * n * n_in * d);
		return;
	}
	SHAPE("tokens", dY);
	for (int r = 0; r < n; r++) {
		const float *dy = dY + (size_t)r * T * d;
		const float *x = X ? X + (size_t)r * n_in : NULL;
		if (dcls)
			for (int j = 0; j < d; j++)
				dcls[j] += dy[j];
		if (dB)
			for (size_t j = 0; j < (size_t)n_tok * d; j++)
				dB[j] += dy[d + j];
		for (int s = 0; s < n_in; s++) {
			const float *dt = dy + (size_t)(1 + slot_token[s]) * d;
			if (dX) {
				const float *w = W + (size_t)s * d;
				float acc = 0.0f;
				for (int j = 0; j < d; j++)
					acc += w[j] * dt[j];
				dX[(size_t)r * n_in + s] = acc;
			}
			if (dW && x && x[s] != 0.0f) {
				float v = x[s], *dw = dW + (size_t)s * d;
				for (int j = 0; j < d; j++)
					dw[j] += v * dt[j];
			}
		}
	}
	nn_count_flops(4.0 * n * n_in * d);
}

/* Row softmax in place, max subtracted first. */
static inline void softmax_inplace(float *z, int C)
{
	float mx = z[0], sum = 0.0f;
	for (int c = 1; c < C; c++)
		mx = z[c] > mx ? z[c] : mx;
	for (int c = 0; c < C; c++) {
		z[c] = exp_fast(z[c] - mx);
		sum += z[c];
	}
	float inv = 1.0f / sum;
	for (int c = 0; c < C; c++)
		z[c] *= inv;
}

/* Eight floats as one value (GCC/Clang vector extension): an AVX register in the AVX2
 * clone, two SSE registers in the default one. Loads and stores go through memcpy, so no
 * alignment is assumed. The helpers are always inlined, so the warning that a vector
 * return changes the ABI without AVX does not apply. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpsabi"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef float v8 __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) v8 ld8(const float *p)
{
	v8 v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline __attribute__((always_inline)) void st8(float *p, v8 v)
{
	memcpy(p, &v, sizeof v);
}

static inline __attribute__((always_inline)) float hsum8(v8 v)
{
	return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

/* Key counts are padded to a multiple of 8 inside the scratch buffers. */
static int pad8(int T)
{
	return (T + 7) & ~7;
}

/* Softmax of a score row of T entries held in a buffer padded to Tp = 8 nb: the exponentials
 * run over whole vectors (the padding gets a harmless value and is zeroed after), and the
 * sum is an 8-lane vector accumulation, which strict float semantics would not let the
 * compiler vectorise from a plain loop. */
static inline __attribute__((always_inline)) void softmax_padded(float *pr, int T, int nb)
{
	float mx = pr[0];
	for (int j = 1; j < T; j++)
		mx = pr[j] > mx ? pr[j] : mx;
	for (int j = 0; j < 8 * nb; j++)
		pr[j] = exp_fast(pr[j] - mx);
	for (int j = T; j < 8 * nb; j++)
		pr[j] = 0.0f;
	v8 sum = {0};
	for (int b = 0; b < nb; b++)
		sum += ld8(pr + 8 * b);
	float inv = 1.0f / hsum8(sum);
	for (int b = 0; b < nb; b++)
		st8(pr + 8 * b, ld8(pr + 8 * b) * inv);
}

size_t nn_attention_scratch(int T, int dh)
{
	size_t Tp = (size_t)pad8(T);
	return (size_t)T * dh + 4 * (size_t)dh * Tp + 3 * Tp;
}

/* One (row, head) at a time on copies laid out for 8-wide arithmetic along the keys: q as
 * T x dh (pre-scaled by 1/sqrt(dh)), k and v transposed to dh x Tp with zero padding. A
 * score row is then dh vector multiply-adds per 8 keys, with the accumulator in a register,
 * and every product of the backward pass runs along the keys the same way. */
NN_HOT void nn_op_attention(nn_pass pass, int n, int T, int d, int H, const float *QKV,
			    float *P, float *O, const float *dO, float *dQKV, float *scratch)
{
	SHAPE("attention", n >= 0 && T > 0 && H > 0 && d % H == 0 && QKV && P && scratch);
	int dh = d / H, Tp = pad8(T), nb = Tp / 8;
	size_t row = (size_t)3 * d; /* width of a QKV row */
	size_t dtp = (size_t)dh * Tp;
	float scale = 1.0f / sqrtf((float)dh);
	float *q = scratch, *kt = q + (size_t)T * dh, *vt = kt + dtp;
	float *dkt = vt + dtp, *dvt = dkt + dtp;
	float *pr = dvt + dtp, *dp = pr + Tp, *ds = dp + Tp;
	if (pass == NN_FWD)
		SHAPE("attention", O);
	else
		SHAPE("attention", dO && dQKV);
	memset(kt, 0, 2 * dtp * sizeof *kt); /* the padding of kt and vt stays zero */
	for (int j = T; j < Tp; j++)
		pr[j] = 0.0f;
	for (int r = 0; r < n; r++) {
		const float *base = QKV + (size_t)r * T * row;
		for (int h = 0; h < H; h++) {
			float *p = P + ((size_t)r * H + h) * T * T;
			for (int i = 0; i < T; i++) {
				const float *src = base + (size_t)i * row + (size_t)h * dh;
				for (int c = 0; c < dh; c++) {
					q[(size_t)i * dh + c] = src[c] * scale;
					kt[(size_t)c * Tp + i] = src[d + c];
					vt[(size_t)c * Tp + i] = src[2 * d + c];
				}
			}
			if (pass == NN_FWD) {
				for (int i = 0; i < T; i++) {
					const float *qi = q + (size_t)i * dh;
					for (int b = 0; b < nb; b++) {
						v8 acc = {0};
						for (int c = 0; c < dh; c++)
							acc += qi[c] * ld8(kt + (size_t)c * Tp + 8 * b);
						st8(pr + 8 * b, acc);
					}
					softmax_padded(pr, T, nb);
					memcpy(p + (size_t)i * T, pr, (size_t)T * sizeof *pr);
					float *oi = O + ((size_t)r * T + i) * d + (size_t)h * dh;
					for (int c = 0; c < dh; c++) {
						v8 acc = {0};
						const float *vc = vt + (size_t)c * Tp;
						for (int b = 0; b < nb; b++)
							acc += ld8(pr + 8 * b) * ld8(vc + 8 * b);
						oi[c] = hsum8(acc);
					}
				}
				continue;
			}
			/* Backward: dP = dO V^T, dS = P (dP - rowsum(P dP)); with q pre-scaled,
			 * dQ = scale dS K, dK = dS^T (scale Q), dV = P^T dO. */
			memset(dkt, 0, 2 * dtp * sizeof *dkt); /* dkt and dvt */
			float *dqkv = dQKV + (size_t)r * T * row + (size_t)h * dh;
			for (int i = 0; i < T; i++) {
				memcpy(pr, p + (size_t)i * T, (size_t)T * sizeof *pr);
				const float *doi = dO + ((size_t)r * T + i) * d + (size_t)h * dh;
				v8 dotv = {0};
				for (int b = 0; b < nb; b++) {
					v8 acc = {0}, pb = ld8(pr + 8 * b);
					for (int c = 0; c < dh; c++) {
						acc += doi[c] * ld8(vt + (size_t)c * Tp + 8 * b);
						float *dvc = dvt + (size_t)c * Tp + 8 * b;
						st8(dvc, ld8(dvc) + doi[c] * pb);
					}
					st8(dp + 8 * b, acc);
					dotv += pb * acc;
				}
				float dot = hsum8(dotv);
				for (int b = 0; b < nb; b++)
					st8(ds + 8 * b, ld8(pr + 8 * b) * (ld8(dp + 8 * b) - dot));
				const float *qi = q + (size_t)i * dh;
				float *dqi = dqkv + (size_t)i * row;
				for (int c = 0; c < dh; c++) {
					const float *kc = kt + (size_t)c * Tp;
					float *dkc = dkt + (size_t)c * Tp;
					v8 acc = {0};
					for (int b = 0; b < nb; b++) {
						v8 sb = ld8(ds + 8 * b);
						acc += sb * ld8(kc + 8 * b);
						st8(dkc + 8 * b, ld8(dkc + 8 * b) + qi[c] * sb);
					}
					dqi[c] = hsum8(acc) * scale;
				}
			}
			for (int j = 0; j < T; j++) {
				float *dst = dqkv + (size_t)j * row;
				for (int c = 0; c < dh; c++) {
					dst[d + c] = dkt[(size_t)c * Tp + j];
					dst[2 * d + c] = dvt[(size_t)c * Tp + j];
				}
			}
		}
	}
	/* QK^T and PV: 2 T^2 dh multiply-adds a head forward, twice that backward. */
	nn_count_flops((pass == NN_FWD ? 4.0 : 8.0) * n * H * (double)T * T * dh);
}

void nn_softmax_row(float *z, int C)
{
	softmax_inplace(z, C);
}

double nn_op_bce(int n, const float *z, const float *y, const float *w, float scale, float *dz)
{
	SHAPE("bce", n >= 0 && z && y);
	double loss = 0.0;
	for (int i = 0; i < n; i++) {
		double zi = (double)z[i], yi = y[i] > 0.5f ? 1.0 : 0.0;
		double wi = w ? (double)w[yi > 0.5 ? 1 : 0] : 1.0;
		/* log(1 + exp(z)) - z y, stable for either sign of z */
		loss += wi * ((zi > 0 ? zi : 0.0) - zi * yi + log1p(exp(-fabs(zi))));
		if (dz) {
			double p = 1.0 / (1.0 + exp(-zi));
			dz[i] = (float)((double)scale * wi * (p - yi));
		}
	}
	return loss;
}

double nn_op_softmax_ce(int n, int C, const float *z, const float *y, const float *w,
			float scale, float *dz)
{
	SHAPE("softmax_ce", n >= 0 && C >= 2 && z && y);
	double loss = 0.0;
	for (int i = 0; i < n; i++) {
		const float *zi = z + (size_t)i * C;
		int yi = (int)y[i];
		SHAPE("softmax_ce", yi >= 0 && yi < C);
		double wi = w ? (double)w[yi] : 1.0;
		double mx = (double)zi[0], sum = 0.0;
		for (int c = 1; c < C; c++)
			mx = (double)zi[c] > mx ? (double)zi[c] : mx;
		for (int c = 0; c < C; c++)
			sum += exp((double)zi[c] - mx);
		double lse = mx + log(sum);
		loss += wi * (lse - (double)zi[yi]);
		if (dz)
			for (int c = 0; c < C; c++) {
				double p = exp((double)zi[c] - lse);
				dz[(size_t)i * C + c] = (float)((double)scale * wi * (p - (c == yi)));
			}
	}
	return loss;
}
