/*
 * subject_key.h — the keyed hash an erasure's tombstones keep of the
 * person's identifier (contact id or E.164 number), so that a later
 * request about the same person can be matched to the erasure without
 * the store (or an archive, or a backup) keeping the identifier or
 * anything it can be recovered from. A plain SHA-256 of a phone number
 * is not that: there are ~10^10 numbers, hashed in minutes. The key is
 * 32 random bytes in its own file beside the store, STORE.erasure-key
 * (hex, mode 0600, created by the first erasure, refused when others
 * can read it), so a copy of the store alone cannot test a guess.
 */
#ifndef CV_SUBJECT_KEY_H
#define CV_SUBJECT_KEY_H

#include <stdbool.h>

#include "common.h"
#include "hash.h"

#define SUBJECT_KEY_LEN 32

/* The key file's path for store db_path (caller frees). */
char *subject_key_path(const char *db_path);

/*
 * Read the key from `path`; when the file does not exist and `create`,
 * make one (random bytes; a concurrent creator's key wins, never two).
 * CV_ENOTFOUND when absent and !create; CV_EINTEGRITY when the file is
 * not 64 hex digits or group/other may read it (named in *errmsg).
 */
enum cv_err subject_key_load(const char *path, bool create,
	unsigned char key[SUBJECT_KEY_LEN], char **errmsg) CV_MUST_CHECK;

/* HMAC-SHA256 under key of "kind:value" (kind "contact" or "number"), as
 * lower-case hex. */
void subject_hmac(const unsigned char key[SUBJECT_KEY_LEN], const char *kind,
	const char *value, char out[CV_SHA256_HEX]);

#endif
