/* ops_predictions.c: the one lookup of a model by name and the one reader of the
 * `predictions` table, for every front end. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

long ops_model_id(sqlite3 *db, const char *name, lm_err *err)
{
	long id = model_id(db, name); /* the one lookup (src/nn/model.c, which saving uses too) */
	if (id < 0)
		lm_seterr(err, EX_DATAERR, "no model '%s'; lumen models FILE lists them", name);
	return id;
}

static char *dup_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrdup((const char *)t) : NULL;
}

int ops_predictions_load_id(sqlite3 *db, long model_id, ops_predictions *out, lm_err *err)
{
	lm_err local = {0};
	if (!err)
		err = &local;
	memset(out, 0, sizeof *out);
	out->model_id = model_id;
	sqlite3_stmt *st = store_prepare(
		db, "SELECT name, task, arch, target, positive FROM models WHERE id = ?", err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, model_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return lm_seterr(err, EX_DATAERR, "no model with id %ld", model_id);
	}
	out->model = dup_text(st, 0);
	out->task = dup_text(st, 1);
	out->arch = dup_text(st, 2);
	out->target = dup_text(st, 3);
	out->positive = dup_text(st, 4);
	sqlite3_finalize(st);
	/* every patient, in rowid order, with its prediction when there is one: one pass */
	st = store_prepare(db,
			   "SELECT pt.rowid, pr.fold, pr.y, pr.p, pr.p_sd, pr.logit FROM patients pt"
			   " LEFT JOIN predictions pr ON pr.patient = pt.rowid AND pr.model_id = ?"
			   " ORDER BY pt.rowid",
			   err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, model_id);
	long cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->n == cap) {
			cap = cap ? 2 * cap : 1024;
			out->rowid = xreallocarray(out->rowid, (size_t)cap, sizeof *out->rowid);
			out->fold = xreallocarray(out->fold, (size_t)cap, sizeof *out->fold);
			out->y = xreallocarray(out->y, (size_t)cap, sizeof *out->y);
			out->p = xreallocarray(out->p, (size_t)cap, sizeof *out->p);
			out->p_sd = xreallocarray(out->p_sd, (size_t)cap, sizeof *out->p_sd);
			out->logit = xreallocarray(out->logit, (size_t)cap, sizeof *out->logit);
		}
		long i = out->n++;
		out->rowid[i] = (long)sqlite3_column_int64(st, 0);
		out->fold[i] = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 1);
		double *dst[4] = {out->y, out->p, out->p_sd, out->logit};
		for (int k = 0; k < 4; k++)
			dst[k][i] = sqlite3_column_type(st, 2 + k) == SQLITE_NULL
					    ? (double)NAN
					    : sqlite3_column_double(st, 2 + k);
		if (!isnan(out->y[i]))
			out->y[i] = out->y[i] != 0;
		if (!isnan(out->p[i]))
			out->nstored++;
		else
			out->fold[i] = -1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return lm_seterr(err, store_status(rc), "reading predictions: %s", sqlite3_errmsg(db));
	return 0;
}

int ops_predictions_load(sqlite3 *db, const char *name, ops_predictions *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	long id = ops_model_id(db, name, err);
	if (id < 0)
		return err->status ? err->status : EX_DATAERR;
	return ops_predictions_load_id(db, id, out, err);
}

long ops_predictions_find(const ops_predictions *r, long rowid)
{
	long lo = 0, hi = r->n - 1;
	while (lo <= hi) {
		long mid = lo + (hi - lo) / 2;
		if (r->rowid[mid] == rowid)
			return mid;
		if (r->rowid[mid] < rowid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

void ops_predictions_free(ops_predictions *r)
{
	if (!r)
		return;
	free(r->model);
	free(r->task);
	free(r->arch);
	free(r->target);
	free(r->positive);
	free(r->rowid);
	free(r->fold);
	free(r->y);
	free(r->p);
	free(r->p_sd);
	free(r->logit);
	memset(r, 0, sizeof *r);
}

static void add_num(cJSON *o, const char *k, double v)
{
	if (isnan(v))
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, v);
}

cJSON *ops_predictions_json(const ops_predictions *r)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "model", r->model ? r->model : "");
	cJSON_AddStringToObject(j, "task", r->task ? r->task : "");
	cJSON_AddNumberToObject(j, "n", (double)r->n);
	cJSON_AddNumberToObject(j, "stored", (double)r->nstored);
	cJSON *a = cJSON_AddArrayToObject(j, "predictions");
	for (long i = 0; i < r->n; i++) {
		if (isnan(r->p[i]))
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "rowid", (double)r->rowid[i]);
		cJSON_AddNumberToObject(o, "fold", r->fold[i]);
		add_num(o, "y", r->y[i]);
		add_num(o, "p", r->p[i]);
		add_num(o, "p_sd", r->p_sd[i]);
		cJSON_AddItemToArray(a, o);
	}
	return j;
}

int ops_prediction_one(sqlite3 *db, long model_id, long rowid, int *fold, double *y, double *p,
		       double *p_sd, double *logit, lm_err *err)
{
	lm_err local = {0};
	if (!err)
		err = &local;
	*fold = -1;
	*y = *p = *p_sd = (double)NAN;
	if (logit)
		*logit = (double)NAN;
	sqlite3_stmt *st = store_prepare(
		db, "SELECT fold, y, p, p_sd, logit FROM predictions WHERE model_id = ? AND patient = ?",
		err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, model_id);
	sqlite3_bind_int64(st, 2, rowid);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 2) != SQLITE_NULL) {
		*fold = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 0);
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			*y = sqlite3_column_double(st, 1) != 0;
		*p = sqlite3_column_double(st, 2);
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			*p_sd = sqlite3_column_double(st, 3);
		if (logit && sqlite3_column_type(st, 4) != SQLITE_NULL)
			*logit = sqlite3_column_double(st, 4);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
	return 0;
}
