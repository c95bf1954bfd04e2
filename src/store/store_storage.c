/* store_storage.c — S3 archive targets and remote archive records (see
 * store_storage.h). */
#include "store_int.h"
#include "store_holds.h"
#include "store_storage.h"

#include <stdlib.h>
#include <string.h>

#include "../util.h"

void store_storage_finish(struct store_storage *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->endpoint);
	free(t->bucket);
	free(t->prefix);
	free(t->region);
	free(t->access_key_file);
	free(t->secret_key_file);
	free(t->lock_mode);
	memset(t, 0, sizeof(*t));
}

void store_storages_free(struct store_storage *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_storage_finish(&v[i]);
	free(v);
}

static void storages_drop(void *v, size_t n)
{
	store_storages_free(v, n);
}

enum cv_err store_storage_add(struct store *s, const struct store_storage *t,
	const char *actor, char **errmsg)
{
	static const char clear[] = "UPDATE storage_targets SET is_default = 0";
	static const char sql[] =
		"INSERT INTO storage_targets(name, endpoint, bucket, prefix,"
		" region, path_style, access_key_file, secret_key_file,"
		" lock_mode, is_default, added_at, added_by)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
	enum cv_err rc = store_begin(s, errmsg);
	if (rc == CV_OK && t->is_default)
		rc = store_exec(s, clear, errmsg);
	sqlite3_stmt *st = rc == CV_OK ? store_stmt(s, sql, errmsg) : NULL;
	if (rc == CV_OK && !st)
		rc = CV_EDB;
	if (rc == CV_OK) {
		store_bind_text(st, 1, t->name);
		store_bind_text(st, 2, t->endpoint);
		store_bind_text(st, 3, t->bucket);
		store_bind_text(st, 4, t->prefix ? t->prefix : "");
		store_bind_text(st, 5, t->region);
		sqlite3_bind_int(st, 6, t->path_style);
		store_bind_text(st, 7, t->access_key_file);
		store_bind_text(st, 8, t->secret_key_file);
		store_bind_text(st, 9, t->lock_mode);
		sqlite3_bind_int(st, 10, t->is_default);
		sqlite3_bind_int64(st, 11, cv_now_ms());
		store_bind_text(st, 12, actor ? actor : "");
		int r = sqlite3_step(st);
		if (r == SQLITE_CONSTRAINT)
			rc = cv_error(errmsg, CV_EINVAL,
				"storage %s exists "
				"already",
				t->name);
		else if (r != SQLITE_DONE)
			rc = store_dberr(s, errmsg, "storage add");
		sqlite3_reset(st);
	}
	if (rc == CV_OK)
		return store_commit(s, errmsg);
	store_rollback(s);
	return rc;
}

#define STORAGE_COLS                                                           \
	"name, endpoint, bucket, prefix, region, path_style,"                  \
	" access_key_file, secret_key_file, lock_mode, is_default, added_at"

static void storage_row(sqlite3_stmt *st, void *elem)
{
	struct store_storage *t = elem;
	t->name = store_col_dup(st, 0);
	t->endpoint = store_col_dup(st, 1);
	t->bucket = store_col_dup(st, 2);
	t->prefix = store_col_dup(st, 3);
	t->region = store_col_dup(st, 4);
	t->path_style = sqlite3_column_int(st, 5) != 0;
	t->access_key_file = store_col_dup(st, 6);
	t->secret_key_file = store_col_dup(st, 7);
	t->lock_mode = store_col_dup(st, 8);
	t->is_default = sqlite3_column_int(st, 9) != 0;
	t->added_at = sqlite3_column_int64(st, 10);
}

enum cv_err store_storage_get(struct store *s, const char *name,
	struct store_storage *out, char **errmsg)
{
	static const char by_name[] = "SELECT " STORAGE_COLS
				      " FROM storage_targets WHERE name = ?";
	static const char dflt[] = "SELECT " STORAGE_COLS
				   " FROM storage_targets WHERE is_default = 1";
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = store_stmt(s, name ? by_name : dflt, errmsg);
	if (!st)
		return CV_EDB;
	if (name)
		store_bind_text(st, 1, name);
	int r = sqlite3_step(st);
	enum cv_err rc = CV_OK;
	if (r == SQLITE_ROW)
		storage_row(st, out);
	else if (r == SQLITE_DONE)
		rc = name ? cv_error(errmsg, CV_ENOTFOUND,
				    "no storage named "
				    "%s (callvault storage list)",
				    name)
			  : cv_error(errmsg, CV_ENOTFOUND,
				    "no default "
				    "storage");
	else
		rc = store_dberr(s, errmsg, "storage");
	sqlite3_reset(st);
	return rc;
}

enum cv_err store_storage_list(struct store *s, struct store_storage **out,
	size_t *n, char **errmsg)
{
	static const char sql[] = "SELECT " STORAGE_COLS
				  " FROM storage_targets ORDER BY name";
	void *v;
	enum cv_err rc = store_list(s, sql, sizeof(**out), storage_row,
		storages_drop, &v, n, "storage", errmsg);
	*out = v;
	return rc;
}

/* ---- remote copies ---- */

void store_remote_finish(struct store_remote *r)
{
	if (!r)
		return;
	free(r->target);
	free(r->url);
	free(r->key);
	free(r->version_id);
	free(r->etag);
	free(r->sha256);
	free(r->lock_mode);
	free(r->location_id);
	free(r->month);
	memset(r, 0, sizeof(*r));
}

void store_remotes_free(struct store_remote *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_remote_finish(&v[i]);
	free(v);
}

static void remotes_drop(void *v, size_t n)
{
	store_remotes_free(v, n);
}

static void remote_row(sqlite3_stmt *st, void *elem)
{
	struct store_remote *r = elem;
	r->archive_id = sqlite3_column_int64(st, 0);
	r->target = store_col_dup(st, 1);
	r->url = store_col_dup(st, 2);
	r->key = store_col_dup(st, 3);
	r->version_id = store_col_dup(st, 4);
	r->etag = store_col_dup(st, 5);
	r->sha256 = store_col_dup(st, 6);
	r->lock_mode = store_col_dup(st, 7);
	r->retain_until = sqlite3_column_int64(st, 8);
	r->legal_hold = sqlite3_column_int(st, 9) != 0;
	r->checked_at = sqlite3_column_int64(st, 10);
	r->location_id = store_col_dup(st, 11);
	r->month = store_col_dup(st, 12);
	r->seq = sqlite3_column_int(st, 13);
}

enum cv_err store_remote_add(struct store *s, const struct store_remote *r,
	char **errmsg)
{
	static const char sql[] =
		"INSERT INTO archive_remote(archive_id, target, url, key,"
		" version_id, etag, sha256, lock_mode, retain_until,"
		" legal_hold, checked_at) VALUES (?,?,?,?,?,?,?,?,?,?,NULL)";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, r->archive_id);
	store_bind_text(st, 2, r->target);
	store_bind_text(st, 3, r->url);
	store_bind_text(st, 4, r->key);
	store_bind_text(st, 5, r->version_id);
	store_bind_text(st, 6, r->etag);
	store_bind_text(st, 7, r->sha256);
	store_bind_text(st, 8, r->lock_mode);
	sqlite3_bind_int64(st, 9, r->retain_until);
	sqlite3_bind_int(st, 10, r->legal_hold);
	return store_step_done(s, st, "archive remote", errmsg);
}

enum cv_err store_remote_list(struct store *s, const char *url,
	struct store_remote **out, size_t *n, char **errmsg)
{
	static const char sql[] =
		"SELECT r.archive_id, r.target, r.url, r.key, r.version_id,"
		" r.etag, r.sha256, r.lock_mode, r.retain_until, r.legal_hold,"
		" coalesce(r.checked_at, 0), a.location_id, a.month, a.seq"
		" FROM archive_remote r JOIN archives a ON a.id = r.archive_id"
		" WHERE ?1 IS NULL OR r.url = ?1 ORDER BY r.archive_id";
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, url);
	void *v;
	enum cv_err rc = store_collect(s, st, sizeof(**out), remote_row,
		remotes_drop, &v, n, "archive remote", errmsg);
	*out = v;
	return rc;
}

enum cv_err store_remote_update(struct store *s, int64_t archive_id,
	const char *lock_mode, int64_t retain_until, bool legal_hold,
	int64_t checked_at, char **errmsg)
{
	static const char sql[] =
		"UPDATE archive_remote SET lock_mode = ?, retain_until = ?,"
		" legal_hold = ?, checked_at = coalesce(nullif(?, 0),"
		" checked_at) WHERE archive_id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, lock_mode);
	sqlite3_bind_int64(st, 2, retain_until);
	sqlite3_bind_int(st, 3, legal_hold);
	sqlite3_bind_int64(st, 4, checked_at);
	sqlite3_bind_int64(st, 5, archive_id);
	return store_step_done(s, st, "archive remote", errmsg);
}

enum cv_err store_remote_held(struct store *s, int64_t archive_id, bool *held,
	char **errmsg)
{
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM archive_calls ac"
		" JOIN calls c ON c.id = ac.call_id, holds h"
		" WHERE ac.archive_id = ? AND " STORE_HOLD_MATCH_SQL ")";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, archive_id);
	int r = sqlite3_step(st);
	*held = r == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "hold check");
}

/* ---- recordings in a target ---- */

void store_remote_blob_finish(struct store_remote_blob *b)
{
	if (!b)
		return;
	free(b->target);
	free(b->sha256);
	free(b->key);
	free(b->version_id);
	free(b->lock_mode);
	memset(b, 0, sizeof(*b));
}

void store_remote_blobs_free(struct store_remote_blob *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_remote_blob_finish(&v[i]);
	free(v);
}

static void remote_blobs_drop(void *v, size_t n)
{
	store_remote_blobs_free(v, n);
}

static void remote_blob_row(sqlite3_stmt *st, void *elem)
{
	struct store_remote_blob *b = elem;
	b->target = store_col_dup(st, 0);
	b->sha256 = store_col_dup(st, 1);
	b->key = store_col_dup(st, 2);
	b->version_id = store_col_dup(st, 3);
	b->size = sqlite3_column_int64(st, 4);
	b->lock_mode = store_col_dup(st, 5);
	b->retain_until = sqlite3_column_int64(st, 6);
	b->legal_hold = sqlite3_column_int(st, 7) != 0;
	b->checked_at = sqlite3_column_int64(st, 8);
}

enum cv_err store_remote_blob_put(struct store *s,
	const struct store_remote_blob *b, char **errmsg)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO remote_blobs(target, sha256, key,"
		" version_id, size, lock_mode, retain_until, legal_hold,"
		" checked_at) VALUES (?,?,?,?,?,?,?,?,nullif(?, 0))";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, b->target);
	store_bind_text(st, 2, b->sha256);
	store_bind_text(st, 3, b->key);
	store_bind_text(st, 4, b->version_id);
	sqlite3_bind_int64(st, 5, b->size);
	store_bind_text(st, 6, b->lock_mode);
	sqlite3_bind_int64(st, 7, b->retain_until);
	sqlite3_bind_int(st, 8, b->legal_hold);
	sqlite3_bind_int64(st, 9, b->checked_at);
	return store_step_done(s, st, "remote blob", errmsg);
}

enum cv_err store_remote_blob_list(struct store *s, const char *target,
	const char *sha256, struct store_remote_blob **out, size_t *n,
	char **errmsg)
{
	static const char sql[] =
		"SELECT target, sha256, key, version_id, size, lock_mode,"
		" retain_until, legal_hold, coalesce(checked_at, 0)"
		" FROM remote_blobs WHERE (?1 IS NULL OR target = ?1)"
		" AND (?2 IS NULL OR sha256 = ?2) ORDER BY target, sha256";
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, target);
	store_bind_text(st, 2, sha256);
	void *v;
	enum cv_err rc = store_collect(s, st, sizeof(**out), remote_blob_row,
		remote_blobs_drop, &v, n, "remote blob", errmsg);
	*out = v;
	return rc;
}

enum cv_err store_remote_blob_held(struct store *s, const char *sha256,
	bool *held, char **errmsg)
{
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM recordings r"
		" JOIN calls c ON c.message_id = r.message_id, holds h"
		" WHERE r.sha256 = ? AND " STORE_HOLD_MATCH_SQL ")";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, sha256);
	int r = sqlite3_step(st);
	*held = r == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "hold check");
}

enum cv_err store_remote_count(struct store *s, const char *target,
	int64_t *archives, int64_t *blobs, char **errmsg)
{
	static const char sql[] =
		"SELECT (SELECT count(*) FROM archive_remote WHERE target = ?1),"
		" (SELECT count(*) FROM remote_blobs WHERE target = ?1)";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, target);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*archives = sqlite3_column_int64(st, 0);
		*blobs = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "storage");
}

enum cv_err store_storage_remove(struct store *s, const char *name,
	char **errmsg)
{
	static const char sql[] = "DELETE FROM storage_targets WHERE name = ?";
	enum cv_err rc = store_exec_text(s, sql, name, "storage remove",
		errmsg);
	if (rc == CV_OK && sqlite3_changes(s->db) == 0)
		rc = cv_error(errmsg, CV_ENOTFOUND,
			"no storage named %s "
			"(callvault storage list)",
			name);
	return rc;
}

void store_blob_cover_finish(struct store_blob_cover *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->location_id[i]);
		free(c->month[i]);
	}
	free(c->location_id);
	free(c->month);
	memset(c, 0, sizeof(*c));
}

enum cv_err store_blob_cover(struct store *s, const char *sha256,
	struct store_blob_cover *out, char **errmsg)
{
	static const char rows[] =
		"SELECT count(*), coalesce(sum(NOT EXISTS (SELECT 1 FROM"
		" archive_media am WHERE am.message_id = r.message_id AND"
		" am.kind = 'recording' AND am.sha256 = r.sha256)), 0)"
		" FROM recordings r WHERE r.sha256 = ?";
	static const char months[] =
		"SELECT DISTINCT a.location_id, a.month FROM archive_media am"
		" JOIN archives a ON a.id = am.archive_id"
		" WHERE am.sha256 = ? AND am.kind = 'recording'"
		" ORDER BY a.month, a.location_id";
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = store_stmt(s, rows, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, sha256);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		out->rows = sqlite3_column_int64(st, 0);
		out->unarchived = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (r != SQLITE_ROW)
		return store_dberr(s, errmsg, "count a blob's rows");
	if (!(st = store_stmt(s, months, errmsg)))
		return CV_EDB;
	store_bind_text(st, 1, sha256);
	size_t cap = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 4;
			out->location_id = xrealloc(out->location_id,
				cap * sizeof(char *));
			out->month = xrealloc(out->month, cap * sizeof(char *));
		}
		out->location_id[out->n] = store_col_dup(st, 0);
		out->month[out->n++] = store_col_dup(st, 1);
	}
	sqlite3_reset(st);
	if (r == SQLITE_DONE)
		return CV_OK;
	store_blob_cover_finish(out);
	return store_dberr(s, errmsg, "read a blob's archives");
}
