/*
 * test_console_routes.c — the console's route table (issue 19), walked
 * over real HTTP: every route the table lists refuses a request without
 * a session (401), a session without its CSRF token when it changes
 * state (403), and a session lacking any one of its permissions (403
 * naming it), for users holding every other permission; each preset
 * role gets exactly the routes its set allows; a wrong method is 405;
 * API tokens refused alike; and `user set` changes a set at the user's
 * next request.
 * Runs `callvault serve --console` as a child on port 0.
 *
 * usage: test_console_routes   (env CALLVAULT = the binary)
 */
#include <jansson.h>

#include "console.h"
#include "console_t.h"
#include "roles.h"

static char tokens[PERM_N][80]; /* bearer tokens of the no-PERM users */

/* The user's new API token. */
static void token_of(const char *name, char out[80])
{
	char cmd[800];
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' user token %s", bin, db,
		name);
	FILE *p = popen(cmd, "r");
	out[0] = '\0';
	CHECK(p && fgets(out, 80, p));
	if (p)
		pclose(p);
	out[strcspn(out, "\n")] = '\0';
	CHECK(strlen(out) == 64);
}

/* A user holding exactly perms, logged in. */
static void user_with(const char *name, unsigned perms, struct session *s)
{
	char *list = roles_format(perms);
	CHECK_MSG(cv("user add %s --permissions %s --password-file '%s' "
		     ">/dev/null",
			  name, list, pwfile) == 0,
		"%s", name);
	free(list);
	CHECK_MSG(login(name, "correct+horse+1", s) == 200, "%s", name);
}

/* The route's path with {id} filled in. */
static void path_of(const struct console_route *r, char *out, size_t n)
{
	const char *hole = strstr(r->path, "{id}");
	if (hole)
		snprintf(out, n, "%.*s1%s", (int)(hole - r->path), r->path,
			hole + 4);
	else
		snprintf(out, n, "%s", r->path);
}

static bool posts(const struct console_route *r)
{
	return strcmp(r->method, "GET") != 0;
}

/* The route as s; csrf: send the session's token. */
static long call(const struct console_route *r, const struct session *s,
	bool csrf, struct resp *out)
{
	char path[256];
	path_of(r, path, sizeof(path));
	return req(out, r->method, path, posts(r) ? "x=1" : NULL,
		s ? s->cookie : NULL, s && csrf ? s->csrf : NULL, NULL);
}

static void no_session(const struct console_route *r)
{
	struct resp res;
	long st = call(r, NULL, false, &res);
	if (r->public_)
		CHECK_MSG(st != 401 && st != 403, "%s %s public: %ld",
			r->method, r->path, st);
	else
		CHECK_MSG(st == 401, "%s %s without a session: %ld", r->method,
			r->path, st);
}

static void lacking(const struct console_route *r,
	const struct session lack[PERM_N], const struct session *all)
{
	struct resp res;
	if (r->public_)
		return;
	for (int i = 0; i < PERM_N; i++) {
		if (!(r->perm & (1u << i)))
			continue;
		long st = call(r, &lack[i], true, &res);
		CHECK_MSG(st == 403 && strstr(res.body, perm_names[i]),
			"%s %s without %s: %ld %.200s", r->method, r->path,
			perm_names[i], st, res.body);
		/* the same with the user's API token (no CSRF needed) */
		char path[256], hdr[128];
		path_of(r, path, sizeof(path));
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %.64s",
			tokens[i]);
		st = req(&res, r->method, path, posts(r) ? "x=1" : NULL, NULL,
			NULL, hdr, NULL);
		CHECK_MSG(st == 403 && strstr(res.body, perm_names[i]),
			"%s %s by token without %s: %ld", r->method, r->path,
			perm_names[i], st);
	}
	if (posts(r)) {
		long st = call(r, all, false, &res);
		CHECK_MSG(st == 403 && strstr(res.body, "CSRF"),
			"%s %s without CSRF: %ld", r->method, r->path, st);
	}
}

/* Each preset: allowed (not 401/403) exactly when its set covers the
 * route's. /logout would end the session: it gets a session of its own. */
static void presets(const struct console_route *r)
{
	static const char *const names[] = { "viewer", "exporter", "hold-admin",
		"admin" };
	struct resp res;
	for (size_t i = 0; i < CV_ARRAY_LEN(names); i++) {
		unsigned perms = 0;
		struct session s;
		CHECK(roles_preset(names[i], &perms));
		CHECK(login(names[i], "correct+horse+1", &s) == 200);
		long st = call(r, &s, true, &res);
		bool allowed = (perms & r->perm) == r->perm;
		CHECK_MSG(allowed ? st != 401 && st != 403 : st == 403,
			"%s %s as %s: %ld %.200s", r->method, r->path, names[i],
			st, res.body);
	}
}

static void other_method(const struct console_route *r)
{
	struct resp res;
	char path[256];
	path_of(r, path, sizeof(path));
	CHECK_MSG(req(&res, "DELETE", path, NULL, NULL, NULL, NULL) == 405,
		"DELETE %s: %ld", r->path, res.status);
}

static void walk(void)
{
	struct session lack[PERM_N], all;
	char name[32];
	for (int i = 0; i < PERM_N; i++) {
		snprintf(name, sizeof(name), "no-%s", perm_names[i]);
		user_with(name, PERM_ALL & ~(1u << i), &lack[i]);
		token_of(name, tokens[i]);
	}
	user_with("all", PERM_ALL, &all);
	static const char *const names[] = { "viewer", "exporter", "hold-admin",
		"admin" };
	for (size_t i = 0; i < CV_ARRAY_LEN(names); i++)
		CHECK(cv("user add %s --role %s --password-file '%s' "
			 ">/dev/null",
			      names[i], names[i], pwfile) == 0);
	size_t n = 0;
	unsigned covered = 0;
	for (const struct console_route *r; (r = console_route(n)); n++) {
		no_session(r);
		lacking(r, lack, &all);
		presets(r);
		other_method(r);
		covered |= r->perm;
	}
	/* the table is the API: every permission guards some route */
	CHECK_MSG(n >= 14, "%zu routes", n);
	CHECK_MSG(covered == PERM_ALL, "permissions guarding no route: %x",
		PERM_ALL & ~covered);
	struct resp res;
	CHECK(get(&res, "/api/nope", all.cookie) == 404);
}

/* `user set`: a new set takes effect at the user's next request, the
 * session kept; bad sets and matters refused (exit 2), and user list
 * shows the set and the matters. */
static void user_set(void)
{
	struct session s;
	struct resp r;
	CHECK(login("viewer", "correct+horse+1", &s) == 200);
	CHECK(get(&r, "/api/audit", s.cookie) == 403);
	CHECK(cv("user set viewer --permissions search,audit-read "
		 "--matter 'Doe v. Acme' >/dev/null") == 0);
	CHECK(get(&r, "/api/audit", s.cookie) == 200);
	CHECK(get(&r, "/api/me", s.cookie) == 200);
	CHECK(strstr(r.body, "\"role\":\"custom\",\"permissions\":"
			     "[\"search\",\"audit-read\"]") != NULL);
	CHECK(cv("user set viewer --permissions search,bogus 2>/dev/null") ==
		2);
	CHECK(cv("user set viewer --role god 2>/dev/null") == 2);
	CHECK(cv("user set viewer --role viewer --permissions search "
		 "2>/dev/null") == 2);
	CHECK(cv("user set viewer 2>/dev/null") == 2);
	CHECK(cv("user set viewer --drop-matter Nope 2>/dev/null") == 2);
	CHECK(cv("user set nobody --role viewer 2>/dev/null") == 2);
	char cmd[800], line[512] = "";
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' user list | grep '^viewer '",
		bin, db);
	FILE *p = popen(cmd, "r");
	CHECK(p && fgets(line, sizeof(line), p));
	if (p)
		pclose(p);
	CHECK_MSG(strstr(line, " custom ") &&
			  strstr(line, "search,audit-read") &&
			  strstr(line, "Doe v. Acme"),
		"%s", line);
	CHECK(cv("user set viewer --role viewer --drop-matter 'Doe v. Acme' "
		 ">/dev/null") == 0);
	CHECK(get(&r, "/api/audit", s.cookie) == 403);
}

int main(void)
{
	ct_begin("routes");
	struct wt_server srv;
	const char *extra[] = { "--console", NULL };
	if (!wt_start(&srv, dir, db, NULL, extra))
		wt_die("serve did not start");
	port = srv.port;
	walk();
	user_set();
	CHECK(wt_stop(&srv) == 0);
	return ct_end();
}
