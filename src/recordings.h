/*
 * recordings.h — what is done with recordings once fetched: checking
 * that every row's blob is there (and hashes to its name), that every
 * blob has a row, and copying a recording out exactly as received.
 */
#ifndef CV_RECORDINGS_H
#define CV_RECORDINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "blob.h"
#include "common.h"
#include "store/store.h"

enum rec_problem {
	RP_MISSING,  /* a row names a blob that is not there */
	RP_MISMATCH, /* a blob's bytes hash to another name (--deep) */
	RP_ORPHAN,   /* a blob no row names */
	RP_STRAY,    /* a file in the blob store that is not a blob */
};
const char *rec_problem_name(enum rec_problem p);

struct rec_check {
	int64_t rows, blobs, bytes_hashed, problems;
};

/*
 * Check the recordings of store s against the blob store beside it
 * (store_path): fn is told of each problem (message_id NULL for a file
 * without a row; detail a short text). CV_OK when the check ran, even
 * with problems (see r->problems).
 */
enum cv_err recordings_check(struct store *s, const char *store_path, bool deep,
	void (*fn)(enum rec_problem p, const char *name, const char *message_id,
		const char *detail, void *arg),
	void *arg, struct rec_check *r, char **errmsg) CV_MUST_CHECK;

struct sink;
/*
 * Write blob sha256 of b to out (util.h), hashing what is written:
 * CV_EINTEGRITY when the bytes do not hash to their name (what was
 * written is then not the recording: the caller does not commit it).
 */
enum cv_err recording_copy(const struct blobstore *b, const char *sha256,
	struct sink *out, int64_t *size, char **errmsg) CV_MUST_CHECK;

/*
 * A way to fetch a recording that is no longer in the local blob store
 * back into it: callvault-full sets one (its S3 targets, storage.h) for
 * the console; the core has no S3 client. recording_fetch is
 * CV_ENOTFOUND when none is set or no target holds the recording.
 */
struct store;
typedef enum cv_err recording_fetch_fn(struct store *s, struct blobstore *b,
	const char *sha256, char **errmsg);
void recording_set_fetcher(recording_fetch_fn *fn);
enum cv_err recording_fetch(struct store *s, struct blobstore *b,
	const char *sha256, char **errmsg) CV_MUST_CHECK;

#endif
