/* metrics.c: classification metrics (definitions in metrics.h). */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>

#include "../util.h"

#define W(w, i) ((w) ? (w)[i] : 1.0)
#define POS(y, i) ((y)[i] != 0.0)

void metrics_confusion_at(const double *p, const double *y, const double *w, long n,
			  double threshold, metrics_confusion *out)
{
	metrics_confusion c = {0, 0, 0, 0};
	for (long i = 0; i < n; i++) {
		double wi = W(w, i);
		int pred = p[i] >= threshold;
		if (POS(y, i)) {
			if (pred)
				c.tp += wi;
			else
				c.fn += wi;
		} else {
			if (pred)
				c.fp += wi;
			else
				c.tn += wi;
		}
	}
	*out = c;
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : (double)NAN;
}

double metrics_accuracy(const metrics_confusion *c)
{
	return ratio(c->tp + c->tn, c->tp + c->tn + c->fp + c->fn);
}
double metrics_precision(const metrics_confusion *c) { return ratio(c->tp, c->tp + c->fp); }
double metrics_recall(const metrics_confusion *c) { return ratio(c->tp, c->tp + c->fn); }
double metrics_specificity(const metrics_confusion *c) { return ratio(c->tn, c->tn + c->fp); }
double metrics_npv(const metrics_confusion *c) { return ratio(c->tn, c->tn + c->fn); }
double metrics_f1(const metrics_confusion *c)
{
	return ratio(2 * c->tp, 2 * c->tp + c->fp + c->fn);
}

/* ---- ranking metrics: one pass over the scores sorted from highest to lowest ---- */

typedef struct scored {
	double p, y, w;
} scored;

static int by_p_desc(const void *a, const void *b)
{
	double pa = ((const scored *)a)->p, pb = ((const scored *)b)->p;
	return (pa < pb) - (pa > pb);
}

/* Sorted copy without zero-weight cases (sklearn drops them too); caller frees. */
static scored *sort_scores(const double *p, const double *y, const double *w, long n, long *m)
{
	scored *s = xmallocarray(n > 0 ? (size_t)n : 1, sizeof *s);
	long k = 0;
	for (long i = 0; i < n; i++) {
		double wi = W(w, i);
		if (wi == 0)
			continue;
		s[k].p = p[i];
		s[k].y = POS(y, i) ? 1.0 : 0.0;
		s[k].w = wi;
		k++;
	}
	qsort(s, (size_t)k, sizeof *s, by_p_desc);
	*m = k;
	return s;
}

/* The ROC points at each distinct threshold: calls back with cumulative weighted true and
 * false positives after including every case with p >= thr. */
typedef void (*roc_visit)(void *ctx, double thr, double tp, double fp);

static void walk_roc(const scored *s, long m, roc_visit visit, void *ctx)
{
	double tp = 0, fp = 0;
	for (long i = 0; i < m;) {
		double thr = s[i].p;
		for (; i < m && s[i].p == thr; i++) {
			tp += s[i].w * s[i].y;
			fp += s[i].w * (1 - s[i].y);
		}
		visit(ctx, thr, tp, fp);
	}
}

static void class_totals(const scored *s, long m, double *P, double *N)
{
	double a = 0, b = 0;
	for (long i = 0; i < m; i++) {
		a += s[i].w * s[i].y;
		b += s[i].w * (1 - s[i].y);
	}
	*P = a;
	*N = b;
}

typedef struct auc_acc {
	double tp0, fp0, area;
} auc_acc;

static void auc_visit(void *ctx, double thr, double tp, double fp)
{
	auc_acc *a = ctx;
	(void)thr;
	a->area += (fp - a->fp0) * (tp + a->tp0) / 2;
	a->tp0 = tp;
	a->fp0 = fp;
}

double metrics_auc(const double *p, const double *y, const double *w, long n)
{
	long m;
	scored *s = sort_scores(p, y, w, n, &m);
	double P, N;
	class_totals(s, m, &P, &N);
	double r = (double)NAN;
	if (P > 0 && N > 0) {
		auc_acc a = {0, 0, 0};
		walk_roc(s, m, auc_visit, &a);
		r = a.area / (P * N);
	}
	free(s);
	return r;
}

typedef struct ap_acc {
	double P, r0, sum;
} ap_acc;

static void ap_visit(void *ctx, double thr, double tp, double fp)
{
	ap_acc *a = ctx;
	(void)thr;
	double r = tp / a->P;
	if (r > a->r0)
		a->sum += (r - a->r0) * tp / (tp + fp);
	a->r0 = r;
}

double metrics_average_precision(const double *p, const double *y, const double *w, long n)
{
	long m;
	scored *s = sort_scores(p, y, w, n, &m);
	double P, N;
	class_totals(s, m, &P, &N);
	double r = (double)NAN;
	if (P > 0) {
		ap_acc a = {P, 0, 0};
		walk_roc(s, m, ap_visit, &a);
		r = a.sum;
	}
	free(s);
	return r;
}

double metrics_brier(const double *p, const double *y, const double *w, long n)
{
	double sw = 0, s = 0;
	for (long i = 0; i < n; i++) {
		double d = p[i] - (POS(y, i) ? 1.0 : 0.0);
		s += W(w, i) * d * d;
		sw += W(w, i);
	}
	return ratio(s, sw);
}

static double clip(double p)
{
	if (p < METRICS_EPS)
		return METRICS_EPS;
	if (p > 1 - METRICS_EPS)
		return 1 - METRICS_EPS;
	return p;
}

double metrics_log_loss(const double *p, const double *y, const double *w, long n)
{
	double sw = 0, s = 0;
	for (long i = 0; i < n; i++) {
		double q = clip(p[i]);
		s -= W(w, i) * (POS(y, i) ? log(q) : log1p(-q));
		sw += W(w, i);
	}
	return ratio(s, sw);
}

/* ---- calibration: logistic recalibration by Newton's method ---- */

static double sigmoid(double z)
{
	return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

/* log(1 + exp(z)) without overflow */
static double softplus(double z)
{
	return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

/* Negative log-likelihood of y under logit = a + b x. */
static double nll(const double *x, const double *y, const double *w, long n, double a, double b)
{
	double s = 0;
	for (long i = 0; i < n; i++) {
		double z = a + b * x[i];
		s += W(w, i) * (softplus(z) - (POS(y, i) ? z : 0));
	}
	return s;
}

/* Fits (a, b) with b free, or a alone with b fixed at 1 when fix_slope. Newton steps with
 * step halving until the likelihood improves; converged when the step is below 1e-10. */
static int fit_logistic(const double *x, const double *y, const double *w, long n,
			int fix_slope, double *a_out, double *b_out)
{
	double a = 0, b = 1, f = nll(x, y, w, n, a, b);
	for (int it = 0; it < 100; it++) {
		double ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
		for (long i = 0; i < n; i++) {
			double wi = W(w, i), mu = sigmoid(a + b * x[i]);
			double r = wi * ((POS(y, i) ? 1.0 : 0.0) - mu), v = wi * mu * (1 - mu);
			ga += r;
			gb += r * x[i];
			haa += v;
			hab += v * x[i];
			hbb += v * x[i] * x[i];
		}
		double da, db;
		if (fix_slope) {
			if (!(haa > 0))
				return -1;
			da = ga / haa;
			db = 0;
		} else {
			double det = haa * hbb - hab * hab;
			if (!(det > 1e-300 * (haa * hbb > 1 ? haa * hbb : 1)))
				return -1;
			da = (hbb * ga - hab * gb) / det;
			db = (haa * gb - hab * ga) / det;
		}
		double t = 1, fn = nll(x, y, w, n, a + da, b + db);
		while (fn > f + 1e-12 * fabs(f) && t > 1e-6) {
			t /= 2;
			fn = nll(x, y, w, n, a + t * da, b + t * db);
		}
		a += t * da;
		b += t * db;
		f = fn;
		if (fabs(t * da) < 1e-10 * (1 + fabs(a)) && fabs(t * db) < 1e-10 * (1 + fabs(b))) {
			*a_out = a;
			*b_out = b;
			return 0;
		}
	}
	return -1;
}

int metrics_calibration(const double *p, const double *y, const double *w, long n,
			double *slope, double *intercept, double *citl)
{
	double s = (double)NAN, a = (double)NAN, c = (double)NAN;
	double P = 0, N = 0, xmin = INFINITY, xmax = -INFINITY;
	double *x = xmallocarray(n > 0 ? (size_t)n : 1, sizeof *x);
	for (long i = 0; i < n; i++) {
		double q = clip(p[i]);
		x[i] = log(q) - log1p(-q);
		if (W(w, i) > 0) {
			if (x[i] < xmin)
				xmin = x[i];
			if (x[i] > xmax)
				xmax = x[i];
		}
		if (POS(y, i))
			P += W(w, i);
		else
			N += W(w, i);
	}
	int rc = 0;
	if (P > 0 && N > 0) {
		double ca, cb;
		if (fit_logistic(x, y, w, n, 1, &ca, &cb) == 0)
			c = ca;
		else
			rc = -1;
		if (xmax > xmin) {
			double fa, fb;
			if (fit_logistic(x, y, w, n, 0, &fa, &fb) == 0) {
				a = fa;
				s = fb;
			} else {
				rc = -1;
			}
		}
	}
	free(x);
	if (slope)
		*slope = s;
	if (intercept)
		*intercept = a;
	if (citl)
		*citl = c;
	return rc;
}

/* ---- Youden and the curves ---- */

typedef struct youden_acc {
	double P, N, best_j, best_t;
} youden_acc;

static void youden_visit(void *ctx, double thr, double tp, double fp)
{
	youden_acc *a = ctx;
	double j = tp / a->P - fp / a->N;
	if (j > a->best_j) {
		a->best_j = j;
		a->best_t = thr;
	}
}

double metrics_youden(const double *p, const double *y, const double *w, long n, double *j_out)
{
	long m;
	scored *s = sort_scores(p, y, w, n, &m);
	double P, N;
	class_totals(s, m, &P, &N);
	youden_acc a = {P, N, -INFINITY, (double)NAN};
	if (P > 0 && N > 0)
		walk_roc(s, m, youden_visit, &a);
	free(s);
	if (j_out)
		*j_out = isnan(a.best_t) ? (double)NAN : a.best_j;
	return a.best_t;
}

typedef struct curve_acc {
	double P, N;
	long k;
	double *fpr, *tpr, *thr;
} curve_acc;

static void curve_visit(void *ctx, double thr, double tp, double fp)
{
	curve_acc *a = ctx;
	a->fpr[a->k] = fp / a->N;
	a->tpr[a->k] = tp / a->P;
	a->thr[a->k] = thr;
	a->k++;
}

long metrics_roc_curve(const double *p, const double *y, const double *w, long n,
		       double **fpr, double **tpr, double **thr)
{
	long m;
	scored *s = sort_scores(p, y, w, n, &m);
	double P, N;
	class_totals(s, m, &P, &N);
	*fpr = *tpr = *thr = NULL;
	if (!(P > 0 && N > 0)) {
		free(s);
		return 0;
	}
	curve_acc a = {P, N, 1, NULL, NULL, NULL};
	a.fpr = xmallocarray((size_t)m + 1, sizeof(double));
	a.tpr = xmallocarray((size_t)m + 1, sizeof(double));
	a.thr = xmallocarray((size_t)m + 1, sizeof(double));
	a.fpr[0] = a.tpr[0] = 0;
	a.thr[0] = INFINITY;
	walk_roc(s, m, curve_visit, &a);
	free(s);
	*fpr = a.fpr;
	*tpr = a.tpr;
	*thr = a.thr;
	return a.k;
}

int metrics_calibration_curve(const double *p, const double *y, const double *w, long n,
			      int nbins, double **mean_pred, double **frac_pos, long **count)
{
	if (nbins < 1)
		nbins = 1;
	double *sp = xcalloc((size_t)nbins, sizeof *sp), *sy = xcalloc((size_t)nbins, sizeof *sy);
	double *sw = xcalloc((size_t)nbins, sizeof *sw);
	long *cnt = xcalloc((size_t)nbins, sizeof *cnt);
	for (long i = 0; i < n; i++) {
		/* bin b holds (b/nbins, (b+1)/nbins]; the first bin also holds 0 */
		int b = (int)ceil(p[i] * nbins) - 1;
		if (b < 0)
			b = 0;
		if (b >= nbins)
			b = nbins - 1;
		/* guard against p*nbins rounding across an edge: compare with the edge itself */
		while (b > 0 && p[i] <= (double)b / nbins)
			b--;
		while (b < nbins - 1 && p[i] > (double)(b + 1) / nbins)
			b++;
		double wi = W(w, i);
		sp[b] += wi * p[i];
		sy[b] += wi * (POS(y, i) ? 1.0 : 0.0);
		sw[b] += wi;
		cnt[b]++;
	}
	int k = 0;
	*mean_pred = xmallocarray((size_t)nbins, sizeof(double));
	*frac_pos = xmallocarray((size_t)nbins, sizeof(double));
	*count = xmallocarray((size_t)nbins, sizeof(long));
	for (int b = 0; b < nbins; b++) {
		if (cnt[b] == 0 || !(sw[b] > 0))
			continue;
		(*mean_pred)[k] = sp[b] / sw[b];
		(*frac_pos)[k] = sy[b] / sw[b];
		(*count)[k] = cnt[b];
		k++;
	}
	free(sp);
	free(sy);
	free(sw);
	free(cnt);
	return k;
}

/* ---- multiclass ---- */

double metrics_mc_accuracy(const double *probs, const int *cls, const double *w, long n, int C)
{
	double ok = 0, sw = 0;
	for (long i = 0; i < n; i++) {
		const double *r = probs + (size_t)i * (size_t)C;
		int best = 0;
		for (int c = 1; c < C; c++)
			if (r[c] > r[best])
				best = c;
		if (best == cls[i])
			ok += W(w, i);
		sw += W(w, i);
	}
	return ratio(ok, sw);
}

double metrics_mc_auc_ovr(const double *probs, const int *cls, const double *w, long n, int C)
{
	if (n <= 0 || C < 2)
		return (double)NAN;
	double *pc = xmallocarray((size_t)n, sizeof *pc), *yc = xmallocarray((size_t)n, sizeof *yc);
	double sum = 0;
	for (int c = 0; c < C; c++) {
		for (long i = 0; i < n; i++) {
			pc[i] = probs[(size_t)i * (size_t)C + (size_t)c];
			yc[i] = cls[i] == c;
		}
		sum += metrics_auc(pc, yc, w, n);
	}
	free(pc);
	free(yc);
	return sum / C;
}

/* ---- everything at once ---- */

void metrics_binary_compute(const double *p, const double *y, const double *w, long n,
			    double threshold, metrics_binary *m)
{
	double sw = 0, sp = 0, sy = 0;
	for (long i = 0; i < n; i++) {
		sw += W(w, i);
		sp += W(w, i) * p[i];
		sy += W(w, i) * (POS(y, i) ? 1.0 : 0.0);
	}
	m->n = n;
	m->weight = sw;
	m->prevalence = ratio(sy, sw);
	m->mean_p = ratio(sp, sw);
	m->threshold = threshold;
	metrics_confusion_at(p, y, w, n, threshold, &m->cm);
	m->accuracy = metrics_accuracy(&m->cm);
	m->precision = metrics_precision(&m->cm);
	m->recall = metrics_recall(&m->cm);
	m->specificity = metrics_specificity(&m->cm);
	m->npv = metrics_npv(&m->cm);
	m->f1 = metrics_f1(&m->cm);
	m->auc = metrics_auc(p, y, w, n);
	m->ap = metrics_average_precision(p, y, w, n);
	m->brier = metrics_brier(p, y, w, n);
	m->log_loss = metrics_log_loss(p, y, w, n);
	metrics_calibration(p, y, w, n, &m->cal_slope, &m->cal_intercept, &m->cal_citl);
	m->youden_threshold = metrics_youden(p, y, w, n, &m->youden_j);
}

cJSON *metrics_json_number(cJSON *obj, const char *key, double v)
{
	if (isfinite(v))
		return cJSON_AddNumberToObject(obj, key, v);
	return cJSON_AddNullToObject(obj, key);
}

cJSON *metrics_binary_json(cJSON *obj, const metrics_binary *m)
{
	metrics_json_number(obj, "n", (double)m->n);
	metrics_json_number(obj, "weight", m->weight);
	metrics_json_number(obj, "prevalence", m->prevalence);
	metrics_json_number(obj, "threshold", m->threshold);
	metrics_json_number(obj, "tp", m->cm.tp);
	metrics_json_number(obj, "fp", m->cm.fp);
	metrics_json_number(obj, "tn", m->cm.tn);
	metrics_json_number(obj, "fn", m->cm.fn);
	metrics_json_number(obj, "accuracy", m->accuracy);
	metrics_json_number(obj, "precision", m->precision);
	metrics_json_number(obj, "recall", m->recall);
	metrics_json_number(obj, "specificity", m->specificity);
	metrics_json_number(obj, "npv", m->npv);
	metrics_json_number(obj, "f1", m->f1);
	metrics_json_number(obj, "auc", m->auc);
	metrics_json_number(obj, "average_precision", m->ap);
	metrics_json_number(obj, "brier", m->brier);
	metrics_json_number(obj, "log_loss", m->log_loss);
	metrics_json_number(obj, "calibration_slope", m->cal_slope);
	metrics_json_number(obj, "calibration_intercept", m->cal_intercept);
	metrics_json_number(obj, "calibration_in_the_large", m->cal_citl);
	metrics_json_number(obj, "mean_predicted", m->mean_p);
	metrics_json_number(obj, "youden_threshold", m->youden_threshold);
	metrics_json_number(obj, "youden_j", m->youden_j);
	return obj;
}
