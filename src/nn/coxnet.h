/* coxnet.h: neural Cox models (DeepSurv style) — a network whose single output is the log
 * relative hazard, trained on the negative Cox partial log-likelihood (Breslow ties) with
 * AdamW on mini-batches (each batch's risk sets are its own patients, as DeepSurv), early
 * stopping on the validation partial likelihood of a held-out part. */
#ifndef LUMEN_COXNET_H
#define LUMEN_COXNET_H

#include "nn.h"

/* Negative partial log-likelihood per event of scores z for n patients, Breslow ties:
 *   L = -(1/E) sum_{i: event} [z_i - log sum_{j: t_j >= t_i} exp(z_j)]
 * `order` sorts the patients by decreasing time (cox_order). dz (n floats, may be NULL)
 * receives dL/dz. Returns NAN when there is no event. */
double coxnet_loss(const float *z, const double *time, const int *event, const long *order,
		   long n, float *dz);

typedef struct coxnet_opts {
	int epochs;     /* default 100 */
	int batch;      /* default 256 */
	float lr;       /* default 1e-3 */
	float weight_decay; /* default 1e-4, on weight matrices */
	float val_frac; /* default 0.15 (0: monitor the training loss) */
	int patience;   /* default 10 */
	uint64_t seed;
} coxnet_opts;
void coxnet_defaults(coxnet_opts *o);

typedef struct coxnet_result {
	int epochs_run, best_epoch;
	double best_loss;
} coxnet_result;

/* Trains m (n_out 1) on X (n x n_in), restoring the weights of the best monitored epoch.
 * 0, or EX_DATAERR when the loss becomes NaN or there are no events. */
int coxnet_train(nn_model *m, const float *X, const double *time, const int *event, long n,
		 const coxnet_opts *o, coxnet_result *res, lm_err *err);

#endif
