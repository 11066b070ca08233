/* nnreg.h: a network with one output trained as a regression (mean squared error) — the
 * DR-learner's effect model, whose target is a continuous pseudo-outcome (train_effect.c).
 *
 * A logreg-architecture network (one linear output) is solved exactly: ridge regression
 *   min (1/n) sum_i (x_i w + b - y_i)^2 + l2 |w|^2      (b unpenalised; l2 from its spec)
 * by a Cholesky solve in double. An mlp or transformer is trained by Adam (betas 0.9, 0.999,
 * eps 1e-8, no weight decay) on mini-batches of the mean squared error with dropout, holding
 * out val_frac of the rows (the last of a seeded shuffle) for early stopping after
 * `patience` epochs without a better validation error, and restoring the best weights. */
#ifndef LUMEN_NNREG_H
#define LUMEN_NNREG_H

#include "nn.h"

typedef struct nnreg_opts {
	int epochs, batch, patience; /* defaults 100, 256, 10 */
	float lr, val_frac;          /* defaults 1e-3, 0.15 (0: every row trains, fixed epochs) */
	uint64_t seed;
} nnreg_opts;
void nnreg_defaults(nnreg_opts *o);

typedef struct nnreg_result {
	int epochs_run, best_epoch;
	double best_loss; /* the validation (or training) mean squared error of the kept weights */
} nnreg_result;

/* Fits m (n_out 1) to y on X (n * n_in). 0, EX_USAGE for a network with more than one
 * output, or EX_DATAERR for a non-finite target or a diverged fit (weights then restored). */
int nnreg_fit(nn_model *m, const float *X, const float *y, int n, const nnreg_opts *o,
	      nnreg_result *res, lm_err *err);

#endif
