/* cmd_validate.c: lumen validate — external validation of a stored model on another cohort
 * with the same columns (ops_validate_run), printed and stored as a validation of the model. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../ops/ops.h"
#include "cli.h"

#define CMD "validate"

static const char usage[] =
	"Usage: lumen validate FILE --model NAME --input OTHER.csv [--by COL] [--horizon T]\n"
	"                      [--bins K] [--id COL|--row-ids] [--no-store] [--json]\n"
	"Scores the patients of another cohort (same column names, with the model's outcome)\n"
	"with the model's final network and measures it there: discrimination (AUC, or Harrell's\n"
	"and Uno's C-index for a survival model), calibration (slope, intercept, a calibration\n"
	"curve), Brier, and the same per group. Stored in FILE as a validation of the model\n"
	"(lumen models FILE lists them).\n"
	"  -m, --model NAME     the model (binary or survival)\n"
	"  -i, --input OTHER    the other cohort's CSV (checked as lumen predict --input)\n"
	"      --by COL         per-group figures by this column (default: the first group\n"
	"                       column of FILE that OTHER has)\n"
	"      --horizon T      survival: the time of the risk, Brier and calibration (default:\n"
	"                       the model's horizon)\n"
	"      --bins K         calibration curve: K equal-width bins of p, or K groups of equal\n"
	"                       size by predicted risk for a survival model (default 10)\n"
	"      --id COL         OTHER's patient id column; --row-ids: number its rows 1..n\n"
	"      --no-store       print only, store nothing\n"
	"      --json           machine-readable output\n";

static void fig(const char *name, double v, const char *fmt)
{
	if (isnan(v))
		printf("%s -", name);
	else {
		printf("%s ", name);
		printf(fmt, v);
	}
}

static void cell(double v, const char *fmt)
{
	if (isnan(v))
		printf("%7s ", "-");
	else
		printf(fmt, v);
}

static void print_text(const ops_validation *v)
{
	const ops_vgroup *a = &v->all;
	printf("Validation of model '%s' (%s) on %s: %ld patients, %ld events", v->model, v->arch,
	       v->input, a->n, a->events);
	if (v->left_out)
		printf(" (%ld without an outcome left out)", v->left_out);
	printf("\n  input sha256 %.12s; scored with the final model (refit on all patients)\n",
	       v->sha256);
	if (v->survival) {
		printf("  discrimination: ");
		fig("Harrell's C", a->disc, "%.3f");
		printf(", ");
		fig("Uno's C", v->uno_c, "%.3f");
		printf(", ");
		fig("AUC", v->auc_t, "%.3f");
		printf(" at t = %g\n", v->horizon);
		printf("  calibration: ");
		fig("slope", v->slope, "%.3f");
		if (!isnan(v->slope_se))
			printf(" (se %.3f; Cox regression on the linear predictor, 1 is ideal)", v->slope_se);
		printf("\n  by t = %g: mean predicted risk %.3f, observed (Kaplan-Meier) %.3f; ",
		       v->horizon, a->mean_pred, a->observed);
		fig("Brier (IPCW)", a->brier, "%.4f");
		printf("\n");
	} else {
		printf("  discrimination: ");
		fig("AUC", a->disc, "%.3f");
		printf(", ");
		fig("average precision", v->ap, "%.3f");
		printf("\n  calibration: ");
		fig("slope", v->slope, "%.3f");
		printf(", ");
		fig("intercept", v->intercept, "%+.3f");
		printf(", ");
		fig("in the large", v->citl, "%+.3f");
		printf(" (logistic recalibration; 1 and 0 are ideal)\n");
		printf("  mean predicted risk %.3f, observed %.3f; ", a->mean_pred, a->observed);
		fig("Brier", a->brier, "%.4f");
		printf("\n");
	}
	printf("  calibration curve (%s):\n    %-10s %-10s %s\n",
	       v->survival ? "groups by predicted risk, Kaplan-Meier observed" : "bins of p",
	       "predicted", "observed", "patients");
	for (int k = 0; k < v->ncal; k++)
		printf("    %-10.3f %-10.3f %ld\n", v->cal_pred[k], v->cal_obs[k], v->cal_n[k]);
	if (v->by) {
		printf("  by %s:\n    %-16s %6s %6s %7s %7s %9s %8s\n", v->by, "group", "n", "events",
		       v->survival ? "C" : "AUC", "Brier", "predicted", "observed");
		for (int k = 0; k < v->G; k++) {
			const ops_vgroup *g = &v->group[k];
			printf("    %-16s %6ld %6ld ", g->label, g->n, g->events);
			cell(g->disc, "%7.3f ");
			cell(g->brier, "%7.4f ");
			printf("%9.3f %8.3f\n", g->mean_pred, g->observed);
		}
	}
	if (v->id)
		printf("Stored as validation %ld of model '%s' (lumen models FILE lists it).\n", v->id,
		       v->model);
}

int cmd_validate(int argc, char **argv)
{
	static const struct option lo[] = {
		{"model", required_argument, NULL, 'm'}, {"input", required_argument, NULL, 'i'},
		{"by", required_argument, NULL, 'B'},    {"horizon", required_argument, NULL, 'H'},
		{"bins", required_argument, NULL, 'k'},  {"id", required_argument, NULL, 'I'},
		{"row-ids", no_argument, NULL, 'R'},     {"no-store", no_argument, NULL, 'N'},
		{"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	ops_validate_opts o;
	ops_validate_opts_defaults(&o);
	int json = 0, c;
	long lv;
	double dv;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:i:h", lo, NULL)) != -1) {
		switch (c) {
		case 'm': o.model = optarg; break;
		case 'i': o.input = optarg; break;
		case 'B': o.by = optarg; break;
		case 'H':
			if (parse_double(optarg, &dv) || !(dv > 0) || !isfinite(dv))
				return cli_usage_error(CMD, "--horizon wants a positive time, not '%s'", optarg);
			o.horizon = dv;
			break;
		case 'k':
			if (parse_long(optarg, &lv) || lv < 2 || lv > 100)
				return cli_usage_error(CMD, "--bins wants a number from 2 to 100, not '%s'", optarg);
			o.bins = (int)lv;
			break;
		case 'I': o.id = optarg; break;
		case 'R': o.row_ids = 1; break;
		case 'N': o.store = 0; break;
		case 'j': json = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		case ':': return cli_usage_error(CMD, "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(CMD, "no workbench file given");
	if (optind + 1 < argc)
		return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind + 1]);
	if (!o.model)
		return cli_usage_error(CMD, "--model NAME is required (lumen models FILE lists them)");
	if (!o.input)
		return cli_usage_error(CMD, "--input OTHER.csv is required (the cohort to validate on)");
	if (o.id && o.row_ids)
		return cli_usage_error(CMD, "--id and --row-ids exclude each other");
	lm_err err = {0};
	sqlite3 *db = store_open(argv[optind], 0, &err);
	if (!db) {
		lm_report(CMD, &err);
		return err.status;
	}
	ops_validation v;
	int st = ops_validate_run(db, &o, &v, &err);
	if (st) {
		lm_report(CMD, &err);
	} else if (json) {
		char *s = json_take(ops_validation_json(&v));
		printf("%s\n", s);
		free(s);
	} else {
		print_text(&v);
	}
	ops_validation_free(&v);
	store_close(db);
	return st;
}
