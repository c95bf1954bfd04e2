/*
 * store_rank.h — relevance order for sort=relevance (internal to
 * src/store).
 *
 * FTS5's bm25() counts, on its first row, how many rows of the whole index
 * hold each phrase of the query: for a word in 820,000 of a million calls
 * that walk alone took 20–30 ms, whatever the rows to rank. Here BM25 is
 * computed with FTS5's formula and constants (k1 1.2, b 0.75, every column
 * weighted 1) from per-row parts (cv_bm25_parts: the row's length, the
 * index's average length, each phrase's hits), with each phrase's
 * document frequency counted among the ranked rows (the pool) instead.
 * With one phrase the order is bm25()'s; with several, a phrase rare
 * among the matches weighs more than one most of them hold, where bm25()
 * would weigh phrases by their rarity in the whole index.
 */
#ifndef CV_STORE_RANK_H
#define CV_STORE_RANK_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_search_int.h"

/*
 * Run sql (its ? bound from a), whose rows are (rowid,
 * cv_bm25_parts(calls_fts)) — the function is registered on the store's
 * connection on first use — score every row, and return the hits
 * offset..offset+limit of the best-first order (ties: newest first) with
 * only rid set.
 */
enum cv_err store_rank(struct store *s, const char *sql,
	const struct store_sql_args *a, int64_t limit, int64_t offset,
	struct store_hit **hits, size_t *n, char **errmsg) CV_MUST_CHECK;

#endif
