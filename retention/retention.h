/*
 * retention.h — archives, verify, purge and restore: the retention
 * module on top of the core. It reaches the database only through the
 * store's API (store_retention.h, store_holds.h, store_audit.h).
 */
#ifndef CV_RETENTION_H
#define CV_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "store/store.h"
#include "util.h"

/* ---- archive ---- */

/* The most files a bag may hold (a transcript per call, the five data
 * files): verify keeps a small entry per file within its memory bound,
 * and archive refuses a location-month that would need more. */
#define RETENTION_BAG_FILES_MAX 200000u

struct sitekey;

struct archive_opts {
	const char *out_dir;  /* archives go to out_dir/<location>/ */
	const char *storage;  /* or to this S3 target (storage.h) */
	bool storage_default; /* or to the default S3 target */
	const char *location; /* NULL = every location */
	const char *month;    /* "YYYY-MM": just this month */
	const char *through;  /* else every month up to this one */
	bool rebuild;         /* write lost or damaged archives of
				     the month again from the store */
	int level;            /* zstd level, 1..19 (0 = 3) */
	int threads;          /* zstd workers; 0 = none */
	const char *actor;    /* for the audit log */
	/* progress, or NULL: called every 1000 calls of a location-month
	 * and at its last (done == total), then once with final set when
	 * the month's archive is done or failed; the command draws it */
	void (*progress)(void *ctx, const char *location, const char *month,
		int64_t done, int64_t total, bool final);
	void *progress_ctx;
	const struct sitekey *key; /* signs each tag manifest; NULL: none */
	const char *tsa_url;       /* RFC 3161 timestamp authority, or NULL */
	const unsigned char *audit_key; /* MACs the audit head each bag
				     records (audithead.h); NULL: no MAC */
	enum sink_fault fault; /* tests: make the archive's sink fail */
	bool counted_spools;   /* tests: make the JSONL/CSV files and the
				  manifests twice instead of spooling them to
				  out_dir (spool.h); always so to S3 */
	int64_t now_ms;        /* tests: "now"; 0 = the clock */
};

/* What one location-month came to. */
struct archive_outcome {
	char location[260];
	char month[8];
	char path[4096]; /* empty when nothing was written */
	int seq;         /* 0 = the month, N = supplement N */
	int64_t calls, versions, events;
	uint64_t payload_bytes, size;
	char sha256[CV_SHA256_HEX];
	bool is_signed;      /* its tag manifest: signed by the key */
	bool timestamped;    /* and an RFC 3161 token kept */
	char tsa_error[512]; /* asked for a token, got none: why */
};

/*
 * Archive every location-month the options select. For each, fn is told
 * what was written (path set) or that nothing changed (path empty).
 * Stops at the first failure; archives finished before it stay. A failed
 * archive leaves no file and no record behind; what a killed run left
 * half published is finished or rolled back first. With o->rebuild,
 * each archive of the month whose file is lost or not the one recorded
 * is written again from the live store, when that gives the same bag
 * (CV_EINTEGRITY, naming why, when it cannot: calls purged or changed).
 */
enum cv_err archive_run(struct store *s, const struct archive_opts *o,
	void (*fn)(const struct archive_outcome *r, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

/* "YYYY-MM" -> [from, to) epoch ms; false when malformed. */
bool retention_month_bounds(const char *month, int64_t *from, int64_t *to);
/* The month n months before the one holding now_ms (n may be 0). */
void retention_month_back(int64_t now_ms, int n, char out[8]);
/* A file-name-safe form of an id: [A-Za-z0-9._-] kept, the rest %XX,
 * a leading dot escaped, "" -> "_none". Caller frees. */
char *retention_safe_name(const char *id);

/* SHA-256 (hex) of a whole file, streaming; false when unreadable. */
bool retention_file_sha256(const char *path, char out[CV_SHA256_HEX]);

/* ---- verify ---- */

struct verify_opts {
	bool deep;                   /* also compare with the store */
	struct store *store;         /* NULL: no store (record nothing) */
	FILE *out;                   /* one line per archive and per problem */
	const char *const *names;    /* shown for each path; NULL = the paths */
	const unsigned char *pubkey; /* the site key (32 bytes): every bag
				     must be signed by it; NULL: not
				     checked */
	const char *tsa_ca;          /* CA of timestamp authorities, or NULL:
				     tokens checked against the manifest
				     only */
};
/*
 * Verify archives: the outer SHA-256 against the .sha256 beside each,
 * every line of both manifests, Payload-Oxum, the tag manifest, and the
 * chain to the previous archive when it is present (a missing middle
 * archive is a chain break). Successful verifies are recorded in the
 * store when there is one. CV_EINTEGRITY when any archive is bad (each
 * bad file is named on o->out); other errors when verifying could not
 * be done at all.
 */
enum cv_err verify_archives(char *const *paths, size_t n,
	const struct verify_opts *o, char **errmsg) CV_MUST_CHECK;

/* An archive streamed in through a pipe (a remote bag): fd is its read
 * end; finish, called once everything was read, waits for the feeder
 * and gives the SHA-256 of the bytes it fed (false, *why set: the
 * transfer failed). */
struct verify_feed {
	int fd;
	bool (*finish)(void *arg, char sha256[CV_SHA256_HEX], char **why);
	void *arg;
};
/* The checks verify makes of one archive (with o->deep, the deep ones),
 * reading it once from the pipe, without a temp file; the outer SHA-256
 * is held to the store's record of name (its URL). Nothing is recorded
 * in the store: the caller decides. *bad gets the problems named. */
enum cv_err verify_fed(const char *name, const struct verify_feed *f,
	const struct verify_opts *o, int *bad, char **errmsg) CV_MUST_CHECK;

/* ---- purge ---- */

struct purge_opts {
	bool dry_run;
	const char *actor;
	FILE *out;
	int64_t now_ms; /* 0 = the clock */
};
struct purge_stats {
	int64_t purged, held, unarchived, unverified, within, no_policy;
	int64_t quarantine; /* quarantine rows past retention */
	int64_t media;      /* purged calls that had media */
};
/*
 * Remove calls past their location's retention policy that every
 * version of, and every recording and timed transcription of, is in a
 * verified archive (whose file is still there, unchanged) and that no
 * active hold covers; their media go with them (the blobs after the
 * commit). One transaction per
 * location-month, each with a disposal record in the audit log.
 */
enum cv_err purge_run(struct store *s, const struct purge_opts *o,
	struct purge_stats *st, char **errmsg) CV_MUST_CHECK;

/* ---- restore ---- */

struct restore_stats {
	int64_t calls, versions_added, versions_present, events;
	int64_t disposed;        /* calls not loaded: disposed of */
	int64_t events_disposed; /* their events, not loaded either */
	int64_t erasures;        /* erasures the bag carries */
	int64_t erased;          /* calls those removed from the store */
	int64_t erasures_held;   /* calls of them a hold kept */
	int64_t recordings_added, recordings_present, transcriptions;
	int64_t media_disposed; /* media files of disposed calls */
};
/* Verify an archive, then load its calls, versions and events back into
 * the store (versions with source `restore`), in one transaction, and its
 * recordings into the blob store (rows with source `restore`; a blob is
 * kept only when its bytes hash to what the bag recorded, and the blobs a
 * failed restore wrote are removed again). The
 * archive and its .sha256 are read once, into a private temp copy (0600,
 * in TMPDIR), which is what is verified and loaded: a file swapped
 * meanwhile changes nothing. An archive the store recorded (at that path)
 * must match its record. Calls with a tombstone (purged) stay out,
 * counted in st->disposed; the erasures the bag carries become
 * tombstones and remove the calls they name (unless held). */
enum cv_err restore_archive(struct store *s, const char *path,
	const char *actor, struct restore_stats *st,
	char **errmsg) CV_MUST_CHECK;
/* The same, the bag also required to be signed by pubkey (the site
 * key's 32 bytes) as verify requires it; NULL: as restore_archive. */
enum cv_err restore_archive_signed(struct store *s, const char *path,
	const char *actor, const unsigned char *pubkey,
	struct restore_stats *st, char **errmsg) CV_MUST_CHECK;

/* ---- the audit log against the archives ---- */

struct audit_against_stats {
	size_t bags;    /* *.tar.zst files found */
	int64_t heads;  /* archived heads the live log holds */
	int64_t bad;    /* bags whose head it does not (or bad) */
	int64_t newest; /* the newest head id held */
};
/*
 * Hold the live audit log to the chain head each bag under dirs
 * recorded (bag-info.txt's Callvault-Audit-Head): the log must still
 * have that entry with that hash (with key, the head's MAC must verify
 * first). Each failure is named on out ("<bag>: BAD audit log
 * truncated|rewritten…") and counted in st->bad; the caller verifies
 * the chain itself (store_audit_verify).
 */
enum cv_err audit_verify_against(struct store *s, char *const *dirs,
	size_t n_dirs, const unsigned char *key, FILE *out,
	struct audit_against_stats *st, char **errmsg) CV_MUST_CHECK;

/* The same for an archive in S3 (s3://BUCKET/KEY of client c's bucket),
 * streamed into the private copy: the version the store recorded at that
 * URL, which must have the recorded SHA-256; or, for an archive this
 * store did not write (another instance's), the current version, checked
 * by its own manifests and tag manifest. */
struct s3;
enum cv_err restore_archive_s3(struct store *s, struct s3 *c, const char *url,
	const char *actor, const unsigned char *pubkey,
	struct restore_stats *st, char **errmsg) CV_MUST_CHECK;

/* ---- search in archives (archsearch.c) ---- */

struct store_search_opts;
struct store_hit;
/*
 * Run the search so in each archive of paths: verified and loaded, as
 * restore does, into a private temporary store removed afterwards; fn
 * gets each hit with its archive. An archive that does not verify stops
 * the run (its error). so's limit applies per archive.
 */
enum cv_err archsearch_run(char *const *paths, size_t n,
	const struct store_search_opts *so,
	int (*fn)(const char *archive, const struct store_hit *h, void *arg),
	void *arg, char **errmsg) CV_MUST_CHECK;
/* The archive's file under dir (dir/<location dir>/<file>) for the path
 * the store recorded. Caller frees. */
char *archsearch_path(const char *dir, const char *recorded);

/* Tests: called between verifying and loading (NULL in the program). */
extern void (*restore_test_after_verify)(const char *path);

#endif
