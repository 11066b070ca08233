/* ops_train_effect.c: the job of `lumen train FILE --model ARCH --target Y --effect COL [--reference LEVEL]
 * [--learner t|dr]` — per-patient treatment effects on the same stratified K-fold scheme as
 * the other models (stratified by arm and outcome).
 *
 * T-learner: one outcome network per arm, trained on that arm's patients; every patient gets,
 * from the fold models that did not see it, the risk under every arm, and the effect of an
 * arm is the risk difference against the reference arm. DR-learner: the same outcome models
 * plus a multinomial logistic propensity model, both cross-fitted, give every patient the
 * doubly-robust pseudo-outcome of each arm against the reference,
 *   psi_a = mu_a - mu_r + [T = a] (Y - mu_a) / e_a - [T = r] (Y - mu_r) / e_r
 * (e clipped to [0.01, 0.99]), and a regression network of the same architecture (nnreg.h)
 * fitted to psi_a on the same folds is the effect model. Stored as effmodel.h describes, with
 * the evaluation (stats/uplift.h) in the metrics, in one transaction. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../explain/ig.h"
#include "../data/encoder.h"
#include "../nn/effmodel.h"
#include "../nn/model.h"
#include "../nn/nnreg.h"
#include "../stats/metrics.h"
#include "../stats/uplift.h"
#include "ops.h"
#include "ops_int.h"

#define MIN_ARM 20        /* patients with a target an arm needs */
#define PROP_CLIP 0.01    /* propensities are clipped to [0.01, 0.99] in the pseudo-outcome */

struct erun;
/* An event for the caller (ops_train_event): a note or a warning line. */
static void emit(const struct erun *r, ops_train_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

typedef struct erun {
	ops_train_opts a;
	nn_arch arch;
	frame f;
	enc_target t;
	char **feat;
	int nfeat;
	int narm;
	char **arm;   /* reference first */
	long *used;   /* frame rows with a target and an arm */
	long nused;
	int *arm_of;  /* per used patient */
	int *fold;    /* per frame row */
	model *m;
	nn_model ***net; /* [net][k], k = K: final; net 0's are m->fold / m->final */
	int nnet;
	/* per used patient x arm: out-of-fold risk and logit, spread across fold models,
	 * out-of-fold effect and its spread */
	double *p, *p_sd, *eff, *eff_sd;
	float *z;
	double *prop;   /* out-of-fold propensity, nused x narm */
	double *psi;    /* DR pseudo-outcomes, nused x narm */
	int *best;      /* [net * K + k] best epochs */
	cJSON *warn;
} erun;

static void emit(const erun *r, ops_train_kind kind, const char *fmt, ...)
{
	if (!r->a.progress)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	ops_train_event ev = {kind, -2, r->a.folds, 0, NAN, NAN, NAN, line};
	r->a.progress(r->a.ctx, &ev);
}

static int cmp_label(const void *x, const void *y)
{
	const char *a = *(const char *const *)x, *b = *(const char *const *)y;
	double u, v;
	if (parse_double(a, &u) == 0 && parse_double(b, &v) == 0 && u != v)
		return u < v ? -1 : 1;
	return strcmp(a, b);
}


/* The arms: the distinct values of the arm column, the reference first; the patients used
 * (a target and an arm); the refusals of bad input. */
static int find_arms(erun *r, lm_err *err)
{
	int ac = frame_find(&r->f, r->a.effect), yc = frame_find(&r->f, r->a.target);
	(void)yc;
	char buf[256];
	int cap = 0, n = 0;
	char **lab = NULL;
	long *cnt_all = NULL;
	for (long i = 0; i < r->f.nrow; i++) {
		const char *s = frame_cell_text(&r->f, ac, i, buf, sizeof buf);
		if (!*s)
			continue;
		int k;
		for (k = 0; k < n && strcmp(lab[k], s); k++)
			;
		if (k == n) {
			if (n == 64) {
				for (int j = 0; j < n; j++)
					free(lab[j]);
				free(lab);
				free(cnt_all);
				return lm_seterr(err, EX_DATAERR, "--effect: '%s' has more than 64 values "
						 "(not an arm column)", r->a.effect);
			}
			if (n == cap) {
				cap = cap ? 2 * cap : 8;
				lab = xreallocarray(lab, (size_t)cap, sizeof *lab);
				cnt_all = xreallocarray(cnt_all, (size_t)cap, sizeof *cnt_all);
			}
			lab[n] = xstrdup(s);
			cnt_all[n++] = 0;
		}
	}
	qsort(lab, (size_t)n, sizeof *lab, cmp_label);
	int st = 0;
	if (n < 2) {
		st = lm_seterr(err, EX_DATAERR, "--effect: '%s' has %s (an effect needs two arms or "
			       "more)", r->a.effect, n ? "one arm only" : "no values");
		goto out;
	}
	int ref = 0;
	if (r->a.reference) {
		for (ref = 0; ref < n && strcmp(lab[ref], r->a.reference); ref++)
			;
		if (ref == n) {
			lm_buf b = {0};
			for (int k = 0; k < n; k++)
				buf_printf(&b, "%s%s", k ? ", " : "", lab[k]);
			st = lm_seterr(err, EX_DATAERR, "--reference: '%s' is not an arm of '%s' (%s)",
				       r->a.reference, r->a.effect, b.data);
			free(b.data);
			goto out;
		}
	}
	r->narm = n;
	r->arm = xcalloc((size_t)n, sizeof *r->arm);
	r->arm[0] = xstrdup(lab[ref]);
	for (int k = 0, j = 1; k < n; k++)
		if (k != ref)
			r->arm[j++] = xstrdup(lab[k]);
	long cnt[64] = {0}, pos[64] = {0}, noarm = 0;
	r->used = xmallocarray((size_t)(r->f.nrow ? r->f.nrow : 1), sizeof *r->used);
	r->arm_of = xmallocarray((size_t)(r->f.nrow ? r->f.nrow : 1), sizeof *r->arm_of);
	for (long i = 0; i < r->f.nrow; i++) {
		const char *s = frame_cell_text(&r->f, ac, i, buf, sizeof buf);
		int k;
		for (k = 0; *s && k < n && strcmp(r->arm[k], s); k++)
			;
		if (!*s || k == n) {
			noarm += !isnan(r->t.y[i]);
			continue;
		}
		cnt_all[k]++;
		if (isnan(r->t.y[i]))
			continue;
		cnt[k]++;
		pos[k] += r->t.y[i] != 0;
		r->arm_of[r->nused] = k;
		r->used[r->nused++] = i;
	}
	for (int k = 0; k < n && !st; k++) {
		if (cnt[k] == 0)
			st = lm_seterr(err, EX_DATAERR, "--effect: arm '%s' of '%s' has no patient with a "
				       "value of '%s' (%ld patients, every target missing)", r->arm[k],
				       r->a.effect, r->a.target, cnt_all[k]);
		else if (cnt[k] < MIN_ARM || cnt[k] < 2 * r->a.folds)
			st = lm_seterr(err, EX_DATAERR, "--effect: arm '%s' of '%s' has %ld patients with "
				       "a target; at least %d are needed", r->arm[k], r->a.effect, cnt[k],
				       MIN_ARM > 2 * r->a.folds ? MIN_ARM : 2 * r->a.folds);
		else if (pos[k] < r->a.folds || cnt[k] - pos[k] < r->a.folds)
			st = lm_seterr(err, EX_DATAERR, "--effect: arm '%s' of '%s' has %ld patients with "
				       "%s = %s, fewer than the %d folds", r->arm[k], r->a.effect,
				       pos[k] < r->a.folds ? pos[k] : cnt[k] - pos[k], r->a.target,
				       r->t.classes[pos[k] < r->a.folds], r->a.folds);
	}
	if (!st && (noarm || r->t.n_missing) && !r->a.quiet)
		emit(r, OPS_TRAIN_NOTE, "%ld patients without an arm and %ld without '%s' left out (%ld"
		     " used)", noarm, r->t.n_missing, r->a.target, r->nused);
out:
	for (int j = 0; j < n; j++)
		free(lab[j]);
	free(lab);
	free(cnt_all);
	return st;
}

static void set_spec(const erun *r, nn_spec *s, const enc_spec *cs, int *tokens, int n_out)
{
	ops_train_nn_spec(&r->a, r->arch, cs, n_out, tokens, s);
}

/* Which network: an arm's outcome model (binary), the propensity model (logreg over the
 * arms), or an arm's effect regression. */
enum { NET_OUTCOME, NET_PROP, NET_EFFECT };

/* Trains one network on the rows sel (indices into X, n_in = slots) with labels y.
 * epochs 0: early stopping; else a fixed number (the refit). *best_epoch set. */
static nn_model *fit(const erun *r, int kind, const enc_spec *cs, const float *X,
		     const long *sel, long n, const float *y, uint64_t seed, int epochs,
		     int *best_epoch, lm_err *err)
{
	int ns = cs->nslot;
	int *tokens = xmallocarray((size_t)ns, sizeof *tokens);
	nn_spec s;
	if (kind == NET_PROP) {
		nn_spec_defaults(&s, NN_LOGREG, ns, r->narm == 2 ? 1 : r->narm);
		s.n_tokens = cs->ncolumn;
	} else {
		set_spec(r, &s, cs, tokens, 1);
	}
	nn_model *nm = nn_create(&s, seed, err);
	free(tokens);
	if (!nm)
		return NULL;
	float *Xs = xmallocarray((size_t)(n ? n : 1) * (size_t)ns, sizeof *Xs);
	float *ys = xmallocarray((size_t)(n ? n : 1), sizeof *ys);
	for (long i = 0; i < n; i++) {
		memcpy(Xs + (size_t)i * (size_t)ns, X + (size_t)sel[i] * (size_t)ns, (size_t)ns * sizeof *Xs);
		ys[i] = y[sel[i]];
	}
	int st;
	if (kind == NET_EFFECT) {
		nnreg_opts o;
		nnreg_defaults(&o);
		if (r->a.epochs)
			o.epochs = r->a.epochs;
		if (r->a.batch)
			o.batch = r->a.batch;
		if (r->a.lr > 0)
			o.lr = (float)r->a.lr;
		o.seed = seed ^ 0x5eed;
		if (epochs > 0) {
			o.epochs = epochs;
			o.val_frac = 0;
		}
		nnreg_result res;
		st = nnreg_fit(nm, Xs, ys, (int)n, &o, &res, err);
		*best_epoch = res.best_epoch;
	} else {
		nn_train_opts o;
		nn_train_defaults(&o, kind == NET_PROP ? NN_LOGREG : r->arch);
		if (kind == NET_PROP || r->arch == NN_LOGREG)
			o.val_frac = 0;
		if (r->a.epochs)
			o.epochs = r->a.epochs;
		if (r->a.batch)
			o.batch = r->a.batch;
		if (r->a.lr > 0)
			o.lr = (float)r->a.lr;
		o.seed = seed ^ 0x5eed;
		o.threads = r->a.threads > 0 ? r->a.threads : 1;
		if (epochs > 0) {
			o.epochs = epochs;
			o.val_frac = 0;
		}
		nn_train_result res;
		st = nn_train(nm, Xs, ys, (int)n, &o, &res, err);
		*best_epoch = res.best_epoch;
	}
	free(Xs);
	free(ys);
	if (st) {
		nn_free(nm);
		return NULL;
	}
	return nm;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int median_epoch(const int *v, int K)
{
	int *c = xmallocarray((size_t)K, sizeof *c);
	memcpy(c, v, (size_t)K * sizeof *c);
	qsort(c, (size_t)K, sizeof *c, cmp_int);
	int m = c[K / 2];
	free(c);
	return m < 1 ? 1 : m;
}

static void note(const erun *r, int pass, int k)
{
	if (r->a.quiet)
		return;
	const char *what = pass ? "effect regressions" : "outcome and propensity networks";
	if (k < r->a.folds)
		emit(r, OPS_TRAIN_NOTE, "fold %d/%d: %s", k + 1, r->a.folds, what);
	else
		emit(r, OPS_TRAIN_NOTE, "final %s", what);
}

/* Every network on every fold, then the final ones; fills the out-of-fold estimates. */
static int run_fits(erun *r, lm_err *err)
{
	int K = r->a.folds, A = r->narm, ns = r->m->spec.nslot;
	long n = r->nused;
	size_t nA = (size_t)n * (size_t)A;
	r->nnet = r->a.learner == EFFM_DR ? 2 * A : A;
	/* 2A slots for either learner: the T-learner's propensity folds (net A) serve the
	 * overlap check and are not stored */
	r->net = xcalloc((size_t)2 * (size_t)A, sizeof *r->net);
	for (int j = 0; j < 2 * A; j++)
		r->net[j] = xcalloc((size_t)K + 1, sizeof **r->net);
	r->best = xcalloc((size_t)2 * (size_t)A * (size_t)K, sizeof *r->best);
	r->m->nfold = K;
	r->m->fold = xcalloc((size_t)K, sizeof *r->m->fold);
	r->m->fold_spec = xcalloc((size_t)K, sizeof *r->m->fold_spec);
	r->p = xcalloc(nA, sizeof *r->p);
	r->p_sd = xcalloc(nA, sizeof *r->p_sd);
	r->eff = xcalloc(nA, sizeof *r->eff);
	r->eff_sd = xcalloc(nA, sizeof *r->eff_sd);
	r->z = xcalloc(nA, sizeof *r->z);
	r->prop = xcalloc(nA, sizeof *r->prop);
	double *mp = xcalloc(nA, sizeof *mp), *m2p = xcalloc(nA, sizeof *m2p);
	double *me = xcalloc(nA, sizeof *me), *m2e = xcalloc(nA, sizeof *m2e);
	float *X = xmallocarray((size_t)(n ? n : 1) * (size_t)ns, sizeof *X);
	float *yo = xmallocarray((size_t)(n ? n : 1), sizeof *yo);
	float *ya = xmallocarray((size_t)(n ? n : 1), sizeof *ya);
	float *zb = xmallocarray(nA ? nA : 1, sizeof *zb);
	double *pb = xmallocarray(nA ? nA : 1, sizeof *pb);
	long *sel = xmallocarray((size_t)(n ? n : 1), sizeof *sel);
	long *rows = xmallocarray((size_t)(n ? n : 1), sizeof *rows);
	for (long i = 0; i < n; i++) {
		yo[i] = r->t.y[r->used[i]];
		ya[i] = (float)r->arm_of[i];
	}
	int st = 0;
	/* pass 0: outcome and propensity models; pass 1 (DR): effect regressions on psi */
	for (int pass = 0; pass < (r->a.learner == EFFM_DR ? 2 : 1) && !st; pass++) {
		if (pass == 1) { /* the pseudo-outcomes, from the out-of-fold nuisances */
			r->psi = xcalloc(nA, sizeof *r->psi);
			for (long i = 0; i < n; i++) {
				const double *p = r->p + (size_t)i * A, *e = r->prop + (size_t)i * A;
				int t = r->arm_of[i];
				double y = yo[i];
				for (int a = 1; a < A; a++) {
					double ea = fmin(fmax(e[a], PROP_CLIP), 1 - PROP_CLIP);
					double er = fmin(fmax(e[0], PROP_CLIP), 1 - PROP_CLIP);
					double v = p[a] - p[0];
					if (t == a)
						v += (y - p[a]) / ea;
					if (t == 0)
						v -= (y - p[0]) / er;
					r->psi[(size_t)i * A + a] = v;
				}
			}
			memset(me, 0, nA * sizeof *me);
			memset(m2e, 0, nA * sizeof *m2e);
		}
		for (int k = 0; k <= K && !st; k++) {
			long ntr = 0;
			for (long i = 0; i < n; i++)
				if (k == K || r->fold[r->used[i]] != k)
					rows[ntr++] = r->used[i];
			const enc_spec *cs = &r->m->spec;
			if (k < K) {
				if (pass == 0)
					enc_refit(&r->m->spec, &r->f, rows, ntr, &r->m->fold_spec[k]);
				cs = &r->m->fold_spec[k];
			}
			if ((st = enc_encode(cs, &r->f, r->used, n, X, err)))
				break;
			uint64_t seed = (uint64_t)r->a.seed * 7919u + (k < K ? 1u + (uint64_t)k : 0u);
			note(r, pass, k);
			for (int j = pass ? A + 1 : 0; j < (pass ? 2 * A : A + 1) && !st; j++) {
				if (pass == 0 && j == A && r->a.learner != EFFM_DR && k == K)
					continue; /* the T-learner keeps only the out-of-fold propensity */
				int kind = j < A ? NET_OUTCOME : j == A ? NET_PROP : NET_EFFECT;
				long ns_sel = 0;
				float *yy = kind == NET_OUTCOME ? yo : ya;
				float *ypsi = NULL;
				for (long i = 0; i < n; i++)
					if ((k == K || r->fold[r->used[i]] != k) &&
					    (kind != NET_OUTCOME || r->arm_of[i] == j))
						sel[ns_sel++] = i;
				if (kind == NET_EFFECT) {
					ypsi = xmallocarray((size_t)(n ? n : 1), sizeof *ypsi);
					for (long i = 0; i < n; i++)
						ypsi[i] = (float)r->psi[(size_t)i * A + (j - A)];
					yy = ypsi;
				}
				int epochs = k == K ? median_epoch(r->best + (size_t)j * K, K) : 0, be = 0;
				nn_model *nm = fit(r, kind, cs, X, sel, ns_sel, yy, seed + 104729u * (uint64_t)j,
						   epochs, &be, err);
				free(ypsi);
				if (!nm) {
					char *pre = k < K ? xasprintf("fold %d, ", k + 1) : xstrdup("final, ");
					char *s = xasprintf("%s%s network of arm '%s': %s", pre,
							    kind == NET_OUTCOME ? "outcome" : kind == NET_PROP ?
							    "propensity" : "effect",
							    r->arm[kind == NET_EFFECT ? j - A : kind == NET_OUTCOME ? j : 0],
							    err->msg);
					snprintf(err->msg, sizeof err->msg, "%s", s);
					free(s);
					free(pre);
					st = err->status ? err->status : EX_SOFTWARE;
					break;
				}
				if (k < K)
					r->best[(size_t)j * K + k] = be;
				r->net[j][k] = nm;
				if (j == 0) {
					if (k < K)
						r->m->fold[k] = nm;
					else
						r->m->final = nm;
				}
				if (k == K)
					continue;
				/* every used patient through this fold's network */
				int C = kind == NET_PROP && A > 2 ? A : 1;
				nn_logits(nm, X, n, zb);
				if (kind != NET_EFFECT)
					nn_probs(zb, n, C, pb);
				int bad = 0;
				for (long i = 0; i < n; i++) {
					int oof = r->fold[r->used[i]] == k;
					size_t c = (size_t)i * A;
					if (kind == NET_PROP) {
						if (!oof)
							continue;
						for (int a = 0; a < A; a++)
							r->prop[c + a] = A == 2 ? (a ? pb[i] : 1 - pb[i])
										: pb[(size_t)i * A + a];
						continue;
					}
					double v = kind == NET_OUTCOME ? pb[i] : (double)zb[i];
					int a = kind == NET_OUTCOME ? j : j - A;
					bad |= !isfinite(v);
					double *mm = kind == NET_OUTCOME ? mp : me, *m2 = kind == NET_OUTCOME ? m2p : m2e;
					double d = v - mm[c + a];
					mm[c + a] += d / (k + 1);
					m2[c + a] += d * (v - mm[c + a]);
					if (oof) {
						if (kind == NET_OUTCOME) {
							r->p[c + a] = v;
							r->z[c + a] = zb[i];
						} else {
							r->eff[c + a] = v;
						}
					}
				}
				if (bad) {
					st = lm_seterr(err, EX_DATAERR, "fold %d: a trained network predicts NaN",
						       k + 1);
					break;
				}
			}
			/* the T-learner's effect across this fold's networks: p_a - p_ref of the
			 * same fold's models, for the spread */
			if (!st && pass == 0 && k < K && r->a.learner == EFFM_T) {
				double *pr = xmallocarray(nA ? nA : 1, sizeof *pr);
				for (int a = 0; a < A; a++) {
					nn_logits(r->net[a][k], X, n, zb);
					nn_probs(zb, n, 1, pb);
					for (long i = 0; i < n; i++)
						pr[(size_t)i * A + a] = pb[i];
				}
				for (long i = 0; i < n; i++)
					for (int a = 1; a < A; a++) {
						size_t c = (size_t)i * A + a;
						double v = pr[c] - pr[(size_t)i * A], d = v - me[c];
						me[c] += d / (k + 1);
						m2e[c] += d * (v - me[c]);
					}
				free(pr);
			}
		}
	}
	if (!st) {
		for (size_t c = 0; c < nA; c++) {
			r->p_sd[c] = sqrt(m2p[c] / K);
			r->eff_sd[c] = sqrt(m2e[c] / K);
		}
		if (r->a.learner == EFFM_T)
			for (long i = 0; i < n; i++)
				for (int a = 0; a < A; a++)
					r->eff[(size_t)i * A + a] = r->p[(size_t)i * A + a] - r->p[(size_t)i * A];
		else
			for (long i = 0; i < n; i++)
				r->eff[(size_t)i * A] = 0;
	}
	free(mp);
	free(m2p);
	free(me);
	free(m2e);
	free(X);
	free(yo);
	free(ya);
	free(zb);
	free(pb);
	free(sel);
	free(rows);
	return st;
}

/* ---- evaluation ---- */

static double r6(double v) { return round(v * 1e6) / 1e6; }

static void add_num(cJSON *o, const char *k, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, k, r6(v));
	else
		cJSON_AddNullToObject(o, k);
}

static cJSON *evaluate(erun *r)
{
	int A = r->narm;
	long n = r->nused;
	cJSON *ef = cJSON_CreateObject();
	cJSON_AddStringToObject(ef, "column", r->a.effect);
	cJSON_AddStringToObject(ef, "reference", r->arm[0]);
	cJSON_AddStringToObject(ef, "learner", r->a.learner == EFFM_DR ? "dr" : "t");
	cJSON *arms = cJSON_AddArrayToObject(ef, "arms");
	int *tr = xmallocarray((size_t)(n ? n : 1), sizeof *tr);
	double *y = xmallocarray((size_t)(n ? n : 1), sizeof *y);
	double *e = xmallocarray((size_t)(n ? n : 1), sizeof *e);
	double *x = xmallocarray((size_t)(n ? n : 1), sizeof *x);
	long *idx = xmallocarray((size_t)(n ? n : 1), sizeof *idx);
	for (int a = 1; a < A; a++) {
		long m = 0;
		for (long i = 0; i < n; i++) {
			if (r->arm_of[i] != a && r->arm_of[i] != 0)
				continue;
			idx[m] = i;
			tr[m] = r->arm_of[i] == a;
			y[m] = r->t.y[r->used[i]];
			e[m] = r->eff[(size_t)i * A + a];
			m++;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "arm", r->arm[a]);
		cJSON_AddNumberToObject(o, "n", (double)m);
		cJSON *ate = cJSON_AddObjectToObject(o, "ate");
		double at, lo, hi;
		uplift_ate(tr, y, m, &at, &lo, &hi);
		add_num(ate, "observed", at);
		add_num(ate, "lo", lo);
		add_num(ate, "hi", hi);
		double s = 0;
		for (long i = 0; i < n; i++)
			s += r->eff[(size_t)i * A + a];
		add_num(ate, "predicted", n ? s / (double)n : (double)NAN);
		if (r->psi) { /* AIPW: the mean pseudo-outcome over every patient */
			double sp = 0, sq = 0;
			for (long i = 0; i < n; i++) {
				double v = r->psi[(size_t)i * A + a];
				sp += v;
				sq += v * v;
			}
			double mu = sp / (double)n, sd = sqrt(fmax(sq / (double)n - mu * mu, 0));
			double h = 1.959963984540054 * sd / sqrt((double)n);
			cJSON *aw = cJSON_AddObjectToObject(ate, "aipw");
			add_num(aw, "estimate", mu);
			add_num(aw, "lo", mu - h);
			add_num(aw, "hi", mu + h);
		}
		uplift_curves c;
		uplift_curves_compute(e, tr, y, m, 20, &c);
		cJSON_AddItemToObject(o, "curves", uplift_curves_json(&c));
		uplift_curves_free(&c);
		uplift_calibration cal;
		uplift_calibration_compute(e, tr, y, m, m >= 2000 ? 10 : 5, &cal);
		cJSON_AddItemToObject(o, "calibration", uplift_calibration_json(&cal));
		if (r->psi) { /* the DR-learner: the same groups against the pseudo-outcomes */
			double *ps = xmallocarray((size_t)(m ? m : 1), sizeof *ps);
			for (long q = 0; q < m; q++)
				ps[q] = r->psi[(size_t)idx[q] * A + a];
			uplift_calibration_pseudo(e, ps, m, m >= 2000 ? 10 : 5, &cal);
			cJSON_AddItemToObject(o, "calibration_dr", uplift_calibration_json(&cal));
			free(ps);
		}
		/* balance of every feature column between this arm and the reference: a numeric
		 * column's SMD, a categorical one's largest SMD over its levels */
		cJSON *bal = cJSON_AddObjectToObject(o, "balance");
		cJSON *cols = cJSON_AddArrayToObject(bal, "columns");
		double mx = 0;
		for (int f = 0; f < r->nfeat; f++) {
			int j = frame_find(&r->f, r->feat[f]);
			const store_column *sc = r->f.col[j].meta;
			double smd = NAN;
			if (sc->type == COL_TYPE_TEXT) {
				for (int l = 0; l < sc->ncat; l++) {
					for (long q = 0; q < m; q++) {
						double v = r->f.col[j].v[r->used[idx[q]]];
						x[q] = isnan(v) ? (double)NAN : (double)((int)v == l);
					}
					double d = uplift_smd(x, tr, m);
					if (isfinite(d) && !(fabs(d) <= fabs(smd)))
						smd = d;
				}
			} else {
				for (long q = 0; q < m; q++)
					x[q] = r->f.col[j].v[r->used[idx[q]]];
				smd = uplift_smd(x, tr, m);
			}
			cJSON *cj = cJSON_CreateObject();
			cJSON_AddStringToObject(cj, "column", r->feat[f]);
			add_num(cj, "smd", smd);
			cJSON_AddItemToArray(cols, cj);
			if (isfinite(smd) && fabs(smd) > mx)
				mx = fabs(smd);
		}
		add_num(bal, "max_abs_smd", mx);
		cJSON_AddItemToArray(arms, o);
		if (mx > 0.1) {
			char *w = xasprintf("arms '%s' and '%s' differ in their patients (largest "
					    "standardised mean difference %.2f > 0.1): not balanced as a "
					    "randomised trial's would be", r->arm[a], r->arm[0], mx);
			cJSON_AddItemToArray(r->warn, cJSON_CreateString(w));
			free(w);
		}
	}
	/* the propensity overlap: the share of patients whose out-of-fold propensity of
	 * their own arm... of any arm lies outside [0.05, 0.95] */
	long out = 0;
	for (long i = 0; i < n; i++) {
		int o = 0;
		for (int a = 0; a < A; a++)
			o |= r->prop[(size_t)i * A + a] < 0.05 || r->prop[(size_t)i * A + a] > 0.95;
		out += o;
	}
	cJSON *ov = cJSON_AddObjectToObject(ef, "overlap");
	add_num(ov, "share_outside", n ? (double)out / (double)n : (double)NAN);
	cJSON_AddNumberToObject(ov, "n_outside", (double)out);
	cJSON_AddStringToObject(ov, "propensity", "logreg, out of fold");
	if (n && (double)out / (double)n > 0.05) {
		char *w = xasprintf("%.1f%% of patients have a propensity outside [0.05, 0.95]: the "
				    "arms overlap poorly and effects there are extrapolated",
				    100.0 * (double)out / (double)n);
		cJSON_AddItemToArray(r->warn, cJSON_CreateString(w));
		free(w);
	}
	free(tr);
	free(y);
	free(e);
	free(x);
	free(idx);
	return ef;
}

static cJSON *factual_metrics(const erun *r, int arm)
{
	long n = r->nused, m = 0;
	int A = r->narm;
	double *p = xmallocarray((size_t)(n ? n : 1), sizeof *p), *y = xmallocarray((size_t)(n ? n : 1), sizeof *y);
	for (long i = 0; i < n; i++) {
		if (arm >= 0 && r->arm_of[i] != arm)
			continue;
		p[m] = r->p[(size_t)i * A + r->arm_of[i]];
		y[m++] = r->t.y[r->used[i]];
	}
	metrics_binary mb;
	metrics_binary_compute(p, y, NULL, m, 0.5, &mb);
	cJSON *o = cJSON_CreateObject();
	metrics_binary_json(o, &mb);
	free(p);
	free(y);
	return o;
}

/* ---- storing ---- */

static int store_all(sqlite3 *db, erun *r, lm_err *err)
{
	int ns = r->m->spec.nslot, A = r->narm, K = r->a.folds;
	float *T = xmallocarray((size_t)(r->nused ? r->nused : 1) * (size_t)ns, sizeof *T);
	int st = enc_encode(&r->m->spec, &r->f, r->used, r->nused, T, err);
	if (st) {
		free(T);
		return st;
	}
	if ((st = store_exec(db, "BEGIN IMMEDIATE", err))) {
		free(T);
		return st;
	}
	long old = model_id(db, r->m->name);
	if (old >= 0 && r->a.force && store_has_table(db, "effects")) {
		sqlite3_stmt *d = store_prepare(db, "DELETE FROM effects WHERE model_id = ?", err);
		if (!d) {
			st = err->status;
			goto fail;
		}
		sqlite3_bind_int64(d, 1, old);
		sqlite3_step(d);
		sqlite3_finalize(d);
	}
	st = model_save(db, r->m, r->a.force, err);
	if (!st)
		st = ig_baseline_store(db, r->m, T, r->nused, err);
	free(T);
	T = NULL;
	for (int j = 1; !st && j < r->nnet; j++)
		for (int k = 0; !st && k <= K; k++)
			if (r->net[j][k])
				st = effm_save_net(db, r->m->id, j, k < K ? k : -1, r->net[j][k], err);
	if (!st)
		st = effm_effects_table(db, r->m->id, err);
	if (st)
		goto fail;
	sqlite3_stmt *u = store_prepare(db, "UPDATE models SET seed = ?, data_sha256 = ?, n_used = ?,"
					" n_excluded = ?, final = 'refit' WHERE id = ?", err);
	if (!u) {
		st = err->status;
		goto fail;
	}
	char *sha = ops_train_data_sha(db);
	sqlite3_bind_int64(u, 1, r->a.seed);
	if (sha)
		sqlite3_bind_text(u, 2, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(u, 3, r->nused);
	sqlite3_bind_int64(u, 4, r->f.nrow - r->nused);
	sqlite3_bind_int64(u, 5, r->m->id);
	int rc = sqlite3_step(u);
	sqlite3_finalize(u);
	free(sha);
	if (rc != SQLITE_DONE) {
		st = lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
		goto fail;
	}
	/* predictions: the reference arm's out-of-fold risk (what model_load's networks give
	 * and explain); effects: every arm */
	sqlite3_stmt *ins = store_prepare(db, "INSERT INTO predictions(model_id, patient, fold, y, p,"
					  " p_sd, logit) VALUES(?, ?, ?, ?, ?, ?, ?)", err);
	sqlite3_stmt *ie = ins ? store_prepare(db, "INSERT INTO effects(model_id, patient, arm, fold,"
					       " p, p_sd, logit, effect, effect_sd) VALUES(?, ?, ?, ?,"
					       " ?, ?, ?, ?, ?)", err) : NULL;
	if (!ins || !ie) {
		sqlite3_finalize(ins);
		st = err->status;
		goto fail;
	}
	for (long i = 0; i < r->nused && !st; i++) {
		long row = r->used[i];
		size_t c = (size_t)i * A;
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, r->m->id);
		sqlite3_bind_int64(ins, 2, r->f.rowid[row]);
		sqlite3_bind_int(ins, 3, r->fold[row]);
		sqlite3_bind_int(ins, 4, (int)r->t.y[row]);
		sqlite3_bind_double(ins, 5, r->p[c]);
		sqlite3_bind_double(ins, 6, r->p_sd[c]);
		sqlite3_bind_double(ins, 7, (double)r->z[c]);
		if ((rc = sqlite3_step(ins)) != SQLITE_DONE)
			st = lm_seterr(err, store_status(rc), "saving predictions: %s", sqlite3_errmsg(db));
		for (int a = 0; a < A && !st; a++) {
			sqlite3_reset(ie);
			sqlite3_bind_int64(ie, 1, r->m->id);
			sqlite3_bind_int64(ie, 2, r->f.rowid[row]);
			sqlite3_bind_text(ie, 3, r->arm[a], -1, SQLITE_STATIC);
			sqlite3_bind_int(ie, 4, r->fold[row]);
			sqlite3_bind_double(ie, 5, r->p[c + a]);
			sqlite3_bind_double(ie, 6, r->p_sd[c + a]);
			sqlite3_bind_double(ie, 7, (double)r->z[c + a]);
			sqlite3_bind_double(ie, 8, r->eff[c + a]);
			sqlite3_bind_double(ie, 9, r->eff_sd[c + a]);
			if ((rc = sqlite3_step(ie)) != SQLITE_DONE)
				st = lm_seterr(err, store_status(rc), "saving effects: %s", sqlite3_errmsg(db));
		}
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(ie);
	if (st || (st = store_exec(db, "COMMIT", err)))
		goto fail;
	return 0;
fail:
	free(T);
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return st;
}

static void erun_free(erun *r)
{
	frame_free(&r->f);
	enc_target_free(&r->t);
	lm_split_free(r->feat, r->nfeat);
	for (int a = 0; a < r->narm; a++)
		free(r->arm[a]);
	free(r->arm);
	free(r->used);
	free(r->arm_of);
	free(r->fold);
	for (int j = 0; r->net && j < 2 * r->narm; j++) {
		for (int k = 0; k <= r->a.folds; k++)
			if (j > 0 || !r->m) /* net 0's belong to the model */
				nn_free(r->net[j][k]);
		free(r->net[j]);
	}
	free(r->net);
	model_free(r->m);
	free(r->p);
	free(r->p_sd);
	free(r->eff);
	free(r->eff_sd);
	free(r->z);
	free(r->prop);
	free(r->psi);
	free(r->best);
	cJSON_Delete(r->warn);
}

static char *hyper(const erun *r)
{
	cJSON *h = cJSON_CreateObject();
	if (r->arch != NN_LOGREG) {
		nn_train_opts o;
		nn_train_defaults(&o, r->arch);
		cJSON_AddNumberToObject(h, "epochs", r->a.epochs ? r->a.epochs : o.epochs);
		cJSON_AddNumberToObject(h, "batch", r->a.batch ? r->a.batch : o.batch);
		char b[32];
		snprintf(b, sizeof b, "%.7g", r->a.lr > 0 ? r->a.lr : (double)o.lr);
		cJSON_AddNumberToObject(h, "lr", strtod(b, NULL));
	} else {
		cJSON_AddStringToObject(h, "solver", "newton");
	}
	cJSON_AddNumberToObject(h, "folds", r->a.folds);
	cJSON_AddStringToObject(h, "final", "refit");
	cJSON *e = cJSON_AddObjectToObject(h, "effect");
	cJSON_AddStringToObject(e, "column", r->a.effect);
	cJSON *arms = cJSON_AddArrayToObject(e, "arms");
	for (int a = 0; a < r->narm; a++)
		cJSON_AddItemToArray(arms, cJSON_CreateString(r->arm[a]));
	cJSON_AddStringToObject(e, "reference", r->arm[0]);
	cJSON_AddStringToObject(e, "learner", r->a.learner == EFFM_DR ? "dr" : "t");
	cJSON_AddStringToObject(e, "propensity", "logreg");
	cJSON_AddNumberToObject(e, "propensity_clip", PROP_CLIP);
	return json_take(h);
}

int ops_train_effect_run(sqlite3 *db, const ops_train_opts *opts, ops_train *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	erun r;
	memset(&r, 0, sizeof r);
	r.a = *opts;
	if (!r.a.file)
		r.a.file = "patients";
	if (!r.a.arch || !r.a.target || !r.a.effect)
		return lm_seterr(err, EX_USAGE, "--effect needs --model ARCH, --target COL and --effect COL");
	int ac = nn_arch_parse(r.a.arch);
	if (ac != NN_LOGREG && ac != NN_MLP && ac != NN_TRANSFORMER)
		return lm_seterr(err, EX_USAGE, "--effect: --model %s cannot estimate effects (logreg,"
				 " mlp or transformer)", r.a.arch);
	if (r.a.folds < 2)
		return lm_seterr(err, EX_USAGE, "--folds: at least 2");
	int st = 0;
	r.arch = (nn_arch)nn_arch_parse(r.a.arch);
	r.warn = cJSON_CreateArray();
	char *name = r.a.name ? xstrdup(r.a.name) : xasprintf("%s-effect-%s", r.a.arch, r.a.effect);
	{
		const char *extra[2] = {r.a.target, r.a.effect};
		if ((st = ops_train_load(db, &r.a, name, extra, 2, &r.feat, &r.nfeat, &r.f, err)))
			goto out;
	}
	if ((st = enc_target_make(&r.f, r.a.target, r.a.positive, &r.t, err)))
		goto out;
	if (r.t.nclass != 2) {
		st = lm_seterr(err, EX_DATAERR, "--effect: the target '%s' has %d classes; an effect "
			       "is a risk difference of a binary outcome (--positive VALUE makes one)",
			       r.a.target, r.t.nclass);
		goto out;
	}
	if ((st = find_arms(&r, err)))
		goto out;
	{ /* folds stratified by arm and outcome */
		enc_target strat = {0};
		strat.nclass = 2 * r.narm;
		strat.classes = xcalloc((size_t)strat.nclass, sizeof *strat.classes);
		for (int c = 0; c < strat.nclass; c++)
			strat.classes[c] = xasprintf("%s=%s with %s=%s", r.a.effect, r.arm[c / 2],
						     r.a.target, r.t.classes[c % 2]);
		strat.y = xmallocarray((size_t)(r.f.nrow ? r.f.nrow : 1), sizeof *strat.y);
		for (long i = 0; i < r.f.nrow; i++)
			strat.y[i] = NAN;
		for (long i = 0; i < r.nused; i++)
			strat.y[r.used[i]] = (float)(2 * r.arm_of[i] + (int)r.t.y[r.used[i]]);
		r.fold = xmallocarray((size_t)(r.f.nrow ? r.f.nrow : 1), sizeof *r.fold);
		st = enc_folds(&strat, r.f.nrow, r.a.folds, (uint64_t)r.a.seed, r.fold, err);
		enc_target_free(&strat);
		if (st)
			goto out;
	}
	r.m = xcalloc(1, sizeof *r.m);
	r.m->name = xstrdup(name);
	r.m->arch = xstrdup(nn_arch_name(r.arch));
	r.m->target = xstrdup(r.a.target);
	r.m->positive = r.a.positive ? xstrdup(r.a.positive) : NULL;
	r.m->task = xstrdup("effect");
	r.m->nclass = 2;
	r.m->classes = xcalloc(2, sizeof *r.m->classes);
	for (int c = 0; c < 2; c++)
		r.m->classes[c] = xstrdup(r.t.classes[c]);
	if ((st = enc_fit(&r.f, (const char *const *)r.feat, r.nfeat, r.used, r.nused, &r.m->spec,
			  err)))
		goto out;
	if ((st = run_fits(&r, err)))
		goto out;
	r.m->hyper_json = hyper(&r);
	{
		cJSON *mj = cJSON_CreateObject();
		cJSON_AddItemToObject(mj, "pooled", factual_metrics(&r, -1));
		cJSON *pa = cJSON_AddObjectToObject(mj, "arms");
		for (int a = 0; a < r.narm; a++)
			cJSON_AddItemToObject(pa, r.arm[a], factual_metrics(&r, a));
		cJSON *ef = evaluate(&r);
		cJSON_AddItemToObject(mj, "effect", ef);
		cJSON_AddItemToObject(mj, "warnings", r.warn);
		r.warn = NULL;
		const cJSON *w;
		cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(mj, "warnings"))
			emit(&r, OPS_TRAIN_WARNING, "%s", w->valuestring);
		r.m->metrics_json = json_take(mj);
	}
	if ((st = store_all(db, &r, err)))
		goto out;
	out->name = xstrdup(name);
	out->arch = xstrdup(r.m->arch);
	out->target = xstrdup(r.a.target);
	out->positive = r.a.positive ? xstrdup(r.a.positive) : NULL;
	out->id = r.m->id;
	out->n_used = r.nused;
	out->n_excluded = r.f.nrow - r.nused;
	out->folds = r.a.folds;
	out->auc = (double)NAN;
	out->narm = r.narm;
	snprintf(out->reference, sizeof out->reference, "%s", r.arm[0]);
	out->metrics = xstrdup(r.m->metrics_json);
	snprintf(out->final_desc, sizeof out->final_desc, "%s-learner",
		 r.a.learner == EFFM_DR ? "DR" : "T");
out:
	erun_free(&r);
	free(name);
	return st;
}
