/* ops_export.c: the per-patient table of an explanation (a SHAP-values table) for the
 * cohort (filled by ops_explain_run) or for new patients (ops_explain_input), as CSV and
 * JSON. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../explain/attention.h"
#include "../data/visits_enc.h"
#include "../stats/metrics.h"
#include "ops.h"

void ops_explain_table_free(ops_explain_table *t)
{
	if (!t)
		return;
	for (int j = 0; t->col && j < t->ncol; j++)
		free(t->col[j]);
	for (long i = 0; t->id && i < t->n; i++)
		free(t->id[i]);
	free(t->col);
	free(t->id);
	free(t->net);
	free(t->attr);
	free(t->logit);
	free(t->base_logit);
	free(t->delta);
	free(t->steps);
	free(t->last);
	free(t->roll);
	free(t->vatt);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

static void net_name(const ops_explain_table *t, long i, char *buf, size_t len)
{
	if (t->net[i] >= 0)
		snprintf(buf, len, "fold %d", t->net[i] + 1);
	else
		snprintf(buf, len, "final");
}

/* float32 with the digits that give it back exactly; an empty field for (double)NAN */
static void put_num(FILE *out, double v)
{
	if (isnan(v))
		return;
	fprintf(out, "%.9g", v);
}

static double row_sum(const float *v, int nc)
{
	double s = 0;
	for (int j = 0; j < nc; j++)
		s += (double)v[j];
	return s;
}

int ops_explain_table_csv(FILE *out, const ops_explain_table *t, lm_err *err)
{
	fputs("id,method,network", out);
	for (int j = 0; j < t->ncol; j++) {
		fputc(',', out);
		lm_csv_fputs(out, t->col[j]);
	}
	int K = t->vatt ? t->nstep : 0; /* a GRU's visit steps, after the inputs */
	for (int k = 0; k < K; k++)
		fprintf(out, ",step_%d", k + 1);
	fputs(",logit,baseline_logit,sum,delta\n", out);
	char net[32];
	int nc = t->ncol;
	for (long i = 0; i < t->n; i++) {
		net_name(t, i, net, sizeof net);
		for (int meth = 0; meth < 3; meth++) {
			const float *v = meth == 0 ? t->attr : meth == 1 ? t->last : t->roll;
			const float *vs = meth == 1 && t->vatt ? t->vatt + (size_t)i * (size_t)K : NULL;
			if (!v && !vs)
				continue;
			if (v)
				v += (size_t)i * (size_t)nc;
			lm_csv_fputs(out, t->id[i]);
			fprintf(out, ",%s,%s",
				meth == 0 ? "ig" : meth == 1 ? "attention_weight" : "rollout_weight", net);
			for (int j = 0; j < nc; j++) {
				fputc(',', out);
				if (v)
					put_num(out, (double)v[j]);
			}
			for (int k = 0; k < K; k++) {
				fputc(',', out);
				if (vs)
					put_num(out, (double)vs[k]);
			}
			fputc(',', out);
			put_num(out, (double)t->logit[i]);
			fputc(',', out);
			if (meth == 0)
				put_num(out, (double)t->base_logit[i]);
			fputc(',', out);
			put_num(out, vs ? row_sum(vs, K) : row_sum(v, nc));
			fputc(',', out);
			if (meth == 0)
				put_num(out, (double)t->delta[i]);
			fputc('\n', out);
		}
	}
	if (ferror(out))
		return lm_seterr(err, EX_IOERR, "write error");
	return 0;
}

/* 9 significant digits, as the CSV (JSON numbers print with up to 17) */
static double g9(double v)
{
	char b[32];
	snprintf(b, sizeof b, "%.9g", v);
	return strtod(b, NULL);
}

cJSON *ops_explain_table_json(const ops_explain_table *t, const char *model_name)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "model", model_name ? model_name : "");
	cJSON_AddStringToObject(j, "baseline", t->baseline);
	cJSON_AddBoolToObject(j, "new_patients", t->new_patients);
	cJSON *cs = cJSON_AddArrayToObject(j, "columns");
	for (int c = 0; c < t->ncol; c++)
		cJSON_AddItemToArray(cs, cJSON_CreateString(t->col[c]));
	cJSON *ms = cJSON_AddArrayToObject(j, "methods");
	if (t->attr)
		cJSON_AddItemToArray(ms, cJSON_CreateString("ig"));
	if (t->last || t->vatt)
		cJSON_AddItemToArray(ms, cJSON_CreateString("attention_weight"));
	if (t->roll)
		cJSON_AddItemToArray(ms, cJSON_CreateString("rollout_weight"));
	cJSON *ps = cJSON_AddArrayToObject(j, "patients");
	char net[32];
	for (long i = 0; i < t->n; i++) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "id", t->id[i]);
		net_name(t, i, net, sizeof net);
		cJSON_AddStringToObject(p, "network", net);
		metrics_json_number(p, "logit", g9((double)t->logit[i]));
		if (t->attr) {
			const float *v = t->attr + (size_t)i * (size_t)t->ncol;
			metrics_json_number(p, "baseline_logit", g9((double)t->base_logit[i]));
			metrics_json_number(p, "sum", g9(row_sum(v, t->ncol)));
			metrics_json_number(p, "delta", g9((double)t->delta[i]));
		}
		for (int meth = 0; meth < 3; meth++) {
			const float *v = meth == 0 ? t->attr : meth == 1 ? t->last : t->roll;
			if (meth == 1 && t->vatt) { /* per visit step */
				cJSON *o = cJSON_AddObjectToObject(p, "attention_weight");
				char key[32];
				for (int k = 0; k < t->nstep; k++) {
					snprintf(key, sizeof key, "step_%d", k + 1);
					metrics_json_number(o, key, g9((double)t->vatt[(size_t)i * (size_t)t->nstep + (size_t)k]));
				}
				continue;
			}
			if (!v)
				continue;
			v += (size_t)i * (size_t)t->ncol;
			cJSON *o = cJSON_AddObjectToObject(
				p, meth == 0 ? "ig" : meth == 1 ? "attention_weight" : "rollout_weight");
			for (int c = 0; c < t->ncol; c++)
				metrics_json_number(o, t->col[c], g9((double)v[c]));
		}
		cJSON_AddItemToArray(ps, p);
	}
	return j;
}

int ops_explain_input(sqlite3 *db, model *m, const ig_inputs *co, const ops_input *in,
		      const long *rows, long nrows, const ops_explain_opts *o,
		      ops_explain_table *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	int ns = m->spec.nslot, nc = m->spec.ncolumn;
	nn_model *net = m->final;
	const nn_spec *sp = nn_get_spec(net);
	int is_tf = sp->arch == NN_TRANSFORMER, vis = attn_over_visits(net);
	const char *method = o->method ? o->method : "all";
	int do_ig = strcmp(method, "attention") != 0;
	int do_attn = strcmp(method, "ig") != 0 && (is_tf || vis);
	if (!strcmp(method, "attention") && !is_tf && !vis)
		return lm_seterr(err, EX_USAGE, "--method attention needs a transformer, or a gru or "
				 "cnn-gru trained with --attention ('%s' is %s)", m->name, m->arch);
	if (do_attn && is_tf && sp->n_tokens != nc)
		return lm_seterr(err, EX_SOFTWARE, "model '%s' has %d tokens for %d columns", m->name,
				 sp->n_tokens, nc);
	long n = rows ? nrows : in->n;
	size_t n1 = (size_t)(n ? n : 1), ns1 = (size_t)(ns ? ns : 1), nc1 = (size_t)(nc ? nc : 1);
	float *base = xmallocarray(ns1, sizeof *base);
	int st = ig_baseline_get(db, co, m, &o->baseline, base, err);
	if (st) {
		free(base);
		return st;
	}
	out->n = n;
	out->ncol = nc;
	out->new_patients = 1;
	ig_baseline_text(&o->baseline, out->baseline, sizeof out->baseline);
	out->col = xcalloc(nc1, sizeof *out->col);
	for (int j = 0; j < nc; j++)
		out->col[j] = xstrdup(m->spec.columns[j]);
	out->id = xcalloc(n1, sizeof *out->id);
	out->net = xmallocarray(n1, sizeof *out->net);
	float *X = xmallocarray(n1 * ns1, sizeof *X);
	for (long q = 0; q < n; q++) {
		long r = rows ? rows[q] : q;
		out->id[q] = xstrdup(in->id[r]);
		out->net[q] = -1; /* new patients: the final network */
		memcpy(X + (size_t)q * ns1, in->X + (size_t)r * ns1, ns1 * sizeof *X);
	}
	out->logit = xmallocarray(n1, sizeof *out->logit);
	if (do_ig) {
		float *A = xmallocarray(n1 * ns1, sizeof *A), fb = 0;
		out->attr = xmallocarray(n1 * nc1, sizeof *out->attr);
		out->base_logit = xmallocarray(n1, sizeof *out->base_logit);
		out->delta = xmallocarray(n1, sizeof *out->delta);
		out->steps = xmallocarray(n1, sizeof *out->steps);
		st = ig_batch(net, X, n, base, &o->ig, A, out->logit, &fb, out->delta, out->steps,
			      o->progress, o->ctx, err);
		for (long q = 0; !st && q < n; q++) {
			enc_sum_to_columns(&m->spec, A + (size_t)q * ns1, out->attr + (size_t)q * nc1);
			out->base_logit[q] = fb;
		}
		int S, K, F;
		if (venc_geometry(&m->spec, &S, &K, &F)) /* the visits' view needs the slots */
			out->slots = A;
		else
			free(A);
	}
	if (!st && do_attn && vis) {
		out->nstep = sp->seq_steps;
		out->vatt = xmallocarray(n1 * (size_t)out->nstep, sizeof *out->vatt);
		st = attn_visits(net, X, n, 0, o->ig.cls, out->vatt, do_ig ? NULL : out->logit, err);
	} else if (!st && do_attn) {
		out->last = xmallocarray(n1 * nc1, sizeof *out->last);
		out->roll = xmallocarray(n1 * nc1, sizeof *out->roll);
		st = attn_explain(net, X, n, 0, NULL, out->last, out->roll, err);
		if (!st && !do_ig)
			for (long q = 0; q < n; q += 1024) {
				int k = (int)(n - q < 1024 ? n - q : 1024);
				model_predict(m, X + (size_t)q * ns1, k, 1, NULL, out->logit + q);
			}
	}
	free(X);
	free(base);
	if (st)
		ops_explain_table_free(out);
	return st;
}

int ops_explain_input_visits(const model *m, const ops_explain_table *t, long q,
			     const ops_input *in, long row, ops_visit_attr *out)
{
	memset(out, 0, sizeof *out);
	out->top = out->attn_top = -1;
	if (!t->slots || q < 0 || q >= t->n || row < 0 || row >= in->n)
		return -1;
	long rowid = in->f.rowid ? in->f.rowid[row] : row + 1;
	if (ops_visit_attr_of(m, t->slots + (size_t)q * (size_t)m->spec.nslot, in->f.visits, rowid,
			      out))
		return -1;
	if (t->vatt)
		ops_visit_attr_attention(out, m, t->vatt + (size_t)q * (size_t)t->nstep, t->nstep);
	return 0;
}

/* ---- one input's stored attributions against its values (dependence views) ---- */

void ops_dependence_free(ops_dependence *d)
{
	if (!d)
		return;
	free(d->column);
	free(d->value);
	free(d->attr);
	for (int k = 0; k < d->ncat; k++)
		free(d->cats[k]);
	free(d->cats);
	memset(d, 0, sizeof *d);
}

int ops_dependence_load(sqlite3 *db, const char *model_name, const char *column,
			ops_dependence *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	model *m = model_load(db, model_name, err);
	if (!m)
		return err->status;
	int j = -1;
	for (int c = 0; c < m->spec.ncolumn; c++)
		if (!strcmp(m->spec.columns[c], column))
			j = c;
	if (j < 0) {
		int st = lm_seterr(err, EX_DATAERR, "model '%s' has no input '%s'", m->name, column);
		model_free(m);
		return st;
	}
	int nc = m->spec.ncolumn, text = m->spec.column_type[j] == COL_TYPE_TEXT;
	char *sql = sqlite3_mprintf("SELECT a.columns, p.\"%w\" FROM attributions a JOIN patients p"
				    " ON p.rowid = a.patient WHERE a.model_id = %lld AND a.method ="
				    " 'ig' ORDER BY a.patient", column, (long long)m->id);
	sqlite3_stmt *st = store_prepare(db, sql, err);
	sqlite3_free(sql);
	if (!st) {
		model_free(m);
		return err->status;
	}
	out->column = xstrdup(column);
	long cap = 256;
	out->value = xmallocarray((size_t)cap, sizeof *out->value);
	out->attr = xmallocarray((size_t)cap, sizeof *out->attr);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const float *blob = sqlite3_column_blob(st, 0);
		if (!blob || sqlite3_column_bytes(st, 0) < (int)((size_t)nc * sizeof(float)))
			continue;
		if (out->n == cap) {
			cap *= 2;
			out->value = xreallocarray(out->value, (size_t)cap, sizeof *out->value);
			out->attr = xreallocarray(out->attr, (size_t)cap, sizeof *out->attr);
		}
		double v = (double)NAN;
		if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
			if (!text) {
				v = sqlite3_column_double(st, 1);
			} else {
				/* a category: its index in the list, in order of first appearance */
				const char *s = (const char *)sqlite3_column_text(st, 1);
				int k = 0;
				while (k < out->ncat && strcmp(out->cats[k], s))
					k++;
				if (k == out->ncat) {
					out->cats = xreallocarray(out->cats, (size_t)k + 1, sizeof *out->cats);
					out->cats[out->ncat++] = xstrdup(s);
				}
				v = k;
			}
		}
		out->value[out->n] = v;
		out->attr[out->n++] = (double)blob[j];
	}
	sqlite3_finalize(st);
	model_free(m);
	return 0;
}
