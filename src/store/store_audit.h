/*
 * store_audit.h — the append-only, hash-chained audit log. Every search,
 * show, export, hold change and purge appends one entry. Each entry's hash
 * is SHA-256(prev_hash "\n" ts "\n" actor "\n" command "\n" detail "\n"
 * result_count) — version 1 — or, for an entry that records the
 * operating-system user, SHA-256(AUDIT_HASH_V2 "\n" prev_hash "\n" ts
 * "\n" actor "\n" command "\n" detail "\n" result_count "\n" os_user)
 * — version 2 — or, for an entry that records a client address (the
 * console's), SHA-256(AUDIT_HASH_V3 "\n" prev_hash "\n" ts "\n" actor
 * "\n" command "\n" detail "\n" result_count "\n" U "\n" client), where
 * U is "=" os_user, or "-" when no OS user is recorded — version 3.
 * Removing, changing or reordering an entry, or adding, removing or
 * changing its OS user or client address, breaks the chain from that
 * point on; entries written before either was recorded verify as they
 * always did.
 * A keyed entry (version 4, audit.keyed = 1) is hashed with
 * HMAC-SHA256(key, AUDIT_HASH_V4 "\n" prev_hash "\n" ts "\n" actor "\n"
 * command "\n" detail "\n" result_count "\n" U "\n" C), U and C each
 * "=" and the OS user / client address, or "-" when not recorded. The key
 * is the audit key outside the database (audithead.h, the same file that
 * MACs the heads bags record), so whoever can write the store but not
 * read the key cannot recompute a chain that passes: every entry up to
 * the newest keyed one is bound by it. The marker is a column, not a
 * prefix on the hash, so that hash stays 64 hex digits wherever it goes
 * (prev_hash, heads in bags, status, /metrics) and entries of versions
 * 1-3 verify unchanged.
 * A process that cannot read the key (a user without access to the
 * secrets directory) appends unkeyed entries rather than failing. Such
 * an entry after the first keyed one is also what someone without the
 * key could forge (delete or rewrite the entries after the last keyed
 * one, recompute them unkeyed), so store_audit_verify_ex counts them and
 * `audit --verify` fails on them unless told to accept them.
 * Removing the newest entries, or rewriting the whole log unkeyed, shows
 * only against a head kept elsewhere: each monthly bag records one,
 * MACed with the same key (audithead.h).
 */
#ifndef CV_STORE_AUDIT_H
#define CV_STORE_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* The prev_hash of the first entry. */
#define AUDIT_GENESIS                                                          \
	"0000000000000000000000000000000000000000000000000000000000000000"
/* The first line of a version 2 hash input. */
#define AUDIT_HASH_V2 "callvault-audit-v2"
#define AUDIT_HASH_V3 "callvault-audit-v3"
#define AUDIT_HASH_V4 "callvault-audit-v4"
/* The audit key's length in bytes (AUDITHEAD_KEY_LEN). */
#define AUDIT_KEY_LEN 32

struct audit_entry {
	int64_t id;
	int64_t ts;           /* epoch ms */
	const char *actor;    /* who it was done for: --actor, the console
				   user; else the OS user */
	const char *os_user;  /* the OS user of the process that wrote
				   it (from the uid); NULL = not recorded */
	const char *client;   /* the client address of a console request
				   (behind trusted proxies, the real one);
				   NULL = not recorded */
	const char *command;  /* "search", "show", "export", "hold add", … */
	const char *detail;   /* JSON text: query, filters, ids… */
	int64_t result_count; /* -1 when not applicable */
	const char *prev_hash;
	const char *hash;
	bool keyed; /* hash is version 4, an HMAC */
};

/*
 * Append an entry (inside the caller's transaction when one is open,
 * else in its own). detail must be JSON text (may be NULL = "{}").
 */
enum cv_err store_audit_append(struct store *s, const char *actor,
	const char *command, const char *detail, int64_t result_count,
	char **errmsg) CV_MUST_CHECK;

/*
 * Record os_user (borrowed: it must outlive s) in every entry s appends
 * from now on; NULL records none. The CLI sets the user its effective uid
 * names.
 */
void store_audit_set_os_user(struct store *s, const char *os_user);

/*
 * Record client (borrowed: it must outlive its use) in the entries s
 * appends from now on; NULL or "" records none. Returns the one set
 * before, so that a caller writing on another's behalf can put it back.
 */
const char *store_audit_set_client(struct store *s, const char *client);

/*
 * Key the entries s appends from now on (version 4) with key (borrowed,
 * AUDIT_KEY_LEN bytes: it must outlive s), and check keyed entries with
 * it; NULL appends unkeyed entries. Set once where a process opens its
 * stores, as store_audit_set_os_user.
 */
void store_audit_set_key(struct store *s, const unsigned char *key);

/* Compute an entry's hash from its fields and prev_hash: version 4 with
 * key when e->keyed (key must then be non-NULL), else version 3 when
 * e->client is set, version 2 when e->os_user is, else version 1. */
void store_audit_hash(const struct audit_entry *e, const unsigned char *key,
	char out[CV_SHA256_HEX]);

/* Walk entries in id order with optional filters (NULL/0 = any). */
struct audit_filter {
	int64_t from_ms, to_ms; /* inclusive; 0 = unbounded */
	const char *actor;
	const char *os_user;
	const char *command;
	const char *client;
	const char *location; /* entries about this location only: its
				   id in the detail (location, locationId,
				   filters.location, criteria.location) or
				   a call of it named there (id, ids,
				   callIds, criteria.calls) */
};
enum cv_err store_audit_each(struct store *s, const struct audit_filter *f,
	int (*fn)(const struct audit_entry *e, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

/* The newest entry's id and hash (0 and AUDIT_GENESIS when none). */
enum cv_err store_audit_head(struct store *s, int64_t *id,
	char hash[CV_SHA256_HEX], char **errmsg) CV_MUST_CHECK;
/* The hash of entry id; CV_ENOTFOUND when there is no such entry. */
enum cv_err store_audit_hash_of(struct store *s, int64_t id,
	char hash[CV_SHA256_HEX], char **errmsg) CV_MUST_CHECK;

/* What store_audit_verify_ex found along an intact chain. */
struct audit_verify_stats {
	int64_t checked;   /* entries walked */
	int64_t keyed;     /* of them keyed (version 4) */
	int64_t unchecked; /* keyed ones whose HMAC was not checked:
				   no key set (their links were) */
	int64_t first_keyed, last_keyed; /* ids; 0 = none */
	int64_t unkeyed_after;       /* unkeyed entries after the first keyed */
	int64_t first_unkeyed_after; /* the first of them; 0 = none */
	int64_t exposed;             /* unkeyed entries after the last keyed:
				   no keyed entry binds them */
};

/*
 * Check the whole chain, keyed entries with the key set on s (without
 * one, only their links; counted in unchecked). On a break returns
 * CV_EINTEGRITY, sets *bad_id to the first entry that does not verify and
 * *errmsg to why; the stats then cover the entries before it. Unkeyed
 * entries after keyed ones are counted, not an error: the caller decides.
 */
enum cv_err store_audit_verify_ex(struct store *s,
	struct audit_verify_stats *st, int64_t *bad_id,
	char **errmsg) CV_MUST_CHECK;

/*
 * store_audit_verify_ex, strict: CV_EINTEGRITY also for an unkeyed entry
 * after a keyed one (*bad_id the first), CV_ENOTFOUND when keyed entries
 * could not be checked for want of the key.
 */
enum cv_err store_audit_verify(struct store *s, int64_t *checked,
	int64_t *bad_id, char **errmsg) CV_MUST_CHECK;

#endif
