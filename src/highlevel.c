/* highlevel.c — see highlevel.h */
#include "highlevel.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct hl_req {
	struct hl_client *client; /* NULL for hl_post_form */
	CURL *easy;
	struct curl_slist *headers;
	struct hl_response resp;
	bool too_big;
	int64_t started;
	hl_done_fn fn;
	void *arg;
	hl_sink_fn sink; /* hl_get_to: where a 200 body goes */
	void *sink_arg;
	struct hl_req *next;
};

struct hl_client {
	CURLM *multi;
	struct hl_client_opts opts;
	struct hl_req *reqs; /* in flight */
	int n;
	unsigned warned; /* enum hl_rl_header: already warned about */
};

void hl_ratelimit_init(struct hl_ratelimit *rl)
{
	rl->limit_daily = rl->daily_remaining = rl->interval_ms = -1;
	rl->max = rl->remaining = -1;
	rl->daily_reset_ms = rl->retry_after_ms = -1;
	rl->bad = 0;
}

static const struct rl_header {
	const char *name;
	unsigned bit;
	size_t off;
} rl_headers[HL_RL_NHEADERS] = {
	{ "X-RateLimit-Limit-Daily", HL_RL_LIMIT_DAILY,
		offsetof(struct hl_ratelimit, limit_daily) },
	{ "X-RateLimit-Daily-Remaining", HL_RL_DAILY_REMAINING,
		offsetof(struct hl_ratelimit, daily_remaining) },
	{ "X-RateLimit-Interval-Milliseconds", HL_RL_INTERVAL,
		offsetof(struct hl_ratelimit, interval_ms) },
	{ "X-RateLimit-Max", HL_RL_MAX, offsetof(struct hl_ratelimit, max) },
	{ "X-RateLimit-Remaining", HL_RL_REMAINING,
		offsetof(struct hl_ratelimit, remaining) },
	{ "X-RateLimit-Daily-Reset", HL_RL_DAILY_RESET,
		offsetof(struct hl_ratelimit, daily_reset_ms) },
	{ "Retry-After", HL_RL_RETRY_AFTER,
		offsetof(struct hl_ratelimit, retry_after_ms) },
};

const char *hl_ratelimit_header_name(unsigned bit)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(rl_headers); i++)
		if (rl_headers[i].bit == bit)
			return rl_headers[i].name;
	return "?";
}

/* A non-negative decimal integer of at most 18 digits, or -1. */
static int64_t parse_uint(const char *v, size_t n)
{
	int64_t val = 0;
	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return -1;
		val = val * 10 + (v[i] - '0');
	}
	return val;
}

/* Retry-After: delay-seconds, or an HTTP-date (RFC 9110 10.2.3). */
static int64_t retry_after_ms(const char *v, size_t n)
{
	int64_t secs = parse_uint(v, n);
	if (secs >= 0)
		return secs <= INT64_MAX / 1000 ? secs * 1000 : -1;
	if (n >= 64)
		return -1;
	char date[64];
	memcpy(date, v, n);
	date[n] = '\0';
	time_t t = curl_getdate(date, NULL);
	if (t == (time_t)-1)
		return -1;
	int64_t d = (int64_t)t * 1000 - cv_now_ms();
	return d > 0 ? d : 0;
}

/*
 * X-RateLimit-Daily-Reset: HighLevel does not document its unit. A value
 * up to two days is read as seconds from now (as RateLimit-Reset in the
 * IETF draft); a larger one as an epoch time in seconds, or in ms when it
 * is that large. Either way the reset must lie within two days (a day's
 * budget renews within one); anything else is unreadable.
 */
static int64_t daily_reset_ms(const char *v, size_t n)
{
	int64_t x = parse_uint(v, n);
	if (x < 0)
		return -1;
	if (x <= HL_DAILY_RESET_MAX_MS / 1000)
		return x * 1000;
	int64_t at = x < 100000000000LL ? x * 1000 : x;
	int64_t d = at - cv_now_ms();
	if (d > HL_DAILY_RESET_MAX_MS || d < -HL_DAILY_RESET_MAX_MS)
		return -1;
	return d > 0 ? d : 0;
}

bool hl_ratelimit_parse_line(const char *line, size_t n,
	struct hl_ratelimit *rl)
{
	const char *colon = memchr(line, ':', n);
	if (!colon)
		return false;
	size_t nlen = (size_t)(colon - line);
	for (size_t i = 0; i < CV_ARRAY_LEN(rl_headers); i++) {
		const struct rl_header *h = &rl_headers[i];
		if (strlen(h->name) != nlen ||
			strncasecmp(line, h->name, nlen) != 0)
			continue;
		const char *v = colon + 1, *end = line + n;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && isspace((unsigned char)end[-1]))
			end--;
		size_t vn = (size_t)(end - v);
		int64_t val = h->bit == HL_RL_RETRY_AFTER
				      ? retry_after_ms(v, vn)
			      : h->bit == HL_RL_DAILY_RESET
				      ? daily_reset_ms(v, vn)
				      : parse_uint(v, vn);
		*(int64_t *)((char *)rl + h->off) = val;
		if (val < 0)
			rl->bad |= h->bit;
		else
			rl->bad &= ~h->bit;
		return val >= 0;
	}
	return false;
}

void hl_response_finish(struct hl_response *r)
{
	if (!r)
		return;
	free(r->errmsg);
	free(r->content_type);
	buf_finish(&r->body);
	memset(r, 0, sizeof(*r));
}

char *hl_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;
	buf_init(&b);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p)) {
			buf_putc(&b, (char)*p);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			buf_append(&b, e, 3);
		}
	}
	return buf_steal(&b);
}

void hl_query_add(struct buf *url, const char *key, const char *value)
{
	char *v = hl_escape(value);
	bool has_q = url->data && memchr(url->data, '?', url->len);
	buf_printf(url, "%c%s=%s", has_q ? '&' : '?', key, v);
	free(v);
}

void hl_query_add_int(struct buf *url, const char *key, int64_t value)
{
	char v[32];
	snprintf(v, sizeof(v), "%lld", (long long)value);
	hl_query_add(url, key, v);
}

static bool host_is_loopback(const char *h, size_t n)
{
	static const char *const names[] = { "127.0.0.1", "localhost",
		"[::1]" };
	for (size_t i = 0; i < CV_ARRAY_LEN(names); i++)
		if (strlen(names[i]) == n && strncasecmp(h, names[i], n) == 0)
			return true;
	return false;
}

bool hl_url_allowed(const char *url)
{
	if (strncasecmp(url, "https://", 8) == 0)
		return url[8] != '\0';
	if (strncasecmp(url, "http://", 7) != 0)
		return false;
	const char *h = url + 7;
	size_t n = strcspn(h, "/?#");
	if (memchr(h, '@', n))
		return false; /* no userinfo: it hides the real host */
	/* strip the port, but not the brackets of an IPv6 literal */
	const char *colon = NULL;
	for (size_t i = 0; i < n; i++)
		if (h[i] == ':')
			colon = h + i;
	if (colon && !(h[0] == '[' && colon < (const char *)memchr(h, ']', n)))
		n = (size_t)(colon - h);
	return host_is_loopback(h, n);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct hl_req *r = arg;
	size_t n = size * nmemb;
	long status = 0;
	if (r->sink)
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200) {
		if (r->sink(p, n, r->sink_arg))
			return n;
		r->resp.sink_stopped = true;
		return 0;
	}
	if (r->resp.body.len + n > HL_MAX_RESPONSE) {
		r->too_big = true;
		return 0; /* abort the transfer */
	}
	buf_append(&r->resp.body, p, n);
	return n;
}

/*
 * A rate-limit header that cannot be read is ignored (the field stays
 * unknown, as if absent): said once per client and header, since every
 * answer of a misbehaving server would carry it. The value is shown
 * (printable ASCII, cut): it is a server's header, never a secret.
 */
static void warn_bad_header(struct hl_req *r, unsigned bit, const char *p,
	size_t n)
{
	if (r->client) {
		if (r->client->warned & bit)
			return;
		r->client->warned |= bit;
	}
	const char *colon = memchr(p, ':', n);
	size_t off = colon ? (size_t)(colon + 1 - p) : n;
	char v[64];
	size_t k = 0;
	for (size_t i = off; i < n && k + 1 < sizeof(v); i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\r' || c == '\n')
			break;
		if (k == 0 && c == ' ')
			continue;
		v[k++] = c >= 0x20 && c < 0x7f && c != '"' ? (char)c : '?';
	}
	v[k] = '\0';
	cv_warn("header=%s value=\"%s\" msg=\"ignoring a rate-limit header "
		"that is not a usable number\"",
		hl_ratelimit_header_name(bit), v);
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct hl_req *r = arg;
	size_t n = size * nmemb;
	/* a new status line (redirect, 100-continue) starts afresh */
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		hl_ratelimit_init(&r->resp.rl);
		return n;
	}
	unsigned before = r->resp.rl.bad;
	hl_ratelimit_parse_line(p, n, &r->resp.rl);
	unsigned fresh = r->resp.rl.bad & ~before;
	if (fresh)
		warn_bad_header(r, fresh, p, n);
	return n;
}

static struct hl_req *req_new(const char *url, const struct hl_client_opts *o,
	char **errmsg)
{
	struct hl_req *r = xcalloc(1, sizeof(*r));
	buf_init(&r->resp.body);
	hl_ratelimit_init(&r->resp.rl);
	r->resp.content_length = -1;
	r->easy = curl_easy_init();
	if (!r->easy) {
		free(r);
		cv_error(errmsg, CV_EHTTP, "cannot create an HTTP handle");
		return NULL;
	}
	CURL *e = r->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
		(curl_off_t)HL_MAX_RESPONSE);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "callvault/" CALLVAULT_VERSION);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	r->headers = curl_slist_append(NULL, "Accept: application/json");
	r->started = cv_mono_ms();
	return r;
}

static void req_add_header(struct hl_req *r, const char *name,
	const char *value)
{
	char *h = xasprintf("%s: %s", name, value);
	r->headers = curl_slist_append(r->headers, h);
	/* the header may hold a token: wipe our copy (curl keeps its own) */
	memset(h, 0, strlen(h));
	free(h);
}

static void req_add_bearer(struct hl_req *r, const char *token)
{
	char *auth = xasprintf("Bearer %s", token);
	req_add_header(r, "Authorization", auth);
	memset(auth, 0, strlen(auth));
	free(auth);
}

static bool is_transient(CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM: return true;
	default: return false;
	}
}

/* Fill resp from a finished transfer. */
static void req_finish(struct hl_req *r, CURLcode cc)
{
	struct hl_response *resp = &r->resp;
	resp->elapsed_ms = cv_mono_ms() - r->started;
	const char *ct = NULL;
	if (curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct) ==
			CURLE_OK &&
		ct)
		resp->content_type = xstrdup(ct);
	curl_off_t cl = -1;
	if (curl_easy_getinfo(r->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
		    &cl) != CURLE_OK)
		cl = -1;
	resp->content_length = cl;
	if (cc == CURLE_OK) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE,
			&resp->status);
		resp->err = CV_OK;
		return;
	}
	resp->status = 0;
	if (resp->sink_stopped) {
		resp->err = CV_EIO;
		resp->errmsg = xstrdup("the receiver stopped the transfer");
		return;
	}
	if (r->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		resp->err = CV_ETOOBIG;
		resp->errmsg = xasprintf("response larger than %u bytes",
			HL_MAX_RESPONSE);
		return;
	}
	resp->err = CV_EHTTP;
	resp->transient = is_transient(cc);
	/* curl's text names host and cause, never headers or bodies */
	resp->errmsg = xstrdup(curl_easy_strerror(cc));
}

static void req_free(struct hl_req *r)
{
	if (!r)
		return;
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	hl_response_finish(&r->resp);
	free(r);
}

static void opts_defaults(struct hl_client_opts *d,
	const struct hl_client_opts *o)
{
	d->connect_timeout_ms = o && o->connect_timeout_ms > 0
					? o->connect_timeout_ms
					: 10000;
	d->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : 60000;
}

enum cv_err hl_client_create(struct hl_client **out,
	const struct hl_client_opts *o, char **errmsg)
{
	static bool global_done;
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return cv_error(errmsg, CV_EHTTP,
				"cannot initialise libcurl");
		global_done = true;
	}
	struct hl_client *c = xcalloc(1, sizeof(*c));
	c->multi = curl_multi_init();
	if (!c->multi) {
		free(c);
		return cv_error(errmsg, CV_EHTTP,
			"cannot create a multi "
			"handle");
	}
	opts_defaults(&c->opts, o);
	*out = c;
	return CV_OK;
}

void hl_client_destroy(struct hl_client *c)
{
	if (!c)
		return;
	while (c->reqs) {
		struct hl_req *r = c->reqs;
		c->reqs = r->next;
		curl_multi_remove_handle(c->multi, r->easy);
		req_free(r);
	}
	curl_multi_cleanup(c->multi);
	free(c);
}

enum cv_err hl_get(struct hl_client *c, const char *url, const char *token,
	const char *version, hl_done_fn fn, void *arg, char **errmsg)
{
	return hl_get_to(c, url, token, version, NULL, 0, NULL, NULL, fn, arg,
		errmsg);
}

enum cv_err hl_get_to(struct hl_client *c, const char *url, const char *token,
	const char *version, const char *accept, int64_t max_bytes,
	hl_sink_fn sink, void *sink_arg, hl_done_fn fn, void *arg,
	char **errmsg)
{
	if (!hl_url_allowed(url))
		return cv_error(errmsg, CV_EINVAL,
			"refusing to send a token "
			"to a URL that is neither https nor loopback http");
	struct hl_req *r = req_new(url, &c->opts, errmsg);
	if (!r)
		return CV_EHTTP;
	r->client = c;
	if (accept) {
		curl_slist_free_all(r->headers);
		r->headers = NULL;
		req_add_header(r, "Accept", accept);
	}
	if (sink) {
		r->sink = sink;
		r->sink_arg = sink_arg;
		curl_easy_setopt(r->easy, CURLOPT_MAXFILESIZE_LARGE,
			(curl_off_t)(max_bytes > 0 ? max_bytes : 0));
		/* the bytes as sent: a recording is kept exactly as received */
		curl_easy_setopt(r->easy, CURLOPT_ACCEPT_ENCODING, NULL);
		/* megabytes: fewer, larger writes into the sink */
		curl_easy_setopt(r->easy, CURLOPT_BUFFERSIZE, 256L * 1024);
		/* a long recording on a slow link takes longer than an API
		 * answer may: a stalled transfer fails (under 1 KiB/s for a
		 * minute), a slow one does not, within half an hour */
		long cap = 30L * 60 * 1000;
		curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS,
			c->opts.timeout_ms > cap ? c->opts.timeout_ms : cap);
		curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_LIMIT, 1024L);
		curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_TIME, 60L);
	}
	req_add_bearer(r, token);
	req_add_header(r, "Version", version);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	r->fn = fn;
	r->arg = arg;
	if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
		req_free(r);
		return cv_error(errmsg, CV_EHTTP, "cannot start a request");
	}
	r->next = c->reqs;
	c->reqs = r;
	c->n++;
	return CV_OK;
}

static void unlink_req(struct hl_client *c, struct hl_req *r)
{
	for (struct hl_req **pp = &c->reqs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			c->n--;
			return;
		}
	}
}

int hl_client_poll(struct hl_client *c, int timeout_ms)
{
	int running = 0;
	curl_multi_perform(c->multi, &running);
	/* wake for curl's own timers too (data it already holds, retries
	 * of its state machine), not only for socket activity */
	long ct = -1;
	curl_multi_timeout(c->multi, &ct);
	if (ct >= 0 && ct < timeout_ms)
		timeout_ms = (int)ct;
	/* with transfers running, look again soon: libcurl 7.88 does not
	 * always wake the poll for a reused connection's answer */
	if (c->n > 0 && timeout_ms > 5)
		timeout_ms = 5;
	if (timeout_ms > 0)
		/* waits the full timeout even with nothing in flight */
		curl_multi_poll(c->multi, NULL, 0, timeout_ms, NULL);
	curl_multi_perform(c->multi, &running);
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct hl_req *r = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &r);
		CURLcode cc = m->data.result;
		curl_multi_remove_handle(c->multi, r->easy);
		unlink_req(c, r);
		req_finish(r, cc);
		r->fn(&r->resp, r->arg);
		req_free(r);
	}
	return c->n;
}

void hl_client_wakeup(struct hl_client *c)
{
	curl_multi_wakeup(c->multi);
}

void hl_post_form(const char *url, const char *form,
	const struct hl_client_opts *o, struct hl_response *out)
{
	hl_post_form_auth(url, form, NULL, NULL, o, out);
}

void hl_post_form_auth(const char *url, const char *form, const char *token,
	const char *version, const struct hl_client_opts *o,
	struct hl_response *out)
{
	struct hl_client_opts d;
	opts_defaults(&d, o);
	memset(out, 0, sizeof(*out));
	buf_init(&out->body);
	hl_ratelimit_init(&out->rl);
	if (!hl_url_allowed(url)) {
		out->err = CV_EINVAL;
		out->errmsg = xstrdup("refusing to send secrets to a URL that "
				      "is neither https nor loopback http");
		return;
	}
	char *err = NULL;
	struct hl_req *r = req_new(url, &d, &err);
	if (!r) {
		out->err = CV_EHTTP;
		out->errmsg = err;
		return;
	}
	req_add_header(r, "Content-Type", "application/x-www-form-urlencoded");
	if (token)
		req_add_bearer(r, token);
	if (version)
		req_add_header(r, "Version", version);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, form);
	CURLcode cc = curl_easy_perform(r->easy);
	req_finish(r, cc);
	*out = r->resp;
	memset(&r->resp, 0, sizeof(r->resp));
	req_free(r);
}

/* hl_get_sync's completion: keep the outcome for the caller. */
static void keep_response(struct hl_response *r, void *arg)
{
	struct hl_response *out = arg;
	*out = *r;
	buf_init(&r->body);
	r->errmsg = NULL;
	r->content_type = NULL;
}

void hl_get_sync(const char *url, const char *token, const char *version,
	const struct hl_client_opts *o, struct hl_response *out)
{
	struct hl_client *c = NULL;
	memset(out, 0, sizeof(*out));
	buf_init(&out->body);
	hl_ratelimit_init(&out->rl);
	out->err = hl_client_create(&c, o, &out->errmsg);
	if (out->err == CV_OK)
		out->err = hl_get(c, url, token, version, keep_response, out,
			&out->errmsg);
	while (out->err == CV_OK && hl_client_poll(c, 100) > 0)
		;
	hl_client_destroy(c);
}
