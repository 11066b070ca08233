/* main.c: `lumen COMMAND [ARGS]`, dispatched through the table in src/cli/commands.c. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util.h"

static void usage(FILE *f)
{
	fputs("usage: lumen COMMAND [OPTIONS] [ARGS]\n"
	      "       lumen FILE.lumen            (opens the TUI)\n\n"
	      "A terminal workbench for explainable clinical prediction.\n\ncommands:\n",
	      f);
	for (const cli_command *c = cli_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fputs("\n'lumen COMMAND --help' describes a command; man lumen(1) describes them all.\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
		printf("lumen %s\n", LUMEN_VERSION);
		return 0;
	}
	for (const cli_command *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name)) {
			lm_command = c->name;
			return c->run(argc - 1, argv + 1);
		}
	size_t n = strlen(name);
	if (n > 6 && !strcmp(name + n - 6, ".lumen"))
		for (const cli_command *c = cli_commands; c->name; c++)
			if (!strcmp(c->name, "tui")) {
				lm_command = c->name;
				return c->run(argc, argv);
			} /* argv[0] stands in for "tui" */
	fprintf(stderr, "lumen: unknown command '%s'\nTry 'lumen --help'.\n", name);
	return EX_USAGE;
}
