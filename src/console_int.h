/*
 * console_int.h — what the console's files share (as store_int.h does for
 * the store): the console, one request's context (x), and the helpers
 * the handlers answer with. By concern:
 *   console.c         the console, its store pool and search admission,
 *                     and console_handle (one request's life)
 *   console_routes.c  the route table: each route's method, path,
 *                     permission, audit command and handler; the only
 *                     place permissions are checked
 *   console_reply.c   request decoding (%-escapes, arguments, form
 *                     fields) and JSON replies
 *   console_auth.c    sessions, bearer tokens, CSRF and Origin, the real
 *                     client address (trusted proxies)
 *   console_audit.c   audit entries, committed in groups
 *   console_login.c   login, logout, /api/me
 *   console_query.c   searches, export, placing holds
 *   console_call.c    one call's page (/api/calls/{id})
 *   console_pages.c   the audit log, holds (list, release), archives,
 *                     users
 *   console_recording.c  a call's recordings (HTTP Range) and timed
 *                     transcript
 * cx_ names are internal.
 */
#ifndef CV_CONSOLE_INT_H
#define CV_CONSOLE_INT_H

#include <jansson.h>
#include <pthread.h>

#include "console.h"
#include "hash.h"
#include "roles.h"
#include "search.h"

#define POOL_MAX 32
#define MAX_OWNED 48
#define PAGE_MAX 100
#define AUDIT_PAGE_MAX 1000
#define ADMIT_CVS 64
#define LOGIN_QUEUE 16 /* logins waiting for a password check */

struct console {
	struct console_config cfg;
	pthread_mutex_t mu;
	/* Audit entries are committed in groups, one group at a time: the
	 * requests that arrive while a group commits form the next one,
	 * which one of them (the leader) commits in a single transaction
	 * and fsync. One append per transaction serialised every request
	 * on an fsync; and 32 request threads racing for SQLite's write
	 * lock slept in its busy handler (1 to 16 ms a try) while the lock
	 * was free. */
	pthread_mutex_t audit_mu;
	pthread_cond_t audit_cv;
	struct audit_job *audit_head, **audit_tail;
	bool audit_busy; /* a leader is committing a group */
	/* Searches and call views run at most `slots` at a time, admitted
	 * in arrival order (tickets). With one thread per connection, 32
	 * sessions searching at once shared two cores 16 ways, so a 30 ms
	 * search took half a second; queued, each runs at full speed. */
	pthread_cond_t admit_cv[ADMIT_CVS]; /* ticket t waits on t % ADMIT_CVS,
					       so a finish wakes one waiter,
					       not all of them */
	uint64_t admit_next, admit_done;
	int slots;
	struct store *pool[POOL_MAX]; /* idle store connections */
	size_t n_pool;
	int streams;             /* exports being written */
	struct login_gate *gate; /* password checks */
};


/* One request being answered. */
struct ctx {
	struct console *c;
	const struct console_request *req;
	struct console_response *res;
	struct store *s;
	char *user;         /* who, once authenticated */
	char *role;         /* the preset's name, or "custom" */
	unsigned perms;     /* what the user may do (roles.h) */
	const char *client; /* the real client address (console_auth.c) */
	char client_buf[64];
	bool audited; /* an entry was written for this request */
	char *csrf;   /* the session's token; NULL for bearer */
	char sid_hash[CV_SHA256_HEX];
	char *owned[MAX_OWNED]; /* decoded arguments, freed at the end */
	size_t n_owned;
	bool admitted; /* holds a search slot (admitted()) */
};

/* A search's filters and query, parsed from the request. */
struct query {
	struct search_filters sf;
	struct search_plan plan;
	bool have_plan;
	const char *q;
	json_t *detail; /* for the audit */
};

/* ---- console.c ---- */

/* Take a store connection from the pool (or open one); NULL with
 * *errmsg. Give it back (or close it) with cx_store_give. */
struct store *cx_store_take(struct console *c, char **errmsg);
void cx_store_give(struct console *c, struct store *s);
/* Wait for a search slot (FIFO), run fn(x, arg), give the slot back. */
void cx_admitted(struct ctx *x, void (*fn)(struct ctx *, const char *),
	const char *arg);
/* Give the search slot back now (once; cx_audit does, before it waits
 * for the disk). */
void cx_admit_leave(struct ctx *x);

/* ---- console_routes.c ---- */

/* Route the request: match the table, authenticate, check CSRF and the
 * permission, run the handler, and refuse an answer its route should
 * have audited but did not. */
void cx_route(struct ctx *x);
/* After the handler of a route that audits (audit non-NULL): a
 * successful answer (status below 400) that wrote no entry is replaced
 * by a 500 (a stream released unsent). */
void cx_audit_check(struct ctx *x, const char *audit);

/* ---- console_reply.c ---- */

/* A header, NULL when absent. */
const char *cx_header(struct ctx *x, const char *key);
/* %-decode n bytes (+ for space) into a new string, NULL when a % is not
 * followed by two hex digits, or the result holds a NUL byte or is not
 * UTF-8. */
char *cx_pct_decode(const char *in, size_t n);
/* Keep s until the request ends (freed then); NULL when s is NULL or the
 * request holds too many. */
const char *cx_own(struct ctx *x, char *s);
/* A query argument / form field, decoded; NULL when absent, empty or not
 * decodable (filters use cx_filter_value, which refuses instead). */
const char *cx_arg(struct ctx *x, const char *key);
const char *cx_form(struct ctx *x, const char *key);
/* A form field still escaped: its *len bytes, NULL when absent. */
const char *cx_form_raw(struct ctx *x, const char *key, size_t *len);
/* A filter's value from the query string (or the form), %-decoded but
 * not yet checked (a->p NULL when absent); false after a 400 when it
 * does not %-decode. */
bool cx_filter_value(struct ctx *x, bool in_form, const char *key,
	struct search_filter_arg *a);
/* Answer with j (taken) / with {"error": msg}. */
void cx_reply_json(struct ctx *x, unsigned status, json_t *j);
void cx_reply_error(struct ctx *x, unsigned status, const char *msg);
json_t *cx_jstr(const char *s);
json_t *cx_jtime(int64_t ms);

/* ---- console_audit.c ---- */

/* Append an audit entry for the user and the client address (detail
 * taken); false after a 503 when it cannot be written: nothing is shown
 * that is not audited. */
bool cx_audit(struct ctx *x, const char *command, json_t *detail,
	int64_t count);

/* ---- console_auth.c ---- */

void cx_set_cookie(struct ctx *x, const char *value);
/* Authenticate (bearer token or session); false after a 401. */
bool cx_authenticate(struct ctx *x);
/* Origin, when sent, is this server; the CSRF token for sessions. false
 * after a 403. */
bool cx_origin_ok(struct ctx *x);
bool cx_csrf_ok(struct ctx *x);
/* Set x->client: the peer's address, or, when the peer is a trusted
 * proxy, the address X-Forwarded-For names (client_addr.h). */
void cx_find_client(struct ctx *x);

/* ---- console_call.c ---- */

void cx_api_call(struct ctx *x, const char *raw_id);

/* ---- console_pages.c ---- */

void cx_api_audit(struct ctx *x, const char *unused);
void cx_api_holds(struct ctx *x, const char *unused);
void cx_api_hold_release(struct ctx *x, const char *raw_id);
void cx_api_archives(struct ctx *x, const char *unused);
void cx_api_users(struct ctx *x, const char *unused);

/* ---- console_login.c ---- */

void cx_do_login(struct ctx *x, const char *unused);
void cx_do_logout(struct ctx *x, const char *unused);
void cx_api_me(struct ctx *x, const char *unused);

/* ---- console_query.c ---- */

/* A 400 with fmt (one %s: v); false. */
bool cx_bad_arg(struct ctx *x, const char *fmt, const char *v);
/* Integer argument key in [min, max], def when absent; false after a
 * 400. */
bool cx_int_arg(struct ctx *x, const char *key, long min, long max, long def,
	long *out);
/* Text with search marks, as o[key] (text) and o[rkey] (ranges). */
void cx_put_marked(json_t *o, const char *key, const char *rkey,
	const char *marked);
void cx_api_search(struct ctx *x, const char *unused);
void cx_api_export(struct ctx *x, const char *unused);
void cx_api_hold_add(struct ctx *x, const char *unused);

/* ---- console_recording.c ---- */

/* GET /api/recording?call=ID[&n=K]: the call's K-th recording, with
 * HTTP Range; each play from byte 0 audited (by the handler: the seeks
 * that follow are not, so the route is not marked audited). */
void cx_api_recording(struct ctx *x, const char *unused);
/* {"recordings": [...], "timedTranscript": [...] | null} of a call for
 * its view; NULL (err set) when the store cannot be read. */
json_t *cx_media_json(struct ctx *x, const char *call_id, char **err);

#endif
