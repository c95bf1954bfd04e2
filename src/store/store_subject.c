/* store_subject.c — see store_subject.h */
#include "store_subject.h"

#include "../util.h"
#include "store_holds.h"
#include "store_int.h"

/* the walkers' callbacks (store_subject.h) */
typedef int (*subject_call_fn)(const struct store_subject_call *c, void *arg);
typedef int (
	*subject_archive_fn)(const struct store_subject_archive *a, void *arg);
typedef int (
	*subject_earlier_fn)(const struct store_subject_earlier *e, void *arg);
typedef int (*erasure_fn)(const struct store_erasure *e, void *arg);

static int call_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_subject_call c = {
		.id = (const char *)sqlite3_column_text(st, 0),
		.location_id = (const char *)sqlite3_column_text(st, 1),
		.created_at = sqlite3_column_int64(st, 2),
		.held_by = (const char *)sqlite3_column_text(st, 3),
	};
	return ((subject_call_fn)fn)(&c, arg);
}

enum cv_err store_subject_each_call(struct store *s,
	const struct store_subject_sel *sel,
	int (*fn)(const struct store_subject_call *c, void *arg), void *arg,
	char **errmsg)
{
	/* one statement per selector, so that each uses its index
	 * (calls_contact_created, calls_from_created, the id's): with
	 * "?1 IS NULL OR …" the plan would scan every call */
#define SUBJECT_SQL(where)                                                     \
	"SELECT c.id, c.location_id, c.created_at,"                            \
	" (SELECT group_concat(h.id || ' (' || h.matter || ')', ', ')"         \
	"  FROM holds h WHERE " STORE_HOLD_MATCH_SQL ")"                       \
	" FROM calls c WHERE " where " AND (?2 IS NULL OR c.created_at >= ?2)" \
	" AND (?3 IS NULL OR c.created_at <= ?3)"                              \
	" ORDER BY c.created_at, c.id"
	static const char by_contact[] = SUBJECT_SQL("c.contact_id = ?1");
	static const char by_number[] = SUBJECT_SQL("c.from_e164 = ?1");
	static const char by_id[] = SUBJECT_SQL("c.id = ?1");
#undef SUBJECT_SQL
	int given = !!sel->contact_id + !!sel->e164 + !!sel->call_id;
	if (given != 1)
		return cv_error(errmsg, CV_EINVAL,
			"one of a contact, a "
			"number and a call id is required");
	const char *sql = sel->contact_id ? by_contact
			  : sel->e164     ? by_number
					  : by_id;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1,
		sel->contact_id ? sel->contact_id
		: sel->e164     ? sel->e164
				: sel->call_id);
	if (sel->has_from)
		sqlite3_bind_int64(st, 2, sel->from_ms);
	if (sel->has_to)
		sqlite3_bind_int64(st, 3, sel->to_ms);
	return store_each(s, st, call_row, (store_fn)fn, arg, CV_EINVAL,
		"read the subject's calls", errmsg);
}

static int archive_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_subject_archive a = {
		.id = sqlite3_column_int64(st, 0),
		.location_id = (const char *)sqlite3_column_text(st, 1),
		.month = (const char *)sqlite3_column_text(st, 2),
		.seq = sqlite3_column_int(st, 3),
		.path = (const char *)sqlite3_column_text(st, 4),
		.keep_months = sqlite3_column_int(st, 5),
	};
	return ((subject_archive_fn)fn)(&a, arg);
}

enum cv_err store_subject_archives(struct store *s, const char *call_id,
	int (*fn)(const struct store_subject_archive *a, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] =
		"SELECT a.id, a.location_id, a.month, a.seq, a.path,"
		" coalesce((SELECT p.keep_months FROM retention_policies p"
		"  WHERE p.location_id IN (a.location_id, '')"
		"  ORDER BY p.location_id = '' LIMIT 1), -1)"
		" FROM archive_calls ac JOIN archives a ON a.id = ac.archive_id"
		" WHERE ac.call_id = ? ORDER BY a.id";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	return store_each(s, st, archive_row, (store_fn)fn, arg, CV_EINVAL,
		"read archives", errmsg);
}

/* ---- erasure tombstones ---- */

enum cv_err store_subject_mark(struct store *s, const char *call_id,
	const char *subject_hmac, char **errmsg)
{
	static const char sql[] =
		"UPDATE tombstones SET subject_hmac = ?2 WHERE call_id = ?1";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, subject_hmac, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? CV_OK : store_dberr(s, errmsg, "tombstone");
}

static int earlier_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_subject_earlier e = {
		.reason = (const char *)sqlite3_column_text(st, 0),
		.calls = sqlite3_column_int64(st, 1),
		.last_at = sqlite3_column_int64(st, 2),
	};
	return ((subject_earlier_fn)fn)(&e, arg);
}

enum cv_err store_subject_earlier(struct store *s, const char *subject_hmac,
	int (*fn)(const struct store_subject_earlier *e, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] =
		"SELECT reason, count(*), max(disposed_at) FROM tombstones"
		" WHERE subject_hmac = ? GROUP BY reason ORDER BY 3";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, subject_hmac, -1, SQLITE_STATIC);
	return store_each(s, st, earlier_row, (store_fn)fn, arg, CV_OK,
		"tombstones", errmsg);
}

static int erasure_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_erasure e = {
		.call_id = (const char *)sqlite3_column_text(st, 0),
		.location_id = (const char *)sqlite3_column_text(st, 1),
		.message_id = (const char *)sqlite3_column_text(st, 2),
		.erased_at = sqlite3_column_int64(st, 3),
		.reason = (const char *)sqlite3_column_text(st, 4),
		.subject_hmac = (const char *)sqlite3_column_text(st, 5),
	};
	return ((erasure_fn)fn)(&e, arg);
}

enum cv_err store_erasures_each(struct store *s, const char *location,
	int64_t through_ms, int (*fn)(const struct store_erasure *e, void *arg),
	void *arg, char **errmsg)
{
	static const char sql[] =
		"SELECT call_id, location_id, message_id, disposed_at, reason,"
		" subject_hmac FROM tombstones WHERE reason >= '" STORE_ERASURE_PREFIX
		"' AND reason < 'erasure:!'"
		" AND coalesce(location_id, '') = ? AND disposed_at <= ?"
		" ORDER BY call_id";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, location ? location : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, through_ms);
	return store_each(s, st, erasure_row, (store_fn)fn, arg, CV_EINVAL,
		"tombstones", errmsg);
}

enum cv_err store_erasure_put(struct store *s, const struct store_erasure *e,
	char **errmsg)
{
	static const char sql[] =
		"INSERT INTO tombstones(call_id, location_id, message_id,"
		" disposed_at, reason, subject_hmac) VALUES (?, ?, ?, ?, ?, ?)"
		" ON CONFLICT(call_id) DO UPDATE SET"
		" disposed_at = excluded.disposed_at, reason = excluded.reason,"
		" subject_hmac = coalesce(excluded.subject_hmac, subject_hmac),"
		" location_id = coalesce(location_id, excluded.location_id),"
		" message_id = coalesce(message_id, excluded.message_id)";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, e->call_id);
	store_bind_text(st, 2, e->location_id);
	store_bind_text(st, 3, e->message_id);
	sqlite3_bind_int64(st, 4, e->erased_at);
	store_bind_text(st, 5, e->reason);
	store_bind_text(st, 6, e->subject_hmac);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? CV_OK : store_dberr(s, errmsg, "tombstone");
}
