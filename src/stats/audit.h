/* audit.h: fairness audit of a binary model's predictions across patient groups.
 *
 * Per group (rows with group >= 0): the metrics of audit_metrics[] at one threshold
 * (predicted positive when p >= threshold, as metrics.h). Disparities: for each metric the
 * difference and the ratio against a reference group; a ratio outside [tolerance, 1/tolerance]
 * (default 0.8 to 1.25, the four-fifths rule Aequitas uses) is flagged for the metrics marked
 * `flag` below; groups under AUDIT_MIN_N patients are marked too small to judge and never
 * flagged. Summary figures as Fairlearn defines them (between_groups = max - min or min/max
 * over the groups): demographic-parity difference and ratio (selection rate), equalised-odds
 * difference (the larger of the TPR and FPR differences) and ratio (the smaller ratio),
 * equal-opportunity difference (TPR).
 *
 * Bootstrap (n_boot > 0): each replicate resamples, within every group, as many patients as
 * the group has, with replacement (seeded; replicate r uses its own stream, so results do not
 * depend on the thread count); 95% percentile intervals for every metric, disparity and
 * summary figure. A flagged disparity is "significant" when its ratio's interval excludes 1.
 * Calibration slope and intercept are bootstrapped only while the largest group's size x
 * replicates stays under AUDIT_CAL_BOOT_MAX (Newton's method per replicate, warm-started at the
 * point estimate); beyond it their intervals are NAN (reported as null / "NA"). */
#ifndef LUMEN_AUDIT_H
#define LUMEN_AUDIT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "../util.h"

#define AUDIT_MIN_N 30
#define AUDIT_CAL_BOOT_MAX 200000000.0

enum {
	AM_N, AM_PREV, AM_SEL, AM_TPR, AM_FPR, AM_FNR, AM_TNR, AM_PPV, AM_NPV, AM_ACC, AM_AUC,
	AM_BRIER, AM_MEANP, AM_CITL, AM_SLOPE, AM_INTERCEPT, AM_NB, AM_NB_ALL, AUDIT_NMETRIC
};

typedef struct audit_metric_info {
	const char *key;   /* JSON key */
	const char *title; /* column heading */
	int flag;          /* disparities of this metric are judged against the tolerance */
} audit_metric_info;

/* AM_CITL is mean predicted risk minus observed rate; AM_NB the net benefit of treating
 * patients with p >= t: TP/n - FP/n * t/(1-t); AM_NB_ALL that of treating everyone. */
extern const audit_metric_info audit_metrics[AUDIT_NMETRIC];

typedef struct audit_input {
	long n;
	const double *p, *y; /* predictions and 0/1 labels */
	const int *group;    /* 0..G-1, or -1 to leave the row out */
	int G;
	char *const *label;  /* G group labels */
} audit_input;

typedef struct audit_opts {
	double threshold;  /* used when youden == 0 */
	int youden;        /* threshold = Youden's J on all rows */
	int ref;           /* reference group, -1 = the largest */
	double tolerance;  /* 0.8 */
	int n_boot;        /* 0 = no intervals */
	uint64_t seed;
	int threads;       /* 1 or more */
	double deadline;   /* lm_seconds() past which the bootstrap stops and audit_run fails
			    * with EX_TEMPFAIL (a script's time limit); 0 = none */
} audit_opts;

typedef struct audit_summary {
	double dp_diff, dp_ratio, eodds_diff, eodds_ratio, eopp_diff;
} audit_summary;

#define AUDIT_NSUMMARY 5
/* The summary figures by index 0..4 in the order above (for tables and loops), and their
 * JSON keys. */
double *audit_summary_at(audit_summary *s, int k);
extern const char *const audit_summary_keys[AUDIT_NSUMMARY];

/* Per-group thresholds that match the reference group (deterministic, never randomised). */
typedef struct audit_thresholds {
	double eo_t, eo_tpr, eo_acc;   /* threshold giving the TPR nearest the reference's */
	double sr_t, sr_sel, sr_acc;   /* ... the selection rate nearest the reference's */
	double acc;                    /* accuracy at the common threshold */
} audit_thresholds;

typedef struct audit_result {
	int G, ref, n_boot;
	double threshold, tolerance;
	long *size;
	int *small;                       /* size < AUDIT_MIN_N */
	double *val, *lo, *hi;            /* G x AUDIT_NMETRIC; lo/hi NAN without bootstrap */
	double *diff, *diff_lo, *diff_hi; /* against the reference */
	double *ratio, *ratio_lo, *ratio_hi;
	int *flag;                        /* +1 above 1/tol, -1 below tol, 0 within or not judged */
	int *sig;                         /* flagged and the ratio's interval excludes 1 */
	audit_summary sum, sum_lo, sum_hi;
	audit_thresholds *thr;            /* G */
} audit_result;

#define AUDIT_AT(g, m) ((size_t)(g) * AUDIT_NMETRIC + (size_t)(m))

/* Runs the audit. EX_DATAERR when a group is empty, the threshold is not in (0,1), or the
 * labels of all rows are one class. Free with audit_result_free. */
int audit_run(const audit_input *in, const audit_opts *o, audit_result *out, lm_err *err);
void audit_result_free(audit_result *r);

/* Net benefit per group at each of nt thresholds: nb[g * nt + k] for the model and
 * all[g * nt + k] for treating everyone (arrays of G * nt, caller-allocated). */
void audit_decision_curve(const audit_input *in, const double *t, int nt, double *nb,
			  double *all);

/* Association of a grouping with another variable over rows with group >= 0 and x not NAN:
 * categorical x (values are category indices) -> Cramér's V; numeric x -> the correlation
 * ratio eta (share of x's spread explained by the groups, square-rooted). 0..1, NAN when
 * undefined. */
double audit_cramers_v(const int *group, int G, const double *x, long n);
double audit_eta(const int *group, int G, const double *x, long n);

/* The whole result as JSON (groups, metrics with intervals, disparities, summary,
 * thresholds). Returns a new object the caller deletes. */
cJSON *audit_result_json(const audit_result *r, char *const *label);

#endif
