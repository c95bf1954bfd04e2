/* archive_media.c — see archive_media.h */
#include "archive_media.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bagjson.h"
#include "blob.h"
#include "fanout.h"
#include "retention.h"
#include "spool.h"
#include "storage.h"
#include "store/store_media_arch.h"
#include "store/store_recordings.h"

struct mitem {
	char *call_id, *message_id, *sha256;
	char *rel; /* "recordings/<callId>.wav", … */
	enum media_kind kind;
	int64_t size;
	/* the bytes' digests as written (amedia_write) */
	char hex256[CV_SHA512_HEX], hex512[CV_SHA512_HEX];
};

struct amedia {
	struct store *s;
	const char *spool_dir;
	int64_t archive_id;
	struct spool sp;
	struct mitem *v;
	size_t n, cap;
	bool again; /* media.jsonl made again: v is walked, not added to */
	size_t next;
	struct buf line;
	struct blobstore *blobs;
};

struct amedia *amedia_create(struct store *s, const char *spool_dir,
	int64_t archive_id)
{
	struct amedia *m = xcalloc(1, sizeof(*m));
	m->s = s;
	m->spool_dir = spool_dir;
	m->archive_id = archive_id;
	buf_init(&m->line);
	return m;
}

void amedia_destroy(struct amedia *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].call_id);
		free(m->v[i].message_id);
		free(m->v[i].sha256);
		free(m->v[i].rel);
	}
	free(m->v);
	spool_close(&m->sp);
	buf_finish(&m->line);
	blob_close(m->blobs);
	free(m);
}

size_t amedia_files(const struct amedia *m)
{
	return m->n ? m->n + 1 : 0;
}

size_t amedia_recordings(const struct amedia *m, const char ***out)
{
	size_t n = 0;
	*out = xcalloc(m->n + 1, sizeof(**out));
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].kind == MEDIA_RECORDING)
			(*out)[n++] = m->v[i].sha256;
	return n;
}

/* rebuild: only what the archive held */
static enum cv_err wanted(struct amedia *m, const char *mid,
	enum media_kind kind, const char *sha, bool *yes, char **errmsg)
{
	*yes = true;
	if (!m->archive_id)
		return CV_OK;
	return store_arch_media_has(m->s, m->archive_id, mid, kind, sha, yes,
		errmsg);
}

/* NULL: made again, the media are not the ones noted */
static struct mitem *add_item(struct amedia *m, const char *call_id,
	const char *mid, enum media_kind kind, const char *sha, int64_t size,
	int k)
{
	if (m->again) {
		struct mitem *it = m->next < m->n ? &m->v[m->next] : NULL;
		if (!it || it->kind != kind || strcmp(it->sha256, sha) != 0 ||
			strcmp(it->call_id, call_id) != 0)
			return NULL;
		m->next++;
		return it;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	struct mitem *it = &m->v[m->n++];
	char *safe = retention_safe_name(call_id);
	char num[24] = "";
	if (k > 1)
		snprintf(num, sizeof(num), ".%d", k);
	it->rel = kind == MEDIA_RECORDING
			  ? xasprintf("recordings/%s%s.wav", safe, num)
			  : xasprintf("transcriptions/%s%s.json", safe, num);
	free(safe);
	it->call_id = xstrdup(call_id);
	it->message_id = xstrdup(mid);
	it->sha256 = xstrdup(sha);
	it->kind = kind;
	it->size = size;
	return it;
}

/* The start of a media.jsonl line: keys sorted, like the other files. */
static void line_common(struct buf *l, const struct mitem *it)
{
	buf_reset(l);
	buf_puts(l, "{\"callId\":");
	bagjson_cstr(l, it->call_id);
}

/* fetchedAt … messageId */
static void line_mid(struct buf *l, const struct mitem *it, const char *loc,
	int64_t fetched_at)
{
	char ts[32];
	cv_format_iso8601(fetched_at, ts);
	buf_printf(l, ",\"fetchedAt\":\"%s\",\"file\":", ts);
	bagjson_cstr(l, it->rel);
	buf_printf(l,
		",\"kind\":\"%s\",\"locationId\":", media_kind_name(it->kind));
	bagjson_cstr(l, loc);
	buf_puts(l, ",\"messageId\":");
	bagjson_cstr(l, it->message_id);
}

static void line_end(struct buf *l, const struct mitem *it, const char *source)
{
	buf_printf(l,
		",\"sha256\":\"%s\",\"size\":%lld,\"source\":", it->sha256,
		(long long)it->size);
	bagjson_cstr(l, source);
	buf_puts(l, "}\n");
}

static enum cv_err changed(const char *call_id, char **errmsg)
{
	return cv_error(errmsg, CV_EINTEGRITY,
		"data/media.jsonl: made again from the same snapshot of the "
		"store, the media of call %s are not the ones first noted",
		call_id);
}

static enum cv_err put_line(struct amedia *m, char **errmsg)
{
	if (m->sp.mode == SPOOL_NONE && !m->spool_dir)
		spool_open_counted(&m->sp);
	else if (m->sp.mode == SPOOL_NONE) {
		enum cv_err rc = spool_open(&m->sp, m->spool_dir, errmsg);
		if (rc != CV_OK)
			return rc;
	}
	spool_put(&m->sp, m->line.data, m->line.len);
	return CV_OK;
}

static enum cv_err note_recordings(struct amedia *m, const char *call_id,
	const char *mid, char **errmsg)
{
	struct store_recording *r;
	size_t n;
	enum cv_err rc = store_recordings_of_message(m->s, mid, &r, &n, errmsg);
	for (size_t i = 0, k = 0; i < n && rc == CV_OK; i++) {
		bool yes;
		if ((rc = wanted(m, mid, MEDIA_RECORDING, r[i].sha256, &yes,
			     errmsg)) != CV_OK ||
			!yes)
			continue;
		struct mitem *it = add_item(m, call_id, mid, MEDIA_RECORDING,
			r[i].sha256, r[i].size, (int)++k);
		if (!it) {
			rc = changed(call_id, errmsg);
			break;
		}
		struct buf *l = &m->line;
		line_common(l, it);
		if (r[i].channels > 0)
			buf_printf(l, ",\"channels\":%d", r[i].channels);
		buf_puts(l, ",\"contentType\":");
		bagjson_cstr(l, r[i].content_type);
		if (r[i].duration_ms >= 0)
			buf_printf(l, ",\"durationMs\":%lld",
				(long long)r[i].duration_ms);
		line_mid(l, it, r[i].location_id, r[i].fetched_at);
		if (r[i].sample_rate > 0)
			buf_printf(l, ",\"sampleRate\":%d", r[i].sample_rate);
		line_end(l, it, r[i].source);
		rc = put_line(m, errmsg);
	}
	store_recordings_free(r, n);
	return rc;
}

static enum cv_err note_transcriptions(struct amedia *m, const char *call_id,
	const char *mid, char **errmsg)
{
	struct store_transcription *t;
	size_t n;
	enum cv_err rc = store_transcriptions_of_message(m->s, mid, &t, &n,
		errmsg);
	for (size_t i = 0, k = 0; i < n && rc == CV_OK; i++) {
		bool yes;
		if ((rc = wanted(m, mid, MEDIA_TRANSCRIPTION, t[i].sha256, &yes,
			     errmsg)) != CV_OK ||
			!yes)
			continue;
		struct mitem *it = add_item(m, call_id, mid,
			MEDIA_TRANSCRIPTION, t[i].sha256, (int64_t)t[i].len,
			(int)++k);
		if (!it) {
			rc = changed(call_id, errmsg);
			break;
		}
		line_common(&m->line, it);
		line_mid(&m->line, it, t[i].location_id, t[i].fetched_at);
		line_end(&m->line, it, t[i].source);
		rc = put_line(m, errmsg);
	}
	store_transcriptions_free(t, n);
	return rc;
}

enum cv_err amedia_note_call(struct amedia *m, const char *call_id,
	char **errmsg)
{
	char *mid = NULL;
	enum cv_err rc = store_call_message_id(m->s, call_id, &mid, errmsg);
	if (rc == CV_OK && mid)
		rc = note_recordings(m, call_id, mid, errmsg);
	if (rc == CV_OK && mid)
		rc = note_transcriptions(m, call_id, mid, errmsg);
	free(mid);
	return rc;
}

/* ---- writing the files ---- */

/*
 * Each file's bytes pass through a fanout (fanout.h): SHA-256 on one
 * lane, SHA-512 on another, while this thread hands the same chunk to
 * zstd and reads the next. The SHA-256 is computed once and serves twice:
 * it must equal the blob's name (the bytes received) and it is the
 * manifest's digest. A file's digests are final once its last chunk has
 * passed both lanes; they are checked every IN_CHECK files and at the
 * end, and the manifests hear of the files, in order, at the end.
 */
enum { IN_SLOTS = 4, IN_SLOT_SIZE = 256 << 10, IN_CHECK = 64 };

struct hlane {
	const char *kind;
	struct cv_hash *h; /* the file under way, or NULL */
	size_t off;        /* where in a struct mitem its hex goes */
};

/* tag: the struct mitem whose last chunk this is, or NULL */
static bool lane_hash(void *arg, const void *p, size_t n, void *tag)
{
	struct hlane *l = arg;
	if (!l->h)
		l->h = cv_hash_create(l->kind);
	cv_hash_update(l->h, p, n);
	if (tag) {
		cv_hash_final_hex(l->h, (char *)tag + l->off);
		l->h = NULL;
	}
	return true;
}

static enum cv_err open_blob(struct amedia *m, const struct mitem *it, int *fd,
	int64_t *size, char **errmsg)
{
	char *e = NULL;
	enum cv_err rc = CV_OK;
	if (!m->blobs)
		rc = blob_open(&m->blobs, store_db_path(m->s), false, &e);
	/* an evicted recording (`storage evict`) is fetched back first */
	if (rc == CV_OK)
		rc = storage_blob_open_read(m->s, m->blobs, it->sha256, fd,
			size, NULL, &e);
	if (rc == CV_ENOTFOUND)
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"the recording of call %s "
			"(blob %s) is missing from the blob store: %s",
			it->call_id, it->sha256, e ? e : "not found");
	else if (rc != CV_OK)
		cv_error(errmsg, rc, "the recording of call %s: %s",
			it->call_id, e ? e : "cannot open");
	else if (*size != it->size) {
		close(*fd);
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"the recording of call %s "
			"(blob %s) has %lld bytes, recorded %lld",
			it->call_id, it->sha256, (long long)*size,
			(long long)it->size);
	}
	free(e);
	return rc;
}

/* Fill buf with n bytes of fd (false: an error or an early end, errno 0). */
static bool read_full(int fd, char *buf, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = 0;
			return false;
		}
		buf += r;
		n -= (size_t)r;
	}
	return true;
}

/* A recording, streamed from its blob a slot at a time. */
static enum cv_err put_recording(struct amedia *m, struct mitem *it,
	struct tarzst *t, const char *path, struct fanout *fo, char **errmsg)
{
	int fd;
	int64_t size;
	enum cv_err rc = open_blob(m, it, &fd, &size, errmsg);
	if (rc != CV_OK)
		return rc;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	uint64_t left = (uint64_t)size;
	rc = tarzst_begin(t, path, left, errmsg);
	while (rc == CV_OK) {
		char *chunk = fanout_slot(fo);
		size_t n = left < IN_SLOT_SIZE ? (size_t)left : IN_SLOT_SIZE;
		if (!read_full(fd, chunk, n)) {
			rc = cv_error(errmsg, CV_EIO, "reading blob %s: %s",
				it->sha256,
				errno ? strerror(errno) : "it ended early");
			break;
		}
		left -= n;
		fanout_push(fo, n, left ? NULL : it);
		/* the lanes only read the slot: so does zstd */
		rc = tarzst_write(t, chunk, n, errmsg);
		if (!left)
			break;
	}
	close(fd);
	return rc == CV_OK ? tarzst_end(t, errmsg) : rc;
}

/* Bytes in memory, through the same lanes. */
static enum cv_err put_bytes(struct mitem *it, struct tarzst *t,
	const char *path, const char *p, size_t len, struct fanout *fo,
	char **errmsg)
{
	enum cv_err rc = tarzst_begin(t, path, len, errmsg);
	size_t left = len;
	while (rc == CV_OK) {
		char *chunk = fanout_slot(fo);
		size_t n = left < IN_SLOT_SIZE ? left : IN_SLOT_SIZE;
		memcpy(chunk, p, n);
		p += n;
		left -= n;
		fanout_push(fo, n, left ? NULL : it);
		rc = tarzst_write(t, chunk, n, errmsg);
		if (!left)
			break;
	}
	return rc == CV_OK ? tarzst_end(t, errmsg) : rc;
}

static enum cv_err put_transcription(struct amedia *m, struct mitem *it,
	struct tarzst *t, const char *path, struct fanout *fo, char **errmsg)
{
	struct store_transcription *v;
	size_t n;
	enum cv_err rc = store_transcriptions_of_message(m->s, it->message_id,
		&v, &n, errmsg);
	const struct store_transcription *hit = NULL;
	for (size_t i = 0; rc == CV_OK && i < n && !hit; i++)
		if (!strcmp(v[i].sha256, it->sha256))
			hit = &v[i];
	if (rc == CV_OK && !hit)
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"the transcription %s of "
			"call %s is gone",
			it->sha256, it->call_id);
	if (rc == CV_OK)
		rc = put_bytes(it, t, path, hit->body, hit->len, fo, errmsg);
	store_transcriptions_free(v, n);
	return rc;
}

/* Items [from, to) all hashed: does each recording still have the bytes
 * received? */
static enum cv_err check_hashed(const struct amedia *m, size_t from, size_t to,
	char **errmsg)
{
	for (size_t i = from; i < to; i++) {
		const struct mitem *it = &m->v[i];
		if (it->kind == MEDIA_RECORDING &&
			strcmp(it->hex256, it->sha256) != 0)
			return cv_error(errmsg, CV_EINTEGRITY,
				"the recording "
				"of call %s (blob %s) no longer has the bytes "
				"received (SHA-256 %s); not archived",
				it->call_id, it->sha256, it->hex256);
	}
	return CV_OK;
}

/* Every file of the media into t, through fo. */
static enum cv_err put_files(struct amedia *m, struct tarzst *t,
	const char *root, struct fanout *fo, char **errmsg)
{
	struct buf path;
	buf_init(&path);
	enum cv_err rc = CV_OK;
	size_t checked = 0;
	for (size_t i = 0; i < m->n && rc == CV_OK; i++) {
		struct mitem *it = &m->v[i];
		buf_reset(&path);
		buf_printf(&path, "%s/data/%s", root, it->rel);
		rc = it->kind == MEDIA_RECORDING
			     ? put_recording(m, it, t, path.data, fo, errmsg)
			     : put_transcription(m, it, t, path.data, fo,
				       errmsg);
		/* a blob that lost its bytes stops the archive soon, not
		 * only at its end */
		if (rc == CV_OK && (i + 1) % IN_CHECK == 0) {
			fanout_drain(fo);
			rc = check_hashed(m, checked, i + 1, errmsg);
			checked = i + 1;
		}
	}
	fanout_drain(fo);
	if (rc == CV_OK)
		rc = check_hashed(m, checked, m->n, errmsg);
	buf_finish(&path);
	return rc;
}

/* data/media.jsonl made again (spool_regen_fn): each call's media noted
 * again, in order, walking the items instead of adding to them */
static enum cv_err lines_again(void *arg, char **errmsg)
{
	struct amedia *m = arg;
	enum cv_err rc = CV_OK;
	m->again = true;
	m->next = 0;
	for (size_t i = 0; i < m->n && rc == CV_OK; i = m->next) {
		rc = amedia_note_call(m, m->v[i].call_id, errmsg);
		if (rc == CV_OK && m->next == i)
			rc = changed(m->v[i].call_id, errmsg);
	}
	m->again = false;
	return rc;
}

void amedia_manifest_again(const struct amedia *m, amedia_manifest_fn *manifest,
	void *arg)
{
	if (!m->n)
		return;
	manifest(arg, "data/media.jsonl", m->sp.hex256, m->sp.hex512,
		m->sp.size);
	struct buf path;
	buf_init(&path);
	for (size_t i = 0; i < m->n; i++) {
		buf_reset(&path);
		buf_printf(&path, "data/%s", m->v[i].rel);
		manifest(arg, path.data, m->v[i].hex256, m->v[i].hex512,
			(uint64_t)m->v[i].size);
	}
	buf_finish(&path);
}

enum cv_err amedia_write(struct amedia *m, struct tarzst *t, const char *root,
	amedia_manifest_fn *manifest, void *arg, char **errmsg)
{
	if (!m->n)
		return CV_OK;
	struct buf path;
	buf_init(&path);
	enum cv_err rc = CV_OK;
	const char *dirs[] = { "recordings", "transcriptions" };
	for (int i = 0; i < 2 && rc == CV_OK; i++) {
		buf_reset(&path);
		buf_printf(&path, "%s/data/%s", root, dirs[i]);
		rc = tarzst_add_dir(t, path.data, errmsg);
	}
	char h256[CV_SHA256_HEX], h512[CV_SHA512_HEX];
	uint64_t size = m->sp.size;
	buf_reset(&path);
	buf_printf(&path, "%s/data/media.jsonl", root);
	if (rc == CV_OK)
		rc = spool_emit(&m->sp, t, path.data, lines_again, m, h256,
			h512, errmsg);
	if (rc == CV_OK)
		manifest(arg, "data/media.jsonl", h256, h512, size);
	struct hlane lanes[2] = { { "sha256", NULL,
					  offsetof(struct mitem, hex256) },
		{ "sha512", NULL, offsetof(struct mitem, hex512) } };
	fanout_fn *const fns[] = { lane_hash, lane_hash };
	void *const args[] = { &lanes[0], &lanes[1] };
	if (rc == CV_OK) {
		struct fanout *fo = fanout_create(IN_SLOTS, IN_SLOT_SIZE, 2,
			fns, args);
		rc = put_files(m, t, root, fo, errmsg);
		fanout_destroy(fo);
		/* a file cut short by an error leaves its hashes open */
		cv_hash_destroy(lanes[0].h);
		cv_hash_destroy(lanes[1].h);
	}
	for (size_t i = 0; i < m->n && rc == CV_OK; i++) {
		const struct mitem *it = &m->v[i];
		buf_reset(&path);
		buf_printf(&path, "data/%s", it->rel);
		manifest(arg, path.data, it->hex256, it->hex512,
			(uint64_t)it->size);
	}
	buf_finish(&path);
	return rc;
}

enum cv_err amedia_record(const struct amedia *m, struct store *s,
	int64_t archive_id, char **errmsg)
{
	enum cv_err rc = CV_OK;
	for (size_t i = 0; i < m->n && rc == CV_OK; i++)
		rc = store_arch_media_add(s, archive_id, m->v[i].message_id,
			m->v[i].kind, m->v[i].sha256, errmsg);
	return rc;
}
