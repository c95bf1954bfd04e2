/* store_media_arch.c — see store_media_arch.h */
#include "store_media_arch.h"

#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "store_int.h"

static void bind_media(sqlite3_stmt *st, int64_t archive_id,
	const char *message_id, enum media_kind kind, const char *sha256)
{
	sqlite3_bind_int64(st, 1, archive_id);
	store_bind_text(st, 2, message_id);
	store_bind_text(st, 3, media_kind_name(kind));
	store_bind_text(st, 4, sha256);
}

enum cv_err store_arch_media_add(struct store *s, int64_t archive_id,
	const char *message_id, enum media_kind kind, const char *sha256,
	char **errmsg)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO archive_media(archive_id, message_id,"
		" kind, sha256) VALUES (?, ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	bind_media(st, archive_id, message_id, kind, sha256);
	return store_step_done(s, st, "record archive media", errmsg);
}

enum cv_err store_arch_media_has(struct store *s, int64_t archive_id,
	const char *message_id, enum media_kind kind, const char *sha256,
	bool *has, char **errmsg)
{
	static const char sql[] =
		"SELECT 1 FROM archive_media WHERE archive_id = ?"
		" AND message_id = ? AND kind = ? AND sha256 = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	bind_media(st, archive_id, message_id, kind, sha256);
	int r = sqlite3_step(st);
	*has = r == SQLITE_ROW;
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE
		       ? CV_OK
		       : store_dberr(s, errmsg, "read archive media");
}

void store_transcriptions_free(struct store_transcription *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		store_transcription_clear(&v[i]);
	free(v);
}

static void transcriptions_drop(void *v, size_t n)
{
	store_transcriptions_free(v, n);
}

void store_transcription_row(sqlite3_stmt *st, void *elem)
{
	struct store_transcription *t = elem;
	t->id = sqlite3_column_int64(st, 0);
	t->message_id = store_col_dup(st, 1);
	t->location_id = store_col_dup(st, 2);
	t->sha256 = store_col_dup(st, 3);
	t->source = store_col_dup(st, 4);
	t->len = (size_t)sqlite3_column_bytes(st, 5);
	t->body = xmalloc(t->len + 1);
	if (t->len)
		memcpy(t->body, sqlite3_column_blob(st, 5), t->len);
	t->body[t->len] = '\0';
	t->fetched_at = sqlite3_column_int64(st, 6);
}

enum cv_err store_transcriptions_of_message(struct store *s,
	const char *message_id, struct store_transcription **out, size_t *n,
	char **errmsg)
{
	static const char sql[] =
		"SELECT id, message_id, location_id, sha256, source, body,"
		" fetched_at FROM transcriptions WHERE message_id = ?"
		" ORDER BY id";
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, message_id);
	void *v;
	enum cv_err rc = store_collect(s, st, sizeof(**out),
		store_transcription_row, transcriptions_drop, &v, n,
		"read transcriptions", errmsg);
	*out = v;
	return rc;
}

enum cv_err store_call_message_id(struct store *s, const char *call_id,
	char **out, char **errmsg)
{
	static const char sql[] = "SELECT message_id FROM calls WHERE id = ?";
	*out = NULL;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, call_id);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*out = store_col_dup(st, 0);
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE
		       ? CV_OK
		       : store_dberr(s, errmsg, "read a call's message");
}

enum cv_err store_message_calls(struct store *s, const char *message_id,
	int64_t *n, char **errmsg)
{
	static const char sql[] =
		"SELECT count(*) FROM calls WHERE message_id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, message_id);
	int r = sqlite3_step(st);
	*n = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "count calls");
}
