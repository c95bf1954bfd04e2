/* store_users.c — see store_users.h */
#include "store_users.h"

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

void store_user_finish(struct store_user *u)
{
	free(u->name);
	free(u->role);
	free(u->permissions);
	free(u->pw_hash);
	memset(u, 0, sizeof(*u));
}

void store_session_finish(struct store_session *ss)
{
	free(ss->user);
	free(ss->role);
	free(ss->permissions);
	free(ss->csrf);
	memset(ss, 0, sizeof(*ss));
}

/* Step a write statement to its end. */
enum cv_err store_user_add(struct store *s, const char *name, const char *role,
	const char *permissions, const char *pw_hash, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO users(name, role, permissions, pw_hash, disabled,"
		" created_at) VALUES (?, ?, ?, ?, 0,"
		" strftime('%s','now') * 1000)"
		" ON CONFLICT(name) DO NOTHING";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, role);
	store_bind_text(st, 3, permissions);
	store_bind_text(st, 4, pw_hash);
	enum cv_err rc = store_step_done(s, st, "adding a user", errmsg);
	if (rc == CV_OK && sqlite3_changes(s->db) == 0)
		rc = cv_error(errmsg, CV_EINVAL, "user %s exists", name);
	return rc;
}

static void read_user(sqlite3_stmt *st, struct store_user *u)
{
	u->name = store_col_dup(st, 0);
	u->role = store_col_dup(st, 1);
	u->pw_hash = store_col_dup(st, 2);
	u->disabled = sqlite3_column_int(st, 3) != 0;
	u->created_at = sqlite3_column_int64(st, 4);
	u->permissions = store_col_dup(st, 5);
}

enum cv_err store_user_get(struct store *s, const char *name,
	struct store_user *out, char **errmsg)
{
	static const char sql[] = "SELECT name, role, pw_hash, disabled,"
				  " created_at, permissions FROM users"
				  " WHERE name = ?";
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, name);
	int r = sqlite3_step(st);
	enum cv_err rc = CV_OK;
	if (r == SQLITE_ROW)
		read_user(st, out);
	else if (r == SQLITE_DONE)
		rc = cv_error(errmsg, CV_ENOTFOUND, "no user %s", name);
	else
		rc = store_dberr(s, errmsg, "reading a user");
	sqlite3_reset(st);
	return rc;
}

typedef int (*user_fn)(const struct store_user *u, void *arg);

static int user_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_user u;
	read_user(st, &u);
	int stop = ((user_fn)fn)(&u, arg);
	store_user_finish(&u);
	return stop;
}

enum cv_err store_user_each(struct store *s,
	int (*fn)(const struct store_user *u, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] = "SELECT name, role, pw_hash, disabled,"
				  " created_at, permissions FROM users"
				  " ORDER BY name";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	return store_each(s, st, user_row, (store_fn)fn, arg, CV_OK,
		"listing users", errmsg);
}

/* Run a write of a user (?1) with up to two more parameters and say
 * CV_ENOTFOUND when no user changed. */
static enum cv_err user_write(struct store *s, const char *sql,
	const char *name, const char *extra, const char *extra2, char **errmsg)
{
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, name);
	if (extra)
		store_bind_text(st, 2, extra);
	if (extra2)
		store_bind_text(st, 3, extra2);
	enum cv_err rc = store_step_done(s, st, "changing a user", errmsg);
	if (rc == CV_OK && sqlite3_changes(s->db) == 0)
		rc = cv_error(errmsg, CV_ENOTFOUND, "no user %s", name);
	return rc;
}

static enum cv_err end_sessions(struct store *s, const char *name,
	char **errmsg)
{
	static const char sql[] = "DELETE FROM sessions WHERE user = ?";
	return store_exec_text(s, sql, name, "ending sessions", errmsg);
}

enum cv_err store_user_disable(struct store *s, const char *name, char **errmsg)
{
	static const char sql[] = "UPDATE users SET disabled = 1"
				  " WHERE name = ?";
	static const char tok[] = "DELETE FROM api_tokens WHERE user = ?";
	enum cv_err rc = store_begin(s, errmsg);
	if (rc != CV_OK)
		return rc;
	rc = user_write(s, sql, name, NULL, NULL, errmsg);
	if (rc == CV_OK)
		rc = end_sessions(s, name, errmsg);
	sqlite3_stmt *st = rc == CV_OK ? store_stmt(s, tok, errmsg) : NULL;
	if (rc == CV_OK && !st)
		rc = CV_EDB;
	if (st) {
		store_bind_text(st, 1, name);
		rc = store_step_done(s, st, "removing the token", errmsg);
	}
	if (rc == CV_OK)
		return store_commit(s, errmsg);
	store_rollback(s);
	return rc;
}

enum cv_err store_user_set_password(struct store *s, const char *name,
	const char *pw_hash, char **errmsg)
{
	static const char sql[] = "UPDATE users SET pw_hash = ?2"
				  " WHERE name = ?1";
	enum cv_err rc = store_begin(s, errmsg);
	if (rc != CV_OK)
		return rc;
	rc = user_write(s, sql, name, pw_hash, NULL, errmsg);
	if (rc == CV_OK)
		rc = end_sessions(s, name, errmsg);
	if (rc == CV_OK)
		return store_commit(s, errmsg);
	store_rollback(s);
	return rc;
}

enum cv_err store_user_set_permissions(struct store *s, const char *name,
	const char *role, const char *permissions, char **errmsg)
{
	static const char sql[] = "UPDATE users SET role = ?2,"
				  " permissions = ?3 WHERE name = ?1";
	return user_write(s, sql, name, role, permissions, errmsg);
}

enum cv_err store_user_matter(struct store *s, const char *name,
	const char *matter, bool add, char **errmsg)
{
	static const char ins[] =
		"INSERT OR IGNORE INTO user_matters(user, matter)"
		" SELECT name, ?2 FROM users WHERE name = ?1";
	static const char del[] =
		"DELETE FROM user_matters WHERE user = ?1 AND matter = ?2";
	sqlite3_stmt *st = store_stmt(s, add ? ins : del, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, matter);
	enum cv_err rc = store_step_done(s, st, "changing matters", errmsg);
	if (rc != CV_OK || sqlite3_changes(s->db) != 0)
		return rc;
	struct store_user u;
	rc = store_user_get(s, name, &u, errmsg);
	if (rc != CV_OK)
		return rc;
	store_user_finish(&u);
	/* adding one the user has is no change; dropping one they lack is
	 * a mistake worth saying */
	return add ? CV_OK
		   : cv_error(errmsg, CV_ENOTFOUND, "%s is not a matter of %s",
			     matter, name);
}

enum cv_err store_user_has_matter(struct store *s, const char *name,
	const char *matter, bool *has, char **errmsg)
{
	static const char sql[] = "SELECT EXISTS (SELECT 1 FROM user_matters"
				  " WHERE user = ? AND matter = ?)";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, matter);
	int r = sqlite3_step(st);
	*has = r == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "matters");
}

enum cv_err store_user_each_matter(struct store *s, const char *name,
	int (*fn)(const char *matter, void *arg), void *arg, char **errmsg)
{
	static const char sql[] = "SELECT matter FROM user_matters"
				  " WHERE user = ? ORDER BY matter";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, name);
	return store_each(s, st, store_text_row, (store_fn)fn, arg, CV_OK,
		"listing matters", errmsg);
}

enum cv_err store_session_create(struct store *s, const char *id_hash,
	const char *user, const char *csrf, int64_t now, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO sessions(id_hash, user, csrf, created_at,"
		" last_seen) VALUES (?, ?, ?, ?, ?)";
	static const char gc[] = "DELETE FROM sessions WHERE last_seen < ?";
	sqlite3_stmt *st = store_stmt(s, gc, errmsg);
	if (!st)
		return CV_EDB;
	/* sessions idle for a day are dead under any configuration */
	sqlite3_bind_int64(st, 1, now - 86400000);
	enum cv_err rc = store_step_done(s, st, "expiring sessions", errmsg);
	if (rc != CV_OK || !(st = store_stmt(s, sql, errmsg)))
		return rc != CV_OK ? rc : CV_EDB;
	store_bind_text(st, 1, id_hash);
	store_bind_text(st, 2, user);
	store_bind_text(st, 3, csrf);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now);
	return store_step_done(s, st, "creating a session", errmsg);
}

enum cv_err store_session_get(struct store *s, const char *id_hash,
	struct store_session *out, char **errmsg)
{
	static const char sql[] =
		"SELECT s.user, u.role, s.csrf, s.created_at, s.last_seen,"
		" u.permissions"
		" FROM sessions s JOIN users u ON u.name = s.user"
		" WHERE s.id_hash = ? AND u.disabled = 0";
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, id_hash);
	int r = sqlite3_step(st);
	enum cv_err rc = CV_OK;
	if (r == SQLITE_ROW) {
		out->user = store_col_dup(st, 0);
		out->role = store_col_dup(st, 1);
		out->csrf = store_col_dup(st, 2);
		out->created_at = sqlite3_column_int64(st, 3);
		out->last_seen = sqlite3_column_int64(st, 4);
		out->permissions = store_col_dup(st, 5);
	} else if (r == SQLITE_DONE) {
		rc = cv_error(errmsg, CV_ENOTFOUND, "no such session");
	} else {
		rc = store_dberr(s, errmsg, "reading a session");
	}
	sqlite3_reset(st);
	return rc;
}

enum cv_err store_session_touch(struct store *s, const char *id_hash,
	int64_t now, char **errmsg)
{
	static const char sql[] = "UPDATE sessions SET last_seen = ?2"
				  " WHERE id_hash = ?1";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, id_hash);
	sqlite3_bind_int64(st, 2, now);
	return store_step_done(s, st, "touching a session", errmsg);
}

enum cv_err store_session_delete(struct store *s, const char *id_hash,
	char **errmsg)
{
	static const char sql[] = "DELETE FROM sessions WHERE id_hash = ?";
	return store_exec_text(s, sql, id_hash, "ending a session", errmsg);
}

enum cv_err store_login_failure_add(struct store *s, const char *key,
	int64_t now, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO login_failures(key, ts) VALUES (?, ?)";
	static const char gc[] = "DELETE FROM login_failures WHERE ts < ?";
	sqlite3_stmt *st = store_stmt(s, gc, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, now - 86400000);
	enum cv_err rc = store_step_done(s, st, "expiring failures", errmsg);
	if (rc != CV_OK || !(st = store_stmt(s, sql, errmsg)))
		return rc != CV_OK ? rc : CV_EDB;
	store_bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, now);
	return store_step_done(s, st, "recording a failed login", errmsg);
}

enum cv_err store_login_failure_count(struct store *s, const char *key,
	int64_t since, int64_t *n, char **errmsg)
{
	static const char sql[] = "SELECT count(*) FROM login_failures"
				  " WHERE key = ? AND ts >= ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, since);
	enum cv_err rc = CV_OK;
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		rc = store_dberr(s, errmsg, "counting failed logins");
	sqlite3_reset(st);
	return rc;
}

enum cv_err store_login_failure_nth(struct store *s, const char *key,
	int64_t since, int64_t skip, int64_t *ts, char **errmsg)
{
	static const char sql[] = "SELECT ts FROM login_failures"
				  " WHERE key = ? AND ts >= ?"
				  " ORDER BY ts LIMIT 1 OFFSET ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, skip);
	enum cv_err rc = CV_OK;
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*ts = sqlite3_column_int64(st, 0);
	else if (r == SQLITE_DONE)
		rc = cv_error(errmsg, CV_ENOTFOUND, "no such failure");
	else
		rc = store_dberr(s, errmsg, "reading failed logins");
	sqlite3_reset(st);
	return rc;
}

enum cv_err store_token_set(struct store *s, const char *user,
	const char *token_hash, int64_t now, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO api_tokens(user, token_hash, created_at)"
		" VALUES (?, ?, ?) ON CONFLICT(user) DO UPDATE SET"
		" token_hash = excluded.token_hash,"
		" created_at = excluded.created_at";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, user);
	store_bind_text(st, 2, token_hash);
	sqlite3_bind_int64(st, 3, now);
	return store_step_done(s, st, "setting a token", errmsg);
}

enum cv_err store_token_user(struct store *s, const char *token_hash,
	struct store_user *out, char **errmsg)
{
	static const char sql[] =
		"SELECT u.name, u.role, '', u.disabled, u.created_at,"
		" u.permissions"
		" FROM api_tokens t JOIN users u ON u.name = t.user"
		" WHERE t.token_hash = ? AND u.disabled = 0";
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, token_hash);
	int r = sqlite3_step(st);
	enum cv_err rc = CV_OK;
	if (r == SQLITE_ROW)
		read_user(st, out);
	else if (r == SQLITE_DONE)
		rc = cv_error(errmsg, CV_ENOTFOUND, "no such token");
	else
		rc = store_dberr(s, errmsg, "reading a token");
	sqlite3_reset(st);
	return rc;
}
