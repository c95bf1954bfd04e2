/*
 * store_deep.h — verify --deep against the store's record of which
 * calls, at which version, each archive holds (archive_calls): each line
 * of a bag's calls.jsonl and versions.jsonl is asked about, and what
 * the record names but the bag lacks is counted.
 *
 * What one archive recorded (its calls, and the canonical hash of each
 * of their versions up to the one recorded) is gathered in one walk into
 * memory: ~50 bytes a version, bounded by the store's record, not by the
 * bag. A line that is exactly what was recorded is then answered by a
 * hash lookup (the fast calls); any other line is asked of the store
 * (the slow calls), which say why it is not.
 */
#ifndef CV_STORE_DEEP_H
#define CV_STORE_DEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

enum store_deep_state {
	DEEP_NOT_RECORDED, /* the store did not record the call here */
	DEEP_MATCH,        /* recorded here, and this is its version */
	DEEP_OTHER,        /* recorded here, but not with these bytes */
	DEEP_GONE,         /* recorded here; its versions were purged */
	DEEP_DUPLICATE,    /* a second line for the same call */
};

/* What one archive recorded, and which of its calls were seen. */
struct store_deep;

/* Gather what archive id recorded (in the caller's read transaction, if
 * any); *out to be freed with store_deep_free() before s is closed. */
enum cv_err store_deep_begin(struct store *s, int64_t archive_id,
	struct store_deep **out, char **errmsg) CV_MUST_CHECK;
void store_deep_free(struct store_deep *d);

/*
 * Fast paths, no store query. A calls.jsonl line whose SHA-256 is sha:
 * true when it is the canonical JSON of a call recorded here at the
 * version recorded (then marked seen; *st DEEP_MATCH, or DEEP_DUPLICATE
 * when seen before). A versions.jsonl line naming call_id and canonical
 * hash sha: true when that is a version recorded here. False: ask the
 * slow calls, which say why.
 */
bool store_deep_call_fast(struct store_deep *d, const unsigned char sha[32],
	enum store_deep_state *st);
bool store_deep_version_fast(const struct store_deep *d, const char *call_id,
	const unsigned char sha[32]);

/* A calls.jsonl line: call_id whose canonical JSON hashes to sha (hex). */
enum cv_err store_deep_call(struct store *s, struct store_deep *d,
	const char *call_id, const char *sha, enum store_deep_state *st,
	char **errmsg) CV_MUST_CHECK;

/* A versions.jsonl line: a version of call_id (canonical hash sha, hex)
 * no newer than the one recorded for this archive. */
enum cv_err store_deep_version(struct store *s, const struct store_deep *d,
	const char *call_id, const char *sha, enum store_deep_state *st,
	char **errmsg) CV_MUST_CHECK;

/* How many calls recorded in the archive no calls.jsonl line named. */
int64_t store_deep_unseen(const struct store_deep *d);

#endif
