/*
 * storage.h — archives in S3 object storage with Object Lock: a client
 * for a target the store names, `storage check` and `storage gc`, the
 * streamed upload of a bag as archive writes it, and the checks verify
 * and purge make of a remote copy.
 */
#ifndef CV_STORAGE_H
#define CV_STORAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "s3.h"
#include "store/store.h"
#include "store/store_storage.h"
#include "util.h"

/* A client for the target named (NULL: the default). *t gets its record
 * (caller finishes it), *c the client (caller destroys). */
enum cv_err storage_open(struct store *s, const char *name,
	struct store_storage *t, struct s3 **c, char **errmsg) CV_MUST_CHECK;

/* `storage check`: the bucket exists, Object Lock is on, a locked write
 * is accepted and its version cannot be deleted. One line per check on
 * out; CV_EINVAL (naming what is missing) when one fails. */
enum cv_err storage_check(struct s3 *c, FILE *out, char **errmsg) CV_MUST_CHECK;

/* `storage gc`: abort unfinished multipart uploads under the target's
 * prefix started more than older_ms ago; *n gets how many. */
enum cv_err storage_gc(struct s3 *c, int64_t older_ms, int64_t now_ms,
	FILE *out, size_t *n, char **errmsg) CV_MUST_CHECK;

/* When a month's retention ends: the first instant of the month
 * keep_months + 1 after it (the moment purge may dispose of it). */
int64_t storage_retain_until(const char *month, int keep_months);

/* ---- archive --to ---- */

struct storage_put;
/* Start the upload of one bag to key rel (under the prefix), locked in
 * the target's mode until until_ms; *sk is fed by the bag writer. */
enum cv_err storage_put_begin(struct s3 *c, const struct store_storage *t,
	const char *rel, int64_t until_ms, struct storage_put **out,
	struct sink **sk, char **errmsg) CV_MUST_CHECK;
/* The s3:// URL the archive is recorded at. */
const char *storage_put_url(const struct storage_put *p);
/* Why the upload failed while the bag was written (NULL: it did not). */
const char *storage_put_error(const struct storage_put *p);
/* Complete it, lock the new version, check the lock took (mode and
 * date), and mirror the legal hold when hold is set. */
enum cv_err storage_put_finish(struct storage_put *p, const char *sha256,
	bool hold, char **errmsg) CV_MUST_CHECK;
/* Record the remote copy of archive_id (in the caller's transaction). */
enum cv_err storage_put_record(struct store *s, int64_t archive_id, void *put,
	char **errmsg) CV_MUST_CHECK;
/* The date the bag is locked until. */
int64_t storage_put_until(const struct storage_put *p);
/* The recordings sent with the bag (storage_blobs_put), recorded with
 * it by storage_put_record; p takes them over. */
void storage_put_add_blobs(struct storage_put *p, struct store_remote_blob *v,
	size_t n);
/* Abort when unfinished; free. NULL ok. */
void storage_put_destroy(struct storage_put *p);

/* ---- verify --storage ---- */

struct storage_verify_opts {
	const char *name; /* target (NULL: the default) */
	FILE *out;
	int64_t now_ms;     /* 0: the clock */
	bool deep;          /* also verify --deep each bag as it
					 streams in (no temp file) */
	const char *prefix; /* another instance's prefix in the target's
			       bucket (NULL: the archives recorded here) */
};
/* Every remote archive recorded for the target: stream and hash it, and
 * check its version is still the current one, its lock mode, its
 * retain-until (at least the policy's) and its legal hold (ON exactly
 * when a hold covers calls of its month; mirrored when not). Good ones
 * are recorded as verified. CV_EINTEGRITY when any is bad (each named). */
enum cv_err storage_verify(struct store *s, const struct storage_verify_opts *o,
	char **errmsg) CV_MUST_CHECK;

/* Set each remote archive's legal hold as the holds now require. */
enum cv_err storage_mirror_holds(struct store *s, const char *name, FILE *out,
	char **errmsg) CV_MUST_CHECK;

/* ---- recordings (storage_blobs.c) ---- */

/* PREFIX/blobs/sha256/<hash> (caller frees). */
char *storage_blob_key(struct s3 *c, const char *sha256);
/* Stream one version and hash it (no temp file). */
enum cv_err storage_stream_sha(struct s3 *c, const char *key,
	const char *version, char got[CV_SHA256_HEX],
	char **errmsg) CV_MUST_CHECK;
/* Each recording (by SHA-256; repeats are fine) as a locked object of
 * target t: kept when the store records it locked until at least until,
 * its lock extended when shorter, the current version used when its
 * bytes hash to its name, else sent from the local blob store (hashed
 * as it is read). Legal hold ON when a hold covers one of its calls.
 * *out gets what to record (nothing is recorded here). */
enum cv_err storage_blobs_put(struct store *s, struct s3 *c,
	const struct store_storage *t, const char *const *shas, size_t n,
	int64_t until, struct store_remote_blob **out, size_t *nout,
	char **errmsg) CV_MUST_CHECK;
/* `storage evict`: remove the local copy of each recording that target
 * name holds, when the bucket (not the store) shows the recorded version
 * is still current, has the size and (streamed, hashed) the named bytes,
 * is locked until at least the end of the retention period of every
 * month whose archive holds it, and under a legal hold when a hold
 * covers one of its calls; and the store says every row naming the bytes
 * is archived (in a month of [from, to) when given). Each removal is made
 * under the store's write lock after checking the store again, and
 * audited in the same transaction. One line per recording on out;
 * CV_EINTEGRITY when any was refused. */
struct storage_evict_opts {
	const char *name;      /* target (NULL: the default) */
	const char *from, *to; /* YYYY-MM months, to exclusive; NULL */
	const char *actor;
	bool dry_run, verbose;
	FILE *out;
};
struct storage_evict_stats {
	int64_t evicted, bytes; /* (would be) removed, and their bytes */
	int64_t kept;           /* not eligible (not archived, …) */
	int64_t refused;        /* the bucket copy failed a check */
	int64_t remote_only;    /* no local copy to remove */
};
enum cv_err storage_evict(struct store *s, const struct storage_evict_opts *o,
	struct storage_evict_stats *st, char **errmsg) CV_MUST_CHECK;

/* The recording is not in the local blob store: fetch its recorded
 * version from a target into bs (hash-checked: only the named bytes are
 * kept). CV_ENOTFOUND when no target holds it. */
struct blobstore;
enum cv_err storage_blob_fetch(struct store *s, struct blobstore *bs,
	const char *sha256, FILE *out, char **errmsg) CV_MUST_CHECK;
/* Open a recording's blob for reading (blob_open_read); one kept only in
 * a target (`storage evict`) is fetched back first, and again when an
 * evict takes it between the fetch and the open (a few times). out, when
 * not NULL, hears of each fetch. Inside a read snapshot of s the fetched
 * blob is named through a connection of its own (rows as they are now).
 * CV_ENOTFOUND, saying which, when neither the blob store nor any target
 * has it, or when no row names it any more (erased or purged). */
enum cv_err storage_blob_open_read(struct store *s, struct blobstore *bs,
	const char *sha256, int *fd, int64_t *size, FILE *out,
	char **errmsg) CV_MUST_CHECK;

#endif
