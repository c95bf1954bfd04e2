/*
 * ratelimit.h — HighLevel-style rate limits: a sliding burst window per
 * (credential, location) and a daily budget per (app or PIT group,
 * location). Also measures the most requests a client sent inside any one
 * window, for tests that assert "never above the burst limit".
 * Not thread-safe: the server holds its lock around calls.
 */
#ifndef HLSIM_RATELIMIT_H
#define HLSIM_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit;

/* How 429 answers say when to come back (--retry-after). */
enum rl_retry_after { RA_NONE, RA_SECONDS, RA_DATE };

struct rl_opts {
	int burst;         /* X-RateLimit-Max */
	int64_t window_ms; /* X-RateLimit-Interval-Milliseconds */
	int64_t daily;     /* X-RateLimit-Limit-Daily */
	int64_t day_ms;    /* the daily budget's period (0: a UTC day) */
	enum rl_retry_after retry_after; /* Retry-After on 429 answers */
	bool daily_reset; /* X-RateLimit-Daily-Reset: seconds left */
	bool bare_429;    /* 429 answers carry no rate-limit header */
	bool garbage;     /* every rate-limit header not an integer */
};

/* Values for the X-RateLimit-* headers, and the verdict. */
struct rl_result {
	bool allowed;
	int64_t limit_daily, daily_remaining, interval_ms, max, remaining;
	int64_t retry_after_ms; /* when refused: until a request counts */
	int64_t daily_reset_ms; /* until the daily budget renews */
};

struct ratelimit *ratelimit_create(const struct rl_opts *o);
void ratelimit_destroy(struct ratelimit *r);

/*
 * Count one request for burst_key / daily_key at mono_ms (monotonic) and
 * day (UTC day number; ignored when day_ms is set: the period is then
 * counted on the wall clock). Fills res; res->allowed false means 429.
 */
void ratelimit_hit(struct ratelimit *r, const char *burst_key,
	const char *daily_key, int64_t mono_ms, int64_t day,
	struct rl_result *res);

/*
 * The rate-limit headers of an answer with HTTP status `status`, as the
 * options say (none on a bare 429; garbage; Retry-After on a 429; the
 * daily reset): add(ctx, name, value) for each.
 */
void ratelimit_headers(const struct ratelimit *r, const struct rl_result *res,
	int status, void (*add)(void *ctx, const char *name, const char *value),
	void *ctx);

/* Header values for a request not tied to a credential (full budget). */
void ratelimit_defaults(const struct ratelimit *r, struct rl_result *res);

/* The most requests (allowed or not) seen in any one window, any key. */
int64_t ratelimit_max_seen(const struct ratelimit *r);

/* Forget every counter (for /__sim/reset). */
void ratelimit_reset(struct ratelimit *r);

#endif
