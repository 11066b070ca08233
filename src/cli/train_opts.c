/* train_opts.c: the options the three parsers of `lumen train` share (cmd_train.c for the
 * networks and logreg, train_cox.c for --model cox and networks on the Cox likelihood,
 * train_effect.c for --effect): one table of names, fields and bounds (cli.h,
 * cli_train_opt), so that --folds or --lr mean and check the same whichever parser reads
 * them; and the one rule of --attention and --attention-width (cli_train_attention). */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "../ops/ops.h"
#include "cli.h"

enum { T_INT, T_LONG, T_DBL, T_STR, T_FLAG };
enum { LO_OPEN = 1, HI_OPEN = 2, ODD = 4 }; /* value > lo, value < hi, an odd count */

typedef struct train_opt {
	const char *name;
	int kind;
	size_t off; /* in ops_train_opts */
	double lo, hi;
	int rule;
	const char *what; /* in "--NAME: 'ARG' is not WHAT" (NULL: a valid count, value) */
} train_opt;

#define F(field) offsetof(ops_train_opts, field)
static const train_opt table[] = {
	{"target", T_STR, F(target), 0, 0, 0, NULL},
	{"positive", T_STR, F(positive), 0, 0, 0, NULL},
	{"name", T_STR, F(name), 0, 0, 0, NULL},
	{"features", T_STR, F(features), 0, 0, 0, NULL},
	{"exclude", T_STR, F(exclude), 0, 0, 0, NULL},
	{"hidden", T_STR, F(hidden), 0, 0, 0, NULL},
	{"time", T_STR, F(time), 0, 0, 0, NULL},
	{"event", T_STR, F(event), 0, 0, 0, NULL},
	{"times", T_STR, F(times), 0, 0, 0, NULL},
	{"force", T_FLAG, F(force), 0, 0, 0, NULL},
	{"quiet", T_FLAG, F(quiet), 0, 0, 0, NULL},
	{"folds", T_INT, F(folds), 2, 1e9, 0, NULL},
	{"epochs", T_INT, F(epochs), 1, 1e9, 0, NULL},
	{"batch", T_INT, F(batch), 1, 1e9, 0, NULL},
	{"seed", T_LONG, F(seed), 0, 1e9, 0, NULL},
	{"d-model", T_INT, F(d_model), 1, 1e9, 0, NULL},
	{"blocks", T_INT, F(blocks), 1, 1e9, 0, NULL},
	{"heads", T_INT, F(heads), 1, 1e9, 0, NULL},
	{"ffn", T_INT, F(ffn), 1, 1e9, 0, NULL},
	{"threads", T_INT, F(threads), 1, 16, 0, NULL},
	{"max-visits", T_INT, F(max_visits), 1, 4096, 0, NULL},
	{"gru-hidden", T_INT, F(gru_hidden), 1, 4096, 0, NULL},
	{"channels", T_INT, F(channels), 1, 4096, 0, NULL},
	{"kernel", T_INT, F(kernel), 1, 31, ODD, NULL},
	{"lr", T_DBL, F(lr), 0, INFINITY, LO_OPEN, NULL},
	{"dropout", T_DBL, F(dropout), 0, 1, HI_OPEN, NULL},
	{"l2", T_DBL, F(l2), 0, INFINITY, 0, NULL},
	{"horizon", T_DBL, F(horizon), 0, INFINITY, LO_OPEN, "a positive time"},
};
#undef F

int cli_train_opt(const char *cmd, const char *name, const char *arg, ops_train_opts *o)
{
	const train_opt *t = NULL;
	for (size_t i = 0; i < sizeof table / sizeof *table && !t; i++)
		if (!strcmp(table[i].name, name))
			t = &table[i];
	if (!t)
		return -1;
	char *field = (char *)o + t->off;
	long v;
	double d;
	switch (t->kind) {
	case T_STR:
		*(const char **)(void *)field = arg;
		return 0;
	case T_FLAG:
		*(int *)(void *)field = 1;
		return 0;
	case T_DBL:
		if (parse_double(arg, &d) != 0 || !isfinite(d) || d < t->lo || d > t->hi ||
		    ((t->rule & LO_OPEN) && d <= t->lo) || ((t->rule & HI_OPEN) && d >= t->hi))
			return cli_usage_error(cmd, "--%s: '%s' is not %s", name, arg,
					       t->what ? t->what : "a valid value");
		*(double *)(void *)field = d;
		return 0;
	default:
		if (parse_long(arg, &v) != 0 || v < (long)t->lo || v > (long)t->hi ||
		    ((t->rule & ODD) && v % 2 == 0))
			return cli_usage_error(cmd, "--%s: '%s' is not a valid count", name, arg);
		if (t->kind == T_LONG)
			*(long *)(void *)field = v;
		else
			*(int *)(void *)field = (int)v;
		return 0;
	}
}

int cli_train_attention(const char *cmd, ops_train_opts *o, int attention, const char *width)
{
	long v = 0;
	if (width && (parse_long(width, &v) != 0 || v < 1 || v > 4096))
		return cli_usage_error(cmd, "--attention-width: '%s' is not a valid count", width);
	if (width && !attention)
		return cli_usage_error(cmd, "--attention-width goes with --attention");
	if (!attention)
		return 0;
	if (!o->arch || (strcmp(o->arch, "gru") && strcmp(o->arch, "cnn-gru")))
		return cli_usage_error(cmd, "--attention needs --model gru or cnn-gru (%s has no GRU "
					    "states over the visits to attend to)", o->arch ? o->arch : "no model");
	o->attention = width ? (int)v : 16;
	return 0;
}
