/* cmd_train.c: `lumen train` — K-fold cross-validated training of one architecture on the
 * patients of a workbench file, a final model refitted on every patient, and everything
 * (model, inputs, tensors, out-of-fold predictions, metrics) stored in one transaction. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../nn/model.h"
#include "../ops/ops.h"
#include "cli.h"

#define CMD "train"

static const char usage[] =
	"Usage: lumen train FILE --model logreg|mlp|transformer|gru|cnn|cnn-gru --target COL [options]\n"
	"       lumen train FILE --model cox|mlp|transformer|gru|cnn|cnn-gru --time COL\n"
	"                        --event COL[=V] [options]\n"
	"       lumen train FILE --model ARCH --target COL --effect COL [--learner t|dr] [options]\n"
	"       (time-to-event: lumen train --model cox --help; effects: --effect X --help)\n"
	"Cross-validated training; stores the model, its out-of-fold predictions and metrics.\n"
	"  --model ARCH          logreg, mlp, transformer; gru, cnn, cnn-gru read the visits too\n"
	"  --target COL          the outcome column\n"
	"  --positive VALUE      the level of COL that counts as 1 (the rest is 0)\n"
	"  --name NAME           model name (default ARCH-COL)\n"
	"  --folds K             cross-validation folds (default 5)\n"
	"  --epochs E            at most E epochs (default 100; early stopping ends sooner)\n"
	"  --batch B             mini-batch size (default 256)\n"
	"  --lr LR               AdamW learning rate (default 0.001)\n"
	"                        (logreg is solved by Newton's method: no epochs, batch or lr)\n"
	"  --seed S              seed of folds, initialisation and shuffling (default 1)\n"
	"  --features a,b        exactly these feature columns\n"
	"  --exclude a,b         leave these columns out of the default features\n"
	"  --hidden 64,64        mlp hidden layer sizes\n"
	"  --dropout P           mlp and transformer dropout (default 0.1)\n"
	"  --l2 L                logreg L2 penalty (default 0.001; sklearn C = 1 / (L n))\n"
	"  --d-model D --blocks N --heads H --ffn F   transformer (default 32, 2, 4, 64)\n"
	"  --max-visits K        gru, cnn, cnn-gru: the last K visits of each patient (default 16)\n"
	"  --gru-hidden H        gru, cnn-gru: GRU units (default 32)\n"
	"  --channels C --kernel W   cnn, cnn-gru: convolution channels and odd width (32, 3)\n"
	"                        (their head: --hidden N, one layer, default 64)\n"
	"  --attention           gru, cnn-gru: additive attention over the visits' GRU states\n"
	"                        (the head reads the attended context too; lumen explain stores\n"
	"                        the weights per visit)\n"
	"  --attention-width A   its width (default 16)\n"
	"  --class-weight balanced|none   weight classes by inverse frequency (default none)\n"
	"  --threads N           data-parallel training: each of N threads a share of every\n"
	"                        batch (logreg: of every Newton pass's rows); default 1, and an\n"
	"                        mlp or transformer depends on N\n"
	"  --time COL --event COL[=V] --horizon T   instead of --target: the event before time T\n"
	"                        (patients censored before T are left out)\n"
	"  --force               replace a model of the same name\n"
	"  --quiet               no progress on stderr\n";

/* The options of ops_train_run, and --event's column (malloc'd) for the fixed-horizon
 * target. */
typedef struct train_args {
	ops_train_opts o;
	char *ev_col;
} train_args;

/* ---- progress ---- */

typedef struct progress {
	int quiet, tty, fold, nfold; /* fold -1: the final model */
	double last;                 /* when the last line went out (not a terminal) */
	int epoch;                   /* the last epoch seen */
	char line[160];              /* and its line */
} progress;

/* Seconds between two progress lines when standard error is not a terminal (a log file):
 * a line per epoch would be thousands of lines. */
#define PROGRESS_EVERY 5.0

static void on_epoch(progress *pr, int epoch, double loss, double val_loss, double val_auc)
{
	if (pr->quiet)
		return;
	char who[32];
	if (pr->fold < 0)
		snprintf(who, sizeof who, "final");
	else
		snprintf(who, sizeof who, "fold %d/%d", pr->fold + 1, pr->nfold);
	char val[64] = "";
	if (!isnan(val_loss)) /* the refit holds nothing out */
		snprintf(val, sizeof val, " val loss %.4f val AUC %.3f", val_loss, val_auc);
	snprintf(pr->line, sizeof pr->line, "lumen: train: %s epoch %d loss %.4f%s", who, epoch,
		 loss, val);
	pr->epoch = epoch;
	if (pr->tty) {
		/* one line, rewritten in place */
		fprintf(stderr, "\r\033[K%s", pr->line);
	} else {
		double now = lm_seconds();
		if (pr->last > 0 && now - pr->last < PROGRESS_EVERY)
			return;
		pr->last = now;
		pr->line[0] = 0; /* out: progress_done need not repeat it */
		fprintf(stderr, "lumen: train: %s epoch %d loss %.4f%s\n", who, epoch, loss, val);
	}
	fflush(stderr);
}

/* The end of one network's training: clears the terminal line, or (in a log) gives the
 * last epoch's line once, so that every fold ends with where it stopped. */
static void progress_done(progress *pr)
{
	if (pr->quiet)
		return;
	if (pr->tty)
		fprintf(stderr, "\r\033[K");
	else if (pr->line[0])
		fprintf(stderr, "%s\n", pr->line);
	pr->line[0] = 0;
	pr->last = 0;
}

/* The events of ops_train_run: notes and warnings always (--quiet hides progress only),
 * epochs on one line rewritten in place on a terminal, every PROGRESS_EVERY s in a log. */
static void on_event(void *ctx, const ops_train_event *ev)
{
	progress *pr = ctx;
	switch (ev->kind) {
	case OPS_TRAIN_NOTE:
		fprintf(stderr, "lumen: train: %s\n", ev->text);
		break;
	case OPS_TRAIN_WARNING:
		fprintf(stderr, "lumen: train: warning: %s\n", ev->text);
		break;
	case OPS_TRAIN_EPOCH:
		pr->fold = ev->fold;
		pr->nfold = ev->nfold;
		on_epoch(pr, ev->epoch, ev->loss, ev->val_loss, ev->val_auc);
		break;
	case OPS_TRAIN_NET_DONE:
		progress_done(pr);
		break;
	}
}

static int parse_args(int argc, char **argv, train_args *ta, int *done)
{
	ops_train_opts *a = &ta->o;
	enum { SH = CLI_TRAIN_SHARED };
	static const struct option opts[] = {
		{"model", required_argument, NULL, 'm'},     {"target", required_argument, NULL, SH},
		{"positive", required_argument, NULL, SH},   {"name", required_argument, NULL, SH},
		{"folds", required_argument, NULL, SH},      {"epochs", required_argument, NULL, SH},
		{"batch", required_argument, NULL, SH},      {"lr", required_argument, NULL, SH},
		{"seed", required_argument, NULL, SH},       {"features", required_argument, NULL, SH},
		{"exclude", required_argument, NULL, SH},    {"hidden", required_argument, NULL, SH},
		{"dropout", required_argument, NULL, SH},    {"l2", required_argument, NULL, SH},
		{"d-model", required_argument, NULL, SH},    {"blocks", required_argument, NULL, SH},
		{"heads", required_argument, NULL, SH},      {"ffn", required_argument, NULL, SH},
		{"final", required_argument, NULL, 'z'},     {"class-weight", required_argument, NULL, 'w'},
		{"force", no_argument, NULL, SH},            {"quiet", no_argument, NULL, SH},
		{"threads", required_argument, NULL, SH},    {"time", required_argument, NULL, SH},
		{"event", required_argument, NULL, SH},      {"horizon", required_argument, NULL, SH},
		{"max-visits", required_argument, NULL, SH}, {"gru-hidden", required_argument, NULL, SH},
		{"channels", required_argument, NULL, SH},   {"kernel", required_argument, NULL, SH},
		{"attention", no_argument, NULL, 'A'},       {"attention-width", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, '?' + 256},      {NULL, 0, NULL, 0},
	};
	memset(ta, 0, sizeof *ta);
	a->folds = 5;
	a->seed = 1;
	a->lr = a->dropout = a->l2 = -1;
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
		case 'm': a->arch = optarg; break;
		case 'A': attention = 1; break;
		case 'a': attn_width = optarg; break;
		case 'z':
			if (strcmp(optarg, "refit"))
				return cli_usage_error(CMD, "--final: '%s' is not available (refit)", optarg);
			break;
		case 'w':
			if (!strcmp(optarg, "balanced"))
				a->balanced = 1;
			else if (strcmp(optarg, "none"))
				return cli_usage_error(CMD, "--class-weight: '%s' is not balanced or none",
						       optarg);
			break;
		case '?' + 256:
			fputs(usage, stdout);
			*done = 1;
			return 0;
		default:
			return cli_usage_error(CMD, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(CMD, optind >= argc ? "no workbench FILE" : "one FILE expected");
	a->file = argv[optind];
	if (!a->arch)
		return cli_usage_error(CMD, "--model ARCH is required (logreg, mlp, transformer, gru, "
					    "cnn, cnn-gru)");
	if (nn_arch_parse(a->arch) < 0)
		return cli_usage_error(CMD, "unknown architecture '%s' (logreg, mlp, transformer, gru, "
					    "cnn, cnn-gru)", a->arch);
	if ((st = cli_train_attention(CMD, a, attention, attn_width)))
		return st;
	if (a->horizon > 0 || a->time || a->event) {
		if (!(a->horizon > 0) || !a->time || !a->event)
			return cli_usage_error(CMD, "--model %s: --time, --event and --horizon go together"
						    " (or --model cox)", a->arch);
		if (a->target)
			return cli_usage_error(CMD, "--horizon makes the target; drop --target");
		ta->ev_col = xstrdup(a->event);
		char *eq = strchr(ta->ev_col, '=');
		if (eq)
			*eq = '\0';
		a->target = ta->ev_col;
		a->positive = eq ? a->event + (eq - ta->ev_col) + 1 : NULL;
	}
	if (!a->target)
		return cli_usage_error(CMD, "--target COL is required");
	return 0;
}

int cmd_train(int argc, char **argv)
{
	/* a Cox model has its own options and fit: train_cox.c */
	int has_time = 0, has_horizon = 0;
	for (int i = 1; i < argc; i++) /* a treatment-effect model, whatever --model says: train_effect.c */
		if (!strcmp(argv[i], "--effect") || !strncmp(argv[i], "--effect=", 9))
			return cmd_train_effect(argc, argv);
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "--model") && i + 1 < argc && !strcmp(argv[i + 1], "cox")) ||
		    !strcmp(argv[i], "--model=cox"))
			return cmd_train_cox(argc, argv);
		has_time |= !strncmp(argv[i], "--time", 6) && strncmp(argv[i], "--times", 7);
		has_horizon |= !strncmp(argv[i], "--horizon", 9);
	}
	if (has_time && !has_horizon) /* a network on the Cox partial likelihood */
		return cmd_train_cox(argc, argv);
	train_args ta;
	int done = 0;
	int st = parse_args(argc, argv, &ta, &done);
	if (st || done) {
		free(ta.ev_col);
		return st;
	}
	lm_err err = {0};
	sqlite3 *db = store_open(ta.o.file, 0, &err);
	if (!db) {
		lm_report(CMD, &err);
		free(ta.ev_col);
		return err.status;
	}
	progress pr = {ta.o.quiet, isatty(2), 0, ta.o.folds, 0, 0, ""};
	ta.o.progress = on_event;
	ta.o.ctx = &pr;
	ops_train r;
	if ((st = ops_train_run(db, &ta.o, &r, &err))) {
		lm_report(CMD, &err);
	} else {
		printf("model '%s': %s, target %s%s%s, %ld patients (%ld left out), %d folds, "
		       "out-of-fold AUC %.3f; final model %s\n",
		       r.name, r.arch, r.target, r.positive ? " = " : "", r.positive ? r.positive : "",
		       r.n_used, r.n_excluded, r.folds, r.auc, r.final_desc);
	}
	ops_train_free(&r);
	free(ta.ev_col);
	store_close(db);
	return st;
}
