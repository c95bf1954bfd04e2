/*
 * store_search_int.h — the SQL of searches, inside the store: the text
 * condition of a plan (search.h's tree) and the filters as SQL over calls
 * c with the values bound to them. Nothing outside src/store/ includes
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

#endif
