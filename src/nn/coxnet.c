/* coxnet.c: the Cox partial likelihood as a network loss and its training loop (coxnet.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../stats/cox.h"
#include "coxnet.h"
#include "nn_internal.h"

void coxnet_defaults(coxnet_opts *o)
{
	o->epochs = 100;
	o->batch = 256;
	o->lr = 1e-3f;
	o->weight_decay = 1e-4f;
	o->val_frac = 0.15f;
	o->patience = 10;
	o->seed = 1;
}

/* One pass from the latest time: S0 over the risk set (scores shifted by their maximum so that
 * exp cannot overflow); then a pass from the earliest time accumulating the sum over events
 * of 1 / S0 at their time, since dL/dz_j = -(1/E) [event_j - e^{z_j} sum_{i event, t_i <= t_j}
 * 1 / S0(t_i)]. */
double coxnet_loss(const float *z, const double *time, const int *event, const long *order,
		   long n, float *dz)
{
	double zmax = -INFINITY;
	long E = 0;
	for (long i = 0; i < n; i++) {
		if ((double)z[i] > zmax)
			zmax = (double)z[i];
		E += event[i] != 0;
	}
	if (E == 0)
		return (double)NAN;
	double *s0 = xmallocarray((size_t)n, sizeof *s0); /* S0 at each patient's time, by rank */
	double S0 = 0, ll = 0;
	for (long i = 0; i < n;) {
		long j = i;
		double t = time[order[i]];
		for (; j < n && time[order[j]] == t; j++)
			S0 += exp((double)z[order[j]] - zmax);
		for (long k = i; k < j; k++) {
			s0[k] = S0;
			if (event[order[k]])
				ll += (double)z[order[k]] - zmax - log(S0);
		}
		i = j;
	}
	if (dz) {
		double acc = 0; /* sum over events at times <= t of 1 / S0 */
		for (long j = n; j > 0;) {
			long i = j;
			double t = time[order[j - 1]];
			for (; i > 0 && time[order[i - 1]] == t; i--)
				if (event[order[i - 1]])
					acc += 1 / s0[i - 1];
			for (long k = i; k < j; k++) {
				long r = order[k];
				double g = (event[r] ? 1.0 : 0.0) - exp((double)z[r] - zmax) * acc;
				dz[r] = (float)(-g / (double)E);
			}
			j = i;
		}
	}
	free(s0);
	return -ll / (double)E;
}

static void adamw(nn_model *m, float *mom, float *vel, long t, float lr, float wd)
{
	float *p = nn_params(m), *g = nn_grads(m);
	float bc1 = (float)(1.0 - pow(0.9, (double)t)), bc2 = (float)(1.0 - pow(0.999, (double)t));
	for (int i = 0; i < nn_ntensors(m); i++) {
		size_t off = nn_tensor_offset(m, i), len = nn_tensor_size(m, i);
		float keep = wd > 0 && nn_tensor_decays(m, i) ? 1.0f - lr * wd : 1.0f;
		for (size_t j = off; j < off + len; j++) {
			mom[j] = 0.9f * mom[j] + 0.1f * g[j];
			vel[j] = 0.999f * vel[j] + 0.001f * g[j] * g[j];
			p[j] = p[j] * keep - lr * (mom[j] / bc1) / (sqrtf(vel[j] / bc2) + 1e-8f);
		}
	}
}

/* The loss of rows idx[0..k) under the current weights (no dropout). */
static double subset_loss(nn_model *m, const float *X, const double *time, const int *event,
			  const long *idx, long k, int nin)
{
	float *xs = xmallocarray((size_t)(k ? k : 1) * (size_t)nin, sizeof *xs);
	float *z = xmallocarray((size_t)(k ? k : 1), sizeof *z);
	double *t = xmallocarray((size_t)(k ? k : 1), sizeof *t);
	int *e = xmallocarray((size_t)(k ? k : 1), sizeof *e);
	for (long i = 0; i < k; i++) {
		memcpy(xs + (size_t)i * (size_t)nin, X + (size_t)idx[i] * (size_t)nin,
		       (size_t)nin * sizeof *xs);
		t[i] = time[idx[i]];
		e[i] = event[idx[i]];
	}
	nn_logits(m, xs, k, z);
	long *o = cox_order(t, k);
	double l = coxnet_loss(z, t, e, o, k, NULL);
	free(o);
	free(xs);
	free(z);
	free(t);
	free(e);
	return l;
}

int coxnet_train(nn_model *m, const float *X, const double *time, const int *event, long n,
		 const coxnet_opts *o, coxnet_result *res, lm_err *err)
{
	memset(res, 0, sizeof *res);
	int nin = nn_get_spec(m)->n_in;
	lm_rng rng;
	rng_seed(&rng, o->seed);
	/* hold out val_frac of the patients, stratified by event */
	size_t *perm = xmallocarray((size_t)(n ? n : 1), sizeof *perm);
	for (long i = 0; i < n; i++)
		perm[i] = (size_t)i;
	rng_shuffle(&rng, perm, (size_t)n);
	long *tr = xmallocarray((size_t)(n ? n : 1), sizeof *tr), *va = xmallocarray((size_t)(n ? n : 1), sizeof *va);
	long ntr = 0, nva = 0, ev_seen[2] = {0, 0}, ev_tot[2] = {0, 0};
	for (long i = 0; i < n; i++)
		ev_tot[event[i] != 0]++;
	for (long i = 0; i < n; i++) {
		long r = (long)perm[i];
		int c = event[r] != 0;
		if (o->val_frac > 0 && ev_seen[c] < (long)floor((double)o->val_frac * (double)ev_tot[c]) &&
		    ev_tot[1] >= 4) {
			va[nva++] = r;
			ev_seen[c]++;
		} else {
			tr[ntr++] = r;
		}
	}
	size_t np = nn_nparams(m);
	float *mom = xcalloc(np, sizeof *mom), *vel = xcalloc(np, sizeof *vel);
	float *best = xmallocarray(np, sizeof *best);
	memcpy(best, nn_params(m), np * sizeof *best);
	int B = o->batch > 1 ? o->batch : 2;
	float *xb = xmallocarray((size_t)B * (size_t)nin, sizeof *xb);
	float *zb = xmallocarray((size_t)B, sizeof *zb), *dz = xmallocarray((size_t)B, sizeof *dz);
	double *tb = xmallocarray((size_t)B, sizeof *tb);
	int *eb = xmallocarray((size_t)B, sizeof *eb);
	size_t *sh = xmallocarray((size_t)(ntr ? ntr : 1), sizeof *sh);
	for (long i = 0; i < ntr; i++)
		sh[i] = (size_t)tr[i];
	double best_loss = INFINITY;
	long step = 0;
	int st = 0, since = 0;
	for (int ep = 1; ep <= o->epochs; ep++) {
		rng_shuffle(&rng, sh, (size_t)ntr);
		for (long at = 0; at < ntr; at += B) {
			long k = ntr - at < B ? ntr - at : B;
			int evs = 0;
			for (long i = 0; i < k; i++) {
				long r = (long)sh[at + i];
				memcpy(xb + (size_t)i * (size_t)nin, X + (size_t)r * (size_t)nin,
				       (size_t)nin * sizeof *xb);
				tb[i] = time[r];
				eb[i] = event[r];
				evs += eb[i] != 0;
			}
			if (!evs || k < 2) /* no event: no partial likelihood in this batch */
				continue;
			nn_forward(m, xb, (int)k, zb, 1, &rng);
			long *ord = cox_order(tb, k);
			double l = coxnet_loss(zb, tb, eb, ord, k, dz);
			free(ord);
			if (!isfinite(l)) {
				st = lm_seterr(err, EX_DATAERR, "training diverged at epoch %d (loss is NaN)", ep);
				break;
			}
			nn_zero_grad(m);
			nn_backward(m, dz, NULL, 1);
			adamw(m, mom, vel, ++step, o->lr, o->weight_decay);
		}
		if (st)
			break;
		double mon = nva ? subset_loss(m, X, time, event, va, nva, nin)
				 : subset_loss(m, X, time, event, tr, ntr, nin);
		res->epochs_run = ep;
		if (!isfinite(mon)) {
			st = lm_seterr(err, EX_DATAERR, "training diverged at epoch %d (loss is NaN)", ep);
			break;
		}
		if (mon < best_loss) {
			best_loss = mon;
			res->best_epoch = ep;
			memcpy(best, nn_params(m), np * sizeof *best);
			since = 0;
		} else if (++since >= o->patience) {
			break;
		}
	}
	memcpy(nn_params(m), best, np * sizeof *best);
	res->best_loss = best_loss;
	if (res->best_epoch == 0)
		res->best_epoch = 1;
	free(perm);
	free(tr);
	free(va);
	free(mom);
	free(vel);
	free(best);
	free(xb);
	free(zb);
	free(dz);
	free(tb);
	free(eb);
	free(sh);
	return st;
}
