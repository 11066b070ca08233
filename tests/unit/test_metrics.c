/* Unit tests for src/stats/metrics.c.
 * Hand-worked cases carry their working in comments; the oracle test compares a few hundred
 * seeded random values with scikit-learn run by Debian's /usr/bin/python3 (skipped with a
 * message when it or sklearn is absent). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../src/stats/metrics.h"
#include "../../src/util.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* The classic four-patient example (also sklearn's documentation example):
 *   p = .1 .4 .35 .8   y = 0 0 1 1
 * Sorted from the highest score: .8(+) .4(-) .35(+) .1(-); P = N = 2.
 * AUC by pairs: .8 beats both negatives (2), .35 beats .1 only (1) -> 3/4 = 0.75.
 * AP: at .8 recall .5 precision 1 -> .5; at .4 recall unchanged; at .35 recall 1 precision
 *     2/3 -> .5 * 2/3 = 1/3; AP = 5/6.
 * At threshold .5 only .8 is predicted positive: tp 1, fp 0, tn 2, fn 1 -> accuracy 3/4,
 *   precision 1, recall 1/2, specificity 1, NPV 2/3, F1 = 2/(2+0+1) = 2/3.
 * Brier = (.01 + .16 + .4225 + .04) / 4 = .158125.
 * Log-loss = -(ln .9 + ln .6 + ln .35 + ln .8) / 4.
 * Youden: J at .8 = .5 - 0, at .4 = .5 - .5, at .35 = 1 - .5, at .1 = 0; the highest
 *   threshold with the maximum .5 is .8. */
static const double P4[] = {0.1, 0.4, 0.35, 0.8};
static const double Y4[] = {0, 0, 1, 1};

static void test_hand_four(void **state)
{
	(void)state;
	metrics_confusion c;
	metrics_confusion_at(P4, Y4, NULL, 4, 0.5, &c);
	assert_true(c.tp == 1 && c.fp == 0 && c.tn == 2 && c.fn == 1);
	NEAR(metrics_accuracy(&c), 0.75, 1e-15);
	NEAR(metrics_precision(&c), 1.0, 1e-15);
	NEAR(metrics_recall(&c), 0.5, 1e-15);
	NEAR(metrics_specificity(&c), 1.0, 1e-15);
	NEAR(metrics_npv(&c), 2.0 / 3, 1e-15);
	NEAR(metrics_f1(&c), 2.0 / 3, 1e-15);
	NEAR(metrics_auc(P4, Y4, NULL, 4), 0.75, 1e-15);
	NEAR(metrics_average_precision(P4, Y4, NULL, 4), 5.0 / 6, 1e-15);
	NEAR(metrics_brier(P4, Y4, NULL, 4), 0.158125, 1e-15);
	NEAR(metrics_log_loss(P4, Y4, NULL, 4),
	     -(log(0.9) + log(0.6) + log(0.35) + log(0.8)) / 4, 1e-15);
	NEAR(metrics_log_loss(P4, Y4, NULL, 4), 0.472287954, 1e-9);
	double j;
	NEAR(metrics_youden(P4, Y4, NULL, 4, &j), 0.8, 0);
	NEAR(j, 0.5, 1e-15);
	/* threshold is inclusive: at .35 the patients .4 .35 .8 are positive */
	metrics_confusion_at(P4, Y4, NULL, 4, 0.35, &c);
	assert_true(c.tp == 2 && c.fp == 1 && c.tn == 1 && c.fn == 0);

	/* ROC curve: (0,0) at +inf, then (0,.5) .8, (.5,.5) .4, (.5,1) .35, (1,1) .1 */
	double *fpr, *tpr, *thr;
	long k = metrics_roc_curve(P4, Y4, NULL, 4, &fpr, &tpr, &thr);
	assert_int_equal(k, 5);
	const double wf[] = {0, 0, .5, .5, 1}, wt[] = {0, .5, .5, 1, 1}, wth[] = {.8, .4, .35, .1};
	assert_true(isinf(thr[0]));
	for (int i = 0; i < 5; i++) {
		NEAR(fpr[i], wf[i], 1e-15);
		NEAR(tpr[i], wt[i], 1e-15);
		if (i)
			NEAR(thr[i], wth[i - 1], 0);
	}
	free(fpr);
	free(tpr);
	free(thr);
}

/* Ties: p = .5 .5 .5 .2, y = 1 0 1 0. Pairs: each positive ties the negative at .5 (1/2 each,
 * 2 pairs -> 1) and beats .2 (2 pairs -> 2): AUC = 3/4, which is the trapezoid from (0,0) to
 * (.5,1) to (1,1): .5*1/2 + .5*1 = .75. AP: one threshold .5 holds all positives with
 * precision 2/3 -> AP = 2/3. */
static void test_ties(void **state)
{
	(void)state;
	const double p[] = {0.5, 0.5, 0.5, 0.2}, y[] = {1, 0, 1, 0};
	NEAR(metrics_auc(p, y, NULL, 4), 0.75, 1e-15);
	NEAR(metrics_average_precision(p, y, NULL, 4), 2.0 / 3, 1e-15);
	/* all scores tied: AUC 1/2, AP = prevalence */
	const double q[] = {0.3, 0.3, 0.3, 0.3, 0.3};
	const double z[] = {1, 0, 0, 1, 0};
	NEAR(metrics_auc(q, z, NULL, 5), 0.5, 1e-15);
	NEAR(metrics_average_precision(q, z, NULL, 5), 0.4, 1e-15);
}

/* Integer weights equal repeated patients. */
static void test_weights(void **state)
{
	(void)state;
	const double w[] = {1, 2, 1, 3};
	const double pr[] = {0.1, 0.4, 0.4, 0.35, 0.8, 0.8, 0.8};
	const double yr[] = {0, 0, 0, 1, 1, 1, 1};
	NEAR(metrics_auc(P4, Y4, w, 4), metrics_auc(pr, yr, NULL, 7), 1e-15);
	/* by pairs: positives .35 (x1) and .8 (x3) vs negatives .1 (x1) .4 (x2):
	 * .8 beats all 3 negatives x3 = 9, .35 beats .1 only = 1 -> 10 / (4*3) */
	NEAR(metrics_auc(P4, Y4, w, 4), 10.0 / 12, 1e-15);
	NEAR(metrics_average_precision(P4, Y4, w, 4), metrics_average_precision(pr, yr, NULL, 7), 1e-15);
	NEAR(metrics_brier(P4, Y4, w, 4), metrics_brier(pr, yr, NULL, 7), 1e-15);
	NEAR(metrics_log_loss(P4, Y4, w, 4), metrics_log_loss(pr, yr, NULL, 7), 1e-15);
	metrics_confusion c;
	metrics_confusion_at(P4, Y4, w, 4, 0.5, &c);
	assert_true(c.tp == 3 && c.fp == 0 && c.tn == 3 && c.fn == 1);
	/* zero weight removes a patient */
	const double w0[] = {1, 0, 1, 1};
	const double p3[] = {0.1, 0.35, 0.8}, y3[] = {0, 1, 1};
	NEAR(metrics_auc(P4, Y4, w0, 4), metrics_auc(p3, y3, NULL, 3), 1e-15);
}

/* One class present: AUC, the calibration fit and Youden are undefined (NAN); AP is NAN
 * without positives and 1 with positives only (every threshold has precision 1). */
static void test_one_class(void **state)
{
	(void)state;
	const double p[] = {0.2, 0.7, 0.4}, ones[] = {1, 1, 1}, zeros[] = {0, 0, 0};
	assert_true(isnan(metrics_auc(p, ones, NULL, 3)));
	assert_true(isnan(metrics_auc(p, zeros, NULL, 3)));
	assert_true(isnan(metrics_average_precision(p, zeros, NULL, 3)));
	NEAR(metrics_average_precision(p, ones, NULL, 3), 1.0, 1e-15);
	double s, a, c;
	metrics_calibration(p, ones, NULL, 3, &s, &a, &c);
	assert_true(isnan(s) && isnan(a) && isnan(c));
	assert_true(isnan(metrics_youden(p, zeros, NULL, 3, NULL)));
	double *f, *t, *th;
	assert_int_equal(metrics_roc_curve(p, zeros, NULL, 3, &f, &t, &th), 0);
	assert_null(f);
	assert_true(isnan(metrics_auc(p, ones, NULL, 0)));
	assert_true(isnan(metrics_brier(p, ones, NULL, 0)));
	metrics_confusion cm;
	metrics_confusion_at(p, zeros, NULL, 3, 0.9, &cm);
	assert_true(isnan(metrics_precision(&cm)) && isnan(metrics_recall(&cm)));
	NEAR(metrics_specificity(&cm), 1.0, 0);
}

/* Calibration, closed forms. Ten patients: five with p = .2 (one event) and five with p = .6
 * (four events). logit(p) takes two values x1 = logit .2 = -ln 4, x2 = logit .6 = ln 1.5, so
 * the two-parameter fit is saturated: a + b x1 = logit(1/5), a + b x2 = logit(4/5), giving
 * b = (ln 4 + ln 4) / (ln 1.5 + ln 4) = ln 16 / ln 6 and a = -ln 4 (1 - b).
 * Calibration-in-the-large: the score equation 5 s(a + x1) + 5 s(a + x2) = 5 events means
 * s(a + x1) + s(a + x2) = 1, i.e. a + x1 = -(a + x2): a = -(x1 + x2)/2 = (ln 4 - ln 1.5)/2. */
static void test_calibration_closed_form(void **state)
{
	(void)state;
	double p[10], y[10];
	for (int i = 0; i < 10; i++) {
		p[i] = i < 5 ? 0.2 : 0.6;
		y[i] = i < 5 ? (i == 0) : (i != 9);
	}
	double s, a, c;
	assert_int_equal(metrics_calibration(p, y, NULL, 10, &s, &a, &c), 0);
	double b = log(16) / log(6);
	NEAR(s, b, 1e-9);
	NEAR(a, -log(4) * (1 - b), 1e-9);
	NEAR(c, (log(4) - log(1.5)) / 2, 1e-9);
	/* constant p = .25 with prevalence .5: citl = logit(.5) - logit(.25) = ln 3; slope
	 * undefined because logit(p) does not vary */
	const double q[] = {0.25, 0.25, 0.25, 0.25}, z[] = {1, 0, 1, 0};
	metrics_calibration(q, z, NULL, 4, &s, &a, &c);
	assert_true(isnan(s) && isnan(a));
	NEAR(c, log(3), 1e-9);
	/* perfectly calibrated two-point design: 5 at .2 with 1 event, 5 at .6 with 3 */
	for (int i = 0; i < 10; i++)
		y[i] = i < 5 ? (i == 0) : (i >= 7);
	metrics_calibration(p, y, NULL, 10, &s, &a, &c);
	NEAR(s, 1.0, 1e-9);
	NEAR(a, 0.0, 1e-9);
	NEAR(c, 0.0, 1e-9);
}

/* Reliability bins, 2 bins split at .5 (.5 itself goes to the lower bin, as sklearn):
 * p = .1 .5 .7 .9, y = 0 1 1 0 -> bin 1: mean .3, fraction .5; bin 2: mean .8, fraction .5.
 * With 10 bins, p = .3 lies in (.2,.3] (the third bin), p = 0 in the first. */
static void test_calibration_curve(void **state)
{
	(void)state;
	const double p[] = {0.1, 0.5, 0.7, 0.9}, y[] = {0, 1, 1, 0};
	double *mp, *fp;
	long *cnt;
	int k = metrics_calibration_curve(p, y, NULL, 4, 2, &mp, &fp, &cnt);
	assert_int_equal(k, 2);
	NEAR(mp[0], 0.3, 1e-15);
	NEAR(fp[0], 0.5, 1e-15);
	NEAR(mp[1], 0.8, 1e-15);
	NEAR(fp[1], 0.5, 1e-15);
	assert_int_equal(cnt[0], 2);
	free(mp);
	free(fp);
	free(cnt);
	const double q[] = {0.3, 0.0, 0.31}, z[] = {1, 0, 0};
	k = metrics_calibration_curve(q, z, NULL, 3, 10, &mp, &fp, &cnt);
	assert_int_equal(k, 3);
	NEAR(mp[0], 0.0, 0);
	NEAR(mp[1], 0.3, 0);
	NEAR(fp[1], 1.0, 0);
	NEAR(mp[2], 0.31, 0);
	free(mp);
	free(fp);
	free(cnt);
}

/* Multiclass, four patients, three classes:
 *   probs .7 .2 .1 | .3 .4 .3 | .2 .5 .3 | .1 .2 .7    classes 0 1 2 2
 * argmax 0 1 1 2 -> accuracy 3/4.
 * One-vs-rest AUC: class 0 scores .7 .3 .2 .1 with the positive highest -> 1;
 *   class 1 scores .2 .4 .5 .2, positive .4 beats two of three negatives -> 2/3;
 *   class 2 scores .1 .3 .3 .7, positives .3 (beats .1, ties .3: 1.5) and .7 (2) -> 3.5/4.
 * Macro mean = (1 + 2/3 + 7/8) / 3 = 61/72. */
static void test_multiclass(void **state)
{
	(void)state;
	const double pr[] = {.7, .2, .1, .3, .4, .3, .2, .5, .3, .1, .2, .7};
	const int cls[] = {0, 1, 2, 2};
	NEAR(metrics_mc_accuracy(pr, cls, NULL, 4, 3), 0.75, 1e-15);
	NEAR(metrics_mc_auc_ovr(pr, cls, NULL, 4, 3), 61.0 / 72, 1e-15);
	const int two[] = {0, 1, 1, 1};
	assert_true(isnan(metrics_mc_auc_ovr(pr, two, NULL, 4, 3)));
}

static void test_binary_json(void **state)
{
	(void)state;
	metrics_binary m;
	metrics_binary_compute(P4, Y4, NULL, 4, 0.5, &m);
	NEAR(m.prevalence, 0.5, 0);
	NEAR(m.mean_p, 0.4125, 1e-15);
	cJSON *o = metrics_binary_json(cJSON_CreateObject(), &m);
	NEAR(cJSON_GetObjectItem(o, "auc")->valuedouble, 0.75, 1e-15);
	NEAR(cJSON_GetObjectItem(o, "tp")->valuedouble, 1, 0);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "calibration_in_the_large")));
	cJSON_Delete(o);
	/* NaN becomes null */
	const double ones[] = {1, 1, 1, 1};
	metrics_binary_compute(P4, ones, NULL, 4, 0.5, &m);
	o = metrics_binary_json(cJSON_CreateObject(), &m);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "auc")));
	cJSON_Delete(o);
}

/* ---- the scikit-learn oracle ---- */

static const char *oracle_py =
	"import sys\n"
	"import numpy as np\n"
	"from sklearn import metrics as M\n"
	"from sklearn.linear_model import LogisticRegression\n"
	"from sklearn.calibration import calibration_curve\n"
	"from scipy.optimize import brentq\n"
	"d = np.loadtxt(sys.argv[1])\n"
	"p, y, w = d[:, 0], d[:, 1].astype(int), d[:, 2]\n"
	"pm = d[:, 3:6]; cl = d[:, 6].astype(int)\n"
	"out = []\n"
	"for ww in (None, w):\n"
	"    out += [M.roc_auc_score(y, p, sample_weight=ww),\n"
	"            M.average_precision_score(y, p, sample_weight=ww),\n"
	"            M.brier_score_loss(y, p, sample_weight=ww),\n"
	"            M.log_loss(y, p, sample_weight=ww, eps=1e-15),\n"
	"            M.f1_score(y, (p >= 0.5).astype(int), sample_weight=ww),\n"
	"            M.precision_score(y, (p >= 0.5).astype(int), sample_weight=ww),\n"
	"            M.recall_score(y, (p >= 0.5).astype(int), sample_weight=ww),\n"
	"            M.accuracy_score(y, (p >= 0.5).astype(int), sample_weight=ww)]\n"
	"x = np.log(p / (1 - p)).reshape(-1, 1)\n"
	"lr = LogisticRegression(penalty=None, solver='newton-cg', tol=1e-12, max_iter=10000).fit(x, y)\n"
	"out += [lr.coef_[0][0], lr.intercept_[0]]\n"
	"sig = lambda z: 1 / (1 + np.exp(-z))\n"
	"out += [brentq(lambda a: np.sum(y - sig(a + x[:, 0])), -20, 20, xtol=1e-14)]\n"
	"fpr, tpr, thr = M.roc_curve(y, p, drop_intermediate=False)\n"
	"j = tpr - fpr\n"
	"out += [thr[np.argmax(j)], j.max()]\n"
	"pt, pp = calibration_curve(y, p, n_bins=10)\n"
	"out += [len(pt)] + list(pt) + list(pp)\n"
	"out += [M.roc_auc_score(cl, pm, multi_class='ovr', average='macro'),\n"
	"        M.accuracy_score(cl, pm.argmax(axis=1))]\n"
	"print(' '.join(repr(float(v)) for v in out))\n";

#define ON 300

static void test_sklearn_oracle(void **state)
{
	(void)state;
	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import sklearn, scipy' >/dev/null 2>&1") != 0) {
		skip();
		return;
	}
	double p[ON], y[ON], w[ON], pm[ON * 3];
	int cl[ON];
	lm_rng r;
	rng_seed(&r, 20261123);
	for (int i = 0; i < ON; i++) {
		y[i] = rng_uniform(&r) < 0.4;
		double z = rng_normal(&r) + 1.2 * y[i] - 0.3;
		/* two decimals: many ties */
		p[i] = round(100 / (1 + exp(-z))) / 100;
		if (p[i] < 0.01)
			p[i] = 0.01;
		if (p[i] > 0.99)
			p[i] = 0.99;
		w[i] = 1 + (double)rng_below(&r, 3);
		cl[i] = (int)rng_below(&r, 3);
		double e[3], s = 0;
		for (int c = 0; c < 3; c++) {
			e[c] = exp(rng_normal(&r) + (c == cl[i] ? 0.8 : 0));
			s += e[c];
		}
		for (int c = 0; c < 3; c++)
			pm[i * 3 + c] = e[c] / s;
	}
	char dir[] = "/tmp/lumen-metrics.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *data = xasprintf("%s/data.txt", dir), *py = xasprintf("%s/oracle.py", dir);
	FILE *f = fopen(data, "w");
	assert_non_null(f);
	for (int i = 0; i < ON; i++)
		fprintf(f, "%.17g %g %g %.17g %.17g %.17g %d\n", p[i], y[i], w[i], pm[i * 3],
			pm[i * 3 + 1], pm[i * 3 + 2], cl[i]);
	fclose(f);
	f = fopen(py, "w");
	assert_non_null(f);
	fputs(oracle_py, f);
	fclose(f);
	char *cmd = xasprintf("/usr/bin/python3 %s %s 2>/dev/null", py, data);
	FILE *pipe = popen(cmd, "r");
	assert_non_null(pipe);
	double o[64];
	int no = 0;
	while (no < 64 && fscanf(pipe, "%lf", &o[no]) == 1)
		no++;
	pclose(pipe);
	remove(data);
	remove(py);
	rmdir(dir);
	free(data);
	free(py);
	free(cmd);
	assert_true(no > 21);

	const double tol = 1e-6;
	int k = 0;
	for (int pass = 0; pass < 2; pass++) {
		const double *ww = pass ? w : NULL;
		metrics_binary m;
		metrics_binary_compute(p, y, ww, ON, 0.5, &m);
		NEAR(m.auc, o[k], tol);
		NEAR(m.ap, o[k + 1], tol);
		NEAR(m.brier, o[k + 2], tol);
		NEAR(m.log_loss, o[k + 3], tol);
		NEAR(m.f1, o[k + 4], tol);
		NEAR(m.precision, o[k + 5], tol);
		NEAR(m.recall, o[k + 6], tol);
		NEAR(m.accuracy, o[k + 7], tol);
		k += 8;
	}
	double s, a, c;
	assert_int_equal(metrics_calibration(p, y, NULL, ON, &s, &a, &c), 0);
	NEAR(s, o[k], tol);
	NEAR(a, o[k + 1], tol);
	NEAR(c, o[k + 2], tol);
	k += 3;
	double j, t = metrics_youden(p, y, NULL, ON, &j);
	NEAR(t, o[k], 1e-12);
	NEAR(j, o[k + 1], tol);
	k += 2;
	double *mp, *fp;
	long *cnt;
	int nb = metrics_calibration_curve(p, y, NULL, ON, 10, &mp, &fp, &cnt);
	assert_int_equal(nb, (int)o[k]);
	for (int b = 0; b < nb; b++) {
		NEAR(fp[b], o[k + 1 + b], tol);
		NEAR(mp[b], o[k + 1 + nb + b], tol);
	}
	k += 1 + 2 * nb;
	free(mp);
	free(fp);
	free(cnt);
	assert_true(no >= k + 2);
	NEAR(metrics_mc_auc_ovr(pm, cl, NULL, ON, 3), o[k], tol);
	NEAR(metrics_mc_accuracy(pm, cl, NULL, ON, 3), o[k + 1], tol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_four),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_one_class),
		cmocka_unit_test(test_calibration_closed_form),
		cmocka_unit_test(test_calibration_curve),
		cmocka_unit_test(test_multiclass),
		cmocka_unit_test(test_binary_json),
		cmocka_unit_test(test_sklearn_oracle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
