/*
 * password.h — password hashing (PBKDF2-HMAC-SHA256 from OpenSSL) and
 * random secrets (session ids, CSRF tokens, API tokens).
 *
 * A stored hash reads "pbkdf2-sha256$ITER$SALTHEX$HASHHEX" (16-byte salt,
 * 32-byte key), so the iteration count can rise without breaking old rows.
 */
#ifndef CV_PASSWORD_H
#define CV_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

#define PASSWORD_ITERATIONS 210000
#define PASSWORD_MAX 1024 /* bytes of password accepted */
#define PASSWORD_MIN 8

/* Hash pw with a fresh random salt. Caller frees the returned string. */
char *password_hash(const char *pw);
/* Hash pw with a given iteration count (tests use a small one). */
char *password_hash_iter(const char *pw, unsigned iterations);
/* True when pw matches the stored hash (constant-time compare). */
bool password_verify(const char *pw, const char *stored);
/* n random bytes as 2n lowercase hex digits into out (2n+1 bytes).
 * Aborts when the system has no randomness. */
void password_random_hex(size_t n, char *out);

#endif
