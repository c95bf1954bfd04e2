/*
 * media.h — hlsim's call recordings and timed transcriptions:
 * GET /conversations/messages/{messageId}/locations/{locationId}/recording
 * (a WAV synthesised from the call, streamed, never held whole) and
 * GET /conversations/locations/{locationId}/messages/{messageId}/
 * transcription (the call's transcript as timed sentences). Both are
 * deterministic for a seed; quirks and faults shape them (see quirks.h,
 * faults.h). Runs with the server's lock held, except the stream reader.
 */
#ifndef HLSIM_MEDIA_H
#define HLSIM_MEDIA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct hlsim;
struct media_stream;

struct media_answer {
	int status;
	char *body;               /* JSON or text (malloc'd), or NULL */
	const char *content_type; /* NULL: application/json */
	const char *disposition;  /* Content-Disposition, or NULL */
	struct media_stream *wav; /* a recording to stream, or NULL */
	uint64_t wav_len;         /* the Content-Length promised */
};

/* true when url is a media path (a is then filled; an error is a JSON
 * message in body with the status). loc is the token's location. */
bool media_route(struct hlsim *h, int loc, const char *url, int64_t now,
	struct media_answer *a);

/* libmicrohttpd content reader over a recording, and its free. */
ssize_t media_stream_read(void *cls, uint64_t pos, char *buf, size_t max);
void media_stream_free(void *cls);

#endif
