/*
 * store_search_hits.c — see store_search.h: what a hit shows (its
 * columns, its snippet) and a call's text with the matches marked.
 */
#include "store_search.h"
#include "store_search_int.h"

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define SNIPPET_TOKENS "14"
#define SNIPPET_BYTES 160

/* Snippets for all FTS hits in one pass over their rowid range. */
void store_search_snippets(struct store *s, const char *match,
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

enum cv_err store_search_fill_hit(struct store *s, const struct search_plan *pl,
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
	enum cv_err rc = store_search_check_terms(s, plan, errmsg);
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
