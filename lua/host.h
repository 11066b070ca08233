/* host.h: the sandboxed Lua 5.4 host. The only module (with lua/api.c) that calls lua_*.
 *
 * A host is one Lua state with an allow-list of libraries (base without dofile/loadfile and
 * with a text-only load, string without dump, table, math, utf8, os.time/date/clock), a byte
 * cap on its allocator and a wall-clock limit enforced by an instruction-count hook that
 * cannot be caught with pcall. Every script gets a fresh global table. The host survives every
 * script error: functions return a status and fill an lm_err with one line such as
 * "risky.lua:12: attempt to index a nil value (field 'x')" (no "lumen: CMD: " prefix).
 *
 * Filters (the TUI's filter prompt, `lumen query`, lumen.patients{where=...}):
 *     host_filter *f = host_filter_compile(h, "age > 65 and sex == 'f'", 0, &err);
 *     for (long r = 0; r < fr->nrow; r++) {
 *         int m = host_filter_match(f, r, &err);   // 1, 0, or -1 with err filled
 *         ...
 *     }
 *     host_filter_free(f);
 * An expression is the filter language of src/ops (ops_filter: SQL's logic, a missing value
 * never matches, booleans equal 1/0), answered for every row at compile time; a filter file
 * (is_file=1) is a Lua script returning function(p).
 * Filters run in the host's state: compile and match from one thread only. */
#ifndef LUMEN_HOST_H
#define LUMEN_HOST_H

#include <sqlite3.h>

#include "../src/data/store.h"
#include "../src/util.h"

#define HOST_DEFAULT_MEMORY_MB 512
#define HOST_DEFAULT_TIMEOUT_S 60.0

typedef struct host_opts {
	double memory_mb; /* allocator cap; <= 0 means HOST_DEFAULT_MEMORY_MB */
	double timeout_s; /* per run (script, filter compile, or one host_filter_rows/match
			   * call); <= 0 means HOST_DEFAULT_TIMEOUT_S */
	int verbose;      /* append the Lua traceback to error messages */
	/* Where print() goes: NULL writes the line to stderr. The TUI passes its own. */
	void (*print)(void *ud, const char *line);
	void *print_ud;
} host_opts;

typedef struct host host;

/* Creates a host over an open workbench (db and fr are borrowed and must outlive the host;
 * fr may be NULL, then the patients frame is loaded from db on first use and owned by the host).
 * model: the default model whose predictions give p.risk, p.label, p.outcome (NULL for none;
 * EX_DATAERR if unknown). NULL on failure with err filled. Free with host_free. */
host *host_new(sqlite3 *db, const frame *fr, const char *model, const host_opts *opts,
	       lm_err *err);
void host_free(host *h);

/* The patients frame the host uses (loads it if needed); NULL with err on failure. */
const frame *host_frame(host *h, lm_err *err);

/* Script lookup: a path that exists, or a shipped name ("cohort_summary", "older_patients")
 * searched as DIR/reports/NAME.lua then DIR/filters/NAME.lua then DIR/NAME.lua in
 * $LUMEN_LUA_DIR, the source tree's lua/ next to the binary (or ../share/lumen/lua), then
 * LUMEN_DATADIR/lua.
 * Returns a malloc'd path or NULL (EX_NOINPUT "no script 'NAME' ..."). */
char *host_find_script(const char *name, lm_err *err);
/* The directory of the shipped Lua files found as above (malloc'd) or NULL. */
char *host_lua_dir(void);

/* Runs a script file with arguments (as the global `arg`, arg[1..n], arg[0] the script).
 * Report calls (report.title, ...) accumulate into the host's report document, read with
 * host_report(). 0, or EX_DATAERR for a script error (message, with traceback when verbose),
 * EX_NOINPUT when the file is missing. */
int host_run_file(host *h, const char *path, int argc, char **argv, lm_err *err);
/* Runs a chunk of text (chunkname as shown in messages, e.g. "test.lua"). Same statuses. */
int host_run_string(host *h, const char *code, const char *chunkname, lm_err *err);

struct report;
/* The report built by the scripts run so far (owned by the host; valid until host_free). */
struct report *host_report(host *h);

/* Filters. Compile once (an expression, or a file when is_file), then match rows of
 * host_frame() by index 0..nrow-1. NULL / -1 with err filled (a syntax error reads
 * "where:1: ..." for an expression, "FILE.lua:LINE: ..." for a file). */
typedef struct host_filter host_filter;
host_filter *host_filter_compile(host *h, const char *src, int is_file, lm_err *err);
/* 1 when row matches, 0 when not (false or nil), -1 on a runtime error (err filled). */
int host_filter_match(host_filter *f, long row, lm_err *err);
/* All matching row indices in order into *rows (malloc'd, caller frees); returns the count,
 * or -1 with err filled (and *rows NULL). */
long host_filter_rows(host_filter *f, long **rows, lm_err *err);
void host_filter_free(host_filter *f);

/* Predictions of the default model aligned to frame rows (NAN when the patient has none),
 * or NULL when the host has no model. Owned by the host. */
const double *host_risk(host *h);

#endif
