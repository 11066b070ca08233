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
} import_opts;

typedef struct import_result {
	long patients, visits;
	int patient_columns, visit_columns;
	int delim;
	double seconds;
} import_result;

/* Runs the import. 0, or EX_DATAERR for bad input ("FILE:LINE:COL: reason"), EX_CANTCREAT
 * when the target exists and force is 0, EX_NOINPUT, EX_IOERR; err filled. */
int import_run(const import_opts *o, import_result *res, lm_err *err);

/* The type that import infers for a column holding these values (missing markers are the
 * default set). Exposed for tests. */
col_type import_infer_type(const char *const *values, int n);

/* Whether s is a missing value under the default markers (empty, NA, NaN, N/A, null, "."). */
int import_is_default_na(const char *s);

/* The number in s (decimal, optional sign, fraction and exponent; no hex, inf or nan).
 * Returns 2 for an integer that fits in 64 bits, 1 for another number, 0 for not a number;
 * *v receives the value (correctly rounded). */
int import_parse_number(const char *s, size_t len, double *v, long long *iv);

#endif
