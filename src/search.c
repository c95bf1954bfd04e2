/*
 * search.c — query grammar → FTS5 MATCH strings and a condition tree;
 * see search.h. The parse tree compiled into a plan, and the entry
 * points; the lexer is in search_lex.c, the parser in search_parse.c,
 * digits in text and rendering in search_text.c.
 */
#include "search.h"
#include "search_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* Digit fragments longer than this are looked up by their last
 * DIGITS_PROBE digits, then checked whole (cond_of). */
#define DIGITS_PROBE 7

/* ---- compiling ---- */

/* True when n can be one FTS5 expression. */
static bool pure(const struct node *n)
{
	if (n->kind == N_DIGITS)
		return n->cols != COL_ALL;
	if (n->kind == N_AND && n->n == n->n_neg)
		return false;
	if (n->kind == N_AND || n->kind == N_OR)
		for (size_t i = 0; i < n->n; i++)
			if (!pure(n->kids[i]))
				return false;
	return true;
}

static void put_cols(struct buf *b, unsigned cols)
{
	if (cols == COL_ALL)
		return;
	buf_putc(b, '{');
	const char *names[] = { "summary", "bot", "human", "other" };
	bool sp = false;
	for (int i = 0; i < 4; i++) {
		if (cols & (1u << i)) {
			buf_printf(b, "%s%s", sp ? " " : "", names[i]);
			sp = true;
		}
	}
	buf_puts(b, "} : ");
}

static void emit_fts(struct buf *b, const struct node *n)
{
	switch (n->kind) {
	case N_TERM:
	case N_DIGITS:
		put_cols(b, n->cols);
		buf_puts(b, n->kind == N_TERM ? n->text : n->alt);
		return;
	case N_NEAR:
		put_cols(b, n->cols);
		buf_puts(b, "NEAR(");
		for (size_t i = 0; i < n->n; i++)
			buf_printf(b, "%s%s", i ? " " : "",
				n->kids[i]->kind == N_TERM ? n->kids[i]->text
							   : n->kids[i]->alt);
		buf_printf(b, ", %d)", n->dist);
		return;
	case N_OR:
	case N_AND: {
		size_t npos = n->n - n->n_neg;
		buf_putc(b, '(');
		for (size_t i = 0; i < npos; i++) {
			if (i)
				buf_puts(b, n->kind == N_OR ? " OR " : " AND ");
			emit_fts(b, n->kids[i]);
		}
		buf_putc(b, ')');
		for (size_t i = npos; i < n->n; i++) {
			struct buf inner;
			buf_init(&inner);
			emit_fts(&inner, n->kids[i]);
			char *left = buf_steal(b);
			buf_printf(b, "(%s NOT %s)", left, inner.data);
			free(left);
			buf_finish(&inner);
		}
		return;
	}
	}
}

static void cond_of(const struct node *n, struct search_cond *c)
{
	memset(c, 0, sizeof(*c));
	if (pure(n)) {
		struct buf f;
		buf_init(&f);
		emit_fts(&f, n);
		c->kind = SEARCH_COND_TEXT;
		c->match = buf_steal(&f);
		return;
	}
	if (n->kind == N_DIGITS) {
		size_t len = strlen(n->text);
		c->kind = SEARCH_COND_DIGITS;
		if (len > DIGITS_PROBE) {
			/* a whole number's first trigrams (country and
			 * area codes: "555" is in nearly every call) made
			 * FTS5 read most of the index: its last digits find
			 * the few candidates, the whole digit string is then
			 * checked, which is the same test as the trigram
			 * phrase */
			c->match = search_quoted(n->text + len - DIGITS_PROBE,
				DIGITS_PROBE, false);
			c->whole = xstrdup(n->text);
		} else {
			c->match = search_quoted(n->text, len, false);
		}
		return;
	}
	c->kind = n->kind == N_OR ? SEARCH_COND_OR : SEARCH_COND_AND;
	c->n = n->n;
	c->n_neg = n->kind == N_AND ? n->n_neg : 0;
	c->kids = xcalloc(n->n, sizeof(*c->kids));
	for (size_t i = 0; i < n->n; i++)
		cond_of(n->kids[i], &c->kids[i]);
}

static void cond_finish(struct search_cond *c)
{
	for (size_t i = 0; i < c->n; i++)
		cond_finish(&c->kids[i]);
	free(c->kids);
	free(c->match);
	free(c->whole);
}

/* The positive terms, for highlighting. */
static void collect(const struct node *n, struct buf *hl,
	struct search_plan *pl)
{
	size_t npos = n->n - (n->kind == N_AND ? n->n_neg : 0);
	switch (n->kind) {
	case N_AND:
	case N_OR:
		for (size_t i = 0; i < npos; i++)
			collect(n->kids[i], hl, pl);
		return;
	case N_DIGITS:
		if (n->cols == COL_ALL) {
			pl->digits = xrealloc(pl->digits,
				(pl->n_digits + 1) * sizeof(*pl->digits));
			pl->digits[pl->n_digits++] = xstrdup(n->text);
			return;
		}
		/* fall through */
	case N_TERM:
	case N_NEAR:
		if (hl->len)
			buf_puts(hl, " OR ");
		emit_fts(hl, n);
		return;
	}
}

static void plan_from_tree(struct search_plan *pl, const struct node *root)
{
	if (root && pure(root)) {
		struct buf b;
		buf_init(&b);
		emit_fts(&b, root);
		pl->fts = buf_steal(&b);
	} else if (root) {
		pl->cond = xmalloc(sizeof(*pl->cond));
		cond_of(root, pl->cond);
	}
	if (root) {
		struct buf hl;
		buf_init(&hl);
		collect(root, &hl, pl);
		pl->highlight = hl.len ? buf_steal(&hl) : NULL;
		buf_finish(&hl);
	}
}

size_t search_char_pos(const char *q, size_t byte)
{
	size_t n = 1;
	for (size_t i = 0; i < byte && q[i]; i++)
		if (((unsigned char)q[i] & 0xC0) != 0x80)
			n++;
	return n;
}

enum cv_err search_parse(const char *query, struct search_plan *plan,
	int *errpos, char **errmsg)
{
	memset(plan, 0, sizeof(*plan));
	*errpos = 0;
	size_t len = strlen(query);
	if (len > SEARCH_MAX_QUERY) {
		*errpos = (int)search_char_pos(query, SEARCH_MAX_QUERY);
		return cv_error(errmsg, CV_EPARSE,
			"the query is longer than %d bytes; hint: shorten "
			"it and narrow with filters",
			SEARCH_MAX_QUERY);
	}
	if (!cv_utf8_valid(query, len)) {
		*errpos = 1;
		return cv_error(errmsg, CV_EPARSE,
			"the query is not valid UTF-8; hint: check the "
			"terminal's encoding");
	}
	struct parser p = { .q = query, .len = len };
	struct node *root = NULL;
	if (search_next(&p) && p.tok.t != T_END) {
		root = search_parse_or(&p);
		if (root && p.tok.t != T_END) {
			search_fail(&p, p.tok.pos,
				p.tok.t == T_RP
					? "unexpected ')'; hint: remove it or add a "
					  "matching '('"
					: "unexpected '%.*s'; hint: quote it to search "
					  "for it",
				(int)p.tok.len, query + p.tok.pos);
		}
	}
	if (p.err) {
		for (size_t i = 0; i < p.n_unsure; i++)
			free(p.unsure[i].text);
		free(p.unsure);
		search_node_free(root);
		*errpos = (int)search_char_pos(query, p.errpos);
		enum cv_err e = cv_error(errmsg, CV_EPARSE, "%s", p.err);
		free(p.err);
		return e;
	}
	plan_from_tree(plan, root);
	plan->prefix = p.prefix;
	plan->unsure = p.unsure;
	plan->n_unsure = p.n_unsure;
	search_node_free(root);
	return CV_OK;
}

/* Words of text that are whole inside it (not touching either end). */
static void literal_words(const char *text, struct buf *fts)
{
	size_t n = strlen(text);
	size_t i = 0;
	int words = 0;
	while (i < n) {
		unsigned cp;
		size_t l = search_utf8_cp((const unsigned char *)text + i, &cp);
		if (!search_is_token_cp(cp)) {
			i += l;
			continue;
		}
		size_t s = i;
		bool sure = true;
		while (i < n) {
			l = search_utf8_cp((const unsigned char *)text + i,
				&cp);
			if (!search_is_token_cp(cp))
				break;
			sure &= search_is_sure_token_cp(cp);
			i += l;
		}
		/* a word FTS5 might not see as one would match nothing */
		bool whole = s > 0 && i < n && sure;
		/* "bot:"/"human:" prefixes are not in the index */
		bool speaker = (i - s == 3 &&
				       strncasecmp(text + s, "bot", 3) == 0) ||
			       (i - s == 5 &&
				       strncasecmp(text + s, "human", 5) == 0);
		if (whole && !speaker && words < SEARCH_MAX_TERMS) {
			if (words++)
				buf_puts(fts, " AND ");
			search_put_quoted(fts, text + s, i - s);
		}
	}
}

enum cv_err search_parse_literal(const char *text, struct search_plan *plan,
	char **errmsg)
{
	memset(plan, 0, sizeof(*plan));
	size_t len = strlen(text);
	if (len == 0)
		return cv_error(errmsg, CV_EPARSE, "--literal needs text");
	if (len > SEARCH_MAX_QUERY)
		return cv_error(errmsg, CV_EPARSE,
			"the literal is longer than %d bytes",
			SEARCH_MAX_QUERY);
	if (!cv_utf8_valid(text, len))
		return cv_error(errmsg, CV_EPARSE,
			"the literal is not valid UTF-8");
	plan->literal = true;
	plan->literal_text = xstrdup(text);
	struct buf fts;
	buf_init(&fts);
	literal_words(text, &fts);
	plan->cond = xcalloc(1, sizeof(*plan->cond));
	plan->cond->kind = SEARCH_COND_LITERAL;
	plan->cond->whole = xstrdup(text);
	if (fts.len) {
		plan->highlight = xstrdup(fts.data);
		plan->cond->match = buf_steal(&fts);
	}
	buf_finish(&fts);
	return CV_OK;
}

void search_plan_finish(struct search_plan *pl)
{
	if (!pl)
		return;
	free(pl->fts);
	if (pl->cond)
		cond_finish(pl->cond);
	free(pl->cond);
	free(pl->highlight);
	for (size_t i = 0; i < pl->n_digits; i++)
		free(pl->digits[i]);
	free(pl->digits);
	free(pl->literal_text);
	for (size_t i = 0; i < pl->n_unsure; i++)
		free(pl->unsure[i].text);
	free(pl->unsure);
	memset(pl, 0, sizeof(*pl));
}
