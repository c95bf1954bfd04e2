/*
 * store_search.h — running a search plan (see search.h) with filters over
 * the store: matching calls with snippets, counts, a call's text with
 * hits marked. The SQL it writes is the store's own (store_search_int.h).
 */
#ifndef CV_STORE_SEARCH_H
#define CV_STORE_SEARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "../search.h"
#include "../util.h"
#include "store.h"

enum store_sort { STORE_SORT_RELEVANCE, STORE_SORT_NEWEST, STORE_SORT_OLDEST };

struct store_search_opts {
	const struct search_plan *plan;     /* NULL: filters only */
	const struct search_filter *filter; /* NULL: no filters */
	enum store_sort sort; /* relevance falls back to newest when the
				     plan is not one FTS5 expression */
	int64_t limit, offset;
	int window;    /* newest/oldest: how many calls are checked in time
			 order before another strategy takes over; 0 =
			 default (tests set it small to cover every path) */
	int pool;      /* relevance: how many matches are ranked at most; 0 =
			 RELEVANCE_POOL (tests set it small) */
	bool ids_only; /* no snippets (the hits' fields are still filled) */
	/* out, optional: the pool size when sort=relevance ranked only the
	 * most recently stored matches because more matched, else 0 */
	int64_t *ranked_among;
};

/* The most matches sort=relevance ranks (see store_search). */
#define RELEVANCE_POOL 2000

/* One matching call. Strings owned by the hit. */
struct store_hit {
	int64_t rid;
	char *id, *location_id, *agent_id, *agent_name, *contact_id;
	char *from_number;
	int64_t created_at;
	double duration;
	bool has_duration;
	char *snippet; /* with SEARCH_MARK_ON/OFF around hits; never NULL */
};

/*
 * Run the search. On CV_OK *hits (caller frees with store_hits_free)
 * holds *n hits in the requested order. CV_EINVAL for bad options.
 */
enum cv_err store_search(struct store *s, const struct store_search_opts *o,
	struct store_hit **hits, size_t *n, char **errmsg) CV_MUST_CHECK;
void store_hits_free(struct store_hit *hits, size_t n);

/*
 * The first query store_search runs (the ids in order, LIMIT/OFFSET)
 * with its parameters inlined as SQL literals, for --explain and for
 * benchmarks against the sqlite3 shell. With a store (else NULL), prefix
 * terms are expanded as store_search expands them, and *fts (if not
 * NULL) gets the FTS5 expression that is run (NULL when there is none).
 * Caller frees.
 */
char *store_search_sql(struct store *s, const struct store_search_opts *o,
	char **fts);

/*
 * The plan as the store runs it, for --explain: "fts: <FTS5 expression>",
 * or "where: <SQL over calls c>" followed by a line for each parameter,
 * or "(no text condition)". Caller frees.
 */
char *store_search_describe(const struct search_plan *plan);

/* The number of calls the search matches (limit/offset ignored). */
enum cv_err store_search_count(struct store *s,
	const struct store_search_opts *o, int64_t *count,
	char **errmsg) CV_MUST_CHECK;

/*
 * The call's FTS5 columns (summary, bot, human, other) with the plan's
 * hits marked; cols[i] NULL when the column is empty. CV_ENOTFOUND when
 * there is no such call. Caller frees the four strings.
 */
enum cv_err store_search_highlight(struct store *s, const char *call_id,
	const struct search_plan *plan, char *cols[4],
	char **errmsg) CV_MUST_CHECK;

/*
 * The marked text of each of the n transcript turns (calllog_turns() of
 * the same call's transcript), taken in order from its speaker's column
 * of cols as store_search_highlight() returns them: the index keeps each
 * speaker's turns joined by '\n'. Returns an array of n new strings; the
 * caller frees each and the array.
 */
char **store_highlight_turns(const struct calllog_turn *turns, size_t n,
	char *const cols[4]);

#endif
