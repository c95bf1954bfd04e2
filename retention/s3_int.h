/*
 * s3_int.h — what s3.c, s3_ops.c and s3_upload.c share: the client's
 * body and one request.
 */
#ifndef CV_S3_INT_H
#define CV_S3_INT_H

#include <curl/curl.h>

#include "s3.h"
#include "util.h"

struct s3 {
	CURL *curl;    /* one handle: connections are reused */
	char *ak, *sk; /* read from the key files; never logged */
	char *endpoint, *bucket, *prefix, *region, *sigv4;
	bool path_style;
	long stall_s; /* a transfer under 1 KiB/s this long is
				     abandoned (CALLVAULT_S3_STALL_SECONDS) */
	char last_code[128];
	long last_status;
};

struct s3_req {
	const char *method; /* GET PUT POST HEAD DELETE */
	const char *key;    /* NULL: the bucket itself */
	const char *query;  /* canonical (sorted, encoded), no '?' */
	const void *body;   /* PUT/POST bytes (NULL: none) */
	size_t body_len;
	bool body_md5;            /* send Content-MD5 */
	const char *sha256_hex;   /* the body's, when known; else computed */
	const char *md5_b64;      /* the same for Content-MD5 */
	const char *const *extra; /* more header lines */
	size_t n_extra;
	/* a 2xx body goes to fn (false stops it); else into resp.body */
	bool (*fn)(const void *p, size_t n, void *arg);
	void *arg;
};

struct s3_resp {
	CURL *curl;
	long status;
	struct buf body;   /* XML answer or error, at most 1 MiB */
	struct s3_obj obj; /* from the headers */
	bool (*fn)(const void *p, size_t n, void *arg);
	void *arg;
	int64_t streamed;
	bool too_big, stopped;
};

/* Send q (retried where that helps); r (buf_init'ed by the caller) gets
 * the answer. Non-2xx is an error naming the S3 code. */
enum cv_err s3_request(struct s3 *s, const struct s3_req *q, struct s3_resp *r,
	char **errmsg) CV_MUST_CHECK;

/* A second client for the same target (its own connection), for a part
 * sent beside another. Caller destroys. */
struct s3 *s3_clone(const struct s3 *s);

/* URI-encode s into b (unreserved kept; '/' kept when keep_slash). */
void s3_encode(struct buf *b, const char *s, bool keep_slash);
/* base64 of the MD5 of p (Content-MD5). */
void s3_md5_base64(const void *p, size_t n, char out[32]);

#endif
