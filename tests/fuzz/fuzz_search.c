/*
 * fuzz_search.c — the query parser at its boundary. Invariant: any input
 * either fails to parse with a position inside the query, or yields FTS5
 * expressions and SQL that SQLite accepts (never an FTS5 syntax error).
 *
 * Built with -DCV_LIBFUZZER it is a libFuzzer target. Otherwise main()
 * replays the seed files given as arguments and then 2000 queries
 * generated from a fixed seed out of the grammar's pieces.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"
#include "t.h"
#include "util.h"

static sqlite3 *db;

static void open_db(void)
{
	if (db)
		return;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db,
		    "CREATE TABLE calls(rid INTEGER PRIMARY KEY, summary,"
		    " transcript);"
		    "CREATE VIRTUAL TABLE calls_fts USING fts5(summary, bot,"
		    " human, other, tokenize = 'porter unicode61"
		    " remove_diacritics 2');"
		    "CREATE VIRTUAL TABLE calls_digits USING fts5(digits,"
		    " tokenize = 'trigram');"
		    "INSERT INTO calls VALUES (1, 'refund asked', 'bot: hi');"
		    "INSERT INTO calls_fts(rowid, summary, bot, human, other)"
		    " VALUES (1, 'refund asked', 'hi', 'co-pay 4242', NULL);"
		    "INSERT INTO calls_digits(rowid, digits) VALUES (1, '4242');",
		    NULL, NULL, NULL) != SQLITE_OK)
		abort();
}

/* Run sql with the plan's parameters; true when SQLite accepts it. */
static bool runs(const char *sql, const struct search_plan *pl,
	const char *one)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "prepare: %s: %s\n", sqlite3_errmsg(db), sql);
		return false;
	}
	if (one)
		sqlite3_bind_text(st, 1, one, -1, SQLITE_STATIC);
	else
		for (size_t i = 0; i < pl->n_params; i++)
			sqlite3_bind_text(st, (int)i + 1, pl->params[i], -1,
				SQLITE_STATIC);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (r != SQLITE_DONE)
		fprintf(stderr, "step: %s: %s / %s\n", sqlite3_errmsg(db), sql,
			one ? one : (pl->n_params ? pl->params[0] : ""));
	sqlite3_finalize(st);
	return r == SQLITE_DONE;
}

static bool check_one(const char *q)
{
	open_db();
	struct search_plan pl;
	char *err = NULL;
	int pos = 0;
	bool ok = true;
	enum cv_err rc = search_parse(q, &pl, &pos, &err);
	if (rc == CV_OK) {
		if (pl.fts)
			ok &= runs("SELECT count(*) FROM calls_fts WHERE "
				   "calls_fts MATCH ?", &pl, pl.fts);
		if (pl.where) {
			char *sql = xasprintf("SELECT count(*) FROM calls c "
					      "WHERE %s", pl.where);
			ok &= runs(sql, &pl, NULL);
			free(sql);
		}
		if (pl.highlight)
			ok &= runs("SELECT highlight(calls_fts, 1, '[', ']') "
				   "FROM calls_fts WHERE calls_fts MATCH ?",
				&pl, pl.highlight);
		char *m = search_mark_digits(&pl, "call +1 (555) 010-4242");
		free(m);
	} else {
		ok &= rc == CV_EPARSE && err && pos >= 1 &&
		      (size_t)pos <= strlen(q) + 1 && strstr(err, "hint") != NULL;
		if (!ok)
			fprintf(stderr, "bad error for '%s': %d %s\n", q, pos,
				err ? err : "(none)");
	}
	free(err);
	search_plan_finish(&pl);
	err = NULL;
	if (search_parse_literal(q, &pl, &err) == CV_OK) {
		char *sql = xasprintf("SELECT count(*) FROM calls c WHERE %s",
			pl.where);
		ok &= runs(sql, &pl, NULL);
		free(sql);
	}
	free(err);
	search_plan_finish(&pl);
	char *r = search_render(q, SEARCH_STYLE_BRACKETS, true, NULL, NULL);
	free(r);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *q = xstrndup((const char *)data, size);
	if (!check_one(q))
		abort();
	free(q);
	return 0;
}

#ifndef CV_LIBFUZZER
static const char *const pieces[] = { "refund", "manager", "AND", "OR",
	"NOT", "(", ")", "\"", "\"cancellation fee\"", "NEAR(", ",", " 5)",
	"bot:", "human:", "summary:", "transcript:", "agent:", "*", "-",
	"co-pay", "3.5%", "don't", "maria@example.com", "+1 (555) 010-2030",
	"4242", "12", "café", "\xe2\x80\x94", "\xcc\x81", "\xe0\xa5\xa4",
	"&", "\"\"", "NEAR", "near", "and", "{bot}", ":", "^", "'", "\\",
	"\xf0\x9f\x98\x80", "é", "1.25", "(555) 010", " ", " ", " " };

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *text = NULL;
		size_t len = 0;
		char *err = NULL;
		CHECK_MSG(cv_read_file(argv[i], 1 << 20, &text, &len, &err) ==
				CV_OK, "%s: %s", argv[i], err);
		if (text)
			CHECK_MSG(LLVMFuzzerTestOneInput((const uint8_t *)text,
					  len) == 0, "%s", argv[i]);
		free(text);
		free(err);
	}
	/* CV_FUZZ_ITERS / CV_FUZZ_SEED widen a manual run */
	const char *iters = getenv("CV_FUZZ_ITERS"), *s0 = getenv("CV_FUZZ_SEED");
	int total = iters ? atoi(iters) : 2000;
	unsigned seed = s0 ? (unsigned)atoi(s0) : 12345;
	struct buf q;
	buf_init(&q);
	for (int n = 0; n < total; n++) {
		buf_reset(&q);
		int k = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 8;
		for (int j = 0; j < k; j++) {
			seed = seed * 1103515245u + 12345u;
			buf_puts(&q, pieces[(seed >> 16) % CV_ARRAY_LEN(pieces)]);
			if ((seed >> 8) & 1)
				buf_putc(&q, ' ');
		}
		CHECK_MSG(check_one(q.data), "query '%s'", q.data);
	}
	buf_finish(&q);
	sqlite3_close(db);
	return t_done();
}
#endif
