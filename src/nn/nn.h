/* nn.h: the neural-network engine over OpenBLAS — models, forward and backward passes with
 * input gradients, flat parameter/gradient buffers, and training (AdamW, early stopping).
 *
 * Layout: a batch is row-major, X[n * n_in]; outputs are logits[n * n_out] (n_out = 1 for a
 * binary sigmoid head, C for a C-class softmax head).
 *
 * Architectures:
 *   NN_LOGREG      logits = X W + b; L2 penalty `l2` on W (not b).
 *   NN_MLP         n_hidden layers of hidden[i] units: linear, ReLU, dropout; then linear head.
 *   NN_TRANSFORMER feature tokens in the FT-Transformer style: every input slot s belongs to
 *                  token slot_token[s]; token t = bias_t + sum over its slots of x_s * W_s
 *                  (W_s a learned d_model vector), so a numeric column is "a vector and a bias"
 *                  (its missing indicator adds a second vector) and a one-hot categorical is an
 *                  embedding. A CLS token is prepended; n_blocks pre-norm blocks
 *                  (x += MHA(LN(x)); x += FFN(LN(x)), FFN = linear, GELU, dropout, linear);
 *                  the head is LN then linear on the CLS token.
 *   NN_GRU, NN_CNN, NN_CNNGRU  visit sequences (nn_seq.h): a row is [n_in - K F static slots |
 *                  K steps x F features], the last feature of each step its present flag
 *                  (1 a visit, 0 padding: padded steps change nothing). gru: a GRU of
 *                  gru_hidden units over the steps, its last state ++ the static slots;
 *                  cnn: a width conv_width 1-D convolution (conv_channels, ReLU) over the
 *                  masked steps, pooled by the masked mean; cnn-gru: the convolution's
 *                  feature maps fed to the GRU. With attention = A > 0 (gru, cnn-gru) the
 *                  head also reads c = sum_t a_t h_t, additive attention over the GRU
 *                  states (weights 0 on padded steps; nn_visit_attention). Then a head of
 *                  hidden[0] ReLU units and a linear output. No dropout.
 * Every operator has forward and backward side by side in nn_layers.c (nn_seq.c for the
 * sequence operators); every matrix product goes
 * through nn_sgemm. */
#ifndef LUMEN_NN_H
#define LUMEN_NN_H

#include <stddef.h>
#include <stdint.h>

#include "../util.h"

typedef enum { NN_LOGREG, NN_MLP, NN_TRANSFORMER, NN_GRU, NN_CNN, NN_CNNGRU } nn_arch;

/* Names "logreg", "mlp", "transformer", "gru", "cnn", "cnn-gru"; parse returns -1 for an
 * unknown name. */
const char *nn_arch_name(nn_arch a);
int nn_arch_parse(const char *s);

#define NN_MAX_HIDDEN 8

typedef struct nn_spec {
	nn_arch arch;
	int n_in;  /* input slots */
	int n_out; /* 1 (binary, sigmoid) or C >= 3 (softmax; C = 2 is accepted too) */
	/* logreg */
	float l2; /* default 1e-3, as a penalty 0.5 * l2 * |W|^2 per sample */
	/* mlp */
	int n_hidden;               /* default 2 */
	int hidden[NN_MAX_HIDDEN];  /* default 64, 64 */
	float dropout;              /* default 0.1: after each mlp ReLU; in the transformer on the
				     * FFN's GELU output and on the attention output (after its
				     * projection, before the residual add) */
	/* transformer */
	int d_model, n_blocks, n_heads, d_ffn; /* defaults 32, 2, 4, 64 */
	int n_tokens;          /* feature tokens (excluding CLS) */
	const int *slot_token; /* n_in entries in [0, n_tokens); copied by nn_create */
	/* sequence models */
	int seq_steps, seq_feat;       /* K steps of F features at the end of a row */
	int gru_hidden;                /* default 32 */
	int conv_channels, conv_width; /* default 32, 3 */
	int attention;                 /* gru, cnn-gru: the width A of additive attention over the
					* GRU states (nn_seq.h, nn_op_visit_attn); 0 (default) none */
} nn_spec;

/* Fills a spec with the documented defaults for arch (slot_token NULL: one token per slot). */
void nn_spec_defaults(nn_spec *s, nn_arch arch, int n_in, int n_out);

typedef struct nn_model nn_model;

/* Creates a model with weights initialised from seed: logreg zeros; mlp hidden layers
 * Kaiming normal N(0, 2/fan_in), its head and every transformer matrix U(+-1/sqrt(fan_in))
 * (PyTorch's default), feature tokens and CLS U(+-1/sqrt(d)); biases 0, norm gains 1.
 * NULL with err filled when the spec is invalid. Free with nn_free. */
nn_model *nn_create(const nn_spec *spec, uint64_t seed, lm_err *err);
void nn_free(nn_model *m);
const nn_spec *nn_get_spec(const nn_model *m);
/* A copy of m's spec and parameters with workspaces of its own (gradients zero), so that
 * two threads can run the same network at once (one copy each). Free with nn_free. (NULL
 * only for a spec nn_create rejects, which a model it made never has.) */
nn_model *nn_clone(const nn_model *m);

/* Flat parameter and gradient buffers (owned by the model, nn_nparams floats each). */
size_t nn_nparams(const nn_model *m);
float *nn_params(nn_model *m);
float *nn_grads(nn_model *m);
void nn_zero_grad(nn_model *m);

/* Named tensors, for saving and loading: views into the flat parameter buffer. */
int nn_ntensors(const nn_model *m);
/* Tensor names: logreg "w" [n_in x n_out], "b"; mlp "layers.I.w" [in x out], "layers.I.b",
 * "head.w", "head.b"; transformer "tokens.w" [n_in x d], "tokens.b" [n_tokens x d],
 * "tokens.cls" [d], per block "blocks.B." + "ln1.g", "ln1.b", "attn.wqkv" [d x 3d: query, key,
 * value projections side by side], "attn.bqkv", "attn.wo", "attn.bo", "ln2.g", "ln2.b",
 * "ffn.w1" [d x d_ffn], "ffn.b1", "ffn.w2", "ffn.b2"; then "head.ln.g", "head.ln.b", "head.w",
 * "head.b". Weight matrices are [fan_in x fan_out] row-major (y = x W + b). Returned strings
 * and pointers belong to the model. */
const char *nn_tensor_name(const nn_model *m, int i);  /* e.g. "blocks.0.attn.wqkv" */
int nn_tensor_shape(const nn_model *m, int i, int shape[4]); /* returns rank */
float *nn_tensor_data(nn_model *m, int i);
size_t nn_tensor_size(const nn_model *m, int i);

/* Forward pass on a batch. train != 0 applies dropout using rng (rng may be NULL when
 * train == 0). Activations are kept for nn_backward (X itself is copied, so the caller may
 * reuse it). logits: n * n_out floats, caller's. Workspaces grow to the largest n seen and
 * are kept: a batch of R rows costs about R * (n_in + 2 * sum(hidden) + 2 * max width)
 * floats for mlp and R * T * (n_blocks * (9 d + 3 d_ffn + n_heads * T) + (n_blocks + 7) d +
 * d_ffn) floats for transformer (about 270 kB a row at the defaults with 40 tokens: batch a
 * few hundred to a few thousand rows, not hundreds of thousands). */
void nn_forward(nn_model *m, const float *X, int n, float *logits, int train, lm_rng *rng);
/* Backward pass for the last forward: dlogits (n * n_out) is dLoss/dlogits. Accumulates
 * parameter gradients into nn_grads() when want_param_grads, and writes dLoss/dX into dX
 * (n * n_in) when dX != NULL. For explanations call with dlogits = one-hot of the class. */
void nn_backward(nn_model *m, const float *dlogits, float *dX, int want_param_grads);

/* Path sums for integrated gradients: for np inputs x_p = X + idx[p] n_in and one baseline
 * b, with f = sign * logits[out],
 *   G[p n_in + j] = sum_k w[k] df/dx_j at b + alpha[k] (x_p - b),   k < steps,
 * every point of every path in one batch (np * steps rows: keep it to a few hundred; the
 * workspace follows nn_forward's cost per row). Attributions are then (x_p - b) G_p. A GRU
 * model (NN_GRU without attention) takes a dedicated route (nn_seq.c): its input projection and the head's
 * static inputs are linear along the path, so they are computed once per patient and the
 * weighted sums are taken before the products back to the inputs, not after; every other
 * model builds the rows and runs nn_forward and nn_backward. Overwrites the last forward. */
void nn_path_grad(nn_model *m, const float *X, const long *idx, long np, const float *base,
		  int steps, const double *alpha, const double *w, int out, float sign,
		  float *G);

/* A gru or cnn-gru with attention: the visit weights a_t of the last forward pass, n * K
 * floats [patient][step] (K = seq_steps, step K-1 the most recent; nn_seq.h gives the rule:
 * 0 on a padded step, at most 1 in sum). NULL for other models or before a forward pass.
 * Valid until the next forward; belongs to the model. */
const float *nn_visit_attention(const nn_model *m);

/* Transformer only: the attention probabilities of the last forward pass (dropout is never
 * applied to them, so they are the same for train != 0),
 * for block b: n * n_heads * T * T floats, T = n_tokens + 1, token 0 = CLS, row-major as
 * [patient][head][query][key]. NULL for other architectures or before a forward pass.
 * Valid until the next forward. */
const float *nn_attention(const nn_model *m, int block);

/* Loss for a batch given logits: binary cross-entropy with logits (y in {0,1}) or softmax
 * cross-entropy (y = class index), with optional per-class weights (NULL = 1; n_out == 1
 * uses class_weight[0] and [1]): sum_i w[y_i] loss_i / n. Writes dlogits (of that mean)
 * when dlogits != NULL. For logreg the penalty 0.5 l2 |W|^2 is included in the returned loss
 * and its gradient l2 W is added by nn_backward (want_param_grads). Returns the mean loss. */
double nn_loss(const nn_model *m, const float *logits, const float *y, int n,
	       const float *class_weight, float *dlogits);

/* Training. X: n * n_in; y: n labels (0/1, or class index as float).
 * Shuffles with seed, holds out val_frac of the rows (stratified) for early stopping on the
 * validation loss (patience epochs), and restores the best weights. NaN or infinity in the
 * loss stops with EX_DATAERR "training diverged at epoch E (loss is NaN)". */
typedef struct nn_train_opts {
	int epochs;        /* default 100 (upper bound; early stopping usually ends sooner) */
	int batch;         /* default 256 */
	float lr;          /* default 1e-3 (logreg 1e-2) */
	float weight_decay; /* AdamW decoupled decay, default 1e-4 (0 for logreg: it uses l2);
			     * applied to weight matrices only, not biases, norms or tokens.
			     * AdamW betas 0.9, 0.999, eps 1e-8 as in PyTorch. */
	float val_frac;    /* default 0.15 */
	int patience;      /* default 10 */
	uint64_t seed;
	const float *class_weight; /* NULL = 1 for every class */
	int threads;       /* data-parallel training (default 1): each mini-batch cut into
			    * `threads` contiguous shares, each share's forward and backward on its
			    * own replica of the network in its own thread, the gradients summed
			    * (in replica order) before one AdamW step; OpenBLAS at one thread
			    * meanwhile. Dropout masks come from one stream per share seeded from
			    * the training stream, so the result is the same for a seed and a thread
			    * count, but differs between thread counts (other masks, other float
			    * sums). At most 16. */
	/* progress: called once per epoch; may be NULL */
	void (*progress)(void *ctx, int epoch, double train_loss, double val_loss, double val_auc);
	void *ctx;
} nn_train_opts;

void nn_train_defaults(nn_train_opts *o, nn_arch arch);

typedef struct nn_train_result {
	int epochs_run, best_epoch;
	double best_val_loss, final_train_loss;
	double seconds, samples_per_sec;
} nn_train_result;

/* With val_frac == 0 (or too few rows to hold any out) the training loss is monitored
 * instead. The best weights are restored on every return, also after a divergence (then
 * the status is EX_DATAERR and the caller must not store the model). Bad options are
 * EX_USAGE; a label that is not a class index EX_DATAERR. res->samples_per_sec counts the
 * training steps only (forward, loss, backward, AdamW), not the validation passes.
 * Deterministic for a seed, o->threads and a number of OpenBLAS threads. A logreg model is solved by
 * nn_logreg_fit (only class_weight, threads and progress of o are used). */
int nn_train(nn_model *m, const float *X, const float *y, int n, const nn_train_opts *o,
	     nn_train_result *res, lm_err *err);

/* Logistic regression is solved, not trained: nn_train on a logreg model calls this, and
 * its epochs, batch, lr, weight decay, val_frac and patience do not apply. Minimises
 *   (1/n) sum_i c_i loss_i + 0.5 l2 |W|^2      (c_i = class_weight[y_i], or 1)
 * (o may be NULL; only its class_weight, threads, progress and ctx are used: progress is
 * called once per Newton iteration with the objective before the step as the training loss
 * and NaN validation figures; o->threads > 1 splits the rows of every pass over threads,
 * at most one per 1024 rows, partial sums added in thread order, OpenBLAS at one thread
 * during the fit: the same fit for a thread count, equal across counts to double rounding) over W and the unpenalised intercepts b by Newton's method (IRLS) with a backtracking
 * line search from the model's current weights, to a step below 1e-10 (relative); logits,
 * objective, gradient and Newton system in double, the Hessian's X^T D X in float BLAS.
 * This is scikit-learn's LogisticRegression(C = 1 / (l2 n)) objective (its C sum_i c_i
 * loss_i + 0.5 |W|^2 scaled by 1 / (C n)); for K >= 2 classes (multinomial) the intercepts,
 * which the softmax determines only up to a common constant, are the ones with sum 0 (as
 * scikit-learn's lbfgs from zero gives). res: epochs_run = best_epoch = Newton iterations,
 * final_train_loss the penalised objective, samples_per_sec = n / seconds. EX_DATAERR for
 * a label that is not a class index or a non-finite objective (no weights are changed). */
int nn_logreg_fit(nn_model *m, const float *X, const float *y, int n, const nn_train_opts *o,
		  nn_train_result *res, lm_err *err);

/* Logits for n rows with train == 0, in chunks sized for the architecture (a transformer row
 * keeps ~1.6k floats of activations per token, so it goes 64 rows at a time). logits: n * n_out. */
void nn_logits(nn_model *m, const float *X, long n, float *logits);
/* Probabilities from logits in double: sigmoid (C == 1) or softmax rows (C >= 2).
 * z: n * C floats; p: n * C doubles. */
void nn_probs(const float *z, long n, int C, double *p);

/* Convenience: probabilities (sigmoid of the logit for binary; softmax rows for multi-class)
 * for n rows, batched internally. out: n * n_out. */
void nn_predict(nn_model *m, const float *X, int n, float *out);

/* The one sgemm wrapper: C = alpha * op(A) op(B) + beta * C, row-major. Counts FLOPs. */
void nn_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A,
	      int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* Total floating-point operations since start (for the benchmark): nn_sgemm's 2 M N K, plus
 * the attention and feature-token loops, which are not sgemm calls (see nn_layers.h). The
 * counter is per thread: the operations the calling thread ran. */
double nn_flops(void);

/* Finite-difference gradient check of the whole model on a batch: compares nn_backward's
 * parameter and input gradients with central differences of nn_loss. Returns the maximum
 * relative error (|a-b| / max(1e-3, |a|+|b|)). Used by the tests. */
double nn_check_grad(nn_model *m, const float *X, const float *y, int n, double eps);

#endif
