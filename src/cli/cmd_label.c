/* cmd_label.c: lumen label FILE.lumen COLUMN [--text T] [--unit U] [--values C=L,...]
 * [--visits] — give a column its clinical words (labels.h), or FILE.lumen --file labels.csv. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../data/labels.h"
#include "cli.h"

static const char usage[] =
	"Usage: lumen label FILE.lumen COLUMN [--text LABEL] [--unit UNIT] [--values C=L,...]\n"
	"       lumen label FILE.lumen --file LABELS.csv\n"
	"Gives a column of the patients table (of the visits table with --visits) the words every\n"
	"screen, lumen explain, the reports and Lua show for it: a label, a unit and names for its\n"
	"values. An option left out keeps what the column had; an empty one (--unit '') clears it.\n"
	"Every code in --values must be a value the column holds. The change is logged (access_log).\n"
	"\n"
	"      --text LABEL     the clinical label (\"Prothrombin time\")\n"
	"      --unit UNIT      the unit (\"s\", \"mg/dl\", \"days\")\n"
	"      --values LIST    names of the values: \"1=D-penicillamine,2=placebo\"\n"
	"      --visits         the column is in the visits table\n"
	"      --file CSV       every row of a labels file (column,label,unit,values[,dataset]),\n"
	"                       as lumen import --labels reads it\n"
	"  -h, --help           this help\n";

int cmd_label(int argc, char **argv)
{
	static const struct option lo[] = {
		{"text", required_argument, NULL, 't'}, {"unit", required_argument, NULL, 'u'},
		{"values", required_argument, NULL, 'V'}, {"visits", no_argument, NULL, 'v'},
		{"file", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *text = NULL, *unit = NULL, *values = NULL, *file = NULL;
	int visits = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 't': text = optarg; break;
		case 'u': unit = optarg; break;
		case 'V': values = optarg; break;
		case 'v': visits = 1; break;
		case 'f': file = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		case ':': return cli_usage_error(argv[0], "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(argv[0], "unknown option '%s'", argv[optind - 1]);
		}
	}
	int want = file ? 1 : 2;
	if (argc - optind != want)
		return cli_usage_error(argv[0], file ? "expected FILE.lumen with --file"
						     : "expected FILE.lumen COLUMN");
	if (!file && !text && !unit && !values)
		return cli_usage_error(argv[0], "nothing to change: give --text, --unit or --values");
	if (file && (text || unit || values || visits))
		return cli_usage_error(argv[0], "--file takes no --text, --unit, --values or --visits");
	const char *path = argv[optind];
	const char *dataset = visits ? "visits" : "patients";
	lm_err err = {0, ""};
	sqlite3 *db = store_open(path, 0, &err);
	if (!db) {
		lm_report(argv[0], &err);
		return err.status;
	}
	if (visits && !store_has_table(db, "visits")) {
		lm_seterr(&err, EX_DATAERR, "%s: the workbench has no visits", path);
		lm_report(argv[0], &err);
		store_close(db);
		return err.status;
	}
	int n = 0;
	int st = store_exec(db, "BEGIN IMMEDIATE", &err);
	if (!st && file) {
		st = lbl_import_csv(db, file, &n, &err);
		if (!st) {
			char *d = xasprintf("%s: %d columns", file, n);
			st = store_log_access(db, "labels", 0, d, &err);
			free(d);
		}
	} else if (!st) {
		st = lbl_set(db, dataset, argv[optind + 1], text, unit, values, path, &err);
	}
	if (!st)
		st = store_exec(db, "COMMIT", &err);
	else if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	if (st) {
		lm_report(argv[0], &err);
	} else if (file) {
		printf("%s: %d columns labelled\n", file, n);
	} else {
		store_columns cols;
		if (store_columns_load(db, dataset, &cols, NULL) == 0) {
			int k = store_columns_find(&cols, argv[optind + 1]);
			if (k >= 0) {
				const store_column *m = &cols.c[k];
				printf("%s.%s: %s", dataset, m->name, lbl_name(m));
				if (m->unit)
					printf(" (%s)", m->unit);
				for (int j = 0; j < m->nvl; j++)
					printf("%s%s = %s", j ? ", " : "; ", m->vl[j].code, m->vl[j].text);
				printf("\n");
			}
			store_columns_free(&cols);
		}
	}
	store_close(db);
	return st;
}
