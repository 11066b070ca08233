/* ops_train.c: training as a job — K-fold cross-validated training of one architecture on
 * the patients of a workbench file, a final model refitted on every patient, and everything
 * (model, inputs, tensors, out-of-fold predictions, metrics) stored in one transaction.
 * lumen train parses and prints; progress, notes and warnings reach it as events. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../explain/ig.h"
#include "../data/leaks.h"
#include "../data/visits_enc.h"
#include "../stats/metrics.h"
#include "ops.h"
#include "ops_int.h"

static int in_list(char **l, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(l[i], s))
			return 1;
	return 0;
}

/* ---- events ---- */

struct run;
static void emit(const struct run *r, const ops_train_event *ev);

/* The network a progress callback of nn_train belongs to. */
typedef struct net_ctx {
	const struct run *r;
	int fold; /* -1: the final model */
} net_ctx;

static void on_epoch(void *ctx, int epoch, double loss, double val_loss, double val_auc)
{
	const net_ctx *c = ctx;
	ops_train_event ev = {OPS_TRAIN_EPOCH, c->fold, 0, epoch, loss, val_loss, val_auc, NULL};
	emit(c->r, &ev);
}

/* Metrics of predictions p (n x W, W = 1 binary or C) against class indices y, as JSON. */
static cJSON *metrics_of(const double *p, const float *y, long n, int C)
{
	cJSON *o = cJSON_CreateObject();
	if (C == 1) {
		double *yy = xmallocarray((size_t)(n ? n : 1), sizeof *yy);
		for (long i = 0; i < n; i++)
			yy[i] = y[i];
		metrics_binary mb;
		metrics_binary_compute(p, yy, NULL, n, 0.5, &mb);
		metrics_binary_json(o, &mb);
		free(yy);
		return o;
	}
	int *cls = xmallocarray((size_t)(n ? n : 1), sizeof *cls);
	double ll = 0;
	for (long i = 0; i < n; i++) {
		cls[i] = (int)y[i];
		double pc = p[(size_t)i * (size_t)C + (size_t)cls[i]];
		ll -= log(pc < METRICS_EPS ? METRICS_EPS : pc);
	}
	cJSON_AddNumberToObject(o, "n", (double)n);
	metrics_json_number(o, "accuracy", metrics_mc_accuracy(p, cls, NULL, n, C));
	metrics_json_number(o, "auc", metrics_mc_auc_ovr(p, cls, NULL, n, C));
	metrics_json_number(o, "log_loss", n ? ll / (double)n : (double)NAN);
	free(cls);
	return o;
}

/* Puts prefix in front of an error message ("fold 2: training diverged ..."). */
static void err_prefix(lm_err *err, const char *prefix)
{
	char *s = xasprintf("%s%s", prefix, err->msg);
	snprintf(err->msg, sizeof err->msg, "%s", s);
	free(s);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* The feature columns (ops_int.h): --features exactly, else every feature, group and
 * treatment column except the target, the time column, the arm column of an effect model and
 * --exclude. Sets *nf; NULL with err on an unknown or forbidden column. */
char **ops_train_features(const store_columns *cols, const ops_train_opts *a, int *nf,
			  lm_err *err)
{
	int ne = 0;
	char **ex = lm_split(a->exclude ? a->exclude : "", &ne);
	for (int i = 0; i < ne; i++)
		if (store_columns_find(cols, ex[i]) < 0) {
			lm_seterr(err, EX_DATAERR, "--exclude: no column '%s'", ex[i]);
			lm_split_free(ex, ne);
			return NULL;
		}
	char **out;
	if (a->features) {
		out = lm_split(a->features, nf);
		for (int i = 0; i < *nf; i++) {
			int j = store_columns_find(cols, out[i]);
			if (j < 0) {
				lm_seterr(err, EX_DATAERR, "--features: no column '%s'", out[i]);
			} else if (a->effect && !strcmp(out[i], a->effect)) {
				lm_seterr(err, EX_DATAERR, "--features: '%s' is the treatment column of "
					  "--effect and cannot be a feature", out[i]);
			} else if (!strcmp(out[i], a->target)) {
				lm_seterr(err, EX_DATAERR, "--features: '%s' is the target", out[i]);
			} else if (a->time && !strcmp(out[i], a->time)) {
				lm_seterr(err, EX_DATAERR,
					  "--features: '%s' is the time column and cannot be a feature", out[i]);
			} else {
				col_role r = cols->c[j].role;
				if (r == COL_ROLE_ID || r == COL_ROLE_TIME || r == COL_ROLE_EVENT || r == COL_ROLE_TARGET) {
					lm_seterr(err, EX_DATAERR,
						  "--features: '%s' has role %s and cannot be a feature", out[i],
						  store_role_name(r));
				} else {
					continue;
				}
			}
			lm_split_free(out, *nf);
			lm_split_free(ex, ne);
			*nf = 0;
			return NULL;
		}
	} else {
		out = xcalloc((size_t)cols->n + 1, sizeof *out);
		*nf = 0;
		for (int j = 0; j < cols->n; j++) {
			const store_column *c = &cols->c[j];
			if (c->role != COL_ROLE_FEATURE && c->role != COL_ROLE_GROUP && c->role != COL_ROLE_TREATMENT)
				continue;
			if (!strcmp(c->name, a->target) || in_list(ex, ne, c->name) ||
			    (a->time && !strcmp(c->name, a->time)) ||
			    (a->effect && !strcmp(c->name, a->effect)))
				continue;
			/* free text (every value its own category) is not a feature */
			if (c->type == COL_TYPE_TEXT &&
			    (c->ncat == 0 || c->ncat > FRAME_MAX_CATS || c->ncat < c->distinct))
				continue;
			out[(*nf)++] = xstrdup(c->name);
		}
	}
	lm_split_free(ex, ne);
	if (*nf == 0) {
		lm_split_free(out, 0);
		lm_seterr(err, EX_DATAERR, "no feature columns left to train on");
		return NULL;
	}
	return out;
}

int ops_train_load(sqlite3 *db, const ops_train_opts *a, const char *name,
		   const char *const *extra, int nextra, char ***feat, int *nfeat, frame *f,
		   lm_err *err)
{
	*feat = NULL;
	*nfeat = 0;
	store_columns cols;
	int st = store_columns_load(db, "patients", &cols, err);
	if (st)
		return st;
	for (int i = 0; i < nextra && !st; i++)
		if (store_columns_find(&cols, extra[i]) < 0)
			st = lm_seterr(err, EX_DATAERR, "no column '%s' in patients", extra[i]);
	if (!st && !(*feat = ops_train_features(&cols, a, nfeat, err)))
		st = err->status;
	store_columns_free(&cols);
	if (!st && !a->force && model_id(db, name) >= 0)
		st = lm_seterr(err, EX_DATAERR, "a model named '%s' exists; use --force to replace it",
			       name);
	if (!st) {
		const char **load = xcalloc((size_t)*nfeat + (size_t)nextra + 1, sizeof *load);
		for (int i = 0; i < *nfeat; i++)
			load[i] = (*feat)[i];
		for (int i = 0; i < nextra; i++)
			load[*nfeat + i] = extra[i];
		st = frame_load(db, "patients", load, *nfeat + nextra, f, err);
		free(load);
	}
	return st;
}

/* State of one training run. */
typedef struct run {
	ops_train_opts a;
	nn_arch arch;
	frame f;
	enc_target t;
	char **feat;
	int nfeat;
	long *used; /* frame rows with a target */
	long nused;
	int *fold;  /* per frame row */
	model *m;
	int C;      /* n_out */
	double *oof_p;  /* nused x W */
	float *oof_z;   /* nused x C logits */
	double *p_sd;   /* nused */
	int *best_epoch;
	cJSON *fold_metrics;
	leaks warn; /* inputs that look like leaks (printed, and stored with the metrics) */
} run;

static void emit(const run *r, const ops_train_event *ev)
{
	if (!r->a.progress)
		return;
	ops_train_event e = *ev;
	e.nfold = r->a.folds;
	r->a.progress(r->a.ctx, &e);
}

static void note(const run *r, ops_train_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note(const run *r, ops_train_kind kind, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	ops_train_event ev = {kind, -2, 0, 0, NAN, NAN, NAN, line};
	emit(r, &ev);
}

void ops_train_nn_spec(const ops_train_opts *a, nn_arch arch, const enc_spec *cs, int n_out,
		       int *tokens, nn_spec *s)
{
	nn_spec_defaults(s, arch, cs->nslot, n_out);
	if (a->l2 >= 0)
		s->l2 = (float)a->l2;
	if (a->dropout >= 0)
		s->dropout = (float)a->dropout;
	if (a->hidden) {
		int n = 0;
		char **h = lm_split(a->hidden, &n);
		s->n_hidden = 0;
		for (int i = 0; i < n && i < NN_MAX_HIDDEN; i++) {
			long v;
			if (parse_long(h[i], &v) == 0 && v > 0 && v < 100000)
				s->hidden[s->n_hidden++] = (int)v;
		}
		lm_split_free(h, n);
	}
	if (a->d_model)
		s->d_model = a->d_model;
	if (a->blocks)
		s->n_blocks = a->blocks;
	if (a->heads)
		s->n_heads = a->heads;
	if (a->ffn)
		s->d_ffn = a->ffn;
	for (int i = 0; i < cs->nslot; i++)
		tokens[i] = cs->slot[i].token;
	s->n_tokens = cs->ncolumn;
	s->slot_token = tokens;
	int S;
	venc_geometry(cs, &S, &s->seq_steps, &s->seq_feat);
	if (a->gru_hidden)
		s->gru_hidden = a->gru_hidden;
	if (a->channels)
		s->conv_channels = a->channels;
	if (a->kernel)
		s->conv_width = a->kernel;
	s->attention = a->attention;
}

static void set_nn_spec(const run *r, nn_spec *s, const enc_spec *cs, int *tokens)
{
	ops_train_nn_spec(&r->a, r->arch, cs, r->C, tokens, s);
}

static void set_train_opts(const run *r, nn_train_opts *o, uint64_t seed, float *cw,
			   const long *rows, long n)
{
	nn_train_defaults(o, r->arch);
	if (r->arch == NN_LOGREG) /* solved to its optimum on every row (nn_logreg_fit) */
		o->val_frac = 0;
	if (r->a.epochs)
		o->epochs = r->a.epochs;
	if (r->a.batch)
		o->batch = r->a.batch;
	if (r->a.lr > 0)
		o->lr = (float)r->a.lr;
	o->seed = seed;
	o->threads = r->a.threads > 0 ? r->a.threads : 1;
	o->class_weight = NULL;
	if (r->a.balanced) {
		/* w_c = n / (C * n_c), as scikit-learn's class_weight="balanced" */
		int K = r->t.nclass;
		long cnt[32] = {0};
		for (long i = 0; i < n; i++)
			cnt[(int)r->t.y[rows[i]]]++;
		for (int c = 0; c < K; c++)
			cw[c] = cnt[c] ? (float)((double)n / ((double)K * (double)cnt[c])) : 1.0f;
		o->class_weight = cw;
	}
}

/* Trains one network on frame rows `rows` encoded with cs. */
static nn_model *fit_one(run *r, const enc_spec *cs, const long *rows, long n, uint64_t seed,
			 int epochs, int fold, nn_train_result *res, lm_err *err)
{
	int *tokens = xmallocarray((size_t)cs->nslot, sizeof *tokens);
	nn_spec s;
	set_nn_spec(r, &s, cs, tokens);
	nn_model *nm = nn_create(&s, seed, err);
	free(tokens);
	if (!nm)
		return NULL;
	float *X = xmallocarray((size_t)n * (size_t)cs->nslot, sizeof *X);
	float *y = xmallocarray((size_t)n, sizeof *y);
	int st = enc_encode(cs, &r->f, rows, n, X, err);
	for (long i = 0; i < n; i++)
		y[i] = r->t.y[rows[i]];
	float cw[32];
	nn_train_opts o;
	set_train_opts(r, &o, seed ^ 0x5eed, cw, rows, n);
	if (epochs > 0) { /* the refit: a fixed number of epochs on every row */
		o.epochs = epochs;
		o.val_frac = 0;
	}
	net_ctx nc = {r, fold};
	o.progress = on_epoch;
	o.ctx = &nc;
	if (!st)
		st = nn_train(nm, X, y, (int)n, &o, res, err);
	ops_train_event ev = {OPS_TRAIN_NET_DONE, fold, r->a.folds, 0, NAN, NAN, NAN, NULL};
	emit(r, &ev);
	free(X);
	free(y);
	if (st) {
		nn_free(nm);
		return NULL;
	}
	return nm;
}

static int cross_validate(run *r, lm_err *err)
{
	int K = r->a.folds, C = r->C, W = C == 1 ? 1 : C;
	long n = r->nused;
	int ns = r->m->spec.nslot;
	r->m->nfold = K;
	r->m->fold = xcalloc((size_t)K, sizeof *r->m->fold);
	r->m->fold_spec = xcalloc((size_t)K, sizeof *r->m->fold_spec);
	r->oof_p = xcalloc((size_t)n * (size_t)W, sizeof *r->oof_p);
	r->oof_z = xcalloc((size_t)n * (size_t)C, sizeof *r->oof_z);
	r->p_sd = xcalloc((size_t)n, sizeof *r->p_sd);
	r->best_epoch = xcalloc((size_t)K, sizeof *r->best_epoch);
	r->fold_metrics = cJSON_CreateArray();
	/* running mean and sum of squares of each patient's prediction across fold models */
	double *mean = xcalloc((size_t)n, sizeof *mean), *m2 = xcalloc((size_t)n, sizeof *m2);
	long *tr = xmallocarray((size_t)n, sizeof *tr), *te = xmallocarray((size_t)n, sizeof *te);
	long *te_idx = xmallocarray((size_t)n, sizeof *te_idx);
	float *Xall = xmallocarray((size_t)n * (size_t)ns, sizeof *Xall);
	float *zall = xmallocarray((size_t)n * (size_t)C, sizeof *zall);
	double *pall = xmallocarray((size_t)n * (size_t)W, sizeof *pall);
	int st = 0;
	for (int k = 0; k < K && !st; k++) {
		long ntr = 0, nte = 0;
		for (long i = 0; i < n; i++) {
			if (r->fold[r->used[i]] == k) {
				te_idx[nte] = i;
				te[nte++] = r->used[i];
			} else {
				tr[ntr++] = r->used[i];
			}
		}
		enc_refit(&r->m->spec, &r->f, tr, ntr, &r->m->fold_spec[k]);
		nn_train_result res;
		r->m->fold[k] = fit_one(r, &r->m->fold_spec[k], tr, ntr, (uint64_t)r->a.seed * 7919u + 1u + (uint64_t)k,
					0, k, &res, err);
		if (!r->m->fold[k]) {
			char *pre = xasprintf("fold %d: ", k + 1);
			err_prefix(err, pre);
			free(pre);
			st = err->status ? err->status : EX_SOFTWARE;
			break;
		}
		r->best_epoch[k] = res.best_epoch;
		/* every used patient through this fold's model: out-of-fold rows and the spread */
		if ((st = enc_encode(&r->m->fold_spec[k], &r->f, r->used, n, Xall, err)))
			break;
		nn_logits(r->m->fold[k], Xall, n, zall);
		nn_probs(zall, n, C, pall);
		int bad = 0;
		for (long i = 0; i < n; i++) {
			double p = pall[(size_t)i * (size_t)W + (size_t)(W == 1 ? 0 : (int)r->t.y[r->used[i]])];
			if (!isfinite(p))
				bad = 1;
			double d = p - mean[i];
			mean[i] += d / (k + 1);
			m2[i] += d * (p - mean[i]);
		}
		if (bad) {
			st = lm_seterr(err, EX_DATAERR, "fold %d: the trained model predicts NaN", k + 1);
			break;
		}
		double *pk = xmallocarray((size_t)(nte ? nte : 1) * (size_t)W, sizeof *pk);
		float *yk = xmallocarray((size_t)(nte ? nte : 1), sizeof *yk);
		for (long j = 0; j < nte; j++) {
			long i = te_idx[j];
			memcpy(r->oof_p + (size_t)i * (size_t)W, pall + (size_t)i * (size_t)W,
			       (size_t)W * sizeof *pk);
			memcpy(r->oof_z + (size_t)i * (size_t)C, zall + (size_t)i * (size_t)C,
			       (size_t)C * sizeof *zall);
			memcpy(pk + (size_t)j * (size_t)W, pall + (size_t)i * (size_t)W, (size_t)W * sizeof *pk);
			yk[j] = r->t.y[te[j]];
		}
		cJSON *fm = metrics_of(pk, yk, nte, C);
		cJSON_AddNumberToObject(fm, "fold", k);
		cJSON_AddNumberToObject(fm, "best_epoch", res.best_epoch);
		cJSON_AddNumberToObject(fm, "epochs_run", res.epochs_run);
		cJSON_AddNumberToObject(fm, "seconds", res.seconds);
		cJSON_AddItemToArray(r->fold_metrics, fm);
		free(pk);
		free(yk);
	}
	for (long i = 0; i < n; i++)
		r->p_sd[i] = sqrt(m2[i] / K);
	free(mean);
	free(m2);
	free(tr);
	free(te);
	free(te_idx);
	free(Xall);
	free(zall);
	free(pall);
	return st;
}

char *ops_train_data_sha(sqlite3 *db)
{
	sqlite3_stmt *st = store_prepare(db, "SELECT sha256 FROM datasets WHERE name = 'patients'", NULL);
	char *s = NULL;
	if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		s = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return s;
}

static int store_run(sqlite3 *db, run *r, int final_epochs, lm_err *err)
{
	/* the training patients encoded for the final model: their mean and median are the
	 * model's integrated-gradients baselines, stored with it (explain/ig.h) */
	int ns = r->m->spec.nslot;
	float *T = xmallocarray((size_t)(r->nused ? r->nused : 1) * (size_t)(ns ? ns : 1), sizeof *T);
	int st = enc_encode(&r->m->spec, &r->f, r->used, r->nused, T, err);
	if (st) {
		free(T);
		return st;
	}
	if ((st = store_exec(db, "BEGIN IMMEDIATE", err))) {
		free(T);
		return st;
	}
	st = model_save(db, r->m, r->a.force, err);
	if (!st)
		st = ig_baseline_store(db, r->m, T, r->nused, err);
	free(T);
	if (st)
		goto fail;
	sqlite3_stmt *u = store_prepare(db,
					"UPDATE models SET seed = ?, data_sha256 = ?, n_used = ?,"
					" n_excluded = ?, final = 'refit' WHERE id = ?",
					err);
	if (!u) {
		st = err->status;
		goto fail;
	}
	char *sha = ops_train_data_sha(db);
	sqlite3_bind_int64(u, 1, r->a.seed);
	if (sha)
		sqlite3_bind_text(u, 2, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(u, 3, r->nused);
	sqlite3_bind_int64(u, 4, r->t.n_missing);
	sqlite3_bind_int64(u, 5, r->m->id);
	int rc = sqlite3_step(u);
	sqlite3_finalize(u);
	free(sha);
	if (rc != SQLITE_DONE) {
		st = lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
		goto fail;
	}
	sqlite3_stmt *ins = store_prepare(db,
					  "INSERT INTO predictions(model_id, patient, fold, y, p, p_sd, logit,"
					  " probs) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
					  err);
	if (!ins) {
		st = err->status;
		goto fail;
	}
	int C = r->C, W = C == 1 ? 1 : C;
	float *probs = xmallocarray((size_t)W, sizeof *probs);
	for (long i = 0; i < r->nused; i++) {
		long row = r->used[i];
		const double *p = r->oof_p + (size_t)i * (size_t)W;
		const float *z = r->oof_z + (size_t)i * (size_t)C;
		int best = 0;
		for (int c = 1; c < W; c++)
			if (p[c] > p[best])
				best = c;
		sqlite3_reset(ins);
		sqlite3_clear_bindings(ins);
		sqlite3_bind_int64(ins, 1, r->m->id);
		sqlite3_bind_int64(ins, 2, r->f.rowid[row]);
		sqlite3_bind_int(ins, 3, r->fold[row]);
		sqlite3_bind_int(ins, 4, (int)r->t.y[row]);
		/* binary: p and logit of the positive class; multi-class: of the predicted class,
		 * with every class's probability in probs */
		sqlite3_bind_double(ins, 5, p[W == 1 ? 0 : best]);
		sqlite3_bind_double(ins, 6, r->p_sd[i]);
		sqlite3_bind_double(ins, 7, (double)z[W == 1 ? 0 : best]);
		if (W > 1) {
			for (int c = 0; c < W; c++)
				probs[c] = (float)p[c];
			sqlite3_bind_blob(ins, 8, probs, (int)(W * sizeof *probs), SQLITE_TRANSIENT);
		}
		if ((rc = sqlite3_step(ins)) != SQLITE_DONE) {
			st = lm_seterr(err, store_status(rc), "saving predictions: %s", sqlite3_errmsg(db));
			break;
		}
	}
	free(probs);
	sqlite3_finalize(ins);
	(void)final_epochs;
	if (st)
		goto fail;
	if ((st = store_exec(db, "COMMIT", err)))
		goto fail;
	return 0;
fail:
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return st;
}

static void run_free(run *r)
{
	frame_free(&r->f);
	enc_target_free(&r->t);
	lm_split_free(r->feat, r->nfeat);
	free(r->used);
	free(r->fold);
	model_free(r->m);
	free(r->oof_p);
	free(r->oof_z);
	free(r->p_sd);
	free(r->best_epoch);
	cJSON_Delete(r->fold_metrics);
	leaks_free(&r->warn);
}

/* A float option as the decimal it was written as (0.01, not 0.00999999977648258). */
static double f32(float v)
{
	char b[32];
	snprintf(b, sizeof b, "%.7g", (double)v);
	return strtod(b, NULL);
}

/* The fixed-horizon target's definition, kept with any model trained on it. */
static void add_horizon(cJSON *h, const run *r)
{
	if (!r->a.time)
		return;
	cJSON_AddStringToObject(h, "time", r->a.time);
	cJSON_AddStringToObject(h, "event", r->a.event);
	cJSON_AddNumberToObject(h, "horizon", r->a.horizon);
}

static char *hyper_json(const run *r, const nn_train_opts *o, int final_epochs)
{
	cJSON *h = cJSON_CreateObject();
	if (r->arch == NN_LOGREG) { /* solved, not trained: no epochs, batch or learning rate */
		cJSON_AddStringToObject(h, "solver", "newton");
		cJSON_AddStringToObject(h, "class_weight", r->a.balanced ? "balanced" : "none");
		cJSON_AddNumberToObject(h, "folds", r->a.folds);
		cJSON_AddStringToObject(h, "final", "refit");
		add_horizon(h, r);
		return json_take(h);
	}
	cJSON_AddNumberToObject(h, "epochs", o->epochs);
	cJSON_AddNumberToObject(h, "batch", o->batch);
	cJSON_AddNumberToObject(h, "lr", f32(o->lr));
	cJSON_AddNumberToObject(h, "weight_decay", f32(o->weight_decay));
	cJSON_AddNumberToObject(h, "val_frac", f32(o->val_frac));
	cJSON_AddNumberToObject(h, "patience", o->patience);
	cJSON_AddNumberToObject(h, "threads", o->threads);
	cJSON_AddStringToObject(h, "class_weight", r->a.balanced ? "balanced" : "none");
	cJSON_AddNumberToObject(h, "folds", r->a.folds);
	cJSON_AddStringToObject(h, "final", "refit");
	cJSON_AddNumberToObject(h, "final_epochs", final_epochs);
	add_horizon(h, r);
	return json_take(h);
}

int ops_train_run(sqlite3 *db, const ops_train_opts *opts, ops_train *out, lm_err *err)
{
	if (opts->effect)
		return ops_train_effect_run(db, opts, out, err);
	if (opts->arch && (!strcmp(opts->arch, "cox") || (opts->time && !(opts->horizon > 0))))
		return ops_train_cox_run(db, opts, out, err);
	memset(out, 0, sizeof *out);
	run r;
	memset(&r, 0, sizeof r);
	r.a = *opts;
	if (!r.a.file)
		r.a.file = "patients";
	if (r.a.folds < 2)
		return lm_seterr(err, EX_USAGE, "--folds: at least 2");
	if (!r.a.target)
		return lm_seterr(err, EX_USAGE, "--target COL is required");
	if (!r.a.arch || nn_arch_parse(r.a.arch) < 0)
		return lm_seterr(err, EX_USAGE, "unknown architecture '%s' (logreg, mlp, transformer, gru,"
				 " cnn, cnn-gru)",
				 r.a.arch ? r.a.arch : "");
	r.arch = (nn_arch)nn_arch_parse(r.a.arch);
	if (r.a.attention && r.arch != NN_GRU && r.arch != NN_CNNGRU)
		return lm_seterr(err, EX_USAGE, "--attention needs --model gru or cnn-gru (%s has no "
				 "GRU states over the visits to attend to)", r.a.arch);
	int st = 0;
	char *name = r.a.name ? xstrdup(r.a.name) : xasprintf("%s-%s", r.a.arch, r.a.target);
	{
		const char *extra[2] = {r.a.target, r.a.time};
		st = ops_train_load(db, &r.a, name, extra, r.a.time ? 2 : 1, &r.feat, &r.nfeat, &r.f,
				    err);
		if (!st && r.arch >= NN_GRU)
			st = venc_attach(db, &r.f, err);
		if (st)
			goto out;
	}
	if (r.a.time) {
		long cens = 0;
		if ((st = ops_horizon_target(&r.f, r.a.file, r.a.time, r.a.event, r.a.horizon, &r.t,
					       &cens, err)))
			goto out;
		note(&r, OPS_TRAIN_NOTE, "target: %s by time %g; %ld patients censored before it left out",
		     r.a.event, r.a.horizon, cens);
	} else if ((st = enc_target_make(&r.f, r.a.target, r.a.positive, &r.t, err))) {
		goto out;
	}
	if (r.t.nclass > 32) {
		st = lm_seterr(err, EX_DATAERR, "too many classes");
		goto out;
	}
	r.C = r.t.nclass == 2 ? 1 : r.t.nclass;
	r.used = xmallocarray((size_t)(r.f.nrow ? r.f.nrow : 1), sizeof *r.used);
	for (long i = 0; i < r.f.nrow; i++)
		if (!isnan(r.t.y[i]))
			r.used[r.nused++] = i;
	if (r.t.n_missing > 0 && !r.a.time)
		note(&r, OPS_TRAIN_NOTE, "%ld patients with no value of '%s' left out (%ld used)",
		     r.t.n_missing, r.a.target, r.nused);
	/* warnings, not refusals; --quiet does not hide them */
	leaks_check(&r.f, &r.t, (const char *const *)r.feat, r.nfeat, &r.warn);
	for (int i = 0; i < r.warn.n; i++)
		note(&r, OPS_TRAIN_WARNING, "%s", r.warn.msg[i]);
	r.fold = xmallocarray((size_t)(r.f.nrow ? r.f.nrow : 1), sizeof *r.fold);
	if ((st = enc_folds(&r.t, r.f.nrow, r.a.folds, (uint64_t)r.a.seed, r.fold, err)))
		goto out;

	r.m = xcalloc(1, sizeof *r.m);
	r.m->name = xstrdup(name);
	r.m->arch = xstrdup(nn_arch_name(r.arch));
	r.m->target = xstrdup(r.a.target);
	r.m->positive = r.a.positive ? xstrdup(r.a.positive) : NULL;
	r.m->task = xstrdup(r.C == 1 ? "binary" : "multiclass");
	r.m->nclass = r.t.nclass;
	r.m->classes = xcalloc((size_t)r.t.nclass, sizeof *r.m->classes);
	for (int c = 0; c < r.t.nclass; c++)
		r.m->classes[c] = xstrdup(r.t.classes[c]);
	if ((st = enc_fit(&r.f, (const char *const *)r.feat, r.nfeat, r.used, r.nused,
				  &r.m->spec, err)))
		goto out;
	if (r.arch >= NN_GRU) { /* the visit steps after the static slots (visits_enc.h) */
		char *warn = NULL;
		st = venc_fit(&r.m->spec, &r.f, r.used, r.nused, r.a.max_visits ? r.a.max_visits : 16,
			      &warn, err);
		if (warn)
			note(&r, OPS_TRAIN_WARNING, "%s", warn);
		free(warn);
		if (st)
			goto out;
	}
	if ((st = cross_validate(&r, err)))
		goto out;

	/* the final model: every patient, for the median number of epochs the folds chose */
	int *be = xmallocarray((size_t)r.a.folds, sizeof *be);
	memcpy(be, r.best_epoch, (size_t)r.a.folds * sizeof *be);
	qsort(be, (size_t)r.a.folds, sizeof *be, cmp_int);
	int final_epochs = be[r.a.folds / 2];
	free(be);
	if (final_epochs < 1)
		final_epochs = 1;
	{
		nn_train_result res;
		r.m->final = fit_one(&r, &r.m->spec, r.used, r.nused, (uint64_t)r.a.seed * 7919u,
				     final_epochs, -1, &res, err);
		if (!r.m->final) {
			err_prefix(err, "final model: ");
			st = err->status ? err->status : EX_SOFTWARE;
			goto out;
		}
	}
	nn_train_opts o;
	float cw[32];
	set_train_opts(&r, &o, 0, cw, r.used, r.nused);
	r.m->hyper_json = hyper_json(&r, &o, final_epochs);
	{
		int W = r.C == 1 ? 1 : r.C;
		float *y = xmallocarray((size_t)r.nused, sizeof *y);
		for (long i = 0; i < r.nused; i++)
			y[i] = r.t.y[r.used[i]];
		cJSON *mj = cJSON_CreateObject();
		cJSON_AddItemToObject(mj, "pooled", metrics_of(r.oof_p, y, r.nused, r.C));
		cJSON_AddItemToObject(mj, "folds", r.fold_metrics);
		r.fold_metrics = NULL;
		cJSON *wa = cJSON_AddArrayToObject(mj, "warnings");
		for (int i = 0; i < r.warn.n; i++)
			cJSON_AddItemToArray(wa, cJSON_CreateString(r.warn.msg[i]));
		char *s = cJSON_PrintUnformatted(mj);
		r.m->metrics_json = xstrdup(s);
		cJSON_free(s);
		char final_desc[64];
		snprintf(final_desc, sizeof final_desc, r.arch == NN_LOGREG ?
			 "solved on every patient (Newton's method)" : "refitted for %d epochs",
			 final_epochs);
		cJSON *pooled = cJSON_GetObjectItemCaseSensitive(mj, "pooled");
		const cJSON *auc = cJSON_GetObjectItemCaseSensitive(pooled, "auc");
		if ((st = store_run(db, &r, final_epochs, err))) {
			free(y);
			cJSON_Delete(mj);
			goto out;
		}
		out->name = xstrdup(name);
		out->arch = xstrdup(r.m->arch);
		out->target = xstrdup(r.a.target);
		out->positive = r.a.positive ? xstrdup(r.a.positive) : NULL;
		out->id = r.m->id;
		out->n_used = r.nused;
		out->n_excluded = r.t.n_missing;
		out->folds = r.a.folds;
		out->final_epochs = final_epochs;
		out->auc = cJSON_IsNumber(auc) ? auc->valuedouble : (double)NAN;
		out->nwarn = r.warn.n;
		snprintf(out->final_desc, sizeof out->final_desc, "%s", final_desc);
		(void)W;
		free(y);
		cJSON_Delete(mj);
	}
out:
	run_free(&r);
	free(name);
	return st;
}

void ops_train_free(ops_train *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->arch);
	free(r->target);
	free(r->positive);
	free(r->metrics);
	memset(r, 0, sizeof *r);
}

cJSON *ops_train_json(const ops_train *r)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "model", r->name ? r->name : "");
	cJSON_AddNumberToObject(j, "id", (double)r->id);
	cJSON_AddStringToObject(j, "arch", r->arch ? r->arch : "");
	cJSON_AddStringToObject(j, "target", r->target ? r->target : "");
	if (r->positive)
		cJSON_AddStringToObject(j, "positive", r->positive);
	else
		cJSON_AddNullToObject(j, "positive");
	cJSON_AddNumberToObject(j, "n_used", (double)r->n_used);
	cJSON_AddNumberToObject(j, "n_excluded", (double)r->n_excluded);
	cJSON_AddNumberToObject(j, "folds", r->folds);
	cJSON_AddNumberToObject(j, "final_epochs", r->final_epochs);
	if (isnan(r->auc))
		cJSON_AddNullToObject(j, "auc");
	else
		cJSON_AddNumberToObject(j, "auc", r->auc);
	cJSON_AddStringToObject(j, "final", r->final_desc);
	cJSON_AddNumberToObject(j, "warnings", r->nwarn);
	return j;
}
