/* cmd_query.c: `lumen query FILE --where EXPR | --filter F.lua [--count | --csv] [--model NAME]`. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../lua/host.h"
#include "../data/store.h"
#include "../ops/ops.h"
#include "cli.h"

static const char usage_text[] =
	"usage: lumen query FILE.lumen --where 'EXPR' | --filter FILTER.lua\n"
	"                   [--count | --csv] [--model NAME] [--memory MB] [--timeout S]\n"
	"                   [--verbose]\n"
	"Prints the patients for which a filter expression or a filter script is true: their\n"
	"ids (one a line), their number (--count), or their rows as CSV (--csv).\n"
	"  --where EXPR    the filter language (man lumen, FILTERS), e.g.\n"
	"                  'age > 65 and sex == \"f\"', 'ascites == 1', 'trig > 200' (a missing\n"
	"                  value never matches a comparison, as in SQL)\n"
	"  --filter F      a Lua script returning function(p) or an expression string, a path\n"
	"                  or a shipped filter name\n"
	"  --model NAME    p.risk, p.label, p.outcome (and risk, ... as names) from this model\n"
	"  --memory MB     Lua memory limit (default 512)\n"
	"  --timeout S     Lua time limit in seconds (default 60)\n"
	"  --verbose       a traceback with errors\n";

int cmd_query(int argc, char **argv)
{
	static const struct option opts[] = {
		{"where", required_argument, NULL, 'w'}, {"filter", required_argument, NULL, 'f'},
		{"count", no_argument, NULL, 'c'},       {"csv", no_argument, NULL, 'C'},
		{"model", required_argument, NULL, 'm'}, {"memory", required_argument, NULL, 'M'},
		{"timeout", required_argument, NULL, 'T'}, {"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
	const char *where = NULL, *filter = NULL, *model_name = NULL;
	int count = 0, csv = 0;
	host_opts ho = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "w:f:m:v", opts, NULL)) != -1) {
		switch (c) {
		case 'w': where = optarg; break;
		case 'f': filter = optarg; break;
		case 'c': count = 1; break;
		case 'C': csv = 1; break;
		case 'm': model_name = optarg; break;
		case 'M':
			if (parse_double(optarg, &ho.memory_mb) || !(ho.memory_mb > 0))
				return cli_usage_error("query", "--memory wants megabytes > 0, not '%s'",
						       optarg);
			break;
		case 'T':
			if (parse_double(optarg, &ho.timeout_s) || !(ho.timeout_s > 0))
				return cli_usage_error("query", "--timeout wants seconds > 0, not '%s'",
						       optarg);
			break;
		case 'v': ho.verbose = 1; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error("query", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("query", "wants one workbench file");
	if (!where == !filter)
		return cli_usage_error("query", "wants one of --where EXPR or --filter FILE");
	if (count && csv)
		return cli_usage_error("query", "--count and --csv do not go together");
	const char *file = argv[optind];

	lm_err err = {0};
	int st = 0;
	char *script = NULL;
	host *h = NULL;
	host_filter *flt = NULL;
	ops_filter *of = NULL;
	int have_own = 0, have_pr = 0;
	frame own;
	ops_predictions pr;
	const frame *fr = NULL;
	const double *risk = NULL;
	memset(&own, 0, sizeof own);
	memset(&pr, 0, sizeof pr);
	long *rows = NULL;
	sqlite3 *db = store_open(file, 0, &err);
	if (!db)
		goto fail;
	if (filter && !(script = host_find_script(filter, &err)))
		goto fail;
	long n;
	if (where) {
		/* the filter language: one compiled expression, the same as the TUI's and Lua's */
		ops_selection sel;
		if (!(of = ops_filter_compile(db, where, model_name, &err)) ||
		    ops_filter_run(of, db, &sel, &err))
			goto fail;
		n = sel.n;
		rows = sel.rows;
		sel.rows = NULL;
		ops_selection_free(&sel);
		if (frame_load(db, "patients", NULL, 0, &own, &err))
			goto fail;
		have_own = 1;
		fr = &own;
		if (model_name) {
			if (ops_predictions_load(db, model_name, &pr, &err))
				goto fail;
			have_pr = 1;
			risk = pr.p;
		}
	} else {
		if (!(h = host_new(db, NULL, model_name, &ho, &err)))
			goto fail;
		if (!(fr = host_frame(h, &err)))
			goto fail;
		if (!(flt = host_filter_compile(h, script, 1, &err)))
			goto fail;
		if ((n = host_filter_rows(flt, &rows, &err)) < 0)
			goto fail;
		risk = host_risk(h);
	}
	if (store_log_access(db, "query", 0, filter ? filter : where, &err))
		goto fail;

	if (count) {
		printf("%ld\n", n);
	} else if (csv) {
		for (int k = 0; k < fr->ncol; k++) {
			if (k)
				putchar(',');
			lm_csv_fputs(stdout, fr->cols.c[k].name);
		}
		if (risk)
			fputs(",risk", stdout);
		putchar('\n');
		char cell[256];
		for (long i = 0; i < n; i++) {
			for (int k = 0; k < fr->ncol; k++) {
				if (k)
					putchar(',');
				lm_csv_fputs(stdout, frame_cell_text(fr, k, rows[i], cell, sizeof cell));
			}
			if (risk) {
				if (isnan(risk[rows[i]]))
					fputs(",", stdout);
				else
					printf(",%.6g", risk[rows[i]]);
			}
			putchar('\n');
		}
	} else {
		int id = store_columns_role(&fr->cols, COL_ROLE_ID);
		char cell[256];
		for (long i = 0; i < n; i++)
			if (id >= 0)
				printf("%s\n", frame_cell_text(fr, id, rows[i], cell, sizeof cell));
			else
				printf("%ld\n", fr->rowid[rows[i]]);
	}
	if (fflush(stdout) != 0)
		st = lm_fail("query", EX_IOERR, "cannot write the output");
	goto done;
fail:
	lm_report("query", &err);
	st = err.status ? err.status : EX_SOFTWARE;
done:
	free(rows);
	ops_filter_free(of);
	if (have_own)
		frame_free(&own);
	if (have_pr)
		ops_predictions_free(&pr);
	host_filter_free(flt);
	host_free(h);
	free(script);
	if (db)
		store_close(db);
	return st;
}
