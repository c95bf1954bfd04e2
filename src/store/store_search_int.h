/*
 * store_search_int.h — the SQL of searches, inside the store: the text
 * condition of a plan (search.h's tree) and the filters as SQL over calls
 * c with the values bound to them (store_search_where.c), and what the
 * files of store_search share: store_search.c (the plan, the choice of a
 * path), store_search_paths.c (newest first without sorting),
 * store_search_hits.c (snippets). Nothing outside src/store/ includes
 * this.
 */
#ifndef CV_STORE_SEARCH_INT_H
#define CV_STORE_SEARCH_INT_H

#include <sqlite3.h>

#include "store_search.h"

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
void store_bind_args(sqlite3_stmt *st, int first,
	const struct store_sql_args *args);

/* Look up which agent ids f->agent (an id or a name) stands for and
 * record them in f, so the filter can use an index. */
enum cv_err store_resolve_agent(struct store *s, struct search_filter *f,
	char **errmsg) CV_MUST_CHECK;

/* Append " AND <condition>" for each filter set in f (NULL: none). */
void store_filter_sql(const struct search_filter *f, struct buf *sql,
	struct store_sql_args *args);

/*
 * Append the SQL predicate over calls c for cond (see search.h) and its
 * values. With labels, labels[k] names the table of the k-th value
 * ("calls_fts", "calls_digits" or "text"). The strings stay cond's.
 */
void store_cond_sql(const struct search_cond *cond, struct buf *sql,
	struct store_sql_args *args, const char **labels);

/*
 * Run `insert` (an "INSERT … SELECT <values>, *" whose last column takes
 * each matching call's rid) over the calls the search matches, unordered,
 * in one statement: query holds collect their calls without holding
 * them in memory. limit/offset/sort ignored.
 */
enum cv_err store_search_insert(struct store *s,
	const struct store_search_opts *o, const char *insert,
	char **errmsg) CV_MUST_CHECK;

/* Append a value of the SQL being written (store_search_where.c). */
void store_sql_arg_text(struct store_sql_args *a, const char *s);
void store_sql_arg_int(struct store_sql_args *a, int64_t i);

/* ---- store_search.c: the plan and its statements ---- */

/* CV_EPARSE when a term only non-Latin characters make searchable holds
 * no token for FTS5's own tokenizer. */
enum cv_err store_search_check_terms(struct store *s,
	const struct search_plan *pl, char **errmsg) CV_MUST_CHECK;
/* Prepare sql (a new statement: sqlite3_finalize it). */
enum cv_err store_search_prepare(struct store *s, const char *sql,
	sqlite3_stmt **st, char **errmsg) CV_MUST_CHECK;
/* Run a rid query with LIMIT/OFFSET, appending rids to *hits. */
enum cv_err store_search_collect_rids(struct store *s, const char *sql,
	const struct store_sql_args *a, int64_t limit, int64_t offset,
	struct store_hit **hits, size_t *n, char **errmsg) CV_MUST_CHECK;

/* ---- store_search_paths.c: newest (oldest) first without sorting ---- */

/*
 * Newest/oldest first for a plain FTS5 query: read the matches in rowid
 * order (FTS5's own order, no sorting) from the newest rowid down, keep
 * the best limit+offset by created time, and stop once no call not yet
 * seen (a smaller rowid) that passes the filters is newer than the worst
 * kept one. Calls arrive roughly in time order, so this usually stops
 * after a few pages of matches; the answer is exact either way.
 */
#define TOPK_MAX 100000
/* The bounded first try of an unfiltered search (store_search): pages of
 * up to 250 calls, 20 matches read per call wanted, at least 500. */
#define TOPK_TRY_MAX_WANT 250
#define TOPK_TRY_READS(want) ((want)*20 < 500 ? 500 : (want)*20)

/* The FTS5 top-k scan; with max_reads > 0, *done false (no hits) when
 * that many matches were read before the top k was complete. */
enum cv_err store_search_topk(struct store *s,
	const struct store_search_opts *o, int64_t max_reads,
	struct store_hit **hits, size_t *n, bool *done,
	char **errmsg) CV_MUST_CHECK;
/* The work budget of probing, in µs of one core's CPU. */
#define PROBE_WORK 20000
/* work: PROBE_WORK, or PROBE_WORK_UNFILTERED for an unfiltered search
 * (when probing gives up, a bounded top-k try comes next and then the
 * full scan, which reads every match above the newest calls' rowids:
 * 130 ms for 21,000, seconds for a backfill of a million) */
#define PROBE_WORK_UNFILTERED (3 * PROBE_WORK)
/* Probe the calls that pass the filters, newest (oldest) first, within
 * work; *done false when it ran out before a page was found. */
enum cv_err store_search_probe(struct store *s,
	const struct store_search_opts *o, int64_t work,
	struct store_hit **hits, size_t *n, bool *done,
	char **errmsg) CV_MUST_CHECK;
/* The window strategy; *done false when the caller must fall back. */
enum cv_err store_search_window(struct store *s,
	const struct store_search_opts *o, struct store_hit **hits, size_t *n,
	bool *done, char **errmsg) CV_MUST_CHECK;

/* ---- store_search_hits.c: what a hit shows ---- */

/* Snippets for all FTS hits in one pass over their rowid range. */
void store_search_snippets(struct store *s, const char *match,
	struct store_hit *h, size_t n);
/* h's columns and, unless it has one, its snippet. */
enum cv_err store_search_fill_hit(struct store *s, const struct search_plan *pl,
	struct store_hit *h, char **errmsg) CV_MUST_CHECK;

#endif
