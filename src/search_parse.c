/* search_parse.c — the query's parse tree, by recursive descent
 * (search_int.h) */
#include "search.h"
#include "search_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* ---- errors ---- */

struct node *search_fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	if (!p->err) {
		va_list ap;
		va_start(ap, fmt);
		p->err = xvasprintf(fmt, ap);
		va_end(ap);
		p->errpos = pos;
	}
	return NULL;
}

void search_node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		search_node_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n->alt);
	free(n);
}

static struct node *node_new(enum node_kind k)
{
	struct node *n = xcalloc(1, sizeof(*n));
	n->kind = k;
	n->cols = COL_ALL;
	return n;
}

static void node_add(struct node *n, struct node *kid)
{
	n->kids = xrealloc(n->kids, (n->n + 1) * sizeof(*n->kids));
	n->kids[n->n++] = kid;
}

/* ---- parser ---- */

/* Remember a term only non-Latin characters make searchable. */
static void note_unsure(struct parser *p, const struct token *t)
{
	for (size_t i = 0; i < t->slen;) {
		unsigned cp;
		i += search_utf8_cp((const unsigned char *)t->s + i, &cp);
		if (search_is_sure_token_cp(cp))
			return;
	}
	p->unsure = xrealloc(p->unsure, (p->n_unsure + 1) * sizeof(*p->unsure));
	p->unsure[p->n_unsure].text = xstrndup(t->s, t->slen);
	p->unsure[p->n_unsure++].pos = (int)search_char_pos(p->q, t->pos);
}

static struct node *leaf(struct parser *p, const struct token *t, bool in_near)
{
	if (++p->terms > SEARCH_MAX_TERMS)
		return search_fail(p, t->pos,
			"more than %d search terms; hint: "
			"narrow with filters instead",
			SEARCH_MAX_TERMS);
	if (search_count_parts(t->s, t->slen) == 0)
		return search_fail(p, t->pos,
			t->t == T_PHRASE
				? "this phrase has no words or digits in it; "
				  "hint: remove it"
				: "'%.*s' has no letters or digits to search "
				  "for; hint: remove it, or use AND, OR, NOT",
			(int)t->slen, t->s);
	note_unsure(p, t);
	char digits[SEARCH_MAX_QUERY + 1];
	if (t->t != T_PHRASE && !t->prefix && !in_near &&
		search_number_like(t->s, t->slen, digits, sizeof(digits))) {
		struct node *n = node_new(N_DIGITS);
		n->text = xstrdup(digits);
		n->alt = search_quoted(t->s, t->slen, false);
		return n;
	}
	struct node *n = node_new(N_TERM);
	n->text = search_quoted(t->s, t->slen, t->prefix);
	p->prefix |= t->prefix;
	return n;
}

static bool expect_primary_start(struct parser *p)
{
	switch (p->tok.t) {
	case T_WORD:
	case T_PHRASE:
	case T_NUMBER:
	case T_LP:
	case T_NEAR:
	case T_FIELD: return true;
	case T_END:
		search_fail(p, p->tok.pos,
			"the query ends where a search term "
			"should follow; hint: add a word after "
			"the last operator or field");
		return false;
	case T_RP:
		search_fail(p, p->tok.pos,
			"unexpected ')'; hint: remove it or add "
			"a matching '('");
		return false;
	case T_COMMA:
		search_fail(p, p->tok.pos,
			"unexpected ','; hint: a comma only "
			"separates NEAR's distance: NEAR(a b, 5)");
		return false;
	default:
		search_fail(p, p->tok.pos,
			"'%.*s' needs a search term before it; "
			"hint: quote it (\"%.*s\") to search "
			"for the word",
			(int)p->tok.len, p->q + p->tok.pos, (int)p->tok.len,
			p->q + p->tok.pos);
		return false;
	}
}

static struct node *parse_near(struct parser *p)
{
	size_t at = p->tok.pos;
	/* T_NEAR is only lexed right before '(': take it as such even
	 * where "(555) 010" would read as a phone number */
	if (p->i >= p->len || p->q[p->i] != '(')
		return search_fail(p, at,
			"NEAR needs '('; hint: write "
			"NEAR(refund manager, 5)");
	p->i++;
	struct node *n = node_new(N_NEAR);
	n->dist = 10;
	if (!search_next(p))
		goto bad;
	while (p->tok.t == T_WORD || p->tok.t == T_PHRASE ||
		p->tok.t == T_NUMBER) {
		struct node *l = leaf(p, &p->tok, true);
		if (!l)
			goto bad;
		node_add(n, l);
		if (!search_next(p))
			goto bad;
	}
	if (p->tok.t == T_COMMA) {
		if (p->tok.num > 100) {
			search_fail(p, p->tok.pos,
				"NEAR distance %d is over 100; "
				"hint: use a distance of 0 to 100",
				p->tok.num);
			goto bad;
		}
		n->dist = p->tok.num;
		if (!search_next(p))
			goto bad;
	}
	if (p->tok.t != T_RP) {
		search_fail(p, p->tok.pos,
			"NEAR takes words or \"phrases\" and an "
			"optional distance; hint: write "
			"NEAR(refund manager, 5)");
		goto bad;
	}
	if (n->n < 2) {
		search_fail(p, at,
			"NEAR needs at least two terms; hint: write "
			"NEAR(refund manager, 5)");
		goto bad;
	}
	if (!search_next(p))
		goto bad;
	return n;
bad:
	search_node_free(n);
	return NULL;
}

/* Restrict every leaf of n to cols; false (error) when nothing is left. */
static bool scope(struct parser *p, struct node *n, unsigned cols, size_t pos)
{
	if (n->kind == N_AND || n->kind == N_OR) {
		for (size_t i = 0; i < n->n; i++)
			if (!scope(p, n->kids[i], cols, pos))
				return false;
		return true;
	}
	n->cols &= cols;
	if (!n->cols) {
		search_fail(p, pos,
			"these fields do not overlap, so nothing could "
			"match; hint: use one field, e.g. bot:refund");
		return false;
	}
	return true;
}

static struct node *parse_primary(struct parser *p)
{
	if (!expect_primary_start(p))
		return NULL;
	struct token t = p->tok;
	struct node *n = NULL;
	switch (t.t) {
	case T_FIELD:
		if (!search_next(p))
			return NULL;
		if (!(n = parse_primary(p)))
			return NULL;
		if (!scope(p, n, t.cols, t.pos)) {
			search_node_free(n);
			return NULL;
		}
		return n;
	case T_LP:
		if (++p->depth > SEARCH_MAX_DEPTH)
			return search_fail(p, t.pos,
				"parentheses nested deeper than "
				"%d; hint: simplify the query",
				SEARCH_MAX_DEPTH);
		if (!search_next(p) || !(n = search_parse_or(p)))
			return NULL;
		if (p->tok.t != T_RP) {
			search_node_free(n);
			return search_fail(p, t.pos,
				"this '(' is never closed; "
				"hint: add a ')'");
		}
		p->depth--;
		break;
	case T_NEAR: return parse_near(p);
	default:
		if (!(n = leaf(p, &t, false)))
			return NULL;
		break;
	}
	if (!search_next(p)) {
		search_node_free(n);
		return NULL;
	}
	return n;
}

static bool starts_term(enum tok t)
{
	return t == T_WORD || t == T_PHRASE || t == T_NUMBER || t == T_LP ||
	       t == T_NEAR || t == T_FIELD || t == T_NOT;
}

/* and := [NOT] primary ( [AND] [NOT] primary )* */
static struct node *parse_and(struct parser *p)
{
	struct node *pos = node_new(N_AND), *neg = node_new(N_AND);
	bool first = true;
	while (first || p->tok.t == T_AND || starts_term(p->tok.t)) {
		if (!first && p->tok.t == T_AND && !search_next(p))
			goto bad;
		first = false;
		bool negate = p->tok.t == T_NOT;
		if (negate) {
			if (!search_next(p))
				goto bad;
			if (p->tok.t == T_NOT) {
				search_fail(p, p->tok.pos,
					"NOT NOT; hint: use one "
					"NOT");
				goto bad;
			}
		}
		struct node *k = parse_primary(p);
		if (!k)
			goto bad;
		node_add(negate ? neg : pos, k);
	}
	if (pos->n == 1 && neg->n == 0) {
		struct node *only = pos->kids[0];
		pos->n = 0;
		search_node_free(pos);
		search_node_free(neg);
		return only;
	}
	for (size_t i = 0; i < neg->n; i++)
		node_add(pos, neg->kids[i]);
	pos->n_neg = neg->n;
	neg->n = 0;
	search_node_free(neg);
	return pos;
bad:
	search_node_free(pos);
	search_node_free(neg);
	return NULL;
}

struct node *search_parse_or(struct parser *p)
{
	if (p->tok.t == T_OR)
		return search_fail(p, p->tok.pos,
			"OR needs a search term on its "
			"left; hint: a OR b");
	struct node *first = parse_and(p);
	if (!first || p->tok.t != T_OR)
		return first;
	struct node *n = node_new(N_OR);
	node_add(n, first);
	while (p->tok.t == T_OR) {
		if (!search_next(p)) {
			search_node_free(n);
			return NULL;
		}
		if (p->tok.t == T_OR || p->tok.t == T_END) {
			search_node_free(n);
			return search_fail(p, p->tok.pos,
				"OR needs a search term on "
				"its right; hint: a OR b");
		}
		struct node *k = parse_and(p);
		if (!k) {
			search_node_free(n);
			return NULL;
		}
		node_add(n, k);
	}
	return n;
}
