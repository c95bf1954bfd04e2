/*
 * sitekey.h — the site signing key: Ed25519 (libsodium signs and
 * verifies), kept in files OpenSSL reads as they are — the private key
 * as PKCS#8 PEM (0600), the public key as SubjectPublicKeyInfo PEM — so
 * a signature verifies with stock tools:
 *
 *   openssl pkeyutl -verify -pubin -inkey site.pub -rawin \
 *       -in tagmanifest-sha256.txt -sigfile tagmanifest-sha256.txt.sig
 *
 * A detached signature file is the 64 raw signature bytes, what
 * `pkeyutl -sigfile` reads.
 */
#ifndef CV_SITEKEY_H
#define CV_SITEKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

#define SITEKEY_SIG_LEN 64
#define SITEKEY_PUB_LEN 32
/* The names `key init` writes in its directory. */
#define SITEKEY_PRIVATE_NAME "site.key"
#define SITEKEY_PUBLIC_NAME "site.pub"
/* The detached signature beside a bag's tag manifest. */
#define SITEKEY_SIG_FILE "tagmanifest-sha256.txt.sig"

struct sitekey;

/*
 * Where the keys are unless configured: "<db>.secrets/" (the store's
 * secrets directory, 0700). $CALLVAULT_SIGNING_KEY names the private
 * key file, $CALLVAULT_SIGNING_PUBKEY the public one. Caller frees.
 */
char *sitekey_default_dir(const char *db_path);
char *sitekey_private_path(const char *db_path);
char *sitekey_public_path(const char *db_path);

/*
 * Make a new key pair in dir (created 0700 when missing): site.key
 * (0600) and site.pub. Refuses (CV_EINVAL) to replace an existing key.
 * *pem gets the public key's PEM text (caller frees).
 */
enum cv_err sitekey_init(const char *dir, char **pem,
	char **errmsg) CV_MUST_CHECK;

/*
 * Load a private key file. A file that group or others may read or
 * write is refused (CV_EINVAL, naming the fix `chmod 600 FILE`), as is
 * one that is not an Ed25519 PEM private key. Free with sitekey_destroy.
 */
enum cv_err sitekey_load(const char *path, struct sitekey **out,
	char **errmsg) CV_MUST_CHECK;
void sitekey_destroy(struct sitekey *k);

/* The detached signature (raw, SITEKEY_SIG_LEN bytes) of msg. */
void sitekey_sign(const struct sitekey *k, const void *msg, size_t len,
	unsigned char sig[SITEKEY_SIG_LEN]);

/* The public key as SubjectPublicKeyInfo PEM; caller frees. */
char *sitekey_public_pem(const struct sitekey *k);
/* Its raw 32 bytes. */
void sitekey_public_raw(const struct sitekey *k,
	unsigned char pub[SITEKEY_PUB_LEN]);

/*
 * The one call an evidence-package writer needs: load the private key
 * at key_path (permissions checked as sitekey_load does) and sign a tag
 * manifest's bytes; sig gets the content of the detached signature
 * file (SITEKEY_SIG_FILE, SITEKEY_SIG_LEN raw bytes).
 */
enum cv_err sitekey_sign_manifest(const char *key_path, const void *manifest,
	size_t len, unsigned char sig[SITEKEY_SIG_LEN],
	char **errmsg) CV_MUST_CHECK;

/* Read a public key PEM file (SubjectPublicKeyInfo, Ed25519). */
enum cv_err sitekey_load_public(const char *path,
	unsigned char pub[SITEKEY_PUB_LEN], char **errmsg) CV_MUST_CHECK;

/* Does sig (sig_len bytes) sign msg under pub? */
bool sitekey_verify(const unsigned char pub[SITEKEY_PUB_LEN], const void *msg,
	size_t len, const unsigned char *sig, size_t sig_len);

#endif
