/*
 * test_webhook.c — `callvault serve` over real HTTP on loopback: signature
 * modes, bad input, dedup and meaning, concurrency, a locked store, a list
 * of hostile requests, and crash safety under kill -9. The server is the
 * binary in $CALLVAULT, run as a child on port 0.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "store/store.h"
#include "store/store_webhook.h"
#include "t.h"
#include "util.h"
#include "whtest.h"

static char dir[256], db[300], edpem[300], rsapem[300], secret[300];
static EVP_PKEY *ed, *other_ed, *rsa;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/cvwh.XXXXXX",
		getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		wt_die("mkdtemp");
	snprintf(db, sizeof(db), "%s/store.db", dir);
	snprintf(edpem, sizeof(edpem), "%s/ed.pem", dir);
	snprintf(rsapem, sizeof(rsapem), "%s/rsa.pem", dir);
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	ed = wt_keygen("ED25519", 0);
	other_ed = wt_keygen("ED25519", 0);
	rsa = wt_keygen(NULL, 2048);
	wt_write_pubkey(ed, edpem);
	wt_write_pubkey(rsa, rsapem);
	FILE *f = fopen(secret, "w");
	fputs("s3cret-shared-0123456789abcdef0123\n", f);
	fclose(f);
}

/* Counts in the store (opened read-only beside the running server). */
struct counts {
	int64_t events, queued, calls, quarantined;
};

static struct counts counts(void)
{
	struct counts c = { -1, -1, -1, -1 };
	struct store *s;
	struct store_stats st;
	if (store_open(&s, db, STORE_READONLY, NULL) != CV_OK)
		return c;
	if (store_webhook_counts(s, &c.events, &c.queued, NULL) == CV_OK &&
		store_stats(s, &st, NULL) == CV_OK) {
		c.calls = st.calls;
		c.quarantined = st.quarantined;
		store_stats_finish(&st);
	}
	store_close(s);
	return c;
}

static int call_versions(const char *id)
{
	struct store *s;
	struct store_call sc;
	int n = -1;
	if (store_open(&s, db, STORE_READONLY, NULL) != CV_OK)
		return -1;
	if (store_get_call(s, id, &sc, NULL) == CV_OK) {
		n = sc.n_versions;
		store_call_finish(&sc);
	}
	store_close(s);
	return n;
}

static bool event_seen(struct store *s, const char *key)
{
	bool seen = false;
	return store_webhook_seen(s, key, &seen, NULL) == CV_OK && seen;
}

/* `callvault check` passes on the store. */
static void check_store(void)
{
	char cmd[800];
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' check >/dev/null",
		getenv("CALLVAULT"), db);
	CHECK_MSG(system(cmd) == 0, "callvault check failed on %s", db);
}

/* Output of `callvault show ID` contains want. */
static bool show_has(const char *id, const char *want)
{
	char cmd[800], line[1024];
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' show '%s'",
		getenv("CALLVAULT"), db, id);
	FILE *p = popen(cmd, "r");
	bool found = false;
	while (p && fgets(line, sizeof(line), p))
		if (strstr(line, want))
			found = true;
	if (p)
		pclose(p);
	return found;
}

static long post_ed(int port, EVP_PKEY *k, const char *body)
{
	return wt_post_signed(NULL, port, k, body, strlen(body));
}

static void test_ed25519_and_meaning(int port)
{
	struct counts c0 = counts();
	char *b = wt_call_body("call-1", "wh-1", "first");
	CHECK_INT(post_ed(port, ed, b), 200);
	struct counts c1 = counts();
	CHECK_INT(c1.events, c0.events + 1);
	CHECK_INT(c1.calls, c0.calls + 1);
	CHECK_INT(c1.queued, c0.queued + 1); /* locA has credentials */
	CHECK_INT(call_versions("call-1"), 1);
	/* a location without credentials: stored, no fetch queued */
	char *nb = wt_call_body("call-nocred", "wh-nocred", "first");
	memcpy(strstr(nb, "\"locA\""), "\"locB\"", 6);
	CHECK_INT(post_ed(port, ed, nb), 200);
	struct counts cn = counts();
	CHECK_INT(cn.calls, c1.calls + 1);
	CHECK_INT(cn.queued, c1.queued);
	free(nb);
	c1 = cn;
	/* the same delivery again: 200, nothing changes */
	CHECK_INT(post_ed(port, ed, b), 200);
	struct counts c2 = counts();
	CHECK_INT(c2.events, c1.events);
	CHECK_INT(c2.calls, c1.calls);
	free(b);
	/* same call, new delivery id, same content: one row, one version */
	b = wt_call_body("call-1", "wh-2", "first");
	CHECK_INT(post_ed(port, ed, b), 200);
	CHECK_INT(counts().events, c1.events + 1);
	CHECK_INT(call_versions("call-1"), 1);
	free(b);
	/* changed content becomes a new version of the same call */
	b = wt_call_body("call-1", "wh-3", "second thoughts");
	CHECK_INT(post_ed(port, ed, b), 200);
	CHECK_INT(call_versions("call-1"), 2);
	CHECK_INT(counts().calls, c1.calls);
	free(b);
	/* no webhookId: dedupe by the body's hash */
	b = wt_call_body("call-2", NULL, "no id");
	CHECK_INT(post_ed(port, ed, b), 200);
	CHECK_INT(post_ed(port, ed, b), 200);
	CHECK_INT(counts().events, c1.events + 3);
	free(b);
	/* a CALL message event links to the call by messageId */
	const char *msg =
		"{\"type\":\"InboundMessage\",\"locationId\":\"locA\","
		"\"messageType\":\"CALL\",\"messageId\":\"m-call-1\","
		"\"direction\":\"inbound\",\"callStatus\":"
		"\"completed\",\"webhookId\":\"wh-msg-1\"}";
	CHECK_INT(post_ed(port, ed, msg), 200);
	CHECK(show_has("call-1", "InboundMessage"));
	CHECK(show_has("call-1", "call message"));
	CHECK(show_has("call-1", "VoiceAiCallEnd"));
	CHECK(!show_has("call-2", "InboundMessage"));
	/* INSTALL recorded, unknown types stored raw */
	CHECK_INT(post_ed(port, ed,
			  "{\"type\":\"INSTALL\",\"locationId\":\"locA\","
			  "\"webhookId\":\"wh-inst\"}"),
		200);
	CHECK_INT(
		post_ed(port, ed,
			"{\"type\":\"ContactCreate\",\"webhookId\":\"wh-cc\"}"),
		200);
	/* a call end with no type, detected by shape */
	CHECK_INT(post_ed(port, ed,
			  "{\"id\":\"call-3\",\"agentId\":\"a\",\"transcript\":"
			  "\"bot: hi\",\"createdAt\":\"2026-03-02T15:04:05Z\","
			  "\"locationId\":\"locB\"}"),
		200);
	CHECK_INT(call_versions("call-3"), 1);
	CHECK_INT(counts().events, c1.events + 7);
}

/*
 * Headers as a real delivery through proxies brings them (tracing,
 * forwarding, a legacy RSA signature: ~8 KiB here, several times what
 * HighLevel sends) fit the connection's memory pool (http_server.c), twice
 * on one kept-alive connection, whose pool is reset between requests.
 */
static void test_big_headers(int port)
{
	static char hv[40][300];
	const char *hs[44];
	int n = 0;
	hs[n++] = "Content-Type: application/json";
	for (int i = 0; i < 30; i++) {
		int k = snprintf(hv[i], sizeof(hv[i]), "X-Trace-%02d: ", i);
		memset(hv[i] + k, 'a' + i % 26, 250);
		hv[i][k + 250] = '\0';
		hs[n++] = hv[i];
	}
	CURL *h = curl_easy_init();
	for (int round = 0; round < 2; round++) {
		char id[32], wh[32];
		snprintf(id, sizeof(id), "call-bighdr-%d", round);
		snprintf(wh, sizeof(wh), "wh-bighdr-%d", round);
		char *b = wt_call_body(id, wh, "big headers");
		char *sig = wt_sign(ed, NULL, b, strlen(b));
		snprintf(hv[30], sizeof(hv[30]), "x-ghl-signature: %s", sig);
		hs[n] = hv[30];
		hs[n + 1] = NULL;
		CHECK_INT(wt_http(h, port, "POST", "/webhooks/highlevel", b,
				  strlen(b), hs),
			200);
		CHECK_MSG(call_versions(id) == 1, "%s stored", id);
		free(sig);
		free(b);
	}
	curl_easy_cleanup(h);
}

static void test_rejections(int port)
{
	struct counts c0 = counts();
	char *b = wt_call_body("call-x", "wh-x", "forged");
	CHECK_INT(post_ed(port, other_ed, b), 401); /* forged */
	const char *hs[] = { "Content-Type: application/json", NULL };
	CHECK_INT(wt_http(NULL, port, "POST", "/webhooks/highlevel", b,
			  strlen(b), hs),
		401); /* missing */
	const char *text[] = { "Content-Type: text/plain", NULL };
	CHECK_INT(wt_http(NULL, port, "POST", "/webhooks/highlevel", b,
			  strlen(b), text),
		415);
	/* over 1 MiB: refused on Content-Length */
	size_t big = (1u << 20) + 1;
	char *huge = malloc(big);
	memset(huge, ' ', big);
	huge[0] = '{';
	huge[big - 1] = '}';
	CHECK_INT(wt_post_signed(NULL, port, ed, huge, big), 413);
	/* exactly 1 MiB is allowed: "{  …  }" is stored raw */
	huge[big - 2] = '}';
	CHECK_INT(wt_post_signed(NULL, port, ed, huge, big - 1), 200);
	free(huge);
	struct counts c1 = counts();
	CHECK_INT(c1.calls, c0.calls);
	CHECK_INT(c1.events, c0.events + 1);
	CHECK_INT(c1.quarantined, c0.quarantined);
	free(b);
}

static void test_legacy_and_hmac(void)
{
	char *b = wt_call_body("call-rsa", "wh-rsa", "legacy");
	size_t n = strlen(b);
	char *rs = wt_sign(rsa, EVP_sha256(), b, n);
	char rh[1200], gh[200], hh[200], mac[65];
	snprintf(rh, sizeof(rh), "x-wh-signature: %s", rs);
	const char *hs[] = { "Content-Type: application/json", rh, NULL };
	const char *extra[] = { "--public-key", rsapem, "--public-key", edpem,
		"--shared-secret-file", secret, NULL };
	struct wt_server s;
	/* before the default cut-off (2026-07-01) */
	CHECK(wt_start(&s, dir, db, "2026-06-30T23:59:59Z", extra));
	CHECK_INT(wt_http(NULL, s.port, "POST", "/webhooks/highlevel", b, n,
			  hs),
		200);
	CHECK_INT(call_versions("call-rsa"), 1);
	/* an invalid x-ghl-signature is never rescued by a valid legacy one */
	char *bad = wt_sign(other_ed, NULL, b, n);
	snprintf(gh, sizeof(gh), "x-ghl-signature: %s", bad);
	const char *both[] = { "Content-Type: application/json", gh, rh, NULL };
	CHECK_INT(wt_http(NULL, s.port, "POST", "/webhooks/highlevel", b, n,
			  both),
		401);
	/* HMAC mode; and an invalid x-ghl-signature does not fall back */
	char *hb = wt_call_body("call-hmac", "wh-hmac", "workflow");
	wt_hmac_hex("s3cret-shared-0123456789abcdef0123", hb, strlen(hb), mac);
	snprintf(hh, sizeof(hh), "X-HighLevel-Signature: %s", mac);
	const char *hm[] = { "Content-Type: application/json", hh, NULL };
	const char *hm_bad[] = { "Content-Type: application/json", hh, gh,
		NULL };
	CHECK_INT(wt_http(NULL, s.port, "POST", "/webhooks/highlevel", hb,
			  strlen(hb), hm_bad),
		401);
	CHECK_INT(wt_http(NULL, s.port, "POST", "/webhooks/highlevel", hb,
			  strlen(hb), hm),
		200);
	mac[0] = mac[0] == '0' ? '1' : '0';
	snprintf(hh, sizeof(hh), "X-HighLevel-Signature: %s", mac);
	CHECK_INT(wt_http(NULL, s.port, "POST", "/webhooks/highlevel", hb,
			  strlen(hb), hm),
		401);
	CHECK_INT(call_versions("call-hmac"), 1);
	CHECK_INT(wt_stop(&s), 0);
	/* after the cut-off the legacy signature is refused */
	free(b);
	b = wt_call_body("call-rsa2", "wh-rsa2", "legacy late");
	n = strlen(b);
	free(rs);
	rs = wt_sign(rsa, EVP_sha256(), b, n);
	snprintf(rh, sizeof(rh), "x-wh-signature: %s", rs);
	CHECK(wt_start(&s, dir, db, "2026-07-01T00:00:01Z", extra));
	CHECK_INT(wt_http(NULL, s.port, "POST", "/webhooks/highlevel", b, n,
			  hs),
		401);
	CHECK_INT(call_versions("call-rsa2"), -1);
	CHECK_INT(wt_stop(&s), 0);
	/* --legacy-cutoff moves the date */
	const char *later[] = { "--public-key", rsapem, "--legacy-cutoff",
		"2027-01-01", NULL };
	CHECK(wt_start(&s, dir, db, "2026-07-01T00:00:01Z", later));
	CHECK_INT(wt_http(NULL, s.port, "POST", "/webhooks/highlevel", b, n,
			  hs),
		200);
	CHECK_INT(wt_stop(&s), 0);
	free(b);
	free(hb);
	free(rs);
	free(bad);
}

struct burst {
	int port, thread, n;
	atomic_int *ok;
};

static void *burst_main(void *arg)
{
	struct burst *b = arg;
	CURL *h = curl_easy_init();
	for (int i = 0; i < b->n; i++) {
		char id[64], wh[64];
		snprintf(id, sizeof(id), "burst-%d-%d", b->thread, i);
		snprintf(wh, sizeof(wh), "wh-burst-%d-%d", b->thread, i);
		char *body = wt_call_body(id, wh, "burst");
		if (wt_post_signed(h, b->port, ed, body, strlen(body)) == 200)
			atomic_fetch_add(b->ok, 1);
		free(body);
	}
	curl_easy_cleanup(h);
	return NULL;
}

static void test_burst(int port)
{
	enum { THREADS = 24, EACH = 10 };
	struct counts c0 = counts();
	atomic_int ok = 0;
	pthread_t th[THREADS];
	struct burst b[THREADS];
	for (int i = 0; i < THREADS; i++) {
		b[i] = (struct burst){ port, i, EACH, &ok };
		pthread_create(&th[i], NULL, burst_main, &b[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	CHECK_INT(atomic_load(&ok), THREADS * EACH);
	struct counts c1 = counts();
	CHECK_INT(c1.calls, c0.calls + THREADS * EACH);
	CHECK_INT(c1.events, c0.events + THREADS * EACH);
}

static void test_locked(void)
{
	const char *extra[] = { "--public-key", edpem, "--busy-timeout", "200",
		NULL };
	struct wt_server s;
	CHECK(wt_start(&s, dir, db, NULL, extra));
	struct store *lock;
	CHECK(store_open(&lock, db, 0, NULL) == CV_OK);
	CHECK(store_begin(lock, NULL) == CV_OK); /* holds the write lock */
	char *b = wt_call_body("call-locked", "wh-locked", "locked");
	CHECK_INT(post_ed(s.port, ed, b), 429);
	CHECK_INT(post_ed(s.port, ed, b), 429);
	store_rollback(lock);
	store_close(lock);
	CHECK_INT(post_ed(s.port, ed, b), 200); /* HighLevel's retry */
	CHECK_INT(call_versions("call-locked"), 1);
	CHECK_INT(wt_stop(&s), 0);
	free(b);
}

/* Requests waiting on a locked store are parked, not holding the
 * server's few threads: /healthz answers meanwhile, and none is stored.
 * Once stopping, new requests are refused at once.
 * A SIGTERM whose grace period (0 s) ends while they wait exits 0: the
 * server waits for the store's answer to every parked request before it
 * stops libmicrohttpd, which aborts on a suspended connection. */
static void test_parked(void)
{
	enum { WAITERS = 16 };
	const char *extra[] = { "--public-key", edpem, "--busy-timeout", "1000",
		"--grace", "0", NULL };
	struct wt_server s;
	CHECK(wt_start(&s, dir, db, NULL, extra));
	struct counts c0 = counts();
	struct store *lock;
	CHECK(store_open(&lock, db, 0, NULL) == CV_OK);
	CHECK(store_begin(lock, NULL) == CV_OK);
	atomic_int ok = 0;
	pthread_t th[WAITERS];
	struct burst b[WAITERS];
	double t0 = wt_now_s();
	for (int i = 0; i < WAITERS; i++) {
		b[i] = (struct burst){ s.port, 1000 + i, 1, &ok };
		pthread_create(&th[i], NULL, burst_main, &b[i]);
	}
	usleep(300 * 1000);
	double h0 = wt_now_s();
	CHECK_INT(wt_http(NULL, s.port, "GET", "/healthz", NULL, 0, NULL), 200);
	double waited = wt_now_s() - h0;
	CHECK_MSG(waited < 0.5, "/healthz took %.3f s behind parked requests",
		waited);
	kill(s.pid, SIGTERM);
	usleep(100 * 1000);
	/* stopping: a new request is answered at once, a webhook with 429
	 * (HighLevel retries it), anything else with 503 */
	char *late = wt_call_body("call-late", "wh-late", "late");
	CHECK_INT(post_ed(s.port, ed, late), 429);
	free(late);
	CHECK_INT(wt_http(NULL, s.port, "GET", "/healthz", NULL, 0, NULL), 503);
	for (int i = 0; i < WAITERS; i++)
		pthread_join(th[i], NULL);
	CHECK_INT(atomic_load(&ok), 0); /* the store stayed locked */
	CHECK_MSG(wt_now_s() - t0 >= 0.9, "answered before the wait bound");
	CHECK_INT(wt_stop(&s), 0);
	store_rollback(lock);
	store_close(lock);
	struct counts c1 = counts();
	CHECK_INT(c1.calls, c0.calls);
	CHECK_INT(c1.events, c0.events);
}

/* A full store (here: a size cap) answers 429 and keeps nothing. */
static void test_full(void)
{
	char saved[sizeof(db)], cmd[800];
	memcpy(saved, db, sizeof(db));
	snprintf(db, sizeof(db), "%s/full.db", dir);
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' init >/dev/null",
		getenv("CALLVAULT"), db);
	CHECK(system(cmd) == 0);
	const char *extra[] = { "--public-key", edpem, "--max-store-mb", "1",
		NULL };
	struct wt_server s;
	CHECK(wt_start(&s, dir, db, NULL, extra));
	char *big = malloc(60001);
	memset(big, 'z', 60000);
	big[60000] = '\0';
	int ok = 0, refused = 0;
	char id[64];
	for (int i = 0; i < 60 && !refused; i++) {
		snprintf(id, sizeof(id), "full-%d", i);
		char *b = wt_call_body(id, id, big);
		long st = post_ed(s.port, ed, b);
		free(b);
		if (st == 200)
			ok++;
		else if (st == 429)
			refused++;
		else
			CHECK_MSG(false, "full store: status %ld", st);
	}
	CHECK_INT(refused, 1);
	CHECK_MSG(ok >= 2, "only %d stored before full", ok);
	CHECK_INT(call_versions(id), -1); /* the refused one is not there */
	snprintf(id, sizeof(id), "full-%d", ok - 1);
	CHECK_INT(call_versions(id), 1);
	CHECK_INT(wt_stop(&s), 0);
	check_store();
	free(big);
	memcpy(db, saved, sizeof(db));
}

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

/* ---- crash safety ---- */

#define CRASH_THREADS 8
#define CRASH_MAX 4000

struct crash {
	const char *prefix;
	int port, thread;
	atomic_bool *stop;
	int acked[CRASH_MAX];
	int n_acked;
};

static void *crash_main(void *arg)
{
	struct crash *c = arg;
	CURL *h = curl_easy_init();
	for (int i = 0; i < CRASH_MAX && !atomic_load(c->stop); i++) {
		char id[64], wh[64];
		snprintf(id, sizeof(id), "%s-%d-%d", c->prefix, c->thread, i);
		snprintf(wh, sizeof(wh), "wh-%s-%d-%d", c->prefix, c->thread,
			i);
		char *body = wt_call_body(id, wh, "crash");
		long st = wt_post_signed(h, c->port, ed, body, strlen(body));
		free(body);
		if (st == 200)
			c->acked[c->n_acked++] = i;
		else if (st == 0)
			break; /* the server is gone */
	}
	curl_easy_cleanup(h);
	return NULL;
}

/* Count acknowledged crash-load events missing from the store. */
static int lost_acked(const char *prefix, struct crash *c, int *total)
{
	struct store *st;
	int lost = 0;
	*total = 0;
	if (store_open(&st, db, STORE_READONLY, NULL) != CV_OK)
		return -1;
	for (int t = 0; t < CRASH_THREADS; t++) {
		for (int i = 0; i < c[t].n_acked; i++) {
			char id[64], wh[64];
			struct store_call sc;
			snprintf(id, sizeof(id), "%s-%d-%d", prefix, t,
				c[t].acked[i]);
			snprintf(wh, sizeof(wh), "wh-%s-%d-%d", prefix, t,
				c[t].acked[i]);
			(*total)++;
			if (store_get_call(st, id, &sc, NULL) != CV_OK ||
				!event_seen(st, wh))
				lost++;
			else
				store_call_finish(&sc);
		}
	}
	store_close(st);
	return lost;
}

/* Run the load from 8 threads for ms, then end the server with sig. */
static int load_then(struct wt_server *s, const char *prefix, int ms, int sig,
	struct crash *c)
{
	atomic_bool stop = false;
	pthread_t th[CRASH_THREADS];
	for (int i = 0; i < CRASH_THREADS; i++) {
		c[i] = (struct crash){ .port = s->port,
			.thread = i,
			.stop = &stop,
			.prefix = prefix };
		pthread_create(&th[i], NULL, crash_main, &c[i]);
	}
	usleep((useconds_t)ms * 1000);
	int code = 0;
	if (sig == SIGKILL)
		wt_kill9(s);
	else
		code = wt_stop(s);
	atomic_store(&stop, true);
	for (int i = 0; i < CRASH_THREADS; i++)
		pthread_join(th[i], NULL);
	return code;
}

static void test_kill9(void)
{
	static struct crash c[CRASH_THREADS];
	struct wt_server s;
	const char *extra[] = { "--public-key", edpem, NULL };
	int total;
	/* graceful: SIGTERM under load exits 0 and keeps every 200 */
	CHECK(wt_start(&s, dir, db, NULL, extra));
	CHECK_INT(load_then(&s, "term", 700, SIGTERM, c), 0);
	CHECK_INT(lost_acked("term", c, &total), 0);
	CHECK_MSG(total > 20, "only %d events acknowledged before TERM", total);
	/* crash: kill -9 mid-load */
	CHECK(wt_start(&s, dir, db, NULL, extra));
	load_then(&s, "crash", 1200, SIGKILL, c);
	/* restart on the same store; it must recover and serve */
	CHECK(wt_start(&s, dir, db, NULL, extra));
	char *b = wt_call_body("after-crash", "wh-after", "after");
	CHECK_INT(post_ed(s.port, ed, b), 200);
	free(b);
	CHECK_INT(wt_stop(&s), 0);
	int lost = lost_acked("crash", c, &total);
	printf("kill -9: %d events acknowledged before the kill, %d lost\n",
		total, lost);
	CHECK_MSG(total > 50, "only %d events acknowledged before kill", total);
	CHECK_INT(lost, 0);
	check_store();
}

static size_t to_buf(char *p, size_t sz, size_t n, void *arg)
{
	buf_append(arg, p, sz * n);
	return sz * n;
}

/* GET /metrics, whole (the caller frees it). */
static char *metrics_text(int port)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port);
	struct buf b;
	buf_init(&b);
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_buf);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	CHECK(h && curl_easy_perform(h) == CURLE_OK);
	curl_easy_cleanup(h);
	buf_putc(&b, '\0');
	return buf_steal(&b);
}

/* One sample's value in the metrics text ("name" includes any labels);
 * -1 when it is not there. */
static double metric(const char *text, const char *name)
{
	size_t nl = strlen(name);
	for (const char *l = text; l && *l; l = strchr(l, '\n')) {
		if (*l == '\n')
			l++;
		if (strncmp(l, name, nl) == 0 && l[nl] == ' ')
			return strtod(l + nl + 1, NULL);
	}
	return -1;
}

/* The counters say what the tests above did; the WAL gauge is the log
 * file's size on disk, read when /metrics is served (nothing writes to
 * the store between that and the stat here). One fetch: every value
 * comes from the same moment. */
static void check_metrics(int port, const char *db_path)
{
	char *m = metrics_text(port);
	CHECK(metric(m, "callvault_webhook_events_stored_total") >= 10);
	CHECK(metric(m, "callvault_webhook_signature_failures_total") >= 1);
	CHECK(metric(m, "callvault_webhook_requests_total{status=\"401\"}") >=
		1);
	CHECK(metric(m, "callvault_webhook_requests_total{status=\"413\"}") >=
		1);
	CHECK(metric(m, "callvault_webhook_duplicates_total") >= 1);
	CHECK_INT((long)metric(m, "callvault_webhook_queue_depth"), 0);
	double wal = metric(m, "callvault_webhook_wal_file_bytes");
	free(m);
	char wp[600];
	snprintf(wp, sizeof(wp), "%s-wal", db_path);
	struct stat st;
	CHECK(stat(wp, &st) == 0 && st.st_size > 0);
	CHECK(wal == (double)st.st_size);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	setup();
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' init >/dev/null",
		getenv("CALLVAULT"), db);
	CHECK(system(cmd) == 0);
	/* credentials for locA (never used: nothing here runs sync) */
	snprintf(cmd, sizeof(cmd),
		"'%s' --db '%s' location add locA "
		"--no-check --token-file '%s' --api-base http://127.0.0.1:9 "
		">/dev/null",
		getenv("CALLVAULT"), db, secret);
	CHECK(system(cmd) == 0);

	const char *extra[] = { "--public-key", edpem, "--shared-secret-file",
		secret, "--timeout", "2", NULL };
	struct wt_server s;
	if (!wt_start(&s, dir, db, NULL, extra))
		wt_die("server did not start");
	CHECK_INT(wt_http(NULL, s.port, "GET", "/healthz", NULL, 0, NULL), 200);
	test_ed25519_and_meaning(s.port);
	test_big_headers(s.port);
	test_rejections(s.port);
	test_burst(s.port);
	test_hostile(s.port);
	test_slowloris(s.port, 2);
	/* metrics reflect what happened */
	CHECK_INT(wt_http(NULL, s.port, "GET", "/metrics", NULL, 0, NULL), 200);
	check_metrics(s.port, db);
	CHECK_INT(wt_stop(&s), 0); /* graceful: exit 0 */
	check_store();

	test_legacy_and_hmac();
	test_locked();
	test_parked();
	check_store();
	test_full();
	test_budget();
	test_kill9();

	char rm[400];
	snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	if (system(rm) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(other_ed);
	EVP_PKEY_free(rsa);
	curl_global_cleanup();
	return t_done();
}
