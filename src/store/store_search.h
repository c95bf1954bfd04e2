/*
 * store_search.h — running a search plan (see search.h) with filters over
 * the store: matching calls with snippets, counts, a call's text with
 * hits marked, and the SQL of the filters (shared with export).
 */
#ifndef CV_STORE_SEARCH_H
#define CV_STORE_SEARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "../search.h"
#include "../util.h"
#include "store.h"

enum store_sort { STORE_SORT_RELEVANCE, STORE_SORT_NEWEST,
	STORE_SORT_OLDEST };

struct store_search_opts {
	const struct search_plan *plan;     /* NULL: filters only */
	const struct search_filter *filter; /* NULL: no filters */
	enum store_sort sort;     /* relevance falls back to newest when the
				     plan is not one FTS5 expression */
	int64_t limit, offset;
	int window;   /* newest/oldest: how many calls are checked in time
			 order before another strategy takes over; 0 =
			 default (tests set it small to cover every path) */
	int pool;     /* relevance: how many matches are ranked at most; 0 =
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
	char *snippet;   /* with SEARCH_MARK_ON/OFF around hits; never NULL */
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

/* The number of calls the search matches (limit/offset ignored). */
enum cv_err store_search_count(struct store *s,
	const struct store_search_opts *o, int64_t *count, char **errmsg)
	CV_MUST_CHECK;

/*
 * Run `insert` (an "INSERT … SELECT <values>, *" whose last column takes
 * each matching call's rid) over the calls the search matches, unordered,
 * in one statement: query holds collect their calls without holding
 * them in memory. limit/offset/sort ignored.
 */
enum cv_err store_search_insert(struct store *s,
	const struct store_search_opts *o, const char *insert,
	char **errmsg) CV_MUST_CHECK;

/*
 * The call's FTS5 columns (summary, bot, human, other) with the plan's
 * hits marked; cols[i] NULL when the column is empty. CV_ENOTFOUND when
 * there is no such call. Caller frees the four strings.
 */
enum cv_err store_search_highlight(struct store *s, const char *call_id,
	const struct search_plan *plan, char *cols[4], char **errmsg)
	CV_MUST_CHECK;

/*
 * The marked text of each of the n transcript turns (calllog_turns() of
 * the same call's transcript), taken in order from its speaker's column
 * of cols as store_search_highlight() returns them: the index keeps each
 * speaker's turns joined by '\n'. Returns an array of n new strings; the
 * caller frees each and the array.
 */
char **store_highlight_turns(const struct calllog_turn *turns, size_t n,
	char *const cols[4]);

/*
 * Values bound to the ? of a search's SQL, in order: at most two for each
 * term of the query (a long number fragment), and the filters' (eight
 * agent ids, seven others), a row id floor, a limit and an offset.
 */
#define STORE_SQL_ARGS_MAX (2 * SEARCH_MAX_TERMS + 32)
struct store_sql_args {
	size_t n;
	struct {
		enum { ARG_TEXT, ARG_INT, ARG_REAL } type;
		const char *s;
		int64_t i;
		double d;
	} v[STORE_SQL_ARGS_MAX];
};

/* Bind args to ?first, ?first+1, … of st. */
struct sqlite3_stmt;
void store_bind_args(struct sqlite3_stmt *st, int first,
	const struct store_sql_args *args);

/* SQL for the agent's name of calls c (NULL when unknown). */
#define STORE_AGENT_NAME_SQL                                               \
	" coalesce((SELECT a.name FROM agents a"                           \
	"   WHERE a.location_id = c.location_id AND a.id = c.agent_id),"   \
	"  (SELECT a.name FROM agents a WHERE a.id = c.agent_id LIMIT 1))"

/* Look up which agent ids f->agent (an id or a name) stands for and
 * record them in f, so the filter can use an index. */
enum cv_err store_resolve_agent(struct store *s, struct search_filter *f,
	char **errmsg) CV_MUST_CHECK;

/* Append " AND <condition>" for each filter set in f (NULL: none). */
void store_filter_sql(const struct search_filter *f, struct buf *sql,
	struct store_sql_args *args);

#endif
