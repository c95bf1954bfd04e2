/* media.c — see media.h */
#include "media.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "common.h"
#include "util.h"

#define WAV_HEADER 44

struct media_stream {
	unsigned char header[WAV_HEADER];
	uint64_t seed;
	int rate;
	uint64_t len; /* header + samples */
	uint64_t cut; /* bytes really sent (< len: truncated) */
	int stall_ms; /* pause this long at half the length */
};

static uint64_t fnv(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
	return h;
}

static uint64_t mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

/* A canonical 44-byte PCM header: mono, 16-bit. */
static void wav_header(unsigned char *h, int rate, uint32_t data_bytes)
{
	memcpy(h, "RIFF", 4);
	put32(h + 4, 36 + data_bytes);
	memcpy(h + 8, "WAVEfmt ", 8);
	put32(h + 16, 16);
	put16(h + 20, 1);
	put16(h + 22, 1);
	put32(h + 24, (uint32_t)rate);
	put32(h + 28, (uint32_t)rate * 2);
	put16(h + 32, 2);
	put16(h + 34, 16);
	memcpy(h + 36, "data", 4);
	put32(h + 40, data_bytes);
}

/*
 * Sample k of a recording: a tone in half-second bursts (speech and
 * pauses) with noise, so that it neither compresses to nothing nor is
 * pure noise; a function of (seed, k) only, so any byte range can be
 * produced without the rest.
 */
static int16_t sample(const struct media_stream *m, uint64_t k)
{
	uint64_t burst = k / (uint64_t)(m->rate / 2);
	bool talk = (mix(m->seed ^ burst) & 3) != 0;
	int noise = (int)(mix(m->seed + k) & 0x1ff) - 256;
	if (!talk)
		return (int16_t)(noise / 4);
	uint64_t f = 120 + m->seed % 240;
	uint32_t ph = (uint32_t)((k * f * 65536 / (uint64_t)m->rate) & 0xffff);
	int tri = ph < 32768 ? (int)ph - 16384 : 49151 - (int)ph;
	return (int16_t)(tri / 2 + noise * 4);
}

ssize_t media_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct media_stream *m = cls;
	if (m->stall_ms > 0 && pos >= m->len / 2) {
		/* (the reader runs on the connection's own thread) */
		struct timespec ts = { m->stall_ms / 1000,
			(long)(m->stall_ms % 1000) * 1000000 };
		while (nanosleep(&ts, &ts) != 0)
			;
		m->stall_ms = 0;
	}
	if (pos >= m->cut)
		return pos >= m->len ? MHD_CONTENT_READER_END_OF_STREAM
				     : MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = 0;
	for (; n < max && pos < m->cut; n++, pos++) {
		if (pos < WAV_HEADER) {
			buf[n] = (char)m->header[pos];
			continue;
		}
		uint16_t s = (uint16_t)sample(m, (pos - WAV_HEADER) / 2);
		buf[n] = (char)((pos - WAV_HEADER) & 1 ? s >> 8 : s & 0xff);
	}
	return (ssize_t)n;
}

void media_stream_free(void *cls)
{
	free(cls);
}

static void error_body(struct media_answer *a, int status, const char *msg)
{
	a->status = status;
	free(a->body);
	json_t *o = json_pack("{s:i,s:s}", "statusCode", status, "message",
		msg);
	a->body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
}

/* The call of location loc with this messageId, or -1. */
static long find_message(const struct simdata *sd, int loc, const char *id)
{
	for (size_t i = 0; i < sd->n_calls; i++) {
		const struct sim_call *c = &sd->calls[i];
		const char *m = json_string_value(
			json_object_get(c->obj, "messageId"));
		if (c->loc == loc && m && !strcmp(m, id))
			return (long)i;
	}
	return -1;
}

static void recording(struct hlsim *h, const struct sim_call *c,
	const char *msg, int64_t now, struct media_answer *a)
{
	const struct quirks *q = &h->quirks;
	uint64_t seed = fnv(msg);
	int64_t ended = c->created_ms + (int64_t)(c->duration * 1000);
	if (ended < h->started_ms)
		ended = h->started_ms;
	if ((double)(seed % 10000) < q->rec_none * 10000.0 ||
		now < ended + q->rec_late_ms) {
		error_body(a, 404, "Recording not found");
		return;
	}
	if (faults_roll(&h->faults, F_NOTAUDIO)) {
		a->status = 200;
		if (sim_rand(&h->faults.rng) & 1) {
			a->content_type = "text/html; charset=utf-8";
			a->body = xstrdup(
				"<!DOCTYPE html><html><body>Service "
				"temporarily unavailable</body></html>");
		} else {
			a->content_type = "audio/x-wav";
			a->body = xstrdup("{\"message\":\"recording is being "
					  "processed\"}");
		}
		return;
	}
	struct media_stream *m = xcalloc(1, sizeof(*m));
	m->seed = seed;
	m->rate = q->rec_rate ? q->rec_rate : seed & 1 ? 16000 : 8000;
	int64_t ms = (int64_t)(c->duration * 1000);
	if (ms < 1000)
		ms = 1000;
	if (q->rec_s > 0)
		ms = (int64_t)q->rec_s * 1000;
	if (q->rec_max_s > 0 && ms > (int64_t)q->rec_max_s * 1000)
		ms = (int64_t)q->rec_max_s * 1000;
	uint64_t data = (uint64_t)(ms * m->rate / 1000) * 2;
	wav_header(m->header, m->rate, (uint32_t)data);
	m->len = m->cut = WAV_HEADER + data;
	if (faults_roll(&h->faults, F_RECTRUNC))
		m->cut = m->len / 2;
	m->stall_ms = h->faults.rec_stall_ms;
	a->status = 200;
	a->content_type = "audio/x-wav";
	a->disposition = "attachment; filename=audio.wav";
	a->wav = m;
	a->wav_len = m->len;
}

/* The call's transcript lines ("bot: …", "human: …") as sentences timed
 * over its duration in proportion to their length. */
static void transcription(struct hlsim *h, const struct sim_call *c,
	const char *msg, struct media_answer *a)
{
	const char *t = json_string_value(
		json_object_get(c->obj, "transcript"));
	if (h->quirks.trans_none || !t || !*t) {
		error_body(a, 404, "Transcription not found");
		return;
	}
	double total = (double)strlen(t), dur = c->duration * 1000;
	if (dur < 1000)
		dur = 1000;
	uint64_t seed = fnv(msg);
	json_t *arr = json_array();
	double at = 0;
	int idx = 0;
	for (const char *p = t; *p;) {
		size_t n = strcspn(p, "\n");
		const char *colon = memchr(p, ':', n);
		bool bot = n >= 3 && !strncmp(p, "bot", 3);
		const char *s = colon ? colon + 1 : p;
		while (*s == ' ' && s < p + n)
			s++;
		double len = dur * (double)(n + 1) / (total + 1);
		char *text = xasprintf("%.*s", (int)(p + n - s), s);
		json_array_append_new(arr,
			json_pack("{s:i,s:i,s:I,s:I,s:s,"
				  "s:f}",
				"mediaChannel", bot ? 2 : 1, "sentenceIndex",
				idx, "startTime", (json_int_t)at, "endTime",
				(json_int_t)(at + len), "transcript", text,
				"confidence",
				0.8 + (double)(mix(seed + (uint64_t)idx) % 20) /
						100.0));
		free(text);
		at += len;
		idx++;
		p += n + (p[n] == '\n');
	}
	a->status = 200;
	a->body = json_dumps(arr, JSON_COMPACT | JSON_REAL_PRECISION(4));
	json_decref(arr);
}

/* Copy path segment i ("a/b/c": 0 is a) of at most 63 bytes into out. */
static bool segment(const char *path, int i, char out[64])
{
	for (; i > 0; i--) {
		path = strchr(path, '/');
		if (!path)
			return false;
		path++;
	}
	size_t n = strcspn(path, "/");
	if (n == 0 || n >= 64)
		return false;
	memcpy(out, path, n);
	out[n] = '\0';
	return true;
}

bool media_route(struct hlsim *h, int loc, const char *url, int64_t now,
	struct media_answer *a)
{
	static const char rec_pfx[] = "/conversations/messages/";
	static const char tr_pfx[] = "/conversations/locations/";
	char msg[64], lid[64], tail[64], extra[64];
	bool rec;
	memset(a, 0, sizeof(*a));
	const char *p;
	if (!strncmp(url, rec_pfx, sizeof(rec_pfx) - 1)) {
		p = url + sizeof(rec_pfx) - 1;
		rec = segment(p, 0, msg) && segment(p, 1, tail) &&
		      !strcmp(tail, "locations") && segment(p, 2, lid) &&
		      segment(p, 3, tail) && !strcmp(tail, "recording") &&
		      !segment(p, 4, extra);
		if (!rec)
			return false;
	} else if (!strncmp(url, tr_pfx, sizeof(tr_pfx) - 1)) {
		p = url + sizeof(tr_pfx) - 1;
		if (!(segment(p, 0, lid) && segment(p, 1, tail) &&
			    !strcmp(tail, "messages") && segment(p, 2, msg) &&
			    segment(p, 3, tail) &&
			    !strcmp(tail, "transcription") &&
			    !segment(p, 4, extra)))
			return false;
		rec = false;
	} else {
		return false;
	}
	if (simdata_find_location(h->sd, lid) != loc) {
		error_body(a, 403,
			"The token does not have access to this "
			"location.");
		return true;
	}
	long i = find_message(h->sd, loc, msg);
	if (i < 0) {
		error_body(a, 404, "Message not found");
		return true;
	}
	if (rec)
		recording(h, &h->sd->calls[i], msg, now, a);
	else
		transcription(h, &h->sd->calls[i], msg, a);
	return true;
}
