/*
 * test_console_identity.c — who the console's audit entries name (issue
 * 23): the user and the real client address; X-Forwarded-For counted
 * only from a `serve --trusted-proxy` peer; login limits per user and per
 * real client address, so five bad passwords from one client behind the
 * proxy lock out that client and that user, not everybody, and
 * Retry-After states the real wait; a malformed --trusted-proxy refused
 * at start. Runs `callvault serve --console` as a child on port 0.
 *
 * usage: test_console_identity   (env CALLVAULT = the binary)
 */
#include <jansson.h>

#include "console_t.h"

/* Log in as user from client (X-Forwarded-For); the status. */
static long login_from(const char *user, const char *pw, const char *xff,
	struct resp *r)
{
	char body[256], hdr[128];
	snprintf(body, sizeof(body), "user=%s&password=%s", user, pw);
	snprintf(hdr, sizeof(hdr), "X-Forwarded-For: %s", xff);
	return req(r, "POST", "/login", body, NULL, NULL, hdr, NULL);
}

/* How many audit entries `audit ARGS --format json` lists. */
static int entries(const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' audit %s --format json", bin,
		db, args);
	FILE *p = popen(cmd, "r");
	json_t *j = p ? json_loadf(p, 0, NULL) : NULL;
	if (p)
		pclose(p);
	int n = json_is_array(j) ? (int)json_array_size(j) : -1;
	json_decref(j);
	return n;
}

/* Behind a trusted proxy (127.0.0.1): the client the proxy names. */
static void behind_proxy(void)
{
	struct resp r;
	/* a client's own header is left of what the proxy appended */
	CHECK(login_from("viewer", "correct+horse+1", "6.6.6.6, 203.0.113.7",
		      &r) == 200);
	char cookie[128], hdr[128];
	snprintf(cookie, sizeof(cookie), "%s", r.cookie);
	snprintf(hdr, sizeof(hdr), "X-Forwarded-For: 203.0.113.7");
	CHECK(req(&r, "GET", "/api/search?q=refund", NULL, cookie, NULL, hdr,
		      NULL) == 200);
	/* without the header, the proxy asked for itself */
	CHECK(get(&r, "/api/search?q=refund", cookie) == 200);
	CHECK_INT(entries("--client 127.0.0.1 --command search"), 1);
	CHECK_INT(entries("--client 203.0.113.7 --actor viewer --command "
			  "login"),
		1);
	CHECK_INT(entries("--client 203.0.113.7 --actor viewer --command "
			  "search"),
		1);
	CHECK_INT(entries("--client 6.6.6.6"), 0);

	/* five bad passwords for admin from one client */
	for (int i = 0; i < 5; i++)
		CHECK(login_from("admin", "guess", "198.51.100.9", &r) == 401);
	CHECK(login_from("admin", "guess", "198.51.100.9", &r) == 429);
	/* the real wait: the oldest failure leaves the 15-minute window */
	CHECK_MSG(r.retry_after > 800 && r.retry_after <= 900,
		"Retry-After %ld", r.retry_after);
	char want[64];
	snprintf(want, sizeof(want), "\"retryAfter\":%ld", r.retry_after);
	CHECK_MSG(strstr(r.body, want) != NULL, "%s, want %s", r.body, want);
	/* everybody else behind the proxy still gets in */
	CHECK(login_from("holder", "correct+horse+1", "198.51.100.10", &r) ==
		200);
	CHECK(login_from("viewer", "correct+horse+1", "203.0.113.7", &r) ==
		200);
	/* that client and that user are held back */
	CHECK(login_from("holder", "correct+horse+1", "198.51.100.9", &r) ==
		429);
	CHECK(login_from("admin", "correct+horse+1", "198.51.100.10", &r) ==
		429);
	CHECK_INT(entries("--client 198.51.100.9 --actor admin --command "
			  "\"login failed\""),
		5);
}

/* The console's audit page: who, from where, as fields, and filtered by
 * each, as `callvault audit` is. An auditor reads it without being
 * able to release holds. */
static void audit_page(void)
{
	struct resp r;
	CHECK(login_from("auditor", "correct+horse+1", "192.0.2.1", &r) == 200);
	char cookie[128], csrf[80];
	snprintf(cookie, sizeof(cookie), "%s", r.cookie);
	const char *c = strstr(r.body, "\"csrf\":\"");
	snprintf(csrf, sizeof(csrf), "%.64s", c ? c + 8 : "");
	CHECK(get(&r, "/api/audit?client=203.0.113.7&command=search", cookie) ==
		200);
	json_t *j = json_loads(r.body, 0, NULL);
	json_t *es = json_object_get(j, "entries");
	CHECK_INT(json_array_size(es), 1);
	json_t *e = json_array_get(es, 0);
	CHECK_STR(json_string_value(json_object_get(e, "client")),
		"203.0.113.7");
	CHECK_STR(json_string_value(json_object_get(e, "actor")), "viewer");
	CHECK(json_string_value(json_object_get(e, "osUser")) != NULL);
	json_decref(j);
	static const struct {
		const char *query;
		int want;
	} rows[] = {
		{ "actor=admin&command=login+failed", 5 },
		{ "client=198.51.100.9&actor=admin", 5 },
		{ "client=192.0.2.99", 0 },
		{ "command=login&from=2000-01-01&to=2100-01-01", 4 },
		{ "command=login&to=2000-01-01", 0 },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(rows); i++) {
		char path[256];
		snprintf(path, sizeof(path), "/api/audit?%s", rows[i].query);
		CHECK(get(&r, path, cookie) == 200);
		j = json_loads(r.body, 0, NULL);
		int n = (int)json_array_size(json_object_get(j, "entries"));
		CHECK_MSG(n == rows[i].want, "%s: %d, want %d", rows[i].query,
			n, rows[i].want);
		json_decref(j);
	}
	CHECK(get(&r, "/api/audit?from=yesterday", cookie) == 400);
	CHECK(strstr(r.body, "from") != NULL);
	CHECK(get(&r, "/api/audit?from=2026-01-01&tz=Mars/Olympus", cookie) ==
		400);
	/* each view is audited, from its client (the proxy's own requests,
	 * without the header) */
	CHECK_INT(entries("--client 127.0.0.1 --actor auditor --command "
			  "\"audit view\""),
		6);
	/* reading the audit log does not come with releasing holds */
	CHECK(req(&r, "POST", "/api/holds/1/release", "reason=x", cookie, csrf,
		      NULL) == 403);
	CHECK(strstr(r.body, "hold-release") != NULL);
}

/* Without --trusted-proxy the header is anybody's word: ignored. */
static void no_proxy(void)
{
	struct resp r;
	CHECK(login_from("holder", "correct+horse+1", "192.0.2.44", &r) == 200);
	CHECK_INT(entries("--client 192.0.2.44"), 0);
	CHECK_INT(entries("--client 127.0.0.1 --actor holder --command "
			  "login"),
		1);
	CHECK(login("viewer", "correct+horse+1", NULL) == 200);
	CHECK_INT(entries("--client 127.0.0.1 --actor viewer --command login"),
		1);
}

/* A --trusted-proxy that is not an address is refused at start. */
static void bad_options(void)
{
	static const char *const bad[] = { "10.0.0", "localhost", "10.0.0.1/8",
		"127.0.0.1:8080", "" };
	for (size_t i = 0; i < CV_ARRAY_LEN(bad); i++) {
		char args[600];
		snprintf(args, sizeof(args),
			"serve --console --listen "
			"127.0.0.1:0 --trusted-proxy '%s' 2>'%s/err'",
			bad[i], dir);
		CHECK_MSG(cv("%s", args) == 2, "--trusted-proxy '%s'", bad[i]);
		char path[400], msg[512] = "";
		snprintf(path, sizeof(path), "%s/err", dir);
		FILE *f = fopen(path, "r");
		if (f) {
			if (!fgets(msg, sizeof(msg), f))
				msg[0] = '\0';
			fclose(f);
		}
		CHECK_MSG(strstr(msg, "--trusted-proxy"), "%s", msg);
	}
}

int main(void)
{
	ct_begin("ident");
	static const char *const users[][2] = { { "viewer", "viewer" },
		{ "holder", "hold-admin" }, { "admin", "admin" } };
	for (size_t i = 0; i < CV_ARRAY_LEN(users); i++)
		CHECK(cv("user add %s --role %s --password-file '%s' "
			 ">/dev/null",
			      users[i][0], users[i][1], pwfile) == 0);
	CHECK(cv("user add auditor --permissions search,audit-read "
		 "--password-file '%s' >/dev/null",
		      pwfile) == 0);
	bad_options();
	struct wt_server srv;
	const char *proxied[] = { "--console", "--trusted-proxy", "::1",
		"--trusted-proxy", "127.0.0.1", "--login-max-failures", "5",
		NULL };
	if (!wt_start(&srv, dir, db, NULL, proxied))
		wt_die("serve did not start");
	port = srv.port;
	behind_proxy();
	audit_page();
	CHECK(wt_stop(&srv) == 0);
	const char *plain[] = { "--console", NULL };
	if (!wt_start(&srv, dir, db, NULL, plain))
		wt_die("serve did not start");
	port = srv.port;
	no_proxy();
	CHECK(wt_stop(&srv) == 0);
	return ct_end();
}
