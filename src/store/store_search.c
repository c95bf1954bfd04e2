/*
 * store_search.c — see store_search.h: a search's plan made ready (terms
 * checked, prefixes expanded, one read snapshot), the choice of a path to
 * its hits, counts and inserts. The SQL of its conditions is in
 * store_search_where.c, the newest-first paths in store_search_paths.c,
 * hits' snippets and highlights in store_search_hits.c.
 */
#include "store_search.h"
#include "store_search_int.h"

#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "store_rank.h"
#include "store_terms.h"

/* the columns store_rank scores */
#define RANK_COLUMNS "calls_fts.rowid, cv_bm25_parts(calls_fts)"

/*
 * Every term of the plan that only non-Latin characters make searchable
 * must hold a token for FTS5's own tokenizer: a one-row temporary index
 * of the term must match the term. CV_EPARSE naming the position if not.
 */
enum cv_err store_search_check_terms(struct store *s,
	const struct search_plan *pl, char **errmsg)
{
	static const char ins[] = "INSERT INTO temp.cv_terms(x) VALUES (?)";
	static const char probe[] =
		"SELECT count(*) FROM temp.cv_terms WHERE cv_terms MATCH ?";
	if (!pl || !pl->n_unsure)
		return CV_OK;
	enum cv_err rc = store_exec(s,
		"CREATE VIRTUAL TABLE IF NOT EXISTS temp.cv_terms USING fts5(x,"
		" tokenize = 'porter unicode61 remove_diacritics 2');",
		errmsg);
	for (size_t i = 0; rc == CV_OK && i < pl->n_unsure; i++) {
		const char *t = pl->unsure[i].text;
		char *q = xasprintf("\"%s\"", t);
		for (char *c = q + 1; c[1]; c++)
			if (*c == '"')
				*c = ' ';
		sqlite3_stmt *st;
		rc = store_exec(s, "DELETE FROM temp.cv_terms", errmsg);
		if (rc == CV_OK && !(st = store_stmt(s, ins, errmsg)))
			rc = CV_EDB;
		if (rc == CV_OK) {
			sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				rc = store_dberr(s, errmsg, "check terms");
			sqlite3_reset(st);
		}
		if (rc == CV_OK && !(st = store_stmt(s, probe, errmsg)))
			rc = CV_EDB;
		if (rc == CV_OK) {
			sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
			int r = sqlite3_step(st);
			bool empty = r != SQLITE_ROW ||
				     sqlite3_column_int64(st, 0) == 0;
			sqlite3_reset(st);
			if (empty)
				rc = cv_error(errmsg, CV_EPARSE,
					"position %d: '%s' has no letters or "
					"digits the index can search for; "
					"hint: remove it",
					pl->unsure[i].pos, t);
		}
		free(q);
	}
	return rc;
}

/* o = oo with its filter copied into f and the agent resolved. */
static enum cv_err resolved(struct store *s, const struct store_search_opts *oo,
	struct store_search_opts *o, struct search_filter *f, char **errmsg)
{
	*o = *oo;
	enum cv_err rc = store_search_check_terms(s, oo->plan, errmsg);
	if (rc != CV_OK || !oo->filter)
		return rc;
	*f = *oo->filter;
	o->filter = f;
	return store_resolve_agent(s, f, errmsg);
}

/*
 * The plan with its prefix terms expanded into ORs of the index's terms
 * (store_terms.c), which FTS5 reads lazily in rowid order instead of
 * merging every matching doclist first: cancel* over a million calls,
 * ~200 ms -> a few ms.
 */
struct expanded {
	struct search_plan plan;
	char **own;
	size_t n_own;
	struct search_cond cond; /* a copy of the plan's, expanded */
};

static const char *expand(struct store *s, struct expanded *x, const char *fts,
	int *left)
{
	int l = 0;
	char *e = fts ? store_terms_expand(s, fts, &l) : NULL;
	*left += l;
	if (!e)
		return fts;
	x->own = xrealloc(x->own, (x->n_own + 1) * sizeof(*x->own));
	x->own[x->n_own++] = e;
	return e;
}

/* dst = src with its FTS5 expressions expanded; the strings are src's or
 * x's, the kids arrays dst's own (cond_copy_finish). */
static void cond_expand(struct store *s, struct expanded *x,
	const struct search_cond *src, struct search_cond *dst, int *left)
{
	*dst = *src;
	if (src->kind != SEARCH_COND_DIGITS)
		dst->match = (char *)expand(s, x, src->match, left);
	if (!src->n)
		return;
	dst->kids = xcalloc(src->n, sizeof(*dst->kids));
	for (size_t i = 0; i < src->n; i++)
		cond_expand(s, x, &src->kids[i], &dst->kids[i], left);
}

static void cond_copy_finish(struct search_cond *c)
{
	for (size_t i = 0; i < c->n; i++)
		cond_copy_finish(&c->kids[i]);
	free(c->kids);
}

static void expand_plan(struct store *s, struct store_search_opts *o,
	struct expanded *x)
{
	memset(x, 0, sizeof(*x));
	const struct search_plan *pl = o->plan;
	if (!pl || !pl->prefix)
		return;
	x->plan = *pl;
	int left = 0;
	x->plan.fts = (char *)expand(s, x, pl->fts, &left);
	x->plan.highlight = (char *)expand(s, x, pl->highlight, &left);
	if (pl->cond) {
		cond_expand(s, x, pl->cond, &x->cond, &left);
		x->plan.cond = &x->cond;
	}
	x->plan.prefix = left > 0;
	o->plan = &x->plan;
}

static void expanded_finish(struct expanded *x)
{
	for (size_t i = 0; i < x->n_own; i++)
		free(x->own[i]);
	free(x->own);
	if (x->plan.cond)
		cond_copy_finish(&x->cond);
}

/*
 * One read snapshot for the term list and every query of a search: a call
 * changed in between must not fall between an expansion and the search it
 * was made for. Begins a read transaction unless one is open (*own_tx
 * says which) and expands o's plan into *x.
 */
static enum cv_err snapshot_begin(struct store *s, struct store_search_opts *o,
	struct expanded *x, bool *own_tx, char **errmsg)
{
	*own_tx = !s->in_tx && !store_tx_active(s);
	if (*own_tx && store_exec(s, "BEGIN", errmsg) != CV_OK)
		return CV_EDB;
	expand_plan(s, o, x);
	return CV_OK;
}

static void snapshot_end(struct store *s, struct expanded *x, bool own_tx)
{
	expanded_finish(x);
	if (own_tx)
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

static bool has_filters(const struct search_filter *f)
{
	struct buf b;
	struct store_sql_args a = { 0 };
	buf_init(&b);
	store_filter_sql(f, &b, &a);
	bool any = b.len > 0;
	buf_finish(&b);
	return any;
}

/*
 * Build "SELECT <what> FROM … WHERE …" for the options into sql/args.
 * The text condition's parameters come first.
 */
static void build(const struct store_search_opts *o, const char *what,
	bool ordered, int64_t rid_floor, struct buf *sql,
	struct store_sql_args *a)
{
	const struct search_plan *pl = o->plan;
	bool fts = pl && pl->fts;
	bool filters = has_filters(o->filter);
	if (fts && !filters && !ordered) {
		/* FTS5 alone: no join needed */
		buf_printf(sql,
			"SELECT %s FROM calls_fts WHERE calls_fts "
			"MATCH ?",
			strcmp(what, "c.rid") == 0 ? "rowid" : what);
		store_sql_arg_text(a, pl->fts);
		if (rid_floor > 0) {
			buf_puts(sql, " AND rowid >= ?");
			store_sql_arg_int(a, rid_floor);
		}
		return;
	}
	if (fts) {
		/* CROSS JOIN: FTS5 drives, whatever the planner guesses */
		buf_printf(sql,
			"SELECT %s FROM calls_fts CROSS JOIN calls c ON "
			"c.rid = calls_fts.rowid WHERE calls_fts "
			"MATCH ?",
			what);
		store_sql_arg_text(a, pl->fts);
		if (rid_floor > 0) {
			buf_puts(sql, " AND calls_fts.rowid >= ?");
			store_sql_arg_int(a, rid_floor);
		}
	} else {
		buf_printf(sql, "SELECT %s FROM calls c WHERE 1", what);
		if (pl && pl->cond) {
			buf_puts(sql, " AND ");
			store_cond_sql(pl->cond, sql, a, NULL);
		}
	}
	store_filter_sql(o->filter, sql, a);
	if (!ordered)
		return;
	/* (relevance is ordered by store_rank, from unordered rows) */
	if (o->sort == STORE_SORT_OLDEST)
		buf_puts(sql, " ORDER BY c.created_at, c.rid");
	else
		buf_puts(sql, " ORDER BY c.created_at DESC, c.rid DESC");
}

enum cv_err store_search_prepare(struct store *s, const char *sql,
	sqlite3_stmt **st, char **errmsg)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return store_dberr(s, errmsg, "search");
	}
	return CV_OK;
}

/* Run a rid query with LIMIT/OFFSET, appending rids to *hits. */
enum cv_err store_search_collect_rids(struct store *s, const char *sql,
	const struct store_sql_args *a, int64_t limit, int64_t offset,
	struct store_hit **hits, size_t *n, char **errmsg)
{
	sqlite3_stmt *st;
	enum cv_err rc = store_search_prepare(s, sql, &st, errmsg);
	if (rc != CV_OK)
		return rc;
	store_bind_args(st, 1, a);
	sqlite3_bind_int64(st, (int)a->n + 1, limit);
	sqlite3_bind_int64(st, (int)a->n + 2, offset);
	size_t cap = *n;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n >= cap) {
			cap = cap ? cap * 2 : 64;
			*hits = xrealloc(*hits, cap * sizeof(**hits));
		}
		memset(&(*hits)[*n], 0, sizeof(**hits));
		(*hits)[(*n)++].rid = sqlite3_column_int64(st, 0);
	}
	if (r != SQLITE_DONE)
		rc = store_dberr(s, errmsg, "search");
	sqlite3_finalize(st);
	return rc;
}

/* The matching calls' `what` (unordered, then `tail`), prepared and
 * bound. */
static enum cv_err prepare_unordered(struct store *s,
	const struct store_search_opts *o, const char *what, const char *tail,
	sqlite3_stmt **st, char **errmsg)
{
	struct buf sql;
	struct store_sql_args a = { 0 };
	buf_init(&sql);
	build(o, what, false, 0, &sql, &a);
	buf_puts(&sql, tail);
	enum cv_err rc = store_search_prepare(s, sql.data, st, errmsg);
	buf_finish(&sql);
	if (rc == CV_OK)
		store_bind_args(*st, 1, &a);
	return rc;
}

/* Whether the answer is ordered by store_rank (relevance needs one FTS5
 * expression; otherwise it falls back to newest first). */
static bool ranks(const struct store_search_opts *o)
{
	return o->plan && o->plan->fts && o->sort == STORE_SORT_RELEVANCE;
}

/* The pool is never smaller than one page; pages past its end are
 * empty (the offset does not widen it: every page ranks the same pool,
 * and a large offset cannot make one request score a million matches). */
static int pool_of(const struct store_search_opts *o)
{
	int64_t pool = o->pool > 0 ? o->pool : RELEVANCE_POOL;
	return (int)(o->limit > pool
			     ? (o->limit < INT32_MAX ? o->limit : INT32_MAX)
			     : pool);
}

/*
 * Relevance ranks at most RELEVANCE_POOL matches. BM25 scores every
 * candidate (~3 µs each), so ranking all 820,000 matches of a common word
 * in a million calls took seconds of CPU, and a few such requests stalled
 * every other console user. When more match, the pool is the
 * RELEVANCE_POOL most recently stored matching calls (the highest
 * rowids, read in FTS5's own order without scoring): *floor is the
 * lowest rowid in it, else 0 (no more match than that: all are ranked).
 */
static enum cv_err relevance_floor(struct store *s,
	const struct store_search_opts *o, int64_t *floor, char **errmsg)
{
	/* the pool's last rowid, and whether there is one more */
	char *tail = xasprintf(" ORDER BY calls_fts.rowid DESC LIMIT 2 "
			       "OFFSET %d",
		pool_of(o) - 1);
	sqlite3_stmt *st;
	enum cv_err rc = prepare_unordered(s, o, "c.rid", tail, &st, errmsg);
	free(tail);
	if (rc != CV_OK)
		return rc;
	int r = sqlite3_step(st);
	int64_t last = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (r == SQLITE_ROW)
		r = sqlite3_step(st);
	*floor = r == SQLITE_ROW ? last : 0;
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = store_dberr(s, errmsg, "search");
	sqlite3_finalize(st);
	return rc;
}

enum cv_err store_search(struct store *s, const struct store_search_opts *oo,
	struct store_hit **hits, size_t *n, char **errmsg)
{
	*hits = NULL;
	*n = 0;
	struct search_filter f;
	struct store_search_opts ocopy, *o = &ocopy;
	enum cv_err arc = resolved(s, oo, o, &f, errmsg);
	if (arc != CV_OK)
		return arc;
	if (o->limit < 0 || o->offset < 0)
		return cv_error(errmsg, CV_EINVAL, "negative limit or offset");
	struct expanded x;
	bool own_tx;
	if (snapshot_begin(s, o, &x, &own_tx, errmsg) != CV_OK)
		return CV_EDB;
	const struct search_plan *pl = o->plan;
	bool text = pl && (pl->fts || pl->cond);
	bool ranked = ranks(o);
	bool done = false;
	enum cv_err rc = CV_OK;
	if (oo->ranked_among)
		*oo->ranked_among = 0;
	if (text && pl->fts && !ranked && o->limit + o->offset <= TOPK_MAX) {
		int64_t want = o->limit + o->offset;
		bool filtered = has_filters(o->filter);
		/* dense text: the newest calls (that pass the filters)
		 * probed, in batches (cheap while their rowids are close);
		 * unfiltered, then the top-k scan in rowid order, bounded,
		 * which finishes while rowid order is time order */
		bool unfiltered = !filtered && !pl->prefix &&
				  want <= TOPK_TRY_MAX_WANT;
		if (!pl->prefix && (filtered || unfiltered))
			rc = store_search_probe(s, o,
				unfiltered ? PROBE_WORK_UNFILTERED : PROBE_WORK,
				hits, n, &done, errmsg);
		if (rc == CV_OK && !done && unfiltered) {
			store_hits_free(*hits, *n);
			*hits = NULL;
			*n = 0;
			rc = store_search_topk(s, o, TOPK_TRY_READS(want), hits,
				n, &done, errmsg);
		}
		if (rc == CV_OK && !done) {
			store_hits_free(*hits, *n);
			*hits = NULL;
			*n = 0;
			rc = store_search_topk(s, o, 0, hits, n, &done, errmsg);
		}
		done = true;
	} else if (text && !ranked) {
		rc = store_search_window(s, o, hits, n, &done, errmsg);
	}
	if (rc == CV_OK && !done) {
		store_hits_free(*hits, *n);
		*hits = NULL;
		*n = 0;
		int64_t floor = 0;
		if (ranked)
			rc = relevance_floor(s, o, &floor, errmsg);
		if (oo->ranked_among)
			*oo->ranked_among = floor > 0 ? pool_of(o) : 0;
		struct buf sql;
		struct store_sql_args a = { 0 };
		buf_init(&sql);
		if (ranked) {
			build(o, RANK_COLUMNS, false, floor, &sql, &a);
			if (rc == CV_OK)
				rc = store_rank(s, sql.data, &a, o->limit,
					o->offset, hits, n, errmsg);
		} else {
			build(o, "c.rid", true, floor, &sql, &a);
			buf_puts(&sql, " LIMIT ? OFFSET ?");
			if (rc == CV_OK)
				rc = store_search_collect_rids(s, sql.data, &a,
					o->limit, o->offset, hits, n, errmsg);
		}
		buf_finish(&sql);
	}
	if (rc == CV_OK && pl && pl->highlight && !o->ids_only)
		store_search_snippets(s, pl->highlight, *hits, *n);
	for (size_t i = 0; rc == CV_OK && i < *n; i++)
		rc = store_search_fill_hit(s, o->plan, &(*hits)[i], errmsg);
	if (rc != CV_OK) {
		store_hits_free(*hits, *n);
		*hits = NULL;
		*n = 0;
	}
	snapshot_end(s, &x, own_tx);
	return rc;
}

void store_hits_free(struct store_hit *hits, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(hits[i].id);
		free(hits[i].location_id);
		free(hits[i].agent_id);
		free(hits[i].agent_name);
		free(hits[i].contact_id);
		free(hits[i].from_number);
		free(hits[i].snippet);
	}
	free(hits);
}

char *store_search_sql(struct store *s, const struct store_search_opts *oo,
	char **fts)
{
	struct store_search_opts ocopy = *oo, *o = &ocopy;
	struct expanded x = { 0 };
	if (s)
		expand_plan(s, o, &x);
	if (fts)
		*fts = o->plan && o->plan->fts ? xstrdup(o->plan->fts) : NULL;
	struct buf sql, out;
	struct store_sql_args a = { 0 };
	buf_init(&sql);
	buf_init(&out);
	if (ranks(o)) {
		/* the rows store_rank scores (the pool's floor aside) */
		build(o, RANK_COLUMNS, false, 0, &sql, &a);
	} else {
		build(o, "c.rid", true, 0, &sql, &a);
		store_sql_arg_int(&a, o->limit);
		store_sql_arg_int(&a, o->offset);
		buf_puts(&sql, " LIMIT ? OFFSET ?");
	}
	size_t k = 0;
	for (const char *p = sql.data; *p; p++) {
		if (*p != '?' || k >= a.n) {
			buf_putc(&out, *p);
			continue;
		}
		if (a.v[k].type == ARG_INT) {
			buf_printf(&out, "%lld", (long long)a.v[k].i);
		} else if (a.v[k].type == ARG_REAL) {
			buf_printf(&out, "%.17g", a.v[k].d);
		} else {
			buf_putc(&out, '\'');
			for (const char *c = a.v[k].s; *c; c++)
				buf_puts(&out,
					*c == '\'' ? "''" : (char[]){ *c, 0 });
			buf_putc(&out, '\'');
		}
		k++;
	}
	buf_finish(&sql);
	expanded_finish(&x);
	return buf_steal(&out);
}

/*
 * One statement over the matching calls, unordered: head, the SELECT of
 * `what`, tail. With *out, its one row's first column goes there; without,
 * it must return no row (an INSERT).
 */
static enum cv_err run_unordered(struct store *s,
	const struct store_search_opts *oo, const char *head, const char *what,
	const char *tail, int64_t *out, char **errmsg)
{
	struct search_filter f;
	struct store_search_opts ocopy, *o = &ocopy;
	enum cv_err rc = resolved(s, oo, o, &f, errmsg);
	if (rc != CV_OK)
		return rc;
	struct expanded x;
	bool own_tx;
	if (snapshot_begin(s, o, &x, &own_tx, errmsg) != CV_OK)
		return CV_EDB;
	struct buf sql;
	struct store_sql_args a = { 0 };
	buf_init(&sql);
	buf_puts(&sql, head);
	build(o, what, false, 0, &sql, &a);
	buf_puts(&sql, tail);
	sqlite3_stmt *st;
	rc = store_search_prepare(s, sql.data, &st, errmsg);
	buf_finish(&sql);
	if (rc == CV_OK) {
		store_bind_args(st, 1, &a);
		int r = sqlite3_step(st);
		if (r == (out ? SQLITE_ROW : SQLITE_DONE) && out)
			*out = sqlite3_column_int64(st, 0);
		else if (r != SQLITE_DONE)
			rc = store_dberr(s, errmsg, "search");
		sqlite3_finalize(st);
	}
	snapshot_end(s, &x, own_tx);
	return rc;
}

enum cv_err store_search_count(struct store *s,
	const struct store_search_opts *oo, int64_t *count, char **errmsg)
{
	return run_unordered(s, oo, "", "count(*)", "", count, errmsg);
}

enum cv_err store_search_insert(struct store *s,
	const struct store_search_opts *oo, const char *insert, char **errmsg)
{
	char *head = xasprintf("%s FROM (", insert);
	enum cv_err rc = run_unordered(s, oo, head, "c.rid", ")", NULL, errmsg);
	free(head);
	return rc;
}
