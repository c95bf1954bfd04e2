/* store_sync.c — see store_sync.h */
#include "store_sync.h"

#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "store_int.h"

void store_location_finish(struct store_location *l)
{
	if (!l)
		return;
	free(l->id);
	free(l->api_base);
	free(l->api_version);
	free(l->client_id);
	free(l->secrets_dir);
	free(l->last_error);
	free(l->last_warning);
	memset(l, 0, sizeof(*l));
}

void store_locations_free(struct store_location *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_location_finish(&l[i]);
	free(l);
}

enum cv_err store_location_put(struct store *s, const struct store_location *l,
	char **errmsg)
{
	static const char sql[] =
		"INSERT INTO locations(id, auth, api_base, api_version,"
		" client_id, secrets_dir, added_at, updated_at)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"
		" ON CONFLICT(id) DO UPDATE SET auth = ?2, api_base = ?3,"
		" api_version = ?4, client_id = ?5, secrets_dir = ?6,"
		" updated_at = ?7";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, l->id);
	store_bind_text(st, 2, l->auth == STORE_AUTH_OAUTH ? "oauth" : "pit");
	store_bind_text(st, 3, l->api_base);
	store_bind_text(st, 4, l->api_version);
	store_bind_text(st, 5, l->client_id);
	store_bind_text(st, 6, l->secrets_dir);
	sqlite3_bind_int64(st, 7, cv_now_ms());
	return store_step_done(s, st, "location", errmsg);
}

#define LOC_COLS                                                               \
	"SELECT l.id, l.auth, l.api_base, l.api_version, l.client_id,"         \
	" l.secrets_dir, l.added_at, l.updated_at,"                            \
	" coalesce(st.checkpoint_ms, -1), coalesce(st.last_run_at, 0),"        \
	" coalesce(st.last_ok_at, 0), coalesce(st.requests, 0),"               \
	" st.last_error, st.last_warning"                                      \
	" FROM locations l LEFT JOIN sync_state st ON st.location_id = l.id"

static void read_location(sqlite3_stmt *st, void *elem)
{
	struct store_location *l = elem;
	memset(l, 0, sizeof(*l));
	l->id = store_col_dup(st, 0);
	const char *auth = (const char *)sqlite3_column_text(st, 1);
	l->auth = auth && strcmp(auth, "oauth") == 0 ? STORE_AUTH_OAUTH
						     : STORE_AUTH_PIT;
	l->api_base = store_col_dup(st, 2);
	l->api_version = store_col_dup(st, 3);
	l->client_id = store_col_dup(st, 4);
	l->secrets_dir = store_col_dup(st, 5);
	l->added_at = sqlite3_column_int64(st, 6);
	l->updated_at = sqlite3_column_int64(st, 7);
	l->checkpoint_ms = sqlite3_column_int64(st, 8);
	l->last_run_at = sqlite3_column_int64(st, 9);
	l->last_ok_at = sqlite3_column_int64(st, 10);
	l->requests = sqlite3_column_int64(st, 11);
	l->last_error = store_col_dup(st, 12);
	l->last_warning = store_col_dup(st, 13);
}

enum cv_err store_location_get(struct store *s, const char *id,
	struct store_location *out, char **errmsg)
{
	static const char sql[] = LOC_COLS " WHERE l.id = ?";
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, id);
	int r = sqlite3_step(st);
	enum cv_err rc = CV_OK;
	if (r == SQLITE_ROW)
		read_location(st, out);
	else if (r == SQLITE_DONE)
		rc = cv_error(errmsg, CV_ENOTFOUND,
			"no location %s (see "
			"`callvault location list`)",
			id);
	else
		rc = store_dberr(s, errmsg, "location");
	sqlite3_reset(st);
	return rc;
}

static void locations_drop(void *v, size_t n)
{
	store_locations_free(v, n);
}

enum cv_err store_location_list(struct store *s, struct store_location **out,
	size_t *n, char **errmsg)
{
	static const char sql[] = LOC_COLS " ORDER BY l.id";
	void *v;
	enum cv_err rc = store_list(s, sql, sizeof(**out), read_location,
		locations_drop, &v, n, "locations", errmsg);
	*out = v;
	return rc;
}

enum cv_err store_location_delete(struct store *s, const char *id,
	char **errmsg)
{
	static const char del_loc[] = "DELETE FROM locations WHERE id = ?";
	static const char del_state[] =
		"DELETE FROM sync_state WHERE location_id = ?";
	enum cv_err rc = store_exec_text(s, del_loc, id, "location", errmsg);
	if (rc != CV_OK)
		return rc;
	if (sqlite3_changes(s->db) == 0)
		return cv_error(errmsg, CV_ENOTFOUND, "no location %s", id);
	return store_exec_text(s, del_state, id, "sync state", errmsg);
}

enum cv_err store_sync_checkpoint(struct store *s, const char *loc, int64_t ms,
	char **errmsg)
{
	static const char sql[] =
		"INSERT INTO sync_state(location_id, checkpoint_ms)"
		" VALUES(?1, ?2) ON CONFLICT(location_id) DO UPDATE SET"
		" checkpoint_ms = max(coalesce(checkpoint_ms, ?2), ?2)";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, loc);
	sqlite3_bind_int64(st, 2, ms);
	return store_step_done(s, st, "checkpoint", errmsg);
}

enum cv_err store_sync_result(struct store *s, const char *loc, int64_t now,
	const char *error, const char *warning, int64_t requests, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO sync_state(location_id, last_run_at, last_ok_at,"
		" last_error, requests, last_warning)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT(location_id) DO UPDATE SET last_run_at = ?2,"
		" last_ok_at = coalesce(?3, last_ok_at), last_error = ?4,"
		" requests = requests + ?5, last_warning = ?6";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, loc);
	sqlite3_bind_int64(st, 2, now);
	if (!error)
		sqlite3_bind_int64(st, 3, now);
	store_bind_text(st, 4, error);
	sqlite3_bind_int64(st, 5, requests);
	store_bind_text(st, 6, warning);
	return store_step_done(s, st, "sync result", errmsg);
}

enum cv_err store_sync_listed(struct store *s, const char *loc, int64_t from,
	int64_t to, int64_t total, int64_t at, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO sync_state(location_id, listed_from, listed_to,"
		" listed_total, listed_at) VALUES(?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT(location_id) DO UPDATE SET listed_from = ?2,"
		" listed_to = ?3, listed_total = ?4, listed_at = ?5";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, loc);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	if (total >= 0)
		sqlite3_bind_int64(st, 4, total);
	sqlite3_bind_int64(st, 5, at);
	return store_step_done(s, st, "sync listed total", errmsg);
}

enum cv_err store_agent_put(struct store *s, const char *loc, const char *id,
	const char *name, int64_t now, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO agents(location_id, id, name, deleted, updated_at)"
		" VALUES(?1, ?2, ?3, 0, ?4) ON CONFLICT(location_id, id)"
		" DO UPDATE SET name = coalesce(?3, name), deleted = 0,"
		" updated_at = ?4";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, loc);
	store_bind_text(st, 2, id);
	store_bind_text(st, 3, name);
	sqlite3_bind_int64(st, 4, now);
	return store_step_done(s, st, "agent", errmsg);
}

enum cv_err store_agents_mark_deleted(struct store *s, const char *loc,
	int64_t since, char **errmsg)
{
	static const char sql[] =
		"UPDATE agents SET deleted = 1 WHERE location_id = ?1"
		" AND updated_at < ?2 AND deleted = 0";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, loc);
	sqlite3_bind_int64(st, 2, since);
	return store_step_done(s, st, "agents", errmsg);
}

enum cv_err store_fetch_queue_list(struct store *s, const char *loc, size_t max,
	char ***ids, size_t *n, char **errmsg)
{
	static const char sql[] =
		"SELECT call_id FROM fetch_queue WHERE location_id = ?"
		" ORDER BY queued_at, call_id LIMIT ?";
	*ids = NULL;
	*n = 0;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, loc);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	void *v;
	enum cv_err rc = store_collect(s, st, sizeof(**ids), store_text_fill,
		store_texts_drop, &v, n, "fetch queue", errmsg);
	*ids = v;
	return rc;
}

enum cv_err store_fetch_queue_done(struct store *s, const char *call_id,
	char **errmsg)
{
	static const char sql[] = "DELETE FROM fetch_queue WHERE call_id = ?";
	return store_exec_text(s, sql, call_id, "fetch queue", errmsg);
}

enum cv_err store_fetch_queue_failed(struct store *s, const char *call_id,
	const char *error, char **errmsg)
{
	static const char sql[] =
		"UPDATE fetch_queue SET attempts = attempts + 1,"
		" last_error = ? WHERE call_id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, error);
	store_bind_text(st, 2, call_id);
	return store_step_done(s, st, "fetch queue", errmsg);
}

enum cv_err store_call_digest(struct store *s, const char *id,
	struct store_call_digest *out, char **errmsg)
{
	static const char sql[] =
		"SELECT c.created_at, v.canonical_sha256 FROM calls c"
		" JOIN versions v ON v.id = c.version_id WHERE c.id = ?";
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, id);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		out->found = true;
		out->created_at = sqlite3_column_int64(st, 0);
		const char *h = (const char *)sqlite3_column_text(st, 1);
		snprintf(out->canonical_sha256, sizeof(out->canonical_sha256),
			"%s", h ? h : "");
	}
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return store_dberr(s, errmsg, "call digest");
	if (!out->found)
		return store_tombstoned(s, id, NULL, &out->disposed, errmsg);
	return CV_OK;
}

enum cv_err store_each_call_in(struct store *s, const char *loc, int64_t from,
	int64_t to, store_call_fn fn, void *ctx, char **errmsg)
{
	static const char sql[] =
		"SELECT id, created_at FROM calls WHERE location_id = ?"
		" AND created_at BETWEEN ? AND ? ORDER BY created_at";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, loc);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	enum cv_err rc = CV_OK;
	int r;
	while (rc == CV_OK && (r = sqlite3_step(st)) == SQLITE_ROW)
		rc = fn(ctx, (const char *)sqlite3_column_text(st, 0),
			sqlite3_column_int64(st, 1), errmsg);
	if (rc == CV_OK && r != SQLITE_DONE)
		rc = store_dberr(s, errmsg, "calls of a period");
	sqlite3_reset(st);
	return rc;
}
