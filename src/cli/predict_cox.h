/* predict_cox.h: `lumen predict` output for Cox models (predict_cox.c). */
#ifndef LUMEN_PREDICT_COX_H
#define LUMEN_PREDICT_COX_H

#include <stdio.h>

#include "../data/store.h"
#include "../nn/model.h"

/* Writes, for every row of f, the final model's linear predictor and S(t | x) at `times`
 * ("365,1825"; NULL: the model's evaluation times), and with cohort != 0 the stored
 * out-of-fold linear predictor, fold and S from the fold's baseline hazard; CSV, or one JSON
 * object {"times": [...], "patients": [...]} when json. idcol: the id column or -1 (rowid).
 * 0 or a status with err (nothing written then). */
int predict_cox_write(sqlite3 *db, model *m, const frame *f, int idcol, int cohort,
		      const char *times, int json, FILE *out, lm_err *err);

#endif
