/*
 * store.h — the SQLite store: calls, their versions, raw payloads,
 * quarantine and the FTS5 index. Opaque; SQLite is used only under
 * src/store/.
 *
 * Every function returns enum cv_err; on failure *errmsg (when errmsg is
 * non-NULL) gets a message the caller frees.
 */
#ifndef CV_STORE_H
#define CV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../calllog.h"
#include "../common.h"

struct store;

enum store_flags {
	STORE_READONLY = 1 << 0,  /* open an existing store for reading */
	STORE_NOCREATE = 1 << 1,  /* fail when the file does not exist */
};

/* Open (creating and migrating when needed) the store at path. */
enum cv_err store_open(struct store **out, const char *path, int flags,
	char **errmsg) CV_MUST_CHECK;
/* Close; NULL is fine. An open transaction is rolled back. */
void store_close(struct store *s);
/* Schema version (PRAGMA user_version) and the newest known. */
int store_schema_version(struct store *s);
int store_schema_latest(void);

/* Transactions. begin is BEGIN IMMEDIATE (waits up to the busy bound). */
enum cv_err store_begin(struct store *s, char **errmsg) CV_MUST_CHECK;
enum cv_err store_commit(struct store *s, char **errmsg) CV_MUST_CHECK;
void store_rollback(struct store *s);
/* Refuse to grow the database file past about max_bytes (0 = no limit):
 * writes then fail as a full disk does (CV_EIO). serve and sync take it
 * as --max-store-mb. */
void store_set_size_limit(struct store *s, int64_t max_bytes);
/* Whether a transaction is open on s: false after store_begin when a
 * failed statement (disk full, I/O error) made SQLite roll it back. */
bool store_tx_active(struct store *s);
/* Size in bytes of the store's -wal file: 0 when there is none, -1 when
 * it cannot be read. */
int64_t store_wal_bytes(struct store *s);
/* Milliseconds to wait for a lock before CV_EBUSY (default 5000). */
void store_set_busy_timeout(struct store *s, int ms);

/*
 * Bulk mode for long imports: the WAL is checkpointed less often (every
 * 64 MiB instead of 4 MiB) and the page cache is 30 MB instead of 16.
 * Commits stay synchronous=FULL. Call outside a transaction.
 */
enum cv_err store_set_bulk(struct store *s, bool on, char **errmsg)
	CV_MUST_CHECK;

/* Where a version came from. */
enum store_source { SRC_API, SRC_WEBHOOK, SRC_IMPORT, SRC_RESTORE };
const char *store_source_name(enum store_source src);
bool store_source_parse(const char *name, enum store_source *out);

/* The payload a record arrived in: its exact bytes and their hash. */
struct store_payload {
	enum store_source source;
	int64_t received_at;      /* epoch ms; 0 = now */
	const void *bytes;        /* exact bytes as received */
	size_t len;
	char sha256[CV_SHA256_HEX]; /* filled by store_payload_init */
	bool withhold;            /* contains secrets: keep only the hash */
	bool stored;              /* internal: already written */
};
void store_payload_init(struct store_payload *p, enum store_source src,
	const void *bytes, size_t len);
/* The same, with the bytes' SHA-256 (hex) already computed by the caller. */
void store_payload_init_hashed(struct store_payload *p,
	enum store_source src, const void *bytes, size_t len,
	const char *sha256_hex);

enum store_ingest_result { INGEST_NEW, INGEST_UPDATED, INGEST_UNCHANGED };

/*
 * Store one call log delivery inside the caller's transaction. A delivery
 * whose canonical form equals the current version only bumps last_seen;
 * a different one becomes a new version and the current one; versions are
 * never overwritten. The raw payload is kept once (withheld, hash only,
 * when the record had secrets scrubbed).
 */
enum cv_err store_ingest_call(struct store *s, const struct calllog *c,
	struct store_payload *p, enum store_ingest_result *res,
	char **errmsg) CV_MUST_CHECK;

/* Keep rejected input with its reason (inside or outside a transaction). */
enum cv_err store_quarantine(struct store *s, enum store_source src,
	const void *raw, size_t len, const char *reason, char **errmsg)
	CV_MUST_CHECK;

/* One call as stored (current version). Strings owned by the struct. */
struct store_call {
	int64_t rid;
	struct calllog log;       /* parsed from the current canonical JSON */
	char *agent_name;         /* from agents when known, else NULL */
	int64_t version_id;
	int n_versions;
	int64_t first_seen, last_seen, updated_at;
};
void store_call_finish(struct store_call *c);
/* CV_ENOTFOUND when there is no such call. */
enum cv_err store_get_call(struct store *s, const char *id,
	struct store_call *out, char **errmsg) CV_MUST_CHECK;

struct store_version {
	int64_t id;
	int seq;
	enum store_source source;
	int64_t received_at;
	const char *canonical;
	const char *canonical_sha256;
	const char *raw_sha256;   /* SHA-256 of the payload as received */
	bool raw_kept;            /* false when withheld (secrets) */
	int redacted;             /* secrets replaced before storing */
};
/* Call fn for each version of the call, oldest first; a non-zero return
 * from fn stops the walk and is returned as CV_EINVAL. */
enum cv_err store_each_version(struct store *s, const char *call_id,
	int (*fn)(const struct store_version *v, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

struct store_count_row {
	char key[128];            /* location id or "YYYY-MM" */
	int64_t calls;
};
struct store_stats {
	int64_t calls, versions, quarantined, payloads, events;
	int64_t first_created, last_created; /* 0 when empty */
	size_t n_locations, n_months;
	struct store_count_row *locations, *months;
};
enum cv_err store_stats(struct store *s, struct store_stats *out,
	char **errmsg) CV_MUST_CHECK;
void store_stats_finish(struct store_stats *st);

struct store_quarantine_row {
	int64_t id;
	enum store_source source;
	int64_t received_at;
	const char *reason;
	size_t size;
};
enum cv_err store_each_quarantine(struct store *s,
	int (*fn)(const struct store_quarantine_row *q, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

/* PRAGMA integrity_check and the FTS5 integrity-check; CV_EINTEGRITY with
 * the first problem in *errmsg when either fails. */
enum cv_err store_check(struct store *s, char **errmsg) CV_MUST_CHECK;

/* The digits of phone-number-like spans in text, for the digit index:
 * "+1 (555) 010-2030, card 4242" -> "15550102030 4242". Caller frees. */
char *store_digit_spans(const char *text);

#endif
