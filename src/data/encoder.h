/* encoder.h: from the workbench frame to a float32 model matrix (the model's input encoder).
 *
 * An enc_spec names every input slot of a model and how to fill it from a patient's raw
 * values: numeric columns are standardised ((x - center) / scale, statistics of the training
 * rows only); a text (categorical) column becomes one one-hot slot per category seen in
 * training ("sex=f"), an unseen category encoding as all zeros; a column with missing values
 * in the training rows gets a missing-indicator slot ("bili:missing") and its value slot is
 * imputed with the training mean (0 after standardising). Booleans are numeric 0/1 slots.
 * Slots of one source column are contiguous, and `token` numbers the source columns, which
 * is also the transformer's token and the column that attributions are summed back to. */
#ifndef LUMEN_ENCODER_H
#define LUMEN_ENCODER_H

#include "store.h"

/* SLOT_VISIT: a step feature of a sequence model's visits (visits_enc.h) */
typedef enum { SLOT_NUMERIC, SLOT_ONEHOT, SLOT_MISSING, SLOT_VISIT } slot_kind;

typedef struct enc_slot {
	char *name;     /* "alb", "sex=f", "bili:missing" */
	char *column;   /* source column name */
	slot_kind kind;
	char *category; /* SLOT_ONEHOT: the category label, else NULL */
	double center, scale; /* SLOT_NUMERIC: standardisation; else 0 and 1
			       * (scale 0: slot always 0, see enc_refit) */
	int token;      /* index of the source column in spec.columns */
} enc_slot;

typedef struct enc_spec {
	int nslot;
	enc_slot *slot;
	int ncolumn;    /* source columns, in slot order */
	char **columns;
	col_type *column_type;
} enc_spec;

/* Builds a spec for the named feature columns of frame f, with statistics from the given
 * training rows (indices into the frame). 0 or EX_DATAERR (e.g. a feature with no values). */
int enc_fit(const frame *f, const char *const *features, int nfeat, const long *rows,
		    long nrows, enc_spec *spec, lm_err *err);
void enc_free(enc_spec *spec);

/* Copies the slots of `layout` into out with statistics of other rows (a cross-validation
 * fold): numeric slots get these rows' mean and sd; a one-hot slot whose category, or a
 * missing-indicator slot whose column has no missing value, does not occur in these rows gets
 * scale 0 and always encodes as 0 — exactly what enc_fit on these rows would encode,
 * in the layout's slots, so fold models and the final model share one input layout. */
void enc_refit(const enc_spec *layout, const frame *f, const long *rows, long nrows,
		       enc_spec *out);
/* Deep copy; free with enc_free. */
void enc_copy(const enc_spec *src, enc_spec *dst);

/* Encodes frame rows into X (nrows * spec->nslot floats, caller's). The frame must contain
 * every spec column (looked up by name); category labels are matched by text, so a frame of
 * another file (lumen predict --input) encodes correctly. 0 or EX_DATAERR naming a missing
 * column. */
/* A sequence spec's visit slots come from f->visits (visits_enc.h: venc_attach). */
int enc_encode(const enc_spec *spec, const frame *f, const long *rows, long nrows,
		  float *X, lm_err *err);

/* One patient's raw values by source column (spec->columns order): a number (NAN = missing)
 * for numeric and boolean columns, a label (NULL = missing) for text columns. Used for
 * what-if and for scripts. x: spec->nslot floats. */
typedef struct enc_value {
	double num;
	const char *text;
	/* a sequence spec's visit columns ("visits.*"): the cohort's visits and the patient's
	 * rowid in them (visits NULL: an empty sequence) */
	const struct venc_visits *visits;
	long rowid;
} enc_value;
void enc_values(const enc_spec *spec, const enc_value *vals, float *x);

/* Sums slot attributions back to their source columns: out[spec->ncolumn]. */
void enc_sum_to_columns(const enc_spec *spec, const float *slots, float *out);

/* The target. A binary target is a 0/1 or boolean column, a two-level text column, or any
 * column with `positive` naming the level that counts as 1 ("2" for pbc's status == 2).
 * Multi-class: a text or integer column with 3 to 20 levels and no `positive`.
 * y[i] is the class index as float, NAN where the target is missing. */
typedef struct enc_target {
	int nclass;      /* 2 for binary */
	char **classes;  /* labels; for binary {negative, positive} */
	float *y;        /* f->nrow values */
	long n_missing;
} enc_target;
int enc_target_make(const frame *f, const char *column, const char *positive,
		       enc_target *t, lm_err *err);
void enc_target_free(enc_target *t);

/* Stratified K-fold assignment: fold[i] in 0..k-1 for rows with a target, -1 otherwise;
 * seeded. EX_DATAERR when a class has fewer rows than folds. */
int enc_folds(const enc_target *t, long n, int k, uint64_t seed, int *fold, lm_err *err);

#endif
