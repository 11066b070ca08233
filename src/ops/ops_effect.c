/* ops_effect.c: explanations and groupings of treatment-effect models (ops_effect.h). */
#include "ops_effect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../data/encoder.h"

int ops_effect_arm(const effm *e, const char *label, lm_err *err)
{
	if (!label)
		return 1;
	for (int a = 1; a < e->narm; a++)
		if (!strcmp(e->arm[a], label))
			return a;
	lm_buf b = {0};
	for (int a = 1; a < e->narm; a++)
		buf_printf(&b, "%s%s", a > 1 ? ", " : "", e->arm[a]);
	lm_seterr(err, EX_USAGE, "--arm: '%s' is not an arm of '%s' compared with the reference "
		  "'%s' (%s)", label, e->column, e->arm[0], b.data);
	free(b.data);
	return -1;
}

static const char *quantity(const effm *e)
{
	return e->learner == EFFM_DR ? "risk difference" : "log odds ratio";
}

static void default_opts(ig_opts *o)
{
	ig_opts_defaults(o);
	o->auto_steps = 1;
}

/* IG of the effect of arm at fold k (-1 final) for n rows X (encoded with that fold's spec):
 * attr n * nslot, fx, fb (one value), delta n. */
static int ig_effect(effm *e, int arm, int k, const float *X, long n, const float *base,
		     const ig_opts *o, float *attr, float *fx, float *fb, float *delta, lm_err *err)
{
	nn_model *en = effm_effect_net(e, arm, k);
	if (en)
		return ig_batch(en, X, n, base, o, attr, fx, fb, delta, NULL, NULL, NULL, err);
	int ns = e->base->spec.nslot;
	float *a2 = xmallocarray((size_t)(n ? n : 1) * (size_t)ns, sizeof *a2);
	float *f2 = xmallocarray((size_t)(n ? n : 1), sizeof *f2), *d2 = xmallocarray((size_t)(n ? n : 1), sizeof *d2);
	float b2 = 0;
	int st = ig_batch(effm_outcome_net(e, arm, k), X, n, base, o, attr, fx, fb, delta, NULL, NULL,
			  NULL, err);
	if (!st)
		st = ig_batch(effm_outcome_net(e, 0, k), X, n, base, o, a2, f2, &b2, d2, NULL, NULL,
			      NULL, err);
	if (!st) {
		*fb -= b2;
		for (long i = 0; i < n; i++) {
			double s = 0;
			for (int j = 0; j < ns; j++) {
				size_t c = (size_t)i * (size_t)ns + (size_t)j;
				attr[c] -= a2[c];
				s += (double)attr[c];
			}
			fx[i] -= f2[i];
			delta[i] = (float)fabs(s - ((double)fx[i] - (double)*fb));
		}
	}
	free(a2);
	free(f2);
	free(d2);
	return st;
}

static int baseline(sqlite3 *db, effm *e, float *base, lm_err *err)
{
	ig_baseline b = {.kind = IG_BASE_MEAN};
	return ig_baseline_compute(db, e->base, &b, base, err);
}

void ops_effect_patient_free(ops_effect_patient *p)
{
	free(p->p);
	free(p->p_sd);
	free(p->effect);
	free(p->effect_sd);
	free(p->attr);
	for (int j = 0; p->value && j < p->ncol; j++)
		free(p->value[j]);
	free(p->value);
	memset(p, 0, sizeof *p);
}

/* The parts of a patient's effect view that do not depend on how its inputs were read:
 * the header fields and the arrays of every arm. */
static void patient_init(ops_effect_patient *out, const effm *e, int arm)
{
	const model *m = e->base;
	int A = e->narm;
	out->narm = A;
	out->arm = arm;
	out->arms = e->arm;
	out->quantity = quantity(e);
	out->ncol = m->spec.ncolumn;
	out->column = m->spec.columns;
	out->p = xmallocarray((size_t)A, sizeof *out->p);
	out->p_sd = xmallocarray((size_t)A, sizeof *out->p_sd);
	out->effect = xmallocarray((size_t)A, sizeof *out->effect);
	out->effect_sd = xmallocarray((size_t)A, sizeof *out->effect_sd);
}

/* IG of the arm's effect for the encoded patient x (fold's network) against base, into
 * out->fx/fb/delta and out->attr (summed to columns); out->value is allocated, the caller
 * fills it. */
static int patient_explain(effm *e, int arm, const float *x, const float *base, const ig_opts *o,
			   ops_effect_patient *out, lm_err *err)
{
	const model *m = e->base;
	float *attr = xmallocarray((size_t)(m->spec.nslot ? m->spec.nslot : 1), sizeof *attr);
	float fx, fb, d;
	int st = ig_effect(e, arm, out->fold, x, 1, base, o, attr, &fx, &fb, &d, err);
	out->fx = fx;
	out->fb = fb;
	out->delta = d;
	if (!st) {
		float *cols = xmallocarray((size_t)(out->ncol ? out->ncol : 1), sizeof *cols);
		enc_sum_to_columns(&m->spec, attr, cols);
		out->attr = xmallocarray((size_t)(out->ncol ? out->ncol : 1), sizeof *out->attr);
		for (int j = 0; j < out->ncol; j++)
			out->attr[j] = cols[j];
		out->value = xcalloc((size_t)(out->ncol ? out->ncol : 1), sizeof *out->value);
		free(cols);
	}
	free(attr);
	return st;
}

int ops_effect_patient_load(sqlite3 *db, effm *e, const ig_inputs *in, long row, int arm,
			    const ig_opts *o, ops_effect_patient *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	if (row < 0 || row >= in->f.nrow)
		return lm_seterr(err, EX_DATAERR, "no such patient");
	if (arm < 1 || arm >= e->narm)
		return lm_seterr(err, EX_USAGE, "no arm %d to explain", arm);
	ig_opts def;
	if (!o) {
		default_opts(&def);
		o = &def;
	}
	const model *m = e->base;
	int A = e->narm, ns = m->spec.nslot;
	out->rowid = in->f.rowid[row];
	patient_init(out, e, arm);
	effm_stored s;
	int st = effm_stored_load(db, e, &s, err);
	if (st)
		return st;
	long k = effm_stored_find(&s, out->rowid);
	out->fold = k >= 0 && s.fold[k] >= 0 && s.fold[k] < e->nfold ? s.fold[k] : -1;
	float *x = xmallocarray((size_t)ns, sizeof *x), *base = xmallocarray((size_t)ns, sizeof *base);
	const enc_spec *spec = out->fold >= 0 ? &m->fold_spec[out->fold] : &m->spec;
	st = enc_encode(spec, &in->f, &row, 1, x, err);
	if (!st)
		st = baseline(db, e, base, err);
	if (!st) {
		if (k >= 0 && out->fold >= 0) {
			for (int a = 0; a < A; a++) {
				size_t c = (size_t)k * (size_t)A + (size_t)a;
				out->p[a] = s.p[c];
				out->p_sd[a] = s.p_sd[c];
				out->effect[a] = s.effect[c];
				out->effect_sd[a] = s.effect_sd[c];
			}
		} else {
			effm_predict(e, -1, x, 1, out->p, NULL, out->effect);
			for (int a = 0; a < A; a++)
				out->p_sd[a] = out->effect_sd[a] = NAN;
		}
		st = patient_explain(e, arm, x, base, o, out, err);
	}
	if (!st) {
		char buf[256];
		for (int j = 0; j < out->ncol; j++) {
			int fc = frame_find(&in->f, out->column[j]);
			out->value[j] = xstrdup(fc >= 0 ? frame_cell_text(&in->f, fc, row, buf, sizeof buf) : "");
		}
	}
	effm_stored_free(&s);
	free(x);
	free(base);
	if (st)
		ops_effect_patient_free(out);
	return st;
}

int ops_effect_patient_values(sqlite3 *db, effm *e, long rowid, int fold, const enc_value *vals,
			      int arm, const ig_opts *o, ops_effect_patient *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	if (arm < 1 || arm >= e->narm)
		return lm_seterr(err, EX_USAGE, "no arm %d to explain", arm);
	ig_opts def;
	if (!o) {
		default_opts(&def);
		o = &def;
	}
	const model *m = e->base;
	int A = e->narm, ns = m->spec.nslot;
	out->rowid = rowid;
	out->fold = fold >= 0 && fold < e->nfold ? fold : -1;
	patient_init(out, e, arm);
	float *x = xmallocarray((size_t)ns, sizeof *x), *base = xmallocarray((size_t)ns, sizeof *base);
	enc_values(out->fold >= 0 ? &m->fold_spec[out->fold] : &m->spec, vals, x);
	int st = baseline(db, e, base, err);
	if (!st) {
		effm_predict(e, out->fold, x, 1, out->p, NULL, out->effect);
		for (int a = 0; a < A; a++)
			out->p_sd[a] = out->effect_sd[a] = NAN;
		st = patient_explain(e, arm, x, base, o, out, err);
	}
	if (!st) {
		for (int j = 0; j < out->ncol; j++) {
			if (m->spec.column_type[j] == COL_TYPE_TEXT)
				out->value[j] = xstrdup(vals[j].text ? vals[j].text : "");
			else if (isnan(vals[j].num))
				out->value[j] = xstrdup("");
			else
				out->value[j] = xasprintf("%g", vals[j].num);
		}
	}
	free(x);
	free(base);
	if (st)
		ops_effect_patient_free(out);
	return st;
}

static double r6(double v) { return round(v * 1e6) / 1e6; }

static void add_num(cJSON *o, const char *k, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, k, r6(v));
	else
		cJSON_AddNullToObject(o, k);
}

cJSON *ops_effect_patient_json(const ops_effect_patient *p, const effm *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "rowid", (double)p->rowid);
	if (p->fold >= 0)
		cJSON_AddNumberToObject(o, "fold", p->fold);
	else
		cJSON_AddNullToObject(o, "fold");
	cJSON_AddStringToObject(o, "model_used", p->fold >= 0 ? "fold" : "final");
	cJSON_AddStringToObject(o, "column", e->column);
	cJSON_AddStringToObject(o, "reference", e->arm[0]);
	cJSON_AddStringToObject(o, "arm", e->arm[p->arm]);
	cJSON *arms = cJSON_AddArrayToObject(o, "arms");
	for (int a = 0; a < p->narm; a++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "arm", e->arm[a]);
		add_num(x, "p", p->p[a]);
		add_num(x, "p_sd", p->p_sd[a]);
		add_num(x, "effect", p->effect[a]);
		add_num(x, "effect_sd", p->effect_sd[a]);
		add_num(x, "benefit", -p->effect[a]);
		cJSON_AddItemToArray(arms, x);
	}
	cJSON_AddStringToObject(o, "explained", p->quantity);
	add_num(o, "value", p->fx);
	add_num(o, "baseline_value", p->fb);
	add_num(o, "delta", p->delta);
	cJSON *f = cJSON_AddArrayToObject(o, "factors");
	for (int j = 0; j < p->ncol; j++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "column", p->column[j]);
		cJSON_AddStringToObject(x, "value", p->value[j]);
		add_num(x, "attribution", p->attr[j]);
		cJSON_AddItemToArray(f, x);
	}
	return o;
}

void ops_effect_explain_free(ops_effect_explain *r)
{
	free(r->rowid);
	free(r->fold);
	free(r->effect);
	free(r->fx);
	free(r->fb);
	free(r->delta);
	free(r->attr);
	free(r->importance);
	memset(r, 0, sizeof *r);
}

static void bind_floats(sqlite3_stmt *st, int i, const float *v, int n)
{
	sqlite3_bind_blob(st, i, v, (int)((size_t)n * sizeof *v), SQLITE_TRANSIENT);
}

static int store_rows(sqlite3 *db, const effm *e, const ops_effect_explain *r, const float *slots,
		      lm_err *err)
{
	int ns = e->base->spec.nslot, nc = r->ncol;
	char *method = xasprintf("effect:%s", e->arm[r->arm]);
	int st = store_exec(db, "BEGIN IMMEDIATE", err);
	sqlite3_stmt *ins = st ? NULL : store_prepare(db,
		"INSERT OR REPLACE INTO attributions(model_id, method, patient, slots, columns, logit,"
		" baseline_logit, delta, steps, baseline) VALUES (?,?,?,?,?,?,?,?,?,'mean')", err);
	if (!st && !ins)
		st = err->status;
	float *cols = xmallocarray((size_t)(nc ? nc : 1), sizeof *cols);
	for (long i = 0; i < r->n && !st; i++) {
		for (int j = 0; j < nc; j++)
			cols[j] = (float)r->attr[(size_t)i * (size_t)nc + (size_t)j];
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, e->base->id);
		sqlite3_bind_text(ins, 2, method, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, r->rowid[i]);
		bind_floats(ins, 4, slots + (size_t)i * (size_t)ns, ns);
		bind_floats(ins, 5, cols, nc);
		sqlite3_bind_double(ins, 6, r->fx[i]);
		sqlite3_bind_double(ins, 7, r->fb[i]);
		sqlite3_bind_double(ins, 8, r->delta[i]);
		sqlite3_bind_null(ins, 9);
		int rc = sqlite3_step(ins);
		if (rc != SQLITE_DONE)
			st = lm_seterr(err, store_status(rc), "saving attributions: %s", sqlite3_errmsg(db));
	}
	free(cols);
	sqlite3_finalize(ins);
	if (!st)
		st = store_exec(db, "COMMIT", err);
	if (st && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	free(method);
	return st;
}

int ops_effect_explain_run(sqlite3 *db, effm *e, const ig_inputs *in, int arm,
			   const ig_opts *o, int store, ops_effect_explain *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	if (arm < 1 || arm >= e->narm)
		return lm_seterr(err, EX_USAGE, "no arm %d to explain", arm);
	ig_opts def;
	if (!o) {
		default_opts(&def);
		o = &def;
	}
	const model *m = e->base;
	int A = e->narm, ns = m->spec.nslot, nc = m->spec.ncolumn, K = e->nfold;
	long n = in->f.nrow;
	out->arm = arm;
	out->quantity = quantity(e);
	out->n = n;
	out->ncol = nc;
	out->column = m->spec.columns;
	out->rowid = xmallocarray((size_t)(n ? n : 1), sizeof *out->rowid);
	out->fold = xmallocarray((size_t)(n ? n : 1), sizeof *out->fold);
	out->effect = xmallocarray((size_t)(n ? n : 1), sizeof *out->effect);
	out->fx = xmallocarray((size_t)(n ? n : 1), sizeof *out->fx);
	out->fb = xmallocarray((size_t)(n ? n : 1), sizeof *out->fb);
	out->delta = xmallocarray((size_t)(n ? n : 1), sizeof *out->delta);
	out->attr = xcalloc((size_t)(n ? n : 1) * (size_t)nc, sizeof *out->attr);
	out->importance = xcalloc((size_t)(nc ? nc : 1), sizeof *out->importance);
	effm_stored s;
	int st = effm_stored_load(db, e, &s, err);
	if (st) {
		ops_effect_explain_free(out);
		return st;
	}
	float *base = xmallocarray((size_t)ns, sizeof *base);
	float *slots = xmallocarray((size_t)(n ? n : 1) * (size_t)ns, sizeof *slots);
	long *rows = xmallocarray((size_t)(n ? n : 1), sizeof *rows);
	float *X = xmallocarray((size_t)(n ? n : 1) * (size_t)ns, sizeof *X);
	float *at = xmallocarray((size_t)(n ? n : 1) * (size_t)ns, sizeof *at);
	float *fx = xmallocarray((size_t)(n ? n : 1), sizeof *fx), *dl = xmallocarray((size_t)(n ? n : 1), sizeof *dl);
	double *pp = xmallocarray((size_t)(n ? n : 1) * (size_t)A, sizeof *pp);
	double *ee = xmallocarray((size_t)(n ? n : 1) * (size_t)A, sizeof *ee);
	float *cols = xmallocarray((size_t)(nc ? nc : 1), sizeof *cols);
	st = baseline(db, e, base, err);
	for (long i = 0; i < n; i++) {
		out->rowid[i] = in->f.rowid[i];
		long k = effm_stored_find(&s, out->rowid[i]);
		out->fold[i] = k >= 0 && s.fold[k] >= 0 && s.fold[k] < K ? s.fold[k] : -1;
		out->effect[i] = k >= 0 ? s.effect[(size_t)k * (size_t)A + (size_t)arm] : (double)NAN;
	}
	/* the patients of each fold together, then those explained by the final networks */
	for (int k = 0; k <= K && !st; k++) {
		int kk = k < K ? k : -1;
		long nr = 0;
		for (long i = 0; i < n; i++)
			if (out->fold[i] == kk)
				rows[nr++] = i;
		if (!nr)
			continue;
		const enc_spec *spec = kk >= 0 ? &m->fold_spec[kk] : &m->spec;
		if ((st = enc_encode(spec, &in->f, rows, nr, X, err)))
			break;
		float fb;
		if ((st = ig_effect(e, arm, kk, X, nr, base, o, at, fx, &fb, dl, err)))
			break;
		if (kk < 0)
			effm_predict(e, -1, X, nr, pp, NULL, ee);
		for (long q = 0; q < nr; q++) {
			long i = rows[q];
			memcpy(slots + (size_t)i * (size_t)ns, at + (size_t)q * (size_t)ns, (size_t)ns * sizeof *slots);
			enc_sum_to_columns(&m->spec, at + (size_t)q * (size_t)ns, cols);
			for (int j = 0; j < nc; j++)
				out->attr[(size_t)i * (size_t)nc + (size_t)j] = cols[j];
			out->fx[i] = fx[q];
			out->fb[i] = fb;
			out->delta[i] = dl[q];
			if (kk < 0)
				out->effect[i] = ee[(size_t)q * (size_t)A + (size_t)arm];
		}
	}
	if (!st) {
		double sd = 0;
		for (long i = 0; i < n; i++) {
			for (int j = 0; j < nc; j++)
				out->importance[j] += fabs(out->attr[(size_t)i * (size_t)nc + (size_t)j]) / (double)n;
			sd += out->delta[i];
			if (out->delta[i] > out->max_delta)
				out->max_delta = out->delta[i];
		}
		out->mean_delta = n ? sd / (double)n : 0;
		if (store)
			st = store_rows(db, e, out, slots, err);
	}
	effm_stored_free(&s);
	free(base);
	free(slots);
	free(rows);
	free(X);
	free(at);
	free(fx);
	free(dl);
	free(pp);
	free(ee);
	free(cols);
	if (st)
		ops_effect_explain_free(out);
	return st;
}

cJSON *ops_effect_explain_json(const ops_effect_explain *r, const effm *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "model", e->base->name);
	cJSON_AddStringToObject(o, "arm", e->arm[r->arm]);
	cJSON_AddStringToObject(o, "reference", e->arm[0]);
	cJSON_AddStringToObject(o, "explained", r->quantity);
	cJSON_AddNumberToObject(o, "patients", (double)r->n);
	add_num(o, "max_delta", r->max_delta);
	add_num(o, "mean_delta", r->mean_delta);
	cJSON *imp = cJSON_AddArrayToObject(o, "importance");
	int *ord = xmallocarray((size_t)(r->ncol ? r->ncol : 1), sizeof *ord);
	for (int j = 0; j < r->ncol; j++)
		ord[j] = j;
	for (int a = 1; a < r->ncol; a++) /* insertion sort, largest first (few columns) */
		for (int b = a; b > 0 && r->importance[ord[b]] > r->importance[ord[b - 1]]; b--) {
			int t = ord[b];
			ord[b] = ord[b - 1];
			ord[b - 1] = t;
		}
	for (int q = 0; q < r->ncol; q++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "column", r->column[ord[q]]);
		add_num(x, "mean_abs", r->importance[ord[q]]);
		cJSON_AddItemToArray(imp, x);
	}
	free(ord);
	return o;
}

void ops_effect_groups_free(ops_effect_groups *r)
{
	for (int g = 0; g < r->ngroup; g++)
		free(r->g[g].label);
	free(r->g);
	free(r->column);
	memset(r, 0, sizeof *r);
}

int ops_effect_groups_run(sqlite3 *db, effm *e, int arm, const char *column,
			  ops_effect_groups *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	if (arm < 1 || arm >= e->narm)
		return lm_seterr(err, EX_USAGE, "no arm %d", arm);
	const model *m = e->base;
	const char *load[3] = {column, m->target, e->column};
	frame f;
	int st = frame_load(db, "patients", load, !strcmp(column, e->column) ? 2 : 3, &f, err);
	if (st)
		return st;
	enc_target t;
	if ((st = enc_target_make(&f, m->target, m->positive, &t, err))) {
		frame_free(&f);
		return st;
	}
	effm_stored s;
	if ((st = effm_stored_load(db, e, &s, err))) {
		enc_target_free(&t);
		frame_free(&f);
		return st;
	}
	out->arm = arm;
	out->column = xstrdup(column);
	int gc = frame_find(&f, column), ac = frame_find(&f, e->column), A = e->narm;
	char buf[256], abuf[256];
	/* the labels in first-seen order, then sorted (numbers ascending) */
	typedef struct acc { double sp, yt, yr; long n, nt, nr; } acc;
	acc *ac_ = NULL;
	int cap = 0;
	for (long i = 0; i < f.nrow; i++) {
		long k = effm_stored_find(&s, f.rowid[i]);
		if (k < 0 || isnan(t.y[i]))
			continue;
		const char *arm_s = frame_cell_text(&f, ac, i, abuf, sizeof abuf);
		int isarm = !strcmp(arm_s, e->arm[arm]), isref = !strcmp(arm_s, e->arm[0]);
		if (!isarm && !isref)
			continue;
		const char *lab = frame_cell_text(&f, gc, i, buf, sizeof buf);
		if (!*lab)
			lab = "(missing)";
		int g;
		for (g = 0; g < out->ngroup && strcmp(out->g[g].label, lab); g++)
			;
		if (g == out->ngroup) {
			if (g == 200) {
				st = lm_seterr(err, EX_DATAERR, "'%s' has more than 200 values: not a group "
					       "column", column);
				break;
			}
			if (g == cap) {
				cap = cap ? 2 * cap : 8;
				out->g = xreallocarray(out->g, (size_t)cap, sizeof *out->g);
				ac_ = xreallocarray(ac_, (size_t)cap, sizeof *ac_);
			}
			memset(&out->g[g], 0, sizeof out->g[g]);
			memset(&ac_[g], 0, sizeof ac_[g]);
			out->g[g].label = xstrdup(lab);
			out->ngroup++;
		}
		acc *q = &ac_[g];
		q->n++;
		q->sp += s.effect[(size_t)k * (size_t)A + (size_t)arm];
		if (isarm) {
			q->nt++;
			q->yt += t.y[i] != 0;
		} else {
			q->nr++;
			q->yr += t.y[i] != 0;
		}
	}
	for (int g = 0; g < out->ngroup; g++) {
		ops_effect_group *x = &out->g[g];
		acc *q = &ac_[g];
		x->n = q->n;
		x->n_arm = q->nt;
		x->n_ref = q->nr;
		x->predicted = q->n ? q->sp / (double)q->n : (double)NAN;
		if (q->nt && q->nr) {
			double pt = q->yt / (double)q->nt, pr = q->yr / (double)q->nr;
			double h = 1.959963984540054 * sqrt(pt * (1 - pt) / (double)q->nt + pr * (1 - pr) / (double)q->nr);
			x->observed = pt - pr;
			x->lo = x->observed - h;
			x->hi = x->observed + h;
		} else {
			x->observed = x->lo = x->hi = NAN;
		}
	}
	/* sort the groups by label, numbers ascending */
	for (int a = 1; a < out->ngroup; a++)
		for (int b = a; b > 0; b--) {
			double u, v;
			const char *l1 = out->g[b - 1].label, *l2 = out->g[b].label;
			int gt = parse_double(l1, &u) == 0 && parse_double(l2, &v) == 0 ? u > v : strcmp(l1, l2) > 0;
			if (!gt)
				break;
			ops_effect_group tmp = out->g[b];
			out->g[b] = out->g[b - 1];
			out->g[b - 1] = tmp;
		}
	free(ac_);
	effm_stored_free(&s);
	enc_target_free(&t);
	frame_free(&f);
	if (st)
		ops_effect_groups_free(out);
	return st;
}

cJSON *ops_effect_groups_json(const ops_effect_groups *r, const effm *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "model", e->base->name);
	cJSON_AddStringToObject(o, "arm", e->arm[r->arm]);
	cJSON_AddStringToObject(o, "reference", e->arm[0]);
	cJSON_AddStringToObject(o, "by", r->column);
	cJSON *g = cJSON_AddArrayToObject(o, "groups");
	for (int i = 0; i < r->ngroup; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "group", r->g[i].label);
		cJSON_AddNumberToObject(x, "n", (double)r->g[i].n);
		cJSON_AddNumberToObject(x, "n_arm", (double)r->g[i].n_arm);
		cJSON_AddNumberToObject(x, "n_reference", (double)r->g[i].n_ref);
		add_num(x, "predicted_effect", r->g[i].predicted);
		add_num(x, "predicted_benefit", -r->g[i].predicted);
		add_num(x, "observed_effect", r->g[i].observed);
		add_num(x, "lo", r->g[i].lo);
		add_num(x, "hi", r->g[i].hi);
		cJSON_AddItemToArray(g, x);
	}
	return o;
}
