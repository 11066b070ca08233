/* train_effect.c: `lumen train FILE --model ARCH --target Y --effect COL [--reference LEVEL]
 * [--learner t|dr]`: the options; the job is ops_train_effect_run (src/ops/ops_train_effect.c),
 * whose notes and summary this prints. Per-patient treatment effects on the same stratified K-fold scheme as
 * the other models (stratified by arm and outcome).
 *
 * T-learner: one outcome network per arm, trained on that arm's patients; every patient gets,
 * from the fold models that did not see it, the risk under every arm, and the effect of an
 * arm is the risk difference against the reference arm. DR-learner: the same outcome models
 * plus a multinomial logistic propensity model, both cross-fitted, give every patient the
 * doubly-robust pseudo-outcome of each arm against the reference,
 *   psi_a = mu_a - mu_r + [T = a] (Y - mu_a) / e_a - [T = r] (Y - mu_r) / e_r
 * (e clipped to [0.01, 0.99]), and a regression network of the same architecture (nnreg.h)
 * fitted to psi_a on the same folds is the effect model. Stored as effmodel.h describes, with
 * the evaluation (stats/uplift.h) in the metrics, in one transaction. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../nn/effmodel.h"
#include "../nn/model.h"
#include "../ops/ops.h"
#include "cli.h"

#define CMD "train"

static const char usage[] =
	"Usage: lumen train FILE --model logreg|mlp|transformer --target COL --effect COL [options]\n"
	"Per-patient treatment effects: the risk of COL under every arm of --effect and the risk\n"
	"difference against the reference arm, cross-validated (out of fold for every patient),\n"
	"evaluated (Qini, calibration of the effect, ATE, balance, overlap) and stored.\n"
	"  --effect COL          the treatment (arm) column: two or more arms, never a feature\n"
	"  --reference LEVEL     the reference arm (default: the first, numerically or by name)\n"
	"  --learner t|dr        T-learner (one network per arm; default) or DR-learner (outcome\n"
	"                        and propensity models, doubly-robust pseudo-outcomes, and a\n"
	"                        regression network of the same architecture on them)\n"
	"  --target COL          the binary outcome (the event to avoid); --positive VALUE\n"
	"  --name NAME           model name (default ARCH-effect-COL)\n"
	"  --folds K  --seed S  --epochs E  --batch B  --lr LR  --features a,b  --exclude a,b\n"
	"  --hidden 64,64  --dropout P  --l2 L  --d-model D --blocks N --heads H --ffn F\n"
	"  --threads N  --force  --quiet   as for lumen train\n";

typedef ops_train_opts eff_args;

static int parse(int argc, char **argv, eff_args *a, int *done)
{
	enum { SH = CLI_TRAIN_SHARED };
	static const struct option opts[] = {
		{"model", required_argument, NULL, 'm'},    {"target", required_argument, NULL, SH},
		{"positive", required_argument, NULL, SH},  {"name", required_argument, NULL, SH},
		{"folds", required_argument, NULL, SH},     {"epochs", required_argument, NULL, SH},
		{"batch", required_argument, NULL, SH},     {"lr", required_argument, NULL, SH},
		{"seed", required_argument, NULL, SH},      {"features", required_argument, NULL, SH},
		{"exclude", required_argument, NULL, SH},   {"hidden", required_argument, NULL, SH},
		{"dropout", required_argument, NULL, SH},   {"l2", required_argument, NULL, SH},
		{"d-model", required_argument, NULL, SH},   {"blocks", required_argument, NULL, SH},
		{"heads", required_argument, NULL, SH},     {"ffn", required_argument, NULL, SH},
		{"force", no_argument, NULL, SH},           {"quiet", no_argument, NULL, SH},
		{"threads", required_argument, NULL, SH},   {"effect", required_argument, NULL, 'X'},
		{"reference", required_argument, NULL, 'R'}, {"learner", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, '?' + 256},     {NULL, 0, NULL, 0},
	};
	memset(a, 0, sizeof *a);
	a->folds = 5;
	a->seed = 1;
	a->lr = a->dropout = a->l2 = -1;
	optind = 1;
	opterr = 0;
	int c, li = 0, st;
	while ((c = getopt_long(argc, argv, "", opts, &li)) != -1) {
		switch (c) {
		case SH:
			if ((st = cli_train_opt(CMD, opts[li].name, optarg, a)))
				return st;
			break;
		case 'm': a->arch = optarg; break;
		case 'X': a->effect = optarg; break;
		case 'R': a->reference = optarg; break;
		case 'L':
			if (!strcmp(optarg, "t"))
				a->learner = EFFM_T;
			else if (!strcmp(optarg, "dr"))
				a->learner = EFFM_DR;
			else
				return cli_usage_error(CMD, "--learner: '%s' is not t or dr", optarg);
			break;
		case '?' + 256:
			fputs(usage, stdout);
			*done = 1;
			return 0;
		default:
			return cli_usage_error(CMD, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (*done)
		return 0;
	if (optind != argc - 1)
		return cli_usage_error(CMD, optind >= argc ? "no workbench FILE" : "one FILE expected");
	a->file = argv[optind];
	if (!a->arch)
		return cli_usage_error(CMD, "--model ARCH is required (logreg, mlp, transformer)");
	int ar = nn_arch_parse(a->arch);
	if (ar != NN_LOGREG && ar != NN_MLP && ar != NN_TRANSFORMER)
		return cli_usage_error(CMD, "--effect: architecture '%s' is not logreg, mlp or "
				       "transformer", a->arch);
	if (!a->target)
		return cli_usage_error(CMD, "--effect needs --target COL (a binary outcome)");
	if (!a->effect || !*a->effect)
		return cli_usage_error(CMD, "--effect COL names the treatment column");
	if (!strcmp(a->effect, a->target))
		return cli_usage_error(CMD, "--effect: '%s' is the target", a->effect);
	return 0;
}

/* ---- the run ---- */

/* Notes and warnings of the job, as lumen train gives them. */
static void on_event(void *ctx, const ops_train_event *ev)
{
	(void)ctx;
	if (ev->kind == OPS_TRAIN_NOTE)
		fprintf(stderr, "lumen: train: %s\n", ev->text);
	else if (ev->kind == OPS_TRAIN_WARNING)
		fprintf(stderr, "lumen: train: warning: %s\n", ev->text);
}

int cmd_train_effect(int argc, char **argv)
{
	eff_args a;
	int done = 0;
	int st = parse(argc, argv, &a, &done);
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
	if ((st = ops_train_effect_run(db, &a, &r, &err))) {
		lm_report(CMD, &err);
	} else {
		printf("model '%s': %s %s, effect of %s on %s%s%s against %s, %ld patients, %d arms, "
		       "%d folds\n", r.name, r.arch, r.final_desc, a.effect, a.target,
		       a.positive ? " = " : "", a.positive ? a.positive : "", r.reference, r.n_used,
		       r.narm, r.folds);
		cJSON *mj = cJSON_Parse(r.metrics ? r.metrics : "null");
		effm_print_summary(stdout, mj);
		cJSON_Delete(mj);
	}
	ops_train_free(&r);
	store_close(db);
	return st;
}
