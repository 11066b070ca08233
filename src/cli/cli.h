/* cli.h: the subcommands. Each cmd_* takes the arguments after the subcommand name
 * (argv[0] is the subcommand) and returns a sysexits status; it prints its own errors as
 * "lumen: NAME: ..." and handles --help (usage on stdout, status 0). */
#ifndef LUMEN_CLI_H
#define LUMEN_CLI_H

typedef struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary; /* one line for `lumen --help` */
} cli_command;

/* The command table, in the order `lumen --help` lists it; ends with a NULL name. */
extern const cli_command cli_commands[];

int cmd_import(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_role(int argc, char **argv);
int cmd_label(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_train(int argc, char **argv);
/* `lumen train --model cox`, called by cmd_train (train_cox.c). */
int cmd_train_cox(int argc, char **argv);
/* `lumen train --effect COL`, called by cmd_train (train_effect.c). */
int cmd_train_effect(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_survival(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_tui(int argc, char **argv);
int cmd_demo(int argc, char **argv);

/* Shared option helpers. cli_usage_error prints "lumen: NAME: MSG" and
 * "Try 'lumen NAME --help'." and returns EX_USAGE. */
int cli_usage_error(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The options lumen train's parsers share (train_opts.c): getopt's value for them in each
 * parser's table, and cli_train_opt(cmd, long name, optarg, o), which checks and stores one
 * (strings, flags, counts and values of ops_train_opts: --target .. --quiet, --folds ..
 * --kernel, --lr, --dropout, --l2, --horizon): 0, or EX_USAGE with the line given; -1
 * when the name is not one of them. cli_train_attention applies --attention (given or not)
 * and --attention-width (its text, or NULL) once o->arch is known: 0 or EX_USAGE. */
#define CLI_TRAIN_SHARED 1000
struct ops_train_opts;
int cli_train_opt(const char *cmd, const char *name, const char *arg, struct ops_train_opts *o);
int cli_train_attention(const char *cmd, struct ops_train_opts *o, int attention,
			const char *width);

#endif
