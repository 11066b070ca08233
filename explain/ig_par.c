/* ig_par.c: patient-parallel integrated gradients (see ig_par.h). */
#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ig_par.h"

#define IG_PAR_MAX_THREADS 64

typedef struct par_shared {
	const float *X, *baseline;
	long n, block;
	ig_opts o; /* threads = 1 */
	float *attr, *logit, *delta;
	int *steps;
	float base_logit;
	atomic_long next; /* first patient of the next block to take */
	atomic_long done; /* patients finished */
	void (*progress)(void *ctx, long done, long total);
	void *ctx;
	long reported; /* the last count progress was given (the calling thread's) */
} par_shared;

typedef struct par_worker {
	par_shared *sh;
	nn_model *net;
	int main; /* the calling thread: reports progress */
} par_worker;

static void *par_run(void *arg)
{
	par_worker *w = arg;
	par_shared *sh = w->sh;
	int ns = nn_get_spec(w->net)->n_in;
	for (;;) {
		long i0 = atomic_fetch_add(&sh->next, sh->block);
		if (i0 >= sh->n)
			break;
		long cnt = sh->n - i0 < sh->block ? sh->n - i0 : sh->block;
		float fb;
		ig_batch_block(w->net, sh->X + (size_t)i0 * (size_t)ns, cnt, sh->baseline, &sh->o,
			       sh->attr + (size_t)i0 * (size_t)ns, sh->logit + i0, &fb, sh->delta + i0,
			       sh->steps ? sh->steps + i0 : NULL, NULL, NULL);
		if (i0 == 0)
			sh->base_logit = fb; /* one writer: the block of patient 0 */
		long d = atomic_fetch_add(&sh->done, cnt) + cnt;
		if (w->main && sh->progress) {
			sh->progress(sh->ctx, d, sh->n);
			sh->reported = d;
		}
	}
	return NULL;
}

long ig_par_block(long n)
{
	long b = (n + 15) / 16;
	return b < 16 ? 16 : b > 2048 ? 2048 : b;
}

int ig_default_threads(void)
{
	long c = sysconf(_SC_NPROCESSORS_ONLN);
	return c < 1 ? 1 : c > IG_PAR_MAX_THREADS ? IG_PAR_MAX_THREADS : (int)c;
}

int ig_batch_par(nn_model *net, const float *X, long n, const float *baseline, const ig_opts *o,
		 float *attr, float *logit, float *base_logit, float *delta, int *steps,
		 void (*progress)(void *ctx, long done, long total), void *ctx, lm_err *err)
{
	int T = o->threads > IG_PAR_MAX_THREADS ? IG_PAR_MAX_THREADS : o->threads;
	par_shared sh;
	memset(&sh, 0, sizeof sh);
	sh.X = X;
	sh.baseline = baseline;
	sh.n = n;
	sh.block = ig_par_block(n);
	/* below ~5e7 parameter-row products (a logreg, a small cohort) threads cost more than
	 * they save: one thread, the same blocks */
	if ((double)n * o->steps * (double)nn_nparams(net) < 5e7)
		T = 1;
	if (T > (n + sh.block - 1) / sh.block)
		T = (int)((n + sh.block - 1) / sh.block);
	if (T < 1)
		T = 1;
	sh.o = *o;
	sh.o.threads = 1;
	sh.attr = attr;
	sh.logit = logit;
	sh.delta = delta;
	sh.steps = steps;
	atomic_init(&sh.next, 0);
	atomic_init(&sh.done, 0);
	sh.progress = progress;
	sh.ctx = ctx;
	/* one OpenBLAS thread in every case: IG's products are steps x tokens rows of a few dozen
	 * columns, too small to split, and idle OpenBLAS threads spin in sched_yield between them
	 * (perf: 40% of the samples of a one-thread transformer explain went there) */
	int blas_threads = openblas_get_num_threads();
	openblas_set_num_threads(1);
	par_worker wk[IG_PAR_MAX_THREADS];
	pthread_t tid[IG_PAR_MAX_THREADS];
	int started[IG_PAR_MAX_THREADS] = {0};
	for (int t = 0; t < T; t++) {
		wk[t].sh = &sh;
		wk[t].net = t == 0 ? net : nn_clone(net);
		wk[t].main = t == 0;
	}
	for (int t = 1; t < T; t++)
		started[t] = wk[t].net && pthread_create(&tid[t], NULL, par_run, &wk[t]) == 0;
	par_run(&wk[0]); /* the calling thread works too (and takes over unstarted threads' share) */
	for (int t = 1; t < T; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		nn_free(wk[t].net);
	}
	openblas_set_num_threads(blas_threads);
	if (progress && sh.reported < n) /* the last block was another thread's */
		progress(ctx, n, n);
	if (base_logit)
		*base_logit = sh.base_logit;
	(void)err; /* ig_batch checked everything that can fail */
	return 0;
}
