/*
 * store_terms.c — the list of words in the full-text index, for prefix
 * queries.
 *
 * FTS5 answers `cancel*` by merging the whole doclist of every term that
 * starts with "cancel" before it returns its first row: ~100 ms for a word
 * in most of a million calls, however few results are wanted, and again
 * for the snippets. The store therefore keeps fts_terms, every token the
 * index holds that does not start with a digit (numbers are searched
 * through the digit index, and would make the list grow without bound),
 * written in the same transaction as the call it comes from. search then
 * rewrites a prefix outside NEAR into an OR of the terms it stands for,
 * which FTS5 evaluates lazily in rowid order like any other word.
 *
 * The tokens are the index's own: every store connection registers, under
 * the name calls_fts's tokenizer has ("porter"), a tokenizer that hands
 * each call to FTS5's porter tokenizer and, while index_call inserts the
 * call (store_terms_capture_begin/end), also keeps each token it passes to
 * FTS5 that the list may lack. The schema names FTS5's own tokenizer, so
 * any other program opening the store (the sqlite3 shell) reads and
 * writes the same index without it. fts_terms
 * may hold more than the index (a purged call's words stay): a term that
 * matches nothing costs nothing. It must never hold less: `callvault check`
 * compares it with the index.
 */
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "store_int.h"
#include "store_terms.h"

/* calls_fts's tokenize option (schema.c) after its first word */
static const char *const tok_args[] = { "unicode61", "remove_diacritics", "2" };
#define TOK_NAME "porter"

/* FTS5 indexes at most this many bytes of a token (FTS5_MAX_TOKEN_SIZE
 * in its sources); the list must hold the token as the index does. */
#define FTS5_TOKEN_MAX 32768

/* A prefix that stands for more terms than this is left to FTS5. */
#define EXPAND_MAX 64

/* Terms remembered as stored, so that ingest does not look each one up
 * again; past this many the cache stops growing (lookups still work). */
#define KNOWN_MAX (1u << 17)

struct strset {
	char **slot;
	size_t cap, n; /* cap a power of two, or 0 */
};

struct store_terms {
	fts5_tokenizer api;
	Fts5Tokenizer *tok;
	struct strset known;   /* in fts_terms, committed */
	struct strset pending; /* written by the open transaction */
	struct strset fresh;   /* captured, not yet written */
	bool loaded;
	bool capture; /* between capture_begin and capture_end */
};

static uint64_t hash_of(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

/* The slot for p/n: where it is, or the empty one where it would go. */
static char **set_slot(const struct strset *set, const char *p, size_t n)
{
	size_t i = (size_t)hash_of(p, n) & (set->cap - 1);
	while (set->slot[i] &&
		(strncmp(set->slot[i], p, n) != 0 || set->slot[i][n] != '\0'))
		i = (i + 1) & (set->cap - 1);
	return &set->slot[i];
}

static bool set_has(const struct strset *set, const char *p, size_t n)
{
	return set->cap && *set_slot(set, p, n) != NULL;
}

static void set_add(struct strset *set, const char *p, size_t n)
{
	if ((set->n + 1) * 2 > set->cap) {
		struct strset big = { .cap = set->cap ? set->cap * 2 : 1024 };
		big.slot = xcalloc(big.cap, sizeof(*big.slot));
		for (size_t i = 0; i < set->cap; i++)
			if (set->slot[i])
				*set_slot(&big, set->slot[i],
					strlen(set->slot[i])) = set->slot[i];
		big.n = set->n;
		free(set->slot);
		*set = big;
	}
	char **slot = set_slot(set, p, n);
	if (*slot)
		return;
	*slot = xstrndup(p, n);
	set->n++;
}

static void set_clear(struct strset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
	memset(set, 0, sizeof(*set));
}

/* The store's tokenizer state, created on first use; NULL on failure. */
static struct store_terms *terms_of(struct store *s, char **errmsg)
{
	if (s->terms)
		return s->terms;
	fts5_api *api = store_fts5_api(s->db);
	struct store_terms *t = xcalloc(1, sizeof(*t));
	void *ud = NULL;
	if (!api ||
		api->xFindTokenizer(api, TOK_NAME, &ud, &t->api) != SQLITE_OK ||
		t->api.xCreate(ud, (const char **)tok_args,
			(int)CV_ARRAY_LEN(tok_args), &t->tok) != SQLITE_OK) {
		free(t);
		cv_error(errmsg, CV_EDB, "cannot create the FTS5 tokenizer");
		return NULL;
	}
	s->terms = t;
	return t;
}

void store_terms_free(struct store *s)
{
	struct store_terms *t = s->terms;
	if (!t)
		return;
	t->api.xDelete(t->tok);
	set_clear(&t->known);
	set_clear(&t->pending);
	set_clear(&t->fresh);
	free(t);
	s->terms = NULL;
}

void store_terms_committed(struct store *s)
{
	struct store_terms *t = s->terms;
	if (!t)
		return;
	for (size_t i = 0; i < t->pending.cap; i++) {
		char *w = t->pending.slot[i];
		if (w && t->known.n < KNOWN_MAX)
			set_add(&t->known, w, strlen(w));
	}
	set_clear(&t->pending);
}

void store_terms_rolled_back(struct store *s)
{
	if (s->terms)
		set_clear(&s->terms->pending);
}

/* Load the stored terms into the cache, up to KNOWN_MAX. */
static enum cv_err load_known(struct store *s, struct store_terms *t,
	char **errmsg)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT term FROM fts_terms", -1, &st,
		    NULL) != SQLITE_OK)
		return store_dberr(s, errmsg, "read the term list");
	while (t->known.n < KNOWN_MAX && sqlite3_step(st) == SQLITE_ROW)
		set_add(&t->known, (const char *)sqlite3_column_text(st, 0),
			(size_t)sqlite3_column_bytes(st, 0));
	sqlite3_finalize(st);
	t->loaded = true;
	return CV_OK;
}

enum cv_err store_terms_capture_begin(struct store *s, char **errmsg)
{
	struct store_terms *t = terms_of(s, errmsg);
	if (!t)
		return CV_EDB;
	if (!t->loaded && load_known(s, t, errmsg) != CV_OK)
		return CV_EDB;
	set_clear(&t->fresh);
	t->capture = true;
	return CV_OK;
}

enum cv_err store_terms_capture_end(struct store *s, bool keep, char **errmsg)
{
	static const char ins[] =
		"INSERT OR IGNORE INTO fts_terms(term) VALUES (?)";
	struct store_terms *t = s->terms;
	if (!t)
		return CV_OK;
	t->capture = false;
	enum cv_err rc = CV_OK;
	sqlite3_stmt *st = NULL;
	for (size_t i = 0; keep && rc == CV_OK && i < t->fresh.cap; i++) {
		const char *w = t->fresh.slot[i];
		if (!w)
			continue;
		if (!st && !(st = store_stmt(s, ins, errmsg))) {
			rc = CV_EDB;
			break;
		}
		sqlite3_bind_text(st, 1, w, -1, SQLITE_STATIC);
		int r = sqlite3_step(st);
		sqlite3_reset(st);
		if (r != SQLITE_DONE)
			rc = store_dberr(s, errmsg, "note index terms");
		else
			set_add(&t->pending, w, strlen(w));
	}
	set_clear(&t->fresh);
	return rc;
}

/* A token FTS5 is about to index: kept in fresh when the list may lack
 * it. Numbers are left to the digit index (see the top of this file). */
static void capture_token(struct store_terms *t, const char *tok, int n)
{
	if (n > FTS5_TOKEN_MAX)
		n = FTS5_TOKEN_MAX;
	if (n <= 0 || (tok[0] >= '0' && tok[0] <= '9') ||
		set_has(&t->known, tok, (size_t)n) ||
		set_has(&t->pending, tok, (size_t)n))
		return;
	set_add(&t->fresh, tok, (size_t)n);
}

/* ---- the capturing tokenizer ------------------------------------------ */

struct capture_module {
	fts5_tokenizer real; /* FTS5's porter */
	void *real_ud;
	struct store *s;
};

struct capture_tok {
	const struct capture_module *m;
	Fts5Tokenizer *inner;
};

struct capture_call {
	struct store_terms *t;
	void *ctx;
	int (*x_token)(void *, int, const char *, int, int, int);
};

static int capture_create(void *ud, const char **argv, int argc,
	Fts5Tokenizer **out)
{
	const struct capture_module *m = ud;
	struct capture_tok *ct = sqlite3_malloc(sizeof(*ct));
	if (!ct)
		return SQLITE_NOMEM;
	int rc = m->real.xCreate(m->real_ud, argv, argc, &ct->inner);
	if (rc != SQLITE_OK) {
		sqlite3_free(ct);
		return rc;
	}
	ct->m = m;
	*out = (Fts5Tokenizer *)ct;
	return SQLITE_OK;
}

static void capture_delete(Fts5Tokenizer *tok)
{
	struct capture_tok *ct = (struct capture_tok *)tok;
	ct->m->real.xDelete(ct->inner);
	sqlite3_free(ct);
}

static int capture_cb(void *arg, int flags, const char *tok, int n, int start,
	int end)
{
	struct capture_call *c = arg;
	int rc = c->x_token(c->ctx, flags, tok, n, start, end);
	if (rc == SQLITE_OK)
		capture_token(c->t, tok, n);
	return rc;
}

static int capture_tokenize(Fts5Tokenizer *tok, void *ctx, int flags,
	const char *text, int n,
	int (*x_token)(void *, int, const char *, int, int, int))
{
	const struct capture_tok *ct = (const struct capture_tok *)tok;
	struct store_terms *t = ct->m->s->terms;
	if (!t || !t->capture || flags != FTS5_TOKENIZE_DOCUMENT)
		return ct->m->real.xTokenize(ct->inner, ctx, flags, text, n,
			x_token);
	struct capture_call c = { .t = t, .ctx = ctx, .x_token = x_token };
	return ct->m->real.xTokenize(ct->inner, &c, flags, text, n, capture_cb);
}

enum cv_err store_terms_register(struct store *s, char **errmsg)
{
	static fts5_tokenizer capture = { capture_create, capture_delete,
		capture_tokenize };
	fts5_api *api = store_fts5_api(s->db);
	if (!api)
		return cv_error(errmsg, CV_EDB, "SQLite lacks FTS5");
	struct capture_module *m = sqlite3_malloc(sizeof(*m));
	if (!m)
		return cv_error(errmsg, CV_ENOMEM, "out of memory");
	m->s = s;
	if (api->xFindTokenizer(api, TOK_NAME, &m->real_ud, &m->real) !=
		SQLITE_OK) {
		sqlite3_free(m);
		return cv_error(errmsg, CV_EDB,
			"FTS5's porter tokenizer is missing");
	}
	/* from here FTS5 frees m with the connection; not on failure */
	if (api->xCreateTokenizer(api, TOK_NAME, m, &capture, sqlite3_free) !=
		SQLITE_OK) {
		sqlite3_free(m);
		return cv_error(errmsg, CV_EDB,
			"cannot register the FTS5 tokenizer");
	}
	return CV_OK;
}

/* ---- expanding prefixes ---------------------------------------------- */

struct tokens {
	char *w[2];
	int n; /* tokens seen (w holds the first two) */
};

static int take_token(void *arg, int flags, const char *tok, int n, int start,
	int end)
{
	struct tokens *k = arg;
	if (k->n < 2)
		k->w[k->n] = xstrndup(tok, (size_t)n);
	k->n++;
	return SQLITE_OK;
}

static void tokens_free(struct tokens *k)
{
	free(k->w[0]);
	free(k->w[1]);
}

/* The one token text is, or NULL (none, several, or an error). */
static char *one_token(struct store_terms *t, const char *text, size_t n,
	int flags)
{
	struct tokens k = { 0 };
	char *w = NULL;
	if (t->api.xTokenize(t->tok, &k, flags, text, (int)n, take_token) ==
			SQLITE_OK &&
		k.n == 1) {
		w = k.w[0];
		k.w[0] = NULL;
	}
	tokens_free(&k);
	return w;
}

static void put_fts_string(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++)
		buf_puts(b, *s == '"' ? "\"\"" : (char[]){ *s, 0 });
	buf_putc(b, '"');
}

/*
 * The terms the prefix `text` stands for, as `("t1" OR "t2" …)` appended
 * to b; false (b untouched) when FTS5 should expand it itself: the prefix
 * is not one token, starts with a digit, stands for no stored term or
 * more than EXPAND_MAX, or a term would not read back as itself when
 * quoted (the stemmer is not idempotent for every word).
 */
static bool expand_one(struct store *s, struct store_terms *t, const char *text,
	size_t n, struct buf *b)
{
	static const char range[] =
		"SELECT term FROM fts_terms WHERE term >= ?1 AND term < ?2"
		" ORDER BY term LIMIT ?3";
	char *p = one_token(t, text, n,
		FTS5_TOKENIZE_QUERY | FTS5_TOKENIZE_PREFIX);
	if (!p || (p[0] >= '0' && p[0] <= '9')) {
		free(p);
		return false;
	}
	sqlite3_stmt *st = store_stmt(s, range, NULL);
	if (!st) {
		free(p);
		return false;
	}
	char *hi = xasprintf("%s\xff", p);
	sqlite3_bind_text(st, 1, p, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, EXPAND_MAX + 1);
	struct buf out;
	buf_init(&out);
	int count = 0, r = SQLITE_DONE;
	bool ok = true;
	while (ok && (r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *w = (const char *)sqlite3_column_text(st, 0);
		size_t wn = (size_t)sqlite3_column_bytes(st, 0);
		char *back = one_token(t, w, wn, FTS5_TOKENIZE_QUERY);
		ok = ++count <= EXPAND_MAX && back && strcmp(back, w) == 0;
		free(back);
		buf_puts(&out, count == 1 ? "(" : " OR ");
		put_fts_string(&out, w);
	}
	sqlite3_reset(st);
	/* a read error must not leave a partial OR: FTS5 expands it then */
	ok = ok && r == SQLITE_DONE && count > 0;
	if (ok) {
		buf_putc(&out, ')');
		buf_append(b, out.data, out.len);
	}
	buf_finish(&out);
	free(hi);
	free(p);
	return ok;
}

/* The end of the FTS5 string literal starting at q (at its '"'). */
static const char *string_end(const char *q)
{
	for (q++; *q; q++) {
		if (*q != '"')
			continue;
		if (q[1] != '"')
			return q + 1;
		q++;
	}
	return q;
}

char *store_terms_expand(struct store *s, const char *fts, int *left)
{
	*left = 0;
	struct store_terms *t = terms_of(s, NULL);
	if (!t || !fts)
		return NULL;
	struct buf b, lit;
	buf_init(&b);
	buf_init(&lit);
	int done = 0;
	const char *q = fts;
	while (*q) {
		if (strncmp(q, "NEAR(", 5) == 0) {
			/* NEAR takes phrases only: left as written */
			const char *e = q + 5;
			while (*e && *e != ')')
				e = *e == '"' ? string_end(e) : e + 1;
			if (*e)
				e++;
			for (const char *c = q + 5; c < e;
				c = *c == '"' ? string_end(c) : c + 1)
				if (*c == '*')
					(*left)++;
			buf_append(&b, q, (size_t)(e - q));
			q = e;
			continue;
		}
		if (*q != '"') {
			buf_putc(&b, *q++);
			continue;
		}
		const char *e = string_end(q);
		if (strncmp(e, " *", 2) != 0) {
			buf_append(&b, q, (size_t)(e - q));
			q = e;
			continue;
		}
		buf_reset(&lit);
		for (const char *c = q + 1; c < e - 1; c++) {
			buf_putc(&lit, *c);
			if (*c == '"')
				c++;
		}
		if (expand_one(s, t, lit.data ? lit.data : "", lit.len, &b)) {
			done++;
		} else {
			buf_append(&b, q, (size_t)(e + 2 - q));
			(*left)++;
		}
		q = e + 2;
	}
	buf_finish(&lit);
	if (!done) {
		buf_finish(&b);
		return NULL;
	}
	return buf_steal(&b);
}

enum cv_err store_terms_check(struct store *s, char **errmsg)
{
	static const char sql[] =
		"SELECT v.term FROM temp.cv_terms_check v"
		" WHERE v.term NOT GLOB '[0-9]*' AND NOT EXISTS"
		" (SELECT 1 FROM fts_terms t WHERE t.term = v.term) LIMIT 1";
	enum cv_err rc = store_exec(s,
		"CREATE VIRTUAL TABLE IF NOT EXISTS temp.cv_terms_check USING"
		" fts5vocab(main, calls_fts, row)",
		errmsg);
	if (rc != CV_OK)
		return rc;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_dberr(s, errmsg, "term list check");
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"the index holds the term '%.64s'%s, which the term "
			"list (fts_terms) lacks",
			sqlite3_column_text(st, 0),
			sqlite3_column_bytes(st, 0) > 64 ? "…" : "");
	else if (r != SQLITE_DONE)
		rc = store_dberr(s, errmsg, "term list check");
	sqlite3_finalize(st);
	return rc;
}
