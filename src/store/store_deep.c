/* store_deep.c — see store_deep.h */
#include "store_deep.h"

#include "../util.h"
#include "store_int.h"

static enum cv_err fill(struct store *s, const char *sql, int64_t id,
	char **errmsg)
{
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, id);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? CV_OK : store_dberr(s, errmsg, "deep");
}

enum cv_err store_deep_begin(struct store *s, int64_t archive_id,
	char **errmsg)
{
	/* the archive's calls at their recorded version, and every
	 * version up to it, by hash: one join instead of a question per
	 * line */
	static const char calls[] =
		"INSERT OR IGNORE INTO temp.deep_calls(sha, call_id)"
		" SELECT v.canonical_sha256, ac.call_id FROM archive_calls ac"
		" JOIN versions v ON v.id = ac.version_id"
		" WHERE ac.archive_id = ?";
	static const char versions[] =
		"INSERT OR IGNORE INTO temp.deep_versions(call_id, sha)"
		" SELECT v.call_id, v.canonical_sha256 FROM archive_calls ac"
		" JOIN versions v ON v.call_id = ac.call_id"
		"  AND v.id <= ac.version_id WHERE ac.archive_id = ?";
	/* on disk, not in memory (the store's setting): a month may hold
	 * 200,000 calls, and verify stays within 64 MiB */
	enum cv_err rc = store_exec(s, "PRAGMA temp_store = FILE;"
		"CREATE TEMP TABLE IF NOT EXISTS deep_seen("
		" call_id TEXT PRIMARY KEY) WITHOUT ROWID;"
		"CREATE TEMP TABLE IF NOT EXISTS deep_calls(sha TEXT,"
		" call_id TEXT, PRIMARY KEY(sha, call_id)) WITHOUT ROWID;"
		"CREATE TEMP TABLE IF NOT EXISTS deep_versions(call_id TEXT,"
		" sha TEXT, PRIMARY KEY(call_id, sha)) WITHOUT ROWID;"
		"DELETE FROM temp.deep_seen; DELETE FROM temp.deep_calls;"
		"DELETE FROM temp.deep_versions;", errmsg);
	/* changing temp_store drops every temp table, the holds' too: a
	 * hold check after a deep verify (storage verify --deep) needs
	 * them back (holding every call until the holds are evaluated) */
	if (rc == CV_OK)
		rc = store_holds_temp_create(s, errmsg);
	if (rc == CV_OK)
		rc = fill(s, calls, archive_id, errmsg);
	if (rc == CV_OK)
		rc = fill(s, versions, archive_id, errmsg);
	return rc;
}

static enum cv_err seen(struct store *s, const char *call_id, bool *dup,
	char **errmsg);

enum cv_err store_deep_call_fast(struct store *s, const char *sha,
	bool *found, enum store_deep_state *out, char **errmsg)
{
	static const char sql[] =
		"SELECT call_id FROM temp.deep_calls WHERE sha = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	enum cv_err rc = CV_OK;
	bool dup = false;
	*found = r == SQLITE_ROW;
	if (r == SQLITE_ROW)
		rc = seen(s, (const char *)sqlite3_column_text(st, 0), &dup,
			errmsg);
	else if (r != SQLITE_DONE)
		rc = store_dberr(s, errmsg, "deep");
	sqlite3_reset(st);
	*out = dup ? DEEP_DUPLICATE : DEEP_MATCH;
	return rc;
}

enum cv_err store_deep_version_fast(struct store *s, const char *call_id,
	const char *sha, bool *found, char **errmsg)
{
	static const char sql[] = "SELECT 1 FROM temp.deep_versions"
				  " WHERE call_id = ? AND sha = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	*found = r == SQLITE_ROW;
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE
		? CV_OK : store_dberr(s, errmsg, "deep");
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
