/* Unit tests for src/stats/audit_why.c on a hand-built workbench: mean |IG| overall and per
 * group worked out by hand, patients left out by the caller ignored, other methods and blobs of
 * another width skipped, ties ranked in slot order, the group-column and proxy warnings (eta
 * and Cramér's V worked out by hand), the ranked JSON Lua receives, and a model without
 * attributions. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../src/data/store.h"
#include "../../src/stats/audit_why.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static char path[64];

static void put_attr(sqlite3 *db, int model, const char *method, int patient, const float *v,
		     int n)
{
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO attributions(model_id, method, patient,"
						" columns) VALUES(?,?,?,?)", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int(st, 1, model);
	sqlite3_bind_text(st, 2, method, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, patient);
	sqlite3_bind_blob(st, 4, v, n * (int)sizeof *v, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* Six patients (rowid = id): sex f m m f f m; site a b b a a b (a copy of sex: a proxy).
 * Model 1 has inputs age, sex (one-hot), lab; model 2 has site; model 3 none stored. */
static sqlite3 *make_db(void)
{
	snprintf(path, sizeof path, "/tmp/lumen-why-unit-%ld.lumen", (long)getpid());
	unlink(path);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	lm_err err = {0};
	assert_int_equal(store_init_schema(db, &err), 0);
	assert_int_equal(store_exec(db,
		"CREATE TABLE patients(\"id\" INTEGER, \"age\" REAL, \"sex\" TEXT, \"lab\" REAL,"
		"  \"site\" TEXT);"
		"INSERT INTO patients VALUES(1, 70, 'f', 1.5, 'a'), (2, 40, 'm', 2.5, 'b'),"
		"  (3, 66, 'm', NULL, 'b'), (4, 30, 'f', 0.5, 'a'), (5, 80, 'f', 3.0, 'a'),"
		"  (6, 50, 'm', 1.0, 'b');"
		"INSERT INTO columns(dataset, position, name, type, role, missing, distinct_count,"
		"  categories) VALUES('patients', 0, 'id', 'integer', 'id', 0, 6, NULL),"
		"  ('patients', 1, 'age', 'real', 'feature', 0, 6, NULL),"
		"  ('patients', 2, 'sex', 'text', 'group', 0, 2,"
		"   '[{\"value\":\"f\",\"n\":3},{\"value\":\"m\",\"n\":3}]'),"
		"  ('patients', 3, 'lab', 'real', 'feature', 1, 5, NULL),"
		"  ('patients', 4, 'site', 'text', 'feature', 0, 2,"
		"   '[{\"value\":\"a\",\"n\":3},{\"value\":\"b\",\"n\":3}]');"
		"INSERT INTO models(id, name, arch) VALUES(1, 'm1', 'logreg'), (2, 'm2', 'logreg'),"
		"  (3, 'm3', 'logreg');"
		"INSERT INTO model_inputs(model_id, slot, name, source_column, kind) VALUES"
		"  (1, 0, 'age', 'age', 'numeric'), (1, 1, 'sex=m', 'sex', 'onehot'),"
		"  (1, 2, 'lab', 'lab', 'numeric'), (1, 3, 'lab missing', 'lab', 'indicator'),"
		"  (2, 0, 'site=b', 'site', 'onehot'), (3, 0, 'age', 'age', 'numeric');", &err), 0);
	/* model 1: (age, sex, lab) per patient; patient 6 is left out by the caller */
	static const float a1[6][3] = {{1, 0.5f, -2}, {-3, 1, 0}, {1, 1, 1},
				       {1, 0.5f, 2},  {1, 0.5f, 2}, {100, 100, 100}};
	for (int p = 0; p < 6; p++)
		put_attr(db, 1, "ig", p + 1, a1[p], 3);
	static const float junk[4] = {50, 50, 50, 50};
	put_attr(db, 1, "attention", 1, junk, 3); /* another method: not IG */
	put_attr(db, 2, "ig", 6, junk, 4);        /* another width: skipped */
	static const float one[1] = {-1};
	for (int p = 1; p <= 5; p++)
		put_attr(db, 2, "ig", p, one, 1);
	return db;
}

static const long rowid[6] = {1, 2, 3, 4, 5, 6};
static const int group[6] = {0, 1, 1, 0, 0, -1};
static char *const label[2] = {"sex=f", "sex=m"};

static void test_means_ranks_warnings(void **state)
{
	(void)state;
	sqlite3 *db = make_db();
	lm_err err = {0};
	audit_why w;
	assert_int_equal(audit_why_compute(db, 1, rowid, group, 6, 2, "sex", &w, &err), 0);
	assert_int_equal(w.ncol, 3);
	assert_string_equal(w.name[0], "age");
	assert_string_equal(w.name[1], "sex");
	assert_string_equal(w.name[2], "lab");
	assert_int_equal(w.used, 5);
	/* overall: age (1+3+1+1+1)/5, sex (.5+1+1+.5+.5)/5, lab (2+0+1+2+2)/5 */
	NEAR(w.all[0], 1.4, 1e-12);
	NEAR(w.all[1], 0.7, 1e-12);
	NEAR(w.all[2], 1.4, 1e-12);
	/* women (1, 4, 5): age 1, sex .5, lab 2; men (2, 3): age 2, sex 1, lab .5 */
	NEAR(AUDIT_WHY_PER(&w, 0, 0), 1, 1e-12);
	NEAR(AUDIT_WHY_PER(&w, 0, 1), 0.5, 1e-12);
	NEAR(AUDIT_WHY_PER(&w, 0, 2), 2, 1e-12);
	NEAR(AUDIT_WHY_PER(&w, 1, 0), 2, 1e-12);
	NEAR(AUDIT_WHY_PER(&w, 1, 1), 1, 1e-12);
	NEAR(AUDIT_WHY_PER(&w, 1, 2), 0.5, 1e-12);
	assert_int_equal(audit_why_group_top(&w, 0), 2);
	assert_int_equal(audit_why_group_top(&w, 1), 0);
	/* age and lab tie at 1.4: slot order keeps age first */
	assert_int_equal(w.ntop, 3);
	assert_int_equal(w.top[0], 0);
	assert_int_equal(w.top[1], 2);
	assert_int_equal(w.top[2], 1);
	int order[3];
	audit_why_rank(&w, -1, order);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 1);
	audit_why_rank(&w, 1, order);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 2);
	/* age: eta over patients 1-5: group means 60 and 53 around 57.2, between-groups sum of
	 * squares 58.8 of 1796.8 -> sqrt(58.8 / 1796.8); lab (patient 3 missing): f 1.5 .5 3,
	 * m 2.5 around 1.875 -> sqrt(0.520833 / 3.6875); neither above 0.5 */
	assert_int_equal(w.warn[0], AUDIT_WHY_NONE);
	NEAR(w.assoc[0], sqrt(58.8 / 1796.8), 1e-9);
	assert_int_equal(w.warn[1], AUDIT_WHY_NONE);
	NEAR(w.assoc[1], sqrt((3 * pow(5.0 / 3 - 1.875, 2) + pow(0.625, 2)) / 3.6875), 1e-9);
	assert_int_equal(w.warn[2], AUDIT_WHY_GROUP_COLUMN);
	NEAR(w.assoc[2], 1, 0);
	char buf[256];
	assert_string_equal(audit_why_warning(&w, 2, buf, sizeof buf),
			    "sex, a grouping column, is input #3 of the model");
	assert_string_equal(audit_why_warning(&w, 0, buf, sizeof buf), "");

	/* the JSON of lumen audit --json: inputs in slot order, one warning */
	cJSON *j = audit_why_json(&w, label);
	assert_int_equal((int)cJSON_GetObjectItem(j, "patients")->valuedouble, 5);
	cJSON *in = cJSON_GetObjectItem(j, "inputs");
	assert_int_equal(cJSON_GetArraySize(in), 3);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(in, 1), "column")->valuestring, "sex");
	NEAR(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(in, 2), "groups"), "sex=f")
		     ->valuedouble, 2, 1e-12);
	cJSON *wa = cJSON_GetObjectItem(j, "warnings");
	assert_int_equal(cJSON_GetArraySize(wa), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(wa, 0), "reason")->valuestring,
			    "group column");
	assert_int_equal((int)cJSON_GetObjectItem(cJSON_GetArrayItem(wa, 0), "rank")->valuedouble, 3);
	cJSON_Delete(j);

	/* the ranked form Lua gets: inputs most important first, per group ranked within it */
	j = audit_why_ranked_json(&w, label);
	assert_null(cJSON_GetObjectItem(j, "message"));
	in = cJSON_GetObjectItem(j, "inputs");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(in, 0), "column")->valuestring, "age");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(in, 1), "column")->valuestring, "lab");
	assert_int_equal((int)cJSON_GetObjectItem(cJSON_GetArrayItem(in, 1), "rank")->valuedouble, 2);
	cJSON *pg = cJSON_GetObjectItem(j, "per_group");
	assert_int_equal(cJSON_GetArraySize(pg), 2);
	cJSON *f = cJSON_GetArrayItem(pg, 0);
	assert_string_equal(cJSON_GetObjectItem(f, "group")->valuestring, "sex=f");
	assert_string_equal(cJSON_GetObjectItem(f, "top")->valuestring, "lab");
	cJSON *fi = cJSON_GetObjectItem(f, "inputs");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(fi, 2), "column")->valuestring, "sex");
	NEAR(cJSON_GetObjectItem(cJSON_GetArrayItem(fi, 2), "value")->valuedouble, 0.5, 1e-12);
	wa = cJSON_GetObjectItem(j, "warnings");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(wa, 0), "message")->valuestring,
			    "sex, a grouping column, is input #3 of the model");
	cJSON_Delete(j);
	audit_why_free(&w);
	sqlite3_close(db);
	unlink(path);
}

static void test_proxy_and_none(void **state)
{
	(void)state;
	sqlite3 *db = make_db();
	lm_err err = {0};
	audit_why w;
	/* site repeats sex: Cramér's V = 1 over patients 1-5 -> a proxy; patient 6's blob of
	 * another width is skipped (and 6 is left out anyway) */
	assert_int_equal(audit_why_compute(db, 2, rowid, group, 6, 2, "sex", &w, &err), 0);
	assert_int_equal(w.used, 5);
	NEAR(w.all[0], 1, 1e-12);
	assert_int_equal(w.warn[0], AUDIT_WHY_ASSOCIATED);
	NEAR(w.assoc[0], 1, 1e-9);
	char buf[256];
	assert_string_equal(audit_why_warning(&w, 0, buf, sizeof buf),
			    "site (input #1) is associated with the grouping (1.00 > 0.5): a proxy for it");
	audit_why_free(&w);
	/* a grouping spec of several columns: "age,sex" names age and sex */
	assert_int_equal(audit_why_compute(db, 1, rowid, group, 6, 2, "age,sex", &w, &err), 0);
	assert_int_equal(w.warn[0], AUDIT_WHY_GROUP_COLUMN);
	assert_int_equal(w.warn[2], AUDIT_WHY_GROUP_COLUMN);
	audit_why_free(&w);
	/* under "sexes" sex is no group column, but the groups are sex's values: Cramér's V 1 */
	assert_int_equal(audit_why_compute(db, 1, rowid, group, 6, 2, "sexes", &w, &err), 0);
	assert_int_equal(w.warn[2], AUDIT_WHY_ASSOCIATED);
	NEAR(w.assoc[2], 1, 1e-9);
	audit_why_free(&w);
	/* no attributions: nothing used, nothing ranked, the one line in the ranked JSON */
	assert_int_equal(audit_why_compute(db, 3, rowid, group, 6, 2, "sex", &w, &err), 0);
	assert_int_equal(w.used, 0);
	assert_int_equal(w.ntop, 0);
	assert_int_equal(audit_why_group_top(&w, 0), -1);
	cJSON *j = audit_why_ranked_json(&w, label);
	assert_string_equal(cJSON_GetObjectItem(j, "message")->valuestring, audit_why_missing);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "inputs")), 0);
	cJSON_Delete(j);
	audit_why_free(&w);
	/* every patient left out by the caller: none used either */
	static const int none[6] = {-1, -1, -1, -1, -1, -1};
	assert_int_equal(audit_why_compute(db, 1, rowid, none, 6, 2, "sex", &w, &err), 0);
	assert_int_equal(w.used, 0);
	audit_why_free(&w);
	/* an unknown model: no inputs, nothing used */
	assert_int_equal(audit_why_compute(db, 99, rowid, group, 6, 2, "sex", &w, &err), 0);
	assert_int_equal(w.used, 0);
	audit_why_free(&w);
	/* an SQL error (the table is gone) is a status with the message */
	assert_int_equal(store_exec(db, "DROP TABLE attributions", &err), 0);
	memset(&err, 0, sizeof err);
	assert_int_not_equal(audit_why_compute(db, 1, rowid, group, 6, 2, "sex", &w, &err), 0);
	assert_non_null(strstr(err.msg, "attributions"));
	audit_why_free(&w);
	sqlite3_close(db);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_means_ranks_warnings),
		cmocka_unit_test(test_proxy_and_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
