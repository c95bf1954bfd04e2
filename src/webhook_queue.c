/* webhook_queue.c — see webhook_queue.h */
#include "webhook_queue.h"

#include "store/store_webhook.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "util.h"

struct webhook_job {
	struct webhook_event ev;
	unsigned status;
	enum webhook_outcome outcome;
	void (*done)(void *ctx, unsigned status, enum webhook_outcome o,
		struct webhook_job *job);
	void *ctx;
	struct webhook_job *next;
};

struct webhook_queue {
	struct webhook_queue_opts o;
	struct webhook_metrics *m;
	struct store *store;
	struct store *ckpt_store; /* the checkpointer's own connection */
	pthread_t writer, checkpointer;
	pthread_mutex_t mu;
	pthread_cond_t work; /* writer waits for jobs */
	pthread_cond_t stop; /* wakes the checkpointer at stop */
	struct webhook_job *head, *tail;
	size_t depth;
	bool stopping;
};

/*
 * Store jobs[0..n) in one transaction, or the first *done of them: when
 * a short writer queues for its turn (a search's audit entry), the
 * events stored so far are committed and it gets in, so it waits for one
 * event rather than a whole group commit (40-120 ms under load). A bulk
 * writer waiting (import, sync) does not shorten the batch. On
 * failure nothing of the transaction is kept; *done then counts the
 * events it held, the failing one included (all n when BEGIN failed).
 */
static enum cv_err run_batch(struct webhook_queue *q, struct webhook_job **jobs,
	size_t n, size_t *done, char **errmsg)
{
	*done = n;
	enum cv_err rc = store_begin(q->store, errmsg);
	if (rc != CV_OK)
		return rc;
	size_t i = 0;
	while (i < n && rc == CV_OK) {
		rc = webhook_event_store(q->store, &jobs[i]->ev,
			&jobs[i]->outcome, errmsg);
		i++;
		if (i < n && store_short_writer_waiting(q->store))
			break;
	}
	*done = i;
	if (rc == CV_OK)
		return store_commit(q->store, errmsg);
	store_rollback(q->store);
	return rc;
}

static void count_outcome(struct webhook_metrics *m, enum webhook_outcome o)
{
	if (o == WH_DUPLICATE) {
		atomic_fetch_add(&m->duplicates, 1);
		return;
	}
	if (o == WH_CALL_DISPOSED) {
		atomic_fetch_add(&m->disposed, 1);
		return;
	}
	atomic_fetch_add(&m->events_stored, 1);
	if (o == WH_STALE)
		atomic_fetch_add(&m->stale, 1);
	if (o == WH_QUARANTINED)
		atomic_fetch_add(&m->quarantined, 1);
}

static void settle(struct webhook_queue *q, struct webhook_job **jobs, size_t n,
	enum cv_err rc)
{
	for (size_t i = 0; i < n; i++) {
		jobs[i]->status = rc == CV_OK ? 200 : 429;
		if (rc == CV_OK)
			count_outcome(q->m, jobs[i]->outcome);
	}
	if (rc != CV_OK)
		atomic_fetch_add(&q->m->store_failures, 1);
}

/* Commit a batch, in as many transactions as run_batch takes. A locked
 * or full store answers all that is left 429 at once; another failure
 * retries the failed transaction's events one by one, so one bad event
 * cannot hold back the others. */
static void commit_jobs(struct webhook_queue *q, struct webhook_job **jobs,
	size_t n)
{
	while (n > 0) {
		char *err = NULL;
		size_t k;
		uint64_t t0 = (uint64_t)cv_mono_us();
		enum cv_err rc = run_batch(q, jobs, n, &k, &err);
		webhook_metrics_commit(q->m, (uint64_t)cv_mono_us() - t0, k);
		if (rc == CV_EBUSY || rc == CV_EIO)
			k = n;
		if (rc == CV_OK || k == 1 || rc == CV_EBUSY || rc == CV_EIO) {
			if (rc != CV_OK)
				cv_warn("msg=\"store refused a batch; answering "
					"429\" events=%zu err=\"%s\"",
					k, err ? err : cv_strerror(rc));
			settle(q, jobs, k, rc);
		} else {
			cv_warn("msg=\"batch failed; retrying its events one "
				"by one\" events=%zu err=\"%s\"",
				k, err ? err : cv_strerror(rc));
			for (size_t i = 0; i < k; i++)
				commit_jobs(q, &jobs[i], 1);
		}
		free(err);
		jobs += k;
		n -= k;
	}
}

static void *writer_main(void *arg)
{
	struct webhook_queue *q = arg;
	struct webhook_job **batch = xcalloc(q->o.max_batch, sizeof(*batch));
	pthread_setname_np(pthread_self(), "cv-writer");
	for (;;) {
		pthread_mutex_lock(&q->mu);
		while (!q->head && !q->stopping)
			pthread_cond_wait(&q->work, &q->mu);
		size_t n = 0;
		while (q->head && n < q->o.max_batch) {
			batch[n++] = q->head;
			q->head = q->head->next;
		}
		if (!q->head)
			q->tail = NULL;
		q->depth -= n;
		pthread_mutex_unlock(&q->mu);
		if (n == 0)
			break; /* stopping and drained */
		commit_jobs(q, batch, n);
		/* answer exactly the batch's requests; each frees its job
		 * on its own thread, which allocated it (webhook_job_free) */
		for (size_t i = 0; i < n; i++)
			batch[i]->done(batch[i]->ctx, batch[i]->status,
				batch[i]->outcome, batch[i]);
	}
	free(batch);
	return NULL;
}

/* Copy the WAL into the database every second, off the commit path
 * (less often means a page rewritten by many commits is copied once). */
static void *checkpointer_main(void *arg)
{
	struct webhook_queue *q = arg;
	pthread_setname_np(pthread_self(), "cv-checkpoint");
	pthread_mutex_lock(&q->mu);
	while (!q->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 1000 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&q->stop, &q->mu, &ts);
		if (q->stopping)
			break;
		pthread_mutex_unlock(&q->mu);
		char *err = NULL;
		if (store_wal_checkpoint(q->ckpt_store, &err) != CV_OK)
			cv_warn("msg=\"checkpoint failed\" err=\"%s\"", err);
		free(err);
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

enum cv_err webhook_queue_create(struct webhook_queue **out,
	const struct webhook_queue_opts *o, struct webhook_metrics *metrics,
	char **errmsg)
{
	struct webhook_queue *q = xcalloc(1, sizeof(*q));
	q->o = *o;
	if (q->o.max_batch == 0)
		q->o.max_batch = 512;
	if (q->o.max_depth == 0)
		q->o.max_depth = 4096;
	q->m = metrics;
	*out = NULL;
	enum cv_err rc = store_open(&q->store, o->db_path, 0, errmsg);
	if (rc != CV_OK) {
		free(q);
		return rc;
	}
	if ((rc = store_open(&q->ckpt_store, o->db_path, 0, errmsg)) != CV_OK) {
		store_close(q->store);
		free(q);
		return rc;
	}
	store_set_busy_timeout(q->store, o->busy_ms > 0 ? o->busy_ms : 2000);
	store_wal_autocheckpoint(q->store, 0);
	if (o->max_store_bytes > 0)
		store_set_size_limit(q->store, o->max_store_bytes);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->stop, NULL);
	if (pthread_create(&q->writer, NULL, writer_main, q) != 0 ||
		pthread_create(&q->checkpointer, NULL, checkpointer_main, q) !=
			0)
		abort(); /* no threads: nothing sensible left to do */
	*out = q;
	return CV_OK;
}

unsigned webhook_queue_submit(struct webhook_queue *q, const void *body,
	size_t len, const char *scheme,
	void (*done)(void *ctx, unsigned status, enum webhook_outcome o,
		struct webhook_job *job),
	void *ctx)
{
	struct webhook_job *j = xcalloc(1, sizeof(*j));
	j->status = 429;
	j->done = done;
	j->ctx = ctx;
	/* parse here, in the request's thread: the writer only stores */
	webhook_event_prepare(&j->ev, body, len, scheme);
	pthread_mutex_lock(&q->mu);
	if (q->depth >= q->o.max_depth || q->stopping) {
		pthread_mutex_unlock(&q->mu);
		webhook_event_finish(&j->ev);
		free(j);
		return 429;
	}
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->depth++;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

void webhook_job_free(struct webhook_job *j)
{
	if (!j)
		return;
	webhook_event_finish(&j->ev);
	free(j);
}

size_t webhook_queue_depth(struct webhook_queue *q)
{
	pthread_mutex_lock(&q->mu);
	size_t d = q->depth;
	pthread_mutex_unlock(&q->mu);
	return d;
}

void webhook_queue_destroy(struct webhook_queue *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_signal(&q->work);
	pthread_cond_signal(&q->stop);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->writer, NULL);
	pthread_join(q->checkpointer, NULL);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->work);
	pthread_cond_destroy(&q->stop);
	store_close(q->ckpt_store);
	store_close(q->store);
	free(q);
}
