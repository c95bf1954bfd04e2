/* ratelimit.c — see ratelimit.h */
#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"

/* A queue of timestamps (ms), oldest first. */
struct tsq {
	int64_t *v;
	size_t head, len, cap;
};

struct burst {
	char *key;
	struct tsq ok;         /* allowed requests in the window */
	struct tsq all;        /* every request in the window */
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
		if (q->cap >= TSQ_MAX) {  /* bounded: drop the oldest */
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

void ratelimit_defaults(const struct ratelimit *r, struct rl_result *res)
{
	res->allowed = true;
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
	if ((int64_t)b->ok.len >= r->o.burst || d->count >= r->o.daily) {
		res->allowed = false;
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
