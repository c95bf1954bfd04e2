/* password.c — see password.h. */
#include "password.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "util.h"

#define SALT_LEN 16
#define KEY_LEN 32

void password_random_hex(size_t n, char *out)
{
	unsigned char b[64];
	if (n > sizeof(b) || RAND_bytes(b, (int)n) != 1) {
		fprintf(stderr, "callvault: no randomness available\n");
		abort();
	}
	cv_hex(b, n, out);
}

static bool derive(const char *pw, const unsigned char *salt, unsigned iter,
	unsigned char key[KEY_LEN])
{
	return PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, SALT_LEN, (int)iter,
		       EVP_sha256(), KEY_LEN, key) == 1;
}

char *password_hash_iter(const char *pw, unsigned iterations)
{
	unsigned char salt[SALT_LEN], key[KEY_LEN];
	char sh[2 * SALT_LEN + 1], kh[2 * KEY_LEN + 1];
	if (RAND_bytes(salt, SALT_LEN) != 1 ||
		!derive(pw, salt, iterations, key)) {
		fprintf(stderr, "callvault: PBKDF2 failed\n");
		abort();
	}
	cv_hex(salt, SALT_LEN, sh);
	cv_hex(key, KEY_LEN, kh);
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
	if (strlen(s) != 2 * SALT_LEN + 1 + 2 * KEY_LEN ||
		s[2 * SALT_LEN] != '$')
		return false;
	unsigned char salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
	if (!cv_unhex(s, SALT_LEN, salt, false) ||
		!cv_unhex(s + 2 * SALT_LEN + 1, KEY_LEN, want, false))
		return false;
	if (!derive(pw, salt, (unsigned)iter, got))
		return false;
	return cv_memeq_ct(got, want, KEY_LEN) != 0;
}
