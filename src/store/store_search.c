/* store_search.c — see store_search.h */
#include "store_search.h"
#include "store_search_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "store_rank.h"
#include "store_terms.h"

#define SNIPPET_TOKENS "14"
/* the columns store_rank scores */
#define RANK_COLUMNS "calls_fts.rowid, cv_bm25_parts(calls_fts)"
#define SNIPPET_BYTES 160

/* The next free value; a query past the bound in store_search.h is a
 * bug (search_parse bounds the terms), not something to bind past. */
static size_t arg_next(struct store_sql_args *a)
{
	if (a->n >= STORE_SQL_ARGS_MAX)
		abort();
	return a->n++;
}

static void arg_text(struct store_sql_args *a, const char *s)
{
	size_t k = arg_next(a);
	a->v[k].type = ARG_TEXT;
	a->v[k].s = s;
}

static void arg_int(struct store_sql_args *a, int64_t i)
{
	size_t k = arg_next(a);
	a->v[k].type = ARG_INT;
	a->v[k].i = i;
}

static void arg_real(struct store_sql_args *a, double d)
{
	size_t k = arg_next(a);
	a->v[k].type = ARG_REAL;
	a->v[k].d = d;
}

static void cond_arg(struct store_sql_args *a, const char *v,
	const char **labels, const char *label)
{
	if (labels)
		labels[a->n] = label;
	arg_text(a, v);
}

void store_cond_sql(const struct search_cond *c, struct buf *sql,
	struct store_sql_args *a, const char **labels)
{
	switch (c->kind) {
	case SEARCH_COND_TEXT:
		buf_puts(sql, "c.rid IN (SELECT rowid FROM calls_fts WHERE "
			      "calls_fts MATCH ?)");
		cond_arg(a, c->match, labels, "calls_fts");
		return;
	case SEARCH_COND_DIGITS:
		buf_puts(sql, "c.rid IN (SELECT rowid FROM calls_digits WHERE "
			      "calls_digits MATCH ?");
		buf_puts(sql, c->whole ? " AND instr(digits, ?) > 0)" : ")");
		cond_arg(a, c->match, labels, "calls_digits");
		if (c->whole)
			cond_arg(a, c->whole, labels, "text");
		return;
	case SEARCH_COND_LITERAL:
		if (c->match) {
			buf_puts(sql, "c.rid IN (SELECT rowid FROM calls_fts "
				      "WHERE calls_fts MATCH ?) AND ");
			cond_arg(a, c->match, labels, "calls_fts");
		}
		buf_puts(sql, "(instr(c.summary, ?) > 0 OR "
			      "instr(c.transcript, ?) > 0)");
		cond_arg(a, c->whole, labels, "text");
		cond_arg(a, c->whole, labels, "text");
		return;
	case SEARCH_COND_AND:
	case SEARCH_COND_OR:
		buf_putc(sql, '(');
		for (size_t i = 0; i < c->n; i++) {
			if (i)
				buf_puts(sql, c->kind == SEARCH_COND_OR
						      ? " OR "
						      : " AND ");
			if (i >= c->n - c->n_neg)
				buf_puts(sql, "NOT ");
			store_cond_sql(&c->kids[i], sql, a, labels);
		}
		buf_putc(sql, ')');
		return;
	}
}

char *store_search_describe(const struct search_plan *pl)
{
	struct buf b;
	buf_init(&b);
	if (pl->fts) {
		buf_printf(&b, "fts: %s", pl->fts);
	} else if (pl->cond) {
		struct buf sql;
		struct store_sql_args a = { 0 };
		const char *labels[STORE_SQL_ARGS_MAX];
		buf_init(&sql);
		store_cond_sql(pl->cond, &sql, &a, labels);
		buf_printf(&b, "where: %s", sql.data);
		for (size_t i = 0; i < a.n; i++)
			buf_printf(&b, "\n  ?%zu %s: %s", i + 1, labels[i],
				a.v[i].s);
		buf_finish(&sql);
	} else {
		buf_puts(&b, "(no text condition)");
	}
	return buf_steal(&b);
}

void store_filter_sql(const struct search_filter *f, struct buf *sql,
	struct store_sql_args *a)
{
	if (!f)
		return;
	if (f->has_from) {
		buf_puts(sql, " AND c.created_at >= ?");
		arg_int(a, f->from_ms);
	}
	if (f->has_to) {
		buf_puts(sql, " AND c.created_at <= ?");
		arg_int(a, f->to_ms);
	}
	const struct {
		const char *v, *sql;
	} eq[] = {
		{ f->location, " AND c.location_id = ?" },
		{ f->contact, " AND c.contact_id = ?" },
		{ f->number_e164[0] ? f->number_e164 : NULL,
			" AND c.from_e164 = ?" },
		{ f->action, " AND instr(',' || c.action_types || ',',"
			     " ',' || ? || ',') > 0" },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(eq); i++) {
		if (eq[i].v) {
			buf_puts(sql, eq[i].sql);
			arg_text(a, eq[i].v);
		}
	}
	if (f->agent && f->agent_resolved) {
		buf_puts(sql, " AND c.agent_id IN (");
		for (size_t i = 0; i < f->n_agent_ids; i++) {
			buf_puts(sql, i ? ", ?" : "?");
			arg_text(a, f->agent_ids[i]);
		}
		buf_putc(sql, ')');
	} else if (f->agent) {
		buf_puts(sql,
			" AND (c.agent_id = ? OR c.agent_id IN (SELECT"
			" id FROM agents WHERE name = ? COLLATE NOCASE))");
		arg_text(a, f->agent);
		arg_text(a, f->agent);
	}
	if (f->has_min_duration) {
		buf_puts(sql, " AND c.duration >= ?");
		arg_real(a, f->min_duration);
	}
	if (f->has_max_duration) {
		buf_puts(sql, " AND c.duration <= ?");
		arg_real(a, f->max_duration);
	}
	if (f->trial == 1)
		buf_puts(sql, " AND c.trial_call = 1");
	else if (f->trial == 0)
		buf_puts(sql, " AND coalesce(c.trial_call, 0) = 0");
}

void store_bind_args(sqlite3_stmt *st, int first,
	const struct store_sql_args *a)
{
	for (size_t k = 0; k < a->n; k++) {
		int i = first + (int)k;
		switch (a->v[k].type) {
		case ARG_TEXT: store_bind_text(st, i, a->v[k].s); break;
		case ARG_INT: sqlite3_bind_int64(st, i, a->v[k].i); break;
		case ARG_REAL: sqlite3_bind_double(st, i, a->v[k].d); break;
		}
	}
}

enum cv_err store_resolve_agent(struct store *s, struct search_filter *f,
	char **errmsg)
{
	static const char sql[] =
		"SELECT DISTINCT id FROM agents WHERE id = ?1 OR"
		" name = ?1 COLLATE NOCASE ORDER BY id LIMIT 7";
	if (!f || !f->agent || f->agent_resolved)
		return CV_OK;
	size_t max = sizeof(f->agent_ids[0]);
	f->n_agent_ids = 0;
	snprintf(f->agent_ids[f->n_agent_ids++], max, "%s", f->agent);
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, f->agent, -1, SQLITE_STATIC);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		if (id && strcmp(id, f->agent) != 0)
			snprintf(f->agent_ids[f->n_agent_ids++], max, "%s", id);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return store_dberr(s, errmsg, "resolve agent");
	f->agent_resolved = true;
	return CV_OK;
}

/*
 * Every term of the plan that only non-Latin characters make searchable
 * must hold a token for FTS5's own tokenizer: a one-row temporary index
 * of the term must match the term. CV_EPARSE naming the position if not.
 */
static enum cv_err check_terms(struct store *s, const struct search_plan *pl,
	char **errmsg)
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
	enum cv_err rc = check_terms(s, oo->plan, errmsg);
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
		arg_text(a, pl->fts);
		if (rid_floor > 0) {
			buf_puts(sql, " AND rowid >= ?");
			arg_int(a, rid_floor);
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
		arg_text(a, pl->fts);
		if (rid_floor > 0) {
			buf_puts(sql, " AND calls_fts.rowid >= ?");
			arg_int(a, rid_floor);
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

/*
 * Newest/oldest first, the common case: the text condition is checked on
 * the WINDOW newest (oldest) calls that pass the filters, read in order
 * from the created_at index. When that yields a full page it is the
 * answer (any other match is older); otherwise the caller falls back to
 * matching everything and sorting. This keeps common terms fast without
 * ranking hundreds of thousands of matches.
 */
#define WINDOW 2000

static int window_of(const struct store_search_opts *o)
{
	return o->window > 0 ? o->window : WINDOW;
}

static void build_window(const struct store_search_opts *o, bool count,
	struct buf *sql, struct store_sql_args *a)
{
	const struct search_plan *pl = o->plan;
	const char *dir = o->sort == STORE_SORT_OLDEST ? "" : " DESC";
	buf_printf(sql,
		"SELECT %s FROM (SELECT c.rid AS rid, c.created_at AS "
		"created_at%s FROM calls c WHERE 1",
		count ? "count(*)" : "c.rid",
		pl->literal ? ", c.summary AS summary, c.transcript AS "
			      "transcript"
			    : "");
	store_filter_sql(o->filter, sql, a);
	buf_printf(sql, " ORDER BY c.created_at%s, c.rid%s LIMIT %d) c", dir,
		dir, window_of(o));
	if (count)
		return;
	if (pl->fts) {
		buf_puts(sql, " WHERE EXISTS (SELECT 1 FROM calls_fts WHERE "
			      "calls_fts MATCH ? AND calls_fts.rowid = c.rid)");
		arg_text(a, pl->fts);
	} else {
		buf_puts(sql, " WHERE ");
		store_cond_sql(pl->cond, sql, a, NULL);
	}
	buf_printf(sql, " ORDER BY c.created_at%s, c.rid%s", dir, dir);
}

static enum cv_err prepare(struct store *s, const char *sql, sqlite3_stmt **st,
	char **errmsg)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return store_dberr(s, errmsg, "search");
	}
	return CV_OK;
}

/* Run a rid query with LIMIT/OFFSET, appending rids to *hits. */
static enum cv_err collect_rids(struct store *s, const char *sql,
	const struct store_sql_args *a, int64_t limit, int64_t offset,
	struct store_hit **hits, size_t *n, char **errmsg)
{
	sqlite3_stmt *st;
	enum cv_err rc = prepare(s, sql, &st, errmsg);
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

static int64_t count_sql(struct store *s, const char *sql,
	const struct store_sql_args *a)
{
	sqlite3_stmt *st;
	int64_t n = -1;
	if (prepare(s, sql, &st, NULL) != CV_OK)
		return -1;
	store_bind_args(st, 1, a);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

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

struct topk {
	int64_t *rid, *ts;
	size_t n, cap;
	bool desc;
};

static bool better(const struct topk *k, int64_t ts, int64_t rid, size_t i)
{
	if (ts != k->ts[i])
		return k->desc ? ts > k->ts[i] : ts < k->ts[i];
	return k->desc ? rid > k->rid[i] : rid < k->rid[i];
}

static void topk_add(struct topk *k, int64_t ts, int64_t rid)
{
	if (k->n == k->cap && !better(k, ts, rid, k->n - 1))
		return;
	size_t lo = 0, hi = k->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (better(k, ts, rid, mid))
			hi = mid;
		else
			lo = mid + 1;
	}
	size_t move = (k->n == k->cap ? k->n - 1 : k->n) - lo;
	memmove(k->rid + lo + 1, k->rid + lo, move * sizeof(*k->rid));
	memmove(k->ts + lo + 1, k->ts + lo, move * sizeof(*k->ts));
	k->rid[lo] = rid;
	k->ts[lo] = ts;
	if (k->n < k->cap)
		k->n++;
}

struct topk_stmts {
	sqlite3_stmt *scan, *look, *stop;
};

/*
 * With --from/--to, the rowids of the calls in that time range, so that
 * the FTS5 scan reads only the matches that can pass it: a month's calls
 * are a narrow rowid band when calls are stored roughly in time order
 * (and a wider one, still correct, when they are not). An empty range
 * leaves lo > hi.
 */
#define TIME_RANGE_MAX 100000

static enum cv_err time_rid_range(struct store *s,
	const struct search_filter *f, int64_t *lo, int64_t *hi, char **errmsg)
{
	if (!f || (!f->has_from && !f->has_to))
		return CV_OK;
	/* a range of more than TIME_RANGE_MAX calls is not worth the scan
	 * of its index entries: lo..hi stay unbounded */
	sqlite3_stmt *st = store_stmt(s,
		"SELECT min(rid), max(rid), count(*) FROM (SELECT rid FROM "
		"calls WHERE created_at BETWEEN ?1 AND ?2 LIMIT ?3)",
		errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, f->has_from ? f->from_ms : INT64_MIN);
	sqlite3_bind_int64(st, 2, f->has_to ? f->to_ms : INT64_MAX);
	sqlite3_bind_int(st, 3, TIME_RANGE_MAX + 1);
	enum cv_err rc = CV_OK;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = store_dberr(s, errmsg, "search");
	} else if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		*lo = 1;
		*hi = 0;
	} else if (sqlite3_column_int64(st, 2) > TIME_RANGE_MAX) {
		/* too many to be worth it */
	} else {
		*lo = sqlite3_column_int64(st, 0);
		*hi = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc;
}

static enum cv_err topk_prepare(struct store *s,
	const struct store_search_opts *o, struct topk_stmts *t, char **errmsg)
{
	bool desc = o->sort != STORE_SORT_OLDEST;
	struct buf look, stop;
	struct store_sql_args a = { 0 };
	buf_init(&look);
	buf_init(&stop);
	buf_puts(&look, "SELECT c.created_at FROM calls c WHERE c.rid = ?1");
	store_filter_sql(o->filter, &look, &a);
	/* +c.rid: never a rowid range scan; the time range (or a filter's
	 * index with time) bounds the work */
	buf_printf(&stop,
		"SELECT 1 FROM calls c WHERE c.created_at %s ?1 "
		"AND +c.rid %s ?2",
		desc ? ">" : "<", desc ? "<" : ">");
	store_filter_sql(o->filter, &stop, &a);
	buf_puts(&stop, " LIMIT 1");
	int64_t lo = 0, hi = INT64_MAX;
	enum cv_err rc = time_rid_range(s, o->filter, &lo, &hi, errmsg);
	char *scan = xasprintf("SELECT rowid FROM calls_fts WHERE calls_fts "
			       "MATCH ? AND rowid BETWEEN %lld AND %lld "
			       "ORDER BY rowid%s",
		(long long)lo, (long long)hi, desc ? " DESC" : "");
	if (rc == CV_OK)
		rc = prepare(s, scan, &t->scan, errmsg);
	if (rc == CV_OK)
		rc = prepare(s, look.data, &t->look, errmsg);
	if (rc == CV_OK)
		rc = prepare(s, stop.data, &t->stop, errmsg);
	if (rc == CV_OK) {
		sqlite3_bind_text(t->scan, 1, o->plan->fts, -1,
			SQLITE_TRANSIENT);
		store_bind_args(t->look, 2, &a);
		store_bind_args(t->stop, 3, &a);
	}
	free(scan);
	buf_finish(&look);
	buf_finish(&stop);
	return rc;
}

/* true when no unseen call (beyond rid `seen`) can enter the top k */
static bool topk_complete(struct topk_stmts *t, const struct topk *k,
	int64_t seen)
{
	sqlite3_reset(t->stop);
	sqlite3_bind_int64(t->stop, 1, k->ts[k->n - 1]);
	sqlite3_bind_int64(t->stop, 2, seen);
	return sqlite3_step(t->stop) == SQLITE_DONE;
}

/*
 * max_reads > 0: give up (*done false, no hits) after reading that many
 * matches without the top k being complete, which happens when the
 * newest rowids are not the newest calls (a backfill imported after the
 * live calls came in: every one of its matches is read before the
 * newest, 150 ms to seconds for a common word).
 */
static enum cv_err search_topk(struct store *s,
	const struct store_search_opts *o, int64_t max_reads,
	struct store_hit **hits, size_t *n, bool *done, char **errmsg)
{
	struct topk k = { .cap = (size_t)(o->limit + o->offset),
		.desc = o->sort != STORE_SORT_OLDEST };
	struct topk_stmts t = { 0 };
	*done = true;
	if (k.cap == 0)
		return CV_OK;
	k.rid = xmalloc(k.cap * sizeof(*k.rid));
	k.ts = xmalloc(k.cap * sizeof(*k.ts));
	enum cv_err rc = topk_prepare(s, o, &t, errmsg);
	int r = SQLITE_DONE;
	size_t since_full = 0, next_check = 1;
	int64_t reads = 0;
	while (rc == CV_OK && (r = sqlite3_step(t.scan)) == SQLITE_ROW) {
		int64_t rid = sqlite3_column_int64(t.scan, 0);
		sqlite3_reset(t.look);
		sqlite3_bind_int64(t.look, 1, rid);
		if (sqlite3_step(t.look) == SQLITE_ROW)
			topk_add(&k, sqlite3_column_int64(t.look, 0), rid);
		bool last = max_reads > 0 && ++reads >= max_reads;
		if (!last && (k.n < k.cap || ++since_full < next_check))
			continue;
		if (k.n == k.cap && topk_complete(&t, &k, rid))
			break;
		if (last) {
			*done = false;
			k.n = 0;
			break;
		}
		next_check *= 2;
	}
	if (rc == CV_OK && r != SQLITE_ROW && r != SQLITE_DONE)
		rc = store_dberr(s, errmsg, "search");
	for (size_t i = (size_t)o->offset; rc == CV_OK && i < k.n; i++) {
		if (!(*n % 64))
			*hits = xrealloc(*hits, (*n + 64) * sizeof(**hits));
		memset(&(*hits)[*n], 0, sizeof(**hits));
		(*hits)[(*n)++].rid = k.rid[i];
	}
	sqlite3_finalize(t.scan);
	sqlite3_finalize(t.look);
	sqlite3_finalize(t.stop);
	free(k.rid);
	free(k.ts);
	return rc;
}

/*
 * With filters: walk the calls that pass them newest (oldest) first and
 * ask FTS5 about each. Wins when the filters are selective and the text
 * common; *done false when its work budget ran out before a page was
 * found (then the FTS5-driven top-k answers).
 *
 * The budget is counted, not clocked: it stopped after 15 ms of wall
 * time, so on a loaded machine it gave up after a few probes and the
 * top-k path scanned hundreds of thousands of matches for queries the
 * probes answer in 60 (a word with a location and a month). Work is in
 * µs of one core's CPU, as measured on 200,000 calls: a probe of words
 * ~60, of a phrase or NEAR (FTS5 reads positions) 100-300 (150 taken),
 * a call the filter walk reads outside an index (--action,
 * --min-duration) ~20. The same query takes the same path on a quiet or
 * loaded machine.
 */
#define PROBE_BUDGET 1000
#define PROBE_WORK 20000
#define PROBE_COST_WORDS 60
#define PROBE_COST_POSITIONS 150
#define PROBE_COST_ROW 20

/* Whether matching fts makes FTS5 read positions: NEAR, or a quoted
 * phrase of more than one token (a separator inside the quotes). */
static bool reads_positions(const char *fts)
{
	if (strstr(fts, "NEAR("))
		return true;
	bool quoted = false;
	for (const unsigned char *p = (const unsigned char *)fts; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (quoted && *p < 0x80 && !isalnum(*p) && *p != '_')
			return true;
	}
	return false;
}

/*
 * Whether probing is likely to find a page within PROBE_WORK, from the
 * text's density in PROBE_WINDOWS windows of PROBE_SAMPLE calls spread
 * evenly over the store (the filters taken as independent of it; not the
 * newest calls alone, which a webhook burst of one kind fills): a phrase
 * in one call of five needs ~250 position-reading probes for 50 hits,
 * 40-75 ms, where the top-k path scans its matches in less.
 * Counts over rowid ranges of the index, well under a millisecond once
 * their pages are read.
 */
#define PROBE_WINDOWS 4
#define PROBE_SAMPLE 500

static bool probe_worth(struct store *s, const struct store_search_opts *o,
	int64_t per_probe, int64_t work)
{
	static const char sql[] =
		"SELECT count(*) FROM calls_fts WHERE calls_fts MATCH ?1"
		" AND rowid BETWEEN ?2 AND ?3";
	sqlite3_stmt *st = store_stmt(s, "SELECT max(rid) FROM calls", NULL);
	int64_t calls = 0, hits = 0, sampled = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		calls = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	if (!(st = store_stmt(s, sql, NULL)))
		return true; /* as before: the probes' budget still bounds */
	sqlite3_bind_text(st, 1, o->plan->fts, -1, SQLITE_STATIC);
	for (int w = 0; w < PROBE_WINDOWS; w++) {
		int64_t lo = calls * (2 * w + 1) / (2 * PROBE_WINDOWS) -
			     PROBE_SAMPLE / 2;
		lo = lo < 1 ? 1 : lo;
		int64_t hi = lo + PROBE_SAMPLE - 1 < calls
				     ? lo + PROBE_SAMPLE - 1
				     : calls;
		sqlite3_bind_int64(st, 2, lo);
		sqlite3_bind_int64(st, 3, hi);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_reset(st);
			return true;
		}
		hits += sqlite3_column_int64(st, 0);
		sampled += hi >= lo ? hi - lo + 1 : 0;
		sqlite3_reset(st);
		if (hi >= calls)
			break; /* a small store: its windows overlap */
	}
	if (hits == 0) /* rare: its few matches are soon scanned */
		return false;
	int64_t want = o->limit + o->offset;
	return want * sampled / hits * per_probe <= work;
}

/* work: PROBE_WORK, or PROBE_WORK_AFTER_TRY for an unfiltered search
 * whose top-k try did not complete (the scan left would read every
 * match above the newest calls' rowids: 130 ms for 21,000, seconds for
 * a backfill of a million) */
#define PROBE_WORK_AFTER_TRY (3 * PROBE_WORK)

static enum cv_err search_probe(struct store *s,
	const struct store_search_opts *o, int64_t work,
	struct store_hit **hits, size_t *n, bool *done, char **errmsg)
{
	static const char probe_sql[] =
		"SELECT 1 FROM calls_fts WHERE calls_fts MATCH ? AND rowid = ?";
	int64_t per_probe = reads_positions(o->plan->fts) ? PROBE_COST_POSITIONS
							  : PROBE_COST_WORDS;
	*done = false;
	if (!o->window && !probe_worth(s, o, per_probe, work))
		return CV_OK;
	const char *dir = o->sort == STORE_SORT_OLDEST ? "" : " DESC";
	struct buf sql;
	struct store_sql_args a = { 0 };
	buf_init(&sql);
	buf_puts(&sql, "SELECT c.rid FROM calls c WHERE 1");
	store_filter_sql(o->filter, &sql, &a);
	buf_printf(&sql, " ORDER BY c.created_at%s, c.rid%s", dir, dir);
	sqlite3_stmt *cand, *probe = NULL;
	enum cv_err rc = prepare(s, sql.data, &cand, errmsg);
	buf_finish(&sql);
	if (rc == CV_OK && !(probe = store_stmt(s, probe_sql, errmsg)))
		rc = CV_EDB;
	if (rc != CV_OK) {
		sqlite3_finalize(cand);
		return rc;
	}
	store_bind_args(cand, 1, &a);
	sqlite3_bind_text(probe, 1, o->plan->fts, -1, SQLITE_STATIC);
	int64_t found = 0, want = o->limit + o->offset;
	int r = SQLITE_ROW;
	*done = false;
	int budget = o->window > 0 ? o->window
				   : (int)(PROBE_BUDGET * work / PROBE_WORK);
	for (int k = 0; k < budget && found < want; k++) {
		int64_t rows = sqlite3_stmt_status(cand,
			SQLITE_STMTSTATUS_FULLSCAN_STEP, 0);
		if (!o->window && k * per_probe + rows * PROBE_COST_ROW > work)
			break;
		if ((r = sqlite3_step(cand)) != SQLITE_ROW)
			break;
		int64_t rid = sqlite3_column_int64(cand, 0);
		sqlite3_reset(probe);
		sqlite3_bind_int64(probe, 2, rid);
		if (sqlite3_step(probe) != SQLITE_ROW || found++ < o->offset)
			continue;
		if (!(*n % 64))
			*hits = xrealloc(*hits, (*n + 64) * sizeof(**hits));
		memset(&(*hits)[*n], 0, sizeof(**hits));
		(*hits)[(*n)++].rid = rid;
	}
	sqlite3_reset(probe);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = store_dberr(s, errmsg, "search");
	*done = found >= want || r == SQLITE_DONE;
	sqlite3_finalize(cand);
	return rc;
}

/* Snippets for all FTS hits in one pass over their rowid range. */
static void batch_snippets(struct store *s, const char *match,
	struct store_hit *h, size_t n)
{
	static const char sql[] =
		"SELECT rowid, snippet(calls_fts, -1, X'02', X'03', '…', " SNIPPET_TOKENS
		") FROM calls_fts WHERE calls_fts MATCH ?1"
		" AND rowid BETWEEN ?2 AND ?3"
		" AND +rowid IN (SELECT value FROM json_each(?4))";
	if (n == 0)
		return;
	int64_t lo = h[0].rid, hi = h[0].rid;
	struct buf ids;
	buf_init(&ids);
	buf_putc(&ids, '[');
	for (size_t i = 0; i < n; i++) {
		lo = h[i].rid < lo ? h[i].rid : lo;
		hi = h[i].rid > hi ? h[i].rid : hi;
		buf_printf(&ids, "%s%lld", i ? "," : "", (long long)h[i].rid);
	}
	buf_putc(&ids, ']');
	sqlite3_stmt *st = store_stmt(s, sql, NULL);
	if (st) {
		sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, lo);
		sqlite3_bind_int64(st, 3, hi);
		sqlite3_bind_text(st, 4, ids.data, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			int64_t rid = sqlite3_column_int64(st, 0);
			const char *snip = (const char *)sqlite3_column_text(st,
				1);
			for (size_t i = 0; i < n; i++)
				if (h[i].rid == rid && !h[i].snippet && snip &&
					strchr(snip, SEARCH_MARK_ON))
					h[i].snippet = xstrdup(snip);
		}
		sqlite3_reset(st);
	}
	buf_finish(&ids);
}

/* The window strategy; *done false when the caller must fall back. */
static enum cv_err search_window(struct store *s,
	const struct store_search_opts *o, struct store_hit **hits, size_t *n,
	bool *done, char **errmsg)
{
	struct buf sql;
	struct store_sql_args a = { 0 };
	buf_init(&sql);
	build_window(o, false, &sql, &a);
	buf_puts(&sql, " LIMIT ? OFFSET ?");
	enum cv_err rc = collect_rids(s, sql.data, &a, o->limit, o->offset,
		hits, n, errmsg);
	*done = rc != CV_OK || (int64_t)*n == o->limit;
	if (!*done) {
		/* fewer than a page: complete only if the window was not full */
		buf_reset(&sql);
		a.n = 0;
		build_window(o, true, &sql, &a);
		int64_t cand = count_sql(s, sql.data, &a);
		*done = cand >= 0 && cand < window_of(o);
	}
	buf_finish(&sql);
	return rc;
}

/* A plain snippet: the first SNIPPET_BYTES of text, on one line. */
static char *head_of(const char *text)
{
	if (!text)
		return xstrdup("");
	size_t n = strlen(text);
	if (n <= SNIPPET_BYTES)
		return xstrdup(text);
	size_t cut = SNIPPET_BYTES;
	while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
		cut--;
	return xasprintf("%.*s…", (int)cut, text);
}

/* A snippet around the first digit-fragment hit in text, or NULL. */
static char *digit_snippet(const struct search_plan *pl, const char *text)
{
	if (!text || !pl->n_digits)
		return NULL;
	char *marked = search_mark_digits(pl, text);
	const char *on = strchr(marked, SEARCH_MARK_ON);
	if (!on) {
		free(marked);
		return NULL;
	}
	size_t at = (size_t)(on - marked), n = strlen(marked);
	size_t from = at > 60 ? at - 60 : 0;
	size_t to = at + 100 < n ? at + 100 : n;
	while (from > 0 && ((unsigned char)marked[from] & 0xC0) == 0x80)
		from--;
	while (to < n && ((unsigned char)marked[to] & 0xC0) == 0x80)
		to++;
	char *out = xasprintf("%s%.*s%s", from ? "…" : "", (int)(to - from),
		marked + from, to < n ? "…" : "");
	free(marked);
	return out;
}

static enum cv_err fill_hit(struct store *s, const struct search_plan *pl,
	struct store_hit *h, char **errmsg)
{
	static const char sql[] =
		"SELECT c.id, c.location_id, c.agent_id," STORE_AGENT_NAME_SQL
		","
		" c.contact_id, c.from_number, c.created_at, c.duration,"
		" c.summary, c.transcript FROM calls c WHERE c.rid = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, h->rid);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return store_dberr(s, errmsg, "read hit");
	}
	h->id = store_col_dup(st, 0);
	h->location_id = store_col_dup(st, 1);
	h->agent_id = store_col_dup(st, 2);
	h->agent_name = store_col_dup(st, 3);
	h->contact_id = store_col_dup(st, 4);
	h->from_number = store_col_dup(st, 5);
	h->created_at = sqlite3_column_int64(st, 6);
	h->has_duration = sqlite3_column_type(st, 7) != SQLITE_NULL;
	h->duration = sqlite3_column_double(st, 7);
	const char *summary = (const char *)sqlite3_column_text(st, 8);
	const char *transcript = (const char *)sqlite3_column_text(st, 9);
	if (!h->snippet && pl)
		h->snippet = digit_snippet(pl, transcript);
	if (!h->snippet && pl)
		h->snippet = digit_snippet(pl, summary);
	if (!h->snippet)
		h->snippet = head_of(summary ? summary : transcript);
	sqlite3_reset(st);
	return CV_OK;
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
	enum cv_err rc = prepare(s, sql.data, st, errmsg);
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
		/* unfiltered: the top-k scan in rowid order, while that is
		 * time order; else the newest calls probed, for dense text */
		bool tried = !filtered && !pl->prefix &&
			     want <= TOPK_TRY_MAX_WANT;
		if (tried)
			rc = search_topk(s, o, TOPK_TRY_READS(want), hits, n,
				&done, errmsg);
		if (rc == CV_OK && !done && !pl->prefix && (filtered || tried))
			rc = search_probe(s, o,
				tried ? PROBE_WORK_AFTER_TRY : PROBE_WORK, hits,
				n, &done, errmsg);
		if (rc == CV_OK && !done) {
			store_hits_free(*hits, *n);
			*hits = NULL;
			*n = 0;
			rc = search_topk(s, o, 0, hits, n, &done, errmsg);
		}
		done = true;
	} else if (text && !ranked) {
		rc = search_window(s, o, hits, n, &done, errmsg);
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
				rc = collect_rids(s, sql.data, &a, o->limit,
					o->offset, hits, n, errmsg);
		}
		buf_finish(&sql);
	}
	if (rc == CV_OK && pl && pl->highlight && !o->ids_only)
		batch_snippets(s, pl->highlight, *hits, *n);
	for (size_t i = 0; rc == CV_OK && i < *n; i++)
		rc = fill_hit(s, o->plan, &(*hits)[i], errmsg);
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
		arg_int(&a, o->limit);
		arg_int(&a, o->offset);
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
	rc = prepare(s, sql.data, &st, errmsg);
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

enum cv_err store_search_highlight(struct store *s, const char *call_id,
	const struct search_plan *plan, char *cols[4], char **errmsg)
{
	static const char plain[] =
		"SELECT f.summary, f.bot, f.human, f.other FROM calls c"
		" JOIN calls_fts f ON f.rowid = c.rid WHERE c.id = ?";
	static const char marked[] =
		"SELECT highlight(calls_fts, 0, X'02', X'03'),"
		" highlight(calls_fts, 1, X'02', X'03'),"
		" highlight(calls_fts, 2, X'02', X'03'),"
		" highlight(calls_fts, 3, X'02', X'03') FROM calls_fts"
		" WHERE calls_fts MATCH ? AND rowid ="
		" (SELECT rid FROM calls WHERE id = ?)";
	memset(cols, 0, 4 * sizeof(*cols));
	enum cv_err rc = check_terms(s, plan, errmsg);
	if (rc != CV_OK)
		return rc;
	sqlite3_stmt *st;
	int r = SQLITE_DONE;
	if (plan && plan->highlight) {
		if (!(st = store_stmt(s, marked, errmsg)))
			return CV_EDB;
		sqlite3_bind_text(st, 1, plan->highlight, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, call_id, -1, SQLITE_STATIC);
		r = sqlite3_step(st);
		if (r != SQLITE_ROW)
			sqlite3_reset(st);
	}
	if (r != SQLITE_ROW) {
		if (!(st = store_stmt(s, plain, errmsg)))
			return CV_EDB;
		sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
		r = sqlite3_step(st);
	}
	if (r == SQLITE_DONE) {
		sqlite3_reset(st);
		return cv_error(errmsg, CV_ENOTFOUND, "no call with id %s",
			call_id);
	}
	if (r != SQLITE_ROW)
		return store_dberr(s, errmsg, "highlight");
	for (int i = 0; i < 4; i++) {
		char *c = store_col_dup(st, i);
		if (c && plan && plan->n_digits) {
			cols[i] = search_mark_digits(plan, c);
			free(c);
		} else {
			cols[i] = c;
		}
	}
	sqlite3_reset(st);
	return CV_OK;
}

/* The next `lines` lines of *col (advancing it); a new string. */
static char *take_lines(const char **col, size_t lines)
{
	const char *p = *col ? *col : "", *start = p;
	for (size_t i = 0; i < lines && *p; i++) {
		const char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : p + strlen(p);
	}
	size_t n = (size_t)(p - start);
	if (n && start[n - 1] == '\n')
		n--;
	*col = p;
	return xstrndup(start, n);
}

static size_t count_lines(const char *s, size_t n)
{
	size_t k = 1;
	for (size_t i = 0; i < n; i++)
		k += s[i] == '\n';
	return k;
}

char **store_highlight_turns(const struct calllog_turn *turns, size_t n,
	char *const cols[4])
{
	/* indexed by enum calllog_speaker: other, bot, human */
	const char *cur[3] = { cols[3], cols[1], cols[2] };
	char **out = xcalloc(n ? n : 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = take_lines(&cur[turns[i].speaker],
			count_lines(turns[i].text, turns[i].len));
	return out;
}
