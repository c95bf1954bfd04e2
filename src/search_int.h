/*
 * search_int.h — what the files of the query parser share: its tokens,
 * parse tree and parser state, and the helpers each uses of the others
 * (search_lex.c: characters and tokens; search_parse.c: the tree;
 * search.c: the plan; search_text.c: digits and rendering). Nothing
 * outside them includes this; the API is search.h.
 */
#ifndef CV_SEARCH_INT_H
#define CV_SEARCH_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "search.h"
#include "util.h"

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

/* ---- search_lex.c: characters and tokens ---- */

bool search_is_phone_punct(char c);
/* Decode one UTF-8 code point (input is valid UTF-8); returns its length. */
size_t search_utf8_cp(const unsigned char *s, unsigned *cp);
/* Does the index tokenizer (unicode61) keep this code point in a token? */
bool search_is_token_cp(unsigned c);
/* Certainly a letter or digit to unicode61: ASCII and Latin letters. */
bool search_is_sure_token_cp(unsigned c);
/* The number of index tokens in s[0..n). */
int search_count_parts(const char *s, size_t n);
/* Append s[0..n) as a double-quoted FTS5 string. */
void search_put_quoted(struct buf *b, const char *s, size_t n);
/* s[0..n) as a double-quoted FTS5 string (a new string), then " *"
 * when prefix. */
char *search_quoted(const char *s, size_t n, bool prefix);
/* Number-like text: its digits into out, else false. */
bool search_number_like(const char *s, size_t n, char *out, size_t cap);
/* Read the next token into p->tok; false on a lexical error. */
bool search_next(struct parser *p);

/* ---- search_parse.c: the parse tree ---- */

/* Record the first error (at byte pos of the query) in p; NULL. */
struct node *search_fail(struct parser *p, size_t pos, const char *fmt, ...)
	CV_PRINTF(3, 4);
void search_node_free(struct node *n);
/* or := and ( OR and )* — the whole query, or a parenthesised one */
struct node *search_parse_or(struct parser *p);

/* ---- search.c ---- */

/* The 1-based character position of byte `byte` of q. */
size_t search_char_pos(const char *q, size_t byte);

#endif
