/* commands.c: the command table and helpers shared by the subcommands.
 * Each subcommand lives in its own file under src/cli/. */
#include <stdarg.h>
#include <stdio.h>

#include "../util.h"
#include "cli.h"


/* One row per subcommand, in the order `lumen --help` lists them. */
const cli_command cli_commands[] = {
	{"import", cmd_import, "load patients (and visits) from CSV into a workbench file"},
	{"info", cmd_info, "datasets and columns of a workbench file"},
	{"role", cmd_role, "change the role of a column (feature, target, group, ...)"},
	{"label", cmd_label, "give a column its clinical label, unit and value names"},
	{"synth", cmd_synth, "write a synthetic cohort with known ground truth"},
	{"train", cmd_train, "train a model with cross-validation"},
	{"models", cmd_models, "list models and their metrics"},
	{"predict", cmd_predict, "score the cohort or a new CSV with a model"},
	{"explain", cmd_explain, "integrated gradients and attention for every patient"},
	{"validate", cmd_validate, "external validation of a model on another cohort"},
	{"audit", cmd_audit, "fairness of a model across groups"},
	{"survival", cmd_survival, "Kaplan-Meier curves and log-rank tests"},
	{"query", cmd_query, "filter patients with a Lua expression or script"},
	{"report", cmd_report, "run a Lua report script"},
	{"tui", cmd_tui, "open the terminal workbench"},
	{"demo", cmd_demo, "sample cohort, models, explanations, then the TUI"},
	{NULL, NULL, NULL},
};

int cli_usage_error(const char *name, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "lumen: %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'lumen %s --help'.\n", name);
	return EX_USAGE;
}
