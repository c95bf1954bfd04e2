/* s3_ops.c — the S3 operations callvault uses, on top of s3_request. */
#include "s3_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "versionId=V" (encoded) or "", for the query strings below. */
static char *version_q(const char *v, const char *before)
{
	if (!v || !*v)
		return xstrdup(before);
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s%sversionId=", before, *before ? "&" : "");
	s3_encode(&b, v, false);
	return buf_steal(&b);
}

static enum cv_err run(struct s3 *s, const struct s3_req *q, struct s3_resp *r,
	char **errmsg)
{
	buf_init(&r->body);
	enum cv_err rc = s3_request(s, q, r, errmsg);
	if (rc != CV_OK)
		buf_finish(&r->body);
	else if (!r->body.data)
		buf_puts(&r->body, ""); /* an empty answer is "", never NULL */
	return rc;
}

/* Run q with query (owned: freed here) as its query string, for an
 * answer whose body nothing reads. */
static enum cv_err run_owned(struct s3 *s, struct s3_req *q, char *query,
	char **errmsg)
{
	q->query = query;
	struct s3_resp r;
	enum cv_err rc = run(s, q, &r, errmsg);
	free(query);
	if (rc == CV_OK)
		buf_finish(&r.body);
	return rc;
}

enum cv_err s3_bucket_lock(struct s3 *s, bool *enabled, char **errmsg)
{
	struct s3_req q = { .method = "GET", .query = "object-lock=" };
	struct s3_resp r;
	char v[32] = "";
	*enabled = false;
	enum cv_err rc = run(s, &q, &r, errmsg);
	if (rc != CV_OK &&
		!strcmp(s->last_code, "ObjectLockConfigurationNotFoundError"))
		return CV_OK; /* the bucket is there, without a lock */
	if (rc != CV_OK)
		return rc;
	*enabled = s3_xml_text(r.body.data, r.body.data + r.body.len,
			   "ObjectLockEnabled", v, sizeof v, NULL) &&
		   !strcmp(v, "Enabled");
	buf_finish(&r.body);
	return CV_OK;
}

/* The two lock headers, or none. */
static size_t lock_headers(enum s3_lock_mode mode, int64_t until_ms,
	char h[2][96], const char *ptrs[2])
{
	if (mode == S3_LOCK_NONE)
		return 0;
	char d[32];
	s3_format_date(until_ms, d);
	snprintf(h[0], 96, "x-amz-object-lock-mode: %s",
		s3_lock_mode_name(mode));
	snprintf(h[1], 96, "x-amz-object-lock-retain-until-date: %s", d);
	ptrs[0] = h[0];
	ptrs[1] = h[1];
	return 2;
}

enum cv_err s3_put(struct s3 *s, const char *key, const void *p, size_t n,
	enum s3_lock_mode mode, int64_t until_ms, struct s3_obj *out,
	char **errmsg)
{
	char h[2][96];
	const char *ptrs[2];
	struct s3_req q = { .method = "PUT",
		.key = key,
		.body = p ? p : "",
		.body_len = n,
		.body_md5 = true,
		.extra = ptrs };
	q.n_extra = lock_headers(mode, until_ms, h, ptrs);
	struct s3_resp r;
	enum cv_err rc = run(s, &q, &r, errmsg);
	if (rc != CV_OK)
		return rc;
	if (out)
		*out = r.obj;
	buf_finish(&r.body);
	return CV_OK;
}

enum cv_err s3_head(struct s3 *s, const char *key, const char *version,
	struct s3_obj *out, char **errmsg)
{
	char *vq = version_q(version, "");
	struct s3_req q = { .method = "HEAD", .key = key, .query = vq };
	struct s3_resp r;
	enum cv_err rc = run(s, &q, &r, errmsg);
	free(vq);
	if (rc != CV_OK)
		return rc;
	*out = r.obj;
	if (!*out->version_id && version)
		snprintf(out->version_id, sizeof out->version_id, "%s",
			version);
	buf_finish(&r.body);
	return CV_OK;
}

enum cv_err s3_get(struct s3 *s, const char *key, const char *version,
	int64_t from, int64_t to,
	bool (*fn)(const void *p, size_t n, void *arg), void *arg,
	char **errmsg)
{
	char range[96];
	const char *ptrs[1] = { range };
	struct s3_req q = { .method = "GET",
		.key = key,
		.fn = fn,
		.arg = arg,
		.extra = ptrs };
	if (to >= from && from >= 0) {
		snprintf(range, sizeof range, "Range: bytes=%lld-%lld",
			(long long)from, (long long)to);
		q.n_extra = 1;
	}
	return run_owned(s, &q, version_q(version, ""), errmsg);
}

enum cv_err s3_delete(struct s3 *s, const char *key, const char *version,
	char **errmsg)
{
	struct s3_req q = { .method = "DELETE", .key = key };
	return run_owned(s, &q, version_q(version, ""), errmsg);
}

/* PUT a small XML sub-resource document on one version. */
static enum cv_err put_sub(struct s3 *s, const char *key, const char *version,
	const char *sub, const char *xml, char **errmsg)
{
	struct s3_req q = { .method = "PUT",
		.key = key,
		.body = xml,
		.body_len = strlen(xml),
		.body_md5 = true };
	return run_owned(s, &q, version_q(version, sub), errmsg);
}

enum cv_err s3_put_retention(struct s3 *s, const char *key, const char *version,
	enum s3_lock_mode mode, int64_t until_ms, char **errmsg)
{
	char d[32];
	s3_format_date(until_ms, d);
	char *xml = xasprintf("<Retention xmlns=\"http://s3.amazonaws.com/"
			      "doc/2006-03-01/\"><Mode>%s</Mode>"
			      "<RetainUntilDate>%s</RetainUntilDate>"
			      "</Retention>",
		s3_lock_mode_name(mode), d);
	enum cv_err rc = put_sub(s, key, version, "retention=", xml, errmsg);
	free(xml);
	return rc;
}

enum cv_err s3_put_legal_hold(struct s3 *s, const char *key,
	const char *version, bool on, char **errmsg)
{
	char *xml = xasprintf("<LegalHold xmlns=\"http://s3.amazonaws.com/"
			      "doc/2006-03-01/\"><Status>%s</Status>"
			      "</LegalHold>",
		on ? "ON" : "OFF");
	enum cv_err rc = put_sub(s, key, version, "legal-hold=", xml, errmsg);
	free(xml);
	return rc;
}

enum cv_err s3_get_legal_hold(struct s3 *s, const char *key,
	const char *version, bool *on, char **errmsg)
{
	char *vq = version_q(version, "legal-hold=");
	struct s3_req q = { .method = "GET", .key = key, .query = vq };
	struct s3_resp r;
	char v[16] = "";
	*on = false;
	enum cv_err rc = run(s, &q, &r, errmsg);
	free(vq);
	/* never set: off (RGW 16.2 answers the bucket's code for it) */
	if (rc != CV_OK &&
		(!strcmp(s->last_code, "NoSuchObjectLockConfiguration") ||
			!strcmp(s->last_code,
				"ObjectLockConfigurationNotFoundError"))) {
		free(*errmsg);
		*errmsg = NULL;
		return CV_OK;
	}
	if (rc != CV_OK)
		return rc;
	*on = s3_xml_text(r.body.data, r.body.data + r.body.len, "Status", v,
		      sizeof v, NULL) &&
	      !strcmp(v, "ON");
	buf_finish(&r.body);
	return CV_OK;
}

/* ---- multipart ---- */

enum cv_err s3_mpu_create(struct s3 *s, const char *key, enum s3_lock_mode mode,
	int64_t until_ms, char **upload_id, char **errmsg)
{
	char h[2][96], id[256];
	const char *ptrs[2];
	struct s3_req q = { .method = "POST",
		.key = key,
		.query = "uploads=",
		.extra = ptrs };
	q.n_extra = lock_headers(mode, until_ms, h, ptrs);
	struct s3_resp r;
	enum cv_err rc = run(s, &q, &r, errmsg);
	if (rc != CV_OK)
		return rc;
	if (!s3_xml_text(r.body.data, r.body.data + r.body.len, "UploadId", id,
		    sizeof id, NULL) ||
		!*id)
		rc = cv_error(errmsg, CV_EPARSE,
			"S3 CreateMultipartUpload "
			"s3://%s/%s: no UploadId in the answer",
			s->bucket, key);
	else
		*upload_id = xstrdup(id);
	buf_finish(&r.body);
	return rc;
}

static char *upload_q(const char *upload, int part)
{
	struct buf b;
	buf_init(&b);
	if (part > 0)
		buf_printf(&b, "partNumber=%d&", part);
	buf_puts(&b, "uploadId=");
	s3_encode(&b, upload, false);
	return buf_steal(&b);
}

enum cv_err s3_mpu_part(struct s3 *s, const char *key, const char *upload,
	int n, const void *p, size_t len, const char *sha256_hex,
	const char *md5_b64, char etag[80], char **errmsg)
{
	char *uq = upload_q(upload, n);
	struct s3_req q = { .method = "PUT",
		.key = key,
		.query = uq,
		.body = p,
		.body_len = len,
		.body_md5 = true,
		.sha256_hex = sha256_hex,
		.md5_b64 = md5_b64 };
	struct s3_resp r;
	enum cv_err rc = run(s, &q, &r, errmsg);
	free(uq);
	if (rc != CV_OK)
		return rc;
	if (!*r.obj.etag)
		rc = cv_error(errmsg, CV_EPARSE,
			"S3 UploadPart %d of "
			"s3://%s/%s: no ETag in the answer",
			n, s->bucket, key);
	else if (strlen(r.obj.etag) > 76)
		rc = cv_error(errmsg, CV_EPARSE,
			"S3 UploadPart %d of "
			"s3://%s/%s: ETag too long",
			n, s->bucket, key);
	else
		snprintf(etag, 80, "\"%.76s\"", r.obj.etag);
	buf_finish(&r.body);
	return rc;
}

enum cv_err s3_mpu_complete(struct s3 *s, const char *key, const char *upload,
	char (*etags)[80], int n, struct s3_obj *out, char **errmsg)
{
	struct buf x;
	buf_init(&x);
	buf_puts(&x, "<CompleteMultipartUpload>");
	for (int i = 0; i < n; i++)
		buf_printf(&x,
			"<Part><PartNumber>%d</PartNumber>"
			"<ETag>%s</ETag></Part>",
			i + 1, etags[i]);
	buf_puts(&x, "</CompleteMultipartUpload>");
	char *uq = upload_q(upload, 0);
	struct s3_req q = { .method = "POST",
		.key = key,
		.query = uq,
		.body = x.data,
		.body_len = x.len };
	struct s3_resp r;
	enum cv_err rc = run(s, &q, &r, errmsg);
	free(uq);
	buf_finish(&x);
	if (rc != CV_OK)
		return rc;
	/* a 200 may still carry an <Error> (AWS, when it fails late) */
	char code[128];
	if (s3_xml_text(r.body.data, r.body.data + r.body.len, "Code", code,
		    sizeof code, NULL))
		rc = cv_error(errmsg, CV_EHTTP,
			"S3 CompleteMultipartUpload "
			"s3://%s/%s: %s",
			s->bucket, key, code);
	else
		*out = r.obj;
	buf_finish(&r.body);
	return rc;
}

enum cv_err s3_mpu_abort(struct s3 *s, const char *key, const char *upload,
	char **errmsg)
{
	struct s3_req q = { .method = "DELETE", .key = key };
	return run_owned(s, &q, upload_q(upload, 0), errmsg);
}

/* GET the bucket with the query in qb (then freed). */
static enum cv_err get_query(struct s3 *s, struct buf *qb, struct s3_resp *r,
	char **errmsg)
{
	struct s3_req q = { .method = "GET", .query = qb->data };
	enum cv_err rc = run(s, &q, r, errmsg);
	buf_finish(qb);
	return rc;
}

/* One page of ListMultipartUploads into v; *more and the markers say
 * where the next starts. */
static enum cv_err list_page(struct s3 *s, struct buf *mk,
	struct s3_upload_info **v, size_t *n, bool *more, char **errmsg)
{
	struct buf qb;
	buf_init(&qb);
	buf_puts(&qb, mk->len ? "key-marker=" : "");
	if (mk->len)
		s3_encode(&qb, mk->data, false);
	if (mk->len)
		buf_putc(&qb, '&');
	buf_puts(&qb, "prefix=");
	s3_encode(&qb, s->prefix, false);
	buf_puts(&qb, "&uploads=");
	struct s3_resp r;
	enum cv_err rc = get_query(s, &qb, &r, errmsg);
	if (rc != CV_OK)
		return rc;
	const char *p = r.body.data, *up;
	const char *end = p + r.body.len;
	char t[16] = "";
	*more = s3_xml_text(p, end, "IsTruncated", t, sizeof t, NULL) &&
		!strcmp(t, "true");
	while ((up = strstr(p, "<Upload>")) && up < end) {
		const char *stop = strstr(up, "</Upload>");
		if (!stop)
			break;
		struct s3_upload_info u = { 0 };
		char d[64] = "";
		if (s3_xml_text(up, stop, "Key", u.key, sizeof u.key, NULL) &&
			s3_xml_text(up, stop, "UploadId", u.upload_id,
				sizeof u.upload_id, NULL)) {
			if (s3_xml_text(up, stop, "Initiated", d, sizeof d,
				    NULL))
				(void)cv_parse_iso8601(d, &u.initiated_ms);
			*v = xrealloc(*v, (*n + 1) * sizeof(**v));
			(*v)[(*n)++] = u;
		}
		p = stop + 9;
	}
	char next[1024] = "";
	if (*more &&
		s3_xml_text(r.body.data, end, "NextKeyMarker", next,
			sizeof next, NULL) &&
		*next && strcmp(next, mk->data ? mk->data : "")) {
		buf_reset(mk);
		buf_puts(mk, next);
	} else {
		*more = false;
	}
	buf_finish(&r.body);
	return CV_OK;
}

enum cv_err s3_mpu_list(struct s3 *s, struct s3_upload_info **out, size_t *n,
	char **errmsg)
{
	struct buf mk;
	buf_init(&mk);
	*out = NULL;
	*n = 0;
	bool more = true;
	enum cv_err rc = CV_OK;
	/* bounded: 100 pages of 1000 uploads */
	for (int page = 0; more && page < 100 && rc == CV_OK; page++)
		rc = list_page(s, &mk, out, n, &more, errmsg);
	buf_finish(&mk);
	if (rc != CV_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* s3_list's bounds: what one bucket listing may hold, and its pages */
#define LIST_KEYS_MAX 100000
#define LIST_PAGES_MAX 200

/* One page of ListObjectsV2 under prefix into keys; *token becomes the
 * next page's continuation token ("" when this was the last). Anything
 * that would leave the listing incomplete without saying so (a key or a
 * token too long to keep, a truncated page without a new token, more
 * keys than the bound) is an error naming it: a verify of what was
 * listed must not pass for a verify of the prefix. */
static enum cv_err keys_page(struct s3 *s, const char *prefix,
	struct buf *token, char ***keys, size_t *n, char **errmsg)
{
	struct buf qb;
	buf_init(&qb);
	if (token->len) {
		buf_puts(&qb, "continuation-token=");
		s3_encode(&qb, token->data, false);
		buf_putc(&qb, '&');
	}
	buf_puts(&qb, "list-type=2&prefix=");
	s3_encode(&qb, prefix, false);
	struct s3_resp r;
	enum cv_err rc = get_query(s, &qb, &r, errmsg);
	if (rc != CV_OK)
		return rc;
	const char *p = r.body.data, *c;
	const char *end = p + r.body.len;
	if (!strstr(p, "<ListBucketResult")) {
		buf_finish(&r.body);
		return cv_error(errmsg, CV_EHTTP,
			"listing %s: the answer is not a ListObjectsV2 result",
			prefix);
	}
	while (rc == CV_OK && (c = strstr(p, "<Contents>")) && c < end) {
		const char *stop = strstr(c, "</Contents>");
		if (!stop)
			break;
		char key[1024];
		if (!s3_xml_text(c, stop, "Key", key, sizeof key, NULL))
			rc = cv_error(errmsg, CV_EHTTP,
				"listing %s: a key that is missing or longer "
				"than %zu bytes",
				prefix, sizeof key - 1);
		else if (*n >= LIST_KEYS_MAX)
			rc = cv_error(errmsg, CV_ETOOBIG,
				"listing %s: more than %d keys", prefix,
				LIST_KEYS_MAX);
		else {
			*keys = xrealloc(*keys, (*n + 1) * sizeof(**keys));
			(*keys)[(*n)++] = xstrdup(key);
		}
		p = stop + 11;
	}
	char t[16] = "", next[1024] = "";
	bool more = s3_xml_text(r.body.data, end, "IsTruncated", t, sizeof t,
			    NULL) &&
		    !strcmp(t, "true");
	if (rc == CV_OK && more &&
		(!s3_xml_text(r.body.data, end, "NextContinuationToken", next,
			 sizeof next, NULL) ||
			!*next || !strcmp(next, token->len ? token->data : "")))
		rc = cv_error(errmsg, CV_EHTTP,
			"listing %s: a truncated page without a usable "
			"continuation token",
			prefix);
	buf_reset(token);
	if (rc == CV_OK && more)
		buf_puts(token, next);
	buf_finish(&r.body);
	return rc;
}

enum cv_err s3_list(struct s3 *s, const char *prefix, char ***keys, size_t *n,
	char **errmsg)
{
	struct buf token;
	buf_init(&token);
	*keys = NULL;
	*n = 0;
	enum cv_err rc = CV_OK;
	int page = 0;
	do {
		if (page++ == LIST_PAGES_MAX)
			rc = cv_error(errmsg, CV_ETOOBIG,
				"listing %s: more than %d pages", prefix,
				LIST_PAGES_MAX);
		else
			rc = keys_page(s, prefix, &token, keys, n, errmsg);
	} while (rc == CV_OK && token.len);
	buf_finish(&token);
	if (rc != CV_OK) {
		for (size_t i = 0; i < *n; i++)
			free((*keys)[i]);
		free(*keys);
		*keys = NULL;
		*n = 0;
	}
	return rc;
}
