/* ops_explain.c: the cohort's explanations as a job (lumen explain; the TUI and Lua explain
 * one patient through ops_patient.c), under the rule "the number shown is the number
 * explained": each patient with the network that produced its stored risk. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../explain/attention.h"
#include "ops.h"

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

int ops_explain_cohort(sqlite3 *db, model *m, const ig_cohort *co, const long *rows, long n,
		       const float *base, const ig_opts *io, float *attr, float *logit,
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
	for (long q = 0; q < n; q++) {
		long i = ops_predictions_find(&pr, co->f.rowid[rows[q]]);
		int k = i >= 0 ? pr.fold[i] : -1;
		net_of[q] = k >= 0 && k < m->nfold && m->fold && m->fold[k] ? k : -1;
	}
	ops_predictions_free(&pr);
	long *sub = xmallocarray((size_t)(n ? n : 1), sizeof *sub);
	long *idx = xmallocarray((size_t)(n ? n : 1), sizeof *idx);
	float *X = xmallocarray((size_t)(n ? n : 1) * (size_t)(ns ? ns : 1), sizeof *X);
	float *bk = xmallocarray((size_t)(ns ? ns : 1), sizeof *bk);
	float *A = attr ? xmallocarray((size_t)(n ? n : 1) * (size_t)(ns ? ns : 1), sizeof *A) : NULL;
	float *L = xmallocarray((size_t)(n ? n : 1), sizeof *L);
	float *D = xmallocarray((size_t)(n ? n : 1), sizeof *D);
	int *S = xmallocarray((size_t)(n ? n : 1), sizeof *S);
	float *H = heads ? xmallocarray((size_t)(n ? n : 1) * (size_t)(hl ? hl : 1), sizeof *H) : NULL;
	float *T = last ? xmallocarray((size_t)(n ? n : 1) * (size_t)(nt ? nt : 1), sizeof *T) : NULL;
	float *R = roll ? xmallocarray((size_t)(n ? n : 1) * (size_t)(nt ? nt : 1), sizeof *R) : NULL;
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
		const cohort_spec *sp = g >= 0 ? &m->fold_spec[g] : &m->spec;
		if ((st = cohort_encode(sp, &co->f, sub, ng, X, err)))
			break;
		nn_model *net = ops_net_for(m, g, NULL, base, NULL, bk);
		float fb = 0;
		if (attr) {
			st = ig_batch(net, X, ng, bk, io, A, L, &fb, D, S, chunk_progress, &pg, err);
			if (st)
				break;
		}
		if (H || T || R) {
			if ((st = attn_explain(net, X, ng, 0, H, T, R, err)))
				break;
			if (!attr)
				for (long j = 0; j < ng; j++)
					L[j] = (float)NAN;
		}
		for (long j = 0; j < ng; j++) {
			long q = idx[j];
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
		if (g >= 0)
			*n_fold += ng;
		pg.before += ng;
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
