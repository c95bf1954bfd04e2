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
	STORE_READONLY = 1 << 0, /* open an existing store for reading */
	STORE_NOCREATE = 1 << 1, /* fail when the file does not exist */
	/*
	 * A command that reads once and exits (search, export, stats,
	 * status, audit): a page cache of STORE_ONESHOT_CACHE_KIB (about
	 * 30 pages with SQLite's overhead) instead of 16 MB, set once any
	 * migration has run. Such a process reads most pages once, and
	 * every page SQLite caches is fresh memory whose first touch is a
	 * page fault, ~11 µs on the VMs measured, against ~2 µs to read a
	 * page again from the OS's cache; a small cache reuses memory
	 * already touched and keeps what is read again (the b-trees' upper
	 * pages) by LRU. Not for serve, whose long-lived connections keep
	 * a warm cache, nor for writers in bulk, whose dirty pages would
	 * spill, nor for check, whose integrity check reads pages again
	 * and again (73 s -> 103 s on 1M calls).
	 */
	STORE_ONESHOT = 1 << 2,
};
#define STORE_ONESHOT_CACHE_KIB 128

/* The path the store was opened with (the blob store lies beside it). */
const char *store_db_path(const struct store *s);

/* A path that opens a private store in memory, gone at close (tests). */
#define STORE_MEMORY ":memory:"

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
/* Inside a transaction of store_begin's: whether a short writer (a
 * search's audit entry, a console action: any connection not in bulk
 * mode, in any process) waits for its turn behind this one. A long batch
 * (serve's group commit) commits what it has and lets it in; a bulk
 * writer waiting (import, sync) does not count, or serve's group commits
 * would shrink to an event each while one runs. */
bool store_short_writer_waiting(struct store *s);
/* Refuse to grow the database file past about max_bytes (0 = no limit):
 * writes then fail as a full disk does (CV_EIO). serve and sync take it
 * as --max-store-mb. */
void store_set_size_limit(struct store *s, int64_t max_bytes);
/* The database's size in bytes (its pages; the -wal file apart). */
int64_t store_db_bytes(struct store *s);
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
enum cv_err store_set_bulk(struct store *s, bool on,
	char **errmsg) CV_MUST_CHECK;
/*
 * A page cache of at most kib KiB for this connection (16 MB by
 * default; STORE_ONESHOT_CACHE_KIB with STORE_ONESHOT): for a command
 * whose peak RSS is bounded, such as archive. store_set_bulk sets its
 * own sizes.
 */
enum cv_err store_set_cache(struct store *s, int kib,
	char **errmsg) CV_MUST_CHECK;

/* Where a version came from. */
enum store_source { SRC_API, SRC_WEBHOOK, SRC_IMPORT, SRC_RESTORE };
const char *store_source_name(enum store_source src);
bool store_source_parse(const char *name, enum store_source *out);

/*
 * How a version was authenticated, and so how far it is trusted (see
 * store_cred_rank). CRED_UNRECORDED is a webhook version from a store or
 * archive that did not record the scheme.
 */
enum store_cred {
	CRED_UNRECORDED,
	CRED_IMPORT,        /* a file an operator imported: no credential */
	CRED_HEADER_SECRET, /* workflow action with a secret header */
	CRED_HMAC,          /* X-HighLevel-Signature, shared secret */
	CRED_RSA,           /* x-wh-signature, HighLevel's legacy key */
	CRED_ED25519,       /* x-ghl-signature, HighLevel's app key */
	CRED_API,           /* pulled from the API by sync */
};
#define STORE_N_CRED (CRED_API + 1)
/* "ed25519", "rsa-legacy", "hmac", "header-secret", "api", "import";
 * "unrecorded" for CRED_UNRECORDED. */
const char *store_cred_name(enum store_cred a);
/* The name of a recorded kind (not "unrecorded"); false when unknown. */
bool store_cred_parse(const char *name, enum store_cred *out);
/*
 * Trust order: api 4 (the API settles disagreements), ed25519, rsa-legacy
 * and unrecorded webhooks 3, hmac 2, header-secret 1, import 0. A version
 * of lower rank than the current one never becomes current.
 */
int store_cred_rank(enum store_cred a);
/* The kind a source implies when nothing more is known: api, import;
 * CRED_UNRECORDED for webhook and restore. */
enum store_cred store_cred_default(enum store_source src);

/* The payload a record arrived in: its exact bytes and their hash. */
struct store_payload {
	enum store_source source;
	enum store_cred auth; /* store_cred_default(source) unless set */
	bool replay;          /* restore: each archived version is a
				     version of its own, even one that
				     repeats an older or the current one */
	int64_t received_at;  /* epoch ms; 0 = now */
	const void *bytes;    /* exact bytes as received */
	size_t len;
	char sha256[CV_SHA256_HEX]; /* filled by store_payload_init */
	bool withhold;              /* contains secrets: keep only the hash */
	bool stored;                /* internal: already written */
};
void store_payload_init(struct store_payload *p, enum store_source src,
	const void *bytes, size_t len);
/* The same, with the bytes' SHA-256 (hex) already computed by the caller. */
void store_payload_init_hashed(struct store_payload *p, enum store_source src,
	const void *bytes, size_t len, const char *sha256_hex);

enum store_ingest_result {
	INGEST_NEW,
	INGEST_UPDATED,
	INGEST_UNCHANGED,
	INGEST_KEPT,     /* a new version, not current: lower trust */
	INGEST_DISPOSED, /* the call was disposed of (tombstone): dropped */
	INGEST_REFUSED,  /* new call from a source that may not create
			     calls in its location: nothing stored */
};

/*
 * Store one call log delivery inside the caller's transaction.
 *  - A call with a tombstone is dropped (INGEST_DISPOSED).
 *  - A new call whose location's trust policy does not let p->auth
 *    create calls is refused (INGEST_REFUSED); the caller quarantines it.
 *  - A delivery whose canonical form equals the current version only
 *    bumps last_seen (INGEST_UNCHANGED).
 *  - One of lower trust than the current version becomes a version that
 *    is not current, noted as such (INGEST_KEPT), unless the call already
 *    has a version with that content (INGEST_UNCHANGED).
 *  - Otherwise it becomes a new version and the current one.
 * Versions are never overwritten. The raw payload is kept once (withheld,
 * hash only, when the record had secrets scrubbed).
 */
enum cv_err store_ingest_call(struct store *s, const struct calllog *c,
	struct store_payload *p, enum store_ingest_result *res,
	char **errmsg) CV_MUST_CHECK;

/*
 * Whether a call was disposed of: by call id, or (id NULL) by the
 * messageId of a disposed call. *out false when neither is known.
 */
enum cv_err store_tombstoned(struct store *s, const char *call_id,
	const char *message_id, bool *out, char **errmsg) CV_MUST_CHECK;
struct store_tombstone {
	const char *call_id, *location_id, *reason;
	int64_t disposed_at;
};
/* The tombstone of a call; CV_ENOTFOUND when it has none. Strings are
 * valid during fn only. */
enum cv_err store_get_tombstone(struct store *s, const char *call_id,
	void (*fn)(const struct store_tombstone *t, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

/*
 * Which authentication kinds may create calls in a location (location ""
 * = the default, for locations without a policy of their own). mask has
 * bit (1 << auth) set per kind allowed; without any policy every kind
 * may. Updates to calls that exist are not limited by it.
 */
enum cv_err store_trust_set(struct store *s, const char *location,
	unsigned mask, const char *actor, char **errmsg) CV_MUST_CHECK;
/* Remove a location's policy (CV_ENOTFOUND when it had none). */
enum cv_err store_trust_unset(struct store *s, const char *location,
	char **errmsg) CV_MUST_CHECK;
struct store_trust_policy {
	const char *location; /* "" = the default */
	unsigned mask;
	int64_t set_at;
	const char *set_by;
};
enum cv_err store_trust_each(struct store *s,
	int (*fn)(const struct store_trust_policy *p, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;
/*
 * The replay window: webhook bodies whose own `timestamp` is more than
 * max_age_ms before their arrival are refused (0 = no window, the
 * default). get gives 0 when it was never set.
 */
enum cv_err store_trust_set_max_age(struct store *s, int64_t max_age_ms,
	const char *actor, char **errmsg) CV_MUST_CHECK;
enum cv_err store_trust_max_age(struct store *s, int64_t *max_age_ms,
	char **errmsg) CV_MUST_CHECK;

/* "ed25519,api" from a mask, and back; parse returns false (naming the
 * bad word in *bad, static or pointing into list) for an unknown kind. */
char *store_trust_mask_str(unsigned mask);
bool store_trust_mask_parse(const char *list, unsigned *mask, char *bad,
	size_t bad_len);

/* Keep rejected input with its reason (inside or outside a transaction). */
enum cv_err store_quarantine(struct store *s, enum store_source src,
	const void *raw, size_t len, const char *reason,
	char **errmsg) CV_MUST_CHECK;
/* The same; *added says whether the row is new (the same bytes with the
 * same reason are kept once). */
enum cv_err store_quarantine_row(struct store *s, enum store_source src,
	const void *raw, size_t len, const char *reason, bool *added,
	char **errmsg) CV_MUST_CHECK;

/* One call as stored (current version). Strings owned by the struct. */
struct store_call {
	int64_t rid;
	struct calllog log; /* parsed from the current canonical JSON */
	char *agent_name;   /* from agents when known, else NULL */
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
	const char *raw_sha256;  /* SHA-256 of the payload as received */
	bool raw_kept;           /* false when withheld (secrets) */
	int redacted;            /* secrets replaced before storing */
	enum store_cred auth;    /* how it was authenticated */
	bool current;            /* the call's current version */
	const char *not_current; /* why it never became current (lower
				     trust), NULL when it did */
};
/* Call fn for each version of the call, oldest first; a non-zero return
 * from fn stops the walk and is returned as CV_EINVAL. */
enum cv_err store_each_version(struct store *s, const char *call_id,
	int (*fn)(const struct store_version *v, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

struct store_count_row {
	char key[128]; /* location id or "YYYY-MM" */
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
