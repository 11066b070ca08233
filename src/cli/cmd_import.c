/* cmd_import.c: lumen import PATIENTS.csv [--visits VISITS.csv] -o FILE.lumen [options] */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../data/import.h"
#include "cli.h"

static const char usage[] =
	"Usage: lumen import PATIENTS.csv [--visits VISITS.csv] -o FILE.lumen [options]\n"
	"Loads a patient cohort from CSV into a new workbench file (mode 0600).\n"
	"\n"
	"  -o, --output FILE       the workbench file to create (required)\n"
	"      --force             replace FILE if it exists (otherwise exit 73)\n"
	"      --id COL            the patient id column (default: a unique, complete column\n"
	"                          named id, patient_id, subject_id, subject, pid, record_id, mrn\n"
	"                          or rownames; with none, the rows are numbered 1..n). An id is\n"
	"                          never a model input.\n"
	"      --row-ids           number the rows 1..n as the patient id even when a column\n"
	"                          looks like one (it is then ignored): one row per eye, per event.\n"
	"                          Columns named like an id that are not the id are ignored too.\n"
	"      --target COL        an outcome to predict (repeatable)\n"
	"      --group COL         a demographic column for audits (repeatable)\n"
	"      --time COL --event COL   the time-to-event pair for survival\n"
	"      --treatment COL     the treatment arm\n"
	"      --ignore COL        keep the column but never use it as a feature (repeatable)\n"
	"      --type COL=TYPE     force a column's type: integer, real, boolean, text (repeatable)\n"
	"      --na LIST           comma-separated missing-value markers replacing the default\n"
	"                          NA,NaN,N/A,null,. (an empty field is always missing)\n"
	"      --delimiter C       ',', ';', 'tab' or any single character (default: detected)\n"
	"      --visits FILE       a long table of visits: the patient id column (same name as\n"
	"                          in PATIENTS.csv), a time column, then values\n"
	"      --visits-time COL   the visits' time column (default: one named time, day, days,\n"
	"                          visit, visit_time, t, week, month or year)\n"
	"      --labels CSV        clinical words for the columns: a CSV with the header\n"
	"                          column,label,unit,values (values as \"1=placebo,2=drug\"); an\n"
	"                          unknown column or a value a column never has stops the import\n"
	"      --stats             print the time taken, rows/s and peak memory on stderr\n"
	"  -h, --help              this help\n"
	"\n"
	"Bad input stops the import with status 65 and one line FILE:LINE:COL: reason;\n"
	"nothing is written. See lumen-file(5) for the type rules and the file's tables.\n";

static void push(const char ***a, int *n, const char *s)
{
	*a = xreallocarray(*a, (size_t)*n + 1, sizeof **a);
	(*a)[(*n)++] = s;
}

int cmd_import(int argc, char **argv)
{
	static const struct option lo[] = {
		{"output", required_argument, NULL, 'o'},   {"force", no_argument, NULL, 'f'},
		{"id", required_argument, NULL, 'i'},       {"target", required_argument, NULL, 'T'},
		{"group", required_argument, NULL, 'g'},    {"time", required_argument, NULL, 't'},
		{"event", required_argument, NULL, 'e'},    {"treatment", required_argument, NULL, 'r'},
		{"ignore", required_argument, NULL, 'x'},   {"type", required_argument, NULL, 'y'},
		{"na", required_argument, NULL, 'n'},       {"delimiter", required_argument, NULL, 'd'},
		{"visits", required_argument, NULL, 'v'},   {"visits-time", required_argument, NULL, 'V'},
		{"stats", no_argument, NULL, 's'},          {"help", no_argument, NULL, 'h'},
		{"row-ids", no_argument, NULL, 'R'},        {"labels", required_argument, NULL, 'L'},
		{NULL, 0, NULL, 0},
	};
	import_opts o = {0};
	import_type_opt *types = NULL;
	char **na_lists = NULL;
	int nna_lists = 0, stats = 0, c, st = 0;
	const char **na = NULL;
	int nna = 0, na_given = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'o': o.out = optarg; break;
		case 'f': o.force = 1; break;
		case 'i': o.id = optarg; break;
		case 'R': o.row_ids = 1; break;
		case 'L': o.labels = optarg; break;
		case 'T': push(&o.targets, &o.ntargets, optarg); break;
		case 'g': push(&o.groups, &o.ngroups, optarg); break;
		case 'x': push(&o.ignores, &o.nignores, optarg); break;
		case 't': o.time = optarg; break;
		case 'e': o.event = optarg; break;
		case 'r': o.treatment = optarg; break;
		case 'v': o.visits = optarg; break;
		case 'V': o.visits_time = optarg; break;
		case 's': stats = 1; break;
		case 'y': {
			char *eq = strrchr(optarg, '=');
			int t = eq ? store_type_parse(eq + 1) : -1;
			if (!eq || eq == optarg || t < 0) {
				st = cli_usage_error(argv[0], "--type wants COL=TYPE with TYPE one of integer, "
							      "real, boolean, text (got '%s')", optarg);
				goto out;
			}
			types = xreallocarray(types, (size_t)o.ntypes + 1, sizeof *types);
			types[o.ntypes].column = xstrndup(optarg, (size_t)(eq - optarg));
			types[o.ntypes++].type = (col_type)t;
			break;
		}
		case 'n': {
			na_given = 1;
			na_lists = xreallocarray(na_lists, (size_t)nna_lists + 1, sizeof *na_lists);
			char *copy = na_lists[nna_lists++] = xstrdup(optarg);
			for (char *tok = copy, *next; tok; tok = next) {
				next = strchr(tok, ',');
				if (next)
					*next++ = 0;
				if (*tok)
					push(&na, &nna, tok);
			}
			break;
		}
		case 'd':
			if (!strcmp(optarg, "tab") || !strcmp(optarg, "\\t"))
				o.delim = '\t';
			else if (strlen(optarg) == 1 && optarg[0] != '"' && optarg[0] != '\n' &&
				 optarg[0] != '\r')
				o.delim = (unsigned char)optarg[0];
			else {
				st = cli_usage_error(argv[0], "--delimiter wants one character or 'tab' (got '%s')",
						     optarg);
				goto out;
			}
			break;
		case 'h': fputs(usage, stdout); goto out;
		case ':':
			st = cli_usage_error(argv[0], "option '%s' needs a value", argv[optind - 1]);
			goto out;
		default:
			st = cli_usage_error(argv[0], "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc - 1) {
		st = cli_usage_error(argv[0], optind == argc ? "no patients CSV given"
							       : "one patients CSV expected");
		goto out;
	}
	if (!o.out) {
		st = cli_usage_error(argv[0], "no output file: give -o FILE.lumen");
		goto out;
	}
	if (o.id && o.row_ids) {
		st = cli_usage_error(argv[0], "--id and --row-ids exclude each other");
		goto out;
	}
	if (!o.time != !o.event) {
		st = cli_usage_error(argv[0], "--time and --event go together");
		goto out;
	}
	if (o.visits_time && !o.visits) {
		st = cli_usage_error(argv[0], "--visits-time needs --visits");
		goto out;
	}
	o.patients = argv[optind];
	o.types = types;
	if (na_given) {
		o.na = na ? na : (const char **)na_lists; /* an empty list: only empty fields */
		o.nna = nna;
	}
	import_result res;
	lm_err err = {0, ""};
	if (o.out)
		lm_clean_stale(o.out); /* the rows a killed import left beside the output */
	st = import_run(&o, &res, &err);
	if (st) {
		lm_report(argv[0], &err);
		goto out;
	}
	printf("%s: %ld patients, %d columns", o.out, res.patients, res.patient_columns);
	if (o.visits)
		printf("; %ld visits, %d columns", res.visits, res.visit_columns);
	printf("\n");
	if (res.row_ids)
		printf("patient ids: the row numbers 1..%ld, in column '%s' (%s)\n", res.patients,
		       res.id_column, o.row_ids ? "--row-ids" : "the CSV has no id column");
	else
		printf("patient ids: column '%s'\n", res.id_column);
	if (o.labels)
		printf("labels: %d columns from %s\n", res.labelled, o.labels);
	if (res.ignored_id[0])
		printf("column '%s' is named like an id: its role is 'ignore' (never a model input)\n",
		       res.ignored_id);
	if (stats) {
		long rows = res.patients + res.visits;
		fprintf(stderr, "import: %ld rows in %.3f s, %.0f rows/s, peak RSS %ld kB\n", rows,
			res.seconds, res.seconds > 0 ? (double)rows / res.seconds : 0.0,
			lm_peak_rss_kb());
	}
out:
	for (int i = 0; i < o.ntypes; i++)
		free((char *)types[i].column);
	free(types);
	for (int i = 0; i < nna_lists; i++)
		free(na_lists[i]);
	free(na_lists);
	free(na);
	free(o.targets);
	free(o.groups);
	free(o.ignores);
	return st;
}
