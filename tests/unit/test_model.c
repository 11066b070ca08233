/* Unit tests for model.c: a model saved into a fresh workbench schema loads back with the same
 * inputs, hyper-parameters and weights (predictions equal to the bit), the fold members keep
 * their own input statistics, names are unique unless forced, and model_predict agrees with a
 * hand computation for logistic regression. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/nn/model.h"

static sqlite3 *fresh_db(void)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	lm_err err = {0};
	assert_int_equal(store_init_schema(db, &err), 0);
	return db;
}

/* A spec by hand: age (numeric, center 50, scale 10), sex=f, sex=m (one-hot), bili:missing. */
static void make_spec(enc_spec *s)
{
	memset(s, 0, sizeof *s);
	s->ncolumn = 3;
	s->columns = xcalloc(3, sizeof *s->columns);
	s->column_type = xcalloc(3, sizeof *s->column_type);
	s->columns[0] = xstrdup("age");
	s->columns[1] = xstrdup("sex");
	s->columns[2] = xstrdup("bili");
	s->column_type[0] = COL_TYPE_REAL;
	s->column_type[1] = COL_TYPE_TEXT;
	s->column_type[2] = COL_TYPE_REAL;
	s->nslot = 5;
	s->slot = xcalloc(5, sizeof *s->slot);
	const char *names[] = {"age", "sex=f", "sex=m", "bili", "bili:missing"};
	const char *cols[] = {"age", "sex", "sex", "bili", "bili"};
	slot_kind kinds[] = {SLOT_NUMERIC, SLOT_ONEHOT, SLOT_ONEHOT, SLOT_NUMERIC, SLOT_MISSING};
	const char *cats[] = {NULL, "f", "m", NULL, NULL};
	double center[] = {50, 0, 0, 2, 0}, scale[] = {10, 1, 1, 1.5, 1};
	int token[] = {0, 1, 1, 2, 2};
	for (int i = 0; i < 5; i++) {
		s->slot[i].name = xstrdup(names[i]);
		s->slot[i].column = xstrdup(cols[i]);
		s->slot[i].kind = kinds[i];
		s->slot[i].category = cats[i] ? xstrdup(cats[i]) : NULL;
		s->slot[i].center = center[i];
		s->slot[i].scale = scale[i];
		s->slot[i].token = token[i];
	}
}

static model *make_model(const char *name, nn_arch arch, int nfold)
{
	model *m = xcalloc(1, sizeof *m);
	m->name = xstrdup(name);
	m->arch = xstrdup(nn_arch_name(arch));
	m->target = xstrdup("status");
	m->positive = xstrdup("2");
	m->task = xstrdup("binary");
	m->nclass = 2;
	m->classes = xcalloc(2, sizeof *m->classes);
	m->classes[0] = xstrdup("not 2");
	m->classes[1] = xstrdup("2");
	make_spec(&m->spec);
	int tokens[5];
	for (int i = 0; i < 5; i++)
		tokens[i] = m->spec.slot[i].token;
	nn_spec s;
	nn_spec_defaults(&s, arch, 5, 1);
	if (arch == NN_MLP) {
		s.n_hidden = 1;
		s.hidden[0] = 7;
	}
	s.n_tokens = 3;
	s.slot_token = tokens;
	lm_err err = {0};
	m->final = nn_create(&s, 11, &err);
	assert_non_null(m->final);
	/* non-zero weights everywhere, so a lost tensor shows */
	float *p = nn_params(m->final);
	for (size_t i = 0; i < nn_nparams(m->final); i++)
		p[i] = (float)sin((double)i + 1.0) * 0.5f;
	m->nfold = nfold;
	if (nfold) {
		m->fold = xcalloc((size_t)nfold, sizeof *m->fold);
		m->fold_spec = xcalloc((size_t)nfold, sizeof *m->fold_spec);
		for (int k = 0; k < nfold; k++) {
			m->fold[k] = nn_create(&s, 20 + (uint64_t)k, &err);
			enc_copy(&m->spec, &m->fold_spec[k]);
			m->fold_spec[k].slot[0].center = 40 + k;
			m->fold_spec[k].slot[2].scale = k == 1 ? 0 : 1;
		}
	}
	m->hyper_json = xstrdup("{\"epochs\":7}");
	m->metrics_json = xstrdup("{\"pooled\":{\"auc\":0.75}}");
	return m;
}

static void test_roundtrip(void **state)
{
	(void)state;
	nn_arch archs[] = {NN_LOGREG, NN_MLP, NN_TRANSFORMER};
	for (size_t a = 0; a < 3; a++) {
		sqlite3 *db = fresh_db();
		model *m = make_model("m1", archs[a], 3);
		lm_err err = {0};
		assert_int_equal(model_save(db, m, 0, &err), 0);
		assert_true(m->id > 0);
		model *l = model_load(db, "m1", &err);
		assert_non_null(l);
		assert_string_equal(l->arch, nn_arch_name(archs[a]));
		assert_string_equal(l->positive, "2");
		assert_string_equal(l->classes[1], "2");
		assert_int_equal(l->spec.nslot, 5);
		assert_string_equal(l->spec.slot[2].category, "m");
		assert_int_equal(l->spec.slot[4].kind, SLOT_MISSING);
		assert_int_equal(l->spec.slot[3].token, 2);
		assert_true(l->spec.slot[0].center == 50 && l->spec.slot[3].scale == 1.5);
		assert_int_equal(l->spec.column_type[1], COL_TYPE_TEXT);
		assert_string_equal(l->metrics_json, "{\"pooled\":{\"auc\":0.75}}");
		assert_non_null(strstr(l->hyper_json, "\"epochs\":7"));
		assert_int_equal(l->nfold, 3);
		assert_true(l->fold_spec[2].slot[0].center == 42);
		assert_true(l->fold_spec[1].slot[2].scale == 0 && l->fold_spec[0].slot[2].scale == 1);
		if (archs[a] == NN_MLP)
			assert_int_equal(nn_get_spec(l->final)->hidden[0], 7);
		assert_int_equal(nn_nparams(l->final), nn_nparams(m->final));
		assert_memory_equal(nn_params(l->final), nn_params(m->final),
				    nn_nparams(m->final) * sizeof(float));
		assert_memory_equal(nn_params(l->fold[1]), nn_params(m->fold[1]),
				    nn_nparams(m->fold[1]) * sizeof(float));
		float X[10] = {0.5f, 1, 0, -1, 0, 2, 0, 1, 0, 1}, p1[2], p2[2], z1[2], z2[2];
		model_predict(m, X, 2, 1, p1, z1);
		model_predict(l, X, 2, 1, p2, z2);
		assert_memory_equal(p1, p2, sizeof p1);
		assert_memory_equal(z1, z2, sizeof z1);
		assert_true(fabsf(p1[0] - 1.0f / (1.0f + expf(-z1[0]))) < 1e-6f);
		model_free(l);
		model_free(m);
		store_close(db);
	}
}

/* Logistic regression by hand: logit = b + sum w_i x_i with the weights set below. */
static void test_predict_logreg(void **state)
{
	(void)state;
	model *m = make_model("lr", NN_LOGREG, 0);
	float *p = nn_params(m->final);
	size_t np = nn_nparams(m->final);
	assert_int_equal(np, 6); /* 5 weights and a bias */
	for (int i = 0; i < nn_ntensors(m->final); i++) {
		float *d = nn_tensor_data(m->final, i);
		if (nn_tensor_size(m->final, i) == 5) {
			const float w[5] = {0.5f, -1, 2, 0.25f, 1};
			memcpy(d, w, sizeof w);
		} else {
			d[0] = -0.5f;
		}
	}
	(void)p;
	float x[5] = {1, 0, 1, 2, 0}, prob, logit;
	model_predict(m, x, 1, 1, &prob, &logit);
	/* -0.5 + 0.5 + 2 + 0.5 = 2.5; sigmoid(2.5) = 0.9241418 */
	assert_true(fabsf(logit - 2.5f) < 1e-6f);
	assert_true(fabsf(prob - 0.9241418f) < 1e-6f);
	model_free(m);
}

static void test_names(void **state)
{
	(void)state;
	sqlite3 *db = fresh_db();
	lm_err err = {0};
	model *a = make_model("first", NN_LOGREG, 0), *b = make_model("second", NN_MLP, 2);
	assert_int_equal(model_save(db, a, 0, &err), 0);
	assert_int_equal(model_save(db, b, 0, &err), 0);
	assert_int_equal(model_id(db, "second"), b->id);
	assert_int_equal(model_id(db, "none"), -1);
	int n;
	char **names = model_list(db, &n, &err);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "first");
	assert_string_equal(names[1], "second");
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	/* the same name again: refused, then replaced with force */
	model *c = make_model("first", NN_MLP, 0);
	assert_int_equal(model_save(db, c, 0, &err), EX_DATAERR);
	assert_string_equal(err.msg, "a model named 'first' exists; use --force to replace it");
	assert_int_equal(model_save(db, c, 1, &err), 0);
	model *l = model_load(db, "first", &err);
	assert_non_null(l);
	assert_string_equal(l->arch, "mlp");
	assert_int_equal(l->nfold, 0);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "SELECT count(*) FROM model_tensors WHERE model_id = ?", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, a->id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	assert_null(model_load(db, "nothing", &err));
	assert_string_equal(err.msg, "no model 'nothing'; lumen models FILE lists them");
	model_free(l);
	model_free(a);
	model_free(b);
	model_free(c);
	store_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_predict_logreg),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
