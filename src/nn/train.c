/* train.c: mini-batch training with AdamW (decoupled weight decay, Loshchilov & Hutter 2019),
 * seeded shuffling, a stratified validation split, early stopping that restores the best
 * weights, and divergence detection. All buffers are allocated before the first epoch: the
 * inner loop only gathers rows, runs the passes and updates one flat buffer. */
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "nn_internal.h"

#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-8f

void nn_train_defaults(nn_train_opts *o, nn_arch arch)
{
	memset(o, 0, sizeof *o);
	o->epochs = 100;
	o->batch = 256;
	o->lr = arch == NN_LOGREG ? 1e-2f : 1e-3f;
	o->weight_decay = arch == NN_LOGREG ? 0.0f : 1e-4f;
	o->val_frac = 0.15f;
	o->patience = 10;
	o->seed = 1;
	o->threads = 1;
}

#define NN_MAX_THREADS 16

/* One data-parallel share of a mini-batch: forward, loss and backward of rows [r0, r0 + k)
 * on the replica net (its own workspaces and gradients), dlogits scaled by k / total so
 * that the replicas' gradients sum to the whole batch's mean-loss gradient. */
typedef struct dp_share {
	nn_model *net;
	const float *xb, *yb, *cw;
	float *lb, *dl;
	int r0, k, total, C, nin;
	lm_rng rng;
	double loss; /* the share's mean loss */
} dp_share;

static void *dp_run(void *arg)
{
	dp_share *d = arg;
	if (d->k == 0) { /* a last batch with fewer rows than threads */
		d->loss = 0.0;
		nn_zero_grad(d->net);
		return NULL;
	}
	nn_forward(d->net, d->xb + (size_t)d->r0 * d->nin, d->k, d->lb + (size_t)d->r0 * d->C, 1,
		   &d->rng);
	d->loss = nn_loss(d->net, d->lb + (size_t)d->r0 * d->C, d->yb + d->r0, d->k, d->cw,
			  d->dl + (size_t)d->r0 * d->C);
	float sc = (float)d->k / (float)d->total;
	for (size_t j = 0; j < (size_t)d->k * d->C; j++)
		d->dl[(size_t)d->r0 * d->C + j] *= sc;
	nn_zero_grad(d->net);
	nn_backward(d->net, d->dl + (size_t)d->r0 * d->C, NULL, 1);
	return NULL;
}

/* The replicas' threads live for the whole training: each step the main thread bumps a
 * generation and wakes them (they sleep on a condition variable, never spin), runs share 0
 * itself and waits until the others are done. */
typedef struct dp_pool {
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	long gen;
	int stop, pending;
	dp_share *sh;
} dp_pool;

typedef struct dp_worker {
	dp_pool *pool;
	int t;
} dp_worker;

static void *dp_loop(void *arg)
{
	dp_worker *w = arg;
	dp_pool *p = w->pool;
	long seen = 0;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->gen == seen && !p->stop)
			pthread_cond_wait(&p->go, &p->mu);
		seen = p->gen;
		int stop = p->stop;
		pthread_mutex_unlock(&p->mu);
		if (stop)
			return NULL;
		dp_run(&p->sh[w->t]);
		pthread_mutex_lock(&p->mu);
		if (--p->pending == 0)
			pthread_cond_signal(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
}

/* One step: shares 1..T-1 on the pool's threads, share 0 here. */
static void dp_step(dp_pool *p, int T)
{
	pthread_mutex_lock(&p->mu);
	p->gen++;
	p->pending = T - 1;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	dp_run(&p->sh[0]);
	pthread_mutex_lock(&p->mu);
	while (p->pending > 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

/* One AdamW step over the flat buffers: moments m, v; decay only on weight matrices. */
static void adamw_step(nn_model *m, float *mom, float *vel, long t, float lr, float wd)
{
	float *p = nn_params(m), *g = nn_grads(m);
	float bc1 = (float)(1.0 - pow(ADAM_B1, (double)t));
	float bc2 = (float)(1.0 - pow(ADAM_B2, (double)t));
	float step = lr / bc1, rbc2 = 1.0f / sqrtf(bc2);
	const float b1 = (float)ADAM_B1, b2 = (float)ADAM_B2;
	for (int i = 0; i < nn_ntensors(m); i++) {
		size_t off = nn_tensor_offset(m, i), len = nn_tensor_size(m, i);
		float keep = wd > 0.0f && nn_tensor_decays(m, i) ? 1.0f - lr * wd : 1.0f;
		for (size_t j = off; j < off + len; j++) {
			float gj = g[j];
			mom[j] = b1 * mom[j] + (1.0f - b1) * gj;
			vel[j] = b2 * vel[j] + (1.0f - b2) * gj * gj;
			p[j] = p[j] * keep - step * mom[j] / (sqrtf(vel[j]) * rbc2 + ADAM_EPS);
		}
	}
}

typedef struct scored {
	float s;
	int pos;
} scored;

static int cmp_scored(const void *a, const void *b)
{
	float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
	return (x > y) - (x < y);
}

/* AUC as the Mann-Whitney statistic with tied scores sharing their average rank. NAN when
 * one class is absent. */
static double auc_of(scored *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_scored);
	double rank_sum = 0.0, npos = 0.0;
	for (int i = 0; i < n;) {
		int j = i;
		while (j < n && v[j].s == v[i].s)
			j++;
		double avg = 0.5 * ((double)i + 1.0 + (double)j); /* ranks i+1 .. j */
		for (int k = i; k < j; k++)
			if (v[k].pos) {
				rank_sum += avg;
				npos += 1.0;
			}
		i = j;
	}
	double nneg = n - npos;
	if (npos == 0.0 || nneg == 0.0)
		return (double)NAN;
	return (rank_sum - npos * (npos + 1.0) / 2.0) / (npos * nneg);
}

/* Validation AUC for the progress line: binary on the logit (monotone in the probability);
 * multi-class as the mean of the one-vs-rest AUCs of each class's log-probability. */
static double val_auc(const float *logits, const float *y, int n, int C, scored *buf)
{
	if (C == 1) {
		for (int i = 0; i < n; i++)
			buf[i] = (scored){logits[i], y[i] > 0.5f};
		return auc_of(buf, n);
	}
	double sum = 0.0;
	int k = 0;
	for (int c = 0; c < C; c++) {
		for (int i = 0; i < n; i++) {
			const float *z = logits + (size_t)i * C;
			double lse = 0.0;
			for (int j = 0; j < C; j++)
				lse += exp((double)z[j] - (double)z[c]);
			buf[i] = (scored){(float)(-log(lse)), (int)y[i] == c};
		}
		double a = auc_of(buf, n);
		if (!isnan(a)) {
			sum += a;
			k++;
		}
	}
	return k ? sum / k : (double)NAN;
}

static int diverged(lm_err *err, int epoch, double loss)
{
	return lm_seterr(err, EX_DATAERR, "training diverged at epoch %d (loss is %s)", epoch,
			 isnan(loss) ? "NaN" : "infinite");
}

int nn_train(nn_model *m, const float *X, const float *y, int n, const nn_train_opts *o,
	     nn_train_result *res, lm_err *err)
{
	const nn_spec *s = nn_get_spec(m);
	int C = s->n_out, nclass = C == 1 ? 2 : C, nin = s->n_in;
	double t0 = lm_seconds();
	if (s->arch == NN_LOGREG) /* a convex fit: solved, not trained */
		return nn_logreg_fit(m, X, y, n, o, res, err);
	if (n < 2)
		return lm_seterr(err, EX_DATAERR, "training needs at least 2 rows (got %d)", n);
	if (o->epochs < 1 || o->batch < 1 || !(o->lr > 0.0f) || !isfinite(o->lr) ||
	    !(o->val_frac >= 0.0f && o->val_frac < 1.0f) || !(o->weight_decay >= 0.0f) ||
	    o->patience < 1)
		return lm_seterr(err, EX_USAGE,
				 "bad training options (epochs %d, batch %d, lr %g, val_frac %g, "
				 "weight decay %g, patience %d)",
				 o->epochs, o->batch, (double)o->lr, (double)o->val_frac,
				 (double)o->weight_decay, o->patience);
	for (int i = 0; i < n; i++) {
		float v = y[i];
		if (!(v >= 0.0f && v < (float)nclass && v == floorf(v)))
			return lm_seterr(err, EX_DATAERR, "label %g of row %d is not a class index 0..%d",
					 (double)v, i + 1, nclass - 1);
	}

	/* Stratified split: shuffle each class, hold out round(val_frac * count) of it (never a
	 * whole class). */
	lm_rng rng;
	rng_seed(&rng, o->seed);
	size_t *idx = xmallocarray((size_t)n, sizeof *idx);
	size_t *tr = xmallocarray((size_t)n, sizeof *tr), *va = xmallocarray((size_t)n, sizeof *va);
	int ntr = 0, nva = 0;
	for (int c = 0; c < nclass; c++) {
		size_t k = 0;
		for (int i = 0; i < n; i++)
			if ((int)y[i] == c)
				idx[k++] = (size_t)i;
		rng_shuffle(&rng, idx, k);
		size_t hold = (size_t)floor((double)o->val_frac * (double)k + 0.5);
		if (hold >= k && k > 0)
			hold = k - 1;
		for (size_t j = 0; j < k; j++) {
			if (j < hold)
				va[nva++] = idx[j];
			else
				tr[ntr++] = idx[j];
		}
	}
	size_t np = nn_nparams(m);
	int B = o->batch < ntr ? o->batch : ntr;
	float *xb = xmallocarray((size_t)B * nin, sizeof *xb);
	float *yb = xmallocarray((size_t)B, sizeof *yb);
	float *lb = xmallocarray((size_t)B * C, sizeof *lb);
	float *dl = xmallocarray((size_t)B * C, sizeof *dl);
	float *mom = xcalloc(np, sizeof *mom), *vel = xcalloc(np, sizeof *vel);
	float *best = xmallocarray(np, sizeof *best);
	float *xv = xmallocarray((size_t)(nva ? nva : 1) * nin, sizeof *xv);
	float *yv = xmallocarray((size_t)(nva ? nva : 1), sizeof *yv);
	float *lv = xmallocarray((size_t)(nva ? nva : 1) * C, sizeof *lv);
	scored *sc = xmallocarray((size_t)(nva ? nva : 1), sizeof *sc);
	for (int i = 0; i < nva; i++) {
		memcpy(xv + (size_t)i * nin, X + va[i] * nin, (size_t)nin * sizeof *xv);
		yv[i] = y[va[i]];
	}
	memcpy(best, nn_params(m), np * sizeof *best);

	/* data-parallel replicas (rep[0] is m itself); OpenBLAS at one thread meanwhile */
	int T = o->threads < 1 ? 1 : o->threads > NN_MAX_THREADS ? NN_MAX_THREADS : o->threads;
	if (T > B)
		T = B;
	nn_model *rep[NN_MAX_THREADS] = {m};
	dp_share sh[NN_MAX_THREADS];
	pthread_t tid[NN_MAX_THREADS];
	dp_worker wk[NN_MAX_THREADS];
	dp_pool pool = {.gen = 0, .stop = 0, .pending = 0, .sh = sh};
	pthread_mutex_init(&pool.mu, NULL);
	pthread_cond_init(&pool.go, NULL);
	pthread_cond_init(&pool.done, NULL);
	for (int t = 1; t < T; t++) {
		wk[t] = (dp_worker){&pool, t};
		if (!(rep[t] = nn_clone(m)) || pthread_create(&tid[t], NULL, dp_loop, &wk[t])) {
			nn_free(rep[t]); /* fewer threads than asked: the shares follow T */
			T = t;
		}
	}
	int blas_threads = openblas_get_num_threads();
	if (T > 1)
		openblas_set_num_threads(1);

	int status = 0, epoch, best_epoch = 0;
	double best_loss = (double)INFINITY, train_loss = (double)NAN, step_secs = 0.0;
	long step = 0, seen = 0;
	for (epoch = 1; epoch <= o->epochs; epoch++) {
		rng_shuffle(&rng, tr, (size_t)ntr);
		double sum = 0.0, te = lm_seconds();
		for (int at = 0; at < ntr; at += B) {
			int k = ntr - at < B ? ntr - at : B;
			for (int r = 0; r < k; r++) {
				size_t row = tr[at + r];
				memcpy(xb + (size_t)r * nin, X + row * nin, (size_t)nin * sizeof *xb);
				yb[r] = y[row];
			}
			double l;
			if (T == 1) {
				nn_forward(m, xb, k, lb, 1, &rng);
				l = nn_loss(m, lb, yb, k, o->class_weight, dl);
				nn_zero_grad(m);
				nn_backward(m, dl, NULL, 1);
			} else {
				/* data-parallel: thread t takes rows [t k / T, (t + 1) k / T) on replica t
				 * with a dropout stream seeded from the main one; gradients summed in
				 * replica order (deterministic for a seed and a thread count) */
				int Tk = T;
				for (int t = 0; t < Tk; t++) {
					int a = (int)((long)t * k / Tk), b = (int)((long)(t + 1) * k / Tk);
					sh[t] = (dp_share){rep[t], xb, yb, o->class_weight, lb, dl, a, b - a, k, C,
							   nin, {{0}}, 0.0};
					rng_seed(&sh[t].rng, rng_next(&rng));
				}
				dp_step(&pool, Tk);
				l = 0.0;
				for (int t = 0; t < Tk; t++)
					l += sh[t].loss * sh[t].k / k;
				float *g = nn_grads(m);
				for (int t = 1; t < Tk; t++) {
					const float *gt = nn_grads(rep[t]);
					for (size_t j = 0; j < np; j++)
						g[j] += gt[j];
				}
			}
			if (!isfinite(l)) {
				status = diverged(err, epoch, l);
				goto done;
			}
			adamw_step(m, mom, vel, ++step, o->lr, o->weight_decay);
			for (int t = 1; t < T; t++) /* the replicas follow the new weights */
				memcpy(nn_params(rep[t]), nn_params(m), np * sizeof(float));
			sum += l * k;
			seen += k;
		}
		step_secs += lm_seconds() - te;
		train_loss = sum / ntr;

		double vloss = (double)NAN, vauc = (double)NAN;
		if (nva) {
			double vs = 0.0;
			const int chunk = s->arch == NN_TRANSFORMER ? 64 : 1024;
			for (int at = 0; at < nva; at += chunk) {
				int k = nva - at < chunk ? nva - at : chunk;
				nn_forward(m, xv + (size_t)at * nin, k, lv + (size_t)at * C, 0, NULL);
				vs += nn_loss(m, lv + (size_t)at * C, yv + at, k, o->class_weight, NULL) * k;
			}
			vloss = vs / nva;
			if (!isfinite(vloss)) {
				status = diverged(err, epoch, vloss);
				goto done;
			}
			vauc = val_auc(lv, yv, nva, C, sc);
		}
		double monitor = nva ? vloss : train_loss;
		if (o->progress)
			o->progress(o->ctx, epoch, train_loss, vloss, vauc);
		if (monitor < best_loss) {
			best_loss = monitor;
			best_epoch = epoch;
			memcpy(best, nn_params(m), np * sizeof *best);
		} else if (epoch - best_epoch >= o->patience) {
			break;
		}
	}
	if (epoch > o->epochs)
		epoch = o->epochs;
done:
	pthread_mutex_lock(&pool.mu);
	pool.stop = 1;
	pthread_cond_broadcast(&pool.go);
	pthread_mutex_unlock(&pool.mu);
	for (int t = 1; t < T; t++) {
		pthread_join(tid[t], NULL);
		nn_free(rep[t]);
	}
	pthread_mutex_destroy(&pool.mu);
	pthread_cond_destroy(&pool.go);
	pthread_cond_destroy(&pool.done);
	if (T > 1)
		openblas_set_num_threads(blas_threads);
	/* Even after a divergence the model is left with the best finite weights seen. */
	memcpy(nn_params(m), best, np * sizeof *best);
	if (res) {
		memset(res, 0, sizeof *res);
		res->epochs_run = epoch;
		res->best_epoch = best_epoch;
		res->best_val_loss = best_loss;
		res->final_train_loss = train_loss;
		res->seconds = lm_seconds() - t0;
		res->samples_per_sec = step_secs > 0.0 ? (double)seen / step_secs : 0.0;
	}
	free(idx);
	free(tr);
	free(va);
	free(xb);
	free(yb);
	free(lb);
	free(dl);
	free(mom);
	free(vel);
	free(best);
	free(xv);
	free(yv);
	free(lv);
	free(sc);
	return status;
}
