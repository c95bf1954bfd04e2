/*
 * mkrec — tests only: give a call of a store a recording and a timed
 * transcription, the way the fetcher will (blob first, then the rows),
 * until fetching from the API exists.
 *
 *   mkrec DB CALL_ID [BYTES [RATE]]      (default 64000 bytes, 8000 Hz)
 *
 * The WAV (16-bit mono PCM) is deterministic for the call id and size;
 * the transcription has three sentences spread over its duration. Prints
 * the recording's SHA-256. Exit 1 on any failure. MKREC_SEED=ID makes
 * the bytes those of call ID instead (the same content for two calls).
 * Like the fetcher, the blob is named and the rows written inside one
 * write transaction (an eraser's count and unlink cannot come between).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "store/store.h"
#include "store/store_media_arch.h"
#include "store/store_recordings.h"
#include "util.h"
#include "wav.h"

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void header(unsigned char h[44], uint32_t data, uint32_t rate)
{
	memcpy(h, "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0", 24);
	put32(h + 4, 36 + data);
	put32(h + 24, rate);
	put32(h + 28, rate * 2);
	memcpy(h + 32, "\x02\0\x10\0data", 8);
	put32(h + 40, data);
}

static int fail(const char *what, char *err)
{
	fprintf(stderr, "mkrec: %s: %s\n", what, err ? err : "failed");
	free(err);
	return 1;
}

/* The samples: a tone with some noise, seeded by the call id. */
static enum cv_err samples(struct blob_writer *w, const char *id, long left,
	char **err)
{
	uint32_t x = 2166136261u;
	for (const char *p = id; *p; p++)
		x = (x ^ (unsigned char)*p) * 16777619u;
	unsigned char chunk[4096];
	enum cv_err rc = CV_OK;
	for (long i = 0; left > 0 && rc == CV_OK;) {
		size_t n = left < (long)sizeof(chunk) ? (size_t)left
						      : sizeof(chunk);
		for (size_t k = 0; k < n; k += 2, i++) {
			x = x * 1103515245u + 12345u;
			int v = (int)((i % 40) * 600 - 12000) +
				(int)((x >> 16) % 2000) - 1000;
			chunk[k] = (unsigned char)v;
			if (k + 1 < n)
				chunk[k + 1] = (unsigned char)(v >> 8);
		}
		rc = blob_writer_write(w, chunk, n, err);
		left -= (long)n;
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: mkrec DB CALL_ID [BYTES [RATE]]\n");
		return 2;
	}
	long bytes = argc > 3 ? atol(argv[3]) : 64000;
	uint32_t rate = argc > 4 ? (uint32_t)atol(argv[4]) : 8000;
	char *err = NULL, *mid = NULL, sha[CV_SHA256_HEX];
	struct store *s;
	struct blobstore *b;
	struct blob_writer *w;
	int64_t size;
	if (store_open(&s, argv[1], STORE_NOCREATE, &err) != CV_OK)
		return fail("store", err);
	if (store_call_message_id(s, argv[2], &mid, &err) != CV_OK || !mid)
		return fail(argv[2], err ? err : xstrdup("no messageId"));
	const char *seed = getenv("MKREC_SEED");
	if (bytes < 44 || blob_open(&b, argv[1], true, &err) != CV_OK ||
		blob_writer_new(b, 0, &w, &err) != CV_OK)
		return fail("blob", err);
	unsigned char h[44];
	header(h, (uint32_t)(bytes - 44), rate);
	if (blob_writer_write(w, h, 44, &err) != CV_OK ||
		samples(w, seed && *seed ? seed : argv[2], bytes - 44, &err) !=
			CV_OK ||
		store_begin(s, &err) != CV_OK ||
		blob_writer_commit(w, NULL, sha, &size, &err) != CV_OK)
		return fail("write", err);
	struct wav_info wi;
	const char *why;
	bool wav = wav_parse(h, sizeof(h), &wi, &why);
	struct store_recording r = { .message_id = mid,
		.location_id = "",
		.sha256 = sha,
		.size = size,
		.content_type = "audio/x-wav",
		.duration_ms = wav ? wav_duration_ms(&wi, size) : -1,
		.sample_rate = (int)rate,
		.channels = 1,
		.fetched_at = 1767225600000,
		.source = "api" };
	int64_t ms = r.duration_ms > 0 ? r.duration_ms : 3000;
	char *tr = xasprintf(
		"[{\"mediaChannel\":1,\"sentenceIndex\":0,"
		"\"startTime\":0,\"endTime\":%lld,\"transcript\":"
		"\"Hello, this call may be recorded.\",\"confidence\":0.9},"
		"{\"mediaChannel\":2,\"sentenceIndex\":1,\"startTime\":%lld,"
		"\"endTime\":%lld,\"transcript\":"
		"\"I would like to book a visit.\",\"confidence\":0.8},"
		"{\"mediaChannel\":1,\"sentenceIndex\":2,\"startTime\":%lld,"
		"\"endTime\":%lld,\"transcript\":\"Thursday at ten works.\","
		"\"confidence\":0.85}]",
		(long long)(ms / 3), (long long)(ms / 3),
		(long long)(2 * ms / 3), (long long)(2 * ms / 3),
		(long long)ms);
	bool added;
	if (store_recording_add(s, &r, &added, &err) != CV_OK ||
		store_transcription_add(s, mid, "", tr, strlen(tr),
			r.fetched_at, "api", &added, &err) != CV_OK ||
		store_commit(s, &err) != CV_OK)
		return fail("rows", err);
	printf("%s\n", sha);
	free(tr);
	free(mid);
	blob_close(b);
	store_close(s);
	return 0;
}
