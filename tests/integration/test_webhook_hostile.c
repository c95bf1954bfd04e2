/*
 * test_webhook_hostile.c — `callvault serve` against hostile clients: a
 * list of malformed, forged and oddly framed requests, huge headers and
 * bodies, slow clients past the idle timeout, and the memory budget for
 * bodies held at once.
 */
#include "webhook_t.h"

/* ---- hostile requests ---- */

/* A raw HTTP request carrying body, signed with k (NULL: unsigned). */
static char *raw_req(const char *head, EVP_PKEY *k, const char *body,
	size_t len)
{
	char *sig = k ? wt_sign(k, NULL, body, len) : NULL;
	size_t cap = strlen(head) + len + 512;
	char *r = malloc(cap);
	int n = snprintf(r, cap, "%sContent-Length: %zu\r\n%s%s%s\r\n", head,
		len, sig ? "x-ghl-signature: " : "", sig ? sig : "",
		sig ? "\r\n" : "");
	memcpy(r + n, body, len);
	r[n + len] = '\0';
	free(sig);
	return r;
}

#define NOANS 999 /* the server closed without an answer */
#define POST_HEAD                                                              \
	"POST /webhooks/highlevel HTTP/1.1\r\nHost: x\r\n"                     \
	"Content-Type: application/json\r\nConnection: close\r\n"

struct hostile {
	const char *name;
	const char *head; /* request line + headers (raw mode) */
	const char *body; /* NULL: built by the case */
	size_t len;
	int sign;    /* 1 sign with ed, 2 with other_ed */
	int want[3]; /* acceptable statuses (0 = no answer) */
};

static char *repeat(const char *open, const char *close, int n)
{
	size_t a = strlen(open), b = strlen(close);
	char *s = malloc((a + b) * (size_t)n + 1), *p = s;
	for (int i = 0; i < n; i++, p += a)
		memcpy(p, open, a);
	for (int i = 0; i < n; i++, p += b)
		memcpy(p, close, b);
	*p = '\0';
	return s;
}

static void run_hostile(int port, const struct hostile *h, const char *body,
	size_t len)
{
	char *req = raw_req(h->head,
		h->sign == 1   ? ed
		: h->sign == 2 ? other_ed
			       : NULL,
		body, len);
	int st = wt_raw(port, req, strlen(req), 5000);
	free(req);
	bool ok = false;
	for (int i = 0; i < 3; i++)
		if (h->want[i] == (st == 0 ? NOANS : st))
			ok = true;
	CHECK_MSG(ok, "hostile \"%s\": status %d", h->name, st);
}

static void test_hostile(int port)
{
	char *deep_arr = repeat("[", "]", 10000);
	char *deep_obj = repeat("{\"a\":", "}", 10000);
	char longid[12000] = "{\"type\":\"X\",\"webhookId\":\"";
	memset(longid + strlen(longid), 'w', 10000);
	strcat(longid, "\"}");
	const struct hostile cases[] = {
		{ "truncated JSON", POST_HEAD,
			"{\"type\":\"VoiceAiCallEnd\",\"id\":\"tr", 0, 1,
			{ 200 } },
		{ "invalid UTF-8", POST_HEAD,
			"{\"type\":\"X\",\"v\":\"\xff\xfe\xc3\x28\"}", 0, 1,
			{ 200 } },
		{ "nesting depth 10000 (arrays)", POST_HEAD, deep_arr, 0, 1,
			{ 200 } },
		{ "nesting depth 10000 (objects)", POST_HEAD, deep_obj, 0, 1,
			{ 200 } },
		{ "huge real", POST_HEAD, "{\"type\":\"X\",\"n\":1e999999}", 0,
			1, { 200 } },
		{ "huge integer", POST_HEAD,
			"{\"type\":\"X\",\"n\":123456789012345678901234567890}",
			0, 1, { 200 } },
		{ "duplicate keys", POST_HEAD,
			"{\"type\":\"VoiceAiCallEnd\",\"id\":\"d1\",\"id\":\"d2\"}",
			0, 1, { 200 } },
		{ "empty body", POST_HEAD, "", 0, 1, { 200 } },
		{ "top-level array", POST_HEAD, "[1,2]", 0, 1, { 200 } },
		{ "top-level string", POST_HEAD, "\"x\"", 0, 1, { 200 } },
		{ "call end without id", POST_HEAD,
			"{\"type\":\"VoiceAiCallEnd\",\"createdAt\":\"2026-01-01\"}",
			0, 1, { 200 } },
		{ "control character in id", POST_HEAD,
			"{\"type\":\"VoiceAiCallEnd\",\"id\":\"a\\u0001b\"}", 0,
			1, { 200 } },
		{ "numeric webhookId", POST_HEAD,
			"{\"type\":\"X\",\"webhookId\":12}", 0, 1, { 200 } },
		{ "10 KB webhookId", POST_HEAD, longid, 0, 1, { 200 } },
		{ "bad createdAt", POST_HEAD,
			"{\"type\":\"VoiceAiCallEnd\",\"id\":\"bc\",\"createdAt\":"
			"\"yesterday\"}",
			0, 1, { 200 } },
		{ "lone surrogate", POST_HEAD,
			"{\"type\":\"X\",\"s\":\"\\ud800\"}", 0, 1, { 200 } },
		{ "UTF-8 BOM", POST_HEAD, "\xef\xbb\xbf{\"type\":\"X\"}", 0, 1,
			{ 200 } },
		{ "forged signature", POST_HEAD, "{\"type\":\"X\"}", 0, 2,
			{ 401 } },
		{ "unsigned", POST_HEAD, "{\"type\":\"X\"}", 0, 0, { 401 } },
		{ "signature not base64", POST_HEAD "x-ghl-signature: !!!!\r\n",
			"{\"type\":\"X\"}", 0, 0, { 401 } },
		{ "signature too short", POST_HEAD "x-ghl-signature: AAAA\r\n",
			"{\"type\":\"X\"}", 0, 0, { 401 } },
		{ "empty signature", POST_HEAD "x-ghl-signature: \r\n",
			"{\"type\":\"X\"}", 0, 0, { 401 } },
		{ "two x-ghl-signature headers",
			POST_HEAD "x-ghl-signature: AAAA\r\n",
			"{\"type\":\"X\"}", 0, 1, { 401 } },
		{ "text/plain",
			"POST /webhooks/highlevel HTTP/1.1\r\nHost: x\r\n"
			"Content-Type: text/plain\r\n",
			"{}", 0, 1, { 415 } },
		{ "no content type",
			"POST /webhooks/highlevel HTTP/1.1\r\nHost: x\r\n",
			"{}", 0, 1, { 415 } },
		{ "application/jsonp",
			"POST /webhooks/highlevel HTTP/1.1\r\nHost: x\r\n"
			"Content-Type: application/jsonp\r\n",
			"{}", 0, 1, { 415 } },
		{ "upper-case JSON type with charset",
			"POST /webhooks/highlevel HTTP/1.1\r\nHost: x\r\n"
			"Content-Type: APPLICATION/JSON; charset=utf-8\r\n",
			"{\"type\":\"Y\"}", 0, 1, { 200 } },
		{ "GET on the webhook",
			"GET /webhooks/highlevel HTTP/1.1\r\n"
			"Host: x\r\n",
			"", 0, 0, { 405 } },
		{ "PUT on the webhook",
			"PUT /webhooks/highlevel HTTP/1.1\r\n"
			"Host: x\r\n"
			"Content-Type: application/json\r\n",
			"{}", 0, 1, { 405 } },
		{ "DELETE /healthz", "DELETE /healthz HTTP/1.1\r\nHost: x\r\n",
			"", 0, 0, { 405 } },
		{ "dot segments",
			"POST /webhooks/x/../highlevel HTTP/1.1\r\n"
			"Host: x\r\nContent-Type: application/json\r\n",
			"{}", 0, 1, { 404 } },
		{ "upper-case path",
			"POST /WEBHOOKS/HIGHLEVEL HTTP/1.1\r\n"
			"Host: x\r\nContent-Type: application/json\r\n",
			"{}", 0, 1, { 404 } },
		{ "encoded NUL in path",
			"POST /webhooks/highlevel%00 HTTP/1.1\r\nHost: x\r\n"
			"Content-Type: application/json\r\n",
			"{}", 0, 1, { 404 } },
		{ "garbage request line", "HELLO\r\n", "", 0, 0,
			{ 400, NOANS } },
		{ "HTTP/1.1 without Host",
			"POST /webhooks/highlevel HTTP/1.1\r\n"
			"Content-Type: application/json\r\n",
			"{\"type\":\"Z\"}", 0, 1, { 400 } },
		{ "HTTP/1.0 signed",
			"POST /webhooks/highlevel HTTP/1.0\r\n"
			"Content-Type: application/json\r\n",
			"{\"type\":\"Z10\"}", 0, 1, { 200 } },
	};
	struct counts c0 = counts();
	for (size_t i = 0; i < CV_ARRAY_LEN(cases); i++)
		run_hostile(port, &cases[i], cases[i].body,
			strlen(cases[i].body));
	/* the signed bodies that are not valid events are in quarantine */
	CHECK_MSG(counts().quarantined - c0.quarantined >= 14,
		"quarantined %lld",
		(long long)(counts().quarantined - c0.quarantined));
	free(deep_arr);
	free(deep_obj);

	/* requests whose framing is hostile, sent as they are */
	static const struct {
		const char *name;
		const char *req;
		int want[3];
	} framed[] = {
		{ "Content-Length far over the bound",
			POST_HEAD "Content-Length: 5000000\r\n\r\n{", { 413 } },
		{ "unsigned: refused before the body is sent",
			POST_HEAD "Content-Length: 500000\r\n\r\n", { 401 } },
		{ "negative Content-Length",
			POST_HEAD "Content-Length: -1\r\n\r\n{}",
			{ 400, 413 } },
		{ "non-numeric Content-Length",
			POST_HEAD "Content-Length: abc\r\n\r\n{}",
			{ 400, 413 } },
		{ "Content-Length and chunked (unsigned)",
			POST_HEAD "Content-Length: 4\r\nTransfer-Encoding: "
				  "chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
			{ 400, 401 } },
		{ "two Content-Length headers",
			POST_HEAD "Content-Length: 2\r\nContent-Length: 40\r\n"
				  "\r\n{}",
			{ 400, 401, NOANS } },
		{ "bare LF line endings",
			"POST /webhooks/highlevel HTTP/1.1\nHost: x\n"
			"Content-Type: application/json\nContent-Length: 2\n\n{}",
			{ 401, 400 } },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(framed); i++) {
		int st = wt_raw(port, framed[i].req, strlen(framed[i].req),
			5000);
		int got = st == 0 ? NOANS : st;
		bool ok = got == framed[i].want[0] ||
			  got == framed[i].want[1] || got == framed[i].want[2];
		CHECK_MSG(ok, "hostile \"%s\": status %d", framed[i].name, st);
	}

	/* a 100 KB header line and 3000 headers: refused, never 200 */
	size_t hl = 100 * 1024;
	char *longhdr = malloc(hl + 256);
	int n = snprintf(longhdr, 256, POST_HEAD "X-Long: ");
	memset(longhdr + n, 'a', hl);
	strcpy(longhdr + n + hl, "\r\nContent-Length: 2\r\n\r\n{}");
	int st = wt_raw(port, longhdr, strlen(longhdr), 5000);
	CHECK_MSG(st == 431 || st == 413 || st == 400 || st == 0,
		"hostile \"100 KB header\": status %d", st);
	free(longhdr);
	struct buf many;
	buf_init(&many);
	buf_puts(&many, POST_HEAD);
	for (int i = 0; i < 3000; i++)
		buf_printf(&many, "X-H%d: v\r\n", i);
	buf_puts(&many, "Content-Length: 2\r\n\r\n{}");
	st = wt_raw(port, many.data, many.len, 5000);
	CHECK_MSG(st == 431 || st == 413 || st == 400 || st == 0,
		"hostile \"3000 headers\": status %d", st);
	buf_finish(&many);

	/* chunked body over 1 MiB: cut off, never stored */
	int fd = wt_connect(port);
	const char *ch = POST_HEAD "x-ghl-signature: AAAA\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";
	send(fd, ch, strlen(ch), MSG_NOSIGNAL);
	char chunk[65536 + 16];
	memset(chunk, ' ', sizeof(chunk));
	int hn = snprintf(chunk, 16, "10000\r\n");
	memcpy(chunk + hn + 65536, "\r\n", 2);
	for (int i = 0; i < 20; i++)
		if (send(fd, chunk, (size_t)hn + 65536 + 2, MSG_NOSIGNAL) <= 0)
			break;
	st = wt_read_status(fd, 5000);
	CHECK_MSG(st == 0 || st == 413, "hostile \"chunked 1.3 MiB\": %d", st);
	close(fd);

	/* truncated body: the client goes away mid-upload */
	fd = wt_connect(port);
	const char *tr = POST_HEAD "x-ghl-signature: AAAA\r\n"
				   "Content-Length: 100\r\n\r\n{\"type\":";
	send(fd, tr, strlen(tr), MSG_NOSIGNAL);
	close(fd);
	CHECK_INT(wt_http(NULL, port, "GET", "/healthz", NULL, 0, NULL), 200);
}

/* Bodies held in memory at once are bounded: past the budget, 429. The
 * budget counts the bytes that have arrived, not what Content-Length
 * promises: a client that promises 900,000 bytes and sends one holds
 * one (it once held 900,000, and 64 such clients every genuine webhook
 * up). The holding clients connect from another address, as they would. */
static void test_budget(void)
{
	const char *extra[] = { "--public-key", edpem, "--max-buffer-mb", "1",
		NULL };
	struct wt_server s;
	CHECK(wt_start(&s, dir, db, NULL, extra));
	int hold = wt_connect_from(s.port, "127.0.0.2");
	CHECK(hold >= 0);
	const char *h = POST_HEAD "x-ghl-signature: AAAA\r\n"
				  "Content-Length: 900000\r\n\r\n{";
	send(hold, h, strlen(h), MSG_NOSIGNAL);
	usleep(200 * 1000);
	size_t n = 200000;
	char *big = malloc(n + 1);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	char *req = raw_req(POST_HEAD, ed, big, n);
	CHECK_INT(wt_raw(s.port, req, strlen(req), 5000), 200);
	usleep(200 * 1000); /* its bytes are given back once it is done */
	/* now 880,001 bytes of the promised 900,000 are held: less
	 * than 200,000 of the 1 MiB budget is left */
	char *fill = malloc(880000);
	memset(fill, ' ', 880000);
	size_t off = 0;
	while (off < 880000) {
		ssize_t k = send(hold, fill + off, 880000 - off, MSG_NOSIGNAL);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	CHECK_INT(off, 880000);
	usleep(300 * 1000);
	char *b = wt_call_body("call-budget", "wh-budget", "budget");
	CHECK_INT(post_ed(s.port, ed, b), 200); /* small: still fits */
	big[1] = '\n'; /* another body: not a duplicate */
	free(req);
	req = raw_req(POST_HEAD, ed, big, n);
	CHECK_INT(wt_raw(s.port, req, strlen(req), 5000), 429);
	close(hold); /* its reservation is given back */
	usleep(300 * 1000);
	CHECK_INT(wt_raw(s.port, req, strlen(req), 5000), 200);
	CHECK_INT(wt_stop(&s), 0);
	free(fill);
	free(req);
	free(big);
	free(b);
}

/* Slow clients: dripping headers or a stalled body are cut off after the
 * idle timeout, and do not hold up anyone else meanwhile. */
static void test_slowloris(int port, int timeout_s)
{
	enum { SLOW = 16 };
	int fds[SLOW];
	for (int i = 0; i < SLOW; i++) {
		fds[i] = wt_connect(port);
		const char *part =
			i % 2 ? "POST /webhooks/highlevel HTTP/1.1\r\nHo"
			      : POST_HEAD "x-ghl-signature: AAAA\r\n"
					  "Content-Length: 50\r\n\r\n{";
		send(fds[i], part, strlen(part), MSG_NOSIGNAL);
	}
	char *b = wt_call_body("call-during-slow", "wh-slow", "slow");
	CHECK_INT(post_ed(port, ed, b), 200);
	free(b);
	double t0 = wt_now_s();
	int closed = 0;
	for (int i = 0; i < SLOW; i++) {
		int st = wt_read_status(fds[i], (timeout_s + 3) * 1000);
		if (st == 0 || st == 408 || st == 400)
			closed++;
		close(fds[i]);
	}
	CHECK_INT(closed, SLOW);
	CHECK_MSG(wt_now_s() - t0 < timeout_s + 3, "slow clients held %.1f s",
		wt_now_s() - t0);
}

int main(void)
{
	setup();
	struct wt_server s;
	serve(&s);
	test_hostile(s.port);
	test_slowloris(s.port, 2);
	CHECK_INT(wt_stop(&s), 0); /* graceful: exit 0 */
	check_store();

	test_budget();
	teardown();
	return t_done();
}
