/*
 * console_recording.c — a call's recording in the console: the bytes of
 * its blob served with HTTP Range (RFC 9110 §14: `bytes=a-b`, `bytes=a-`,
 * `bytes=-N`; 206 with Content-Range, 416 when unsatisfiable) so that the
 * browser's own <audio> element can seek in a long call, straight from
 * the file (the server sends it from the descriptor, never whole in
 * memory). Each play — a request that starts at byte 0 — is audited
 * before a byte is sent; the seeks that follow are not. And the call
 * view's media list: recordings and the sentence-timed transcript.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"
#include "console_int.h"
#include "recordings.h"
#include "store/store_media_arch.h"
#include "store/store_recordings.h"
#include "util.h"

/* The Content-Type sent: one of these (a static string, and nothing from
 * the row reaches a header unchecked). */
static const char *const audio_types[] = { "audio/x-wav", "audio/wav",
	"audio/wave", "audio/vnd.wave", "audio/mpeg", "audio/ogg", "audio/mp4",
	"audio/webm" };

static const char *content_type(const char *t)
{
	for (size_t i = 0; t && i < CV_ARRAY_LEN(audio_types); i++)
		if (!strcmp(t, audio_types[i]))
			return audio_types[i];
	return "application/octet-stream";
}

/* One decimal number without sign, into *v; end just after it. */
static bool number(const char *p, const char **end, int64_t *v)
{
	*v = 0;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (*v > (INT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (*p - '0');
	}
	*end = p;
	return true;
}

enum range { RANGE_NONE, RANGE_OK, RANGE_UNSATISFIABLE };

/*
 * A Range header against a file of size bytes: [*from, *from + *len).
 * RANGE_NONE (send it all) when absent or not one bytes range this
 * parser understands (RFC 9110 lets a server ignore those, multiple
 * ranges included).
 */
static enum range parse_range(const char *h, int64_t size, int64_t *from,
	int64_t *len)
{
	int64_t a, b;
	const char *p;
	if (!h || strncmp(h, "bytes=", 6) != 0)
		return RANGE_NONE;
	h += 6;
	if (*h == '-') { /* the last N bytes */
		if (!number(h + 1, &p, &b) || *p)
			return RANGE_NONE;
		if (b == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		*from = b >= size ? 0 : size - b;
		*len = size - *from;
		return RANGE_OK;
	}
	if (!number(h, &p, &a) || *p != '-')
		return RANGE_NONE;
	if (p[1] == '\0')
		b = size - 1;
	else if (!number(p + 1, &p, &b) || *p || b < a)
		return RANGE_NONE;
	if (a >= size)
		return RANGE_UNSATISFIABLE;
	*from = a;
	*len = (b >= size ? size - 1 : b) - a + 1;
	return RANGE_OK;
}

/* The n-th (1-based) recording of the call; false after a 4xx/5xx. */
static bool pick(struct ctx *x, const char *id, long n,
	struct store_recording **v, size_t *nv, struct store_recording **r)
{
	char *err = NULL;
	if (store_recordings_of_call(x->s, id, v, nv, &err) != CV_OK) {
		cx_reply_error(x, 500, err ? err : "reading recordings failed");
		free(err);
		return false;
	}
	if ((size_t)n > *nv) {
		cx_reply_error(x, 404, "no such recording");
		return false;
	}
	*r = &(*v)[n - 1];
	return true;
}

static bool open_blob(struct ctx *x, const struct store_recording *r, int *fd,
	int64_t *size)
{
	struct blobstore *b = NULL;
	char *err = NULL;
	enum cv_err rc = blob_open(&b, store_db_path(x->s), false, &err);
	if (rc == CV_OK)
		rc = blob_open_read(b, r->sha256, fd, size, &err);
	/* no longer here: from the S3 target that holds it, when one
	 * does (hash-checked into the blob store) */
	if (rc == CV_ENOTFOUND && b) {
		free(err);
		err = NULL;
		rc = recording_fetch(x->s, b, r->sha256, &err);
		if (rc == CV_OK)
			rc = blob_open_read(b, r->sha256, fd, size, &err);
		else if (rc != CV_ENOTFOUND)
			rc = CV_EIO;
	}
	blob_close(b);
	if (rc != CV_OK) {
		cv_warn("msg=\"console: recording blob unreadable\" "
			"sha256=%s err=\"%s\"",
			r->sha256, err ? err : "");
		cx_reply_error(x, rc == CV_ENOTFOUND ? 410 : 500,
			rc == CV_ENOTFOUND ? "the recording's file is missing "
					     "from the blob store"
					   : "the recording cannot be read");
	}
	free(err);
	return rc == CV_OK;
}

/* Audit a play (a request from byte 0) or a seek (any later range: the
 * bytes it sends are as much the recording as a play's, so none goes out
 * unaudited); false after a 503. */
static bool audit_play(struct ctx *x, const char *id,
	const struct store_recording *r, long n, const char *range, bool seek)
{
	return cx_audit(x, seek ? "recording seek" : "recording play",
		json_pack("{s:s,s:i,s:s,s:o}", "id", id, "n", (int)n, "sha256",
			r->sha256, "range", cx_jstr(range)),
		1);
}

/* Answer with bytes [from, from + len) of fd (taken). */
static void send_part(struct ctx *x, const struct store_recording *r, int fd,
	int64_t size, int64_t from, int64_t len, bool partial)
{
	struct console_response *res = x->res;
	res->status = partial ? 206 : 200;
	res->type = content_type(r->content_type);
	res->file_fd = fd;
	res->has_file = true;
	res->file_off = from;
	res->file_len = len;
	res->accept_ranges = true;
	if (partial)
		res->content_range = xasprintf("bytes %lld-%lld/%lld",
			(long long)from, (long long)(from + len - 1),
			(long long)size);
}

void cx_api_recording(struct ctx *x, const char *unused)
{
	const char *id = cx_arg(x, "call");
	long n;
	if (!id || strlen(id) > CALLLOG_MAX_ID) {
		cx_reply_error(x, 400, "call= names the call");
		return;
	}
	if (!cx_int_arg(x, "n", 1, 1000, 1, &n))
		return;
	struct store_recording *v = NULL, *r;
	size_t nv = 0;
	int fd = -1;
	int64_t size, from = 0, len = 0;
	if (!pick(x, id, n, &v, &nv, &r) || !open_blob(x, r, &fd, &size))
		goto out;
	const char *h = x->req->get(x->req->ctx, CONSOLE_HEADER, "Range");
	enum range k = parse_range(h, size, &from, &len);
	if (k == RANGE_UNSATISFIABLE) {
		cx_reply_error(x, 416, "range not satisfiable");
		x->res->content_range = xasprintf("bytes */%lld",
			(long long)size);
		goto out;
	}
	if (k == RANGE_NONE) {
		from = 0;
		len = size;
	}
	if (!audit_play(x, id, r, n, k == RANGE_OK ? h : NULL, from > 0))
		goto out;
	send_part(x, r, fd, size, from, len, k == RANGE_OK);
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	store_recordings_free(v, nv);
}

/* ---- the call view's media ---- */

/* The timed transcript: [{start, end, channel, text, confidence}], the
 * sentences in time order; null when there is none or it is not the
 * expected shape (the raw JSON stays in the store and the archive). */
static json_t *sentences(const struct store_transcription *t)
{
	json_t *in = json_loadb(t->body, t->len, 0, NULL), *out = NULL;
	if (!json_is_array(in))
		goto done;
	out = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(in, i, s)
	{
		json_t *st = json_object_get(s, "startTime");
		const char *text = json_string_value(
			json_object_get(s, "transcript"));
		if (!json_is_number(st) || !text)
			continue;
		json_t *o = json_pack("{s:f,s:O?,s:O?,s:s,s:O?}", "start",
			json_number_value(st), "end",
			json_object_get(s, "endTime"), "channel",
			json_object_get(s, "mediaChannel"), "text", text,
			"confidence", json_object_get(s, "confidence"));
		if (o)
			json_array_append_new(out, o);
	}
done:
	json_decref(in);
	return out ? out : json_null();
}

json_t *cx_media_json(struct ctx *x, const char *call_id, char **err)
{
	struct store_recording *v;
	size_t n;
	if (store_recordings_of_call(x->s, call_id, &v, &n, err) != CV_OK)
		return NULL;
	json_t *o = json_object(), *recs = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(recs,
			json_pack("{s:i,s:s,s:s,s:I,s:o,"
				  "s:o,s:s}",
				"n", (int)i + 1, "sha256", v[i].sha256,
				"contentType",
				v[i].content_type ? v[i].content_type : "",
				"size", (json_int_t)v[i].size, "durationMs",
				v[i].duration_ms >= 0
					? json_integer(v[i].duration_ms)
					: json_null(),
				"fetchedAt", cx_jtime(v[i].fetched_at),
				"source", v[i].source ? v[i].source : ""));
	store_recordings_free(v, n);
	json_object_set_new(o, "recordings", recs);
	char *mid = NULL;
	struct store_transcription t;
	bool found = false;
	if (store_call_message_id(x->s, call_id, &mid, err) != CV_OK ||
		(mid && store_transcription_latest(x->s, mid, &t, &found,
				err) != CV_OK)) {
		free(mid);
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "timedTranscript",
		found ? sentences(&t) : json_null());
	if (found)
		store_transcription_clear(&t);
	free(mid);
	return o;
}
