/*
 * show_media.h — `show`'s part about a call's media: the recordings
 * kept (SHA-256, size, duration, when fetched) and the timed
 * transcription (each sentence with its start time), as text or JSON.
 */
#ifndef CV_CLI_SHOW_MEDIA_H
#define CV_CLI_SHOW_MEDIA_H

#include <jansson.h>

#include "../store/store.h"

enum cv_err show_media_text(struct store *s, const char *call_id,
	const char *message_id, char **err) CV_MUST_CHECK;
/* Adds "recordings" and "timedTranscript" (null when none) to o. */
enum cv_err show_media_json(struct store *s, const char *call_id,
	const char *message_id, json_t *o, char **err) CV_MUST_CHECK;

#endif
