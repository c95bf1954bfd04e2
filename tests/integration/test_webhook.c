/*
 * test_webhook.c — `callvault serve` over real HTTP on loopback:
 * signature modes (Ed25519, legacy RSA and its cut-off, HMAC), dedup and
 * what events mean, large headers, refusals, a concurrent burst, and the
 * metrics that count them. Hostile requests and limits are in
 * test_webhook_hostile.c; a locked or full store and crashes in
 * test_webhook_durable.c.
 */
#include <sys/stat.h>

#include "webhook_t.h"

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
	setup();
	struct wt_server s;
	serve(&s);
	test_ed25519_and_meaning(s.port);
	test_big_headers(s.port);
	test_rejections(s.port);
	test_burst(s.port);
	/* metrics reflect what happened */
	CHECK_INT(wt_http(NULL, s.port, "GET", "/metrics", NULL, 0, NULL), 200);
	check_metrics(s.port, db);
	CHECK_INT(wt_stop(&s), 0); /* graceful: exit 0 */
	check_store();

	test_legacy_and_hmac();
	check_store();
	teardown();
	return t_done();
}
