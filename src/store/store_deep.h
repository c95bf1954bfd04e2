/*
 * store_deep.h — verify --deep against the store's record of which
 * calls, at which version, each archive holds (archive_calls): each line
 * of a bag's calls.jsonl and versions.jsonl is asked about, and what
 * the record names but the bag lacks is counted. Seen calls are kept in
 * a temporary table (memory bounded by SQLite, not by the bag).
 */
#ifndef CV_STORE_DEEP_H
#define CV_STORE_DEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

enum store_deep_state {
	DEEP_NOT_RECORDED,  /* the store did not record the call here */
	DEEP_MATCH,         /* recorded here, and this is its version */
	DEEP_OTHER,         /* recorded here, but not with these bytes */
	DEEP_GONE,          /* recorded here; its versions were purged */
	DEEP_DUPLICATE,     /* a second line for the same call */
};

/* Start checking archive id (forgets the calls seen before): what it
 * recorded is gathered once, so that the lines that are exactly what
 * was recorded are answered by the fast calls below. */
enum cv_err store_deep_begin(struct store *s, int64_t archive_id,
	char **errmsg) CV_MUST_CHECK;

/*
 * Fast paths. A calls.jsonl line whose SHA-256 is sha: *found when it is
 * the canonical JSON of a call recorded here at the version recorded
 * (then marked seen; *st DEEP_MATCH or DEEP_DUPLICATE). A versions.jsonl
 * line naming call_id and canonical hash sha: *found when that is a
 * version recorded here. Not found: ask the slow calls, which say why.
 */
enum cv_err store_deep_call_fast(struct store *s, const char *sha,
	bool *found, enum store_deep_state *st, char **errmsg) CV_MUST_CHECK;
enum cv_err store_deep_version_fast(struct store *s, const char *call_id,
	const char *sha, bool *found, char **errmsg) CV_MUST_CHECK;

/* A calls.jsonl line: call_id whose canonical JSON hashes to sha. */
enum cv_err store_deep_call(struct store *s, int64_t archive_id,
	const char *call_id, const char *sha, enum store_deep_state *st,
	char **errmsg) CV_MUST_CHECK;

/* A versions.jsonl line: a version of call_id (canonical hash sha) no
 * newer than the one recorded for this archive. */
enum cv_err store_deep_version(struct store *s, int64_t archive_id,
	const char *call_id, const char *sha, enum store_deep_state *st,
	char **errmsg) CV_MUST_CHECK;

/* How many calls recorded in archive id no calls.jsonl line named. */
enum cv_err store_deep_unseen(struct store *s, int64_t archive_id,
	int64_t *n, char **errmsg) CV_MUST_CHECK;

#endif
