/*
 * evidence.h — verifiable packages of selected calls: the evidence
 * package (`callvault evidence export`: the calls of a hold or a search,
 * for counsel, a regulator or a court) and the subject-access package
 * (`callvault subject export`) are one format, written here
 * (docs/evidence.md):
 *
 *   ROOT/bagit.txt, bag-info.txt, manifest-sha256.txt,
 *   ROOT/tagmanifest-sha256.txt
 *   ROOT/data/calls/<callId>/versions.jsonl   every version, as received
 *   ROOT/data/calls/<callId>/transcript.txt
 *   ROOT/data/calls/<callId>/events.jsonl     its webhook events
 *   ROOT/data/recordings/<callId>.wav         (when recordings exist)
 *   ROOT/data/loadfile.csv                    one row per call
 *   ROOT/data/custody-report.html             chain of custody, printable
 *
 * a BagIt bag (RFC 8493) in a tar.zst with FILE.sha256 beside it, so tar,
 * zstd and sha256sum check it without callvault. Files are streamed into
 * the tar as each call is read: memory does not grow with call sizes.
 */
#ifndef CV_EVIDENCE_H
#define CV_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "hash.h"
#include "search.h"
#include "store/store.h"

/* Calls per package at most (verify reads at most 200,000 files a bag:
 * three per call, a fourth with recordings). */
#define EVPKG_MAX_CALLS 50000

struct sitekey;

struct evpkg_opts {
	const char *root;      /* the bag's directory in the tar */
	const char *title;     /* the report's title */
	const char *out_path;  /* FILE.tar.zst: atomic, 0600, never
				     replaced */
	const char *selection; /* for people: what chose the calls */
	const char *bag_info;  /* "Key: value\n" lines the bag adds */
	const char *reason;    /* why (NULL: not given) */
	const char *tz;        /* times shown in this zone (NULL: UTC) */
	const char *actor, *os_user;
	/* the audit entry: its command and the start of its detail (a JSON
	 * object without its closing brace; file, sha256, counts and the
	 * call ids are added) */
	const char *audit_command, *audit_detail;
	int64_t now_ms;            /* tests: "now"; 0 = the clock */
	const struct sitekey *key; /* signs the tag manifest; NULL: none */
	const char *tsa_url;       /* RFC 3161 timestamp over it, or NULL */
};

struct evpkg_stats {
	int64_t calls, versions, events;
	int64_t recordings;         /* audio files, exactly as received */
	uint64_t size;              /* of the .tar.zst */
	char sha256[CV_SHA256_HEX]; /* of the .tar.zst */
	bool is_signed;             /* its tag manifest: signed by the key */
	bool stamped;               /* and timestamped */
	char tsa_error[512];        /* a timestamp was asked for: why none */
};

/*
 * Write the n calls ids names (in that order) as a package at
 * o->out_path, with FILE.sha256 beside it, from one read snapshot, and
 * audit it (a failed audit removes the files). Ids the store no longer
 * holds are left out. n == 0: nothing written. CV_ETOOBIG past
 * EVPKG_MAX_CALLS.
 */
enum cv_err evpkg_write(struct store *s, const struct evpkg_opts *o,
	char *const *ids, size_t n, struct evpkg_stats *st,
	char **errmsg) CV_MUST_CHECK;

/* What an evidence export selects: a hold's calls, or a search's. */
struct evidence_opts {
	int64_t hold_id;   /* 0: the query and filters */
	const char *query; /* search's grammar ("" = filters only) */
	const struct search_filter_arg *filters; /* SFK_N values as given */
	const char *reason;                      /* required */
	const char *out_path;
	const char *tz; /* the load file's and report's zone */
	const char *actor, *os_user;
	int64_t now_ms;
	const struct sitekey *key; /* signs the package; NULL: unsigned */
	const char *tsa_url;       /* RFC 3161 timestamp, or NULL */
};

/*
 * Select the calls (the hold's, evaluated now; or the search's, every
 * match) and write them with evpkg_write. Nothing selected: nothing
 * written, st->calls 0. CV_EPARSE/CV_EINVAL for a query or filter that
 * does not parse (the parser's message), CV_ENOTFOUND for no such hold.
 */
enum cv_err evidence_export(struct store *s, const struct evidence_opts *o,
	struct evpkg_stats *st, char **errmsg) CV_MUST_CHECK;

/* ---- evidence_report.c ---- */

/* One call as the report shows it (valid during evreport_call). */
struct evpkg_version {
	int seq;
	const char *source, *trust; /* trust NULL: not recorded */
	int64_t received_at;
	char raw_sha256[CV_SHA256_HEX];
};
enum {
	EVPKG_F_VERSIONS,
	EVPKG_F_TRANSCRIPT,
	EVPKG_F_EVENTS,
	EVPKG_F_RECORDING,
	EVPKG_F_TIMED,
	EVPKG_F_N
};
struct evpkg_call {
	const char *id, *location, *agent, *number;
	int64_t created_at;
	size_t n_versions, n_events;
	const struct evpkg_version *v;
	/* each file's path in the bag and SHA-256; NULL: none */
	const char *path[EVPKG_F_N], *sha256[EVPKG_F_N];
};
struct evreport;

/* Start the report (title, who, when, why, what chose the calls). */
struct evreport *evreport_create(const struct evpkg_opts *o,
	const char *store_path, int64_t now_ms);
/* One call: where and when each version came from, its files. */
void evreport_call(struct evreport *r, const struct evpkg_call *c);
/* Add who searched for or opened the calls (audit entries naming them),
 * then the stock-tool commands that verify the package, and free r.
 * Returns the page as an unlinked temp file, at its start (caller
 * fcloses); NULL on failure, or at once (only freeing r) when s is NULL. */
FILE *evreport_finish(struct evreport *r, struct store *s,
	const char *package_name, char **errmsg);

#endif
