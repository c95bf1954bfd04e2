/*
 * signature.h — verifying that a webhook body came from HighLevel (libsodium
 * for Ed25519, OpenSSL for the rest).
 *
 * Three schemes, tried in a fixed order and failing closed:
 *   1. `x-ghl-signature`: Ed25519 over the exact raw body bytes, base64.
 *      When this header is present it alone decides: an invalid signature
 *      is a rejection, never a fall-back to the other schemes. libsodium
 *      verifies, stricter than RFC 8032: an R of small order is refused
 *      even when the equation holds.
 *   2. `x-wh-signature` (legacy): RSA PKCS#1 v1.5 with SHA-256, base64;
 *      only when `x-ghl-signature` is absent and only before the cut-off.
 *   3. `X-HighLevel-Signature`: lower- or upper-case hex HMAC-SHA256 of the
 *      body with a shared secret (workflow Custom Webhook actions); only
 *      when neither header above is present and a secret is configured.
 * HighLevel's published Ed25519 and RSA-4096 keys are built in; more keys
 * can be added (rotation, tests). A verifier is immutable once configured
 * and may then be used from many threads at once.
 */
#ifndef CV_SIGNATURE_H
#define CV_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* Default legacy cut-off: 2026-07-01T00:00:00Z. */
#define SIG_LEGACY_CUTOFF_MS INT64_C(1782864000000)

/* The shortest shared secret taken: 32 bytes, HMAC-SHA256's key size. */
#define SIG_MIN_SECRET 32

enum sig_scheme {
	SIG_NONE,
	SIG_ED25519,
	SIG_RSA_LEGACY,
	SIG_HMAC,
	SIG_HEADER_SECRET
};

/* The signature headers of one request (NULL when absent). */
struct sig_headers {
	const char *ghl;  /* x-ghl-signature */
	const char *wh;   /* x-wh-signature */
	const char *hmac; /* X-HighLevel-Signature */
};

struct sig_verifier;

/* A verifier holding HighLevel's built-in keys. Never fails (aborts on
 * OOM or if the built-in keys do not load). */
struct sig_verifier *sig_verifier_create(void);
void sig_verifier_destroy(struct sig_verifier *v);

/* Add the public key(s) in a PEM file: Ed25519 keys join the
 * x-ghl-signature set, RSA keys the legacy set. CV_EPARSE when the file
 * holds no public key, or a key of another kind, or an Ed25519 key that
 * is not a point of the prime-order subgroup. */
enum cv_err sig_add_key_file(struct sig_verifier *v, const char *path,
	char **errmsg) CV_MUST_CHECK;
/* The same from PEM text in memory. */
enum cv_err sig_add_key_pem(struct sig_verifier *v, const char *pem, size_t len,
	char **errmsg) CV_MUST_CHECK;
/* Accept X-HighLevel-Signature with this HMAC key (copied). CV_EINVAL,
 * nothing set, when it is shorter than SIG_MIN_SECRET bytes. */
enum cv_err sig_set_shared_secret(struct sig_verifier *v, const void *key,
	size_t len, char **errmsg) CV_MUST_CHECK;
/*
 * Accept workflow deliveries (their own route, see webhook.h) that carry
 * this header and value, given as one line "Name: value":
 * "X-Callvault-Secret: …", "Authorization: Bearer …" or "Authorization:
 * Basic …" (user:password, or its base64 as sent). The Authorization
 * scheme is matched without regard to case, the credential exactly and
 * in constant time. CV_EINVAL, nothing set, when the line is not a
 * header or its credential is shorter than SIG_MIN_SECRET bytes.
 */
enum cv_err sig_set_header_secret(struct sig_verifier *v, const char *line,
	char **errmsg) CV_MUST_CHECK;
/* The header's name, or NULL when no header secret is set. */
const char *sig_header_secret_name(const struct sig_verifier *v);
/* Whether a request's value of that header is the secret. */
bool sig_header_secret_ok(const struct sig_verifier *v, const char *value);
/* Legacy RSA signatures are accepted only while now < cutoff_ms. */
void sig_set_legacy_cutoff(struct sig_verifier *v, int64_t cutoff_ms);
/* Use a fixed "now" (epoch ms) instead of the clock; 0 = the clock. */
void sig_set_now(struct sig_verifier *v, int64_t now_ms);

/*
 * Verify body against the headers. Returns the scheme that verified it,
 * or SIG_NONE with *why set to a short static reason (safe to log: it
 * never contains the body or a secret). Request threads may call it at
 * once; it remembers which key verified last and tries that one first.
 */
enum sig_scheme sig_verify(struct sig_verifier *v, const struct sig_headers *h,
	const void *body, size_t len, const char **why);
const char *sig_scheme_name(enum sig_scheme s);

#endif
