/* ig_store.c: the workbench side of integrated gradients (ig.h): a stored model's inputs
 * for every patient, the baselines stored with the model, and one patient explained on the
 * fly. The kernels (paths, quadrature, the batched and exact rules) stay in ig.c. */
#include "ig.h"
#include "../src/data/visits_enc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the cohort of a stored model ---- */

void ig_inputs_free(ig_inputs *c)
{
	frame_free(&c->f);
	free(c->train);
	enc_target_free(&c->target);
	memset(c, 0, sizeof *c);
}

int ig_inputs_load(sqlite3 *db, const model *m, ig_inputs *c, lm_err *err)
{
	memset(c, 0, sizeof *c);
	store_columns cols;
	int st = store_columns_load(db, "patients", &cols, err);
	if (st)
		return st;
	int idc = store_columns_role(&cols, COL_ROLE_ID);
	const enc_spec *sp = &m->spec;
	const char **names = xcalloc((size_t)sp->ncolumn + 2, sizeof *names);
	int nn = 0;
	for (int j = 0; j < venc_static_columns(sp); j++)
		names[nn++] = sp->columns[j];
	int tcol = -1, icol = -1;
	for (int j = 0; j < nn; j++)
		if (!strcmp(names[j], m->target))
			tcol = j;
	if (tcol < 0) {
		tcol = nn;
		names[nn++] = m->target;
	}
	if (idc >= 0) {
		for (int j = 0; j < nn; j++)
			if (!strcmp(names[j], cols.c[idc].name))
				icol = j;
		if (icol < 0) {
			icol = nn;
			names[nn++] = cols.c[idc].name;
		}
	}
	st = frame_load(db, "patients", names, nn, &c->f, err);
	int S, K, F;
	if (!st && venc_geometry(sp, &S, &K, &F) && (st = venc_attach(db, &c->f, err)))
		frame_free(&c->f);
	if (!st) {
		store_columns_free(&cols);
		c->id_col = icol;
		long nr = c->f.nrow;
		/* the cohort is encoded where it is used, a block or a patient at a time (the whole
		 * encoded matrix of 1,000,000 patients took 200 MB); this checks once that every
		 * model column encodes */
		if (nr > 0) {
			float *x1 = xmallocarray((size_t)(sp->nslot ? sp->nslot : 1), sizeof *x1);
			long r0 = 0;
			st = enc_encode(sp, &c->f, &r0, 1, x1, err);
			free(x1);
		}
		if (!st)
			st = enc_target_make(&c->f, m->target, m->positive, &c->target, err);
		if (!st) {
			c->train = xcalloc((size_t)(nr ? nr : 1), 1);
			for (long i = 0; i < nr; i++)
				if (!isnan(c->target.y[i])) {
					c->train[i] = 1;
					c->ntrain++;
				}
		}
	} else {
		store_columns_free(&cols);
	}
	free(names);
	if (st)
		ig_inputs_free(c);
	return st;
}

long ig_inputs_find(const ig_inputs *c, const char *id)
{
	char buf[256];
	for (long i = 0; i < c->f.nrow; i++) {
		if (c->id_col >= 0) {
			if (!strcmp(frame_cell_text(&c->f, c->id_col, i, buf, sizeof buf), id))
				return i;
		} else {
			snprintf(buf, sizeof buf, "%ld", c->f.rowid[i]);
			if (!strcmp(buf, id))
				return i;
		}
	}
	return -1;
}

/* The encoded rows of the training patients (those with a target value), in frame order:
 * *n rows, caller frees. */
static float *cohort_training_rows(const ig_inputs *c, const model *m, long *n)
{
	int ns = m->spec.nslot;
	float *T = xmallocarray((size_t)(c->ntrain ? c->ntrain : 1) * (size_t)(ns ? ns : 1),
				sizeof *T);
	long *rows = xmallocarray((size_t)(c->ntrain ? c->ntrain : 1), sizeof *rows);
	long k = 0;
	for (long i = 0; i < c->f.nrow; i++)
		if (c->train[i])
			rows[k++] = i;
	lm_err e = {0};
	if (enc_encode(&m->spec, &c->f, rows, k, T, &e)) /* checked by ig_inputs_load */
		k = 0;
	free(rows);
	*n = k;
	return T;
}

int ig_inputs_baseline(const ig_inputs *c, const model *m, const ig_baseline *b, float *out,
		       lm_err *err)
{
	int ns = m->spec.nslot;
	if (b->kind == IG_BASE_ZERO) {
		ig_baseline_zero(&m->spec, out);
		return 0;
	}
	if (b->kind == IG_BASE_PATIENT) {
		long r = ig_inputs_find(c, b->patient);
		if (r < 0)
			return lm_seterr(err, EX_DATAERR, "no patient with id '%s'", b->patient);
		return enc_encode(&m->spec, &c->f, &r, 1, out, err);
	}
	long k;
	float *T = cohort_training_rows(c, m, &k);
	ig_baseline_from_matrix(b->kind, T, k, ns, out);
	free(T);
	if (k == 0)
		return lm_seterr(err, EX_DATAERR, "the model's target '%s' has no values", m->target);
	return 0;
}

/* ---- baselines stored with the model ---- */

static const char *stored_name(ig_base_kind kind)
{
	return kind == IG_BASE_MEDIAN ? "baseline.median" : "baseline.mean";
}

int ig_baseline_store(sqlite3 *db, const model *m, const float *T, long n, lm_err *err)
{
	int ns = m->spec.nslot;
	if (n <= 0 || ns <= 0)
		return 0;
	sqlite3_stmt *ins = store_prepare(db,
					  "INSERT OR REPLACE INTO model_tensors(model_id, member, name,"
					  " shape, data) VALUES(?, ?, ?, ?, ?)",
					  err);
	if (!ins)
		return err ? err->status : EX_SOFTWARE;
	float *v = xmallocarray((size_t)ns, sizeof *v);
	char shape[16];
	snprintf(shape, sizeof shape, "%d", ns);
	static const ig_base_kind kinds[] = {IG_BASE_MEAN, IG_BASE_MEDIAN};
	int st = 0;
	for (size_t q = 0; q < LM_ARRAY_LEN(kinds) && !st; q++) {
		ig_baseline_from_matrix(kinds[q], T, n, ns, v);
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, m->id);
		sqlite3_bind_int(ins, 2, IG_BASELINE_MEMBER);
		sqlite3_bind_text(ins, 3, stored_name(kinds[q]), -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, shape, -1, SQLITE_STATIC);
		sqlite3_bind_blob64(ins, 5, v, (sqlite3_uint64)ns * sizeof *v, SQLITE_STATIC);
		int rc = sqlite3_step(ins);
		if (rc != SQLITE_DONE)
			st = lm_seterr(err, store_status(rc), "saving the %s of model '%s': %s",
				       stored_name(kinds[q]), m->name, sqlite3_errmsg(db));
	}
	sqlite3_finalize(ins);
	free(v);
	return st;
}

int ig_baseline_store_cohort(sqlite3 *db, const ig_inputs *c, const model *m, lm_err *err)
{
	long n;
	float *T = cohort_training_rows(c, m, &n);
	int st = ig_baseline_store(db, m, T, n, err);
	free(T);
	return st;
}

int ig_baseline_load(sqlite3 *db, const model *m, ig_base_kind kind, float *out, lm_err *err)
{
	if (kind != IG_BASE_MEAN && kind != IG_BASE_MEDIAN)
		return 0;
	sqlite3_stmt *q = store_prepare(db,
					"SELECT data FROM model_tensors WHERE model_id = ? AND member = ?"
					" AND name = ?",
					err);
	if (!q)
		return err ? err->status : EX_SOFTWARE;
	sqlite3_bind_int64(q, 1, m->id);
	sqlite3_bind_int(q, 2, IG_BASELINE_MEMBER);
	sqlite3_bind_text(q, 3, stored_name(kind), -1, SQLITE_STATIC);
	int found = 0, rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		size_t bytes = (size_t)sqlite3_column_bytes(q, 0);
		const void *data = sqlite3_column_blob(q, 0);
		if (bytes != (size_t)m->spec.nslot * sizeof(float) || (bytes && !data))
			found = lm_seterr(err, EX_DATAERR, "model '%s': tensor %s has %zu bytes for %d slots",
					  m->name, stored_name(kind), bytes, m->spec.nslot);
		else {
			memcpy(out, data, bytes);
			found = 1;
		}
	} else if (rc != SQLITE_DONE) {
		found = lm_seterr(err, store_status(rc), "reading the %s of model '%s': %s",
				  stored_name(kind), m->name, sqlite3_errmsg(db));
	}
	sqlite3_finalize(q);
	return found;
}

/* Stores the mean and median of a cohort as a cache, in a transaction of its own, when the
 * file is writable and the caller has no transaction open. A failure (read-only file, a lock
 * held by another process, a full disk) is not an error: the baseline was computed and the
 * next call computes it again. It never waits for a lock (the TUI calls this on a keypress):
 * the busy timeout is 0 meanwhile, then store_open's 5 s again. */
static void cache_baselines(sqlite3 *db, const ig_inputs *c, const model *m)
{
	if (sqlite3_db_readonly(db, "main") != 0 || !sqlite3_get_autocommit(db))
		return;
	lm_err e = {0};
	sqlite3_busy_timeout(db, 0);
	if (store_exec(db, "BEGIN IMMEDIATE", &e) == 0 &&
	    (ig_baseline_store_cohort(db, c, m, &e) || store_exec(db, "COMMIT", &e)))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_busy_timeout(db, 5000);
}

int ig_baseline_get(sqlite3 *db, const ig_inputs *c, const model *m, const ig_baseline *b,
		    float *out, lm_err *err)
{
	if (b->kind == IG_BASE_ZERO) {
		ig_baseline_zero(&m->spec, out);
		return 0;
	}
	if (b->kind == IG_BASE_MEAN || b->kind == IG_BASE_MEDIAN) {
		int got = ig_baseline_load(db, m, b->kind, out, err);
		if (got == 1)
			return 0;
		if (got)
			return got;
	}
	ig_inputs own;
	if (!c) {
		int st = ig_inputs_load(db, m, &own, err);
		if (st)
			return st;
	}
	const ig_inputs *co = c ? c : &own;
	int st = ig_inputs_baseline(co, m, b, out, err);
	if (!st && (b->kind == IG_BASE_MEAN || b->kind == IG_BASE_MEDIAN))
		cache_baselines(db, co, m);
	if (!c)
		ig_inputs_free(&own);
	return st;
}

int ig_baseline_compute(sqlite3 *db, const model *m, const ig_baseline *b, float *out,
			lm_err *err)
{
	return ig_baseline_get(db, NULL, m, b, out, err);
}

/* ---- one patient on the fly ---- */

void ig_explanation_free(ig_explanation *e)
{
	free(e->slots);
	free(e->columns);
	memset(e, 0, sizeof *e);
}

int ig_explain_x(model *m, const float *x, const float *baseline, const ig_opts *o,
		 ig_explanation *out, lm_err *err)
{
	ig_opts def;
	if (!o) {
		/* on the fly: Gauss from 16 steps, doubled while the error is above 1% (16 Gauss
		 * nodes already leave a smooth transformer below 1e-4; a ReLU mlp doubles) */
		ig_opts_defaults(&def);
		def.steps = 16;
		def.auto_steps = 1;
		if (m->final && nn_get_spec(m->final)->arch == NN_MLP)
			def.rule = IG_EXACT;
		o = &def;
	}
	memset(out, 0, sizeof *out);
	if (!m->final)
		return lm_seterr(err, EX_DATAERR, "model '%s' has no final network", m->name);
	int ns = m->spec.nslot;
	out->nslot = ns;
	out->ncolumn = m->spec.ncolumn;
	out->slots = xmallocarray((size_t)ns, sizeof(float));
	out->columns = xmallocarray((size_t)(out->ncolumn ? out->ncolumn : 1), sizeof(float));
	int st = ig_batch(m->final, x, 1, baseline, o, out->slots, &out->logit, &out->baseline_logit,
			  &out->delta, &out->steps, NULL, NULL, err);
	if (st) {
		ig_explanation_free(out);
		return st;
	}
	enc_sum_to_columns(&m->spec, out->slots, out->columns);
	const nn_spec *sp = nn_get_spec(m->final);
	if (sp->n_out == 1 && m->surv_n) {
		/* a survival model: the risk by its horizon (model_predict), the logit being the
		 * log relative hazard */
		model_predict(m, x, 1, 1, &out->prob, NULL);
	} else if (sp->n_out == 1) {
		out->prob = (float)(1.0 / (1.0 + exp(-(double)out->logit)));
	} else {
		float *lg = xmallocarray((size_t)sp->n_out, sizeof(float));
		nn_forward(m->final, x, 1, lg, 0, NULL);
		double mx = (double)lg[0], z = 0.0;
		for (int c = 1; c < sp->n_out; c++)
			if ((double)lg[c] > mx)
				mx = (double)lg[c];
		for (int c = 0; c < sp->n_out; c++)
			z += exp((double)lg[c] - mx);
		out->prob = (float)(exp((double)lg[o->cls] - mx) / z);
		free(lg);
	}
	return 0;
}

int ig_explain_values(model *m, const enc_value *vals, const float *baseline,
		      const ig_opts *o, ig_explanation *out, lm_err *err)
{
	float *x = xmallocarray((size_t)(m->spec.nslot ? m->spec.nslot : 1), sizeof(float));
	enc_values(&m->spec, vals, x);
	int st = ig_explain_x(m, x, baseline, o, out, err);
	free(x);
	return st;
}
