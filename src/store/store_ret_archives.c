/*
 * store_ret_archives.c — see store_retention.h: the records of archives
 * written (archive records) and the retention policies.
 */
#include "store_retention.h"

#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "store_int.h"

/* the walkers' callbacks (store_retention.h) */
typedef int (*archive_fn)(const struct store_archive *a, void *arg);
typedef int (*policy_fn)(const struct store_policy *p, void *arg);

/* ---- archive records ---- */

void store_archive_finish(struct store_archive *a)
{
	if (!a)
		return;
	free(a->location_id);
	free(a->month);
	free(a->path);
	free(a->sha256);
	free(a->tagmanifest_sha256);
	free(a->prev_tagmanifest_sha256);
	memset(a, 0, sizeof(*a));
}

#define ARCHIVE_COLS                                                           \
	"id, location_id, month, seq, chain_index, path, sha256,"              \
	" tagmanifest_sha256, prev_tagmanifest_sha256, n_calls, n_versions,"   \
	" n_events, payload_bytes, size, max_version_id, written_at,"          \
	" coalesce(verified_at, 0)"

static void archive_from_row(sqlite3_stmt *st, struct store_archive *a)
{
	a->id = sqlite3_column_int64(st, 0);
	a->location_id = store_col_dup(st, 1);
	a->month = store_col_dup(st, 2);
	a->seq = sqlite3_column_int(st, 3);
	a->chain_index = sqlite3_column_int(st, 4);
	a->path = store_col_dup(st, 5);
	a->sha256 = store_col_dup(st, 6);
	a->tagmanifest_sha256 = store_col_dup(st, 7);
	a->prev_tagmanifest_sha256 = store_col_dup(st, 8);
	a->n_calls = sqlite3_column_int64(st, 9);
	a->n_versions = sqlite3_column_int64(st, 10);
	a->n_events = sqlite3_column_int64(st, 11);
	a->payload_bytes = sqlite3_column_int64(st, 12);
	a->size = sqlite3_column_int64(st, 13);
	a->max_version_id = sqlite3_column_int64(st, 14);
	a->written_at = sqlite3_column_int64(st, 15);
	a->verified_at = sqlite3_column_int64(st, 16);
}

static enum cv_err one_archive(struct store *s, sqlite3_stmt *st,
	struct store_archive *out, char **errmsg)
{
	memset(out, 0, sizeof(*out));
	int r = sqlite3_step(st);
	enum cv_err rc = CV_OK;
	if (r == SQLITE_ROW)
		archive_from_row(st, out);
	else if (r == SQLITE_DONE)
		rc = cv_error(errmsg, CV_ENOTFOUND, "no such archive");
	else
		rc = store_dberr(s, errmsg, "read archive");
	sqlite3_reset(st);
	return rc;
}

enum cv_err store_ret_last_archive(struct store *s, const char *location,
	const char *month, struct store_archive *out, char **errmsg)
{
	static const char sql[] =
		"SELECT " ARCHIVE_COLS " FROM archives WHERE location_id = ?1"
		" AND (?2 IS NULL OR month = ?2) ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, location, -1, SQLITE_STATIC);
	store_bind_text(st, 2, month);
	return one_archive(s, st, out, errmsg);
}

enum cv_err store_ret_find_archive(struct store *s, const char *sha256,
	const char *location, int chain_index, struct store_archive *out,
	char **errmsg)
{
	static const char sql[] =
		"SELECT " ARCHIVE_COLS " FROM archives"
		" WHERE (?1 IS NOT NULL AND sha256 = ?1) OR (?1 IS NULL"
		"  AND location_id = ?2 AND chain_index = ?3)"
		" ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, sha256);
	store_bind_text(st, 2, location);
	sqlite3_bind_int(st, 3, chain_index);
	return one_archive(s, st, out, errmsg);
}

enum cv_err store_ret_archive_by_id(struct store *s, int64_t id,
	struct store_archive *out, char **errmsg)
{
	static const char sql[] = "SELECT " ARCHIVE_COLS
				  " FROM archives WHERE id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, id);
	return one_archive(s, st, out, errmsg);
}

static int archive_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_archive a;
	archive_from_row(st, &a);
	int stop = ((archive_fn)fn)(&a, arg);
	store_archive_finish(&a);
	return stop;
}

enum cv_err store_ret_each_archive(struct store *s,
	int (*fn)(const struct store_archive *a, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] = "SELECT " ARCHIVE_COLS
				  " FROM archives ORDER BY id";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	return store_each(s, st, archive_row, (store_fn)fn, arg, CV_EINVAL,
		"read archives", errmsg);
}

enum cv_err store_ret_add_archive(struct store *s, struct store_archive *a,
	char *const *call_ids, const int64_t *version_ids, size_t n,
	char **errmsg)
{
	static const char ins[] =
		"INSERT INTO archives(location_id, month, seq, chain_index,"
		" path, sha256, tagmanifest_sha256, prev_tagmanifest_sha256,"
		" n_calls, n_versions, n_events, payload_bytes, size,"
		" max_version_id, written_at, verified_at) VALUES (?, ?, ?,"
		" ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)";
	static const char ins_call[] =
		"INSERT INTO archive_calls(call_id, archive_id, version_id)"
		" VALUES (?, ?, ?)";
	sqlite3_stmt *st = store_stmt(s, ins, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, a->location_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->month, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, a->seq);
	sqlite3_bind_int(st, 4, a->chain_index);
	sqlite3_bind_text(st, 5, a->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, a->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, a->tagmanifest_sha256, -1, SQLITE_STATIC);
	store_bind_text(st, 8, a->prev_tagmanifest_sha256);
	int64_t nums[] = { a->n_calls, a->n_versions, a->n_events,
		a->payload_bytes, a->size, a->max_version_id, a->written_at };
	for (int i = 0; i < (int)CV_ARRAY_LEN(nums); i++)
		sqlite3_bind_int64(st, 9 + i, nums[i]);
	enum cv_err rc = store_step_done(s, st, "record archive", errmsg);
	if (rc != CV_OK)
		return rc;
	a->id = sqlite3_last_insert_rowid(s->db);
	for (size_t i = 0; rc == CV_OK && i < n; i++) {
		if (!(st = store_stmt(s, ins_call, errmsg)))
			return CV_EDB;
		sqlite3_bind_text(st, 1, call_ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, a->id);
		sqlite3_bind_int64(st, 3, version_ids[i]);
		rc = store_step_done(s, st, "record archive call", errmsg);
	}
	return rc;
}

enum cv_err store_ret_mark_verified(struct store *s, const char *sha256,
	int64_t when, int *n, char **errmsg)
{
	static const char sql[] =
		"UPDATE archives SET verified_at = max(?, written_at)"
		" WHERE sha256 = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, when);
	sqlite3_bind_text(st, 2, sha256, -1, SQLITE_STATIC);
	enum cv_err rc = store_step_done(s, st, "verified", errmsg);
	*n = sqlite3_changes(s->db);
	return rc;
}

/* ---- policies ---- */

enum cv_err store_ret_set_policy(struct store *s, const char *location,
	int keep_months, const char *actor, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO retention_policies(location_id, keep_months,"
		" set_at, set_by) VALUES (?, ?, ?, ?)"
		" ON CONFLICT(location_id) DO UPDATE SET"
		" keep_months = excluded.keep_months,"
		" set_at = excluded.set_at, set_by = excluded.set_by";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, location ? location : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, keep_months);
	sqlite3_bind_int64(st, 3, cv_now_ms());
	sqlite3_bind_text(st, 4, actor, -1, SQLITE_STATIC);
	return store_step_done(s, st, "policy", errmsg);
}

static int policy_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_policy p = {
		.location = (const char *)sqlite3_column_text(st, 0),
		.keep_months = sqlite3_column_int(st, 1),
		.set_at = sqlite3_column_int64(st, 2),
		.set_by = (const char *)sqlite3_column_text(st, 3),
	};
	return ((policy_fn)fn)(&p, arg);
}

enum cv_err store_ret_each_policy(struct store *s,
	int (*fn)(const struct store_policy *p, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] =
		"SELECT location_id, keep_months, set_at, set_by"
		" FROM retention_policies ORDER BY location_id";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	return store_each(s, st, policy_row, (store_fn)fn, arg, CV_EINVAL,
		"read policies", errmsg);
}

enum cv_err store_ret_policy_for(struct store *s, const char *location,
	int *keep_months, char **errmsg)
{
	static const char sql[] = "SELECT keep_months FROM retention_policies"
				  " WHERE location_id IN (?1, '')"
				  " ORDER BY location_id = '' LIMIT 1";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, location ? location : "", -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	*keep_months = r == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE
		       ? CV_OK
		       : store_dberr(s, errmsg, "policy");
}

enum cv_err store_ret_locations(struct store *s, char ***out, size_t *n,
	char **errmsg)
{
	static const char sql[] =
		"SELECT DISTINCT coalesce(location_id, '') FROM calls ORDER BY 1";
	void *v;
	enum cv_err rc = store_list(s, sql, sizeof(**out), store_text_fill,
		store_texts_drop, &v, n, "locations", errmsg);
	*out = v;
	return rc;
}
