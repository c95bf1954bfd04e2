/* hash.c — see hash.h */
/* before any OpenSSL header: see CV_HASH_LOWLEVEL below */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "hash.h"

#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "util.h"

/*
 * OpenSSL 3's EVP digests go through the provider machinery: the first
 * EVP_sha256() in a process loads and initialises the default provider,
 * which costs ~2.4 ms here — an eighth of a whole `callvault search`,
 * whose only digest is the audit entry's. The SHA256_ and SHA512_
 * functions compute the same digests without a provider (~0.05 ms for
 * the first). OpenSSL 3 marks them deprecated but keeps them; should a
 * later major release (or a build without deprecated APIs) drop them,
 * the EVP path below is used instead.
 */
#if OPENSSL_VERSION_MAJOR < 4 && !defined(OPENSSL_NO_DEPRECATED_3_0)
#include <openssl/sha.h>
#define CV_HASH_LOWLEVEL 1
#else
#include <openssl/evp.h>
#endif

#ifdef CV_HASH_LOWLEVEL

struct cv_hash {
	bool is512;
	union {
		SHA256_CTX c256;
		SHA512_CTX c512;
	} u;
};

struct cv_hash *cv_hash_create(const char *kind)
{
	struct cv_hash *h = xmalloc(sizeof(*h));
	h->is512 = strcmp(kind, "sha512") == 0;
	if ((h->is512 ? SHA512_Init(&h->u.c512) : SHA256_Init(&h->u.c256)) != 1)
		abort();
	return h;
}

void cv_hash_update(struct cv_hash *h, const void *p, size_t n)
{
	if ((h->is512 ? SHA512_Update(&h->u.c512, p, n)
		      : SHA256_Update(&h->u.c256, p, n)) != 1)
		abort();
}

/* The digest into d (64 bytes), its length returned; h is left for the
 * caller to destroy. */
static unsigned final_bytes(struct cv_hash *h, unsigned char *d)
{
	if (h->is512) {
		if (SHA512_Final(d, &h->u.c512) != 1)
			abort();
		return SHA512_DIGEST_LENGTH;
	}
	if (SHA256_Final(d, &h->u.c256) != 1)
		abort();
	return SHA256_DIGEST_LENGTH;
}

void cv_hash_destroy(struct cv_hash *h)
{
	if (h)
		OPENSSL_cleanse(h, sizeof(*h));
	free(h);
}

#else /* EVP */

struct cv_hash {
	EVP_MD_CTX *ctx;
};

struct cv_hash *cv_hash_create(const char *kind)
{
	const EVP_MD *md = strcmp(kind, "sha512") == 0 ? EVP_sha512()
						       : EVP_sha256();
	struct cv_hash *h = xmalloc(sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, md, NULL) != 1)
		abort();
	return h;
}

void cv_hash_update(struct cv_hash *h, const void *p, size_t n)
{
	if (EVP_DigestUpdate(h->ctx, p, n) != 1)
		abort();
}

static unsigned final_bytes(struct cv_hash *h, unsigned char *d)
{
	unsigned n = 0;
	if (EVP_DigestFinal_ex(h->ctx, d, &n) != 1)
		abort();
	return n;
}

void cv_hash_destroy(struct cv_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

#endif

void cv_hash_final_hex(struct cv_hash *h, char *out)
{
	unsigned char d[64];
	cv_hex(d, final_bytes(h, d), out);
	cv_hash_destroy(h);
}

unsigned cv_hash_final(struct cv_hash *h, unsigned char *out)
{
	unsigned n = final_bytes(h, out);
	cv_hash_destroy(h);
	return n;
}

void cv_sha256(const void *p, size_t n, unsigned char out[32])
{
	struct cv_hash *h = cv_hash_create("sha256");
	cv_hash_update(h, p, n);
	cv_hash_final(h, out);
}

/*
 * HMAC (RFC 2104) over the digests above rather than OpenSSL's HMAC():
 * that goes through EVP and its provider, ~2.4 ms on the first call,
 * which every command appending a keyed audit entry would pay.
 */
void cv_hmac_sha256_hex(const unsigned char *key, size_t key_len, const void *p,
	size_t n, char out[CV_SHA256_HEX])
{
	unsigned char k[64] = { 0 }, pad[64], d[64];
	if (key_len > sizeof(k)) {
		struct cv_hash *kh = cv_hash_create("sha256");
		cv_hash_update(kh, key, key_len);
		key_len = final_bytes(kh, k);
		cv_hash_destroy(kh);
	} else {
		memcpy(k, key, key_len);
	}
	struct cv_hash *h = cv_hash_create("sha256");
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	cv_hash_update(h, pad, sizeof(pad));
	cv_hash_update(h, p, n);
	unsigned dn = final_bytes(h, d);
	cv_hash_destroy(h);
	h = cv_hash_create("sha256");
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	cv_hash_update(h, pad, sizeof(pad));
	cv_hash_update(h, d, dn);
	cv_hash_final_hex(h, out);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
}

/* The one-shots are the incremental functions above (not OpenSSL's
 * SHA256()/SHA512(), which OpenSSL 3 routes through EVP_Q_digest). */
static void one_shot(const char *kind, const void *p, size_t n, char *out)
{
	struct cv_hash *h = cv_hash_create(kind);
	cv_hash_update(h, p, n);
	cv_hash_final_hex(h, out);
}

void cv_sha256_hex(const void *p, size_t n, char out[CV_SHA256_HEX])
{
	one_shot("sha256", p, n, out);
}

void cv_sha512_hex(const void *p, size_t n, char out[CV_SHA512_HEX])
{
	one_shot("sha512", p, n, out);
}

int cv_memeq_ct(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
