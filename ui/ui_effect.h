/* ui_effect.h: the TUI's views of a treatment-effect model (lumen train --effect), drawn from
 * src/ops/ops_effect.c: on the Patient screen the risk under every arm with its spread, the
 * expected benefit and its reasons (b cycles the arms); on the Cohort screen the order by
 * predicted benefit (B). */
#ifndef LUMEN_UI_EFFECT_H
#define LUMEN_UI_EFFECT_H

#include "ui_impl.h"

/* 1 when the app's current model is an effect model and the Patient screen shows its effect
 * view (the default for such a model; b toggles through the arms and back to the risk). */
int ui_effect_shown(ui_app *a);
/* Draws the effect view of a->patient from row y0; with edited values (the patient view's
 * what-if, spec column order) those values through the networks of fold `fold` (-1 final). */
struct enc_value;
void ui_effect_draw(ui_app *a, int y0, const struct enc_value *edited, int fold);
/* Patient screen key b: the next arm, then the reference-risk factors, then the first arm. */
void ui_effect_key_arm(ui_app *a);
/* Cohort screen key B: the current order by predicted benefit of the first arm after the
 * reference (out of fold), highest first; a status message when the model is not an effect
 * model. */
void ui_effect_sort_benefit(ui_app *a);
/* Audit screen key e: the benefit by group instead of the fairness table (again: back). */
void ui_effect_audit_key(ui_app *a);
/* 1 when the Audit screen shows the benefit by group. */
int ui_effect_audit_shown(ui_app *a);
/* Draws, from row y0, the benefit of every arm by the first column of spec (the audit's
 * grouping "sex,stage; age=50,65": "sex"), as lumen audit prints it. */
void ui_effect_audit_draw(ui_app *a, int y0, const char *spec);
/* Frees the cached model and view (at exit). */
void ui_effect_release(void);

#endif
