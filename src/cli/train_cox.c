/* train_cox.c: `lumen train FILE --model cox --time COL --event COL[=V]` — the options of a
 * Cox model (or a network on the Cox partial likelihood); the job is ops_train_cox_run
 * (src/ops/ops_train_cox.c), whose warnings and summary this prints. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../ops/ops.h"
#include "../stats/cox.h"
#include "cli.h"

#define CMD "train"

static const char usage[] =
	"Usage: lumen train FILE --model cox --time COL --event COL[=V] [options]\n"
	"Cox proportional hazards, cross-validated; stores the model, every patient's out-of-fold\n"
	"linear predictor and risk, the coefficient table and the censoring-aware evaluation.\n"
	"  --time COL            follow-up time (numeric, >= 0, no missing values)\n"
	"  --event COL[=V]       event indicator: a 0/1 column, two numeric codes (the larger is\n"
	"                        the event), or COL=V making V the event and every other value\n"
	"                        censored\n"
	"  --ties efron|breslow  tied death times (default efron, as R's coxph)\n"
	"  --l2 L                ridge penalty L/2 |b|^2 on the standardised inputs (default 0)\n"
	"  --times a,b,...       evaluation times for AUC(t) and Brier(t) (default: the quartiles\n"
	"                        of the event times)\n"
	"  --horizon T           the time of the stored risk p = 1 - S(T | x) and of calibration\n"
	"                        (default: the middle evaluation time)\n"
	"  --name NAME           model name (default cox-EVENTCOL)\n"
	"  --folds K             cross-validation folds (default 5), stratified by event\n"
	"  --seed S              seed of the folds (default 1)\n"
	"  --features a,b        exactly these feature columns\n"
	"  --exclude a,b         leave these columns out of the default features\n"
	"  --force               replace a model of the same name\n"
	"  --quiet               no notes on stderr\n"
	"  --model gru|cnn|cnn-gru --max-visits K   a network on the Cox partial likelihood\n"
	"                        over the last K visits too (default 16; lumen train --help)\n"
	"  --attention [--attention-width A]   gru, cnn-gru: attention over the visits\n";

typedef ops_train_opts cox_args;

static int parse(int argc, char **argv, cox_args *a, int *done)
{
	enum { SH = CLI_TRAIN_SHARED };
	static const struct option opts[] = {
		{"model", required_argument, NULL, 'm'},   {"time", required_argument, NULL, SH},
		{"event", required_argument, NULL, SH},    {"ties", required_argument, NULL, 'T'},
		{"l2", required_argument, NULL, SH},       {"times", required_argument, NULL, SH},
		{"horizon", required_argument, NULL, SH},  {"name", required_argument, NULL, SH},
		{"folds", required_argument, NULL, SH},    {"seed", required_argument, NULL, SH},
		{"features", required_argument, NULL, SH}, {"exclude", required_argument, NULL, SH},
		{"force", no_argument, NULL, SH},          {"quiet", no_argument, NULL, SH},
		{"epochs", required_argument, NULL, SH},   {"batch", required_argument, NULL, SH},
		{"lr", required_argument, NULL, SH},       {"dropout", required_argument, NULL, SH},
		{"hidden", required_argument, NULL, SH},   {"max-visits", required_argument, NULL, SH},
		{"attention", no_argument, NULL, 'A'},     {"attention-width", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h' + 256},    {NULL, 0, NULL, 0},
	};
	memset(a, 0, sizeof *a);
	a->folds = 5;
	a->seed = 1;
	a->horizon = NAN;
	a->ties = COX_EFRON;
	a->arch = "cox";
	a->dropout = -1;
	optind = 1;
	opterr = 0;
	int c, li = 0, attention = 0, st;
	const char *attn_width = NULL;
	while ((c = getopt_long(argc, argv, "", opts, &li)) != -1) {
		switch (c) {
		case SH:
			if ((st = cli_train_opt(CMD, opts[li].name, optarg, a)))
				return st;
			break;
		case 'm':
			if (strcmp(optarg, "cox") && strcmp(optarg, "mlp") && strcmp(optarg, "transformer") &&
			    nn_arch_parse(optarg) < NN_GRU)
				return cli_usage_error(CMD, "--model %s does not take --time/--event (cox, mlp,"
							    " transformer, gru, cnn or cnn-gru do; logreg takes"
							    " --horizon)", optarg);
			a->arch = optarg;
			a->neural = strcmp(optarg, "cox") != 0;
			break;
		case 'A': attention = 1; break;
		case 'a': attn_width = optarg; break;
		case 'T':
			if (!strcmp(optarg, "efron"))
				a->ties = COX_EFRON;
			else if (!strcmp(optarg, "breslow"))
				a->ties = COX_BRESLOW;
			else
				return cli_usage_error(CMD, "--ties: '%s' is not efron or breslow", optarg);
			break;
		case 'h' + 256:
			fputs(usage, stdout);
			*done = 1;
			return 0;
		default:
			return cli_usage_error(CMD, "unknown or incomplete option '%s' (for --model cox)",
					       argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(CMD, optind >= argc ? "no workbench FILE" : "one FILE expected");
	a->file = argv[optind];
	if (!a->time || !a->event)
		return cli_usage_error(CMD, "--model cox needs --time COL and --event COL[=V]");
	return cli_train_attention(CMD, a, attention, attn_width);
}

/* Warnings of the job, as lumen train gives them. */
static void on_event(void *ctx, const ops_train_event *ev)
{
	(void)ctx;
	if (ev->kind == OPS_TRAIN_WARNING || ev->kind == OPS_TRAIN_NOTE)
		fprintf(stderr, "lumen: train: %s\n", ev->text);
}

int cmd_train_cox(int argc, char **argv)
{
	cox_args a;
	int done = 0, st = parse(argc, argv, &a, &done);
	if (st || done)
		return st;
	lm_err err = {0};
	sqlite3 *db = store_open(a.file, 0, &err);
	if (!db) {
		lm_report(CMD, &err);
		return err.status;
	}
	a.progress = on_event;
	ops_train r;
	if ((st = ops_train_cox_run(db, &a, &r, &err))) {
		lm_report(CMD, &err);
	} else if (r.neural) {
		printf("model '%s': %s on the Cox partial likelihood, time %s, event %s, %ld "
		       "patients, %ld events, %d folds, out-of-fold C-index %.3f (final %.3f); final "
		       "%s\n",
		       r.name, r.arch, a.time, r.event_desc, r.n_used, r.events, r.folds, r.c_index,
		       r.c_final, r.final_desc);
	} else {
		char pb[32];
		if (r.lr_p < 1e-16)
			snprintf(pb, sizeof pb, "< 1e-16");
		else
			snprintf(pb, sizeof pb, "= %.3g", r.lr_p);
		printf("model '%s': cox, time %s, event %s, %ld patients, %ld events, %d folds, "
		       "out-of-fold C-index %.3f (final %.3f); likelihood ratio %.2f on %d df, p %s\n",
		       r.name, a.time, r.event_desc, r.n_used, r.events, r.folds, r.c_index, r.c_final,
		       r.lr_chisq, r.df, pb);
	}
	ops_train_free(&r);
	store_close(db);
	return st;
}
