/* search_lex.c — the query's characters and tokens (search_int.h) */
#include "search.h"
#include "search_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* ---- characters ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool search_is_phone_punct(char c)
{
	return c && strchr(" ()-.+", c) != NULL;
}

/* Decode one UTF-8 code point (input is valid UTF-8); returns its length. */
size_t search_utf8_cp(const unsigned char *s, unsigned *cp)
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
bool search_is_token_cp(unsigned c)
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
bool search_is_sure_token_cp(unsigned c)
{
	return (c < 0x80 && search_is_token_cp(c)) ||
	       (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7);
}

/* The number of index tokens in s[0..n). */
int search_count_parts(const char *s, size_t n)
{
	int parts = 0;
	bool in = false;
	for (size_t i = 0; i < n;) {
		unsigned cp;
		i += search_utf8_cp((const unsigned char *)s + i, &cp);
		bool t = search_is_token_cp(cp);
		if (t && !in)
			parts++;
		in = t;
	}
	return parts;
}

/* Append s[0..n) as a double-quoted FTS5 string. */
void search_put_quoted(struct buf *b, const char *s, size_t n)
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

char *search_quoted(const char *s, size_t n, bool prefix)
{
	struct buf b;
	buf_init(&b);
	search_put_quoted(&b, s, n);
	if (prefix)
		buf_puts(&b, " *");
	return buf_steal(&b);
}

/*
 * Number-like text (digits joined by phone punctuation, at least 3
 * digits, a '.' only in long numbers): its digits into out, else false.
 */
bool search_number_like(const char *s, size_t n, char *out, size_t cap)
{
	size_t nd = 0;
	bool dot = false;
	for (size_t i = 0; i < n; i++) {
		if (is_digit(s[i])) {
			if (nd + 1 >= cap)
				return false;
			out[nd++] = s[i];
		} else if (search_is_phone_punct(s[i])) {
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
		while (j < len && search_is_phone_punct(q[j]) && j - i < 3)
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
	search_fail(p, p->i,
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
		search_fail(p, p->i,
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
		search_fail(p, p->i,
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
bool search_next(struct parser *p)
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
