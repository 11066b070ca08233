/* api_model.c: the chart data of a model for scripts — m:curves() (ROC and reliability curve
 * of the stored out-of-fold predictions, metrics.c's), m:importance() (the stored global
 * importance) and m:attributions() (every patient's stored integrated gradients beside the
 * input's value, for beeswarm and dependence charts). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../src/ops/ops.h"
#include "../src/stats/metrics.h"
#include "hostint.h"

static const char *model_name(lua_State *L, const char *method)
{
	if (lua_type(L, 1) != LUA_TTABLE || lua_getfield(L, 1, "name") != LUA_TSTRING)
		luaL_error(L, "model:%s(): call it on a model from lumen.model(NAME)", method);
	return lua_tostring(L, -1); /* left on the stack: anchored while used */
}

static void push_list(lua_State *L, const char *key, const double *v, long n)
{
	lua_createtable(L, (int)(n < 1 << 30 ? n : 0), 0);
	for (long k = 0; k < n; k++) {
		if (isnan(v[k]))
			lua_pushboolean(L, 0);
		else
			lua_pushnumber(L, v[k]);
		lua_rawseti(L, -2, (lua_Integer)k + 1);
	}
	lua_setfield(L, -2, key);
}

/* m:curves([bins]) -> {roc = {fpr, tpr, auc}, calibration = {predicted, observed, n}, n} */
static int model_curves(lua_State *L)
{
	lua_Integer bins = luaL_optinteger(L, 2, 10);
	lua_settop(L, 1);
	const char *name = model_name(L, "curves");
	if (bins < 2 || bins > 100)
		return luaL_error(L, "model:curves(): bins must be 2 to 100");
	host *h = host_of(L);
	ops_predictions pr;
	lm_err e = {0};
	if (ops_predictions_load(h->db, name, &pr, &e)) {
		ops_predictions_free(&pr);
		return luaL_error(L, "model:curves(): %s", e.msg);
	}
	if (strcmp(pr.task ? pr.task : "", "binary") != 0) {
		ops_predictions_free(&pr);
		lua_pushnil(L);
		return 1;
	}
	host_charge(L, (size_t)pr.n * 6 * sizeof(double), 0);
	double *p = xmallocarray((size_t)(pr.n ? pr.n : 1), sizeof *p);
	double *y = xmallocarray((size_t)(pr.n ? pr.n : 1), sizeof *y);
	long n = 0;
	for (long i = 0; i < pr.n; i++)
		if (!isnan(pr.p[i]) && !isnan(pr.y[i])) {
			p[n] = pr.p[i];
			y[n++] = pr.y[i];
		}
	ops_predictions_free(&pr);
	double *fpr = NULL, *tpr = NULL, *thr = NULL, *mp = NULL, *fp = NULL;
	long *cnt = NULL;
	long nr = metrics_roc_curve(p, y, NULL, n, &fpr, &tpr, &thr);
	int nc = metrics_calibration_curve(p, y, NULL, n, (int)bins, &mp, &fp, &cnt);
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, n);
	lua_setfield(L, -2, "n");
	lua_createtable(L, 0, 3);
	push_list(L, "fpr", fpr, nr);
	push_list(L, "tpr", tpr, nr);
	lua_pushnumber(L, metrics_auc(p, y, NULL, n));
	lua_setfield(L, -2, "auc");
	lua_setfield(L, -2, "roc");
	lua_createtable(L, 0, 3);
	push_list(L, "predicted", mp, nc);
	push_list(L, "observed", fp, nc);
	lua_createtable(L, nc, 0);
	for (int k = 0; k < nc; k++) {
		lua_pushinteger(L, cnt[k]);
		lua_rawseti(L, -2, k + 1);
	}
	lua_setfield(L, -2, "n");
	lua_setfield(L, -2, "calibration");
	free(p);
	free(y);
	free(fpr);
	free(tpr);
	free(thr);
	free(mp);
	free(fp);
	free(cnt);
	return 1;
}

/* m:importance([method]) -> list of {column, mean_abs, mean} (method "ig" or "rollout"),
 * largest first, or nil when lumen explain has not stored any. */
static int model_importance(lua_State *L)
{
	const char *method = luaL_optstring(L, 2, "ig");
	if (strcmp(method, "ig") && strcmp(method, "rollout"))
		return luaL_error(L, "model:importance(): method must be \"ig\" or \"rollout\"");
	method = !strcmp(method, "ig") ? "ig" : "rollout"; /* a literal: arg 2 goes below */
	lua_settop(L, 1);
	const char *name = model_name(L, "importance");
	host *h = host_of(L);
	lm_err e = {0};
	sqlite3_stmt *st = store_prepare(h->db, "SELECT importance FROM models WHERE name = ?", &e);
	if (!st)
		return luaL_error(L, "model:importance(): %s", e.msg);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	cJSON *j = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		j = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(j, method), "columns");
	if (!cJSON_IsArray(cols)) {
		cJSON_Delete(j);
		lua_pushnil(L);
		return 1;
	}
	lua_createtable(L, cJSON_GetArraySize(cols), 0);
	int k = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, cols)
	{
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "column");
		const cJSON *ma = cJSON_GetObjectItemCaseSensitive(c, "mean_abs");
		const cJSON *me = cJSON_GetObjectItemCaseSensitive(c, "mean");
		if (!cJSON_IsString(nm) || !cJSON_IsNumber(ma))
			continue;
		lua_createtable(L, 0, 3);
		lua_pushstring(L, nm->valuestring);
		lua_setfield(L, -2, "column");
		lua_pushnumber(L, ma->valuedouble);
		lua_setfield(L, -2, "mean_abs");
		if (cJSON_IsNumber(me)) {
			lua_pushnumber(L, me->valuedouble);
			lua_setfield(L, -2, "mean");
		}
		lua_rawseti(L, -2, ++k);
	}
	cJSON_Delete(j);
	return 1;
}

/* m:attributions() -> {patients = N, columns = {NAME, ...}, [NAME] = {attribution = {...},
 * value = {...}, categories = {...} (text columns)}}: every stored ig explanation (rowid
 * order) with the patient's value of the column; a text column's value is the index (1..K)
 * of its category in the sorted categories, a missing value false. nil when none stored. */
static int model_attributions(lua_State *L)
{
	lua_settop(L, 1);
	const char *name = model_name(L, "attributions");
	host *h = host_of(L);
	lm_err e = {0};
	model *m = model_load(h->db, name, &e);
	if (!m)
		return luaL_error(L, "model:attributions(): %s", e.msg);
	int nc = m->spec.ncolumn;
	lm_buf sql = {0};
	buf_puts(&sql, "SELECT a.columns");
	for (int j = 0; j < nc; j++) {
		char *q = sqlite3_mprintf(", p.\"%w\"", m->spec.columns[j]);
		buf_puts(&sql, q);
		sqlite3_free(q);
	}
	buf_printf(&sql, " FROM attributions a JOIN patients p ON p.rowid = a.patient"
			 " WHERE a.model_id = %ld AND a.method = 'ig' ORDER BY a.patient", m->id);
	sqlite3_stmt *st = store_prepare(h->db, sql.data, &e);
	buf_free(&sql);
	if (!st) {
		model_free(m);
		return luaL_error(L, "model:attributions(): %s", e.msg);
	}
	long cap = 256, n = 0;
	double *A = xmallocarray((size_t)cap * (size_t)(nc ? nc : 1), sizeof *A);
	double *V = xmallocarray((size_t)cap * (size_t)(nc ? nc : 1), sizeof *V);
	char **T = xcalloc((size_t)cap * (size_t)(nc ? nc : 1), sizeof *T);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((n & 1023) == 0)
			host_check_deadline(L);
		if (n == cap) {
			A = xreallocarray(A, (size_t)cap * 2 * (size_t)nc, sizeof *A);
			V = xreallocarray(V, (size_t)cap * 2 * (size_t)nc, sizeof *V);
			T = xreallocarray(T, (size_t)cap * 2 * (size_t)nc, sizeof *T);
			memset(T + (size_t)cap * (size_t)nc, 0, (size_t)cap * (size_t)nc * sizeof *T);
			cap *= 2;
		}
		const float *blob = sqlite3_column_blob(st, 0);
		int bytes = sqlite3_column_bytes(st, 0);
		for (int j = 0; j < nc; j++) {
			size_t at = (size_t)n * (size_t)nc + (size_t)j;
			A[at] = blob && bytes >= (int)((size_t)nc * sizeof(float)) ? (double)blob[j]
										      : (double)NAN;
			int t = sqlite3_column_type(st, j + 1);
			V[at] = t == SQLITE_NULL ? (double)NAN : sqlite3_column_double(st, j + 1);
			if (m->spec.column_type[j] == COL_TYPE_TEXT && t != SQLITE_NULL)
				T[at] = xstrdup((const char *)sqlite3_column_text(st, j + 1));
		}
		n++;
	}
	sqlite3_finalize(st);
	host_charge(L, (size_t)n * (size_t)nc * 48, 0);
	if (n == 0) {
		lua_pushnil(L);
	} else {
		lua_createtable(L, 0, nc + 2);
		lua_pushinteger(L, n);
		lua_setfield(L, -2, "patients");
		lua_createtable(L, nc, 0);
		for (int j = 0; j < nc; j++) {
			lua_pushstring(L, m->spec.columns[j]);
			lua_rawseti(L, -2, j + 1);
		}
		lua_setfield(L, -2, "columns");
		double *a = xmallocarray((size_t)n, sizeof *a), *v = xmallocarray((size_t)n, sizeof *v);
		for (int j = 0; j < nc; j++) {
			lua_createtable(L, 0, 3);
			int text = m->spec.column_type[j] == COL_TYPE_TEXT;
			/* a text column: its sorted categories, the value the category's index */
			char **cats = NULL;
			int ncat = 0;
			for (long i = 0; text && i < n; i++) {
				const char *s = T[(size_t)i * (size_t)nc + (size_t)j];
				int k = 0;
				while (s && k < ncat && strcmp(cats[k], s))
					k++;
				if (s && k == ncat) {
					cats = xreallocarray(cats, (size_t)ncat + 1, sizeof *cats);
					cats[ncat++] = (char *)s;
				}
			}
			for (int x = 1; x < ncat; x++) /* insertion sort: a handful of categories */
				for (int y = x; y > 0 && strcmp(cats[y - 1], cats[y]) > 0; y--) {
					char *t = cats[y];
					cats[y] = cats[y - 1];
					cats[y - 1] = t;
				}
			for (long i = 0; i < n; i++) {
				size_t at = (size_t)i * (size_t)nc + (size_t)j;
				a[i] = A[at];
				v[i] = V[at];
				if (text) {
					v[i] = (double)NAN;
					for (int k = 0; T[at] && k < ncat; k++)
						if (!strcmp(cats[k], T[at]))
							v[i] = k + 1;
				}
			}
			push_list(L, "attribution", a, n);
			push_list(L, "value", v, n);
			if (text) {
				lua_createtable(L, ncat, 0);
				for (int k = 0; k < ncat; k++) {
					lua_pushstring(L, cats[k]);
					lua_rawseti(L, -2, k + 1);
				}
				lua_setfield(L, -2, "categories");
			}
			free(cats);
			lua_setfield(L, -2, m->spec.columns[j]);
		}
		free(a);
		free(v);
	}
	for (long i = 0; i < n * nc; i++)
		free(T[i]);
	free(T);
	free(A);
	free(V);
	model_free(m);
	return 1;
}

/* m:inputs() -> list of {column, label, type} of the model's input columns (spec order). */
static int model_inputs(lua_State *L)
{
	lua_settop(L, 1);
	const char *name = model_name(L, "inputs");
	host *h = host_of(L);
	lm_err e = {0};
	model *m = model_load(h->db, name, &e);
	if (!m)
		return luaL_error(L, "model:inputs(): %s", e.msg);
	store_columns cols;
	int have = store_columns_load(h->db, "patients", &cols, &e) == 0;
	lua_createtable(L, m->spec.ncolumn, 0);
	for (int j = 0; j < m->spec.ncolumn; j++) {
		lua_createtable(L, 0, 3);
		lua_pushstring(L, m->spec.columns[j]);
		lua_setfield(L, -2, "column");
		lua_pushstring(L, store_type_name(m->spec.column_type[j]));
		lua_setfield(L, -2, "type");
		int k = have ? store_columns_find(&cols, m->spec.columns[j]) : -1;
		if (k >= 0 && cols.c[k].label) {
			lua_pushstring(L, cols.c[k].label);
			lua_setfield(L, -2, "label");
		}
		lua_rawseti(L, -2, j + 1);
	}
	if (have)
		store_columns_free(&cols);
	model_free(m);
	return 1;
}

/* A cJSON value as a Lua value (objects and arrays as tables, null as nil). */
static void push_json(lua_State *L, const cJSON *j)
{
	luaL_checkstack(L, 4, "model:validations()");
	if (cJSON_IsNumber(j)) {
		lua_pushnumber(L, j->valuedouble);
	} else if (cJSON_IsString(j)) {
		lua_pushstring(L, j->valuestring);
	} else if (cJSON_IsBool(j)) {
		lua_pushboolean(L, cJSON_IsTrue(j));
	} else if (cJSON_IsArray(j)) {
		lua_createtable(L, cJSON_GetArraySize(j), 0);
		int k = 0;
		const cJSON *e;
		cJSON_ArrayForEach(e, j)
		{
			push_json(L, e);
			lua_rawseti(L, -2, ++k);
		}
	} else if (cJSON_IsObject(j)) {
		lua_newtable(L);
		const cJSON *e;
		cJSON_ArrayForEach(e, j)
		{
			if (cJSON_IsNull(e))
				continue;
			push_json(L, e);
			lua_setfield(L, -2, e->string);
		}
	} else {
		lua_pushnil(L);
	}
}

/* m:validations() -> the model's stored external validations (lumen validate), oldest
 * first, each as lumen validate --json prints it with id and created_at. */
static int model_validations(lua_State *L)
{
	lua_settop(L, 1);
	const char *name = model_name(L, "validations");
	host *h = host_of(L);
	lm_err e = {0};
	long id = ops_model_id(h->db, name, &e);
	if (id < 0)
		return luaL_error(L, "model:validations(): %s", e.msg);
	cJSON *a = ops_validations_json(h->db, id);
	push_json(L, a);
	cJSON_Delete(a);
	return 1;
}

void host_model_methods(lua_State *L)
{
	lua_pushcfunction(L, model_validations);
	lua_setfield(L, -2, "validations");
	lua_pushcfunction(L, model_inputs);
	lua_setfield(L, -2, "inputs");
	lua_pushcfunction(L, model_curves);
	lua_setfield(L, -2, "curves");
	lua_pushcfunction(L, model_importance);
	lua_setfield(L, -2, "importance");
	lua_pushcfunction(L, model_attributions);
	lua_setfield(L, -2, "attributions");
}
