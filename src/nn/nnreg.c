/* nnreg.c: regression fits of a one-output network (nnreg.h). */
#include "nnreg.h"
#include "chol.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nnreg_defaults(nnreg_opts *o)
{
	memset(o, 0, sizeof *o);
	o->epochs = 100;
	o->batch = 256;
	o->patience = 10;
	o->lr = 1e-3f;
	o->val_frac = 0.15f;
	o->seed = 1;
}

static int find_tensor(const nn_model *m, const char *name)
{
	for (int i = 0; i < nn_ntensors(m); i++)
		if (!strcmp(nn_tensor_name(m, i), name))
			return i;
	return -1;
}

/* Ridge on centred columns: (Xc' Xc / n + l2 I) w = Xc' yc / n, then b = mean y - mean x w.
 * A constant column gets w 0 (its centred column is 0 and the penalty keeps it there). */
static int ridge(nn_model *m, const float *X, const float *y, int n, lm_err *err)
{
	int P = nn_get_spec(m)->n_in;
	double l2 = (double)nn_get_spec(m)->l2;
	double *mx = xcalloc((size_t)P, sizeof *mx), *H = xcalloc((size_t)P * P, sizeof *H);
	double *g = xcalloc((size_t)P, sizeof *g), *xc = xmallocarray((size_t)P, sizeof *xc);
	double my = 0;
	for (int i = 0; i < n; i++) {
		my += (double)y[i];
		for (int j = 0; j < P; j++)
			mx[j] += (double)X[(size_t)i * P + j];
	}
	my /= n;
	for (int j = 0; j < P; j++)
		mx[j] /= n;
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < P; j++)
			xc[j] = (double)X[(size_t)i * P + j] - mx[j];
		double yc = (double)y[i] - my;
		for (int j = 0; j < P; j++) {
			g[j] += xc[j] * yc;
			for (int k = 0; k <= j; k++)
				H[(size_t)j * P + k] += xc[j] * xc[k];
		}
	}
	for (int j = 0; j < P; j++) {
		g[j] /= n;
		for (int k = 0; k <= j; k++)
			H[(size_t)j * P + k] /= n;
		H[(size_t)j * P + j] += l2 > 0 ? l2 : 1e-8;
	}
	int st = nn_cholesky(H, P);
	if (!st) { /* L L' w = g */
		nn_chol_solve(H, P, g);
		int wi = find_tensor(m, "w"), bi = find_tensor(m, "b");
		float *w = nn_tensor_data(m, wi), *b = nn_tensor_data(m, bi);
		double bb = my;
		for (int j = 0; j < P; j++) {
			w[j] = (float)g[j];
			bb -= mx[j] * g[j];
		}
		b[0] = (float)bb;
	} else {
		st = lm_seterr(err, EX_DATAERR, "the effect regression's system is singular");
	}
	free(mx);
	free(H);
	free(g);
	free(xc);
	return st;
}

static double mse(nn_model *m, const float *X, const float *y, const size_t *idx, int n,
		  int n_in, float *Xb, float *z)
{
	double s = 0;
	for (int i = 0; i < n; i += 256) {
		int b = n - i < 256 ? n - i : 256;
		for (int r = 0; r < b; r++)
			memcpy(Xb + (size_t)r * n_in, X + idx[i + r] * (size_t)n_in, (size_t)n_in * sizeof *Xb);
		nn_logits(m, Xb, b, z);
		for (int r = 0; r < b; r++) {
			double d = (double)z[r] - (double)y[idx[i + r]];
			s += d * d;
		}
	}
	return n ? s / n : (double)NAN;
}

int nnreg_fit(nn_model *m, const float *X, const float *y, int n, const nnreg_opts *o,
	      nnreg_result *res, lm_err *err)
{
	const nn_spec *s = nn_get_spec(m);
	memset(res, 0, sizeof *res);
	if (s->n_out != 1)
		return lm_seterr(err, EX_USAGE, "a regression network has one output");
	for (int i = 0; i < n; i++)
		if (!isfinite(y[i]))
			return lm_seterr(err, EX_DATAERR, "regression target %d is not finite", i);
	if (n < 2)
		return lm_seterr(err, EX_DATAERR, "too few rows for a regression");
	if (s->arch == NN_LOGREG) {
		int st = ridge(m, X, y, n, err);
		size_t *all = xmallocarray((size_t)n, sizeof *all);
		for (int i = 0; i < n; i++)
			all[i] = (size_t)i;
		float *Xb = xmallocarray((size_t)256 * (size_t)s->n_in, sizeof *Xb), z[256];
		res->best_loss = mse(m, X, y, all, n, s->n_in, Xb, z);
		res->epochs_run = res->best_epoch = 1;
		free(all);
		free(Xb);
		return st;
	}
	int n_in = s->n_in, B = o->batch > 0 ? o->batch : 256;
	lm_rng rng;
	rng_seed(&rng, o->seed);
	size_t *idx = xmallocarray((size_t)n, sizeof *idx);
	for (int i = 0; i < n; i++)
		idx[i] = (size_t)i;
	rng_shuffle(&rng, idx, (size_t)n);
	int nval = (int)(o->val_frac * (float)n);
	if (nval < 1 || n - nval < 2)
		nval = 0;
	int ntr = n - nval;
	size_t np = nn_nparams(m);
	float *p = nn_params(m), *g = nn_grads(m);
	float *mom = xcalloc(np, sizeof *mom), *vel = xcalloc(np, sizeof *vel);
	float *best = xmallocarray(np, sizeof *best);
	memcpy(best, p, np * sizeof *best);
	float *Xb = xmallocarray((size_t)(B > 256 ? B : 256) * (size_t)n_in, sizeof *Xb);
	float *z = xmallocarray((size_t)(B > 256 ? B : 256), sizeof *z);
	float *dz = xmallocarray((size_t)B, sizeof *dz);
	double best_loss = INFINITY;
	long t = 0;
	int st = 0, since = 0;
	for (int ep = 1; ep <= o->epochs; ep++) {
		rng_shuffle(&rng, idx, (size_t)ntr);
		for (int i = 0; i < ntr; i += B) {
			int b = ntr - i < B ? ntr - i : B;
			for (int r = 0; r < b; r++)
				memcpy(Xb + (size_t)r * n_in, X + idx[i + r] * (size_t)n_in,
				       (size_t)n_in * sizeof *Xb);
			nn_zero_grad(m);
			nn_forward(m, Xb, b, z, 1, &rng);
			/* d/dz of the batch mean of (z - y)^2 */
			for (int r = 0; r < b; r++)
				dz[r] = 2.0f * (z[r] - y[idx[i + r]]) / (float)b;
			nn_backward(m, dz, NULL, 1);
			t++;
			double c1 = 1 - pow(0.9, (double)t), c2 = 1 - pow(0.999, (double)t);
			for (size_t j = 0; j < np; j++) {
				mom[j] = 0.9f * mom[j] + 0.1f * g[j];
				vel[j] = 0.999f * vel[j] + 0.001f * g[j] * g[j];
				double mh = (double)mom[j] / c1, vh = (double)vel[j] / c2;
				p[j] -= (float)((double)o->lr * mh / (sqrt(vh) + 1e-8));
			}
		}
		double l = nval ? mse(m, X, y, idx + ntr, nval, n_in, Xb, z)
				: mse(m, X, y, idx, ntr, n_in, Xb, z);
		res->epochs_run = ep;
		if (!isfinite(l)) {
			st = lm_seterr(err, EX_DATAERR, "the effect regression diverged at epoch %d", ep);
			break;
		}
		if (l < best_loss || !nval) {
			best_loss = l;
			res->best_epoch = ep;
			memcpy(best, p, np * sizeof *best);
			since = 0;
		} else if (++since >= o->patience) {
			break;
		}
	}
	memcpy(p, best, np * sizeof *p);
	res->best_loss = best_loss;
	free(idx);
	free(mom);
	free(vel);
	free(best);
	free(Xb);
	free(z);
	free(dz);
	return st;
}
