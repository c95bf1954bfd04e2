/*
 * subject.h — data-subject requests: erasure of one person's calls from
 * the live store, and a verifiable package of everything the store holds
 * about them (subject access). Both are audited. Built into
 * callvault-full: the package is written with retention/'s tar.zst
 * writer.
 */
#ifndef CV_SUBJECT_H
#define CV_SUBJECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "hash.h"
#include "store/store.h"
#include "store/store_subject.h"

/* Calls erased per transaction. */
#define SUBJECT_BATCH 500
/* Bounds on what the operator writes into the audit log and tombstones. */
#define SUBJECT_REQUEST_MAX 200
#define SUBJECT_REASON_MAX 1000
/* How long an erase waits for the store's write lock (ms). */
#define SUBJECT_BUSY_MS 30000

struct subject_erase_opts {
	/* the person (contact or number, optionally a time range), or ... */
	const struct store_subject_sel *sel;
	/* ... these calls (sel is then NULL) */
	char *const *call_ids;
	size_t n_call_ids;
	const char *request_id; /* the request being served (required) */
	const char *reason;     /* why (required) */
	const char *actor;
	bool dry_run;   /* say what would happen, write nothing */
	FILE *out;      /* the report, one line per call */
	int64_t now_ms; /* tests: "now"; 0 = the clock */
	/* the erasure key's file (subject_key.h), made by the first erasure
	 * of a contact or number; NULL: tombstones keep no keyed hash */
	const char *key_path;
	const struct tz *zone; /* times in the report; NULL = UTC */
};

struct subject_erase_stats {
	int64_t matched;  /* calls the selection found */
	int64_t erased;   /* removed (dry run: would be) */
	int64_t held;     /* kept: an active hold covers them */
	int64_t missing;  /* --call ids the store does not hold */
	int64_t archives; /* archives that still hold erased calls */
};

/*
 * Erase the selected calls: each one no active hold covers is removed
 * from the live store as purge removes a call (row, versions, raw
 * payloads nothing else references, webhook events, fetch queue, index
 * rows) and leaves a tombstone "erasure: request R" holding, for a
 * contact or number, the keyed hash of it (subject_key.h; earlier
 * erasures with the same hash are reported), SUBJECT_BATCH calls
 * per transaction, each transaction with its audit entry (request,
 * reason, counts, call ids; no content). Held calls stay and are named
 * with their holds. Nothing matched: nothing written. CV_EINVAL for a
 * missing or unprintable request id or reason.
 */
enum cv_err subject_erase(struct store *s, const struct subject_erase_opts *o,
	struct subject_erase_stats *st, char **errmsg) CV_MUST_CHECK;

struct sitekey;

struct subject_export_opts {
	const struct store_subject_sel *sel;
	const char *out_path; /* FILE.tar.zst, written atomically, 0600 */
	const char *actor, *os_user;
	int64_t now_ms;            /* tests: "now"; 0 = the clock */
	const struct sitekey *key; /* signs the package; NULL: unsigned */
};

struct subject_export_stats {
	int64_t calls, versions, recordings;
	bool is_signed;
	uint64_t size;              /* of the .tar.zst */
	char sha256[CV_SHA256_HEX]; /* of the .tar.zst */
};

/*
 * Write every call sel selects as an evidence-format package
 * (retention/evidence.h) under subject-access/ at o->out_path: each
 * call's versions (canonical JSON, source, received time, SHA-256 of the
 * bytes as received), transcript and events, a load file and a custody
 * report, from one read snapshot, and audit it. No calls: nothing
 * written, st->calls 0. More than EVPKG_MAX_CALLS: CV_ETOOBIG.
 */
enum cv_err subject_export(struct store *s, const struct subject_export_opts *o,
	struct subject_export_stats *st, char **errmsg) CV_MUST_CHECK;

/* Whether s is a valid request id or reason: non-empty, UTF-8, no control
 * characters, at most max bytes. */
bool subject_text_ok(const char *s, size_t max);

#endif
