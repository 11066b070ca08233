/* import.h: CSV -> workbench file (lumen import).
 *
 * Pass 1 over each CSV (csvin) infers every column's type and gathers its statistics in
 * bounded memory; the rows go in with one prepared INSERT, all in one transaction, into a
 * temporary file next to the target that is renamed into place only when complete (mode
 * 0600). The patients' rows are inserted during pass 1 itself, under the types inferred from
 * the file's first MiB; only when the whole file ends with other types (and for the visits)
 * does pass 2 read the file again to insert them. On error nothing is left behind and the target is untouched. */
#ifndef LUMEN_IMPORT_H
#define LUMEN_IMPORT_H

#include "store.h"

typedef struct import_type_opt {
	const char *column;
	col_type type;
} import_type_opt;

typedef struct import_opts {
	const char *patients;      /* path of the patients CSV */
	const char *visits;        /* path of the visits CSV, or NULL */
	const char *out;           /* the workbench file to write */
	const char *id;            /* --id, or NULL to detect */
	int row_ids;               /* --row-ids: number the rows 1..n as the patient id */
	int no_visits_hint;        /* a caller without --visits (predict): not offered as a way out */
	const char *visits_time;   /* --visits-time, or NULL to detect */
	const char **targets, **groups, **ignores;
	int ntargets, ngroups, nignores;
	const char *time, *event, *treatment;
	const import_type_opt *types;
	int ntypes;
	const char **na; /* missing-value markers besides the empty field; NULL = the default set */
	int nna;
	int delim; /* 0 = detect */
	int force; /* replace an existing file */
	const char *labels; /* --labels: a labels CSV (labels.h) applied before the commit, or NULL */
} import_opts;

typedef struct import_result {
	long patients, visits;
	char id_column[128];      /* the patient id column (the added one under row ids) */
	int row_ids;              /* 1: the CSV had no id column (or --row-ids): rows 1..n */
	char ignored_id[128];     /* under --row-ids, an id-named column set to 'ignore', or "" */
	int patient_columns, visit_columns;
	int delim;
	int labelled;             /* columns given words by --labels */
	double seconds;
} import_result;

/* Patient ids: the --id column; else a unique, complete column with an id-like name; else
 * (or with --row-ids) the row numbers 1..n, in an integer column added to the patients
 * table (named "row" unless the CSV has one) and recorded in meta as "row_ids". A column
 * found by name whose values repeat or are missing stops the import with the ways out.
 * Uniqueness is checked on the value as stored (1 and 1.0 are the same number).
 * An id column always has the role 'id' and is never a model input.
 *
 * Runs the import. 0, or EX_DATAERR for bad input ("FILE:LINE:COL: reason"), EX_CANTCREAT
 * when the target exists and force is 0, EX_NOINPUT, EX_IOERR; err filled. */
int import_run(const import_opts *o, import_result *res, lm_err *err);

/* The type that import infers for a column holding these values (missing markers are the
 * default set). Exposed for tests. */
col_type import_infer_type(const char *const *values, int n);

/* The value a boolean column stores for s (1 for 1/y/yes/t/true, 0 for 0/n/no/f/false, any
 * case), or -1 when s is no boolean word. */
int import_bool_value(const char *s);

/* Whether s is a missing value under the default markers (empty, NA, NaN, N/A, null, "."). */
int import_is_default_na(const char *s);

/* The number in s (decimal, optional sign, fraction and exponent; no hex, inf or nan).
 * Returns 2 for an integer that fits in 64 bits, 1 for another number, 0 for not a number;
 * *v receives the value (correctly rounded). */
int import_parse_number(const char *s, size_t len, double *v, long long *iv);

#endif
