/* Unit tests for explain/importance.c: Spearman with ties against scipy.stats.spearmanr
 * (values computed with /usr/bin/python3 and kept here), global importance by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../explain/importance.h"

/* scipy.stats.spearmanr([1,2,3,4,5],[5,6,7,8,7]).correlation = 0.8207826816681233
 * (by hand: ranks b = 1,2,3.5,5,3.5 -> r = 8 / sqrt(10 * 9.5)). */
static void test_spearman_ties(void **state)
{
	(void)state;
	float a[] = {1, 2, 3, 4, 5}, b[] = {5, 6, 7, 8, 7};
	assert_true(fabs(imp_spearman(a, b, 5) - 0.8207826816681233) < 1e-12);
	assert_true(fabs(imp_spearman(b, a, 5) - 0.8207826816681233) < 1e-12);
}

/* spearmanr([-3,1,-2,0.5],[0.9,0.1,0.5,0.2]) = -1.0; with |a|: spearmanr([3,1,2,0.5], ...) = 0.8 */
static void test_spearman_abs(void **state)
{
	(void)state;
	float a[] = {-3, 1, -2, 0.5f}, b[] = {0.9f, 0.1f, 0.5f, 0.2f};
	assert_true(fabs(imp_spearman(a, b, 4) + 1.0) < 1e-12);
	assert_true(fabs(imp_spearman_abs(a, b, 4) - 0.8) < 1e-12);
	float c[] = {1, 1, 1, 1};
	assert_true(isnan(imp_spearman(a, c, 4)));
	assert_true(isnan(imp_spearman(a, b, 1)));
}

/* Rows {1,-2},{-3,4},{5,6} with the middle row masked out: mean |.| = {3, 4}, mean = {3, 2}. */
static void test_global(void **state)
{
	(void)state;
	float cols[] = {1, -2, -3, 4, 5, 6};
	double ma[2], ms[2];
	unsigned char mask[] = {1, 0, 1};
	assert_int_equal(imp_global(cols, 3, 2, mask, ma, ms), 2);
	assert_true(fabs(ma[0] - 3) < 1e-12 && fabs(ma[1] - 4) < 1e-12);
	assert_true(fabs(ms[0] - 3) < 1e-12 && fabs(ms[1] - 2) < 1e-12);
	assert_int_equal(imp_global(cols, 3, 2, NULL, ma, ms), 3);
	assert_true(fabs(ma[0] - 3) < 1e-12 && fabs(ms[1] - 8.0 / 3) < 1e-12);
}

/* JSON: columns sorted by mean |attribution|, largest first. */
static void test_json(void **state)
{
	(void)state;
	char *names[] = {"age", "bili", "sex"};
	enc_spec sp = {0};
	sp.ncolumn = 3;
	sp.columns = names;
	double ma[] = {0.1, 0.5, 0.25}, ms[] = {-0.1, 0.5, 0.0};
	lm_buf b = {0};
	imp_json(&b, &sp, ma, ms, 7, "mean");
	assert_string_equal(b.data, "{\"patients\":7,\"baseline\":\"mean\",\"columns\":["
				    "{\"column\":\"bili\",\"mean_abs\":0.5,\"mean\":0.5},"
				    "{\"column\":\"sex\",\"mean_abs\":0.25,\"mean\":0},"
				    "{\"column\":\"age\",\"mean_abs\":0.1,\"mean\":-0.1}]}");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spearman_ties),
		cmocka_unit_test(test_spearman_abs),
		cmocka_unit_test(test_global),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
