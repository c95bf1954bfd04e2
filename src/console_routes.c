/*
 * console_routes.c — the console's route table (console_int.h). Every
 * route is one row: method, path, the permissions it needs, the command
 * of the audit entry it writes, and its handler. The router checks the
 * session, CSRF and the permission here, for every route, before the
 * handler runs, and refuses to send a successful answer of an audited
 * route that wrote no entry; handlers check no roles. To add a route,
 * add a row (tests/integration/test_console_routes.c walks the table).
 */
#include "console_int.h"

#include "store/store_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Flags of a route. */
#define R_PUBLIC 1u /* no session needed */
#define R_STATIC 2u /* built-in file: no store */
#define R_ADMIT 4u  /* runs under a search slot (console.c) */

struct cx_route {
	struct console_route pub;
	unsigned flags;
	void (*fn)(struct ctx *x, const char *id);
};

static void page(struct ctx *x, const char *unused);
static void script(struct ctx *x, const char *unused);
static void style(struct ctx *x, const char *unused);

#define ROUTE(m, p, perm_, flags_, audit_, fn_)                                \
	{                                                                      \
		.pub = { .method = m,                                          \
			.path = p,                                             \
			.perm = perm_,                                         \
			.public_ = ((flags_)&R_PUBLIC) != 0,                   \
			.audit = audit_ },                                     \
		.flags = flags_, .fn = fn_                                     \
	}

static const struct cx_route routes[] = {
	ROUTE("GET", "/", 0, R_PUBLIC | R_STATIC, NULL, page),
	ROUTE("GET", "/console.js", 0, R_PUBLIC | R_STATIC, NULL, script),
	ROUTE("GET", "/console.css", 0, R_PUBLIC | R_STATIC, NULL, style),
	ROUTE("POST", "/login", 0, R_PUBLIC, "login", cx_do_login),
	ROUTE("POST", "/logout", 0, 0, "logout", cx_do_logout),
	ROUTE("GET", "/api/me", 0, 0, NULL, cx_api_me),
	ROUTE("GET", "/api/search", PERM_SEARCH, R_ADMIT, "search",
		cx_api_search),
	ROUTE("GET", "/api/calls/{id}", PERM_SEARCH, R_ADMIT, "show",
		cx_api_call),
	ROUTE("GET", "/api/export", PERM_EXPORT, 0, "export start",
		cx_api_export),
	ROUTE("GET", "/api/audit", PERM_AUDIT_READ, 0, "audit view",
		cx_api_audit),
	ROUTE("GET", "/api/holds", PERM_SEARCH, 0, "hold list", cx_api_holds),
	/* (a hold from a search runs a search of up to 10,000 calls) */
	ROUTE("POST", "/api/holds", PERM_HOLD_PLACE, R_ADMIT, "hold add",
		cx_api_hold_add),
	ROUTE("POST", "/api/holds/{id}/release", PERM_HOLD_RELEASE, 0,
		"hold release", cx_api_hold_release),
	ROUTE("GET", "/api/archives", PERM_SEARCH, 0, "archive list",
		cx_api_archives),
	ROUTE("GET", "/api/users", PERM_USER_ADMIN, 0, "user list",
		cx_api_users),
	/* every answer with bytes of a recording: a play from byte 0, a
	 * seek from later ("recording seek") */
	ROUTE("GET", "/api/recording", PERM_SEARCH, 0, "recording play",
		cx_api_recording),
};

const struct console_route *console_route(size_t i)
{
	return i < CV_ARRAY_LEN(routes) ? &routes[i].pub : NULL;
}

bool console_owns(const char *path)
{
	if (strncmp(path, "/api/", 5) == 0)
		return true; /* unknown ones get the API's 404 */
	for (size_t i = 0; i < CV_ARRAY_LEN(routes); i++)
		if (strcmp(path, routes[i].pub.path) == 0)
			return true;
	return false;
}

static void static_file(struct ctx *x, const char *type, const char *body)
{
	x->res->status = 200;
	x->res->type = type;
	x->res->html = true;
	buf_puts(&x->res->body, body);
}

static void page(struct ctx *x, const char *unused)
{
	static_file(x, "text/html; charset=utf-8", console_html);
}

static void script(struct ctx *x, const char *unused)
{
	static_file(x, "text/javascript; charset=utf-8", console_js);
}

static void style(struct ctx *x, const char *unused)
{
	static_file(x, "text/css; charset=utf-8", console_css);
}

/* Whether path matches pattern, where "{id}" matches one non-empty
 * segment, returned in *id / *id_len. */
static bool path_match(const char *pattern, const char *path, const char **id,
	size_t *id_len)
{
	const char *hole = strstr(pattern, "{id}");
	if (!hole)
		return strcmp(pattern, path) == 0;
	size_t pre = (size_t)(hole - pattern);
	if (strncmp(pattern, path, pre) != 0)
		return false;
	size_t n = strcspn(path + pre, "/");
	if (n == 0 || strcmp(hole + 4, path + pre + n) != 0)
		return false;
	*id = path + pre;
	*id_len = n;
	return true;
}

/* The route for the request; NULL with *status 404 (no such path) or
 * 405 (not with this method). */
static const struct cx_route *find(struct ctx *x, char **id, unsigned *status)
{
	*status = 404;
	for (size_t i = 0; i < CV_ARRAY_LEN(routes); i++) {
		const char *p = NULL;
		size_t n = 0;
		if (!path_match(routes[i].pub.path, x->req->path, &p, &n))
			continue;
		if (strcmp(routes[i].pub.method, x->req->method) != 0) {
			*status = 405;
			continue;
		}
		*id = p ? xstrndup(p, n) : NULL;
		return &routes[i];
	}
	return NULL;
}

/* Whether the user holds every permission the route needs; a 403
 * naming the missing one when not. */
static bool permitted(struct ctx *x, const struct cx_route *r)
{
	unsigned missing = r->pub.perm & ~x->perms;
	if (!missing)
		return true;
	int i = 0;
	while (!(missing & (1u << i)))
		i++;
	char *msg = xasprintf("you may not do this: it needs the %s "
			      "permission",
		perm_names[i]);
	cx_reply_error(x, 403, msg);
	free(msg);
	return false;
}

/* Run the route's handler (store, session, CSRF and permission first). */
static void run(struct ctx *x, const struct cx_route *r, const char *id)
{
	char *err = NULL;
	if (!(r->flags & R_STATIC) && !(x->s = cx_store_take(x->c, &err))) {
		cv_warn("msg=\"console: store unavailable\" err=\"%s\"",
			err ? err : "");
		free(err);
		cx_reply_error(x, 503, "the store is unavailable");
		return;
	}
	if (x->s) /* every entry of this request names its client */
		(void)store_audit_set_client(x->s, x->client);
	if (!(r->flags & R_PUBLIC)) {
		if (!cx_authenticate(x))
			return;
		if (strcmp(r->pub.method, "GET") != 0 && !cx_csrf_ok(x))
			return;
		if (!permitted(x, r))
			return;
	}
	if (r->flags & R_ADMIT)
		cx_admitted(x, r->fn, id);
	else
		r->fn(x, id);
}

void cx_audit_check(struct ctx *x, const char *audit)
{
	if (!audit || x->res->status >= 400 || x->audited)
		return;
	/* a bug, not a state: nothing is shown unaudited */
	cv_warn("msg=\"console: answer not audited\" command=\"%s\"", audit);
	if (x->res->stream)
		x->res->stream(x->res->stream_arg, -1);
	x->res->stream = NULL;
	if (x->res->has_file) {
		close(x->res->file_fd);
		x->res->has_file = false;
	}
	cx_reply_error(x, 500, "the answer was not audited");
}

void cx_route(struct ctx *x)
{
	char *id = NULL;
	unsigned status;
	const struct cx_route *r = find(x, &id, &status);
	if (!r) {
		cx_reply_error(x, status,
			status == 405 ? "method not allowed" : "not found");
		return;
	}
	run(x, r, id);
	cx_audit_check(x, r->pub.audit);
	free(id);
}
