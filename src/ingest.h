/*
 * ingest.h — turn one payload (a JSONL line, a webhook body, an API page)
 * into stored versions or quarantine rows. Shared by import, sync and the
 * webhook receiver so that every source converges on one record.
 */
#ifndef CV_INGEST_H
#define CV_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "calllog.h"
#include "common.h"
#include "store/store.h"

struct ingest_stats {
	int64_t read;    /* records seen (a rejected payload counts 1) */
	int64_t added;   /* new calls */
	int64_t updated; /* new versions of known calls */
	int64_t unchanged;
	int64_t quarantined;     /* incl. new calls a source may not create */
	int64_t quarantined_new; /* unreadable records not kept before */
	int64_t kept;            /* new versions not made current: lower trust
				 than the current version (never lost) */
	int64_t disposed;        /* calls disposed of (tombstone): dropped */
};

/*
 * Ingest one payload inside the caller's transaction. Records that fail
 * validation, or a payload that is not usable at all, go to quarantine
 * with their reason; that is not an error. So does a new call from a
 * source its location's trust policy does not let create calls (as its
 * scrubbed canonical JSON). A call that was disposed of is dropped and
 * counted in st->disposed. The payload's source implies how it was
 * authenticated (store_cred_default); ingest_parsed() takes it from p. Errors are store failures
 * only, and then the caller must roll back. When batch_out is non-NULL
 * the parsed batch is handed back (the caller finishes it), e.g. for
 * sync to read total/page.
 */
enum cv_err ingest_payload(struct store *s, enum store_source src,
	const char *bytes, size_t len, const char *location_hint,
	struct ingest_stats *st, struct calllog_batch *batch_out,
	char **errmsg) CV_MUST_CHECK;

/*
 * The second half of ingest_payload(), for callers that parsed on another
 * thread: store the parsed batch b (when reason is NULL) or quarantine the
 * whole payload with reason. p must describe bytes (store_payload_init).
 * b is not freed.
 */
enum cv_err ingest_parsed(struct store *s, struct store_payload *p,
	const struct calllog_batch *b, const char *reason,
	struct ingest_stats *st, char **errmsg) CV_MUST_CHECK;

void ingest_stats_add(struct ingest_stats *into,
	const struct ingest_stats *from);

#endif
