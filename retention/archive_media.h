/*
 * archive_media.h — the recordings and timed transcriptions in a bag.
 * While the calls are walked, each call's media are noted (a line each
 * in data/media.jsonl, spooled); after the other payload files come
 * data/media.jsonl and then the files themselves — recordings streamed
 * from the blob store, never whole in memory, and checked against the
 * SHA-256 they were recorded with — so that restore has read what each
 * file is before its bytes arrive.
 *
 *   data/recordings/<callId>.wav        the bytes as received
 *   data/recordings/<callId>.<k>.wav    the k-th (k >= 2), oldest first
 *   data/transcriptions/<callId>.json   the timed transcription as received
 *   data/media.jsonl                    one line per file above
 */
#ifndef CV_ARCHIVE_MEDIA_H
#define CV_ARCHIVE_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "store/store.h"
#include "tarzst.h"

struct amedia;

/* What a bag's payload listing wants of each file. */
typedef void amedia_manifest_fn(void *arg, const char *rel, const char *h256,
	const char *h512, uint64_t size);

/* spool_dir holds the temp file of media.jsonl (NULL: none, it is
 * counted and made again, spool.h); archive_id (rebuild)
 * limits the media to those that archive recorded, 0 = all. */
struct amedia *amedia_create(struct store *s, const char *spool_dir,
	int64_t archive_id);
void amedia_destroy(struct amedia *m);

/* Note a call's media (none is fine). */
enum cv_err amedia_note_call(struct amedia *m, const char *call_id,
	char **errmsg) CV_MUST_CHECK;
/* How many files the noted media come to (media.jsonl included). */
size_t amedia_files(const struct amedia *m);

/* The SHA-256 of each noted recording (caller frees the array, not the
 * strings, which live as long as m); how many. */
size_t amedia_recordings(const struct amedia *m, const char ***out);

/* Write data/media.jsonl and each file under root into t; manifest hears
 * of each. CV_EINTEGRITY naming the blob when a recording's bytes are not
 * the ones recorded (or its blob is gone). */
enum cv_err amedia_write(struct amedia *m, struct tarzst *t, const char *root,
	amedia_manifest_fn *manifest, void *arg, char **errmsg) CV_MUST_CHECK;

/* Tell manifest again of each file amedia_write wrote, as it did. */
void amedia_manifest_again(const struct amedia *m, amedia_manifest_fn *manifest,
	void *arg);

/* Record in the store that archive archive_id holds the noted media
 * (inside the caller's transaction). */
enum cv_err amedia_record(const struct amedia *m, struct store *s,
	int64_t archive_id, char **errmsg) CV_MUST_CHECK;

#endif
