/* ig_par.h: patient-parallel integrated gradients (the kernel side of ig.c): ig_batch with
 * a cohort larger than one block hands its patients to ig_batch_par, with one thread or
 * more. Only ig_default_threads is for other callers (lumen explain --threads). */
#ifndef LUMEN_IG_PAR_H
#define LUMEN_IG_PAR_H

#include "ig.h"

/* Patients per block of a cohort of n: ceil(n / 16), at least 16, at most 2048. It depends
 * on n only, so that the blocks, and hence every number, are the same for any thread count
 * (a patient's IG depends on the rows it shares a forward pass with only through the BLAS
 * kernels' choice of summation order, which changes with the matrix sizes). */
long ig_par_block(long n);

/* ig_batch's contract for n > ig_par_block(n): the patients cut into blocks of
 * ig_par_block(n), each one ig_batch_block call; with o->threads > 1 (and enough work:
 * n x steps x parameters of at least 5e7, else one thread) the threads take the
 * blocks in turn, each on its own copy of net, with OpenBLAS set to one thread meanwhile
 * (restored after) so that its pool neither competes with ours nor spins idle; progress is
 * called from the calling thread only. Options are checked by ig_batch. */
int ig_batch_par(nn_model *net, const float *X, long n, const float *baseline, const ig_opts *o,
		 float *attr, float *logit, float *base_logit, float *delta, int *steps,
		 void (*progress)(void *ctx, long done, long total), void *ctx, lm_err *err);

/* One block, in the calling thread (ig.c's kernel): ig_batch without the checks. */
void ig_batch_block(nn_model *net, const float *X, long n, const float *baseline,
		    const ig_opts *o, float *attr, float *logit, float *base_logit, float *delta,
		    int *steps, void (*progress)(void *ctx, long done, long total), void *ctx);

/* The number of online cores (at least 1): the default of lumen explain --threads. */
int ig_default_threads(void);

#endif
