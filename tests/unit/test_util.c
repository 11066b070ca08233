/* Unit tests for util.c: SHA-256 against the FIPS 180-4 example vectors, the PRNG's
 * determinism and moments, and the whole-string number parsers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/util.h"

static void sha_of(const char *s, size_t n, char hex[65])
{
	lm_sha256 h;
	sha256_init(&h);
	sha256_update(&h, s, n);
	sha256_hex(&h, hex);
}

/* Expected digests: FIPS 180-4 examples (NIST CSVC "SHA256.pdf"), also `sha256sum`. */
static void test_sha256_vectors(void **state)
{
	(void)state;
	char hex[65];
	sha_of("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha_of("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha_of(two, strlen(two), hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* FIPS 180-2 appendix B.3: one million 'a' (15,625 blocks, many schedule rounds) */
	char *mil = malloc(1000000);
	assert_non_null(mil);
	memset(mil, 'a', 1000000);
	sha_of(mil, 1000000, hex);
	free(mil);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Feeding in pieces of every size gives the digest of the whole. */
static void test_sha256_chunked(void **state)
{
	(void)state;
	char buf[300], whole[65], part[65];
	for (int i = 0; i < 300; i++)
		buf[i] = (char)(i * 7 + 3);
	sha_of(buf, sizeof buf, whole);
	for (size_t chunk = 1; chunk <= 130; chunk++) {
		lm_sha256 h;
		sha256_init(&h);
		for (size_t off = 0; off < sizeof buf; off += chunk)
			sha256_update(&h, buf + off, off + chunk > sizeof buf ? sizeof buf - off : chunk);
		sha256_hex(&h, part);
		assert_string_equal(part, whole);
	}
}

static void test_rng(void **state)
{
	(void)state;
	lm_rng a, b;
	rng_seed(&a, 42);
	rng_seed(&b, 42);
	for (int i = 0; i < 100; i++)
		assert_true(rng_next(&a) == rng_next(&b));
	/* 200,000 normals: mean within 4 standard errors of 0, variance of 1. */
	double s = 0, s2 = 0;
	int n = 200000;
	for (int i = 0; i < n; i++) {
		double x = rng_normal(&a);
		s += x, s2 += x * x;
	}
	double m = s / n, v = s2 / n - m * m;
	assert_true(fabs(m) < 4.0 / sqrt(n));
	assert_true(fabs(v - 1.0) < 0.02);
	for (int i = 0; i < 1000; i++)
		assert_true(rng_below(&a, 7) < 7);
}

static void test_parse(void **state)
{
	(void)state;
	double d;
	long l;
	assert_int_equal(parse_double("58.7652292950034", &d), 0);
	assert_true(d == 58.7652292950034);
	assert_int_equal(parse_double("1.5x", &d), -1);
	assert_int_equal(parse_double("", &d), -1);
	assert_int_equal(parse_long("-12", &l), 0);
	assert_int_equal(l, -12);
	assert_int_equal(parse_long("12.0", &l), -1);
}

/* RFC 4180: plain fields as they are; a comma, quote or line break puts the field in quotes
 * with every quote doubled. Expected strings worked out by hand. */
static void test_csv_quote(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"plain", "plain"},
		{"", ""},
		{"a,b", "\"a,b\""},
		{"say \"hi\"", "\"say \"\"hi\"\"\""},
		{"\"", "\"\"\"\""},
		{"two\nlines", "\"two\nlines\""},
		{"cr\r", "\"cr\r\""},
		{"semi;colon", "semi;colon"},
	};
	for (size_t i = 0; i < LM_ARRAY_LEN(cases); i++) {
		lm_buf b = {0};
		buf_puts(&b, "");
		lm_csv_quote(&b, cases[i][0]);
		assert_string_equal(b.data, cases[i][1]);
		buf_free(&b);
	}
}

/* The same vectors through the portable block function (the CPU's SHA instructions are
 * used by default where present, so without this the C code would go untested there). */
static void test_sha256_portable(void **state)
{
	sha256_set_portable(1);
	test_sha256_vectors(state);
	test_sha256_chunked(state);
	sha256_set_portable(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_sha256_chunked),
		cmocka_unit_test(test_sha256_portable),
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_csv_quote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
