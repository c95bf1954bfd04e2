/* signature.c — see signature.h */
#include "signature.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"
#include "util.h"

#define MAX_KEYS 16
#define HMAC_HEX 64

/* HighLevel's published keys (docs/webhooks.md names the sources). */
static const char ghl_ed25519_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=\n"
	"-----END PUBLIC KEY-----\n";
static const char ghl_rsa_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAokvo/r9tVgcfZ5DysOSC\n"
	"Frm602qYV0MaAiNnX9O8KxMbiyRKWeL9JpCpVpt4XHIcBOK4u3cLSqJGOLaPuXw6\n"
	"dO0t6Q/ZVdAV5Phz+ZtzPL16iCGeK9po6D6JHBpbi989mmzMryUnQJezlYJ3DVfB\n"
	"csedpinheNnyYeFXolrJvcsjDtfAeRx5ByHQmTnSdFUzuAnC9/GepgLT9SM4nCpv\n"
	"uxmZMxrJt5Rw+VUaQ9B8JSvbMPpez4peKaJPZHBbU3OdeCVx5klVXXZQGNHOs8gF\n"
	"3kvoV5rTnXV0IknLBXlcKKAQLZcY/Q9rG6Ifi9c+5vqlvHPCUJFT5XUGG5RKgOKU\n"
	"J062fRtN+rLYZUV+BjafxQauvC8wSWeYja63VSUruvmNj8xkx2zE/Juc+yjLjTXp\n"
	"IocmaiFeAO6fUtNjDeFVkhf5LNb59vECyrHD2SQIrhgXpO4Q3dVNA5rw576PwTzN\n"
	"h/AMfHKIjE4xQA1SZuYJmNnmVZLIZBlQAF9Ntd03rfadZ+yDiOXCCs9FkHibELhC\n"
	"HULgCsnuDJHcrGNd5/Ddm5hxGQ0ASitgHeMZ0kcIOwKDOzOU53lDza6/Y09T7sYJ\n"
	"PQe7z0cvj7aE4B+Ax1ZoZGPzpJlZtGXCsu9aTEGEnKzmsFqwcSsnw3JB31IGKAyk\n"
	"T1hhTiaCeIY/OwwwNUY2yvcCAwEAAQ==\n"
	"-----END PUBLIC KEY-----\n";

struct sig_verifier {
	/* Ed25519 keys, raw: libsodium verifies them (see sig_verify) */
	unsigned char ed[MAX_KEYS][crypto_sign_PUBLICKEYBYTES];
	size_t n_ed;
	EVP_PKEY *rsa[MAX_KEYS];
	size_t n_rsa;
	/* the key that verified last, tried first (request threads share
	 * the verifier): a body signed with an added key (rotation, or a
	 * test key) paid for a failed Ed25519 check against the built-in
	 * one first, ~50 us, a fifth of the CPU a webhook costs */
	atomic_size_t ed_last, rsa_last;
	unsigned char *secret;
	size_t secret_len;
	/* the workflow header secret: the header's name, an Authorization
	 * scheme ("bearer", "basic"; "" for any other header) and the
	 * SHA-256 of the credential, so that comparing it in constant time
	 * tells nothing of its length either */
	char *hs_name, *hs_scheme;
	unsigned char hs_digest[SHA256_DIGEST_LENGTH];
	int64_t cutoff_ms;
	int64_t now_ms;
};

const char *sig_scheme_name(enum sig_scheme s)
{
	static const char *const names[] = { [SIG_NONE] = "none",
		[SIG_ED25519] = "ed25519",
		[SIG_RSA_LEGACY] = "rsa-legacy",
		[SIG_HMAC] = "hmac",
		[SIG_HEADER_SECRET] = "header-secret" };
	return names[s];
}

struct sig_verifier *sig_verifier_create(void)
{
	if (sodium_init() < 0) /* thread-safe and idempotent; it picks the
				  CPU's fastest code (fails only if its lock
				  cannot be taken) */
		abort();
	struct sig_verifier *v = xcalloc(1, sizeof(*v));
	v->cutoff_ms = SIG_LEGACY_CUTOFF_MS;
	char *err = NULL;
	if (sig_add_key_pem(v, ghl_ed25519_pem, sizeof(ghl_ed25519_pem) - 1,
		    &err) != CV_OK ||
		sig_add_key_pem(v, ghl_rsa_pem, sizeof(ghl_rsa_pem) - 1,
			&err) != CV_OK) {
		cv_errlog("msg=\"built-in key does not load: %s\"", err);
		abort();
	}
	return v;
}

void sig_verifier_destroy(struct sig_verifier *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_rsa; i++)
		EVP_PKEY_free(v->rsa[i]);
	if (v->secret) {
		OPENSSL_cleanse(v->secret, v->secret_len);
		free(v->secret);
	}
	free(v->hs_name);
	free(v->hs_scheme);
	free(v);
}

/* Keep an Ed25519 key as its 32 raw bytes. A point outside the
 * prime-order subgroup or not canonically encoded is no key a signer
 * derives from a secret (one of small order "verifies" forgeries under a
 * lax verifier; libsodium refuses every signature under it): refuse it
 * when it is loaded, where the operator sees why. */
static bool file_ed25519(struct sig_verifier *v, EVP_PKEY *k, char **errmsg)
{
	unsigned char raw[crypto_sign_PUBLICKEYBYTES];
	size_t len = sizeof(raw);
	if (EVP_PKEY_get_raw_public_key(k, raw, &len) != 1 ||
		len != sizeof(raw)) {
		cv_error(errmsg, CV_EPARSE,
			"Ed25519 public key has no raw "
			"32-byte form");
		return false;
	}
	if (!crypto_core_ed25519_is_valid_point(raw)) {
		cv_error(errmsg, CV_EPARSE,
			"Ed25519 public key is not a usable point (small "
			"order, not canonical, or outside the prime-order "
			"subgroup)");
		return false;
	}
	memcpy(v->ed[v->n_ed++], raw, sizeof(raw));
	return true;
}

/* File one key into its set; false when it is neither kind, unusable or
 * the set is full. Takes k: it is freed unless kept (RSA). */
static bool file_key(struct sig_verifier *v, EVP_PKEY *k, char **errmsg)
{
	int id = EVP_PKEY_get_base_id(k);
	bool ok = false;
	if (id != EVP_PKEY_ED25519 && id != EVP_PKEY_RSA) {
		cv_error(errmsg, CV_EPARSE,
			"public key is neither Ed25519 nor RSA");
	} else if ((id == EVP_PKEY_ED25519 ? v->n_ed : v->n_rsa) >= MAX_KEYS) {
		cv_error(errmsg, CV_EINVAL, "more than %d keys of one kind",
			MAX_KEYS);
	} else if (id == EVP_PKEY_ED25519) {
		ok = file_ed25519(v, k, errmsg);
	} else {
		v->rsa[v->n_rsa++] = k;
		return true;
	}
	EVP_PKEY_free(k);
	return ok;
}

enum cv_err sig_add_key_pem(struct sig_verifier *v, const char *pem, size_t len,
	char **errmsg)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		abort();
	int added = 0;
	enum cv_err rc = CV_OK;
	EVP_PKEY *k;
	while ((k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) != NULL) {
		if (!file_key(v, k, errmsg)) {
			rc = CV_EPARSE;
			break;
		}
		added++;
	}
	BIO_free(bio);
	ERR_clear_error(); /* the read past the last key leaves an error */
	if (rc == CV_OK && added == 0)
		rc = cv_error(errmsg, CV_EPARSE,
			"no PEM public key (-----BEGIN PUBLIC KEY-----) found");
	return rc;
}

enum cv_err sig_add_key_file(struct sig_verifier *v, const char *path,
	char **errmsg)
{
	char *pem = NULL, *inner = NULL;
	size_t len;
	enum cv_err rc = cv_read_file(path, 1 << 20, &pem, &len, errmsg);
	if (rc == CV_OK && (rc = sig_add_key_pem(v, pem, len, &inner)) != CV_OK)
		cv_error(errmsg, rc, "%s: %s", path, inner);
	free(inner);
	free(pem);
	return rc;
}

enum cv_err sig_set_shared_secret(struct sig_verifier *v, const void *key,
	size_t len, char **errmsg)
{
	/* HMAC-SHA256's own key size: a shorter secret is guessable long
	 * before the MAC is */
	if (len < SIG_MIN_SECRET)
		return cv_error(errmsg, CV_EINVAL,
			"the shared secret has %zu bytes; at least %d are "
			"needed (e.g. `openssl rand -hex 32`)",
			len, SIG_MIN_SECRET);
	free(v->secret);
	v->secret = xmalloc(len ? len : 1);
	memcpy(v->secret, key, len);
	v->secret_len = len;
	return CV_OK;
}

static bool is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c);
}

/* "Basic user:password" as HighLevel sends it: base64 of the pair (a
 * credential already in base64 has no colon and is kept). */
static char *basic_credential(const char *cred)
{
	if (!strchr(cred, ':'))
		return xstrdup(cred);
	size_t n = strlen(cred);
	char *out = xmalloc(CV_BASE64_LEN(n) + 1);
	cv_base64_encode(cred, n, out);
	return out;
}

enum cv_err sig_set_header_secret(struct sig_verifier *v, const char *line,
	char **errmsg)
{
	const char *colon = strchr(line, ':'), *val;
	size_t nl = colon ? (size_t)(colon - line) : 0;
	for (size_t i = 0; i < nl; i++)
		if (!is_token_char(line[i]))
			nl = 0;
	if (!nl)
		return cv_error(errmsg, CV_EINVAL,
			"the header secret is not "
			"\"Header-Name: value\" (e.g. \"X-Callvault-Secret: …\" "
			"or \"Authorization: Bearer …\")");
	for (val = colon + 1; *val == ' ' || *val == '\t'; val++)
		;
	char *name = xstrndup(line, nl), *scheme = xstrdup(""), *cred;
	const char *sp = strchr(val, ' ');
	if (strcasecmp(name, "Authorization") == 0 && sp) {
		free(scheme);
		scheme = xstrndup(val, (size_t)(sp - val));
		for (char *p = scheme; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a'
							   : *p);
		while (*sp == ' ')
			sp++;
		cred = strcmp(scheme, "basic") == 0 ? basic_credential(sp)
						    : xstrdup(sp);
	} else {
		cred = xstrdup(val);
	}
	/* the part a client must guess: as long as an HMAC key (Basic:
	 * user:password, base64 being longer than what it encodes) */
	size_t strength = strcmp(scheme, "basic") == 0 ? strlen(cred) * 3 / 4
						       : strlen(cred);
	enum cv_err rc = CV_OK;
	if (strength < SIG_MIN_SECRET)
		rc = cv_error(errmsg, CV_EINVAL,
			"the header secret's value "
			"has %zu bytes; at least %d are needed (e.g. `openssl "
			"rand -hex 32`)",
			strength, SIG_MIN_SECRET);
	if (rc == CV_OK) {
		free(v->hs_name);
		free(v->hs_scheme);
		v->hs_name = name;
		v->hs_scheme = scheme;
		SHA256((const unsigned char *)cred, strlen(cred), v->hs_digest);
		name = scheme = NULL;
	}
	OPENSSL_cleanse(cred, strlen(cred));
	free(cred);
	free(name);
	free(scheme);
	return rc;
}

const char *sig_header_secret_name(const struct sig_verifier *v)
{
	return v->hs_name;
}

bool sig_header_secret_ok(const struct sig_verifier *v, const char *value)
{
	if (!v->hs_name || !value)
		return false;
	const char *cred = value;
	if (*v->hs_scheme) {
		size_t sl = strlen(v->hs_scheme);
		if (strncasecmp(value, v->hs_scheme, sl) != 0 ||
			value[sl] != ' ')
			return false;
		for (cred = value + sl; *cred == ' '; cred++)
			;
	}
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)cred, strlen(cred), d);
	return cv_memeq_ct(d, v->hs_digest, sizeof(d));
}

void sig_set_legacy_cutoff(struct sig_verifier *v, int64_t cutoff_ms)
{
	v->cutoff_ms = cutoff_ms;
}

void sig_set_now(struct sig_verifier *v, int64_t now_ms)
{
	v->now_ms = now_ms;
}

/* Try each Ed25519 key from the one that verified last (which becomes
 * the one that verified). */
static bool verify_ed25519(struct sig_verifier *v, const unsigned char sig[64],
	const void *body, size_t len)
{
	atomic_size_t *last = &v->ed_last;
	size_t first = atomic_load_explicit(last, memory_order_relaxed);
	for (size_t k = 0; k < v->n_ed; k++) {
		size_t i = (first + k) % v->n_ed;
		if (crypto_sign_verify_detached(sig, body, len, v->ed[i]) ==
			0) {
			if (i != first)
				atomic_store_explicit(last, i,
					memory_order_relaxed);
			return true;
		}
	}
	return false;
}

/* The same for the legacy RSA-SHA256 keys. */
static bool verify_rsa(struct sig_verifier *v, const unsigned char *sig,
	size_t sig_len, const void *body, size_t len)
{
	atomic_size_t *last = &v->rsa_last;
	size_t first = atomic_load_explicit(last, memory_order_relaxed);
	for (size_t k = 0; k < v->n_rsa; k++) {
		size_t i = (first + k) % v->n_rsa;
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		if (!ctx)
			abort();
		bool ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
				  v->rsa[i]) == 1 &&
			  EVP_DigestVerify(ctx, sig, sig_len, body, len) == 1;
		EVP_MD_CTX_free(ctx);
		if (ok) {
			if (i != first)
				atomic_store_explicit(last, i,
					memory_order_relaxed);
			return true;
		}
	}
	return false;
}

static enum sig_scheme verify_hmac(const struct sig_verifier *v,
	const char *hex, const void *body, size_t len, const char **why)
{
	unsigned char want[32], got[32];
	unsigned int wlen = 0;
	if (!v->secret) {
		*why = "X-HighLevel-Signature given but no shared secret is "
		       "configured";
		return SIG_NONE;
	}
	if (strlen(hex) != HMAC_HEX) {
		*why = "X-HighLevel-Signature is not 64 hex digits";
		return SIG_NONE;
	}
	if (!cv_unhex(hex, 32, got, true)) {
		*why = "X-HighLevel-Signature is not 64 hex digits";
		return SIG_NONE;
	}
	if (!HMAC(EVP_sha256(), v->secret, (int)v->secret_len, body, len, want,
		    &wlen) ||
		wlen != 32)
		abort();
	if (!cv_memeq_ct(want, got, 32)) {
		*why = "X-HighLevel-Signature does not match";
		return SIG_NONE;
	}
	return SIG_HMAC;
}

enum sig_scheme sig_verify(struct sig_verifier *v, const struct sig_headers *h,
	const void *body, size_t len, const char **why)
{
	unsigned char sig[1024];
	long n;
	*why = NULL;
	if (h->ghl) {
		n = cv_base64_decode(h->ghl, sig, sizeof(sig));
		if (n != 64)
			*why = "x-ghl-signature is not a base64 Ed25519 "
			       "signature";
		else if (!verify_ed25519(v, sig, body, len))
			*why = "x-ghl-signature does not verify";
		return *why ? SIG_NONE : SIG_ED25519;
	}
	if (h->wh) {
		int64_t now = v->now_ms ? v->now_ms : cv_now_ms();
		n = cv_base64_decode(h->wh, sig, sizeof(sig));
		if (now >= v->cutoff_ms)
			*why = "x-wh-signature (legacy RSA) is past its "
			       "cut-off";
		else if (n <= 0)
			*why = "x-wh-signature is not base64";
		else if (!verify_rsa(v, sig, (size_t)n, body, len))
			*why = "x-wh-signature does not verify";
		return *why ? SIG_NONE : SIG_RSA_LEGACY;
	}
	if (h->hmac)
		return verify_hmac(v, h->hmac, body, len, why);
	*why = "no signature header";
	return SIG_NONE;
}
