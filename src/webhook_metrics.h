/*
 * webhook_metrics.h — the receiver's counters, rendered in Prometheus text
 * format for GET /metrics. Lock-free (C11 atomics): any thread may count.
 */
#ifndef CV_WEBHOOK_METRICS_H
#define CV_WEBHOOK_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define WM_N_STATUS 11
#define WM_N_BUCKETS 13

struct webhook_metrics {
	atomic_uint_fast64_t requests[WM_N_STATUS]; /* by status, see .c */
	atomic_uint_fast64_t events_stored; /* new deliveries committed */
	atomic_uint_fast64_t duplicates;
	atomic_uint_fast64_t quarantined;
	atomic_uint_fast64_t disposed; /* calls disposed of: dropped */
	atomic_uint_fast64_t stale;    /* older than the replay window */
	atomic_uint_fast64_t sig_failures;
	atomic_uint_fast64_t store_failures; /* batches refused (429) */
	atomic_uint_fast64_t commit_bucket[WM_N_BUCKETS]; /* cumulative */
	atomic_uint_fast64_t commit_count;
	atomic_uint_fast64_t commit_us_sum;
	atomic_uint_fast64_t batch_events_sum;
};

/* Count one answered request with this HTTP status. */
void webhook_metrics_status(struct webhook_metrics *m, unsigned status);
/* One group commit of n events that took us microseconds. */
void webhook_metrics_commit(struct webhook_metrics *m, uint64_t us, size_t n);
/* Append the Prometheus text exposition to out; wal_file_bytes is the
 * store's -wal file's size (-1: unknown). */
void webhook_metrics_render(struct webhook_metrics *m, size_t queue_depth,
	int64_t wal_file_bytes, struct buf *out);
/* Append the store's status (store_status.h: calls, per-location sync,
 * fetch queue, archives per location-month) read through a read-only
 * connection opened for the call; callvault_status_up 0 when it cannot
 * be read. */
void webhook_metrics_render_store(const char *db_path, struct buf *out);

#endif
