/* audit_why.h: "why the groups differ": a model's global integrated-gradients importance per
 * patient group, and warnings when the grouping itself drives the model (issue 5, item 5).
 *
 * The CLI (`lumen audit`), the TUI's Audit screen and Lua's lumen.audit all call these
 * functions; none of them computes any of this on its own.
 *
 * Importance of an input = the mean over patients of |IG attribution| of its source column, as
 * stored by `lumen explain` in the attributions table (method 'ig', one float32 per source
 * column in the order of model_inputs' first slot per column). Only patients with a group >= 0
 * count. The top AUDIT_WHY_TOP inputs by overall importance are checked: an input that is one
 * of the grouping columns gets AUDIT_WHY_GROUP_COLUMN; one whose association with the grouping
 * (Cramér's V for a text column, the correlation ratio eta for a numeric one, audit.h) exceeds
 * AUDIT_WHY_ASSOC gets AUDIT_WHY_ASSOCIATED: a proxy for the group. */
#ifndef LUMEN_AUDIT_WHY_H
#define LUMEN_AUDIT_WHY_H

#include <cjson/cJSON.h>

#include "../data/store.h"

#define AUDIT_WHY_TOP 5
#define AUDIT_WHY_ASSOC 0.5

enum { AUDIT_WHY_NONE, AUDIT_WHY_GROUP_COLUMN, AUDIT_WHY_ASSOCIATED };

/* The one line every front end shows when the model has no stored IG attributions. */
extern const char audit_why_missing[];

typedef struct audit_why {
	int ncol, G;
	char **name;                    /* ncol source columns in slot order; owned */
	double *all;                    /* ncol: mean |attribution| over the audited patients */
	double *per;                    /* G x ncol: per group, NAN for a group with none */
	long used;                      /* patients whose attributions were averaged; 0 = none */
	int ntop;                       /* min(AUDIT_WHY_TOP, ncol) when used > 0, else 0 */
	int top[AUDIT_WHY_TOP];         /* column indices, most important first */
	double assoc[AUDIT_WHY_TOP];    /* association of top[k] with the grouping (1 for a group
					 * column), NAN when undefined or not computed */
	int warn[AUDIT_WHY_TOP];        /* AUDIT_WHY_NONE / _GROUP_COLUMN / _ASSOCIATED */
} audit_why;

#define AUDIT_WHY_PER(w, g, j) ((w)->per[(size_t)(g) * (size_t)(w)->ncol + (size_t)(j)])

/* Computes the importance of model model_id over the caller's nrow patients: rowid[r] is
 * patient r's patients.rowid and group[r] its group 0..G-1, or -1 to leave it out. by is the
 * grouping spec ("sex" or "sex,stage": its columns are the group columns). Returns 0 and
 * fills w (w->used == 0 when the model has no IG attributions for these patients: show
 * audit_why_missing), or a status with err filled on an SQL error. Free with audit_why_free,
 * also after an error. */
int audit_why_compute(sqlite3 *db, long model_id, const long *rowid, const int *group, long nrow,
		      int G, const char *by, audit_why *w, lm_err *err);
void audit_why_free(audit_why *w);

/* Writes the warning about top input k (w->warn[k] != AUDIT_WHY_NONE) into buf, one line
 * without a trailing newline, the same wording in every front end:
 *   "bili, a grouping column, is input #1 of the model" or
 *   "edema (input #3) is associated with the grouping (0.62 > 0.5): a proxy for it".
 * Returns buf. */
const char *audit_why_warning(const audit_why *w, int k, char *buf, size_t len);

/* Index of the input most important within group g (largest per-group mean), or -1. */
int audit_why_group_top(const audit_why *w, int g);

/* The result as JSON (`lumen audit --json`'s "importance"): patients, inputs (every column in
 * slot order with "all" and per-group means keyed by label), warnings (column, rank, reason
 * "group column" or "associated", association). A new object the caller deletes. */
cJSON *audit_why_json(const audit_why *w, char *const *label);

/* Fills order (ncol entries) with the column indices by decreasing mean |attribution|,
 * overall for g = -1, else within group g (NAN last); ties keep slot order. */
void audit_why_rank(const audit_why *w, int g, int *order);

/* The ranked form Lua's lumen.audit returns as `why` (lumen-lua(7)): patients; message
 * (audit_why_missing) when there are none; inputs (most important first: column, rank, all,
 * groups keyed by label); per_group (in group order: group, top, inputs ranked within the
 * group as {column, value}); warnings (column, rank, reason, association, message as
 * audit_why_warning). A new object the caller deletes. */
cJSON *audit_why_ranked_json(const audit_why *w, char *const *label);

#endif
