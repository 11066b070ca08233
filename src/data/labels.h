/* labels.h: clinical words for columns and their values, and how a value is written on
 * screen (lbl_*). The TUI, the CLI, the reports and Lua all write values through these
 * functions, so a column reads the same everywhere.
 *
 * A column's label, unit and value labels live in the table
 *   column_labels(dataset, name, label, unit, value_labels JSON [{"code":"1","label":"..."}],
 *                 changed_at)
 * (created on the first change; a file without it has no labels) and columns.label mirrors
 * the label. store_columns_load attaches them to every store_column (lbl_attach), so every
 * frame and column list carries them. Every change is one access_log row, action 'label'. */
#ifndef LUMEN_LABELS_H
#define LUMEN_LABELS_H

#include <stddef.h>

#include "store.h"

/* Reads column_labels (when the file has it) into the columns of `dataset`: label, unit and
 * value labels; rows naming no column and unreadable JSON are ignored (a crafted file cannot
 * make a column unreadable). 0 or a status. Called by store_columns_load. */
int lbl_attach(sqlite3 *db, const char *dataset, store_columns *cols, lm_err *err);

/* The column's clinical label, or its name. Never NULL; owned by c. */
const char *lbl_name(const store_column *c);
/* "Prothrombin time (s)": the label and the unit in parentheses, into buf. Returns buf. */
const char *lbl_name_unit(const store_column *c, char *buf, size_t len);
/* The label of a value (a number, or text for a text column), or NULL when it has none.
 * Owned by c. */
const char *lbl_value(const store_column *c, double num, const char *text);
/* The label of a value written as text ("2", "Yes" for a boolean stored as 1), or NULL. */
const char *lbl_value_of_code(const store_column *c, const char *code);
/* 1 when the column's values are categories rather than quantities: text, boolean, or a
 * column with value labels (a coded treatment arm). Categories get no percentile. */
int lbl_is_category(const store_column *c);

/* A number as a clinician writes it: at most `sig` significant digits (at least the whole
 * integer part), fixed notation (never e-notation), thousands grouped with ',' from 10,000
 * ("12,259", "7395", "58.77", "0.0003"). NAN gives "missing". Into buf; returns buf. */
const char *lbl_num(double v, int sig, char *buf, size_t len);
/* A value as shown: "missing", the value's label, the text, or the number by lbl_num with
 * 4 significant digits (booleans: "yes"/"no" unless labelled). text is used for text
 * columns (a NULL text is missing). Into buf; returns buf. */
const char *lbl_text(const store_column *c, double num, const char *text, char *buf, size_t len);
/* lbl_text of one frame cell. */
const char *lbl_cell(const frame *f, int col, long row, char *buf, size_t len);

/* A group's label as the audit and survival modules write it ("sex=f,age 50-65", "trt=1")
 * in words: "Sex female, Age 50-65", "Treatment D-penicillamine". Parts of columns without
 * words, and other labels ("risk 1/3 (p<=0.19)", "all"), are kept as they are. Into buf;
 * returns buf. */
const char *lbl_group_text(const store_columns *cols, const char *group, char *buf, size_t len);

/* What a user typed for a value of column c (what-if): a value label ("placebo") becomes its
 * code; "missing" or "." becomes missing. *num receives a number (NAN when missing or text),
 * code (len bytes) the code as text. 0, or -1 when the text is not a number of a numeric
 * column. */
int lbl_input(const store_column *c, const char *in, double *num, char *code, size_t len);

/* Sets a column's label, unit and value labels and logs the change (access_log, action
 * 'label', "patients.trt: label none -> 'Treatment'"), inside the caller's transaction.
 * label/unit/values NULL leave that part as it is; "" clears it. values: "CODE=LABEL,..."
 * where every CODE must be a value the column holds (a number for a numeric column).
 * where: the place errors are reported at ("pbc.lumen", or "labels.csv:4:3"; NULL: none);
 * an error is EX_DATAERR "WHERE: no column 'x' in patients" and nothing is written. */
int lbl_set(sqlite3 *db, const char *dataset, const char *column, const char *label,
	    const char *unit, const char *values, const char *where, lm_err *err);
/* lumen import --labels FILE: a CSV with the header column,label,unit,values (unit and
 * values may be absent or empty; a column "dataset" may say patients or visits). Every row
 * goes through lbl_set, errors as "FILE:LINE:COL: reason"; one access_log row for the file.
 * Inside the caller's transaction; 0 or a status (EX_NOINPUT, EX_DATAERR). *ncolumns (may
 * be NULL) receives the number of columns labelled. */
int lbl_import_csv(sqlite3 *db, const char *path, int *ncolumns, lm_err *err);

/* The labels of a dataset as JSON: [{column, label, unit, values [{code, label}]}] for the
 * columns that have any. NULL when none. */
struct cJSON;
struct cJSON *lbl_json(const store_columns *cols);

#endif
