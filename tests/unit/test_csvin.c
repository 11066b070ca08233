/* Unit tests for csvin.c (and import's value rules): every input is fed at every chunk size
 * from 1 to its length, as libcsv's own tests do, and must give the same records, the same
 * field positions and the same errors. Cases include sqlite3's test/shell5.test edge cases
 * (embedded quotes, delimiters and newlines in quoted fields, empty fields, a last line
 * without a newline, CRLF). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/data/csvin.h"
#include "../../src/data/import.h"

/* Records as text: fields "value@line:col" joined by '|', one record per line, then
 * "#end@line:col" for where the record ended. */
static int collect(void *ctx, const csvin_row *row, lm_err *err)
{
	(void)err;
	lm_buf *b = ctx;
	for (int i = 0; i < row->n; i++) {
		/* csvin.h: the fields of a record lie one after the other in one buffer */
		if (i)
			assert_ptr_equal(row->f[i].s, row->f[i - 1].s + row->f[i - 1].len + 1);
		buf_printf(b, "%s%s@%ld:%ld", i ? "|" : "", row->f[i].s, row->f[i].line, row->f[i].col);
	}
	buf_printf(b, "#end@%ld:%ld\n", row->end_line, row->end_col);
	return 0;
}

/* Parses in chunks of size chunk; returns records text (malloc'd), and the error message or
 * "" in emsg. */
static char *parse(const char *in, size_t len, size_t chunk, int delim, char *emsg, int *used)
{
	lm_buf b = {0};
	buf_puts(&b, "");
	csvin *r = csvin_new("t.csv", delim, collect, &b);
	lm_err err = {0, ""};
	int st = 0;
	for (size_t off = 0; off < len && !st; off += chunk)
		st = csvin_feed(r, in + off, off + chunk > len ? len - off : chunk, &err);
	if (!st)
		st = csvin_finish(r, &err);
	strcpy(emsg, st ? err.msg : "");
	if (used)
		*used = csvin_delim(r);
	csvin_free(r);
	return b.data;
}

/* Checks one input at every chunk size against the expected records and error. */
static void check_all(const char *in, size_t len, int delim, const char *want, const char *want_err,
		      int want_delim)
{
	for (size_t chunk = 1; chunk <= (len ? len : 1); chunk++) {
		char emsg[1024];
		int used = 0;
		char *got = parse(in, len, chunk, delim, emsg, &used);
		if (strcmp(got, want) || strcmp(emsg, want_err))
			print_error("chunk %zu:\n got records:\n%s\n want:\n%s\n got error '%s', want '%s'\n",
				    chunk, got, want, emsg, want_err);
		assert_string_equal(got, want);
		assert_string_equal(emsg, want_err);
		if (want_delim)
			assert_int_equal(used, want_delim);
		free(got);
	}
}

#define CHECK(in, delim, want, err) check_all(in, sizeof(in) - 1, delim, want, err, 0)

static void test_basic(void **state)
{
	(void)state;
	CHECK("a,b\n1,2\n", 0, "a@1:1|b@1:3#end@1:4\n1@2:1|2@2:3#end@2:4\n", "");
	/* no newline at the end */
	CHECK("a,b\n1,2", 0, "a@1:1|b@1:3#end@1:4\n1@2:1|2@2:3#end@2:4\n", "");
	/* CRLF, and a trailing empty line */
	CHECK("a,b\r\n1,2\r\n\r\n", 0, "a@1:1|b@1:3#end@1:4\n1@2:1|2@2:3#end@2:4\n", "");
	/* blank lines between records are skipped */
	CHECK("a\n\n1\n", 0, "a@1:1#end@1:2\n1@3:1#end@3:2\n", "");
}

static void test_bom(void **state)
{
	(void)state;
	CHECK("\xef\xbb\xbf" "a,b\n1,2\n", 0, "a@1:1|b@1:3#end@1:4\n1@2:1|2@2:3#end@2:4\n", "");
	/* only a BOM: nothing */
	CHECK("\xef\xbb\xbf", 0, "", "t.csv:1:1: empty file");
	/* a prefix of a BOM followed by something else is not a BOM (and not UTF-8) */
	CHECK("\xef\xbbx\n", 0, "", "t.csv:1:1: invalid UTF-8 sequence (byte 0x78)");
	/* a real character that starts like one */
	CHECK("\xef\xbc\x81,b\n", 0, "\xef\xbc\x81@1:1|b@1:3#end@1:4\n", "");
}

static void test_quotes(void **state)
{
	(void)state;
	/* shell5.test: doubled quotes, delimiters and newlines inside quotes, empty quoted */
	CHECK("a,b\n\"x\"\"y\",\"\"\n", 0, "a@1:1|b@1:3#end@1:4\nx\"y@2:1|@2:8#end@2:10\n", "");
	CHECK("a,b\n\"1,2\",\"3\n4\"\n5,6\n", 0,
	      "a@1:1|b@1:3#end@1:4\n1,2@2:1|3\n4@2:7#end@3:3\n5@4:1|6@4:3#end@4:4\n", "");
	/* a quoted CRLF is kept as data */
	CHECK("a\n\"x\r\ny\"\n", 0, "a@1:1#end@1:2\nx\r\ny@2:1#end@3:3\n", "");
	CHECK("\"\"\"\"\n", 0, "\"@1:1#end@1:5\n", "");
}

static void test_empty_fields(void **state)
{
	(void)state;
	CHECK("a,b,c\n,,\n1,,3\n", 0,
	      "a@1:1|b@1:3|c@1:5#end@1:6\n@2:1|@2:2|@2:3#end@2:3\n1@3:1|@3:3|3@3:4#end@3:5\n", "");
}

static void test_delimiters(void **state)
{
	(void)state;
	const char semi[] = "a;b;c,d\n1;2;5,6\n";
	check_all(semi, sizeof semi - 1, 0, "a@1:1|b@1:3|c,d@1:5#end@1:8\n1@2:1|2@2:3|5,6@2:5#end@2:8\n",
		  "", ';');
	/* a tie goes to the comma */
	assert_int_equal(csvin_detect_delim("a;b,c", 5), ',');
	const char tab[] = "a\tb\n1\t2\n";
	check_all(tab, sizeof tab - 1, 0, "a@1:1|b@1:3#end@1:4\n1@2:1|2@2:3#end@2:4\n", "", '\t');
	/* a quoted delimiter in the header does not count */
	const char q[] = "\"a;b;c\",d\n1,2\n";
	check_all(q, sizeof q - 1, 0, "a;b;c@1:1|d@1:9#end@1:10\n1@2:1|2@2:3#end@2:4\n", "", ',');
	const char pipe[] = "a|b\n1|2\n";
	check_all(pipe, sizeof pipe - 1, '|', "a@1:1|b@1:3#end@1:4\n1@2:1|2@2:3#end@2:4\n", "", '|');
	assert_int_equal(csvin_detect_delim("x", 1), ',');
	assert_int_equal(csvin_detect_delim("a;b;c,d\n1,2,3,4,5", 17), ';');
}

static void test_utf8_columns(void **state)
{
	(void)state;
	/* columns count characters, not bytes */
	CHECK("caf\xc3\xa9,x\n\xe2\x82\xac,y\n", 0,
	      "caf\xc3\xa9@1:1|x@1:6#end@1:7\n\xe2\x82\xac@2:1|y@2:3#end@2:4\n", "");
}

static void test_errors(void **state)
{
	(void)state;
	CHECK("a,b\n1,\"x\n", 0, "a@1:1|b@1:3#end@1:4\n", "t.csv:2:3: unterminated quoted field");
	CHECK("a,b\n1,x\"y\n", 0, "a@1:1|b@1:3#end@1:4\n", "t.csv:2:4: quote inside an unquoted field");
	CHECK("a,b\n1,\"x\"y\n", 0, "a@1:1|b@1:3#end@1:4\n",
	      "t.csv:2:6: unexpected character after a closing quote");
	CHECK("a,b\n1,2,3\n", 0, "a@1:1|b@1:3#end@1:4\n", "t.csv:2:5: expected 2 fields, found 3");
	CHECK("a,b\n1\n", 0, "a@1:1|b@1:3#end@1:4\n", "t.csv:2:2: expected 2 fields, found 1");
	CHECK("a,b\n1,\xc3(\n", 0, "a@1:1|b@1:3#end@1:4\n", "t.csv:2:3: invalid UTF-8 sequence (byte 0x28)");
	CHECK("a,b\n1,\xed\xa0\x80\n", 0, "a@1:1|b@1:3#end@1:4\n",
	      "t.csv:2:3: invalid UTF-8 sequence (byte 0xa0)"); /* a UTF-16 surrogate */
	CHECK("a,b\n1,\xc0\xaf\n", 0, "a@1:1|b@1:3#end@1:4\n", "t.csv:2:3: invalid UTF-8 byte 0xc0");
	CHECK("a,b\n1,x\xe2\x82", 0, "a@1:1|b@1:3#end@1:4\n",
	      "t.csv:2:5: truncated UTF-8 sequence at end of file");
	CHECK("a,b\n1,x\0\n", 0, "a@1:1|b@1:3#end@1:4\n", "t.csv:2:4: NUL byte");
	CHECK("", 0, "", "t.csv:1:1: empty file");
	CHECK("\n\r\n", 0, "", "t.csv:1:1: empty file");
}

/* A callback error stops the reader: no later record is delivered. */
static int stop_at_second(void *ctx, const csvin_row *row, lm_err *err)
{
	int *n = ctx;
	(*n)++;
	if (row->record == 2)
		return csvin_error_at(err, "t.csv", row->f[0].line, row->f[0].col, "stop");
	return 0;
}

static void test_callback_stops(void **state)
{
	(void)state;
	const char in[] = "a\n1\n2\n3\n";
	for (size_t chunk = 1; chunk < sizeof in; chunk++) {
		int n = 0;
		csvin *r = csvin_new("t.csv", ',', stop_at_second, &n);
		lm_err err = {0, ""};
		int st = 0;
		for (size_t off = 0; off < sizeof in - 1 && !st; off += chunk)
			st = csvin_feed(r, in + off, off + chunk > sizeof in - 1 ? sizeof in - 1 - off : chunk, &err);
		if (!st)
			st = csvin_finish(r, &err);
		assert_int_equal(st, EX_DATAERR);
		assert_string_equal(err.msg, "t.csv:2:1: stop");
		assert_int_equal(n, 2);
		/* the error sticks */
		assert_int_equal(csvin_feed(r, "4\n", 2, &err), EX_DATAERR);
		csvin_free(r);
	}
}

static void test_numbers(void **state)
{
	(void)state;
	double v;
	long long iv;
	assert_int_equal(import_parse_number("42", 2, &v, &iv), 2);
	assert_true(iv == 42 && v == 42.0);
	assert_int_equal(import_parse_number("-7", 2, &v, &iv), 2);
	assert_true(iv == -7);
	assert_int_equal(import_parse_number("58.7652292950034", 16, &v, &iv), 1);
	assert_true(v == strtod("58.7652292950034", NULL));
	assert_int_equal(import_parse_number("1e3", 3, &v, &iv), 1);
	assert_true(v == 1000.0);
	assert_int_equal(import_parse_number(".5", 2, &v, &iv), 1);
	assert_true(v == 0.5);
	assert_int_equal(import_parse_number("2.", 2, &v, &iv), 1);
	assert_int_equal(import_parse_number("9223372036854775807", 19, &v, &iv), 2);
	assert_true(iv == INT64_MAX);
	assert_int_equal(import_parse_number("9223372036854775808", 19, &v, &iv), 1);
	assert_int_equal(import_parse_number("1.7976931348623157e308", 22, &v, &iv), 1);
	assert_true(v == 1.7976931348623157e308);
	assert_int_equal(import_parse_number("1e999", 5, &v, &iv), 0);
	static const char *const not_numbers[] = {"", "-", ".", "e5", "1e", "0x10", "inf", "nan",
						  "1,5", "1 2", "12a", "--1", "+.e1"};
	for (size_t i = 0; i < LM_ARRAY_LEN(not_numbers); i++)
		assert_int_equal(import_parse_number(not_numbers[i], strlen(not_numbers[i]), &v, &iv), 0);
	/* the fast path rounds like strtod on many decimal strings */
	lm_rng r;
	rng_seed(&r, 7);
	for (int i = 0; i < 20000; i++) {
		char s[64];
		int digits = 1 + (int)rng_below(&r, 15), frac = (int)rng_below(&r, 10);
		unsigned long long m = rng_next(&r) % 1000000000000000ULL;
		int n = snprintf(s, sizeof s, "%llu", m % (unsigned long long)pow(10, digits));
		if (frac && n > frac) {
			memmove(s + n - frac + 1, s + n - frac, (size_t)frac + 1);
			s[n - frac] = '.';
			n++;
		}
		int kind = import_parse_number(s, (size_t)n, &v, &iv);
		assert_true(kind > 0);
		assert_true(v == strtod(s, NULL));
	}
}

static void test_infer(void **state)
{
	(void)state;
	const char *b01[] = {"0", "1", "", "1"};
	assert_int_equal(import_infer_type(b01, 4), COL_TYPE_BOOLEAN);
	const char *yes[] = {"Yes", "no", "NA", "YES"};
	assert_int_equal(import_infer_type(yes, 4), COL_TYPE_BOOLEAN);
	const char *tf[] = {"t", "F", "T"};
	assert_int_equal(import_infer_type(tf, 3), COL_TYPE_BOOLEAN);
	const char *truefalse[] = {"TRUE", "false"};
	assert_int_equal(import_infer_type(truefalse, 2), COL_TYPE_BOOLEAN);
	/* pbc's sex: f alone would be a boolean label, m is not */
	const char *sex[] = {"f", "m", "f"};
	assert_int_equal(import_infer_type(sex, 3), COL_TYPE_TEXT);
	/* mixed families are not boolean */
	const char *mixed[] = {"yes", "0"};
	assert_int_equal(import_infer_type(mixed, 2), COL_TYPE_TEXT);
	const char *codes[] = {"1", "2", "1"};
	assert_int_equal(import_infer_type(codes, 3), COL_TYPE_INTEGER);
	const char *status[] = {"0", "1", "2"};
	assert_int_equal(import_infer_type(status, 3), COL_TYPE_INTEGER);
	const char *edema[] = {"0", "0.5", "1"};
	assert_int_equal(import_infer_type(edema, 3), COL_TYPE_REAL);
	const char *reals[] = {"1", "1.4", "-2e-3", "N/A", "."};
	assert_int_equal(import_infer_type(reals, 5), COL_TYPE_REAL);
	const char *text[] = {"1", "2", "three"};
	assert_int_equal(import_infer_type(text, 3), COL_TYPE_TEXT);
	const char *none[] = {"", "NA", "null"};
	assert_int_equal(import_infer_type(none, 3), COL_TYPE_TEXT);
	const char *big[] = {"1", "99999999999999999999"};
	assert_int_equal(import_infer_type(big, 2), COL_TYPE_REAL);
	assert_true(import_is_default_na("NaN") && import_is_default_na("") && import_is_default_na("."));
	assert_false(import_is_default_na("na") || import_is_default_na("0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),	     cmocka_unit_test(test_bom),
		cmocka_unit_test(test_quotes),	     cmocka_unit_test(test_empty_fields),
		cmocka_unit_test(test_delimiters),   cmocka_unit_test(test_utf8_columns),
		cmocka_unit_test(test_errors),	     cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_numbers),	     cmocka_unit_test(test_infer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
