/* importance.c: global importance, its JSON in models.importance, Spearman agreement. */
#include "importance.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct rank_item {
	double v;
	int i;
} rank_item;

static int cmp_item(const void *a, const void *b)
{
	double x = ((const rank_item *)a)->v, y = ((const rank_item *)b)->v;
	return (x > y) - (x < y);
}

/* Average ranks (1-based) of v into r. */
static void ranks(const double *v, int n, double *r)
{
	rank_item *it = xmallocarray((size_t)n, sizeof *it);
	for (int i = 0; i < n; i++) {
		it[i].v = v[i];
		it[i].i = i;
	}
	qsort(it, (size_t)n, sizeof *it, cmp_item);
	for (int i = 0; i < n;) {
		int j = i;
		while (j + 1 < n && it[j + 1].v == it[i].v)
			j++;
		double avg = 0.5 * (i + j) + 1.0;
		for (int k = i; k <= j; k++)
			r[it[k].i] = avg;
		i = j + 1;
	}
	free(it);
}

static double pearson(const double *a, const double *b, int n)
{
	double ma = 0, mb = 0;
	for (int i = 0; i < n; i++) {
		ma += a[i];
		mb += b[i];
	}
	ma /= n;
	mb /= n;
	double sab = 0, saa = 0, sbb = 0;
	for (int i = 0; i < n; i++) {
		sab += (a[i] - ma) * (b[i] - mb);
		saa += (a[i] - ma) * (a[i] - ma);
		sbb += (b[i] - mb) * (b[i] - mb);
	}
	if (saa <= 0 || sbb <= 0)
		return (double)NAN;
	return sab / sqrt(saa * sbb);
}

static double spearman(const float *a, const float *b, int n, int abs_a)
{
	if (n < 2)
		return (double)NAN;
	double *va = xmallocarray((size_t)n, sizeof(double)), *vb = xmallocarray((size_t)n, sizeof(double));
	double *ra = xmallocarray((size_t)n, sizeof(double)), *rb = xmallocarray((size_t)n, sizeof(double));
	for (int i = 0; i < n; i++) {
		va[i] = abs_a ? fabs((double)a[i]) : (double)a[i];
		vb[i] = (double)b[i];
	}
	ranks(va, n, ra);
	ranks(vb, n, rb);
	double r = pearson(ra, rb, n);
	free(va);
	free(vb);
	free(ra);
	free(rb);
	return r;
}

double imp_spearman(const float *a, const float *b, int n) { return spearman(a, b, n, 0); }
double imp_spearman_abs(const float *a, const float *b, int n) { return spearman(a, b, n, 1); }

long imp_global(const float *cols, long n, int ncol, const unsigned char *mask, double *mean_abs,
		double *mean_signed)
{
	long used = 0;
	for (int j = 0; j < ncol; j++)
		mean_abs[j] = mean_signed[j] = 0.0;
	for (long i = 0; i < n; i++) {
		if (mask && !mask[i])
			continue;
		const float *r = cols + (size_t)i * (size_t)ncol;
		for (int j = 0; j < ncol; j++) {
			mean_abs[j] += fabs((double)r[j]);
			mean_signed[j] += (double)r[j];
		}
		used++;
	}
	if (used)
		for (int j = 0; j < ncol; j++) {
			mean_abs[j] /= (double)used;
			mean_signed[j] /= (double)used;
		}
	return used;
}

static const double *sort_key;
static int cmp_desc(const void *a, const void *b)
{
	double x = sort_key[*(const int *)a], y = sort_key[*(const int *)b];
	return (x < y) - (x > y);
}

void imp_json(lm_buf *b, const enc_spec *spec, const double *mean_abs,
	      const double *mean_signed, long npatients, const char *baseline)
{
	int n = spec->ncolumn;
	int *ord = xmallocarray((size_t)(n ? n : 1), sizeof *ord);
	for (int j = 0; j < n; j++)
		ord[j] = j;
	sort_key = mean_abs;
	qsort(ord, (size_t)n, sizeof *ord, cmp_desc);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "patients", (double)npatients);
	if (baseline)
		cJSON_AddStringToObject(o, "baseline", baseline);
	cJSON *arr = cJSON_AddArrayToObject(o, "columns");
	for (int k = 0; k < n; k++) {
		int j = ord[k];
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "column", spec->columns[j]);
		cJSON_AddNumberToObject(c, "mean_abs", mean_abs[j]);
		cJSON_AddNumberToObject(c, "mean", mean_signed[j]);
		cJSON_AddItemToArray(arr, c);
	}
	char *s = cJSON_PrintUnformatted(o);
	buf_puts(b, s);
	cJSON_free(s);
	cJSON_Delete(o);
	free(ord);
}

int imp_store(sqlite3 *db, long model_id, const char *method, const char *object_json,
	      lm_err *err)
{
	sqlite3_stmt *q = store_prepare(db, "SELECT importance FROM models WHERE id = ?", err);
	if (!q)
		return err ? err->status : EX_SOFTWARE;
	sqlite3_bind_int64(q, 1, model_id);
	cJSON *root = NULL;
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) == SQLITE_TEXT)
		root = cJSON_Parse((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	if (!root || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		root = cJSON_CreateObject();
	}
	cJSON *obj = cJSON_Parse(object_json);
	if (!obj) {
		cJSON_Delete(root);
		return lm_seterr(err, EX_SOFTWARE, "importance JSON does not parse");
	}
	cJSON_DeleteItemFromObjectCaseSensitive(root, method);
	cJSON_AddItemToObject(root, method, obj);
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	sqlite3_stmt *u = store_prepare(db, "UPDATE models SET importance = ? WHERE id = ?", err);
	if (!u) {
		cJSON_free(s);
		return err ? err->status : EX_SOFTWARE;
	}
	sqlite3_bind_text(u, 1, s, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(u, 2, model_id);
	int rc = sqlite3_step(u);
	sqlite3_finalize(u);
	cJSON_free(s);
	if (rc != SQLITE_DONE)
		return lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
	return 0;
}
