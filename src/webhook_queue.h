/*
 * webhook_queue.h — durable before acknowledgement, with group commit.
 * The HTTP threads submit verified bodies and go on serving other
 * connections; one writer thread takes everything queued (up to a batch
 * bound), stores it in one transaction, commits (fsync:
 * synchronous=FULL, WAL) and only then calls each event's done callback
 * with its answer: 200 when committed, 429 when the store could not take
 * the batch (locked past its bound, disk full, I/O error).
 */
#ifndef CV_WEBHOOK_QUEUE_H
#define CV_WEBHOOK_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "webhook_event.h"
#include "webhook_metrics.h"

struct webhook_queue_opts {
	const char *db_path;
	int busy_ms;             /* store lock wait bound before 429 */
	size_t max_batch;        /* events per transaction */
	size_t max_depth;        /* queued events before 429 */
	int64_t max_store_bytes; /* refuse (429) past this size; 0 = none */
};

struct webhook_queue;

/* Open the store (creating/migrating it) and start the writer thread.
 * metrics is borrowed and must outlive the queue. */
enum cv_err webhook_queue_create(struct webhook_queue **out,
	const struct webhook_queue_opts *o, struct webhook_metrics *metrics,
	char **errmsg) CV_MUST_CHECK;

/*
 * Submit one verified body, borrowed until job is freed. Returns 0 when
 * queued: done(ctx, status, outcome, job) is then called exactly once, on
 * the writer thread, after the event's batch is committed (200) or
 * refused (429); outcome says what the event did when 200. The caller
 * then owns job and frees it (webhook_job_free), best on the thread that
 * submitted: that keeps the freeing, and malloc's arena lock, off the
 * writer. Returns 429, and never calls done, when the queue is full or
 * stopping.
 */
struct webhook_job;
unsigned webhook_queue_submit(struct webhook_queue *q, const void *body,
	size_t len, const char *scheme,
	void (*done)(void *ctx, unsigned status, enum webhook_outcome o,
		struct webhook_job *job),
	void *ctx);

/* Free a job handed over by done. NULL is fine. */
void webhook_job_free(struct webhook_job *job);

/* Events waiting for the writer. */
size_t webhook_queue_depth(struct webhook_queue *q);

/* Commit everything still queued, stop the writer, close the store.
 * NULL is fine. */
void webhook_queue_destroy(struct webhook_queue *q);

#endif
