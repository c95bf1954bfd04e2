/*
 * blob.h — the content-addressed blob store beside the database: large
 * media (call recordings) kept as files named by the SHA-256 of their
 * bytes, exactly as received, never as rows in SQLite.
 *
 * Layout: <store path>.blobs/ (0700), each blob at ab/abcdef… (0600, the
 * first two hex digits as a fan-out directory), writes in progress under
 * tmp/. A blob becomes visible only whole: written to tmp/, fsync'd,
 * renamed to its name, the directory fsync'd. A crash at any point leaves
 * at most a file under tmp/ (removed by the next blob_sweep_tmp: a writer
 * holds a lock on its file while it lives), never a partial blob under a
 * name. Writing bytes whose blob exists already replaces
 * the file with the new, verified copy (still one file per content):
 * a damaged file of that name is repaired, never trusted.
 */
#ifndef CV_BLOB_H
#define CV_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "hash.h"

struct blobstore;
struct blob_writer;

/* The blob directory of the store at store_path, created (0700) unless
 * create is false (then CV_ENOTFOUND when it does not exist). */
enum cv_err blob_open(struct blobstore **out, const char *store_path,
	bool create, char **errmsg) CV_MUST_CHECK;
void blob_close(struct blobstore *b);
const char *blob_dir(const struct blobstore *b);

/* Start a blob of at most max_bytes (0 = no bound). */
enum cv_err blob_writer_new(struct blobstore *b, int64_t max_bytes,
	struct blob_writer **out, char **errmsg) CV_MUST_CHECK;
/* Append bytes; CV_ETOOBIG past the bound, CV_EIO on a write error (disk
 * full). Bytes are gathered (256 KiB) before they are written, so a
 * write error may show only at the flush or commit. After an error the
 * writer can only be aborted. */
enum cv_err blob_writer_write(struct blob_writer *w, const void *p, size_t n,
	char **errmsg) CV_MUST_CHECK;
/* Hash the bytes in blob_writer_flush (reading them back from the
 * file, on the thread that flushes) rather than as they are written:
 * the writing thread (sync's downloads) is spared the SHA-256. Call it
 * before the first write. */
void blob_writer_hash_on_flush(struct blob_writer *w);
/* Bytes written so far, and the first up to 64 KiB of them (for a header). */
int64_t blob_writer_size(const struct blob_writer *w);
const unsigned char *blob_writer_head(const struct blob_writer *w, size_t *n);
/* Make the blob durable and visible under its name; sha256 gets its hex
 * name, *size its length. If expect_sha256 is non-NULL the bytes must
 * hash to it (CV_EINTEGRITY otherwise, nothing kept). Frees w whatever
 * the result. */
enum cv_err blob_writer_commit(struct blob_writer *w, const char *expect_sha256,
	char sha256[CV_SHA256_HEX], int64_t *size, char **errmsg) CV_MUST_CHECK;
/*
 * The same in three steps, so that the slow one can run on another
 * thread while this one goes on (sync overlaps a recording's fsync with
 * the next download):
 *  - blob_writer_flush: fsync the bytes written (no name yet), and hash
 *    them first under blob_writer_hash_on_flush; any thread, once no
 *    more bytes come. Its result is kept in w.
 *  - blob_writer_publish: on the blob store's thread, check the flush
 *    and the hash, rename to the blob's name; frees w. The name is not
 *    durable yet: its directory's fsync starts at once, on a thread of
 *    the blob store's own.
 *  - blob_sync: wait until every directory a publish touched since the
 *    last one is fsync'd. A row naming a published blob must not
 *    commit before it.
 * A blobstore is not shared between threads (but for the flush of a
 * writer no other thread touches meanwhile).
 *
 * Naming a blob that a store's row will name (commit or publish) must
 * happen inside that store's write transaction (store_begin), and the
 * bytes renamed over the name even when a file of that name is there:
 * removers (media_remove_unused, `storage evict`) count the rows and
 * unlink under the same lock, so a publisher that skipped the rename
 * because the blob "was there", or renamed outside the lock, could
 * commit a row whose blob was just removed.
 */
enum cv_err blob_writer_flush(struct blob_writer *w) CV_MUST_CHECK;
/* Why the flush failed (valid while w is). */
const char *blob_writer_flush_error(const struct blob_writer *w);
enum cv_err blob_writer_publish(struct blob_writer *w,
	const char *expect_sha256, char sha256[CV_SHA256_HEX], int64_t *size,
	char **errmsg) CV_MUST_CHECK;
enum cv_err blob_sync(struct blobstore *b, char **errmsg) CV_MUST_CHECK;

/* Drop the bytes written (unlink the temporary file) and free; NULL ok. */
void blob_writer_abort(struct blob_writer *w);

/* Store a whole file's bytes (restore); same rules as a writer. */
enum cv_err blob_put_fd(struct blobstore *b, int fd, int64_t max_bytes,
	const char *expect_sha256, char sha256[CV_SHA256_HEX], int64_t *size,
	char **errmsg) CV_MUST_CHECK;

/* The path of a blob (caller frees); whether it exists is not checked. */
char *blob_path(const struct blobstore *b, const char *sha256);
/* Open a blob for reading: a file descriptor (caller closes), *size its
 * length. CV_ENOTFOUND when there is none; CV_EINVAL for a name that is
 * not 64 lower-case hex digits. */
enum cv_err blob_open_read(const struct blobstore *b, const char *sha256,
	int *fd, int64_t *size, char **errmsg) CV_MUST_CHECK;
/* Whether the blob exists (and its size when size is non-NULL). */
bool blob_exists(const struct blobstore *b, const char *sha256, int64_t *size);
/* Hash a blob's bytes: CV_OK with the digest in got (which may differ
 * from its name: the caller judges). */
enum cv_err blob_hash(const struct blobstore *b, const char *sha256,
	char got[CV_SHA256_HEX], char **errmsg) CV_MUST_CHECK;
/* Remove a blob (and fsync its directory); CV_OK when there was none. */
enum cv_err blob_remove(struct blobstore *b, const char *sha256,
	char **errmsg) CV_MUST_CHECK;
/* Every file under a blob name, in no particular order: fn gets its
 * name (or the file name when it is not a valid one; valid is false
 * then) and size; a non-zero return stops the walk and is returned. */
int blob_each(const struct blobstore *b,
	int (*fn)(const char *name, bool valid, int64_t size, void *arg),
	void *arg);
/* Remove the files under tmp/ that no live writer holds (what a crashed
 * or killed process was writing); returns how many. */
int blob_sweep_tmp(struct blobstore *b);

/* Whether s is 64 lower-case hex digits. */
bool blob_name_valid(const char *s);

#endif
