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
 * Removing the newest entries, or rewriting and recomputing the chain,
 * shows only against a head kept elsewhere: each monthly bag records
 * one, MACed with a key outside the store (audithead.h).
 */
#ifndef CV_STORE_AUDIT_H
#define CV_STORE_AUDIT_H

#include <stdint.h>

#include "store.h"

/* The prev_hash of the first entry. */
#define AUDIT_GENESIS \
	"0000000000000000000000000000000000000000000000000000000000000000"
/* The first line of a version 2 hash input. */
#define AUDIT_HASH_V2 "callvault-audit-v2"
#define AUDIT_HASH_V3 "callvault-audit-v3"

struct audit_entry {
	int64_t id;
	int64_t ts;             /* epoch ms */
	const char *actor;      /* who it was done for: --actor, the console
				   user; else the OS user */
	const char *os_user;    /* the OS user of the process that wrote
				   it (from the uid); NULL = not recorded */
	const char *client;     /* the client address of a console request
				   (behind trusted proxies, the real one);
				   NULL = not recorded */
	const char *command;    /* "search", "show", "export", "hold add", … */
	const char *detail;     /* JSON text: query, filters, ids… */
	int64_t result_count;   /* -1 when not applicable */
	const char *prev_hash;
	const char *hash;
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

/* Compute an entry's hash from its fields and prev_hash (version 3 when
 * e->client is set, else version 2 when e->os_user is). */
void store_audit_hash(const struct audit_entry *e, char out[CV_SHA256_HEX]);

/* Walk entries in id order with optional filters (NULL/0 = any). */
struct audit_filter {
	int64_t from_ms, to_ms; /* inclusive; 0 = unbounded */
	const char *actor;
	const char *os_user;
	const char *command;
	const char *client;
	const char *location;   /* entries about this location only: its
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

/*
 * Check the whole chain. On a break returns CV_EINTEGRITY, sets *bad_id to
 * the first entry that does not verify and *errmsg to why.
 */
enum cv_err store_audit_verify(struct store *s, int64_t *checked,
	int64_t *bad_id, char **errmsg) CV_MUST_CHECK;

#endif
