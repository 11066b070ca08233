/* coxmodel.h: Cox proportional-hazards models as stored models (model.h).
 *
 * A Cox model is a stored model with arch "cox", task "survival", classes {"censored",
 * "event"}, target the event column (positive: the event value, or NULL for a 0/1 column).
 * Its members (final and one per fold) are logreg networks whose "w" tensor holds the
 * coefficients on the standardised inputs and "b" is 0, so the network's logit is the linear
 * predictor (log relative hazard): integrated gradients on it are exact and complete. Each
 * member also has its baseline cumulative hazard (at inputs 0, i.e. the member's training
 * means for numeric inputs) as two more tensors "cox.time" and "cox.cumhaz" [nbase], so that
 *   S(t | x) = exp(-H0(t) exp(lp(x))).
 * The time and event columns, the ties, the evaluation times and the horizon are in the
 * model's hyper JSON ("time", "event", "event_value", "ties", "times", "horizon"); the
 * coefficient table and the evaluation are in its metrics JSON (key "cox"; see lumen-file.5). */
#ifndef LUMEN_COXMODEL_H
#define LUMEN_COXMODEL_H

#include <stdio.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "model.h"

/* 1 when m is a Cox model: task "survival", linear (arch cox) or neural (an mlp or
 * transformer trained on the partial likelihood, coxnet.h; same storage, no coefficient
 * table, metrics key "neural_cox"). */
int coxm_is_cox(const model *m);

/* A logreg network over nslot inputs with weights beta (doubles, stored as float32), bias 0,
 * and l2 recorded in its spec. NULL with err on failure. Free with nn_free. */
nn_model *coxm_net(int nslot, const double *beta, double l2, lm_err *err);

/* Writes member's baseline hazard (nbase steps) inside the caller's transaction. */
int coxm_baseline_save(sqlite3 *db, long model_id, int member, const double *btime,
		       const double *bhaz, long nbase, lm_err *err);

/* A member's baseline, read back (member -1: the final model). */
typedef struct coxm_baseline {
	long n;
	double *time, *cumhaz;
} coxm_baseline;
/* 0, or EX_DATAERR when the member has no baseline or a malformed one. Free with
 * coxm_baseline_free. */
int coxm_baseline_load(sqlite3 *db, long model_id, int member, coxm_baseline *b, lm_err *err);
void coxm_baseline_free(coxm_baseline *b);
/* S(t | lp) from a loaded baseline. */
double coxm_surv(const coxm_baseline *b, double t, double lp);

/* The time and event column names of a Cox model from its hyper JSON (pointers into m's
 * strings are not kept: the caller frees the returned malloc'd strings); event_value may be
 * set to NULL (a 0/1 column). 0 or EX_DATAERR. */
int coxm_columns(const model *m, char **time_col, char **event_col, char **event_value,
		 lm_err *err);

/* Prints the coefficient table, the likelihood-ratio test and the concordance stored in a
 * Cox model's metrics JSON, indented, for `lumen models`. Prints nothing for other models. */
void coxm_print_summary(FILE *out, const cJSON *metrics);

#endif
