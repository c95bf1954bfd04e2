/*
 * hash.h — SHA-256 / SHA-512 helpers (OpenSSL libcrypto). Hex output is
 * lower-case, as sha256sum prints it.
 */
#ifndef CV_HASH_H
#define CV_HASH_H

#include <stdbool.h>
#include <stddef.h>

#define CV_SHA256_HEX 65 /* 64 hex digits + NUL */
#define CV_SHA512_HEX 129

void cv_sha256_hex(const void *p, size_t n, char out[CV_SHA256_HEX]);
void cv_sha512_hex(const void *p, size_t n, char out[CV_SHA512_HEX]);

/* Incremental hashing; kind is "sha256" or "sha512". */
struct cv_hash;
struct cv_hash *cv_hash_create(const char *kind);
void cv_hash_update(struct cv_hash *h, const void *p, size_t n);
/* Writes the hex digest (out must hold 129 bytes) and frees h. */
void cv_hash_final_hex(struct cv_hash *h, char *out);
void cv_hash_destroy(struct cv_hash *h);
/* The digest as bytes (out must hold 64); its length. Frees h. */
unsigned cv_hash_final(struct cv_hash *h, unsigned char *out);
/* SHA-256 of p[0..n), as bytes. */
void cv_sha256(const void *p, size_t n, unsigned char out[32]);

/* HMAC-SHA256(key, p[0..n)), hex. */
void cv_hmac_sha256_hex(const unsigned char *key, size_t key_len, const void *p,
	size_t n, char out[CV_SHA256_HEX]);

/* Constant-time comparison of two equal-length byte strings. */
int cv_memeq_ct(const void *a, const void *b, size_t n);

#endif
