/* bqueue.c: the bounded queue of bqueue.h (one mutex, one condition variable). */
#include "bqueue.h"

void bq_init(bqueue *q, int n)
{
	q->n = n < 1 ? 1 : n > BQ_MAX ? BQ_MAX : n;
	for (int i = 0; i < BQ_MAX; i++)
		q->full[i] = 0;
	q->head = q->tail = q->done = q->stop = 0;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
}

void bq_destroy(bqueue *q)
{
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

int bq_push(bqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->full[q->tail] = 1;
	pthread_cond_broadcast(&q->cv);
	q->tail = (q->tail + 1) % q->n;
	while (q->full[q->tail] && !q->stop)
		pthread_cond_wait(&q->cv, &q->mu);
	int stop = q->stop;
	pthread_mutex_unlock(&q->mu);
	return stop;
}

void bq_finish(bqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->done = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

int bq_stopped(bqueue *q)
{
	pthread_mutex_lock(&q->mu);
	int s = q->stop;
	pthread_mutex_unlock(&q->mu);
	return s;
}

int bq_pop(bqueue *q)
{
	pthread_mutex_lock(&q->mu);
	while (!q->full[q->head] && !q->done)
		pthread_cond_wait(&q->cv, &q->mu);
	int slot = q->full[q->head] ? q->head : -1;
	pthread_mutex_unlock(&q->mu);
	return slot;
}

void bq_release(bqueue *q, int stop)
{
	pthread_mutex_lock(&q->mu);
	q->full[q->head] = 0;
	q->head = (q->head + 1) % q->n;
	if (stop)
		q->stop = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}
