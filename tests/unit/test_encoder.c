/* Unit tests for encoder.c: standardisation with training statistics only, one-hot encoding,
 * unseen categories, missing indicators, targets and stratified folds. Expected numbers are
 * worked out by hand in the comments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/data/encoder.h"

/* A hand-built frame. Columns: age (real), sex (text: f, m, x), bili (real, row 2 missing),
 * status (integer 0/1/2, row 5 missing), flag (boolean). Six rows. */
#define NR 6
static const double age_v[NR] = {40, 50, 60, 70, 80, 90};
static const double sex_v[NR] = {0, 1, 0, 2, 1, 0}; /* f m f x m f */
static const double bili_v[NR] = {1, 2, NAN, 4, 5, 6};
static const double status_v[NR] = {0, 2, 1, 2, 0, NAN};
static const double flag_v[NR] = {1, 0, 1, 1, 0, 0};

static void add_col(frame *f, const char *name, col_type type, const double *v, int ncat,
		    const char *const *cats)
{
	int i = f->ncol++;
	store_column *c = &f->cols.c[i];
	memset(c, 0, sizeof *c);
	c->name = xstrdup(name);
	c->type = type;
	c->role = COL_ROLE_FEATURE;
	c->ncat = ncat;
	c->distinct = ncat;
	if (ncat) {
		c->cats = xcalloc((size_t)ncat, sizeof *c->cats);
		c->cat_n = xcalloc((size_t)ncat, sizeof *c->cat_n);
		for (int k = 0; k < ncat; k++)
			c->cats[k] = xstrdup(cats[k]);
	}
	f->cols.n = f->ncol;
	f->col[i].v = xmallocarray(NR, sizeof(double));
	memcpy(f->col[i].v, v, NR * sizeof(double));
}

static void make_frame(frame *f)
{
	memset(f, 0, sizeof *f);
	f->nrow = NR;
	f->cols.c = xcalloc(8, sizeof *f->cols.c);
	f->col = xcalloc(8, sizeof *f->col);
	f->rowid = xmallocarray(NR, sizeof *f->rowid);
	for (long r = 0; r < NR; r++)
		f->rowid[r] = r + 1;
	static const char *const sexes[] = {"f", "m", "x"};
	add_col(f, "age", COL_TYPE_REAL, age_v, 0, NULL);
	add_col(f, "sex", COL_TYPE_TEXT, sex_v, 3, sexes);
	add_col(f, "bili", COL_TYPE_REAL, bili_v, 0, NULL);
	add_col(f, "status", COL_TYPE_INTEGER, status_v, 0, NULL);
	add_col(f, "flag", COL_TYPE_BOOLEAN, flag_v, 0, NULL);
	for (int i = 0; i < f->ncol; i++)
		f->col[i].meta = &f->cols.c[i];
}

static const char *const feats[] = {"age", "sex", "bili"};

/* Training rows 0..3: age mean 55, population sd sqrt(125) = 11.1803; sex f, m, x seen;
 * bili has a missing value in row 2, so a bili:missing slot; bili mean of 1,2,4 = 7/3,
 * sd = sqrt(((4/3)^2 + (1/3)^2 + (5/3)^2) / 3) = sqrt(42/27) = 1.24722. */
static void test_spec_fit(void **state)
{
	(void)state;
	frame f;
	make_frame(&f);
	long rows[] = {0, 1, 2, 3};
	enc_spec s;
	lm_err err = {0};
	assert_int_equal(enc_fit(&f, feats, 3, rows, 4, &s, &err), 0);
	assert_int_equal(s.ncolumn, 3);
	assert_int_equal(s.nslot, 6); /* age, sex=f, sex=m, sex=x, bili, bili:missing */
	assert_string_equal(s.slot[0].name, "age");
	assert_string_equal(s.slot[1].name, "sex=f");
	assert_string_equal(s.slot[2].name, "sex=m");
	assert_string_equal(s.slot[3].name, "sex=x");
	assert_string_equal(s.slot[4].name, "bili");
	assert_string_equal(s.slot[5].name, "bili:missing");
	assert_int_equal(s.slot[5].kind, SLOT_MISSING);
	assert_int_equal(s.slot[3].token, 1);
	assert_int_equal(s.slot[5].token, 2);
	assert_string_equal(s.slot[2].column, "sex");
	assert_true(fabs(s.slot[0].center - 55) < 1e-12);
	assert_true(fabs(s.slot[0].scale - sqrt(125.0)) < 1e-12);
	assert_true(fabs(s.slot[4].center - 7.0 / 3) < 1e-12);
	assert_true(fabs(s.slot[4].scale - 1.247219128924647) < 1e-12);

	/* encode all six rows with the training statistics */
	long all[NR] = {0, 1, 2, 3, 4, 5};
	float X[NR * 6];
	assert_int_equal(enc_encode(&s, &f, all, NR, X, &err), 0);
	/* row 4 (not in training): age (80 - 55) / 11.1803 = 2.23607 */
	assert_true(fabs(X[4 * 6 + 0] - 2.2360680f) < 1e-5);
	/* row 2: bili missing → value slot 0 (the mean), indicator 1 */
	assert_true(X[2 * 6 + 4] == 0.0f);
	assert_true(X[2 * 6 + 5] == 1.0f);
	/* row 5: bili (6 - 7/3) / 1.24722 = 2.93987, indicator 0 */
	assert_true(fabs(X[5 * 6 + 4] - 2.9398725f) < 1e-5);
	assert_true(X[5 * 6 + 5] == 0.0f);
	/* one-hot: row 1 is m, row 3 is x */
	assert_true(X[1 * 6 + 1] == 0.0f && X[1 * 6 + 2] == 1.0f && X[1 * 6 + 3] == 0.0f);
	assert_true(X[3 * 6 + 1] == 0.0f && X[3 * 6 + 2] == 0.0f && X[3 * 6 + 3] == 1.0f);

	/* sums back to columns */
	float attr[6] = {1, 2, 3, 4, 5, 6}, cols[3];
	enc_sum_to_columns(&s, attr, cols);
	assert_true(cols[0] == 1.0f && cols[1] == 9.0f && cols[2] == 11.0f);

	/* single patient values: age 55 (→ 0), sex "m", bili missing */
	enc_value vals[3] = {{55, NULL, NULL, 0}, {NAN, "m", NULL, 0}, {NAN, NULL, NULL, 0}};
	float x[6];
	enc_values(&s, vals, x);
	assert_true(x[0] == 0.0f && x[1] == 0.0f && x[2] == 1.0f && x[3] == 0.0f);
	assert_true(x[4] == 0.0f && x[5] == 1.0f);
	/* an unknown label encodes as all zeros */
	vals[1].text = "unknown";
	enc_values(&s, vals, x);
	assert_true(x[1] == 0.0f && x[2] == 0.0f && x[3] == 0.0f);
	enc_free(&s);
	frame_free(&f);
}

/* Training rows without "x" and without missing bili: no sex=x slot (x unseen → zeros) and
 * no bili:missing slot (a missing bili then encodes as the mean, 0). */
static void test_unseen_category(void **state)
{
	(void)state;
	frame f;
	make_frame(&f);
	long rows[] = {0, 1, 4, 5};
	enc_spec s;
	lm_err err = {0};
	assert_int_equal(enc_fit(&f, feats, 3, rows, 4, &s, &err), 0);
	assert_int_equal(s.nslot, 4); /* age, sex=f, sex=m, bili */
	assert_string_equal(s.slot[3].name, "bili");
	/* bili over rows 0,1,4,5: 1,2,5,6 → mean 3.5 */
	assert_true(fabs(s.slot[3].center - 3.5) < 1e-12);
	long r3[] = {3, 2};
	float X[8];
	assert_int_equal(enc_encode(&s, &f, r3, 2, X, &err), 0);
	assert_true(X[1] == 0.0f && X[2] == 0.0f); /* x: all zeros */
	assert_true(X[4 + 3] == 0.0f);             /* row 2 bili missing: mean */
	enc_free(&s);
	frame_free(&f);
}

/* Refit of the all-rows layout on rows 0, 1, 4, 5: age mean (40+50+80+90)/4 = 65; sex=x and
 * bili:missing do not occur in those rows, so they get scale 0 and encode as 0, as a fit on
 * those rows would (x unseen → zeros; bili without missing → imputed mean, no indicator). */
static void test_refit(void **state)
{
	(void)state;
	frame f;
	make_frame(&f);
	long all[NR] = {0, 1, 2, 3, 4, 5}, part[] = {0, 1, 4, 5};
	enc_spec layout, s;
	lm_err err = {0};
	assert_int_equal(enc_fit(&f, feats, 3, all, NR, &layout, &err), 0);
	assert_int_equal(layout.nslot, 6);
	enc_refit(&layout, &f, part, 4, &s);
	assert_int_equal(s.nslot, 6);
	assert_true(fabs(s.slot[0].center - 65) < 1e-12);
	assert_true(s.slot[1].scale == 1 && s.slot[2].scale == 1 && s.slot[3].scale == 0);
	assert_true(s.slot[5].scale == 0);
	assert_true(fabs(s.slot[4].center - 3.5) < 1e-12);
	float X[NR * 6];
	assert_int_equal(enc_encode(&s, &f, all, NR, X, &err), 0);
	assert_true(X[3 * 6 + 3] == 0.0f);                       /* x → zeros */
	assert_true(X[2 * 6 + 4] == 0.0f && X[2 * 6 + 5] == 0.0f); /* missing bili → mean, no flag */
	assert_true(fabs(X[5 * 6 + 0] - (float)(25 / sqrt(425.0))) < 1e-6); /* sd of 40,50,80,90 */
	enc_value vals[3] = {{65, NULL, NULL, 0}, {NAN, "x", NULL, 0}, {NAN, NULL, NULL, 0}};
	float x[6];
	enc_values(&s, vals, x);
	assert_true(x[0] == 0.0f && x[3] == 0.0f && x[5] == 0.0f);
	enc_free(&s);
	enc_free(&layout);
	frame_free(&f);
}

/* Encoding a frame of another file whose categories are in another order, and errors. */
static void test_encode_other_frame(void **state)
{
	(void)state;
	frame f, g;
	make_frame(&f);
	make_frame(&g);
	/* g's sex categories are listed m, f, x: the same labels under other indices */
	free(g.cols.c[1].cats[0]);
	free(g.cols.c[1].cats[1]);
	g.cols.c[1].cats[0] = xstrdup("m");
	g.cols.c[1].cats[1] = xstrdup("f");
	long rows[] = {0, 1, 2, 3, 4, 5};
	enc_spec s;
	lm_err err = {0};
	assert_int_equal(enc_fit(&f, feats, 3, rows, NR, &s, &err), 0);
	float X[NR * 6];
	assert_int_equal(enc_encode(&s, &g, rows, NR, X, &err), 0);
	/* g row 0 has index 0 = "m" */
	assert_true(X[1] == 0.0f && X[2] == 1.0f);
	/* a missing column is named */
	free(g.cols.c[2].name);
	g.cols.c[2].name = xstrdup("bilirubin");
	assert_int_equal(enc_encode(&s, &g, rows, NR, X, &err), EX_DATAERR);
	assert_non_null(strstr(err.msg, "'bili'"));
	/* an unknown feature at fit time */
	const char *bad[] = {"age", "nope"};
	enc_spec s2;
	assert_int_equal(enc_fit(&f, bad, 2, rows, NR, &s2, &err), EX_DATAERR);
	assert_string_equal(err.msg, "no column 'nope'");
	enc_free(&s);
	frame_free(&f);
	frame_free(&g);
}

static void test_targets(void **state)
{
	(void)state;
	frame f;
	make_frame(&f);
	enc_target t;
	lm_err err = {0};
	/* status 2 against the rest: rows 1 and 3 positive, row 5 missing */
	assert_int_equal(enc_target_make(&f, "status", "2", &t, &err), 0);
	assert_int_equal(t.nclass, 2);
	assert_string_equal(t.classes[1], "2");
	assert_string_equal(t.classes[0], "not 2");
	assert_int_equal(t.n_missing, 1);
	float want[NR] = {0, 1, 0, 1, 0, NAN};
	for (int r = 0; r < 5; r++)
		assert_true(t.y[r] == want[r]);
	assert_true(isnan(t.y[5]));
	enc_target_free(&t);
	/* no positive: three levels → multiclass 0, 1, 2 */
	assert_int_equal(enc_target_make(&f, "status", NULL, &t, &err), 0);
	assert_int_equal(t.nclass, 3);
	assert_string_equal(t.classes[2], "2");
	assert_true(t.y[1] == 2.0f && t.y[2] == 1.0f);
	enc_target_free(&t);
	/* boolean: binary with classes 0, 1 */
	assert_int_equal(enc_target_make(&f, "flag", NULL, &t, &err), 0);
	assert_int_equal(t.nclass, 2);
	assert_true(t.y[0] == 1.0f && t.y[1] == 0.0f);
	enc_target_free(&t);
	/* text with a positive label */
	assert_int_equal(enc_target_make(&f, "sex", "m", &t, &err), 0);
	assert_true(t.y[1] == 1.0f && t.y[0] == 0.0f && t.y[3] == 0.0f);
	enc_target_free(&t);
	/* errors: unknown positive, unknown column, a real column with many levels */
	assert_int_equal(enc_target_make(&f, "status", "7", &t, &err), EX_DATAERR);
	assert_string_equal(err.msg, "no patient has status = '7' (the positive class); its values are "
					"'0', '1', '2'");
	assert_int_equal(enc_target_make(&f, "nope", NULL, &t, &err), EX_DATAERR);
	assert_int_equal(enc_target_make(&f, "age", NULL, &t, &err), EX_DATAERR);
	assert_non_null(strstr(err.msg, "6 levels"));
	frame_free(&f);
}

static void test_one_class(void **state)
{
	(void)state;
	frame f;
	make_frame(&f);
	for (int r = 0; r < NR; r++)
		f.col[4].v[r] = 1;
	enc_target t;
	lm_err err = {0};
	assert_int_equal(enc_target_make(&f, "flag", NULL, &t, &err), EX_DATAERR);
	assert_string_equal(err.msg, "target 'flag' has one class ('1' for all 6 patients with a "
				     "value); a model needs two");
	frame_free(&f);
}

/* Folds: 100 rows, 30 positive, 5 folds → each fold has 6 positives and 14 negatives;
 * rows with a missing target get -1; the same seed gives the same folds. */
static void test_folds(void **state)
{
	(void)state;
	enum { N = 101 };
	enc_target t = {0};
	t.nclass = 2;
	char *cls[] = {"no", "yes"};
	t.classes = cls;
	float y[N];
	for (int i = 0; i < N; i++)
		y[i] = i % 10 < 3 ? 1.0f : 0.0f;
	y[100] = NAN;
	t.y = y;
	int fold[N], fold2[N], fold3[N];
	lm_err err = {0};
	assert_int_equal(enc_folds(&t, N, 5, 42, fold, &err), 0);
	int pos[5] = {0}, neg[5] = {0};
	for (int i = 0; i < 100; i++) {
		assert_true(fold[i] >= 0 && fold[i] < 5);
		if (y[i] == 1.0f)
			pos[fold[i]]++;
		else
			neg[fold[i]]++;
	}
	assert_int_equal(fold[100], -1);
	for (int k = 0; k < 5; k++) {
		assert_int_equal(pos[k], 6);
		assert_int_equal(neg[k], 14);
	}
	assert_int_equal(enc_folds(&t, N, 5, 42, fold2, &err), 0);
	assert_memory_equal(fold, fold2, sizeof fold);
	assert_int_equal(enc_folds(&t, N, 5, 43, fold3, &err), 0);
	assert_true(memcmp(fold, fold3, sizeof fold) != 0);
	/* 30 positives cannot fill 31 folds */
	assert_int_equal(enc_folds(&t, N, 31, 42, fold, &err), EX_DATAERR);
	assert_string_equal(err.msg, "class 'yes' has 30 patients, fewer than the 31 folds");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_fit),       cmocka_unit_test(test_unseen_category),
		cmocka_unit_test(test_refit),
		cmocka_unit_test(test_encode_other_frame), cmocka_unit_test(test_targets),
		cmocka_unit_test(test_one_class),      cmocka_unit_test(test_folds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
