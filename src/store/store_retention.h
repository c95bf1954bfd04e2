/*
 * store_retention.h — what retention/ needs from the store: the calls of a
 * location-month in archive order, archive records, retention policies,
 * and the deletion of a purged call. Legal holds are in store_holds.h.
 *
 * A location id of "" stands for calls that carry none. Months are
 * "YYYY-MM" (UTC, by createdAt). Every function returns enum cv_err and
 * sets *errmsg (the caller frees) on failure.
 */
#ifndef CV_STORE_RETENTION_H
#define CV_STORE_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "../search.h"
#include "store.h"

/*
 * A read snapshot (BEGIN DEFERRED plus a first read): writers go on in
 * WAL mode while an archive is written from a consistent view. End it
 * with store_read_end (never fails visibly).
 */
enum cv_err store_read_begin(struct store *s, char **errmsg) CV_MUST_CHECK;
void store_read_end(struct store *s);

/* The newest version id in the store (0 when empty). */
enum cv_err store_ret_max_version(struct store *s, int64_t *out,
	char **errmsg) CV_MUST_CHECK;

struct store_locmonth {
	char location[CALLLOG_MAX_ID + 1];
	char month[8];
	int64_t calls;
};
/*
 * The location-months holding calls, ordered by location then month,
 * limited to one location (NULL = all) and to months in [from, to]
 * (NULL = unbounded). *out is an array the caller frees.
 */
enum cv_err store_ret_locmonths(struct store *s, const char *location,
	const char *from, const char *to, struct store_locmonth **out,
	size_t *n, char **errmsg) CV_MUST_CHECK;

/*
 * How many calls purge removed per location-month, summed from the audit
 * log's `purge` entries (each names its location and month and counts the
 * calls it removed), ordered by location then month. *out is an array
 * the caller frees.
 */
enum cv_err store_ret_purged(struct store *s, struct store_locmonth **out,
	size_t *n, char **errmsg) CV_MUST_CHECK;

/* An archive that holds calls purge removed from the live store. */
struct store_purged_archive {
	int64_t id;
	const char *path, *location_id, *month;
	int seq;
	int64_t calls; /* purged calls it holds */
};
/*
 * How many calls purge removed (*calls) from the months f's period
 * touches (its from/to, by month; none: every month) and f's location,
 * and each archive holding them, by location, month, supplement. Only
 * time and location can be told without reading the archives: the other
 * filters are not applied. Erased calls are not counted. fn may be NULL.
 */
enum cv_err store_ret_purged_in(struct store *s, const struct search_filter *f,
	int64_t *calls,
	int (*fn)(const struct store_purged_archive *a, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

/* One call as an archive needs it; pointers valid during the callback. */
struct store_arch_call {
	const char *id;
	const char *canonical;
	size_t canonical_len;
	int64_t created_at;
	int64_t version_id;     /* newest version (what an archive of
				     the call covers); canonical is the
				     current one, which a version of lower
				     trust does not replace */
	const char *agent_name; /* NULL when unknown */
	/* the normalised fields of the current version (NULL = missing) */
	const char *location_id, *agent_id, *contact_id, *from_number;
	const char *action_types, *summary, *transcript;
	bool has_duration;
	double duration;
	int trial_call; /* -1 unknown, 0, 1 */
	bool appointment_booked, transferred;
};
/*
 * Walk the calls of a location created in [from_ms, to_ms), ordered by
 * createdAt then id. With only_new, just those whose newest version is
 * in no archive yet; with archive_id (non-0), just the calls that archive
 * holds whose newest version is still the one it holds. A non-zero
 * return from fn stops the walk (CV_EINVAL).
 */
enum cv_err store_ret_each_call(struct store *s, const char *location,
	int64_t from_ms, int64_t to_ms, bool only_new, int64_t archive_id,
	int (*fn)(const struct store_arch_call *c, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;
/* The same for one call by id (fn not called when there is none). */
enum cv_err store_ret_get_call(struct store *s, const char *id,
	int (*fn)(const struct store_arch_call *c, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;
/* How many calls store_ret_each_call would visit. */
enum cv_err store_ret_count_calls(struct store *s, const char *location,
	int64_t from_ms, int64_t to_ms, bool only_new, int64_t archive_id,
	int64_t *out, char **errmsg) CV_MUST_CHECK;

/* One webhook event of a call. */
struct store_event {
	const char *dedup_key, *type, *call_id, *message_id, *location_id;
	const char *body_sha256, *signature, *outcome;
	int64_t received_at;
	bool withheld;    /* only the body's hash is kept */
	const void *body; /* NULL when withheld */
	size_t body_len;
};
/* Walk the webhook events of a call (its own and the message events
 * sharing its messageId) by received time, then dedup key; the body is
 * loaded wherever it is kept (the row or raw_payloads). */
enum cv_err store_ret_each_event(struct store *s, const char *call_id,
	int (*fn)(const struct store_event *e, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;
/* Keep an event (restore); an event with the same dedup key is kept. */
enum cv_err store_ret_put_event(struct store *s, const struct store_event *e,
	char **errmsg) CV_MUST_CHECK;

/* An agent's name when none is known yet (restore). */
enum cv_err store_ret_put_agent(struct store *s, const char *location,
	const char *agent_id, const char *name, char **errmsg) CV_MUST_CHECK;

/*
 * Load one archived version back (inside the caller's transaction):
 * the call's versions 1..seq-1 must be there already; a version with this
 * seq and the same canonical hash is left alone (*res INGEST_UNCHANGED).
 * The version is stored with source `restore`, and the original source,
 * credential kind, received time, hash of the original bytes and
 * redaction count kept; whether it becomes current follows the trust
 * order as when it first came (*res INGEST_NEW, _UPDATED or _KEPT). A
 * call that was disposed of (tombstone) is not loaded: *res
 * INGEST_DISPOSED. CV_EINTEGRITY when the store holds a different
 * history for the call.
 */
struct store_restore_version {
	const struct calllog *log; /* parsed from the archived record */
	int seq;
	enum store_source origin;
	enum store_cred cred; /* CRED_UNRECORDED: what origin implies */
	int64_t received_at;
	const char *raw_sha256;
	int redacted;
};
enum cv_err store_ret_restore_version(struct store *s,
	const struct store_restore_version *v, enum store_ingest_result *res,
	char **errmsg) CV_MUST_CHECK;

/*
 * Walk a call's versions oldest first, for an archive: like
 * store_each_version, but v->source is the original source (a restored
 * version's `origin`) and raw_kept is not looked up (always false), which
 * spares reading the raw payloads. v->auth and v->not_current are set.
 */
enum cv_err store_ret_each_version(struct store *s, const char *call_id,
	int (*fn)(const struct store_version *v, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

/* Whether the store holds the call (0 = no), holds it with a version of
 * that canonical hash (1), or holds it without one (2). */
enum cv_err store_ret_version_state(struct store *s, const char *call_id,
	const char *canonical_sha256, int *state, char **errmsg) CV_MUST_CHECK;

/* An archive as recorded. Strings owned (store_archive_finish). */
struct store_archive {
	int64_t id;
	char *location_id, *month;
	int seq, chain_index;
	char *path, *sha256, *tagmanifest_sha256;
	char *prev_tagmanifest_sha256; /* NULL for the first of a location */
	int64_t n_calls, n_versions, n_events, payload_bytes, size;
	int64_t max_version_id, written_at, verified_at; /* 0 = never */
};
void store_archive_finish(struct store_archive *a);
/*
 * The last archive written for a location (month NULL), or for one of its
 * months; CV_ENOTFOUND when there is none.
 */
enum cv_err store_ret_last_archive(struct store *s, const char *location,
	const char *month, struct store_archive *out,
	char **errmsg) CV_MUST_CHECK;
/* The archive recorded with this file hash (or chain position when
 * sha256 is NULL: location + chain_index); CV_ENOTFOUND when none. */
enum cv_err store_ret_find_archive(struct store *s, const char *sha256,
	const char *location, int chain_index, struct store_archive *out,
	char **errmsg) CV_MUST_CHECK;
/* The archive with this record id; CV_ENOTFOUND when none. */
enum cv_err store_ret_archive_by_id(struct store *s, int64_t id,
	struct store_archive *out, char **errmsg) CV_MUST_CHECK;
/* Walk all archives by id. */
enum cv_err store_ret_each_archive(struct store *s,
	int (*fn)(const struct store_archive *a, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;
/*
 * Record an archive and the calls it holds, each with the newest version
 * it holds (inside the caller's transaction). a->id is set.
 */
enum cv_err store_ret_add_archive(struct store *s, struct store_archive *a,
	char *const *call_ids, const int64_t *version_ids, size_t n,
	char **errmsg) CV_MUST_CHECK;
/* Note a successful verify of the archive with this file hash; *n gets
 * how many records matched (0 when the store does not know it). */
enum cv_err store_ret_mark_verified(struct store *s, const char *sha256,
	int64_t when, int *n, char **errmsg) CV_MUST_CHECK;

/* Retention policies: keep N months; location NULL = the default. */
enum cv_err store_ret_set_policy(struct store *s, const char *location,
	int keep_months, const char *actor, char **errmsg) CV_MUST_CHECK;
struct store_policy {
	const char *location; /* "" = the default */
	int keep_months;
	int64_t set_at;
	const char *set_by;
};
enum cv_err store_ret_each_policy(struct store *s,
	int (*fn)(const struct store_policy *p, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;
/* The policy in force for a location: its own, else the default; -1 when
 * there is none. */
enum cv_err store_ret_policy_for(struct store *s, const char *location,
	int *keep_months, char **errmsg) CV_MUST_CHECK;

/* The distinct location ids of stored calls ("" for none), sorted. */
enum cv_err store_ret_locations(struct store *s, char ***out, size_t *n,
	char **errmsg) CV_MUST_CHECK;

/* A call past its policy, with what decides whether purge may take it. */
struct store_purge_cand {
	const char *call_id;
	int64_t created_at;
	const char *held_by;      /* ids of active holds, "1,4"; NULL = none */
	int64_t archive_id;       /* a verified archive with every version
				     (0 unless its media are in verified
				     archives too) */
	bool archived_unverified; /* covered only by unverified archives */
	bool media_unarchived;    /* a recording or transcription is not
				     (in a verified archive) */
};
/* Walk a location's calls created in [from_ms, to_ms), by createdAt. */
enum cv_err store_ret_each_purge_cand(struct store *s, const char *location,
	int64_t from_ms, int64_t to_ms,
	int (*fn)(const struct store_purge_cand *c, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;
/*
 * Remove a call from the live store (inside the caller's transaction):
 * its row, versions, webhook events, fetch-queue entry, index entries and
 * the raw payloads no other version references, leaving a tombstone (id,
 * location, messageId, now, reason; no content) so that no source can
 * bring it back. Refuses (CV_EINVAL) a call that an active hold covers.
 */
enum cv_err store_ret_purge_call(struct store *s, const char *call_id,
	const char *reason, char **errmsg) CV_MUST_CHECK;

/*
 * Quarantine rows received before before_ms: count them (*n), and with
 * remove delete them (inside the caller's transaction).
 */
enum cv_err store_ret_purge_quarantine(struct store *s, int64_t before_ms,
	bool remove, int64_t *n, char **errmsg) CV_MUST_CHECK;

#endif
