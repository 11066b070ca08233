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

/* Writes one block: per patient an "ig" row (slots, columns, logit, baseline logit, error,
 * steps, baseline, agreement) and for a transformer "attention" (heads, last layer) and
 * "rollout" rows; for a GRU with attention over visits an "attention" row whose slots are
 * the K visit steps' weights (columns NULL: the weights are per visit, not per input). cols and agree: the block's column sums and IG/rollout agreement. */
static int store_block(sqlite3_stmt *ins, sqlite3 *db, const model *m, const frame *f,
		       const long *rows, const ops_explain_block *b, const float *cols,
		       const double *agree, const char *btext, lm_err *err)
{
	int ns = m->spec.nslot, nc = m->spec.ncolumn;
	int st = 0;
	for (long j = 0; j < b->n && !st; j++) {
		long pid = f->rowid[rows[b->q[j]]];
		for (int meth = 0; meth < 3 && !st; meth++) {
			const char *name = meth == 0 ? "ig" : meth == 1 ? "attention" : "rollout";
			if ((meth == 0 && !b->attr) || (meth == 1 && !b->last && !b->vatt) ||
			    (meth == 2 && !b->roll))
				continue;
			sqlite3_reset(ins);
			sqlite3_clear_bindings(ins);
			sqlite3_bind_int64(ins, 1, m->id);
			sqlite3_bind_text(ins, 2, name, -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins, 3, pid);
			double ag = agree ? agree[j] : (double)NAN;
			if (meth == 0) {
				bind_blob(ins, 4, b->attr + (size_t)j * (size_t)ns, ns);
				bind_blob(ins, 5, cols + (size_t)j * (size_t)nc, nc);
				sqlite3_bind_double(ins, 6, (double)b->logit[j]);
				sqlite3_bind_double(ins, 7, (double)b->base_logit);
				sqlite3_bind_double(ins, 8, (double)b->delta[j]);
				sqlite3_bind_int(ins, 9, b->steps[j]);
				sqlite3_bind_text(ins, 10, btext, -1, SQLITE_STATIC);
				bind_real(ins, 11, ag);
			} else if (meth == 1 && b->vatt) {
				bind_blob(ins, 4, b->vatt + (size_t)j * (size_t)b->nstep, b->nstep);
				if (!isnan(b->logit[j]))
					sqlite3_bind_double(ins, 6, (double)b->logit[j]);
			} else if (meth == 1) {
				bind_blob(ins, 4, b->heads + (size_t)j * (size_t)b->heads_len, b->heads_len);
				bind_blob(ins, 5, b->last + (size_t)j * (size_t)nc, nc);
				if (!isnan(b->logit[j]))
					sqlite3_bind_double(ins, 6, (double)b->logit[j]);
			} else {
				bind_blob(ins, 5, b->roll + (size_t)j * (size_t)nc, nc);
				if (!isnan(b->logit[j]))
					sqlite3_bind_double(ins, 6, (double)b->logit[j]);
				bind_real(ins, 11, ag);
			}
			int rc = sqlite3_step(ins);
			if (rc != SQLITE_DONE)
				st = lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
		}
	}
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
		      float **delta, int **steps, float **last, float **roll, float **vatt,
		      int nstep, ops_explain_table *t, lm_err *err)
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
	t->vatt = *vatt;
	t->nstep = *vatt ? nstep : 0;
	*cols = *logit = *fb = *delta = *last = *roll = *vatt = NULL;
	*steps = NULL;
	return 0;
}

/* Patients a block when a cohort is explained (see ops_explain_cohort). */
#define EXPLAIN_BLOCK 16384

int ops_explain_cohort(sqlite3 *db, model *m, const ig_inputs *co, const long *rows, long n,
		       const float *base, long base_row, const ig_opts *io, int do_ig, int do_attn,
		       ops_explain_sink sink, void *sctx, long *n_fold,
		       void (*progress)(void *ctx, long done, long total), void *ctx, lm_err *err)
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
	int vis = do_attn && attn_over_visits(m->final), K = fs->seq_steps;
	int tf = do_attn && !vis;
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
	float *A = do_ig ? xmallocarray(bn * (size_t)(ns ? ns : 1), sizeof *A) : NULL;
	float *L = xmallocarray(bn, sizeof *L);
	float *D = xmallocarray(bn, sizeof *D);
	int *S = xmallocarray(bn, sizeof *S);
	float *H = tf ? xmallocarray(bn * (size_t)(hl ? hl : 1), sizeof *H) : NULL;
	float *T = tf ? xmallocarray(bn * (size_t)(nt ? nt : 1), sizeof *T) : NULL;
	float *R = tf ? xmallocarray(bn * (size_t)(nt ? nt : 1), sizeof *R) : NULL;
	float *V = vis ? xmallocarray(bn * (size_t)(K ? K : 1), sizeof *V) : NULL;
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
			if (do_ig) {
				st = ig_batch(net, X, nb, bk, io, A, L, &fb, D, S, chunk_progress, &pg, err);
				if (st)
					break;
			}
			if (tf) {
				if ((st = attn_explain(net, X, nb, 0, H, T, R, err)))
					break;
				if (!do_ig)
					for (long j = 0; j < nb; j++)
						L[j] = (float)NAN;
			}
			/* the visit weights, and without IG the logit they go with */
			if (vis && (st = attn_visits(net, X, nb, 0, io->cls, V, do_ig ? NULL : L, err)))
				break;
			ops_explain_block blk = {nb, idx + b0, g, A, L, D, S, fb, H, T, R, hl, nt, V, K};
			if ((st = sink(sctx, &blk, err)))
				break;
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
	free(V);
	return st;
}

/* The sink of ops_explain_run: stores each block inside the open transaction and keeps, per
 * patient, what the summary needs (logit, baseline logit, error, steps) and, per column, the
 * running sums of the global importance. */
typedef struct run_sink {
	sqlite3 *db;
	sqlite3_stmt *ins;
	const model *m;
	const frame *f;
	const long *rows;
	const char *btext;
	float *logit, *fb, *delta;
	int *steps;
	double *ig_abs, *ig_sum, *ro_abs, *ro_sum; /* ncolumn each */
	float *cols;                               /* a block's column sums */
	double *agree;                             /* a block's agreement */
	/* the per-patient table (ops_explain_opts.table), kept whole only when asked for:
	 * n x ncolumn attributions, last-layer attention and rollout */
	float *t_cols, *t_last, *t_roll;
	float *t_vatt; /* n x K visit weights (a GRU with attention) */
} run_sink;

static int run_sink_block(void *ctx, const ops_explain_block *b, lm_err *err)
{
	run_sink *r = ctx;
	int ns = r->m->spec.nslot, nc = r->m->spec.ncolumn;
	for (long j = 0; j < b->n; j++) {
		long q = b->q[j];
		r->logit[q] = b->logit[j];
		if (!b->attr)
			continue;
		r->fb[q] = b->base_logit;
		r->delta[q] = b->delta[j];
		r->steps[q] = b->steps[j];
		float *c = r->cols + (size_t)j * (size_t)nc;
		enc_sum_to_columns(&r->m->spec, b->attr + (size_t)j * (size_t)ns, c);
		if (r->t_cols)
			memcpy(r->t_cols + (size_t)q * (size_t)nc, c, (size_t)nc * sizeof *c);
		for (int k = 0; k < nc; k++) {
			r->ig_abs[k] += fabs((double)c[k]);
			r->ig_sum[k] += (double)c[k];
		}
	}
	for (long j = 0; b->vatt && r->t_vatt && j < b->n; j++)
		memcpy(r->t_vatt + (size_t)b->q[j] * (size_t)b->nstep, b->vatt + (size_t)j * (size_t)b->nstep,
		       (size_t)b->nstep * sizeof *b->vatt);
	for (long j = 0; b->roll && j < b->n; j++) {
		const float *ro = b->roll + (size_t)j * (size_t)nc;
		if (r->t_roll) {
			memcpy(r->t_roll + (size_t)b->q[j] * (size_t)nc, ro, (size_t)nc * sizeof *ro);
			memcpy(r->t_last + (size_t)b->q[j] * (size_t)nc, b->last + (size_t)j * (size_t)nc,
			       (size_t)nc * sizeof *ro);
		}
		for (int k = 0; k < nc; k++) {
			r->ro_abs[k] += fabs((double)ro[k]);
			r->ro_sum[k] += (double)ro[k];
		}
		if (b->attr)
			r->agree[j] = imp_spearman_abs(r->cols + (size_t)j * (size_t)nc, ro, nc);
	}
	return store_block(r->ins, r->db, r->m, r->f, r->rows, b, r->cols,
			   b->attr && b->roll ? r->agree : NULL, r->btext, err);
}

/* The global importance of one method from its running sums over n patients, stored. */
static int store_importance(sqlite3 *db, const model *m, const char *method, double *sabs,
			    double *ssum, long n, const char *btext, lm_err *err)
{
	int nc = m->spec.ncolumn;
	for (int k = 0; n > 0 && k < nc; k++) {
		sabs[k] /= (double)n;
		ssum[k] /= (double)n;
	}
	lm_buf b = {0};
	imp_json(&b, &m->spec, sabs, ssum, n, btext);
	int st = imp_store(db, m->id, method, b.data, err);
	buf_free(&b);
	return st;
}

void ops_explain_defaults(const model *m, ops_explain_opts *o)
{
	memset(o, 0, sizeof *o);
	o->model = m->name;
	o->method = "all";
	ig_opts_defaults(&o->ig);
	o->ig.rule = m->final && nn_get_spec(m->final)->arch == NN_MLP ? IG_EXACT : IG_GAUSS;
	o->baseline.kind = IG_BASE_MEAN;
}

int ops_explain_run(sqlite3 *db, model *m, ig_inputs *co, const ops_explain_opts *o,
		    ops_explain *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	int ns = m->spec.nslot, nc = m->spec.ncolumn;
	const nn_spec *sp = nn_get_spec(m->final);
	int is_tf = sp->arch == NN_TRANSFORMER, vis = attn_over_visits(m->final);
	const char *method = o->method ? o->method : "all";
	int do_ig = strcmp(method, "attention") != 0;
	int do_attn = strcmp(method, "ig") != 0 && (is_tf || vis);
	if (!strcmp(method, "attention") && !is_tf && !vis)
		return lm_seterr(err, EX_USAGE, "--method attention needs a transformer, or a gru or "
				 "cnn-gru trained with --attention ('%s' is %s)", m->name, m->arch);
	if (do_attn && is_tf && sp->n_tokens != nc)
		return lm_seterr(err, EX_SOFTWARE, "model '%s' has %d tokens for %d columns", m->name,
				 sp->n_tokens, nc);
	out->model = xstrdup(m->name);
	out->arch = xstrdup(m->arch ? m->arch : "");
	out->do_ig = do_ig;
	out->do_attn = do_attn;
	out->visit_attn = do_attn && vis;
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

	size_t nn1 = (size_t)(n ? n : 1), nc1 = (size_t)(nc ? nc : 1);
	run_sink rs = {db, NULL, m, &co->f, rows, out->btext, NULL, NULL, NULL, NULL,
		       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
	if (o->table) {
		if (do_ig)
			rs.t_cols = xcalloc(nn1 * nc1, sizeof *rs.t_cols);
		if (do_attn && vis) {
			rs.t_vatt = xcalloc(nn1 * (size_t)sp->seq_steps, sizeof *rs.t_vatt);
		} else if (do_attn) {
			rs.t_last = xcalloc(nn1 * nc1, sizeof *rs.t_last);
			rs.t_roll = xcalloc(nn1 * nc1, sizeof *rs.t_roll);
		}
	}
	rs.logit = xmallocarray(nn1, sizeof *rs.logit);
	rs.fb = xcalloc(nn1, sizeof *rs.fb);
	rs.delta = xcalloc(nn1, sizeof *rs.delta);
	rs.steps = xcalloc(nn1, sizeof *rs.steps);
	rs.ig_abs = xcalloc(nc1, sizeof *rs.ig_abs);
	rs.ig_sum = xcalloc(nc1, sizeof *rs.ig_sum);
	rs.ro_abs = xcalloc(nc1, sizeof *rs.ro_abs);
	rs.ro_sum = xcalloc(nc1, sizeof *rs.ro_sum);
	size_t bn = (size_t)(n < EXPLAIN_BLOCK ? (n ? n : 1) : EXPLAIN_BLOCK);
	rs.cols = xmallocarray(bn * nc1, sizeof *rs.cols);
	rs.agree = xmallocarray(bn, sizeof *rs.agree);
	double t0 = lm_seconds();
	/* one transaction around the whole job: every block is written as it is computed, and
	 * an error (or a kill) leaves the file as it was */
	if (!st)
		st = store_exec(db, "BEGIN IMMEDIATE", err);
	int in_tx = !st;
	if (!st) {
		rs.ins = store_prepare(
			db,
			"INSERT OR REPLACE INTO attributions(model_id, method, patient, slots, columns,"
			" logit, baseline_logit, delta, steps, baseline, agreement)"
			" VALUES (?,?,?,?,?,?,?,?,?,?,?)",
			err);
		if (!rs.ins)
			st = err->status;
	}
	/* each patient with the network that produced its stored risk */
	if (!st)
		st = ops_explain_cohort(db, m, co, rows, n, base,
					o->baseline.kind == IG_BASE_PATIENT
						? ig_inputs_find(co, o->baseline.patient) : -1,
					&o->ig, do_ig, do_attn, run_sink_block, &rs, &out->n_fold,
					o->progress, o->ctx, err);
	sqlite3_finalize(rs.ins);
	out->n_final = n - out->n_fold;
	out->seconds_ig = lm_seconds() - t0;
	if (!st && do_ig)
		st = store_importance(db, m, "ig", rs.ig_abs, rs.ig_sum, n, out->btext, err);
	if (!st && do_attn && !vis)
		st = store_importance(db, m, "rollout", rs.ro_abs, rs.ro_sum, n, NULL, err);
	if (!st) {
		char *detail = xasprintf("model=%s method=%s patients=%ld", m->name, method, n);
		st = store_log_access(db, "explain", 0, detail, err);
		free(detail);
	}
	if (!st)
		st = store_exec(db, "COMMIT", err);
	if (st && in_tx && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	if (!st && do_ig) {
		float *delta = rs.delta, *logit = rs.logit, *fb = rs.fb;
		int *steps = rs.steps;
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
	if (!st && o->table) {
		float *tfb = do_ig ? rs.fb : NULL, *tdelta = do_ig ? rs.delta : NULL;
		int *tsteps = do_ig ? rs.steps : NULL;
		st = table_take(db, m, co, rows, n, out->btext, &rs.t_cols, &rs.logit, &tfb, &tdelta,
				&tsteps, &rs.t_last, &rs.t_roll, &rs.t_vatt, sp->seq_steps, o->table, err);
		if (do_ig) { /* now the table's */
			rs.fb = tfb;
			rs.delta = tdelta;
			rs.steps = tsteps;
		}
	}
	free(rs.t_cols);
	free(rs.t_last);
	free(rs.t_roll);
	free(rs.t_vatt);
	free(rows);
	free(base);
	free(rs.logit);
	free(rs.fb);
	free(rs.delta);
	free(rs.steps);
	free(rs.ig_abs);
	free(rs.ig_sum);
	free(rs.ro_abs);
	free(rs.ro_sum);
	free(rs.cols);
	free(rs.agree);
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
		if (!r->visit_attn)
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
