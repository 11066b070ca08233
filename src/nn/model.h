/* model.h: models as stored in the workbench file, loaded for use by the CLI, explanations,
 * the TUI and Lua. A stored model is its enc_spec (inputs and normalisation), the trained
 * networks (one per fold, and the final one), and metadata.
 *
 * The final model answers for new patients and for what-if; the fold models give each
 * patient its out-of-fold prediction (stored in `predictions`) and, together, a spread. */
#ifndef LUMEN_MODEL_H
#define LUMEN_MODEL_H

#include <sqlite3.h>

#include "../data/encoder.h"
#include "nn.h"

typedef struct model {
	long id;
	char *name, *arch, *target, *positive, *task; /* task "binary" | "multiclass" */
	int nclass;
	char **classes;
	enc_spec spec;
	nn_model *final;    /* used for new patients and what-if */
	int nfold;
	nn_model **fold;    /* fold models (may be NULL when not stored) */
	enc_spec *fold_spec; /* nfold specs: spec's slots with each fold's training
				 * statistics (enc_refit); encode with these for fold[k] */
	char *metrics_json; /* as stored */
	char *hyper_json;
	/* a survival model (task "survival", coxmodel.h): the final member's baseline
	 * cumulative hazard and the horizon, so that model_predict's p is the risk by the
	 * horizon, 1 - exp(-H0(horizon) e^logit); surv_n 0 otherwise */
	double surv_horizon;
	long surv_n;
	double *surv_time, *surv_cumhaz;
} model;

/* Loads a model by name (EX_DATAERR "no model 'NAME'; lumen models FILE lists them").
 * Free with model_free. */
model *model_load(sqlite3 *db, const char *name, lm_err *err);
void model_free(model *m);

/* Names of the stored models, newest last; *n set. Caller frees each and the array. */
char **model_list(sqlite3 *db, int *n, lm_err *err);

/* The id of a model by name, or -1. */
long model_id(sqlite3 *db, const char *name);

/* Probability of the positive class (binary) or of class `cls` and the logit used for
 * explanations, for n encoded rows X (n * spec.nslot), with the final model. A survival
 * model's p is its risk by the horizon and its logit the log relative hazard. */
void model_predict(model *m, const float *X, int n, int cls, float *p, float *logit);

/* Saves a trained model (row, inputs, tensors of final and folds; a fold's input statistics
 * are stored as its member's "input.center" and "input.scale" tensors) inside the caller's
 * transaction; sets m->id. hyper_json (training options, may be NULL) is stored with the
 * architecture's hyper-parameters added, which model_load reads back. EX_DATAERR if the
 * name exists and !force (then the old one is replaced when force). */
int model_save(sqlite3 *db, model *m, int force, lm_err *err);

#endif
