/* ops_validate.c: external validation of a stored model on another cohort with the same
 * columns (lumen validate): the final network's risks for the other cohort's patients against
 * their outcomes — discrimination, calibration, Brier, per-group figures — stored in the
 * `validations` table (created on first use) with the input's SHA-256. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../nn/coxmodel.h"
#include "../stats/cox.h"
#include "../stats/metrics.h"
#include "../stats/surveval.h"
#include "ops.h"

#define MAX_GROUPS 50

void ops_validate_opts_defaults(ops_validate_opts *o)
{
	memset(o, 0, sizeof *o);
	o->horizon = (double)NAN;
	o->bins = 10;
	o->store = 1;
}

/* The outcome of every row of the other cohort: binary y ((double)NAN missing), or time and event
 * (time (double)NAN when either is missing). */
static int outcomes(const model *m, const ops_input *in, ops_validation *v, lm_err *err)
{
	const frame *f = &in->f;
	long n = f->nrow;
	char buf[256];
	if (v->survival) {
		char *tc = NULL, *ec = NULL, *ev = NULL;
		int st = coxm_columns(m, &tc, &ec, &ev, err);
		int jt = st ? -1 : frame_find(f, tc), je = st ? -1 : frame_find(f, ec);
		if (!st && (jt < 0 || je < 0))
			st = lm_seterr(err, EX_DATAERR, "%s:1: no column '%s' (the %s of model '%s', "
				       "to validate against)", in->csv, jt < 0 ? tc : ec,
				       jt < 0 ? "follow-up time" : "event", m->name);
		for (long i = 0; !st && i < n; i++) {
			double t = f->col[jt].v[i];
			const char *e = frame_cell_text(f, je, i, buf, sizeof buf);
			v->time[i] = (double)NAN;
			if (f->cols.c[jt].type == COL_TYPE_TEXT || isnan(t) || !*e)
				continue;
			if (t < 0) {
				st = lm_seterr(err, EX_DATAERR, "%s:%ld:%d: column '%s': a negative time %g",
					       in->csv, i + 2, f->cols.c[jt].position, tc, t);
				break;
			}
			v->time[i] = t;
			double d;
			v->event[i] = ev ? !strcmp(e, ev) : (parse_double(e, &d) == 0 && d != 0);
		}
		free(tc);
		free(ec);
		free(ev);
		return st;
	}
	/* a classifier of "the event by a horizon" (lumen train --time --event --horizon): its
	 * outcome from the time and event columns by ops_horizon_target's rule — 1 for an
	 * event at or before the horizon, 0 for a patient followed to the horizon, unknown for
	 * one censored before it */
	cJSON *h = cJSON_Parse(m->hyper_json ? m->hyper_json : "");
	const cJSON *hz = cJSON_GetObjectItemCaseSensitive(h, "horizon");
	const cJSON *ht = cJSON_GetObjectItemCaseSensitive(h, "time");
	const cJSON *he = cJSON_GetObjectItemCaseSensitive(h, "event");
	if (cJSON_IsNumber(hz) && cJSON_IsString(ht) && cJSON_IsString(he)) {
		double horizon = hz->valuedouble;
		char *ec = xstrdup(he->valuestring), *ev = strchr(ec, '=');
		if (ev)
			*ev++ = '\0';
		int jt = frame_find(f, ht->valuestring), je = frame_find(f, ec);
		int st = 0;
		if (jt < 0 || je < 0)
			st = lm_seterr(err, EX_DATAERR, "%s:1: no column '%s' (the %s of model '%s', to "
				       "validate against)", in->csv, jt < 0 ? ht->valuestring : ec,
				       jt < 0 ? "follow-up time" : "event", m->name);
		for (long i = 0; !st && i < n; i++) {
			double t = f->col[jt].v[i], d;
			const char *e = frame_cell_text(f, je, i, buf, sizeof buf);
			int event = ev ? !strcmp(e, ev) : (parse_double(e, &d) == 0 && d != 0);
			if (f->cols.c[jt].type == COL_TYPE_TEXT || isnan(t) || !*e)
				v->y[i] = (double)NAN;
			else
				v->y[i] = event && t <= horizon ? 1.0 : t >= horizon ? 0.0 : (double)NAN;
		}
		free(ec);
		cJSON_Delete(h);
		return st;
	}
	cJSON_Delete(h);
	if (frame_find(f, m->target) < 0)
		return lm_seterr(err, EX_DATAERR, "%s:1: no column '%s' (the outcome of model '%s', to "
				 "validate against)", in->csv, m->target, m->name);
	enc_target t;
	int st = enc_target_make(f, m->target, m->positive, &t, err);
	if (st)
		return st;
	if (t.nclass != 2) {
		enc_target_free(&t);
		return lm_seterr(err, EX_DATAERR, "model '%s' is not binary: validate takes binary and "
				 "survival models", m->name);
	}
	/* the other file's class labels must be the model's (its positive class by name) */
	int flip = strcmp(t.classes[1], m->classes[1]) != 0;
	if (flip && strcmp(t.classes[0], m->classes[1]))
		st = lm_seterr(err, EX_DATAERR, "%s: column '%s' has no class '%s' (the model's "
			       "positive class)", in->csv, m->target, m->classes[1]);
	for (long i = 0; !st && i < n; i++)
		v->y[i] = isnan(t.y[i]) ? (double)NAN : flip ? 1.0 - (double)t.y[i] : (double)t.y[i];
	enc_target_free(&t);
	return st;
}

/* Per group of the --by column: label of every used patient's group. */
static int make_groups(const ops_input *in, const char *by, const long *use, long n, int *g,
		       ops_validation *v, lm_err *err)
{
	int j = frame_find(&in->f, by);
	if (j < 0)
		return lm_seterr(err, EX_USAGE, "--by: %s has no column '%s'", in->csv, by);
	char buf[256];
	v->by = xstrdup(by);
	v->group = xcalloc(MAX_GROUPS, sizeof *v->group);
	for (long q = 0; q < n; q++) {
		const char *s = frame_cell_text(&in->f, j, use[q], buf, sizeof buf);
		g[q] = -1;
		if (!*s)
			continue;
		int k = 0;
		while (k < v->G && strcmp(v->group[k].label, s))
			k++;
		if (k == v->G) {
			if (v->G == MAX_GROUPS)
				return lm_seterr(err, EX_USAGE, "--by %s: more than %d groups (a column "
						 "of categories is wanted)", by, MAX_GROUPS);
			v->group[v->G++].label = xstrdup(s);
		}
		g[q] = k;
	}
	return 0;
}

/* The figures of a subset (idx of n used patients) into the fields of one group (or the
 * whole). */
static void figures(const ops_validation *v, const long *idx, long n, ops_vgroup *out)
{
	out->n = n;
	double *a = xmallocarray((size_t)(n ? n : 1), sizeof *a);
	double *b = xmallocarray((size_t)(n ? n : 1), sizeof *b);
	int *e = xmallocarray((size_t)(n ? n : 1), sizeof *e);
	double mp = 0;
	for (long q = 0; q < n; q++)
		mp += v->p[idx[q]] / (double)n;
	out->mean_pred = n ? mp : (double)NAN;
	if (v->survival) {
		double *s = xmallocarray((size_t)(n ? n : 1), sizeof *s);
		for (long q = 0; q < n; q++) {
			a[q] = v->time[idx[q]];
			e[q] = v->event[idx[q]];
			b[q] = v->lp[idx[q]];
			s[q] = 1.0 - v->p[idx[q]];
			out->events += e[q];
		}
		surveval_conc c;
		surveval_concordance(a, e, b, n, 0, (double)INFINITY, &c);
		out->disc = c.c;
		out->brier = surveval_brier_t(a, e, s, n, v->horizon);
		surveval_calib cal;
		surveval_calibration(a, e, s, n, v->horizon, 1, &cal);
		out->observed = cal.groups == 1 ? cal.observed[0] : (double)NAN;
		surveval_calib_free(&cal);
		out->citl = (double)NAN;
		free(s);
	} else {
		for (long q = 0; q < n; q++) {
			a[q] = v->p[idx[q]];
			b[q] = v->y[idx[q]];
			out->events += b[q] != 0;
		}
		out->disc = metrics_auc(a, b, NULL, n);
		out->brier = metrics_brier(a, b, NULL, n);
		out->observed = n ? (double)out->events / (double)n : (double)NAN;
		metrics_calibration(a, b, NULL, n, NULL, NULL, &out->citl);
	}
	free(a);
	free(b);
	free(e);
}

static int store_validation(sqlite3 *db, const model *m, ops_validation *v, lm_err *err)
{
	int st = store_exec(db, "BEGIN IMMEDIATE", err);
	if (st)
		return st;
	st = store_exec(db,
			"CREATE TABLE IF NOT EXISTS validations(id INTEGER PRIMARY KEY,"
			" model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
			" created_at TEXT, input TEXT, sha256 TEXT, n INTEGER, events INTEGER,"
			" result TEXT)", err);
	sqlite3_stmt *s = st ? NULL : store_prepare(db,
		"INSERT INTO validations(model_id, created_at, input, sha256, n, events, result)"
		" VALUES (?,?,?,?,?,?,?)", err);
	if (!st && !s)
		st = err->status;
	if (!st) {
		char now[32];
		lm_now_iso(now);
		char *res = json_take(ops_validation_json(v));
		sqlite3_bind_int64(s, 1, m->id);
		sqlite3_bind_text(s, 2, now, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 3, v->input, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 4, v->sha256, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 5, v->all.n);
		sqlite3_bind_int64(s, 6, v->all.events);
		sqlite3_bind_text(s, 7, res, -1, SQLITE_TRANSIENT);
		free(res);
		int rc = sqlite3_step(s);
		if (rc != SQLITE_DONE)
			st = lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
		else
			v->id = (long)sqlite3_last_insert_rowid(db);
		sqlite3_finalize(s);
	}
	if (!st) {
		char *detail = xasprintf("validate model=%s input=%s patients=%ld", m->name, v->input,
					 v->all.n);
		st = store_log_access(db, "validate", 0, detail, err);
		free(detail);
	}
	if (!st)
		st = store_exec(db, "COMMIT", err);
	if (st) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		v->id = 0;
	}
	return st;
}

int ops_validate_run(sqlite3 *db, const ops_validate_opts *o, ops_validation *v, lm_err *err)
{
	memset(v, 0, sizeof *v);
	model *m = model_load(db, o->model, err);
	if (!m)
		return err->status;
	v->model = xstrdup(m->name);
	v->arch = xstrdup(m->arch ? m->arch : "");
	v->input = xstrdup(o->input);
	v->survival = coxm_is_cox(m);
	int st = 0;
	if (!v->survival && m->nclass != 2)
		st = lm_seterr(err, EX_DATAERR, "model '%s' is not binary: validate takes binary and "
			       "survival models", m->name);
	if (!st && v->survival && !m->surv_n)
		st = lm_seterr(err, EX_DATAERR, "model '%s' has no baseline hazard", m->name);
	ops_input in;
	memset(&in, 0, sizeof in);
	if (!st)
		st = sha256_file(o->input, v->sha256, err);
	if (!st)
		st = ops_input_load(db, m, o->input, NULL, o->id, o->row_ids, &in, err);
	long n = in.n;
	size_t n1 = (size_t)(n ? n : 1);
	if (!st) {
		v->nrow = n;
		v->p = xmallocarray(n1, sizeof *v->p);
		v->lp = xmallocarray(n1, sizeof *v->lp);
		v->y = xmallocarray(n1, sizeof *v->y);
		v->time = xmallocarray(n1, sizeof *v->time);
		v->event = xcalloc(n1, sizeof *v->event);
		v->horizon = v->survival ? (isnan(o->horizon) ? m->surv_horizon : o->horizon)
					 : (double)NAN;
		st = outcomes(m, &in, v, err);
	}
	if (!st) {
		/* the final network: these patients were never in its training cohort */
		int ns = m->spec.nslot;
		float *pp = xmallocarray(n1, sizeof *pp), *ll = xmallocarray(n1, sizeof *ll);
		for (long i = 0; i < n; i += 1024) {
			int k = (int)(n - i < 1024 ? n - i : 1024);
			model_predict(m, in.X + (size_t)i * (size_t)ns, k, 1, pp + i, ll + i);
		}
		for (long i = 0; i < n; i++) {
			v->lp[i] = (double)ll[i];
			/* survival: the risk by the horizon from the final baseline hazard */
			v->p[i] = v->survival ? 1.0 - cox_surv_at(m->surv_time, m->surv_cumhaz,
								  m->surv_n, v->horizon, v->lp[i])
					      : (double)pp[i];
		}
		free(pp);
		free(ll);
	}
	/* the patients with an outcome */
	long *use = xmallocarray(n1, sizeof *use), nu = 0;
	for (long i = 0; !st && i < n; i++)
		if (v->survival ? !isnan(v->time[i]) : !isnan(v->y[i]))
			use[nu++] = i;
	v->left_out = n - nu;
	if (!st && nu < 2)
		st = lm_seterr(err, EX_DATAERR, "%s: %ld patients with an outcome (2 at least needed)",
			       o->input, nu);
	if (!st) {
		figures(v, use, nu, &v->all);
		double *a = xmallocarray((size_t)nu, sizeof *a), *b = xmallocarray((size_t)nu, sizeof *b);
		int *e = xmallocarray((size_t)nu, sizeof *e);
		for (long q = 0; q < nu; q++) {
			a[q] = v->survival ? v->time[use[q]] : v->p[use[q]];
			b[q] = v->survival ? v->lp[use[q]] : v->y[use[q]];
			e[q] = v->event[use[q]];
		}
		if (v->survival) {
			surveval_conc c;
			surveval_concordance(a, e, b, nu, 1, (double)INFINITY, &c);
			v->uno_c = c.c;
			v->auc_t = surveval_auc_t(a, e, b, nu, v->horizon);
			/* calibration slope: the Cox regression of the outcome on the linear predictor
			 * in the new cohort (1: the predicted spread of risk is right) */
			cox_opts co;
			cox_opts_defaults(&co);
			cox_fit fit;
			if (cox_fit_run(b, a, e, nu, 1, &co, &fit, err) == 0) {
				v->slope = fit.beta[0];
				v->slope_se = fit.se[0];
				cox_fit_free(&fit);
			} else {
				v->slope = v->slope_se = (double)NAN;
				err->status = 0;
			}
			v->intercept = v->citl = (double)NAN;
			double *s = xmallocarray((size_t)nu, sizeof *s);
			for (long q = 0; q < nu; q++)
				s[q] = 1.0 - v->p[use[q]];
			surveval_calib cal;
			surveval_calibration(a, e, s, nu, v->horizon, o->bins, &cal);
			v->ncal = cal.groups;
			v->cal_pred = cal.predicted, v->cal_obs = cal.observed, v->cal_n = cal.n;
			free(s);
		} else {
			v->auc_t = (double)NAN;
			v->uno_c = (double)NAN;
			v->ap = metrics_average_precision(a, b, NULL, nu);
			metrics_calibration(a, b, NULL, nu, &v->slope, &v->intercept, &v->citl);
			v->slope_se = (double)NAN;
			v->ncal = metrics_calibration_curve(a, b, NULL, nu, o->bins, &v->cal_pred,
							    &v->cal_obs, &v->cal_n);
		}
		free(a);
		free(b);
		free(e);
	}
	/* per group: the --by column, or the cohort's group columns the other file has */
	if (!st) {
		const char *by = o->by;
		store_columns wc;
		char *found = NULL;
		if (!by && !store_columns_load(db, "patients", &wc, err)) {
			for (int j = 0; j < wc.n && !found; j++)
				if (wc.c[j].role == COL_ROLE_GROUP && frame_find(&in.f, wc.c[j].name) >= 0)
					found = xstrdup(wc.c[j].name);
			store_columns_free(&wc);
			by = found;
		}
		err->status = 0;
		if (by) {
			int *g = xmallocarray((size_t)nu, sizeof *g);
			st = make_groups(&in, by, use, nu, g, v, err);
			long *idx = xmallocarray((size_t)nu, sizeof *idx);
			for (int k = 0; !st && k < v->G; k++) {
				long ng = 0;
				for (long q = 0; q < nu; q++)
					if (g[q] == k)
						idx[ng++] = use[q];
				figures(v, idx, ng, &v->group[k]);
			}
			free(idx);
			free(g);
		}
		free(found);
	}
	free(use);
	ops_input_free(&in);
	if (!st && o->store)
		st = store_validation(db, m, v, err);
	model_free(m);
	return st;
}

void ops_validation_free(ops_validation *v)
{
	if (!v)
		return;
	free(v->model);
	free(v->arch);
	free(v->input);
	free(v->by);
	for (int k = 0; v->group && k < v->G; k++)
		free(v->group[k].label);
	free(v->group);
	free(v->p);
	free(v->lp);
	free(v->y);
	free(v->time);
	free(v->event);
	free(v->cal_pred);
	free(v->cal_obs);
	free(v->cal_n);
	memset(v, 0, sizeof *v);
}

static void group_json(cJSON *o, const ops_validation *v, const ops_vgroup *g)
{
	cJSON_AddNumberToObject(o, "n", (double)g->n);
	cJSON_AddNumberToObject(o, "events", (double)g->events);
	metrics_json_number(o, v->survival ? "c_index" : "auc", g->disc);
	metrics_json_number(o, "brier", g->brier);
	metrics_json_number(o, "mean_predicted", g->mean_pred);
	metrics_json_number(o, "observed", g->observed);
	if (!v->survival)
		metrics_json_number(o, "calibration_in_the_large", g->citl);
}

cJSON *ops_validation_json(const ops_validation *v)
{
	cJSON *j = cJSON_CreateObject();
	if (v->id)
		cJSON_AddNumberToObject(j, "id", (double)v->id);
	cJSON_AddStringToObject(j, "model", v->model ? v->model : "");
	cJSON_AddStringToObject(j, "arch", v->arch ? v->arch : "");
	cJSON_AddStringToObject(j, "input", v->input ? v->input : "");
	cJSON_AddStringToObject(j, "sha256", v->sha256);
	cJSON_AddStringToObject(j, "kind", v->survival ? "survival" : "binary");
	cJSON_AddNumberToObject(j, "patients", (double)v->nrow);
	cJSON_AddNumberToObject(j, "left_out", (double)v->left_out);
	group_json(j, v, &v->all);
	if (v->survival) {
		metrics_json_number(j, "horizon", v->horizon);
		metrics_json_number(j, "uno_c", v->uno_c);
		metrics_json_number(j, "auc_at_horizon", v->auc_t);
		metrics_json_number(j, "calibration_slope", v->slope);
		metrics_json_number(j, "calibration_slope_se", v->slope_se);
	} else {
		metrics_json_number(j, "average_precision", v->ap);
		metrics_json_number(j, "calibration_slope", v->slope);
		metrics_json_number(j, "calibration_intercept", v->intercept);
	}
	cJSON *cc = cJSON_AddArrayToObject(j, "calibration_curve");
	for (int k = 0; k < v->ncal; k++) {
		cJSON *b = cJSON_CreateObject();
		cJSON_AddNumberToObject(b, "n", (double)v->cal_n[k]);
		metrics_json_number(b, "predicted", v->cal_pred[k]);
		metrics_json_number(b, "observed", v->cal_obs[k]);
		cJSON_AddItemToArray(cc, b);
	}
	if (v->by) {
		cJSON_AddStringToObject(j, "by", v->by);
		cJSON *gs = cJSON_AddArrayToObject(j, "groups");
		for (int k = 0; k < v->G; k++) {
			cJSON *g = cJSON_CreateObject();
			cJSON_AddStringToObject(g, "group", v->group[k].label);
			group_json(g, v, &v->group[k]);
			cJSON_AddItemToArray(gs, g);
		}
	}
	return j;
}

cJSON *ops_validations_json(sqlite3 *db, long model_id)
{
	cJSON *a = cJSON_CreateArray();
	if (!store_has_table(db, "validations"))
		return a;
	sqlite3_stmt *s = store_prepare(db, "SELECT id, created_at, result FROM validations"
					    " WHERE model_id = ? ORDER BY id", NULL);
	if (!s)
		return a;
	sqlite3_bind_int64(s, 1, model_id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *res = (const char *)sqlite3_column_text(s, 2);
		cJSON *r = cJSON_Parse(res ? res : "");
		if (!cJSON_IsObject(r)) {
			cJSON_Delete(r);
			continue;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(r, "id");
		cJSON_AddNumberToObject(r, "id", (double)sqlite3_column_int64(s, 0));
		const char *at = (const char *)sqlite3_column_text(s, 1);
		cJSON_AddStringToObject(r, "created_at", at ? at : "");
		cJSON_AddItemToArray(a, r);
	}
	sqlite3_finalize(s);
	return a;
}

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

void ops_validations_print(FILE *out, const cJSON *vals)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, vals)
	{
		int surv = !strcmp(jstr(v, "kind"), "survival");
		fprintf(out, "  validation %.0f on %s (%s): %.0f patients, %.0f events, ", jnum(v, "id"),
			jstr(v, "input"), jstr(v, "created_at"), jnum(v, "n"), jnum(v, "events"));
		if (surv)
			fprintf(out, "C-index %.3f, calibration slope %.3f, Brier %.4f at t = %g\n",
				jnum(v, "c_index"), jnum(v, "calibration_slope"), jnum(v, "brier"),
				jnum(v, "horizon"));
		else
			fprintf(out, "AUC %.3f, calibration slope %.3f, intercept %+.3f, Brier %.4f\n",
				jnum(v, "auc"), jnum(v, "calibration_slope"),
				jnum(v, "calibration_intercept"), jnum(v, "brier"));
	}
}
