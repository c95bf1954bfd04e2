/*
 * console.h — the web console for compliance officers and its JSON API,
 * served by `callvault serve` (the HTTP plumbing stays in http_server.c
 * and http_console.c; this module sees a request and fills a response,
 * so it has no HTTP library). Its files share console_int.h, which says
 * which does what.
 *
 * Pages: GET / (the console), /console.js, /console.css. Sessions: POST
 * /login (form: user, password), POST /logout, GET /api/me. API (session
 * cookie cv_session, or Authorization: Bearer TOKEN): GET /api/search,
 * /api/calls/{id}, /api/export (CSV), /api/audit, /api/holds,
 * /api/archives; POST /api/holds, /api/holds/{id}/release. One route
 * table (console_route) names each route's permission (roles.h), checked
 * on every call; every read and export is audited with the user's name
 * and the client's address. A state-changing request with a session needs its CSRF token
 * (X-CSRF-Token header or csrf form field), and any Origin header must
 * name this server.
 */
#ifndef CV_CONSOLE_H
#define CV_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "util.h"

#define CONSOLE_MAX_BODY (64u * 1024)

struct console_config {
	const char *db_path;
	bool tls_proxy;            /* behind a TLS proxy: cookies are Secure */
	const char *public_url;    /* "https://host[:port]": the only Origin a
				    state-changing request may carry; NULL:
				    the request's own Host (open to DNS
				    rebinding) */
	int64_t idle_ms;           /* 0 = 30 min */
	int64_t absolute_ms;       /* 0 = 12 h */
	int max_failures;          /* failed logins per window; 0 = 5 */
	int64_t failure_window_ms; /* 0 = 15 min */
	/* Peers whose X-Forwarded-For names the client (serve
	 * --trusted-proxy), normalised by client_addr_normal. */
	const char *const *trusted_proxies;
	size_t n_trusted;
	const char *os_user; /* the service's OS user, recorded in its
				    audit entries; NULL: none */
	const unsigned char *audit_key; /* keys its audit entries
				    (store_audit_set_key; borrowed); NULL:
				    unkeyed */
};

enum console_value { CONSOLE_HEADER, CONSOLE_ARG, CONSOLE_COOKIE };

/* One request as the server saw it. get() returns a header, a query
 * argument (still %-escaped) or a cookie, NULL when absent. */
struct console_request {
	const char *method;
	const char *path;          /* without the query, still %-escaped */
	const char *client;        /* the peer's address */
	const char *forwarded_for; /* every X-Forwarded-For value, joined
				      with ","; NULL when none */
	const char *body;
	size_t body_len;
	const char *(*get)(void *ctx, enum console_value kind, const char *key);
	void *ctx;
};

struct console_response {
	unsigned status;
	const char *type; /* static string */
	struct buf body;
	char *set_cookie;  /* NULL: none */
	char *disposition; /* Content-Disposition, NULL: none */
	bool html;         /* add the page security headers */
	/* A streamed answer (body unused): the server makes a pipe and calls
	 * stream(stream_arg, write_fd) on a thread of its own, sending what
	 * is written; stream returns false when the answer is incomplete (the
	 * client is then shown an error, not a short file), and the server
	 * closes the fd after it returns. stream(stream_arg, -1) releases
	 * the job without writing when that cannot be set up. */
	bool (*stream)(void *arg, int fd);
	void *stream_arg;
	/* Seconds for a Retry-After header (429, 503); 0: the server's
	 * default. */
	int64_t retry_after;
	/* A file's bytes [file_off, file_off + file_len) as the answer
	 * (body unused): the server sends them from file_fd, which it
	 * takes, never reading the file into memory (a recording). */
	bool has_file;
	int file_fd;
	int64_t file_off, file_len;
	char *content_range; /* Content-Range, NULL: none */
	bool accept_ranges;  /* Accept-Ranges: bytes */
};

struct console;

enum cv_err console_create(struct console **out,
	const struct console_config *cfg, char **errmsg) CV_MUST_CHECK;
void console_destroy(struct console *c);

/* One row of the route table (console_routes.c), as tests see it. */
struct console_route {
	const char *method;
	const char *path;  /* "{id}" stands for one path segment */
	unsigned perm;     /* the permissions it needs (roles.h); 0:
				    any signed-in user */
	bool public_;      /* no session needed (the page, /login) */
	const char *audit; /* the command of the audit entry a
				    successful answer writes; NULL: none */
};
/* Route i of the table; NULL past its end. */
const struct console_route *console_route(size_t i);

/* Whether path belongs to the console (the server routes it here). */
bool console_owns(const char *path);

/* Answer req into res (caller calls console_response_finish, and runs
 * res->stream when set). */
void console_handle(struct console *c, const struct console_request *req,
	struct console_response *res);
void console_response_finish(struct console_response *res);

/* Password checks run since console_create (the login gate's count). */
int64_t console_login_checks(struct console *c);

/* The built-in page, script and style sheet (console_assets.c). */
extern const char console_html[], console_js[], console_css[];

#endif
