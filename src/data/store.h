/* store.h: the workbench file (one SQLite database) and the in-memory column frame.
 *
 * Schema (version STORE_SCHEMA_VERSION, documented in man/lumen-file.5):
 *   meta(key PRIMARY KEY, value)
 *   datasets(name PRIMARY KEY 'patients'|'visits', file, sha256, rows, columns, delimiter,
 *            imported_at)
 *   columns(dataset, position, name, type, role, missing, distinct_count, categories JSON
 *           [{"value":"f","n":374},...] or NULL, mean, sd, min, max, label)
 *   patients: the CSV's columns under their own (quoted) names; rowid = 1-based row order.
 *     Every other table refers to a patient by this rowid ("patient" columns below).
 *   visits: "__patient" INTEGER (patients.rowid) then the CSV's columns; sorted by patient, time.
 *   models(id, name UNIQUE, arch, target, positive, task 'binary'|'multiclass', classes JSON,
 *          hyper JSON, inputs JSON, seed, folds, final 'refit'|'ensemble', data_sha256,
 *          n_used, n_excluded, metrics JSON, importance JSON, version, created_at)
 *   model_inputs(model_id, slot, name, source_column, kind 'numeric'|'onehot'|'missing'|'visit',
 *                category, center, scale)
 *   model_tensors(model_id, member, name, shape, data BLOB)  member: fold 0..K-1, -1 final,
 *                 -2 the IG baselines "baseline.mean", "baseline.median" (explain/ig.h)
 *   predictions(model_id, patient, fold, y, p, p_sd, logit, probs BLOB)
 *   attributions(model_id, method, patient, slots BLOB float32, columns BLOB float32, logit,
 *                baseline_logit, delta, steps, baseline, agreement)
 *   audits(id, model_id, created_at, params JSON, result JSON)
 *   reports(id, script, args, output, created_at, sha256)
 *   access_log(id, time, user, action, patient, detail)
 *   column_labels(dataset, name, label, unit, value_labels JSON, changed_at) (labels.h; absent
 *                 in a file that was never labelled)
 * Values: integer and boolean columns are stored as SQLite integers (boolean 0/1), real as
 * REAL, text as TEXT; a missing value is NULL. */
#ifndef LUMEN_STORE_H
#define LUMEN_STORE_H

#include <sqlite3.h>

#include "../util.h"

#define STORE_SCHEMA_VERSION 1

typedef enum { COL_TYPE_INTEGER, COL_TYPE_REAL, COL_TYPE_BOOLEAN, COL_TYPE_TEXT } col_type;
typedef enum {
	COL_ROLE_ID, COL_ROLE_FEATURE, COL_ROLE_TARGET, COL_ROLE_GROUP, COL_ROLE_TIME, COL_ROLE_EVENT, COL_ROLE_TREATMENT,
	COL_ROLE_IGNORE
} col_role;

/* Names <-> enums ("integer", "real", "boolean", "text"; "id", "feature", ...).
 * The parse functions return -1 for an unknown name. */
const char *store_type_name(col_type t);
int store_type_parse(const char *s);
const char *store_role_name(col_role r);
int store_role_parse(const char *s);

/* Opens an existing workbench file (EX_NOINPUT if absent, EX_DATAERR if not a lumen file or
 * of a newer schema). readonly uses SQLITE_OPEN_READONLY. Close with store_close. */
sqlite3 *store_open(const char *path, int readonly, lm_err *err);
/* Creates the schema (all tables above except patients and visits) and the meta rows in an
 * empty database, inside the caller's transaction. */
int store_init_schema(sqlite3 *db, lm_err *err);
void store_close(sqlite3 *db);

/* Runs SQL with no result rows; 0 or EX_SOFTWARE/EX_IOERR with sqlite3_errmsg in err. */
int store_exec(sqlite3 *db, const char *sql, lm_err *err);
/* Prepares or fails with the SQL error in err (NULL). */
sqlite3_stmt *store_prepare(sqlite3 *db, const char *sql, lm_err *err);
/* Maps a SQLite result code to a sysexits status (I/O and full disk -> EX_IOERR,
 * corrupt/notadb -> EX_DATAERR, the rest EX_SOFTWARE). */
int store_status(int rc);

/* meta table. store_meta_get returns a malloc'd string or NULL when absent. */
char *store_meta_get(sqlite3 *db, const char *key);
int store_meta_set(sqlite3 *db, const char *key, const char *value, lm_err *err);

/* Whether a table exists (1/0). */
int store_has_table(sqlite3 *db, const char *table);

/* Column metadata as stored in `columns`. Strings are owned by the array. */
typedef struct store_column {
	char *name;
	col_type type;
	col_role role;
	int position;
	long missing, distinct;
	double mean, sd, min, max; /* NAN when not numeric or no values */
	int ncat;                  /* categories (text and boolean columns), most frequent first */
	char **cats;
	long *cat_n;
	char *label; /* clinical label, NULL when none */
	char *unit;  /* unit ("mg/dl"), NULL when none (labels.h) */
	int nvl;     /* value labels, in the order given (labels.h) */
	struct store_vlabel *vl;
} store_column;

/* One value label: the code as stored (num for a numeric column, NAN for text) and its words. */
typedef struct store_vlabel {
	char *code;
	double num;
	char *text;
} store_vlabel;

typedef struct store_columns {
	int n;
	store_column *c;
} store_columns;

/* Reads the columns of a dataset ("patients" or "visits") in position order. 0 or status. */
int store_columns_load(sqlite3 *db, const char *dataset, store_columns *out, lm_err *err);
void store_columns_free(store_columns *cols);
/* Deep copy of one column's metadata (free the copy with store_column_free). */
void store_column_copy(store_column *dst, const store_column *src);
void store_column_free(store_column *c);
/* Index of the column with this name, or -1. */
int store_columns_find(const store_columns *cols, const char *name);
/* Index of the first column with this role, or -1 (e.g. the id column). */
int store_columns_role(const store_columns *cols, col_role role);

/* Changes one column's role (lumen role). EX_DATAERR when the column is unknown or the role
 * invalid for its type (an id must be unique and complete). */
int store_set_role(sqlite3 *db, const char *dataset, const char *column, col_role role,
		   lm_err *err);

/* A column frame: the table in memory, column-major, one double per cell.
 * Numeric and boolean cells hold their value; text cells hold the index of their category in
 * store_column.cats (so categories are compared as numbers); a missing cell is NAN.
 * Text columns with more than FRAME_MAX_CATS distinct values (free text) keep their strings
 * in str (NULL for missing) and v is NAN. rowid[i] is the patients rowid of row i
 * (for visits: the patient's rowid in __patient, and time is a normal column). */
#define FRAME_MAX_CATS 1000

typedef struct frame_col {
	store_column *meta; /* points into frame.cols */
	double *v;          /* nrow values */
	char **str;         /* only for free-text columns, else NULL */
} frame_col;

typedef struct frame {
	long nrow;
	int ncol;
	store_columns cols; /* the metadata of the loaded columns, in load order */
	frame_col *col;
	long *rowid;
	struct venc_visits *visits; /* NULL, or attached by venc_attach; frame_free frees it */
} frame;

/* Loads a dataset into memory. names == NULL loads every column; otherwise only the listed
 * columns, in that order (EX_DATAERR naming the first unknown column).
 * 0 or a status; free with frame_free. */
int frame_load(sqlite3 *db, const char *dataset, const char *const *names, int nnames,
	       frame *out, lm_err *err);
void frame_free(frame *f);
/* Index of a column in the frame, or -1. */
int frame_find(const frame *f, const char *name);
/* Text of a cell for display into buf (category label, number as written by %.15g, "" when
 * missing). Returns buf. */
const char *frame_cell_text(const frame *f, int col, long row, char *buf, size_t len);

/* Appends a row to access_log (user from lm_user()). patient may be 0 for none. */
int store_log_access(sqlite3 *db, const char *action, long patient, const char *detail,
		     lm_err *err);

#endif
