/*
 * spool.h — a payload file of a bag written to an unlinked temp file
 * while both its digests are computed, then copied into the tar: the
 * JSONL and CSV files are generated in one pass over the calls, and
 * their size must be known before their tar entry starts.
 */
#ifndef CV_SPOOL_H
#define CV_SPOOL_H

#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "hash.h"
#include "tarzst.h"

struct spool {
	FILE *f;
	uint64_t size;
	struct cv_hash *h256, *h512;
};

/* An unlinked temp file in dir. */
enum cv_err spool_open(struct spool *sp, const char *dir,
	char **errmsg) CV_MUST_CHECK;
void spool_put(struct spool *sp, const void *p, size_t n);
/* Copy the spool into the tar as path; the hex digests come out. */
enum cv_err spool_copy(struct spool *sp, struct tarzst *t, const char *path,
	char *hex256, char *hex512, char **errmsg) CV_MUST_CHECK;
/* Close and free (a zeroed or half-built spool too). */
void spool_close(struct spool *sp);

#endif
