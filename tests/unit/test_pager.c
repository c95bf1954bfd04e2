/*
 * test_pager.c — the pager against model servers that use each freedom
 * the OpenAPI file leaves them: their own page size, coarse or shifted
 * date filters, any order, any total, and no paging at all.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pager.h"
#include "t.h"

#define DAY INT64_C(86400000)
#define T0 INT64_C(1735689600000) /* 2025-01-01 */

struct server {
	const int64_t *t; /* createdAt of record i (its id is i) */
	size_t n;
	int64_t page_size; /* 0: as asked */
	bool ignore_page;
	int64_t grain;  /* date filter granularity; 0: exact */
	int64_t shift;  /* the filter's time zone offset */
	int total_mode; /* 0 window, 1 all, 2 absent, 3 capped */
	bool newest_first;
	bool exclusive;    /* startDate < t < endDate */
	bool clamp_page;   /* a page past the end: the last page */
	int64_t empty_at;  /* this request (from 1) answers empty */
	int64_t delete_at; /* at this request, a call already served
				    is deleted (the listing shifts) */
	bool *gone;        /* deleted records */
	int64_t requests;
};

static int64_t floor_to(int64_t v, int64_t g)
{
	return v - (((v % g) + g) % g);
}

/* The first record at or after t (times are sorted). */
static size_t lower(const struct server *s, int64_t t)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->t[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int cmp_time(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t id_key(size_t i)
{
	char id[32];
	int len = snprintf(id, sizeof(id), "call-%zu", i);
	return pager_key(id, (size_t)len);
}

/* The record a key names. */
static uint64_t *key_sorted;
static size_t *key_idx;
static int cmp_key(const void *a, const void *b)
{
	uint64_t x = key_sorted[*(const size_t *)a];
	uint64_t y = key_sorted[*(const size_t *)b];
	return x < y ? -1 : x > y;
}

static void keys_index(const struct server *s)
{
	free(key_sorted);
	free(key_idx);
	key_sorted = calloc(s->n + 1, sizeof(*key_sorted));
	key_idx = calloc(s->n + 1, sizeof(*key_idx));
	for (size_t i = 0; i < s->n; i++) {
		key_sorted[i] = id_key(i);
		key_idx[i] = i;
	}
	qsort(key_idx, s->n, sizeof(*key_idx), cmp_key);
}

static size_t key_index(const struct server *s, uint64_t key)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (key_sorted[key_idx[mid]] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return key_idx[lo];
}

/* Serve one request; recs gets the page, *total the total. */
static size_t serve(struct server *s, const struct pager_req *r, int64_t asked,
	struct pager_rec *recs, int64_t *total)
{
	s->requests++;
	int64_t lo = r->start - s->shift, hi = r->end - s->shift;
	if (s->exclusive) {
		lo++;
		hi--;
	}
	if (s->grain) {
		lo = floor_to(lo, s->grain);
		hi = floor_to(hi, s->grain) + s->grain - 1;
	}
	lo += s->shift;
	hi += s->shift;
	/* the matching records, a run of the sorted times less the gone */
	size_t first = lower(s, lo), end = lower(s, hi + 1);
	size_t *idx = calloc(end - first + 1, sizeof(*idx)), m = 0;
	for (size_t i = first; i < end; i++)
		if (!s->gone[i])
			idx[m++] = i;
	if (s->requests == s->delete_at && m > 0)
		s->gone[idx[0]] = true; /* served on the first page */
	int64_t ps = s->page_size ? s->page_size : asked;
	int64_t page = s->ignore_page ? 1 : r->page;
	size_t from = (size_t)((page - 1) * ps), k = 0;
	if (s->clamp_page && m > 0 && from >= m)
		from = (m - 1) / (size_t)ps * (size_t)ps;
	if (s->requests == s->empty_at)
		from = m; /* a transient empty answer */
	for (size_t i = from; i < m && i < from + (size_t)ps; i++, k++) {
		size_t rec = s->newest_first ? idx[m - 1 - i] : idx[i];
		recs[k].key = id_key(rec);
		recs[k].created_at = s->t[rec];
	}
	free(idx);
	*total = s->total_mode == 0   ? (int64_t)m
		 : s->total_mode == 1 ? (int64_t)s->n
		 : s->total_mode == 2 ? -1
				      : (int64_t)(m < 100 ? m : 100);
	return k;
}

/* Page [start, end] through s; seen[i] counts how often record i came.
 * Returns the pager's last step. */
static enum pager_step run(struct server *s, int64_t start, int64_t end,
	int64_t asked, int *seen, struct pager *p, int64_t *windows)
{
	struct pager_rec *recs = calloc(1000, sizeof(*recs));
	struct pager_req r;
	enum pager_step st = PAGER_MORE;
	int64_t last_end = start;
	*windows = 0;
	keys_index(s);
	pager_init(p, start, end, asked, true);
	while (pager_next(p, &r)) {
		int64_t total;
		size_t n = serve(s, &r, asked, recs, &total);
		for (size_t i = 0; i < n; i++)
			seen[key_index(s, recs[i].key)]++;
		st = pager_page(p, recs, n, total);
		if (st == PAGER_WINDOW_DONE) {
			/* windows complete in time order and tile (with a
			 * millisecond of overlap) */
			CHECK_MSG(p->done_start <= last_end &&
					  p->done_start >= last_end - 1,
				"window %lld.. after %lld",
				(long long)p->done_start, (long long)last_end);
			last_end = p->done_end;
			(*windows)++;
		}
		if (st == PAGER_FAILED)
			break;
	}
	if (st != PAGER_FAILED)
		CHECK_INT(last_end, end);
	free(recs);
	return st;
}

/* n records spread over [from, from + span), some in the same ms,
 * sorted by time (record i is the i-th oldest) */
static int64_t *make_times(size_t n, int64_t from, int64_t span, unsigned seed)
{
	int64_t *t = calloc(n, sizeof(*t));
	srand(seed);
	for (size_t i = 0; i < n; i++)
		t[i] = (i % 17 == 3 && i)
			       ? t[i - 1]
			       : from + (int64_t)((double)rand() / RAND_MAX *
						  (double)(span - 1));
	qsort(t, n, sizeof(*t), cmp_time);
	return t;
}

static size_t missing(const int *seen, const bool *gone, size_t n)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		m += seen[i] == 0 && !gone[i];
	return m;
}

static void scenario(const char *name, struct server base, size_t n,
	int64_t asked, double max_ratio)
{
	int64_t span = 40 * DAY;
	int64_t *t = make_times(n, T0 + 2 * DAY, span, (unsigned)n);
	struct server s = base;
	s.t = t;
	s.n = n;
	s.gone = calloc(n + 1, sizeof(*s.gone));
	int *seen = calloc(n, sizeof(*seen));
	struct pager p;
	int64_t windows;
	enum pager_step st = run(&s, T0, T0 + span + 4 * DAY, asked, seen, &p,
		&windows);
	CHECK_MSG(st != PAGER_FAILED, "%s: failed: %s", name,
		p.error ? p.error : "?");
	CHECK_MSG(pager_done(&p), "%s: not done", name);
	size_t miss = missing(seen, s.gone, n);
	CHECK_MSG(miss == 0, "%s: %zu of %zu records never served", name, miss,
		n);
	int64_t per = s.page_size ? s.page_size : asked;
	double floor = (double)(n + (size_t)per - 1) / (double)per;
	CHECK_MSG((double)s.requests <= floor * max_ratio + 4,
		"%s: %lld "
		"requests for %zu records (floor %.0f)",
		name, (long long)s.requests, n, floor);
	pager_finish(&p);
	free(s.gone);
	free(seen);
	free(t);
}

static void test_freedoms(void)
{
	struct server exact = { 0 };
	scenario("exact", exact, 2000, 50, 1.05);
	scenario("exact, one short page", exact, 7, 50, 1.0);
	scenario("exact, none", exact, 0, 50, 1.0);
	scenario("exact, large (split)", exact, 30000, 50, 1.05);
	struct server s;
	s = exact;
	s.page_size = 10;
	scenario("server pages by 10", s, 1300, 50, 1.05);
	s = exact;
	s.newest_first = true;
	scenario("sort ignored", s, 1300, 50, 1.05);
	s = exact;
	s.grain = DAY;
	scenario("whole-day filter", s, 1300, 50, 1.1);
	s = exact;
	s.shift = -5 * 3600000;
	scenario("time-zone filter", s, 1300, 50, 1.05);
	s = exact;
	s.total_mode = 1;
	scenario("total counts every call", s, 1300, 50, 1.1);
	s = exact;
	s.total_mode = 2;
	scenario("no total", s, 1300, 50, 1.1);
	s = exact;
	s.total_mode = 3;
	scenario("total capped", s, 1300, 50, 1.1);
	s = exact;
	s.ignore_page = true;
	scenario("page ignored (bisection)", s, 1300, 50, 6.0);
	s.page_size = 10;
	s.newest_first = true;
	s.grain = 0;
	s.shift = 3600000;
	s.total_mode = 1;
	s.ignore_page = false;
	scenario("all at once", s, 1300, 50, 1.1);
	s = exact;
	s.total_mode = 1;
	s.page_size = 10;
	scenario("all calls, large", s, 30000, 50, 1.05);
	s = exact;
	s.grain = DAY;
	s.total_mode = 0;
	scenario("whole days, large", s, 30000, 50, 1.15);
	s = exact;
	s.exclusive = true;
	scenario("exclusive bounds, large (split)", s, 30000, 50, 1.05);
	s.ignore_page = true;
	scenario("exclusive bounds, page ignored", s, 1300, 50, 6.0);
	s = exact;
	s.page_size = 10;
	s.empty_at = 2;
	scenario("a transient empty page 2", s, 1300, 50, 1.1);
	s = exact;
	s.delete_at = 3;
	scenario("a call deleted while paging", s, 1300, 50, 2.2);
	s = exact;
	s.clamp_page = true;
	s.total_mode = 1;
	scenario("past the end, the last page again", s, 1300, 50, 1.2);
	s = exact;
	s.clamp_page = true;
	scenario("past the end, exactly 26 pages", s, 1300, 50, 1.2);
}

/* No paging and a coarse filter: nothing narrower can reach the rest, so
 * the pager stops with an error naming it instead of looping. */
static void test_gives_up(void)
{
	size_t n = 300;
	int64_t *t = make_times(n, T0 + DAY, DAY / 2, 7);
	bool *gone = calloc(n + 1, sizeof(*gone));
	struct server s = { .t = t,
		.n = n,
		.gone = gone,
		.ignore_page = true,
		.grain = DAY };
	int *seen = calloc(n, sizeof(*seen));
	struct pager p;
	int64_t windows;
	enum pager_step st = run(&s, T0, T0 + 3 * DAY, 50, seen, &p, &windows);
	CHECK_INT(st, PAGER_FAILED);
	CHECK(p.error && strstr(p.error, "coarser"));
	CHECK_MSG(s.requests < 200, "%lld requests", (long long)s.requests);
	pager_finish(&p);

	/* the same page forever, untimed (agents) */
	struct pager_rec recs[3] = { { 1, 0 }, { 2, 0 }, { 3, 0 } };
	pager_init(&p, 0, 0, 3, false);
	struct pager_req r;
	int asks = 0;
	enum pager_step last = PAGER_MORE;
	while (pager_next(&p, &r) && asks < 100) {
		asks++;
		last = pager_page(&p, recs, 3, 100);
	}
	CHECK_INT(last, PAGER_FAILED);
	CHECK(asks <= 2 + PAGER_MAX_REPEATS);
	pager_finish(&p);
	free(gone);
	free(seen);
	free(t);
}

/* Bounds read as exclusive, by a server that ignores `page`: every
 * millisecond is a bisection boundary here, and none is lost. */
static void test_exclusive_boundaries(void)
{
	int64_t t[7];
	for (int i = 0; i < 7; i++)
		t[i] = T0 + 1 + i;
	bool gone[8] = { false };
	struct server s = { .t = t,
		.n = 7,
		.gone = gone,
		.exclusive = true,
		.ignore_page = true };
	int seen[7] = { 0 };
	struct pager p;
	int64_t windows;
	enum pager_step st = run(&s, T0, T0 + 8, 2, seen, &p, &windows);
	CHECK_MSG(st != PAGER_FAILED, "failed: %s", p.error ? p.error : "");
	CHECK_INT(missing(seen, gone, 7), 0);
	pager_finish(&p);
}

/* A mock that serves the spec's example for every request: one record,
 * a total of 100, whatever the page or dates. The records say that is
 * all there is; the total is noted, never a reason to fail or loop. */
static void test_static_example(void)
{
	struct pager p;
	struct pager_req r;
	struct pager_rec one = { 42, T0 - 400 * DAY };
	int asks = 0;
	enum pager_step st = PAGER_MORE;
	pager_init(&p, T0, T0 + 30 * DAY, 50, true);
	while (pager_next(&p, &r) && asks < 50) {
		asks++;
		st = pager_page(&p, &one, 1, 100);
	}
	CHECK_INT(st, PAGER_WINDOW_DONE);
	CHECK(pager_done(&p));
	CHECK_INT(asks, 2);
	CHECK_INT(p.unreached, 99);
	pager_finish(&p);
}

/* An untimed listing (agents): short page ends it; a total that claims
 * more asks once more. */
static void test_untimed(void)
{
	struct pager p;
	struct pager_req r;
	struct pager_rec a[10], b[4];
	for (int i = 0; i < 10; i++)
		a[i] = (struct pager_rec){ (uint64_t)i + 1, 0 };
	for (int i = 0; i < 4; i++)
		b[i] = (struct pager_rec){ (uint64_t)i + 100, 0 };
	pager_init(&p, 5, 9, 50, false);
	CHECK(pager_next(&p, &r));
	CHECK_INT(r.start, 0);
	CHECK_INT(r.page, 1);
	CHECK_INT(pager_page(&p, a, 10, 14), PAGER_MORE); /* full: 10 */
	CHECK(pager_next(&p, &r));
	CHECK_INT(r.page, 2);
	CHECK_INT(pager_page(&p, b, 4, 14), PAGER_WINDOW_DONE);
	CHECK(!pager_next(&p, &r));
	CHECK(pager_done(&p));
	pager_finish(&p);

	/* a short page while total claims more: one more ask; an empty
	 * answer then is asked again twice before it ends the listing */
	pager_init(&p, 0, 0, 50, false);
	CHECK_INT(pager_page(&p, b, 4, 500), PAGER_MORE);
	CHECK(pager_next(&p, &r));
	CHECK_INT(r.page, 2);
	CHECK_INT(pager_page(&p, NULL, 0, 500), PAGER_MORE);
	CHECK(pager_next(&p, &r) && r.retry && r.page == 2);
	CHECK_INT(pager_page(&p, NULL, 0, 500), PAGER_MORE);
	CHECK_INT(pager_page(&p, NULL, 0, 500), PAGER_WINDOW_DONE);
	CHECK(p.total_unreliable);
	pager_finish(&p);
}

int main(void)
{
	test_freedoms();
	test_gives_up();
	test_exclusive_boundaries();
	test_static_example();
	test_untimed();
	free(key_sorted);
	free(key_idx);
	return t_done();
}
