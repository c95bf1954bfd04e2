/*
 * bagread.h — read a bag out of a tar.zst (libarchive with its zstd
 * filter), streaming: each regular file's bytes are handed over in chunks.
 * Every entry must sit under one top directory and stay inside it.
 */
#ifndef CV_BAGREAD_H
#define CV_BAGREAD_H

#include <stdint.h>

#include "common.h"

struct bagread_entry {
	const char *root; /* the top directory */
	const char *path; /* relative to it: "data/calls.jsonl" */
	int64_t size;
};
struct bagread_cb {
	/* 0 = hand over the bytes, 1 = skip this file, -1 = stop */
	int (*begin)(const struct bagread_entry *e, void *arg);
	int (*data)(const void *p, size_t n, void *arg); /* non-0 stops */
	int (*end)(void *arg);                           /* non-0 stops */
};
/*
 * Walk the archive at path. CV_EINTEGRITY when it cannot be decompressed
 * or unpacked, or its layout is not a bag's; CV_EINVAL when a callback
 * stopped the walk; CV_EIO when it cannot be opened.
 */
enum cv_err bagread_walk(const char *path, const struct bagread_cb *cb,
	void *arg, char **errmsg) CV_MUST_CHECK;

#endif
