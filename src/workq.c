/* workq.c — see workq.h */
#include "workq.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util.h"

struct task {
	void (*fn)(void *item);
	void *item;
	struct task *next;
};

struct workq {
	pthread_mutex_t mu;
	pthread_cond_t cv, idle;
	struct task *todo, **todo_tail, *done, **done_tail;
	size_t pending, running;
	bool stop;
	void (*wake)(void *arg);
	void *wake_arg;
	pthread_t *th;
	int n;
};

static void *worker(void *arg)
{
	struct workq *q = arg;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->todo && !q->stop)
			pthread_cond_wait(&q->cv, &q->mu);
		if (!q->todo)
			break; /* stopping, and nothing left to run */
		struct task *t = q->todo;
		if (!(q->todo = t->next))
			q->todo_tail = &q->todo;
		t->next = NULL;
		q->running++;
		pthread_mutex_unlock(&q->mu);
		t->fn(t->item);
		pthread_mutex_lock(&q->mu);
		q->running--;
		*q->done_tail = t;
		q->done_tail = &t->next;
		if (!q->todo && !q->running)
			pthread_cond_broadcast(&q->idle);
		if (q->wake)
			q->wake(q->wake_arg);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

static void stop_threads(struct workq *q)
{
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	for (int i = 0; i < q->n; i++)
		pthread_join(q->th[i], NULL);
	q->n = 0;
}

enum cv_err workq_create(struct workq **out, int n, void (*wake)(void *arg),
	void *wake_arg, char **errmsg)
{
	struct workq *q = xcalloc(1, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	pthread_cond_init(&q->idle, NULL);
	q->todo_tail = &q->todo;
	q->done_tail = &q->done;
	q->wake = wake;
	q->wake_arg = wake_arg;
	q->th = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*q->th));
	for (int i = 0; i < (n > 0 ? n : 1); i++) {
		if (pthread_create(&q->th[i], NULL, worker, q) != 0) {
			workq_destroy(q, NULL);
			*out = NULL;
			return cv_error(errmsg, CV_EIO,
				"cannot start a thread");
		}
		q->n++;
	}
	*out = q;
	return CV_OK;
}

void workq_submit(struct workq *q, void (*fn)(void *item), void *item)
{
	struct task *t = xcalloc(1, sizeof(*t));
	t->fn = fn;
	t->item = item;
	pthread_mutex_lock(&q->mu);
	*q->todo_tail = t;
	q->todo_tail = &t->next;
	q->pending++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void *workq_collect(struct workq *q)
{
	pthread_mutex_lock(&q->mu);
	struct task *t = q->done;
	if (t) {
		if (!(q->done = t->next))
			q->done_tail = &q->done;
		q->pending--;
	}
	pthread_mutex_unlock(&q->mu);
	if (!t)
		return NULL;
	void *item = t->item;
	free(t);
	return item;
}

void workq_wait(struct workq *q)
{
	pthread_mutex_lock(&q->mu);
	while ((q->todo || q->running) && q->n > 0)
		pthread_cond_wait(&q->idle, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

size_t workq_pending(struct workq *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->pending;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void workq_destroy(struct workq *q, void (*drop)(void *item))
{
	if (!q)
		return;
	stop_threads(q); /* the workers run what is queued first */
	for (void *item; (item = workq_collect(q));)
		if (drop)
			drop(item);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	pthread_cond_destroy(&q->idle);
	free(q->th);
	free(q);
}
