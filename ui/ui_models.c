/* ui_models.c: the Models screen: every model's stored cross-validated metrics side by side
 * (as `lumen train` wrote them), and for the selected model its ROC and calibration curves,
 * the confusion matrix at a threshold moved with +/-, and its stored global importance.
 * Curves and the confusion matrix come from the metrics module over the stored out-of-fold
 * predictions; nothing is computed here. Two jobs of the operations layer run from here, with
 * their progress on the status line: `t` trains a model (ops_train_run, as lumen train) and
 * `x` explains every patient with the selected model (ops_explain_run, as lumen explain). */
#define _XOPEN_SOURCE_EXTENDED 1
#include <cjson/cJSON.h>
#include <math.h>
#include <ncurses.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../src/stats/metrics.h"
#include "../src/ops/ops.h"
#include "../src/data/labels.h"
#include "ui_impl.h"

typedef struct mrow {
	long id;
	char *name, *arch;
	cJSON *metrics, *importance;
	cJSON *validations; /* ops_validations_json: lumen validate's stored results */
} mrow;

static struct mstate {
	int loaded, n;
	mrow *m;
	long pred_for; /* model id whose predictions are loaded */
	double *p, *y;
	long np;
	double *fpr, *tpr, *thr;
	long nroc;
	double *cal_x, *cal_y;
	long *cal_n;
	int ncal;
	store_columns cols; /* the patients' columns, for the inputs' labels */
	int have_cols;
} ms;

static void preds_clear(void)
{
	free(ms.p), free(ms.y), free(ms.fpr), free(ms.tpr), free(ms.thr);
	free(ms.cal_x), free(ms.cal_y), free(ms.cal_n);
	ms.p = ms.y = ms.fpr = ms.tpr = ms.thr = ms.cal_x = ms.cal_y = NULL;
	ms.cal_n = NULL;
	ms.np = ms.nroc = 0;
	ms.ncal = 0;
	ms.pred_for = 0;
}

void ui_models_release(void)
{
	preds_clear();
	for (int i = 0; i < ms.n; i++) {
		free(ms.m[i].name);
		free(ms.m[i].arch);
		cJSON_Delete(ms.m[i].metrics);
		cJSON_Delete(ms.m[i].importance);
		cJSON_Delete(ms.m[i].validations);
	}
	free(ms.m);
	if (ms.have_cols)
		store_columns_free(&ms.cols);
	memset(&ms, 0, sizeof ms);
}

static void load_models(ui_app *a)
{
	if (ms.loaded)
		return;
	ms.loaded = 1;
	ms.have_cols = store_columns_load(a->db, "patients", &ms.cols, NULL) == 0;
	ops_models all;
	if (ops_models_load(a->db, NULL, &all, NULL))
		all.n = 0;
	for (int i = 0; i < all.n; i++) {
		ms.m = xreallocarray(ms.m, (size_t)ms.n + 1, sizeof *ms.m);
		mrow *r = &ms.m[ms.n++];
		const ops_model_row *o = &all.m[i];
		r->id = o->id;
		r->name = xstrdup(o->name ? o->name : "");
		r->arch = xstrdup(o->arch ? o->arch : "");
		r->metrics = o->metrics ? cJSON_Parse(o->metrics) : NULL;
		r->importance = o->importance ? cJSON_Parse(o->importance) : NULL;
		r->validations = NULL;
	}
	ops_models_free(&all);
	for (int i = 0; i < ms.n; i++)
		ms.m[i].validations = ops_validations_json(a->db, ms.m[i].id);
	/* start on the model the cohort shows */
	for (int i = 0; i < ms.n; i++)
		if (ms.m[i].id == a->co.model_id)
			a->model_sel = i;
	if (a->threshold <= 0)
		a->threshold = 0.5;
}

static void load_preds(ui_app *a, long id)
{
	if (ms.pred_for == id)
		return;
	preds_clear();
	ms.pred_for = id;
	ops_predictions pr;
	if (ops_predictions_load_id(a->db, id, &pr, NULL)) {
		ops_predictions_free(&pr);
		return;
	}
	/* the patients with a prediction and an outcome, in rowid order */
	ms.p = xmallocarray((size_t)(pr.n ? pr.n : 1), sizeof *ms.p);
	ms.y = xmallocarray((size_t)(pr.n ? pr.n : 1), sizeof *ms.y);
	for (long i = 0; i < pr.n; i++)
		if (!isnan(pr.p[i]) && !isnan(pr.y[i])) {
			ms.p[ms.np] = pr.p[i];
			ms.y[ms.np++] = pr.y[i] ? 1.0 : 0.0;
		}
	ops_predictions_free(&pr);
	if (ms.np > 0) {
		ms.nroc = metrics_roc_curve(ms.p, ms.y, NULL, ms.np, &ms.fpr, &ms.tpr, &ms.thr);
		ms.ncal = metrics_calibration_curve(ms.p, ms.y, NULL, ms.np, 10, &ms.cal_x, &ms.cal_y, &ms.cal_n);
	}
}

static double pooled(const mrow *r, const char *key)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(r->metrics, "pooled");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p ? p : r->metrics, key);
	return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

static void models_draw(ui_app *a)
{
	load_models(a);
	if (ms.n == 0) {
		ui_put(2, 2, COLS - 4, "no models yet: lumen train FILE --model logreg --target COL");
		return;
	}
	if (a->model_sel >= ms.n)
		a->model_sel = ms.n - 1;
	/* the metrics table: one column per model, the selected one in brackets */
	static const struct { const char *key, *label; } rows[] = {
		{"auc", "AUC (ROC)"}, {"average_precision", "average precision"}, {"brier", "Brier score"},
		{"log_loss", "log loss"}, {"calibration_slope", "calibration slope"},
		{"calibration_in_the_large", "calib. in the large"}, {"n", "patients"},
	};
	int cw = 14, x0 = 22;
	int first = a->model_sel - (COLS - x0) / cw + 1;
	if (first < 0)
		first = 0;
	attron((attr_t)ui_attr_of(a, UI_A_HEADER));
	ui_fill(1, 0, COLS, ' ');
	ui_put(1, 2, 20, "out-of-fold metrics");
	for (int i = first, x = x0; i < ms.n && x + cw <= COLS; i++, x += cw) {
		char t[64];
		snprintf(t, sizeof t, i == a->model_sel ? "[%.11s]" : " %.11s", ms.m[i].name);
		ui_put(1, x, cw, t);
	}
	attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
	for (size_t r = 0; r < LM_ARRAY_LEN(rows); r++) {
		ui_put(2 + (int)r, 2, 20, rows[r].label);
		for (int i = first, x = x0; i < ms.n && x + cw <= COLS; i++, x += cw) {
			double v = pooled(&ms.m[i], rows[r].key);
			char t[32];
			if (isnan(v))
				snprintf(t, sizeof t, "  .");
			else if (!strcmp(rows[r].key, "n"))
				snprintf(t, sizeof t, " %8.0f", v);
			else
				snprintf(t, sizeof t, " %8.3f", v);
			ui_put(2 + (int)r, x, cw, t);
		}
	}
	const mrow *sel = &ms.m[a->model_sel];
	load_preds(a, sel->id);
	int y0 = 3 + (int)LM_ARRAY_LEN(rows);
	/* the latest external validation (lumen validate), in the line above the curves */
	int nv = cJSON_GetArraySize(sel->validations);
	if (nv > 0) {
		const cJSON *v = cJSON_GetArrayItem(sel->validations, nv - 1);
		const cJSON *in = cJSON_GetObjectItemCaseSensitive(v, "input");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "c_index");
		const cJSON *au = cJSON_GetObjectItemCaseSensitive(v, "auc");
		const cJSON *sl = cJSON_GetObjectItemCaseSensitive(v, "calibration_slope");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(v, "n");
		char vt[256];
		snprintf(vt, sizeof vt, "  validated on %s: %s %.3f, slope %.3f, %.0f patients%s",
			 cJSON_IsString(in) ? in->valuestring : "?", cJSON_IsNumber(c) ? "C-index" : "AUC",
			 cJSON_IsNumber(c) ? c->valuedouble : cJSON_IsNumber(au) ? au->valuedouble : (double)NAN,
			 cJSON_IsNumber(sl) ? sl->valuedouble : (double)NAN,
			 cJSON_IsNumber(n) ? n->valuedouble : 0.0, nv > 1 ? " (and earlier: lumen models)" : "");
		ui_put(y0 - 1, 0, COLS, vt);
	}
	int ph = LINES - 1 - y0 - 2;
	if (ph < 4)
		return;
	if (a->dep_on) { /* d: the dependence view instead of the curves */
		ui_dependence_draw(a, y0, LINES - 1 - y0, sel->name, sel->importance);
		return;
	}
	int pw = 20;
	char t[128];
	attron((attr_t)ui_attr_of(a, UI_A_HEADER));
	ui_fill(y0, 0, COLS, ' ');
	snprintf(t, sizeof t, "%s: ROC", sel->name);
	ui_put(y0, 2, pw + 2, t);
	ui_put(y0, 2 + pw + 3, pw + 2, "calibration");
	snprintf(t, sizeof t, "at threshold %.2f (+/-)", a->threshold);
	ui_put(y0, 2 + 2 * (pw + 3), COLS - 2 - 2 * (pw + 3), t);
	attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
	if (ms.np == 0) {
		ui_put(y0 + 1, 2, COLS - 4, "no stored predictions with a known outcome for this model");
		return;
	}
	/* both plots on [0,1]^2 with the diagonal as the reference a reader compares against */
	double diag[2] = {0, 1};
	const double *dx[2], *dy[2];
	int dn[2];
	dx[0] = diag, dy[0] = diag, dn[0] = 2;
	dx[1] = ms.fpr, dy[1] = ms.tpr, dn[1] = (int)ms.nroc;
	ui_vline(a, y0 + 1, 1, ph);
	ui_plot_multi(a, y0 + 1, 2, pw, ph, 2, dx, dy, dn, 0, 1, 0, 1);
	dx[1] = ms.cal_x, dy[1] = ms.cal_y, dn[1] = ms.ncal;
	ui_vline(a, y0 + 1, 2 + pw + 2, ph);
	ui_plot_multi(a, y0 + 1, 2 + pw + 3, pw, ph, 2, dx, dy, dn, 0, 1, 0, 1);
	ui_put(y0 + 1 + ph, 2, pw + 2, "FPR 0..1, TPR up");
	ui_put(y0 + 1 + ph, 2 + pw + 3, pw + 2, "predicted vs observed");

	/* the confusion matrix from the metrics module at the chosen threshold */
	metrics_confusion c;
	metrics_confusion_at(ms.p, ms.y, NULL, ms.np, a->threshold, &c);
	int rx = 2 + 2 * (pw + 3);
	int rw = COLS - rx;
	snprintf(t, sizeof t, "          pred yes  pred no");
	ui_put(y0 + 1, rx, rw, t);
	snprintf(t, sizeof t, "true yes  %8.0f %8.0f", c.tp, c.fn);
	ui_put(y0 + 2, rx, rw, t);
	snprintf(t, sizeof t, "true no   %8.0f %8.0f", c.fp, c.tn);
	ui_put(y0 + 3, rx, rw, t);
	snprintf(t, sizeof t, "sens %.3f  spec %.3f", metrics_recall(&c), metrics_specificity(&c));
	ui_put(y0 + 4, rx, rw, t);
	snprintf(t, sizeof t, "PPV %.3f  NPV %.3f", metrics_precision(&c), metrics_npv(&c));
	ui_put(y0 + 5, rx, rw, t);

	/* global importance as lumen explain stored it: mean |IG| per column */
	const cJSON *ig = cJSON_GetObjectItemCaseSensitive(sel->importance, "ig");
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(ig, "columns");
	if (!cJSON_IsArray(cols)) {
		ui_put(y0 + 7, rx, rw, "importance: run lumen explain");
		return;
	}
	ui_put(y0 + 7, rx, rw, "importance (mean |IG|)");
	double vmax = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, cols)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "mean_abs");
		if (cJSON_IsNumber(v) && v->valuedouble > vmax)
			vmax = v->valuedouble;
	}
	int y = y0 + 8;
	cJSON_ArrayForEach(e, cols)
	{
		if (y >= LINES - 1)
			break;
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "column");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "mean_abs");
		if (!cJSON_IsString(nm) || !cJSON_IsNumber(v))
			continue;
		/* the input in clinical words (labels.h), cut with an ellipsis when long */
		int k = ms.have_cols ? store_columns_find(&ms.cols, nm->valuestring) : -1;
		int nw = rw >= 44 ? 20 : 12;
		ui_put_fit(y, rx, nw - 1, k >= 0 ? lbl_name(&ms.cols.c[k]) : nm->valuestring);
		snprintf(t, sizeof t, "%.3f", v->valuedouble);
		ui_put(y, rx + nw, 6, t);
		ui_bar(a, y, rx + nw + 6, rw - nw - 7 > 0 ? rw - nw - 7 : 0,
		       vmax > 0 ? v->valuedouble / vmax : 0);
		y++;
	}
}

static void k_next(ui_app *a)
{
	if (a->model_sel < ms.n - 1)
		a->model_sel++;
}
static void k_prev(ui_app *a)
{
	if (a->model_sel > 0)
		a->model_sel--;
}
static void k_up(ui_app *a) { ui_threshold_step(a, 1); }
static void k_down(ui_app *a) { ui_threshold_step(a, -1); }
static void k_use(ui_app *a)
{
	/* show the selected model's predictions on the cohort screen */
	lm_err err = {0};
	for (int k = 0; k < a->co.nmodel; k++)
		if (a->co.model_ids[k] == ms.m[a->model_sel].id) {
			ui_view_set_model(&a->co, k, &err);
			ui_status(a, "cohort shows model %s", a->co.model_name);
			return;
		}
	ui_status(a, "model %s has no stored predictions", ms.m[a->model_sel].name);
}

/* ---- jobs: train and explain, the operations lumen train and lumen explain run ---- */

/* Draws a job's progress on the status line at once (the event loop waits for the job),
 * at most every 0.1 s. */
static void job_line(ui_app *a, int force, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void job_line(ui_app *a, int force, const char *fmt, ...)
{
	static double last;
	double now = lm_seconds();
	if (!force && now - last < 0.1)
		return;
	last = now;
	char t[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t, sizeof t, fmt, ap);
	va_end(ap);
	int y = LINES - 1;
	ui_fill(y, 0, COLS, ' ');
	attron((attr_t)ui_attr_of(a, UI_A_WARN));
	ui_put(y, 0, COLS, t);
	attroff((attr_t)ui_attr_of(a, UI_A_WARN));
	refresh();
}

typedef struct train_ctx {
	ui_app *a;
	char warning[256];
} train_ctx;

static void train_event(void *ctx, const ops_train_event *ev)
{
	train_ctx *t = ctx;
	if (ev->kind == OPS_TRAIN_WARNING)
		snprintf(t->warning, sizeof t->warning, "%s", ev->text);
	else if (ev->kind == OPS_TRAIN_EPOCH && ev->fold >= 0)
		job_line(t->a, 0, "training: fold %d/%d epoch %d loss %.4f", ev->fold + 1, ev->nfold,
			 ev->epoch, ev->loss);
	else if (ev->kind == OPS_TRAIN_EPOCH)
		job_line(t->a, 0, "training: final model epoch %d loss %.4f", ev->epoch, ev->loss);
	else if (ev->kind == OPS_TRAIN_NET_DONE)
		job_line(t->a, 1, "training: %s done", ev->fold >= 0 ? "a fold" : "the final model");
}

/* After a job changed the file: every screen reloads what it cached, and the cohort lists
 * the models again, showing model `show`. */
static void reload_after_job(ui_app *a, const char *show)
{
	ui_models_release();
	ui_patient_release();
	ui_survival_release();
	ui_audit_release();
	lm_err err = {0};
	ui_view_close(&a->co);
	if (ui_view_open(&a->co, a->db, show, a->o->columns, &err)) {
		ui_view_close(&a->co);
		ui_view_open(&a->co, a->db, NULL, a->o->columns, &err);
	}
	a->cur = a->top = 0;
}

static void train_done(ui_app *a, const char *text)
{
	int n = 0;
	char **w = lm_split_ws(text, &n);
	int cox = n > 0 && !strcmp(w[0], "cox");
	if (cox ? n < 3 || n > 4 : n < 2 || n > 3) {
		ui_status(a, "train: ARCH TARGET[=VALUE] [NAME] or cox TIME EVENT[=VALUE] [NAME],"
			     " e.g. logreg status=2");
		lm_split_free(w, n);
		return;
	}
	ops_train_opts o;
	memset(&o, 0, sizeof o);
	o.file = a->path;
	o.arch = w[0];
	/* gru+att, cnn-gru+att (as lumen models names them): attention over the visits */
	size_t al = strlen(w[0]);
	if (al > 4 && !strcmp(w[0] + al - 4, "+att")) {
		w[0][al - 4] = '\0';
		o.attention = 16;
	}
	if (cox) { /* time-to-event: the same job as lumen train --model cox */
		o.time = w[1];
		o.event = w[2];
		o.name = n == 4 ? w[3] : NULL;
	} else {
		char *eq = strchr(w[1], '=');
		if (eq)
			*eq++ = '\0';
		o.target = w[1];
		o.positive = eq;
		o.name = n == 3 ? w[2] : NULL;
	}
	o.folds = 5;
	o.seed = 1;
	o.lr = o.dropout = o.l2 = -1;
	train_ctx tc = {a, ""};
	o.progress = train_event;
	o.ctx = &tc;
	job_line(a, 1, "training %s on %s%s%s ...", w[0], w[1], cox ? " " : "", cox ? w[2] : "");
	ops_train r;
	lm_err err = {0};
	if (ops_train_run(a->db, &o, &r, &err)) {
		ui_status(a, "train: %s", err.msg);
	} else {
		reload_after_job(a, r.name);
		if (r.survival)
			ui_status(a, "model %s trained: out-of-fold C-index %.3f%s%s", r.name, r.c_index,
				  tc.warning[0] ? "; warning: " : "", tc.warning);
		else
			ui_status(a, "model %s trained: out-of-fold AUC %.3f, %ld patients%s%s", r.name,
				  r.auc, r.n_used, tc.warning[0] ? "; warning: " : "", tc.warning);
		for (int i = 0; i < ms.n; i++)
			if (ms.m[i].id == r.id)
				a->model_sel = i;
	}
	ops_train_free(&r);
	lm_split_free(w, n);
}

static void k_train(ui_app *a)
{
	if (a->readonly) {
		ui_status(a, "train: the file is open read-only");
		return;
	}
	ui_start_prompt(a, "train ARCH TARGET[=V]: ", "", train_done); /* or cox TIME EVENT[=V] */
}

static void explain_progress(void *ctx, long done, long total)
{
	ui_app *a = ctx;
	job_line(a, done == total, "explaining: %ld/%ld patients", done, total);
}

static void k_explain(ui_app *a)
{
	load_models(a);
	if (ms.n == 0)
		return;
	if (a->readonly) {
		ui_status(a, "explain: the file is open read-only");
		return;
	}
	lm_err err = {0};
	model *m = model_load(a->db, ms.m[a->model_sel].name, &err);
	if (m && m->nclass > 2) {
		ui_status(a, "explain: model %s is multi-class: lumen explain --class names the class",
			  m->name);
		model_free(m);
		return;
	}
	ig_inputs co;
	memset(&co, 0, sizeof co);
	int st = m ? ig_inputs_load(a->db, m, &co, &err) : err.status;
	ops_explain r;
	memset(&r, 0, sizeof r);
	if (!st) {
		ops_explain_opts o;
		ops_explain_defaults(m, &o);
		o.progress = explain_progress;
		o.ctx = a;
		job_line(a, 1, "explaining every patient with %s ...", m->name);
		st = ops_explain_run(a->db, m, &co, &o, &r, &err);
	}
	if (st) {
		ui_status(a, "explain: %s", err.msg);
	} else {
		char name[128], shown[128];
		snprintf(name, sizeof name, "%s", m->name);
		snprintf(shown, sizeof shown, "%s", a->co.model_name ? a->co.model_name : name);
		int sel = a->model_sel;
		reload_after_job(a, shown); /* the cohort keeps the model it showed */
		a->model_sel = sel;
		if (r.do_ig)
			ui_status(a, "explained %ld patients with %s (%ld by their fold model): completeness"
				     " error median %.2g, p99 %.2g",
				  r.n, name, r.n_fold, r.med, r.p99);
		else
			ui_status(a, "explained %ld patients with %s (attention)", r.n, name);
	}
	ops_explain_free(&r);
	if (m)
		ig_inputs_free(&co);
	model_free(m);
}

static void k_dep(ui_app *a) { a->dep_on = !a->dep_on; }
static void k_dep_next(ui_app *a) { a->dep_col++; }
static void k_dep_prev(ui_app *a) { a->dep_col--; }

static const ui_key models_keys[] = {
	{{'d'}, "d", "dependence: an input's attributions against its values (d again: back)", k_dep},
	{{']'}, "]", "dependence: the next input by importance", k_dep_next},
	{{'['}, "[", "dependence: the previous input by importance", k_dep_prev},
	{{'l', KEY_RIGHT, 'j', KEY_DOWN}, "l/Right", "next model", k_next},
	{{'h', KEY_LEFT, 'k', KEY_UP}, "h/Left", "previous model", k_prev},
	{{'+', '='}, "+", "raise the threshold by 0.05", k_up},
	{{'-', '_'}, "-", "lower the threshold by 0.05", k_down},
	{{'\n', '\r', KEY_ENTER}, "Enter", "show this model on the cohort screen", k_use},
	{{'t'}, "t", "train a model (ARCH TARGET[=V] or cox TIME EVENT[=V], as lumen train; ARCH "
		     "gru+att: with attention over the visits)",
	 k_train},
	{{'x'}, "x", "explain every patient with this model (as lumen explain)", k_explain},
	{{0}, NULL, NULL, NULL},
};

const ui_screen ui_models_screen = {"Models", models_draw, models_keys, NULL};
