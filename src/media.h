/*
 * media.h — fetching a call's recording and timed transcription (issue
 * 20) for the jobs of the fetch queue (store/store_recordings.h). sync
 * drives it inside its own rate-limit budget: one request per job, sent
 * by sync's scheduler; this module builds the request (always on the
 * location's configured API base: an address found in a webhook body is
 * never fetched), streams a recording into the blob store with a size
 * bound, judges the answer and records the outcome.
 *
 * What is accepted as a recording: HTTP 200, an audio Content-Type,
 * every announced byte received, a readable WAV header. Anything else is
 * kept nowhere and the job tried again later (see media_retry_delay).
 * A transcription that is 404 while the recording is kept is missing at
 * once: HighLevel has none for Voice AI calls.
 */
#ifndef CV_MEDIA_H
#define CV_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

#include "blob.h"
#include "common.h"
#include "highlevel.h"
#include "store/store_recordings.h"

#define MEDIA_DEFAULT_MAX_BYTES (INT64_C(256) << 20)
#define MEDIA_TRANSCRIPT_MAX (4u << 20)
/* a recording still absent this long after the call was queued is
 * reported missing (the retries go on for more than a day) */
#define MEDIA_MISSING_AFTER_MS (26 * INT64_C(3600000))

/* What became of one attempt. */
enum media_verdict {
	MV_STORED,  /* kept; the job is done */
	MV_RETRY,   /* not usable now; the job waits (reason says why) */
	MV_MISSING, /* still absent after MEDIA_MISSING_AFTER_MS */
	MV_DENIED,  /* the token lacks the scope (401/403) */
	MV_DISK,    /* the blob store could not take it (disk full) */
	MV_GONE,    /* erased or purged while it was fetched: dropped,
			  nothing kept */
	MV_FLUSH,   /* a good recording: its bytes wait for their fsync
			  (media_flush) and then media_keep */
};

struct media_fetch;

/* Whether id may name a message in a URL path: 1 to 64 of [A-Za-z0-9_-]
 * (HighLevel's ids are 20 or 24 alphanumerics); others are never
 * queued. */
bool media_id_ok(const char *id);

/* The URL of a job on api_base (caller frees). */
char *media_url(const char *api_base, const struct store_media_job *j);

/*
 * Start the request of job j on client c. A recording streams into a
 * new blob of b of at most max_bytes. fn runs from hl_client_poll when
 * the answer is in; pass it to media_finish (or media_abort).
 */
enum cv_err media_start(struct hl_client *c, struct blobstore *b,
	int64_t max_bytes, const char *api_base, const char *token,
	const char *version, const struct store_media_job *j, hl_done_fn fn,
	void *arg, struct media_fetch **out, char **errmsg) CV_MUST_CHECK;

/*
 * Judge answer r to f and record the outcome in the store (the
 * transcription row, the job's new state): frees f, but for MV_FLUSH (a
 * recording worth keeping, whose bytes are not durable yet: f stays the
 * caller's, for media_flush and then media_keep). room is how many bytes
 * the blob store may still take (-1: no bound): a larger recording is
 * MV_DISK. *reason (caller frees) says why when the verdict is neither
 * MV_STORED nor MV_FLUSH. CV_OK unless the store failed. Call it in a
 * write transaction (it checks the job was not erased meanwhile).
 */
enum cv_err media_finish(struct store *s, struct media_fetch *f,
	const struct hl_response *r, int64_t now, int64_t room,
	enum media_verdict *v, char **reason, char **errmsg) CV_MUST_CHECK;

/* Hash and fsync the bytes of an MV_FLUSH recording: the slow part of
 * keeping it, run on any thread (nothing else touches f meanwhile). */
void media_flush(struct media_fetch *f);

/*
 * Keep a flushed recording, in a write transaction: unless its job was
 * erased or purged meanwhile (MV_GONE, nothing named), name its blob
 * and record the row and the job done (MV_STORED), or MV_DISK when the
 * flush or the rename failed (asked again at the next run). Frees f.
 * The blob's name is durable only after blob_sync on the blob store:
 * the caller runs it before its transaction commits.
 */
enum cv_err media_keep(struct store *s, struct media_fetch *f, int64_t now,
	enum media_verdict *v, char **reason, char **errmsg) CV_MUST_CHECK;

/* The job of f (its copy), and the bytes received so far. */
const struct store_media_job *media_fetch_job(const struct media_fetch *f);
int64_t media_fetch_size(const struct media_fetch *f);

/* Drop an attempt (a 429, a refreshed token: asked again later). */
void media_abort(struct media_fetch *f);

/* The wait before attempt number attempts + 1: 2 min, 10 min, 30 min,
 * 1 h, 3 h, 6 h, then every 12 h. */
int64_t media_retry_delay(int attempts);

#endif
