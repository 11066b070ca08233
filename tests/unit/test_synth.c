/* Unit tests for synth.c: per-patient determinism and independence of the streams, the true
 * logit against the documented formula recomputed here by hand, rounding and ranges, visits,
 * population moments, the bias parser, and that options change only what they are about. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/data/synth.h"

/* cmocka's assert_float_equal works in float; these checks need double. */
#define assert_near(got, want, tol) near_at((got), (want), (tol), __FILE__, __LINE__)
static void near_at(double got, double want, double tol, const char *file, int line)
{
	if (!(fabs(got - want) <= tol)) {
		print_error("%s:%d: got %.12g, want %.12g within %g\n", file, line, got, want, tol);
		fail();
	}
}

static synth_opts base_opts(void)
{
	synth_opts o = {.patients = 1000, .visits = 0, .seed = 1, .missing = 0.05, .bias_col = -1,
	                .bias_level = 0, .bias_rate = 0.5, .force = 0, .dir = NULL};
	return o;
}

static int lab(const char *name)
{
	int j = synth_lab_index(name);
	assert_true(j >= 0);
	return j;
}

static void test_deterministic(void **state)
{
	(void)state;
	synth_opts o = base_opts();
	/* calloc: the padding compared by assert_memory_equal is zero in both. */
	synth_patient *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	o.visits = 5;
	synth_patient_make(&o, 41, a);
	synth_patient_make(&o, 41, b);
	assert_memory_equal(a, b, offsetof(synth_patient, vday));
	assert_int_equal(a->id, 42);
	/* Another seed or another patient gives another draw. */
	o.seed = 2;
	synth_patient_make(&o, 41, b);
	assert_true(a->age != b->age || a->lab[0] != b->lab[0]);
	o.seed = 1;
	synth_patient_make(&o, 42, b);
	assert_true(a->age != b->age || a->lab[0] != b->lab[0]);
	free(a);
	free(b);
}

/* The logit recomputed from the recorded values with the coefficients of the man page. */
static void test_logit_formula(void **state)
{
	(void)state;
	synth_opts o = base_opts();
	synth_patient *p = malloc(sizeof *p);
	static const double smoke[] = {0.0, 0.25, 0.60};
	for (int visits = 0; visits <= 3; visits += 3) {
		o.visits = visits;
		for (long i = 0; i < 500; i++) {
			synth_patient_make(&o, i, p);
			double zna = (p->lab[lab("sodium")] - 140) / 3.2;
			double zc = log(p->lab[lab("crp")] / 2.5);
			double t = p->treatment;
			double want = (visits ? -1.635 : -1.59) + 0.55 * (p->age - 60) / 12
			            - 0.60 * (p->lab[lab("egfr")] - 85) / 20
			            + 0.45 * (p->lab[lab("hba1c")] - 5.8) / 0.9
			            + 0.35 * (p->lab[lab("sbp")] - 128) / 17
			            - 0.40 * (p->lab[lab("albumin")] - 4.1) / 0.4 + smoke[p->smoking]
			            + 0.35 * (zna * zna - 1) + 0.50 * zc + t * (-0.30 - 0.45 * zc);
			if (visits)
				want += 0.50 * (p->slope - 0.03) / 0.10;
			assert_near(p->logit, want, 1e-12);
			assert_near(p->p, 1 / (1 + exp(-want)), 1e-12);
			/* The terms add up to the logit, the interaction aside. */
			double s = synth_intercept(visits) - 0.45 * t * zc;
			for (int k = 0; k < SC_N; k++)
				s += p->term[k];
			assert_near(s, p->logit, 1e-12);
			if (!visits)
				assert_true(p->term[SC_SLOPE] == 0.0);
		}
	}
	free(p);
}

static void test_rounding_and_ranges(void **state)
{
	(void)state;
	synth_opts o = base_opts();
	synth_patient *p = malloc(sizeof *p);
	for (long i = 0; i < 2000; i++) {
		synth_patient_make(&o, i, p);
		assert_true(p->age >= 18 && p->age <= 95);
		for (int j = 0; j < SYNTH_NLABS; j++) {
			double scaled = p->lab[j] * pow(10, synth_lab_info(j)->decimals);
			assert_near(scaled, round(scaled), 1e-6);
			assert_true(p->lab[j] > 0);
		}
		assert_true(p->time >= 1 && p->time <= 3653);
		assert_true(p->event == 0 || p->event == 1);
		assert_true(p->outcome == p->outcome_true);
	}
	free(p);
}

static void test_visits(void **state)
{
	(void)state;
	synth_opts o = base_opts();
	synth_patient *p = malloc(sizeof *p);
	o.visits = 6;
	int seen[7] = {0};
	for (long i = 0; i < 3000; i++) {
		synth_patient_make(&o, i, p);
		assert_true(p->nvisits >= 1 && p->nvisits <= 6);
		seen[p->nvisits]++;
		assert_int_equal(p->vday[0], 0);
		assert_true(p->vlab[0][0] == p->lab[lab("creatinine")]);
		assert_true(p->vlab[0][3] == p->lab[lab("sbp")]);
		for (int v = 1; v < p->nvisits; v++) {
			long gap = p->vday[v] - p->vday[v - 1];
			assert_true(gap >= 90 && gap <= 365);
		}
	}
	/* Uniform on 1..6: 500 expected each; 5 standard deviations is about 100. */
	for (int k = 1; k <= 6; k++)
		assert_true(seen[k] > 400 && seen[k] < 600);
	free(p);
}

/* Moments over 20000 patients against the design: age normal(60, 12) (clipping is negligible),
 * sex 0.48 male, treatment 0.5, sodium normal(140, 3.2) rounded to integers. Tolerances are
 * about five standard errors. */
static void test_moments(void **state)
{
	(void)state;
	synth_opts o = base_opts();
	synth_patient *p = malloc(sizeof *p);
	const long n = 20000;
	double sa = 0, saa = 0, sm = 0, st = 0, sna = 0, sc = 0, se = 0, sce = 0, scc = 0, see = 0;
	double eth[5] = {0};
	int jc = lab("creatinine"), je = lab("egfr");
	for (long i = 0; i < n; i++) {
		synth_patient_make(&o, i, p);
		sa += p->age;
		saa += p->age * p->age;
		sm += p->sex;
		st += p->treatment;
		sna += p->lab[lab("sodium")];
		eth[p->ethnicity]++;
		double c = log(p->lab[jc]), e = p->lab[je];
		sc += c;
		se += e;
		sce += c * e;
		scc += c * c;
		see += e * e;
	}
	double ma = sa / (double)n;
	assert_near(ma, 60, 0.45);
	assert_near(sqrt(saa / (double)n - ma * ma), 12, 0.35);
	assert_near(sm / (double)n, 0.48, 0.018);
	assert_near(st / (double)n, 0.50, 0.018);
	assert_near(sna / (double)n, 140, 0.12);
	assert_near(eth[0] / (double)n, 0.58, 0.018);
	assert_near(eth[4] / (double)n, 0.04, 0.007);
	/* Both load on the renal factor with opposite signs. */
	double cov = sce / (double)n - sc * se / ((double)n * (double)n);
	double r = cov / sqrt((scc / (double)n - sc * sc / ((double)n * (double)n)) *
	                      (see / (double)n - se * se / ((double)n * (double)n)));
	assert_true(r < -0.2 && r > -0.6);
	free(p);
}

static void test_parse_bias(void **state)
{
	(void)state;
	synth_opts o = base_opts();
	lm_err err = {0};
	assert_int_equal(synth_parse_bias(&o, "sex=f", &err), 0);
	assert_int_equal(o.bias_col, SYNTH_BIAS_SEX);
	assert_int_equal(o.bias_level, 0);
	assert_int_equal(synth_parse_bias(&o, "site=C", &err), 0);
	assert_int_equal(o.bias_col, SYNTH_BIAS_SITE);
	assert_int_equal(o.bias_level, 2);
	assert_int_equal(synth_parse_bias(&o, "ethnicity=asian", &err), 0);
	assert_int_equal(o.bias_level, 3);
	assert_int_equal(synth_parse_bias(&o, "ethnicity", &err), EX_USAGE);
	assert_string_equal(err.msg, "--bias: 'ethnicity' is not COLUMN=GROUP (e.g. sex=f)");
	assert_int_equal(synth_parse_bias(&o, "sex=x", &err), EX_USAGE);
	assert_string_equal(err.msg, "--bias: unknown sex 'x' (one of f, m)");
	assert_int_equal(synth_parse_bias(&o, "sexx=f", &err), EX_USAGE);
	assert_string_equal(err.msg, "--bias: unknown column 'sexx' (one of sex, ethnicity, site)");
}

/* --bias and --missing change only the cells they are about. */
static void test_options_change_only_their_cells(void **state)
{
	(void)state;
	synth_opts o = base_opts(), ob = base_opts(), om = base_opts();
	synth_patient *a = malloc(sizeof *a), *b = malloc(sizeof *b);
	ob.bias_col = SYNTH_BIAS_SEX;
	ob.bias_level = 1; /* m */
	ob.bias_rate = 1.0;
	om.missing = 0.3;
	long flipped = 0, pos_m = 0;
	for (long i = 0; i < 3000; i++) {
		synth_patient_make(&o, i, a);
		synth_patient_make(&ob, i, b);
		assert_true(a->logit == b->logit && a->time == b->time && a->event == b->event);
		assert_int_equal(a->outcome_true, b->outcome_true);
		if (a->sex == 1 && a->outcome_true) {
			pos_m++;
			flipped += b->outcome == 0;
		} else {
			assert_int_equal(a->outcome, b->outcome);
		}
		synth_patient_make(&om, i, b);
		assert_memory_equal(a->lab, b->lab, sizeof a->lab);
		for (int j = 0; j < SYNTH_NLABS; j++)
			assert_true(b->missing[j] >= a->missing[j]); /* a higher rate only adds holes */
	}
	assert_true(pos_m > 0);
	assert_int_equal(flipped, pos_m); /* rate 1: every male positive is recorded as 0 */
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_logit_formula),
		cmocka_unit_test(test_rounding_and_ranges),
		cmocka_unit_test(test_visits),
		cmocka_unit_test(test_moments),
		cmocka_unit_test(test_parse_bias),
		cmocka_unit_test(test_options_change_only_their_cells),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
