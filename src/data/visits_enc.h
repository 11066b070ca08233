/* visits_enc.h: the visit-sequence part of a model's input encoder (enc_spec), for the
 * sequence models gru, cnn and cnn-gru.
 *
 * A sequence model's row is its static slots (encoder.h) followed by K steps of F features,
 * all in the spec as slots of kind SLOT_VISIT (stored in model_inputs with kind 'visit'):
 *   step layout     the patient's LAST K visits in time order, right-aligned: step K-1 is the
 *                   latest visit, a patient with v < K visits has K - v padded steps in front
 *                   (all zero, present 0); older visits than the last K are dropped.
 *   per step        for every lab L (a numeric visits column of role feature): "L[-k]" the
 *                   value standardised with the training patients' visits (0 when missing)
 *                   and "L:missing[-k]" (1 when missing); then "dt_prev[-k]" (time since the
 *                   previous visit, 0 for the first) and "dt_first[-k]" (time since the
 *                   patient's first visit, also when that one was dropped), both divided by
 *                   their sd over the training visits; and "visit[-k]", the present flag.
 *                   k = 1 is the latest visit. The slot's category says which it is
 *                   ("value", "missing", "dt_prev", "dt_first", "present").
 *   columns         the visit slots of lab L belong to spec column "visits.L"; the time slots
 *                   to "visits.dt_prev", "visits.dt_first", "visits.present": attributions
 *                   summed to columns are a lab's over all visits (the global view).
 *                   These columns come after every patients column.
 * Visits are read in the visits table's order (sorted by patient and time at import); two
 * visits at the same time stay two steps (dt_prev 0), in file order. A patient with no
 * visits has an empty sequence (every step padded). A lab with no value in the training
 * patients' visits is left out (venc_fit says so in its warning). */
#ifndef LUMEN_VISITS_ENC_H
#define LUMEN_VISITS_ENC_H

#include "encoder.h"
#include "store.h"

/* The visits of a workbench file, grouped by patient rowid. */
typedef struct venc_visits {
	int nlab;
	char **lab;      /* numeric feature columns of the visits table */
	char *time_col;
	long nvisit;
	double *time;    /* nvisit */
	double *val;     /* nvisit x nlab, NAN = missing */
	long maxrow;     /* patients rowids 1..maxrow */
	long *start;     /* maxrow + 2: visits of rowid r are start[r] .. start[r+1]-1 */
} venc_visits;

/* Loads the visits table of db (EX_DATAERR when there is none: "the model reads visits and
 * FILE has none; import with --visits") and attaches it to f (f->visits, freed by
 * frame_free). 0 or a status with err. */
int venc_attach(sqlite3 *db, frame *f, lm_err *err);
void venc_visits_free(venc_visits *v);

/* Geometry of a spec: S static slots, K steps, F features a step (K = F = 0 and S = nslot
 * for a static spec). Returns 1 for a sequence spec, 0 otherwise. */
int venc_geometry(const enc_spec *spec, int *S, int *K, int *F);
/* The number of spec columns that are patients columns (the rest are "visits." columns). */
int venc_static_columns(const enc_spec *spec);

/* Appends the visit slots and columns for K steps to spec, with statistics from the visits
 * of the training rows of f (f->visits must be attached). warn (may be NULL) gets a
 * malloc'd note of labs left out (NULL when none). 0 or EX_DATAERR (no lab at all). */
int venc_fit(enc_spec *spec, const frame *f, const long *rows, long nrows, int K,
	     char **warn, lm_err *err);
/* enc_refit's part for the visit slots: their statistics from these rows' visits. */
void venc_refit(enc_spec *spec, const frame *f, const long *rows, long nrows);
/* Writes the visit slots of rows into X (nrows x spec->nslot); the static slots are not
 * touched. EX_DATAERR when f has no visits attached or lacks a lab. */
int venc_encode(const enc_spec *spec, const frame *f, const long *rows, long nrows, float *X,
		lm_err *err);

/* One patient's visit slots into x (a row of spec->nslot floats) from the cohort's visits
 * (NULL: an empty sequence) and the patient's rowid; enc_values calls it. */
void venc_values(const enc_spec *spec, const venc_visits *v, long rowid, float *x);

#endif
