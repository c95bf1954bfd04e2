/*
 * store_media_arch.h — which recordings and timed transcriptions each
 * archive holds (archive_media), so that a supplement takes a call again
 * when media arrived after its archive, `archive --rebuild` writes the
 * media it wrote before, and purge removes media only when an archive
 * verified since it was written holds them. Media are named by message
 * id, kind and SHA-256 (rows are re-numbered by a restore; bytes are not).
 */
#ifndef CV_STORE_MEDIA_ARCH_H
#define CV_STORE_MEDIA_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_recordings.h"

/* store_db_path() (store.h) names the file blob_open wants. */

/* Record that archive archive_id holds this medium (a no-op when it is
 * recorded already). Inside the caller's transaction. */
enum cv_err store_arch_media_add(struct store *s, int64_t archive_id,
	const char *message_id, enum media_kind kind, const char *sha256,
	char **errmsg) CV_MUST_CHECK;
/* Whether archive archive_id holds it. */
enum cv_err store_arch_media_has(struct store *s, int64_t archive_id,
	const char *message_id, enum media_kind kind, const char *sha256,
	bool *has, char **errmsg) CV_MUST_CHECK;

/* Every transcription of a message, oldest first (caller frees each with
 * store_transcription_clear, then the array). */
enum cv_err store_transcriptions_of_message(struct store *s,
	const char *message_id, struct store_transcription **out, size_t *n,
	char **errmsg) CV_MUST_CHECK;
void store_transcriptions_free(struct store_transcription *v, size_t n);

/* A call's messageId (*out NULL when it has none or there is no such
 * call; caller frees). */
enum cv_err store_call_message_id(struct store *s, const char *call_id,
	char **out, char **errmsg) CV_MUST_CHECK;
/* How many calls have this messageId. */
enum cv_err store_message_calls(struct store *s, const char *message_id,
	int64_t *n, char **errmsg) CV_MUST_CHECK;

#endif
