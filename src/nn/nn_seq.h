/* nn_seq.h: the visit-sequence operators (GRU, 1-D convolution, masked pooling, additive
 * attention over the GRU's states) and the three sequence architectures built on them
 * (NN_GRU, NN_CNN, NN_CNNGRU, the GRU ones optionally with attention; see nn.h for the input
 * row layout). Operators follow nn_layers.h: one function per operator, forward and backward
 * side by side switched on `pass`; backward writes input gradients when the pointer is not
 * NULL and ACCUMULATES parameter gradients; no operator allocates. The architecture hooks
 * (nn_seq_*) are what nn.c calls; they are not part of the engine's public contract. */
#ifndef LUMEN_NN_SEQ_H
#define LUMEN_NN_SEQ_H

#include "nn.h"
#include "nn_layers.h"

/* GRU over K steps of n sequences, TIME-MAJOR: input U[(t n + i) Fin + f], mask M[t n + i]
 * (1 a real visit, 0 padding; any value in between is a blend, which integrated gradients
 * uses). Gate columns of W (Fin x 3H), b (3H), Uh (H x 3H) are [z | r | n]. PyTorch's
 * convention, with the hidden bias only on the candidate:
 *   z = s(Wz u + Uz h + bz),  r = s(Wr u + Ur h + br),  c = tanh(Wn u + bn + r (Un h + bhn))
 *   h~ = (1 - z) c + z h,     h_t = m_t h~ + (1 - m_t) h_{t-1},   h_0 = 0.
 * So a padded step (m = 0) leaves the state as it was and its input gets gradient 0.
 * Forward keeps Gx (K n x 3H, = U W + b), Hs ((K+1) n x H: h_0..h_K, the last real state is
 * Hs + K n H), Z, R, C, Hn (K n x H each; Hn = Un h + bhn) and uses gh (n x 3H) as scratch.
 * Backward from dHlast (n x H, dLoss/dh_K) and dHall (K n x H laid out as Hs + n H, the
 * gradient reaching every state h_1..h_K from outside the recurrence, e.g. from attention;
 * NULL: none): dU (K n x Fin) and dM (K n, = sum_j dh (h~ - h)) written when not NULL; dW,
 * db, dUh, dbhn accumulated; dGx (K n x 3H), dh (n x H) and dgh (n x 3H) are scratch. */
void nn_op_gru(nn_pass pass, int n, int K, int Fin, int H, const float *U, const float *M,
	       const float *W, const float *b, const float *Uh, const float *bhn, float *Gx,
	       float *Hs, float *Z, float *R, float *C, float *Hn, float *gh, const float *dHlast,
	       const float *dHall, float *dU, float *dM, float *dW, float *db, float *dUh,
	       float *dbhn, float *dGx, float *dh, float *dgh);

/* Additive (Bahdanau) attention over K states of n sequences, TIME-MAJOR like nn_op_gru's
 * states: Hs[(t n + i) H] (h_1..h_K, i.e. the GRU's Hs + n H), mask M[t n + i]. Width A:
 *   e_t = v . tanh(h_t Wa + ba)                        (Wa H x A, ba and v A)
 *   a_t = m_t exp(e_t) / (1 + sum_s m_s exp(e_s)),     c = sum_t a_t h_t
 * The 1 is a pseudo-visit of score 0 and state 0 (as nn_op_masked_pool's): a padded step
 * (m = 0) gets weight exactly 0 and adds exact zeros, an empty sequence gives c = 0, and
 * the weights are smooth in m (integrated gradients moves m along its path); they sum to
 * S / (1 + S), S = sum_s m_s exp(e_s), so below 1. Computed shifted by mu = max(0, e_t over
 * m_t != 0), which leaves every a_t as it is. Forward keeps Ua (K n x A, the tanh), E (K n,
 * the scores), Q (K n, exp(e_t) / (1 + S)) and Aw (K n, a_t = m_t Q_t), and writes ctx
 * (n x H). Backward from dctx (n x H), with g_t = dctx . h_t and gbar = sum_t a_t g_t:
 *   de_t = a_t (g_t - gbar),   dm_t = Q_t (g_t - gbar),   dh_t = a_t dctx + (de_t v
 *   (1 - Ua_t^2)) Wa^T;
 * dHs (K n x H) written, dM ADDED when not NULL, dWa, dba, dv accumulated; dUa (K n x A)
 * scratch. */
void nn_op_visit_attn(nn_pass pass, int n, int K, int H, int A, const float *Hs, const float *M,
		      const float *Wa, const float *ba, const float *v, float *Ua, float *E,
		      float *Q, float *Aw, float *ctx, const float *dctx, float *dHs, float *dM,
		      float *dWa, float *dba, float *dv, float *dUa);

/* 1-D convolution over the step axis of n sequences of K steps (ROW-MAJOR: X[(i K + t) Fin +
 * f]), odd width w, zero padding of (w-1)/2 on both sides, Cout channels:
 *   Y[i, t, c] = bc[c] + sum_{j < w} sum_f Wc[(j Fin + f) Cout + c] X[i, t + j - (w-1)/2, f]
 * as one sgemm over the patches P (n K x w Fin, kept for the backward). Backward: dWc +=
 * P^T dY, dbc += column sums, dX = the patches' gradients dY Wc^T folded back (written). dP
 * (n K x w Fin) is scratch. */
void nn_op_conv1d(nn_pass pass, int n, int K, int Fin, int Cout, int w, const float *X,
		  const float *Wc, const float *bc, float *P, float *Y, const float *dY, float *dX,
		  float *dWc, float *dbc, float *dP);

/* Masked mean pooling over steps: out[i] = sum_t m_it Y_it / (1 + sum_t m_it), Y ROW-MAJOR
 * (n K x Cn), M[i K + t]. The 1 in the denominator (a pseudo-step of zeros) keeps the pool
 * smooth in m, also for an empty sequence (out = 0) and along an attribution path.
 * Backward: dY_it = m_it dout_i / D_i (written), dM_it = (Y_it - out_i) . dout_i / D_i
 * (ADDED to dM when not NULL). */
void nn_op_masked_pool(nn_pass pass, int n, int K, int Cn, const float *Y, const float *M,
		       float *out, const float *dout, float *dY, float *dM);

/* ---- the architectures (nn.c's hooks) ---- */
typedef struct nn_seq nn_seq;

/* Checks the sequence fields of a spec; 0 or EX_DATAERR with err. */
int nn_seq_check(const nn_spec *s, lm_err *err);
/* Adds the tensors of a sequence model to m (through nn_add_tensor) and returns its state. */
nn_seq *nn_seq_layout(nn_model *m);
void nn_seq_free(nn_seq *q);
/* Forward of n rows X (n x n_in, kept by nn.c until the backward); logits n x n_out. */
void nn_seq_forward(nn_seq *q, const nn_spec *s, const float *p, const float *X, int n,
		    float *logits);
/* Backward of the last forward (rows X); g NULL skips parameter gradients. */
void nn_seq_backward(nn_seq *q, const nn_spec *s, const float *p, float *g, const float *X,
		     const float *dlogits, float *dX);

/* The visit weights of the last forward (nn_visit_attention), or NULL without attention. */
const float *nn_seq_attention(const nn_seq *q, const nn_spec *s);

/* nn_path_grad for NN_GRU without attention (see nn.h). */
void nn_seq_path_grad(nn_seq *q, const nn_spec *s, const float *p, const float *X,
		      const long *idx, long np, const float *base, int steps, const double *alpha,
		      const double *w, int out, float sign, float *G);

#endif
