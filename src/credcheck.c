/* credcheck.c — see credcheck.h */
#include "credcheck.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hljson.h"
#include "util.h"

#define ATTEMPTS 3
#define MAX_WAIT_MS 10000
#define WINDOW_MS 60000 /* the call-log probe's window: the last minute */

/* One probe request and its outcome. */
struct probe {
	struct credcheck_item *item;
	bool pending; /* to send (again) */
	bool in_flight;
	bool refreshed; /* OAuth: refreshed once after a 401 */
	long status;
	enum cv_err err;
	bool transient;
	char *msg;       /* error message of the answer */
	int64_t wait_ms; /* the server's Retry-After, else -1 */
};

void credcheck_init(struct credcheck *c)
{
	static const struct {
		const char *what, *scope;
	} items[CC__N] = {
		[CC_CALLS] = { "call logs", CC_SCOPE_CALLS },
		[CC_AGENTS] = { "agents", CC_SCOPE_AGENTS },
		[CC_RECORDINGS] = { "recordings", CC_SCOPE_RECORDINGS },
	};
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < CC__N; i++) {
		c->item[i].what = items[i].what;
		c->item[i].scope = items[i].scope;
	}
}

void credcheck_finish(struct credcheck *c)
{
	if (!c)
		return;
	for (int i = 0; i < CC__N; i++)
		free(c->item[i].detail);
	free(c->token_location);
	credcheck_init(c);
}

static void set_state(struct credcheck_item *it, enum credcheck_state st,
	char *detail)
{
	it->state = st;
	free(it->detail);
	it->detail = detail;
}

static char *probe_url(const struct store_location *loc, int which)
{
	struct buf u;
	buf_init(&u);
	buf_puts(&u, loc->api_base);
	if (which == CC_CALLS) {
		/* every parameter as the spec types it; no sortBy: the
		 * default order is fine for one record */
		int64_t now = cv_now_ms();
		buf_puts(&u, "/voice-ai/dashboard/call-logs");
		hl_query_add(&u, "locationId", loc->id);
		hl_query_add_int(&u, "startDate", now - WINDOW_MS);
		hl_query_add_int(&u, "endDate", now);
		hl_query_add_int(&u, "page", 1);
		hl_query_add_int(&u, "pageSize", 1);
	} else {
		buf_puts(&u, "/voice-ai/agents");
		hl_query_add(&u, "locationId", loc->id);
		hl_query_add_int(&u, "page", 1);
		hl_query_add_int(&u, "pageSize", 1);
	}
	return buf_steal(&u);
}

static void on_done(struct hl_response *r, void *arg)
{
	struct probe *p = arg;
	p->in_flight = false;
	p->status = r->status;
	p->err = r->err;
	p->transient = r->transient;
	free(p->msg);
	p->msg = r->err != CV_OK
			 ? xstrdup(r->errmsg ? r->errmsg : "request failed")
		 : r->status != 200
			 ? hljson_error_message(r->body.data, r->body.len)
			 : NULL;
	p->wait_ms = r->rl.retry_after_ms;
}

static char *http_detail(const struct probe *p)
{
	if (p->err != CV_OK)
		return xstrdup(p->msg);
	return xasprintf("HTTP %ld%s%s", p->status, p->msg ? ": " : "",
		p->msg ? p->msg : "");
}

/* Decide what p's answer says; true when it is worth asking again. */
static bool classify(struct probe *p, struct auth *a, bool oauth,
	const char *token)
{
	struct credcheck_item *it = p->item;
	const char *m = p->msg ? p->msg : "";
	p->pending = false;
	if (p->err == CV_OK && p->status == 200) {
		set_state(it, CC_OK, NULL);
		return false;
	}
	if (p->err != CV_OK || p->status == 429 || p->status >= 500) {
		set_state(it, CC_UNKNOWN, http_detail(p));
		p->pending = p->err == CV_OK || p->transient;
		return p->pending;
	}
	if (p->status == 403 ||
		(p->status == 401 &&
			strcasestr(m, "not authorized for this scope"))) {
		set_state(it, CC_MISSING_SCOPE, http_detail(p));
		return false;
	}
	set_state(it, CC_REFUSED, http_detail(p));
	/* an OAuth access token refused as invalid: refresh once */
	if (p->status == 401 && oauth && strcasestr(m, "invalid token") &&
		!p->refreshed) {
		char *err = NULL;
		p->refreshed = true;
		if (auth_refused(a, token, &err) != CV_OK) {
			set_state(it, CC_REFUSED, err);
			return false;
		}
		p->pending = true;
	}
	return p->pending;
}

/* OAuth: what the token reply said about the location and scopes. */
static void read_grant(const struct store_location *loc, struct auth *a,
	struct credcheck *c, struct probe *probes)
{
	const char *gl, *gs;
	auth_granted(a, &gl, &gs);
	if (gl && strcmp(gl, loc->id) != 0) {
		c->token_location = xstrdup(gl);
		for (int i = 0; i < CC_RECORDINGS; i++)
			probes[i].pending = false;
		return;
	}
	if (!gs)
		return;
	c->scope_listed = true;
	for (int i = 0; i < CC__N; i++) {
		struct credcheck_item *it = &c->item[i];
		if (!hljson_scope_has(gs, it->scope)) {
			set_state(it, CC_MISSING_SCOPE,
				xstrdup("not in the "
					"token's scope list"));
			if (i < CC_RECORDINGS)
				probes[i].pending = false;
		} else if (i == CC_RECORDINGS) {
			set_state(it, CC_GRANTED, NULL);
		}
	}
}

/* Send every pending probe and wait for their answers. */
static enum cv_err send_round(const struct store_location *loc,
	struct hl_client *http, const char *token, struct probe *probes,
	struct credcheck *c, char **errmsg)
{
	for (int i = 0; i < CC_RECORDINGS; i++) {
		if (!probes[i].pending)
			continue;
		char *url = probe_url(loc, i);
		enum cv_err rc = hl_get(http, url, token, loc->api_version,
			on_done, &probes[i], errmsg);
		free(url);
		if (rc != CV_OK)
			return rc;
		probes[i].in_flight = true;
		c->requests++;
	}
	while (hl_client_poll(http, 100) > 0)
		;
	return CV_OK;
}

enum cv_err credcheck_run(const struct store_location *loc, struct auth *a,
	const struct hl_client_opts *http_opts, struct credcheck *c,
	char **errmsg)
{
	struct probe probes[CC_RECORDINGS];
	memset(probes, 0, sizeof(probes));
	for (int i = 0; i < CC_RECORDINGS; i++) {
		probes[i].item = &c->item[i];
		probes[i].pending = true;
	}
	c->oauth = loc->auth == STORE_AUTH_OAUTH;
	const char *token;
	enum cv_err rc = auth_token(a, &token, errmsg);
	if (rc != CV_OK)
		return rc;
	if (c->oauth)
		read_grant(loc, a, c, probes);
	struct hl_client *http = NULL;
	rc = hl_client_create(&http, http_opts, errmsg);
	for (int n = 0; rc == CV_OK && n < ATTEMPTS; n++) {
		/* a copy: auth_refused() below may replace a's token */
		char *sent = NULL;
		rc = auth_token(a, &token, errmsg);
		if (rc == CV_OK) {
			sent = xstrdup(token);
			rc = send_round(loc, http, sent, probes, c, errmsg);
		}
		bool again = false;
		int64_t wait = 0;
		for (int i = 0; rc == CV_OK && i < CC_RECORDINGS; i++) {
			struct probe *p = &probes[i];
			if (p->status == 0 && p->err == CV_OK)
				continue; /* not sent this round */
			bool more = classify(p, a, c->oauth, sent);
			again |= more;
			if (more && p->status != 401) {
				int64_t w = p->wait_ms >= 0 ? p->wait_ms : 1000;
				wait = w > wait ? w : wait;
			}
			p->status = 0;
			p->err = CV_OK;
		}
		if (sent)
			memset(sent, 0, strlen(sent));
		free(sent);
		if (!again || n + 1 == ATTEMPTS)
			break;
		usleep((useconds_t)(wait > MAX_WAIT_MS ? MAX_WAIT_MS : wait) *
			1000);
	}
	for (int i = 0; i < CC_RECORDINGS; i++)
		free(probes[i].msg);
	hl_client_destroy(http);
	return rc;
}

char *credcheck_summary(const struct credcheck *c)
{
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < CC__N; i++) {
		const struct credcheck_item *it = &c->item[i];
		buf_printf(&b, "%s%s: ", i ? "; " : "", it->what);
		switch (it->state) {
		case CC_OK: buf_puts(&b, "ok"); break;
		case CC_GRANTED:
			buf_puts(&b, "scope granted, not checked");
			break;
		case CC_MISSING_SCOPE:
			buf_printf(&b, "missing scope %s", it->scope);
			break;
		case CC_REFUSED:
			buf_printf(&b, "refused (%s)", it->detail);
			break;
		case CC_UNKNOWN:
			buf_printf(&b, "not checked (%s)", it->detail);
			break;
		case CC_NOT_CHECKED: buf_puts(&b, "not checked"); break;
		}
	}
	return buf_steal(&b);
}

enum cv_err credcheck_verdict(const struct credcheck *c, const char *loc,
	char **why)
{
	const struct credcheck_item *it = &c->item[CC_CALLS];
	*why = NULL;
	if (c->token_location) {
		*why = xasprintf("the OAuth token is for location %s, not %s",
			c->token_location, loc);
		return CV_EAUTH;
	}
	switch (it->state) {
	case CC_OK: return CV_OK;
	case CC_MISSING_SCOPE:
		/* a sub-account token of another location, or an agency
		 * token, gets the same answer */
		*why = xasprintf("the token cannot read call logs: missing "
				 "scope %s%s",
			it->scope,
			c->scope_listed
				? ""
				: " (or it is not a token of this location)");
		return CV_EAUTH;
	case CC_UNKNOWN:
		*why = xasprintf("could not check the credentials: %s",
			it->detail ? it->detail : "no answer");
		return CV_EHTTP;
	default:
		*why = xasprintf("the token cannot read call logs: %s",
			it->detail ? it->detail : "refused");
		return CV_EAUTH;
	}
}
