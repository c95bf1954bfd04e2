/*
 * restore_media.h — restore's reader of a bag's media: data/media.jsonl
 * first (what each file is), then each recording streamed into the blob
 * store, committed only when its bytes hash to the SHA-256 the bag
 * recorded (the one verify checked against both manifests), and each
 * timed transcription; rows with source `restore`. Restoring twice adds
 * nothing (the blob store and the rows deduplicate). Media of disposed
 * calls (tombstones) are skipped.
 */
#ifndef CV_RESTORE_MEDIA_H
#define CV_RESTORE_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "store/store.h"

struct rmedia_stats {
	int64_t recordings_added, recordings_present, transcriptions;
	int64_t disposed; /* files of disposed calls, not loaded */
};

struct rmedia;

struct rmedia *rmedia_create(struct store *s, struct rmedia_stats *st);
/* After the caller's transaction: with committed false, the blobs this
 * restore created that no row names are removed again. Then freed. */
void rmedia_destroy(struct rmedia *m, bool committed);

/* Whether the bag file (path relative to the bag) is one of ours. */
bool rmedia_takes(const char *path);
/* A file of ours starts, gets its bytes, ends; errors in *errmsg. */
enum cv_err rmedia_begin(struct rmedia *m, const char *path,
	char **errmsg) CV_MUST_CHECK;
enum cv_err rmedia_data(struct rmedia *m, const void *p, size_t n,
	char **errmsg) CV_MUST_CHECK;
enum cv_err rmedia_end(struct rmedia *m, char **errmsg) CV_MUST_CHECK;

#endif
