/* console_auth.c — who is asking (console_int.h): bearer tokens and
 * session cookies, what the user may do, CSRF and Origin checks. */
#include "console_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_addr.h"
#include "store/store_users.h"

/* The user's role label (taken) and permissions: a set that does not
 * parse (a newer version's permission) grants nothing, not part. */
static void set_role(struct ctx *x, char *role, const char *perms)
{
	char *err = NULL;
	x->role = role;
	if (!perms || !roles_parse(perms, &x->perms, &err))
		x->perms = 0;
	free(err);
}

/* The value of cookie cv_session, hashed into x->sid_hash. */
static bool session_cookie(struct ctx *x)
{
	const char *v = x->req->get(x->req->ctx, CONSOLE_COOKIE, "cv_session");
	if (!v || strlen(v) != 64)
		return false;
	cv_sha256_hex(v, 64, x->sid_hash);
	return true;
}

static bool secure(struct ctx *x)
{
	const char *p = cx_header(x, "X-Forwarded-Proto");
	return x->c->cfg.tls_proxy || (p && strcasecmp(p, "https") == 0);
}

void cx_set_cookie(struct ctx *x, const char *value)
{
	free(x->res->set_cookie);
	x->res->set_cookie = xasprintf("cv_session=%s; Path=/; HttpOnly; "
				       "SameSite=Strict%s%s",
		value, *value ? "" : "; Max-Age=0",
		secure(x) ? "; Secure" : "");
}

/* Authenticate by bearer token or session cookie; false after a 401. */
bool cx_authenticate(struct ctx *x)
{
	char *err = NULL;
	const char *authz = cx_header(x, "Authorization");
	if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
		char th[CV_SHA256_HEX];
		struct store_user u;
		cv_sha256_hex(authz + 7, strlen(authz + 7), th);
		if (store_token_user(x->s, th, &u, &err) != CV_OK) {
			free(err);
			cx_reply_error(x, 401, "invalid API token");
			return false;
		}
		x->user = u.name;
		set_role(x, u.role, u.permissions);
		u.name = u.role = NULL;
		store_user_finish(&u);
		return true;
	}
	struct store_session ss;
	if (!session_cookie(x) ||
		store_session_get(x->s, x->sid_hash, &ss, &err) != CV_OK) {
		free(err);
		cx_reply_error(x, 401, "not logged in");
		return false;
	}
	int64_t now = cv_now_ms();
	const struct console_config *cfg = &x->c->cfg;
	if (now - ss.last_seen > cfg->idle_ms ||
		now - ss.created_at > cfg->absolute_ms) {
		if (store_session_delete(x->s, x->sid_hash, &err) != CV_OK)
			free(err);
		store_session_finish(&ss);
		cx_set_cookie(x, "");
		cx_reply_error(x, 401, "session expired; log in again");
		return false;
	}
	/* touch at most every few seconds: reads stay reads */
	int64_t every = cfg->idle_ms / 4 < 5000 ? cfg->idle_ms / 4 : 5000;
	if (now - ss.last_seen > every &&
		store_session_touch(x->s, x->sid_hash, now, &err) != CV_OK) {
		cv_warn("msg=\"console: session touch failed\" err=\"%s\"",
			err ? err : "");
		free(err);
	}
	x->user = ss.user;
	set_role(x, ss.role, ss.permissions);
	x->csrf = ss.csrf;
	ss.user = ss.csrf = ss.role = NULL;
	store_session_finish(&ss);
	return true;
}

/* An Origin header, when sent, must be this server: the configured
 * public URL, else (a weaker check: a rebound DNS name sends a Host of
 * its own) the request's Host. */
bool cx_origin_ok(struct ctx *x)
{
	const char *o = cx_header(x, "Origin"), *host = cx_header(x, "Host");
	const char *pub = x->c->cfg.public_url;
	if (!o)
		return true;
	if (pub) {
		size_t n = strlen(pub);
		while (n > 0 && pub[n - 1] == '/')
			n--;
		if (strlen(o) == n && strncmp(o, pub, n) == 0)
			return true;
	} else if (host) {
		char *a = xasprintf("http://%s", host);
		char *b = xasprintf("https://%s", host);
		bool ok = strcmp(o, a) == 0 || strcmp(o, b) == 0;
		free(a);
		free(b);
		if (ok)
			return true;
	}
	cx_reply_error(x, 403, "cross-origin request refused");
	return false;
}

/* A state-changing request: Origin, and the CSRF token for sessions. */
bool cx_csrf_ok(struct ctx *x)
{
	if (!cx_origin_ok(x))
		return false;
	if (!x->csrf)
		return true; /* bearer token: no ambient credential */
	const char *t = cx_header(x, "X-CSRF-Token");
	if (!t)
		t = cx_form(x, "csrf");
	if (t && strlen(t) == strlen(x->csrf) &&
		cv_memeq_ct(t, x->csrf, strlen(t)))
		return true;
	cx_reply_error(x, 403, "missing or wrong CSRF token");
	return false;
}


void cx_find_client(struct ctx *x)
{
	const struct console_config *cfg = &x->c->cfg;
	char addr[CLIENT_ADDR_MAX];
	client_addr_resolve(x->req->client ? x->req->client : "?",
		cfg->trusted_proxies, cfg->n_trusted, x->req->forwarded_for,
		addr);
	snprintf(x->client_buf, sizeof(x->client_buf), "%s", addr);
	x->client = x->client_buf;
}
