/* store_search.c — see store_search.h */
#include "store_search.h"

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define SNIPPET_TOKENS "14"
#define SNIPPET_BYTES 160

static void arg_text(struct store_sql_args *a, const char *s)
{
	a->v[a->n].type = ARG_TEXT;
	a->v[a->n++].s = s;
}

static void arg_int(struct store_sql_args *a, int64_t i)
{
	a->v[a->n].type = ARG_INT;
	a->v[a->n++].i = i;
}

static void arg_real(struct store_sql_args *a, double d)
{
	a->v[a->n].type = ARG_REAL;
	a->v[a->n++].d = d;
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
	if (f->agent) {
		buf_puts(sql, " AND (c.agent_id = ? OR c.agent_id IN (SELECT"
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
	bool ordered, struct buf *sql, struct store_sql_args *a)
{
	const struct search_plan *pl = o->plan;
	bool fts = pl && pl->fts;
	bool filters = has_filters(o->filter);
	if (fts && !filters && (o->sort == STORE_SORT_RELEVANCE || !ordered)) {
		/* FTS5 alone: no join needed */
		buf_printf(sql, "SELECT %s FROM calls_fts WHERE calls_fts "
				"MATCH ?",
			strcmp(what, "c.rid") == 0 ? "rowid" : what);
		arg_text(a, pl->fts);
		if (ordered)
			buf_puts(sql, " ORDER BY rank");
		return;
	}
	if (fts) {
		/* CROSS JOIN: FTS5 drives, whatever the planner guesses */
		buf_printf(sql, "SELECT %s FROM calls_fts CROSS JOIN calls c ON "
				"c.rid = calls_fts.rowid WHERE calls_fts "
				"MATCH ?",
			what);
		arg_text(a, pl->fts);
	} else {
		buf_printf(sql, "SELECT %s FROM calls c WHERE 1", what);
		if (pl && pl->where) {
			buf_printf(sql, " AND %s", pl->where);
			for (size_t i = 0; i < pl->n_params; i++)
				arg_text(a, pl->params[i]);
		}
	}
	store_filter_sql(o->filter, sql, a);
	if (!ordered)
		return;
	if (fts && o->sort == STORE_SORT_RELEVANCE)
		buf_puts(sql, " ORDER BY calls_fts.rank");
	else if (o->sort == STORE_SORT_OLDEST)
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
	buf_printf(sql, "SELECT %s FROM (SELECT c.rid AS rid, c.created_at AS "
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
		buf_printf(sql, " WHERE %s", pl->where);
		for (size_t i = 0; i < pl->n_params; i++)
			arg_text(a, pl->params[i]);
	}
	buf_printf(sql, " ORDER BY c.created_at%s, c.rid%s", dir, dir);
}

static enum cv_err prepare(struct store *s, const char *sql,
	sqlite3_stmt **st, char **errmsg)
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

static char *fts_snippet(struct store *s, const char *match, int64_t rid)
{
	static const char sql[] =
		"SELECT snippet(calls_fts, -1, X'02', X'03', '…', "
		SNIPPET_TOKENS ") FROM calls_fts WHERE calls_fts MATCH ?"
		" AND rowid = ?";
	sqlite3_stmt *st = store_stmt(s, sql, NULL);
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, rid);
	char *out = NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		out = store_col_dup(st, 0);
	sqlite3_reset(st);
	if (out && !strchr(out, SEARCH_MARK_ON)) {
		free(out);
		out = NULL;
	}
	return out;
}

static enum cv_err fill_hit(struct store *s, const struct search_plan *pl,
	struct store_hit *h, char **errmsg)
{
	static const char sql[] =
		"SELECT c.id, c.location_id, c.agent_id,"
		STORE_AGENT_NAME_SQL ","
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
	if (pl && pl->highlight)
		h->snippet = fts_snippet(s, pl->highlight, h->rid);
	if (!h->snippet && pl)
		h->snippet = digit_snippet(pl, transcript);
	if (!h->snippet && pl)
		h->snippet = digit_snippet(pl, summary);
	if (!h->snippet)
		h->snippet = head_of(summary ? summary : transcript);
	sqlite3_reset(st);
	return CV_OK;
}

enum cv_err store_search(struct store *s, const struct store_search_opts *o,
	struct store_hit **hits, size_t *n, char **errmsg)
{
	*hits = NULL;
	*n = 0;
	if (o->limit < 0 || o->offset < 0)
		return cv_error(errmsg, CV_EINVAL, "negative limit or offset");
	const struct search_plan *pl = o->plan;
	bool text = pl && (pl->fts || pl->where);
	bool done = false;
	enum cv_err rc = CV_OK;
	if (text && !(pl->fts && o->sort == STORE_SORT_RELEVANCE))
		rc = search_window(s, o, hits, n, &done, errmsg);
	if (rc == CV_OK && !done) {
		store_hits_free(*hits, *n);
		*hits = NULL;
		*n = 0;
		struct buf sql;
		struct store_sql_args a = { 0 };
		buf_init(&sql);
		build(o, "c.rid", true, &sql, &a);
		buf_puts(&sql, " LIMIT ? OFFSET ?");
		rc = collect_rids(s, sql.data, &a, o->limit, o->offset, hits,
			n, errmsg);
		buf_finish(&sql);
	}
	for (size_t i = 0; rc == CV_OK && i < *n; i++)
		rc = fill_hit(s, o->plan, &(*hits)[i], errmsg);
	if (rc != CV_OK) {
		store_hits_free(*hits, *n);
		*hits = NULL;
		*n = 0;
	}
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

char *store_search_sql(const struct store_search_opts *o)
{
	struct buf sql, out;
	struct store_sql_args a = { 0 };
	buf_init(&sql);
	buf_init(&out);
	build(o, "c.rid", true, &sql, &a);
	arg_int(&a, o->limit);
	arg_int(&a, o->offset);
	buf_puts(&sql, " LIMIT ? OFFSET ?");
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
				buf_puts(&out, *c == '\'' ? "''" : (char[]){ *c, 0 });
			buf_putc(&out, '\'');
		}
		k++;
	}
	buf_finish(&sql);
	return buf_steal(&out);
}

enum cv_err store_search_count(struct store *s,
	const struct store_search_opts *o, int64_t *count, char **errmsg)
{
	struct buf sql;
	struct store_sql_args a = { 0 };
	buf_init(&sql);
	build(o, "count(*)", false, &sql, &a);
	sqlite3_stmt *st;
	enum cv_err rc = prepare(s, sql.data, &st, errmsg);
	buf_finish(&sql);
	if (rc != CV_OK)
		return rc;
	store_bind_args(st, 1, &a);
	if (sqlite3_step(st) == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	else
		rc = store_dberr(s, errmsg, "count");
	sqlite3_finalize(st);
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
