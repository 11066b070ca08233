/* coxmodel.c: Cox models as stored models — their linear networks, baseline hazards and the
 * coefficient table (coxmodel.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coxmodel.h"

int coxm_is_cox(const model *m)
{
	/* linear (arch cox) or neural (mlp, transformer on the partial likelihood) */
	return m && m->task && !strcmp(m->task, "survival");
}

nn_model *coxm_net(int nslot, const double *beta, double l2, lm_err *err)
{
	nn_spec s;
	nn_spec_defaults(&s, NN_LOGREG, nslot, 1);
	s.l2 = (float)l2;
	nn_model *nm = nn_create(&s, 0, err);
	if (!nm)
		return NULL;
	for (int i = 0; i < nn_ntensors(nm); i++) {
		float *d = nn_tensor_data(nm, i);
		size_t sz = nn_tensor_size(nm, i);
		if (!strcmp(nn_tensor_name(nm, i), "w"))
			for (size_t k = 0; k < sz && (int)k < nslot; k++)
				d[k] = (float)beta[k];
		else
			memset(d, 0, sz * sizeof *d);
	}
	return nm;
}

int coxm_baseline_save(sqlite3 *db, long model_id, int member, const double *btime,
		       const double *bhaz, long nbase, lm_err *err)
{
	sqlite3_stmt *ins = store_prepare(db,
					  "INSERT INTO model_tensors(model_id, member, name, shape, data)"
					  " VALUES(?, ?, ?, ?, ?)",
					  err);
	if (!ins)
		return err ? err->status : EX_SOFTWARE;
	float *buf = xmallocarray((size_t)(nbase ? nbase : 1), sizeof *buf);
	char *shape = xasprintf("%ld", nbase);
	int st = 0;
	for (int w = 0; w < 2 && !st; w++) {
		const double *src = w ? bhaz : btime;
		for (long k = 0; k < nbase; k++)
			buf[k] = (float)src[k];
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, model_id);
		sqlite3_bind_int(ins, 2, member);
		sqlite3_bind_text(ins, 3, w ? "cox.cumhaz" : "cox.time", -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, shape, -1, SQLITE_STATIC);
		sqlite3_bind_blob64(ins, 5, buf, (sqlite3_uint64)((size_t)nbase * sizeof *buf),
				    SQLITE_STATIC);
		int rc = sqlite3_step(ins);
		if (rc != SQLITE_DONE)
			st = lm_seterr(err, store_status(rc), "saving the baseline hazard: %s",
				       sqlite3_errmsg(db));
	}
	free(shape);
	free(buf);
	sqlite3_finalize(ins);
	return st;
}

int coxm_baseline_load(sqlite3 *db, long model_id, int member, coxm_baseline *b, lm_err *err)
{
	memset(b, 0, sizeof *b);
	sqlite3_stmt *st = store_prepare(db,
					 "SELECT name, data FROM model_tensors WHERE model_id = ? AND"
					 " member = ? AND name IN ('cox.time', 'cox.cumhaz')",
					 err);
	if (!st)
		return err ? err->status : EX_SOFTWARE;
	sqlite3_bind_int64(st, 1, model_id);
	sqlite3_bind_int(st, 2, member);
	long nt = -1, nh = -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const float *data = sqlite3_column_blob(st, 1);
		long n = (long)((size_t)sqlite3_column_bytes(st, 1) / sizeof(float));
		double *v = xmallocarray((size_t)(n ? n : 1), sizeof *v);
		for (long k = 0; k < n; k++) {
			float f;
			memcpy(&f, data + k, sizeof f);
			v[k] = f;
		}
		if (name && !strcmp(name, "cox.time") && nt < 0) {
			b->time = v;
			nt = n;
		} else if (name && !strcmp(name, "cox.cumhaz") && nh < 0) {
			b->cumhaz = v;
			nh = n;
		} else {
			free(v);
		}
	}
	sqlite3_finalize(st);
	if (nt < 0 || nh != nt) {
		coxm_baseline_free(b);
		return lm_seterr(err, EX_DATAERR, "model %ld: member %d has no baseline hazard",
				 model_id, member);
	}
	b->n = nt;
	return 0;
}

void coxm_baseline_free(coxm_baseline *b)
{
	free(b->time);
	free(b->cumhaz);
	memset(b, 0, sizeof *b);
}

double coxm_surv(const coxm_baseline *b, double t, double lp)
{
	long lo = 0, hi = b->n;
	while (lo < hi) {
		long mid = lo + (hi - lo) / 2;
		if (b->time[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	double H = lo ? b->cumhaz[lo - 1] : 0;
	return exp(-H * exp(lp));
}

int coxm_columns(const model *m, char **time_col, char **event_col, char **event_value,
		 lm_err *err)
{
	*time_col = *event_col = *event_value = NULL;
	cJSON *h = cJSON_Parse(m->hyper_json ? m->hyper_json : "");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(h, "time");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(h, "event");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, "event_value");
	if (!cJSON_IsString(t) || !cJSON_IsString(e)) {
		cJSON_Delete(h);
		return lm_seterr(err, EX_DATAERR, "model '%s' has no time and event columns", m->name);
	}
	*time_col = xstrdup(t->valuestring);
	*event_col = xstrdup(e->valuestring);
	if (cJSON_IsString(v))
		*event_value = xstrdup(v->valuestring);
	cJSON_Delete(h);
	return 0;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

static void put_p(char *b, size_t n, double p)
{
	if (isnan(p))
		snprintf(b, n, "-");
	else if (p < 1e-16)
		snprintf(b, n, "<1e-16");
	else if (p < 1e-3)
		snprintf(b, n, "%.1e", p);
	else
		snprintf(b, n, "%.4f", p);
}

void coxm_print_summary(FILE *out, const cJSON *metrics)
{
	const cJSON *cx = cJSON_GetObjectItemCaseSensitive(metrics, "cox");
	const cJSON *pooled = cJSON_GetObjectItemCaseSensitive(metrics, "pooled");
	const cJSON *nc = cJSON_GetObjectItemCaseSensitive(metrics, "neural_cox");
	if (cJSON_IsObject(nc)) {
		fprintf(out, "  neural Cox: %.0f patients, %.0f events; C-index %.3f final, %.3f out of"
			     " fold (Uno %.3f)\n",
			num(nc, "n"), num(nc, "events"), num(nc, "c_final"), num(pooled, "c_index"),
			num(pooled, "uno_c"));
		const cJSON *a;
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(pooled, "at"))
			fprintf(out, "  at t = %g: AUC %.3f, Brier %.4f (out of fold, IPCW)\n",
				num(a, "time"), num(a, "auc"), num(a, "brier"));
		return;
	}
	if (!cJSON_IsObject(cx))
		return;
	const cJSON *ties = cJSON_GetObjectItemCaseSensitive(cx, "ties");
	fprintf(out, "  Cox: %.0f patients, %.0f events; ties %s, l2 %g\n", num(cx, "n"),
		num(cx, "events"), cJSON_IsString(ties) ? ties->valuestring : "?", num(cx, "l2"));
	fprintf(out, "  %-22s %10s %9s %9s %19s %8s\n", "input", "coef", "se", "HR", "95% CI", "p");
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(cx, "coefficients"))
	{
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "input");
		const char *name = cJSON_IsString(nm) ? nm->valuestring : "?";
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "aliased"))) {
			int ref = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "reference"));
			fprintf(out, "  %-22.22s %10s\n", name, ref ? "(reference)" : "(aliased)");
			continue;
		}
		char ci[40], pb[16];
		snprintf(ci, sizeof ci, "%.3f-%.3f", num(c, "hr_lower"), num(c, "hr_upper"));
		put_p(pb, sizeof pb, num(c, "p"));
		fprintf(out, "  %-22.22s %10.4g %9.4g %9.4g %19s %8s\n", name, num(c, "coef"),
			num(c, "se"), num(c, "hr"), ci, pb);
	}
	const cJSON *lr = cJSON_GetObjectItemCaseSensitive(cx, "lr");
	char pb[16];
	put_p(pb, sizeof pb, num(lr, "p"));
	fprintf(out,
		"  likelihood ratio %.2f on %.0f df, p %s%s; C-index %.3f final, %.3f out of fold"
		" (Uno %.3f)\n",
		num(lr, "chisq"), num(lr, "df"), pb[0] == '<' ? "" : "= ", pb, num(cx, "c_final"),
		num(pooled, "c_index"), num(pooled, "uno_c"));
	const cJSON *z, *g = cJSON_GetObjectItemCaseSensitive(cx, "zph_global");
	if (cJSON_IsObject(g)) {
		fprintf(out, "  proportional hazards (scaled Schoenfeld residuals, cox.zph):");
		cJSON_ArrayForEach(z, cJSON_GetObjectItemCaseSensitive(cx, "zph"))
		{
			const cJSON *col = cJSON_GetObjectItemCaseSensitive(z, "column");
			char b[16];
			put_p(b, sizeof b, num(z, "p"));
			fprintf(out, " %s p %s%s;", cJSON_IsString(col) ? col->valuestring : "?", b,
				num(z, "p") < 0.05 ? " (!)" : "");
		}
		put_p(pb, sizeof pb, num(g, "p"));
		fprintf(out, " global chi-square %.2f on %.0f df, p %s\n", num(g, "chisq"), num(g, "df"),
			pb);
	}
	const cJSON *at;
	cJSON_ArrayForEach(at, cJSON_GetObjectItemCaseSensitive(pooled, "at"))
		fprintf(out, "  at t = %g: AUC %.3f, Brier %.4f (out of fold, IPCW)\n", num(at, "time"),
			num(at, "auc"), num(at, "brier"));
}
