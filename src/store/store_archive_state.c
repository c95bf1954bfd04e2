/* store_archive_state.c — see store_archive_state.h */
#include "store_archive_state.h"

#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "store_int.h"

enum cv_err store_ret_intent_put(struct store *s, const char *path,
	const char *sha256, int64_t pid, int64_t now, char **errmsg)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO archive_intents(path, sha256, pid,"
		" created_at) VALUES (?, ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, pid);
	sqlite3_bind_int64(st, 4, now);
	return store_step_done(s, st, "record publish intent", errmsg);
}

enum cv_err store_ret_intent_drop(struct store *s, const char *path,
	char **errmsg)
{
	static const char sql[] = "DELETE FROM archive_intents WHERE path = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	return store_step_done(s, st, "drop publish intent", errmsg);
}

void store_intents_free(struct store_intent *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].path);
		free(v[i].sha256);
	}
	free(v);
}

static void intents_drop(void *v, size_t n)
{
	store_intents_free(v, n);
}

static void intent_row(sqlite3_stmt *st, void *elem)
{
	struct store_intent *it = elem;
	it->path = store_col_dup(st, 0);
	it->sha256 = store_col_dup(st, 1);
	it->pid = sqlite3_column_int64(st, 2);
	it->created_at = sqlite3_column_int64(st, 3);
}

enum cv_err store_ret_intents(struct store *s, struct store_intent **out,
	size_t *n, char **errmsg)
{
	static const char sql[] = "SELECT path, sha256, pid, created_at"
				  " FROM archive_intents ORDER BY path";
	void *v;
	enum cv_err rc = store_list(s, sql, sizeof(**out), intent_row,
		intents_drop, &v, n, "read publish intents", errmsg);
	*out = v;
	return rc;
}

enum cv_err store_ret_put_baginfo(struct store *s, int64_t id, const char *text,
	size_t len, char **errmsg)
{
	static const char sql[] = "INSERT OR REPLACE INTO archive_baginfo"
				  "(archive_id, bag_info) VALUES (?, ?)";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_blob(st, 2, text, (int)len, SQLITE_STATIC);
	return store_step_done(s, st, "keep bag-info", errmsg);
}

enum cv_err store_ret_get_baginfo(struct store *s, int64_t id, char **out,
	size_t *len, char **errmsg)
{
	static const char sql[] =
		"SELECT bag_info FROM archive_baginfo WHERE archive_id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, id);
	int r = sqlite3_step(st);
	enum cv_err rc = CV_OK;
	if (r == SQLITE_ROW) {
		*len = (size_t)sqlite3_column_bytes(st, 0);
		*out = xmalloc(*len + 1);
		memcpy(*out, sqlite3_column_blob(st, 0), *len);
		(*out)[*len] = '\0';
	} else if (r == SQLITE_DONE) {
		rc = cv_error(errmsg, CV_ENOTFOUND,
			"the store kept no "
			"bag-info.txt for this archive (written by an older "
			"callvault)");
	} else {
		rc = store_dberr(s, errmsg, "read bag-info");
	}
	sqlite3_reset(st);
	return rc;
}

enum cv_err store_ret_put_tagfile(struct store *s, int64_t id, const char *name,
	const void *p, size_t len, char **errmsg)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO archive_tagfiles"
		"(archive_id, name, content) VALUES (?, ?, ?)";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, p, (int)len, SQLITE_STATIC);
	return store_step_done(s, st, "keep a tag file", errmsg);
}

enum cv_err store_ret_get_tagfile(struct store *s, int64_t id, const char *name,
	unsigned char **out, size_t *len, char **errmsg)
{
	static const char sql[] = "SELECT content FROM archive_tagfiles"
				  " WHERE archive_id = ? AND name = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	enum cv_err rc = CV_OK;
	if (r == SQLITE_ROW) {
		*len = (size_t)sqlite3_column_bytes(st, 0);
		*out = xmalloc(*len + 1);
		if (*len)
			memcpy(*out, sqlite3_column_blob(st, 0), *len);
	} else if (r == SQLITE_DONE) {
		rc = CV_ENOTFOUND;
	} else {
		rc = store_dberr(s, errmsg, "read a tag file");
	}
	sqlite3_reset(st);
	return rc;
}

enum cv_err store_ret_archive_at(struct store *s, const char *path,
	struct store_archive *out, char **errmsg)
{
	static const char sql[] =
		"SELECT id FROM archives WHERE path = ? ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	int64_t id = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return store_dberr(s, errmsg, "find archive");
	if (!id)
		return cv_error(errmsg, CV_ENOTFOUND,
			"no archive recorded at "
			"%s",
			path);
	return store_ret_archive_by_id(s, id, out, errmsg);
}

enum cv_err store_ret_archive_rebuildable(struct store *s, int64_t id,
	int64_t *gone, int64_t *changed, char **errmsg)
{
	static const char sql[] =
		"SELECT coalesce(sum(NOT EXISTS (SELECT 1 FROM calls c"
		"  WHERE c.id = ac.call_id)), 0),"
		" coalesce(sum(ac.version_id < (SELECT max(w.id) FROM versions"
		"  w WHERE w.call_id = ac.call_id)), 0)"
		" FROM archive_calls ac WHERE ac.archive_id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, id);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*gone = sqlite3_column_int64(st, 0);
		*changed = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "rebuildable");
}

enum cv_err store_ret_archive_rebuilt(struct store *s, int64_t id,
	const char *sha256, int64_t size, char **errmsg)
{
	static const char sql[] = "UPDATE archives SET sha256 = ?, size = ?,"
				  " verified_at = NULL WHERE id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, size);
	sqlite3_bind_int64(st, 3, id);
	return store_step_done(s, st, "record rebuilt archive", errmsg);
}

enum cv_err store_ret_mark_verified_id(struct store *s, int64_t id,
	int64_t when, char **errmsg)
{
	static const char sql[] = "UPDATE archives SET verified_at ="
				  " max(?, written_at) WHERE id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, when);
	sqlite3_bind_int64(st, 2, id);
	return store_step_done(s, st, "verified", errmsg);
}
