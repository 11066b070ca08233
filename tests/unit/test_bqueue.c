/* The import's bounded queue (src/data/bqueue.h): every item arrives, in order, through fewer
 * slots than items; a consumer that stops makes the producer's next push return 1; an empty
 * run ends at once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/data/bqueue.h"

#define SLOTS 3

typedef struct run {
	bqueue q;
	int slot[SLOTS];
	int items, pushed, stopped_at;
} run;

static void *produce(void *arg)
{
	run *r = arg;
	r->stopped_at = -1;
	for (int i = 0; i < r->items; i++) {
		r->slot[r->q.tail] = i;
		r->pushed++;
		if (bq_push(&r->q)) {
			r->stopped_at = i;
			break;
		}
	}
	bq_finish(&r->q);
	return NULL;
}

static void test_in_order(void **state)
{
	(void)state;
	run r = {.items = 1000};
	bq_init(&r.q, SLOTS);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, produce, &r), 0);
	int next = 0;
	for (int k; (k = bq_pop(&r.q)) >= 0;) {
		assert_int_equal(r.slot[k], next);
		next++;
		bq_release(&r.q, 0);
	}
	pthread_join(th, NULL);
	assert_int_equal(next, 1000);
	assert_int_equal(r.stopped_at, -1);
	bq_destroy(&r.q);
}

static void test_stop(void **state)
{
	(void)state;
	run r = {.items = 1000};
	bq_init(&r.q, SLOTS);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, produce, &r), 0);
	int got = 0;
	for (int k; (k = bq_pop(&r.q)) >= 0;) {
		got++;
		bq_release(&r.q, got == 10); /* the consumer fails on the 10th item */
		if (got == 10)
			break;
	}
	pthread_join(th, NULL);
	assert_int_equal(got, 10);
	/* the producer filled at most the free slots after the stop, then saw it */
	assert_true(r.stopped_at >= 9 && r.stopped_at < 10 + SLOTS);
	assert_true(bq_stopped(&r.q));
	bq_destroy(&r.q);
}

static void test_empty(void **state)
{
	(void)state;
	run r = {.items = 0};
	bq_init(&r.q, SLOTS);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, produce, &r), 0);
	assert_int_equal(bq_pop(&r.q), -1);
	pthread_join(th, NULL);
	bq_destroy(&r.q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
