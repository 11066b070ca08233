/* ui_patient.c: the Patient screen: demographics, outcome, the model's stored prediction with
 * its fold spread, and the stored attributions (integrated gradients, attention, rollout:
 * whichever `lumen explain` wrote) as a signed bar chart sorted by size, each row with the
 * column's clinical name, the patient's value and its percentile in the cohort; `v` shows the
 * visits as sparklines, a heat map against the cohort and a curve of one lab.
 * What-if (`e` edit a value, `t` switch the treatment arm, `r` reset) and patients without
 * stored attributions go through the explain module's on-the-fly integrated gradients
 * (ig_explain_values with the model's final network): the screen computes no attribution
 * itself and writes nothing to the data. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <math.h>
#include <ncurses.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../explain/ig.h"
#include "../src/nn/model.h"
#include "ui_impl.h"

#define PCT_SAMPLE 10000

typedef struct factor {
	char *column, *label, *value;
	double attr, pct; /* pct NAN when not numeric */
} factor;

typedef struct lab {
	char *name;
	double mean, sd;
	double *v; /* nvisit values */
} lab;

/* What the screen shows for one (patient, model, method); reloaded when any changes. */
static struct pstate {
	long rowid, model_id;
	int method;
	int loaded;
	char id[64];
	char demo[256];
	char outcome[256];
	char pred[256];
	char explain[512];
	char err[256];
	char *methods[8];
	int nmethod;
	factor *f;
	int nf;
	double vmax;
	int pct_sampled;
	/* visits */
	int nvisit, nlab;
	lab *labs;
	double *vtime;
	char time_col[64];
} ps;

static int cohort_percentiles(ui_app *a, int n, char *const *cols, const double *x, double *pct);
static void whatif_pct(ui_app *a);

/* The model's final network for what-if and on-the-fly explanations, loaded on first use and
 * kept while the same model is shown; the baseline (cohort mean) is computed once per model. */
static struct wmodel {
	model *m;
	long id;
	float *base;
	char err[256];
} wm;

/* One patient's raw values by spec column, the original and the edited copy, and the two
 * explanations. */
static struct whatif {
	long rowid, model_id;
	int ready, edited, live; /* live: no stored attributions, the original is computed */
	int ncol;
	cohort_value *v0, *v1;
	char **t0, **t1; /* text storage behind v0/v1 .text */
	ig_explanation e0, e1;
	double *pct; /* cohort percentile of each edited value */
	char desc[160];
} wf;

static void whatif_clear(void)
{
	for (int j = 0; j < wf.ncol; j++) {
		free(wf.t0[j]);
		free(wf.t1[j]);
	}
	free(wf.t0);
	free(wf.t1);
	free(wf.v0);
	free(wf.v1);
	free(wf.pct);
	if (wf.ready) {
		ig_explanation_free(&wf.e0);
		ig_explanation_free(&wf.e1);
	}
	memset(&wf, 0, sizeof wf);
}

static void wmodel_clear(void)
{
	if (wm.m)
		model_free(wm.m);
	free(wm.base);
	memset(&wm, 0, sizeof wm);
}

static int wmodel_get(ui_app *a)
{
	if (wm.m && wm.id == a->co.model_id)
		return 0;
	wmodel_clear();
	if (a->co.model_id < 0)
		return -1;
	lm_err err = {0};
	/* the mean baseline is stored with the model (one small read); a model of an older file
	 * without it reads the whole cohort once (seconds for a million patients): say so on the
	 * status line before a possible wait */
	ui_fill(LINES - 1, 0, COLS, ' ');
	attron((attr_t)ui_attr_of(a, UI_A_WARN));
	ui_put(LINES - 1, 0, COLS, "loading the model and its cohort-mean baseline ...");
	attroff((attr_t)ui_attr_of(a, UI_A_WARN));
	wnoutrefresh(stdscr);
	doupdate();
	wm.id = a->co.model_id;
	wm.m = model_load(a->db, a->co.model_name, &err);
	if (!wm.m) {
		snprintf(wm.err, sizeof wm.err, "%.200s", err.msg);
		return -1;
	}
	wm.base = xmallocarray((size_t)(wm.m->spec.nslot ? wm.m->spec.nslot : 1), sizeof(float));
	ig_baseline b = {.kind = IG_BASE_MEAN};
	if (ig_baseline_compute(a->db, wm.m, &b, wm.base, &err)) {
		snprintf(wm.err, sizeof wm.err, "%.200s", err.msg);
		model_free(wm.m);
		wm.m = NULL;
		return -1;
	}
	return 0;
}

/* Reads the patient's raw values for the model's columns and explains them (original and,
 * when edited, the edit). 0 or -1 with the reason in the status bar. */
static int whatif_compute(ui_app *a)
{
	if (wmodel_get(a)) {
		ui_status(a, "what-if: %s", wm.err[0] ? wm.err : "no model");
		return -1;
	}
	const cohort_spec *sp = &wm.m->spec;
	if (!(wf.ready && wf.rowid == a->patient && wf.model_id == a->co.model_id)) {
		whatif_clear();
		wf.rowid = a->patient;
		wf.model_id = a->co.model_id;
		wf.ncol = sp->ncolumn;
		wf.v0 = xcalloc((size_t)(wf.ncol ? wf.ncol : 1), sizeof *wf.v0);
		wf.v1 = xcalloc((size_t)(wf.ncol ? wf.ncol : 1), sizeof *wf.v1);
		wf.t0 = xcalloc((size_t)(wf.ncol ? wf.ncol : 1), sizeof *wf.t0);
		wf.t1 = xcalloc((size_t)(wf.ncol ? wf.ncol : 1), sizeof *wf.t1);
		lm_buf sql = {0};
		buf_puts(&sql, "SELECT 0");
		for (int j = 0; j < wf.ncol; j++) {
			char *q = sqlite3_mprintf(", \"%w\"", sp->columns[j]);
			buf_puts(&sql, q);
			sqlite3_free(q);
		}
		buf_puts(&sql, " FROM patients WHERE rowid = ?");
		sqlite3_stmt *st = store_prepare(a->db, sql.data, NULL);
		buf_free(&sql);
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, a->patient);
		if (sqlite3_step(st) == SQLITE_ROW)
			for (int j = 0; j < wf.ncol; j++) {
				int null = sqlite3_column_type(st, j + 1) == SQLITE_NULL;
				wf.v0[j].num = NAN;
				if (sp->column_type[j] == TYPE_TEXT) {
					if (!null)
						wf.t0[j] = xstrdup((const char *)sqlite3_column_text(st, j + 1));
				} else if (!null) {
					wf.v0[j].num = sqlite3_column_double(st, j + 1);
				}
				wf.v0[j].text = wf.t0[j];
				wf.v1[j] = wf.v0[j];
				wf.t1[j] = wf.t0[j] ? xstrdup(wf.t0[j]) : NULL;
				wf.v1[j].text = wf.t1[j];
			}
		sqlite3_finalize(st);
		lm_err err = {0};
		if (ig_explain_values(wm.m, wf.v0, wm.base, NULL, &wf.e0, &err)) {
			ui_status(a, "explain: %s", err.msg);
			whatif_clear();
			return -1;
		}
		if (ig_explain_values(wm.m, wf.v1, wm.base, NULL, &wf.e1, &err)) {
			ig_explanation_free(&wf.e0);
			ui_status(a, "explain: %s", err.msg);
			whatif_clear();
			return -1;
		}
		wf.ready = 1;
		whatif_pct(a);
		return 0;
	}
	lm_err err = {0};
	ig_explanation e;
	if (ig_explain_values(wm.m, wf.v1, wm.base, NULL, &e, &err)) {
		ui_status(a, "explain: %s", err.msg);
		return -1;
	}
	ig_explanation_free(&wf.e1);
	wf.e1 = e;
	whatif_pct(a);
	return 0;
}

static void whatif_pct(ui_app *a)
{
	const cohort_spec *sp = &wm.m->spec;
	double *x = xmallocarray((size_t)(wf.ncol ? wf.ncol : 1), sizeof *x);
	for (int j = 0; j < wf.ncol; j++)
		x[j] = sp->column_type[j] == TYPE_TEXT ? (double)NAN : wf.v1[j].num;
	free(wf.pct);
	wf.pct = xmallocarray((size_t)(wf.ncol ? wf.ncol : 1), sizeof *wf.pct);
	ps.pct_sampled = cohort_percentiles(a, wf.ncol, sp->columns, x, wf.pct);
	free(x);
}

static void value_text(const cohort_value *v, col_type t, char *buf, size_t len)
{
	if (t == TYPE_TEXT)
		snprintf(buf, len, "%s", v->text ? v->text : ".");
	else if (isnan(v->num))
		snprintf(buf, len, ".");
	else
		snprintf(buf, len, "%.4g", v->num);
}

/* Sets column `col` of the edited copy from text; 0 or -1 with the reason in the status. */
static int whatif_set(ui_app *a, const char *col, const char *val)
{
	const cohort_spec *sp = &wm.m->spec;
	int j = -1;
	for (int k = 0; k < sp->ncolumn; k++)
		if (!strcmp(sp->columns[k], col))
			j = k;
	if (j < 0) {
		ui_status(a, "what-if: '%s' is not an input of model %s", col, a->co.model_name);
		return -1;
	}
	if (sp->column_type[j] == TYPE_TEXT) {
		free(wf.t1[j]);
		wf.t1[j] = !strcmp(val, ".") ? NULL : xstrdup(val);
		wf.v1[j].text = wf.t1[j];
	} else if (!strcmp(val, ".")) {
		wf.v1[j].num = NAN;
	} else if (parse_double(val, &wf.v1[j].num)) {
		ui_status(a, "what-if: '%s' is not a number", val);
		return -1;
	}
	wf.edited = 1;
	lm_buf d = {0};
	for (int k = 0; k < sp->ncolumn; k++) {
		char x0[64], x1[64];
		value_text(&wf.v0[k], sp->column_type[k], x0, sizeof x0);
		value_text(&wf.v1[k], sp->column_type[k], x1, sizeof x1);
		if (strcmp(x0, x1))
			buf_printf(&d, "%s%s %s -> %s", d.len ? ", " : "", sp->columns[k], x0, x1);
	}
	snprintf(wf.desc, sizeof wf.desc, "%s", d.len ? d.data : "no change");
	buf_free(&d);
	return whatif_compute(a);
}

static void pstate_clear(void)
{
	for (int i = 0; i < ps.nf; i++) {
		free(ps.f[i].column);
		free(ps.f[i].label);
		free(ps.f[i].value);
	}
	free(ps.f);
	for (int i = 0; i < ps.nmethod; i++)
		free(ps.methods[i]);
	for (int i = 0; i < ps.nlab; i++) {
		free(ps.labs[i].name);
		free(ps.labs[i].v);
	}
	free(ps.labs);
	free(ps.vtime);
	memset(&ps, 0, sizeof ps);
}

static void text_of(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL: snprintf(buf, len, "."); break;
	case SQLITE_INTEGER: snprintf(buf, len, "%lld", (long long)sqlite3_column_int64(st, i)); break;
	case SQLITE_FLOAT: snprintf(buf, len, "%.4g", sqlite3_column_double(st, i)); break;
	default: snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, i));
	}
}

static int cmp_factor(const void *pa, const void *pb)
{
	const factor *a = pa, *b = pb;
	double x = fabs(a->attr), y = fabs(b->attr);
	if (isnan(x) != isnan(y))
		return isnan(x) - isnan(y);
	return (x < y) - (x > y);
}

/* The patient's own row: demographics and each column's displayed value. */
static void load_patient(ui_app *a, store_columns *cols, char ***values)
{
	sqlite3_stmt *st = store_prepare(a->db, "SELECT * FROM patients WHERE rowid = ?", NULL);
	*values = xcalloc((size_t)(cols->n ? cols->n : 1), sizeof **values);
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, ps.rowid);
	lm_buf demo = {0};
	if (sqlite3_step(st) == SQLITE_ROW) {
		int nc = sqlite3_column_count(st);
		for (int i = 0; i < nc; i++) {
			const char *name = sqlite3_column_name(st, i);
			int k = store_columns_find(cols, name);
			if (k < 0)
				continue;
			char v[128];
			text_of(st, i, v, sizeof v);
			(*values)[k] = xstrdup(v);
			col_role r = cols->c[k].role;
			if (r == ROLE_ID)
				snprintf(ps.id, sizeof ps.id, "%.63s", v);
			else if (r == ROLE_GROUP || r == ROLE_TREATMENT || r == ROLE_TARGET ||
				 r == ROLE_TIME || r == ROLE_EVENT)
				buf_printf(&demo, "%s%s %s", demo.len ? " | " : "",
					   cols->c[k].label ? cols->c[k].label : name, v);
		}
	}
	sqlite3_finalize(st);
	if (!ps.id[0])
		snprintf(ps.id, sizeof ps.id, "row %ld", ps.rowid);
	snprintf(ps.demo, sizeof ps.demo, "%s", demo.len ? demo.data : "(no group or outcome columns)");
	buf_free(&demo);
}

static void load_prediction(ui_app *a)
{
	ui_cohort *c = &a->co;
	if (c->model_id < 0) {
		snprintf(ps.outcome, sizeof ps.outcome,
			 "no model has predictions yet: lumen train, then lumen predict");
		return;
	}
	char target[128] = "", arch[64] = "";
	sqlite3_stmt *st = store_prepare(a->db, "SELECT target, positive, arch FROM models WHERE id = ?", NULL);
	if (st) {
		sqlite3_bind_int64(st, 1, c->model_id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(st, 0);
			const char *pv = (const char *)sqlite3_column_text(st, 1);
			const char *ar = (const char *)sqlite3_column_text(st, 2);
			if (t && pv)
				snprintf(target, sizeof target, "%s = %s", t, pv);
			else if (t)
				snprintf(target, sizeof target, "%s", t);
			snprintf(arch, sizeof arch, "%s", ar ? ar : "");
		}
		sqlite3_finalize(st);
	}
	const ui_row *r = ui_cohort_row(c, ps.rowid);
	char sd[48] = "", fold[48] = "";
	if (!isnan(r->p_sd))
		snprintf(sd, sizeof sd, " +/- %.3f across folds", r->p_sd);
	if (r->fold >= 0)
		snprintf(fold, sizeof fold, " (out-of-fold, fold %d)", r->fold);
	snprintf(ps.outcome, sizeof ps.outcome, "model %s (%s) on %s | true outcome: %s",
		 c->model_name, arch, target, r->y < 0 ? "unknown" : r->y ? "yes" : "no");
	if (isnan(r->p))
		snprintf(ps.pred, sizeof ps.pred, "no stored prediction for this patient");
	else
		snprintf(ps.pred, sizeof ps.pred, "predicted p = %.3f%s%s", r->p, sd, fold);
}

/* Cohort percentiles: each numeric column's values, sorted, read once per session in one
 * pass (all patients up to PCT_SAMPLE, beyond that an evenly spaced sample of PCT_SAMPLE
 * rowids, looked up by rowid), so that every later patient, what-if edit or on-the-fly
 * explanation gets its percentiles by binary search. */
static struct pcache {
	int loaded, sampled, n;
	char **name;
	double **v; /* sorted values without missing ones */
	long *nv;
} pc;

/* Sorts n doubles (no NaN) ascending: LSD radix sort on their bits mapped to unsigned keys
 * in numeric order (sign bit flipped for positives, all bits for negatives), 8 passes of 8
 * bits, skipping a pass in which every key has the same digit. A column of 10,000 sampled
 * values sorts several times faster than with qsort and a comparison callback, and this is
 * the bulk of the first patient screen's time in a large cohort. */
static void sort_doubles(double *v, long n)
{
	if (n < 2)
		return;
	uint64_t *k = xmallocarray((size_t)n, sizeof *k), *t = xmallocarray((size_t)n, sizeof *t);
	for (long i = 0; i < n; i++) {
		uint64_t u;
		memcpy(&u, &v[i], sizeof u);
		k[i] = u >> 63 ? ~u : u | (UINT64_C(1) << 63);
	}
	for (int shift = 0; shift < 64; shift += 8) {
		long cnt[257] = {0};
		for (long i = 0; i < n; i++)
			cnt[((k[i] >> shift) & 0xff) + 1]++;
		if (cnt[((k[0] >> shift) & 0xff) + 1] == n)
			continue;
		for (int d = 0; d < 256; d++)
			cnt[d + 1] += cnt[d];
		for (long i = 0; i < n; i++)
			t[cnt[(k[i] >> shift) & 0xff]++] = k[i];
		uint64_t *x = k;
		k = t;
		t = x;
	}
	for (long i = 0; i < n; i++) {
		uint64_t u = k[i] >> 63 ? k[i] & ~(UINT64_C(1) << 63) : ~k[i];
		memcpy(&v[i], &u, sizeof u);
	}
	free(k);
	free(t);
}

static void pcache_free(void)
{
	for (int i = 0; i < pc.n; i++) {
		free(pc.name[i]);
		free(pc.v[i]);
	}
	free(pc.name), free(pc.v), free(pc.nv);
	memset(&pc, 0, sizeof pc);
}

static void pcache_load(ui_app *a)
{
	if (pc.loaded)
		return;
	pc.loaded = 1;
	store_columns cols;
	if (store_columns_load(a->db, "patients", &cols, NULL))
		return;
	long stride = a->co.n > PCT_SAMPLE ? a->co.n / PCT_SAMPLE : 1;
	pc.sampled = stride > 1;
	lm_buf sql = {0};
	char *w = sqlite3_mprintf("WITH RECURSIVE s(r) AS (SELECT 1 UNION ALL SELECT r + %ld FROM s"
				  " WHERE r + %ld <= %ld) SELECT 0",
				  stride, stride, a->co.n);
	buf_puts(&sql, w);
	sqlite3_free(w);
	for (int i = 0; i < cols.n; i++) {
		if (cols.c[i].type == TYPE_TEXT)
			continue;
		pc.name = xreallocarray(pc.name, (size_t)pc.n + 1, sizeof *pc.name);
		pc.v = xreallocarray(pc.v, (size_t)pc.n + 1, sizeof *pc.v);
		pc.nv = xreallocarray(pc.nv, (size_t)pc.n + 1, sizeof *pc.nv);
		pc.name[pc.n] = xstrdup(cols.c[i].name);
		pc.v[pc.n] = NULL;
		pc.nv[pc.n] = 0;
		pc.n++;
		char *q = sqlite3_mprintf(", \"%w\"", cols.c[i].name);
		buf_puts(&sql, q);
		sqlite3_free(q);
	}
	store_columns_free(&cols);
	buf_puts(&sql, " FROM s JOIN patients ON patients.rowid = s.r");
	sqlite3_stmt *st = store_prepare(a->db, sql.data, NULL);
	buf_free(&sql);
	long cap = 0;
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < pc.n; i++) {
			if (sqlite3_column_type(st, i + 1) == SQLITE_NULL)
				continue;
			if (pc.nv[i] == cap) {
				/* all columns share one capacity: none holds more values than rows read */
				cap = cap ? 2 * cap : 1024;
				for (int j = 0; j < pc.n; j++)
					pc.v[j] = xreallocarray(pc.v[j], (size_t)cap, sizeof(double));
			}
			pc.v[i][pc.nv[i]++] = sqlite3_column_double(st, i + 1);
		}
	}
	sqlite3_finalize(st);
	for (int i = 0; i < pc.n; i++)
		if (pc.nv[i] > 1)
			sort_doubles(pc.v[i], pc.nv[i]);
}

/* Percentile of x among column col's values: (count below + half the ties) / count, in %. */
static double pcache_pct(const char *col, double x)
{
	for (int i = 0; i < pc.n; i++) {
		if (strcmp(pc.name[i], col))
			continue;
		long n = pc.nv[i], lo = 0, hi = n;
		if (n == 0)
			return NAN;
		const double *v = pc.v[i];
		while (lo < hi) { /* first index with v >= x */
			long mid = lo + (hi - lo) / 2;
			if (v[mid] < x)
				lo = mid + 1;
			else
				hi = mid;
		}
		long below = lo, eq = 0;
		while (lo + eq < n && v[lo + eq] == x)
			eq++;
		return 100.0 * ((double)below + 0.5 * (double)eq) / (double)n;
	}
	return NAN;
}

/* Cohort percentile of each value x[i] of column cols[i] (NAN x: NAN). Returns 1 when the
 * percentiles come from a sample. */
static int cohort_percentiles(ui_app *a, int n, char *const *cols, const double *x, double *pct)
{
	pcache_load(a);
	for (int i = 0; i < n; i++)
		pct[i] = isnan(x[i]) ? (double)NAN : pcache_pct(cols[i], x[i]);
	return pc.sampled;
}

static void load_attributions(ui_app *a, store_columns *cols, char **values)
{
	ui_cohort *c = &a->co;
	if (c->model_id < 0)
		return;
	sqlite3_stmt *st = store_prepare(
		a->db,
		"SELECT DISTINCT method FROM attributions WHERE model_id = ? AND patient = ?"
		" ORDER BY CASE method WHEN 'ig' THEN 0 WHEN 'attention' THEN 1 WHEN 'rollout' THEN 2"
		" ELSE 3 END, method",
		NULL);
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, c->model_id);
	sqlite3_bind_int64(st, 2, ps.rowid);
	while (sqlite3_step(st) == SQLITE_ROW && ps.nmethod < (int)LM_ARRAY_LEN(ps.methods))
		ps.methods[ps.nmethod++] = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (ps.nmethod == 0) {
		snprintf(ps.explain, sizeof ps.explain,
			 "no stored explanation for this patient: lumen explain FILE --model %s",
			 c->model_name);
		return;
	}
	if (ps.method >= ps.nmethod)
		ps.method = 0;
	const char *method = ps.methods[ps.method];

	/* the source columns, in slot order, name the entries of the `columns` vector */
	char **names = NULL;
	int nn = 0;
	st = store_prepare(a->db, "SELECT source_column FROM model_inputs WHERE model_id = ? ORDER BY slot", NULL);
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, c->model_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		if (!s || (nn > 0 && !strcmp(names[nn - 1], s)))
			continue;
		names = xreallocarray(names, (size_t)nn + 1, sizeof *names);
		names[nn++] = xstrdup(s);
	}
	sqlite3_finalize(st);

	st = store_prepare(a->db,
			   "SELECT columns, logit, baseline_logit, delta, steps, baseline FROM attributions"
			   " WHERE model_id = ? AND method = ? AND patient = ?",
			   NULL);
	if (!st)
		goto out;
	sqlite3_bind_int64(st, 1, c->model_id);
	sqlite3_bind_text(st, 2, method, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ps.rowid);
	if (sqlite3_step(st) == SQLITE_ROW) {
		int bytes = sqlite3_column_bytes(st, 0);
		const unsigned char *blob = sqlite3_column_blob(st, 0);
		if (bytes != nn * 4 || !blob) {
			snprintf(ps.err, sizeof ps.err,
				 "stored %s attributions have %d values for %d model columns", method,
				 bytes / 4, nn);
		} else {
			ps.f = xcalloc((size_t)(nn ? nn : 1), sizeof *ps.f);
			for (int i = 0; i < nn; i++) {
				float v;
				memcpy(&v, blob + 4 * i, 4); /* float32, the machine's byte order */
				factor *f = &ps.f[ps.nf++];
				int k = store_columns_find(cols, names[i]);
				f->column = xstrdup(names[i]);
				f->label = xstrdup(k >= 0 && cols->c[k].label ? cols->c[k].label : names[i]);
				f->value = xstrdup(k >= 0 && values[k] ? values[k] : ".");
				f->attr = (double)v;
				f->pct = NAN;
				if (fabs(f->attr) > ps.vmax)
					ps.vmax = fabs(f->attr);
			}
		}
		char detail[160] = "";
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			snprintf(detail, sizeof detail, ", error %.2g",
				 sqlite3_column_double(st, 3));
		char logit[96] = "";
		if (sqlite3_column_type(st, 1) != SQLITE_NULL && sqlite3_column_type(st, 2) != SQLITE_NULL)
			snprintf(logit, sizeof logit, ": logit %.3f, baseline %.3f",
				 sqlite3_column_double(st, 1), sqlite3_column_double(st, 2));
		char how[96] = "";
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			snprintf(how, sizeof how, " (%s, %d steps)",
				 sqlite3_column_text(st, 5) ? (const char *)sqlite3_column_text(st, 5) : "?",
				 sqlite3_column_int(st, 4));
		snprintf(ps.explain, sizeof ps.explain, "why: %.32s%.90s%.90s%.90s", method, how, logit, detail);
	}
	sqlite3_finalize(st);

	if (ps.nf > 0) {
		/* the patient's full-precision values, not the displayed ones */
		char **cn = xcalloc((size_t)ps.nf, sizeof *cn);
		double *x = xmallocarray((size_t)ps.nf, sizeof *x);
		double *pct = xmallocarray((size_t)ps.nf, sizeof *pct);
		for (int i = 0; i < ps.nf; i++) {
			cn[i] = ps.f[i].column;
			x[i] = NAN;
		}
		sqlite3_stmt *v = store_prepare(a->db, "SELECT * FROM patients WHERE rowid = ?", NULL);
		if (v) {
			sqlite3_bind_int64(v, 1, ps.rowid);
			if (sqlite3_step(v) == SQLITE_ROW)
				for (int j = 0; j < sqlite3_column_count(v); j++)
					for (int i = 0; i < ps.nf; i++) {
						int k = store_columns_find(cols, cn[i]);
						if (k >= 0 && cols->c[k].type != TYPE_TEXT &&
						    sqlite3_column_type(v, j) != SQLITE_NULL &&
						    !strcmp(sqlite3_column_name(v, j), cn[i]))
							x[i] = sqlite3_column_double(v, j);
					}
			sqlite3_finalize(v);
		}
		ps.pct_sampled = cohort_percentiles(a, ps.nf, cn, x, pct);
		for (int i = 0; i < ps.nf; i++)
			ps.f[i].pct = pct[i];
		free(cn), free(x), free(pct);
		qsort(ps.f, (size_t)ps.nf, sizeof *ps.f, cmp_factor);
	}
out:
	for (int i = 0; i < nn; i++)
		free(names[i]);
	free(names);
}

static void load_visits(ui_app *a)
{
	if (!store_has_table(a->db, "visits"))
		return;
	store_columns vc;
	if (store_columns_load(a->db, "visits", &vc, NULL))
		return;
	int tcol = store_columns_role(&vc, ROLE_TIME);
	if (tcol >= 0)
		snprintf(ps.time_col, sizeof ps.time_col, "%s", vc.c[tcol].name);
	for (int i = 0; i < vc.n; i++) {
		store_column *m = &vc.c[i];
		if (m->role != ROLE_FEATURE || m->type == TYPE_TEXT)
			continue;
		ps.labs = xreallocarray(ps.labs, (size_t)ps.nlab + 1, sizeof *ps.labs);
		lab *l = &ps.labs[ps.nlab++];
		memset(l, 0, sizeof *l);
		l->name = xstrdup(m->label ? m->label : m->name);
		l->mean = m->mean, l->sd = m->sd;
	}
	sqlite3_stmt *st = store_prepare(a->db, "SELECT * FROM visits WHERE \"__patient\" = ? ORDER BY rowid", NULL);
	if (!st) {
		store_columns_free(&vc);
		return;
	}
	sqlite3_bind_int64(st, 1, ps.rowid);
	int cap = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (ps.nvisit == cap) {
			cap = cap ? 2 * cap : 16;
			ps.vtime = xreallocarray(ps.vtime, (size_t)cap, sizeof *ps.vtime);
			for (int l = 0; l < ps.nlab; l++)
				ps.labs[l].v = xreallocarray(ps.labs[l].v, (size_t)cap, sizeof(double));
		}
		int v = ps.nvisit++;
		ps.vtime[v] = v;
		for (int l = 0; l < ps.nlab; l++)
			ps.labs[l].v[v] = NAN;
		int li = 0;
		for (int i = 0; i < vc.n; i++) {
			store_column *m = &vc.c[i];
			int j = -1;
			for (int q = 0; q < sqlite3_column_count(st); q++)
				if (!strcmp(sqlite3_column_name(st, q), m->name))
					j = q;
			if (j < 0)
				continue;
			if (i == tcol && sqlite3_column_type(st, j) != SQLITE_NULL)
				ps.vtime[v] = sqlite3_column_double(st, j);
			if (m->role != ROLE_FEATURE || m->type == TYPE_TEXT)
				continue;
			if (sqlite3_column_type(st, j) != SQLITE_NULL)
				ps.labs[li].v[v] = sqlite3_column_double(st, j);
			li++;
		}
	}
	sqlite3_finalize(st);
	store_columns_free(&vc);
	/* labs that change over this patient's visits first: constants (age at entry, the
	 * follow-up time) tell nothing over time */
	int k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int l = k; l < ps.nlab; l++) {
			int varies = 0;
			for (int v = 1; v < ps.nvisit; v++)
				if (!isnan(ps.labs[l].v[v]) && ps.labs[l].v[v] != ps.labs[l].v[0])
					varies = 1;
			if (varies == !pass) {
				lab t = ps.labs[l];
				memmove(&ps.labs[k + 1], &ps.labs[k], (size_t)(l - k) * sizeof t);
				ps.labs[k++] = t;
			}
		}
}

static void ensure_loaded(ui_app *a)
{
	if (ps.loaded && ps.rowid == a->patient && ps.model_id == a->co.model_id &&
	    ps.method == a->method)
		return;
	pstate_clear();
	ps.rowid = a->patient;
	ps.model_id = a->co.model_id;
	ps.method = a->method;
	ps.loaded = 1;
	store_columns cols;
	if (store_columns_load(a->db, "patients", &cols, NULL))
		return;
	char **values = NULL;
	load_patient(a, &cols, &values);
	load_prediction(a);
	load_attributions(a, &cols, values);
	a->method = ps.method;
	for (int i = 0; i < cols.n; i++)
		free(values[i]);
	free(values);
	store_columns_free(&cols);
	load_visits(a);
}

/* The heading row of a factor table: factor, value, percentile, the signed-bar axis at column
 * bx (barw wide), and the number column(s) after it (numw wide, titled num). */
static void factor_header(ui_app *a, int y0, int bx, int barw, int numw, const char *num)
{
	attron((attr_t)ui_attr_of(a, UI_A_HEADER));
	ui_fill(y0, 0, COLS, ' ');
	ui_put(y0, 2, 16, "factor");
	ui_put(y0, 19, 9, "   value");
	ui_put(y0, 29, 5, ps.pct_sampled ? "~pct" : " pct");
	char axis[128];
	snprintf(axis, sizeof axis, "%*s%s", barw / 2 - 13 > 0 ? barw / 2 - 13 : 0, "",
		 "lowers risk | raises risk");
	ui_put(y0, bx, barw, axis);
	ui_put(y0, bx + barw + 1, numw, num);
	attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
}

static void draw_factors(ui_app *a, int y0)
{
	int h = LINES - 1 - y0 - 1;
	int barw = COLS - 35 - 1 - 8;
	if (barw < 10)
		barw = 10;
	factor_header(a, y0, 35, barw, 8, "  attr");
	if (a->pat_scroll > ps.nf - h)
		a->pat_scroll = ps.nf - h > 0 ? ps.nf - h : 0;
	for (int i = 0; i < h && a->pat_scroll + i < ps.nf; i++) {
		const factor *f = &ps.f[a->pat_scroll + i];
		int y = y0 + 1 + i;
		ui_put(y, 2, 16, f->label);
		char t[64];
		snprintf(t, sizeof t, "%9.9s", f->value);
		ui_put(y, 19, 9, t);
		if (!isnan(f->pct)) {
			snprintf(t, sizeof t, "%3.0f%%", f->pct);
			ui_put(y, 29, 5, t);
		}
		ui_signed_bar(a, y, 35, barw, f->attr, ps.vmax);
		/* the sign is written out, so direction never depends on colour */
		snprintf(t, sizeof t, "%+8.3f", f->attr);
		ui_put(y, 35 + barw + 1, 8, t);
	}
}

static void draw_visits(ui_app *a, int y0)
{
	if (ps.nvisit == 0 || ps.nlab == 0) {
		ui_put(y0, 2, COLS - 4, "no visits for this patient");
		return;
	}
	char t[160];
	snprintf(t, sizeof t, "%d visits%s%s; heat: %s", ps.nvisit, ps.time_col[0] ? " by " : "",
		 ps.time_col, a->ascii ? "P/+ above, N/- below the cohort mean" : "░▒▓█ above, ▁▃▅▇ below the cohort mean");
	ui_put(y0, 2, COLS - 4, t);
	int plot_h = LINES - 1 - y0 - 2 - ps.nlab;
	int list_h = ps.nlab;
	if (plot_h < 4) {
		plot_h = 4;
		list_h = LINES - 1 - y0 - 2 - plot_h;
	}
	if (a->lab >= ps.nlab)
		a->lab = ps.nlab - 1;
	int sw = ps.nvisit < 20 ? ps.nvisit : 20;
	int first = a->lab >= list_h ? a->lab - list_h + 1 : 0;
	for (int i = 0; i < list_h && first + i < ps.nlab; i++) {
		int li = first + i;
		const lab *l = &ps.labs[li];
		int y = y0 + 1 + i;
		if (li == a->lab)
			mvaddch(y, 0, '>');
		ui_put(y, 2, 12, l->name);
		int off = ps.nvisit > sw ? ps.nvisit - sw : 0; /* the latest visits */
		ui_sparkline(a, y, 15, sw, l->v + off, sw);
		for (int v = 0; v < sw; v++) {
			double z = l->sd > 0 ? (l->v[off + v] - l->mean) / (2 * l->sd) : (double)NAN;
			ui_heat_cell(a, y, 15 + sw + 2 + v, z);
		}
		double last = NAN;
		for (int v = 0; v < ps.nvisit; v++)
			if (!isnan(l->v[v]))
				last = l->v[v];
		snprintf(t, sizeof t, "last %.4g", last);
		ui_put(y, 15 + 2 * sw + 4, COLS - (15 + 2 * sw + 4), t);
	}
	const lab *l = &ps.labs[a->lab];
	int py = y0 + 1 + list_h;
	double lo = INFINITY, hi = -INFINITY;
	for (int v = 0; v < ps.nvisit; v++)
		if (!isnan(l->v[v])) {
			if (l->v[v] < lo)
				lo = l->v[v];
			if (l->v[v] > hi)
				hi = l->v[v];
		}
	if (!(hi > lo))
		hi = lo + 1;
	snprintf(t, sizeof t, "%s over %s: %.4g .. %.4g", l->name, ps.time_col[0] ? ps.time_col : "visits", lo, hi);
	ui_put(py, 2, COLS - 4, t);
	ui_plot(a, py + 1, 2, COLS - 4, plot_h - 1, ps.vtime, l->v, ps.nvisit, ps.vtime[0],
		ps.vtime[ps.nvisit - 1] > ps.vtime[0] ? ps.vtime[ps.nvisit - 1] : ps.vtime[0] + 1, lo, hi);
}

static const float *live_attr;
static int cmp_live(const void *pa, const void *pb)
{
	float x = fabsf(live_attr[*(const int *)pa]), y = fabsf(live_attr[*(const int *)pb]);
	return (x < y) - (x > y);
}

/* Factors from the on-the-fly explanation: the edited patient's attributions as bars, with
 * the original's beside them when a value was changed. */
static void draw_live(ui_app *a, int y0)
{
	const cohort_spec *sp = &wm.m->spec;
	int n = wf.e1.ncolumn;
	int *idx = xcalloc((size_t)(n ? n : 1), sizeof *idx);
	double vmax = 0;
	for (int j = 0; j < n; j++) {
		idx[j] = j;
		if (fabs((double)wf.e1.columns[j]) > vmax)
			vmax = fabs((double)wf.e1.columns[j]);
		if (fabs((double)wf.e0.columns[j]) > vmax)
			vmax = fabs((double)wf.e0.columns[j]);
	}
	live_attr = wf.e1.columns;
	qsort(idx, (size_t)n, sizeof *idx, cmp_live);
	int bx = 35, barw = COLS - bx - 1 - 16;
	factor_header(a, y0, bx, barw, 16, wf.edited ? "    was     now" : "            attr");
	int h = LINES - 1 - y0 - 1;
	if (a->pat_scroll > n - h)
		a->pat_scroll = n - h > 0 ? n - h : 0;
	for (int i = 0; i < h && a->pat_scroll + i < n; i++) {
		int j = idx[a->pat_scroll + i];
		int y = y0 + 1 + i;
		char t[64], v0[32], v1[32];
		value_text(&wf.v0[j], sp->column_type[j], v0, sizeof v0);
		value_text(&wf.v1[j], sp->column_type[j], v1, sizeof v1);
		int changed = strcmp(v0, v1) != 0;
		/* an edited value is marked with '*' (not only by colour) */
		snprintf(t, sizeof t, "%s%s", sp->columns[j], changed ? " *" : "");
		ui_put(y, 2, 16, t);
		snprintf(t, sizeof t, "%9.9s", v1);
		ui_put(y, 19, 9, t);
		if (wf.pct && !isnan(wf.pct[j])) {
			snprintf(t, sizeof t, "%3.0f%%", wf.pct[j]);
			ui_put(y, 29, 5, t);
		}
		ui_signed_bar(a, y, bx, barw, (double)wf.e1.columns[j], vmax);
		if (wf.edited) {
			snprintf(t, sizeof t, "%+7.3f %+7.3f", (double)wf.e0.columns[j], (double)wf.e1.columns[j]);
		} else {
			char u[16];
			snprintf(u, sizeof u, "%+8.3f", (double)wf.e1.columns[j]);
			snprintf(t, sizeof t, "%15s", u);
		}
		ui_put(y, bx + barw + 1, 16, t);
	}
	free(idx);
}

static void patient_draw(ui_app *a)
{
	ensure_loaded(a);
	long pos = ui_cohort_pos(&a->co, a->patient);
	char t[256];
	attron((attr_t)A_BOLD);
	if (pos >= 0)
		snprintf(t, sizeof t, "Patient %s  (%ld of %ld in the current order)", ps.id, pos + 1,
			 ui_cohort_count(&a->co));
	else
		snprintf(t, sizeof t, "Patient %s", ps.id);
	ui_put(1, 0, COLS, t);
	attroff((attr_t)A_BOLD);
	ui_put(2, 2, COLS - 2, ps.demo);
	ui_put(3, 2, COLS - 2, ps.outcome);
	ui_put(4, 2, COLS - 2, ps.pred);
	ui_put(5, 2, COLS - 2, ps.explain);
	if (ps.err[0]) {
		attron((attr_t)ui_attr_of(a, UI_A_WARN));
		ui_put(6, 2, COLS - 2, ps.err);
		attroff((attr_t)ui_attr_of(a, UI_A_WARN));
	} else if (ps.nmethod > 1) {
		lm_buf m = {0};
		buf_puts(&m, "methods (a switches): ");
		for (int i = 0; i < ps.nmethod; i++)
			buf_printf(&m, i == ps.method ? "[%s] " : "%s ", ps.methods[i]);
		ui_put(6, 2, COLS - 2, m.data);
		buf_free(&m);
	}
	int live = !a->visits_view && (wf.edited || (ps.nmethod == 0 && a->co.model_id >= 0));
	if (live && !(wf.ready && wf.rowid == a->patient && wf.model_id == a->co.model_id) &&
	    whatif_compute(a))
		live = 0;
	if (live) {
		/* lines 4-6 describe the on-the-fly explanation instead of the stored one */
		for (int y = 4; y <= 6; y++)
			ui_fill(y, 0, COLS, ' ');
		if (wf.edited) {
			double d = (double)(wf.e1.prob - wf.e0.prob);
			snprintf(t, sizeof t, "what-if: %.150s   (r resets; nothing is saved)", wf.desc);
			ui_put(4, 2, COLS - 2, t);
			snprintf(t, sizeof t, "final model p = %.3f -> %.3f (%s%.3f, %s)",
				 (double)wf.e0.prob, (double)wf.e1.prob, d >= 0 ? "+" : "-", fabs(d),
				 d > 0 ? "higher risk" : d < 0 ? "lower risk" : "unchanged");
			attron((attr_t)ui_attr_of(a, UI_A_WARN));
			ui_put(5, 2, COLS - 2, t);
			attroff((attr_t)ui_attr_of(a, UI_A_WARN));
		} else {
			const ui_row *r = ui_cohort_row(&a->co, a->patient);
			snprintf(t, sizeof t, "out-of-fold p = %.3f (stored); final model p = %.3f (now)",
				 r->p, (double)wf.e0.prob);
			ui_put(4, 2, COLS - 2, t);
			snprintf(t, sizeof t, "why: ig computed now (mean, %d steps): logit %.3f, base %.3f, err %.1g",
				 wf.e1.steps, (double)wf.e1.logit, (double)wf.e1.baseline_logit, (double)wf.e1.delta);
			ui_put(5, 2, COLS - 2, t);
		}
		draw_live(a, 7);
	} else if (a->visits_view) {
		draw_visits(a, 7);
	} else {
		draw_factors(a, 7);
	}
}

static void step_patient(ui_app *a, int d)
{
	long pos = ui_cohort_pos(&a->co, a->patient);
	long n = ui_cohort_count(&a->co);
	if (pos < 0 || n == 0)
		return;
	pos += d;
	if (pos < 0 || pos >= n) {
		ui_status(a, d > 0 ? "last patient" : "first patient");
		return;
	}
	a->cur = pos; /* the cohort cursor follows, so Esc returns to this patient */
	ui_open_patient(a, ui_cohort_rowid(&a->co, pos));
}
static void k_next(ui_app *a) { step_patient(a, 1); }
static void k_prev(ui_app *a) { step_patient(a, -1); }
static void k_down(ui_app *a)
{
	if (a->visits_view)
		a->lab++;
	else
		a->pat_scroll++;
}
static void k_up(ui_app *a)
{
	if (a->visits_view) {
		if (a->lab > 0)
			a->lab--;
	} else if (a->pat_scroll > 0) {
		a->pat_scroll--;
	}
}
static void k_method(ui_app *a)
{
	if (ps.nmethod < 2) {
		ui_status(a, "only one explanation method is stored for this patient");
		return;
	}
	a->method = (a->method + 1) % ps.nmethod;
}
static void k_visits(ui_app *a) { a->visits_view = !a->visits_view; }

static void edit_done(ui_app *a, const char *text)
{
	char col[128] = "", val[128] = "";
	const char *eq = strchr(text, '=');
	if (eq) {
		snprintf(col, sizeof col, "%.*s", (int)(eq - text), text);
		snprintf(val, sizeof val, "%s", eq + 1);
	} else if (sscanf(text, "%127s %127s", col, val) != 2) {
		ui_status(a, "what-if: expected COLUMN = VALUE, e.g. bili = 1.2");
		return;
	}
	/* trim blanks around both */
	char *c = col, *v = val;
	while (*c == ' ')
		c++;
	while (*v == ' ')
		v++;
	for (size_t n = strlen(c); n > 0 && c[n - 1] == ' ';)
		c[--n] = 0;
	for (size_t n = strlen(v); n > 0 && v[n - 1] == ' ';)
		v[--n] = 0;
	if (!*c || !*v) {
		ui_status(a, "what-if: expected COLUMN = VALUE, e.g. bili = 1.2");
		return;
	}
	a->visits_view = 0;
	a->pat_scroll = 0;
	whatif_set(a, c, v);
}

static void k_edit(ui_app *a)
{
	if (whatif_compute(a))
		return;
	ui_start_prompt(a, "what-if, COLUMN = VALUE: ", "", edit_done);
}

/* Switches the treatment arm: the next of the treatment column's values in the cohort. */
static void k_treat(ui_app *a)
{
	if (whatif_compute(a))
		return;
	store_columns cols;
	if (store_columns_load(a->db, "patients", &cols, NULL))
		return;
	int k = store_columns_role(&cols, ROLE_TREATMENT);
	const cohort_spec *sp = &wm.m->spec;
	int j = -1;
	for (int q = 0; k >= 0 && q < sp->ncolumn; q++)
		if (!strcmp(sp->columns[q], cols.c[k].name))
			j = q;
	if (k < 0 || j < 0) {
		ui_status(a, k < 0 ? "no treatment column (lumen import --treatment COL)"
				   : "the treatment is not an input of this model");
		store_columns_free(&cols);
		return;
	}
	char *q = sqlite3_mprintf("SELECT DISTINCT \"%w\" FROM patients WHERE \"%w\" IS NOT NULL"
				  " ORDER BY 1 LIMIT 50", cols.c[k].name, cols.c[k].name);
	sqlite3_stmt *st = store_prepare(a->db, q, NULL);
	sqlite3_free(q);
	char cur[64], first[64] = "", next[64] = "";
	value_text(&wf.v1[j], sp->column_type[j], cur, sizeof cur);
	int seen = 0;
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		char v[64];
		if (sp->column_type[j] == TYPE_TEXT)
			snprintf(v, sizeof v, "%s", (const char *)sqlite3_column_text(st, 0));
		else
			snprintf(v, sizeof v, "%.4g", sqlite3_column_double(st, 0));
		if (!first[0])
			snprintf(first, sizeof first, "%s", v);
		if (seen && !next[0])
			snprintf(next, sizeof next, "%s", v);
		if (!strcmp(v, cur))
			seen = 1;
	}
	sqlite3_finalize(st);
	a->visits_view = 0;
	a->pat_scroll = 0;
	whatif_set(a, cols.c[k].name, next[0] ? next : first);
	store_columns_free(&cols);
}

static void k_reset(ui_app *a)
{
	if (!wf.edited) {
		ui_status(a, "nothing to reset");
		return;
	}
	whatif_clear();
}

static const ui_key patient_keys[] = {
	{{']', 'J'}, "]/J", "next patient in the cohort's current order", k_next},
	{{'[', 'K'}, "[/K", "previous patient", k_prev},
	{{'j', KEY_DOWN, UI_KEY_WHEEL_DOWN}, "j/Down", "scroll the factors (visits: next lab)", k_down},
	{{'k', KEY_UP, UI_KEY_WHEEL_UP}, "k/Up", "scroll back (visits: previous lab)", k_up},
	{{'a'}, "a", "attribution method: ig, attention, rollout (as stored)", k_method},
	{{'v'}, "v", "visits: sparklines, heat map and the selected lab's curve", k_visits},
	{{'e'}, "e", "what-if: set a value (COLUMN = VALUE; . = missing)", k_edit},
	{{'t'}, "t", "what-if: switch the treatment arm", k_treat},
	{{'r'}, "r", "what-if: back to the patient's own values", k_reset},
	{{0}, NULL, NULL, NULL},
};

const ui_screen ui_patient_screen = {"Patient", patient_draw, patient_keys, NULL};

void ui_patient_release(void)
{
	pstate_clear();
	pcache_free();
	whatif_clear();
	wmodel_clear();
}
