/*
 * keyfile.h — making a secret key file: n random bytes (OpenSSL's
 * RAND_bytes) as lower-case hex and a newline, mode 0600, linked into
 * place and never renamed over, so that processes making the key at
 * once all end up using the one on disk (the first link wins; the
 * others find EEXIST and read that one). Used for the audit key and the
 * erasure key.
 */
#ifndef CV_KEYFILE_H
#define CV_KEYFILE_H

#include <stddef.h>

#include "common.h"

/* Create path unless it exists (then CV_OK: the caller reads it). what
 * names the key in errors ("audit key"). */
enum cv_err cv_keyfile_create(const char *path, size_t n, const char *what,
	char **errmsg) CV_MUST_CHECK;

#endif
