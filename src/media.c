/* media.c — see media.h */
#include "media.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hljson.h"
#include "util.h"
#include "wav.h"

struct media_fetch {
	struct store_media_job job; /* a copy */
	struct blob_writer *w;      /* recording: where the bytes go */
	enum cv_err sink_err;       /* why the sink stopped */
	char *sink_why;
	/* a recording judged good, waiting for its flush (media_keep) */
	char *content_type;
	struct wav_info wi;
};

bool media_id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	return n > 0 && n <= 64 &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyz"
			  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

int64_t media_retry_delay(int attempts)
{
	static const int64_t min[] = { 2, 10, 30, 60, 180, 360, 720 };
	size_t i = attempts < 0 ? 0 : (size_t)attempts;
	if (i >= CV_ARRAY_LEN(min))
		i = CV_ARRAY_LEN(min) - 1;
	return min[i] * 60000;
}

char *media_url(const char *api_base, const struct store_media_job *j)
{
	char *m = hl_escape(j->message_id), *l = hl_escape(j->location_id);
	char *u =
		j->kind == MEDIA_RECORDING
			? xasprintf("%s/conversations/messages/%s/locations/%s/"
				    "recording",
				  api_base, m, l)
			: xasprintf("%s/conversations/locations/%s/messages/%s/"
				    "transcription",
				  api_base, l, m);
	free(m);
	free(l);
	return u;
}

static bool sink(const void *p, size_t n, void *arg)
{
	struct media_fetch *f = arg;
	if (f->sink_why)
		return false;
	f->sink_err = blob_writer_write(f->w, p, n, &f->sink_why);
	return f->sink_err == CV_OK;
}

static void job_copy(struct store_media_job *d, const struct store_media_job *s)
{
	*d = *s;
	d->message_id = xstrdup(s->message_id);
	d->location_id = xstrdup(s->location_id);
	d->state = s->state ? xstrdup(s->state) : NULL;
	d->last_error = s->last_error ? xstrdup(s->last_error) : NULL;
}

static void fetch_free(struct media_fetch *f)
{
	if (!f)
		return;
	blob_writer_abort(f->w);
	free(f->job.message_id);
	free(f->job.location_id);
	free(f->job.state);
	free(f->job.last_error);
	free(f->sink_why);
	free(f->content_type);
	free(f);
}

void media_abort(struct media_fetch *f)
{
	fetch_free(f);
}

enum cv_err media_start(struct hl_client *c, struct blobstore *b,
	int64_t max_bytes, const char *api_base, const char *token,
	const char *version, const struct store_media_job *j, hl_done_fn fn,
	void *arg, struct media_fetch **out, char **errmsg)
{
	struct media_fetch *f = xcalloc(1, sizeof(*f));
	job_copy(&f->job, j);
	enum cv_err rc = CV_OK;
	if (j->kind == MEDIA_RECORDING)
		rc = blob_writer_new(b, max_bytes, &f->w, errmsg);
	/* the SHA-256 on a flush thread (media_flush), not on the download's */
	if (rc == CV_OK && f->w)
		blob_writer_hash_on_flush(f->w);
	char *url = media_url(api_base, j);
	if (rc == CV_OK && j->kind == MEDIA_RECORDING)
		rc = hl_get_to(c, url, token, version,
			"audio/x-wav, audio/*, application/json", max_bytes,
			sink, f, fn, arg, errmsg);
	else if (rc == CV_OK)
		rc = hl_get(c, url, token, version, fn, arg, errmsg);
	free(url);
	if (rc != CV_OK) {
		fetch_free(f);
		return rc;
	}
	*out = f;
	return CV_OK;
}

/* A timed transcription as the API shapes it: an array of sentences
 * (or one sentence object), each with a numeric startTime. */
static bool transcript_ok(const struct buf *b, char **why)
{
	if (b->len == 0) {
		*why = xstrdup("empty body");
		return false;
	}
	if (b->len > MEDIA_TRANSCRIPT_MAX) {
		*why = xasprintf("transcription larger than %u bytes",
			MEDIA_TRANSCRIPT_MAX);
		return false;
	}
	json_error_t e;
	json_t *root = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &e);
	if (!root) {
		*why = xasprintf("transcription is not JSON: %s", e.text);
		return false;
	}
	bool ok = json_is_array(root) || json_is_object(root);
	size_t i;
	json_t *v;
	if (json_is_array(root)) {
		json_array_foreach(root, i, v)
			ok = ok && json_is_object(v) &&
			     json_is_number(json_object_get(v, "startTime"));
	} else if (ok) {
		ok = json_is_number(json_object_get(root, "startTime"));
	}
	json_decref(root);
	if (!ok)
		*why = xstrdup("transcription is not a list of timed "
			       "sentences");
	return ok;
}

static bool is_audio(const char *ct)
{
	return ct && strncasecmp(ct, "audio/", 6) == 0;
}

/* A 200 recording: judge its bytes; good ones wait for their flush
 * (MV_FLUSH) unless the store has no room for them. */
static void judge_recording(struct media_fetch *f, const struct hl_response *r,
	int64_t room, enum media_verdict *v, char **why)
{
	int64_t got = blob_writer_size(f->w);
	const char *wav_why = NULL;
	size_t hn = 0;
	const unsigned char *head = blob_writer_head(f->w, &hn);
	*v = MV_RETRY;
	if (got == 0) {
		*why = xstrdup("empty body (not there yet)");
	} else if (!is_audio(r->content_type)) {
		*why = xasprintf("not audio: Content-Type %.60s",
			r->content_type ? r->content_type : "(none)");
	} else if (r->content_length >= 0 && r->content_length != got) {
		*why = xasprintf("truncated: %lld of %lld bytes",
			(long long)got, (long long)r->content_length);
	} else if (!wav_parse(head, hn, &f->wi, &wav_why)) {
		*why = xasprintf("not a WAV file: %s", wav_why);
	} else if (room >= 0 && got > room) {
		*v = MV_DISK;
		*why = xasprintf("no room: %lld bytes would pass the store's "
				 "size bound (%lld bytes left)",
			(long long)got, (long long)(room > 0 ? room : 0));
	} else {
		f->content_type = xstrdup(r->content_type);
		*v = MV_FLUSH;
	}
}

static enum cv_err keep_transcription(struct store *s, struct media_fetch *f,
	const struct hl_response *r, int64_t now, enum media_verdict *v,
	char **why, char **errmsg)
{
	*v = MV_RETRY;
	if (!transcript_ok(&r->body, why))
		return CV_OK;
	bool added;
	enum cv_err rc = store_transcription_add(s, f->job.message_id,
		f->job.location_id, r->body.data, r->body.len, now, "api",
		&added, errmsg);
	if (rc == CV_OK)
		rc = store_media_result(s, f->job.message_id,
			MEDIA_TRANSCRIPTION, "done", now, NULL, errmsg);
	*v = MV_STORED;
	return rc;
}

/* Why an answer that is not a 200 (or no answer) is not kept. */
static char *refusal(const struct media_fetch *f, const struct hl_response *r,
	enum media_verdict *v)
{
	*v = MV_RETRY;
	if (r->err != CV_OK) {
		if (r->sink_stopped && f->sink_err == CV_ETOOBIG)
			return xasprintf("too big: %s", f->sink_why);
		if (r->sink_stopped) {
			*v = MV_DISK;
			return xasprintf("cannot store it: %s",
				f->sink_why ? f->sink_why : "write failed");
		}
		if (r->err == CV_ETOOBIG)
			return xasprintf("too big: announced %lld bytes, over "
					 "the bound",
				(long long)r->content_length);
		if (f->w && r->content_length > 0 &&
			blob_writer_size(f->w) < r->content_length)
			return xasprintf("truncated: %lld of %lld bytes",
				(long long)blob_writer_size(f->w),
				(long long)r->content_length);
		return xstrdup(r->errmsg ? r->errmsg : "HTTP failed");
	}
	char *msg = hljson_error_message(r->body.data, r->body.len);
	char *why = xasprintf("HTTP %ld%s%s", r->status, msg ? ": " : "",
		msg ? msg : "");
	free(msg);
	if (r->status == 401 || r->status == 403) {
		*v = MV_DENIED;
		char *w = xasprintf("%s (the token lacks the scope "
				    "conversations/message.readonly?)",
			why);
		free(why);
		return w;
	}
	return why;
}

/*
 * A transcription answered 404 while the message's recording is kept
 * already: HighLevel has none for it (it never has one for a Voice AI
 * call, whose transcript is in the call log), so asking again for a day
 * would only spend the location's budget.
 */
static enum cv_err no_transcription(struct store *s,
	const struct media_fetch *f, const struct hl_response *r, bool *final,
	char **errmsg)
{
	*final = false;
	if (f->job.kind != MEDIA_TRANSCRIPTION || r->err != CV_OK ||
		r->status != 404)
		return CV_OK;
	struct store_recording *v = NULL;
	size_t n = 0;
	enum cv_err rc = store_recordings_of_message(s, f->job.message_id, &v,
		&n, errmsg);
	store_recordings_free(v, n);
	*final = rc == CV_OK && n > 0;
	return rc;
}

/* Whether f's job was erased or purged while it was out (then f is
 * freed, its file never named, and *v is MV_GONE). The caller's write
 * transaction excludes an erase or a purge now; one that ran meanwhile
 * removed the job and left a tombstone: keeping the answer would bring
 * back what was disposed of (a blob no call names). */
static enum cv_err gone(struct store *s, struct media_fetch *f,
	const char *when, bool *out, enum media_verdict *v, char **reason,
	char **errmsg)
{
	bool live = false, dead = false;
	struct store_media_job cur;
	*reason = NULL;
	enum cv_err rc = store_media_job_get(s, f->job.message_id, f->job.kind,
		&cur, &live, errmsg);
	if (rc == CV_OK && live)
		store_media_job_clear(&cur);
	if (rc == CV_OK)
		rc = store_tombstoned(s, NULL, f->job.message_id, &dead,
			errmsg);
	*out = rc != CV_OK || !live || dead;
	if (*out) {
		*v = MV_GONE;
		if (rc == CV_OK)
			*reason = xasprintf("erased or purged while it was "
					    "%s: nothing kept",
				when);
		fetch_free(f);
	}
	return rc;
}

/* The job's new state after an attempt that kept nothing. */
static enum cv_err not_kept(struct store *s, const struct media_fetch *f,
	int64_t now, bool final, enum media_verdict *v, const char *reason,
	char **errmsg)
{
	const char *state = "pending";
	int64_t next = now + media_retry_delay(f->job.attempts);
	if (*v == MV_DENIED) {
		state = "denied";
		next = now + 24 * INT64_C(3600000);
	} else if (*v == MV_DISK) {
		/* our disk, not the server: asked again at the next run,
		 * and never a reason to call the recording missing */
		next = now;
	} else if (final || now - f->job.first_seen >= MEDIA_MISSING_AFTER_MS) {
		state = "missing";
		*v = MV_MISSING;
	}
	return store_media_result(s, f->job.message_id, f->job.kind, state,
		next, reason, errmsg);
}

enum cv_err media_finish(struct store *s, struct media_fetch *f,
	const struct hl_response *r, int64_t now, int64_t room,
	enum media_verdict *v, char **reason, char **errmsg)
{
	bool final = false, dead;
	enum cv_err rc = gone(s, f, "fetched", &dead, v, reason, errmsg);
	if (dead)
		return rc;
	if (r->err == CV_OK && r->status == 200 &&
		f->job.kind == MEDIA_RECORDING)
		judge_recording(f, r, room, v, reason);
	else if (r->err == CV_OK && r->status == 200)
		rc = keep_transcription(s, f, r, now, v, reason, errmsg);
	else
		*reason = refusal(f, r, v);
	if (*v == MV_FLUSH)
		return CV_OK; /* f is the caller's until media_keep */
	if (rc == CV_OK && *v == MV_RETRY)
		rc = no_transcription(s, f, r, &final, errmsg);
	if (rc == CV_OK && *v != MV_STORED)
		rc = not_kept(s, f, now, final, v, *reason, errmsg);
	fetch_free(f);
	return rc;
}

void media_flush(struct media_fetch *f)
{
	(void)!blob_writer_flush(f->w);
}

int64_t media_fetch_size(const struct media_fetch *f)
{
	return f->w ? blob_writer_size(f->w) : 0;
}

const struct store_media_job *media_fetch_job(const struct media_fetch *f)
{
	return &f->job;
}

enum cv_err media_keep(struct store *s, struct media_fetch *f, int64_t now,
	enum media_verdict *v, char **reason, char **errmsg)
{
	bool dead;
	enum cv_err rc = gone(s, f, "flushed", &dead, v, reason, errmsg);
	if (dead)
		return rc;
	char sha[CV_SHA256_HEX];
	int64_t size = 0;
	struct blob_writer *w = f->w;
	f->w = NULL;
	char *why = NULL;
	if (blob_writer_publish(w, NULL, sha, &size, &why) != CV_OK) {
		*v = MV_DISK;
		*reason = xasprintf("cannot store it: %s", why);
		free(why);
		rc = not_kept(s, f, now, false, v, *reason, errmsg);
		fetch_free(f);
		return rc;
	}
	struct store_recording rec = { .message_id = f->job.message_id,
		.location_id = f->job.location_id,
		.sha256 = sha,
		.size = size,
		.content_type = f->content_type,
		.duration_ms = wav_duration_ms(&f->wi, size),
		.sample_rate = f->wi.sample_rate,
		.channels = f->wi.channels,
		.fetched_at = now,
		.source = "api" };
	bool added;
	rc = store_recording_add(s, &rec, &added, errmsg);
	if (rc == CV_OK)
		rc = store_media_result(s, f->job.message_id, MEDIA_RECORDING,
			"done", now, NULL, errmsg);
	*v = MV_STORED;
	fetch_free(f);
	return rc;
}
