/* ops.h: the operations under the three front ends (CLI, TUI, Lua).
 *
 * One function per question a front end asks. Each takes the open workbench (the sqlite3
 * handle of store_open) and an options struct, fills a result struct, and returns 0 or a
 * sysexits status with err filled (the message names no command: the caller prefixes it).
 * Every result has ops_X_free (safe on a zeroed or half-filled result) and ops_X_json (a new
 * cJSON tree the caller deletes). The CLI prints the result, the TUI caches and draws it, Lua
 * converts it: no front end computes a figure of its own, so the three agree by construction
 * (tests/e2e/parity.sh checks that they do).
 *
 *   ops_model_id          a model's id by name (the one lookup)
 *   ops_models_load       the stored models with their metrics (the one reader of `models`)
 *   ops_predictions_load  a model's stored predictions (the one reader of `predictions`)
 *   ops_filter_compile    the filter language (ops_filter.c), compiled once, run on patients
 *   ops_survival_run      Kaplan-Meier by nothing, a group, the treatment or risk strata
 *   ops_audit_run         the fairness audit of a model's stored predictions
 *   ops_patient_load      one patient's view: values, percentiles, the risk and its reasons
 *   ops_patient_whatif    ... with edited values (ops_patient_switch_arm: the treatment)
 *   ops_record_load       the patient's id and summary line; ops_visits_load its visits
 *   ops_train_run         cross-validated training as a job (progress and notes as events);
 *                         Cox and effect models through ops_train_cox_run, _effect_run
 *   ops_explain_run       integrated gradients for the cohort as a job (progress callback)
 *   ops_explain_values    one explanation by the rule below (Lua's model:explain)
 *   ops_effect_*          a treatment-effect model's patient view, explanations and benefit
 *                         by group (ops_effect.h)
 *   ops_explain_table_*   the per-patient table of an explanation, CSV and JSON (ops_export.c)
 *   ops_input_load        patients of a CSV not in the workbench, checked (ops_input.c)
 *   ops_explain_input     ... explained with the final model
 *   ops_validate_run      external validation on another cohort, stored (ops_validate.c)
 *   ops_dependence_load   one input's stored attributions against its values
 *
 * The number shown is the number explained: a patient of the training cohort (one with a
 * stored out-of-fold prediction) is shown, explained and what-if'd with the fold model that
 * held it out, so that its risk is the out-of-fold risk and baseline + sum of attributions is
 * that risk's logit; any other patient (no stored prediction, or a model without stored fold
 * models) with the final model. Every view says which model produced its number. */
#ifndef LUMEN_OPS_H
#define LUMEN_OPS_H

#include <sqlite3.h>

#include <cjson/cJSON.h>

#include "../../explain/ig.h"
#include "../data/store.h"
#include "../nn/model.h"
#include "../stats/audit.h"
#include "../stats/groups.h"
#include "../stats/km.h"

/* ---- models and their stored predictions ---- */

/* The id of the model called name, or -1 with err EX_DATAERR
 * "no model 'NAME'; lumen models FILE lists them". */
long ops_model_id(sqlite3 *db, const char *name, lm_err *err);

/* The stored models as lumen models, the TUI and Lua list them: every field of the models
 * row (JSON fields as the stored text, NULL when none) and whether predictions are stored. */
typedef struct ops_model_row {
	long id;
	char *name, *arch, *target, *positive, *task, *final, *created_at, *data_sha256, *version;
	int folds, has_seed, has_predictions;
	long n_used, n_excluded, seed;
	char *metrics, *hyper, *classes, *inputs, *importance;
} ops_model_row;
typedef struct ops_models {
	int n;
	ops_model_row *m; /* oldest first */
} ops_models;
/* Every model (name NULL) or the one called name (EX_DATAERR "no model 'NAME'; ..." when
 * none). A file without a models table has none. */
int ops_models_load(sqlite3 *db, const char *name, ops_models *out, lm_err *err);
void ops_models_free(ops_models *r);
/* The architecture as lumen models lists it: arch, with "+att" for a gru or cnn-gru with
 * attention over visits (hyper attention). Into buf; returns buf. */
const char *ops_model_arch_text(const ops_model_row *r, char *buf, size_t len);
/* A pooled out-of-fold metric of the stored metrics ("auc", "brier", ...), NAN when none. */
double ops_model_metric(const ops_model_row *r, const char *key);
/* lumen models --json: one object per model (ops_model_row_json), stored JSON parsed. */
cJSON *ops_model_row_json(const ops_model_row *r);
cJSON *ops_models_json(const ops_models *r);

/* A model's stored predictions, one entry per patient of the patients table in rowid order
 * (index i = the i-th patient; rowid[i] its rowid). A patient without a prediction has p, y,
 * p_sd and logit NAN and fold -1. Binary models: p and logit of the positive class;
 * multi-class: of the predicted class (as lumen train stores them). */
typedef struct ops_predictions {
	long model_id;
	char *model, *task, *arch, *target, *positive; /* target/positive may be NULL */
	long n;        /* patients */
	long nstored;  /* patients with a prediction */
	long *rowid;
	double *p, *y, *p_sd, *logit;
	int *fold;
} ops_predictions;

int ops_predictions_load(sqlite3 *db, const char *name, ops_predictions *out, lm_err *err);
/* The same by id (the TUI knows the id). */
int ops_predictions_load_id(sqlite3 *db, long model_id, ops_predictions *out, lm_err *err);
/* One patient's stored prediction (fold -1 and NANs when none; logit may be NULL): 0 or a
 * status. */
int ops_prediction_one(sqlite3 *db, long model_id, long rowid, int *fold, double *y, double *p,
		       double *p_sd, double *logit, lm_err *err);
/* Index of a rowid in the result (binary search), or -1. */
long ops_predictions_find(const ops_predictions *r, long rowid);
void ops_predictions_free(ops_predictions *r);
/* {"model", "task", "n", "stored", "predictions": [{"rowid","fold","y","p","p_sd"},...]} */
cJSON *ops_predictions_json(const ops_predictions *r);

/* ---- the filter language (ops_filter.c) ----
 * A boolean expression over a patient's columns, with Lua's spelling and SQL's logic:
 *   age > 65 and sex == "f"        sex == f (a bare word that is not a column: a category)
 *   ascites == 1, ascites == true  (booleans compare equal to 1/0 and true/false alike)
 *   trig > 200                     (a missing value never matches a comparison: no error)
 *   chol == nil, chol ~= nil       (missing or not)      (chol or 0) > 300   (a default)
 *   p["alk.phos"] > 2000, p.age    (any column by name)  not, and, or, ( ), + - * / %
 *   == ~= != < <= > >=             math.floor/ceil/abs/sqrt/log/exp/min/max(...)
 *   risk, label, outcome           (the model's stored p, p >= 0.5, true outcome; a model
 *                                   must be given), rowid
 * Three-valued logic as SQL's: a comparison with a missing operand is unknown; not unknown
 * is unknown; false and unknown is false; true or unknown is true; a patient matches only
 * when the whole expression is true (a number: nonzero; a text: always). `x or y` gives x
 * when x is true, else y (so a missing value falls back to the default). */
typedef struct ops_filter ops_filter;

/* Compiles expr against the patients table (and the model's predictions when model is not
 * NULL). NULL with err EX_DATAERR "where:1:COL: reason" for a syntax error or an unknown
 * name. Free with ops_filter_free. */
ops_filter *ops_filter_compile(sqlite3 *db, const char *expr, const char *model_name,
				lm_err *err);
void ops_filter_free(ops_filter *f);
/* The expression as SQL over the patients table (a WHERE clause: the same answers; used by
 * the tests and available to scripts as a check). Owned by the filter. */
const char *ops_filter_sql(const ops_filter *f);

/* The patients a filter selects. mask[i] for the i-th patient in rowid order. */
typedef struct ops_selection {
	long nrow;     /* patients */
	long n;        /* matching */
	unsigned char *mask;
	long *rowid;   /* nrow rowids (rowid order) */
	long *rows;    /* n indices of the matching patients, ascending */
	char *expr;
} ops_selection;

/* Runs a compiled filter on every patient (f NULL: everyone). 0 or a status. */
int ops_filter_run(ops_filter *f, sqlite3 *db, ops_selection *out, lm_err *err);
void ops_selection_free(ops_selection *s);
/* {"where": EXPR, "patients": nrow, "matching": n, "rowids": [...]} */
cJSON *ops_selection_json(const ops_selection *s);

/* ---- survival ---- */

/* Risk strata: the one cut rule. Cut points at R's type-7 quantiles k/K (k = 1..K-1) of the
 * stored predictions; a patient belongs to stratum k when cut[k] < p <= cut[k+1]
 * (cut[0] = -inf, cut[K] = +inf). EX_DATAERR when fewer than K patients have predictions or
 * a stratum is empty (ties). group[n]: the stratum or -1 (no prediction); cut: K+1 values;
 * labels: K malloc'd strings "risk 1/3 (p<=0.19)". */
int ops_risk_strata(const double *p, long n, int K, int *group, double *cut, char **labels,
		    lm_err *err);

typedef struct ops_survival_opts {
	const char *time;   /* column */
	const char *event;  /* "COL" (0/1 or the larger of two codes) or "COL=VALUE" */
	const char *by;     /* NULL, "COL[,COL]" or "risk:MODEL[:K]" (K 2..10, default 3) */
	char *const *bins;  /* "COL=C1,C2" (groups.h) */
	int nbins;
	const double *times; /* times for survival and at-risk figures; NULL: 4 round times */
	int ntimes;
	const ops_selection *where; /* only these patients (NULL: all) */
} ops_survival_opts;

typedef struct ops_survival {
	char *time, *event_desc, *by;
	int G;
	char **label;       /* G */
	km_curve *curve;    /* G */
	int have_lr;        /* G >= 2 */
	km_logrank lr;
	long n, events;     /* patients used and their events */
	long miss_time, neg_time, miss_event, miss_group, empty, filtered_out;
	int K;              /* risk strata: K and the cut points (K + 1), else 0 */
	double cut[11];
	double times[32];
	int ntimes;
	/* the patients used, for charts and scripts: n times, events, groups */
	double *t;
	int *e, *g;
} ops_survival;

int ops_survival_run(sqlite3 *db, const ops_survival_opts *o, ops_survival *out, lm_err *err);
void ops_survival_free(ops_survival *r);
/* As `lumen survival --json`: time, event, left_out, groups [{group, n, events, median...,
 * at [...], curve {...}}], logrank, strata {K, cuts}. */
cJSON *ops_survival_json(const ops_survival *r);

/* ---- audit ---- */

typedef struct ops_audit_opts {
	const char *model;
	const char *by;            /* "COL[,COL]" (groups.h) */
	char *const *bins;
	int nbins;
	audit_opts a;              /* threshold, youden, tolerance, n_boot, seed, threads;
				    * a.ref is ignored: see reference */
	const char *reference;     /* group label, NULL: the largest */
	const ops_selection *where; /* only these patients (NULL: all) */
	/* called with the number of groups just before the metrics run (NULL: none); nonzero
	 * stops the audit with that status (Lua: the bootstrap's buffers past the memory cap) */
	int (*before_run)(void *ctx, int ngroups);
	void *ctx;
} ops_audit_opts;

/* The audit of a binary model's stored out-of-fold predictions, as lumen audit, the TUI's
 * Audit screen and lumen.audit show it. Per patient in rowid order (nrow): p, y (0/1, NAN)
 * and group (the audited group, -1 when left out). */
typedef struct ops_audit {
	long model_id;
	char *model;
	groups g;
	int have_g;
	long nrow;
	long *rowid;
	double *p, *y;
	int *group;
	long n, no_pred, no_label, filtered_out;
	audit_result r;
	int have_r;
} ops_audit;

/* EX_DATAERR for an unknown or multi-class model, no predictions, a p outside [0, 1];
 * EX_USAGE for an unknown reference ("no group 'X' (groups: ...)"). */
int ops_audit_run(sqlite3 *db, const ops_audit_opts *o, ops_audit *out, lm_err *err);
void ops_audit_free(ops_audit *r);
/* audit_result_json plus left_out {no_prediction, no_outcome, group_missing,
 * empty_combinations}. */
cJSON *ops_audit_json(const ops_audit *r);

/* ---- a patient's view ---- */

/* Which network produced the number shown. */
typedef enum { OPS_NET_FOLD, OPS_NET_FINAL } ops_net;

typedef struct ops_factor {
	int column;        /* index in the model's spec columns */
	char *name, *label;
	char value[64];    /* as shown (labels.h: the value's label, "missing", 4 digits) */
	char code[64];     /* as stored ("." missing): what --json and what-if take */
	char unit[32];     /* the column's unit, "" when none */
	double num;        /* numeric value, NAN for text or missing */
	double pct;        /* numeric: mid-rank percentile among the cohort's values; a category
			    * (text, boolean, labelled codes): the share of patients with this
			    * value (is_share); NAN when missing */
	int is_share;
	double attr;       /* integrated gradients (logit units), summed to the column */
	double attr0;      /* what-if: the patient's own attribution before the edit */
	double weight;     /* attention rollout weight (transformer; unsigned), NAN otherwise */
	int edited;
} ops_factor;

typedef struct ops_patient_opts {
	const char *model;
	long rowid;            /* the patient (patients.rowid) */
	const ig_baseline *baseline; /* NULL: mean */
	const ig_opts *ig;     /* NULL: the on-the-fly defaults of ig_explain_x (exact for a ReLU
				* mlp, else Gauss from 16 steps with auto doubling) */
	int cls;               /* multi-class: the class explained, -1 the predicted one */
	struct ops_patient *prev; /* a previous view of the same model: its model, baseline and
				   * cohort are taken over (the caller still frees prev) */
} ops_patient_opts;

/* The loaded state of a patient view: the model (kept for what-if), its mean baseline, the
 * patient's values. Owned by the result. */
typedef struct ops_patient {
	long rowid;
	char id[128];          /* the id column's value, or the rowid */
	char *model, *arch, *target;
	ops_net net;           /* OPS_NET_FOLD: fold `fold` (the out-of-fold risk) */
	int fold;
	double stored_p;       /* the stored out-of-fold p (NAN when none) */
	double p_sd;           /* spread across folds, NAN */
	double y;              /* true outcome 0/1, NAN */
	double p, logit;       /* the number shown and its logit (== stored p for a fold patient) */
	double baseline_logit, delta;
	int steps;
	char baseline[64];
	int nfactor;
	ops_factor *f;         /* sorted by |attr|, largest first */
	int cls;               /* the class explained (binary: 1) */
	char cls_name[64];
	/* what-if (edited after ops_patient_whatif) */
	int edited;
	double p0, logit0;     /* the patient's own number before the edit */
	char desc[600];        /* "Serum bilirubin 14.5 -> 0.5 mg/dl, ..." */
	char outcome[160];     /* what the risk is of, in words (labels.h): "status = 2 (death)";
				* a survival model adds its horizon, "by 1825 days" */
	char warn[200];        /* what-if: "bili 40 is above every patient's (max 28 mg/dl)", or "" */
	/* internals kept for what-if */
	model *m;
	float *base;           /* baseline row in the final network's encoding */
	frame cohort;          /* the model's columns for every patient (percentiles) */
	int have_cohort;
	ig_opts io;
	int ncol;
	enc_value *v, *v0;
	char **vt, **vt0;      /* text storage behind v[].text, v0[].text */
	enc_value *bv;      /* baseline patient:ID: its raw values (NULL otherwise) */
	char **bvt;
	float *slot_attr;   /* the last explanation's attributions per input slot (nslot_attr) */
	int nslot_attr;
	float *vatt;        /* a GRU with attention: the visit steps' weights for the values
			     * shown (nvatt = K steps, the last the most recent), else NULL */
	int nvatt;
} ops_patient;

/* Loads and explains one patient (the number shown is the number explained, above).
 * 0 or a status (EX_DATAERR "no patient with rowid N"). */
int ops_patient_load(sqlite3 *db, const ops_patient_opts *o, ops_patient *out, lm_err *err);
/* Sets column col (its name or its label) to value val — a code, a value label ("placebo"),
 * "." or "missing" — and explains again with the same network; 0 or EX_DATAERR (unknown
 * column, not a number, a category the column never had: nothing changes). A number outside
 * the cohort's range is taken, with pv->warn saying so. ops_patient_reset goes back. */
int ops_patient_whatif(ops_patient *pv, const char *col, const char *val, lm_err *err);
void ops_patient_reset(ops_patient *pv);

/* A survival model's curve for the patient as shown: with H0 the final model's baseline
 * cumulative hazard and h the horizon of the shown risk p (pv->p),
 *     S(t) = (1 - p)^(H0(t) / H0(h)),
 * which is exp(-H0(t) e^lp) for a final-model patient and, for a fold patient, the curve
 * through the shown out-of-fold risk at h (proportional hazards). So the curve passes through
 * the number on the screen, and ops_patient_risk_at(pv, h) == pv->p. Both return NAN (and
 * ops_patient_curve -1) for a model that is no survival model. ops_patient_curve fills t[k],
 * s[k] at n evenly spaced times from 0 to tmax. */
double ops_patient_risk_at(const ops_patient *pv, double t);
int ops_patient_curve(const ops_patient *pv, int n, double tmax, double *t, double *s);
/* The cohort's Kaplan-Meier for a survival model's time and event (from its stored
 * hyper-parameters), through ops_survival_run: 0 or a status; free with ops_survival_free. */
int ops_patient_km(sqlite3 *db, const ops_patient *pv, ops_survival *out, lm_err *err);
/* What-if: the treatment column's next value in the cohort (after the patient's, wrapping).
 * EX_DATAERR when there is no treatment column or the model does not use it. */
int ops_patient_switch_arm(sqlite3 *db, ops_patient *pv, lm_err *err);
void ops_patient_free(ops_patient *pv);
/* {patient, rowid, model, network "fold K"|"final", p, logit, baseline_logit, sum, delta,
 *  stored_p, y, factors [{column, value, percentile, ig, weight}], whatif {...}} */
cJSON *ops_patient_json(const ops_patient *pv);
/* What a model's risk is of, in words (ops_words.c, labels.h): "status = 2 (death)", the
 * positive class with its value's label; a survival model adds its horizon and the time
 * unit, "status = 2 (death) by 1083 days". "the outcome" for an unknown model. Into buf;
 * returns buf. */
const char *ops_model_outcome(sqlite3 *db, const char *name, char *buf, size_t len);
/* The label of the network that produced the number: "fold 3 of 5 (out-of-fold)" or
 * "final model (refit on all patients)". Into buf; returns buf. */
const char *ops_patient_net_text(const ops_patient *pv, char *buf, size_t len);

/* ---- a patient's record and visits (ops_record.c) ---- */

typedef struct ops_record {
	char id[64];    /* the id column's value, or "row N" */
	char demo[256]; /* "sex f | trt 1 | status 2 | time 400": group, treatment, outcome columns */
} ops_record;
/* 0 or a status. */
int ops_record_load(sqlite3 *db, long rowid, ops_record *out, lm_err *err);
cJSON *ops_record_json(const ops_record *r);

typedef struct ops_lab {
	char *name;         /* the lab's clinical label and unit, or its name */
	char *column;       /* its column in visits */
	double mean, sd;    /* over all visits of the cohort (store_column) */
	double *v;          /* nvisit values, NAN missing */
} ops_lab;

typedef struct ops_visits {
	int nvisit, nlab;
	ops_lab *labs;      /* numeric feature columns of `visits`; the ones that vary first */
	double *time;       /* nvisit times (the visit number without a time column) */
	char time_col[64];
} ops_visits;
/* The patient's visits in file order (none without a visits table). 0 or a status; free
 * with ops_visits_free. */
int ops_visits_load(sqlite3 *db, long rowid, ops_visits *out, lm_err *err);
void ops_visits_free(ops_visits *v);
cJSON *ops_visits_json(const ops_visits *v);

/* A visit-sequence model's explanation of one patient over the visits it read
 * (ops_visit_attr.c): from the patient view's slot attributions, per visit x lab the sum of
 * the lab's value and missing slots, per visit every slot of its step (labs, time gaps,
 * present flag), and the visit that moved the risk most. */
typedef struct ops_visit_attr {
	int nvisit;       /* the visits read: the patient's last min(visits, K), oldest first */
	int first;        /* index of the first of them among all the patient's visits */
	int nlab;
	char **lab;       /* the model's labs, in slot order */
	float *m;         /* nvisit x nlab, logit units */
	float *visit;     /* nvisit */
	float padded;     /* the padded steps' share (the baseline patient has visits there) */
	float statics;    /* the static inputs' share */
	int top;          /* the visit (0..nvisit-1) with the largest |visit|; -1 when none */
	/* a GRU with attention over visits (ops_visit_attr_get; NULL/-1/0 otherwise): */
	float *attn;      /* nvisit attention weights, aligned with visit[] */
	int attn_top;     /* the visit the model attended to most; -1 when none */
	float attn_padded; /* the padded steps' weights (0 by the rule of nn_op_visit_attn) */
} ops_visit_attr;
/* 0 with out filled (free with ops_visit_attr_free), or -1 when pv's model reads no visits
 * or has not been explained. With attention over visits also attn, attn_top, attn_padded
 * from the view's weights (the same network and values as the attributions). */
int ops_visit_attr_get(const ops_patient *pv, ops_visit_attr *out);
/* The same from any explanation: slot attributions of model m (m->spec.nslot floats), the
 * cohort's visits (NULL: none) and the patient's rowid. */
int ops_visit_attr_of(const model *m, const float *slots, const struct venc_visits *v,
		      long rowid, ops_visit_attr *out);
/* Adds the attention fields (attn, attn_top, attn_padded) to a filled out from the K step
 * weights w (ops_visit_weights; the last out->nvisit steps are the visits read). Does
 * nothing when w is NULL or K is not the model's number of steps. */
void ops_visit_attr_attention(ops_visit_attr *out, const model *m, const float *w, int K);
void ops_visit_attr_free(ops_visit_attr *v);
/* {visits_read, first, labs [..], matrix [[..]..], per_visit [..], padded, static, top}, and
 * with attention attention [..] (per visit read), attention_top, attention_padded */
cJSON *ops_visit_attr_json(const ops_visit_attr *v);

/* ---- explain as a job ---- */

/* One block of explained patients, handed to the caller's sink as soon as it is computed (the
 * arrays live until the sink returns): q[j] is the index into the caller's rows of block row
 * j; attr[n * nslot] (NULL without IG), logit[n], delta[n], steps[n] and base_logit (the
 * block's network's baseline logit); heads[n * heads_len], last[n * ntok], roll[n * ntok]
 * (NULL without attention, as attn_explain). logit is NAN for attention alone. */
typedef struct ops_explain_block {
	long n;
	const long *q;
	int fold;                 /* the network: its fold, -1 the final model */
	const float *attr, *logit, *delta;
	const int *steps;
	float base_logit;
	const float *heads, *last, *roll;
	int heads_len, ntok;
	const float *vatt;        /* n x nstep visit weights of a GRU with attention (attn_visits),
				   * NULL otherwise */
	int nstep;
} ops_explain_block;
typedef int (*ops_explain_sink)(void *ctx, const ops_explain_block *b, lm_err *err);

/* Integrated gradients (do_ig) and attention (do_attn: a transformer) for n patients of a
 * loaded model's cohort (rows: indices into co->f), each patient with a stored out-of-fold
 * prediction with its fold model and the others with the final model (the rule above), so
 * that logit is the logit of the patient's stored p. base: the baseline row in the final
 * network's encoding (mapped into each fold's); base_row >= 0: the baseline is that patient
 * of co (patient:ID), encoded with each network's own statistics. Patients go through in
 * blocks of at most 16,384, each handed to sink(sctx, block) — memory does not grow with
 * the cohort. *n_fold counts the patients explained by a fold model. progress (may be NULL)
 * is called with patients done so far. 0, a status, or the sink's non-zero status. */
int ops_explain_cohort(sqlite3 *db, model *m, const ig_inputs *co, const long *rows, long n,
		       const float *base, long base_row, const ig_opts *io, int do_ig, int do_attn,
		       ops_explain_sink sink, void *sctx, long *n_fold,
		       void (*progress)(void *ctx, long done, long total), void *ctx, lm_err *err);

/* The per-patient table of an explanation (lumen explain --csv/--json-out, a SHAP-values
 * table): per patient its id, the network that explained it, each column's attribution
 * (integrated gradients, logit units, one-hot slots summed to their column), the logit, the
 * baseline's logit and the completeness error delta = |sum - (logit - baseline_logit)|; and,
 * for a transformer explained with attention, the last block's CLS attention and the rollout
 * per column: unsigned weights (shares of the CLS row, the rest on the CLS token itself), a
 * ranking and never a direction. Every array
 * owned by the table; ops_explain_table_free. */
typedef struct ops_explain_table {
	long n;
	int ncol;
	char **col;            /* ncol column names (the model's inputs, spec order) */
	char **id;             /* n patient ids */
	int *net;              /* n: the fold whose network explained the patient, -1 the final */
	float *attr;           /* n x ncol integrated gradients, NULL without ig */
	float *logit;          /* n: the logit explained (the stored risk's for a cohort patient) */
	float *base_logit, *delta; /* n, NULL without ig */
	int *steps;            /* n, NULL without ig */
	float *last, *roll;    /* n x ncol attention weights, NULL without attention */
	float *vatt;           /* n x nstep weights of the visit steps (a GRU with attention:
				* step nstep the most recent), NULL otherwise */
	int nstep;
	float *slots;          /* n x nslot attributions of the slots, kept by ops_explain_input
				* for a model that reads visits (ops_explain_input_visits); NULL
				* otherwise */
	char baseline[160];    /* "mean", "patient:17" */
	int new_patients;      /* 1: patients of an --input CSV (the final network) */
} ops_explain_table;
void ops_explain_table_free(ops_explain_table *t);
/* Writes the table as CSV: id,method,network,COL...,logit,baseline_logit,sum,delta with one
 * row per patient and method: method "ig" (signed attributions; baseline_logit + sum = logit
 * within delta), "attention_weight" and "rollout_weight" (unsigned weights, at most 1 in
 * all; baseline_logit and delta empty). A GRU with attention over visits has columns
 * step_1..step_K after the inputs (step_K the most recent visit read): its
 * "attention_weight" rows fill those (0 on padded steps; the input columns empty), the other
 * rows leave them empty. Numbers with 9 significant digits (float32 exactly).
 * 0, or EX_IOERR when the stream reports an error. */
int ops_explain_table_csv(FILE *out, const ops_explain_table *t, lm_err *err);
/* {model, baseline, columns [...], methods [...], patients [{id, network, logit,
 *  baseline_logit, sum, delta, ig {COL: v}, attention_weight {...}, rollout_weight {...}}]};
 * for a GRU with attention attention_weight is {step_1: w, ..., step_K: w} */
cJSON *ops_explain_table_json(const ops_explain_table *t, const char *model_name);

/* One input's stored integrated gradients against its values, one entry per patient with
 * a stored ig explanation (rowid order): a dependence view (TUI Models screen d). A text
 * input's value is the index of its category in cats (order of first appearance); a
 * missing value NAN. 0 or a status (EX_DATAERR for an input the model does not have);
 * n 0 when nothing is stored. ops_dependence_free. */
typedef struct ops_dependence {
	char *column;
	long n;
	double *value, *attr;
	int ncat;
	char **cats;
} ops_dependence;
int ops_dependence_load(sqlite3 *db, const char *model_name, const char *column,
			ops_dependence *out, lm_err *err);
void ops_dependence_free(ops_dependence *d);

/* ---- patients who are not in the workbench (ops_input.c) ---- */

/* A CSV of new patients read for a model: imported through lumen import into a temporary
 * file (removed at once), checked, and encoded with the model's final network's inputs. */
typedef struct ops_input {
	char *csv;
	frame f;        /* every column of the CSV, in file order */
	int idcol;      /* the id column in f, -1 none */
	long n;
	char **id;      /* n ids (the id column's text, or the row number) */
	float *X;       /* n x m->spec.nslot, the final network's encoding */
} ops_input;
/* Reads csv (id/row_ids: as lumen import's --id/--row-ids; visits: its visits CSV for a
 * sequence model, NULL: every sequence empty) and checks it against the
 * workbench and model m; every error is one line "CSV:LINE[:COL]: reason" with EX_DATAERR:
 * a model input missing from the header (line 1), a column the cohort does not have (line 1,
 * its position), text in a column the cohort holds as numbers, a value other than 0/1 in a
 * boolean column, or a category of a model input that the cohort never had (the line and
 * column of the first such cell). 0 or a status; ops_input_free (safe on a failed load). */
int ops_input_load(sqlite3 *db, const model *m, const char *csv, const char *visits,
		   const char *id, int row_ids, ops_input *out, lm_err *err);
/* The row of the patient with this id, or -1. */
long ops_input_find(const ops_input *in, const char *id);
void ops_input_free(ops_input *in);

/* ---- external validation (ops_validate.c) ---- */

typedef struct ops_validate_opts {
	const char *model;
	const char *input;     /* OTHER.csv: the cohort's columns and the model's outcome */
	const char *id;        /* its id column (NULL: found by name), or row_ids */
	int row_ids;
	const char *by;        /* per-group figures by this column of OTHER.csv (NULL: the first
				* group column of the workbench that OTHER.csv has, else none) */
	double horizon;        /* survival: the time of the risk, Brier and calibration (NAN:
				* the model's horizon) */
	int bins;              /* calibration curve: equal-width bins of p (binary) or groups of
				* equal size by predicted risk (survival); default 10 */
	int store;             /* 1 (default): a row of `validations` and of access_log */
} ops_validate_opts;
void ops_validate_opts_defaults(ops_validate_opts *o);

typedef struct ops_vgroup {
	char *label;
	long n, events;
	double disc;           /* AUC (binary) or Harrell's C (survival) */
	double brier;          /* Brier (binary), IPCW Brier at the horizon (survival) */
	double mean_pred;      /* mean predicted risk (survival: by the horizon) */
	double observed;       /* share of events (binary), Kaplan-Meier risk by the horizon */
	double citl;           /* binary: calibration-in-the-large (metrics.h), else NAN */
} ops_vgroup;

typedef struct ops_validation {
	long id;               /* validations.id once stored, else 0 */
	char *model, *arch, *input;
	char sha256[65];
	int survival;          /* a Cox (linear or neural) model */
	long nrow, left_out;   /* patients in OTHER.csv, and those without an outcome */
	ops_vgroup all;        /* the figures over every patient with an outcome */
	double horizon;        /* survival */
	double uno_c, auc_t;   /* survival: Uno's C, the time-dependent AUC at the horizon */
	double ap;             /* binary: average precision */
	double slope, slope_se; /* binary: logistic recalibration slope; survival: the Cox
				 * coefficient of the linear predictor in OTHER.csv (se) */
	double intercept, citl; /* binary: recalibration intercept and calibration-in-the-large */
	int ncal;              /* calibration curve: mean predicted, observed, patients per bin */
	double *cal_pred, *cal_obs;
	long *cal_n;
	char *by;              /* per group (G groups, in order of appearance) */
	int G;
	ops_vgroup *group;
	/* per patient of OTHER.csv (nrow), for charts and scripts: risk, linear predictor or
	 * logit, binary outcome (NAN missing), time (NAN missing) and event */
	double *p, *lp, *y, *time;
	int *event;
} ops_validation;

/* Scores OTHER.csv (checked as ops_input_load checks it) with the model's final network and
 * measures it against the outcomes there; stores it when o->store. EX_DATAERR for a model
 * that is neither binary nor survival, an outcome column missing from OTHER.csv
 * ("OTHER.csv:1: no column 'status' ..."), fewer than 2 patients with an outcome. 0 or a
 * status; ops_validation_free (safe on a failed run). */
int ops_validate_run(sqlite3 *db, const ops_validate_opts *o, ops_validation *out,
		     lm_err *err);
void ops_validation_free(ops_validation *v);
/* {id, model, arch, input, sha256, kind, patients, left_out, n, events, auc|c_index, brier,
 *  mean_predicted, observed, horizon, uno_c, auc_at_horizon, average_precision,
 *  calibration_slope[_se], calibration_intercept, calibration_in_the_large,
 *  calibration_curve [{n, predicted, observed}], by, groups [{group, n, events, ...}]} */
cJSON *ops_validation_json(const ops_validation *v);
/* The stored validations of a model, oldest first (an empty array when there are none):
 * each ops_validation_json with its id and created_at. The caller deletes it. */
cJSON *ops_validations_json(sqlite3 *db, long model_id);
/* One line per validation of such an array, indented, for lumen models. */
void ops_validations_print(FILE *out, const cJSON *vals);

/* The explanation of a cohort as a job (lumen explain): options, progress callback, result. */
typedef struct ops_explain_opts {
	const char *model;
	const char *method;    /* "ig", "attention" (a transformer, or a gru or cnn-gru with
				* attention over visits), "all" (NULL: all) */
	ig_opts ig;            /* steps, auto_steps, rule, cls */
	ig_baseline baseline;
	const long *rows;      /* patient indices into the model's cohort (NULL: everyone) */
	long nrows;
	void (*progress)(void *ctx, long done, long total); /* may be NULL */
	void *ctx;
	ops_explain_table *table; /* not NULL: filled with every patient's numbers as stored */
} ops_explain_opts;

typedef struct ops_explain {
	char *model, *arch;
	long n;                /* patients explained */
	int do_ig, do_attn;
	int visit_attn;        /* do_attn for a GRU with attention: weights per visit, no rollout */
	long n_fold, n_final;  /* explained with their fold model / with the final model */
	char btext[160];       /* the baseline as stored ("mean", "patient:17") */
	double med, p99, max, rel_med, rel_p99; /* completeness errors, absolute and relative */
	long above_1pct, max_steps;
	double mean_steps;     /* gradient evaluations per patient, on average */
	double seconds_ig;
	ig_rule rule;
	int steps, auto_steps;
} ops_explain;

/* lumen explain's defaults for model m: IG (and attention for a transformer), the mean
 * baseline, IG_DEFAULT_STEPS Gauss-Legendre steps, or exact integration for a ReLU mlp
 * (piecewise linear), the positive class; every patient. */
void ops_explain_defaults(const model *m, ops_explain_opts *o);

/* Explains every (or the listed) patient of a loaded model's cohort by the rule above
 * (ops_explain_cohort) and stores the attributions, the global importance and an access-log
 * row in one transaction (nothing on an error). Each block is written as it is computed:
 * beyond the loaded cohort, memory is a block's plus 16 bytes a patient. 0 or a status. */
int ops_explain_run(sqlite3 *db, model *m, ig_inputs *co, const ops_explain_opts *o,
		    ops_explain *out, lm_err *err);
void ops_explain_free(ops_explain *r);
/* As lumen explain --json prints it. */
cJSON *ops_explain_json(const ops_explain *r);

/* Explains rows (NULL: all) of new patients with the final network (the rule above: they
 * have no out-of-fold risk), as ops_explain_run does the cohort, into a table; nothing is
 * stored. o->method, o->ig and o->baseline as for ops_explain_run; co is the model's cohort
 * (the baseline's source). 0 or a status. */
int ops_explain_input(sqlite3 *db, model *m, const ig_inputs *co, const ops_input *in,
		      const long *rows, long nrows, const ops_explain_opts *o,
		      ops_explain_table *out, lm_err *err);
/* Patient q of such a table (row `row` of in) over the visits it read, as
 * ops_visit_attr_get gives a cohort patient: the visit x lab matrix, per visit, padded steps,
 * static inputs, the top visit, and with attention over visits its weights. 0 with out
 * filled (ops_visit_attr_free), or -1 when the model reads no visits or the table has no
 * slot attributions. */
int ops_explain_input_visits(const model *m, const ops_explain_table *t, long q,
			     const ops_input *in, long row, ops_visit_attr *out);

/* The network and the matching baseline for a patient: fold >= 0 and the model has fold
 * models: fold[fold] with its own input statistics; otherwise the final network. Encodes the
 * patient's raw values into x (m->spec.nslot floats) with that network's statistics, and maps
 * a baseline row given in the final encoding (base, the stored mean/median) to that
 * network's encoding into base_out (the same raw baseline patient). Returns the network. */
nn_model *ops_net_for(model *m, int fold, const enc_value *vals, const float *base,
		      float *x, float *base_out);

/* Explains raw values with the network of fold `fold` (-1 or no fold models: the final one),
 * ops_net_for's rule: base in the final encoding, o NULL for the on-the-fly defaults, cls the
 * class (binary: 1; multi-class -1: the predicted one). base_vals (may be NULL): the baseline
 * patient's raw values (patient:ID), encoded exactly with the network's statistics instead of
 * mapping base. Fills *out (ig_explanation_free);
 * *net_used (may be NULL) says which: the fold, or -1 for the final network. 0 or a status. */
int ops_explain_values(model *m, int fold, const enc_value *vals, const float *base,
		       const enc_value *base_vals, const ig_opts *o, int cls, ig_explanation *out,
		       int *net_used, lm_err *err);
/* A gru or cnn-gru with attention over visits: the weights of its K visit steps for raw
 * values vals with the network of fold `fold` (ops_net_for's rule), class cls of a
 * multi-class head; malloc'd K floats (the caller frees), *K set; NULL for any other model. */
float *ops_visit_weights(model *m, int fold, const enc_value *vals, int cls, int *K);
/* The patient's fold for model_id (its stored prediction's), -1 when none. */
int ops_patient_fold(sqlite3 *db, const model *m, long rowid);

/* The risk of raw values vals (m->spec.ncolumn, enc_value) for the patient with rowid (-1: a
 * new patient), by the rule above and as ops_patient_load shows it: the network of the
 * patient's fold, else the final one (*fold_used -1); binary: the probability of the
 * positive class; multi-class: of class 1 as model_predict; a survival model's fold patient:
 * the risk by the horizon through its stored out-of-fold risk, S(h | x') = S(h | x)^exp(lp'
 * - lp), so that the patient's own values give the stored p. *logit: the network's (the
 * positive class's). 0 or a status. */
int ops_predict_values(sqlite3 *db, model *m, long rowid, const enc_value *vals, double *p,
		       double *logit, int *fold_used, lm_err *err);

/* ---- train as a job (ops_train.c) ---- */

typedef enum {
	OPS_TRAIN_NOTE,     /* a line for the user: the target, patients left out */
	OPS_TRAIN_WARNING,  /* an input that looks like a leak (also stored with the metrics) */
	OPS_TRAIN_EPOCH,    /* an epoch of one network ended */
	OPS_TRAIN_NET_DONE, /* one network is trained */
} ops_train_kind;

typedef struct ops_train_event {
	ops_train_kind kind;
	int fold, nfold;                /* the network: fold 0..nfold-1, -1 the final model */
	int epoch;
	double loss, val_loss, val_auc; /* val_*: NAN for the final refit (it holds nothing out) */
	const char *text;               /* NOTE and WARNING; valid during the call */
} ops_train_event;

/* lumen train's options (see its --help). A fixed-horizon target: time, event (COL[=V]) and
 * horizon, with target and positive the event's column and value. lr, dropout and l2 < 0 and
 * 0 counts take the architecture's defaults. */
typedef struct ops_train_opts {
	const char *file; /* for messages */
	const char *arch, *target, *positive, *name, *features, *exclude, *hidden;
	const char *time, *event;
	double horizon;
	int folds, epochs, batch, blocks, heads, d_model, ffn, force, quiet, balanced, threads;
	int max_visits, gru_hidden, channels, kernel; /* sequence models (visits_enc.h) */
	int attention; /* gru, cnn-gru: width of the additive attention over the visits' GRU
			* states (nn.h's nn_spec.attention); 0 none. Other architectures: EX_USAGE */
	double lr, dropout, l2;
	long seed;
	/* a Cox model (ops_train_cox_run): --times, --ties (a cox_ties), and neural (set by
	 * the job: arch is mlp or transformer on the partial likelihood) */
	const char *times;
	int ties, neural;
	/* a treatment-effect model (ops_train_effect_run): the arm column, its reference level
	 * (NULL: the first) and the learner (an effm_learner: T or DR) */
	const char *effect, *reference;
	int learner;
	void (*progress)(void *ctx, const ops_train_event *ev); /* may be NULL */
	void *ctx;
} ops_train_opts;

/* The stored model's summary. */
typedef struct ops_train {
	char *name, *arch, *target, *positive;
	long id, n_used, n_excluded;
	int folds, final_epochs, nwarn;
	double auc;             /* pooled out-of-fold AUC (binary), NAN otherwise */
	char final_desc[64];    /* "refitted for 12 epochs", "solved on every patient (...)" */
	/* a survival model: events, out-of-fold and final Harrell's C, the event ("status =
	 * 2"); a linear Cox model also its likelihood-ratio test */
	int survival, neural, df;
	long events;
	double c_index, c_final, lr_chisq, lr_p;
	char event_desc[256];
	/* a treatment-effect model: its arms and reference arm; the stored metrics (JSON) */
	int narm;
	char reference[128];
	char *metrics;
} ops_train;

/* Trains a logreg, mlp or transformer with stratified K-fold cross-validation (each patient's
 * out-of-fold prediction and the spread across fold models), refits the final model on every
 * patient for the median of the folds' best epochs, and stores the model, its inputs, its
 * fold and final networks, the IG baselines, the predictions and the metrics in one
 * transaction (nothing on an error). arch "cox", or time and event without a horizon: the
 * job is ops_train_cox_run. 0 or a status. */
int ops_train_run(sqlite3 *db, const ops_train_opts *o, ops_train *out, lm_err *err);
/* A Cox proportional-hazards model (arch "cox") or a network (mlp, transformer) on the Cox
 * partial likelihood, for time and event (COL[=V]); horizon (> 0, else the middle evaluation
 * time) is the time of the stored risk; l2 < 0 counts as 0. Same folds, final model and one
 * transaction; warnings (convergence, proportional hazards) as OPS_TRAIN_WARNING events
 * unless quiet. */
int ops_train_cox_run(sqlite3 *db, const ops_train_opts *o, ops_train *out, lm_err *err);
/* A treatment-effect model of a binary target for the arms of column effect (T- or
 * DR-learner, ops_train_effect.c; logreg, mlp or transformer): every patient's out-of-fold
 * risk under every arm and effect against the reference, the evaluation (Qini, calibration of
 * the effect, ATE, balance, overlap) in the metrics; one transaction. ops_train_run calls it
 * when effect is set. */
int ops_train_effect_run(sqlite3 *db, const ops_train_opts *o, ops_train *out, lm_err *err);
void ops_train_free(ops_train *r);
cJSON *ops_train_json(const ops_train *r);

/* ---- time-to-event outcomes (ops_outcome.c) ---- */

/* Time and event of every patient of frame f (columns tcol and ecol): every value must be
 * usable, or EX_DATAERR names the file and the patient (a missing or negative time, a missing
 * event, another code). ev_val: the event's value (a number, or a text column's label); NULL:
 * the column must hold two codes (the larger is the event) or be 0/1. Sets *time_out and
 * *event_out (f->nrow each, caller frees, also on an error), *events and desc ("status = 2").
 * EX_DATAERR also when there are no events. */
int ops_outcome_read(const frame *f, const char *file, int tcol, int ecol, const char *ev_val,
		     double **time_out, int **event_out, long *events, char *desc, size_t desclen,
		     lm_err *err);
/* The fixed-horizon target of lumen train --time C --event E[=V] --horizon T: y = 1 for an
 * event at time <= T, 0 for a time >= T without it (or an event after T), NAN for a patient
 * censored before T (counted in *n_censored and t->n_missing). The time and event must be
 * usable for every patient, as for a Cox model. Free t with enc_target_free. */
int ops_horizon_target(const frame *f, const char *file, const char *time_col,
		       const char *event, double horizon, enc_target *t, long *n_censored,
		       lm_err *err);

/* The probability shown for a binary model's logit: the sigmoid, or for a survival model
 * (m->surv_n) the risk by its horizon, 1 - exp(-H0(horizon) e^logit), as model_predict. */
double ops_risk_of_logit(const model *m, double logit);

#endif
