/*
 * store_webhook.h — webhook deliveries as received (deduplicated by
 * webhookId or body hash), and the queue of calls a webhook announced
 * that `sync` should also fetch in the REST API's shape.
 */
#ifndef CV_STORE_WEBHOOK_H
#define CV_STORE_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* One delivery. Strings may be NULL except dedup_key and body_sha256. */
struct store_webhook_event {
	int64_t id;             /* set when read back */
	const char *dedup_key;  /* webhookId, else "sha256:<hex of body>" */
	const char *type;       /* the event's "type", NULL when missing */
	const char *call_id;    /* a call-end's call id */
	const char *message_id; /* links CALL message events to calls */
	const char *location_id;
	int64_t received_at; /* epoch ms */
	const void *body;    /* exact bytes (not stored in the row when
	                          * withheld or in_payloads) */
	size_t len;
	const char *body_sha256; /* of the bytes as received */
	const char *signature;   /* scheme that verified it */
	const char *outcome;     /* what it did: "call new", "quarantined"… */
	bool withheld;           /* body had secrets: only its hash is kept */
	bool in_payloads;        /* body kept in raw_payloads, not the row */
};

/* Whether a delivery with this dedup key is already stored. */
enum cv_err store_webhook_seen(struct store *s, const char *dedup_key,
	bool *seen, char **errmsg) CV_MUST_CHECK;

/* Record a delivery (inside the caller's transaction). *dup is set when
 * the dedup key was already there; nothing changes then. */
enum cv_err store_webhook_insert(struct store *s,
	const struct store_webhook_event *e, bool *dup,
	char **errmsg) CV_MUST_CHECK;

/* Queue a REST fetch of a call a webhook announced, when its location
 * has credentials (`callvault location add`); a call already queued
 * stays queued once. */
enum cv_err store_fetch_enqueue(struct store *s, const char *call_id,
	const char *location_id, char **errmsg) CV_MUST_CHECK;

/*
 * Walk the events of one call, oldest first: its call-end deliveries and
 * the CALL message events sharing its messageId. The event (and its
 * strings) are valid only during fn; body is not loaded (len is its
 * size). A non-zero return from fn stops the walk (CV_EINVAL).
 */
enum cv_err store_each_call_event(struct store *s, const char *call_id,
	int (*fn)(const struct store_webhook_event *e, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

/* Counts for tests and stats: deliveries stored, fetches queued. */
enum cv_err store_webhook_counts(struct store *s, int64_t *events,
	int64_t *queued, char **errmsg) CV_MUST_CHECK;

/*
 * WAL checkpoints off the commit path: a writer that must answer fast
 * turns automatic checkpoints off on its connection (pages = 0) and
 * another connection runs store_wal_checkpoint() now and then. That one
 * is PASSIVE: it copies what it can and never waits for the writer.
 */
void store_wal_autocheckpoint(struct store *s, int pages);
enum cv_err store_wal_checkpoint(struct store *s, char **errmsg) CV_MUST_CHECK;

#endif
