/*
 * store_retention.c — see store_retention.h: the calls, events and
 * versions archives are written from and restored into, and purging.
 * Archive records and policies are in store_ret_archives.c.
 */
#include "store_retention.h"

#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "store_holds.h"
#include "store_int.h"
#include "store_trust.h"

/* calls.location_id is NULL where the archive side says "" */
#define LOC_EQ "coalesce(c.location_id, '') = ?1"

enum cv_err store_read_begin(struct store *s, char **errmsg)
{
	enum cv_err rc = store_exec(s,
		"BEGIN DEFERRED;"
		"SELECT count(*) FROM archives;",
		errmsg);
	if (rc == CV_OK)
		s->in_tx = true;
	return rc;
}

void store_read_end(struct store *s)
{
	store_rollback(s);
}

enum cv_err store_ret_max_version(struct store *s, int64_t *out, char **errmsg)
{
	static const char sql[] = "SELECT coalesce(max(id), 0) FROM versions";
	return store_scalar_int(s, sql, out, errmsg);
}

static void locmonth_row(sqlite3_stmt *st, void *elem)
{
	struct store_locmonth *lm = elem;
	snprintf(lm->location, sizeof(lm->location), "%s",
		sqlite3_column_text(st, 0));
	snprintf(lm->month, sizeof(lm->month), "%s",
		sqlite3_column_text(st, 1));
	lm->calls = sqlite3_column_int64(st, 2);
}

/* Collect rows of (location, month, count) into *out. */
static enum cv_err read_locmonths(struct store *s, sqlite3_stmt *st,
	struct store_locmonth **out, size_t *n, char **errmsg)
{
	void *v;
	enum cv_err rc = store_collect(s, st, sizeof(**out), locmonth_row, NULL,
		&v, n, "months", errmsg);
	*out = v;
	return rc;
}

enum cv_err store_ret_locmonths(struct store *s, const char *location,
	const char *from, const char *to, struct store_locmonth **out,
	size_t *n, char **errmsg)
{
	static const char sql[] =
		"SELECT coalesce(location_id, '') AS loc,"
		" strftime('%Y-%m', created_at / 1000, 'unixepoch') AS m,"
		" count(*) FROM calls c"
		" WHERE (?1 IS NULL OR " LOC_EQ ")"
		" GROUP BY loc, m"
		" HAVING (?2 IS NULL OR m >= ?2) AND (?3 IS NULL OR m <= ?3)"
		" ORDER BY loc, m";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, location);
	store_bind_text(st, 2, from);
	store_bind_text(st, 3, to);
	return read_locmonths(s, st, out, n, errmsg);
}

enum cv_err store_ret_purged(struct store *s, struct store_locmonth **out,
	size_t *n, char **errmsg)
{
	static const char sql[] =
		"SELECT coalesce(json_extract(detail, '$.location'), '') AS loc,"
		" coalesce(json_extract(detail, '$.month'), '') AS m,"
		" sum(result_count) FROM audit"
		" WHERE command = 'purge' AND json_valid(detail)"
		" GROUP BY loc, m ORDER BY loc, m";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	return read_locmonths(s, st, out, n, errmsg);
}

/* The call's newest version: what an archive must hold for the call to
 * be covered. Not always the current one: a version of lower trust is
 * kept without becoming current. */
#define NEWEST "(SELECT max(w.id) FROM versions w WHERE w.call_id = c.id)"

/* newest version not covered by any archive; with ?5, just the calls
 * archive ?5 holds, still at the version it holds (archive --rebuild) */
/* a recording or transcription of the call's message that no archive
 * (meeting COND, on archives a) holds */
#define MEDIA_OUT(COND)                                                          \
	"(EXISTS (SELECT 1 FROM recordings r WHERE r.message_id ="               \
	"  c.message_id AND NOT EXISTS (SELECT 1 FROM archive_media am"          \
	"  JOIN archives a ON a.id = am.archive_id WHERE am.message_id ="        \
	"  r.message_id AND am.kind = 'recording' AND am.sha256 = r.sha256" COND \
	")) OR EXISTS (SELECT 1 FROM transcriptions t WHERE"                     \
	"  t.message_id = c.message_id AND NOT EXISTS (SELECT 1 FROM"            \
	"  archive_media am JOIN archives a ON a.id = am.archive_id WHERE"       \
	"  am.message_id = t.message_id AND am.kind = 'transcription'"           \
	"  AND am.sha256 = t.sha256" COND ")))"

#define ONLY_NEW                                                               \
	" AND (?4 = 0 OR NOT EXISTS (SELECT 1 FROM archive_calls ac"           \
	"  WHERE ac.call_id = c.id AND ac.version_id >= " NEWEST ")"           \
	"  OR " MEDIA_OUT(                                                     \
		"") ")"                                                        \
		    " AND (?5 = 0 OR EXISTS (SELECT 1 FROM archive_calls ac"   \
		    "  WHERE ac.call_id = c.id AND ac.archive_id = ?5"         \
		    "  AND ac.version_id = " NEWEST "))"

/* The columns read_arch_call reads, over calls c. */
#define ARCH_CALL_COLUMNS                                                      \
	"SELECT c.id, v.canonical, c.created_at, " NEWEST                      \
	"," STORE_AGENT_NAME_SQL ","                                           \
	" c.location_id, c.agent_id, c.contact_id, c.from_number,"             \
	" c.action_types, c.summary, c.transcript, c.duration,"                \
	" c.trial_call, c.appointment_booked, c.transferred"                   \
	" FROM calls c JOIN versions v ON v.id = c.version_id"

static void read_arch_call(sqlite3_stmt *st, struct store_arch_call *c)
{
	*c = (struct store_arch_call){
		.id = (const char *)sqlite3_column_text(st, 0),
		.canonical = (const char *)sqlite3_column_text(st, 1),
		.canonical_len = (size_t)sqlite3_column_bytes(st, 1),
		.created_at = sqlite3_column_int64(st, 2),
		.version_id = sqlite3_column_int64(st, 3),
		.agent_name = (const char *)sqlite3_column_text(st, 4),
	};
	const char **strs[] = { &c->location_id, &c->agent_id, &c->contact_id,
		&c->from_number, &c->action_types, &c->summary,
		&c->transcript };
	for (int i = 0; i < (int)CV_ARRAY_LEN(strs); i++)
		*strs[i] = (const char *)sqlite3_column_text(st, 5 + i);
	c->has_duration = sqlite3_column_type(st, 12) != SQLITE_NULL;
	c->duration = sqlite3_column_double(st, 12);
	c->trial_call = sqlite3_column_type(st, 13) == SQLITE_NULL
				? -1
				: sqlite3_column_int(st, 13);
	c->appointment_booked = sqlite3_column_int(st, 14) != 0;
	c->transferred = sqlite3_column_int(st, 15) != 0;
}

/* the walkers' callbacks (store_retention.h) */
typedef int (*arch_call_fn)(const struct store_arch_call *c, void *arg);
typedef int (*event_fn)(const struct store_event *e, void *arg);

static int arch_call_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_arch_call c;
	read_arch_call(st, &c);
	return ((arch_call_fn)fn)(&c, arg);
}

/* Step st, calling fn for each call row. */
static enum cv_err each_arch_call(struct store *s, sqlite3_stmt *st,
	int (*fn)(const struct store_arch_call *c, void *arg), void *arg,
	char **errmsg)
{
	return store_each(s, st, arch_call_row, (store_fn)fn, arg, CV_EINVAL,
		"read calls", errmsg);
}

/* Bind the five parameters of a query over LOC_EQ, a created_at range
 * (?2, ?3) and ONLY_NEW. */
static void bind_range(sqlite3_stmt *st, const char *location, int64_t from_ms,
	int64_t to_ms, bool only_new, int64_t archive_id)
{
	sqlite3_bind_text(st, 1, location, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from_ms);
	sqlite3_bind_int64(st, 3, to_ms);
	sqlite3_bind_int(st, 4, only_new);
	sqlite3_bind_int64(st, 5, archive_id);
}

enum cv_err store_ret_each_call(struct store *s, const char *location,
	int64_t from_ms, int64_t to_ms, bool only_new, int64_t archive_id,
	int (*fn)(const struct store_arch_call *c, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] = ARCH_CALL_COLUMNS
		" WHERE " LOC_EQ
		" AND c.created_at >= ?2 AND c.created_at < ?3" ONLY_NEW
		" ORDER BY c.created_at, c.id";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	bind_range(st, location, from_ms, to_ms, only_new, archive_id);
	return each_arch_call(s, st, fn, arg, errmsg);
}

enum cv_err store_ret_get_call(struct store *s, const char *id,
	int (*fn)(const struct store_arch_call *c, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] = ARCH_CALL_COLUMNS " WHERE c.id = ?1";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return each_arch_call(s, st, fn, arg, errmsg);
}

enum cv_err store_ret_count_calls(struct store *s, const char *location,
	int64_t from_ms, int64_t to_ms, bool only_new, int64_t archive_id,
	int64_t *out, char **errmsg)
{
	static const char sql[] =
		"SELECT count(*) FROM calls c WHERE " LOC_EQ
		" AND c.created_at >= ?2 AND c.created_at < ?3" ONLY_NEW;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	bind_range(st, location, from_ms, to_ms, only_new, archive_id);
	int r = sqlite3_step(st);
	*out = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "count");
}

static int event_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_event e = {
		.dedup_key = (const char *)sqlite3_column_text(st, 0),
		.type = (const char *)sqlite3_column_text(st, 1),
		.call_id = (const char *)sqlite3_column_text(st, 2),
		.message_id = (const char *)sqlite3_column_text(st, 3),
		.location_id = (const char *)sqlite3_column_text(st, 4),
		.body_sha256 = (const char *)sqlite3_column_text(st, 5),
		.signature = (const char *)sqlite3_column_text(st, 6),
		.received_at = sqlite3_column_int64(st, 7),
		.outcome = (const char *)sqlite3_column_text(st, 9),
	};
	e.withheld = sqlite3_column_type(st, 8) == SQLITE_NULL;
	if (!e.withheld) {
		e.body = sqlite3_column_blob(st, 8);
		e.body_len = (size_t)sqlite3_column_bytes(st, 8);
		if (!e.body)
			e.body = "";
	}
	return ((event_fn)fn)(&e, arg);
}

enum cv_err store_ret_each_event(struct store *s, const char *call_id,
	int (*fn)(const struct store_event *e, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] =
		"SELECT dedup_key, type, call_id, message_id, location_id,"
		" body_sha256, signature, received_at,"
		" CASE WHEN body_in_payloads THEN (SELECT p.bytes FROM"
		"  raw_payloads p WHERE p.sha256 = e.body_sha256)"
		"  WHEN withheld THEN NULL ELSE body END, outcome"
		" FROM webhook_events e WHERE call_id = ?1 OR message_id ="
		"  (SELECT message_id FROM calls WHERE id = ?1)"
		" ORDER BY received_at, dedup_key";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	return store_each(s, st, event_row, (store_fn)fn, arg, CV_EINVAL,
		"read events", errmsg);
}

enum cv_err store_ret_put_event(struct store *s, const struct store_event *e,
	char **errmsg)
{
	static const char sql[] =
		"INSERT INTO webhook_events(dedup_key, type, call_id,"
		" message_id, location_id, received_at, body_sha256, body,"
		" signature, outcome, withheld)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		" ON CONFLICT(dedup_key) DO NOTHING";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, e->dedup_key);
	store_bind_text(st, 2, e->type);
	store_bind_text(st, 3, e->call_id);
	store_bind_text(st, 4, e->message_id);
	store_bind_text(st, 5, e->location_id);
	sqlite3_bind_int64(st, 6, e->received_at);
	store_bind_text(st, 7, e->body_sha256);
	if (e->withheld || !e->body)
		sqlite3_bind_zeroblob(st, 8, 0);
	else
		sqlite3_bind_blob64(st, 8, e->body, e->body_len, SQLITE_STATIC);
	store_bind_text(st, 9, e->signature);
	store_bind_text(st, 10, e->outcome);
	sqlite3_bind_int(st, 11, e->withheld);
	return store_step_done(s, st, "event", errmsg);
}

enum cv_err store_ret_put_agent(struct store *s, const char *location,
	const char *agent_id, const char *name, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO agents(location_id, id, name, updated_at)"
		" VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, location ? location : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, agent_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, cv_now_ms());
	return store_step_done(s, st, "agent", errmsg);
}

/* The canonical hash of a call's version seq; "" when there is none. */
static enum cv_err version_hash(struct store *s, const char *call_id, int seq,
	char out[CV_SHA256_HEX], char **errmsg)
{
	static const char sql[] = "SELECT canonical_sha256 FROM versions"
				  " WHERE call_id = ? AND seq = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, seq);
	int r = sqlite3_step(st);
	out[0] = '\0';
	if (r == SQLITE_ROW)
		snprintf(out, CV_SHA256_HEX, "%s", sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE
		       ? CV_OK
		       : store_dberr(s, errmsg, "version");
}

static enum cv_err keep_restored_payload(struct store *s,
	const struct store_restore_version *v, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO raw_payloads(sha256, source, received_at, size,"
		" bytes, withheld) VALUES (?, 'restore', ?, 0, NULL,"
		" 'restored from an archive: only the hash of the original"
		" bytes is archived') ON CONFLICT(sha256) DO NOTHING";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, v->raw_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v->received_at);
	return store_step_done(s, st, "payload", errmsg);
}

enum cv_err store_ret_restore_version(struct store *s,
	const struct store_restore_version *v, enum store_ingest_result *res,
	char **errmsg)
{
	static const char fix[] = "UPDATE versions SET origin = ?, redacted = ?"
				  " WHERE call_id = ? AND seq = ?";
	const struct calllog *c = v->log;
	char have[CV_SHA256_HEX];
	bool dead = false;
	*res = INGEST_UNCHANGED;
	enum cv_err rc = store_tombstoned(s, c->id, NULL, &dead, errmsg);
	if (rc == CV_OK && dead)
		*res = INGEST_DISPOSED;
	if (rc != CV_OK || dead)
		return rc;
	rc = version_hash(s, c->id, v->seq, have, errmsg);
	if (rc != CV_OK)
		return rc;
	if (*have)
		return strcmp(have, c->canonical_sha256) == 0
			       ? CV_OK
			       : cv_error(errmsg, CV_EINTEGRITY,
					 "call %s version %d differs from the store's",
					 c->id, v->seq);
	if (v->seq > 1 && ((rc = version_hash(s, c->id, v->seq - 1, have,
				    errmsg)) != CV_OK ||
				  !*have))
		return rc != CV_OK ? rc
				   : cv_error(errmsg, CV_EINTEGRITY,
					     "call %s: version %d comes before "
					     "version %d is there",
					     c->id, v->seq, v->seq - 1);
	struct store_payload p;
	store_payload_init(&p, SRC_RESTORE, "", 0);
	snprintf(p.sha256, sizeof(p.sha256), "%s", v->raw_sha256);
	p.received_at = v->received_at;
	p.stored = true; /* kept just below, hash only */
	/* ranked as it was when it first came */
	p.auth = v->cred != CRED_UNRECORDED ? v->cred
					    : store_cred_default(v->origin);
	p.replay = true;
	enum store_ingest_result got;
	if ((rc = keep_restored_payload(s, v, errmsg)) != CV_OK ||
		(rc = store_ingest_call(s, c, &p, &got, errmsg)) != CV_OK)
		return rc;
	if (got != INGEST_NEW && got != INGEST_UPDATED && got != INGEST_KEPT)
		return cv_error(errmsg, CV_EINTEGRITY,
			"call %s version %d was not stored (%d)", c->id, v->seq,
			(int)got);
	sqlite3_stmt *st = store_stmt(s, fix, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, store_source_name(v->origin), -1,
		SQLITE_STATIC);
	sqlite3_bind_int(st, 2, v->redacted);
	sqlite3_bind_text(st, 3, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, v->seq);
	rc = store_step_done(s, st, "restore version", errmsg);
	if (rc == CV_OK)
		*res = got;
	return rc;
}

enum cv_err store_ret_each_version(struct store *s, const char *call_id,
	int (*fn)(const struct store_version *v, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] =
		"SELECT id, seq, coalesce(origin, source), received_at,"
		" canonical, canonical_sha256, raw_sha256, redacted, 0, auth,"
		" not_current FROM versions WHERE call_id = ? ORDER BY seq";
	return store_walk_versions(s, sql, call_id, fn, arg, errmsg);
}

enum cv_err store_ret_version_state(struct store *s, const char *call_id,
	const char *canonical_sha256, int *state, char **errmsg)
{
	static const char sql[] =
		"SELECT (SELECT count(*) FROM calls WHERE id = ?1),"
		" EXISTS (SELECT 1 FROM versions WHERE call_id = ?1"
		"  AND canonical_sha256 = ?2)";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, canonical_sha256, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	*state = 0;
	if (r == SQLITE_ROW && sqlite3_column_int(st, 0))
		*state = sqlite3_column_int(st, 1) ? 1 : 2;
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "version");
}

/* ---- purge ---- */

typedef int (*purge_cand_fn)(const struct store_purge_cand *c, void *arg);

static int purge_cand_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_purge_cand c = {
		.call_id = (const char *)sqlite3_column_text(st, 0),
		.created_at = sqlite3_column_int64(st, 1),
		.held_by = (const char *)sqlite3_column_text(st, 2),
		.archive_id = sqlite3_column_int64(st, 3),
	};
	c.archived_unverified = !c.archive_id && sqlite3_column_int(st, 4) != 0;
	if (c.archive_id && sqlite3_column_int(st, 5)) {
		/* the call is, but not all of its media */
		c.archive_id = 0;
		c.media_unarchived = true;
		c.archived_unverified = !sqlite3_column_int(st, 6);
	}
	return ((purge_cand_fn)fn)(&c, arg);
}

enum cv_err store_ret_each_purge_cand(struct store *s, const char *location,
	int64_t from_ms, int64_t to_ms,
	int (*fn)(const struct store_purge_cand *c, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] =
		"SELECT c.id, c.created_at,"
		" (SELECT group_concat(h.id, ',') FROM holds h WHERE " STORE_HOLD_MATCH_SQL
		"),"
		" (SELECT a.id FROM archive_calls ac JOIN archives a"
		"   ON a.id = ac.archive_id WHERE ac.call_id = c.id"
		"   AND ac.version_id >= " NEWEST
		"   AND a.verified_at IS NOT NULL"
		"   AND a.verified_at >= a.written_at"
		"   ORDER BY a.id DESC LIMIT 1),"
		" EXISTS (SELECT 1 FROM archive_calls ac WHERE ac.call_id = c.id"
		"   AND ac.version_id >= " NEWEST "),"
		/* its media, each in a verified archive too */
		" " MEDIA_OUT(
			" AND a.verified_at IS NOT NULL"
			" AND a.verified_at >= a.written_at") ","
							      " " MEDIA_OUT(
								      "") " FROM calls c WHERE " LOC_EQ
									  " AND c.created_at >= ?2 AND c.created_at < ?3"
									  " ORDER BY c.created_at, c.id";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, location, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from_ms);
	sqlite3_bind_int64(st, 3, to_ms);
	return store_each(s, st, purge_cand_row, (store_fn)fn, arg, CV_EINVAL,
		"read purge candidates", errmsg);
}

static enum cv_err run_bound(struct store *s, const char *sql, const char *id,
	int64_t rid, char **errmsg)
{
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	if (id)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, rid);
	return store_step_done(s, st, "purge", errmsg);
}

enum cv_err store_ret_purge_call(struct store *s, const char *call_id,
	const char *reason, char **errmsg)
{
	static const char find[] = "SELECT rid FROM calls WHERE id = ?";
	static const char by_id[][256] = {
		/* payloads whose only references are this call's versions */
		"DELETE FROM raw_payloads WHERE sha256 IN (SELECT v.raw_sha256"
		" FROM versions v WHERE v.call_id = ?1) AND NOT EXISTS (SELECT"
		" 1 FROM versions w WHERE w.raw_sha256 = raw_payloads.sha256"
		" AND w.call_id != ?1)",
		"DELETE FROM versions WHERE call_id = ?1",
		"DELETE FROM webhook_events WHERE call_id = ?1 OR message_id"
		" = (SELECT message_id FROM calls WHERE id = ?1)",
		"DELETE FROM fetch_queue WHERE call_id = ?1",
		"DELETE FROM calls WHERE id = ?1",
	};
	static const char by_rid[][64] = {
		"DELETE FROM calls_fts WHERE rowid = ?1",
		"DELETE FROM calls_digits WHERE rowid = ?1",
	};
	bool held;
	enum cv_err rc = store_hold_is_held(s, call_id, &held, errmsg);
	if (rc != CV_OK)
		return rc;
	if (held)
		return cv_error(errmsg, CV_EINVAL,
			"call %s is under a legal "
			"hold",
			call_id);
	int64_t rid = 0;
	sqlite3_stmt *st = store_stmt(s, find, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		rid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (r != SQLITE_ROW)
		return r == SQLITE_DONE ? cv_error(errmsg, CV_ENOTFOUND,
						  "no call %s", call_id)
					: store_dberr(s, errmsg, "purge");
	rc = store_tombstone_add(s, call_id, reason, cv_now_ms(), errmsg);
	for (size_t i = 0; i < CV_ARRAY_LEN(by_rid) && rc == CV_OK; i++)
		rc = run_bound(s, by_rid[i], NULL, rid, errmsg);
	for (size_t i = 0; i < CV_ARRAY_LEN(by_id) && rc == CV_OK; i++)
		rc = run_bound(s, by_id[i], call_id, 0, errmsg);
	return rc;
}

enum cv_err store_ret_purge_quarantine(struct store *s, int64_t before_ms,
	bool remove, int64_t *n, char **errmsg)
{
	static const char count[] =
		"SELECT count(*) FROM quarantine WHERE received_at < ?";
	static const char del[] =
		"DELETE FROM quarantine WHERE received_at < ?";
	sqlite3_stmt *st = store_stmt(s, remove ? del : count, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, before_ms);
	int r = sqlite3_step(st);
	*n = remove ? (r == SQLITE_DONE ? sqlite3_changes(s->db) : 0)
		    : (r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0);
	sqlite3_reset(st);
	return r == (remove ? SQLITE_DONE : SQLITE_ROW)
		       ? CV_OK
		       : store_dberr(s, errmsg, "purge quarantine");
}
