/* nn_layers.h: the operators of the neural-network engine. Each operator is one function that
 * checks its shapes and holds its forward pass and its backward pass side by side, switched on
 * `pass`, so the derivative reads next to the function it differentiates.
 *
 * Conventions: matrices are row-major floats; a batch of n rows of width w is X[n * w].
 * Forward writes Y (overwriting unless stated). Backward reads dY (dLoss/dY) and whatever the
 * forward kept, writes dX (dLoss/dX) when dX != NULL, and ACCUMULATES parameter gradients
 * (dW, db, ...) when they are != NULL, so passing NULL skips that work (explanations need only
 * input gradients). A shape that makes no sense is a programming error: it aborts with a
 * message naming the operator. No operator allocates memory. */
#ifndef LUMEN_NN_LAYERS_H
#define LUMEN_NN_LAYERS_H

#include <stddef.h>

#include "../util.h"

typedef enum { NN_FWD, NN_BWD } nn_pass;

/* Adds to the FLOP counter reported by nn_flops() (work done outside nn_sgemm). */
void nn_count_flops(double flops);

/* Linear: Y[n x out] = X[n x in] W[in x out] + b[out] (b may be NULL). With acc_y the result
 * is added to Y (a residual connection for free).
 * Backward: dX = dY W^T (added to dX when acc_dx), dW += X^T dY, db += column sums of dY. */
void nn_op_linear(nn_pass pass, int n, int in, int out, const float *X, const float *W,
		  const float *b, float *Y, int acc_y, const float *dY, float *dX, int acc_dx,
		  float *dW, float *db);

/* ReLU: Y = max(X, 0), may run in place (Y == X).
 * Backward: dX = dY * [Y > 0], from the forward's OUTPUT Y (so X may have been overwritten). */
void nn_op_relu(nn_pass pass, size_t len, const float *X, float *Y, const float *dY, float *dX);

/* Fused bias + ReLU + dropout for the MLP, in place on Z (the output of a bias-free sgemm):
 * Z = max(Z + b, 0) * mask (mask NULL: no dropout). mask must already hold the dropout scale
 * (see nn_op_dropout). Backward: dZ = dY * mask * [Z > 0] (in place allowed, dZ == dY), and
 * db += column sums of dZ. One pass over the data in each direction. */
void nn_op_bias_relu_dropout(nn_pass pass, int n, int w, float *Z, const float *b,
			     const float *mask, const float *dY, float *dZ, float *db);

/* GELU, tanh form: Y = 0.5 X (1 + tanh(sqrt(2/pi) (X + 0.044715 X^3))) (Hendrycks & Gimpel;
 * it differs from the erf form by < 1e-3). Backward needs the forward's input X:
 * dX = dY * GELU'(X). Y == X is not allowed (X is needed for the backward). */
void nn_op_gelu(nn_pass pass, size_t len, const float *X, float *Y, const float *dY, float *dX);

/* Inverted dropout with probability p. Forward with rng != NULL and p > 0 draws mask (len
 * floats: 0 or 1/(1-p)) and writes Y = X * mask; with rng == NULL it is the identity (Y = X,
 * copied unless in place) and mask is not touched. Backward: dX = dY * mask, or dX = dY when
 * mask == NULL (the caller passes NULL when the forward was an evaluation). In place allowed. */
/* Draws a dropout mask: each of len entries is 0 with probability p, else 1/(1-p). */
void nn_dropout_mask(size_t len, float p, lm_rng *rng, float *mask);
void nn_op_dropout(nn_pass pass, size_t len, float p, lm_rng *rng, float *mask, const float *X,
		   float *Y, const float *dY, float *dX);

/* Layer normalisation over rows of width d (epsilon 1e-5, biased variance as in PyTorch):
 * Y = g * (X - mean) / sqrt(var + eps) + b; forward stores mean[n] and rstd[n].
 * Backward (needs X, mean, rstd): with xh = (X - mean) rstd and gx = dY g,
 * dX = rstd (gx - mean(gx) - xh mean(gx xh)) (added to dX when acc_dx), dg += sum dY xh,
 * db += sum dY. */
void nn_op_layernorm(nn_pass pass, int n, int d, const float *X, const float *g, const float *b,
		     float *Y, float *mean, float *rstd, const float *dY, float *dX, int acc_dx,
		     float *dg, float *db);

/* Feature tokens (FT-Transformer): for each row, token 0 is the CLS vector cls[d]; token
 * 1 + t is B[t] + sum over slots s with slot_token[s] == t of X[s] W[s] (W: n_in x d,
 * B: n_tok x d). Y: n x (n_tok + 1) x d.
 * Backward: dX[s] = W[s] . dY[1 + slot_token[s]], dW[s] += sum_rows X[s] dY[1 + tok],
 * dB[t] += sum_rows dY[1 + t], dcls += sum_rows dY[0]. */
void nn_op_tokens(nn_pass pass, int n, int n_in, int n_tok, int d, const int *slot_token,
		  const float *X, const float *W, const float *B, const float *cls, float *Y,
		  const float *dY, float *dX, float *dW, float *dB, float *dcls);

/* Multi-head scaled dot-product self-attention without masking, on QKV rows (n x T x 3d: the
 * query, key and value projections side by side, head h using columns h*dh .. h*dh+dh-1 of
 * each, dh = d / H). Forward: P = softmax(Q_h K_h^T / sqrt(dh)) per row and head, stored in
 * P[n][H][T][T] (rows sum to 1), O = P V_h concatenated over heads (n x T x d).
 * Backward (needs QKV and P): with dP = dO V^T, dS = P * (dP - rowsum(P * dP)):
 * dQ = dS K / sqrt(dh), dK = dS^T Q / sqrt(dh), dV = P^T dO, written into dQKV.
 * T and dh are small (tens of tokens, 8 dims a head), so the products are loops over
 * contiguous copies of one head held in `scratch` (at least nn_attention_scratch(T, dh)
 * floats) rather than sgemm calls, whose fixed cost would dominate at this size. */
size_t nn_attention_scratch(int T, int dh);
void nn_op_attention(nn_pass pass, int n, int T, int d, int H, const float *QKV, float *P,
		     float *O, const float *dO, float *dQKV, float *scratch);

/* Binary cross-entropy with logits for z[n], labels y in {0,1} and class weights w[2] (NULL =
 * 1): returns sum_i w[y_i] (max(z,0) - z y + log(1 + exp(-|z|))); when dz != NULL writes
 * dz_i = scale * w[y_i] (sigmoid(z_i) - y_i). */
double nn_op_bce(int n, const float *z, const float *y, const float *w, float scale, float *dz);

/* Softmax cross-entropy for logits z[n x C] and labels y (class index as float): returns
 * sum_i w[y_i] (logsumexp(z_i) - z_i[y_i]); when dz != NULL writes
 * dz_i = scale * w[y_i] (softmax(z_i) - onehot(y_i)). */
double nn_op_softmax_ce(int n, int C, const float *z, const float *y, const float *w,
			float scale, float *dz);

/* Row softmax in place (numerically stable), used by prediction and attention. */
void nn_softmax_row(float *z, int C);

#endif
