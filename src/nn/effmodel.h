/* effmodel.h: treatment-effect models as stored models (model.h), trained by
 * `lumen train --effect COL` (src/cli/train_effect.c).
 *
 * An effect model is a stored model with task "effect": the arch of its networks, target the
 * binary outcome, classes the outcome's two levels. Its hyper JSON holds "effect":
 * {"column", "arms" (labels, the reference first), "reference", "learner" ("t" or "dr")}.
 * Its networks, each with a member per fold and a final one, are numbered `net`:
 *   0 .. A-1   the outcome model of each arm (risk of the outcome under that arm): a binary
 *              network of the model's arch; net 0 is the reference arm and is stored as an
 *              ordinary model's members, so that model_load gives the reference arm's
 *              outcome model (the risk every other front end shows and explains);
 *   A          (DR) the propensity model: multinomial logreg over the arms (binary for two);
 *   A+1 .. 2A-1 (DR) the effect model of arm 1 .. A-1 against the reference: a regression
 *              network (one output, the risk difference itself) of the model's arch.
 * Member of net j, fold k (k = -1: the final network): effm_member(j, k).
 * Every member of every net uses the model's input layout; fold k's input statistics are
 * net 0's (model.h fold_spec). The per-patient out-of-fold estimates are in table `effects`
 * (created by effm_effects_table), one row per patient and arm. */
#ifndef LUMEN_EFFMODEL_H
#define LUMEN_EFFMODEL_H

#include <stdio.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "model.h"

enum { EFFM_T, EFFM_DR };

typedef struct effm {
	model *base;     /* owned: model_load's model (net 0 = reference arm) */
	char *column;    /* the treatment column */
	int narm;
	char **arm;      /* narm labels, the reference first */
	int learner;     /* EFFM_T or EFFM_DR */
	int nfold;       /* base->nfold */
	/* [net][k], k = 0..nfold-1 the folds, k = nfold the final network; NULL where absent */
	nn_model ***net;
	int nnet;        /* A (T) or 2A (DR) */
} effm;

/* 1 when m is an effect model (task "effect"). */
int effm_is_effect(const model *m);
/* The member number of net j, fold k (-1: final). */
int effm_member(int net, int k);

/* Loads an effect model by name with every network. NULL with err (EX_DATAERR for a model
 * that is not an effect model or is damaged). Free with effm_free (which frees base). */
effm *effm_load(sqlite3 *db, const char *name, lm_err *err);
/* The same from a loaded model, taking ownership of m (freed on failure too). */
effm *effm_from_model(sqlite3 *db, model *m, lm_err *err);
void effm_free(effm *e);

/* Risk under every arm for n rows X encoded with the member's input statistics (fold k:
 * base->fold_spec[k]; k = -1 final: base->spec): p[n * narm], logit[n * narm] (may be NULL).
 * The effect of every arm against the reference, eff[n * narm] (0 for the reference):
 * T-learner p_a - p_ref; DR-learner the effect network's output. eff may be NULL. */
void effm_predict(effm *e, int k, const float *X, long n, double *p, float *logit,
		  double *eff);
/* The effect network of arm a (a >= 1) at fold k (-1 final): DR only; NULL for T. */
nn_model *effm_effect_net(effm *e, int a, int k);
/* The outcome network of arm a at fold k (-1 final). */
nn_model *effm_outcome_net(effm *e, int a, int k);

/* Saves net `net` member k's tensors inside the caller's transaction. */
int effm_save_net(sqlite3 *db, long model_id, int net, int k, nn_model *nm, lm_err *err);

/* Creates table effects(model_id, patient, arm, fold, p, p_sd, logit, effect, effect_sd)
 * when missing, and deletes model_id's rows. Inside the caller's transaction. */
int effm_effects_table(sqlite3 *db, long model_id, lm_err *err);

/* The stored out-of-fold estimates: for each of n patients (rowid order) and arm a:
 * p[i * narm + a], p_sd, effect, effect_sd; fold[i]. 0 or a status. Free with
 * effm_stored_free. */
typedef struct effm_stored {
	long n;
	int narm;
	long *patient;
	int *fold;
	double *p, *p_sd, *effect, *effect_sd;
} effm_stored;
int effm_stored_load(sqlite3 *db, const effm *e, effm_stored *s, lm_err *err);
/* Index of a patient rowid in s, or -1. */
long effm_stored_find(const effm_stored *s, long patient);
void effm_stored_free(effm_stored *s);

/* Prints the effect evaluation stored in an effect model's metrics JSON ("effect"),
 * indented, for `lumen models`. Nothing for other models. */
void effm_print_summary(FILE *out, const cJSON *metrics);

#endif
