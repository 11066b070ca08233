/* Unit tests for labels.c: numbers as a clinician writes them (hand-worked cases: significant
 * digits, thousands, no e-notation at any magnitude), values in words (value labels, booleans,
 * "missing"), what-if input (a value label back to its code), and a round trip through a
 * workbench: lbl_set validates, stores, logs, and store_columns_load attaches the words. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/data/labels.h"

static const char *num(double v, int sig)
{
	static char buf[64];
	return lbl_num(v, sig, buf, sizeof buf);
}

static void test_num_digits(void **state)
{
	(void)state;
	assert_string_equal(num(58.7652292950034, 4), "58.77");
	assert_string_equal(num(14.5, 4), "14.5");
	assert_string_equal(num(7394.8, 4), "7395");     /* the integer part is never cut */
	assert_string_equal(num(137.95, 4), "137.9");    /* 137.9499... in binary */
	assert_string_equal(num(137.96, 4), "138");      /* 138.0 without its trailing zero */
	assert_string_equal(num(1718, 4), "1718");       /* four digits: no separator */
	assert_string_equal(num(12259, 4), "12,259");
	assert_string_equal(num(13862.4, 4), "13,862");
	assert_string_equal(num(-1234567.8, 4), "-1,234,568");
	assert_string_equal(num(0.000312, 2), "0.00031");
	assert_string_equal(num(3e-7, 1), "0.0000003");
	assert_string_equal(num(0, 4), "0");
	assert_string_equal(num(-0.0, 4), "0");
	assert_string_equal(num(2.6, 4), "2.6");
	assert_string_equal(num(NAN, 4), "missing");
	/* no e-notation at any magnitude */
	for (int e = -12; e <= 20; e++) {
		const char *s = num(1.2345 * pow(10, e), 4);
		assert_null(strchr(s, 'e'));
		assert_null(strchr(s, 'E'));
	}
	assert_string_equal(num(1e20, 4), "100,000,000,000,000,000,000");
}

static store_column coded(void)
{
	store_column c = {0};
	c.name = "trt";
	c.type = COL_TYPE_INTEGER;
	c.nvl = 2;
	static store_vlabel vl[2];
	vl[0] = (store_vlabel){"1", 1, "D-penicillamine"};
	vl[1] = (store_vlabel){"2", 2, "placebo"};
	c.vl = vl;
	return c;
}

static void test_text(void **state)
{
	(void)state;
	char b[64];
	store_column c = coded();
	assert_string_equal(lbl_text(&c, 2, NULL, b, sizeof b), "placebo");
	assert_string_equal(lbl_text(&c, NAN, NULL, b, sizeof b), "missing");
	assert_string_equal(lbl_text(&c, 3, NULL, b, sizeof b), "3");
	assert_true(lbl_is_category(&c));
	assert_string_equal(lbl_name(&c), "trt");
	store_column bo = {.name = "ascites", .type = COL_TYPE_BOOLEAN};
	assert_string_equal(lbl_text(&bo, 1, NULL, b, sizeof b), "yes");
	assert_string_equal(lbl_text(&bo, 0, NULL, b, sizeof b), "no");
	assert_true(lbl_is_category(&bo));
	store_column re = {.name = "bili", .type = COL_TYPE_REAL, .label = "Serum bilirubin", .unit = "mg/dl"};
	assert_string_equal(lbl_text(&re, 24.5, NULL, b, sizeof b), "24.5");
	assert_string_equal(lbl_name_unit(&re, b, sizeof b), "Serum bilirubin (mg/dl)");
	assert_false(lbl_is_category(&re));
	store_column tx = {.name = "sex", .type = COL_TYPE_TEXT};
	assert_string_equal(lbl_text(&tx, NAN, NULL, b, sizeof b), "missing");
	assert_string_equal(lbl_text(&tx, NAN, "f", b, sizeof b), "f");
}

static void test_input(void **state)
{
	(void)state;
	store_column c = coded();
	double x;
	char code[32];
	assert_int_equal(lbl_input(&c, "Placebo", &x, code, sizeof code), 0);
	assert_string_equal(code, "2");
	assert_true(x == 2);
	assert_int_equal(lbl_input(&c, "missing", &x, code, sizeof code), 0);
	assert_string_equal(code, ".");
	assert_true(isnan(x));
	assert_int_equal(lbl_input(&c, "1", &x, code, sizeof code), 0);
	assert_true(x == 1);
	assert_int_equal(lbl_input(&c, "plac", &x, code, sizeof code), -1); /* not a number */
	store_column re = {.name = "alk", .type = COL_TYPE_REAL};
	assert_int_equal(lbl_input(&re, "12,259.5", &x, code, sizeof code), 0); /* as shown */
	assert_true(x == 12259.5);
	store_column bo = {.name = "ascites", .type = COL_TYPE_BOOLEAN};
	assert_int_equal(lbl_input(&bo, "yes", &x, code, sizeof code), 0);
	assert_true(x == 1);
}

/* A workbench with one patients table of three rows, made with the store's own schema. */
static sqlite3 *tiny_db(void)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	lm_err err = {0};
	assert_int_equal(store_exec(db, "BEGIN", &err), 0);
	assert_int_equal(store_init_schema(db, &err), 0);
	assert_int_equal(store_exec(db,
		"CREATE TABLE patients(id INTEGER, trt INTEGER, sex TEXT);"
		"INSERT INTO patients VALUES(1, 1, 'f'), (2, 2, 'm'), (3, NULL, 'f');"
		"INSERT INTO columns(dataset, position, name, type, role) VALUES"
		" ('patients', 0, 'id', 'integer', 'id'), ('patients', 1, 'trt', 'integer', 'treatment'),"
		" ('patients', 2, 'sex', 'text', 'group');", &err), 0);
	return db;
}

static void test_set_roundtrip(void **state)
{
	(void)state;
	sqlite3 *db = tiny_db();
	lm_err err = {0};
	assert_int_equal(lbl_set(db, "patients", "trt", "Treatment", "", "1=D-penicillamine,2=placebo",
				 "t.lumen", &err), 0);
	assert_int_equal(lbl_set(db, "patients", "sex", "Sex", NULL, "f=female,m=male", NULL, &err), 0);
	store_columns cols;
	assert_int_equal(store_columns_load(db, "patients", &cols, &err), 0);
	const store_column *t = &cols.c[store_columns_find(&cols, "trt")];
	assert_string_equal(t->label, "Treatment");
	assert_null(t->unit);
	assert_int_equal(t->nvl, 2);
	assert_string_equal(lbl_value(t, 2, NULL), "placebo");
	const store_column *s = &cols.c[store_columns_find(&cols, "sex")];
	assert_string_equal(lbl_value(s, NAN, "m"), "male");
	store_columns_free(&cols);
	/* a value the column never has, an unknown column, a code that is no number: refused,
	 * with the place, and nothing changes */
	assert_int_equal(lbl_set(db, "patients", "trt", NULL, NULL, "1=a,3=b", "t.lumen", &err), EX_DATAERR);
	assert_string_equal(err.msg, "t.lumen: values: column 'trt' never has the value '3' (label 'b')");
	assert_int_equal(lbl_set(db, "patients", "nosuch", "x", NULL, NULL, "l.csv:4:1", &err), EX_DATAERR);
	assert_string_equal(err.msg, "l.csv:4:1: no column 'nosuch' in patients");
	assert_int_equal(lbl_set(db, "patients", "trt", NULL, NULL, "one=a", NULL, &err), EX_DATAERR);
	assert_string_equal(err.msg, "values: code 'one' is not a number (trt is an integer column)");
	assert_int_equal(lbl_set(db, "patients", "trt", NULL, NULL, "1", NULL, &err), EX_DATAERR);
	assert_int_equal(store_columns_load(db, "patients", &cols, &err), 0);
	t = &cols.c[store_columns_find(&cols, "trt")];
	assert_int_equal(t->nvl, 2);
	assert_string_equal(t->vl[0].text, "D-penicillamine");
	store_columns_free(&cols);
	/* every change is one log row that says what changed */
	sqlite3_stmt *st = store_prepare(db, "SELECT count(*), min(detail) FROM access_log WHERE action = 'label'", &err);
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 2);
	assert_string_equal((const char *)sqlite3_column_text(st, 1),
			    "patients.sex: label none -> 'Sex'; values none -> 'f=female,m=male'");
	sqlite3_finalize(st);
	/* group labels in words: a labelled column and value, a column without words kept */
	assert_int_equal(store_columns_load(db, "patients", &cols, &err), 0);
	char g[128];
	assert_string_equal(lbl_group_text(&cols, "sex=m", g, sizeof g), "Sex male");
	assert_string_equal(lbl_group_text(&cols, "sex=f,trt=2", g, sizeof g), "Sex female, Treatment placebo");
	assert_string_equal(lbl_group_text(&cols, "id=3", g, sizeof g), "id=3");
	assert_string_equal(lbl_group_text(&cols, "risk 1/3 (p<=0.19)", g, sizeof g), "risk 1/3 (p<=0.19)");
	assert_string_equal(lbl_group_text(&cols, "all", g, sizeof g), "all");
	store_columns_free(&cols);
	/* clearing a part: "" */
	assert_int_equal(lbl_set(db, "patients", "trt", "", NULL, "", NULL, &err), 0);
	assert_int_equal(store_columns_load(db, "patients", &cols, &err), 0);
	t = &cols.c[store_columns_find(&cols, "trt")];
	assert_null(t->label);
	assert_int_equal(t->nvl, 0);
	store_columns_free(&cols);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_num_digits),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_input),
		cmocka_unit_test(test_set_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
