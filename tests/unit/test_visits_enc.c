/* Unit tests for the visit-sequence encoder (src/data/visits_enc.c) on hand-built visits:
 * right alignment and truncation to the last K visits, standardisation with the training
 * rows' visits (and a fold's own in venc_refit), the missing mask, the two time gaps, two
 * visits at one time, a patient with no visits, an all-missing lab left out, the geometry,
 * and enc_values giving the same row as enc_encode. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/data/visits_enc.h"

#pragma GCC diagnostic ignored "-Wdouble-promotion"

/* Patients rowid 1..4: 1 has visits at days 0, 100, 250, 400 (a: 1, 2, 3, 4; b missing at
 * day 100), 2 has two visits at day 50 (a: 10, NAN), 3 has none, 4 one visit at day 7
 * (a: 5). Lab c is always missing. */
static venc_visits *make_visits(void)
{
	venc_visits *v = calloc(1, sizeof *v);
	v->nlab = 3;
	v->lab = calloc(3, sizeof *v->lab);
	v->lab[0] = strdup("a");
	v->lab[1] = strdup("b");
	v->lab[2] = strdup("c");
	v->time_col = strdup("day");
	double t[] = {0, 100, 250, 400, 50, 50, 7};
	double a[] = {1, 2, 3, 4, 10, NAN, 5};
	double b[] = {0.5, NAN, 1.5, 2.5, 1, 1, 0};
	v->nvisit = 7;
	v->time = malloc(7 * sizeof *v->time);
	v->val = malloc(21 * sizeof *v->val);
	for (int i = 0; i < 7; i++) {
		v->time[i] = t[i];
		v->val[i * 3 + 0] = a[i];
		v->val[i * 3 + 1] = b[i];
		v->val[i * 3 + 2] = NAN;
	}
	v->maxrow = 4;
	v->start = calloc(6, sizeof *v->start);
	long st[] = {0, 0, 4, 6, 6, 7};
	memcpy(v->start, st, sizeof st);
	return v;
}

static void make_frame(frame *f)
{
	memset(f, 0, sizeof *f);
	f->nrow = 4;
	f->rowid = malloc(4 * sizeof *f->rowid);
	for (int i = 0; i < 4; i++)
		f->rowid[i] = i + 1;
	f->visits = make_visits();
}

static void test_fit_encode(void **state)
{
	(void)state;
	frame f;
	make_frame(&f);
	enc_spec sp;
	memset(&sp, 0, sizeof sp);
	long rows[] = {0, 1, 2, 3};
	char *warn = NULL;
	lm_err err = {0};
	assert_int_equal(venc_fit(&sp, &f, rows, 4, 3, &warn, &err), 0);
	/* lab c left out: 2 labs x 2 + 3 = 7 features a step, 3 steps */
	assert_non_null(warn);
	assert_non_null(strstr(warn, "left out: c"));
	free(warn);
	int S, K, F;
	assert_int_equal(venc_geometry(&sp, &S, &K, &F), 1);
	assert_int_equal(S, 0);
	assert_int_equal(K, 3);
	assert_int_equal(F, 7);
	assert_int_equal(sp.nslot, 21);
	assert_string_equal(sp.slot[0].name, "a[-3]");
	assert_string_equal(sp.slot[20].name, "visit[-1]");
	assert_string_equal(sp.slot[7 + 1].name, "a:missing[-2]");
	assert_string_equal(sp.columns[0], "visits.a");
	assert_int_equal(venc_static_columns(&sp), 0);
	/* a over the visits with a value: 1 2 3 4 10 5 -> mean 25/6 */
	double mean = 25.0 / 6, ss = 0;
	double av[] = {1, 2, 3, 4, 10, 5};
	for (int i = 0; i < 6; i++)
		ss += (av[i] - mean) * (av[i] - mean);
	double sd = sqrt(ss / 6);
	assert_true(fabs(sp.slot[0].center - mean) < 1e-12);
	assert_true(fabs(sp.slot[0].scale - sd) < 1e-12);
	/* gaps: patient 1: 0 100 150 150, patient 2: 0 0, patient 4: 0 */
	double sdp = sqrt((100.0 * 100 + 150.0 * 150 * 2) / 7);
	assert_true(fabs(sp.slot[4].scale - sdp) < 1e-9);
	double sdf = sqrt((100.0 * 100 + 250.0 * 250 + 400.0 * 400) / 7);
	assert_true(fabs(sp.slot[5].scale - sdf) < 1e-9);

	float X[4 * 21];
	memset(X, 0x7f, sizeof X); /* garbage: every slot must be written */
	assert_int_equal(venc_encode(&sp, &f, rows, 4, X, &err), 0);
	/* patient 1: the last 3 of 4 visits (days 100, 250, 400) */
	const float *x = X;
	assert_true(fabsf(x[0] - (float)((2 - mean) / sd)) < 1e-6f); /* a at day 100 */
	assert_true(x[2] == 0.0f && x[3] == 1.0f);                    /* b missing at day 100 */
	assert_true(fabsf(x[4] - (float)(100 / sdp)) < 1e-6f);         /* dt_prev */
	assert_true(fabsf(x[5] - (float)(100 / sdf)) < 1e-6f);         /* dt_first (day 0 dropped) */
	assert_true(x[6] == 1.0f);
	assert_true(fabsf(x[14] - (float)((4 - mean) / sd)) < 1e-6f);  /* latest visit, step 2 */
	assert_true(fabsf(x[19] - (float)(400 / sdf)) < 1e-6f);
	/* patient 2: one padded step, then two visits at the same day: dt_prev 0 */
	x = X + 21;
	for (int q = 0; q < 7; q++)
		assert_true(x[q] == 0.0f);
	assert_true(x[7 + 6] == 1.0f && x[14 + 6] == 1.0f);
	assert_true(x[14 + 4] == 0.0f && x[14 + 5] == 0.0f);
	assert_true(x[14 + 0] == 0.0f && x[14 + 1] == 1.0f); /* a missing at the second */
	/* patient 3: no visits, an empty sequence */
	x = X + 42;
	for (int q = 0; q < 21; q++)
		assert_true(x[q] == 0.0f);
	/* enc_values: the same row for patient 4 */
	float xv[21];
	enc_value vals[4];
	memset(vals, 0, sizeof vals);
	for (int t = 0; t < 4; t++) {
		vals[t].visits = f.visits;
		vals[t].rowid = 4;
	}
	enc_values(&sp, vals, xv);
	assert_memory_equal(xv, X + 63, sizeof xv);
	/* refit on patients 1 and 4 only: a's mean is that of 1 2 3 4 5 */
	enc_spec fold;
	long two[] = {0, 3};
	enc_refit(&sp, &f, two, 2, &fold);
	assert_true(fabs(fold.slot[0].center - 3.0) < 1e-12);
	assert_true(fabs(fold.slot[7].center - 3.0) < 1e-12);
	enc_free(&fold);
	enc_free(&sp);
	frame_free(&f);
}

static void test_no_lab(void **state)
{
	(void)state;
	frame f;
	make_frame(&f);
	/* only patient 3 (no visits) trains: no lab has a value */
	long rows[] = {2};
	enc_spec sp;
	memset(&sp, 0, sizeof sp);
	lm_err err = {0};
	char *warn = NULL;
	assert_int_equal(venc_fit(&sp, &f, rows, 1, 4, &warn, &err), EX_DATAERR);
	assert_non_null(strstr(err.msg, "no numeric lab"));
	free(warn);
	enc_free(&sp);
	frame_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit_encode),
		cmocka_unit_test(test_no_lab),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
