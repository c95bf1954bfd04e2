/*
 * audithead.h — the audit chain's head, anchored outside the store.
 * Each monthly bag records the head at the time of archiving (the id and
 * hash of the newest audit entry) with a MAC keyed by the audit key, a
 * file beside the store (not in it): whoever rewrites the store and
 * recomputes the chain cannot make a matching head without that key.
 * `audit --verify --against` then proves the live log still holds every
 * entry up to each archived head, unchanged (each entry's hash covers
 * every entry before it).
 */
#ifndef CV_AUDITHEAD_H
#define CV_AUDITHEAD_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "hash.h"

#define AUDITHEAD_KEY_LEN 32
#define AUDITHEAD_KEY_NAME "audit.key"
/* bag-info.txt labels */
#define AUDITHEAD_LABEL "Callvault-Audit-Head"
#define AUDITHEAD_MAC_LABEL "Callvault-Audit-Head-MAC"

/* $CALLVAULT_AUDIT_KEY, else <db>.secrets/audit.key. Caller frees. */
char *audithead_key_path(const char *db_path);

/*
 * Read the audit key (64 hex digits; a file group or others may reach
 * is refused, naming `chmod 600`). With create, a missing key file is
 * made (random, 0600, its directory 0700 when new). CV_ENOTFOUND when
 * missing and not created.
 */
enum cv_err audithead_key_load(const char *path, bool create,
	unsigned char key[AUDITHEAD_KEY_LEN], char **errmsg) CV_MUST_CHECK;

/* HMAC-SHA256(key, "callvault-audit-head-v1\n" id "\n" hash), hex. */
void audithead_mac(const unsigned char key[AUDITHEAD_KEY_LEN], int64_t id,
	const char *hash, char out[CV_SHA256_HEX]);

#endif
