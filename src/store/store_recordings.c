/* store_recordings.c — see store_recordings.h */
#include "store_recordings.h"

#include <stdlib.h>
#include <string.h>

#include "../hash.h"
#include "../util.h"
#include "store_int.h"

#define REC_COLS                                                               \
	"r.id, r.message_id, r.location_id, r.sha256, r.size,"                 \
	" r.content_type, r.duration_ms, r.sample_rate, r.channels,"           \
	" r.fetched_at, r.source"

static void rec_read(sqlite3_stmt *st, void *elem)
{
	struct store_recording *r = elem;
	r->id = sqlite3_column_int64(st, 0);
	r->message_id = store_col_dup(st, 1);
	r->location_id = store_col_dup(st, 2);
	r->sha256 = store_col_dup(st, 3);
	r->size = sqlite3_column_int64(st, 4);
	r->content_type = store_col_dup(st, 5);
	r->duration_ms = sqlite3_column_type(st, 6) == SQLITE_NULL
				 ? -1
				 : sqlite3_column_int64(st, 6);
	r->sample_rate = sqlite3_column_int(st, 7);
	r->channels = sqlite3_column_int(st, 8);
	r->fetched_at = sqlite3_column_int64(st, 9);
	r->source = store_col_dup(st, 10);
}

static void rec_clear(struct store_recording *r)
{
	free(r->message_id);
	free(r->location_id);
	free(r->sha256);
	free(r->content_type);
	free(r->source);
}

void store_recordings_free(struct store_recording *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		rec_clear(&v[i]);
	free(v);
}

static void recordings_drop(void *v, size_t n)
{
	store_recordings_free(v, n);
}

enum cv_err store_recording_add(struct store *s,
	const struct store_recording *r, bool *added, char **errmsg)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO recordings(message_id, location_id,"
		" sha256, size, content_type, duration_ms, sample_rate,"
		" channels, fetched_at, source)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, r->message_id);
	store_bind_text(st, 2, r->location_id ? r->location_id : "");
	store_bind_text(st, 3, r->sha256);
	sqlite3_bind_int64(st, 4, r->size);
	store_bind_text(st, 5, r->content_type ? r->content_type : "");
	if (r->duration_ms >= 0)
		sqlite3_bind_int64(st, 6, r->duration_ms);
	else
		sqlite3_bind_null(st, 6);
	if (r->sample_rate > 0)
		sqlite3_bind_int(st, 7, r->sample_rate);
	else
		sqlite3_bind_null(st, 7);
	if (r->channels > 0)
		sqlite3_bind_int(st, 8, r->channels);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_int64(st, 9, r->fetched_at);
	store_bind_text(st, 10, r->source ? r->source : "api");
	enum cv_err rc = store_step_done(s, st, "record a recording", errmsg);
	if (rc == CV_OK && added)
		*added = sqlite3_changes(s->db) > 0;
	return rc;
}

/* Collect the rows of a prepared statement whose columns are REC_COLS. */
static enum cv_err rec_collect(struct store *s, sqlite3_stmt *st,
	struct store_recording **out, size_t *n, char **errmsg)
{
	void *v;
	enum cv_err rc = store_collect(s, st, sizeof(**out), rec_read,
		recordings_drop, &v, n, "read recordings", errmsg);
	*out = v;
	return rc;
}

enum cv_err store_recordings_of_message(struct store *s, const char *message_id,
	struct store_recording **out, size_t *n, char **errmsg)
{
	static const char sql[] = "SELECT " REC_COLS " FROM recordings r"
				  " WHERE r.message_id = ? ORDER BY r.id";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, message_id);
	return rec_collect(s, st, out, n, errmsg);
}

enum cv_err store_recordings_of_call(struct store *s, const char *call_id,
	struct store_recording **out, size_t *n, char **errmsg)
{
	static const char sql[] =
		"SELECT " REC_COLS " FROM calls c JOIN recordings r"
		" ON r.message_id = c.message_id WHERE c.id = ? ORDER BY r.id";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, call_id);
	return rec_collect(s, st, out, n, errmsg);
}

typedef int (*rec_fn)(const struct store_recording *r, void *arg);

static int rec_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_recording rec;
	rec_read(st, &rec);
	int stop = ((rec_fn)fn)(&rec, arg);
	rec_clear(&rec);
	return stop;
}

enum cv_err store_recordings_each(struct store *s,
	int (*fn)(const struct store_recording *r, void *arg), void *arg,
	char **errmsg)
{
	/* not the statement cache: fn may run other statements */
	static const char sql[] = "SELECT " REC_COLS " FROM recordings r"
				  " ORDER BY r.id";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_dberr(s, errmsg, "walk recordings");
	enum cv_err rc = store_each(s, st, rec_row, (store_fn)fn, arg,
		CV_EINVAL, "walk recordings", errmsg);
	sqlite3_finalize(st);
	if (rc == CV_EINVAL)
		rc = cv_error(errmsg, CV_EINVAL, "walk of recordings stopped");
	return rc;
}

enum cv_err store_recordings_count(struct store *s, int64_t *n, char **errmsg)
{
	return store_scalar_int(s, "SELECT count(*) FROM recordings", n,
		errmsg);
}

enum cv_err store_recording_refs(struct store *s, const char *sha256,
	int64_t *n, char **errmsg)
{
	static const char sql[] =
		"SELECT count(*) FROM recordings WHERE sha256 = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, sha256);
	int r = sqlite3_step(st);
	*n = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK
			       : store_dberr(s, errmsg, "count blob uses");
}

enum cv_err store_media_forget(struct store *s, const char *message_id,
	char ***orphans, size_t *n_orphans, char **errmsg)
{
	*orphans = NULL;
	*n_orphans = 0;
	struct store_recording *v;
	size_t n;
	enum cv_err rc = store_recordings_of_message(s, message_id, &v, &n,
		errmsg);
	if (rc != CV_OK)
		return rc;
	static const char *const del[] = {
		"DELETE FROM recordings WHERE message_id = ?",
		"DELETE FROM transcriptions WHERE message_id = ?",
		"DELETE FROM media_fetch WHERE message_id = ?",
	};
	for (size_t i = 0; rc == CV_OK && i < CV_ARRAY_LEN(del); i++)
		rc = store_exec_text(s, del[i], message_id,
			"forget a message's media", errmsg);
	for (size_t i = 0; rc == CV_OK && i < n; i++) {
		int64_t refs = 0;
		rc = store_recording_refs(s, v[i].sha256, &refs, errmsg);
		if (rc == CV_OK && refs == 0) {
			*orphans = xrealloc(*orphans,
				(*n_orphans + 1) * sizeof(**orphans));
			(*orphans)[(*n_orphans)++] = xstrdup(v[i].sha256);
		}
	}
	store_recordings_free(v, n);
	return rc;
}

void store_transcription_clear(struct store_transcription *t)
{
	free(t->message_id);
	free(t->location_id);
	free(t->sha256);
	free(t->source);
	free(t->body);
	memset(t, 0, sizeof(*t));
}

enum cv_err store_transcription_add(struct store *s, const char *message_id,
	const char *location_id, const void *body, size_t len,
	int64_t fetched_at, const char *source, bool *added, char **errmsg)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO transcriptions(message_id,"
		" location_id, sha256, body, fetched_at, source)"
		" VALUES (?, ?, ?, ?, ?, ?)";
	char sha[CV_SHA256_HEX];
	cv_sha256_hex(body, len, sha);
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, message_id);
	store_bind_text(st, 2, location_id ? location_id : "");
	store_bind_text(st, 3, sha);
	sqlite3_bind_blob(st, 4, len ? body : "", (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, fetched_at);
	store_bind_text(st, 6, source ? source : "api");
	enum cv_err rc = store_step_done(s, st, "keep a transcription", errmsg);
	if (rc == CV_OK && added)
		*added = sqlite3_changes(s->db) > 0;
	return rc;
}

enum cv_err store_transcription_latest(struct store *s, const char *message_id,
	struct store_transcription *out, bool *found, char **errmsg)
{
	static const char sql[] =
		"SELECT id, message_id, location_id, sha256, source, body,"
		" fetched_at FROM transcriptions WHERE message_id = ?"
		" ORDER BY id DESC LIMIT 1";
	memset(out, 0, sizeof(*out));
	*found = false;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, message_id);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		store_transcription_row(st, out);
		*found = true;
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE
		       ? CV_OK
		       : store_dberr(s, errmsg, "read a transcription");
}

enum cv_err store_transcription_of_call(struct store *s, const char *call_id,
	struct store_transcription *out, bool *found, char **errmsg)
{
	static const char sql[] = "SELECT message_id FROM calls WHERE id = ?";
	memset(out, 0, sizeof(*out));
	*found = false;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, call_id);
	int r = sqlite3_step(st);
	char *mid = r == SQLITE_ROW ? store_col_dup(st, 0) : NULL;
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return store_dberr(s, errmsg, "read a call's messageId");
	enum cv_err rc = mid ? store_transcription_latest(s, mid, out, found,
				       errmsg)
			     : CV_OK;
	free(mid);
	return rc;
}

const char *media_kind_name(enum media_kind k)
{
	return k == MEDIA_TRANSCRIPTION ? "transcription" : "recording";
}

void store_media_job_clear(struct store_media_job *j)
{
	free(j->message_id);
	free(j->location_id);
	free(j->state);
	free(j->last_error);
	memset(j, 0, sizeof(*j));
}

void store_media_jobs_free(struct store_media_job *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		store_media_job_clear(&v[i]);
	free(v);
}

enum cv_err store_media_want(struct store *s, const char *message_id,
	const char *location_id, int64_t now, int64_t next_at, char **errmsg)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO media_fetch(message_id, kind,"
		" location_id, first_seen, next_at) VALUES (?, ?, ?, ?, ?)";
	for (int k = 0; k < MEDIA_N_KIND; k++) {
		sqlite3_stmt *st = store_stmt(s, sql, errmsg);
		if (!st)
			return CV_EDB;
		store_bind_text(st, 1, message_id);
		store_bind_text(st, 2, media_kind_name((enum media_kind)k));
		store_bind_text(st, 3, location_id ? location_id : "");
		sqlite3_bind_int64(st, 4, now);
		sqlite3_bind_int64(st, 5, next_at);
		enum cv_err rc = store_step_done(s, st, "queue a media fetch",
			errmsg);
		if (rc != CV_OK)
			return rc;
	}
	return CV_OK;
}

enum cv_err store_media_want_calls(struct store *s, const char *location_id,
	int64_t since, int64_t now, char **errmsg)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO media_fetch(message_id, kind,"
		" location_id, first_seen, next_at)"
		" SELECT c.message_id, k.kind, c.location_id, ?3, ?3"
		" FROM calls c, (SELECT 'recording' AS kind UNION ALL"
		" SELECT 'transcription') k"
		" WHERE c.location_id = ?1 AND c.created_at >= ?2"
		" AND length(c.message_id) BETWEEN 1 AND 64"
		/* the ids media_id_ok() accepts: they go into a URL path */
		" AND c.message_id NOT GLOB '*[^A-Za-z0-9_-]*'";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, location_id);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, now);
	return store_step_done(s, st, "queue media fetches", errmsg);
}

enum cv_err store_media_deny_location(struct store *s, const char *location_id,
	int64_t next_at, const char *why, char **errmsg)
{
	static const char sql[] =
		"UPDATE media_fetch SET state = 'denied', next_at = ?2,"
		" last_error = ?3 WHERE location_id = ?1 AND state = 'pending'";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, location_id);
	sqlite3_bind_int64(st, 2, next_at);
	store_bind_text(st, 3, why);
	return store_step_done(s, st, "mark media fetches denied", errmsg);
}

static void media_jobs_drop(void *v, size_t n)
{
	store_media_jobs_free(v, n);
}

static void media_job_row(sqlite3_stmt *st, void *elem)
{
	struct store_media_job *j = elem;
	j->message_id = store_col_dup(st, 0);
	j->location_id = store_col_dup(st, 1);
	const char *k = (const char *)sqlite3_column_text(st, 2);
	j->kind = k && !strcmp(k, "transcription") ? MEDIA_TRANSCRIPTION
						   : MEDIA_RECORDING;
	j->state = store_col_dup(st, 3);
	j->attempts = sqlite3_column_int(st, 4);
	j->first_seen = sqlite3_column_int64(st, 5);
	j->next_at = sqlite3_column_int64(st, 6);
	j->last_error = store_col_dup(st, 7);
}

enum cv_err store_media_due(struct store *s, const char *location_id,
	int64_t now, size_t limit, struct store_media_job **out, size_t *n,
	char **errmsg)
{
	static const char sql[] =
		"SELECT message_id, location_id, kind, state, attempts,"
		" first_seen, next_at, last_error FROM media_fetch"
		" WHERE state IN ('pending', 'denied') AND next_at <= ?1"
		" AND (?2 IS NULL OR location_id = ?2)"
		" ORDER BY next_at, message_id, kind LIMIT ?3";
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, now);
	store_bind_text(st, 2, location_id);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
	void *v;
	enum cv_err rc = store_collect(s, st, sizeof(**out), media_job_row,
		media_jobs_drop, &v, n, "read due media fetches", errmsg);
	*out = v;
	return rc;
}

enum cv_err store_media_job_get(struct store *s, const char *message_id,
	enum media_kind kind, struct store_media_job *out, bool *found,
	char **errmsg)
{
	static const char sql[] =
		"SELECT location_id, state, attempts, first_seen, next_at,"
		" last_error FROM media_fetch WHERE message_id = ? AND kind = ?";
	memset(out, 0, sizeof(*out));
	*found = false;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, message_id);
	store_bind_text(st, 2, media_kind_name(kind));
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		out->message_id = xstrdup(message_id);
		out->kind = kind;
		out->location_id = store_col_dup(st, 0);
		out->state = store_col_dup(st, 1);
		out->attempts = sqlite3_column_int(st, 2);
		out->first_seen = sqlite3_column_int64(st, 3);
		out->next_at = sqlite3_column_int64(st, 4);
		out->last_error = store_col_dup(st, 5);
		*found = true;
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE
		       ? CV_OK
		       : store_dberr(s, errmsg, "read a media fetch");
}

enum cv_err store_media_result(struct store *s, const char *message_id,
	enum media_kind kind, const char *state, int64_t next_at,
	const char *error, char **errmsg)
{
	static const char sql[] =
		"UPDATE media_fetch SET attempts = attempts + 1, state = ?,"
		" next_at = ?, last_error = ? WHERE message_id = ? AND kind = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, state);
	sqlite3_bind_int64(st, 2, next_at);
	store_bind_text(st, 3, error);
	store_bind_text(st, 4, message_id);
	store_bind_text(st, 5, media_kind_name(kind));
	return store_step_done(s, st, "record a media fetch", errmsg);
}

static int media_count_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	(void)fn;
	struct store_media_counts *out = arg;
	const char *k = (const char *)sqlite3_column_text(st, 0);
	int64_t c = sqlite3_column_int64(st, 1);
	if (!k)
		return 0;
	if (!strcmp(k, "pending"))
		out->pending = c;
	else if (!strcmp(k, "done"))
		out->done = c;
	else if (!strcmp(k, "missing"))
		out->missing = c;
	else if (!strcmp(k, "denied"))
		out->denied = c;
	return 0;
}

enum cv_err store_media_counts(struct store *s, const char *location_id,
	enum media_kind kind, struct store_media_counts *out, char **errmsg)
{
	static const char sql[] =
		"SELECT state, count(*) FROM media_fetch WHERE kind = ?1"
		" AND (?2 IS NULL OR location_id = ?2) GROUP BY state";
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, media_kind_name(kind));
	store_bind_text(st, 2, location_id);
	return store_each(s, st, media_count_row, NULL, out, CV_OK,
		"count media fetches", errmsg);
}
