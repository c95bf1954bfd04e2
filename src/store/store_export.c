/* store_export.c — see store_export.h */
#include "store_export.h"

#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "store_int.h"
#include "store_search_int.h"

static void row_from(sqlite3_stmt *st, struct store_export_row *r)
{
	r->id = (const char *)sqlite3_column_text(st, 0);
	r->location_id = (const char *)sqlite3_column_text(st, 1);
	r->agent_id = (const char *)sqlite3_column_text(st, 2);
	r->agent_name = (const char *)sqlite3_column_text(st, 3);
	r->contact_id = (const char *)sqlite3_column_text(st, 4);
	r->from_number = (const char *)sqlite3_column_text(st, 5);
	r->created_at = sqlite3_column_int64(st, 6);
	r->has_duration = sqlite3_column_type(st, 7) != SQLITE_NULL;
	r->duration = sqlite3_column_double(st, 7);
	r->trial_call = sqlite3_column_type(st, 8) == SQLITE_NULL
				? -1
				: sqlite3_column_int(st, 8);
	r->action_types = (const char *)sqlite3_column_text(st, 9);
	r->appointment_booked = sqlite3_column_int(st, 10) != 0;
	r->transferred = sqlite3_column_int(st, 11) != 0;
	r->summary = (const char *)sqlite3_column_text(st, 12);
	r->version_id = sqlite3_column_int64(st, 13);
	r->updated_at = sqlite3_column_int64(st, 14);
	r->first_version_id = sqlite3_column_int64(st, 15);
}

typedef int (*export_fn)(const struct store_export_row *r, void *arg);

static int export_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_export_row row;
	row_from(st, &row);
	return ((export_fn)fn)(&row, arg);
}

enum cv_err store_export_each(struct store *s, const struct search_filter *f,
	const struct search_plan *plan, int64_t after_version, bool by_version,
	int (*fn)(const struct store_export_row *r, void *arg), void *arg,
	char **errmsg)
{
	struct search_filter rf;
	if (f) {
		rf = *f;
		f = &rf;
		enum cv_err arc = store_resolve_agent(s, &rf, errmsg);
		if (arc != CV_OK)
			return arc;
	}
	struct buf sql;
	struct store_sql_args a = { 0 };
	buf_init(&sql);
	buf_puts(&sql,
		"SELECT c.id, c.location_id, c.agent_id," STORE_AGENT_NAME_SQL
		","
		" c.contact_id, c.from_number, c.created_at, c.duration,"
		" c.trial_call, c.action_types, c.appointment_booked,"
		" c.transferred, c.summary, c.version_id, c.updated_at,");
	/* new or changed since the cursor: only a cursor's walk asks; a
	 * call with one version (most) needs no lookup, else versions'
	 * UNIQUE(call_id, seq) index finds its versions */
	buf_puts(&sql, by_version ? " CASE WHEN c.n_versions = 1 THEN"
				    " c.version_id ELSE (SELECT min(v.id)"
				    " FROM versions v WHERE v.call_id = c.id)"
				    " END"
				  : " 0");
	buf_puts(&sql, " FROM calls c WHERE c.version_id > ?");
	/* the text condition's parameters are bound before the filters' */
	if (plan && plan->fts) {
		struct search_cond fts = { .kind = SEARCH_COND_TEXT,
			.match = plan->fts };
		buf_puts(&sql, " AND ");
		store_cond_sql(&fts, &sql, &a, NULL);
	} else if (plan && plan->cond) {
		buf_puts(&sql, " AND ");
		store_cond_sql(plan->cond, &sql, &a, NULL);
	}
	store_filter_sql(f, &sql, &a);
	buf_puts(&sql, by_version ? " ORDER BY c.version_id"
				  : " ORDER BY c.created_at, c.rid");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		buf_finish(&sql);
		return store_dberr(s, errmsg, "export");
	}
	buf_finish(&sql);
	sqlite3_bind_int64(st, 1, after_version);
	store_bind_args(st, 2, &a);
	/* stopped as CV_EINVAL, which store_dberr never answers: its CV_EIO
	 * (a full disk) must keep the database's message */
	enum cv_err rc = store_each(s, st, export_row, (store_fn)fn, arg,
		CV_EINVAL, "export", errmsg);
	sqlite3_finalize(st);
	if (rc == CV_EINVAL)
		rc = cv_error(errmsg, CV_EIO, "export output failed");
	return rc;
}

enum cv_err store_cursor_get(struct store *s, const char *name,
	int64_t *version_id, char **errmsg)
{
	static const char sql[] =
		"SELECT version_id FROM export_cursors WHERE name = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	*version_id = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return store_dberr(s, errmsg, "read export cursor");
	return CV_OK;
}

enum cv_err store_cursor_set(struct store *s, const char *name,
	int64_t version_id, int64_t rows, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO export_cursors(name, version_id, updated_at,"
		" last_rows) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(name) DO"
		" UPDATE SET version_id = max(version_id, ?2),"
		" updated_at = ?3, last_rows = ?4";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, version_id);
	sqlite3_bind_int64(st, 3, cv_now_ms());
	sqlite3_bind_int64(st, 4, rows);
	return store_step_done(s, st, "set export cursor", errmsg);
}

typedef int (*cursor_fn)(const struct store_cursor *c, void *arg);

static int cursor_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_cursor c = {
		.name = (const char *)sqlite3_column_text(st, 0),
		.version_id = sqlite3_column_int64(st, 1),
		.updated_at = sqlite3_column_int64(st, 2),
		.last_rows = sqlite3_column_int64(st, 3),
	};
	return ((cursor_fn)fn)(&c, arg);
}

enum cv_err store_cursor_each(struct store *s,
	int (*fn)(const struct store_cursor *c, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] =
		"SELECT name, version_id, updated_at, last_rows"
		" FROM export_cursors ORDER BY name";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	return store_each(s, st, cursor_row, (store_fn)fn, arg, CV_OK,
		"list export cursors", errmsg);
}

enum cv_err store_cursor_delete(struct store *s, const char *name,
	struct store_cursor *before, char **errmsg)
{
	static const char sql[] =
		"DELETE FROM export_cursors WHERE name = ?"
		" RETURNING version_id, updated_at, last_rows";
	memset(before, 0, sizeof(*before));
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		before->name = name;
		before->version_id = sqlite3_column_int64(st, 0);
		before->updated_at = sqlite3_column_int64(st, 1);
		before->last_rows = sqlite3_column_int64(st, 2);
		r = sqlite3_step(st);
	}
	sqlite3_reset(st);
	return r == SQLITE_DONE
		       ? CV_OK
		       : store_dberr(s, errmsg, "delete export cursor");
}
