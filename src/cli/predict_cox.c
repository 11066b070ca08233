/* predict_cox.c: `lumen predict` for a Cox model — each patient's linear predictor and
 * survival S(t | x) at the requested times: the final model's for every patient scored, and
 * for the training cohort also the out-of-fold ones (the patient's fold model with that fold's
 * baseline hazard). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../nn/coxmodel.h"
#include "cli.h"
#include "predict_cox.h"
#include "../ops/ops.h"

static int parse_times(const model *m, const char *spec, double **t, int *nt, lm_err *err)
{
	*nt = 0;
	*t = NULL;
	if (spec) {
		*t = xmallocarray(strlen(spec) + 1, sizeof **t);
		const char *p = spec;
		while (*p) {
			const char *q = strchr(p, ',');
			size_t len = q ? (size_t)(q - p) : strlen(p);
			char *s = xstrndup(p, len);
			double v;
			int bad = parse_double(s, &v) != 0 || !(v >= 0) || !isfinite(v);
			if (bad) {
				lm_seterr(err, EX_USAGE, "--times: '%s' is not a time", s);
				free(s);
				return EX_USAGE;
			}
			free(s);
			(*t)[(*nt)++] = v;
			p += len + (q != NULL);
		}
		if (*nt == 0)
			return lm_seterr(err, EX_USAGE, "--times: no times given");
		return 0;
	}
	/* the model's own evaluation times */
	cJSON *h = cJSON_Parse(m->hyper_json ? m->hyper_json : "");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(h, "times"), *e;
	*t = xmallocarray((size_t)(cJSON_GetArraySize(a) + 1), sizeof **t);
	cJSON_ArrayForEach(e, a) if (cJSON_IsNumber(e))(*t)[(*nt)++] = e->valuedouble;
	cJSON_Delete(h);
	if (*nt == 0)
		return lm_seterr(err, EX_DATAERR, "model '%s' has no evaluation times; give --times",
				 m->name);
	return 0;
}

/* Stored out-of-fold linear predictors and folds by frame row; NAN / -1 when none. */
static int load_oof(sqlite3 *db, const model *m, const frame *f, double *lp, int *fold,
		    lm_err *err)
{
	for (long i = 0; i < f->nrow; i++) {
		lp[i] = NAN;
		fold[i] = -1;
	}
	ops_predictions pr; /* the one reader of `predictions` */
	if (ops_predictions_load_id(db, m->id, &pr, err)) {
		ops_predictions_free(&pr);
		return err->status;
	}
	for (long i = 0; i < f->nrow; i++) {
		long k = ops_predictions_find(&pr, f->rowid[i]);
		if (k >= 0 && !isnan(pr.logit[k])) {
			fold[i] = pr.fold[k];
			lp[i] = pr.logit[k];
		}
	}
	ops_predictions_free(&pr);
	return 0;
}

/* A probability as the 6 decimals the CSV shows. */
static double r6(double v) { return round(v * 1e6) / 1e6; }

int predict_cox_write(sqlite3 *db, model *m, const frame *f, int idcol, int cohort,
		      const char *times, int json, FILE *out, lm_err *err)
{
	double *t;
	int nt, st = parse_times(m, times, &t, &nt, err);
	if (st) {
		free(t);
		return st;
	}
	long n = f->nrow;
	int ns = m->spec.nslot;
	long *rows = xmallocarray((size_t)(n ? n : 1), sizeof *rows);
	for (long i = 0; i < n; i++)
		rows[i] = i;
	float *X = xmallocarray((size_t)(n ? n : 1) * (size_t)ns, sizeof *X);
	float *lp = xmallocarray((size_t)(n ? n : 1), sizeof *lp);
	double *olp = cohort ? xmallocarray((size_t)(n ? n : 1), sizeof *olp) : NULL;
	int *fold = cohort ? xmallocarray((size_t)(n ? n : 1), sizeof *fold) : NULL;
	coxm_baseline fin, *fb = NULL;
	memset(&fin, 0, sizeof fin);
	int nfb = 0;
	st = enc_encode(&m->spec, f, rows, n, X, err);
	for (long i = 0; !st && i < n; i += 1024) {
		int k = (int)(n - i < 1024 ? n - i : 1024);
		model_predict(m, X + (size_t)i * (size_t)ns, k, 1, NULL, lp + i);
	}
	if (!st)
		st = coxm_baseline_load(db, m->id, -1, &fin, err);
	if (!st && cohort) {
		st = load_oof(db, m, f, olp, fold, err);
		nfb = m->nfold;
		fb = xcalloc((size_t)(nfb ? nfb : 1), sizeof *fb);
		for (int k = 0; !st && k < nfb; k++)
			st = coxm_baseline_load(db, m->id, k, &fb[k], err);
	}
	if (st)
		goto done;
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	if (!json) {
		fputs("id,lp", out);
		for (int q = 0; q < nt; q++)
			fprintf(out, ",S_%g", t[q]);
		if (cohort) {
			fputs(",oof_lp,fold", out);
			for (int q = 0; q < nt; q++)
				fprintf(out, ",oof_S_%g", t[q]);
		}
		fputc('\n', out);
	}
	char buf[256];
	for (long i = 0; i < n; i++) {
		const char *id = idcol >= 0 ? frame_cell_text(f, idcol, i, buf, sizeof buf) : NULL;
		char rid[32];
		if (!id) {
			snprintf(rid, sizeof rid, "%ld", f->rowid[i]);
			id = rid;
		}
		int k = cohort ? fold[i] : -1;
		int has_oof = cohort && k >= 0 && k < nfb && !isnan(olp[i]);
		if (json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "id", id);
			cJSON_AddNumberToObject(o, "lp", r6((double)lp[i]));
			cJSON *s = cJSON_AddArrayToObject(o, "surv");
			for (int q = 0; q < nt; q++)
				cJSON_AddItemToArray(s, cJSON_CreateNumber(r6(coxm_surv(&fin, t[q], lp[i]))));
			if (cohort && has_oof) {
				cJSON_AddNumberToObject(o, "oof_lp", r6(olp[i]));
				cJSON_AddNumberToObject(o, "fold", k);
				cJSON *os = cJSON_AddArrayToObject(o, "oof_surv");
				for (int q = 0; q < nt; q++)
					cJSON_AddItemToArray(os,
							     cJSON_CreateNumber(r6(coxm_surv(&fb[k], t[q], olp[i]))));
			} else if (cohort) {
				cJSON_AddNullToObject(o, "oof_lp");
				cJSON_AddNullToObject(o, "fold");
				cJSON_AddNullToObject(o, "oof_surv");
			}
			cJSON_AddItemToArray(arr, o);
			continue;
		}
		lm_csv_fputs(out, id);
		fprintf(out, ",%.6f", (double)lp[i]);
		for (int q = 0; q < nt; q++)
			fprintf(out, ",%.6f", coxm_surv(&fin, t[q], lp[i]));
		if (cohort && has_oof) {
			fprintf(out, ",%.6f,%d", olp[i], k);
			for (int q = 0; q < nt; q++)
				fprintf(out, ",%.6f", coxm_surv(&fb[k], t[q], olp[i]));
		} else if (cohort) {
			for (int q = 0; q < nt + 2; q++)
				fputc(',', out);
		}
		fputc('\n', out);
	}
	if (json) {
		cJSON *root = cJSON_CreateObject();
		cJSON *ta = cJSON_AddArrayToObject(root, "times");
		for (int q = 0; q < nt; q++)
			cJSON_AddItemToArray(ta, cJSON_CreateNumber(t[q]));
		cJSON_AddItemToObject(root, "patients", arr);
		char *s = cJSON_PrintUnformatted(root);
		fprintf(out, "%s\n", s);
		cJSON_free(s);
		cJSON_Delete(root);
	}
done:
	for (int k = 0; fb && k < nfb; k++)
		coxm_baseline_free(&fb[k]);
	free(fb);
	coxm_baseline_free(&fin);
	free(t);
	free(rows);
	free(X);
	free(lp);
	free(olp);
	free(fold);
	return st;
}
