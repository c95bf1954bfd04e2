/* search.c — query grammar → FTS5 MATCH strings and a condition tree;
 * see search.h */
#include "search.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* Digit fragments longer than this are looked up by their last
 * DIGITS_PROBE digits, then checked whole (cond_of). */
#define DIGITS_PROBE 7

/* The FTS5 columns of the call text (summary, bot, human, other), as a
 * bit mask. */
enum {
	COL_SUMMARY = 1,
	COL_BOT = 2,
	COL_HUMAN = 4,
	COL_OTHER = 8,
	COL_ALL = 15,
	COL_TRANSCRIPT = COL_BOT | COL_HUMAN | COL_OTHER
};

enum tok {
	T_END,
	T_WORD,
	T_PHRASE,
	T_NUMBER,
	T_LP,
	T_RP,
	T_AND,
	T_OR,
	T_NOT,
	T_NEAR,
	T_FIELD,
	T_COMMA
};

struct token {
	enum tok t;
	size_t pos, len; /* byte range in the query */
	const char *s;   /* text (phrase: inside the quotes) */
	size_t slen;
	bool prefix;   /* trailing * */
	unsigned cols; /* T_FIELD */
	int num;       /* T_COMMA: the NEAR distance */
};

enum node_kind { N_AND, N_OR, N_TERM, N_DIGITS, N_NEAR };

struct node {
	enum node_kind kind;
	unsigned cols;
	char *text;         /* N_TERM: FTS5 string; N_DIGITS: digits */
	char *alt;          /* N_DIGITS: the FTS5 string of its parts */
	struct node **kids; /* N_AND/N_OR; N_NEAR: its terms */
	size_t n;
	size_t n_neg; /* N_AND: the last n_neg kids are negated */
	int dist;     /* N_NEAR */
};

struct parser {
	const char *q;
	size_t len, i;
	struct token tok;
	int terms, depth;
	bool prefix;
	size_t n_unsure;
	struct search_unsure *unsure;
	char *err;
	size_t errpos;
};


/* ---- errors ---- */

static struct node *fail(struct parser *p, size_t pos, const char *fmt, ...)
	CV_PRINTF(3, 4);
static struct node *fail(struct parser *p, size_t pos, const char *fmt, ...)
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

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->kids[i]);
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

/* ---- characters ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_phone_punct(char c)
{
	return c && strchr(" ()-.+", c) != NULL;
}

/* Decode one UTF-8 code point (input is valid UTF-8); returns its length. */
static size_t utf8_cp(const unsigned char *s, unsigned *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
	unsigned c = s[0] & (0x3F >> (n - 1));
	for (size_t i = 1; i < n; i++)
		c = (c << 6) | (s[i] & 0x3F);
	*cp = c;
	return n;
}

/* Does the index tokenizer (unicode61) keep this code point in a token?
 * An approximation that errs towards "separator" for symbols. */
static bool is_token_cp(unsigned c)
{
	if (c < 0x80)
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		       (c >= 'A' && c <= 'Z');
	if ((c >= 0xA0 && c <= 0xBF) || c == 0xD7 || c == 0xF7)
		return c == 0xAA || c == 0xB5 || c == 0xBA;
	/* punctuation, symbols and combining marks unicode61 separates on */
	static const unsigned sep[][2] = {
		{ 0x0300, 0x036F },
		{ 0x055A, 0x055F },
		{ 0x0589, 0x058A },
		{ 0x05BE, 0x05BE },
		{ 0x05C0, 0x05C0 },
		{ 0x05C3, 0x05C3 },
		{ 0x05F3, 0x05F4 },
		{ 0x060C, 0x060D },
		{ 0x061B, 0x061F },
		{ 0x066A, 0x066D },
		{ 0x06D4, 0x06D4 },
		{ 0x0964, 0x0965 },
		{ 0x0970, 0x0970 },
		{ 0x0E4F, 0x0E4F },
		{ 0x0E5A, 0x0E5B },
		{ 0x2000, 0x2BFF },
		{ 0x3000, 0x303F },
		{ 0xFE00, 0xFE6F },
		{ 0xFF01, 0xFF0F },
		{ 0xFF1A, 0xFF20 },
		{ 0xFF3B, 0xFF40 },
		{ 0xFF5B, 0xFF65 },
		{ 0xFFF0, 0xFFFF },
		{ 0x1F000, 0x10FFFF },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(sep); i++)
		if (c >= sep[i][0] && c <= sep[i][1])
			return false;
	return true;
}

/* Certainly a letter or digit to unicode61: ASCII and Latin letters. */
static bool is_sure_token_cp(unsigned c)
{
	return (c < 0x80 && is_token_cp(c)) ||
	       (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7);
}

/* The number of index tokens in s[0..n). */
static int count_parts(const char *s, size_t n)
{
	int parts = 0;
	bool in = false;
	for (size_t i = 0; i < n;) {
		unsigned cp;
		i += utf8_cp((const unsigned char *)s + i, &cp);
		bool t = is_token_cp(cp);
		if (t && !in)
			parts++;
		in = t;
	}
	return parts;
}

/* Append s[0..n) as a double-quoted FTS5 string. */
static void put_quoted(struct buf *b, const char *s, size_t n)
{
	buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_puts(b, "\"\"");
		else
			buf_putc(b, (unsigned char)s[i] < 0x20 ? ' ' : s[i]);
	}
	buf_putc(b, '"');
}

static char *quoted(const char *s, size_t n, bool prefix)
{
	struct buf b;
	buf_init(&b);
	put_quoted(&b, s, n);
	if (prefix)
		buf_puts(&b, " *");
	return buf_steal(&b);
}

/*
 * Number-like text (digits joined by phone punctuation, at least 3
 * digits, a '.' only in long numbers): its digits into out, else false.
 */
static bool number_like(const char *s, size_t n, char *out, size_t cap)
{
	size_t nd = 0;
	bool dot = false;
	for (size_t i = 0; i < n; i++) {
		if (is_digit(s[i])) {
			if (nd + 1 >= cap)
				return false;
			out[nd++] = s[i];
		} else if (is_phone_punct(s[i])) {
			dot |= s[i] == '.';
		} else {
			return false;
		}
	}
	out[nd] = '\0';
	return nd >= 3 && (!dot || nd >= 7);
}

/* End of a number span from i: digits joined by runs of phone
 * punctuation that are followed by another digit. */
static size_t number_end(const char *q, size_t len, size_t i)
{
	size_t end = i;
	while (i < len) {
		if (is_digit(q[i])) {
			end = ++i;
			continue;
		}
		size_t j = i;
		while (j < len && is_phone_punct(q[j]) && j - i < 3)
			j++;
		if (j == i || j >= len || !is_digit(q[j]))
			break;
		i = j;
	}
	return end;
}

static bool starts_number(const char *q, size_t len, size_t i)
{
	if (is_digit(q[i]))
		return true;
	if (q[i] == '+' && i + 1 < len && is_digit(q[i + 1]))
		return true;
	/* "(555) 010-2030" */
	if (q[i] == '(' && i + 5 < len && is_digit(q[i + 1]) &&
		is_digit(q[i + 2]) && is_digit(q[i + 3]) && q[i + 4] == ')')
		return is_digit(q[i + 5]) ||
		       (i + 6 < len && strchr(" -.", q[i + 5]) &&
			       is_digit(q[i + 6]));
	return false;
}

static bool is_delim(char c)
{
	return is_space(c) || c == '(' || c == ')' || c == '"' || c == '\0';
}

/* ---- lexer ---- */

static const struct {
	const char *name;
	unsigned cols;
} fields[] = {
	{ "summary", COL_SUMMARY },
	{ "transcript", COL_TRANSCRIPT },
	{ "bot", COL_BOT },
	{ "human", COL_HUMAN },
};

/* A word "name:" at the start of s[0..n): its length up to ':' or 0. */
static size_t field_prefix(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && ((s[i] >= 'a' && s[i] <= 'z') ||
				(s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_'))
		i++;
	return i > 0 && i < n && s[i] == ':' ? i : 0;
}

static bool lex_field(struct parser *p, struct token *t, size_t wend)
{
	size_t fl = field_prefix(p->q + p->i, wend - p->i);
	if (!fl)
		return true;
	for (size_t k = 0; k < CV_ARRAY_LEN(fields); k++) {
		if (strlen(fields[k].name) == fl &&
			strncasecmp(p->q + p->i, fields[k].name, fl) == 0) {
			t->t = T_FIELD;
			t->cols = fields[k].cols;
			t->len = fl + 1;
			p->i += fl + 1;
			return true;
		}
	}
	fail(p, p->i,
		"unknown field '%.*s:'; hint: the fields are summary:, "
		"transcript:, bot: and human: (use --agent, --location … "
		"to filter; put text with a colon in \"quotes\")",
		(int)fl, p->q + p->i);
	return false;
}

static bool lex_comma(struct parser *p, struct token *t)
{
	size_t j = p->i + 1, k;
	while (j < p->len && is_space(p->q[j]))
		j++;
	k = j;
	int v = 0;
	while (k < p->len && is_digit(p->q[k]) && k - j < 4)
		v = v * 10 + (p->q[k++] - '0');
	size_t e = k;
	while (e < p->len && is_space(p->q[e]))
		e++;
	if (k == j || e >= p->len || p->q[e] != ')')
		return false;
	t->t = T_COMMA;
	t->num = v;
	t->len = e - p->i;
	p->i = e;
	return true;
}

static bool lex_phrase(struct parser *p, struct token *t)
{
	const char *close = memchr(p->q + p->i + 1, '"', p->len - p->i - 1);
	if (!close) {
		fail(p, p->i,
			"this quote is never closed; hint: add the "
			"closing \"");
		return false;
	}
	t->t = T_PHRASE;
	t->s = p->q + p->i + 1;
	t->slen = (size_t)(close - t->s);
	p->i = (size_t)(close - p->q) + 1;
	if (p->i < p->len && p->q[p->i] == '*') {
		t->prefix = true;
		p->i++;
	}
	t->len = p->i - t->pos;
	return true;
}

static bool lex_word(struct parser *p, struct token *t)
{
	size_t wend = p->i;
	while (!is_delim(p->q[wend]))
		wend++;
	if (starts_number(p->q, p->len, p->i)) {
		size_t nend = number_end(p->q, p->len,
			p->q[p->i] == '(' || p->q[p->i] == '+' ? p->i + 1
							       : p->i);
		if (nend > wend) {
			t->t = T_NUMBER;
			t->s = p->q + p->i;
			t->slen = t->len = nend - p->i;
			p->i = nend;
			return true;
		}
	}
	if (p->q[p->i] == '(') {
		t->t = T_LP;
		t->len = 1;
		p->i++;
		return true;
	}
	size_t n = wend - p->i;
	const char *w = p->q + p->i;
	static const struct {
		const char *s;
		enum tok t;
	} ops[] = {
		{ "AND", T_AND },
		{ "OR", T_OR },
		{ "NOT", T_NOT },
	};
	for (size_t k = 0; k < CV_ARRAY_LEN(ops); k++) {
		if (n == strlen(ops[k].s) && memcmp(w, ops[k].s, n) == 0) {
			t->t = ops[k].t;
			t->len = n;
			p->i = wend;
			return true;
		}
	}
	if (n == 4 && memcmp(w, "NEAR", 4) == 0 && p->q[wend] == '(') {
		t->t = T_NEAR;
		t->len = 4;
		p->i = wend;
		return true;
	}
	t->t = T_END;
	if (!lex_field(p, t, wend))
		return false;
	if (t->t == T_FIELD)
		return true;
	if (n > 1 && w[0] == '-' && !is_digit(w[1]) && w[1] != '-') {
		fail(p, p->i,
			"'%.*s' does not exclude anything; hint: write "
			"NOT %.*s",
			(int)n, w, (int)(n - 1), w + 1);
		return false;
	}
	/* a comma that ends the word may be NEAR's ", N)" */
	const char *comma = memchr(w, ',', n);
	if (comma && comma > w) {
		struct parser tmp = *p;
		tmp.i = (size_t)(comma - p->q);
		struct token ct;
		if (lex_comma(&tmp, &ct)) {
			wend = tmp.i - ct.len;
			n = wend - p->i;
		}
	}
	t->t = T_WORD;
	t->s = w;
	t->slen = n;
	if (n > 1 && w[n - 1] == '*') {
		t->prefix = true;
		t->slen--;
	}
	t->len = n;
	p->i = wend;
	return true;
}

/* Read the next token into p->tok; false on a lexical error. */
static bool next(struct parser *p)
{
	while (p->i < p->len && is_space(p->q[p->i]))
		p->i++;
	struct token *t = &p->tok;
	memset(t, 0, sizeof(*t));
	t->pos = p->i;
	if (p->i >= p->len) {
		t->t = T_END;
		return true;
	}
	char c = p->q[p->i];
	if (c == ')') {
		t->t = T_RP;
		t->len = 1;
		p->i++;
		return true;
	}
	if (c == '"')
		return lex_phrase(p, t);
	if (c == ',' && lex_comma(p, t))
		return true;
	return lex_word(p, t);
}

/* ---- parser ---- */

static size_t char_pos(const char *q, size_t byte);

/* Remember a term only non-Latin characters make searchable. */
static void note_unsure(struct parser *p, const struct token *t)
{
	for (size_t i = 0; i < t->slen;) {
		unsigned cp;
		i += utf8_cp((const unsigned char *)t->s + i, &cp);
		if (is_sure_token_cp(cp))
			return;
	}
	p->unsure = xrealloc(p->unsure, (p->n_unsure + 1) * sizeof(*p->unsure));
	p->unsure[p->n_unsure].text = xstrndup(t->s, t->slen);
	p->unsure[p->n_unsure++].pos = (int)char_pos(p->q, t->pos);
}

static struct node *leaf(struct parser *p, const struct token *t, bool in_near)
{
	if (++p->terms > SEARCH_MAX_TERMS)
		return fail(p, t->pos,
			"more than %d search terms; hint: "
			"narrow with filters instead",
			SEARCH_MAX_TERMS);
	if (count_parts(t->s, t->slen) == 0)
		return fail(p, t->pos,
			t->t == T_PHRASE
				? "this phrase has no words or digits in it; "
				  "hint: remove it"
				: "'%.*s' has no letters or digits to search "
				  "for; hint: remove it, or use AND, OR, NOT",
			(int)t->slen, t->s);
	note_unsure(p, t);
	char digits[SEARCH_MAX_QUERY + 1];
	if (t->t != T_PHRASE && !t->prefix && !in_near &&
		number_like(t->s, t->slen, digits, sizeof(digits))) {
		struct node *n = node_new(N_DIGITS);
		n->text = xstrdup(digits);
		n->alt = quoted(t->s, t->slen, false);
		return n;
	}
	struct node *n = node_new(N_TERM);
	n->text = quoted(t->s, t->slen, t->prefix);
	p->prefix |= t->prefix;
	return n;
}

static struct node *parse_or(struct parser *p);

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
		fail(p, p->tok.pos,
			"the query ends where a search term "
			"should follow; hint: add a word after "
			"the last operator or field");
		return false;
	case T_RP:
		fail(p, p->tok.pos,
			"unexpected ')'; hint: remove it or add "
			"a matching '('");
		return false;
	case T_COMMA:
		fail(p, p->tok.pos,
			"unexpected ','; hint: a comma only "
			"separates NEAR's distance: NEAR(a b, 5)");
		return false;
	default:
		fail(p, p->tok.pos,
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
		return fail(p, at,
			"NEAR needs '('; hint: write "
			"NEAR(refund manager, 5)");
	p->i++;
	struct node *n = node_new(N_NEAR);
	n->dist = 10;
	if (!next(p))
		goto bad;
	while (p->tok.t == T_WORD || p->tok.t == T_PHRASE ||
		p->tok.t == T_NUMBER) {
		struct node *l = leaf(p, &p->tok, true);
		if (!l)
			goto bad;
		node_add(n, l);
		if (!next(p))
			goto bad;
	}
	if (p->tok.t == T_COMMA) {
		if (p->tok.num > 100) {
			fail(p, p->tok.pos,
				"NEAR distance %d is over 100; "
				"hint: use a distance of 0 to 100",
				p->tok.num);
			goto bad;
		}
		n->dist = p->tok.num;
		if (!next(p))
			goto bad;
	}
	if (p->tok.t != T_RP) {
		fail(p, p->tok.pos,
			"NEAR takes words or \"phrases\" and an "
			"optional distance; hint: write "
			"NEAR(refund manager, 5)");
		goto bad;
	}
	if (n->n < 2) {
		fail(p, at,
			"NEAR needs at least two terms; hint: write "
			"NEAR(refund manager, 5)");
		goto bad;
	}
	if (!next(p))
		goto bad;
	return n;
bad:
	node_free(n);
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
		fail(p, pos,
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
		if (!next(p))
			return NULL;
		if (!(n = parse_primary(p)))
			return NULL;
		if (!scope(p, n, t.cols, t.pos)) {
			node_free(n);
			return NULL;
		}
		return n;
	case T_LP:
		if (++p->depth > SEARCH_MAX_DEPTH)
			return fail(p, t.pos,
				"parentheses nested deeper than "
				"%d; hint: simplify the query",
				SEARCH_MAX_DEPTH);
		if (!next(p) || !(n = parse_or(p)))
			return NULL;
		if (p->tok.t != T_RP) {
			node_free(n);
			return fail(p, t.pos,
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
	if (!next(p)) {
		node_free(n);
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
		if (!first && p->tok.t == T_AND && !next(p))
			goto bad;
		first = false;
		bool negate = p->tok.t == T_NOT;
		if (negate) {
			if (!next(p))
				goto bad;
			if (p->tok.t == T_NOT) {
				fail(p, p->tok.pos,
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
		node_free(pos);
		node_free(neg);
		return only;
	}
	for (size_t i = 0; i < neg->n; i++)
		node_add(pos, neg->kids[i]);
	pos->n_neg = neg->n;
	neg->n = 0;
	node_free(neg);
	return pos;
bad:
	node_free(pos);
	node_free(neg);
	return NULL;
}

static struct node *parse_or(struct parser *p)
{
	if (p->tok.t == T_OR)
		return fail(p, p->tok.pos,
			"OR needs a search term on its "
			"left; hint: a OR b");
	struct node *first = parse_and(p);
	if (!first || p->tok.t != T_OR)
		return first;
	struct node *n = node_new(N_OR);
	node_add(n, first);
	while (p->tok.t == T_OR) {
		if (!next(p)) {
			node_free(n);
			return NULL;
		}
		if (p->tok.t == T_OR || p->tok.t == T_END) {
			node_free(n);
			return fail(p, p->tok.pos,
				"OR needs a search term on "
				"its right; hint: a OR b");
		}
		struct node *k = parse_and(p);
		if (!k) {
			node_free(n);
			return NULL;
		}
		node_add(n, k);
	}
	return n;
}

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
			c->match = quoted(n->text + len - DIGITS_PROBE,
				DIGITS_PROBE, false);
			c->whole = xstrdup(n->text);
		} else {
			c->match = quoted(n->text, len, false);
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

static size_t char_pos(const char *q, size_t byte)
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
		*errpos = (int)char_pos(query, SEARCH_MAX_QUERY);
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
	if (next(&p) && p.tok.t != T_END) {
		root = parse_or(&p);
		if (root && p.tok.t != T_END) {
			fail(&p, p.tok.pos,
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
		node_free(root);
		*errpos = (int)char_pos(query, p.errpos);
		enum cv_err e = cv_error(errmsg, CV_EPARSE, "%s", p.err);
		free(p.err);
		return e;
	}
	plan_from_tree(plan, root);
	plan->prefix = p.prefix;
	plan->unsure = p.unsure;
	plan->n_unsure = p.n_unsure;
	node_free(root);
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
		size_t l = utf8_cp((const unsigned char *)text + i, &cp);
		if (!is_token_cp(cp)) {
			i += l;
			continue;
		}
		size_t s = i;
		bool sure = true;
		while (i < n) {
			l = utf8_cp((const unsigned char *)text + i, &cp);
			if (!is_token_cp(cp))
				break;
			sure &= is_sure_token_cp(cp);
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
			put_quoted(fts, text + s, i - s);
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

/* ---- digits in text ---- */

bool search_find_digits(const char *text, size_t from, const char *digits,
	size_t *start, size_t *end)
{
	size_t n = strlen(text);
	if (!*digits)
		return false;
	for (size_t i = from; i < n; i++) {
		if (text[i] != digits[0])
			continue;
		size_t q = i + 1, j = 1;
		while (digits[j] && q < n) {
			size_t gap = 0;
			while (q < n && gap < 4 &&
				(is_phone_punct(text[q]) ||
					text[q] == SEARCH_MARK_ON ||
					text[q] == SEARCH_MARK_OFF)) {
				q++;
				gap++;
			}
			if (q >= n || text[q] != digits[j])
				break;
			q++;
			j++;
		}
		if (!digits[j]) {
			*start = i;
			*end = q;
			return true;
		}
	}
	return false;
}

char *search_mark_digits(const struct search_plan *plan, const char *text)
{
	size_t n = strlen(text);
	unsigned char *mark = xcalloc(n + 1, 1); /* 1 = start, 2 = end */
	bool any = false;
	for (size_t d = 0; d < plan->n_digits; d++) {
		size_t from = 0, s, e;
		while (search_find_digits(text, from, plan->digits[d], &s,
			&e)) {
			mark[s] |= 1;
			mark[e] |= 2;
			from = e;
			any = true;
		}
	}
	struct buf b;
	buf_init(&b);
	if (!any) {
		buf_puts(&b, text);
	} else {
		for (size_t i = 0; i <= n; i++) {
			if (mark[i] & 2)
				buf_putc(&b, SEARCH_MARK_OFF);
			if (mark[i] & 1)
				buf_putc(&b, SEARCH_MARK_ON);
			if (i < n)
				buf_putc(&b, text[i]);
		}
	}
	free(mark);
	return buf_steal(&b);
}

/* ---- rendering ---- */

/* Is the UTF-8 at p a C1 control (U+0080-U+009F: U+009B starts a
 * terminal command) or a bidirectional override or isolate (U+202A-202E,
 * U+2066-2069), which reorder what a reader sees? */
static bool term_active(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	if (p[0] == 0xC2)
		return p[1] >= 0x80 && p[1] <= 0x9F;
	if (p[0] != 0xE2)
		return false;
	return (p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE) ||
	       (p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9);
}

char *search_render(const char *marked, enum search_style style, bool one_line,
	size_t **ranges, size_t *n_ranges)
{
	struct buf b;
	buf_init(&b);
	size_t cps = 0, cap = 0, depth = 0;
	if (ranges) {
		*ranges = NULL;
		*n_ranges = 0;
	}
	for (const char *p = marked ? marked : ""; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == SEARCH_MARK_ON || c == SEARCH_MARK_OFF) {
			bool on = c == SEARCH_MARK_ON;
			if (on ? depth++ != 0 : depth == 0 || --depth != 0)
				continue;
			if (style == SEARCH_STYLE_BOLD)
				buf_puts(&b, on ? "\033[1m" : "\033[0m");
			else if (style == SEARCH_STYLE_BRACKETS)
				buf_putc(&b, on ? '[' : ']');
			if (ranges) {
				if (on && *n_ranges * 2 + 2 > cap) {
					cap = cap ? cap * 2 : 16;
					*ranges = xrealloc(*ranges,
						cap * sizeof(**ranges));
				}
				if (on)
					(*ranges)[*n_ranges * 2] = cps;
				else
					(*ranges)[(*n_ranges)++ * 2 + 1] = cps;
			}
			continue;
		}
		if (style != SEARCH_STYLE_PLAIN && term_active(p)) {
			/* for a terminal: U+FFFD, one code point as well */
			buf_puts(&b, "\xef\xbf\xbd");
			p += c == 0xC2 ? 1 : 2;
			cps++;
			continue;
		}
		if (c == '\n' && !one_line)
			buf_putc(&b, '\n');
		else if (c < 0x20 || c == 0x7f)
			buf_putc(&b, ' ');
		else
			buf_putc(&b, (char)c);
		if ((c & 0xC0) != 0x80)
			cps++;
	}
	if (depth && style == SEARCH_STYLE_BOLD)
		buf_puts(&b, "\033[0m");
	if (ranges && depth)
		(*ranges)[(*n_ranges)++ * 2 + 1] = cps;
	return buf_steal(&b);
}
