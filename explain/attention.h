/* attention.h: attention weights of transformer models as explanations.
 *
 * nn_attention gives, after a forward pass, the probabilities [patient][head][query][key] of
 * every block, T = n_tokens + 1 tokens with token 0 the CLS token. The head reads the CLS
 * token only, so its attention row (query 0) says which feature tokens the CLS token mixed
 * in at each block. Feature token t + 1 is spec column t (tokens are the source columns).
 *
 * Rollout (Abnar & Zuidema 2020): per block, average the heads, add the identity (the
 * residual connection) and renormalise the rows; multiply the blocks from the first to the
 * last, R = A'_L ... A'_1; the CLS row of R estimates how much of each input token reaches
 * the CLS token through all blocks. Values are read on keys 1..T-1 (the CLS key is dropped),
 * so they sum to at most 1 over the columns. */
#ifndef LUMEN_ATTENTION_H
#define LUMEN_ATTENTION_H

#include "../src/nn/nn.h"

/* For n patients X (n * n_in) and a transformer net (ntok = n_tokens, nb = n_blocks,
 * nh = n_heads), writes (each may be NULL, all caller's):
 *   heads[n * nb * nh * ntok]  CLS row per block and head, [patient][block][head][column]
 *   last[n * ntok]             CLS row of the last block averaged over heads
 *   rollout[n * ntok]          CLS row of the rollout
 * Runs forward passes in chunks of at most chunk patients (<= 0: 1024).
 * 0, or EX_USAGE with err when net is not a transformer. */
int attn_explain(nn_model *net, const float *X, long n, int chunk, float *heads, float *last,
		 float *rollout, lm_err *err);

/* A gru or cnn-gru with attention over visits (nn_spec.attention > 0): for n patients X, the
 * weight of every visit step, w[n * K] (K = seq_steps, [patient][step], step K-1 the most
 * recent; nn_visit_attention's rule: 0 on padded steps, at most 1 in sum), caller's; and
 * the logits into logit[n] (class out of a multi-class head; may be NULL). Forward passes
 * in chunks of at most chunk patients (<= 0: 256). 0, or EX_USAGE with err for a model
 * without attention over visits. */
int attn_visits(nn_model *net, const float *X, long n, int chunk, int out, float *w,
		float *logit, lm_err *err);
/* 1 when net has attention over visits (attn_visits applies), else 0. */
int attn_over_visits(const nn_model *net);

/* Rollout for one patient from per-block attention already averaged over heads:
 * avg[nb * T * T] (row-major per block). Writes the CLS row over feature tokens into
 * out[T - 1]. Exposed for the tests (closed-form checks). */
void attn_rollout(const float *avg, int nb, int T, float *out);

#endif
