/* ops_explain.c: the cohort's explanations as a job (lumen explain; the TUI and Lua explain
 * one patient through ops_patient.c), under the rule "the number shown is the number
 * explained": each patient with the network that produced its stored risk. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../explain/attention.h"
#include "../../explain/importance.h"
#include "ops.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The q-quantile (0..1) of v[n] (sorted copy, linear interpolation). */
static double quantile(const float *v, long n, double q)
{
	if (n <= 0)
		return (double)NAN;
	double *s = xmallocarray((size_t)n, sizeof *s);
	for (long i = 0; i < n; i++)
		s[i] = (double)v[i];
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	double pos = q * (double)(n - 1);
	long lo = (long)floor(pos);
	long hi = lo + 1 < n ? lo + 1 : lo;
	double r = s[lo] + (pos - (double)lo) * (s[hi] - s[lo]);
	free(s);
	return r;
}

static int bind_blob(sqlite3_stmt *s, int i, const float *v, int n)
{
	if (!v)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_blob(s, i, v, n * (int)sizeof(float), SQLITE_TRANSIENT);
}

static void bind_real(sqlite3_stmt *s, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_double(s, i, v);
}

static int store_results(sqlite3 *db, const model *m, const frame *f, const long *rows, long n,
			 const float *attr, const float *cols, const float *logit, const float *fb,
			 const float *delta, const int *steps, const char *btext, const float *last,
			 const float *heads, int heads_len, const float *roll, const double *agree,
			 lm_err *err)
{
	int ns = m->spec.nslot, nc = m->spec.ncolumn;
	sqlite3_stmt *ins = store_prepare(
		db,
		"INSERT OR REPLACE INTO attributions(model_id, method, patient, slots, columns, logit,"
		" baseline_logit, delta, steps, baseline, agreement) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
		err);
	if (!ins)
		return err->status;
	int st = 0;
	for (long q = 0; q < n && !st; q++) {
		long pid = f->rowid[rows[q]];
		for (int meth = 0; meth < 3 && !st; meth++) {
			const char *name = meth == 0 ? "ig" : meth == 1 ? "attention" : "rollout";
			if ((meth == 0 && !attr) || (meth == 1 && !last) || (meth == 2 && !roll))
				continue;
			sqlite3_reset(ins);
			sqlite3_clear_bindings(ins);
			sqlite3_bind_int64(ins, 1, m->id);
			sqlite3_bind_text(ins, 2, name, -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins, 3, pid);
			double ag = agree ? agree[q] : (double)NAN;
			if (meth == 0) {
				bind_blob(ins, 4, attr + (size_t)q * (size_t)ns, ns);
				bind_blob(ins, 5, cols + (size_t)q * (size_t)nc, nc);
				sqlite3_bind_double(ins, 6, (double)logit[q]);
				sqlite3_bind_double(ins, 7, (double)fb[q]);
				sqlite3_bind_double(ins, 8, (double)delta[q]);
				sqlite3_bind_int(ins, 9, steps[q]);
				sqlite3_bind_text(ins, 10, btext, -1, SQLITE_STATIC);
				bind_real(ins, 11, ag);
			} else if (meth == 1) {
				bind_blob(ins, 4, heads + (size_t)q * (size_t)heads_len, heads_len);
				bind_blob(ins, 5, last + (size_t)q * (size_t)nc, nc);
				if (logit && !isnan(logit[q]))
					sqlite3_bind_double(ins, 6, (double)logit[q]);
			} else {
				bind_blob(ins, 5, roll + (size_t)q * (size_t)nc, nc);
				if (logit && !isnan(logit[q]))
					sqlite3_bind_double(ins, 6, (double)logit[q]);
				bind_real(ins, 11, ag);
			}
			int rc = sqlite3_step(ins);
			if (rc != SQLITE_DONE)
				st = lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
		}
	}
	sqlite3_finalize(ins);
	return st;
}

typedef struct prog {
	void (*fn)(void *ctx, long done, long total);
	void *ctx;
	long before, total;
} prog;

static void chunk_progress(void *ctx, long done, long total)
{
	prog *p = ctx;
	(void)total;
	if (p->fn)
		p->fn(p->ctx, p->before + done, p->total);
}

/* The network of each listed patient: the fold of its stored out-of-fold prediction when the
 * model kept that fold's network, else -1 (the final network). */
static void nets_of_rows(const model *m, const ig_inputs *co, const ops_predictions *pr,
			 const long *rows, long n, int *net_of)
{
	for (long q = 0; q < n; q++) {
		long i = ops_predictions_find(pr, co->f.rowid[rows[q]]);
		int k = i >= 0 ? pr->fold[i] : -1;
		net_of[q] = k >= 0 && k < m->nfold && m->fold && m->fold[k] ? k : -1;
	}
}

/* Fills t's per-patient arrays (taken over: the caller's pointers are set to NULL). */
static int table_take(sqlite3 *db, const model *m, const ig_inputs *co, const long *rows,
		      long n, const char *btext, float **cols, float **logit, float **fb,
		      float **delta, int **steps, float **last, float **roll,
		      ops_explain_table *t, lm_err *err)
{
	ops_predictions pr;
	int st = ops_predictions_load_id(db, m->id, &pr, err);
	if (st) {
		ops_predictions_free(&pr);
		return st;
	}
	memset(t, 0, sizeof *t);
	t->n = n;
	t->ncol = m->spec.ncolumn;
	t->col = xcalloc((size_t)(t->ncol ? t->ncol : 1), sizeof *t->col);
	for (int j = 0; j < t->ncol; j++)
		t->col[j] = xstrdup(m->spec.columns[j]);
	t->id = xcalloc((size_t)(n ? n : 1), sizeof *t->id);
	char buf[256];
	for (long q = 0; q < n; q++)
		t->id[q] = co->id_col >= 0
				   ? xstrdup(frame_cell_text(&co->f, co->id_col, rows[q], buf, sizeof buf))
				   : xasprintf("%ld", co->f.rowid[rows[q]]);
	t->net = xmallocarray((size_t)(n ? n : 1), sizeof *t->net);
	nets_of_rows(m, co, &pr, rows, n, t->net);
	ops_predictions_free(&pr);
	snprintf(t->baseline, sizeof t->baseline, "%s", btext);
	t->attr = *cols, t->logit = *logit, t->base_logit = *fb, t->delta = *delta;
	t->steps = *steps, t->last = *last, t->roll = *roll;
	*cols = *logit = *fb = *delta = *last = *roll = NULL;
	*steps = NULL;
	return 0;
}

/* Patients a block when a cohort is explained (see ops_explain_cohort). */
#define EXPLAIN_BLOCK 16384

int ops_explain_cohort(sqlite3 *db, model *m, const ig_inputs *co, const long *rows, long n,
		       const float *base, long base_row, const ig_opts *io, float *attr, float *logit,
		       float *base_logit, float *delta, int *steps, float *heads, float *last,
		       float *roll, long *n_fold, void (*progress)(void *ctx, long done, long total),
		       void *ctx, lm_err *err)
{
	*n_fold = 0;
	ops_predictions pr;
	int st = ops_predictions_load_id(db, m->id, &pr, err);
	if (st) {
		ops_predictions_free(&pr);
		return st;
	}
	int ns = m->spec.nslot;
	const nn_spec *fs = nn_get_spec(m->final);
	int hl = fs->n_blocks * fs->n_heads * fs->n_tokens, nt = fs->n_tokens;
	int *net_of = xmallocarray((size_t)(n ? n : 1), sizeof *net_of);
	nets_of_rows(m, co, &pr, rows, n, net_of);
	ops_predictions_free(&pr);
	long *sub = xmallocarray((size_t)(n ? n : 1), sizeof *sub);
	long *idx = xmallocarray((size_t)(n ? n : 1), sizeof *idx);
	/* the patients of one network go through in blocks of EXPLAIN_BLOCK: the encoded rows and
	 * their attributions are staged per block, not for the whole cohort (at 1,000,000
	 * patients the two stages took 600 MB). A patient's numbers are its own: the blocks
	 * change only the float rounding of the batched forward pass (its logit within ~1e-7),
	 * and the block size is fixed, so a cohort gives the same bytes run after run */
	size_t bn = (size_t)(n < EXPLAIN_BLOCK ? (n ? n : 1) : EXPLAIN_BLOCK);
	float *X = xmallocarray(bn * (size_t)(ns ? ns : 1), sizeof *X);
	float *bk = xmallocarray((size_t)(ns ? ns : 1), sizeof *bk);
	float *A = attr ? xmallocarray(bn * (size_t)(ns ? ns : 1), sizeof *A) : NULL;
	float *L = xmallocarray(bn, sizeof *L);
	float *D = xmallocarray(bn, sizeof *D);
	int *S = xmallocarray(bn, sizeof *S);
	float *H = heads ? xmallocarray(bn * (size_t)(hl ? hl : 1), sizeof *H) : NULL;
	float *T = last ? xmallocarray(bn * (size_t)(nt ? nt : 1), sizeof *T) : NULL;
	float *R = roll ? xmallocarray(bn * (size_t)(nt ? nt : 1), sizeof *R) : NULL;
	prog pg = {progress, ctx, 0, n};
	for (int g = -1; g < m->nfold && !st; g++) {
		long ng = 0;
		for (long q = 0; q < n; q++)
			if (net_of[q] == g) {
				idx[ng] = q;
				sub[ng++] = rows[q];
			}
		if (ng == 0)
			continue;
		const enc_spec *sp = g >= 0 ? &m->fold_spec[g] : &m->spec;
		nn_model *net = ops_net_for(m, g, NULL, base, NULL, bk);
		if (base_row >= 0 && (st = enc_encode(sp, &co->f, &base_row, 1, bk, err)))
			break;
		for (long b0 = 0; b0 < ng && !st; b0 += (long)bn) {
			long nb = ng - b0 < (long)bn ? ng - b0 : (long)bn;
			if ((st = enc_encode(sp, &co->f, sub + b0, nb, X, err)))
				break;
			float fb = 0;
			if (attr) {
				st = ig_batch(net, X, nb, bk, io, A, L, &fb, D, S, chunk_progress, &pg, err);
				if (st)
					break;
			}
			if (H || T || R) {
				if ((st = attn_explain(net, X, nb, 0, H, T, R, err)))
					break;
				if (!attr)
					for (long j = 0; j < nb; j++)
						L[j] = (float)NAN;
			}
			for (long j = 0; j < nb; j++) {
				long q = idx[b0 + j];
				if (attr) {
					memcpy(attr + (size_t)q * (size_t)ns, A + (size_t)j * (size_t)ns,
					       (size_t)ns * sizeof *attr);
					delta[q] = D[j];
					steps[q] = S[j];
					base_logit[q] = fb;
				}
				logit[q] = L[j];
				if (H)
					memcpy(heads + (size_t)q * (size_t)hl, H + (size_t)j * (size_t)hl,
					       (size_t)hl * sizeof *H);
				if (T)
					memcpy(last + (size_t)q * (size_t)nt, T + (size_t)j * (size_t)nt,
					       (size_t)nt * sizeof *T);
				if (R)
					memcpy(roll + (size_t)q * (size_t)nt, R + (size_t)j * (size_t)nt,
					       (size_t)nt * sizeof *R);
			}
			pg.before += nb;
		}
		if (st)
			break;
		if (g >= 0)
			*n_fold += ng;
	}
	free(net_of);
	free(sub);
	free(idx);
	free(X);
	free(bk);
	free(A);
	free(L);
	free(D);
	free(S);
	free(H);
	free(T);
	free(R);
	return st;
}

int ops_explain_run(sqlite3 *db, model *m, ig_inputs *co, const ops_explain_opts *o,
		    ops_explain *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	int ns = m->spec.nslot, nc = m->spec.ncolumn;
	const nn_spec *sp = nn_get_spec(m->final);
	int is_tf = sp->arch == NN_TRANSFORMER;
	const char *method = o->method ? o->method : "all";
	int do_ig = strcmp(method, "attention") != 0;
	int do_attn = strcmp(method, "ig") != 0 && is_tf;
	if (!strcmp(method, "attention") && !is_tf)
		return lm_seterr(err, EX_USAGE, "--method attention needs a transformer model ('%s' is %s)",
				 m->name, m->arch);
	if (do_attn && sp->n_tokens != nc)
		return lm_seterr(err, EX_SOFTWARE, "model '%s' has %d tokens for %d columns", m->name,
				 sp->n_tokens, nc);
	out->model = xstrdup(m->name);
	out->arch = xstrdup(m->arch ? m->arch : "");
	out->do_ig = do_ig;
	out->do_attn = do_attn;
	out->rule = o->ig.rule;
	out->steps = o->ig.steps;
	out->auto_steps = o->ig.auto_steps;
	long n = o->rows ? o->nrows : co->f.nrow;
	long *rows = xmallocarray((size_t)(n ? n : 1), sizeof *rows);
	for (long i = 0; i < n; i++)
		rows[i] = o->rows ? o->rows[i] : i;
	out->n = n;
	float *base = xmallocarray((size_t)(ns ? ns : 1), sizeof *base);
	int st = ig_baseline_get(db, co, m, &o->baseline, base, err);
	ig_baseline_text(&o->baseline, out->btext, sizeof out->btext);

	float *attr = NULL, *cols = NULL, *logit = NULL, *delta = NULL, *fb = NULL;
	float *last = NULL, *heads = NULL, *roll = NULL;
	double *agree = NULL;
	int *steps = NULL, heads_len = sp->n_blocks * sp->n_heads * sp->n_tokens;
	double t0 = lm_seconds();
	size_t nn1 = (size_t)(n ? n : 1);
	logit = xmallocarray(nn1, sizeof *logit);
	if (do_ig) {
		attr = xmallocarray(nn1 * (size_t)(ns ? ns : 1), sizeof *attr);
		cols = xmallocarray(nn1 * (size_t)(nc ? nc : 1), sizeof *cols);
		delta = xmallocarray(nn1, sizeof *delta);
		steps = xmallocarray(nn1, sizeof *steps);
		fb = xmallocarray(nn1, sizeof *fb);
	}
	if (do_attn) {
		last = xmallocarray(nn1 * (size_t)nc, sizeof *last);
		roll = xmallocarray(nn1 * (size_t)nc, sizeof *roll);
		heads = xmallocarray(nn1 * (size_t)(heads_len ? heads_len : 1), sizeof *heads);
	}
	/* each patient with the network that produced its stored risk */
	if (!st)
		st = ops_explain_cohort(db, m, co, rows, n, base,
					o->baseline.kind == IG_BASE_PATIENT
						? ig_inputs_find(co, o->baseline.patient) : -1, &o->ig, attr, logit, fb, delta, steps,
					heads, last, roll, &out->n_fold, o->progress, o->ctx, err);
	out->n_final = n - out->n_fold;
	for (long q = 0; do_ig && q < n && !st; q++)
		enc_sum_to_columns(&m->spec, attr + (size_t)q * (size_t)ns,
				      cols + (size_t)q * (size_t)nc);
	out->seconds_ig = lm_seconds() - t0;
	if (!st && do_attn && do_ig) {
		agree = xmallocarray(nn1, sizeof *agree);
		for (long q = 0; q < n; q++)
			agree[q] = imp_spearman_abs(cols + (size_t)q * (size_t)nc,
						    roll + (size_t)q * (size_t)nc, nc);
	}
	/* everything in one transaction */
	if (!st)
		st = store_exec(db, "BEGIN IMMEDIATE", err);
	if (!st) {
		st = store_results(db, m, &co->f, rows, n, attr, cols, logit, fb, delta, steps,
				   out->btext, last, heads, heads_len, roll, agree, err);
		double *ma = xmallocarray((size_t)(nc ? nc : 1), sizeof *ma);
		double *ms = xmallocarray((size_t)(nc ? nc : 1), sizeof *ms);
		for (int meth = 0; meth < 2 && !st; meth++) {
			const float *v = meth == 0 ? cols : roll;
			if (!v)
				continue;
			long used = imp_global(v, n, nc, NULL, ma, ms);
			lm_buf b = {0};
			imp_json(&b, &m->spec, ma, ms, used, meth == 0 ? out->btext : NULL);
			st = imp_store(db, m->id, meth == 0 ? "ig" : "rollout", b.data, err);
			buf_free(&b);
		}
		free(ma);
		free(ms);
		if (!st) {
			char *detail = xasprintf("model=%s method=%s patients=%ld", m->name, method, n);
			st = store_log_access(db, "explain", 0, detail, err);
			free(detail);
		}
		if (!st)
			st = store_exec(db, "COMMIT", err);
		if (st)
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	if (!st && do_ig) {
		out->med = quantile(delta, n, 0.5);
		out->p99 = quantile(delta, n, 0.99);
		out->max = quantile(delta, n, 1.0);
		/* relative errors |delta| / |f(x) - f(b)| */
		float *rel = xmallocarray(nn1, sizeof *rel);
		long nrel = 0;
		for (long q = 0; q < n; q++) {
			double d = fabs((double)logit[q] - (double)fb[q]);
			if (d > 1e-6)
				rel[nrel++] = (float)((double)delta[q] / d);
			if (steps[q] > out->max_steps)
				out->max_steps = steps[q];
			out->mean_steps += (double)steps[q] / (double)n;
			if ((double)delta[q] > 0.01 * d && (double)delta[q] > 1e-4)
				out->above_1pct++;
		}
		out->rel_med = quantile(rel, nrel, 0.5);
		out->rel_p99 = quantile(rel, nrel, 0.99);
		if (isnan(out->rel_med))
			out->rel_med = 0;
		if (isnan(out->rel_p99))
			out->rel_p99 = 0;
		free(rel);
	}
	if (!st && o->table)
		st = table_take(db, m, co, rows, n, out->btext, &cols, &logit, &fb, &delta, &steps,
				&last, &roll, o->table, err);
	free(rows);
	free(base);
	free(attr);
	free(cols);
	free(logit);
	free(delta);
	free(steps);
	free(last);
	free(heads);
	free(roll);
	free(agree);
	free(fb);
	return st;
}

void ops_explain_free(ops_explain *r)
{
	if (!r)
		return;
	free(r->model);
	free(r->arch);
	memset(r, 0, sizeof *r);
}

cJSON *ops_explain_json(const ops_explain *r)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "model", r->model ? r->model : "");
	cJSON_AddStringToObject(j, "arch", r->arch ? r->arch : "");
	cJSON_AddNumberToObject(j, "patients", (double)r->n);
	cJSON *ms = cJSON_AddArrayToObject(j, "methods");
	if (r->do_ig)
		cJSON_AddItemToArray(ms, cJSON_CreateString("ig"));
	if (r->do_attn) {
		cJSON_AddItemToArray(ms, cJSON_CreateString("attention"));
		cJSON_AddItemToArray(ms, cJSON_CreateString("rollout"));
	}
	cJSON *nj = cJSON_AddObjectToObject(j, "networks");
	cJSON_AddNumberToObject(nj, "fold", (double)r->n_fold);
	cJSON_AddNumberToObject(nj, "final", (double)r->n_final);
	if (r->do_ig) {
		cJSON_AddStringToObject(j, "baseline", r->btext);
		cJSON_AddStringToObject(j, "rule", ig_rule_name(r->rule));
		if (r->rule != IG_EXACT) { /* exact: the pieces are in max_steps_used */
			cJSON_AddNumberToObject(j, "steps", r->steps);
			cJSON_AddBoolToObject(j, "auto_steps", r->auto_steps);
		}
		cJSON_AddNumberToObject(j, "max_steps_used", (double)r->max_steps);
		cJSON_AddNumberToObject(j, "mean_steps_used", r->mean_steps);
		cJSON *cj = cJSON_AddObjectToObject(j, "completeness");
		cJSON_AddNumberToObject(cj, "median", r->med);
		cJSON_AddNumberToObject(cj, "p99", r->p99);
		cJSON_AddNumberToObject(cj, "max", r->max);
		cJSON_AddNumberToObject(cj, "relative_median", r->rel_med);
		cJSON_AddNumberToObject(cj, "relative_p99", r->rel_p99);
		cJSON_AddNumberToObject(cj, "above_1pct", (double)r->above_1pct);
	}
	cJSON_AddNumberToObject(j, "seconds", r->seconds_ig);
	return j;
}
