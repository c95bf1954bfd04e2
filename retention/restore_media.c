/* restore_media.c — see restore_media.h */
#include "restore_media.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "media_dispose.h"
#include "store/store_media_arch.h"
#include "store/store_recordings.h"
#include "store/store_retention.h"
#include "util.h"

#define MEDIA_LINE_MAX (64u * 1024)
#define TRANSCRIPTION_MAX (16u * 1024 * 1024)
#define RECORDING_MAX (4ll * 1024 * 1024 * 1024)

/* One line of data/media.jsonl. */
struct ritem {
	char *file, *call_id, *message_id, *location_id, *sha256;
	char *content_type;
	enum media_kind kind;
	int64_t size, duration_ms, fetched_at;
	int sample_rate, channels;
	bool seen;
};

enum rmode { M_NONE, M_LINES, M_RECORDING, M_TRANSCRIPTION, M_SKIP };

struct rmedia {
	struct store *s;
	struct rmedia_stats *st;
	struct ritem *v;
	size_t n, cap, cursor;
	enum rmode mode;
	struct ritem *cur;
	struct buf line; /* a media.jsonl line, or a transcription */
	struct blobstore *blobs;
	struct blob_writer *w;
	char **created; /* blobs this restore wrote */
	size_t n_created;
};

struct rmedia *rmedia_create(struct store *s, struct rmedia_stats *st)
{
	struct rmedia *m = xcalloc(1, sizeof(*m));
	m->s = s;
	m->st = st;
	buf_init(&m->line);
	return m;
}

static void item_clear(struct ritem *it)
{
	free(it->file);
	free(it->call_id);
	free(it->message_id);
	free(it->location_id);
	free(it->sha256);
	free(it->content_type);
}

void rmedia_destroy(struct rmedia *m, bool committed)
{
	if (!m)
		return;
	blob_writer_abort(m->w);
	char *e = NULL;
	/* rolled back: the blobs it wrote go unless a row of another
	 * writer names them now (counted under the write lock) */
	if (!committed && m->n_created &&
		media_remove_unused(m->s, m->blobs, m->created, m->n_created,
			&e) != CV_OK)
		fprintf(stderr, "callvault restore: %s\n", e);
	free(e);
	for (size_t i = 0; i < m->n_created; i++)
		free(m->created[i]);
	free(m->created);
	for (size_t i = 0; i < m->n; i++)
		item_clear(&m->v[i]);
	free(m->v);
	buf_finish(&m->line);
	blob_close(m->blobs);
	free(m);
}

bool rmedia_takes(const char *path)
{
	return !strcmp(path, "data/media.jsonl") ||
	       !strncmp(path, "data/recordings/", 16) ||
	       !strncmp(path, "data/transcriptions/", 20);
}

/* ---- data/media.jsonl ---- */

static char *get_str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? xstrdup(v) : NULL;
}

static int64_t get_int(json_t *o, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static enum cv_err parse_line(struct rmedia *m, const char *p, size_t n,
	char **errmsg)
{
	json_error_t je;
	json_t *o = json_loadb(p, n, 0, &je);
	if (!json_is_object(o)) {
		json_decref(o);
		return cv_error(errmsg, CV_EINTEGRITY,
			"data/media.jsonl: not "
			"a JSON object: %s",
			je.text);
	}
	struct ritem it = { .file = get_str(o, "file"),
		.call_id = get_str(o, "callId"),
		.message_id = get_str(o, "messageId"),
		.location_id = get_str(o, "locationId"),
		.sha256 = get_str(o, "sha256"),
		.content_type = get_str(o, "contentType"),
		.size = get_int(o, "size", -1),
		.duration_ms = get_int(o, "durationMs", -1),
		.sample_rate = (int)get_int(o, "sampleRate", 0),
		.channels = (int)get_int(o, "channels", 0) };
	const char *kind = json_string_value(json_object_get(o, "kind"));
	const char *at = json_string_value(json_object_get(o, "fetchedAt"));
	bool rec = kind && !strcmp(kind, "recording");
	it.kind = rec ? MEDIA_RECORDING : MEDIA_TRANSCRIPTION;
	enum cv_err rc = CV_OK;
	if (!it.file || !it.call_id || !it.message_id || !it.sha256 ||
		!blob_name_valid(it.sha256) || it.size < 0 || !at ||
		!cv_parse_iso8601(at, &it.fetched_at) ||
		(!rec && (!kind || strcmp(kind, "transcription"))) ||
		(rec && it.size > RECORDING_MAX) ||
		(!rec && it.size > TRANSCRIPTION_MAX))
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"data/media.jsonl: a line "
			"lacks a field or has one out of bounds");
	json_decref(o);
	if (rc != CV_OK) {
		item_clear(&it);
		return rc;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	m->v[m->n++] = it;
	return CV_OK;
}

static enum cv_err feed_lines(struct rmedia *m, const char *p, size_t n,
	char **errmsg)
{
	enum cv_err rc = CV_OK;
	while (n > 0 && rc == CV_OK) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		if (m->line.len + k > MEDIA_LINE_MAX)
			return cv_error(errmsg, CV_ETOOBIG,
				"data/media.jsonl: "
				"a line longer than %u bytes",
				MEDIA_LINE_MAX);
		buf_append(&m->line, p, k);
		if (!nl)
			break;
		rc = parse_line(m, m->line.data, m->line.len, errmsg);
		buf_reset(&m->line);
		p += k + 1;
		n -= k + 1;
	}
	return rc;
}

/* ---- the files ---- */

/* The line describing file rel (files come in the order of the lines). */
static struct ritem *find_item(struct rmedia *m, const char *rel)
{
	for (size_t i = 0; i < m->n; i++) {
		struct ritem *it = &m->v[(m->cursor + i) % m->n];
		if (!it->seen && !strcmp(it->file, rel)) {
			m->cursor = (size_t)(it - m->v) + 1;
			return it;
		}
	}
	return NULL;
}

static enum cv_err disposed(struct rmedia *m, const struct ritem *it,
	bool *dead, char **errmsg)
{
	enum cv_err rc = store_tombstoned(m->s, it->call_id, NULL, dead,
		errmsg);
	if (rc == CV_OK && !*dead)
		rc = store_tombstoned(m->s, NULL, it->message_id, dead, errmsg);
	return rc;
}

enum cv_err rmedia_begin(struct rmedia *m, const char *path, char **errmsg)
{
	buf_reset(&m->line);
	m->cur = NULL;
	if (!strcmp(path, "data/media.jsonl")) {
		m->mode = M_LINES;
		return CV_OK;
	}
	struct ritem *it = find_item(m, path + 5);
	if (!it)
		return cv_error(errmsg, CV_EINTEGRITY,
			"%s: not described in "
			"data/media.jsonl",
			path);
	it->seen = true;
	m->cur = it;
	bool dead = false;
	enum cv_err rc = disposed(m, it, &dead, errmsg);
	if (rc != CV_OK || dead) {
		m->mode = M_SKIP;
		m->st->disposed += dead;
		return rc;
	}
	if (it->kind == MEDIA_TRANSCRIPTION) {
		m->mode = M_TRANSCRIPTION;
		return CV_OK;
	}
	m->mode = M_RECORDING;
	if (!m->blobs && (rc = blob_open(&m->blobs, store_db_path(m->s), true,
				  errmsg)) != CV_OK)
		return rc;
	return blob_writer_new(m->blobs, it->size, &m->w, errmsg);
}

enum cv_err rmedia_data(struct rmedia *m, const void *p, size_t n,
	char **errmsg)
{
	switch (m->mode) {
	case M_LINES: return feed_lines(m, p, n, errmsg);
	case M_RECORDING: return blob_writer_write(m->w, p, n, errmsg);
	case M_TRANSCRIPTION:
		if (m->line.len + n > (size_t)m->cur->size)
			return cv_error(errmsg, CV_EINTEGRITY,
				"data/%s: "
				"longer than data/media.jsonl says",
				m->cur->file);
		buf_append(&m->line, p, n);
		return CV_OK;
	default: return CV_OK;
	}
}

static enum cv_err end_recording(struct rmedia *m, char **errmsg)
{
	const struct ritem *it = m->cur;
	char sha[CV_SHA256_HEX];
	int64_t size;
	bool existed = blob_exists(m->blobs, it->sha256, NULL), added;
	struct blob_writer *w = m->w;
	m->w = NULL;
	enum cv_err rc = blob_writer_commit(w, it->sha256, sha, &size, errmsg);
	if (rc == CV_EINTEGRITY)
		return cv_error(errmsg, rc,
			"data/%s: its bytes do not hash "
			"to %s",
			it->file, it->sha256);
	if (rc != CV_OK)
		return rc;
	if (!existed) {
		m->created = xrealloc(m->created,
			(m->n_created + 1) * sizeof(*m->created));
		m->created[m->n_created++] = xstrdup(sha);
	}
	struct store_recording r = { .message_id = it->message_id,
		.location_id = it->location_id,
		.sha256 = sha,
		.size = size,
		.content_type = it->content_type,
		.duration_ms = it->duration_ms,
		.sample_rate = it->sample_rate,
		.channels = it->channels,
		.fetched_at = it->fetched_at,
		.source = "restore" };
	rc = store_recording_add(m->s, &r, &added, errmsg);
	if (rc == CV_OK)
		*(added ? &m->st->recordings_added
			: &m->st->recordings_present) += 1;
	return rc;
}

static enum cv_err end_transcription(struct rmedia *m, char **errmsg)
{
	const struct ritem *it = m->cur;
	char sha[CV_SHA256_HEX];
	cv_sha256_hex(m->line.data, m->line.len, sha);
	if (strcmp(sha, it->sha256) != 0)
		return cv_error(errmsg, CV_EINTEGRITY,
			"data/%s: its bytes do "
			"not hash to %s",
			it->file, it->sha256);
	bool added;
	enum cv_err rc = store_transcription_add(m->s, it->message_id,
		it->location_id, m->line.data, m->line.len, it->fetched_at,
		"restore", &added, errmsg);
	if (rc == CV_OK && added)
		m->st->transcriptions++;
	return rc;
}

enum cv_err rmedia_end(struct rmedia *m, char **errmsg)
{
	enum rmode mode = m->mode;
	m->mode = M_NONE;
	if (mode == M_LINES && m->line.len)
		return cv_error(errmsg, CV_EINTEGRITY,
			"data/media.jsonl: the "
			"last line has no newline");
	if (mode == M_RECORDING)
		return end_recording(m, errmsg);
	if (mode == M_TRANSCRIPTION)
		return end_transcription(m, errmsg);
	return CV_OK;
}
