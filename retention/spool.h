/*
 * spool.h — a payload file of a bag whose size must be known before its
 * tar entry starts: the JSONL and CSV files are generated in one pass over
 * the calls, interleaved, and the manifests list every file.
 *
 * Two kinds. A file spool (spool_open) writes the bytes to an unlinked
 * temp file while hashing them, then copies them into the tar: used when
 * the bag goes to a local directory, next to which the file lives.
 * A counted spool (spool_open_counted) keeps nothing: it counts and
 * hashes the bytes as they are made; spool_replay then begins the tar
 * entry with that size and has the caller make the same bytes again,
 * straight into the tar, and fails if they come out different (size or
 * SHA-256). Used when the bag goes to S3, where nothing of it may be
 * staged on local disk; the caller holds one read snapshot of the store
 * across both renderings, so they are the same.
 */
#ifndef CV_SPOOL_H
#define CV_SPOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "hash.h"
#include "tarzst.h"

enum spool_mode {
	SPOOL_NONE,   /* zeroed: not opened */
	SPOOL_FILE,   /* bytes to the temp file */
	SPOOL_COUNT,  /* bytes counted and hashed */
	SPOOL_SEALED, /* counted, and bytes put now are ignored (another
			 spool is being replayed, or this one was) */
	SPOOL_REPLAY  /* bytes to the tar, checked against the count */
};

struct spool {
	FILE *f;
	enum spool_mode mode;
	uint64_t size;
	struct cv_hash *h256, *h512;
	char hex256[CV_SHA256_HEX], hex512[CV_SHA512_HEX]; /* once sealed */
	/* while replayed */
	struct tarzst *t;
	uint64_t again;
	enum cv_err rc;
	char *err;
	bool replayed;
};

/* An unlinked temp file in dir. */
enum cv_err spool_open(struct spool *sp, const char *dir,
	char **errmsg) CV_MUST_CHECK;
/* Nothing stored: replayed by spool_replay. */
void spool_open_counted(struct spool *sp);
void spool_put(struct spool *sp, const void *p, size_t n);
/* Copy a file spool into the tar as path; the hex digests come out. */
enum cv_err spool_copy(struct spool *sp, struct tarzst *t, const char *path,
	char *hex256, char *hex512, char **errmsg) CV_MUST_CHECK;
/* Stop counting: the digests are final, later bytes are ignored until
 * spool_replay. A spool that is sealed already stays as it is. */
void spool_seal(struct spool *sp);
/* Make the bytes again into the tar as path: seal sp, begin the entry
 * with the counted size, call regen(arg), which puts the same bytes into
 * sp, and check them. Every other spool of the bag must be sealed (or a
 * file spool nobody writes to) while regen runs. The hex digests come out. */
typedef enum cv_err spool_regen_fn(void *arg, char **errmsg);
enum cv_err spool_replay(struct spool *sp, struct tarzst *t, const char *path,
	spool_regen_fn *regen, void *arg, char *hex256, char *hex512,
	char **errmsg) CV_MUST_CHECK;
/* Either of the two above, as sp was opened. */
enum cv_err spool_emit(struct spool *sp, struct tarzst *t, const char *path,
	spool_regen_fn *regen, void *arg, char *hex256, char *hex512,
	char **errmsg) CV_MUST_CHECK;
/* Close and free (a zeroed or half-built spool too). */
void spool_close(struct spool *sp);

#endif
