/*
 * tarzst.h — a streaming tar (pax/ustar, libarchive) compressed with zstd
 * (ZSTD_compressStream2, settable level and worker threads) into a sink,
 * hashing the compressed bytes (SHA-256) as they go out. Memory stays
 * flat: entries are written as their bytes come.
 */
#ifndef CV_TARZST_H
#define CV_TARZST_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "hash.h"
#include "util.h"

struct tarzst;

/* Start writing into sink (not owned). level 1..19; threads 0 = none. */
enum cv_err tarzst_create(struct tarzst **out, struct sink *sink, int level,
	int threads, int64_t mtime, char **errmsg) CV_MUST_CHECK;
/* A directory entry (path without trailing slash). */
enum cv_err tarzst_add_dir(struct tarzst *t, const char *path,
	char **errmsg) CV_MUST_CHECK;
/* A file of exactly size bytes: begin, write its bytes, end. */
enum cv_err tarzst_begin(struct tarzst *t, const char *path, uint64_t size,
	char **errmsg) CV_MUST_CHECK;
enum cv_err tarzst_write(struct tarzst *t, const void *p, size_t n,
	char **errmsg) CV_MUST_CHECK;
enum cv_err tarzst_end(struct tarzst *t, char **errmsg) CV_MUST_CHECK;
/* A whole small file at once. */
enum cv_err tarzst_add(struct tarzst *t, const char *path, const void *p,
	size_t n, char **errmsg) CV_MUST_CHECK;
/*
 * Close the tar and the zstd frame, flushing everything into the sink
 * (the caller commits the sink). sha256 gets the hex digest of the
 * compressed bytes, *size their count, *tar_size the uncompressed size.
 */
enum cv_err tarzst_finish(struct tarzst *t, char sha256[CV_SHA256_HEX],
	uint64_t *size, uint64_t *tar_size, char **errmsg) CV_MUST_CHECK;
/* Free (after finish, or to abandon). NULL ok. */
void tarzst_destroy(struct tarzst *t);

#endif
