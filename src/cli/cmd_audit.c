/* cmd_audit.c: `lumen audit`: fairness of a model's out-of-fold predictions across groups
 * (the statistics live in src/stats/audit.c; grouping in src/stats/groups.c; "why the groups
 * differ" in src/stats/audit_why.c, which the TUI and lumen.audit call as well). */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../data/store.h"
#include "../stats/audit.h"
#include "../stats/audit_why.h"
#include "../stats/groups.h"
#include "audit_cox.h"
#include "audit_effect.h"
#include "../stats/metrics.h"
#include "../ops/ops.h"
#include "cli.h"

#define CMD "audit"

static const char usage[] =
	"Usage: lumen audit FILE --model NAME --by COL[,COL] [--bins COL=C1,C2]...\n"
	"                   [--threshold youden|T] [--reference GROUP] [--tolerance R]\n"
	"                   [--bootstrap N] [--seed S] [--decision-curve] [--json]\n"
	"Fairness audit of a model's stored out-of-fold predictions across patient groups.\n"
	"  --model NAME        the model (its rows in `predictions`)\n"
	"  --by COL[,COL]      groups; several columns give their intersections\n"
	"  --bins COL=C1,C2    cut a numeric column: COL<C1, COL C1-C2, COL>=C2\n"
	"  --threshold T       p >= T is a positive prediction (default 0.5); `youden`\n"
	"                      picks the threshold maximising TPR - FPR over all patients\n"
	"  --reference GROUP   the group others are compared with, e.g. sex=m\n"
	"                      (default: the largest)\n"
	"  --tolerance R       flag ratios outside [R, 1/R] (default 0.8: 0.8 to 1.25)\n"
	"  --bootstrap N       N replicates resampling patients within groups: 95% intervals\n"
	"                      and the `significant` mark (default 0)\n"
	"  --seed S            bootstrap seed (default 1)\n"
	"  --decision-curve    net benefit per group at thresholds 0.05 to 0.50\n"
	"  --json              machine-readable output\n"
	"A treatment-effect model (lumen train --effect) adds, per arm and --by column, the\n"
	"predicted benefit by group beside the observed effect (who would be helped).\n"
	"The run is stored in the workbench's `audits` table.\n";

typedef struct audit_cli {
	const char *file, *model, *by, *thr_s, *ref_s;
	char *bins[16];
	int nbins;
	double threshold, tolerance;
	int youden, n_boot, dcurve, json;
	unsigned long seed;
} audit_cli;

/* ---- text output ---- */

static const char *flag_mark(const audit_result *r, size_t i, int g)
{
	if (r->small[g] && audit_metrics[i % AUDIT_NMETRIC].flag && g != r->ref)
		return "?";
	if (r->flag[i] > 0)
		return r->sig[i] ? "\xe2\x96\xb2*" : "\xe2\x96\xb2";
	if (r->flag[i] < 0)
		return r->sig[i] ? "\xe2\x96\xbc*" : "\xe2\x96\xbc";
	return "";
}

/* Colour for flags when stdout is a terminal and NO_COLOR is unset: the sign carries the
 * meaning, the colour only repeats it (red significant, yellow not significant). */
static int use_colour;

static void cell(lm_buf *b, double v, const char *mark)
{
	/* 8 columns: the value in 6, then the flag and the significance mark, padded by
	 * characters (the arrows are multi-byte) */
	char s[32];
	if (isnan(v))
		snprintf(s, sizeof s, "%6s", "NA");
	else
		snprintf(s, sizeof s, "%6.3f", v);
	int vis = mark[0] == '\xe2' ? 1 + (mark[3] == '*') : (int)strlen(mark);
	if (use_colour && mark[0] == '\xe2')
		buf_printf(b, "%s\x1b[%sm%s\x1b[0m%*s", s, mark[3] == '*' ? "1;31" : "33", mark,
			   vis < 2 ? 2 - vis : 0, "");
	else
		buf_printf(b, "%s%s%*s", s, mark, vis < 2 ? 2 - vis : 0, "");
}

/* A group's label as shown in the tables: the value alone when one column groups ("f" for
 * "sex=f"); a bin label ("age<50", "age>=65") is shown whole, its '=' being part of ">=". */
static const char *value_of(int ncols, const char *label)
{
	const char *eq = strchr(label, '=');
	if (ncols != 1 || !eq || eq == label || eq[-1] == '>' || eq[-1] == '<')
		return label;
	return eq + 1;
}

static const char *disp(const ops_audit *d, const char *label)
{
	return value_of(d->g.ncols, label);
}

static void print_text(const audit_cli *o, const ops_audit *d, const audit_result *r,
		       const audit_why *im, const double *dct, int ndc, const double *nb,
		       const double *nball)
{
	char *const *lab = d->g.label;
	int G = r->G;
	const char *gname = d->g.ncols == 1 ? o->by : "group";
	const char *nc = getenv("NO_COLOR");
	use_colour = isatty(STDOUT_FILENO) && !(nc && *nc);
	lm_buf b = {0};
	long n = 0;
	for (int g = 0; g < G; g++)
		n += r->size[g];
	buf_printf(&b, "Audit of model %s: %ld patients in %d groups by %s\n", o->model, n, G, o->by);
	buf_printf(&b, "Threshold %.4g%s; p >= threshold is a positive prediction.\n", r->threshold,
		   o->youden ? " (Youden's J)" : "");
	if (d->no_pred || d->no_label || d->g.missing)
		buf_printf(&b, "Left out: %ld without a prediction, %ld without an outcome, %ld with a "
			       "missing group value.\n",
			   d->no_pred, d->no_label, d->g.missing);
	if (d->g.empty)
		buf_printf(&b, "%ld combinations of the grouping have no patient and are not shown.\n",
			   d->g.empty);
	buf_printf(&b, "Reference: %s%s.\n", lab[r->ref], o->ref_s ? "" : " (the largest group)");
	buf_printf(&b, "Flags: \xe2\x96\xb2 ratio to the reference above %.2f, \xe2\x96\xbc below %.2f;"
		       " ? group under %d\npatients, too small to judge; %s\n",
		   1 / r->tolerance, r->tolerance, AUDIT_MIN_N,
		   r->n_boot ? "* significant (the bootstrap 95% CI of\nthe ratio excludes 1)."
			     : "--bootstrap N adds intervals and significance.");
	/* 80 columns: FNR and TNR (1 - TPR, 1 - FPR) are in the disparity list and the JSON */
	static const int t1[] = {AM_PREV, AM_SEL, AM_TPR, AM_FPR, AM_PPV, AM_NPV, AM_ACC};
	static const int t2[] = {AM_AUC, AM_BRIER, AM_MEANP, AM_CITL, AM_SLOPE, AM_INTERCEPT,
				 AM_NB, AM_NB_ALL};
	const int *tabs[2] = {t1, t2};
	const int ntab[2] = {7, 8};
	const char *heads[2] = {"\nClassification at the threshold\n",
				"\nDiscrimination, calibration and net benefit\n"};
	for (int k = 0; k < 2; k++) {
		buf_puts(&b, heads[k]);
		buf_printf(&b, "%-14.14s", gname);
		if (k == 0)
			buf_printf(&b, " %6s", "n");
		for (int j = 0; j < ntab[k]; j++)
			buf_printf(&b, "%6s  ", audit_metrics[tabs[k][j]].title);
		buf_puts(&b, "\n");
		for (int g = 0; g < G; g++) {
			buf_printf(&b, "%-14.14s", disp(d, lab[g]));
			if (k == 0)
				buf_printf(&b, " %6ld", r->size[g]);
			for (int j = 0; j < ntab[k]; j++) {
				size_t i = AUDIT_AT(g, tabs[k][j]);
				cell(&b, r->val[i], k == 0 ? flag_mark(r, i, g) : "");
			}
			buf_puts(&b, "\n");
		}
	}
	buf_puts(&b, "p-obs: mean predicted risk minus observed rate (calibration-in-the-large);\n"
		     "slope/icept: logistic recalibration; NB: net benefit TP/n - FP/n t/(1-t).\n");
	if (r->n_boot) {
		buf_printf(&b, "\n95%% bootstrap intervals (%d replicates, within groups)\n", r->n_boot);
		buf_printf(&b, "%-14.14s %-20s %-20s %-20s\n", gname, "sel", "TPR", "FPR");
		for (int g = 0; g < G; g++) {
			buf_printf(&b, "%-14.14s", disp(d, lab[g]));
			const int ms[3] = {AM_SEL, AM_TPR, AM_FPR};
			for (int j = 0; j < 3; j++) {
				size_t i = AUDIT_AT(g, ms[j]);
				char s[48];
				snprintf(s, sizeof s, "%.3f [%.3f,%.3f]", r->val[i], r->lo[i], r->hi[i]);
				buf_printf(&b, " %-20s", s);
			}
			buf_puts(&b, "\n");
		}
	}
	int nflag = 0;
	for (int g = 0; g < G; g++)
		for (int m = 0; m < AUDIT_NMETRIC; m++)
			nflag += r->flag[AUDIT_AT(g, m)] != 0;
	buf_printf(&b, "\nDisparities against %s: %d flagged\n", lab[r->ref], nflag);
	for (int g = 0; g < G; g++)
		for (int m = 0; m < AUDIT_NMETRIC; m++) {
			size_t i = AUDIT_AT(g, m);
			if (!r->flag[i])
				continue;
			buf_printf(&b, "  %s %-14.14s %-4s ratio %.2f", r->flag[i] > 0 ? "\xe2\x96\xb2" : "\xe2\x96\xbc",
				   disp(d, lab[g]), audit_metrics[m].title, r->ratio[i]);
			if (r->n_boot)
				buf_printf(&b, " [%.2f, %.2f]%s", r->ratio_lo[i], r->ratio_hi[i],
					   r->sig[i] ? " significant" : " not significant");
			buf_printf(&b, ", difference %+.3f\n", r->diff[i]);
		}
	buf_puts(&b, "\nSummary (Fairlearn's definitions, max - min and min / max over groups)\n");
	const char *sn[5] = {"demographic parity difference", "demographic parity ratio",
			     "equalized odds difference", "equalized odds ratio",
			     "equal opportunity difference"};
	audit_summary sv = r->sum, sl = r->sum_lo, sh = r->sum_hi;
	for (int k = 0; k < AUDIT_NSUMMARY; k++) {
		buf_printf(&b, "  %-30s %.3f", sn[k], *audit_summary_at(&sv, k));
		if (r->n_boot)
			buf_printf(&b, " [%.3f, %.3f]", *audit_summary_at(&sl, k), *audit_summary_at(&sh, k));
		buf_puts(&b, "\n");
	}
	buf_printf(&b, "\nPer-group thresholds matching %s (deterministic)\n", lab[r->ref]);
	buf_printf(&b, "%-14.14s %6s | %-22s | %-22s\n", gname, "acc", "equal opportunity",
		   "equal selection rate");
	buf_printf(&b, "%-14s %6s | %6s %6s %8s | %6s %6s %8s\n", "", "at t", "t", "TPR", "acc chg",
		   "t", "sel", "acc chg");
	for (int g = 0; g < G; g++) {
		const audit_thresholds *th = &r->thr[g];
		buf_printf(&b, "%-14.14s %6.3f | %6.3f %6.3f %+8.3f | %6.3f %6.3f %+8.3f\n", disp(d, lab[g]), th->acc,
			   th->eo_t, th->eo_tpr, th->eo_acc - th->acc, th->sr_t, th->sr_sel,
			   th->sr_acc - th->acc);
	}
	if (ndc) {
		buf_puts(&b, "\nDecision curve: net benefit of the model (and of treating all)\n");
		/* three groups per block keep the lines within 80 columns */
		for (int g0 = 0; g0 < G; g0 += 3) {
			int g1 = g0 + 3 < G ? g0 + 3 : G;
			buf_printf(&b, "%5s", "t");
			for (int g = g0; g < g1; g++)
				buf_printf(&b, "  %-20.20s", disp(d, lab[g]));
			buf_puts(&b, "\n");
			for (int k = 0; k < ndc; k++) {
				buf_printf(&b, "%5.2f", dct[k]);
				for (int g = g0; g < g1; g++) {
					char s2[48];
					snprintf(s2, sizeof s2, "%.4f (%.4f)", nb[g * ndc + k], nball[g * ndc + k]);
					buf_printf(&b, "  %-20s", s2);
				}
				buf_puts(&b, "\n");
			}
		}
	}
	if (im->used) {
		buf_printf(&b, "\nWhy the groups differ: mean |integrated gradient| per input (%ld patients)\n",
			   im->used);
		buf_printf(&b, "%-14s %8s", "input", "all");
		/* one grouping column: its values are enough as headings */
		for (int g = 0; g < G && g < 5; g++)
			buf_printf(&b, " %10.10s", value_of(d->g.ncols, lab[g]));
		buf_puts(&b, "\n");
		for (int k = 0; k < im->ntop; k++) {
			int j = im->top[k];
			buf_printf(&b, "%-14.14s %8.4f", im->name[j], im->all[j]);
			for (int g = 0; g < G && g < 5; g++)
				buf_printf(&b, " %10.4f", AUDIT_WHY_PER(im, g, j));
			buf_puts(&b, "\n");
		}
		for (int k = 0; k < im->ntop; k++) {
			char w[512];
			if (im->warn[k] != AUDIT_WHY_NONE)
				buf_printf(&b, "! warning: %s\n", audit_why_warning(im, k, w, sizeof w));
		}
	} else {
		buf_printf(&b, "\n%s\n", audit_why_missing);
	}
	fputs(b.data, stdout);
	buf_free(&b);
}

static int store_run(sqlite3 *db, long model_id, cJSON *params, cJSON *result, long *id_out,
		     lm_err *err)
{
	char *ps = cJSON_PrintUnformatted(params), *rs = cJSON_PrintUnformatted(result);
	char now[32];
	lm_now_iso(now);
	int st = store_exec(db, "BEGIN IMMEDIATE", err);
	sqlite3_stmt *ins = NULL;
	if (!st) {
		ins = store_prepare(db,
				    "INSERT INTO audits(model_id, created_at, params, result) VALUES(?,?,?,?)",
				    err);
		if (!ins)
			st = err->status;
	}
	if (!st) {
		sqlite3_bind_int64(ins, 1, model_id);
		sqlite3_bind_text(ins, 2, now, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 3, ps, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 4, rs, -1, SQLITE_TRANSIENT);
		int rc = sqlite3_step(ins);
		if (rc != SQLITE_DONE)
			st = lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
		*id_out = (long)sqlite3_last_insert_rowid(db);
	}
	sqlite3_finalize(ins);
	if (!st) {
		char *detail = xasprintf("audit %ld of model %ld", *id_out, model_id);
		st = store_log_access(db, "audit", 0, detail, err);
		free(detail);
	}
	if (!st)
		st = store_exec(db, "COMMIT", err);
	else if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	cJSON_free(ps);
	cJSON_free(rs);
	return st;
}

int cmd_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"model", required_argument, NULL, 'm'},     {"by", required_argument, NULL, 'b'},
		{"bins", required_argument, NULL, 'B'},      {"threshold", required_argument, NULL, 't'},
		{"reference", required_argument, NULL, 'r'}, {"tolerance", required_argument, NULL, 'T'},
		{"bootstrap", required_argument, NULL, 'n'}, {"seed", required_argument, NULL, 's'},
		{"decision-curve", no_argument, NULL, 'd'},  {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0}};
	audit_cli o;
	memset(&o, 0, sizeof o);
	o.threshold = 0.5;
	o.tolerance = 0.8;
	o.seed = 1;
	optind = 0;
	int ch;
	long lv;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm': o.model = optarg; break;
		case 'b': o.by = optarg; break;
		case 'B':
			if (o.nbins == 16)
				return cli_usage_error(CMD, "--bins: at most 16");
			o.bins[o.nbins++] = optarg;
			break;
		case 't':
			o.thr_s = optarg;
			if (!strcmp(optarg, "youden"))
				o.youden = 1;
			else if (parse_double(optarg, &o.threshold) != 0 || !(o.threshold > 0 && o.threshold < 1))
				return cli_usage_error(CMD, "--threshold: '%s' is not youden or a number in (0,1)",
						       optarg);
			break;
		case 'r': o.ref_s = optarg; break;
		case 'T':
			if (parse_double(optarg, &o.tolerance) != 0 || !(o.tolerance > 0 && o.tolerance < 1))
				return cli_usage_error(CMD, "--tolerance: '%s' is not a number in (0,1)", optarg);
			break;
		case 'n':
			if (parse_long(optarg, &lv) != 0 || lv < 0 || lv > 1000000)
				return cli_usage_error(CMD, "--bootstrap: '%s' is not 0 to 1000000", optarg);
			o.n_boot = (int)lv;
			break;
		case 's':
			if (parse_long(optarg, &lv) != 0 || lv < 0)
				return cli_usage_error(CMD, "--seed: '%s' is not a number >= 0", optarg);
			o.seed = (unsigned long)lv;
			break;
		case 'd': o.dcurve = 1; break;
		case 'j': o.json = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default: return cli_usage_error(CMD, "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(CMD, "expected one workbench FILE");
	o.file = argv[optind];
	if (!o.model || !o.by)
		return cli_usage_error(CMD, "--model and --by are required");

	lm_err err = {0};
	sqlite3 *db = store_open(o.file, 0, &err);
	if (!db) {
		lm_report(CMD, &err);
		return err.status;
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	ops_audit_opts ao = {.model = o.model, .by = o.by, .bins = o.bins, .nbins = o.nbins,
			     .reference = o.ref_s,
			     .a = {o.threshold, o.youden, -1, o.tolerance, o.n_boot, o.seed,
				   ncpu > 1 ? (int)(ncpu < 8 ? ncpu : 8) : 1}};
	ops_audit d;
	int st = ops_audit_run(db, &ao, &d, &err);
	audit_result r = d.r;
	if (st) {
		ops_audit_free(&d);
		store_close(db);
		lm_report(CMD, &err);
		return st;
	}
	for (int g = 0; g < r.G; g++)
		if (r.small[g])
			fprintf(stderr, "lumen: audit: warning: group %s has %ld patients (under %d): too "
					"small to judge\n",
				d.g.label[g], r.size[g], AUDIT_MIN_N);
	double dct[10], *nb = NULL, *nball = NULL;
	int ndc = 0;
	if (o.dcurve) {
		ndc = 10;
		for (int k = 0; k < ndc; k++)
			dct[k] = 0.05 * (k + 1);
		nb = xmallocarray((size_t)r.G * (size_t)ndc, sizeof *nb);
		nball = xmallocarray((size_t)r.G * (size_t)ndc, sizeof *nball);
		audit_input in = {d.nrow, d.p, d.y, d.group, d.g.n, d.g.label};
		audit_decision_curve(&in, dct, ndc, nb, nball);
	}
	audit_why im;
	st = audit_why_compute(db, d.model_id, d.rowid, d.group, d.nrow, r.G, o.by, &im, &err);
	if (st) {
		audit_why_free(&im);
		free(nb);
		free(nball);
		ops_audit_free(&d);
		store_close(db);
		lm_report(CMD, &err);
		return st;
	}

	cJSON *params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "model", o.model);
	cJSON_AddStringToObject(params, "by", o.by);
	cJSON *bins = cJSON_AddArrayToObject(params, "bins");
	for (int i = 0; i < o.nbins; i++)
		cJSON_AddItemToArray(bins, cJSON_CreateString(o.bins[i]));
	cJSON_AddStringToObject(params, "threshold", o.thr_s ? o.thr_s : "0.5");
	cJSON_AddStringToObject(params, "reference", d.g.label[r.ref]);
	cJSON_AddNumberToObject(params, "tolerance", o.tolerance);
	cJSON_AddNumberToObject(params, "bootstrap", o.n_boot);
	cJSON_AddNumberToObject(params, "seed", (double)o.seed);
	cJSON *res = ops_audit_json(&d);
	if (ndc) {
		cJSON *dc = cJSON_AddArrayToObject(res, "decision_curve");
		for (int k = 0; k < ndc; k++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddNumberToObject(e, "threshold", dct[k]);
			cJSON *ge = cJSON_AddObjectToObject(e, "groups");
			for (int g = 0; g < r.G; g++) {
				cJSON *x = cJSON_AddObjectToObject(ge, d.g.label[g]);
				metrics_json_number(x, "model", nb[g * ndc + k]);
				metrics_json_number(x, "treat_all", nball[g * ndc + k]);
			}
			cJSON_AddItemToArray(dc, e);
		}
	}
	if (im.used)
		cJSON_AddItemToObject(res, "importance", audit_why_json(&im, d.g.label));
	/* a survival model: concordance and horizon calibration per group (audit_cox.c) */
	frame rows = {.nrow = d.nrow, .rowid = d.rowid}; /* audit_cox reads the rowids only */
	cJSON *surv = audit_cox_json(db, d.model_id, &rows, d.group, r.G, d.g.label, &err);
	if (surv)
		cJSON_AddItemToObject(res, "survival", surv);
	else if (err.status)
		fprintf(stderr, "lumen: audit: warning: no survival section: %s\n", err.msg);
	/* an effect model: the benefit by group (audit_effect.c) */
	lm_err eerr = {0};
	cJSON *eff = audit_effect_json(db, o.model, o.by, &eerr);
	if (eff)
		cJSON_AddItemToObject(res, "effect", eff);
	else if (eerr.status)
		fprintf(stderr, "lumen: audit: warning: no effect section: %s\n", eerr.msg);
	long audit_id = 0;
	st = store_run(db, d.model_id, params, res, &audit_id, &err);
	if (st) {
		lm_report(CMD, &err);
	} else if (o.json) {
		cJSON_AddNumberToObject(res, "audit_id", (double)audit_id);
		char *s = cJSON_Print(res);
		puts(s);
		cJSON_free(s);
	} else {
		print_text(&o, &d, &r, &im, dct, ndc, nb, nball);
		audit_cox_print(surv);
		if (eff)
			audit_effect_print(eff);
		printf("\nStored as audit %ld in %s.\n", audit_id, o.file);
	}
	cJSON_Delete(params);
	cJSON_Delete(res);
	audit_why_free(&im);
	free(nb);
	free(nball);
	ops_audit_free(&d);
	store_close(db);
	return st;
}
