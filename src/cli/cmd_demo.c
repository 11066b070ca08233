/* cmd_demo.c: `lumen demo`: the sample cohort imported, a transformer and a logistic
 * regression trained on death, explanations computed, then the TUI on the cohort screen.
 * Each step runs the subcommand's own function (the same code as typing it); a step whose
 * command is not in this build is skipped with a message. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "../util.h"

static void usage(FILE *f)
{
	fputs("usage: lumen demo [-o FILE] [--data PBC.csv] [--epochs N] [--no-tui]\n"
	      "Imports the sample cohort (Mayo Clinic PBC, with its follow-up visits), trains a\n"
	      "transformer and a logistic regression on death (status = 2), explains every patient,\n"
	      "then opens the TUI on the cohort screen. FILE (default demo.lumen) is replaced.\n"
	      "  -o FILE         the demo workbench (default demo.lumen)\n"
	      "  --data FILE     the patients CSV (default: sample_data/pbc.csv, else the installed\n"
	      "                  copy); pbcseq.csv beside it is used as visits when present,\n"
	      "                  and NAME_labels.csv beside NAME.csv as its clinical words\n"
	      "  --epochs N      transformer epochs (default 30)\n"
	      "  --no-tui        stop before the TUI (also when standard output is not a terminal)\n",
	      f);
}

static int (*find_cmd(const char *name))(int, char **)
{
	for (const cli_command *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c->run;
	return NULL;
}

/* Runs `lumen ARGS...` in-process; -1 when the command is not in this build. */
static int step(const char *what, char **args)
{
	int (*run)(int, char **) = find_cmd(args[0]);
	if (!run) {
		fprintf(stderr, "lumen: demo: skipping \"%s\": 'lumen %s' is not in this build\n", what,
			args[0]);
		return -1;
	}
	int n = 0;
	while (args[n])
		n++;
	fprintf(stderr, "lumen demo: %s:", what);
	for (int i = 0; i < n; i++)
		fprintf(stderr, " %s", args[i]);
	fputc('\n', stderr);
	optind = 0; /* glibc: re-initialise getopt for the next command */
	return run(n, args);
}

static const char *find_data(const char *given)
{
	static const char *const places[] = {"sample_data/pbc.csv", LUMEN_DATADIR "/sample_data/pbc.csv"};
	if (given)
		return given;
	for (size_t i = 0; i < LM_ARRAY_LEN(places); i++)
		if (access(places[i], R_OK) == 0)
			return places[i];
	return NULL;
}

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'}, {"data", required_argument, NULL, 'D'},
		{"epochs", required_argument, NULL, 'e'}, {"no-tui", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	const char *out = "demo.lumen", *data = NULL, *epochs = "30";
	int no_tui = 0, c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'D': data = optarg; break;
		case 'e': {
			long n;
			if (parse_long(optarg, &n) || n < 1)
				return cli_usage_error("demo", "--epochs: expected a positive number, got '%s'", optarg);
			epochs = optarg;
			break;
		}
		case 'n': no_tui = 1; break;
		case 'h': usage(stdout); return 0;
		default: return cli_usage_error("demo", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
	const char *pbc = find_data(data);
	if (!pbc)
		return lm_fail("demo", EX_NOINPUT,
			       "sample_data/pbc.csv not found (run from the source tree or give --data FILE)");
	if (access(pbc, R_OK) != 0)
		return lm_fail("demo", EX_NOINPUT, "%s: cannot read it", pbc);
	/* the visits file beside the patients, when there is one */
	char visits[4096];
	const char *slash = strrchr(pbc, '/');
	snprintf(visits, sizeof visits, "%.*spbcseq.csv", slash ? (int)(slash - pbc + 1) : 0, pbc);
	int have_visits = access(visits, R_OK) == 0;

	/* and its clinical words (NAME_labels.csv beside NAME.csv: labels, units, value names) */
	char labels[4096];
	const char *dot = strrchr(pbc, '.');
	snprintf(labels, sizeof labels, "%.*s_labels.csv",
		 dot && (!slash || dot > slash) ? (int)(dot - pbc) : (int)strlen(pbc), pbc);
	int have_labels = access(labels, R_OK) == 0;

	char *o = (char *)out, *p = (char *)pbc, *v = visits, *ep = (char *)epochs;
	char *imp[20] = {"import", p, "-o", o, "--force", "--target", "status", "--group", "sex",
			 "--time", "time", "--event", "status", "--treatment", "trt"};
	int ni = 15;
	if (have_visits)
		imp[ni++] = "--visits", imp[ni++] = v;
	if (have_labels)
		imp[ni++] = "--labels", imp[ni++] = labels;
	imp[ni] = NULL;
	int s = step("import the sample cohort", imp);
	if (s < 0)
		return lm_fail("demo", EX_UNAVAILABLE, "cannot continue without 'lumen import'");
	if (s)
		return s;
	char *tr_tf[] = {"train", o, "--model", "transformer", "--target", "status", "--positive", "2",
			 "--name", "transformer", "--epochs", ep, "--force", "--quiet", NULL};
	char *tr_lr[] = {"train", o, "--model", "logreg", "--target", "status", "--positive", "2",
			 "--name", "logreg", "--force", "--quiet", NULL};
	char *ex_tf[] = {"explain", o, "--model", "transformer", NULL};
	char *ex_lr[] = {"explain", o, "--model", "logreg", NULL};
	int tf = step("train a transformer on death", tr_tf);
	if (tf > 0)
		return tf;
	int lr = step("train a logistic regression on death", tr_lr);
	if (lr > 0)
		return lr;
	if (tf == 0 && (s = step("explain the transformer", ex_tf)) > 0)
		return s;
	if (lr == 0 && (s = step("explain the logistic regression", ex_lr)) > 0)
		return s;
	if (no_tui || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
		fprintf(stderr, "lumen demo: %s is ready; %s, so the TUI is not opened: run lumen tui %s\n",
			out, no_tui ? "--no-tui was given" : "standard output is not a terminal", out);
		return 0;
	}
	char *tui[] = {"tui", o, NULL};
	s = step("open the workbench", tui);
	return s < 0 ? 0 : s;
}
