/* ops_effect.h: the operations on treatment-effect models (effmodel.h) that the CLI, the
 * TUI and Lua share: the explanation of a patient's effect, the cohort's explanations with
 * the global importance of the effect modifiers, and the benefit by group.
 *
 * What is explained, by integrated gradients from the model's mean baseline: for the
 * T-learner the difference of the arm's and the reference arm's logits (the log odds ratio
 * of the arm for this patient, IG being linear in the function: the difference of the two
 * networks' attributions along one path); for the DR-learner the effect network's output
 * (the risk difference itself). Completeness: baseline value + sum of attributions = the
 * explained value, within delta (stored and shown). A patient the model was trained on is
 * explained with the networks of the fold that held it out (its shown estimates are its
 * stored out-of-fold ones); any other patient with the final networks. */
#ifndef LUMEN_OPS_EFFECT_H
#define LUMEN_OPS_EFFECT_H

#include <sqlite3.h>

#include <cjson/cJSON.h>

#include "../../explain/ig.h"
#include "../nn/effmodel.h"

/* The arm index of a label (1..narm-1; the reference cannot be explained against itself),
 * or the first non-reference arm when label is NULL. -1 with err EX_USAGE naming the arms. */
int ops_effect_arm(const effm *e, const char *label, lm_err *err);

/* One patient's effect view. */
typedef struct ops_effect_patient {
	long rowid;
	int fold;        /* the fold model that explains it, -1: the final networks */
	int narm, arm;   /* arms (the effm's labels, borrowed) and the arm explained */
	char **arms;     /* borrowed from the effm */
	double *p, *p_sd, *effect, *effect_sd; /* narm each; p_sd/effect_sd NAN when final */
	const char *quantity; /* "log odds ratio" (T) or "risk difference" (DR): what is explained */
	double fx, fb, delta; /* explained value, its baseline value, completeness error */
	int ncol;
	char **column;   /* borrowed from the model's spec */
	double *attr;    /* ncol, summed to the source columns */
	char **value;    /* ncol, the patient's value as text ("" missing), owned */
} ops_effect_patient;

/* The view of frame row `row` of in (ig_inputs_load of e->base). o NULL: Gauss 64 with
 * auto steps. 0 or a status. Free with ops_effect_patient_free. */
int ops_effect_patient_load(sqlite3 *db, effm *e, const ig_inputs *in, long row, int arm,
			    const ig_opts *o, ops_effect_patient *out, lm_err *err);
/* What-if: the same view for raw values vals (e->base->spec.ncolumn, enc_values order: a
 * number, NAN missing, or a label) with the networks of fold `fold` (-1: the final ones), the
 * ones that explain the unedited patient; rowid is only recorded. p_sd and effect_sd are NAN
 * (no fold spread for values no fold saw); value[] holds the edited values. */
int ops_effect_patient_values(sqlite3 *db, effm *e, long rowid, int fold, const enc_value *vals,
			      int arm, const ig_opts *o, ops_effect_patient *out, lm_err *err);
void ops_effect_patient_free(ops_effect_patient *p);
cJSON *ops_effect_patient_json(const ops_effect_patient *p, const effm *e);

/* Every patient of in explained (rows NULL: all), with the importance of each column, the
 * mean |attribution|. store != 0 writes them into attributions (method "effect:ARM", in one
 * transaction, replacing the earlier ones). Free with ops_effect_explain_free. */
typedef struct ops_effect_explain {
	int arm;
	const char *quantity;
	long n;
	long *rowid;
	int *fold;
	double *effect;  /* the shown (out-of-fold or final) effect of the arm */
	double *fx, *fb, *delta;
	int ncol;
	char **column;   /* borrowed */
	double *attr;    /* n * ncol */
	double *importance; /* ncol */
	double max_delta, mean_delta;
} ops_effect_explain;
int ops_effect_explain_run(sqlite3 *db, effm *e, const ig_inputs *in, int arm,
			   const ig_opts *o, int store, ops_effect_explain *out, lm_err *err);
void ops_effect_explain_free(ops_effect_explain *r);
cJSON *ops_effect_explain_json(const ops_effect_explain *r, const effm *e);

/* The benefit by group: patients the model was trained on (stored out-of-fold effects) of
 * the arm or the reference, grouped by the values of column; per group n, the mean predicted
 * effect, and the observed effect (the arm's outcome rate - the reference's, Wald 95%
 * interval: a randomised trial's). Groups in the column's category order (numbers
 * ascending); a missing value is its own group "(missing)". */
typedef struct ops_effect_group {
	char *label;
	long n, n_arm, n_ref;
	double predicted, observed, lo, hi;
} ops_effect_group;
typedef struct ops_effect_groups {
	int arm;
	char *column;
	int ngroup;
	ops_effect_group *g;
} ops_effect_groups;
int ops_effect_groups_run(sqlite3 *db, effm *e, int arm, const char *column,
			  ops_effect_groups *out, lm_err *err);
void ops_effect_groups_free(ops_effect_groups *r);
cJSON *ops_effect_groups_json(const ops_effect_groups *r, const effm *e);

#endif
