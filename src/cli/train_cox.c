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
	static const struct option opts[] = {
		{"model", required_argument, NULL, 'm'},   {"time", required_argument, NULL, 't'},
		{"event", required_argument, NULL, 'e'},   {"ties", required_argument, NULL, 'T'},
		{"l2", required_argument, NULL, '2'},      {"times", required_argument, NULL, 'S'},
		{"horizon", required_argument, NULL, 'H'}, {"name", required_argument, NULL, 'n'},
		{"folds", required_argument, NULL, 'k'},   {"seed", required_argument, NULL, 's'},
		{"features", required_argument, NULL, 'f'}, {"exclude", required_argument, NULL, 'x'},
		{"force", no_argument, NULL, 'o'},         {"quiet", no_argument, NULL, 'q'},
		{"epochs", required_argument, NULL, 'E'},  {"batch", required_argument, NULL, 'b'},
		{"lr", required_argument, NULL, 'l'},      {"dropout", required_argument, NULL, 'D'},
		{"hidden", required_argument, NULL, 'N'},  {"max-visits", required_argument, NULL, 'K'},
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
	int c, attn_width = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		long v;
		double d;
		switch (c) {
		case 'm':
			if (strcmp(optarg, "cox") && strcmp(optarg, "mlp") && strcmp(optarg, "transformer") &&
			    nn_arch_parse(optarg) < NN_GRU)
				return cli_usage_error(CMD, "--model %s does not take --time/--event (cox, mlp,"
							    " transformer, gru, cnn or cnn-gru do; logreg takes"
							    " --horizon)", optarg);
			a->arch = optarg;
			a->neural = strcmp(optarg, "cox") != 0;
			break;
		case 'N': a->hidden = optarg; break;
		case 'A':
			if (!a->attention)
				a->attention = 16;
			break;
		case 'a':
			if (parse_long(optarg, &v) != 0 || v < 1 || v > 4096)
				return cli_usage_error(CMD, "--attention-width: '%s' is not a valid count", optarg);
			attn_width = (int)v;
			break;
		case 'K':
			if (parse_long(optarg, &v) != 0 || v < 1 || v > 4096)
				return cli_usage_error(CMD, "--max-visits: '%s' is not a valid count", optarg);
			a->max_visits = (int)v;
			break;
		case 'E': case 'b':
			if (parse_long(optarg, &v) != 0 || v < 1 || v > 1000000000L)
				return cli_usage_error(CMD, "--%s: '%s' is not a valid count",
						       c == 'E' ? "epochs" : "batch", optarg);
			if (c == 'E')
				a->epochs = (int)v;
			else
				a->batch = (int)v;
			break;
		case 'l': case 'D':
			if (parse_double(optarg, &d) != 0 || !(d >= 0) || (c == 'l' && d <= 0) || (c == 'D' && d >= 1))
				return cli_usage_error(CMD, "--%s: '%s' is not a valid value",
						       c == 'l' ? "lr" : "dropout", optarg);
			if (c == 'l')
				a->lr = d;
			else
				a->dropout = d;
			break;
		case 't': a->time = optarg; break;
		case 'e': a->event = optarg; break;
		case 'n': a->name = optarg; break;
		case 'f': a->features = optarg; break;
		case 'x': a->exclude = optarg; break;
		case 'S': a->times = optarg; break;
		case 'o': a->force = 1; break;
		case 'q': a->quiet = 1; break;
		case 'T':
			if (!strcmp(optarg, "efron"))
				a->ties = COX_EFRON;
			else if (!strcmp(optarg, "breslow"))
				a->ties = COX_BRESLOW;
			else
				return cli_usage_error(CMD, "--ties: '%s' is not efron or breslow", optarg);
			break;
		case '2': case 'H':
			if (parse_double(optarg, &d) != 0 || !(d >= 0) || !isfinite(d) || (c == 'H' && d <= 0))
				return cli_usage_error(CMD, "--%s: '%s' is not a valid value",
						       c == '2' ? "l2" : "horizon", optarg);
			if (c == '2')
				a->l2 = d;
			else
				a->horizon = d;
			break;
		case 'k': case 's':
			if (parse_long(optarg, &v) != 0 || v < (c == 's' ? 0 : 2) || v > 1000000000L)
				return cli_usage_error(CMD, "--%s: '%s' is not a valid count",
						       c == 'k' ? "folds" : "seed", optarg);
			if (c == 'k')
				a->folds = (int)v;
			else
				a->seed = v;
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
	if (attn_width && !a->attention)
		return cli_usage_error(CMD, "--attention-width goes with --attention");
	if (a->attention && strcmp(a->arch, "gru") && strcmp(a->arch, "cnn-gru"))
		return cli_usage_error(CMD, "--attention needs --model gru or cnn-gru (%s has no GRU "
					    "states over the visits to attend to)", a->arch);
	if (attn_width)
		a->attention = attn_width;
	return 0;
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
