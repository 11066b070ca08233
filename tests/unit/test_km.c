/* Unit tests for src/stats/km.c: hand-worked curves and log-rank, closed forms of the
 * chi-square tail, and pbc against numbers computed with R 4 / survival 3.5.3 (pasted below
 * with the R call that produced them, so the test needs no R). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/stats/km.h"
#include "../../src/util.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* times 1 2 2 3 4, events 1 1 0 1 0:
 *   t=1: 5 at risk, 1 death: S = 4/5,          Greenwood sum 1/(5*4)  = .05
 *   t=2: 4 at risk, 1 death, 1 censored: S = .8 * 3/4 = .6, sum += 1/(4*3) -> .13333
 *   t=3: 2 at risk, 1 death: S = .3,           sum += 1/(2*1) -> .63333
 *   t=4: 1 at risk, censored: S stays .3.
 * 95% log interval at t=2: .6 exp(-+1.959964 sqrt(.133333)), the upper end capped at 1.
 * Median: the first time S <= .5 is 3. At risk at 2.5 (time >= 2.5): 2. */
static void test_hand_curve(void **state)
{
	(void)state;
	const double t[] = {2, 1, 4, 2, 3};
	const int e[] = {1, 1, 0, 0, 1};
	km_curve c;
	km_fit(t, e, 5, &c);
	assert_int_equal(c.m, 4);
	assert_int_equal(c.events, 3);
	NEAR(c.surv[0], 0.8, 1e-15);
	NEAR(c.surv[1], 0.6, 1e-15);
	NEAR(c.surv[2], 0.3, 1e-15);
	NEAR(c.surv[3], 0.3, 1e-15);
	assert_int_equal(c.n_risk[1], 4);
	assert_int_equal(c.n_censor[1], 1);
	NEAR(c.se[1], sqrt(0.05 + 1.0 / 12), 1e-15);
	NEAR(c.se[2], sqrt(0.05 + 1.0 / 12 + 0.5), 1e-15);
	NEAR(c.lower[1], 0.6 * exp(-KM_Z95 * sqrt(2.0 / 15)), 1e-15);
	/* the upper bound .6 exp(1.96 sqrt(2/15)) = 1.23 is capped at 1 */
	NEAR(c.upper[1], 1.0, 0);
	NEAR(c.lower[2], 0.3 * exp(-KM_Z95 * sqrt(0.05 + 1.0 / 12 + 0.5)), 1e-15);
	NEAR(c.median, 3, 0);
	double lo, hi;
	NEAR(km_surv_at(&c, 2.5, &lo, &hi), 0.6, 1e-15);
	NEAR(km_surv_at(&c, 0.5, NULL, NULL), 1, 0);
	assert_int_equal(km_at_risk(&c, 2.5), 2);
	assert_int_equal(km_at_risk(&c, 2), 4);
	assert_int_equal(km_at_risk(&c, 0), 5);
	assert_int_equal(km_at_risk(&c, 9), 0);
	km_free(&c);
}

/* Four deaths at 1 2 3 4: S = .75 .5 .25 0. The curve sits at .5 exactly from 2 to 3, so
 * R's median is the midpoint 2.5. At S = 0 the interval is undefined (NAN). */
static void test_median_midpoint(void **state)
{
	(void)state;
	const double t[] = {1, 2, 3, 4};
	const int e[] = {1, 1, 1, 1};
	km_curve c;
	km_fit(t, e, 4, &c);
	NEAR(c.median, 2.5, 0);
	NEAR(c.surv[3], 0, 0);
	assert_true(isnan(c.lower[3]));
	/* the 25% quantile: the curve is .25 exactly from 3 to 4 -> 3.5 */
	NEAR(km_quantile(&c, 0.25, NULL, NULL), 3.5, 0);
	km_free(&c);
	/* never below .5: median undefined */
	const int e2[] = {1, 0, 0, 0};
	km_fit(t, e2, 4, &c);
	assert_true(isnan(c.median));
	km_free(&c);
}

/* Log-rank, two groups: A dies at 1 and 3, B at 2 and 4.
 *   t=1: 4 at risk (A 2, B 2), E_A = 1/2, V = 1*3/3 * 1/2 * 1/2 = 1/4
 *   t=2: 3 at risk (A 1, B 2), E_A = 1/3, V = 1*2/2 * 1/3 * 2/3 = 2/9
 *   t=3: 2 at risk (1, 1),     E_A = 1/2, V = 1/4
 *   t=4: 1 at risk (B),        E_A = 0,   V = 0
 * O_A = 2, E_A = 4/3, V = 13/18: chi-square = (2/3)^2 / (13/18) = 8/13, df 1,
 * p = erfc(sqrt(8/26)). */
static void test_logrank_hand(void **state)
{
	(void)state;
	const double t[] = {1, 3, 2, 4};
	const int e[] = {1, 1, 1, 1}, g[] = {0, 0, 1, 1};
	km_logrank lr;
	km_logrank_test(t, e, g, 4, 2, &lr);
	assert_int_equal(lr.df, 1);
	NEAR(lr.obs[0], 2, 0);
	NEAR(lr.expected[0], 4.0 / 3, 1e-15);
	NEAR(lr.expected[1], 8.0 / 3, 1e-15);
	NEAR(lr.chisq, 8.0 / 13, 1e-14);
	NEAR(lr.p, erfc(sqrt(4.0 / 13)), 1e-14);
	km_logrank_free(&lr);
}

/* Q(1,x) = e^-x; Q(1/2,x) = erfc(sqrt x); chi-square with 2 df: e^(-x/2); the 95% point of
 * chi-square(1) is 3.841458820694124 (qchisq(.95, 1) in R). */
static void test_gamma(void **state)
{
	(void)state;
	for (double x = 0.01; x < 60; x *= 1.7) {
		NEAR(km_gamma_q(1, x), exp(-x), 1e-14 * (1 + exp(-x)) + 1e-300);
		NEAR(km_gamma_q(0.5, x) / erfc(sqrt(x)), 1, 1e-12);
		NEAR(km_chisq_upper(x, 2) / exp(-x / 2), 1, 1e-12);
	}
	NEAR(km_chisq_upper(3.841458820694124, 1), 0.05, 1e-14);
	/* Q(3, x) = e^-x (1 + x + x^2/2) */
	NEAR(km_gamma_q(3, 2.5), exp(-2.5) * (1 + 2.5 + 3.125), 1e-14);
	NEAR(km_gamma_q(3, 40) / (exp(-40) * (1 + 40 + 800)), 1, 1e-12);
	assert_true(isnan(km_gamma_q(-1, 2)));
	NEAR(km_chisq_upper(0, 3), 1, 0);
}

/* ---- pbc against R ---- */

typedef struct pbc {
	long n;
	double time[500];
	int status[500], male[500], stage[500];
} pbc;

/* pbc.csv's columns: "id","time","status","trt","age","sex",...,"stage" (last); no field
 * holds a comma. */
static int load_pbc(pbc *d)
{
	const char *top = getenv("LUMEN_TOP");
	char *path = xasprintf("%s/sample_data/pbc.csv", top ? top : ".");
	FILE *f = fopen(path, "r");
	free(path);
	if (!f)
		return -1;
	char line[1024];
	d->n = 0;
	if (!fgets(line, sizeof line, f)) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof line, f) && d->n < 500) {
		char *fld[32];
		int nf = 0;
		char *s = line;
		fld[nf++] = s;
		for (; *s && nf < 32; s++)
			if (*s == ',') {
				*s = 0;
				fld[nf++] = s + 1;
			}
		if (nf < 20)
			continue;
		d->time[d->n] = atof(fld[1]);
		d->status[d->n] = atoi(fld[2]) == 2;
		d->male[d->n] = strstr(fld[5], "m") != NULL;
		d->stage[d->n] = strncmp(fld[19], "NA", 2) && fld[19][0] != '\n' && fld[19][0]
					 ? atoi(fld[19])
					 : 0;
		d->n++;
	}
	fclose(f);
	return 0;
}

/* R: f <- survfit(Surv(time, status == 2) ~ sex, data = pbc)
 *    summary(f, times = c(365, 730, 1825, 3650))   -> strata, time, n.risk, surv, lower, upper */
static const double R_SEX[8][6] = {
	{0, 365, 346, 0.925133689840, 0.898842374470, 0.952194031330},
	{0, 730, 326, 0.876908989327, 0.844222307425, 0.910861237376},
	{0, 1825, 181, 0.721998224898, 0.675763203641, 0.771396598611},
	{0, 3650, 29, 0.449874677257, 0.372226887974, 0.543720058318},
	{1, 365, 42, 0.954545454545, 0.894940452071, 1.000000000000},
	{1, 730, 39, 0.907982261641, 0.825967713185, 0.998140453064},
	{1, 1825, 16, 0.541059837986, 0.402401637306, 0.727496414383},
	{1, 3650, 6, 0.364174890952, 0.222016340934, 0.597358512630},
};

static void test_pbc_vs_r(void **state)
{
	(void)state;
	pbc *d = xcalloc(1, sizeof *d);
	if (load_pbc(d) != 0) {
		free(d);
		skip();
		return;
	}
	assert_int_equal(d->n, 418);
	double t[2][418];
	int e[2][418];
	long n[2] = {0, 0};
	for (long i = 0; i < d->n; i++) {
		int g = d->male[i];
		t[g][n[g]] = d->time[i];
		e[g][n[g]++] = d->status[i];
	}
	assert_int_equal(n[0], 374);
	km_curve c[2];
	for (int g = 0; g < 2; g++)
		km_fit(t[g], e[g], n[g], &c[g]);
	for (int r = 0; r < 8; r++) {
		const km_curve *cg = &c[(int)R_SEX[r][0]];
		double lo, hi, s = km_surv_at(cg, R_SEX[r][1], &lo, &hi);
		assert_int_equal(km_at_risk(cg, R_SEX[r][1]), (long)R_SEX[r][2]);
		NEAR(s, R_SEX[r][3], 1e-9);
		NEAR(lo, R_SEX[r][4], 1e-9);
		NEAR(hi, R_SEX[r][5], 1e-9);
	}
	/* print(f): f n 374 events 137 median 3445 (3170, NA); m 44, 24, 2386 (1536, NA) */
	assert_int_equal(c[0].events, 137);
	assert_int_equal(c[1].events, 24);
	NEAR(c[0].median, 3445, 0);
	NEAR(c[0].median_lower, 3170, 0);
	assert_true(isnan(c[0].median_upper));
	NEAR(c[1].median, 2386, 0);
	NEAR(c[1].median_lower, 1536, 0);
	assert_true(isnan(c[1].median_upper));
	km_free(&c[0]);
	km_free(&c[1]);

	/* survfit(Surv(time, status == 2) ~ 1, data = pbc): median 3395 (3090, 3853) */
	int ev[418];
	for (int i = 0; i < 418; i++)
		ev[i] = d->status[i];
	km_curve all;
	km_fit(d->time, ev, 418, &all);
	NEAR(all.median, 3395, 0);
	NEAR(all.median_lower, 3090, 0);
	NEAR(all.median_upper, 3853, 0);
	km_free(&all);

	/* survdiff(Surv(time, status == 2) ~ sex, data = pbc): chisq 2.97660042118766 on 1 df,
	 * p 0.0844765367421082, expected 143.7490961467 17.2509038533 */
	int g[418];
	for (int i = 0; i < 418; i++)
		g[i] = d->male[i];
	km_logrank lr;
	km_logrank_test(d->time, ev, g, 418, 2, &lr);
	assert_int_equal(lr.df, 1);
	NEAR(lr.chisq, 2.97660042118766, 1e-9);
	NEAR(lr.p, 0.0844765367421082, 1e-9);
	NEAR(lr.expected[0], 143.7490961467, 1e-8);
	NEAR(lr.obs[1], 24, 0);
	km_logrank_free(&lr);

	/* survdiff(Surv(time, status == 2) ~ stage, data = pbc) (6 missing stages left out):
	 * chisq 70.0762380382374 on 3 df, p 4.11086908431692e-15; observed 2 23 48 84,
	 * expected 11.4272974974 44.1276134879 61.2701232255 40.1749657892 */
	double ts[418];
	int es[418], gs[418];
	long k = 0;
	for (int i = 0; i < 418; i++)
		if (d->stage[i] >= 1) {
			ts[k] = d->time[i];
			es[k] = ev[i];
			gs[k++] = d->stage[i] - 1;
		}
	assert_int_equal(k, 412);
	km_logrank_test(ts, es, gs, k, 4, &lr);
	assert_int_equal(lr.df, 3);
	NEAR(lr.chisq, 70.0762380382374, 1e-9);
	NEAR(lr.p / 4.11086908431692e-15, 1, 1e-6);
	const double ex[] = {11.4272974974, 44.1276134879, 61.2701232255, 40.1749657892};
	for (int j = 0; j < 4; j++)
		NEAR(lr.expected[j], ex[j], 1e-8);
	NEAR(lr.obs[3], 84, 0);
	km_logrank_free(&lr);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_curve),
		cmocka_unit_test(test_median_midpoint),
		cmocka_unit_test(test_logrank_hand),
		cmocka_unit_test(test_gamma),
		cmocka_unit_test(test_pbc_vs_r),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
