/* ratelimit.c — see ratelimit.h */
#include "ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "util.h"

/* A queue of timestamps (ms), oldest first. */
struct tsq {
	int64_t *v;
	size_t head, len, cap;
};

struct burst {
	char *key;
	struct tsq ok;  /* allowed requests in the window */
	struct tsq all; /* every request in the window */
};

struct daily {
	char *key;
	int64_t day, count;
};

struct ratelimit {
	struct rl_opts o;
	struct burst *b;
	size_t nb;
	struct daily *d;
	size_t nd;
	int64_t max_seen;
};

#define TSQ_MAX 1000000

static void tsq_push(struct tsq *q, int64_t t)
{
	if (q->len == q->cap) {
		if (q->cap >= TSQ_MAX) { /* bounded: drop the oldest */
			q->head = (q->head + 1) % q->cap;
			q->len--;
		} else {
			size_t ncap = q->cap ? q->cap * 2 : 64;
			int64_t *nv = xmalloc(ncap * sizeof(*nv));
			for (size_t i = 0; i < q->len; i++)
				nv[i] = q->v[(q->head + i) % q->cap];
			free(q->v);
			q->v = nv;
			q->cap = ncap;
			q->head = 0;
		}
	}
	q->v[(q->head + q->len) % q->cap] = t;
	q->len++;
}

/* Drop entries at or before `cutoff`. */
static void tsq_trim(struct tsq *q, int64_t cutoff)
{
	while (q->len && q->v[q->head] <= cutoff) {
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
}

struct ratelimit *ratelimit_create(const struct rl_opts *o)
{
	struct ratelimit *r = xcalloc(1, sizeof(*r));
	r->o = *o;
	return r;
}

void ratelimit_reset(struct ratelimit *r)
{
	for (size_t i = 0; i < r->nb; i++) {
		free(r->b[i].key);
		free(r->b[i].ok.v);
		free(r->b[i].all.v);
	}
	for (size_t i = 0; i < r->nd; i++)
		free(r->d[i].key);
	free(r->b);
	free(r->d);
	r->b = NULL;
	r->d = NULL;
	r->nb = r->nd = 0;
	r->max_seen = 0;
}

void ratelimit_destroy(struct ratelimit *r)
{
	if (!r)
		return;
	ratelimit_reset(r);
	free(r);
}

static struct burst *get_burst(struct ratelimit *r, const char *key)
{
	for (size_t i = 0; i < r->nb; i++)
		if (!strcmp(r->b[i].key, key))
			return &r->b[i];
	r->b = xrealloc(r->b, (r->nb + 1) * sizeof(*r->b));
	struct burst *b = &r->b[r->nb++];
	memset(b, 0, sizeof(*b));
	b->key = xstrdup(key);
	return b;
}

static struct daily *get_daily(struct ratelimit *r, const char *key)
{
	for (size_t i = 0; i < r->nd; i++)
		if (!strcmp(r->d[i].key, key))
			return &r->d[i];
	r->d = xrealloc(r->d, (r->nd + 1) * sizeof(*r->d));
	struct daily *d = &r->d[r->nd++];
	memset(d, 0, sizeof(*d));
	d->key = xstrdup(key);
	return d;
}

/* ms until the current daily period ends. */
static int64_t day_left(const struct ratelimit *r)
{
	int64_t p = r->o.day_ms > 0 ? r->o.day_ms : 86400000;
	return p - cv_now_ms() % p;
}

void ratelimit_defaults(const struct ratelimit *r, struct rl_result *res)
{
	res->allowed = true;
	res->retry_after_ms = -1;
	res->daily_reset_ms = day_left(r);
	res->limit_daily = r->o.daily;
	res->daily_remaining = r->o.daily;
	res->interval_ms = r->o.window_ms;
	res->max = r->o.burst;
	res->remaining = r->o.burst;
}

void ratelimit_hit(struct ratelimit *r, const char *burst_key,
	const char *daily_key, int64_t mono_ms, int64_t day,
	struct rl_result *res)
{
	ratelimit_defaults(r, res);
	struct burst *b = get_burst(r, burst_key);
	struct daily *d = get_daily(r, daily_key);
	if (r->o.day_ms > 0)
		day = cv_now_ms() / r->o.day_ms;
	if (d->day != day) {
		d->day = day;
		d->count = 0;
	}
	int64_t cutoff = mono_ms - r->o.window_ms;
	tsq_trim(&b->ok, cutoff);
	tsq_trim(&b->all, cutoff);
	tsq_push(&b->all, mono_ms);
	if ((int64_t)b->all.len > r->max_seen)
		r->max_seen = (int64_t)b->all.len;
	if (d->count >= r->o.daily) {
		res->allowed = false;
		res->retry_after_ms = res->daily_reset_ms;
	} else if ((int64_t)b->ok.len >= r->o.burst) {
		/* until the oldest counted request leaves the window */
		res->allowed = false;
		res->retry_after_ms = b->ok.v[b->ok.head] + r->o.window_ms -
				      mono_ms;
	} else {
		tsq_push(&b->ok, mono_ms);
		d->count++;
	}
	res->remaining = r->o.burst - (int64_t)b->ok.len;
	res->daily_remaining = r->o.daily - d->count;
}

int64_t ratelimit_max_seen(const struct ratelimit *r)
{
	return r->max_seen;
}

/* Retry-After: whole seconds (rounded up), or that instant as an
 * IMF-fixdate (RFC 9110). */
static void retry_after(const struct ratelimit *r, int64_t ms, char *v,
	size_t n)
{
	int64_t secs = (ms + 999) / 1000;
	if (r->o.retry_after == RA_SECONDS) {
		snprintf(v, n, "%lld", (long long)secs);
		return;
	}
	time_t t = (time_t)(cv_now_ms() / 1000 + secs + 1);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(v, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

void ratelimit_headers(const struct ratelimit *r, const struct rl_result *res,
	int status, void (*add)(void *ctx, const char *name, const char *value),
	void *ctx)
{
	if (status == 429 && r->o.bare_429)
		return;
	const struct {
		const char *name, *junk;
		int64_t v;
	} h[] = {
		{ "X-RateLimit-Limit-Daily", "200k", res->limit_daily },
		{ "X-RateLimit-Daily-Remaining", "unknown",
			res->daily_remaining < 0 ? 0 : res->daily_remaining },
		{ "X-RateLimit-Interval-Milliseconds", "10s",
			res->interval_ms },
		{ "X-RateLimit-Max", "100.0", res->max },
		{ "X-RateLimit-Remaining", "-1",
			res->remaining < 0 ? 0 : res->remaining },
		{ "X-RateLimit-Daily-Reset", "midnight",
			(res->daily_reset_ms + 999) / 1000 },
	};
	char v[64];
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		if (i == 5 && !r->o.daily_reset)
			continue;
		snprintf(v, sizeof(v), "%lld", (long long)h[i].v);
		add(ctx, h[i].name, r->o.garbage ? h[i].junk : v);
	}
	if (status != 429 || r->o.retry_after == RA_NONE)
		return;
	retry_after(r,
		res->retry_after_ms >= 0 ? res->retry_after_ms
					 : res->interval_ms,
		v, sizeof(v));
	add(ctx, "Retry-After", r->o.garbage ? "soon" : v);
}
