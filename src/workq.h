/*
 * workq.h — a few worker threads that run slow, blocking steps (a
 * recording's fsync) while the calling thread goes on; what they have
 * done comes back to the caller's thread through workq_collect.
 */
#ifndef CV_WORKQ_H
#define CV_WORKQ_H

#include <stddef.h>

#include "common.h"

struct workq;

/* n threads (at least 1). wake(wake_arg) runs on a worker each time an
 * item is done (e.g. to end the caller's poll); NULL for none. */
enum cv_err workq_create(struct workq **out, int n, void (*wake)(void *arg),
	void *wake_arg, char **errmsg) CV_MUST_CHECK;
/* Run fn(item) on a worker; item comes back from workq_collect. */
void workq_submit(struct workq *q, void (*fn)(void *item), void *item);
/* An item whose fn has run (the oldest first), or NULL when none is. */
void *workq_collect(struct workq *q);
/* Wait until every item submitted has run (they are then collected). */
void workq_wait(struct workq *q);
/* Items submitted and not collected yet. */
size_t workq_pending(struct workq *q);
/* Wait for every item submitted to run, hand those not collected to
 * drop (when non-NULL), stop the threads and free q. NULL ok. */
void workq_destroy(struct workq *q, void (*drop)(void *item));

#endif
