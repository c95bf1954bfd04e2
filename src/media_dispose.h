/*
 * media_dispose.h — a call's recordings and timed transcriptions go with
 * the call (purge, subject erase): their rows inside the caller's
 * transaction, after the call's own rows went, and the blobs no row names
 * any more only after that transaction commits. A crash in between
 * leaves at worst a blob without a row (which `check` can report), never
 * a row without its blob.
 */
#ifndef CV_MEDIA_DISPOSE_H
#define CV_MEDIA_DISPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "blob.h"
#include "common.h"
#include "store/store.h"

struct media_dispose {
	struct store *s;
	char **orphans; /* blob names to remove after commit */
	size_t n_orphans;
	int64_t messages; /* messages whose media were forgotten */
};

void media_dispose_init(struct media_dispose *d, struct store *s);
/* Inside the transaction, once the call (whose messageId was mid; NULL
 * is a no-op) is gone: forget its message's media unless another call
 * still has that messageId. */
enum cv_err media_dispose_message(struct media_dispose *d, const char *mid,
	char **errmsg) CV_MUST_CHECK;
/* After the commit: remove each orphan blob that still no row names.
 * Every one is tried; the first error is returned. The list is emptied. */
enum cv_err media_dispose_blobs(struct media_dispose *d,
	char **errmsg) CV_MUST_CHECK;
/* Remove each of the n blobs (of b, the blob store of s) that no
 * recording row names, counting the rows and unlinking under the store's
 * write lock (s must not be in a transaction): a publisher (sync, restore,
 * a fetch back from S3) names its blob and writes its row in one write
 * transaction, so no row it commits is left without its blob. Every one
 * is tried; the first error is returned. */
enum cv_err media_remove_unused(struct store *s, struct blobstore *b,
	char *const *shas, size_t n, char **errmsg) CV_MUST_CHECK;
/* After a rollback (or when done): forget the list. */
void media_dispose_finish(struct media_dispose *d);

/* Tests only: with CALLVAULT_TEST_PAUSE=POINT:DIR, create DIR/paused
 * at POINT and wait (at most 30 s) until DIR/go exists. */
void media_test_pause(const char *point);

#endif
