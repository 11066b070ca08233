/* fuzz_lua.c: libFuzzer driver for the Lua API surface. Each input is a script run in a fresh
 * sandboxed host (lua/host.h) over a small workbench built in memory (patients with numeric,
 * text and missing values, and a model's stored predictions), with a 32 MB cap and a 1 s
 * limit. Whatever the script does, the host must return a status, never crash (ASan, UBSan)
 * or escape; errors are one line. Built and run by `make fuzz`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lua/host.h"
#include "../../lua/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static sqlite3 *db;

static void must(int rc)
{
	if (rc)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	lm_err e = {0, ""};
	must(sqlite3_open(":memory:", &db) != SQLITE_OK);
	must(store_init_schema(db, &e));
	must(store_exec(db,
			"CREATE TABLE patients(id INTEGER, age REAL, sex TEXT, bili REAL, status INTEGER,"
			" time INTEGER);"
			"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)"
			" INSERT INTO patients SELECT i, 30 + i % 50, CASE WHEN i % 3 THEN 'f' ELSE 'm'"
			" END, CASE WHEN i % 7 THEN i / 10.0 END, i % 2, 100 * i FROM n;"
			"INSERT INTO datasets(name, rows, columns) VALUES('patients', 60, 6);"
			"INSERT INTO columns(dataset, position, name, type, role, categories) VALUES"
			" ('patients', 0, 'id', 'integer', 'id', NULL),"
			" ('patients', 1, 'age', 'real', 'feature', NULL),"
			" ('patients', 2, 'sex', 'text', 'group', '[{\"value\":\"f\",\"n\":40},"
			"{\"value\":\"m\",\"n\":20}]'),"
			" ('patients', 3, 'bili', 'real', 'feature', NULL),"
			" ('patients', 4, 'status', 'integer', 'event', NULL),"
			" ('patients', 5, 'time', 'integer', 'time', NULL);"
			"INSERT INTO models(id, name, arch, target, positive, task) VALUES(1, 'm', 'logreg',"
			" 'status', '1', 'binary');"
			"INSERT INTO predictions(model_id, patient, fold, y, p) SELECT 1, rowid, 0,"
			" status, (age - 29) / 51.0 FROM patients;",
			&e));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *code = malloc(size + 1);
	memcpy(code, data, size);
	code[size] = 0;
	host_opts o = {.memory_mb = 32, .timeout_s = 1};
	lm_err e = {0, ""};
	host *h = host_new(db, NULL, "m", &o, &e);
	if (!h)
		abort();
	int st = host_run_string(h, code, "fuzz.lua", &e);
	if (st && st != EX_DATAERR)
		abort(); /* a script's failure is a data error */
	if (!st) {
		lm_buf out = {0};
		report_render(host_report(h), REPORT_HTML, &out);
		buf_free(&out);
	}
	host_free(h);
	free(code);
	return 0;
}
