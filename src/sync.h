/*
 * sync.h — `callvault sync`: pull call logs and agent names from the
 * HighLevel API for several locations in parallel, each page stored with
 * the location's checkpoint in one transaction, within the rate limits
 * the server announces, with bounded retries; then drain the fetch queue
 * of calls that webhooks announced, and fetch the recordings and timed
 * transcriptions due (media.h) within the same budget.
 */
#ifndef CV_SYNC_H
#define CV_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "ingest.h"
#include "reconcile.h"
#include "store/store.h"

/* 2015-01-01T00:00:00Z: the start of a first or --full sync by default. */
#define SYNC_DEFAULT_SINCE_MS INT64_C(1420070400000)
#define SYNC_PAGE_SIZE 50

/* One location's progress, for the caller to show. */
struct sync_progress {
	const char *location;
	const char *state; /* agents, calls, queue, done, FAILED */
	int64_t pages, calls;
	double calls_per_s;
	double eta_s; /* < 0 when unknown */
};

struct sync_opts {
	const char *const *locations; /* NULL/0 = every location */
	size_t n_locations;
	int64_t since_ms;        /* 0 = from the checkpoint */
	int64_t until_ms;        /* 0 = now */
	bool full;               /* ignore the checkpoint */
	int64_t overlap_ms;      /* re-read before the checkpoint (24 h) */
	int max_retries;         /* per request on 5xx/transport (6) */
	int64_t backoff_ms;      /* first backoff step (250) */
	long timeout_ms;         /* one HTTP exchange (60000) */
	int64_t max_store_bytes; /* treat the store as full past this;
				     0 = no cap */
	/* progress: called at most every 250 ms while the run goes on, and
	 * once with final set at its end (NULL: log lines instead) */
	void (*progress)(void *ctx, const struct sync_progress *rows, size_t n,
		bool final);
	void *progress_ctx;
	bool reconcile;          /* list and compare (reconcile.h) instead
				     of syncing: no agents, no checkpoint,
				     no fetch queue; since/until required */
	bool repair;             /* reconcile: store what is wanting */
	bool no_media;           /* queue recordings, fetch none */
	int64_t media_max_bytes; /* a recording's bound (256 MiB) */
};
void sync_opts_init(struct sync_opts *o);

struct sync_result {
	char *location;
	char *error;   /* NULL when the location synced */
	char *warning; /* non-fatal trouble (agents), or NULL */
	struct ingest_stats calls;
	int64_t requests, pages, n429, retries, refreshes;
	int64_t agents, queue_fetched, queue_left;
	/* recordings and transcriptions fetched; attempts that kept
	 * nothing (tried again on a later run) */
	int64_t recordings, transcriptions, media_failed;
	int64_t window_start, window_end; /* epoch ms */
	double seconds;
	struct recon *recon; /* reconcile mode: the comparison */
};

/*
 * Sync the chosen locations. CV_OK when the run happened (some locations
 * may still have failed: see each result's error); CV_ENOTFOUND when a
 * named location does not exist, CV_EINVAL on bad options, other errors
 * when nothing could run. *results (n of them) is freed with
 * sync_results_free.
 */
enum cv_err sync_run(struct store *s, const struct sync_opts *o,
	struct sync_result **results, size_t *n, char **errmsg) CV_MUST_CHECK;
void sync_results_free(struct sync_result *r, size_t n);

#endif
