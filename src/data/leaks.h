/* leaks.h: warnings about inputs that should not be model inputs (lumen train).
 *
 * Four checks, each a warning and never a refusal (the user may know better):
 *   - an id-like input: integer or text, present and different for every patient;
 *   - one input that alone almost determines a binary target: its own AUC (the value as the
 *     score, or a category's share of positives) above LEAKS_AUC — a leak such as the cause
 *     of death;
 *   - a text input with more categories than a tenth of the patients, one-hot coded;
 *   - an input that looks like a date or a follow-up time, by its name (time, futime, days,
 *     date, follow-up, survival ...) or its values (text in the form 2020-01-31 or 31/01/2020).
 * The messages are one line each, naming the column and the reason. */
#ifndef LUMEN_LEAKS_H
#define LUMEN_LEAKS_H

#include "encoder.h"
#include "store.h"

#define LEAKS_AUC 0.98

typedef struct leaks {
	int n;
	char **msg; /* malloc'd lines, without "lumen: train: warning: " */
} leaks;

/* Checks the named input columns of f (rows with a target value only, t may be multi-class:
 * the AUC check then does not apply). Fills out; free with leaks_free. */
void leaks_check(const frame *f, const enc_target *t, const char *const *inputs, int ninput,
		 leaks *out);
void leaks_free(leaks *l);
/* Whether a column name reads like a date or a follow-up time (exposed for tests). */
int leaks_time_name(const char *name);

#endif
