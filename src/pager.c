/* pager.c — see pager.h */
#include "pager.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct pager_window {
	int64_t start, end; /* inclusive, epoch ms */
	int64_t page;
	int64_t seen;         /* distinct records seen in this window */
	int64_t parent_total; /* total of the window split into this
				    one; -1 for none */
	int64_t last_n;       /* records on the previous page */
	int64_t last_total;   /* the previous page's total, or -1 */
	int repeats;          /* the same full page, in a row */
	int empties;          /* empty answers retried, in a row */
	int restarts;         /* re-paged because the total fell */
	bool pages_ignored;   /* a whole page came back for a later
				    page number: narrow, don't page */
	bool retry;
};

uint64_t pager_key(const void *bytes, size_t n)
{
	const unsigned char *b = bytes;
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h ? h : 1;
}

/* ---- sets of keys ------------------------------------------------------ */

void pager_keyset_clear(struct pager_keyset *ks)
{
	/* a large window's set is not kept for the small ones after it */
	if (ks->cap > 65536) {
		pager_keyset_free(ks);
	} else if (ks->slot) {
		memset(ks->slot, 0, ks->cap * sizeof(*ks->slot));
		ks->n = 0;
	}
}

void pager_keyset_free(struct pager_keyset *ks)
{
	free(ks->slot);
	memset(ks, 0, sizeof(*ks));
}

/* The slot of key: where it is, or the empty one where it would go. */
static size_t keyset_slot(const uint64_t *slot, size_t cap, uint64_t key)
{
	size_t i = key & (cap - 1);
	while (slot[i] && slot[i] != key)
		i = (i + 1) & (cap - 1);
	return i;
}

bool pager_keyset_has(const struct pager_keyset *ks, uint64_t key)
{
	return ks->cap && ks->slot[keyset_slot(ks->slot, ks->cap, key)];
}

bool pager_keyset_add(struct pager_keyset *ks, uint64_t key)
{
	if (2 * (ks->n + 1) > ks->cap) {
		size_t cap = ks->cap ? 2 * ks->cap : 256;
		uint64_t *ns = xcalloc(cap, sizeof(*ns));
		for (size_t i = 0; i < ks->cap; i++)
			if (ks->slot[i])
				ns[keyset_slot(ns, cap, ks->slot[i])] =
					ks->slot[i];
		free(ks->slot);
		ks->slot = ns;
		ks->cap = cap;
	}
	size_t i = keyset_slot(ks->slot, ks->cap, key);
	if (ks->slot[i])
		return false;
	ks->slot[i] = key;
	ks->n++;
	return true;
}

/* ---- windows ----------------------------------------------------------- */

/* Replace the current window by n new ones (in time order). */
static void replace_current(struct pager *p, const struct pager_window *nw,
	size_t n)
{
	if (p->nw - 1 + n > p->cap) {
		p->cap = (p->nw - 1 + n) * 2;
		p->w = xrealloc(p->w, p->cap * sizeof(*p->w));
	}
	memmove(p->w + n, p->w + 1, (p->nw - 1) * sizeof(*p->w));
	if (n)
		memcpy(p->w, nw, n * sizeof(*nw));
	p->nw = p->nw - 1 + n;
	p->windows_made += n;
	pager_keyset_clear(&p->seen);
}

static enum pager_step fail(struct pager *p, char *msg)
{
	free(p->error);
	p->error = msg;
	return PAGER_FAILED;
}

static enum pager_step window_done(struct pager *p)
{
	p->done_start = p->w[0].start;
	p->done_end = p->w[0].end;
	replace_current(p, NULL, 0);
	return PAGER_WINDOW_DONE;
}

static struct pager_window part(int64_t start, int64_t end,
	int64_t parent_total)
{
	return (struct pager_window){ .start = start,
		.end = end,
		.page = 1,
		.parent_total = parent_total,
		.last_total = -1 };
}

static enum pager_step too_many_windows(struct pager *p)
{
	return fail(p, xasprintf("paging did not converge: %zu windows "
				 "after %lld requests",
			       p->windows_made, (long long)p->requests));
}

/* The smallest window worth splitting: coarse date filters (records
 * far outside their window) make small windows overlap a lot. */
static int64_t min_split(const struct pager *p)
{
	int64_t m = PAGER_MIN_SPLIT_MS;
	if (p->max_outside > m / 8)
		m = p->max_outside * 8;
	return m;
}

static int64_t per_page(const struct pager *p)
{
	return p->page_size > 0 ? p->page_size : p->asked;
}

/* A first page whose total claims many pages: page the window in parts
 * instead (shorter windows move the checkpoint sooner after a crash). */
static bool split_large(struct pager *p, int64_t total)
{
	const struct pager_window *w = &p->w[0];
	int64_t per = per_page(p), span = w->end - w->start;
	if (!p->timed || p->total_unreliable || total <= 0 ||
		total <= PAGER_SPLIT_PAGES * per || span < 2 * min_split(p))
		return false;
	int64_t k = total / (PAGER_PART_PAGES * per) + 1;
	if (k > PAGER_MAX_PARTS)
		k = PAGER_MAX_PARTS;
	if (k > span / min_split(p))
		k = span / min_split(p);
	if (k < 2)
		return false;
	/* parts overlap by a millisecond: a server that reads both bounds
	 * as exclusive still lists a call on a boundary (in the earlier
	 * part); ids are counted once whatever the overlap */
	struct pager_window parts[PAGER_MAX_PARTS];
	for (int64_t i = 0; i < k; i++)
		parts[i] = part(w->start + span / k * i,
			i + 1 == k ? w->end : w->start + span / k * (i + 1) + 1,
			total);
	replace_current(p, parts, (size_t)k);
	p->splits++;
	return true;
}

/* The same full page for every page number: halve the window by time,
 * unless the date filter is too coarse for that to narrow anything. */
static enum pager_step bisect(struct pager *p, bool page_outside)
{
	const struct pager_window *w = &p->w[0];
	if (!p->timed)
		return fail(p, xasprintf("the server answers the same page "
					 "for every page number (page %lld)",
				       (long long)w->page));
	if (page_outside)
		return fail(p,
			xasprintf(
				"the server answers the same page "
				"for every page number, and its date filter is "
				"coarser than the window %lld..%lld, so no narrower "
				"window can reach the rest",
				(long long)w->start, (long long)w->end));
	if (w->end - w->start < 3)
		return fail(p,
			xasprintf(
				"the server answers the same page "
				"for every page number, and more than a page of "
				"records lies within %lld..%lld",
				(long long)w->start, (long long)w->end));
	/* halves overlap by a millisecond, as parts do */
	int64_t mid = w->start + (w->end - w->start) / 2;
	struct pager_window halves[2] = { part(w->start, mid + 1, -1),
		part(mid, w->end, -1) };
	halves[0].pages_ignored = halves[1].pages_ignored = true;
	replace_current(p, halves, 2);
	p->bisects++;
	return p->windows_made > PAGER_MAX_WINDOWS ? too_many_windows(p)
						   : PAGER_MORE;
}

/* ---- the interface ----------------------------------------------------- */

void pager_init(struct pager *p, int64_t start, int64_t end, int64_t asked,
	bool timed)
{
	memset(p, 0, sizeof(*p));
	p->asked = asked > 0 ? asked : 1;
	p->timed = timed;
	p->cap = 8;
	p->w = xcalloc(p->cap, sizeof(*p->w));
	p->w[0] = part(timed ? start : 0, timed ? end : 0, -1);
	p->nw = 1;
	p->windows_made = 1;
}

void pager_finish(struct pager *p)
{
	free(p->w);
	pager_keyset_free(&p->seen);
	free(p->error);
	memset(p, 0, sizeof(*p));
}

bool pager_next(const struct pager *p, struct pager_req *r)
{
	if (p->error || p->nw == 0)
		return false;
	r->start = p->w[0].start;
	r->end = p->w[0].end;
	r->page = p->w[0].page;
	r->retry = p->w[0].retry;
	return true;
}

bool pager_done(const struct pager *p)
{
	return !p->error && p->nw == 0;
}

/* The window again from page 1: the listing shifted under us. */
static enum pager_step restart(struct pager *p, struct pager_window *w)
{
	w->page = 1;
	w->seen = 0;
	w->last_n = 0;
	w->last_total = -1;
	w->repeats = w->empties = 0;
	w->retry = false;
	w->restarts++;
	p->restarts++;
	pager_keyset_clear(&p->seen);
	return PAGER_MORE;
}

/* The bound on a total from outside: past 2^53 it means nothing. */
#define TOTAL_MAX (INT64_C(1) << 53)

enum pager_step pager_page(struct pager *p, const struct pager_rec *recs,
	size_t n, int64_t total)
{
	if (p->error || p->nw == 0)
		return PAGER_FAILED;
	struct pager_window *w = &p->w[0];
	p->requests++;
	if (total > TOTAL_MAX)
		total = TOTAL_MAX;
	if (n == 0) {
		/* an empty page while the total claims more is asked again
		 * (a transient empty answer), a few times. If it stays
		 * empty the total is not the window's: it guides no more
		 * retries in this run. */
		if (total > w->seen && !p->total_unreliable) {
			if (w->empties++ < PAGER_MAX_REPEATS) {
				w->retry = true;
				p->repeats++;
				return PAGER_MORE;
			}
			p->total_unreliable = true;
		}
		return window_done(p);
	}
	w->empties = 0;
	/* a total that fell while we paged: a call was deleted, and those
	 * after it moved to pages already read, so read the window again
	 * (a few times at most; ids already stored change nothing) */
	if (total >= 0 && w->last_total >= 0 && total < w->last_total &&
		w->page > 1 && w->restarts < PAGER_MAX_RESTARTS)
		return restart(p, w);
	if (total >= 0)
		w->last_total = total;

	int64_t fresh = 0;
	bool outside = false;
	for (size_t i = 0; i < n; i++) {
		int64_t t = recs[i].created_at, off = 0;
		if (p->timed && t > 0)
			off = t < w->start ? w->start - t
			      : t > w->end ? t - w->end
					   : 0;
		if (off > 0) {
			outside = true;
			/* how coarse the filter is; a record years away
			 * says nothing about that */
			if (off > p->max_outside && off <= PAGER_MAX_COARSE_MS)
				p->max_outside = off;
		}
		fresh += pager_keyset_add(&p->seen, recs[i].key);
	}
	w->seen += fresh;
	/* a page followed by more records was a whole page: the server's
	 * page size, whatever it echoes */
	if (fresh > 0 && w->page > 1 && !w->retry && w->last_n > p->page_size)
		p->page_size = w->last_n;
	w->last_n = (int64_t)n;
	/* until that is known, anything short of what we asked for may be
	 * a whole page of a server that pages by less */
	bool whole = (int64_t)n >= p->asked ||
		     (p->page_size > 0 && (int64_t)n >= p->page_size);
	bool full = whole || p->page_size <= 0;

	if (w->page == 1 && !w->retry) {
		/* a part's total as large as its parent's: the total is not
		 * the window's, so it cannot guide splitting */
		if (w->parent_total > 0 && total >= w->parent_total)
			p->total_unreliable = true;
		if (split_large(p, total))
			return p->windows_made > PAGER_MAX_WINDOWS
				       ? too_many_windows(p)
				       : PAGER_MORE;
	}
	if (fresh == 0) {
		/* the same records again: a whole page repeated means the
		 * server ignores `page`; a short one, that it was all the
		 * window holds, whatever the total claims (a total is no
		 * proof: it is only noted, for the caller to report) */
		if (!whole) {
			if (total - w->seen > p->unreached)
				p->unreached = total - w->seen;
			return window_done(p);
		}
		if (!w->pages_ignored && ++w->repeats <= PAGER_MAX_REPEATS) {
			w->retry = true;
			p->repeats++;
			return PAGER_MORE;
		}
		/* after two or more distinct pages the server honours
		 * `page`: a page past the end answered with the last one */
		if (w->page >= 3)
			return window_done(p);
		return bisect(p, outside);
	}
	w->repeats = 0;
	w->retry = false;
	/* a window cut from one whose pages were ignored: a whole first
	 * page is all it can give, so narrow it at once */
	if (w->pages_ignored && whole && w->page == 1)
		return bisect(p, outside);
	/* a short page ends the window unless the total claims more: the
	 * total may only make us ask once more, never stop early */
	if (!full && !(total > w->seen))
		return window_done(p);
	if (++w->page > PAGER_MAX_PAGES)
		return fail(p, xasprintf("more than %d pages in the window "
					 "%lld..%lld",
				       PAGER_MAX_PAGES, (long long)w->start,
				       (long long)w->end));
	return PAGER_MORE;
}
