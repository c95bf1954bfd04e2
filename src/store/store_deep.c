/* store_deep.c — see store_deep.h */
#include "store_deep.h"

#include "../util.h"
#include "store_int.h"

enum cv_err store_deep_begin(struct store *s, int64_t archive_id,
	char **errmsg)
{
	enum cv_err rc = store_exec(s, "CREATE TEMP TABLE IF NOT EXISTS"
		" deep_seen(call_id TEXT PRIMARY KEY) WITHOUT ROWID", errmsg);
	return rc == CV_OK ? store_exec(s, "DELETE FROM temp.deep_seen",
				     errmsg)
			   : rc;
}

/* One row, three ints: recorded here, a version matches, the call's
 * versions remain. */
static enum cv_err ask(struct store *s, const char *sql, int64_t archive_id,
	const char *call_id, const char *sha, enum store_deep_state *out,
	char **errmsg)
{
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, archive_id);
	sqlite3_bind_text(st, 2, call_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sha, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		if (!sqlite3_column_int(st, 0))
			*out = DEEP_NOT_RECORDED;
		else if (sqlite3_column_int(st, 1))
			*out = DEEP_MATCH;
		else
			*out = sqlite3_column_int(st, 2) ? DEEP_OTHER
							 : DEEP_GONE;
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "deep");
}

static enum cv_err seen(struct store *s, const char *call_id, bool *dup,
	char **errmsg)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO temp.deep_seen(call_id) VALUES (?)";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	*dup = sqlite3_changes(s->db) == 0;
	sqlite3_reset(st);
	return r == SQLITE_DONE ? CV_OK : store_dberr(s, errmsg, "deep seen");
}

enum cv_err store_deep_call(struct store *s, int64_t archive_id,
	const char *call_id, const char *sha, enum store_deep_state *st,
	char **errmsg)
{
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM archive_calls"
		"   WHERE archive_id = ?1 AND call_id = ?2),"
		" EXISTS (SELECT 1 FROM archive_calls ac JOIN versions v"
		"   ON v.id = ac.version_id WHERE ac.archive_id = ?1"
		"   AND ac.call_id = ?2 AND v.canonical_sha256 = ?3),"
		" EXISTS (SELECT 1 FROM versions WHERE call_id = ?2)";
	bool dup = false;
	enum cv_err rc = ask(s, sql, archive_id, call_id, sha, st, errmsg);
	if (rc == CV_OK && *st != DEEP_NOT_RECORDED)
		rc = seen(s, call_id, &dup, errmsg);
	if (rc == CV_OK && dup)
		*st = DEEP_DUPLICATE;
	return rc;
}

enum cv_err store_deep_version(struct store *s, int64_t archive_id,
	const char *call_id, const char *sha, enum store_deep_state *st,
	char **errmsg)
{
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM archive_calls"
		"   WHERE archive_id = ?1 AND call_id = ?2),"
		" EXISTS (SELECT 1 FROM archive_calls ac JOIN versions v"
		"   ON v.call_id = ac.call_id AND v.id <= ac.version_id"
		"   WHERE ac.archive_id = ?1 AND ac.call_id = ?2"
		"   AND v.canonical_sha256 = ?3),"
		" EXISTS (SELECT 1 FROM versions WHERE call_id = ?2)";
	return ask(s, sql, archive_id, call_id, sha, st, errmsg);
}

enum cv_err store_deep_unseen(struct store *s, int64_t archive_id,
	int64_t *n, char **errmsg)
{
	static const char sql[] =
		"SELECT count(*) FROM archive_calls WHERE archive_id = ?"
		" AND call_id NOT IN (SELECT call_id FROM temp.deep_seen)";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, archive_id);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "deep unseen");
}
