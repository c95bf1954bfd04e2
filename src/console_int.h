/*
 * console_int.h — what the console's files share (as store_int.h does for
 * the store): the console, one request's context (x), and the helpers
 * the handlers answer with. console.c has the plumbing (pool, decoding,
 * replies, grouped audit writes, sessions and roles, admission, routing);
 * console_login.c logs users in and out; console_query.c parses searches
 * and answers search, export and holds; console_recording.c serves
 * recordings. cx_ names are internal.
 */
#ifndef CV_CONSOLE_INT_H
#define CV_CONSOLE_INT_H

#include <jansson.h>
#include <pthread.h>

#include "console.h"
#include "hash.h"
#include "search.h"

#define POOL_MAX 32
#define MAX_OWNED 48
#define PAGE_MAX 100
#define AUDIT_PAGE_MAX 1000
#define ADMIT_CVS 64
#define LOGIN_QUEUE 16            /* logins waiting for a password check */

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
	bool audit_busy;            /* a leader is committing a group */
	/* Searches and call views run at most `slots` at a time, admitted
	 * in arrival order (tickets). With one thread per connection, 32
	 * sessions searching at once shared two cores 16 ways, so a 30 ms
	 * search took half a second; queued, each runs at full speed. */
	pthread_cond_t admit_cv[ADMIT_CVS]; /* ticket t waits on t % ADMIT_CVS,
					       so a finish wakes one waiter,
					       not all of them */
	uint64_t admit_next, admit_done;
	int slots;
	struct store *pool[POOL_MAX];   /* idle store connections */
	size_t n_pool;
	int streams;                    /* exports being written */
	struct login_gate *gate;        /* password checks */
};

enum role { ROLE_NONE = -1, ROLE_VIEWER, ROLE_EXPORTER, ROLE_HOLD_ADMIN,
	ROLE_ADMIN };
extern const char *const cx_role_names[4];

/* One request being answered. */
struct ctx {
	struct console *c;
	const struct console_request *req;
	struct console_response *res;
	struct store *s;
	char *user;               /* who, once authenticated */
	enum role role;
	char *csrf;               /* the session's token; NULL for bearer */
	char sid_hash[CV_SHA256_HEX];
	char *owned[MAX_OWNED];   /* decoded arguments, freed at the end */
	size_t n_owned;
	bool admitted;            /* holds a search slot (admitted()) */
};

/* A search's filters and query, parsed from the request. */
struct query {
	struct search_filters sf;
	struct search_plan plan;
	bool have_plan;
	const char *q;
	json_t *detail;           /* for the audit */
};

/* ---- console.c ---- */

/* Give a store connection back to the pool (or close it). */
void cx_store_give(struct console *c, struct store *s);
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
/* Append an audit entry for the user (detail taken); false after a 503
 * when it cannot be written: nothing is shown that is not audited. */
bool cx_audit(struct ctx *x, const char *command, json_t *detail,
	int64_t count);
void cx_set_cookie(struct ctx *x, const char *value);
/* Authenticate (bearer token or session); false after a 401. */
bool cx_authenticate(struct ctx *x);
/* The user's role is need or higher; false after a 403. */
bool cx_require(struct ctx *x, enum role need);
/* Origin, when sent, is this server; the CSRF token for sessions. false
 * after a 403. */
bool cx_origin_ok(struct ctx *x);
bool cx_csrf_ok(struct ctx *x);

/* ---- console_login.c ---- */

void cx_do_login(struct ctx *x);
void cx_do_logout(struct ctx *x);
void cx_api_me(struct ctx *x);

/* ---- console_query.c ---- */

/* A 400 with fmt (one %s: v); false. */
bool cx_bad_arg(struct ctx *x, const char *fmt, const char *v);
/* Integer argument key in [min, max], def when absent; false after a
 * 400. */
bool cx_int_arg(struct ctx *x, const char *key, long min, long max,
	long def, long *out);
/* Text with search marks, as o[key] (text) and o[rkey] (ranges). */
void cx_put_marked(json_t *o, const char *key, const char *rkey,
	const char *marked);
void cx_api_search(struct ctx *x);
void cx_api_export(struct ctx *x);
void cx_api_hold_add(struct ctx *x);

/* ---- console_recording.c ---- */

/* GET /api/recording?call=ID[&n=K]: the call's K-th recording, with
 * HTTP Range; each play from byte 0 audited. */
void cx_api_recording(struct ctx *x);
/* {"recordings": [...], "timedTranscript": [...] | null} of a call for
 * its view; NULL (err set) when the store cannot be read. */
json_t *cx_media_json(struct ctx *x, const char *call_id, char **err);

#endif
