/* cmd_report.c: `lumen report FILE SCRIPT.lua [ARG...] [-o OUT] [--format md|csv|html]`. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lua/host.h"
#include "../../lua/report.h"
#include "../../lua/script_args.h"
#include "../data/store.h"
#include "cli.h"

static const char usage_text[] =
	"usage: lumen report FILE.lumen SCRIPT[.lua] [ARG...] [-o OUT] [--format md|csv|html]\n"
	"                    [--model NAME] [--memory MB] [--timeout S] [--verbose]\n"
	"Runs a sandboxed Lua report script (a path or a shipped name such as cohort_summary)\n"
	"and writes its report: Markdown on stdout by default, or to OUT in the format its\n"
	"extension names (.md, .csv for the tables, .html with inline SVG charts).\n"
	"Script arguments that start with '-' go after '--'.\n"
	"lumen report FILE.lumen SCRIPT --help lists the arguments the script declares.\n"
	"  -o, --output OUT  where the report goes\n"
	"  --format F        md, csv or html (default: from OUT's extension, else md)\n"
	"  --model NAME      default model for p.risk, p.label, p.outcome\n"
	"  --memory MB       Lua memory limit (default 512)\n"
	"  --timeout S       Lua time limit in seconds (default 60)\n"
	"  --verbose         a traceback with errors\n";

static int format_of(const char *out)
{
	const char *dot = out ? strrchr(out, '.') : NULL;
	if (dot && !strchr(dot, '/')) {
		int f = report_format_parse(dot + 1);
		if (f >= 0)
			return f;
	}
	return REPORT_MD;
}

/* Writes data to path through a temporary file and a rename, so a failed run leaves nothing
 * half-written. */
static int write_atomic(const char *path, const char *data, size_t len, lm_err *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	lm_clean_stale(path);
	FILE *f = lm_fopen_private(tmp); /* a report holds patient data: 0600 */
	if (!f) {
		lm_seterr(err, EX_CANTCREAT, "%s: %s", path, strerror(errno));
		free(tmp);
		return EX_CANTCREAT;
	}
	int bad = fwrite(data, 1, len, f) != len;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) != 0) {
		lm_seterr(err, EX_IOERR, "%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return EX_IOERR;
	}
	free(tmp);
	return 0;
}

static int record(sqlite3 *db, const char *script, int argc, char **argv, const char *out,
		  const char *hex, lm_err *err)
{
	lm_buf args = {0};
	buf_puts(&args, "[");
	for (int i = 0; i < argc; i++) {
		buf_puts(&args, i ? ",\"" : "\"");
		for (const char *s = argv[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				buf_printf(&args, "\\%c", *s);
			else if ((unsigned char)*s < 0x20)
				buf_printf(&args, "\\u%04x", (unsigned)(unsigned char)*s);
			else
				buf_add(&args, s, 1);
		}
		buf_puts(&args, "\"");
	}
	buf_puts(&args, "]");
	char now[32];
	lm_now_iso(now);
	int st = store_exec(db, "BEGIN", err);
	sqlite3_stmt *ins = st ? NULL : store_prepare(db,
		"INSERT INTO reports(script, args, output, created_at, sha256) VALUES(?,?,?,?,?)", err);
	if (ins) {
		sqlite3_bind_text(ins, 1, script, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 2, args.data, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 3, out ? out : "-", -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 4, now, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 5, hex, -1, SQLITE_TRANSIENT);
		int rc = sqlite3_step(ins);
		if (rc != SQLITE_DONE)
			st = lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
		sqlite3_finalize(ins);
	} else if (!st) {
		st = err->status;
	}
	if (!st)
		st = store_log_access(db, "report", 0, script, err);
	if (!st)
		st = store_exec(db, "COMMIT", err);
	if (st && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	buf_free(&args);
	return st;
}

/* lumen report FILE NAME --help: what the script declares (script_args.h). */
static int script_help(const char *name)
{
	lm_err err = {0};
	char *path = host_find_script(name, &err);
	sargs a;
	if (!path || sargs_read(path, &a, &err)) {
		lm_report("report", &err);
		free(path);
		return err.status;
	}
	char *syn = sargs_synopsis(&a);
	printf("usage: lumen report FILE.lumen %s%s%s [-o OUT]\n", name, *syn ? " " : "", syn);
	if (a.about)
		printf("%s.\n", a.about);
	printf("Script: %s\n", path);
	if (a.n)
		printf("Arguments (in this order; KEY= ones as KEY=VALUE anywhere):\n");
	else
		printf("The script declares no arguments (--@arg lines at its top).\n");
	for (int i = 0; i < a.n; i++)
		printf("  %-14s %s\n", a.name[i], a.help[i]);
	free(syn);
	sargs_free(&a);
	free(path);
	return 0;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'}, {"format", required_argument, NULL, 'F'},
		{"model", required_argument, NULL, 'm'},  {"memory", required_argument, NULL, 'M'},
		{"timeout", required_argument, NULL, 'T'}, {"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	const char *out = NULL, *model = NULL;
	int fmt = -1, help = 0;
	host_opts ho = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:m:v", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'F':
			if ((fmt = report_format_parse(optarg)) < 0)
				return cli_usage_error("report", "--format is md, csv or html, not '%s'",
						       optarg);
			break;
		case 'm': model = optarg; break;
		case 'M':
			if (parse_double(optarg, &ho.memory_mb) || !(ho.memory_mb > 0))
				return cli_usage_error("report", "--memory wants megabytes > 0, not '%s'",
						       optarg);
			break;
		case 'T':
			if (parse_double(optarg, &ho.timeout_s) || !(ho.timeout_s > 0))
				return cli_usage_error("report", "--timeout wants seconds > 0, not '%s'",
						       optarg);
			break;
		case 'v': ho.verbose = 1; break;
		case 'h': help = 1; break;
		default: return cli_usage_error("report", "unknown option");
		}
	}
	if (help && argc - optind < 2) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (help)
		return script_help(argv[optind + 1]);
	if (argc - optind < 2)
		return cli_usage_error("report", "wants a workbench file and a script");
	if (fmt < 0)
		fmt = format_of(out);
	const char *file = argv[optind], *name = argv[optind + 1];
	int nargs = argc - optind - 2;
	char **args = argv + optind + 2;

	lm_err err = {0};
	int st = 0;
	char *script = NULL;
	host *h = NULL;
	lm_buf doc = {0};
	sqlite3 *db = store_open(file, 0, &err);
	if (!db)
		goto fail;
	if (!(script = host_find_script(name, &err)))
		goto fail;
	if (!(h = host_new(db, NULL, model, &ho, &err)))
		goto fail;
	if (host_run_file(h, script, nargs, args, &err))
		goto fail;
	report_render(host_report(h), (report_format)fmt, &doc);
	lm_sha256 sh;
	char hex[65];
	sha256_init(&sh);
	sha256_update(&sh, doc.data, doc.len);
	sha256_hex(&sh, hex);
	if (out) {
		if (write_atomic(out, doc.data, doc.len, &err))
			goto fail;
	} else if (fwrite(doc.data, 1, doc.len, stdout) != doc.len || fflush(stdout) != 0) {
		lm_seterr(&err, EX_IOERR, "cannot write the report");
		goto fail;
	}
	if (record(db, name, nargs, args, out, hex, &err))
		goto fail;
	goto done;
fail:
	lm_report("report", &err);
	st = err.status ? err.status : EX_SOFTWARE;
done:
	buf_free(&doc);
	host_free(h);
	free(script);
	if (db)
		store_close(db);
	return st;
}
