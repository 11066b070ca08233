/* Baselines stored with the model (explain/ig.h: member -2, "baseline.mean" and
 * "baseline.median"): the median by selection against a sort done here; on a real workbench
 * (pbc imported and an mlp trained by the lumen binary, $LUMEN; skipped without it) the stored
 * vectors equal the ones recomputed from the cohort bit for bit, explanations are identical
 * with either, an older file without them is computed (read-only: nothing stored; writable:
 * stored once, then read), and a stored vector of the wrong size is a data error. */
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

#include "../../explain/ig.h"


/* Every frame row of the cohort encoded with the model's spec (caller frees). */
static float *encode_all(const model *m, const ig_inputs *co)
{
	long n = co->f.nrow;
	float *X = xmallocarray((size_t)n * (size_t)m->spec.nslot, sizeof *X);
	long *rows = xmallocarray((size_t)n, sizeof *rows);
	for (long i = 0; i < n; i++)
		rows[i] = i;
	lm_err e = {0};
	assert_int_equal(enc_encode(&m->spec, &co->f, rows, n, X, &e), 0);
	free(rows);
	return X;
}

static char dir[256], file[300];

static int setup(void **state)
{
	(void)state;
	const char *lumen = getenv("LUMEN"), *top = getenv("LUMEN_TOP");
	if (!lumen || !top || access(lumen, X_OK) != 0)
		return 0;
	snprintf(dir, sizeof dir, "%s", "/tmp/lumen-ig-baseline.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(file, sizeof file, "%s/pbc.lumen", dir);
	char *cmd = xasprintf("'%s' import '%s/sample_data/pbc.csv' -o '%s' --target status >/dev/null && "
			      "'%s' train '%s' --model mlp --target status --positive 2 --exclude time "
			      "--name mlp --folds 2 --quiet >/dev/null",
			      lumen, top, file, lumen, file);
	int rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (file[0]) {
		unlink(file);
		rmdir(dir);
	}
	return 0;
}

static int cmp_f(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/* The median by sorting each column: the oracle for the selection in ig.c. */
static void median_by_sort(const float *X, long n, int ns, float *out)
{
	float *c = xmallocarray((size_t)n, sizeof *c);
	for (int j = 0; j < ns; j++) {
		for (long i = 0; i < n; i++)
			c[i] = X[(size_t)i * (size_t)ns + (size_t)j];
		qsort(c, (size_t)n, sizeof *c, cmp_f);
		out[j] = n % 2 ? c[n / 2] : 0.5f * (c[n / 2 - 1] + c[n / 2]);
	}
	free(c);
}

static void test_median_small(void **state)
{
	(void)state;
	/* hand-worked: columns {3,1,2,4} -> 2.5, {0,1,1,1} -> 1, {7,7,7,7} -> 7 */
	const float X4[] = {3, 0, 7, 1, 1, 7, 2, 1, 7, 4, 1, 7};
	float m[3];
	ig_baseline_from_matrix(IG_BASE_MEDIAN, X4, 4, 3, m);
	assert_true(m[0] == 2.5f && m[1] == 1.0f && m[2] == 7.0f);
	/* odd: {5,1,3} -> 3, {-1,-2,-3} -> -2 */
	const float X3[] = {5, -1, 1, -2, 3, -3};
	float m2[2];
	ig_baseline_from_matrix(IG_BASE_MEDIAN, X3, 3, 2, m2);
	assert_true(m2[0] == 3.0f && m2[1] == -2.0f);
	/* mean, same matrix: 3 and -2 */
	ig_baseline_from_matrix(IG_BASE_MEAN, X3, 3, 2, m2);
	assert_true(fabsf(m2[0] - 3.0f) < 1e-7f && fabsf(m2[1] + 2.0f) < 1e-7f);
	/* one row: itself */
	ig_baseline_from_matrix(IG_BASE_MEDIAN, X3, 1, 2, m2);
	assert_true(m2[0] == 5.0f && m2[1] == -1.0f);
}

static void test_median_random(void **state)
{
	(void)state;
	/* continuous, 0/1 (one-hot: mostly ties), few levels, constant, sorted and reversed
	 * columns, for odd and even n: selection equals sorting exactly */
	const long sizes[] = {2, 3, 5, 8, 17, 100, 101, 1000, 4097};
	const int ns = 6;
	lm_rng r;
	rng_seed(&r, 42);
	for (size_t q = 0; q < LM_ARRAY_LEN(sizes); q++) {
		long n = sizes[q];
		float *X = xmallocarray((size_t)n * ns, sizeof *X);
		for (long i = 0; i < n; i++) {
			float *x = X + (size_t)i * ns;
			x[0] = (float)rng_normal(&r);
			x[1] = rng_uniform(&r) < 0.9 ? 1.0f : 0.0f;
			x[2] = (float)rng_below(&r, 4) - 1.5f;
			x[3] = 0.25f;
			x[4] = (float)i;
			x[5] = (float)(n - i);
		}
		float got[6], want[6];
		ig_baseline_from_matrix(IG_BASE_MEDIAN, X, n, ns, got);
		median_by_sort(X, n, ns, want);
		for (int j = 0; j < ns; j++)
			assert_true(got[j] == want[j]);
		assert_true(got[3] == 0.25f);
		assert_true(got[4] == (n % 2 ? (float)(n / 2) : (float)(n - 1) / 2.0f));
		free(X);
	}
}

/* Reads a model's stored baseline of a kind; fails the test when absent. */
static void stored(sqlite3 *db, const model *m, ig_base_kind k, float *out)
{
	lm_err err = {0};
	assert_int_equal(ig_baseline_load(db, m, k, out, &err), 1);
}

static int slot_of(const model *m, const char *name)
{
	for (int j = 0; j < m->spec.nslot; j++)
		if (!strcmp(m->spec.slot[j].name, name))
			return j;
	return -1;
}

static void test_stored_equals_recomputed(void **state)
{
	(void)state;
	if (!file[0])
		skip(); /* needs $LUMEN (run through make check) */
	lm_err err = {0};
	sqlite3 *db = store_open(file, 1, &err);
	assert_non_null(db);
	model *m = model_load(db, "mlp", &err);
	assert_non_null(m);
	int ns = m->spec.nslot;
	assert_int_equal(ns, 30);
	float *mean = xmallocarray((size_t)ns, sizeof *mean), *med = xmallocarray((size_t)ns, sizeof *med);
	float *re = xmallocarray((size_t)ns, sizeof *re);
	stored(db, m, IG_BASE_MEAN, mean);
	stored(db, m, IG_BASE_MEDIAN, med);
	/* zero and patient baselines are not stored */
	assert_int_equal(ig_baseline_load(db, m, IG_BASE_ZERO, re, &err), 0);
	assert_int_equal(ig_baseline_load(db, m, IG_BASE_PATIENT, re, &err), 0);

	ig_inputs co;
	assert_int_equal(ig_inputs_load(db, m, &co, &err), 0);
	float *coX = encode_all(m, &co); /* every patient encoded, independently of ig_store.c */
	assert_int_equal(co.ntrain, 418);
	ig_baseline b = {.kind = IG_BASE_MEAN};
	assert_int_equal(ig_inputs_baseline(&co, m, &b, re, &err), 0);
	assert_memory_equal(re, mean, (size_t)ns * sizeof *re);
	b.kind = IG_BASE_MEDIAN;
	assert_int_equal(ig_inputs_baseline(&co, m, &b, re, &err), 0);
	assert_memory_equal(re, med, (size_t)ns * sizeof *re);

	/* independent of ig.c: 374 of pbc's 418 patients are women, so the mean of the one-hot
	 * slot sex=f is their share, its median 1; a standardised complete column (age) has
	 * mean 0 and the median of its standardised values */
	int f = slot_of(m, "sex=f"), age = slot_of(m, "age");
	assert_true(f >= 0 && age >= 0);
	assert_true(fabs((double)mean[f] - 374.0 / 418.0) < 1e-6);
	assert_true(med[f] == 1.0f);
	assert_true(fabs((double)mean[age]) < 1e-5);
	float *ages = xmallocarray(418, sizeof *ages);
	for (long i = 0; i < 418; i++)
		ages[i] = coX[(size_t)i * (size_t)ns + (size_t)age];
	float am;
	median_by_sort(ages, 418, 1, &am);
	assert_true(med[age] == am);
	free(ages);

	/* ig_baseline_compute (no cohort, what the TUI calls) returns the stored vectors, and
	 * ig_baseline_get with a cohort the same */
	b.kind = IG_BASE_MEAN;
	assert_int_equal(ig_baseline_compute(db, m, &b, re, &err), 0);
	assert_memory_equal(re, mean, (size_t)ns * sizeof *re);
	b.kind = IG_BASE_MEDIAN;
	assert_int_equal(ig_baseline_get(db, &co, m, &b, re, &err), 0);
	assert_memory_equal(re, med, (size_t)ns * sizeof *re);
	/* zero and patient:ID as before */
	float *z = xmallocarray((size_t)ns, sizeof *z);
	ig_baseline_zero(&m->spec, z);
	b.kind = IG_BASE_ZERO;
	assert_int_equal(ig_baseline_compute(db, m, &b, re, &err), 0);
	assert_memory_equal(re, z, (size_t)ns * sizeof *re);
	assert_int_equal(ig_baseline_parse("patient:7", &b, &err), 0);
	assert_int_equal(ig_baseline_get(db, &co, m, &b, re, &err), 0);
	assert_memory_equal(re, coX + (size_t)6 * (size_t)ns, (size_t)ns * sizeof *re);
	free(z);

	/* explanations with the stored and the recomputed baseline are identical */
	b.kind = IG_BASE_MEAN;
	assert_int_equal(ig_inputs_baseline(&co, m, &b, re, &err), 0);
	for (long i = 0; i < 418; i += 59) {
		const float *x = coX + (size_t)i * (size_t)ns;
		ig_explanation e1, e2;
		assert_int_equal(ig_explain_x(m, x, mean, NULL, &e1, &err), 0);
		assert_int_equal(ig_explain_x(m, x, re, NULL, &e2, &err), 0);
		assert_memory_equal(e1.slots, e2.slots, (size_t)ns * sizeof(float));
		assert_true(e1.logit == e2.logit && e1.baseline_logit == e2.baseline_logit);
		assert_true(e1.delta == e2.delta && e1.steps == e2.steps);
		ig_explanation_free(&e1);
		ig_explanation_free(&e2);
	}
	free(coX);
	ig_inputs_free(&co);
	free(mean);
	free(med);
	free(re);
	model_free(m);
	store_close(db);
}

static long count_stored(sqlite3 *db)
{
	sqlite3_stmt *q = store_prepare(db, "SELECT count(*) FROM model_tensors WHERE member = -2", NULL);
	assert_non_null(q);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	long n = (long)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

static void test_older_file(void **state)
{
	(void)state;
	if (!file[0])
		skip();
	lm_err err = {0};
	/* the stored vectors as lumen train wrote them */
	sqlite3 *db = store_open(file, 0, &err);
	assert_non_null(db);
	model *m = model_load(db, "mlp", &err);
	assert_non_null(m);
	int ns = m->spec.nslot;
	float *mean = xmallocarray((size_t)ns, sizeof *mean), *med = xmallocarray((size_t)ns, sizeof *med);
	float *re = xmallocarray((size_t)ns, sizeof *re);
	stored(db, m, IG_BASE_MEAN, mean);
	stored(db, m, IG_BASE_MEDIAN, med);
	assert_int_equal(count_stored(db), 2);
	/* an older file: no stored baseline */
	assert_int_equal(store_exec(db, "DELETE FROM model_tensors WHERE member = -2", &err), 0);
	assert_int_equal(ig_baseline_load(db, m, IG_BASE_MEAN, re, &err), 0);
	/* the model still loads (member -2 is not a network) */
	model *m2 = model_load(db, "mlp", &err);
	assert_non_null(m2);
	model_free(m2);
	/* inside the caller's transaction nothing is stored */
	assert_int_equal(store_exec(db, "BEGIN", &err), 0);
	ig_baseline b = {.kind = IG_BASE_MEAN};
	assert_int_equal(ig_baseline_compute(db, m, &b, re, &err), 0);
	assert_memory_equal(re, mean, (size_t)ns * sizeof *re);
	assert_int_equal(count_stored(db), 0);
	assert_int_equal(store_exec(db, "ROLLBACK", &err), 0);
	store_close(db);

	/* read-only: computed as before, the same values, nothing stored */
	db = store_open(file, 1, &err);
	assert_non_null(db);
	b.kind = IG_BASE_MEDIAN;
	assert_int_equal(ig_baseline_compute(db, m, &b, re, &err), 0);
	assert_memory_equal(re, med, (size_t)ns * sizeof *re);
	b.kind = IG_BASE_MEAN;
	assert_int_equal(ig_baseline_compute(db, m, &b, re, &err), 0);
	assert_memory_equal(re, mean, (size_t)ns * sizeof *re);
	assert_int_equal(count_stored(db), 0);
	store_close(db);

	/* writable: computed once and stored, mean and median, the same bits */
	db = store_open(file, 0, &err);
	assert_non_null(db);
	assert_int_equal(ig_baseline_compute(db, m, &b, re, &err), 0);
	assert_memory_equal(re, mean, (size_t)ns * sizeof *re);
	assert_int_equal(count_stored(db), 2);
	stored(db, m, IG_BASE_MEAN, re);
	assert_memory_equal(re, mean, (size_t)ns * sizeof *re);
	stored(db, m, IG_BASE_MEDIAN, re);
	assert_memory_equal(re, med, (size_t)ns * sizeof *re);
	sqlite3_stmt *q = store_prepare(
		db, "SELECT group_concat(name || ':' || shape || ':' || length(data), ' ') FROM"
		    " (SELECT * FROM model_tensors WHERE member = -2 ORDER BY name)", &err);
	assert_non_null(q);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0),
			    "baseline.mean:30:120 baseline.median:30:120");
	sqlite3_finalize(q);

	/* a stored vector of the wrong size is a data error, not a silent misread */
	assert_int_equal(store_exec(db, "BEGIN", &err), 0);
	assert_int_equal(store_exec(db, "UPDATE model_tensors SET data = zeroblob(8) WHERE member = -2"
					" AND name = 'baseline.mean'", &err), 0);
	assert_int_equal(ig_baseline_compute(db, m, &b, re, &err), EX_DATAERR);
	assert_string_equal(err.msg, "model 'mlp': tensor baseline.mean has 8 bytes for 30 slots");
	assert_int_equal(store_exec(db, "ROLLBACK", &err), 0);
	assert_int_equal(ig_baseline_compute(db, m, &b, re, &err), 0);
	assert_memory_equal(re, mean, (size_t)ns * sizeof *re);
	store_close(db);
	free(mean);
	free(med);
	free(re);
	model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_median_small),
		cmocka_unit_test(test_median_random),
		cmocka_unit_test(test_stored_equals_recomputed),
		cmocka_unit_test(test_older_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
