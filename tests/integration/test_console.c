/*
 * test_console.c — the web console's API over loopback (issue 7): roles
 * allowed and refused, CSRF and Origin, expired sessions (idle and
 * absolute), brute-force limiting, bearer tokens, disabled users, XSS
 * payloads coming back escaped, and every read audited with the user's
 * name, and the archive status page's data (written, verified, purged).
 * Runs `callvault serve --console` as a child on port 0.
 *
 * usage: test_console FIXTURE.jsonl   (env CALLVAULT = the binary)
 */
#include <pthread.h>
#include <stdarg.h>
#include <strings.h>

#include "common.h"
#include "store/store.h"
#include "console_t.h"

static const char *const roles[] = { "viewer", "exporter", "hold-admin",
	"admin" };

static void setup(const char *fixture)
{
	char path[400];
	CHECK(cv("import '%s' >/dev/null 2>&1", fixture) == 0);
	/* a call whose text tries to be HTML */
	snprintf(path, sizeof(path), "%s/xss.jsonl", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"id\": \"x1\", \"createdAt\": \"2026-03-02T10:00:00.000Z\", "
	      "\"locationId\": \"L1\", \"agentId\": \"A1\", \"summary\": "
	      "\"<img src=x onerror=alert(1)>\", \"transcript\": \"bot: "
	      "<script>alert(1)</script>\\nhuman: \\\" onmouseover=\\\""
	      "alert(2) refund\"}\n",
		f);
	fclose(f);
	CHECK(cv("import '%s' >/dev/null 2>&1", path) == 0);
	snprintf(path, sizeof(path), "%s/pw", dir);
	f = fopen(path, "w");
	fputs("correct horse 1\n", f);
	fclose(f);
	for (size_t i = 0; i < CV_ARRAY_LEN(roles); i++)
		CHECK(cv("user add %s --role %s --password-file '%s' "
			 ">/dev/null",
			      roles[i], roles[i], path) == 0);
	CHECK(cv("user add mallory --role god --password-file '%s' "
		 "2>/dev/null",
		      path) == 2);
	CHECK(cv("user add viewer --role admin --password-file '%s' "
		 "2>/dev/null",
		      path) != 0);
}

static void test_roles(void)
{
	struct resp r;
	for (size_t i = 0; i < CV_ARRAY_LEN(roles); i++) {
		struct session s;
		CHECK_MSG(login(roles[i], "correct+horse+1", &s) == 200, "%s",
			roles[i]);
		CHECK(strlen(s.cookie) == 64 && strlen(s.csrf) == 64);
		CHECK(get(&r, "/api/search?q=refund", s.cookie) == 200);
		CHECK(strstr(r.body, "\"c01\"") != NULL);
		/* a handful of matches: relevance ranks them all */
		CHECK(get(&r, "/api/search?q=refund&sort=relevance",
			      s.cookie) == 200);
		CHECK(strstr(r.body, "\"rankedAmong\":null") != NULL);
		CHECK(get(&r, "/api/calls/c01", s.cookie) == 200);
		CHECK(strstr(r.body, "\"turns\"") &&
			strstr(r.body, "\"versions\""));
		long want = i >= 1 ? 200 : 403;
		CHECK_MSG(get(&r, "/api/export?q=refund", s.cookie) == want,
			"export as %s: %ld", roles[i], r.status);
		if (want == 200)
			CHECK(strncmp(r.body, "id,", 3) == 0 &&
				strstr(r.body, "\r\n\"c01\",") &&
				!strstr(r.body, "\"c02\","));
		want = i >= 2 ? 400 : 403; /* 400: no matter given */
		CHECK_MSG(req(&r, "POST", "/api/holds", "x=1", s.cookie, s.csrf,
				  NULL) == want,
			"holds as %s: %ld", roles[i], r.status);
		want = i >= 3 ? 200 : 403;
		CHECK_MSG(get(&r, "/api/audit", s.cookie) == want,
			"audit as %s: %ld", roles[i], r.status);
	}
	/* the viewer's reads are in the audit log under its name */
	struct session a;
	CHECK(login("admin", "correct+horse+1", &a) == 200);
	CHECK(get(&r, "/api/audit?actor=viewer", a.cookie) == 200);
	CHECK(strstr(r.body, "\"actor\":\"viewer\",\"command\":\"search\""));
	CHECK(strstr(r.body, "\"actor\":\"viewer\",\"command\":\"show\""));
	CHECK(strstr(r.body, "\"chain\":{\"ok\":true"));
	CHECK(get(&r, "/api/audit?actor=exporter", a.cookie) == 200);
	/* the start before a byte went out, the rows once written */
	CHECK(strstr(r.body, "\"command\":\"export start\""));
	CHECK(strstr(r.body, "\"command\":\"export\",\"detail\""));
	CHECK(strstr(r.body, "\"rows\":4"));
}

static void test_holds(void)
{
	struct session h, v;
	struct resp r;
	CHECK(login("hold-admin", "correct+horse+1", &h) == 200);
	CHECK(login("viewer", "correct+horse+1", &v) == 200);
	CHECK(get(&r, "/api/calls/c01", v.cookie) == 200);
	CHECK(strstr(r.body, "\"held\":false") != NULL);
	CHECK(req(&r, "POST", "/api/holds",
		      "call=c01&matter=Doe+v.+Acme&"
		      "reason=litigation",
		      v.cookie, v.csrf, NULL) == 403);
	CHECK(req(&r, "POST", "/api/holds",
		      "call=c01&matter=Doe+v.+Acme&"
		      "reason=litigation",
		      h.cookie, NULL, NULL) == 403);
	CHECK(req(&r, "POST", "/api/holds",
		      "call=c01&matter=Doe+v.+Acme&"
		      "reason=litigation",
		      h.cookie, h.csrf, NULL) == 201);
	long long id = 0;
	const char *p = strstr(r.body, "\"id\":");
	CHECK(p && (id = atoll(p + 5)) > 0);
	CHECK(get(&r, "/api/calls/c01", v.cookie) == 200);
	CHECK(strstr(r.body, "\"held\":true") != NULL);
	CHECK(get(&r, "/api/holds", v.cookie) == 200);
	CHECK(strstr(r.body, "\"matter\":\"Doe v. Acme\"") &&
		strstr(r.body, "\"createdBy\":\"hold-admin\"") &&
		strstr(r.body, "\"calls\":[\"c01\"]"));
	char path[64];
	snprintf(path, sizeof(path), "/api/holds/%lld/release", id);
	CHECK(req(&r, "POST", path, "reason=settled", v.cookie, v.csrf, NULL) ==
		403);
	CHECK(req(&r, "POST", path, "", h.cookie, h.csrf, NULL) == 400);
	/* a hold-admin releases only the holds of their matters (issue 23) */
	CHECK(req(&r, "POST", path, "reason=settled", h.cookie, h.csrf, NULL) ==
		403);
	CHECK(strstr(r.body, "Doe v. Acme") != NULL);
	CHECK(cv("user set hold-admin --matter 'Doe v. Acme' >/dev/null") == 0);
	CHECK(req(&r, "POST", path, "reason=settled", h.cookie, h.csrf, NULL) ==
		200);
	CHECK(req(&r, "POST", path, "reason=again", h.cookie, h.csrf, NULL) ==
		400); /* already released */
	CHECK(req(&r, "POST", "/api/holds/999999/release", "reason=x", h.cookie,
		      h.csrf, NULL) == 404);
	CHECK(get(&r, "/api/calls/c01", v.cookie) == 200);
	CHECK(strstr(r.body, "\"held\":false") != NULL);
	CHECK(get(&r, "/api/holds", v.cookie) == 200);
	CHECK(strstr(r.body, "\"holds\":[]") != NULL);
	CHECK(get(&r, "/api/holds?all=1", v.cookie) == 200);
	CHECK(strstr(r.body, "\"releaseReason\":\"settled\"") != NULL);
	/* the audit entry names the hold, its matter and the reason */
	struct session a;
	CHECK(login("admin", "correct+horse+1", &a) == 200);
	CHECK(get(&r, "/api/audit?actor=hold-admin", a.cookie) == 200);
	char want_rel[128];
	snprintf(want_rel, sizeof(want_rel),
		"\"command\":\"hold release\","
		"\"detail\":{\"hold\":%lld,\"matter\":\"Doe v. Acme\","
		"\"reason\":\"settled\"",
		id);
	CHECK_MSG(strstr(r.body, want_rel) != NULL, "%.300s", r.body);
	/* an admin releases any matter's hold */
	CHECK(req(&r, "POST", "/api/holds",
		      "call=c02&matter=Other&"
		      "reason=x",
		      h.cookie, h.csrf, NULL) == 201);
	long long other = atoll(strstr(r.body, "\"id\":") + 5);
	snprintf(path, sizeof(path), "/api/holds/%lld/release", other);
	CHECK(req(&r, "POST", path, "reason=y", h.cookie, h.csrf, NULL) == 403);
	CHECK(req(&r, "POST", path, "reason=y", a.cookie, a.csrf, NULL) == 200);

	/* a hold on every call a search matches */
	CHECK(get(&r, "/api/search?q=refund&limit=100", v.cookie) == 200);
	int matches = 0;
	for (const char *q = r.body; (q = strstr(q, "\"id\":")); q++)
		matches++;
	CHECK(matches >= 2);
	CHECK(req(&r, "POST", "/api/holds?search=1&q=refund",
		      "matter=Roe&reason=audit", v.cookie, v.csrf,
		      NULL) == 403);
	CHECK(req(&r, "POST", "/api/holds?search=1&q=refund%20AND",
		      "matter=Roe&reason=audit", h.cookie, h.csrf,
		      NULL) == 400);
	CHECK(strstr(r.body, "syntax error") != NULL);
	CHECK(req(&r, "POST", "/api/holds?search=1&q=zebra",
		      "matter=Roe&reason=audit", h.cookie, h.csrf,
		      NULL) == 400);
	CHECK(req(&r, "POST", "/api/holds?search=1", "matter=Roe&reason=audit",
		      h.cookie, h.csrf, NULL) == 400);
	/* scope fields in the form (c03 is in L2) do not widen the hold */
	CHECK(req(&r, "POST", "/api/holds?search=1&q=refund",
		      "matter=Roe&reason=audit&location=L2", h.cookie, h.csrf,
		      NULL) == 201);
	char want[64];
	snprintf(want, sizeof(want), "\"calls\":%d", matches);
	CHECK_MSG(strstr(r.body, want) != NULL, "%s, want %s", r.body, want);
	CHECK(get(&r, "/api/calls/c07", v.cookie) == 200);
	CHECK(strstr(r.body, "\"held\":true") != NULL);
	CHECK(get(&r, "/api/calls/c03", v.cookie) == 200);
	CHECK(strstr(r.body, "\"held\":false") != NULL);
}

static void test_unauthenticated(void)
{
	struct resp r;
	CHECK(get(&r, "/api/search?q=refund", NULL) == 401);
	CHECK(get(&r, "/api/search?q=refund",
		      "0000000000000000000000000000000000000000000000000000000"
		      "000000000") == 401);
	CHECK(get(&r, "/api/calls/c01", NULL) == 401);
	CHECK(get(&r, "/api/export", NULL) == 401);
	CHECK(login("viewer", "wrong-password", NULL) == 401);
	CHECK(login("nobody", "correct+horse+1", NULL) == 401);
	CHECK(get(&r, "/", NULL) == 200);
	CHECK(strstr(r.ctype, "text/html") != NULL);
}

static void test_csrf(void)
{
	struct session s;
	struct resp r;
	CHECK(login("viewer", "correct+horse+1", &s) == 200);
	CHECK(req(&r, "POST", "/logout", "", s.cookie, NULL, NULL) == 403);
	CHECK(req(&r, "POST", "/logout", "", s.cookie,
		      "00000000000000000000000000000000000000000000000000000000"
		      "00000000",
		      NULL) == 403);
	CHECK(req(&r, "POST", "/logout", "", s.cookie, s.csrf,
		      "Origin: http://evil.example", NULL) == 403);
	CHECK(get(&r, "/api/me", s.cookie) == 200); /* still logged in */
	char origin[64];
	snprintf(origin, sizeof(origin), "Origin: http://127.0.0.1:%d", port);
	CHECK(req(&r, "POST", "/logout", "", s.cookie, s.csrf, origin, NULL) ==
		200);
	CHECK(r.cleared);
	CHECK(get(&r, "/api/me", s.cookie) == 401);
	/* the form field works as well as the header */
	CHECK(login("viewer", "correct+horse+1", &s) == 200);
	char body[160];
	snprintf(body, sizeof(body), "csrf=%s", s.csrf);
	CHECK(req(&r, "POST", "/logout", body, s.cookie, NULL, NULL) == 200);
	/* a login from another site is refused */
	CHECK(req(&r, "POST", "/login", "user=viewer&password=correct+horse+1",
		      NULL, NULL, "Origin: http://evil.example", NULL) == 403);
	/* Secure cookies behind a TLS proxy */
	CHECK(req(&r, "POST", "/login", "user=viewer&password=correct+horse+1",
		      NULL, NULL, NULL) == 200 &&
		!r.secure);
	CHECK(req(&r, "POST", "/login", "user=viewer&password=correct+horse+1",
		      NULL, NULL, "X-Forwarded-Proto: https", NULL) == 200 &&
		r.secure);
}

static void test_search_errors_and_xss(void)
{
	struct session s;
	struct resp r;
	CHECK(login("viewer", "correct+horse+1", &s) == 200);
	CHECK(get(&r, "/api/search?q=refund%20AND", s.cookie) == 400);
	CHECK(strstr(r.body, "\"error\":\"syntax error\"") &&
		strstr(r.body, "\"position\":11"));
	CHECK(get(&r, "/api/search?q=%22refund", s.cookie) == 400);
	CHECK(get(&r, "/api/search?q=refund&sort=sideways", s.cookie) == 400);
	CHECK(get(&r, "/api/search?number=12", s.cookie) == 400);
	CHECK(get(&r, "/api/search?limit=100000", s.cookie) == 400);
	CHECK(get(&r, "/api/search?agent=A2&limit=1", s.cookie) == 200);
	CHECK(strstr(r.body, "\"more\":true") != NULL);
	CHECK(get(&r, "/api/calls/nope", s.cookie) == 404);
	/* XSS payloads come back JSON-escaped, never as markup */
	CHECK(get(&r, "/api/calls/x1?q=refund", s.cookie) == 200);
	CHECK(strstr(r.ctype, "application/json") != NULL);
	CHECK(!strchr(r.body, '<') && !strchr(r.body, '>'));
	CHECK(strstr(r.body, "\\u003cscript\\u003ealert(1)\\u003c/script"
			     "\\u003e") != NULL);
	CHECK(strstr(r.body, "\\\" onmouseover=\\\"alert(2)") != NULL);
	CHECK(get(&r, "/api/search?q=alert", s.cookie) == 200);
	CHECK(strstr(r.body, "\"x1\"") && !strchr(r.body, '<'));
	/* the page's script puts data in with textContent only */
	CHECK(get(&r, "/console.js", NULL) == 200);
	CHECK(!strstr(r.body, ".innerHTML") && !strstr(r.body, "outerHTML") &&
		!strstr(r.body, "insertAdjacentHTML") &&
		!strstr(r.body, "document.write") && !strstr(r.body, "eval("));
	CHECK(strstr(r.body, "textContent") != NULL);
}

/* GET /api/archives: an archive written here, then verified, then its
 * calls purged; every read audited under the reader's name. */
static void test_archives(void)
{
	struct session v, a;
	struct resp r;
	CHECK(get(&r, "/api/archives", NULL) == 401);
	CHECK(login("viewer", "correct+horse+1", &v) == 200);
	CHECK(get(&r, "/api/archives", v.cookie) == 200);
	CHECK(strcmp(r.body, "[]") == 0);
	/* January holds two calls, both of location L3 */
	CHECK(cv("archive --through 2026-01 --out '%s/arch' >/dev/null", dir) ==
		0);
	CHECK(get(&r, "/api/archives", v.cookie) == 200);
	CHECK(strstr(r.body, "[{\"locationId\":\"L3\",\"month\":\"2026-01\","
			     "\"seq\":") != NULL);
	CHECK(strstr(r.body, "\"calls\":2,\"writtenAt\":\"20") != NULL);
	CHECK(strstr(r.body, "\"verifiedAt\":null,\"purged\":0}]") != NULL);
	CHECK(strstr(r.body, ".tar.zst\",\"sha256\":\"") != NULL);
	CHECK(cv("verify '%s/arch'/*/*.tar.zst >/dev/null", dir) == 0);
	CHECK(get(&r, "/api/archives", v.cookie) == 200);
	CHECK(strstr(r.body, "\"verifiedAt\":\"20") != NULL &&
		!strstr(r.body, "\"verifiedAt\":null"));
	CHECK(strstr(r.body, "\"purged\":0}]") != NULL);
	/* purge takes the verified month of L3 only */
	CHECK(cv("retention set --location L3 --keep-months 0 >/dev/null") ==
		0);
	CHECK(cv("purge >/dev/null") == 0);
	CHECK(get(&r, "/api/calls/c06", v.cookie) == 404);
	CHECK(get(&r, "/api/archives", v.cookie) == 200);
	CHECK(strstr(r.body, "\"purged\":2}]") != NULL);
	/* a search over the purged month says so, naming the archive */
	CHECK(get(&r, "/api/search?from=2026-01-01&to=2026-01-31", v.cookie) ==
		200);
	CHECK(strstr(r.body, "\"purged\":{") != NULL);
	CHECK(strstr(r.body, "\"calls\":2") != NULL);
	CHECK(strstr(r.body, "/L3/2026-01.tar.zst\"") != NULL);
	CHECK(get(&r, "/api/search?from=2026-02-01&location=L3", v.cookie) ==
		200);
	CHECK(strstr(r.body, "\"purged\":null") != NULL);
	CHECK(login("admin", "correct+horse+1", &a) == 200);
	CHECK(get(&r, "/api/audit?actor=viewer", a.cookie) == 200);
	CHECK(strstr(r.body, "\"actor\":\"viewer\",\"command\":"
			     "\"archive list\"") != NULL);
	CHECK(strstr(r.body, "\"resultCount\":1") != NULL);
	/* the page links to it */
	CHECK(get(&r, "/", NULL) == 200);
	CHECK(strstr(r.body, "href=\"#/archives\"") != NULL);
}

static void test_tokens_and_disable(void)
{
	char cmd[1024], tok[100] = "", hdr[160];
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' user token exporter", bin,
		db);
	FILE *p = popen(cmd, "r");
	CHECK(p && fgets(tok, sizeof(tok), p));
	if (p)
		pclose(p);
	tok[strcspn(tok, "\n")] = '\0';
	CHECK(strlen(tok) == 64);
	struct resp r;
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
	CHECK(req(&r, "GET", "/api/export", NULL, NULL, NULL, hdr, NULL) ==
		200);
	CHECK(req(&r, "GET", "/api/audit", NULL, NULL, NULL, hdr, NULL) == 403);
	CHECK(req(&r, "GET", "/api/search", NULL, NULL, NULL,
		      "Authorization: Bearer 1234", NULL) == 401);
	/* the token is stored hashed: its text is not in the store */
	snprintf(cmd, sizeof(cmd), "grep -q %s '%s'", tok, db);
	CHECK(system(cmd) != 0);
	struct session s;
	CHECK(login("exporter", "correct+horse+1", &s) == 200);
	CHECK(cv("user disable exporter >/dev/null") == 0);
	CHECK(get(&r, "/api/search", s.cookie) == 401);
	CHECK(req(&r, "GET", "/api/search", NULL, NULL, NULL, hdr, NULL) ==
		401);
	CHECK(login("exporter", "correct+horse+1", NULL) == 401);
}

/* The server runs with --session-idle-s 2 --session-max-s 4. */
static void test_expiry(void)
{
	struct session s;
	struct resp r;
	CHECK(login("viewer", "correct+horse+1", &s) == 200);
	usleep(2500 * 1000);
	CHECK(get(&r, "/api/me", s.cookie) == 401);
	CHECK(strstr(r.body, "expired") != NULL);
	/* busy, but past the absolute limit */
	CHECK(login("viewer", "correct+horse+1", &s) == 200);
	bool alive = true;
	for (int i = 0; i < 3; i++) {
		usleep(1000 * 1000);
		alive = alive && get(&r, "/api/me", s.cookie) == 200;
	}
	CHECK(alive);
	usleep(1500 * 1000);
	CHECK(get(&r, "/api/me", s.cookie) == 401);
}

/* The server runs with --login-max-failures 5; this runs last because the
 * address limit then holds for everyone on 127.0.0.1 (earlier tests
 * failed a few logins from it already). */
static void test_brute_force(void)
{
	int failed = 0;
	long st;
	while ((st = login("admin", "guess", NULL)) == 401 && failed < 10)
		failed++;
	CHECK_MSG(st == 429 && failed >= 1 && failed <= 5, "%ld after %d", st,
		failed);
	CHECK(login("admin", "correct+horse+1", NULL) == 429);
	CHECK(login("viewer", "correct+horse+1", NULL) == 429);
}

/* Searches from many sessions at once: audit entries are committed in
 * groups (console.c), and still every search has its own entry under its
 * user's name, and the chain holds (checked again at the end). */
struct burst {
	struct session s;
	const char *user;
	int t, ok;
};

static void *burst_run(void *arg)
{
	struct burst *b = arg;
	struct resp *r = malloc(sizeof(*r));
	for (int i = 0; i < 10; i++) {
		char path[128];
		snprintf(path, sizeof(path), "/api/search?q=burst%dx%d", b->t,
			i);
		long st = get(r, path, b->s.cookie);
		/* sessions end 4 s after login here (a slow sanitizer build
		 * gets there): a refused search is not audited, log in and
		 * ask again */
		for (int k = 0; st == 401 && k < 3; k++)
			if (login(b->user, "correct+horse+1", &b->s) == 200)
				st = get(r, path, b->s.cookie);
		b->ok += st == 200;
	}
	free(r);
	return NULL;
}

static void test_audit_groups(void)
{
	struct burst b[8];
	pthread_t th[8];
	for (int t = 0; t < 8; t++) {
		b[t] = (struct burst){ .t = t,
			.user = t % 2 ? "viewer" : "exporter" };
		CHECK(login(b[t].user, "correct+horse+1", &b[t].s) == 200);
	}
	for (int t = 0; t < 8; t++)
		CHECK(pthread_create(&th[t], NULL, burst_run, &b[t]) == 0);
	int ok = 0;
	for (int t = 0; t < 8; t++) {
		pthread_join(th[t], NULL);
		ok += b[t].ok;
	}
	CHECK_INT(ok, 80);
	char cmd[800];
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' audit", bin, db);
	FILE *p = popen(cmd, "r");
	char line[8192];
	int seen[8][10] = { { 0 } }, entries = 0, wrong_actor = 0;
	while (p && fgets(line, sizeof(line), p)) {
		const char *m = line;
		while ((m = strstr(m, "burst"))) {
			int t, i;
			if (sscanf(m, "burst%dx%d", &t, &i) == 2 && t >= 0 &&
				t < 8 && i >= 0 && i < 10) {
				seen[t][i]++;
				entries++;
				if (!strstr(line,
					    t % 2 ? " viewer " : " exporter "))
					wrong_actor++;
			}
			m += 5;
		}
	}
	CHECK(p && pclose(p) == 0);
	int once = 0;
	for (int t = 0; t < 8; t++)
		for (int i = 0; i < 10; i++)
			once += seen[t][i] == 1;
	CHECK_MSG(once == 80 && entries == 80,
		"%d of 80 searches audited "
		"once (%d entries)",
		once, entries);
	CHECK_INT(wrong_actor, 0);
}

struct counted {
	size_t bytes, rows;
	char last;
};

static size_t count_rows(char *p, size_t sz, size_t n, void *arg)
{
	struct counted *c = arg;
	for (size_t i = 0; i < sz * n; i++)
		c->rows += p[i] == '\n';
	if (sz * n > 0)
		c->last = p[sz * n - 1];
	c->bytes += sz * n;
	return sz * n;
}

struct lock_first {
	struct counted c;
	struct store *lock;
};

/* Count, but first take the store's write lock (on the first bytes). */
static size_t lock_then_count(char *p, size_t sz, size_t n, void *arg)
{
	struct lock_first *l = arg;
	if (!l->lock) {
		CHECK(store_open(&l->lock, db, 0, NULL) == CV_OK);
		CHECK(l->lock && store_begin(l->lock, NULL) == CV_OK);
	}
	return count_rows(p, sz, n, &l->c);
}

/* GET an export with write callback fn; the curl result. */
static CURLcode export_get(const struct session *s, const char *query,
	size_t (*fn)(char *, size_t, size_t, void *), void *arg, long *code)
{
	CURL *h = curl_easy_init();
	char url[256], cookie[200];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/export?%s", port,
		query);
	snprintf(cookie, sizeof(cookie), "cv_session=%s", s->cookie);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_COOKIE, cookie);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fn);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, arg);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	*code = 0;
	CURLcode rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
	curl_easy_cleanup(h);
	return rc;
}

/* An export far larger than the pipe it streams through (the server's
 * threads park the connection whenever the pipe runs dry): every row
 * arrives, and the answer ends where the last row does. One that fails
 * before its end (here its closing audit entry cannot be written: the
 * store's write lock is taken once the first bytes arrive, while the
 * rows still fill the pipe and the sockets) must not look complete: the
 * transfer ends in an error, not a short file. */
static void test_export_stream(void)
{
	enum { ROWS = 20000 };
	char path[400];
	snprintf(path, sizeof(path), "%s/bulk.jsonl", dir);
	FILE *f = fopen(path, "w");
	for (int i = 0; i < ROWS; i++)
		fprintf(f,
			"{\"id\": \"bulk-%05d\", \"createdAt\": "
			"\"2026-04-01T10:%02d:%02d.000Z\", \"locationId\": "
			"\"L9\", \"summary\": \"bulkexport row %d of a "
			"long export, padded to make the CSV larger than "
			"a pipe holds\", \"transcript\": \"bot: hello "
			"%d\\nhuman: bulkexport please\"}\n",
			i, (i / 60) % 60, i % 60, i, i);
	fclose(f);
	CHECK(cv("import '%s' >/dev/null 2>&1", path) == 0);
	struct session s;
	CHECK(login("exporter", "correct+horse+1", &s) == 200);
	struct counted c = { 0 };
	long code;
	CHECK(export_get(&s, "q=bulkexport", count_rows, &c, &code) ==
		CURLE_OK);
	CHECK_INT(code, 200);
	CHECK_MSG(c.rows == ROWS + 1, "%zu lines, want %d", c.rows, ROWS + 1);
	CHECK(c.last == '\n');
	CHECK_MSG(c.bytes > 2 * 1024 * 1024, "only %zu bytes", c.bytes);

	struct lock_first l = { { 0 }, NULL };
	CURLcode rc = export_get(&s, "q=bulkexport", lock_then_count, &l,
		&code);
	CHECK_INT(code, 200);
	CHECK_MSG(rc != CURLE_OK,
		"a failed export arrived as complete "
		"(%zu lines)",
		l.c.rows);
	if (l.lock) {
		store_rollback(l.lock);
		store_close(l.lock);
	}
}

int main(int argc, char **argv)
{
	bin = getenv("CALLVAULT");
	if (!bin || argc != 2) {
		fprintf(stderr, "usage: CALLVAULT=bin test_console FIXTURE\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "/tmp/cvconsole.XXXXXX");
	if (!mkdtemp(dir))
		wt_die("mkdtemp");
	snprintf(db, sizeof(db), "%s/db", dir);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	setup(argv[1]);
	struct wt_server srv;
	const char *extra[] = { "--console", "--session-idle-s", "2",
		"--session-max-s", "4", "--login-max-failures", "5", NULL };
	if (!wt_start(&srv, dir, db, NULL, extra))
		wt_die("serve did not start");
	port = srv.port;
	test_unauthenticated();
	test_roles();
	test_audit_groups();
	test_holds();
	test_csrf();
	test_search_errors_and_xss();
	test_export_stream();
	test_archives();
	test_tokens_and_disable();
	test_expiry();
	test_brute_force();
	CHECK(wt_stop(&srv) == 0);
	CHECK(cv("check >/dev/null") == 0);
	CHECK(cv("audit --verify >/dev/null") == 0);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	curl_global_cleanup();
	return t_done();
}
