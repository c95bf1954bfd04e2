/* password.c — see password.h. */
#include "password.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define SALT_LEN 16
#define KEY_LEN 32

static void to_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static bool from_hex(const char *s, size_t len, unsigned char *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + k];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else
				return false;
		}
		out[i] = (unsigned char)v;
	}
	return true;
}

void password_random_hex(size_t n, char *out)
{
	unsigned char b[64];
	if (n > sizeof(b) || RAND_bytes(b, (int)n) != 1) {
		fprintf(stderr, "callvault: no randomness available\n");
		abort();
	}
	to_hex(b, n, out);
}

static bool derive(const char *pw, const unsigned char *salt, unsigned iter,
	unsigned char key[KEY_LEN])
{
	return PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, SALT_LEN,
		(int)iter, EVP_sha256(), KEY_LEN, key) == 1;
}

char *password_hash_iter(const char *pw, unsigned iterations)
{
	unsigned char salt[SALT_LEN], key[KEY_LEN];
	char sh[2 * SALT_LEN + 1], kh[2 * KEY_LEN + 1];
	if (RAND_bytes(salt, SALT_LEN) != 1 || !derive(pw, salt, iterations,
						    key)) {
		fprintf(stderr, "callvault: PBKDF2 failed\n");
		abort();
	}
	to_hex(salt, SALT_LEN, sh);
	to_hex(key, KEY_LEN, kh);
	return xasprintf("pbkdf2-sha256$%u$%s$%s", iterations, sh, kh);
}

char *password_hash(const char *pw)
{
	return password_hash_iter(pw, PASSWORD_ITERATIONS);
}

bool password_verify(const char *pw, const char *stored)
{
	static const char pre[] = "pbkdf2-sha256$";
	if (!stored || strncmp(stored, pre, sizeof(pre) - 1) != 0)
		return false;
	char *end;
	unsigned long iter = strtoul(stored + sizeof(pre) - 1, &end, 10);
	if (*end != '$' || iter < 1000 || iter > 10000000)
		return false;
	const char *s = end + 1;
	if (strlen(s) != 2 * SALT_LEN + 1 + 2 * KEY_LEN || s[2 * SALT_LEN] != '$')
		return false;
	unsigned char salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
	if (!from_hex(s, SALT_LEN, salt) ||
	    !from_hex(s + 2 * SALT_LEN + 1, KEY_LEN, want))
		return false;
	if (!derive(pw, salt, (unsigned)iter, got))
		return false;
	return cv_memeq_ct(got, want, KEY_LEN) != 0;
}
