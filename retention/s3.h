/*
 * s3.h — the one place callvault talks S3: libcurl with its own SigV4
 * signer (CURLOPT_AWS_SIGV4), an explicit x-amz-content-sha256 on every
 * request and query strings written canonically (sorted, encoded,
 * value-less sub-resources with "="), which curl 7.88 signs verbatim.
 *
 * Errors name the S3 error code the server gave (AccessDenied,
 * SignatureDoesNotMatch, RequestTimeTooSkewed, NoSuchBucket, ...) and the
 * HTTP status. Transport failures, 5xx, SlowDown and RequestTimeout are
 * retried (4 attempts, backing off) when the request can be sent again.
 * XML answers are read up to 1 MiB and only the few elements needed are
 * taken out of them (s3_xml_*).
 */
#ifndef CV_S3_H
#define CV_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "hash.h"

/* Where archives go: one bucket (and key prefix) of one endpoint. The key
 * files are read when a client is created, never kept elsewhere. */
struct s3_target {
	const char *name;     /* the store's name for it */
	const char *endpoint; /* http(s)://host[:port] */
	const char *bucket;
	const char *prefix;          /* "" or "p/" ... (no leading /) */
	const char *region;          /* signing scope; "us-east-1" */
	bool path_style;             /* endpoint/bucket/key */
	const char *access_key_file; /* 0600 (or stricter) files */
	const char *secret_key_file;
};

/* Object Lock modes. */
enum s3_lock_mode { S3_LOCK_NONE, S3_LOCK_GOVERNANCE, S3_LOCK_COMPLIANCE };
const char *s3_lock_mode_name(enum s3_lock_mode m);
/* "GOVERNANCE"/"COMPLIANCE" (any case) -> mode; false otherwise. */
bool s3_lock_mode_parse(const char *s, enum s3_lock_mode *out);

/* What HEAD (and a write) tells of one object version. */
struct s3_obj {
	char version_id[256];
	char etag[80]; /* without the quotes */
	int64_t size;
	enum s3_lock_mode mode;
	int64_t retain_until_ms; /* 0 = none */
	bool legal_hold;
};

struct s3;

/* A client for target t: reads and checks the key files (they must not
 * be readable by group or others). Caller destroys. */
enum cv_err s3_create(struct s3 **out, const struct s3_target *t,
	char **errmsg) CV_MUST_CHECK;
void s3_destroy(struct s3 *s);

/* The object's key under the target's prefix (caller frees), and the
 * s3:// URL the store records for it. */
char *s3_key(const struct s3 *s, const char *rel);
char *s3_url(const struct s3 *s, const char *key);

/* The target's bucket. */
const char *s3_bucket(const struct s3 *s);

/* Tests and benchmarks: the HTTP status and S3 error code of the last
 * failed request ("" when it had none). */
const char *s3_last_code(const struct s3 *s);
long s3_last_status(const struct s3 *s);

/* ---- bucket ---- */

/* Does the bucket exist (CV_ENOTFOUND naming NoSuchBucket if not), and is
 * Object Lock enabled on it (*enabled)? */
enum cv_err s3_bucket_lock(struct s3 *s, bool *enabled,
	char **errmsg) CV_MUST_CHECK;

/* ---- objects ---- */

/* PUT a whole small object, locked as given (mode NONE: no lock). */
enum cv_err s3_put(struct s3 *s, const char *key, const void *p, size_t n,
	enum s3_lock_mode mode, int64_t until_ms, struct s3_obj *out,
	char **errmsg) CV_MUST_CHECK;
/* HEAD one version (NULL: the current one). CV_ENOTFOUND when absent. */
enum cv_err s3_head(struct s3 *s, const char *key, const char *version,
	struct s3_obj *out, char **errmsg) CV_MUST_CHECK;
/* GET one version, streamed into fn (which returns false to stop: the
 * transfer fails); bytes [from, to] when to >= from, else all. */
enum cv_err s3_get(struct s3 *s, const char *key, const char *version,
	int64_t from, int64_t to,
	bool (*fn)(const void *p, size_t n, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;
/* DELETE one version (the lock decides whether it may go). */
enum cv_err s3_delete(struct s3 *s, const char *key, const char *version,
	char **errmsg) CV_MUST_CHECK;

/* PUT ?retention on one version. */
enum cv_err s3_put_retention(struct s3 *s, const char *key, const char *version,
	enum s3_lock_mode mode, int64_t until_ms, char **errmsg) CV_MUST_CHECK;
/* PUT / GET ?legal-hold on one version. */
enum cv_err s3_put_legal_hold(struct s3 *s, const char *key,
	const char *version, bool on, char **errmsg) CV_MUST_CHECK;
enum cv_err s3_get_legal_hold(struct s3 *s, const char *key,
	const char *version, bool *on, char **errmsg) CV_MUST_CHECK;

/* ---- multipart ---- */

/* Create an upload (the lock headers are sent, though RGW 16.2 ignores
 * them here: set the retention on the completed version too). */
enum cv_err s3_mpu_create(struct s3 *s, const char *key, enum s3_lock_mode mode,
	int64_t until_ms, char **upload_id, char **errmsg) CV_MUST_CHECK;
/* Upload part number n (1..10000) with its SHA-256 (hex) and
 * Content-MD5 (base64): given, or computed here when NULL; etag gets the
 * part's ETag (quotes kept, as Complete wants them). */
enum cv_err s3_mpu_part(struct s3 *s, const char *key, const char *upload,
	int n, const void *p, size_t len, const char *sha256_hex,
	const char *md5_b64, char etag[80], char **errmsg) CV_MUST_CHECK;
/* Complete with the parts' ETags in order; out gets the new version. */
enum cv_err s3_mpu_complete(struct s3 *s, const char *key, const char *upload,
	char (*etags)[80], int n, struct s3_obj *out,
	char **errmsg) CV_MUST_CHECK;
enum cv_err s3_mpu_abort(struct s3 *s, const char *key, const char *upload,
	char **errmsg) CV_MUST_CHECK;

struct s3_upload_info {
	char key[1024];
	char upload_id[256];
	int64_t initiated_ms;
};
/* Every unfinished multipart upload under the target's prefix. */
enum cv_err s3_mpu_list(struct s3 *s, struct s3_upload_info **out, size_t *n,
	char **errmsg) CV_MUST_CHECK;

/* The keys of the current objects under prefix (any prefix of the
 * bucket, not only the target's), in key order. All of them or an error:
 * more than 100,000 keys or 200 pages, a key over 1,023 bytes, or a
 * truncated page without a new continuation token is refused, never a
 * partial list. Caller frees each and the array. */
enum cv_err s3_list(struct s3 *s, const char *prefix, char ***keys, size_t *n,
	char **errmsg) CV_MUST_CHECK;

/* ---- streamed upload: a multipart upload fed like a file ---- */

#define S3_PART_MIN (8u << 20)
#define S3_PART_MAX (64u << 20)

struct s3_upload;
/* Start a locked upload of key; parts of part_size bytes (8-64 MiB). */
enum cv_err s3_upload_begin(struct s3 *s, const char *key,
	enum s3_lock_mode mode, int64_t until_ms, size_t part_size,
	struct s3_upload **out, char **errmsg) CV_MUST_CHECK;
/* Append bytes; a full part is sent (retried) before this returns. */
enum cv_err s3_upload_write(struct s3_upload *u, const void *p, size_t n,
	char **errmsg) CV_MUST_CHECK;
/* Send the last part, complete, set the retention on the new version and
 * read back its state into out. On failure the upload is aborted. */
enum cv_err s3_upload_finish(struct s3_upload *u, struct s3_obj *out,
	char **errmsg) CV_MUST_CHECK;
/* Abort (when not finished) and free. NULL ok. */
void s3_upload_destroy(struct s3_upload *u);

/* ---- minimal XML extraction (bounded; s3.c) ---- */

/* The text of the first <tag>...</tag> in [p, end) into out (entities
 * decoded, at most cap-1 bytes); false when absent or too long. *next
 * (may be NULL) is set past the closing tag. */
bool s3_xml_text(const char *p, const char *end, const char *tag, char *out,
	size_t cap, const char **next);

/* Epoch ms <-> "YYYY-MM-DDTHH:MM:SSZ" (fractions accepted on input). */
void s3_format_date(int64_t ms, char out[32]);

#endif
