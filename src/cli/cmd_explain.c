/* cmd_explain.c: lumen explain — integrated gradients and attention for a stored model,
 * stored into `attributions` (one transaction), or one patient's readable explanation. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../../explain/attention.h"
#include "../../explain/ig.h"
#include "../../explain/ig_par.h"
#include "../../explain/importance.h"
#include "../nn/model.h"
#include "../ops/ops.h"
#include "cli.h"
#include "explain_effect.h"

static const char usage[] =
	"Usage: lumen explain FILE --model NAME [--method ig|attention|all] [--steps N|auto]\n"
	"                     [--rule gauss|trapezoid|exact] [--baseline mean|zero|median|patient:ID]\n"
	"                     [--class LABEL] [--patients ID,ID...] [--threads N] [--json] [--quiet]\n"
	"                     [--csv OUT.csv] [--json-out OUT.json]\n"
	"       lumen explain FILE --model NAME --patient ID [--top K] [--steps N|auto]\n"
	"                     [--rule R] [--baseline B] [--class LABEL] [--json]\n"
	"       lumen explain FILE --model NAME --input NEW.csv [--patient ID] [--id COL|--row-ids]\n"
	"                     [--csv OUT.csv] [--json-out OUT.json] [--json] ...\n"
	"Computes integrated-gradients attributions (and, for a transformer, attention and\n"
	"attention rollout; for a gru or cnn-gru trained with --attention, the weight of every\n"
	"visit) for every patient and stores them in the workbench file; with\n"
	"--patient, prints one patient's explanation; with --input, explains patients who are\n"
	"not in the workbench (nothing is stored) with the final model.\n"
	"  -m, --model NAME     the model to explain (lumen models FILE lists them)\n"
	"      --method M       ig, attention (a transformer, or a GRU with attention) or all\n"
	"                       (default: all = ig, and attention too where the model has it)\n"
	"  -s, --steps N|auto   gradient evaluations per patient (default 64); auto starts at 16\n"
	"                       and doubles for patients whose completeness error is above 1%\n"
	"                       of |f(x) - f(baseline)|, up to 512 (--json: the steps used)\n"
	"      --rule R         gauss (Gauss-Legendre), trapezoid, or exact (ReLU mlp only: the\n"
	"                       path cut at every kink); default exact for an mlp, else gauss\n"
	"  -b, --baseline B     mean (default), zero (raw value 0), median or patient:ID\n"
	"      --class LABEL    the class whose logit is explained (default: the positive class;\n"
	"                       required for a multi-class model except with --patient)\n"
	"      --patients LIST  only these patients (values of the id column, comma-separated)\n"
	"  -p, --patient ID     print this patient's explanation (computed now, not stored)\n"
	"      --top K          factors shown on each side (default 5)\n"
	"      --json           machine-readable output\n"
	"      --threads N      threads explaining disjoint patients, one OpenBLAS thread each\n"
	"                       (default: the number of cores); the same numbers for every N\n"
	"  -q, --quiet          no progress line\n"
	"      --arm ARM        a treatment-effect model (lumen train --effect): the arm whose\n"
	"                       effect against the reference is explained (default: the first)\n"
	"      --csv OUT        also write the table of every patient's numbers (a SHAP-values\n"
	"                       table; - for standard output): id, method, network, one column\n"
	"                       per input, logit, baseline_logit, sum, delta. Rows of method ig\n"
	"                       are signed attributions (baseline_logit + sum = logit within\n"
	"                       delta); attention_weight and rollout_weight rows are unsigned\n"
	"                       weights (a ranking, not a direction); a GRU with attention adds\n"
	"                       step_1..step_K (K the latest visit), its weight per visit\n"
	"      --json-out OUT   the same table as JSON\n"
	"  -i, --input NEW.csv  patients not in FILE, with its column names (checked as lumen\n"
	"                       predict --input checks them; no other column allowed); without\n"
	"                       --patient, --csv or --json-out the table goes to standard output\n"
	"      --id COL         NEW.csv's patient id column; --row-ids: number its rows 1..n\n"
	"      --input-visits V the visits of NEW.csv's patients, for a sequence model (gru,\n"
	"                       cnn, cnn-gru; without it every sequence is empty)\n";

typedef struct explain_opts {
	const char *file, *model, *method, *baseline, *cls, *patients, *patient, *arm;
	const char *csv, *json_out, *input, *id, *input_visits;
	int steps, auto_steps, top, json, quiet, rule_given, threads, row_ids;
	ig_rule rule;
} explain_opts;

static const char *C = "explain";

/* ---- helpers ---- */

static int class_index(const model *m, const char *label, lm_err *err)
{
	for (int c = 0; c < m->nclass; c++)
		if (!strcmp(m->classes[c], label))
			return c;
	lm_buf b = {0};
	for (int c = 0; c < m->nclass; c++)
		buf_printf(&b, "%s%s", c ? ", " : "", m->classes[c]);
	lm_seterr(err, EX_USAGE, "model '%s' has no class '%s' (classes: %s)", m->name, label,
		  b.data ? b.data : "");
	buf_free(&b);
	return -1;
}

static void progress_line(void *ctx, long done, long total)
{
	const explain_opts *o = ctx;
	if (o->quiet || !isatty(2))
		return;
	fprintf(stderr, "\rlumen: explain: integrated gradients %ld/%ld patients", done, total);
	fflush(stderr);
}

/* ---- compute and store ---- */

static int parse_patients(const ig_inputs *co, const char *list, long **rows, long *n, lm_err *err)
{
	char *dup = xstrdup(list), *save = NULL;
	long cap = 16, k = 0;
	long *r = xmallocarray((size_t)cap, sizeof *r);
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		long i = ig_inputs_find(co, t);
		if (i < 0) {
			lm_seterr(err, EX_DATAERR, "no patient with id '%s'", t);
			free(dup);
			free(r);
			return EX_DATAERR;
		}
		if (k == cap)
			r = xreallocarray(r, (size_t)(cap *= 2), sizeof *r);
		r[k++] = i;
	}
	free(dup);
	if (k == 0) {
		free(r);
		return lm_seterr(err, EX_USAGE, "--patients lists no patient");
	}
	*rows = r;
	*n = k;
	return 0;
}

/* The outputs of --csv and --json-out ("-": standard output), opened before anything is
 * computed so that a path that cannot be written stops the command first. */
typedef struct outputs {
	const char *path[2];
	FILE *f[2];
} outputs;

static int outputs_open(outputs *w, const char *csv, const char *json_out, lm_err *err)
{
	memset(w, 0, sizeof *w);
	w->path[0] = csv;
	w->path[1] = json_out;
	for (int k = 0; k < 2; k++) {
		if (!w->path[k])
			continue;
		/* attributions are patient data: the file is created 0600 */
		w->f[k] = !strcmp(w->path[k], "-") ? stdout : lm_fopen_private(w->path[k]);
		if (!w->f[k]) {
			int st = lm_seterr(err, EX_CANTCREAT, "%s: cannot write", w->path[k]);
			for (int q = 0; q < k; q++)
				if (w->f[q] && w->f[q] != stdout) {
					fclose(w->f[q]);
					unlink(w->path[q]);
				}
			memset(w, 0, sizeof *w);
			return st;
		}
	}
	return 0;
}

/* Writes the table (t NULL: an error happened, the files are removed) and closes. */
static int outputs_close(outputs *w, const model *m, const ops_explain_table *t, lm_err *err)
{
	int st = 0;
	for (int k = 0; k < 2; k++) {
		FILE *f = w->f[k];
		if (!f)
			continue;
		if (t && !st) {
			if (k == 0) {
				st = ops_explain_table_csv(f, t, err);
			} else {
				char *s = json_take(ops_explain_table_json(t, m->name));
				fprintf(f, "%s\n", s);
				free(s);
			}
			if (!st && (fflush(f) != 0 || ferror(f)))
				st = lm_seterr(err, EX_IOERR, "%s: write error", w->path[k]);
		}
		if (f != stdout && fclose(f) != 0 && t && !st)
			st = lm_seterr(err, EX_IOERR, "%s: write error", w->path[k]);
	}
	for (int k = 0; k < 2; k++)
		if (w->f[k] && w->f[k] != stdout && (!t || st))
			unlink(w->path[k]);
	memset(w, 0, sizeof *w);
	return st;
}

static int run_compute(sqlite3 *db, model *m, ig_inputs *co, const explain_opts *o, int cls,
		       lm_err *err)
{
	long *rows = NULL, n = 0;
	int st = 0;
	if (o->patients && (st = parse_patients(co, o->patients, &rows, &n, err)))
		return st;
	ops_explain_opts eo = {.model = m->name, .method = o->method, .rows = rows, .nrows = n,
			       .progress = progress_line, .ctx = (void *)o};
	ig_opts_defaults(&eo.ig);
	eo.ig.steps = o->steps;
	eo.ig.auto_steps = o->auto_steps;
	eo.ig.rule = o->rule;
	eo.ig.cls = cls;
	eo.ig.threads = o->threads;
	if ((st = ig_baseline_parse(o->baseline, &eo.baseline, err))) {
		free(rows);
		return st;
	}
	ops_explain_table tbl;
	memset(&tbl, 0, sizeof tbl);
	outputs w;
	if ((st = outputs_open(&w, o->csv, o->json_out, err))) {
		free(rows);
		return st;
	}
	if (o->csv || o->json_out)
		eo.table = &tbl;
	/* the job: every patient explained by the network of its shown risk, stored at once */
	ops_explain r;
	st = ops_explain_run(db, m, co, &eo, &r, err);
	if (eo.table) {
		int s2 = outputs_close(&w, m, st ? NULL : &tbl, err);
		st = st ? st : s2;
	}
	ops_explain_table_free(&tbl);
	if (r.do_ig && !o->quiet && isatty(2))
		fputc('\n', stderr);
	if (!st && o->json && !(o->csv && !strcmp(o->csv, "-")) &&
	    !(o->json_out && !strcmp(o->json_out, "-"))) {
		char *s = json_take(ops_explain_json(&r));
		printf("%s\n", s);
		free(s);
	}
	if (!st && !o->quiet) {
		if (r.do_ig)
			fprintf(stderr,
				"lumen: explain: %ld patients (%ld with the fold model that held them out),"
				" ig (%s, %s%ld steps, baseline %s): "
				"completeness error median %.2g (%.2g%%), p99 %.2g (%.2g%%), %ld above 1%%; "
				"%.2f s\n",
				r.n, r.n_fold, ig_rule_name(o->rule),
				o->rule == IG_EXACT ? "kinks found exactly, at most " :
				o->auto_steps ? "auto from " : "",
				o->rule == IG_EXACT ? r.max_steps : (long)o->steps, r.btext, r.med,
				100 * r.rel_med, r.p99, 100 * r.rel_p99, r.above_1pct, r.seconds_ig);
		if (r.do_attn && r.visit_attn)
			fprintf(stderr, "lumen: explain: %ld patients, attention over visits (unsigned "
					"weights per visit) stored\n", r.n);
		else if (r.do_attn)
			fprintf(stderr, "lumen: explain: %ld patients, attention and rollout (unsigned "
					"weights) stored\n", r.n);
	}
	ops_explain_free(&r);
	free(rows);
	return st;
}

/* The completeness error as a clinician reads it: "< 0.001" or 3 decimals, and its share of
 * f(x) - f(baseline) as "< 0.01%" or a percentage (no e-notation). */
static const char *completeness_text(double delta, double rel, char *buf, size_t len)
{
	char a[32], b[32];
	if (delta < 0.0005)
		snprintf(a, sizeof a, "< 0.001");
	else
		snprintf(a, sizeof a, "%.3f", delta);
	if (100 * rel < 0.01)
		snprintf(b, sizeof b, "< 0.01%%");
	else
		snprintf(b, sizeof b, "%.2f%%", 100 * rel);
	snprintf(buf, len, "%s (%s", a, b);
	return buf;
}

/* ---- one patient: the patient view of src/ops, the same as the TUI's and Lua's ---- */

static void ordinal(char *buf, size_t len, double p)
{
	long k = lround(p);
	const char *suf = "th";
	if (k % 100 < 11 || k % 100 > 13)
		suf = k % 10 == 1 ? "st" : k % 10 == 2 ? "nd" : k % 10 == 3 ? "rd" : "th";
	snprintf(buf, len, "%ld%s percentile", k, suf);
}

static void factor_line(const ops_factor *f)
{
	char where[64];
	if (!strncmp(f->name, "visits.", 7)) /* a sequence model's lab over the visits */
		snprintf(where, sizeof where, "summed over them");
	else if (isnan(f->pct))
		snprintf(where, sizeof where, "missing");
	else if (f->is_share)
		snprintf(where, sizeof where, "%.0f%% of patients", f->pct);
	else
		ordinal(where, sizeof where, f->pct);
	char v[128]; /* in words (labels.h): the value's label, or the number and its unit */
	snprintf(v, sizeof v, "%s%s%s", f->value, f->unit[0] && isfinite(f->num) ? " " : "",
		 f->unit[0] && isfinite(f->num) ? f->unit : "");
	printf("  %-20s %+9.4f   %-17s (%s)\n", f->label, f->attr, v, where);
}

static int cmp_weight(const void *a, const void *b)
{
	const ops_factor *x = *(const ops_factor *const *)a, *y = *(const ops_factor *const *)b;
	return (x->weight < y->weight) - (x->weight > y->weight);
}

/* A sequence model's explanation over the visits read (ops_visit_attr): per visit, its
 * largest lab and the visit that moved the risk most, and with attention over visits each
 * visit's weight; the same lines for a cohort patient and a new one. */
static void print_visits(const ops_visit_attr *v)
{
	if (v->top < 0) {
		printf("Visits read: none (an empty sequence); padded steps %+.3f\n", (double)v->padded);
		return;
	}
	printf("Visits read: %d (the last of the patient's %d); static inputs %+.3f, padded steps "
	       "%+.3f\n", v->nvisit, v->first + v->nvisit, (double)v->statics, (double)v->padded);
	if (v->attn) /* attention over visits: an unsigned weight beside each visit's IG */
		printf("  %-9s %-8s %-9s\n", "", "IG", "attention");
	for (int r = 0; r < v->nvisit; r++) {
		int best = 0;
		for (int q = 1; q < v->nlab; q++)
			if (fabsf(v->m[(size_t)r * v->nlab + q]) > fabsf(v->m[(size_t)r * v->nlab + best]))
				best = q;
		char aw[32] = "";
		if (v->attn)
			snprintf(aw, sizeof aw, "  %.3f%s", (double)v->attn[r], r == v->attn_top ? "*" : " ");
		printf("  visit %-3d %+.4f%s%s  (most: %s %+.4f)\n", v->first + r + 1, (double)v->visit[r],
		       aw, r == v->top ? "  <- moved the risk most" : "", v->nlab ? v->lab[best] : "-",
		       v->nlab ? (double)v->m[(size_t)r * v->nlab + best] : 0.0);
	}
	if (v->attn && v->attn_top >= 0) {
		double tot = 0;
		for (int r = 0; r < v->nvisit; r++)
			tot += (double)v->attn[r];
		printf("Attention over visits (unsigned: where the model looked, not a direction): "
		       "most on visit %d (weight %.3f*); the %d visits hold %.3f, padded steps %.3f\n",
		       v->first + v->attn_top + 1, (double)v->attn[v->attn_top], v->nvisit, tot,
		       (double)v->attn_padded);
	}
}

static int run_patient(sqlite3 *db, model *m, ig_inputs *co, const explain_opts *o, int cls,
		       lm_err *err)
{
	long row = ig_inputs_find(co, o->patient);
	if (row < 0)
		return lm_seterr(err, EX_DATAERR, "no patient with id '%s'", o->patient);
	ig_baseline bl;
	int st = ig_baseline_parse(o->baseline, &bl, err);
	if (st)
		return st;
	ig_opts io;
	ig_opts_defaults(&io);
	io.steps = o->steps;
	io.auto_steps = o->auto_steps;
	io.rule = o->rule;
	ops_patient_opts po = {.model = m->name, .rowid = co->f.rowid[row], .baseline = &bl,
			       .ig = &io, .cls = cls};
	ops_patient pv;
	st = ops_patient_load(db, &po, &pv, err);
	if (st) {
		ops_patient_free(&pv);
		return st;
	}
	char *detail = xasprintf("model=%s", m->name);
	/* reading a patient's explanation is an access to be logged: logged first, and nothing
	 * is shown when the log cannot be written (a read-only, busy or full file) */
	st = store_exec(db, "BEGIN IMMEDIATE", err);
	if (!st) {
		st = store_log_access(db, "explain", pv.rowid, detail, err);
		if (!st)
			st = store_exec(db, "COMMIT", err);
		if (st)
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	free(detail);
	if (st) {
		ops_patient_free(&pv);
		return st;
	}
	int nc = pv.nfactor;
	ops_visit_attr va;
	int have_va = ops_visit_attr_get(&pv, &va) == 0;
	if (o->json) {
		cJSON *pj = ops_patient_json(&pv);
		if (have_va)
			cJSON_AddItemToObject(pj, "visits", ops_visit_attr_json(&va));
		char *s = json_take(pj);
		printf("%s\n", s);
		free(s);
	} else {
		char net[96];
		double rel = fabs(pv.logit - pv.baseline_logit) > 0
				     ? pv.delta / fabs(pv.logit - pv.baseline_logit) : 0.0;
		printf("Patient %s: model %s (%s), risk of %s\n", pv.id, m->name, m->arch, pv.outcome);
		printf("Prediction: %.3f, from %s (logit %+.3f; baseline %s: logit %+.3f, p %.3f)\n",
		       pv.p, ops_patient_net_text(&pv, net, sizeof net), pv.logit, pv.baseline,
		       pv.baseline_logit, 1.0 / (1.0 + exp(-pv.baseline_logit)));
		double sum = 0;
		for (int k = 0; k < nc; k++)
			sum += pv.f[k].attr;
		printf("The reasons add up to it: baseline %+.3f + attributions %+.3f = %+.3f\n",
		       pv.baseline_logit, sum, pv.baseline_logit + sum);
		printf("Raising it (integrated gradients, logit units):\n");
		int shown = 0;
		/* pv.f is sorted by |attr|: the largest raising and lowering factors first */
		for (int k = 0; k < nc && shown < o->top; k++)
			if (pv.f[k].attr > 0) {
				factor_line(&pv.f[k]);
				shown++;
			}
		if (!shown)
			printf("  (none)\n");
		printf("Lowering it:\n");
		shown = 0;
		for (int k = 0; k < nc && shown < o->top; k++)
			if (pv.f[k].attr < 0) {
				factor_line(&pv.f[k]);
				shown++;
			}
		if (!shown)
			printf("  (none)\n");
		if (have_va)
			print_visits(&va);
		char ct[96];
		printf("Completeness error: %s of f(x) - f(baseline) = %+.3f), %d steps, %s\n",
		       completeness_text(pv.delta, rel, ct, sizeof ct), pv.logit - pv.baseline_logit,
		       pv.steps, ig_rule_name(pv.io.rule));
		if (nc > 0 && !isnan(pv.f[0].weight)) {
			/* attention weights are unsigned: a ranking, never a direction */
			const ops_factor **byw = xmallocarray((size_t)nc, sizeof *byw);
			for (int k = 0; k < nc; k++)
				byw[k] = &pv.f[k];
			qsort(byw, (size_t)nc, sizeof *byw, cmp_weight);
			int kk = nc < o->top * 2 ? nc : o->top * 2;
			printf("Ranking by |IG| and by attention rollout weight (unsigned):\n");
			printf("  %-4s %-16s %-16s %s\n", "rank", "IG", "rollout", "weight");
			for (int k = 0; k < kk; k++)
				printf("  %-4d %-16s %-16s %.3f\n", k + 1, pv.f[k].name, byw[k]->name,
				       byw[k]->weight);
			float *a = xmallocarray((size_t)nc, sizeof *a), *w = xmallocarray((size_t)nc, sizeof *w);
			for (int k = 0; k < nc; k++)
				a[k] = (float)pv.f[k].attr, w[k] = (float)pv.f[k].weight;
			double agree = imp_spearman_abs(a, w, nc);
			printf("Agreement of rollout with |IG| (Spearman over %d columns): %.2f%s\n", nc,
			       agree, agree < 0.5 ? " (low: trust neither ranking blindly)" : "");
			free(a);
			free(w);
			free(byw);
		}
	}
	if (have_va)
		ops_visit_attr_free(&va);
	ops_patient_free(&pv);
	return 0;
}

/* ---- patients not in the workbench: the final network, nothing stored ---- */

static const float *order_v;
static int cmp_abs_idx(const void *a, const void *b)
{
	double x = fabs((double)order_v[*(const int *)a]), y = fabs((double)order_v[*(const int *)b]);
	return (x < y) - (x > y);
}

/* One new patient in words: the same lines as run_patient without the cohort percentiles,
 * and a sequence model's view over the visits read (va, or NULL). */
static void print_new_patient(const model *m, const ops_input *in, long row,
			      const ops_explain_table *t, const explain_opts *o,
			      const ops_visit_attr *va)
{
	int nc = t->ncol;
	const float *v = t->attr + 0;
	double logit = (double)t->logit[0], bl = (double)t->base_logit[0], sum = 0;
	for (int j = 0; j < nc; j++)
		sum += (double)v[j];
	printf("Patient %s (new: %s line %ld, not in the workbench): model %s (%s), %s\n", t->id[0],
	       in->csv, row + 2, m->name, m->arch, m->target);
	if (m->nclass == 2 && m->surv_n)
		printf("Risk by %g: %.3f, from the final model (refit on all patients) (log relative "
		       "hazard %+.3f; baseline %s: %+.3f)\n", m->surv_horizon,
		       ops_risk_of_logit(m, logit), logit, t->baseline, bl);
	else if (m->nclass == 2)
		printf("Prediction: %.3f, from the final model (refit on all patients) (logit %+.3f; "
		       "baseline %s: logit %+.3f)\n", ops_risk_of_logit(m, logit), logit, t->baseline,
		       bl);
	else
		printf("Logit %+.3f from the final model (refit on all patients); baseline %s: logit "
		       "%+.3f\n", logit, t->baseline, bl);
	printf("The reasons add up to it: baseline %+.3f + attributions %+.3f = %+.3f\n", bl, sum,
	       bl + sum);
	int *ord = xmallocarray((size_t)(nc ? nc : 1), sizeof *ord);
	for (int j = 0; j < nc; j++)
		ord[j] = j;
	order_v = v;
	qsort(ord, (size_t)nc, sizeof *ord, cmp_abs_idx);
	char buf[256];
	for (int side = 0; side < 2; side++) {
		printf(side == 0 ? "Raising it (integrated gradients, logit units):\n" : "Lowering it:\n");
		int shown = 0;
		for (int k = 0; k < nc && shown < o->top; k++) {
			double a = (double)v[ord[k]];
			if (side == 0 ? a <= 0 : a >= 0)
				continue;
			int fj = frame_find(&in->f, t->col[ord[k]]);
			const char *val = fj >= 0 ? frame_cell_text(&in->f, fj, row, buf, sizeof buf) : "";
			if (va && !strncmp(t->col[ord[k]], "visits.", 7)) /* a lab over the visits */
				snprintf(buf, sizeof buf, "%d visits (summed over them)", va->nvisit), val = buf;
			printf("  %-16s %+9.4f   %s\n", t->col[ord[k]], a, *val ? val : "(missing)");
			shown++;
		}
		if (!shown)
			printf("  (none)\n");
	}
	if (va)
		print_visits(va);
	double d = fabs(logit - bl);
	char ct[96];
	printf("Completeness error: %s of f(x) - f(baseline) = %+.3f), %d steps\n",
	       completeness_text((double)t->delta[0], d > 0 ? (double)t->delta[0] / d : 0.0, ct,
				 sizeof ct),
	       logit - bl, t->steps[0]);
	free(ord);
}

static int run_input(sqlite3 *db, model *m, ig_inputs *co, const explain_opts *o, int cls,
		     lm_err *err)
{
	ops_input in;
	int st = ops_input_load(db, m, o->input, o->input_visits, o->id, o->row_ids, &in, err);
	if (st)
		return st;
	long row = -1;
	if (o->patient && (row = ops_input_find(&in, o->patient)) < 0) {
		ops_input_free(&in);
		return lm_seterr(err, EX_DATAERR, "%s: no patient with id '%s'", o->input, o->patient);
	}
	/* one patient: IG, and the weights of attention over visits where the model has them */
	int vis_attn = nn_get_spec(m->final)->attention > 0;
	ops_explain_opts eo = {.model = m->name,
			       .method = o->patient ? (vis_attn ? "all" : "ig") : o->method};
	ig_opts_defaults(&eo.ig);
	eo.ig.steps = o->steps;
	eo.ig.auto_steps = o->auto_steps;
	eo.ig.rule = o->rule;
	eo.ig.cls = cls;
	eo.ig.threads = o->threads;
	ops_explain_table t;
	memset(&t, 0, sizeof t);
	if (!(st = ig_baseline_parse(o->baseline, &eo.baseline, err)))
		st = ops_explain_input(db, m, co, &in, row >= 0 ? &row : NULL, row >= 0 ? 1 : 0, &eo,
				       &t, err);
	if (!st) {
		/* explaining patients is an access to be logged, before anything is shown */
		char *detail = xasprintf("model=%s input=%s patients=%ld", m->name, o->input, t.n);
		st = store_log_access(db, "explain", 0, detail, err);
		free(detail);
	}
	const char *csv = o->csv, *jout = o->json_out;
	if (!o->patient && !csv && !jout) {
		if (o->json)
			jout = "-";
		else
			csv = "-";
	}
	outputs w;
	memset(&w, 0, sizeof w);
	if (!st)
		st = outputs_open(&w, csv, jout, err);
	if (!st) {
		if (o->patient && !o->csv && !o->json_out) {
			ops_visit_attr va;
			int have_va = ops_explain_input_visits(m, &t, 0, &in, row, &va) == 0;
			if (o->json) {
				cJSON *tj = ops_explain_table_json(&t, m->name);
				if (have_va)
					cJSON_AddItemToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(tj, "patients"), 0),
							      "visits", ops_visit_attr_json(&va));
				char *s = json_take(tj);
				printf("%s\n", s);
				free(s);
			} else {
				print_new_patient(m, &in, row, &t, o, have_va ? &va : NULL);
			}
			if (have_va)
				ops_visit_attr_free(&va);
		}
	}
	if (w.f[0] || w.f[1]) {
		int s2 = outputs_close(&w, m, st ? NULL : &t, err);
		st = st ? st : s2;
	}
	ops_explain_table_free(&t);
	ops_input_free(&in);
	return st;
}

int cmd_explain(int argc, char **argv)
{
	explain_opts o = {0};
	o.method = "all";
	o.baseline = "mean";
	o.steps = IG_DEFAULT_STEPS;
	o.top = 5;
	o.rule = IG_GAUSS;
	o.threads = ig_default_threads();
	enum { O_METHOD = 256, O_RULE, O_CLASS, O_PATIENTS, O_TOP, O_JSON, O_THREADS, O_ARM, O_CSV,
	       O_JSON_OUT, O_ID, O_ROW_IDS, O_INPUT_VISITS };
	static const struct option lo[] = {
		{"model", required_argument, NULL, 'm'},     {"method", required_argument, NULL, O_METHOD},
		{"steps", required_argument, NULL, 's'},     {"rule", required_argument, NULL, O_RULE},
		{"baseline", required_argument, NULL, 'b'},  {"class", required_argument, NULL, O_CLASS},
		{"patients", required_argument, NULL, O_PATIENTS},
		{"patient", required_argument, NULL, 'p'},   {"top", required_argument, NULL, O_TOP},
		{"json", no_argument, NULL, O_JSON},         {"quiet", no_argument, NULL, 'q'},
		{"threads", required_argument, NULL, O_THREADS},
		{"arm", required_argument, NULL, O_ARM},
		{"csv", required_argument, NULL, O_CSV},     {"json-out", required_argument, NULL, O_JSON_OUT},
		{"input", required_argument, NULL, 'i'},     {"id", required_argument, NULL, O_ID},
		{"row-ids", no_argument, NULL, O_ROW_IDS},  {"input-visits", required_argument, NULL, O_INPUT_VISITS},
		{"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0}};
	optind = 1;
	opterr = 0;
	int c;
	long v;
	while ((c = getopt_long(argc, argv, ":m:s:b:p:i:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'm': o.model = optarg; break;
		case O_METHOD:
			if (strcmp(optarg, "ig") && strcmp(optarg, "attention") && strcmp(optarg, "all"))
				return cli_usage_error(C, "unknown method '%s' (ig, attention or all)", optarg);
			o.method = optarg;
			break;
		case 's':
			if (!strcmp(optarg, "auto")) {
				o.auto_steps = 1;
				o.steps = 16; /* Gauss nodes; doubled only where completeness needs it */
			} else if (parse_long(optarg, &v) || v < 1 || v > 4096) {
				return cli_usage_error(C, "--steps wants a number from 1 to 4096 or 'auto', not '%s'",
						       optarg);
			} else {
				o.steps = (int)v;
			}
			break;
		case O_RULE: {
			int r = ig_rule_parse(optarg);
			if (r < 0)
				return cli_usage_error(C, "unknown rule '%s' (gauss, trapezoid or exact)", optarg);
			o.rule = (ig_rule)r;
			o.rule_given = 1;
			break;
		}
		case 'b': o.baseline = optarg; break;
		case O_CLASS: o.cls = optarg; break;
		case O_PATIENTS: o.patients = optarg; break;
		case 'p': o.patient = optarg; break;
		case O_TOP:
			if (parse_long(optarg, &v) || v < 1 || v > 1000)
				return cli_usage_error(C, "--top wants a number from 1 to 1000, not '%s'", optarg);
			o.top = (int)v;
			break;
		case O_JSON: o.json = 1; break;
		case O_THREADS:
			if (parse_long(optarg, &v) || v < 1 || v > 64)
				return cli_usage_error(C, "--threads wants a number from 1 to 64, not '%s'", optarg);
			o.threads = (int)v;
			break;
		case 'q': o.quiet = 1; break;
		case O_ARM: o.arm = optarg; break;
		case O_CSV: o.csv = optarg; break;
		case O_JSON_OUT: o.json_out = optarg; break;
		case 'i': o.input = optarg; break;
		case O_ID: o.id = optarg; break;
		case O_ROW_IDS: o.row_ids = 1; break;
		case O_INPUT_VISITS: o.input_visits = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		case ':': return cli_usage_error(C, "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(C, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(C, "no workbench file given");
	if (optind + 1 < argc)
		return cli_usage_error(C, "unexpected argument '%s'", argv[optind + 1]);
	o.file = argv[optind];
	if (!o.model)
		return cli_usage_error(C, "--model NAME is required (lumen models FILE lists them)");
	if (o.rule == IG_TRAPEZOID && o.steps < 2)
		return cli_usage_error(C, "the trapezoid rule needs at least 2 steps");
	if (o.patient && o.patients)
		return cli_usage_error(C, "--patient and --patients exclude each other");
	if (o.patient && !o.input && (o.csv || o.json_out))
		return cli_usage_error(C, "--csv and --json-out write the table of the explained "
				       "patients (use --patients ID for one)");
	if (o.input && o.patients)
		return cli_usage_error(C, "--patients selects cohort patients; with --input, "
				       "--patient ID picks one of NEW.csv");
	if ((o.id || o.row_ids) && !o.input)
		return cli_usage_error(C, "--id and --row-ids describe --input NEW.csv");
	if (o.id && o.row_ids)
		return cli_usage_error(C, "--id and --row-ids exclude each other");
	if (o.csv && o.json_out && !strcmp(o.csv, "-") && !strcmp(o.json_out, "-"))
		return cli_usage_error(C, "--csv - and --json-out - both want standard output");
	lm_err err = {0};
	ig_baseline chk;
	if (ig_baseline_parse(o.baseline, &chk, &err))
		return cli_usage_error(C, "%s", err.msg);

	sqlite3 *db = store_open(o.file, 0, &err);
	if (!db) {
		lm_report(C, &err);
		return err.status;
	}
	model *m = model_load(db, o.model, &err);
	int st = m ? 0 : err.status;
	int cls = 1;
	if (!st) {
		if (m->nclass > 2 || nn_get_spec(m->final)->n_out > 1) {
			cls = -1;
			if (o.cls)
				cls = class_index(m, o.cls, &err);
			else if (!o.patient)
				st = lm_seterr(&err, EX_USAGE,
					       "model '%s' is multi-class: --class names the class to explain",
					       m->name);
			if (o.cls && cls < 0)
				st = err.status;
		} else if (o.cls) {
			int k = class_index(m, o.cls, &err);
			if (k < 0)
				st = err.status;
			else
				cls = k;
		}
	}
	/* default rule: exact for a ReLU mlp (piecewise linear), Gauss-Legendre otherwise */
	if (!st && !o.rule_given) {
		ops_explain_opts def;
		ops_explain_defaults(m, &def);
		o.rule = def.ig.rule;
	}
	ig_inputs co;
	memset(&co, 0, sizeof co);
	int have_co = 0;
	if (!st) {
		st = ig_inputs_load(db, m, &co, &err);
		have_co = !st;
	}
	if (!st && !strcmp(m->task, "effect")) { /* the effect of an arm: explain_effect.c */
		if (o.input || o.csv || o.json_out) {
			st = lm_seterr(&err, EX_USAGE, "--input, --csv and --json-out are for risk models;"
				       " lumen predict gives an effect model's estimates");
		} else {
			ig_opts io;
			ig_opts_defaults(&io);
			io.steps = o.steps;
			io.auto_steps = o.auto_steps;
			io.rule = o.rule;
			st = explain_effect(db, &m, &co, o.patient, o.arm, &io, o.json, o.top, o.quiet,
					    &err);
		}
	} else if (!st && o.arm) {
		st = lm_seterr(&err, EX_USAGE, "--arm: model '%s' is not a treatment-effect model",
			       m->name);
	} else if (!st) {
		st = o.input ? run_input(db, m, &co, &o, cls, &err)
		     : o.patient ? run_patient(db, m, &co, &o, cls, &err)
				 : run_compute(db, m, &co, &o, cls, &err);
	}
	if (st)
		lm_report(C, &err);
	if (have_co)
		ig_inputs_free(&co);
	if (m)
		model_free(m);
	store_close(db);
	return st;
}
