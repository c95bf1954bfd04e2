/*
 * store_storage.h — S3 archive targets (`callvault storage`) and what the
 * store knows of each archive written to one: its URL, version id, ETag,
 * SHA-256, Object Lock mode and date, and legal-hold state. Key files are
 * stored by path only; their contents never enter the store.
 */
#ifndef CV_STORE_STORAGE_H
#define CV_STORE_STORAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

struct store_storage {
	char *name, *endpoint, *bucket, *prefix, *region;
	bool path_style;
	char *access_key_file, *secret_key_file;
	char *lock_mode; /* "COMPLIANCE" or "GOVERNANCE" */
	bool is_default;
	int64_t added_at;
};
void store_storage_finish(struct store_storage *t);
void store_storages_free(struct store_storage *v, size_t n);

/* Add a target (CV_EINVAL when the name is taken). is_default makes it
 * the default of `archive` (and no other target the default). */
enum cv_err store_storage_add(struct store *s, const struct store_storage *t,
	const char *actor, char **errmsg) CV_MUST_CHECK;
/* One target by name (NULL: the default; CV_ENOTFOUND when none). */
enum cv_err store_storage_get(struct store *s, const char *name,
	struct store_storage *out, char **errmsg) CV_MUST_CHECK;
/* All targets, by name. */
enum cv_err store_storage_list(struct store *s, struct store_storage **out,
	size_t *n, char **errmsg) CV_MUST_CHECK;

struct store_remote {
	int64_t archive_id;
	char *target, *url, *key, *version_id, *etag, *sha256, *lock_mode;
	int64_t retain_until; /* epoch ms */
	bool legal_hold;
	int64_t checked_at; /* last verify from the target; 0 */
	/* from the archive's record */
	char *location_id, *month;
	int seq;
};
void store_remote_finish(struct store_remote *r);
void store_remotes_free(struct store_remote *v, size_t n);

/* Record where archive_id went (in the caller's transaction). */
enum cv_err store_remote_add(struct store *s, const struct store_remote *r,
	char **errmsg) CV_MUST_CHECK;
/* The remote copies, all or those of one URL (NULL: all), by id. */
enum cv_err store_remote_list(struct store *s, const char *url,
	struct store_remote **out, size_t *n, char **errmsg) CV_MUST_CHECK;
/* After a verify or a legal-hold change: the state seen. */
enum cv_err store_remote_update(struct store *s, int64_t archive_id,
	const char *lock_mode, int64_t retain_until, bool legal_hold,
	int64_t checked_at, char **errmsg) CV_MUST_CHECK;
/* Does an active hold cover a call the archive holds (*held)? */
enum cv_err store_remote_held(struct store *s, int64_t archive_id, bool *held,
	char **errmsg) CV_MUST_CHECK;

/* A recording's content-addressed object in a target (remote_blobs). */
struct store_remote_blob {
	char *target, *sha256, *key, *version_id, *lock_mode;
	int64_t size, retain_until; /* epoch ms */
	bool legal_hold;
	int64_t checked_at; /* last verify from the target; 0 */
};
void store_remote_blob_finish(struct store_remote_blob *b);
void store_remote_blobs_free(struct store_remote_blob *v, size_t n);
/* Record (or replace) where a blob went (in the caller's transaction). */
enum cv_err store_remote_blob_put(struct store *s,
	const struct store_remote_blob *b, char **errmsg) CV_MUST_CHECK;
/* Those of one target (NULL: all), or of one sha256 (NULL: all). */
enum cv_err store_remote_blob_list(struct store *s, const char *target,
	const char *sha256, struct store_remote_blob **out, size_t *n,
	char **errmsg) CV_MUST_CHECK;
/* Does an active hold cover a call whose recording has these bytes? */
enum cv_err store_remote_blob_held(struct store *s, const char *sha256,
	bool *held, char **errmsg) CV_MUST_CHECK;
/* How many archives (and blobs) the store records in target. */
enum cv_err store_remote_count(struct store *s, const char *target,
	int64_t *archives, int64_t *blobs, char **errmsg) CV_MUST_CHECK;
/* What keeps a blob (`storage evict`): how many recording rows name it,
 * how many of those no archive holds (archive_media), and the
 * location-months of the archives that hold it. */
struct store_blob_cover {
	int64_t rows, unarchived;
	char **location_id, **month;
	size_t n;
};
enum cv_err store_blob_cover(struct store *s, const char *sha256,
	struct store_blob_cover *out, char **errmsg) CV_MUST_CHECK;
void store_blob_cover_finish(struct store_blob_cover *c);
/* Forget a target (its remote records stay, naming it). */
enum cv_err store_storage_remove(struct store *s, const char *name,
	char **errmsg) CV_MUST_CHECK;

#endif
