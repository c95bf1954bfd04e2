/*
 * seal.h — what seals a bag's tag manifest: the site key's detached
 * signature (SITEKEY_SIG_FILE) and an RFC 3161 timestamp token
 * (TSA_TOKEN_FILE), two tag files beside tagmanifest-sha256.txt that it
 * cannot list (they are made from it). The store keeps them with the
 * archive, so that archive --rebuild writes the same seal.
 */
#ifndef CV_SEAL_H
#define CV_SEAL_H

#include <stdbool.h>
#include <stddef.h>

#include "retention.h"
#include "sitekey.h"
#include "tarzst.h"
#include "tsa.h"

struct seal {
	bool has_sig;
	unsigned char sig[SITEKEY_SIG_LEN];
	unsigned char *token; /* TimeStampResp DER, or NULL */
	size_t token_len;
	char *tsa_error; /* why there is no token though asked */
};

/* Sign the tag manifest tm with o->key, and ask o->tsa_url for a token
 * over it. A TSA that fails leaves seal->tsa_error set, not an error. */
void seal_make(const struct archive_opts *o, const void *tm, size_t len,
	struct seal *out);
/* The same with the key (NULL: no signature) and the TSA (NULL: none)
 * given: evidence packages. */
void seal_make_with(const struct sitekey *key, const char *tsa_url,
	const void *tm, size_t len, struct seal *out);

/* The seal the store kept for archive id (none: an empty seal). */
enum cv_err seal_load(struct store *s, int64_t id, struct seal *out,
	char **errmsg) CV_MUST_CHECK;

/* Its files into the tar, under root/. */
enum cv_err seal_write(const struct seal *sl, struct tarzst *t,
	const char *root, char **errmsg) CV_MUST_CHECK;

/* Keep it with archive id (inside the caller's transaction). */
enum cv_err seal_record(struct store *s, int64_t id, const struct seal *sl,
	char **errmsg) CV_MUST_CHECK;

void seal_finish(struct seal *sl);

#endif
