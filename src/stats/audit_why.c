/* audit_why.c: global IG importance per group and the warnings about group columns and their
 * proxies among the model's top inputs (contract in audit_why.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../stats/metrics.h"
#include "audit.h"
#include "audit_why.h"

const char audit_why_missing[] =
	"No integrated-gradient attributions stored for this model (lumen explain adds them).";

void audit_why_free(audit_why *w)
{
	for (int i = 0; i < w->ncol; i++)
		free(w->name[i]);
	free(w->name);
	free(w->all);
	free(w->per);
	memset(w, 0, sizeof *w);
}

/* Whether name is one of the comma-separated columns of the grouping spec. */
static int is_group_col(const char *name, const char *by)
{
	size_t len = strlen(name);
	if (len == 0)
		return 0;
	for (const char *s = by; (s = strstr(s, name)) != NULL; s += len)
		if ((s == by || s[-1] == ',') && (s[len] == 0 || s[len] == ','))
			return 1;
	return 0;
}

/* Row index of every rowid of the caller's patients: map[id] = r, -1 elsewhere. */
static long *row_map(const long *rowid, long nrow, long *maxid)
{
	long m = 0;
	for (long r = 0; r < nrow; r++)
		if (rowid[r] > m)
			m = rowid[r];
	long *map = xmallocarray((size_t)m + 1, sizeof *map);
	for (long i = 0; i <= m; i++)
		map[i] = -1;
	for (long r = 0; r < nrow; r++)
		if (rowid[r] >= 0)
			map[rowid[r]] = r;
	*maxid = m;
	return map;
}

static int load_names(sqlite3 *db, long model_id, audit_why *w, lm_err *err)
{
	sqlite3_stmt *st = store_prepare(
		db,
		"SELECT source_column FROM model_inputs WHERE model_id = ? AND source_column IS NOT NULL"
		" GROUP BY source_column ORDER BY min(slot)",
		err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, model_id);
	int cap = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (w->ncol == cap) {
			cap = cap ? cap * 2 : 16;
			w->name = xreallocarray(w->name, (size_t)cap, sizeof *w->name);
		}
		w->name[w->ncol++] = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
	return 0;
}

/* Sums |attribution| per column overall and per group; returns a status. */
static int accumulate(sqlite3 *db, long model_id, const long *map, long maxid, const int *group,
		      long *gn, audit_why *w, lm_err *err)
{
	sqlite3_stmt *st = store_prepare(
		db, "SELECT patient, columns FROM attributions WHERE model_id = ? AND method = 'ig'", err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, model_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long pid = (long)sqlite3_column_int64(st, 0);
		const unsigned char *blob = sqlite3_column_blob(st, 1);
		int bytes = sqlite3_column_bytes(st, 1);
		/* a blob of another width belongs to no input list we know: skipped */
		if (pid < 0 || pid > maxid || map[pid] < 0 || !blob ||
		    bytes != w->ncol * (int)sizeof(float))
			continue;
		int g = group[map[pid]];
		if (g < 0 || g >= w->G)
			continue;
		for (int j = 0; j < w->ncol; j++) {
			float v;
			memcpy(&v, blob + (size_t)j * sizeof v, sizeof v);
			double a = fabs((double)v);
			w->all[j] += a;
			AUDIT_WHY_PER(w, g, j) += a;
		}
		gn[g]++;
		w->used++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
	return 0;
}

/* Association of column name with the grouping, over the patients both know; NAN when the
 * column cannot be loaded (e.g. it is not a column of patients). */
static double association(sqlite3 *db, const char *name, const long *map, long maxid,
			  const int *group, int G)
{
	frame xf;
	const char *one[1] = {name};
	if (frame_load(db, "patients", one, 1, &xf, NULL) != 0)
		return (double)NAN;
	int *gx = xmallocarray(xf.nrow > 0 ? (size_t)xf.nrow : 1, sizeof *gx);
	for (long r = 0; r < xf.nrow; r++) {
		long id = xf.rowid[r];
		gx[r] = id >= 0 && id <= maxid && map[id] >= 0 ? group[map[id]] : -1;
	}
	const store_column *m = xf.col[0].meta;
	double v = m->type == COL_TYPE_TEXT ? audit_cramers_v(gx, G, xf.col[0].v, xf.nrow)
					: audit_eta(gx, G, xf.col[0].v, xf.nrow);
	free(gx);
	frame_free(&xf);
	return v;
}

int audit_why_compute(sqlite3 *db, long model_id, const long *rowid, const int *group, long nrow,
		      int G, const char *by, audit_why *w, lm_err *err)
{
	memset(w, 0, sizeof *w);
	w->G = G;
	int st = load_names(db, model_id, w, err);
	if (st || w->ncol == 0 || G <= 0)
		return st;
	w->all = xcalloc((size_t)w->ncol, sizeof *w->all);
	w->per = xcalloc((size_t)G * (size_t)w->ncol, sizeof *w->per);
	long *gn = xcalloc((size_t)G, sizeof *gn);
	long maxid;
	long *map = row_map(rowid, nrow, &maxid);
	st = accumulate(db, model_id, map, maxid, group, gn, w, err);
	if (st || w->used == 0) {
		/* no attributions: the arrays stay allocated (zeros) and ntop stays 0 */
		free(gn);
		free(map);
		return st;
	}
	for (int j = 0; j < w->ncol; j++) {
		w->all[j] /= (double)w->used;
		for (int g = 0; g < G; g++)
			AUDIT_WHY_PER(w, g, j) = gn[g] ? AUDIT_WHY_PER(w, g, j) / (double)gn[g]
						       : (double)NAN;
	}
	free(gn);
	/* the top inputs overall; ties keep slot order */
	int *taken = xcalloc((size_t)w->ncol, sizeof *taken);
	for (int k = 0; k < AUDIT_WHY_TOP && k < w->ncol; k++) {
		int best = -1;
		for (int j = 0; j < w->ncol; j++)
			if (!taken[j] && (best < 0 || w->all[j] > w->all[best]))
				best = j;
		taken[best] = 1;
		w->top[w->ntop++] = best;
	}
	free(taken);
	for (int k = 0; k < w->ntop; k++) {
		const char *nm = w->name[w->top[k]];
		w->warn[k] = AUDIT_WHY_NONE;
		if (is_group_col(nm, by)) {
			w->warn[k] = AUDIT_WHY_GROUP_COLUMN;
			w->assoc[k] = 1;
			continue;
		}
		w->assoc[k] = association(db, nm, map, maxid, group, G);
		if (w->assoc[k] > AUDIT_WHY_ASSOC)
			w->warn[k] = AUDIT_WHY_ASSOCIATED;
	}
	free(map);
	return 0;
}

const char *audit_why_warning(const audit_why *w, int k, char *buf, size_t len)
{
	if (k < 0 || k >= w->ntop || w->warn[k] == AUDIT_WHY_NONE)
		snprintf(buf, len, "%s", "");
	else if (w->warn[k] == AUDIT_WHY_GROUP_COLUMN)
		snprintf(buf, len, "%s, a grouping column, is input #%d of the model",
			 w->name[w->top[k]], k + 1);
	else
		snprintf(buf, len, "%s (input #%d) is associated with the grouping (%.2f > %.1f): a "
				   "proxy for it",
			 w->name[w->top[k]], k + 1, w->assoc[k], AUDIT_WHY_ASSOC);
	return buf;
}

int audit_why_group_top(const audit_why *w, int g)
{
	if (w->used == 0 || g < 0 || g >= w->G)
		return -1;
	int best = -1;
	for (int j = 0; j < w->ncol; j++) {
		double v = AUDIT_WHY_PER(w, g, j);
		if (!isnan(v) && (best < 0 || v > AUDIT_WHY_PER(w, g, best)))
			best = j;
	}
	return best;
}

cJSON *audit_why_json(const audit_why *w, char *const *label)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "patients", (double)w->used);
	cJSON *cols = cJSON_AddArrayToObject(o, "inputs");
	for (int j = 0; j < w->ncol; j++) {
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "column", w->name[j]);
		metrics_json_number(c, "all", w->all[j]);
		cJSON *pg = cJSON_AddObjectToObject(c, "groups");
		for (int g = 0; g < w->G; g++)
			metrics_json_number(pg, label[g], AUDIT_WHY_PER(w, g, j));
		cJSON_AddItemToArray(cols, c);
	}
	cJSON *wa = cJSON_AddArrayToObject(o, "warnings");
	for (int k = 0; k < w->ntop; k++) {
		if (w->warn[k] == AUDIT_WHY_NONE)
			continue;
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "column", w->name[w->top[k]]);
		cJSON_AddNumberToObject(e, "rank", k + 1);
		cJSON_AddStringToObject(e, "reason",
					w->warn[k] == AUDIT_WHY_GROUP_COLUMN ? "group column" : "associated");
		metrics_json_number(e, "association", w->assoc[k]);
		cJSON_AddItemToArray(wa, e);
	}
	return o;
}

/* Sort key of column j: its mean, NAN ranked below every number. */
static double rank_key(const audit_why *w, int g, int j)
{
	double v = g < 0 ? w->all[j] : AUDIT_WHY_PER(w, g, j);
	return isnan(v) ? -HUGE_VAL : v;
}

void audit_why_rank(const audit_why *w, int g, int *order)
{
	/* insertion sort: a model has tens of inputs, and it keeps ties in slot order */
	for (int j = 0; j < w->ncol; j++) {
		int k = j;
		double v = rank_key(w, g, j);
		while (k > 0 && rank_key(w, g, order[k - 1]) < v) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = j;
	}
}

cJSON *audit_why_ranked_json(const audit_why *w, char *const *label)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "patients", (double)w->used);
	cJSON *in = cJSON_AddArrayToObject(o, "inputs");
	cJSON *pg = cJSON_AddArrayToObject(o, "per_group");
	cJSON *wa = cJSON_AddArrayToObject(o, "warnings");
	if (w->used == 0) {
		cJSON_AddStringToObject(o, "message", audit_why_missing);
		return o;
	}
	int *order = xmallocarray(w->ncol > 0 ? (size_t)w->ncol : 1, sizeof *order);
	audit_why_rank(w, -1, order);
	for (int k = 0; k < w->ncol; k++) {
		int j = order[k];
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "column", w->name[j]);
		cJSON_AddNumberToObject(c, "rank", k + 1);
		metrics_json_number(c, "all", w->all[j]);
		cJSON *gs = cJSON_AddObjectToObject(c, "groups");
		for (int g = 0; g < w->G; g++)
			metrics_json_number(gs, label[g], AUDIT_WHY_PER(w, g, j));
		cJSON_AddItemToArray(in, c);
	}
	for (int g = 0; g < w->G; g++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "group", label[g]);
		int t = audit_why_group_top(w, g);
		if (t >= 0)
			cJSON_AddStringToObject(e, "top", w->name[t]);
		cJSON *gi = cJSON_AddArrayToObject(e, "inputs");
		audit_why_rank(w, g, order);
		for (int k = 0; k < w->ncol; k++) {
			double v = AUDIT_WHY_PER(w, g, order[k]);
			if (isnan(v))
				continue;
			cJSON *c = cJSON_CreateObject();
			cJSON_AddStringToObject(c, "column", w->name[order[k]]);
			cJSON_AddNumberToObject(c, "value", v);
			cJSON_AddItemToArray(gi, c);
		}
		cJSON_AddItemToArray(pg, e);
	}
	free(order);
	for (int k = 0; k < w->ntop; k++) {
		if (w->warn[k] == AUDIT_WHY_NONE)
			continue;
		char msg[512];
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "column", w->name[w->top[k]]);
		cJSON_AddNumberToObject(e, "rank", k + 1);
		cJSON_AddStringToObject(e, "reason",
					w->warn[k] == AUDIT_WHY_GROUP_COLUMN ? "group column" : "associated");
		metrics_json_number(e, "association", w->assoc[k]);
		cJSON_AddStringToObject(e, "message", audit_why_warning(w, k, msg, sizeof msg));
		cJSON_AddItemToArray(wa, e);
	}
	return o;
}
