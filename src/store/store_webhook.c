/* store_webhook.c — see store_webhook.h */
#include "store_webhook.h"

#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "store_int.h"

enum cv_err store_webhook_seen(struct store *s, const char *dedup_key,
	bool *seen, char **errmsg)
{
	static const char sql[] =
		"SELECT 1 FROM webhook_events WHERE dedup_key = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, dedup_key, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return store_dberr(s, errmsg, "webhook dedup");
	*seen = r == SQLITE_ROW;
	return CV_OK;
}

enum cv_err store_webhook_insert(struct store *s,
	const struct store_webhook_event *e, bool *dup, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO webhook_events(dedup_key, type, call_id,"
		" message_id, location_id, received_at, body_sha256, body,"
		" signature, outcome, withheld, body_in_payloads)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		" ON CONFLICT(dedup_key) DO NOTHING";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, e->dedup_key, -1, SQLITE_STATIC);
	store_bind_text(st, 2, e->type);
	store_bind_text(st, 3, e->call_id);
	store_bind_text(st, 4, e->message_id);
	store_bind_text(st, 5, e->location_id);
	sqlite3_bind_int64(st, 6,
		e->received_at ? e->received_at : cv_now_ms());
	sqlite3_bind_text(st, 7, e->body_sha256, -1, SQLITE_STATIC);
	/* a zero-length blob, never NULL: body is NOT NULL */
	if (e->withheld || e->in_payloads || !e->body)
		sqlite3_bind_zeroblob(st, 8, 0);
	else
		sqlite3_bind_blob64(st, 8, e->body, e->len, SQLITE_STATIC);
	store_bind_text(st, 9, e->signature);
	store_bind_text(st, 10, e->outcome);
	sqlite3_bind_int(st, 11, e->withheld);
	sqlite3_bind_int(st, 12, e->in_payloads);
	enum cv_err rc = store_step_done(s, st, "store webhook event", errmsg);
	if (rc == CV_OK)
		*dup = sqlite3_changes(s->db) == 0;
	return rc;
}

enum cv_err store_fetch_enqueue(struct store *s, const char *call_id,
	const char *location_id, char **errmsg)
{
	/* only for a location sync has credentials for: nothing else would
	 * ever drain it, and a location added later has its first sync
	 * read every call anyway */
	static const char has[] = "SELECT 1 FROM locations WHERE id = ?";
	static const char sql[] =
		"INSERT INTO fetch_queue(call_id, location_id, queued_at)"
		" VALUES (?, ?, ?) ON CONFLICT(call_id) DO NOTHING";
	sqlite3_stmt *st = store_stmt(s, has, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, location_id, -1, SQLITE_STATIC);
	int known = sqlite3_step(st);
	sqlite3_reset(st);
	if (known == SQLITE_DONE)
		return CV_OK;
	if (known != SQLITE_ROW)
		return store_dberr(s, errmsg, "queue fetch");
	if (!(st = store_stmt(s, sql, errmsg)))
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, location_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, cv_now_ms());
	return store_step_done(s, st, "queue fetch", errmsg);
}

typedef int (*event_fn)(const struct store_webhook_event *e, void *arg);

static int event_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_webhook_event e = {
		.id = sqlite3_column_int64(st, 0),
		.dedup_key = (const char *)sqlite3_column_text(st, 1),
		.type = (const char *)sqlite3_column_text(st, 2),
		.call_id = (const char *)sqlite3_column_text(st, 3),
		.message_id = (const char *)sqlite3_column_text(st, 4),
		.location_id = (const char *)sqlite3_column_text(st, 5),
		.received_at = sqlite3_column_int64(st, 6),
		.len = (size_t)sqlite3_column_int64(st, 7),
		.body_sha256 = (const char *)sqlite3_column_text(st, 8),
		.signature = (const char *)sqlite3_column_text(st, 9),
		.outcome = (const char *)sqlite3_column_text(st, 10),
		.withheld = sqlite3_column_int(st, 11) != 0,
		.in_payloads = sqlite3_column_int(st, 12) != 0,
	};
	return ((event_fn)fn)(&e, arg);
}

enum cv_err store_each_call_event(struct store *s, const char *call_id,
	int (*fn)(const struct store_webhook_event *e, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] =
		"SELECT id, dedup_key, type, call_id, message_id, location_id,"
		" received_at, length(body), body_sha256, signature, outcome,"
		" withheld, body_in_payloads FROM webhook_events"
		" WHERE call_id = ?1 OR message_id ="
		"  (SELECT message_id FROM calls WHERE id = ?1)"
		" ORDER BY received_at, id";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	return store_each(s, st, event_row, (store_fn)fn, arg, CV_EINVAL,
		"read webhook events", errmsg);
}

enum cv_err store_webhook_counts(struct store *s, int64_t *events,
	int64_t *queued, char **errmsg)
{
	static const char ev[] = "SELECT count(*) FROM webhook_events";
	static const char q[] = "SELECT count(*) FROM fetch_queue";
	enum cv_err rc = store_scalar_int(s, ev, events, errmsg);
	if (rc == CV_OK)
		rc = store_scalar_int(s, q, queued, errmsg);
	return rc;
}

void store_wal_autocheckpoint(struct store *s, int pages)
{
	s->autockpt = pages;
}

enum cv_err store_wal_checkpoint(struct store *s, char **errmsg)
{
	int r = sqlite3_wal_checkpoint_v2(s->db, NULL,
		SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (r == SQLITE_OK || r == SQLITE_BUSY)
		return CV_OK; /* busy: the next round will do it */
	return store_dberr(s, errmsg, "checkpoint");
}
