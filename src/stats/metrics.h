/* metrics.h: classification metrics over predicted probabilities, as scikit-learn defines them.
 *
 * Inputs everywhere: p[n] predicted probabilities of the positive class, y[n] labels 0 or 1
 * (as doubles, the frame's cell type; any non-zero value counts as 1), w[n] optional case
 * weights (NULL = every weight 1). Nothing here allocates except the curve functions, whose
 * arrays the caller frees with free(). No function fails: a quantity that is undefined for
 * the input (AUC with one class present, precision with no predicted positive, ...) is NAN.
 *
 * Threshold convention: a patient is predicted positive when p >= threshold.
 *
 * Definitions (the unit tests check each against hand-worked cases and scikit-learn 1.2):
 *   AUC-ROC     trapezoid under the ROC curve taken over the distinct values of p, so tied
 *               scores count one half (sklearn.metrics.roc_auc_score).
 *   AP          sum over distinct thresholds, highest first, of (R_k - R_{k-1}) * P_k with
 *               R_0 = 0, no interpolation (sklearn.metrics.average_precision_score).
 *   Brier       weighted mean of (p - y)^2.
 *   log-loss    weighted mean of -(y log p + (1-y) log(1-p)), p clipped to
 *               [METRICS_EPS, 1 - METRICS_EPS] (sklearn's historical eps=1e-15).
 *   calibration logistic recalibration logit P(y=1) = a + b * logit(p) fitted by Newton's
 *               method (maximum likelihood, no penalty): `cal_slope` = b, `cal_intercept` = a
 *               of that two-parameter fit. `cal_citl` is calibration-in-the-large: the
 *               intercept a with the slope fixed at 1 (logit(p) as an offset). Both intercepts
 *               are reported; 0 and 1 are perfect. p is clipped as for log-loss before logit.
 *   Youden      the threshold among the distinct values of p maximising TPR - FPR (the
 *               highest such threshold on ties). */
#ifndef LUMEN_METRICS_H
#define LUMEN_METRICS_H

#include <cjson/cJSON.h>

#define METRICS_EPS 1e-15

/* Weighted confusion matrix at a threshold (counts when w is NULL). */
typedef struct metrics_confusion {
	double tp, fp, tn, fn;
} metrics_confusion;

void metrics_confusion_at(const double *p, const double *y, const double *w, long n,
			  double threshold, metrics_confusion *out);

/* Rates from a confusion matrix; NAN when the denominator is 0. */
double metrics_accuracy(const metrics_confusion *c);
double metrics_precision(const metrics_confusion *c);   /* PPV = tp / (tp + fp) */
double metrics_recall(const metrics_confusion *c);      /* TPR = tp / (tp + fn) */
double metrics_specificity(const metrics_confusion *c); /* TNR = tn / (tn + fp) */
double metrics_npv(const metrics_confusion *c);         /* tn / (tn + fn) */
double metrics_f1(const metrics_confusion *c);          /* 2tp / (2tp + fp + fn) */

/* Threshold-free metrics; NAN when undefined (n == 0, or AUC/AP with one class present). */
double metrics_auc(const double *p, const double *y, const double *w, long n);
double metrics_average_precision(const double *p, const double *y, const double *w, long n);
double metrics_brier(const double *p, const double *y, const double *w, long n);
double metrics_log_loss(const double *p, const double *y, const double *w, long n);

/* Calibration (see above). Any output pointer may be NULL. Outputs NAN when the fit is
 * undefined (one class present, or logit(p) constant for the slope); 0 on success, -1 when
 * Newton's method did not converge in 100 iterations (outputs NAN too). */
int metrics_calibration(const double *p, const double *y, const double *w, long n,
			double *slope, double *intercept, double *citl);

/* Youden's J threshold (see above); *j_out (may be NULL) receives max TPR - FPR.
 * NAN when one class is absent. */
double metrics_youden(const double *p, const double *y, const double *w, long n, double *j_out);

/* ROC curve over distinct thresholds, highest first, starting at (0,0) with threshold +inf
 * (as sklearn's roc_curve with drop_intermediate=False). Returns the number of points and
 * sets *fpr, *tpr, *thr to malloc'd arrays the caller frees; 0 with NULL arrays when one
 * class is absent. */
long metrics_roc_curve(const double *p, const double *y, const double *w, long n,
		       double **fpr, double **tpr, double **thr);

/* Reliability diagram with nbins equal-width bins on [0,1] (sklearn's calibration_curve,
 * strategy="uniform": p exactly on an inner edge goes to the lower bin). Only non-empty bins
 * are returned: *mean_pred and *frac_pos (weighted) and *count (number of patients) are
 * malloc'd arrays of the returned length, freed by the caller. */
int metrics_calibration_curve(const double *p, const double *y, const double *w, long n,
			      int nbins, double **mean_pred, double **frac_pos, long **count);

/* Multiclass: probs is n x C row-major, cls[i] in 0..C-1.
 * Accuracy of argmax (first maximum on ties); macro one-vs-rest AUC = mean over classes of
 * the binary AUC of probs[:,c] for class c against the rest (sklearn roc_auc_score with
 * multi_class="ovr", average="macro"); NAN when some class is absent. */
double metrics_mc_accuracy(const double *probs, const int *cls, const double *w, long n, int C);
double metrics_mc_auc_ovr(const double *probs, const int *cls, const double *w, long n, int C);

/* Everything for a binary model at one threshold. */
typedef struct metrics_binary {
	long n;
	double weight;     /* total weight (n when unweighted) */
	double prevalence; /* weighted share of positives */
	double threshold;
	metrics_confusion cm;
	double accuracy, precision, recall, specificity, npv, f1;
	double auc, ap, brier, log_loss;
	double cal_slope, cal_intercept, cal_citl;
	double mean_p;     /* mean predicted risk (compare with prevalence) */
	double youden_threshold, youden_j;
} metrics_binary;

void metrics_binary_compute(const double *p, const double *y, const double *w, long n,
			    double threshold, metrics_binary *out);

/* Adds every field of m to obj as numbers (NAN becomes JSON null), keys: n, weight,
 * prevalence, threshold, tp, fp, tn, fn, accuracy, precision, recall, specificity, npv, f1,
 * auc, average_precision, brier, log_loss, calibration_slope, calibration_intercept,
 * calibration_in_the_large, mean_predicted, youden_threshold, youden_j. Returns obj. */
cJSON *metrics_binary_json(cJSON *obj, const metrics_binary *m);

/* Adds a number, or null when v is NAN or infinite (JSON has no NaN). Returns the item. */
cJSON *metrics_json_number(cJSON *obj, const char *key, double v);

#endif
