/* store_status.c — `callvault status` and /metrics; see store_status.h */
#include "store_int.h"
#include "store_status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../util.h"

/* Every location anything knows of: registered for sync, synced once,
 * holding calls, or waiting in the fetch queue. Calls per location read
 * the calls_location index, not the table. */
static const char loc_sql[] =
	"WITH ids(id) AS ("
	"  SELECT id FROM locations UNION SELECT location_id FROM sync_state"
	"  UNION SELECT location_id FROM fetch_queue"
	"  UNION SELECT DISTINCT location_id FROM calls"
	"   WHERE location_id IS NOT NULL)"
	" SELECT i.id, l.id IS NOT NULL,"
	"  (SELECT count(*) FROM calls c WHERE c.location_id = i.id),"
	"  coalesce(s.last_run_at, 0), coalesce(s.last_ok_at, 0),"
	"  coalesce(s.checkpoint_ms, 0), s.last_error,"
	"  (SELECT count(*) FROM fetch_queue q WHERE q.location_id = i.id),"
	/* calls behind: what the API said the last sync's range held,
	 * less the calls stored in that range now (webhooks and later
	 * syncs count); -1 when no total is known */
	"  CASE WHEN s.listed_total IS NULL THEN -1 ELSE max(0,"
	"   s.listed_total - (SELECT count(*) FROM calls c"
	"    WHERE c.location_id = i.id"
	"    AND c.created_at BETWEEN s.listed_from AND s.listed_to)) END,"
	"  coalesce(s.listed_at, 0)"
	" FROM ids i LEFT JOIN locations l ON l.id = i.id"
	" LEFT JOIN sync_state s ON s.location_id = i.id ORDER BY i.id";

static const char arch_sql[] =
	"SELECT location_id, month, count(*), max(written_at),"
	" coalesce(max(verified_at), 0),"
	" sum(verified_at IS NULL OR verified_at < written_at)"
	" FROM archives GROUP BY location_id, month"
	" ORDER BY location_id, month";

static const char queue_sql[] = "SELECT count(*), coalesce(min(queued_at), 0),"
				" count(last_error) FROM fetch_queue";

static void location_row(sqlite3_stmt *st, void *elem)
{
	struct store_status_location *l = elem;
	l->id = store_col_dup(st, 0);
	l->registered = sqlite3_column_int(st, 1) != 0;
	l->calls = sqlite3_column_int64(st, 2);
	l->last_run_at = sqlite3_column_int64(st, 3);
	l->last_ok_at = sqlite3_column_int64(st, 4);
	l->checkpoint_ms = sqlite3_column_int64(st, 5);
	l->last_error = store_col_dup(st, 6);
	l->queued = sqlite3_column_int64(st, 7);
	l->behind = sqlite3_column_int64(st, 8);
	l->behind_at = sqlite3_column_int64(st, 9);
}

static void locations_drop(void *v, size_t n)
{
	struct store_status_location *l = v;
	for (size_t i = 0; i < n; i++) {
		free(l[i].id);
		free(l[i].last_error);
	}
	free(v);
}

static void archive_row(sqlite3_stmt *st, void *elem)
{
	struct store_status_archive *a = elem;
	a->location_id = store_col_dup(st, 0);
	const unsigned char *m = sqlite3_column_text(st, 1);
	snprintf(a->month, sizeof(a->month), "%s", m ? (char *)m : "");
	a->bags = sqlite3_column_int64(st, 2);
	a->last_written_at = sqlite3_column_int64(st, 3);
	a->last_verified_at = sqlite3_column_int64(st, 4);
	a->unverified = sqlite3_column_int64(st, 5);
}

static void archives_drop(void *v, size_t n)
{
	struct store_status_archive *a = v;
	for (size_t i = 0; i < n; i++)
		free(a[i].location_id);
	free(v);
}

static enum cv_err read_queue(struct store *s, struct store_status *o,
	char **errmsg)
{
	sqlite3_stmt *st = store_stmt(s, queue_sql, errmsg);
	if (!st)
		return CV_EDB;
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		o->queue_depth = sqlite3_column_int64(st, 0);
		o->queue_oldest_at = sqlite3_column_int64(st, 1);
		o->queue_failing = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "status");
}

enum cv_err store_status_read(struct store *s, struct store_status *out,
	char **errmsg)
{
	memset(out, 0, sizeof(*out));
	struct stat st;
	out->db_bytes = stat(s->path, &st) == 0 ? (int64_t)st.st_size : -1;
	out->wal_bytes = store_wal_bytes(s);
	/* one snapshot for every figure */
	enum cv_err rc = store_exec(s, "BEGIN", errmsg);
	if (rc == CV_OK)
		rc = store_scalar_int(s, "SELECT count(*) FROM calls",
			&out->calls, errmsg);
	if (rc == CV_OK)
		rc = read_queue(s, out, errmsg);
	void *locations = NULL, *archives = NULL;
	if (rc == CV_OK)
		rc = store_list(s, loc_sql, sizeof(*out->locations),
			location_row, locations_drop, &locations,
			&out->n_locations, "status", errmsg);
	if (rc == CV_OK)
		rc = store_list(s, arch_sql, sizeof(*out->archives),
			archive_row, archives_drop, &archives, &out->n_archives,
			"status", errmsg);
	out->locations = locations;
	out->archives = archives;
	if (store_tx_active(s))
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

void store_status_finish(struct store_status *st)
{
	locations_drop(st->locations, st->n_locations);
	archives_drop(st->archives, st->n_archives);
	memset(st, 0, sizeof(*st));
}
