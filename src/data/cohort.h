/* cohort.h: from the workbench frame to a float32 model matrix.
 *
 * A cohort_spec names every input slot of a model and how to fill it from a patient's raw
 * values: numeric columns are standardised ((x - center) / scale, statistics of the training
 * rows only); a text (categorical) column becomes one one-hot slot per category seen in
 * training ("sex=f"), an unseen category encoding as all zeros; a column with missing values
 * in the training rows gets a missing-indicator slot ("bili:missing") and its value slot is
 * imputed with the training mean (0 after standardising). Booleans are numeric 0/1 slots.
 * Slots of one source column are contiguous, and `token` numbers the source columns, which
 * is also the transformer's token and the column that attributions are summed back to. */
#ifndef LUMEN_COHORT_H
#define LUMEN_COHORT_H

#include "store.h"

typedef enum { SLOT_NUMERIC, SLOT_ONEHOT, SLOT_MISSING } slot_kind;

typedef struct cohort_slot {
	char *name;     /* "alb", "sex=f", "bili:missing" */
	char *column;   /* source column name */
	slot_kind kind;
	char *category; /* SLOT_ONEHOT: the category label, else NULL */
	double center, scale; /* SLOT_NUMERIC: standardisation; else 0 and 1
			       * (scale 0: slot always 0, see cohort_spec_refit) */
	int token;      /* index of the source column in spec.columns */
} cohort_slot;

typedef struct cohort_spec {
	int nslot;
	cohort_slot *slot;
	int ncolumn;    /* source columns, in slot order */
	char **columns;
	col_type *column_type;
} cohort_spec;

/* Builds a spec for the named feature columns of frame f, with statistics from the given
 * training rows (indices into the frame). 0 or EX_DATAERR (e.g. a feature with no values). */
int cohort_spec_fit(const frame *f, const char *const *features, int nfeat, const long *rows,
		    long nrows, cohort_spec *spec, lm_err *err);
void cohort_spec_free(cohort_spec *spec);

/* Copies the slots of `layout` into out with statistics of other rows (a cross-validation
 * fold): numeric slots get these rows' mean and sd; a one-hot slot whose category, or a
 * missing-indicator slot whose column has no missing value, does not occur in these rows gets
 * scale 0 and always encodes as 0 — exactly what cohort_spec_fit on these rows would encode,
 * in the layout's slots, so fold models and the final model share one input layout. */
void cohort_spec_refit(const cohort_spec *layout, const frame *f, const long *rows, long nrows,
		       cohort_spec *out);
/* Deep copy; free with cohort_spec_free. */
void cohort_spec_copy(const cohort_spec *src, cohort_spec *dst);

/* Encodes frame rows into X (nrows * spec->nslot floats, caller's). The frame must contain
 * every spec column (looked up by name); category labels are matched by text, so a frame of
 * another file (lumen predict --input) encodes correctly. 0 or EX_DATAERR naming a missing
 * column. */
int cohort_encode(const cohort_spec *spec, const frame *f, const long *rows, long nrows,
		  float *X, lm_err *err);

/* One patient's raw values by source column (spec->columns order): a number (NAN = missing)
 * for numeric and boolean columns, a label (NULL = missing) for text columns. Used for
 * what-if and for scripts. x: spec->nslot floats. */
typedef struct cohort_value {
	double num;
	const char *text;
} cohort_value;
void cohort_encode_values(const cohort_spec *spec, const cohort_value *vals, float *x);

/* Sums slot attributions back to their source columns: out[spec->ncolumn]. */
void cohort_sum_to_columns(const cohort_spec *spec, const float *slots, float *out);

/* The target. A binary target is a 0/1 or boolean column, a two-level text column, or any
 * column with `positive` naming the level that counts as 1 ("2" for pbc's status == 2).
 * Multi-class: a text or integer column with 3 to 20 levels and no `positive`.
 * y[i] is the class index as float, NAN where the target is missing. */
typedef struct cohort_target {
	int nclass;      /* 2 for binary */
	char **classes;  /* labels; for binary {negative, positive} */
	float *y;        /* f->nrow values */
	long n_missing;
} cohort_target;
int cohort_target_make(const frame *f, const char *column, const char *positive,
		       cohort_target *t, lm_err *err);
void cohort_target_free(cohort_target *t);

/* Stratified K-fold assignment: fold[i] in 0..k-1 for rows with a target, -1 otherwise;
 * seeded. EX_DATAERR when a class has fewer rows than folds. */
int cohort_folds(const cohort_target *t, long n, int k, uint64_t seed, int *fold, lm_err *err);

#endif
