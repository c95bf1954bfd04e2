/*
 * store_purged.c — which purged calls a period had, and which archives
 * hold them (store_retention.h): a search over a period whose months
 * were purged says so instead of silently showing fewer calls.
 */
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "store_int.h"
#include "store_retention.h"

/* Archived calls of the months [?1, ?2] (NULL: unbounded) and location ?3
 * (NULL: any) that purge removed from the live store (a purge tombstone:
 * erased calls are not advertised). */
#define PURGED_FROM                                                            \
	" FROM archives a JOIN archive_calls ac ON ac.archive_id = a.id"       \
	" JOIN tombstones t ON t.call_id = ac.call_id"                         \
	" WHERE t.reason LIKE 'purge:%'"                                       \
	" AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.id = ac.call_id)"      \
	" AND (?1 IS NULL OR a.month >= ?1) AND (?2 IS NULL OR a.month <= ?2)" \
	" AND (?3 IS NULL OR a.location_id = ?3)"

static void bind_period(sqlite3_stmt *st, const struct search_filter *f)
{
	char m[32];
	if (f && f->has_from) {
		cv_format_iso8601(f->from_ms, m);
		sqlite3_bind_text(st, 1, m, 7, SQLITE_TRANSIENT);
	}
	if (f && f->has_to) {
		cv_format_iso8601(f->to_ms, m);
		sqlite3_bind_text(st, 2, m, 7, SQLITE_TRANSIENT);
	}
	if (f && f->location)
		sqlite3_bind_text(st, 3, f->location, -1, SQLITE_STATIC);
}

typedef int (*purged_fn)(const struct store_purged_archive *a, void *arg);

static int purged_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_purged_archive a = {
		.id = sqlite3_column_int64(st, 0),
		.path = (const char *)sqlite3_column_text(st, 1),
		.location_id = (const char *)sqlite3_column_text(st, 2),
		.month = (const char *)sqlite3_column_text(st, 3),
		.seq = sqlite3_column_int(st, 4),
		.calls = sqlite3_column_int64(st, 5),
	};
	return ((purged_fn)fn)(&a, arg);
}

enum cv_err store_ret_purged_in(struct store *s, const struct search_filter *f,
	int64_t *calls,
	int (*fn)(const struct store_purged_archive *a, void *arg), void *arg,
	char **errmsg)
{
	static const char count_sql[] =
		"SELECT count(DISTINCT ac.call_id)" PURGED_FROM;
	static const char each_sql[] =
		"SELECT a.id, a.path, a.location_id, a.month, a.seq,"
		" count(*)" PURGED_FROM
		" GROUP BY a.id ORDER BY a.location_id, a.month, a.seq";
	sqlite3_stmt *st = store_stmt(s, count_sql, errmsg);
	if (!st)
		return CV_EDB;
	bind_period(st, f);
	int r = sqlite3_step(st);
	*calls = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (r != SQLITE_ROW)
		return store_dberr(s, errmsg, "purged calls");
	if (!*calls || !fn)
		return CV_OK;
	if (!(st = store_stmt(s, each_sql, errmsg)))
		return CV_EDB;
	bind_period(st, f);
	return store_each(s, st, purged_row, (store_fn)fn, arg, CV_EINVAL,
		"purged calls", errmsg);
}
