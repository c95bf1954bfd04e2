/* s3.c — see s3.h: the client, its requests, errors and retries, and the
 * bounded XML extraction. The operations are in s3_ops.c. */
#include "s3_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define S3_ANSWER_MAX (1u << 20) /* XML answers and error bodies */
#define S3_ATTEMPTS 4
#define S3_UPLOAD_BUF (512u << 10)

const char *s3_lock_mode_name(enum s3_lock_mode m)
{
	return m == S3_LOCK_COMPLIANCE   ? "COMPLIANCE"
	       : m == S3_LOCK_GOVERNANCE ? "GOVERNANCE"
					 : "NONE";
}

bool s3_lock_mode_parse(const char *s, enum s3_lock_mode *out)
{
	if (!strcasecmp(s, "COMPLIANCE"))
		*out = S3_LOCK_COMPLIANCE;
	else if (!strcasecmp(s, "GOVERNANCE"))
		*out = S3_LOCK_GOVERNANCE;
	else
		return false;
	return true;
}

/* A key file: owner-only, bounded, one line. */
static enum cv_err read_key(const char *path, const char *what, char **out,
	char **errmsg)
{
	struct stat st;
	if (!path || stat(path, &st) != 0)
		return cv_error(errmsg, CV_EINVAL, "%s file %s: %s", what,
			path ? path : "(none)", strerror(errno));
	if (st.st_mode & 077)
		return cv_error(errmsg, CV_EINVAL,
			"%s file %s is readable "
			"by group or others (mode %03o); chmod 600 it",
			what, path, (unsigned)(st.st_mode & 0777));
	return cv_read_secret(path, out, errmsg);
}

/* How long a transfer may stay under 1 KiB/s before it is abandoned:
 * CALLVAULT_S3_STALL_SECONDS (1-3600), else a minute. */
static long stall_seconds(void)
{
	const char *v = getenv("CALLVAULT_S3_STALL_SECONDS");
	char *end;
	long n = v && *v ? strtol(v, &end, 10) : 0;
	return v && *v && !*end && n >= 1 && n <= 3600 ? n : 60;
}

enum cv_err s3_create(struct s3 **out, const struct s3_target *t, char **errmsg)
{
	if (strncmp(t->endpoint, "http://", 7) &&
		strncmp(t->endpoint, "https://", 8))
		return cv_error(errmsg, CV_EINVAL,
			"endpoint %s: not an "
			"http:// or https:// URL",
			t->endpoint);
	struct s3 *s = xcalloc(1, sizeof(*s));
	enum cv_err rc = read_key(t->access_key_file, "access key", &s->ak,
		errmsg);
	if (rc == CV_OK)
		rc = read_key(t->secret_key_file, "secret key", &s->sk, errmsg);
	if (rc != CV_OK) {
		s3_destroy(s);
		return rc;
	}
	s->endpoint = xstrdup(t->endpoint);
	size_t l = strlen(s->endpoint);
	while (l > 0 && s->endpoint[l - 1] == '/')
		s->endpoint[--l] = '\0';
	s->bucket = xstrdup(t->bucket);
	s->prefix = xstrdup(t->prefix ? t->prefix : "");
	s->region = xstrdup(t->region && *t->region ? t->region : "us-east-1");
	s->path_style = t->path_style;
	s->stall_s = stall_seconds();
	s->sigv4 = xasprintf("aws:amz:%s:s3", s->region);
	s->curl = curl_easy_init();
	if (!s->curl) {
		s3_destroy(s);
		return cv_error(errmsg, CV_ENOMEM, "curl_easy_init failed");
	}
	*out = s;
	return CV_OK;
}

struct s3 *s3_clone(const struct s3 *o)
{
	struct s3 *s = xcalloc(1, sizeof(*s));
	s->ak = xstrdup(o->ak);
	s->sk = xstrdup(o->sk);
	s->endpoint = xstrdup(o->endpoint);
	s->bucket = xstrdup(o->bucket);
	s->prefix = xstrdup(o->prefix);
	s->region = xstrdup(o->region);
	s->sigv4 = xstrdup(o->sigv4);
	s->path_style = o->path_style;
	s->stall_s = o->stall_s;
	s->curl = curl_easy_init();
	if (!s->curl)
		abort();
	return s;
}

void s3_destroy(struct s3 *s)
{
	if (!s)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	if (s->sk)
		explicit_bzero(s->sk, strlen(s->sk));
	free(s->ak);
	free(s->sk);
	free(s->endpoint);
	free(s->bucket);
	free(s->prefix);
	free(s->region);
	free(s->sigv4);
	free(s);
}

char *s3_key(const struct s3 *s, const char *rel)
{
	return xasprintf("%s%s", s->prefix, rel);
}

char *s3_url(const struct s3 *s, const char *key)
{
	return xasprintf("s3://%s/%s", s->bucket, key);
}

const char *s3_bucket(const struct s3 *s)
{
	return s->bucket;
}

const char *s3_last_code(const struct s3 *s)
{
	return s->last_code;
}

long s3_last_status(const struct s3 *s)
{
	return s->last_status;
}

/* RFC 3986 unreserved bytes stay, the rest %XX; '/' too unless keep. */
void s3_encode(struct buf *b, const char *s, bool keep_slash)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
			c == '~' || (keep_slash && c == '/'))
			buf_putc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

static char *request_url(const struct s3 *s, const char *key, const char *query)
{
	struct buf b;
	buf_init(&b);
	if (s->path_style) {
		buf_printf(&b, "%s/%s", s->endpoint, s->bucket);
	} else {
		const char *host = strstr(s->endpoint, "://") + 3;
		buf_append(&b, s->endpoint, (size_t)(host - s->endpoint));
		buf_printf(&b, "%s.%s", s->bucket, host);
	}
	if (key) {
		buf_putc(&b, '/');
		s3_encode(&b, key, true);
	} else if (!s->path_style) {
		buf_putc(&b, '/');
	}
	if (query && *query)
		buf_printf(&b, "?%s", query);
	return buf_steal(&b);
}

void s3_md5_base64(const void *p, size_t n, char out[32])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_Digest(p, n, md, &len, EVP_md5(), NULL);
	cv_base64_encode(md, len, out);
}

/* ---- answers ---- */

static void resp_reset(struct s3_resp *r)
{
	buf_reset(&r->body);
	memset(&r->obj, 0, sizeof(r->obj));
	r->status = 0;
	r->streamed = 0;
	r->too_big = r->stopped = false;
}

static void trim_copy(char *out, size_t cap, const char *v, size_t n)
{
	while (n > 0 &&
		(v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	while (n > 0 && *v == ' ') {
		v++;
		n--;
	}
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

static bool header_is(const char *line, size_t n, const char *name,
	const char **val, size_t *vn)
{
	size_t l = strlen(name);
	if (n <= l || line[l] != ':' || strncasecmp(line, name, l))
		return false;
	*val = line + l + 1;
	*vn = n - l - 1;
	return true;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *arg)
{
	struct s3_resp *r = arg;
	size_t n = size * nitems;
	const char *v;
	size_t vn;
	char tmp[64];
	struct s3_obj *o = &r->obj;
	if (!strncmp(line, "HTTP/", 5))
		memset(o, 0, sizeof(*o)); /* a new answer (100, redirect) */
	else if (header_is(line, n, "etag", &v, &vn))
		trim_copy(o->etag, sizeof(o->etag), v, vn);
	else if (header_is(line, n, "x-amz-version-id", &v, &vn))
		trim_copy(o->version_id, sizeof(o->version_id), v, vn);
	else if (header_is(line, n, "x-amz-object-lock-mode", &v, &vn)) {
		trim_copy(tmp, sizeof(tmp), v, vn);
		if (!s3_lock_mode_parse(tmp, &o->mode))
			o->mode = S3_LOCK_NONE;
	} else if (header_is(line, n, "x-amz-object-lock-retain-until-date", &v,
			   &vn)) {
		trim_copy(tmp, sizeof(tmp), v, vn);
		if (!cv_parse_iso8601(tmp, &o->retain_until_ms))
			o->retain_until_ms = 0;
	} else if (header_is(line, n, "x-amz-object-lock-legal-hold", &v,
			   &vn)) {
		trim_copy(tmp, sizeof(tmp), v, vn);
		o->legal_hold = !strcasecmp(tmp, "ON");
	} else if (header_is(line, n, "content-length", &v, &vn)) {
		trim_copy(tmp, sizeof(tmp), v, vn);
		o->size = strtoll(tmp, NULL, 10);
	}
	return n;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct s3_resp *r = arg;
	size_t n = size * nmemb;
	long status = 0;
	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
	if (r->fn && status >= 200 && status < 300) {
		if (!r->fn(p, n, r->arg)) {
			r->stopped = true;
			return 0;
		}
		r->streamed += (int64_t)n;
		return n;
	}
	if (r->body.len + n > S3_ANSWER_MAX) {
		r->too_big = true;
		return 0;
	}
	buf_append(&r->body, p, n);
	return n;
}

/* ---- errors ---- */

static const char *hint_for(const char *code)
{
	static const struct {
		const char *code, *hint;
	} hints[] = {
		{ "SignatureDoesNotMatch",
			"the secret key is not the one "
			"the server has for this access key (or the region is "
			"wrong)" },
		{ "InvalidAccessKeyId", "the server knows no such access key" },
		{ "AccessDenied", "these credentials may not do this, or "
				  "Object Lock forbids it" },
		{ "RequestTimeTooSkewed",
			"this machine's clock and the "
			"server's differ by more than 15 minutes" },
		{ "NoSuchBucket", "the bucket does not exist" },
		{ "ObjectLockConfigurationNotFoundError",
			"the bucket does "
			"not have Object Lock enabled (it can only be enabled when "
			"the bucket is created)" },
		{ "XAmzContentSHA256Mismatch", "the bytes sent are not the "
					       "ones hashed" },
		{ "BadDigest", "the bytes sent are not the ones hashed" },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(hints); i++)
		if (!strcmp(code, hints[i].code))
			return hints[i].hint;
	return NULL;
}

static enum cv_err err_for(long status, const char *code)
{
	if (!strcmp(code, "SignatureDoesNotMatch") ||
		!strcmp(code, "InvalidAccessKeyId") ||
		!strcmp(code, "AccessDenied") ||
		!strcmp(code, "RequestTimeTooSkewed") || status == 403)
		return CV_EAUTH;
	if (status == 404)
		return CV_ENOTFOUND;
	return CV_EHTTP;
}

static enum cv_err http_error(struct s3 *s, const struct s3_req *q,
	const struct s3_resp *r, char **errmsg)
{
	char code[128] = "", msg[512] = "";
	const char *end = r->body.data + r->body.len;
	if (r->body.len) {
		s3_xml_text(r->body.data, end, "Code", code, sizeof code, NULL);
		s3_xml_text(r->body.data, end, "Message", msg, sizeof msg,
			NULL);
	}
	if (!*code && r->status == 404)
		snprintf(code, sizeof code, "%s",
			q->key ? "NoSuchKey" : "NoSuchBucket");
	snprintf(s->last_code, sizeof s->last_code, "%s", code);
	s->last_status = r->status;
	const char *hint = hint_for(code);
	char *safe = cv_term_safe(msg, 0);
	enum cv_err e = cv_error(errmsg, err_for(r->status, code),
		"S3 %s s3://%s/%s: HTTP %ld %s%s%s%s%s%s", q->method, s->bucket,
		q->key ? q->key : "", r->status, *code ? code : "(no code)",
		*safe ? " (" : "", safe, *safe ? ")" : "", hint ? ": " : "",
		hint ? hint : "");
	free(safe);
	return e;
}

/* Worth sending again: the server's trouble, or the connection's. */
static bool retryable(CURLcode cc, const struct s3_resp *r, const char *code)
{
	if (cc != CURLE_OK)
		return cc == CURLE_COULDNT_CONNECT || cc == CURLE_RECV_ERROR ||
		       cc == CURLE_SEND_ERROR ||
		       cc == CURLE_OPERATION_TIMEDOUT ||
		       cc == CURLE_GOT_NOTHING || cc == CURLE_PARTIAL_FILE;
	return r->status >= 500 || !strcmp(code, "SlowDown") ||
	       !strcmp(code, "RequestTimeout");
}

/* ---- one request ---- */

static void setup(struct s3 *s, const struct s3_req *q, struct s3_resp *r,
	const char *url, struct curl_slist *h)
{
	CURL *c = s->curl;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(c, CURLOPT_USERNAME, s->ak);
	curl_easy_setopt(c, CURLOPT_PASSWORD, s->sk);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	/* a stalled connection: under 1 KiB/s for a minute */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, s->stall_s);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (!strcmp(q->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (q->body || !strcmp(q->method, "PUT") ||
		   !strcmp(q->method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
			q->body ? (const char *)q->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			(curl_off_t)q->body_len);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
		/* a part goes out in 512 KiB writes, not 64 KiB ones */
		if (q->body_len > S3_UPLOAD_BUF)
			curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE,
				(long)S3_UPLOAD_BUF);
	} else if (strcmp(q->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	}
}

static struct curl_slist *headers_for(const struct s3_req *q)
{
	char sha[CV_SHA256_HEX], md5[32];
	struct curl_slist *h = NULL;
	if (!q->sha256_hex)
		cv_sha256_hex(q->body ? q->body : "", q->body ? q->body_len : 0,
			sha);
	char *line = xasprintf("x-amz-content-sha256: %s",
		q->sha256_hex ? q->sha256_hex : sha);
	h = curl_slist_append(h, line);
	free(line);
	if (q->body_md5) {
		if (!q->md5_b64)
			s3_md5_base64(q->body ? q->body : "", q->body_len, md5);
		line = xasprintf("Content-MD5: %s",
			q->md5_b64 ? q->md5_b64 : md5);
		h = curl_slist_append(h, line);
		free(line);
	}
	/* POSTFIELDS would send a form content type; a header removed
	 * ("Name:") is still signed by curl 7.88, so set one instead */
	if (q->body)
		h = curl_slist_append(h, "Content-Type: "
					 "application/octet-stream");
	for (size_t i = 0; i < q->n_extra; i++)
		h = curl_slist_append(h, q->extra[i]);
	return h;
}

enum cv_err s3_request(struct s3 *s, const struct s3_req *q, struct s3_resp *r,
	char **errmsg)
{
	char *url = request_url(s, q->key, q->query);
	struct curl_slist *h = headers_for(q);
	enum cv_err rc = CV_EHTTP;
	r->curl = s->curl;
	r->fn = q->fn;
	r->arg = q->arg;
	s->last_code[0] = '\0';
	s->last_status = 0;
	for (int attempt = 1; attempt <= S3_ATTEMPTS; attempt++) {
		char errbuf[CURL_ERROR_SIZE] = "", code[128] = "";
		resp_reset(r);
		setup(s, q, r, url, h);
		curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, errbuf);
		CURLcode cc = curl_easy_perform(s->curl);
		/* errbuf ends with this iteration */
		curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, NULL);
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &r->status);
		if (cc == CURLE_OK && r->status >= 200 && r->status < 300) {
			rc = CV_OK;
			break;
		}
		if (r->too_big) {
			rc = cv_error(errmsg, CV_ETOOBIG,
				"S3 %s s3://%s/%s: "
				"the answer is over %u bytes",
				q->method, s->bucket, q->key ? q->key : "",
				S3_ANSWER_MAX);
			break;
		}
		if (cc == CURLE_OK && r->body.len)
			s3_xml_text(r->body.data, r->body.data + r->body.len,
				"Code", code, sizeof code, NULL);
		/* a stream already handed on cannot be taken back */
		bool again = attempt < S3_ATTEMPTS && !r->stopped &&
			     !r->streamed && retryable(cc, r, code);
		if (cc != CURLE_OK && !again) {
			snprintf(s->last_code, sizeof s->last_code, "%s",
				r->stopped ? "" : "transport");
			char stall[128] = "";
			if (cc == CURLE_OPERATION_TIMEDOUT)
				snprintf(stall, sizeof stall,
					"; the server "
					"stalled: under 1 KiB/s for %ld s "
					"(CALLVAULT_S3_STALL_SECONDS)",
					s->stall_s);
			rc = cv_error(errmsg, r->stopped ? CV_EIO : CV_EHTTP,
				"S3 %s %s: %s%s%s", q->method, url,
				*errbuf ? errbuf : curl_easy_strerror(cc),
				attempt > 1 ? " (after retries)" : "", stall);
			break;
		}
		if (cc == CURLE_OK && !again) {
			rc = http_error(s, q, r, errmsg);
			break;
		}
		cv_warn("level=warn msg=\"S3 %s %s: %s, trying again\"",
			q->method, q->key ? q->key : s->bucket,
			cc != CURLE_OK ? curl_easy_strerror(cc)
			: *code        ? code
				       : "server error");
		usleep((useconds_t)(200000u << (attempt - 1)));
	}
	curl_slist_free_all(h);
	free(url);
	return rc;
}

/* ---- XML ---- */

/* Decode the five predefined entities and numeric ASCII references;
 * false on anything else (no DTDs, no other entities). */
static bool xml_decode(const char *p, size_t n, char *out, size_t cap)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' } };
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		char c = p[i];
		size_t used = 1;
		if (c == '&') {
			size_t k, rest = n - i;
			for (k = 0; k < CV_ARRAY_LEN(ents); k++) {
				size_t l = strlen(ents[k].ent);
				if (rest >= l && !memcmp(p + i, ents[k].ent, l))
					break;
			}
			if (k < CV_ARRAY_LEN(ents)) {
				c = ents[k].c;
				used = strlen(ents[k].ent);
			} else if (rest > 3 && p[i + 1] == '#') {
				char *e;
				bool hex = p[i + 2] == 'x';
				long v = strtol(p + i + 2 + hex, &e,
					hex ? 16 : 10);
				if (e >= p + n || *e != ';' || v <= 0 ||
					v > 127)
					return false;
				c = (char)v;
				used = (size_t)(e - (p + i)) + 1;
			} else {
				return false;
			}
		}
		if (o + 1 >= cap)
			return false;
		out[o++] = c;
		i += used;
	}
	out[o] = '\0';
	return true;
}

bool s3_xml_text(const char *p, const char *end, const char *tag, char *out,
	size_t cap, const char **next)
{
	char open[80], close[80];
	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	size_t ol = strlen(open), cl = strlen(close);
	const char *a = p;
	for (; a + ol <= end; a++)
		if (*a == '<' && !memcmp(a, open, ol))
			break;
	if (a + ol > end)
		return false;
	a += ol;
	const char *b = a;
	for (; b + cl <= end; b++)
		if (*b == '<' && !memcmp(b, close, cl))
			break;
	if (b + cl > end || memchr(a, '<', (size_t)(b - a)))
		return false;
	if (next)
		*next = b + cl;
	return xml_decode(a, (size_t)(b - a), out, cap);
}

void s3_format_date(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
