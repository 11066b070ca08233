/* predict_effect.c: `lumen predict` for treatment-effect models (predict_effect.h). */
#include "predict_effect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../nn/effmodel.h"

static double r6(double v) { return round(v * 1e6) / 1e6; }

static void csv_num(FILE *out, double v)
{
	if (isnan(v))
		fputc(',', out);
	else
		fprintf(out, ",%.6f", v);
}

static void header(FILE *out, const effm *e, const char *what, int from)
{
	for (int a = from; a < e->narm; a++) {
		char *h = xasprintf("%s_%s", what, e->arm[a]);
		fputc(',', out);
		lm_csv_fputs(out, h);
		free(h);
	}
}

static cJSON *by_arm(const effm *e, const double *v, int from)
{
	cJSON *o = cJSON_CreateObject();
	for (int a = from; a < e->narm; a++) {
		if (isnan(v[a]))
			cJSON_AddNullToObject(o, e->arm[a]);
		else
			cJSON_AddNumberToObject(o, e->arm[a], r6(v[a]));
	}
	return o;
}

int predict_effect_write(sqlite3 *db, model *m, const frame *f, int idcol, int cohort,
			 int json, FILE *out, lm_err *err)
{
	effm *e = effm_from_model(db, m, err);
	if (!e)
		return err->status;
	long n = f->nrow;
	int A = e->narm, ns = e->base->spec.nslot;
	size_t nA = (size_t)(n ? n : 1) * (size_t)A;
	long *rows = xmallocarray((size_t)(n ? n : 1), sizeof *rows);
	for (long i = 0; i < n; i++)
		rows[i] = i;
	float *X = xmallocarray((size_t)(n ? n : 1) * (size_t)ns, sizeof *X);
	double *p = xmallocarray(nA, sizeof *p), *ef = xmallocarray(nA, sizeof *ef);
	double *sd = xmallocarray(nA, sizeof *sd);
	int *fold = xmallocarray((size_t)(n ? n : 1), sizeof *fold);
	effm_stored s = {0};
	int st = enc_encode(&e->base->spec, f, rows, n, X, err);
	if (!st && cohort)
		st = effm_stored_load(db, e, &s, err);
	if (st)
		goto done;
	effm_predict(e, -1, X, n, p, NULL, ef);
	for (long i = 0; i < n; i++) {
		fold[i] = -1;
		long k = cohort ? effm_stored_find(&s, f->rowid[i]) : -1;
		for (int a = 0; a < A; a++) {
			size_t c = (size_t)i * A + a;
			sd[c] = NAN;
			if (k < 0)
				continue;
			size_t d = (size_t)k * A + a;
			p[c] = s.p[d];
			ef[c] = s.effect[d];
			sd[c] = s.effect_sd[d];
			fold[i] = s.fold[k];
		}
	}
	char buf[256];
	if (json) {
		cJSON *arr = cJSON_CreateArray();
		for (long i = 0; i < n; i++) {
			cJSON *o = cJSON_CreateObject();
			if (idcol >= 0)
				cJSON_AddStringToObject(o, "id", frame_cell_text(f, idcol, i, buf, sizeof buf));
			else
				cJSON_AddNumberToObject(o, "id", (double)f->rowid[i]);
			cJSON_AddItemToObject(o, "p", by_arm(e, p + (size_t)i * A, 0));
			cJSON_AddItemToObject(o, "effect", by_arm(e, ef + (size_t)i * A, 1));
			if (cohort) {
				if (fold[i] < 0) {
					cJSON_AddNullToObject(o, "fold");
				} else {
					cJSON_AddNumberToObject(o, "fold", fold[i]);
					cJSON_AddItemToObject(o, "effect_sd", by_arm(e, sd + (size_t)i * A, 1));
				}
			}
			cJSON_AddItemToArray(arr, o);
		}
		char *t = cJSON_PrintUnformatted(arr);
		fprintf(out, "%s\n", t);
		cJSON_free(t);
		cJSON_Delete(arr);
	} else {
		fputs("id", out);
		header(out, e, "p", 0);
		header(out, e, "effect", 1);
		if (cohort) {
			fputs(",fold", out);
			header(out, e, "effect_sd", 1);
		}
		fputc('\n', out);
		for (long i = 0; i < n; i++) {
			if (idcol >= 0)
				lm_csv_fputs(out, frame_cell_text(f, idcol, i, buf, sizeof buf));
			else
				fprintf(out, "%ld", f->rowid[i]);
			for (int a = 0; a < A; a++)
				csv_num(out, p[(size_t)i * A + a]);
			for (int a = 1; a < A; a++)
				csv_num(out, ef[(size_t)i * A + a]);
			if (cohort) {
				if (fold[i] >= 0)
					fprintf(out, ",%d", fold[i]);
				else
					fputc(',', out);
				for (int a = 1; a < A; a++)
					csv_num(out, sd[(size_t)i * A + a]);
			}
			fputc('\n', out);
		}
	}
done:
	effm_stored_free(&s);
	free(rows);
	free(X);
	free(p);
	free(ef);
	free(sd);
	free(fold);
	effm_free(e);
	return st;
}
