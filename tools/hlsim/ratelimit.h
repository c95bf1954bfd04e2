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

struct rl_opts {
	int burst;             /* X-RateLimit-Max */
	int64_t window_ms;     /* X-RateLimit-Interval-Milliseconds */
	int64_t daily;         /* X-RateLimit-Limit-Daily */
};

/* Values for the five X-RateLimit-* headers, and the verdict. */
struct rl_result {
	bool allowed;
	int64_t limit_daily, daily_remaining, interval_ms, max, remaining;
};

struct ratelimit *ratelimit_create(const struct rl_opts *o);
void ratelimit_destroy(struct ratelimit *r);

/*
 * Count one request for burst_key / daily_key at mono_ms (monotonic) and
 * day (UTC day number). Fills res; res->allowed false means answer 429.
 */
void ratelimit_hit(struct ratelimit *r, const char *burst_key,
	const char *daily_key, int64_t mono_ms, int64_t day,
	struct rl_result *res);

/* Header values for a request not tied to a credential (full budget). */
void ratelimit_defaults(const struct ratelimit *r, struct rl_result *res);

/* The most requests (allowed or not) seen in any one window, any key. */
int64_t ratelimit_max_seen(const struct ratelimit *r);

/* Forget every counter (for /__sim/reset). */
void ratelimit_reset(struct ratelimit *r);

#endif
