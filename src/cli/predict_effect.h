/* predict_effect.h: `lumen predict` output for treatment-effect models (predict_effect.c). */
#ifndef LUMEN_PREDICT_EFFECT_H
#define LUMEN_PREDICT_EFFECT_H

#include <stdio.h>

#include "../data/store.h"
#include "../nn/model.h"

/* Writes, for every row of f, the risk under every arm (p_ARM) and the effect of every other
 * arm against the reference (effect_ARM, a risk difference): with cohort != 0 a patient the
 * model was trained on gets its stored out-of-fold estimates, its fold and the spread of the
 * effect across the fold models (effect_sd_ARM); every other row (and every row of a new
 * file) the final networks'. CSV, or a JSON array when json. Takes ownership of m (freed).
 * 0 or a status with err (nothing written then). */
int predict_effect_write(sqlite3 *db, model *m, const frame *f, int idcol, int cohort,
			 int json, FILE *out, lm_err *err);

#endif
