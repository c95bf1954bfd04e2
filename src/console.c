/* console.c — see console.h and console_int.h. jansson builds the API's
 * JSON here and in console_login.c and console_query.c. */
#include "console_int.h"

#include <jansson.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "calllog.h"
#include "hash.h"
#include "login_gate.h"
#include "search.h"
#include "store/store_audit.h"
#include "store/store_holds.h"
#include "store/store_retention.h"
#include "store/store_search.h"
#include "store/store_users.h"
#include "store/store_webhook.h"

/* ---- plumbing ---------------------------------------------------- */

const char *const cx_role_names[4] = { "viewer", "exporter",
	"hold-admin", "admin" };

enum cv_err console_create(struct console **out,
	const struct console_config *cfg, char **errmsg)
{
	struct console *c = xcalloc(1, sizeof(*c));
	c->cfg = *cfg;
	if (!c->cfg.idle_ms)
		c->cfg.idle_ms = 30 * 60 * 1000;
	if (!c->cfg.absolute_ms)
		c->cfg.absolute_ms = 12 * 3600 * 1000;
	if (!c->cfg.max_failures)
		c->cfg.max_failures = 5;
	if (!c->cfg.failure_window_ms)
		c->cfg.failure_window_ms = 15 * 60 * 1000;
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->audit_mu, NULL);
	pthread_cond_init(&c->audit_cv, NULL);
	c->audit_tail = &c->audit_head;
	for (int i = 0; i < ADMIT_CVS; i++)
		pthread_cond_init(&c->admit_cv[i], NULL);
	/* the CPUs this process may run on (its affinity, which a
	 * container's cpuset limits), not the machine's */
	cpu_set_t set;
	long cpus = sched_getaffinity(0, sizeof(set), &set) == 0
		? CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);
	c->slots = cpus < 1 ? 1 : cpus > 64 ? 64 : (int)cpus;
	/* half the cores at most check passwords; the rest answer webhooks
	 * whatever the logins do */
	c->gate = login_gate_create(c->cfg.max_failures,
		c->slots / 2 < 1 ? 1 : c->slots / 2, LOGIN_QUEUE);
	/* fail early when the store cannot be opened */
	struct store *s = NULL;
	enum cv_err rc = store_open(&s, cfg->db_path, STORE_NOCREATE, errmsg);
	if (rc != CV_OK) {
		console_destroy(c);
		return rc;
	}
	c->pool[c->n_pool++] = s;
	*out = c;
	return CV_OK;
}

void console_destroy(struct console *c)
{
	if (!c)
		return;
	/* the server has closed its connections: a stream still writing
	 * fails on its pipe at its next write and ends. It uses the console
	 * (its store goes back to the pool), so wait for it however long
	 * its query runs between writes. */
	for (int i = 0;; i++) {
		pthread_mutex_lock(&c->mu);
		int n = c->streams;
		pthread_mutex_unlock(&c->mu);
		if (n == 0)
			break;
		if (i == 3000)
			cv_warn("msg=\"console: waiting for %d export(s) to "
				"end\"", n);
		usleep(10 * 1000);
	}
	for (size_t i = 0; i < c->n_pool; i++)
		store_close(c->pool[i]);
	login_gate_destroy(c->gate);
	pthread_mutex_destroy(&c->mu);
	pthread_mutex_destroy(&c->audit_mu);
	pthread_cond_destroy(&c->audit_cv);
	for (int i = 0; i < ADMIT_CVS; i++)
		pthread_cond_destroy(&c->admit_cv[i]);
	free(c);
}

static struct store *store_take(struct console *c, char **errmsg)
{
	struct store *s = NULL;
	pthread_mutex_lock(&c->mu);
	if (c->n_pool)
		s = c->pool[--c->n_pool];
	pthread_mutex_unlock(&c->mu);
	if (!s && store_open(&s, c->cfg.db_path, STORE_NOCREATE, errmsg) !=
			  CV_OK)
		return NULL;
	return s;
}

void cx_store_give(struct console *c, struct store *s)
{
	pthread_mutex_lock(&c->mu);
	if (c->n_pool < POOL_MAX) {
		c->pool[c->n_pool++] = s;
		s = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	store_close(s);
}

int64_t console_login_checks(struct console *c)
{
	return login_gate_checks(c->gate);
}

void console_response_finish(struct console_response *res)
{
	buf_finish(&res->body);
	free(res->set_cookie);
	free(res->disposition);
}

static bool starts(const char *s, const char *pre)
{
	return strncmp(s, pre, strlen(pre)) == 0;
}

bool console_owns(const char *path)
{
	return strcmp(path, "/") == 0 || strcmp(path, "/console.js") == 0 ||
	       strcmp(path, "/console.css") == 0 ||
	       strcmp(path, "/login") == 0 || strcmp(path, "/logout") == 0 ||
	       starts(path, "/api/");
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decode n bytes of %-escaped (and + for space) text into a new string
 * of *len bytes, which may hold NUL bytes (a NUL follows them); NULL when
 * a % is not followed by two hex digits. */
static char *pct_decode_raw(const char *in, size_t n, size_t *len)
{
	char *out = xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (in[i] == '+') {
			out[k++] = ' ';
		} else if (in[i] != '%') {
			out[k++] = in[i];
		} else if (i + 2 < n &&
			   (hi = hexval(in[i + 1])) >= 0 &&
			   (lo = hexval(in[i + 2])) >= 0) {
			out[k++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	out[k] = '\0';
	*len = k;
	return out;
}

/* The same, NULL also when the result holds a NUL byte or is not UTF-8. */
static char *pct_decode(const char *in, size_t n)
{
	size_t k;
	char *out = pct_decode_raw(in, n, &k);
	if (out && (memchr(out, '\0', k) || !cv_utf8_valid(out, k))) {
		free(out);
		return NULL;
	}
	return out;
}

const char *cx_own(struct ctx *x, char *s)
{
	if (!s)
		return NULL;
	if (x->n_owned == MAX_OWNED) {
		free(s);
		return NULL;
	}
	x->owned[x->n_owned++] = s;
	return s;
}

/* A query argument, decoded (NULL when absent or empty). */
const char *cx_arg(struct ctx *x, const char *key)
{
	const char *v = x->req->get(x->req->ctx, CONSOLE_ARG, key);
	if (!v || !*v)
		return NULL;
	return cx_own(x, pct_decode(v, strlen(v)));
}

/* A field of the urlencoded request body, still escaped: its *len
 * bytes (NULL when absent). */
const char *cx_form_raw(struct ctx *x, const char *key, size_t *len)
{
	const char *p = x->req->body ? x->req->body : "";
	const char *end = p + x->req->body_len;
	size_t klen = strlen(key);
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - p) > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == '=') {
			*len = (size_t)(stop - p) - klen - 1;
			return p + klen + 1;
		}
		p = stop + 1;
	}
	return NULL;
}

/* A field of the urlencoded request body, decoded (NULL when absent,
 * empty or not decodable). */
const char *cx_form(struct ctx *x, const char *key)
{
	size_t n = 0;
	const char *v = cx_form_raw(x, key, &n);
	return v && n ? cx_own(x, pct_decode(v, n)) : NULL;
}

/*
 * A filter's value from the query string (or the form body), %-decoded
 * but not yet checked: search_filters_parse refuses an empty value, a
 * NUL byte or bytes that are not UTF-8, naming the filter. false after
 * a 400 when it does not %-decode at all.
 */
bool cx_filter_value(struct ctx *x, bool in_form, const char *key,
	struct search_filter_arg *a)
{
	size_t n = 0;
	const char *raw = in_form ? cx_form_raw(x, key, &n)
				  : x->req->get(x->req->ctx, CONSOLE_ARG, key);
	a->p = NULL;
	a->len = 0;
	if (!raw)
		return true;
	if (!in_form)
		n = strlen(raw);
	char *d = pct_decode_raw(raw, n, &a->len);
	if (!d || !cx_own(x, d)) {
		char *msg = xasprintf("%s has a bad %%-escape", key);
		cx_reply_error(x, 400, msg);
		free(msg);
		return false;
	}
	a->p = d;
	return true;
}

static const char *header(struct ctx *x, const char *key)
{
	return x->req->get(x->req->ctx, CONSOLE_HEADER, key);
}

/* Dump JSON with <, > and & escaped, so no reader can take it for HTML. */
void cx_reply_json(struct ctx *x, unsigned status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	struct console_response *r = x->res;
	r->status = status;
	r->type = "application/json";
	buf_reset(&r->body);
	for (const char *p = s ? s : "null"; *p; p++) {
		if (*p == '<' || *p == '>' || *p == '&')
			buf_printf(&r->body, "\\u%04x", (unsigned)*p);
		else
			buf_putc(&r->body, *p);
	}
	free(s);
}

void cx_reply_error(struct ctx *x, unsigned status, const char *msg)
{
	cx_reply_json(x, status, json_pack("{s:s}", "error", msg));
}

json_t *cx_jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *cx_jtime(int64_t ms)
{
	char ts[32];
	if (!ms)
		return json_null();
	cv_format_iso8601(ms, ts);
	return json_string(ts);
}

static void admit_leave(struct ctx *x);

/* One audit entry waiting for its group's commit. */
struct audit_job {
	const char *actor, *command, *detail;
	int64_t count;
	bool done;
	enum cv_err rc;
	char *err;                /* the group's error, the job's copy */
	struct audit_job *next;
};

/* Commit a group of entries on s, in their order, all or none. (A
 * caller inside its own transaction does not come here: see cx_audit().) */
static void audit_group(struct store *s, struct audit_job *group)
{
	char *err = NULL;
	enum cv_err rc = store_begin(s, &err);
	for (struct audit_job *j = group; j && rc == CV_OK; j = j->next)
		rc = store_audit_append(s, j->actor, j->command, j->detail,
			j->count, &err);
	if (rc == CV_OK)
		rc = store_commit(s, &err);
	if (rc != CV_OK)
		store_rollback(s);
	for (struct audit_job *j = group; j; j = j->next) {
		j->rc = rc;
		j->err = rc != CV_OK && err ? xstrdup(err) : NULL;
	}
	free(err);
}

/* Add j to the next group and wait until a group holding it commits;
 * the first to find no group committing commits the waiting ones. */
static void audit_wait(struct console *c, struct store *s,
	struct audit_job *j)
{
	pthread_mutex_lock(&c->audit_mu);
	*c->audit_tail = j;
	c->audit_tail = &j->next;
	while (!j->done) {
		if (c->audit_busy) {
			pthread_cond_wait(&c->audit_cv, &c->audit_mu);
			continue;
		}
		struct audit_job *group = c->audit_head;
		c->audit_head = NULL;
		c->audit_tail = &c->audit_head;
		c->audit_busy = true;
		pthread_mutex_unlock(&c->audit_mu);
		audit_group(s, group);
		pthread_mutex_lock(&c->audit_mu);
		for (struct audit_job *g = group; g; g = g->next)
			g->done = true;
		c->audit_busy = false;
		pthread_cond_broadcast(&c->audit_cv);
	}
	pthread_mutex_unlock(&c->audit_mu);
}

/* Append an audit entry for the current user; false (and a 503) when
 * it cannot be written: nothing is shown that is not audited. */
bool cx_audit(struct ctx *x, const char *command, json_t *detail,
	int64_t count)
{
	json_object_set_new(detail, "via", json_string("console"));
	char *d = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(detail);
	admit_leave(x);
	struct audit_job j = { .actor = x->user ? x->user : "-",
		.command = command, .detail = d, .count = count };
	if (store_tx_active(x->s)) {
		/* part of the caller's transaction, committed with it */
		j.rc = store_audit_append(x->s, j.actor, command, d, count,
			&j.err);
	} else {
		audit_wait(x->c, x->s, &j);
	}
	free(d);
	enum cv_err rc = j.rc;
	char *err = j.err;
	if (rc != CV_OK) {
		cv_warn("msg=\"console: audit append failed\" err=\"%s\"",
			err ? err : cv_strerror(rc));
		cx_reply_error(x, 503, "the audit log cannot be written; "
				    "try again");
	}
	free(err);
	return rc == CV_OK;
}

/* ---- sessions and roles ------------------------------------------ */

static enum role role_of(const char *name)
{
	for (size_t i = 0; name && i < CV_ARRAY_LEN(cx_role_names); i++)
		if (strcmp(name, cx_role_names[i]) == 0)
			return (enum role)i;
	return ROLE_NONE;
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
	const char *p = header(x, "X-Forwarded-Proto");
	return x->c->cfg.tls_proxy || (p && strcasecmp(p, "https") == 0);
}

void cx_set_cookie(struct ctx *x, const char *value)
{
	free(x->res->set_cookie);
	x->res->set_cookie = xasprintf("cv_session=%s; Path=/; HttpOnly; "
				       "SameSite=Strict%s%s",
		value, *value ? "" : "; Max-Age=0", secure(x) ? "; Secure" : "");
}

/* Authenticate by bearer token or session cookie; false after a 401. */
bool cx_authenticate(struct ctx *x)
{
	char *err = NULL;
	const char *authz = header(x, "Authorization");
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
		x->role = role_of(u.role);
		u.name = NULL;
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
	x->role = role_of(ss.role);
	x->csrf = ss.csrf;
	ss.user = ss.csrf = NULL;
	store_session_finish(&ss);
	return true;
}

bool cx_require(struct ctx *x, enum role need)
{
	if (x->role >= need)
		return true;
	char *msg = xasprintf("your role (%s) may not do this; it needs %s",
		x->role >= 0 ? cx_role_names[x->role] : "none",
		cx_role_names[need]);
	cx_reply_error(x, 403, msg);
	free(msg);
	return false;
}

/* An Origin header, when sent, must be this server: the configured
 * public URL, else (a weaker check: a rebound DNS name sends a Host of
 * its own) the request's Host. */
bool cx_origin_ok(struct ctx *x)
{
	const char *o = header(x, "Origin"), *host = header(x, "Host");
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
	const char *t = header(x, "X-CSRF-Token");
	if (!t)
		t = cx_form(x, "csrf");
	if (t && strlen(t) == strlen(x->csrf) &&
	    cv_memeq_ct(t, x->csrf, strlen(t)))
		return true;
	cx_reply_error(x, 403, "missing or wrong CSRF token");
	return false;
}

/* ---- one call ---------------------------------------------------- */

static int version_json(const struct store_version *v, void *arg)
{
	json_array_append_new(arg, json_pack("{s:i,s:s,s:o,s:s,s:s,s:b,s:i}",
		"seq", v->seq, "source", store_source_name(v->source),
		"receivedAt", cx_jtime(v->received_at), "receivedSha256",
		v->raw_sha256 ? v->raw_sha256 : "", "canonicalSha256",
		v->canonical_sha256 ? v->canonical_sha256 : "", "rawKept",
		v->raw_kept, "redacted", v->redacted));
	return 0;
}

static int event_json(const struct store_webhook_event *e, void *arg)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", cx_jstr(e->type));
	json_object_set_new(o, "receivedAt", cx_jtime(e->received_at));
	json_object_set_new(o, "sha256", cx_jstr(e->body_sha256));
	json_object_set_new(o, "signature", cx_jstr(e->signature));
	json_object_set_new(o, "outcome", cx_jstr(e->outcome));
	json_array_append_new(arg, o);
	return 0;
}

/* Transcript turns; with cols (from store_search_highlight) each turn's
 * text comes from its speaker's column with the hits marked. */
static json_t *turns_json(const struct calllog *c, char *cols[4])
{
	json_t *arr = json_array();
	struct calllog_turn *turns;
	size_t n = calllog_turns(c->transcript, &turns);
	char **marked = cols ? store_highlight_turns(turns, n, cols) : NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "speaker",
			json_string(calllog_speaker_name(turns[i].speaker)));
		char *t = marked ? marked[i]
				 : xstrndup(turns[i].text, turns[i].len);
		cx_put_marked(o, "text", "ranges", t);
		free(t);
		json_array_append_new(arr, o);
	}
	free(marked);
	free(turns);
	return arr;
}

static json_t *actions_json(const struct calllog *c)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < c->n_actions; i++) {
		const struct calllog_action *a = &c->actions[i];
		json_array_append_new(arr, json_pack("{s:o,s:o,s:o,s:o}", "id",
			cx_jstr(a->id), "type", cx_jstr(a->type), "name",
			cx_jstr(a->name), "executedAt", cx_jtime(a->executed_at)));
	}
	return arr;
}

static json_t *call_json(struct ctx *x, const struct store_call *sc,
	char *cols[4], char **err)
{
	const struct calllog *c = &sc->log;
	json_t *o = json_object();
	json_object_set_new(o, "id", cx_jstr(c->id));
	json_object_set_new(o, "locationId", cx_jstr(c->location_id));
	json_object_set_new(o, "agentId", cx_jstr(c->agent_id));
	json_object_set_new(o, "agentName", cx_jstr(sc->agent_name));
	json_object_set_new(o, "contactId", cx_jstr(c->contact_id));
	json_object_set_new(o, "fromNumber", cx_jstr(c->from_number));
	json_object_set_new(o, "messageId", cx_jstr(c->message_id));
	json_object_set_new(o, "createdAt", cx_jtime(c->created_at));
	json_object_set_new(o, "duration", c->has_duration
			? json_real(c->duration) : json_null());
	json_object_set_new(o, "trialCall", c->trial_call < 0 ? json_null()
		: json_boolean(c->trial_call));
	cx_put_marked(o, "summary", "summaryRanges",
		cols ? cols[0] : c->summary);
	json_object_set_new(o, "turns", turns_json(c, cols));
	json_object_set_new(o, "actions", actions_json(c));
	json_t *rec = json_loads(c->canonical ? c->canonical : "{}", 0, NULL);
	json_t *ex = rec ? json_object_get(rec, "extractedData") : NULL;
	json_object_set_new(o, "extractedData", ex ? json_incref(ex)
						    : json_null());
	json_decref(rec);
	json_t *vers = json_array(), *evs = json_array();
	if (store_each_version(x->s, c->id, version_json, vers, err) != CV_OK ||
	    store_each_call_event(x->s, c->id, event_json, evs, err) != CV_OK) {
		json_decref(vers);
		json_decref(evs);
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "versions", vers);
	json_object_set_new(o, "events", evs);
	bool held = false;
	/* query holds run their search now: a call that came to match
	 * since the last look is marked held */
	if (store_holds_evaluate(x->s, err) != CV_OK ||
	    store_hold_is_held(x->s, c->id, &held, err) != CV_OK) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "held", json_boolean(held));
	return o;
}

static void api_call(struct ctx *x, const char *raw_id)
{
	const char *id = cx_own(x, pct_decode(raw_id, strlen(raw_id)));
	if (!id || !*id || strlen(id) > CALLLOG_MAX_ID) {
		cx_reply_error(x, 400, "bad call id");
		return;
	}
	struct query qy;
	memset(&qy, 0, sizeof(qy));
	const char *q = cx_arg(x, "q");
	int pos;
	char *err = NULL, *cols[4] = { NULL, NULL, NULL, NULL };
	bool marks = q && search_parse(q, &qy.plan, &pos, &err) == CV_OK;
	qy.have_plan = marks;
	free(err);
	err = NULL;
	struct store_call sc;
	enum cv_err rc = store_get_call(x->s, id, &sc, &err);
	if (rc == CV_OK && marks &&
	    store_search_highlight(x->s, id, &qy.plan, cols, &err) != CV_OK)
		marks = false;
	json_t *o = rc == CV_OK ? call_json(x, &sc, marks ? cols : NULL, &err)
				: NULL;
	if (rc == CV_ENOTFOUND) {
		/* "no such call" tells something too: audited */
		if (cx_audit(x, "show", json_pack("{s:s,s:b}", "id", id, "found",
					   0), 0))
			cx_reply_error(x, 404, "no such call");
	} else if (!o)
		cx_reply_error(x, 500, err ? err : "reading the call failed");
	else if (cx_audit(x, "show", json_pack("{s:s,s:o}", "id", id, "highlight",
				      cx_jstr(q)), 1))
		cx_reply_json(x, 200, o), o = NULL;
	json_decref(o);
	if (rc == CV_OK)
		store_call_finish(&sc);
	for (int i = 0; i < 4; i++)
		free(cols[i]);
	free(err);
	if (qy.have_plan)
		search_plan_finish(&qy.plan);
}

/* ---- audit, holds, archives -------------------------------------- */

struct audit_page {
	json_t *arr;
	size_t limit;
};

static int audit_row(const struct audit_entry *e, void *arg)
{
	struct audit_page *p = arg;
	json_t *d = json_loads(e->detail, 0, NULL);
	json_array_append_new(p->arr, json_pack("{s:I,s:o,s:s,s:s,s:o,s:I,s:s}",
		"id", (json_int_t)e->id, "ts", cx_jtime(e->ts), "actor",
		e->actor, "command", e->command, "detail",
		d ? d : json_string(e->detail), "resultCount",
		(json_int_t)e->result_count, "hash", e->hash));
	if (json_array_size(p->arr) > p->limit)
		json_array_remove(p->arr, 0); /* keep the newest */
	return 0;
}

static void api_audit(struct ctx *x)
{
	long limit;
	if (!cx_require(x, ROLE_ADMIN) ||
	    !cx_int_arg(x, "limit", 1, AUDIT_PAGE_MAX, 200, &limit))
		return;
	struct audit_filter f = { .actor = cx_arg(x, "actor") };
	struct audit_page p = { .arr = json_array(), .limit = (size_t)limit };
	int64_t checked = 0, bad = 0;
	char *err = NULL, *verr = NULL;
	if (store_audit_each(x->s, &f, audit_row, &p, &err) != CV_OK) {
		cx_reply_error(x, 500, err ? err : "reading the audit log failed");
		json_decref(p.arr);
		free(err);
		return;
	}
	enum cv_err vr = store_audit_verify(x->s, &checked, &bad, &verr);
	json_t *chain = json_pack("{s:b,s:I}", "ok", vr == CV_OK, "checked",
		(json_int_t)checked);
	if (vr != CV_OK) {
		json_object_set_new(chain, "badId", json_integer(bad));
		json_object_set_new(chain, "error", cx_jstr(verr));
	}
	free(verr);
	json_t *detail = json_pack("{s:I}", "limit", (json_int_t)limit);
	if (f.actor)
		json_object_set_new(detail, "actor", json_string(f.actor));
	if (cx_audit(x, "audit view", detail,
		    (int64_t)json_array_size(p.arr)))
		cx_reply_json(x, 200, json_pack("{s:o,s:o}", "chain", chain,
					   "entries", p.arr));
	else
		json_decref(chain), json_decref(p.arr);
}

static json_t *jms(bool has, int64_t ms)
{
	return has ? cx_jtime(ms) : json_null();
}

static int hold_json(const struct store_hold *h, int64_t matched, void *arg)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(h->id));
	json_object_set_new(o, "matter", cx_jstr(h->matter));
	json_object_set_new(o, "reason", cx_jstr(h->reason));
	json_object_set_new(o, "contactId", cx_jstr(h->contact_id));
	json_object_set_new(o, "number", cx_jstr(h->from_e164));
	json_object_set_new(o, "agentId", cx_jstr(h->agent_id));
	json_object_set_new(o, "locationId", cx_jstr(h->location_id));
	json_object_set_new(o, "from", jms(h->has_from, h->from_ms));
	json_object_set_new(o, "to", jms(h->has_to, h->to_ms));
	json_t *calls = json_array();
	for (size_t i = 0; i < h->n_calls; i++)
		json_array_append_new(calls, json_string(h->call_ids[i]));
	json_object_set_new(o, "calls", calls);
	json_object_set_new(o, "createdAt", cx_jtime(h->created_at));
	json_object_set_new(o, "createdBy", cx_jstr(h->created_by));
	json_object_set_new(o, "releasedAt", cx_jtime(h->released_at));
	json_object_set_new(o, "releasedBy", cx_jstr(h->released_by));
	json_object_set_new(o, "releaseReason", cx_jstr(h->release_reason));
	json_object_set_new(o, "query", cx_jstr(h->query));
	json_object_set_new(o, "queryFilters", cx_jstr(h->query_filters));
	json_object_set_new(o, "matchedCalls", json_integer(matched));
	json_array_append_new(arg, o);
	return 0;
}

/* GET /api/holds[?all=1]: active holds (all with all=1). */
static void api_holds(struct ctx *x)
{
	const char *all = cx_arg(x, "all");
	json_t *arr = json_array();
	char *err = NULL;
	if (store_holds_evaluate(x->s, &err) != CV_OK ||
	    store_hold_each(x->s, !all, 0, hold_json, arr, &err) != CV_OK) {
		cx_reply_error(x, 500, err ? err : "reading holds failed");
		json_decref(arr);
	} else if (cx_audit(x, "hold list", json_pack("{s:b}", "all", all != NULL),
			   (int64_t)json_array_size(arr))) {
		cx_reply_json(x, 200, json_pack("{s:o}", "holds", arr));
	} else {
		json_decref(arr);
	}
	free(err);
}

/* POST /api/holds/{id}/release (form: reason). */
static void api_hold_release(struct ctx *x, const char *rest)
{
	char *end;
	long long id = strtoll(rest, &end, 10);
	const char *reason = cx_form(x, "reason");
	char *err = NULL;
	if (end == rest || strcmp(end, "/release") != 0 || id <= 0) {
		cx_reply_error(x, 404, "not found");
	} else if (!reason || !*reason) {
		cx_reply_error(x, 400, "releasing a hold needs a reason");
	} else if (store_hold_release(x->s, id, x->user, reason, &err) !=
		   CV_OK) {
		cx_reply_error(x, 400, err ? err : "the hold was not released");
	} else {
		cx_reply_json(x, 200, json_pack("{s:s}", "status", "released"));
	}
	free(err);
}

struct archive_list {
	json_t *arr;
	const struct store_locmonth *purged;  /* sorted by location, month */
	size_t n_purged;
};

static int64_t purged_for(const struct archive_list *l, const char *loc,
	const char *month)
{
	for (size_t i = 0; i < l->n_purged; i++)
		if (strcmp(l->purged[i].location, loc) == 0 &&
		    strcmp(l->purged[i].month, month) == 0)
			return l->purged[i].calls;
	return 0;
}

static int archive_json(const struct store_archive *a, void *arg)
{
	struct archive_list *l = arg;
	json_t *o = json_object();
	json_object_set_new(o, "locationId", cx_jstr(a->location_id));
	json_object_set_new(o, "month", cx_jstr(a->month));
	json_object_set_new(o, "seq", json_integer(a->seq));
	json_object_set_new(o, "file", cx_jstr(a->path));
	json_object_set_new(o, "sha256", cx_jstr(a->sha256));
	json_object_set_new(o, "calls", json_integer(a->n_calls));
	json_object_set_new(o, "writtenAt", cx_jtime(a->written_at));
	json_object_set_new(o, "verifiedAt", cx_jtime(a->verified_at));
	json_object_set_new(o, "purged", json_integer(purged_for(l,
		a->location_id ? a->location_id : "",
		a->month ? a->month : "")));
	json_array_append_new(l->arr, o);
	return 0;
}

/* GET /api/archives: every archive recorded, in the order written, with
 * the calls purge removed from its location-month (from the audit log). */
static void api_archives(struct ctx *x)
{
	struct store_locmonth *purged = NULL;
	struct archive_list l = { .arr = json_array() };
	char *err = NULL;
	enum cv_err rc = store_ret_purged(x->s, &purged, &l.n_purged, &err);
	l.purged = purged;
	if (rc == CV_OK)
		rc = store_ret_each_archive(x->s, archive_json, &l, &err);
	if (rc != CV_OK) {
		cx_reply_error(x, 500, err ? err : "reading archives failed");
		json_decref(l.arr);
	} else if (cx_audit(x, "archive list", json_object(),
			   (int64_t)json_array_size(l.arr))) {
		cx_reply_json(x, 200, l.arr);
	} else {
		json_decref(l.arr);
	}
	free(purged);
	free(err);
}

/* ---- routing ----------------------------------------------------- */

static void static_file(struct ctx *x, const char *type, const char *body)
{
	x->res->status = 200;
	x->res->type = type;
	x->res->html = true;
	buf_puts(&x->res->body, body);
}

static bool is(struct ctx *x, const char *method, const char *path)
{
	return strcmp(x->req->method, method) == 0 &&
	       strcmp(x->req->path, path) == 0;
}

/* Give the search slot back (once): the audit append that follows the
 * search waits for the disk, not for a core. */
static void admit_leave(struct ctx *x)
{
	struct console *c = x->c;
	if (!x->admitted)
		return;
	x->admitted = false;
	pthread_mutex_lock(&c->mu);
	/* the ticket this admits: done + slots - 1 after the increment */
	uint64_t next = c->admit_done++ + (uint64_t)c->slots;
	pthread_cond_broadcast(&c->admit_cv[next % ADMIT_CVS]);
	pthread_mutex_unlock(&c->mu);
}

/* Wait for a search slot (FIFO), run fn, give the slot back. */
static void admitted(struct ctx *x, void (*fn)(struct ctx *, const char *),
	const char *arg)
{
	struct console *c = x->c;
	/* wait without a connection: the admitted requests then run on the
	 * most recently used ones (the pool is a stack), whose page caches
	 * are warm, instead of on 32 cold ones */
	cx_store_give(c, x->s);
	x->s = NULL;
	pthread_mutex_lock(&c->mu);
	uint64_t ticket = c->admit_next++;
	while (ticket >= c->admit_done + (uint64_t)c->slots)
		pthread_cond_wait(&c->admit_cv[ticket % ADMIT_CVS], &c->mu);
	pthread_mutex_unlock(&c->mu);
	x->admitted = true;
	char *err = NULL;
	if ((x->s = store_take(c, &err)) != NULL)
		fn(x, arg);
	else
		cx_reply_error(x, 503, err ? err : "the store cannot be opened");
	free(err);
	admit_leave(x);
}

static void api_search_arg(struct ctx *x, const char *unused)
{
	cx_api_search(x);
}

/* (a hold from a search runs a search of up to 10,000 calls) */
static void api_hold_add_arg(struct ctx *x, const char *unused)
{
	cx_api_hold_add(x);
}

/* The API routes that need a user. */
static void route_api(struct ctx *x)
{
	const char *p = x->req->path, *m = x->req->method;
	bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
	if (!get && !post) {
		cx_reply_error(x, 405, "method not allowed");
		return;
	}
	if (!cx_authenticate(x) || (post && !cx_csrf_ok(x)))
		return;
	if (get && strcmp(p, "/api/me") == 0)
		cx_api_me(x);
	else if (get && strcmp(p, "/api/search") == 0)
		admitted(x, api_search_arg, NULL);
	else if (get && starts(p, "/api/calls/") && !strchr(p + 11, '/'))
		admitted(x, api_call, p + 11);
	else if (get && strcmp(p, "/api/export") == 0)
		cx_api_export(x);
	else if (get && strcmp(p, "/api/audit") == 0)
		api_audit(x);
	else if (get && strcmp(p, "/api/holds") == 0)
		api_holds(x);
	else if (post && strcmp(p, "/api/holds") == 0)
		cx_require(x, ROLE_HOLD_ADMIN) ? admitted(x, api_hold_add_arg, NULL)
					    : (void)0;
	else if (post && starts(p, "/api/holds/"))
		cx_require(x, ROLE_HOLD_ADMIN) ? api_hold_release(x, p + 11)
					    : (void)0;
	else if (get && strcmp(p, "/api/archives") == 0)
		api_archives(x);
	else
		cx_reply_error(x, 404, "not found");
}

void console_handle(struct console *c, const struct console_request *req,
	struct console_response *res)
{
	memset(res, 0, sizeof(*res));
	buf_init(&res->body);
	struct ctx x = { .c = c, .req = req, .res = res, .role = ROLE_NONE };
	if (is(&x, "GET", "/"))
		return static_file(&x, "text/html; charset=utf-8",
			console_html);
	if (is(&x, "GET", "/console.js"))
		return static_file(&x, "text/javascript; charset=utf-8",
			console_js);
	if (is(&x, "GET", "/console.css"))
		return static_file(&x, "text/css; charset=utf-8", console_css);
	char *err = NULL;
	x.s = store_take(c, &err);
	if (!x.s) {
		cv_warn("msg=\"console: store unavailable\" err=\"%s\"",
			err ? err : "");
		free(err);
		cx_reply_error(&x, 503, "the store is unavailable");
		return;
	}
	if (is(&x, "POST", "/login"))
		cx_do_login(&x);
	else if (is(&x, "POST", "/logout"))
		cx_do_logout(&x);
	else if (starts(req->path, "/api/"))
		route_api(&x);
	else
		cx_reply_error(&x, 405, "method not allowed");
	if (x.s)
		cx_store_give(c, x.s);
	free(x.user);
	free(x.csrf);
	for (size_t i = 0; i < x.n_owned; i++)
		free(x.owned[i]);
}
