/* Unit tests for the Lua host's C API as the TUI uses it: one host survives every kind of
 * script error (and keeps working), filters compile once and match per row, errors come back
 * as strings, reports accumulate. The workbench is built here with store_init_schema + SQL. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../lua/host.h"
#include "../../lua/report.h"
#include "../../src/data/store.h"

static char path[64];

/* Six patients: age, sex (text), lab (real, one missing). */
static sqlite3 *make_db(void)
{
	snprintf(path, sizeof path, "/tmp/lumen-lua-unit-%ld.lumen", (long)getpid());
	unlink(path);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	lm_err err = {0};
	assert_int_equal(store_exec(db, "BEGIN", &err), 0);
	assert_int_equal(store_init_schema(db, &err), 0);
	assert_int_equal(store_exec(db,
		"CREATE TABLE patients(\"id\" INTEGER, \"age\" REAL, \"sex\" TEXT, \"lab\" REAL);"
		"INSERT INTO patients VALUES(1, 70, 'f', 1.5), (2, 40, 'm', 2.5), (3, 66, 'm', NULL),"
		"  (4, 30, 'f', 0.5), (5, 80, 'f', 3.0), (6, 50, 'm', 1.0);"
		"INSERT INTO columns(dataset, position, name, type, role, missing, distinct_count,"
		"  categories) VALUES('patients', 0, 'id', 'integer', 'id', 0, 6, NULL),"
		"  ('patients', 1, 'age', 'real', 'feature', 0, 6, NULL),"
		"  ('patients', 2, 'sex', 'text', 'group', 0, 2,"
		"   '[{\"value\":\"f\",\"n\":3},{\"value\":\"m\",\"n\":3}]'),"
		"  ('patients', 3, 'lab', 'real', 'feature', 1, 5, NULL);"
		"COMMIT;", &err), 0);
	return db;
}

static int run(host *h, const char *code, lm_err *err)
{
	memset(err, 0, sizeof *err);
	return host_run_string(h, code, "t.lua", err);
}

static void test_host_survives(void **state)
{
	(void)state;
	sqlite3 *db = make_db();
	lm_err err = {0};
	host_opts o = {.memory_mb = 128, .timeout_s = 2};
	host *h = host_new(db, NULL, NULL, &o, &err);
	assert_non_null(h);
	static const struct { const char *code, *msg; } bad[] = {
		{"io.open('x')", "t.lua:1: attempt to index a nil value (global 'io')"},
		{"os.execute('true')", "t.lua:1: attempt to call a nil value (field 'execute')"},
		{"while true do end", "t.lua:1: time limit of 2 s exceeded"},
		{"while true do pcall(function() while true do end end) end",
		 "t.lua:1: time limit of 2 s exceeded"},
		{"local s = 'x' while true do s = s .. s end",
		 "t.lua:1: not enough memory (the limit is 128 MB)"},
		{"local function f() return 1 + f() end f()", "t.lua:1: stack overflow"},
		{"for p in lumen.patients() do p.age = 1 end", "t.lua:1: patients are read-only"},
		{"error({})", "(error object is a table value)"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(run(h, bad[i].code, &err), EX_DATAERR);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("%s: got '%s', want '%s'", bad[i].code, err.msg, bad[i].msg);
		/* after every failure the same host still runs scripts */
		assert_int_equal(run(h, "assert(lumen.count{where = 'age > 60'} == 3)", &err), 0);
	}
	/* globals do not leak from one script into the next */
	assert_int_equal(run(h, "leaked = 1", &err), 0);
	assert_int_equal(run(h, "assert(leaked == nil)", &err), 0);
	/* string library changes do not leak either */
	assert_int_equal(run(h, "string.upper = nil", &err), 0);
	assert_int_equal(run(h, "assert(string.upper('a') == 'A')", &err), 0);
	host_free(h);
	sqlite3_close(db);
	unlink(path);
}

static void test_filter_api(void **state)
{
	(void)state;
	sqlite3 *db = make_db();
	lm_err err = {0};
	host *h = host_new(db, NULL, NULL, NULL, &err);
	assert_non_null(h);
	const frame *fr = host_frame(h, &err);
	assert_non_null(fr);
	assert_int_equal(fr->nrow, 6);

	host_filter *f = host_filter_compile(h, "age > 60 and sex == 'f'", 0, &err);
	assert_non_null(f);
	static const int want[] = {1, 0, 0, 0, 1, 0};
	for (long r = 0; r < 6; r++)
		assert_int_equal(host_filter_match(f, r, &err), want[r]);
	long *rows = NULL;
	assert_int_equal(host_filter_rows(f, &rows, &err), 2);
	assert_int_equal(rows[0], 0);
	assert_int_equal(rows[1], 4);
	free(rows);
	host_filter_free(f);

	/* the filter language: a missing value never matches and never raises (row 2 has no lab) */
	f = host_filter_compile(h, "lab > 1", 0, &err);
	assert_non_null(f);
	assert_int_equal(host_filter_match(f, 0, &err), 1);
	assert_int_equal(host_filter_match(f, 2, &err), 0);
	assert_int_equal(host_filter_match(f, 3, &err), 0);
	host_filter_free(f);
	f = host_filter_compile(h, "not (lab > 1)", 0, &err);
	assert_non_null(f);
	assert_int_equal(host_filter_match(f, 2, &err), 0); /* unknown stays unknown */
	host_filter_free(f);

	/* compile errors are strings, nothing to free */
	assert_null(host_filter_compile(h, "age >", 0, &err));
	assert_string_equal(err.msg, "where:1:6: unexpected symbol near '<eof>'");
	assert_null(host_filter_compile(h, "/no/such/filter.lua", 1, &err));
	assert_int_equal(err.status, EX_NOINPUT);

	/* no expression can loop: Lua statements are not part of the language */
	host_free(h);
	host_opts o = {.timeout_s = 0.2};
	h = host_new(db, NULL, NULL, &o, &err);
	assert_null(host_filter_compile(h, "(function() while true do end end)()", 0, &err));
	assert_string_equal(err.msg, "where:1:2: 'function' is Lua, not the filter language "
				     "(comparisons joined by and, or, not)");
	f = host_filter_compile(h, "sex == 'm'", 0, &err);
	assert_int_equal(host_filter_rows(f, &rows, &err), 3);
	free(rows);
	host_filter_free(f);
	assert_null(host_new(db, NULL, "nope", NULL, &err));
	assert_string_equal(err.msg, "no model 'nope'; lumen models FILE lists them");
	host_free(h);
	sqlite3_close(db);
	unlink(path);
}

static void test_report_accumulates(void **state)
{
	(void)state;
	sqlite3 *db = make_db();
	lm_err err = {0};
	host *h = host_new(db, NULL, NULL, NULL, &err);
	assert_int_equal(run(h, "report.title('T') report.table({{'a','b'},{1,2.5}})", &err), 0);
	lm_buf b = {0};
	report_render(host_report(h), REPORT_MD, &b);
	assert_string_equal(b.data, "# T\n\n| a | b |\n| --- | --- |\n| 1 | 2.5 |\n\n");
	buf_free(&b);
	report_render(host_report(h), REPORT_CSV, &b);
	assert_string_equal(b.data, "a,b\r\n1,2.5\r\n");
	buf_free(&b);
	host_free(h);
	sqlite3_close(db);
	unlink(path);
}

/* The renderers without Lua, as the TUI pager uses them. */
static void test_report_render(void **state)
{
	(void)state;
	report r;
	report_init(&r);
	report_heading(&r, "H|x", 3);
	const char *labels[] = {"up", "down"};
	const double vals[] = {0.5, -0.25};
	report_bars(&r, CHART_ATTR, "why", 2, labels, vals);
	const double x[] = {0, 10, 20}, y[] = {1, 0.5, 0.25};
	report_xy(&r, CHART_KM, "km", "days", "S");
	report_add_series(&r, "all", 3, x, y);
	lm_buf b = {0};
	report_render(&r, REPORT_MD, &b);
	assert_string_equal(b.data,
		"### H|x\n\n**why** (attributions)\n\n| label | value |\n| --- | --- |\n"
		"| up | 0.5 |\n| down | -0.25 |\n\n**km** (Kaplan-Meier curve)\n\n"
		"| series | days | S |\n| --- | --- | --- |\n| all | 0 | 1 |\n| all | 10 | 0.5 |\n"
		"| all | 20 | 0.25 |\n\n");
	buf_free(&b);
	report_render(&r, REPORT_HTML, &b);
	/* KM curves are steps: from (0,1) across to x=10 at level 1, then down to 0.5 */
	assert_non_null(strstr(b.data, "points=\"60.0,15.0 275.0,15.0 275.0,155.0 490.0,155.0 "
					  "490.0,225.0\""));
	/* attribution bars: positive red to the right of zero, negative blue to the left */
	assert_non_null(strstr(b.data, "fill=\"#d62728\""));
	assert_non_null(strstr(b.data, "fill=\"#1f77b4\""));
	buf_free(&b);
	report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_survives),
		cmocka_unit_test(test_filter_api),
		cmocka_unit_test(test_report_accumulates),
		cmocka_unit_test(test_report_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
