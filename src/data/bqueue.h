/* bqueue.h: a bounded queue of n slots between one producer thread and one consumer thread,
 * as the import's two passes use it (a CSV reader fills batches, the caller's thread consumes
 * them in order). The queue holds no data: it says which slot each side owns. The producer
 * fills slot `tail` and calls bq_push; the consumer waits with bq_pop for slot `head`, uses
 * it and hands it back with bq_release. Either side may stop the other: bq_release with stop
 * set makes every later bq_push return 1; the producer ends with bq_finish. Results the
 * producer leaves in its own struct are read by the consumer after pthread_join. */
#ifndef LUMEN_BQUEUE_H
#define LUMEN_BQUEUE_H

#include <pthread.h>

#define BQ_MAX 16

typedef struct bqueue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n;
	int full[BQ_MAX];
	int head, tail; /* the consumer reads slot head, the producer fills slot tail */
	int done, stop;
} bqueue;

/* n slots, 1..BQ_MAX. */
void bq_init(bqueue *q, int n);
void bq_destroy(bqueue *q);
/* Producer: slot tail is full; waits until the next one is free. 1 when the consumer stopped. */
int bq_push(bqueue *q);
/* Producer: no more slots will be filled. */
void bq_finish(bqueue *q);
/* Whether the consumer has stopped (either side may ask). */
int bq_stopped(bqueue *q);
/* Consumer: waits for slot head; returns it, or -1 when the producer finished and every
 * filled slot was consumed. */
int bq_pop(bqueue *q);
/* Consumer: slot head is free again (the caller emptied it); stop = 1 stops the producer. */
void bq_release(bqueue *q, int stop);

#endif
