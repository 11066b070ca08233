/* ops_models.c: the stored models, as every front end lists them (lumen models, the TUI's
 * Models screen and model picker, lumen.models and lumen.model in Lua). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

static char *text_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrdup((const char *)t) : NULL;
}

#define MODEL_SELECT                                                                             \
	"SELECT id, name, arch, target, positive, task, folds, n_used, n_excluded, created_at,"  \
	" metrics, hyper, seed, final, classes, inputs, data_sha256, version, importance,"       \
	" EXISTS (SELECT 1 FROM predictions p WHERE p.model_id = models.id) FROM models"

static void row_of(sqlite3_stmt *st, ops_model_row *r)
{
	r->id = (long)sqlite3_column_int64(st, 0);
	r->name = text_dup(st, 1);
	r->arch = text_dup(st, 2);
	r->target = text_dup(st, 3);
	r->positive = text_dup(st, 4);
	r->task = text_dup(st, 5);
	r->folds = sqlite3_column_int(st, 6);
	r->n_used = (long)sqlite3_column_int64(st, 7);
	r->n_excluded = (long)sqlite3_column_int64(st, 8);
	r->created_at = text_dup(st, 9);
	r->metrics = text_dup(st, 10);
	r->hyper = text_dup(st, 11);
	r->has_seed = sqlite3_column_type(st, 12) != SQLITE_NULL;
	r->seed = (long)sqlite3_column_int64(st, 12);
	r->final = text_dup(st, 13);
	r->classes = text_dup(st, 14);
	r->inputs = text_dup(st, 15);
	r->data_sha256 = text_dup(st, 16);
	r->version = text_dup(st, 17);
	r->importance = text_dup(st, 18);
	r->has_predictions = sqlite3_column_int(st, 19);
}

static void row_free(ops_model_row *r)
{
	free(r->name);
	free(r->arch);
	free(r->target);
	free(r->positive);
	free(r->task);
	free(r->created_at);
	free(r->metrics);
	free(r->hyper);
	free(r->final);
	free(r->classes);
	free(r->inputs);
	free(r->data_sha256);
	free(r->version);
	free(r->importance);
	memset(r, 0, sizeof *r);
}

int ops_models_load(sqlite3 *db, const char *name, ops_models *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	if (!store_has_table(db, "models")) /* a file of an older schema or none yet */
		return name ? lm_seterr(err, EX_DATAERR, "no model '%s'; lumen models FILE lists them",
					name)
			    : 0;
	sqlite3_stmt *st = store_prepare(db, name ? MODEL_SELECT " WHERE name = ?"
						  : MODEL_SELECT " ORDER BY id",
					 err);
	if (!st)
		return err ? err->status : EX_SOFTWARE;
	if (name)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->m = xreallocarray(out->m, (size_t)out->n + 1, sizeof *out->m);
		memset(&out->m[out->n], 0, sizeof *out->m);
		row_of(st, &out->m[out->n++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
	if (name && out->n == 0)
		return lm_seterr(err, EX_DATAERR, "no model '%s'; lumen models FILE lists them", name);
	return 0;
}

void ops_models_free(ops_models *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->n; i++)
		row_free(&r->m[i]);
	free(r->m);
	memset(r, 0, sizeof *r);
}

double ops_model_metric(const ops_model_row *r, const char *key)
{
	cJSON *m = r->metrics ? cJSON_Parse(r->metrics) : NULL;
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "pooled");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	double d = cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
	cJSON_Delete(m);
	return d;
}

const char *ops_model_arch_text(const ops_model_row *r, char *buf, size_t len)
{
	cJSON *h = r->hyper ? cJSON_Parse(r->hyper) : NULL;
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(h, "attention");
	snprintf(buf, len, "%s%s", r->arch ? r->arch : "",
		 cJSON_IsNumber(a) && a->valueint > 0 ? "+att" : "");
	cJSON_Delete(h);
	return buf;
}

static cJSON *parse_or_null(const char *s)
{
	cJSON *j = s ? cJSON_Parse(s) : NULL;
	return j ? j : cJSON_CreateNull();
}

static void add_text(cJSON *o, const char *key, const char *v)
{
	cJSON_AddStringToObject(o, key, v ? v : "");
}

cJSON *ops_model_row_json(const ops_model_row *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)r->id);
	add_text(o, "name", r->name);
	add_text(o, "arch", r->arch);
	add_text(o, "target", r->target);
	if (r->positive)
		cJSON_AddStringToObject(o, "positive", r->positive);
	else
		cJSON_AddNullToObject(o, "positive");
	add_text(o, "task", r->task);
	cJSON_AddItemToObject(o, "classes", parse_or_null(r->classes));
	cJSON_AddNumberToObject(o, "n_used", (double)r->n_used);
	cJSON_AddNumberToObject(o, "n_excluded", (double)r->n_excluded);
	cJSON_AddNumberToObject(o, "folds", r->folds);
	add_text(o, "final", r->final);
	cJSON_AddNumberToObject(o, "seed", (double)r->seed);
	cJSON_AddItemToObject(o, "hyper", parse_or_null(r->hyper));
	cJSON_AddItemToObject(o, "inputs", parse_or_null(r->inputs));
	add_text(o, "data_sha256", r->data_sha256);
	add_text(o, "version", r->version);
	add_text(o, "created_at", r->created_at);
	cJSON_AddItemToObject(o, "metrics", parse_or_null(r->metrics));
	return o;
}

cJSON *ops_models_json(const ops_models *r)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < r->n; i++)
		cJSON_AddItemToArray(a, ops_model_row_json(&r->m[i]));
	return a;
}
