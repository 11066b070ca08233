/* cmd_role.c: lumen role FILE.lumen COL ROLE [--visits] — change the role of a column. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../data/store.h"
#include "cli.h"

static const char usage[] =
	"Usage: lumen role FILE.lumen COLUMN ROLE [--visits]\n"
	"Changes the role of a column of the patients table (of the visits table with --visits).\n"
	"ROLE is one of: id, feature, target, group, time, event, treatment, ignore.\n"
	"An id must be unique and complete; making a column the id turns the old id into 'ignore'.\n"
	"\n"
	"      --visits   the column is in the visits table\n"
	"  -h, --help     this help\n";

/* The distinct count stored at import is exact only up to a bound (see lumen-file(5)); before
 * a column becomes the id, count its distinct values exactly so that the check is exact. */
static int exact_distinct(sqlite3 *db, const char *table, const char *column, lm_err *err)
{
	char *q = sqlite3_mprintf("UPDATE columns SET distinct_count = (SELECT COUNT(DISTINCT \"%w\")"
				  " FROM \"%w\") WHERE dataset = %Q AND name = %Q",
				  column, table, table, column);
	int st = store_exec(db, q, err);
	sqlite3_free(q);
	return st;
}

int cmd_role(int argc, char **argv)
{
	static const struct option lo[] = {
		{"visits", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int visits = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'v')
			visits = 1;
		else if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		} else
			return cli_usage_error(argv[0], "unknown option '%s'", argv[optind - 1]);
	}
	if (argc - optind != 3)
		return cli_usage_error(argv[0], "expected FILE.lumen COLUMN ROLE");
	const char *path = argv[optind], *col = argv[optind + 1], *rname = argv[optind + 2];
	int role = store_role_parse(rname);
	if (role < 0)
		return cli_usage_error(argv[0],
				       "unknown role '%s' (id, feature, target, group, time, event, "
				       "treatment, ignore)",
				       rname);
	const char *dataset = visits ? "visits" : "patients";
	lm_err err = {0, ""};
	sqlite3 *db = store_open(path, 0, &err);
	if (!db) {
		lm_report(argv[0], &err);
		return err.status;
	}
	store_columns cols = {0};
	int st = store_exec(db, "BEGIN IMMEDIATE", &err);
	if (!st)
		st = store_columns_load(db, dataset, &cols, &err);
	int i = st ? -1 : store_columns_find(&cols, col);
	if (!st && i < 0)
		st = lm_seterr(&err, EX_DATAERR, "%s: no column '%s' in %s", path, col, dataset);
	char *old = i >= 0 ? xstrdup(store_role_name(cols.c[i].role)) : NULL;
	if (!st && role == COL_ROLE_ID)
		st = exact_distinct(db, dataset, col, &err);
	if (!st)
		st = store_set_role(db, dataset, col, (col_role)role, &err);
	if (!st) {
		char *detail = xasprintf("%s.%s: %s -> %s", dataset, col, old, rname);
		st = store_log_access(db, "role", 0, detail, &err);
		free(detail);
	}
	if (!st)
		st = store_exec(db, "COMMIT", &err);
	else if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	if (st)
		lm_report(argv[0], &err);
	else
		printf("%s.%s: %s -> %s\n", dataset, col, old, rname);
	free(old);
	store_columns_free(&cols);
	store_close(db);
	return st;
}
