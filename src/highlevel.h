/*
 * highlevel.h — the HighLevel API client: HTTP requests over libcurl (the
 * only module that uses it), several in flight at once through one
 * libcurl multi handle, with bounded responses and timeouts, the
 * X-RateLimit-* headers parsed, and HighLevel's error bodies decoded.
 *
 * Tokens are only ever put in the Authorization header or a form body;
 * they never appear in an error message or a log line.
 */
#ifndef CV_HIGHLEVEL_H
#define CV_HIGHLEVEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "util.h"

#define HL_DEFAULT_API_BASE "https://services.leadconnectorhq.com"
#define HL_DEFAULT_VERSION "2021-04-15"
#define HL_MAX_RESPONSE (32u * 1024 * 1024)

/* The rate-limit headers a response may carry (bits of hl_ratelimit.bad). */
enum hl_rl_header {
	HL_RL_LIMIT_DAILY = 1 << 0,     /* X-RateLimit-Limit-Daily */
	HL_RL_DAILY_REMAINING = 1 << 1, /* X-RateLimit-Daily-Remaining */
	HL_RL_INTERVAL = 1 << 2,        /* X-RateLimit-Interval-Milliseconds */
	HL_RL_MAX = 1 << 3,             /* X-RateLimit-Max */
	HL_RL_REMAINING = 1 << 4,       /* X-RateLimit-Remaining */
	HL_RL_DAILY_RESET = 1 << 5,     /* X-RateLimit-Daily-Reset */
	HL_RL_RETRY_AFTER = 1 << 6,     /* Retry-After */
};
#define HL_RL_NHEADERS 7

/* The rate-limit headers of a response; -1 when a header was absent or
 * unreadable. */
struct hl_ratelimit {
	int64_t limit_daily;     /* X-RateLimit-Limit-Daily */
	int64_t daily_remaining; /* X-RateLimit-Daily-Remaining */
	int64_t interval_ms;     /* X-RateLimit-Interval-Milliseconds */
	int64_t max;             /* X-RateLimit-Max (per interval) */
	int64_t remaining;       /* X-RateLimit-Remaining (this interval) */
	/* ms from the answer until the daily budget is renewed
	 * (X-RateLimit-Daily-Reset: seconds from now, or an epoch time in
	 * seconds or ms; at most HL_DAILY_RESET_MAX_MS ahead) */
	int64_t daily_reset_ms;
	/* ms from the answer until a retry is welcome (Retry-After: delay
	 * seconds or an HTTP-date; a date in the past is 0) */
	int64_t retry_after_ms;
	unsigned bad; /* enum hl_rl_header: present, unreadable */
};
#define HL_DAILY_RESET_MAX_MS (48LL * 3600 * 1000)
void hl_ratelimit_init(struct hl_ratelimit *rl);

/*
 * Parse one raw header line ("Name: value\r\n") into rl when it is one of
 * the rate-limit headers (names case-insensitive). Returns true when the
 * line was one of them with a readable value: a non-negative integer
 * (an HTTP-date too for Retry-After). One that is not readable leaves its
 * field -1 and sets its bit in rl->bad; it is never an error.
 */
bool hl_ratelimit_parse_line(const char *line, size_t n,
	struct hl_ratelimit *rl);

/* The header's name for a bit of enum hl_rl_header ("?" for others). */
const char *hl_ratelimit_header_name(unsigned bit);

/* The outcome of one exchange. */
struct hl_response {
	long status;     /* HTTP status; 0 when no answer arrived */
	enum cv_err err; /* CV_OK when an HTTP answer arrived */
	char *errmsg;    /* transport failure text (no secrets) */
	bool transient;  /* a timeout, reset or partial body */
	struct buf body; /* at most HL_MAX_RESPONSE bytes */
	struct hl_ratelimit rl;
	int64_t elapsed_ms;
	char *content_type;     /* the answer's Content-Type, or NULL */
	int64_t content_length; /* as announced; -1 when none */
	bool sink_stopped;      /* hl_get_to: the sink refused more bytes */
};
void hl_response_finish(struct hl_response *r);

/* Append "&key=value" ("?" first when the buffer has no "?") to a URL,
 * the value percent-encoded. */
void hl_query_add(struct buf *url, const char *key, const char *value);
void hl_query_add_int(struct buf *url, const char *key, int64_t value);

/* A multi client: several requests in flight, completions by callback. */
struct hl_client;
struct hl_client_opts {
	long connect_timeout_ms; /* default 10000 */
	long timeout_ms;         /* whole exchange; default 60000 */
};
/* Create; NULL opts means the defaults. */
enum cv_err hl_client_create(struct hl_client **out,
	const struct hl_client_opts *o, char **errmsg) CV_MUST_CHECK;
/* Destroy; requests still in flight are abandoned (their callbacks never
 * run). NULL is fine. */
void hl_client_destroy(struct hl_client *c);

/* Called once per request with its outcome; r is freed after return. */
typedef void (*hl_done_fn)(struct hl_response *r, void *arg);

/*
 * Start GET url with `Authorization: Bearer token`, `Version: version`
 * and `Accept: application/json`. fn runs from hl_client_poll() when the
 * exchange ends, successful or not. On CV_EINVAL (bad URL) fn never runs.
 */
enum cv_err hl_get(struct hl_client *c, const char *url, const char *token,
	const char *version, hl_done_fn fn, void *arg,
	char **errmsg) CV_MUST_CHECK;

/*
 * Take the body of a 200 answer piece by piece (a recording: never held
 * whole); false stops the transfer (the response then has err CV_EIO
 * and sink_stopped set). Other answers' bodies are kept in r->body as
 * usual (an error message).
 */
typedef bool (*hl_sink_fn)(const void *p, size_t n, void *arg);

/*
 * hl_get with the Accept header given and a 200 body handed to sink;
 * max_bytes bounds an announced Content-Length (CV_ETOOBIG before any
 * byte is read) — the sink bounds what actually arrives.
 */
enum cv_err hl_get_to(struct hl_client *c, const char *url, const char *token,
	const char *version, const char *accept, int64_t max_bytes,
	hl_sink_fn sink, void *sink_arg, hl_done_fn fn, void *arg,
	char **errmsg) CV_MUST_CHECK;

/*
 * Wait up to timeout_ms for progress and run the callbacks of the
 * exchanges that ended. Returns the number still in flight.
 */
int hl_client_poll(struct hl_client *c, int timeout_ms);

/* Make a hl_client_poll() that waits (or the next one) return at once;
 * safe from any thread. */
void hl_client_wakeup(struct hl_client *c);

/*
 * POST an application/x-www-form-urlencoded body synchronously (the OAuth
 * token endpoint: no Version header). out is filled as for hl_get; the
 * form (which holds secrets) is never logged.
 */
void hl_post_form(const char *url, const char *form,
	const struct hl_client_opts *o, struct hl_response *out);

/* One GET as hl_get does, synchronously: out is filled as for hl_get
 * (err CV_EINVAL for a URL that may not carry a token). */
void hl_get_sync(const char *url, const char *token, const char *version,
	const struct hl_client_opts *o, struct hl_response *out);

/* The same with `Authorization: Bearer token` and `Version: version`
 * (either NULL to leave it out): POST /oauth/locationToken. */
void hl_post_form_auth(const char *url, const char *form, const char *token,
	const char *version, const struct hl_client_opts *o,
	struct hl_response *out);

/* Percent-encode s for a form or query value; caller frees. */
char *hl_escape(const char *s);

/* true for URLs that may carry tokens: https, or http to loopback. */
bool hl_url_allowed(const char *url);

#endif
