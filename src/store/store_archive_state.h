/*
 * store_archive_state.h — what the store keeps about archives beyond
 * their records (store_retention.h): publish intents, so that a crash
 * between an archive's rename and its record is rolled back by the next
 * run, and each archive's bag-info.txt, so that `archive --rebuild` can
 * write the same bag again. Every function returns enum cv_err and sets
 * *errmsg (the caller frees) on failure.
 */
#ifndef CV_STORE_ARCHIVE_STATE_H
#define CV_STORE_ARCHIVE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_retention.h"

/* An archive file about to be renamed into place by process pid. */
struct store_intent {
	char *path, *sha256;
	int64_t pid, created_at;
};
/* Record the intent (committed before it returns: outside any
 * transaction); one per path, a newer one replaces an older. */
enum cv_err store_ret_intent_put(struct store *s, const char *path,
	const char *sha256, int64_t pid, int64_t now,
	char **errmsg) CV_MUST_CHECK;
/* Forget the intent for path (no error when there is none). */
enum cv_err store_ret_intent_drop(struct store *s, const char *path,
	char **errmsg) CV_MUST_CHECK;
/* Every intent; *out is an array freed with store_intents_free. */
enum cv_err store_ret_intents(struct store *s, struct store_intent **out,
	size_t *n, char **errmsg) CV_MUST_CHECK;
void store_intents_free(struct store_intent *v, size_t n);

/* Keep the bag-info.txt of archive id (inside the caller's
 * transaction). */
enum cv_err store_ret_put_baginfo(struct store *s, int64_t id, const char *text,
	size_t len, char **errmsg) CV_MUST_CHECK;
/* The bag-info.txt kept for archive id (caller frees *out);
 * CV_ENOTFOUND for archives written before it was kept. */
enum cv_err store_ret_get_baginfo(struct store *s, int64_t id, char **out,
	size_t *len, char **errmsg) CV_MUST_CHECK;

/* Keep a tag file that is not in the tag manifest (the signature and
 * timestamp over it) of archive id, inside the caller's transaction. */
enum cv_err store_ret_put_tagfile(struct store *s, int64_t id, const char *name,
	const void *p, size_t len, char **errmsg) CV_MUST_CHECK;
/* That file (caller frees *out); CV_ENOTFOUND when none was kept. */
enum cv_err store_ret_get_tagfile(struct store *s, int64_t id, const char *name,
	unsigned char **out, size_t *len, char **errmsg) CV_MUST_CHECK;

/* The archive recorded at exactly this path (the newest, should there be
 * several); CV_ENOTFOUND when none. */
enum cv_err store_ret_archive_at(struct store *s, const char *path,
	struct store_archive *out, char **errmsg) CV_MUST_CHECK;
/*
 * Of the calls archive id holds, how many are no longer in the live
 * store (*gone: purged) and how many have a newer version than it
 * holds (*changed). An archive can be rebuilt when both are 0.
 */
enum cv_err store_ret_archive_rebuildable(struct store *s, int64_t id,
	int64_t *gone, int64_t *changed, char **errmsg) CV_MUST_CHECK;
/* A rebuilt archive's new file hash and size; it is unverified again. */
enum cv_err store_ret_archive_rebuilt(struct store *s, int64_t id,
	const char *sha256, int64_t size, char **errmsg) CV_MUST_CHECK;

/* Note a successful verify of archive id (at its recorded path). */
enum cv_err store_ret_mark_verified_id(struct store *s, int64_t id,
	int64_t when, char **errmsg) CV_MUST_CHECK;

#endif
