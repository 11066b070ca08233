/* ops_train_run, the training job under lumen train, on pbc imported by the lumen binary
 * ($LUMEN, set by tests/run.sh; skipped without it): the events a caller receives (every
 * epoch of every fold and of the final model, one end per network, the notes), the summary
 * against what was stored (the AUC recomputed here by counting pairs of the stored
 * out-of-fold predictions), the fixed-horizon target's exclusions against SQL, and a refused
 * run that changes nothing. */
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

#include "../../src/ops/ops.h"

static char dir[256], file[300];

static int setup(void **state)
{
	(void)state;
	const char *lumen = getenv("LUMEN"), *top = getenv("LUMEN_TOP");
	if (!lumen || !top || access(lumen, X_OK) != 0)
		return 0;
	snprintf(dir, sizeof dir, "%s", "/tmp/lumen-ops-train.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(file, sizeof file, "%s/pbc.lumen", dir);
	char *cmd = xasprintf("'%s' import '%s/sample_data/pbc.csv' -o '%s' --time time"
			      " --event status >/dev/null",
			      lumen, top, file);
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

typedef struct seen {
	int epochs[8];  /* per network: fold k at k, the final model at 7 */
	int last_epoch[8];
	int done[8];
	int notes, warnings, bad_order;
	char note[512];
} seen;

static void on_event(void *ctx, const ops_train_event *ev)
{
	seen *s = ctx;
	int k = ev->fold < 0 ? 7 : ev->fold;
	switch (ev->kind) {
	case OPS_TRAIN_EPOCH:
		if (ev->epoch != s->last_epoch[k] + 1 || s->done[k])
			s->bad_order++;
		s->last_epoch[k] = ev->epoch;
		s->epochs[k]++;
		break;
	case OPS_TRAIN_NET_DONE:
		s->done[k]++;
		break;
	case OPS_TRAIN_NOTE:
		s->notes++;
		snprintf(s->note, sizeof s->note, "%s", ev->text);
		break;
	case OPS_TRAIN_WARNING:
		s->warnings++;
		break;
	}
}

/* AUC by counting pairs (ties half), independent of src/stats. */
static double pair_auc(const ops_predictions *pr)
{
	double num = 0, den = 0;
	for (long i = 0; i < pr->n; i++)
		for (long j = 0; j < pr->n; j++) {
			if (isnan(pr->p[i]) || isnan(pr->p[j]) || !(pr->y[i] == 1 && pr->y[j] == 0))
				continue;
			den++;
			num += pr->p[i] > pr->p[j] ? 1 : pr->p[i] == pr->p[j] ? 0.5 : 0;
		}
	return num / den;
}

static void opts_init(ops_train_opts *o, const char *arch, const char *name)
{
	memset(o, 0, sizeof *o);
	o->file = file;
	o->arch = arch;
	o->name = name;
	o->target = "status";
	o->positive = "2";
	o->folds = 3;
	o->seed = 1;
	o->lr = o->dropout = o->l2 = -1;
}

static void test_events_and_store(void **state)
{
	(void)state;
	if (!file[0])
		skip(); /* needs $LUMEN (run through make check) */
	lm_err err = {0};
	sqlite3 *db = store_open(file, 0, &err);
	assert_non_null(db);
	ops_train_opts o;
	opts_init(&o, "mlp", "m");
	o.epochs = 4;
	seen s;
	memset(&s, 0, sizeof s);
	o.progress = on_event;
	o.ctx = &s;
	ops_train r;
	assert_int_equal(ops_train_run(db, &o, &r, &err), 0);
	/* three folds and the final model: epochs in order, one end each */
	for (int k = 0; k < 3; k++) {
		assert_true(s.epochs[k] >= 1 && s.epochs[k] <= 4);
		assert_int_equal(s.done[k], 1);
	}
	assert_int_equal(s.done[7], 1);
	assert_int_equal(s.epochs[7], r.final_epochs);
	assert_int_equal(s.bad_order, 0);
	assert_int_equal(s.notes, 0); /* every pbc patient has a status */
	/* the summary is what was stored */
	assert_string_equal(r.name, "m");
	assert_string_equal(r.arch, "mlp");
	assert_int_equal(r.n_used, 418);
	assert_int_equal(r.folds, 3);
	ops_models ms;
	assert_int_equal(ops_models_load(db, "m", &ms, &err), 0);
	assert_int_equal(ms.m[0].id, r.id);
	assert_int_equal(ms.m[0].n_used, 418);
	assert_true(fabs(ops_model_metric(&ms.m[0], "auc") - r.auc) < 1e-12);
	ops_models_free(&ms);
	ops_predictions pr;
	assert_int_equal(ops_predictions_load(db, "m", &pr, &err), 0);
	assert_int_equal(pr.nstored, 418);
	assert_true(fabs(pair_auc(&pr) - r.auc) < 1e-9);
	long per_fold[3] = {0};
	for (long i = 0; i < pr.n; i++)
		if (pr.fold[i] >= 0 && pr.fold[i] < 3)
			per_fold[pr.fold[i]]++;
	assert_int_equal(per_fold[0] + per_fold[1] + per_fold[2], 418);
	ops_predictions_free(&pr);
	ops_train_free(&r);

	/* the same name again, without force: refused, the stored model untouched */
	memset(&s, 0, sizeof s);
	assert_int_equal(ops_train_run(db, &o, &r, &err), EX_DATAERR);
	assert_string_equal(err.msg, "a model named 'm' exists; use --force to replace it");
	assert_int_equal(s.done[0] + s.done[7], 0); /* refused before any training */
	assert_int_equal(ops_models_load(db, NULL, &ms, &err), 0);
	assert_int_equal(ms.n, 1);
	ops_models_free(&ms);
	ops_train_free(&r);
	store_close(db);
}

static void test_horizon_target(void **state)
{
	(void)state;
	if (!file[0])
		skip();
	lm_err err = {0};
	sqlite3 *db = store_open(file, 0, &err);
	assert_non_null(db);
	/* patients censored (status != 2) before day 1500 are not known either way */
	sqlite3_stmt *q = store_prepare(db, "SELECT count(*) FROM patients WHERE time < 1500 AND"
					    " status <> 2", &err);
	assert_non_null(q);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	long cens = (long)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	ops_train_opts o;
	opts_init(&o, "logreg", "h");
	o.time = "time";
	o.event = "status=2";
	o.horizon = 1500;
	seen s;
	memset(&s, 0, sizeof s);
	o.progress = on_event;
	o.ctx = &s;
	ops_train r;
	assert_int_equal(ops_train_run(db, &o, &r, &err), 0);
	assert_int_equal(r.n_excluded, cens);
	assert_int_equal(r.n_used, 418 - cens);
	assert_int_equal(s.notes, 1);
	char want[200];
	snprintf(want, sizeof want, "target: status=2 by time 1500; %ld patients censored before it"
		 " left out", cens);
	assert_string_equal(s.note, want);
	assert_int_equal(s.done[0] + s.done[1] + s.done[2] + s.done[7], 4);
	ops_train_free(&r);
	store_close(db);
}

/* The Cox job through the same entry (arch "cox"): its summary is what was stored, and the
 * events are pbc's 161 deaths (status 2, the others censored: status 0 and 1 = transplant) */
static void test_cox(void **state)
{
	(void)state;
	if (!file[0])
		skip();
	lm_err err = {0};
	sqlite3 *db = store_open(file, 0, &err);
	assert_non_null(db);
	ops_train_opts o;
	opts_init(&o, "cox", "c");
	o.target = o.positive = NULL;
	o.time = "time";
	o.event = "status=2";
	o.l2 = -1;
	seen s;
	memset(&s, 0, sizeof s);
	o.progress = on_event;
	o.ctx = &s;
	ops_train r;
	assert_int_equal(ops_train_run(db, &o, &r, &err), 0);
	assert_int_equal(r.survival, 1);
	assert_int_equal(r.neural, 0);
	assert_int_equal(r.events, 161);
	assert_int_equal(r.n_used, 418);
	assert_string_equal(r.event_desc, "status = 2");
	assert_true(r.c_index > 0.5 && r.c_index < r.c_final + 0.05);
	ops_models ms;
	assert_int_equal(ops_models_load(db, "c", &ms, &err), 0);
	assert_string_equal(ms.m[0].task, "survival");
	assert_true(fabs(ops_model_metric(&ms.m[0], "c_index") - r.c_index) < 1e-12);
	ops_models_free(&ms);
	ops_train_free(&r);
	store_close(db);
}

/* A treatment-effect model through the same entry (effect set): pbc's 312 trial patients,
 * the 106 others (no arm) left out with a note, two arms, the first the reference */
static void test_effect(void **state)
{
	(void)state;
	if (!file[0])
		skip();
	lm_err err = {0};
	sqlite3 *db = store_open(file, 0, &err);
	assert_non_null(db);
	ops_train_opts o;
	opts_init(&o, "logreg", "e");
	o.effect = "trt";
	seen s;
	memset(&s, 0, sizeof s);
	o.progress = on_event;
	o.ctx = &s;
	ops_train r;
	assert_int_equal(ops_train_run(db, &o, &r, &err), 0);
	assert_int_equal(r.narm, 2);
	assert_string_equal(r.reference, "1");
	assert_int_equal(r.n_used, 312);
	assert_int_equal(r.n_excluded, 106);
	assert_non_null(strstr(s.note, "final"));
	assert_non_null(r.metrics);
	ops_models ms;
	assert_int_equal(ops_models_load(db, "e", &ms, &err), 0);
	assert_string_equal(ms.m[0].task, "effect");
	assert_string_equal(ms.m[0].metrics, r.metrics);
	ops_models_free(&ms);
	ops_train_free(&r);
	/* an architecture that cannot estimate effects: refused before anything is stored */
	opts_init(&o, "cox", "e2");
	o.effect = "trt";
	assert_int_equal(ops_train_run(db, &o, &r, &err), EX_USAGE);
	assert_int_equal(ops_models_load(db, "e2", &ms, &err), EX_DATAERR);
	ops_models_free(&ms);
	ops_train_free(&r);
	store_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_and_store),
		cmocka_unit_test(test_horizon_target),
		cmocka_unit_test(test_cox),
		cmocka_unit_test(test_effect),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
