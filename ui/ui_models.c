/* ui_models.c: the Models screen: every model's stored cross-validated metrics side by side
 * (as `lumen train` wrote them), and for the selected model its ROC and calibration curves,
 * the confusion matrix at a threshold moved with +/-, and its stored global importance.
 * Curves and the confusion matrix come from the metrics module over the stored out-of-fold
 * predictions; nothing is computed here. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <cjson/cJSON.h>
#include <math.h>
#include <ncurses.h>
#include <stdlib.h>
#include <string.h>

#include "../src/stats/metrics.h"
#include "../src/ops/ops.h"
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
	memset(&ms, 0, sizeof ms);
}

static void load_models(ui_app *a)
{
	if (ms.loaded)
		return;
	ms.loaded = 1;
	sqlite3_stmt *st = store_prepare(a->db, "SELECT id, name, arch, metrics, importance FROM models ORDER BY id", NULL);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		ms.m = xreallocarray(ms.m, (size_t)ms.n + 1, sizeof *ms.m);
		mrow *r = &ms.m[ms.n++];
		r->id = (long)sqlite3_column_int64(st, 0);
		r->name = xstrdup((const char *)sqlite3_column_text(st, 1));
		r->arch = xstrdup(sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "");
		r->metrics = sqlite3_column_text(st, 3) ? cJSON_Parse((const char *)sqlite3_column_text(st, 3)) : NULL;
		r->importance = sqlite3_column_text(st, 4) ? cJSON_Parse((const char *)sqlite3_column_text(st, 4)) : NULL;
		r->validations = NULL;
	}
	for (int i = 0; i < ms.n; i++)
		ms.m[i].validations = ops_validations_json(a->db, ms.m[i].id);
	sqlite3_finalize(st);
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
		ui_put(y, rx, 10, nm->valuestring);
		snprintf(t, sizeof t, "%.3f", v->valuedouble);
		ui_put(y, rx + 10, 6, t);
		ui_bar(a, y, rx + 16, rw - 17 > 0 ? rw - 17 : 0, vmax > 0 ? v->valuedouble / vmax : 0);
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
	{{0}, NULL, NULL, NULL},
};

const ui_screen ui_models_screen = {"Models", models_draw, models_keys, NULL};
