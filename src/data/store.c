/* store.c: the workbench file. See store.h for the schema. */
#define _POSIX_C_SOURCE 200809L
#include "store.h"
#include "labels.h"
#include "visits_enc.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const type_names[] = {"integer", "real", "boolean", "text"};
static const char *const role_names[] = {"id",    "feature", "target",    "group",
					 "time",  "event",   "treatment", "ignore"};

const char *store_type_name(col_type t) { return type_names[t]; }
const char *store_role_name(col_role r) { return role_names[r]; }

int store_type_parse(const char *s)
{
	for (size_t i = 0; i < LM_ARRAY_LEN(type_names); i++)
		if (!strcmp(s, type_names[i]))
			return (int)i;
	return -1;
}

int store_role_parse(const char *s)
{
	for (size_t i = 0; i < LM_ARRAY_LEN(role_names); i++)
		if (!strcmp(s, role_names[i]))
			return (int)i;
	return -1;
}

int store_status(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return EX_IOERR;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return EX_DATAERR;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EX_TEMPFAIL;
	default:
		return EX_SOFTWARE;
	}
}

/* Fills err for a failed SQLite call: a busy file says so (another command holds the lock
 * past the busy timeout), anything else gives msg. Returns the status. */
static int db_fail(sqlite3 *db, int rc, const char *msg, lm_err *err)
{
	if (store_status(rc) == EX_TEMPFAIL) {
		const char *f = sqlite3_db_filename(db, "main");
		return lm_seterr(err, EX_TEMPFAIL, "%s is busy: another lumen command is writing it",
				 f && *f ? f : "the workbench file");
	}
	return lm_seterr(err, store_status(rc), "%s", msg);
}

int store_exec(sqlite3 *db, const char *sql, lm_err *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		db_fail(db, rc, msg ? msg : sqlite3_errstr(rc), err);
		sqlite3_free(msg);
		return store_status(rc);
	}
	return 0;
}

sqlite3_stmt *store_prepare(sqlite3 *db, const char *sql, lm_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		db_fail(db, rc, sqlite3_errmsg(db), err);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

static const char schema_sql[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);\n"
	"CREATE TABLE datasets(name TEXT PRIMARY KEY, file TEXT, sha256 TEXT, rows INTEGER,\n"
	"  columns INTEGER, delimiter TEXT, imported_at TEXT);\n"
	"CREATE TABLE columns(dataset TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,\n"
	"  type TEXT NOT NULL, role TEXT NOT NULL, missing INTEGER, distinct_count INTEGER,\n"
	"  categories TEXT, mean REAL, sd REAL, min REAL, max REAL, label TEXT,\n"
	"  PRIMARY KEY(dataset, name));\n"
	"CREATE TABLE models(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, arch TEXT NOT NULL,\n"
	"  target TEXT, positive TEXT, task TEXT, classes TEXT, hyper TEXT, inputs TEXT,\n"
	"  seed INTEGER, folds INTEGER, final TEXT, data_sha256 TEXT, n_used INTEGER,\n"
	"  n_excluded INTEGER, metrics TEXT, importance TEXT, version TEXT, created_at TEXT);\n"
	"CREATE TABLE model_inputs(model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,\n"
	"  slot INTEGER NOT NULL, name TEXT NOT NULL, source_column TEXT, kind TEXT, category TEXT,\n"
	"  center REAL, scale REAL, PRIMARY KEY(model_id, slot));\n"
	"CREATE TABLE model_tensors(model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,\n"
	"  member INTEGER NOT NULL, name TEXT NOT NULL, shape TEXT, data BLOB,\n"
	"  PRIMARY KEY(model_id, member, name));\n"
	"CREATE TABLE predictions(model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,\n"
	"  patient INTEGER NOT NULL, fold INTEGER, y INTEGER, p REAL, p_sd REAL, logit REAL,\n"
	"  probs BLOB, PRIMARY KEY(model_id, patient));\n"
	"CREATE TABLE attributions(model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,\n"
	"  method TEXT NOT NULL, patient INTEGER NOT NULL, slots BLOB, columns BLOB, logit REAL,\n"
	"  baseline_logit REAL, delta REAL, steps INTEGER, baseline TEXT, agreement REAL,\n"
	"  PRIMARY KEY(model_id, method, patient));\n"
	"CREATE TABLE audits(id INTEGER PRIMARY KEY, model_id INTEGER REFERENCES models(id)\n"
	"  ON DELETE CASCADE, created_at TEXT, params TEXT, result TEXT);\n"
	"CREATE TABLE reports(id INTEGER PRIMARY KEY, script TEXT, args TEXT, output TEXT,\n"
	"  created_at TEXT, sha256 TEXT);\n"
	"CREATE TABLE access_log(id INTEGER PRIMARY KEY, time TEXT NOT NULL, user TEXT NOT NULL,\n"
	"  action TEXT NOT NULL, patient INTEGER, detail TEXT);\n"
	"CREATE TABLE column_labels(dataset TEXT NOT NULL, name TEXT NOT NULL, label TEXT, unit TEXT,\n"
	"  value_labels TEXT, changed_at TEXT, PRIMARY KEY(dataset, name));\n";

int store_init_schema(sqlite3 *db, lm_err *err)
{
	int st = store_exec(db, schema_sql, err);
	if (st)
		return st;
	char now[32], ver[16];
	lm_now_iso(now);
	snprintf(ver, sizeof ver, "%d", STORE_SCHEMA_VERSION);
	if ((st = store_meta_set(db, "schema_version", ver, err)) ||
	    (st = store_meta_set(db, "program", "lumen " LUMEN_VERSION, err)) ||
	    (st = store_meta_set(db, "created_at", now, err)))
		return st;
	return 0;
}

/* ---- checks at open: a workbench file travels between colleagues ---- */

/* Runs a query whose first row (if any) describes a problem; *row gets the statement stepped to
 * it. Returns 1 when a row came, 0 when none, -1 with err on an SQL error. */
static int check_query(sqlite3 *db, const char *path, const char *sql, sqlite3_stmt **row,
		       lm_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*row = st;
		return 1;
	}
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return 0;
	}
	int busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
	if (busy)
		lm_seterr(err, EX_TEMPFAIL, "%s is busy: another lumen command is writing it", path);
	else
		lm_seterr(err, EX_DATAERR, "%s: not a lumen workbench file (%s)", path,
			  sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -1;
}

static const char *text_or(sqlite3_stmt *st, int i, const char *none)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : none;
}

/* Everything lumen reads from the file without checking it at each use: no trigger or view
 * (they could rewrite what lumen writes, the access log first), complete column metadata that
 * names real columns, patient rowids 1..rows, model inputs that name columns of the file, and
 * predictions that are probabilities of patients of the file. EX_DATAERR with one line. */
static int store_check(sqlite3 *db, const char *path, lm_err *err)
{
	sqlite3_stmt *r = NULL;
	int k;
	/* every table of the schema (a missing one is bad data, not an internal error later) */
	static const char *const tables[] = {"datasets", "columns", "models", "model_inputs",
					     "model_tensors", "predictions", "attributions",
					     "audits", "reports", "access_log"};
	for (size_t i = 0; i < LM_ARRAY_LEN(tables); i++)
		if (!store_has_table(db, tables[i]))
			return lm_seterr(err, EX_DATAERR, "%s: not a lumen workbench file (it has no "
					 "table %s)", path, tables[i]);
	if ((k = check_query(db, path,
			     "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view')"
			     " ORDER BY name LIMIT 1", &r, err)) != 0) {
		if (k > 0) {
			lm_seterr(err, EX_DATAERR, "%s: holds a %s '%s' that lumen did not create "
				  "(refused: it could change what lumen writes)", path,
				  text_or(r, 0, "?"), text_or(r, 1, "?"));
			sqlite3_finalize(r);
		}
		return EX_DATAERR;
	}
	if ((k = check_query(db, path, "SELECT dataset, name, type, role, position FROM columns", &r,
			     err)) < 0)
		return err->status;
	int bad = 0;
	while (k > 0 && !bad) {
		const char *ds = (const char *)sqlite3_column_text(r, 0),
			   *name = (const char *)sqlite3_column_text(r, 1),
			   *type = (const char *)sqlite3_column_text(r, 2),
			   *role = (const char *)sqlite3_column_text(r, 3);
		bad = 1;
		if (!ds || (strcmp(ds, "patients") && strcmp(ds, "visits")))
			lm_seterr(err, EX_DATAERR, "%s: columns: unknown dataset '%s'", path,
				  ds ? ds : "NULL");
		else if (!name || !*name)
			lm_seterr(err, EX_DATAERR, "%s: columns: a column of %s has no name", path, ds);
		else if (!type || store_type_parse(type) < 0)
			lm_seterr(err, EX_DATAERR, "%s: columns: column '%s' has type '%s' (integer, "
				  "real, boolean or text)", path, name, type ? type : "NULL");
		else if (!role || store_role_parse(role) < 0)
			lm_seterr(err, EX_DATAERR, "%s: columns: column '%s' has role '%s'", path, name,
				  role ? role : "NULL");
		else if (sqlite3_column_type(r, 4) != SQLITE_INTEGER)
			lm_seterr(err, EX_DATAERR, "%s: columns: column '%s' has no position", path,
				  name);
		else
			bad = 0;
		int rc = bad ? SQLITE_ROW : sqlite3_step(r);
		k = rc == SQLITE_ROW;
	}
	sqlite3_finalize(r);
	if (bad)
		return EX_DATAERR;
	if ((k = check_query(db, path,
			     "SELECT dataset, name FROM columns GROUP BY dataset, name HAVING count(*) > 1"
			     " LIMIT 1", &r, err)) != 0) {
		if (k > 0) {
			lm_seterr(err, EX_DATAERR, "%s: columns: column '%s' of %s is listed twice",
				  path, text_or(r, 1, "?"), text_or(r, 0, "?"));
			sqlite3_finalize(r);
		}
		return EX_DATAERR;
	}
	if ((k = check_query(db, path,
			     "SELECT c.dataset, c.name FROM columns c WHERE c.name NOT IN"
			     " (SELECT t.name FROM pragma_table_info(c.dataset) t) LIMIT 1", &r, err)) != 0) {
		if (k > 0) {
			lm_seterr(err, EX_DATAERR, "%s: columns: column '%s' is not in the %s table",
				  path, text_or(r, 1, "?"), text_or(r, 0, "?"));
			sqlite3_finalize(r);
		}
		return EX_DATAERR;
	}
	/* rowids: the row order 1..rows (other tables refer to patients by it, and commands
	 * index arrays with it) */
	long long maxid = 0;
	if (store_has_table(db, "patients")) {
		if ((k = check_query(db, path,
				     "SELECT min(rowid), max(rowid), (SELECT rows FROM datasets WHERE"
				     " name = 'patients'), count(*) FROM patients", &r, err)) < 0)
			return err->status;
		long long lo = sqlite3_column_int64(r, 0), hi = sqlite3_column_int64(r, 1),
			  rows = sqlite3_column_type(r, 2) == SQLITE_INTEGER
					 ? sqlite3_column_int64(r, 2) : sqlite3_column_int64(r, 3);
		int empty = sqlite3_column_type(r, 0) == SQLITE_NULL;
		sqlite3_finalize(r);
		if (!empty && (lo < 1 || hi > rows || rows > 2147483647LL)) {
			return lm_seterr(err, EX_DATAERR, "%s: patients.rowid %lld is out of range "
					 "(1..%lld, the row order)", path, lo < 1 ? lo : hi, rows);
		}
		maxid = empty ? 0 : hi;
	}
	if ((k = check_query(db, path,
			     /* a sequence model's "visits.LAB" reads the visits' column LAB
			      * (visits_enc.h) */
			     "WITH known(c) AS (SELECT name FROM columns UNION SELECT 'visits.' || name"
			     " FROM columns WHERE dataset = 'visits' UNION SELECT 'visits.' || t FROM"
			     " (SELECT 'dt_prev' t UNION SELECT 'dt_first' UNION SELECT 'present')"
			     " WHERE EXISTS (SELECT 1 FROM columns WHERE dataset = 'visits'))"
			     " SELECT m.name, i.source_column FROM model_inputs i JOIN models m ON"
			     " m.id = i.model_id WHERE i.source_column IS NULL OR i.source_column NOT IN"
			     " known UNION ALL SELECT m.name,"
			     " json_extract(j.value, '$.column') FROM models m, json_each(CASE WHEN"
			     " json_valid(m.inputs) THEN m.inputs ELSE '[]' END) j WHERE"
			     " json_extract(j.value, '$.column') IS NULL OR json_extract(j.value,"
			     " '$.column') NOT IN known LIMIT 1", &r, err)) != 0) {
		if (k > 0) {
			lm_seterr(err, EX_DATAERR, "%s: model '%s' reads column '%s', which the file "
				  "does not have", path, text_or(r, 0, "?"), text_or(r, 1, "NULL"));
			sqlite3_finalize(r);
		}
		return EX_DATAERR;
	}
	if ((k = check_query(db, path,
			     "SELECT m.name, i.name FROM model_inputs i JOIN models m ON m.id = i.model_id"
			     " WHERE NOT (typeof(i.center) IN ('real', 'integer', 'null') AND"
			     " typeof(i.scale) IN ('real', 'integer', 'null') AND ifnull(abs(i.center), 0)"
			     " <= 1e300 AND ifnull(abs(i.scale), 0) <= 1e300) LIMIT 1", &r, err)) != 0) {
		if (k > 0) {
			lm_seterr(err, EX_DATAERR, "%s: model '%s': input '%s' has a centre or scale "
				  "that is not a finite number", path, text_or(r, 0, "?"),
				  text_or(r, 1, "?"));
			sqlite3_finalize(r);
		}
		return EX_DATAERR;
	}
	char *sql = sqlite3_mprintf(
		"SELECT m.name, p.patient, quote(p.p) FROM predictions p JOIN models m ON"
		" m.id = p.model_id WHERE p.patient NOT BETWEEN 1 AND %lld OR NOT (p.p IS NULL OR"
		" (typeof(p.p) IN ('real', 'integer') AND (CASE WHEN m.task IN ('binary',"
		" 'multiclass') THEN p.p BETWEEN 0 AND 1 ELSE abs(p.p) <= 1e300 END))) LIMIT 1",
		maxid);
	k = check_query(db, path, sql, &r, err);
	sqlite3_free(sql);
	if (k != 0) {
		if (k > 0) {
			long long pid = sqlite3_column_int64(r, 1);
			if (pid < 1 || pid > maxid)
				lm_seterr(err, EX_DATAERR, "%s: model '%s' has a prediction for patient "
					  "rowid %lld, who is not in the file", path, text_or(r, 0, "?"),
					  pid);
			else
				lm_seterr(err, EX_DATAERR, "%s: model '%s': the prediction of patient "
					  "rowid %lld is %s, not a probability", path,
					  text_or(r, 0, "?"), pid, text_or(r, 2, "?"));
			sqlite3_finalize(r);
		}
		return EX_DATAERR;
	}
	return 0;
}

sqlite3 *store_open(const char *path, int readonly, lm_err *err)
{
	struct stat sb;
	if (stat(path, &sb) != 0) {
		lm_seterr(err, EX_NOINPUT, "%s: no such file", path);
		return NULL;
	}
	lm_clean_stale(path); /* a killed import's rows of patients, or a killed report's output */
	sqlite3 *db = NULL;
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	int rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		lm_seterr(err, store_status(rc), "%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_stmt *st = NULL;
	rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
			lm_seterr(err, EX_TEMPFAIL, "%s is busy: another lumen command is writing it",
				  path);
		else
			lm_seterr(err, EX_DATAERR, "%s: not a lumen workbench file", path);
		sqlite3_finalize(st);
		sqlite3_close(db);
		return NULL;
	}
	int ver = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (ver > STORE_SCHEMA_VERSION || ver < 1) {
		lm_seterr(err, EX_DATAERR, "%s: workbench schema version %d is not supported by lumen %s",
			  path, ver, LUMEN_VERSION);
		sqlite3_close(db);
		return NULL;
	}
	if (store_check(db, path, err)) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	return db;
}

void store_close(sqlite3 *db) { sqlite3_close(db); }

char *store_meta_get(sqlite3 *db, const char *key)
{
	sqlite3_stmt *st = store_prepare(db, "SELECT value FROM meta WHERE key = ?", NULL);
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	char *v = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

int store_meta_set(sqlite3 *db, const char *key, const char *value, lm_err *err)
{
	sqlite3_stmt *st = store_prepare(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", err);
	if (!st)
		return err ? err->status : EX_SOFTWARE;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, rc, sqlite3_errmsg(db), err);
	return 0;
}

int store_has_table(sqlite3 *db, const char *table)
{
	sqlite3_stmt *st =
		store_prepare(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", NULL);
	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	int has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return has;
}

static double col_double(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? (double)NAN : sqlite3_column_double(st, i);
}

static void parse_categories(store_column *c, const char *json)
{
	cJSON *a = json ? cJSON_Parse(json) : NULL;
	if (!cJSON_IsArray(a)) {
		cJSON_Delete(a);
		return;
	}
	int n = cJSON_GetArraySize(a);
	c->cats = xcalloc((size_t)n, sizeof *c->cats);
	c->cat_n = xcalloc((size_t)n, sizeof *c->cat_n);
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "value");
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "n");
		if (!cJSON_IsString(v))
			continue;
		c->cats[c->ncat] = xstrdup(v->valuestring);
		c->cat_n[c->ncat] = cJSON_IsNumber(k) ? (long)k->valuedouble : 0;
		c->ncat++;
	}
	cJSON_Delete(a);
}

int store_columns_load(sqlite3 *db, const char *dataset, store_columns *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = store_prepare(
		db,
		"SELECT name, type, role, position, missing, distinct_count, categories, mean, sd, min,"
		" max, label FROM columns WHERE dataset = ? ORDER BY position",
		err);
	if (!st)
		return err ? err->status : EX_SOFTWARE;
	sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
	int cap = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->n == cap) {
			cap = cap ? 2 * cap : 16;
			out->c = xreallocarray(out->c, (size_t)cap, sizeof *out->c);
		}
		store_column *c = &out->c[out->n++];
		memset(c, 0, sizeof *c);
		c->name = xstrdup((const char *)sqlite3_column_text(st, 0));
		int t = store_type_parse((const char *)sqlite3_column_text(st, 1));
		int r = store_role_parse((const char *)sqlite3_column_text(st, 2));
		c->type = t < 0 ? COL_TYPE_TEXT : (col_type)t;
		c->role = r < 0 ? COL_ROLE_FEATURE : (col_role)r;
		c->position = sqlite3_column_int(st, 3);
		c->missing = sqlite3_column_int64(st, 4);
		c->distinct = sqlite3_column_int64(st, 5);
		parse_categories(c, (const char *)sqlite3_column_text(st, 6));
		c->mean = col_double(st, 7);
		c->sd = col_double(st, 8);
		c->min = col_double(st, 9);
		c->max = col_double(st, 10);
		if (sqlite3_column_text(st, 11))
			c->label = xstrdup((const char *)sqlite3_column_text(st, 11));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_columns_free(out);
		return db_fail(db, rc, sqlite3_errmsg(db), err);
	}
	int s2 = lbl_attach(db, dataset, out, err);
	if (s2)
		store_columns_free(out);
	return s2;
}

static void column_free(store_column *c)
{
	free(c->name);
	for (int j = 0; j < c->ncat; j++)
		free(c->cats[j]);
	free(c->cats);
	free(c->cat_n);
	free(c->label);
	free(c->unit);
	for (int j = 0; j < c->nvl; j++) {
		free(c->vl[j].code);
		free(c->vl[j].text);
	}
	free(c->vl);
}

void store_column_free(store_column *c) { column_free(c); }

void store_columns_free(store_columns *cols)
{
	for (int i = 0; i < cols->n; i++)
		column_free(&cols->c[i]);
	free(cols->c);
	cols->c = NULL;
	cols->n = 0;
}

int store_columns_find(const store_columns *cols, const char *name)
{
	for (int i = 0; i < cols->n; i++)
		if (!strcmp(cols->c[i].name, name))
			return i;
	return -1;
}

int store_columns_role(const store_columns *cols, col_role role)
{
	for (int i = 0; i < cols->n; i++)
		if (cols->c[i].role == role)
			return i;
	return -1;
}

int store_set_role(sqlite3 *db, const char *dataset, const char *column, col_role role,
		   lm_err *err)
{
	store_columns cols;
	int st = store_columns_load(db, dataset, &cols, err);
	if (st)
		return st;
	int i = store_columns_find(&cols, column);
	if (i < 0) {
		store_columns_free(&cols);
		return lm_seterr(err, EX_DATAERR, "no column '%s' in %s", column, dataset);
	}
	store_column *c = &cols.c[i];
	if (role == COL_ROLE_ID) {
		sqlite3_stmt *q = store_prepare(db, "SELECT rows FROM datasets WHERE name = ?", err);
		if (!q) {
			store_columns_free(&cols);
			return err ? err->status : EX_SOFTWARE;
		}
		sqlite3_bind_text(q, 1, dataset, -1, SQLITE_STATIC);
		long rows = sqlite3_step(q) == SQLITE_ROW ? (long)sqlite3_column_int64(q, 0) : -1;
		sqlite3_finalize(q);
		if (c->missing > 0 || c->distinct != rows) {
			store_columns_free(&cols);
			return lm_seterr(err, EX_DATAERR,
					 "column '%s' cannot be the id: its values are not unique and complete",
					 column);
		}
	}
	if ((role == COL_ROLE_TIME) && c->type == COL_TYPE_TEXT) {
		store_columns_free(&cols);
		return lm_seterr(err, EX_DATAERR, "column '%s' is text and cannot be a time", column);
	}
	store_columns_free(&cols);
	int s2 = 0;
	if (role == COL_ROLE_ID) {
		/* one id per dataset: the old id becomes ignored */
		sqlite3_stmt *u = store_prepare(
			db, "UPDATE columns SET role = 'ignore' WHERE dataset = ? AND role = 'id'", err);
		if (!u)
			return err ? err->status : EX_SOFTWARE;
		sqlite3_bind_text(u, 1, dataset, -1, SQLITE_STATIC);
		int rc = sqlite3_step(u);
		sqlite3_finalize(u);
		if (rc != SQLITE_DONE)
			return db_fail(db, rc, sqlite3_errmsg(db), err);
	}
	sqlite3_stmt *u =
		store_prepare(db, "UPDATE columns SET role = ? WHERE dataset = ? AND name = ?", err);
	if (!u)
		return err ? err->status : EX_SOFTWARE;
	sqlite3_bind_text(u, 1, store_role_name(role), -1, SQLITE_STATIC);
	sqlite3_bind_text(u, 2, dataset, -1, SQLITE_STATIC);
	sqlite3_bind_text(u, 3, column, -1, SQLITE_STATIC);
	int rc = sqlite3_step(u);
	sqlite3_finalize(u);
	if (rc != SQLITE_DONE)
		s2 = lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
	return s2;
}

/* ---- frames ---- */

void store_column_copy(store_column *dst, const store_column *src)
{
	*dst = *src;
	dst->name = xstrdup(src->name);
	dst->label = src->label ? xstrdup(src->label) : NULL;
	dst->unit = src->unit ? xstrdup(src->unit) : NULL;
	dst->vl = src->nvl ? xcalloc((size_t)src->nvl, sizeof *dst->vl) : NULL;
	for (int j = 0; j < src->nvl; j++) {
		dst->vl[j].code = xstrdup(src->vl[j].code);
		dst->vl[j].num = src->vl[j].num;
		dst->vl[j].text = xstrdup(src->vl[j].text);
	}
	dst->cats = src->ncat ? xcalloc((size_t)src->ncat, sizeof *dst->cats) : NULL;
	dst->cat_n = src->ncat ? xcalloc((size_t)src->ncat, sizeof *dst->cat_n) : NULL;
	for (int j = 0; j < src->ncat; j++) {
		dst->cats[j] = xstrdup(src->cats[j]);
		dst->cat_n[j] = src->cat_n[j];
	}
}

/* Category lookup for text cells: a small open-addressing hash from label to index. */
typedef struct cat_map {
	size_t cap;
	int *slot; /* -1 empty, else category index */
	store_column *c;
} cat_map;

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void cat_map_init(cat_map *m, store_column *c)
{
	m->c = c;
	m->cap = 16;
	while (m->cap < (size_t)c->ncat * 2)
		m->cap *= 2;
	m->slot = xmallocarray(m->cap, sizeof *m->slot);
	for (size_t i = 0; i < m->cap; i++)
		m->slot[i] = -1;
	for (int j = 0; j < c->ncat; j++) {
		size_t h = str_hash(c->cats[j]) & (m->cap - 1);
		while (m->slot[h] >= 0)
			h = (h + 1) & (m->cap - 1);
		m->slot[h] = j;
	}
}

static int cat_map_get(const cat_map *m, const char *s)
{
	size_t h = str_hash(s) & (m->cap - 1);
	while (m->slot[h] >= 0) {
		if (!strcmp(m->c->cats[m->slot[h]], s))
			return m->slot[h];
		h = (h + 1) & (m->cap - 1);
	}
	return -1;
}

int frame_load(sqlite3 *db, const char *dataset, const char *const *names, int nnames,
	       frame *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	if (strcmp(dataset, "patients") && strcmp(dataset, "visits"))
		return lm_seterr(err, EX_SOFTWARE, "unknown dataset '%s'", dataset);
	if (!store_has_table(db, dataset))
		return lm_seterr(err, EX_DATAERR, "the workbench file has no %s", dataset);
	store_columns all;
	int st = store_columns_load(db, dataset, &all, err);
	if (st)
		return st;
	int n = names ? nnames : all.n;
	out->cols.c = xcalloc((size_t)(n ? n : 1), sizeof *out->cols.c);
	for (int i = 0; i < n; i++) {
		int k = names ? store_columns_find(&all, names[i]) : i;
		if (k < 0) {
			lm_seterr(err, EX_DATAERR, "no column '%s' in %s", names[i], dataset);
			store_columns_free(&all);
			frame_free(out);
			return EX_DATAERR;
		}
		store_column_copy(&out->cols.c[i], &all.c[k]);
		out->cols.n++;
	}
	store_columns_free(&all);
	out->ncol = n;

	sqlite3_stmt *cnt = NULL;
	char *q = sqlite3_mprintf("SELECT count(*) FROM \"%w\"", dataset);
	cnt = store_prepare(db, q, err);
	sqlite3_free(q);
	if (!cnt) {
		frame_free(out);
		return err ? err->status : EX_SOFTWARE;
	}
	out->nrow = sqlite3_step(cnt) == SQLITE_ROW ? (long)sqlite3_column_int64(cnt, 0) : 0;
	sqlite3_finalize(cnt);

	lm_buf sql = {0};
	buf_puts(&sql, !strcmp(dataset, "visits") ? "SELECT \"__patient\"" : "SELECT rowid");
	for (int i = 0; i < n; i++) {
		char *id = sqlite3_mprintf(", \"%w\"", out->cols.c[i].name);
		buf_puts(&sql, id);
		sqlite3_free(id);
	}
	char *from = sqlite3_mprintf(" FROM \"%w\" ORDER BY rowid", dataset);
	buf_puts(&sql, from);
	sqlite3_free(from);
	sqlite3_stmt *sel = store_prepare(db, sql.data, err);
	buf_free(&sql);
	if (!sel) {
		frame_free(out);
		return err ? err->status : EX_SOFTWARE;
	}

	size_t nr = (size_t)out->nrow;
	out->rowid = xmallocarray(nr ? nr : 1, sizeof *out->rowid);
	out->col = xcalloc((size_t)(n ? n : 1), sizeof *out->col);
	cat_map *maps = xcalloc((size_t)(n ? n : 1), sizeof *maps);
	for (int i = 0; i < n; i++) {
		store_column *c = &out->cols.c[i];
		out->col[i].meta = c;
		out->col[i].v = xmallocarray(nr ? nr : 1, sizeof(double));
		if (c->type == COL_TYPE_TEXT) {
			if (c->ncat > 0 && c->ncat <= FRAME_MAX_CATS && c->ncat >= c->distinct)
				cat_map_init(&maps[i], c);
			else
				out->col[i].str = xcalloc(nr ? nr : 1, sizeof(char *));
		}
	}
	/* what a crafted file could hold that the commands index or compute with: patient
	 * rowids outside 1..rows (visits: a __patient no patient has), text or non-finite numbers
	 * in numeric columns */
	long long maxid = out->nrow;
	if (!strcmp(dataset, "visits")) {
		sqlite3_stmt *mx = store_prepare(db, "SELECT max(rowid) FROM patients", NULL);
		maxid = mx && sqlite3_step(mx) == SQLITE_ROW ? sqlite3_column_int64(mx, 0) : 0;
		sqlite3_finalize(mx);
	}
	long r = 0;
	int rc, bad = 0;
	while (!bad && (rc = sqlite3_step(sel)) == SQLITE_ROW && r < out->nrow) {
		long long id = sqlite3_column_int64(sel, 0);
		if (sqlite3_column_type(sel, 0) != SQLITE_INTEGER || id < 1 || id > maxid ||
		    (!strcmp(dataset, "patients") && r > 0 && id <= out->rowid[r - 1])) {
			bad = lm_seterr(err, EX_DATAERR, "%s: %s %lld is out of range (1..%lld)",
					dataset, !strcmp(dataset, "visits") ? "__patient" : "rowid", id,
					maxid);
			break;
		}
		out->rowid[r] = (long)id;
		for (int i = 0; i < n; i++) {
			double *v = &out->col[i].v[r];
			int t = sqlite3_column_type(sel, i + 1);
			if (t == SQLITE_NULL) {
				*v = NAN;
			} else if (out->cols.c[i].type != COL_TYPE_TEXT) {
				*v = sqlite3_column_double(sel, i + 1);
				if ((t != SQLITE_INTEGER && t != SQLITE_FLOAT) || !isfinite(*v)) {
					bad = lm_seterr(err, EX_DATAERR, "%s rowid %lld, column '%s': '%s' "
							"is not a finite number", dataset, id,
							out->cols.c[i].name,
							t == SQLITE_BLOB ? "(blob)" : (const char *)
								sqlite3_column_text(sel, i + 1));
					break;
				}
			} else if (maps[i].slot) {
				int k = cat_map_get(&maps[i], (const char *)sqlite3_column_text(sel, i + 1));
				*v = k < 0 ? (double)NAN : (double)k;
			} else {
				*v = NAN;
				out->col[i].str[r] = xstrdup((const char *)sqlite3_column_text(sel, i + 1));
			}
		}
		r++;
	}
	sqlite3_finalize(sel);
	for (int i = 0; i < n; i++)
		free(maps[i].slot);
	free(maps);
	if (bad) {
		frame_free(out);
		return bad;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		frame_free(out);
		return db_fail(db, rc, sqlite3_errmsg(db), err);
	}
	out->nrow = r;
	return 0;
}

void frame_free(frame *f)
{
	if (f->col)
		for (int i = 0; i < f->ncol; i++) {
			free(f->col[i].v);
			if (f->col[i].str) {
				for (long r = 0; r < f->nrow; r++)
					free(f->col[i].str[r]);
				free(f->col[i].str);
			}
		}
	free(f->col);
	free(f->rowid);
	venc_visits_free(f->visits);
	store_columns_free(&f->cols);
	memset(f, 0, sizeof *f);
}

int frame_find(const frame *f, const char *name) { return store_columns_find(&f->cols, name); }

const char *frame_cell_text(const frame *f, int col, long row, char *buf, size_t len)
{
	const frame_col *c = &f->col[col];
	double v = c->v[row];
	if (c->str) {
		snprintf(buf, len, "%s", c->str[row] ? c->str[row] : "");
	} else if (isnan(v)) {
		buf[0] = 0;
	} else if (c->meta->type == COL_TYPE_TEXT) {
		int k = (int)v;
		snprintf(buf, len, "%s", k >= 0 && k < c->meta->ncat ? c->meta->cats[k] : "");
	} else {
		snprintf(buf, len, "%.15g", v);
	}
	return buf;
}

int store_log_access(sqlite3 *db, const char *action, long patient, const char *detail,
		     lm_err *err)
{
	sqlite3_stmt *st = store_prepare(
		db, "INSERT INTO access_log(time, user, action, patient, detail) VALUES(?, ?, ?, ?, ?)",
		err);
	if (!st)
		return err ? err->status : EX_SOFTWARE;
	char now[32];
	lm_now_iso(now);
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, lm_user(), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	if (patient > 0)
		sqlite3_bind_int64(st, 4, patient);
	else
		sqlite3_bind_null(st, 4);
	if (detail)
		sqlite3_bind_text(st, 5, detail, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 5);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, rc, sqlite3_errmsg(db), err);
	return 0;
}
