/* show_media.c — see show_media.h */
#include "show_media.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store_recordings.h"
#include "../util.h"

static void fmt_time(int64_t ms, char out[32])
{
	cv_format_iso8601(ms, out);
}

/* "m:ss.s" of a start time in ms (up to a week) */
static void fmt_offset(double ms, char out[24])
{
	if (!(ms >= 0 && ms < 7 * 86400e3)) {
		snprintf(out, 24, "?");
		return;
	}
	int t = (int)(ms / 100);
	snprintf(out, 24, "%d:%02d.%d", t / 600 % 100000, t / 10 % 60, t % 10);
}

static void print_recording(const struct store_recording *r)
{
	char at[32];
	fmt_time(r->fetched_at, at);
	printf("  sha256 %s\n", r->sha256);
	printf("  %lld bytes, %s", (long long)r->size,
		r->content_type ? r->content_type : "-");
	if (r->duration_ms >= 0)
		printf(", %.1f s", (double)r->duration_ms / 1000.0);
	if (r->sample_rate > 0)
		printf(", %d Hz, %d channel%s", r->sample_rate, r->channels,
			r->channels == 1 ? "" : "s");
	printf("\n  fetched %s from %s\n", at, r->source ? r->source : "-");
}

/* The sentences of a timed transcription (an array, or one object). */
static json_t *sentences(const struct store_transcription *t)
{
	json_t *root = json_loadb(t->body, t->len, 0, NULL);
	if (json_is_object(root)) {
		json_t *a = json_array();
		json_array_append_new(a, root);
		return a;
	}
	if (json_is_array(root))
		return root;
	json_decref(root);
	return NULL;
}

static void print_sentences(const struct store_transcription *t)
{
	json_t *arr = sentences(t), *v;
	size_t i;
	if (!arr) {
		printf("  (kept, but not readable as sentences)\n");
		return;
	}
	struct cv_safe k = { 0 };
	json_array_foreach(arr, i, v)
	{
		char off[24];
		fmt_offset(json_number_value(json_object_get(v, "startTime")),
			off);
		const char *text = json_string_value(
			json_object_get(v, "transcript"));
		json_t *ch = json_object_get(v, "mediaChannel");
		printf("  %8s  ch%-2lld %s\n", off,
			json_is_number(ch) ? (long long)json_number_value(ch)
					   : 0LL,
			text ? cv_safe(&k, text) : "-");
	}
	cv_safe_finish(&k);
	json_decref(arr);
}

/* Why a message has no recording yet: its fetch job. */
static enum cv_err print_job(struct store *s, const char *message_id,
	char **err)
{
	struct store_media_job j;
	bool found;
	enum cv_err rc = store_media_job_get(s, message_id, MEDIA_RECORDING, &j,
		&found, err);
	if (rc != CV_OK)
		return rc;
	struct cv_safe k = { 0 };
	if (!found) {
		printf("  (none: not queued yet; the next sync queues it)\n");
	} else {
		char at[32];
		fmt_time(j.next_at, at);
		printf("  (none kept: %s after %d attempt%s", j.state,
			j.attempts, j.attempts == 1 ? "" : "s");
		if (j.last_error)
			printf("; last: %s", cv_safe(&k, j.last_error));
		if (!strcmp(j.state, "pending") || !strcmp(j.state, "denied"))
			printf("; next try from %s", at);
		printf(")\n");
	}
	cv_safe_finish(&k);
	free(j.message_id);
	free(j.location_id);
	free(j.state);
	free(j.last_error);
	return CV_OK;
}

enum cv_err show_media_text(struct store *s, const char *call_id,
	const char *message_id, char **err)
{
	struct store_recording *v = NULL;
	size_t n = 0;
	enum cv_err rc = store_recordings_of_call(s, call_id, &v, &n, err);
	if (rc != CV_OK)
		return rc;
	printf("\nRecording\n");
	for (size_t i = 0; i < n; i++)
		print_recording(&v[i]);
	store_recordings_free(v, n);
	if (n == 0 && (!message_id || !*message_id))
		printf("  (none: the call has no messageId)\n");
	else if (n == 0)
		rc = print_job(s, message_id, err);
	if (rc != CV_OK)
		return rc;
	if (!message_id || !*message_id)
		return CV_OK;
	struct store_transcription t;
	bool found = false;
	rc = store_transcription_latest(s, message_id, &t, &found, err);
	if (rc != CV_OK)
		return rc;
	printf("\nTimed transcript\n");
	if (found)
		print_sentences(&t);
	else
		printf("  (none kept)\n");
	store_transcription_clear(&t);
	return CV_OK;
}

enum cv_err show_media_json(struct store *s, const char *call_id,
	const char *message_id, json_t *o, char **err)
{
	struct store_recording *v = NULL;
	size_t n = 0;
	enum cv_err rc = store_recordings_of_call(s, call_id, &v, &n, err);
	if (rc != CV_OK)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char at[32];
		fmt_time(v[i].fetched_at, at);
		json_array_append_new(arr,
			json_pack("{s:s,s:I,s:s?,s:o,s:i,"
				  "s:i,s:s,s:s?}",
				"sha256", v[i].sha256, "size",
				(json_int_t)v[i].size, "contentType",
				v[i].content_type, "durationMs",
				v[i].duration_ms >= 0
					? json_integer(v[i].duration_ms)
					: json_null(),
				"sampleRate", v[i].sample_rate, "channels",
				v[i].channels, "fetchedAt", at, "source",
				v[i].source));
	}
	store_recordings_free(v, n);
	json_object_set_new(o, "recordings", arr);
	json_t *tt = json_null();
	if (message_id && *message_id) {
		struct store_transcription t;
		bool found = false;
		rc = store_transcription_latest(s, message_id, &t, &found, err);
		if (rc == CV_OK && found) {
			json_t *sent = sentences(&t);
			if (sent) {
				json_decref(tt);
				tt = sent;
			}
		}
		store_transcription_clear(&t);
	}
	json_object_set_new(o, "timedTranscript", tt);
	return rc;
}
