/*
 * store_recordings.h — the rows that say which recordings and timed
 * transcriptions the store holds, and what is still to fetch. The audio
 * itself is in the blob store (../blob.h), named by recordings.sha256.
 *
 * A call's media are found by its messageId (calls.message_id).
 */
#ifndef CV_STORE_RECORDINGS_H
#define CV_STORE_RECORDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct store_recording {
	int64_t id;
	char *message_id, *location_id;
	char *sha256; /* of the bytes as received: the blob name */
	int64_t size;
	char *content_type;
	int64_t duration_ms;       /* -1 unknown */
	int sample_rate, channels; /* 0 unknown */
	int64_t fetched_at;        /* epoch ms */
	char *source;              /* "api", "restore" */
};
void store_recordings_free(struct store_recording *v, size_t n);

/* Record a recording whose blob is stored already. *added is false when
 * the same bytes were recorded for that message before. */
enum cv_err store_recording_add(struct store *s,
	const struct store_recording *r, bool *added,
	char **errmsg) CV_MUST_CHECK;
/* The recordings of a message, or of a call (by its messageId), oldest
 * first. */
enum cv_err store_recordings_of_message(struct store *s, const char *message_id,
	struct store_recording **out, size_t *n, char **errmsg) CV_MUST_CHECK;
enum cv_err store_recordings_of_call(struct store *s, const char *call_id,
	struct store_recording **out, size_t *n, char **errmsg) CV_MUST_CHECK;
/* Every recording row, by id; a non-zero return from fn stops the walk
 * (and is the result, as CV_EINVAL). */
enum cv_err store_recordings_each(struct store *s,
	int (*fn)(const struct store_recording *r, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;
/* How many recording rows there are. */
enum cv_err store_recordings_count(struct store *s, int64_t *n,
	char **errmsg) CV_MUST_CHECK;
/* How many rows name this blob. */
enum cv_err store_recording_refs(struct store *s, const char *sha256,
	int64_t *n, char **errmsg) CV_MUST_CHECK;
/* Remove a message's recording and transcription rows and its fetch
 * jobs (erasure, purge). The blobs no row names any more are returned
 * in *orphans (caller frees each and the array) for the caller to
 * remove after its transaction commits. */
enum cv_err store_media_forget(struct store *s, const char *message_id,
	char ***orphans, size_t *n_orphans, char **errmsg) CV_MUST_CHECK;

struct store_transcription {
	int64_t id;
	char *message_id, *location_id, *sha256, *source;
	char *body; /* JSON as received, NUL-terminated */
	size_t len;
	int64_t fetched_at;
};
void store_transcription_clear(struct store_transcription *t);
/* Keep a timed transcription (its exact bytes); *added false when these
 * bytes were kept for the message before. */
enum cv_err store_transcription_add(struct store *s, const char *message_id,
	const char *location_id, const void *body, size_t len,
	int64_t fetched_at, const char *source, bool *added,
	char **errmsg) CV_MUST_CHECK;
/* The newest transcription of a message; *found false when none. */
enum cv_err store_transcription_latest(struct store *s, const char *message_id,
	struct store_transcription *out, bool *found,
	char **errmsg) CV_MUST_CHECK;

/* The same for a call, through its messageId. */
enum cv_err store_transcription_of_call(struct store *s, const char *call_id,
	struct store_transcription *out, bool *found,
	char **errmsg) CV_MUST_CHECK;

/* The fetch queue. */
enum media_kind { MEDIA_RECORDING, MEDIA_TRANSCRIPTION };
#define MEDIA_N_KIND 2
const char *media_kind_name(enum media_kind k); /* recording, transcription */

/* States: pending (to fetch at next_at), done, missing (not there after
 * the retry window), denied (the token lacks the scope). */
struct store_media_job {
	char *message_id, *location_id;
	enum media_kind kind;
	char *state;
	int attempts;
	int64_t first_seen, next_at;
	char *last_error;
};
void store_media_jobs_free(struct store_media_job *v, size_t n);
/* Free one job's strings (store_media_job_get's). */
void store_media_job_clear(struct store_media_job *j);

/* Want both media of a message (a no-op for a message already queued).
 * next_at is when to try first. */
enum cv_err store_media_want(struct store *s, const char *message_id,
	const char *location_id, int64_t now, int64_t next_at,
	char **errmsg) CV_MUST_CHECK;
/* Want both media of every call of a location created at or after
 * since that has a messageId (sync, after storing its pages). */
enum cv_err store_media_want_calls(struct store *s, const char *location_id,
	int64_t since, int64_t now, char **errmsg) CV_MUST_CHECK;
/* The token of a location lacks the scope: every pending job of the
 * location becomes denied until next_at (asked again then). */
enum cv_err store_media_deny_location(struct store *s, const char *location_id,
	int64_t next_at, const char *why, char **errmsg) CV_MUST_CHECK;
/* Up to limit pending jobs due at now (denied ones too once their
 * next_at has come: the scope may have been granted since), location_id
 * NULL: any, the oldest due first. */
enum cv_err store_media_due(struct store *s, const char *location_id,
	int64_t now, size_t limit, struct store_media_job **out, size_t *n,
	char **errmsg) CV_MUST_CHECK;
/* Record an attempt's outcome: attempts + 1, the new state, when to try
 * next (pending only) and the error (NULL when none). */
enum cv_err store_media_result(struct store *s, const char *message_id,
	enum media_kind kind, const char *state, int64_t next_at,
	const char *error, char **errmsg) CV_MUST_CHECK;
/* The job of one message and kind; *found false when none. */
enum cv_err store_media_job_get(struct store *s, const char *message_id,
	enum media_kind kind, struct store_media_job *out, bool *found,
	char **errmsg) CV_MUST_CHECK;
/* Jobs in each state, for one location or all (NULL). */
struct store_media_counts {
	int64_t pending, done, missing, denied;
};
enum cv_err store_media_counts(struct store *s, const char *location_id,
	enum media_kind kind, struct store_media_counts *out,
	char **errmsg) CV_MUST_CHECK;

#endif
