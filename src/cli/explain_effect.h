/* explain_effect.h: `lumen explain` for treatment-effect models (explain_effect.c). */
#ifndef LUMEN_EXPLAIN_EFFECT_H
#define LUMEN_EXPLAIN_EFFECT_H

#include "../../explain/ig.h"
#include "../nn/model.h"

/* Explains the effect of arm `arm` (a label, NULL: the first arm after the reference) for
 * one patient (patient = an id, printed) or every patient (stored as method "effect:ARM",
 * with the global importance printed). Takes ownership of *m (set to NULL). 0 or a status
 * with err. */
int explain_effect(sqlite3 *db, model **m, const ig_inputs *in, const char *patient,
		   const char *arm, const ig_opts *io, int json, int top, int quiet, lm_err *err);

#endif
