/* hash.c — see hash.h */
#include "hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

struct cv_hash {
	EVP_MD_CTX *ctx;
};

static void to_hex(const unsigned char *d, unsigned n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
}

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

void cv_hash_final_hex(struct cv_hash *h, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (EVP_DigestFinal_ex(h->ctx, d, &n) != 1)
		abort();
	to_hex(d, n, out);
	cv_hash_destroy(h);
}

void cv_hash_destroy(struct cv_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void cv_sha256_hex(const void *p, size_t n, char out[CV_SHA256_HEX])
{
	unsigned char d[32];
	unsigned len = 0;
	if (EVP_Digest(p, n, d, &len, EVP_sha256(), NULL) != 1)
		abort();
	to_hex(d, len, out);
}

void cv_sha512_hex(const void *p, size_t n, char out[CV_SHA512_HEX])
{
	unsigned char d[64];
	unsigned len = 0;
	if (EVP_Digest(p, n, d, &len, EVP_sha512(), NULL) != 1)
		abort();
	to_hex(d, len, out);
}

int cv_memeq_ct(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
