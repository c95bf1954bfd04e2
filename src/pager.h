/*
 * pager.h — list everything a page/pageSize endpoint holds, whatever the
 * server does within what HighLevel's OpenAPI file allows.
 *
 * The spec promises little: the server may serve another page size than
 * asked and echo anything; `total` may count the window, the location or
 * nothing in particular; the date filter may be coarser than a
 * millisecond (whole days, a time zone) or shifted; the order may not be
 * the one asked for. So nothing here trusts an echo. The pager splits a
 * time range into windows in time order and pages each window by page
 * number with the same date filter, so the order of records does not
 * matter. It ends a window from the records themselves: an empty page, a
 * short page (fewer records than the server's page size, once a run has
 * shown what that is: a page followed by more records) unless `total`
 * still claims more (a hint that can only ask for more, never stop
 * early), or the same full page again, which is retried and then split
 * in two by time. Records outside the window are the caller's to keep.
 *
 * Windows that tile a range tile it under any monotone reading of their
 * bounds (a coarser or shifted filter), so nothing falls between them;
 * adjacent windows overlap by a millisecond, so a server that reads both
 * bounds as exclusive loses no call on a boundary either. A total that
 * falls while a window is paged (a call deleted, the rest shifted onto
 * pages already read) makes the window be read again.
 *
 * Pure logic: no I/O, no allocation failure paths (xmalloc aborts). The
 * caller asks pager_next() what to request, and feeds the answer to
 * pager_page(). Every path is bounded: a server that makes no progress
 * ends in PAGER_FAILED with p->error saying what it did.
 */
#ifndef CV_PAGER_H
#define CV_PAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A window is split when its first page's total claims more than
 * PAGER_SPLIT_PAGES pages; the parts aim at PAGER_PART_PAGES pages. */
#define PAGER_SPLIT_PAGES 200
#define PAGER_PART_PAGES 100
#define PAGER_MAX_PARTS 64
#define PAGER_MIN_SPLIT_MS INT64_C(3600000) /* one hour */
#define PAGER_MAX_REPEATS 2  /* a repeated full page asked again */
#define PAGER_MAX_RESTARTS 3 /* a window re-paged when its total fell */
#define PAGER_MAX_COARSE_MS                                                    \
	(2 * INT64_C(86400000)) /* the coarsest
				    date filter a record's offset can show */
#define PAGER_MAX_PAGES 100000  /* pages in one window */
#define PAGER_MAX_WINDOWS 65536 /* windows in one run */

/* A set of pager keys (open addressing; 0 is never a key). */
struct pager_keyset {
	uint64_t *slot;
	size_t cap, n;
};
/* Add key; true when it was not there. */
bool pager_keyset_add(struct pager_keyset *ks, uint64_t key);
bool pager_keyset_has(const struct pager_keyset *ks, uint64_t key);
/* Empty it; a large set gives its memory back. */
void pager_keyset_clear(struct pager_keyset *ks);
void pager_keyset_free(struct pager_keyset *ks);

/* One record of a page, as the pager needs it. */
struct pager_rec {
	uint64_t key;       /* pager_key() of its id (or of its raw bytes
				when it has no id) */
	int64_t created_at; /* epoch ms; 0 when unknown */
};

/* What to request next. */
struct pager_req {
	int64_t start, end; /* the date filter (epoch ms); both 0 when the
				pager is untimed */
	int64_t page;       /* from 1 */
	bool retry;         /* the same page again (a repeat) */
};

enum pager_step {
	PAGER_MORE,        /* ask pager_next() and go on */
	PAGER_WINDOW_DONE, /* p->done_start..p->done_end is complete */
	PAGER_FAILED       /* p->error says why; nothing more to ask */
};

struct pager_window;

struct pager {
	int64_t asked;         /* the pageSize we send */
	bool timed;            /* windows have a date range */
	int64_t page_size;     /* the server's page size, once a page was
				followed by more records; 0 until then */
	bool total_unreliable; /* total ignores the window: split no more */
	int64_t max_outside;   /* farthest a record lay outside its window */

	/* the windows still to page, in time order (current first) */
	struct pager_window *w;
	size_t nw, cap, windows_made;

	struct pager_keyset seen; /* ids seen in the current window */

	int64_t done_start, done_end; /* the window PAGER_WINDOW_DONE ended */
	int64_t requests;
	int64_t splits, bisects, repeats, restarts;
	int64_t unreached; /* the most a window's total claimed beyond
				what its pages showed, when the same short
				page came back for a later page number */
	char *error;
};

/* The key of an id (or of any bytes): 64-bit FNV-1a, never 0. */
uint64_t pager_key(const void *bytes, size_t n);

/*
 * Start paging [start, end] (epoch ms) with pageSize `asked`; timed false
 * pages one undated listing (agents) and ignores start/end.
 */
void pager_init(struct pager *p, int64_t start, int64_t end, int64_t asked,
	bool timed);
void pager_finish(struct pager *p);

/* The next request; false when paging is over (done or failed). */
bool pager_next(const struct pager *p, struct pager_req *r);

/*
 * The answer to the last request: n records and the page's `total`
 * (-1 when absent or not a number).
 */
enum pager_step pager_page(struct pager *p, const struct pager_rec *recs,
	size_t n, int64_t total);

/* True when every window has been paged (and nothing failed). */
bool pager_done(const struct pager *p);

#endif
