/*
 * store_status.h — is the archive working? What `callvault status` and
 * /metrics show: per location the last sync and its error, calls stored;
 * the webhook fetch queue; the WAL; the last archive and verify per
 * location and month. And `callvault backup`: a verified online copy.
 */
#ifndef CV_STORE_STATUS_H
#define CV_STORE_STATUS_H

#include <stdint.h>

#include "store.h"

struct store_status_location {
	char *id;
	bool registered;       /* in `location list` (sync pulls it) */
	int64_t calls;         /* calls stored for it */
	int64_t last_run_at;   /* epoch ms; 0 = never */
	int64_t last_ok_at;    /* last sync that succeeded; 0 = never */
	int64_t checkpoint_ms; /* every call created before is stored */
	char *last_error;      /* of the last run; NULL when it succeeded */
	int64_t queued;        /* fetches a webhook announced, waiting */
	int64_t behind;        /* calls the API held in the last sync's
				     range that the store does not; -1 =
				     unknown (no sync, or no usable total) */
	int64_t behind_at;     /* epoch ms the API said so; 0 = never */
};

struct store_status_archive {
	char *location_id;        /* "" for calls without a location */
	char month[8];            /* YYYY-MM */
	int64_t bags;             /* the month and its supplements */
	int64_t last_written_at;  /* epoch ms */
	int64_t last_verified_at; /* 0 = never */
	int64_t unverified;       /* bags never verified since written */
};

struct store_status {
	int64_t calls;
	int64_t queue_depth;     /* fetch_queue rows */
	int64_t queue_oldest_at; /* epoch ms of the oldest; 0 when empty */
	int64_t queue_failing;   /* rows whose last fetch failed */
	int64_t wal_bytes;       /* -wal file size; -1 unknown */
	int64_t db_bytes;        /* database file size; -1 unknown */
	size_t n_locations, n_archives;
	struct store_status_location *locations; /* by id */
	struct store_status_archive *archives;   /* by location, month */
};

/* Read the status in one read transaction. *out is always initialised;
 * free it with store_status_finish. */
enum cv_err store_status_read(struct store *s, struct store_status *out,
	char **errmsg) CV_MUST_CHECK;
void store_status_finish(struct store_status *st);

/* What a backup held, from the snapshot it copied. */
struct store_backup_counts {
	int64_t calls, versions, payloads, events, audit;
	int64_t bytes; /* size of the copy */
};

/*
 * Copy the store, as of one snapshot taken while other connections keep
 * working, to out_path (owner-only, 0600): SQLite's backup API into a
 * temporary file beside it, fsynced; then the copy is opened and must
 * pass PRAGMA integrity_check and hold the snapshot's row counts before
 * it is renamed into place (and the directory fsynced). An existing
 * out_path is refused (CV_EINVAL). On failure nothing is left at
 * out_path; CV_EINTEGRITY when the copy did not verify.
 *
 * before_publish (NULL: none) runs on the verified copy, at its
 * temporary path, before it is renamed into place: what else belongs to
 * the backup (the blobs its rows name) is written then, so a visible
 * backup is whole. Its failure fails the backup.
 */
typedef enum cv_err (
	*store_backup_hook)(const char *copy_path, void *arg, char **errmsg);
enum cv_err store_backup(struct store *s, const char *out_path,
	store_backup_hook before_publish, void *arg,
	struct store_backup_counts *counts, char **errmsg) CV_MUST_CHECK;

#endif
