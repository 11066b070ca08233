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
 *   ops_predictions_load  a model's stored predictions (the one reader of `predictions`)
 *   ops_filter_compile    the filter language (ops_filter.c), compiled once, run on patients
 *   ops_survival_run      Kaplan-Meier by nothing, a group, the treatment or risk strata
 *   ops_audit_run         the fairness audit of a model's stored predictions
 *   ops_patient_load      one patient's view: values, percentiles, the risk and its reasons
 *   ops_patient_whatif    ... with edited values (ops_patient_switch_arm: the treatment)
 *   ops_record_load       the patient's id and summary line; ops_visits_load its visits
 *   ops_explain_run       integrated gradients for the cohort as a job (progress callback)
 *   ops_explain_values    one explanation by the rule below (Lua's model:explain)
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
/* One patient's stored prediction (fold -1 and NANs when none): 0 or a status. */
int ops_prediction_one(sqlite3 *db, long model_id, long rowid, int *fold, double *y, double *p,
		       double *p_sd, lm_err *err);
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
	char value[64];    /* as shown ("." missing) */
	double num;        /* numeric value, NAN for text or missing */
	double pct;        /* numeric: mid-rank percentile among the cohort's values; text: the
			    * share of patients with this category (is_share); NAN when missing */
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
	char desc[200];        /* "bili 14.5 -> 0.5" */
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
} ops_patient;

/* Loads and explains one patient (the number shown is the number explained, above).
 * 0 or a status (EX_DATAERR "no patient with rowid N"). */
int ops_patient_load(sqlite3 *db, const ops_patient_opts *o, ops_patient *out, lm_err *err);
/* Sets column col to text value val ("." = missing) and explains again with the same network;
 * 0 or EX_DATAERR (unknown column, not a number). ops_patient_reset goes back. */
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
	char *name;         /* the lab's clinical label, or its name */
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

/* ---- explain as a job ---- */

/* Integrated gradients (and, when heads/last/roll are not NULL, attention) for n patients
 * of a loaded model's cohort (rows: indices into co->f), each patient with a stored
 * out-of-fold prediction with its fold model and the others with the final model (the rule
 * above), so that logit[q] is the logit of the patient's stored p. base: the baseline row in
 * the final network's encoding (mapped into each fold's); base_row >= 0: the baseline is that
 * patient of co (patient:ID), encoded with each network's own statistics. Per patient, all caller's arrays:
 * attr[n * nslot], logit[n], base_logit[n], delta[n], steps[n]; attention as attn_explain.
 * *n_fold counts the patients explained by a fold model. progress (may be NULL) is called
 * with patients done so far. 0 or a status. */
int ops_explain_cohort(sqlite3 *db, model *m, const ig_inputs *co, const long *rows, long n,
		       const float *base, long base_row, const ig_opts *io, float *attr, float *logit,
		       float *base_logit, float *delta, int *steps, float *heads, float *last,
		       float *roll, long *n_fold, void (*progress)(void *ctx, long done, long total),
		       void *ctx, lm_err *err);

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
	char baseline[160];    /* "mean", "patient:17" */
	int new_patients;      /* 1: patients of an --input CSV (the final network) */
} ops_explain_table;
void ops_explain_table_free(ops_explain_table *t);
/* Writes the table as CSV: id,method,network,COL...,logit,baseline_logit,sum,delta with one
 * row per patient and method: method "ig" (signed attributions; baseline_logit + sum = logit
 * within delta), "attention_weight" and "rollout_weight" (unsigned weights, at most 1 in
 * all; baseline_logit and delta empty). Numbers with 9 significant digits (float32 exactly).
 * 0, or EX_IOERR when the stream reports an error. */
int ops_explain_table_csv(FILE *out, const ops_explain_table *t, lm_err *err);
/* {model, baseline, columns [...], methods [...], patients [{id, network, logit,
 *  baseline_logit, sum, delta, ig {COL: v}, attention_weight {...}, rollout_weight {...}}]} */
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
/* Reads csv (id/row_ids: as lumen import's --id/--row-ids) and checks it against the
 * workbench and model m; every error is one line "CSV:LINE[:COL]: reason" with EX_DATAERR:
 * a model input missing from the header (line 1), a column the cohort does not have (line 1,
 * its position), text in a column the cohort holds as numbers, a value other than 0/1 in a
 * boolean column, or a category of a model input that the cohort never had (the line and
 * column of the first such cell). 0 or a status; ops_input_free (safe on a failed load). */
int ops_input_load(sqlite3 *db, const model *m, const char *csv, const char *id, int row_ids,
		   ops_input *out, lm_err *err);
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
	const char *method;    /* "ig", "attention" (a transformer), "all" (NULL: all) */
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
	long n_fold, n_final;  /* explained with their fold model / with the final model */
	char btext[160];       /* the baseline as stored ("mean", "patient:17") */
	double med, p99, max, rel_med, rel_p99; /* completeness errors, absolute and relative */
	long above_1pct, max_steps;
	double mean_steps;     /* gradient evaluations per patient, on average */
	double seconds_ig;
	ig_rule rule;
	int steps, auto_steps;
} ops_explain;

/* Explains every (or the listed) patient of a loaded model's cohort by the rule above
 * (ops_explain_cohort) and stores the attributions, the global importance and an access-log
 * row in one transaction (nothing on an error). 0 or a status. */
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
/* The patient's fold for model_id (its stored prediction's), -1 when none. */
int ops_patient_fold(sqlite3 *db, const model *m, long rowid);

/* The probability shown for a binary model's logit: the sigmoid, or for a survival model
 * (m->surv_n) the risk by its horizon, 1 - exp(-H0(horizon) e^logit), as model_predict. */
double ops_risk_of_logit(const model *m, double logit);

#endif
