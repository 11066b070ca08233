/* importance.h: global importance from per-patient column attributions, rank agreement.
 *
 * Global importance of a column = mean |attribution| over the chosen patients (how much it
 * moves predictions, whatever the direction) and the signed mean (whether it mostly raises or
 * lowers them). Stored with the model in models.importance as JSON:
 *   {"ig": {"patients": N, "baseline": "mean", "columns": [
 *            {"column": "bili", "mean_abs": 0.41, "mean": 0.12}, ...]}, "rollout": {...}}
 * with columns sorted by mean_abs, largest first. */
#ifndef LUMEN_IMPORTANCE_H
#define LUMEN_IMPORTANCE_H

#include <sqlite3.h>

#include "../src/data/encoder.h"

/* Spearman rank correlation of a and b (n values; ties get their average rank).
 * NAN when n < 2 or either side is constant. */
double imp_spearman(const float *a, const float *b, int n);
/* Same, of |a| against b (used for rollout against |IG|). */
double imp_spearman_abs(const float *a, const float *b, int n);

/* Mean |value| and mean value per column over the rows of cols (n * ncol) whose mask is
 * non-zero (mask NULL: all rows). Writes mean_abs[ncol] and mean_signed[ncol]; returns the
 * number of rows used. */
long imp_global(const float *cols, long n, int ncol, const unsigned char *mask, double *mean_abs,
		double *mean_signed);

/* Appends one method's JSON object (the value of "ig" or "rollout" above) to b. */
void imp_json(lm_buf *b, const enc_spec *spec, const double *mean_abs,
	      const double *mean_signed, long npatients, const char *baseline);

/* Merges {"METHOD": OBJECT} into models.importance of model_id (other methods kept).
 * Inside the caller's transaction. 0 or a status. */
int imp_store(sqlite3 *db, long model_id, const char *method, const char *object_json,
	      lm_err *err);

#endif
