/*
 * store_subject.h — what data-subject requests (src/subject.c) need from
 * the store: one person's calls, with the holds that cover each, and the
 * archives that hold them. Removal itself is store_ret_purge_call (the
 * same deletion and tombstone purge uses).
 *
 * Every function returns enum cv_err and sets *errmsg (the caller frees)
 * on failure.
 */
#ifndef CV_STORE_SUBJECT_H
#define CV_STORE_SUBJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* Which calls: exactly one of contact_id, e164 and call_id, and
 * optionally a range. */
struct store_subject_sel {
	const char *contact_id;
	const char *e164; /* calls.from_e164 */
	const char *call_id;
	bool has_from, has_to;
	int64_t from_ms, to_ms; /* createdAt, both inclusive */
};

/* One matching call; pointers valid during the callback. */
struct store_subject_call {
	const char *id;
	const char *location_id; /* NULL when the call has none */
	int64_t created_at;
	const char *held_by; /* active holds covering it, "3 (matter),
				     5 (matter)"; NULL = none */
};

/*
 * Walk the calls sel selects, by createdAt then id, through the index of
 * the one selector given (CV_EINVAL unless exactly one is). A non-zero
 * return from fn stops the walk (CV_EINVAL).
 */
enum cv_err store_subject_each_call(struct store *s,
	const struct store_subject_sel *sel,
	int (*fn)(const struct store_subject_call *c, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

/* An archive that holds a call, with the retention policy in force for
 * its location (keep_months -1: none). */
struct store_subject_archive {
	int64_t id;
	const char *location_id; /* "" for calls without one */
	const char *month;       /* YYYY-MM */
	int seq;
	const char *path;
	int keep_months;
};
/* Walk the archives recorded as holding call_id, by archive id. */
enum cv_err store_subject_archives(struct store *s, const char *call_id,
	int (*fn)(const struct store_subject_archive *a, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

/* ---- erasure tombstones ---- */

/* Record on call_id's tombstone the keyed hash of the identifier it was
 * erased by (subject_key.h). */
enum cv_err store_subject_mark(struct store *s, const char *call_id,
	const char *subject_hmac, char **errmsg) CV_MUST_CHECK;

/* One earlier erasure of an identifier: its tombstones' reason ("erasure:
 * request R"), how many calls, and when the last went. */
struct store_subject_earlier {
	const char *reason;
	int64_t calls, last_at;
};
/* Walk the earlier erasures whose tombstones hold subject_hmac. */
enum cv_err store_subject_earlier(struct store *s, const char *subject_hmac,
	int (*fn)(const struct store_subject_earlier *e, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

/* An erasure tombstone as archives carry it (data/erasures.jsonl). */
struct store_erasure {
	const char *call_id;
	const char *location_id; /* NULL when the call had none */
	const char *message_id;  /* NULL when none */
	int64_t erased_at;
	const char *reason;       /* "erasure: request R" */
	const char *subject_hmac; /* NULL for an erasure by call id */
};
/* The prefix every erasure tombstone's reason starts with. */
#define STORE_ERASURE_PREFIX "erasure: "

/* Walk the erasure tombstones of location (""/NULL location_id alike)
 * made at or before through_ms, by call id. */
enum cv_err store_erasures_each(struct store *s, const char *location,
	int64_t through_ms, int (*fn)(const struct store_erasure *e, void *arg),
	void *arg, char **errmsg) CV_MUST_CHECK;

/* Keep an erasure tombstone read from an archive; it replaces the when
 * and why of a tombstone already there (an erasure is the stronger
 * claim), keeping what that one knew that it does not. */
enum cv_err store_erasure_put(struct store *s, const struct store_erasure *e,
	char **errmsg) CV_MUST_CHECK;

#endif
