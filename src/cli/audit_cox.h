/* audit_cox.h: the survival part of `lumen audit` for a survival model (audit_cox.c). */
#ifndef LUMEN_AUDIT_COX_H
#define LUMEN_AUDIT_COX_H

#include <cjson/cJSON.h>

#include "../data/store.h"

/* Per group (grp[r] in 0..G-1 for frame row r of f, -1 left out): patients, events, Harrell's
 * C of the out-of-fold linear predictors, and calibration at the model's horizon (mean
 * out-of-fold risk against the Kaplan-Meier risk observed in the group). NULL when the model
 * is not a survival model (err untouched) or on an error (err set; check err->status). */
cJSON *audit_cox_json(sqlite3 *db, long model_id, const frame *f, const int *grp, int G,
		      char *const *labels, lm_err *err);
/* The same as a text table on stdout. */
void audit_cox_print(const cJSON *sv);

#endif
