/* The on-the-fly API the TUI and Lua call (ig_inputs_load, ig_baseline_compute,
 * ig_explain_x, ig_explain_values) on a real workbench: pbc imported and an mlp trained by the
 * lumen binary ($LUMEN, set by tests/run.sh; skipped without it). What `lumen explain` stored
 * for the same patients is the explanation by their fold model (ops_explain_values); what-if
 * edits of raw values. */
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
#include "../../src/ops/ops.h"


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
	snprintf(dir, sizeof dir, "%s", "/tmp/lumen-ig-api.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(file, sizeof file, "%s/pbc.lumen", dir);
	char *cmd = xasprintf("'%s' import '%s/sample_data/pbc.csv' -o '%s' --target status >/dev/null && "
			      "'%s' train '%s' --model mlp --target status --positive 2 --exclude time "
			      "--name mlp --folds 2 --quiet >/dev/null && "
			      "'%s' explain '%s' --model mlp --patients 1,2,3 -q",
			      lumen, top, file, lumen, file, lumen, file);
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

static void test_matches_stored(void **state)
{
	(void)state;
	if (!file[0])
		skip(); /* needs $LUMEN (run through make check) */
	lm_err err = {0};
	sqlite3 *db = store_open(file, 1, &err);
	assert_non_null(db);
	model *m = model_load(db, "mlp", &err);
	assert_non_null(m);
	ig_inputs co;
	assert_int_equal(ig_inputs_load(db, m, &co, &err), 0);
	float *coX = encode_all(m, &co); /* every patient encoded, independently of ig_store.c */
	assert_int_equal(co.f.nrow, 418);
	assert_int_equal(co.ntrain, 418);
	int ns = m->spec.nslot, nc = m->spec.ncolumn;
	float *base = xmallocarray((size_t)ns, sizeof *base);
	ig_baseline b;
	assert_int_equal(ig_baseline_parse("mean", &b, &err), 0);
	assert_int_equal(ig_baseline_compute(db, m, &b, base, &err), 0);
	ig_opts o;
	ig_opts_defaults(&o);
	o.rule = IG_EXACT; /* what lumen explain uses for an mlp by default */
	sqlite3_stmt *q = store_prepare(db, "SELECT patient, slots, logit, baseline_logit, delta "
					    "FROM attributions WHERE method = 'ig' ORDER BY patient", &err);
	assert_non_null(q);
	int rows = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		long pid = (long)sqlite3_column_int64(q, 0);
		char id[32];
		snprintf(id, sizeof id, "%ld", pid); /* pbc ids are the row numbers */
		long r = ig_inputs_find(&co, id);
		assert_true(r >= 0 && co.f.rowid[r] == pid);
		const float *stored = sqlite3_column_blob(q, 1);
		assert_int_equal(sqlite3_column_bytes(q, 1), ns * (int)sizeof(float));
		ig_explanation e;
		assert_int_equal(ig_explain_x(m, coX + (size_t)r * (size_t)ns, base, &o, &e, &err), 0);
		double s = 0;
		for (int k = 0; k < nc; k++)
			s += (double)e.columns[k];
		assert_true(fabs(s - ((double)e.logit - (double)e.baseline_logit)) <= (double)e.delta + 1e-5);
		assert_true(fabs((double)e.prob - 1 / (1 + exp(-(double)e.logit))) < 1e-6);

		/* the same patient from raw values, as the TUI's what-if starts */
		enc_value *v = xcalloc((size_t)nc, sizeof *v);
		for (int k = 0; k < nc; k++) {
			const frame_col *c = &co.f.col[k];
			double x = c->v[r];
			if (c->meta->type == COL_TYPE_TEXT)
				v[k].text = isnan(x) ? NULL : c->meta->cats[(int)x];
			else
				v[k].num = x;
		}
		/* lumen explain stored the explanation of the shown number: the patient's fold
		 * model (src/ops), which ops_explain_values gives from the raw values */
		int fold = ops_patient_fold(db, m, pid), used = -2;
		assert_true(fold >= 0 && fold < 2);
		ig_explanation es;
		assert_int_equal(ops_explain_values(m, fold, v, base, NULL, &o, 1, &es, &used, &err), 0);
		assert_int_equal(used, fold);
		for (int j = 0; j < ns; j++)
			assert_true(fabsf(es.slots[j] - stored[j]) < 1e-6f);
		assert_true(fabs((double)es.logit - sqlite3_column_double(q, 2)) < 1e-6);
		assert_true(fabs((double)es.baseline_logit - sqlite3_column_double(q, 3)) < 1e-6);
		ig_explanation_free(&es);
		ig_explanation e2;
		assert_int_equal(ig_explain_values(m, v, base, &o, &e2, &err), 0);
		for (int j = 0; j < ns; j++)
			assert_true(fabsf(e2.slots[j] - e.slots[j]) < 1e-6f);
		/* what-if: bilirubin x 4 raises the risk of death, and bili's attribution */
		int bili = -1;
		for (int k = 0; k < nc; k++)
			if (!strcmp(m->spec.columns[k], "bili"))
				bili = k;
		assert_true(bili >= 0);
		v[bili].num *= 4;
		ig_explanation e3;
		assert_int_equal(ig_explain_values(m, v, base, NULL, &e3, &err), 0);
		assert_true(e3.logit > e.logit);
		assert_true(e3.columns[bili] > e.columns[bili]);
		/* on-the-fly default for an mlp: the exact rule, complete to float precision */
		double df = fabs((double)e3.logit - (double)e3.baseline_logit);
		assert_true(e3.steps >= 1);
		assert_true((double)e3.delta <= 1e-4 * (1 + df));
		ig_explanation_free(&e);
		ig_explanation_free(&e2);
		ig_explanation_free(&e3);
		free(v);
		rows++;
	}
	sqlite3_finalize(q);
	assert_int_equal(rows, 3);

	/* patient baselines: one's own row; an unknown id is a data error */
	assert_int_equal(ig_baseline_parse("patient:2", &b, &err), 0);
	assert_int_equal(ig_inputs_baseline(&co, m, &b, base, &err), 0);
	assert_memory_equal(base, coX + (size_t)ns, (size_t)ns * sizeof(float));
	assert_int_equal(ig_baseline_parse("patient:9999", &b, &err), 0);
	assert_int_equal(ig_baseline_compute(db, m, &b, base, &err), EX_DATAERR);
	assert_string_equal(err.msg, "no patient with id '9999'");
	free(base);
	free(coX);
	ig_inputs_free(&co);
	model_free(m);
	store_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_stored),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
