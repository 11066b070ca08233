/* ops_int.h: what the training jobs of the operations layer share (ops_train.c,
 * ops_train_effect.c); not for the front ends. */
#ifndef LUMEN_OPS_INT_H
#define LUMEN_OPS_INT_H

#include "ops.h"

/* The feature columns of a training run: --features exactly (never the target, the time
 * column, an effect model's arm column, or an id/time/event/target role), else every
 * feature, group and treatment column but those and --exclude; free text is left out.
 * Sets *nf; NULL with err (EX_DATAERR) on an unknown or forbidden column. Caller frees with
 * lm_split_free. */
char **ops_train_features(const store_columns *cols, const ops_train_opts *a, int *nf,
			  lm_err *err);
/* The network's spec for arch from the options (l2, dropout, hidden, transformer and
 * sequence sizes; 0 or < 0: the defaults), over the slots of cs with n_out outputs; tokens
 * (cs->nslot ints, the caller's) receive each slot's source column. */
void ops_train_nn_spec(const ops_train_opts *a, nn_arch arch, const enc_spec *cs, int n_out,
		       int *tokens, nn_spec *s);

/* The start of a training run: the extra columns (the target, the time or arm column) exist
 * in patients, the features are chosen (ops_train_features), no model called name exists
 * unless a->force, and f holds the features and then the extras. *feat (lm_split_free) is
 * set even on a later error. 0 or EX_DATAERR with err. */
int ops_train_load(sqlite3 *db, const ops_train_opts *a, const char *name,
		   const char *const *extra, int nextra, char ***feat, int *nfeat, frame *f,
		   lm_err *err);
/* The sha256 of the imported patients (datasets), stored with a model; NULL when none.
 * Caller frees. */
char *ops_train_data_sha(sqlite3 *db);

#endif
