/* ig.h: integrated gradients (Sundararajan et al. 2017) over the nn engine.
 *
 * For a patient x, a baseline b and the logit f of one class,
 *     IG_j(x) = (x_j - b_j) * integral_0^1 df/dx_j (b + a (x - b)) da,
 * approximated by a quadrature rule with `steps` nodes a_k and weights w_k on [0, 1]:
 *     IG_j ~= (x_j - b_j) * sum_k w_k g_j(b + a_k (x - b)).
 * Completeness: sum_j IG_j = f(x) - f(b) exactly for the exact integral; the stored
 * completeness error is delta = |sum_j IG_j - (f(x) - f(b))|.
 *
 * All the path points of a chunk of patients go through ONE nn_forward and ONE nn_backward
 * (rows = patients x steps), so a call explains many patients at sgemm speed.
 *
 * Baselines (all in the encoded slot space of the model's enc_spec):
 *   mean     the mean of the encoded training inputs (numeric slots ~0, one-hot slots the
 *            category frequencies, missing slots the missing rate): "an average patient".
 *   zero     the RAW value zero encoded: numeric slot (0 - center) / scale, one-hot slots 0
 *            (no category), missing indicators 0. Note that this is NOT slot value 0 (which
 *            is the cohort mean of a numeric column); it means "bili = 0", "age = 0".
 *   median   per slot, the median of the encoded training inputs (a one-hot slot gets 0 or
 *            1, so a group may have no category or, rarely, several).
 *   patient  the encoded row of the patient whose id-column value is ID (patient:ID).
 * "Training inputs" are the patients with a value of the model's target (those it was
 * trained on).
 *
 * The kernels are in ig.c; the workbench side (ig_inputs_*, the stored baselines, on-the-fly
 * explanations) in ig_store.c.
 *
 * Rules: IG_GAUSS (Gauss-Legendre, the default) and IG_TRAPEZOID (Riemann trapezoid with
 * steps + 1 points including both ends). See man lumen(1), explain, for why Gauss is the
 * default: at the same number of gradient evaluations its completeness error is lower. */
#ifndef LUMEN_IG_H
#define LUMEN_IG_H

#include <sqlite3.h>

#include "../src/data/encoder.h"
#include "../src/nn/model.h"
#include "../src/nn/nn.h"

typedef enum { IG_GAUSS, IG_TRAPEZOID, IG_EXACT } ig_rule;

/* "gauss" | "trapezoid" | "exact"; parse returns -1 for an unknown name.
 * IG_EXACT (ReLU mlp only): the path is cut at every kink of every hidden unit (found exactly,
 * layer by layer) and each linear piece contributes its length times its constant gradient,
 * so IG is exact up to float rounding; steps/auto are ignored and steps[] reports the number
 * of pieces (gradient evaluations) each patient needed. */
const char *ig_rule_name(ig_rule r);
int ig_rule_parse(const char *s);

/* Gauss-Legendre nodes and weights on [-1, 1] for n points (n >= 1), computed by Newton
 * iteration on the Legendre polynomial P_n; x ascending. x, w: n doubles, caller's. */
void ig_gauss_legendre(int n, double *x, double *w);

/* The path nodes alpha[k] in [0, 1] and weights w[k] (summing to 1) of a rule with `steps`
 * gradient evaluations: Gauss uses `steps` nodes; the trapezoid uses steps points
 * alpha = k / (steps - 1), k = 0..steps-1 (steps >= 2). Returns the number of nodes written
 * (= steps). alpha, w: steps doubles, caller's. */
int ig_path(ig_rule rule, int steps, double *alpha, double *w);

#define IG_MAX_STEPS 512
#define IG_DEFAULT_STEPS 64

typedef struct ig_opts {
	int steps;         /* gradient evaluations per patient (default 64); with auto, the start */
	int auto_steps;    /* 1: double the steps for patients whose error > tol * |f(x)-f(b)| */
	int max_steps;     /* cap for auto (default 512) */
	double tol;        /* relative completeness tolerance for auto (default 0.01) */
	double abs_tol;    /* errors below this always pass (float noise floor, default 1e-4) */
	ig_rule rule;      /* default IG_GAUSS */
	int cls;           /* class whose logit is explained: binary 1 = positive (default),
			    * 0 = negative (the negated logit); multiclass the class index */
	int chunk_rows;    /* rows per forward/backward (patients x steps); 0 (default): sized
			    * to keep the engine's workspace near 32 MB */
	int threads;       /* threads owning disjoint patients (default 1), each with its own
			    * copy of the network and OpenBLAS at one thread (ig_par.h); the
			    * results are the same numbers for any thread count */
} ig_opts;

void ig_opts_defaults(ig_opts *o);

/* Integrated gradients for n patients X (n * nslot, nslot = the net's n_in) against one
 * baseline row (nslot floats) with the network `net`. Writes, all caller's arrays:
 *   attr[n * nslot]    slot attributions
 *   logit[n]           f(x) (the explained class's logit)
 *   base_logit         f(b) (one value; may be NULL)
 *   delta[n]           completeness error |sum attr - (f(x) - f(b))|
 *   steps[n]           gradient evaluations used per patient (may be NULL)
 * progress (may be NULL) is called after each chunk with patients done so far.
 * 0 or EX_USAGE (bad steps/class) with err filled. */
int ig_batch(nn_model *net, const float *X, long n, const float *baseline, const ig_opts *o,
	     float *attr, float *logit, float *base_logit, float *delta, int *steps,
	     void (*progress)(void *ctx, long done, long total), void *ctx, lm_err *err);

/* A baseline choice as given on the command line. */
typedef enum { IG_BASE_MEAN, IG_BASE_ZERO, IG_BASE_MEDIAN, IG_BASE_PATIENT } ig_base_kind;
typedef struct ig_baseline {
	ig_base_kind kind;
	char patient[128]; /* IG_BASE_PATIENT: the id-column value */
} ig_baseline;

/* Parses "mean" | "zero" | "median" | "patient:ID"; 0 or EX_USAGE. */
int ig_baseline_parse(const char *s, ig_baseline *b, lm_err *err);
/* The text stored in attributions.baseline ("mean", "patient:17", ...) into buf. */
const char *ig_baseline_text(const ig_baseline *b, char *buf, size_t len);

/* Baselines from an encoded matrix (n * nslot) of training inputs: mean or median (kind
 * IG_BASE_MEAN or IG_BASE_MEDIAN), into out[nslot]. */
void ig_baseline_from_matrix(ig_base_kind kind, const float *X, long n, int nslot, float *out);
/* The zero baseline (raw zero encoded, see above) for a spec, into out[spec->nslot]. */
void ig_baseline_zero(const enc_spec *spec, float *out);

/* The inputs of a stored model for every patient, as explanations need them: the frame of its spec columns
 * (frame column j = spec column j), then its target and the id column (encoded where used);
 * train[i] = 1 for the patients with a target value. Free with ig_inputs_free. */
typedef struct ig_inputs {
	frame f;
	unsigned char *train; /* f.nrow flags */
	long ntrain;
	int id_col;           /* frame column of the id, -1 when the file has none (rowid used) */
	enc_target target;
} ig_inputs;
int ig_inputs_load(sqlite3 *db, const model *m, ig_inputs *c, lm_err *err);
void ig_inputs_free(ig_inputs *c);
/* Frame row of the patient whose id text is `id` (the rowid when there is no id column),
 * or -1. */
long ig_inputs_find(const ig_inputs *c, const char *id);
/* A baseline row from a loaded cohort; 0 or EX_DATAERR. */
int ig_inputs_baseline(const ig_inputs *c, const model *m, const ig_baseline *b, float *out,
		       lm_err *err);

/* Baselines stored with the model. The mean and median baselines are properties of a model
 * and its training patients, so they are computed once and kept in model_tensors as rows of
 * member IG_BASELINE_MEMBER (-2; folds are 0..K-1, the final network -1) named
 * "baseline.mean" and "baseline.median", shape "NSLOT", data NSLOT float32 in slot order:
 * exactly ig_baseline_from_matrix over the encoded training inputs (the values
 * ig_inputs_baseline computes). lumen train writes them when it saves a model; for a model
 * of an older file without them, lumen explain and ig_baseline_compute on a writable file
 * store them the first time they compute them. zero and patient:ID are not stored (cheap). */
#define IG_BASELINE_MEMBER (-2)

/* Computes the mean and the median of the training matrix T (n * m->spec.nslot, encoded
 * with m->spec) and writes both rows for model m->id (replacing them), inside the caller's
 * transaction. Nothing is written when n == 0. 0 or a status with err. */
int ig_baseline_store(sqlite3 *db, const model *m, const float *T, long n, lm_err *err);
/* The same from a loaded cohort (its patients with a target value). */
int ig_baseline_store_cohort(sqlite3 *db, const ig_inputs *c, const model *m, lm_err *err);
/* Reads a stored baseline of kind IG_BASE_MEAN or IG_BASE_MEDIAN into out (nslot floats):
 * 1 when found, 0 when the model has none (or for another kind), or EX_DATAERR when the
 * stored vector does not have nslot floats (err filled). */
int ig_baseline_load(sqlite3 *db, const model *m, ig_base_kind kind, float *out, lm_err *err);

/* The baseline row for a stored model. mean/median: the stored vector when there is one;
 * otherwise computed from the cohort c (or, when c is NULL, from the cohort loaded from db:
 * the model's columns and target, the training patients encoded; seconds for a million
 * patients) and then stored, mean and median, in a transaction of its own when the file is
 * writable and no transaction is open (a failure to store is ignored: the values are still
 * returned and the next call computes them again). zero: computed from the spec. patient:ID:
 * that patient's encoded row (from c or the loaded cohort). out: m->spec.nslot floats,
 * caller's. 0 or EX_DATAERR (e.g. "no patient with id 'X'"). */
int ig_baseline_get(sqlite3 *db, const ig_inputs *c, const model *m, const ig_baseline *b,
		    float *out, lm_err *err);
/* ig_baseline_get without a loaded cohort (the TUI and Lua: the first explanation of a
 * model with a stored baseline costs one small SELECT). */
int ig_baseline_compute(sqlite3 *db, const model *m, const ig_baseline *b, float *out,
			lm_err *err);

/* One patient explained, as the TUI and Lua show it. Arrays owned by the struct; free with
 * ig_explanation_free. */
typedef struct ig_explanation {
	int nslot, ncolumn;
	float *slots;    /* nslot attributions */
	float *columns;  /* ncolumn attributions, slots summed to spec columns */
	float logit, baseline_logit, delta;
	float prob;      /* the model's probability of the explained class */
	int steps;
} ig_explanation;

/* On-the-fly explanation of one patient with the model's final network, from raw values by
 * spec column (see enc_values; what-if edits them) or from an encoded row x.
 * baseline: m->spec.nslot floats (ig_baseline_compute, computed once and kept by the caller).
 * o may be NULL for the on-the-fly defaults: the exact rule for a ReLU mlp; otherwise
 * Gauss from 16 steps with auto doubling (so
 * every explanation meets the 1% completeness criterion or used 512 steps; measured on pbc,
 * 16 Gauss steps leave a transformer's error below 1e-4 relative). Fills *out (free with
 * ig_explanation_free). 0 or a status with err. Latency goal: < 5 ms for mlp/transformer. */
int ig_explain_values(model *m, const enc_value *vals, const float *baseline,
		      const ig_opts *o, ig_explanation *out, lm_err *err);
int ig_explain_x(model *m, const float *x, const float *baseline, const ig_opts *o,
		 ig_explanation *out, lm_err *err);
void ig_explanation_free(ig_explanation *e);

#endif
