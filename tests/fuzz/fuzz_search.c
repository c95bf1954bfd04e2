/*
 * fuzz_search.c — the query parser at its boundary. Invariant: any input
 * either fails to parse with a position inside the query, or yields a plan
 * that a real store (in memory, holding one call) runs: the search, its
 * count and its highlight expression, never an FTS5 syntax error or an
 * SQL error. A plan with a term the index cannot search for may be
 * refused, naming its position.
 *
 * Built with -DCV_LIBFUZZER it is a libFuzzer target. Otherwise main()
 * replays the seed files given as arguments and then 2000 queries
 * generated from a fixed seed out of the grammar's pieces.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "search.h"
#include "store/store.h"
#include "store/store_search.h"
#include "t.h"
#include "util.h"

static struct store *st;

static const char call[] =
	"{\"id\": \"f1\", \"createdAt\": \"2026-04-01T00:00:00.000Z\","
	" \"locationId\": \"L1\", \"agentId\": \"A1\","
	" \"executedCallActions\": [], \"summary\": \"refund asked\","
	" \"transcript\": \"bot: hi\\nhuman: co-pay 4242\"}";

static void open_store(void)
{
	if (st)
		return;
	char *err = NULL;
	struct ingest_stats is = { 0 };
	if (store_open(&st, STORE_MEMORY, 0, &err) != CV_OK ||
		ingest_payload(st, SRC_IMPORT, call, strlen(call), NULL, &is,
			NULL, &err) != CV_OK ||
		is.added != 1) {
		fprintf(stderr, "store: %s\n", err ? err : "not added");
		abort();
	}
}

/* The store runs the plan: a page newest first and by relevance, and the
 * count. A term the index cannot search for may be refused (CV_EPARSE
 * naming its position) when the plan has one. */
static bool runs(const char *q, const struct search_plan *pl)
{
	struct store_search_opts o = { .plan = pl, .limit = 5 };
	struct store_hit *h;
	size_t n;
	int64_t count;
	bool ok = true;
	for (int k = 0; k < 3 && ok; k++) {
		char *err = NULL;
		enum cv_err rc;
		o.sort = k == 1 ? STORE_SORT_RELEVANCE : STORE_SORT_NEWEST;
		if (k < 2) {
			rc = store_search(st, &o, &h, &n, &err);
			if (rc == CV_OK)
				store_hits_free(h, n);
		} else {
			rc = store_search_count(st, &o, &count, &err);
		}
		ok = rc == CV_OK || (rc == CV_EPARSE && pl->n_unsure && err &&
					    strstr(err, "position"));
		if (!ok)
			fprintf(stderr, "store: '%s': %d %s\n", q, rc,
				err ? err : "");
		free(err);
	}
	return ok;
}

static bool check_one(const char *q)
{
	open_store();
	struct search_plan pl;
	char *err = NULL;
	int pos = 0;
	bool ok = true;
	enum cv_err rc = search_parse(q, &pl, &pos, &err);
	if (rc == CV_OK) {
		ok &= runs(q, &pl);
		if (pl.highlight) {
			/* the expression snippets and show match with */
			struct search_plan hl = { .fts = pl.highlight };
			ok &= runs(q, &hl);
		}
		char *m = search_mark_digits(&pl, "call +1 (555) 010-4242");
		free(m);
	} else {
		ok &= rc == CV_EPARSE && err && pos >= 1 &&
		      (size_t)pos <= strlen(q) + 1 &&
		      strstr(err, "hint") != NULL;
		if (!ok)
			fprintf(stderr, "bad error for '%s': %d %s\n", q, pos,
				err ? err : "(none)");
	}
	free(err);
	search_plan_finish(&pl);
	err = NULL;
	if (search_parse_literal(q, &pl, &err) == CV_OK)
		ok &= runs(q, &pl);
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
static const char *const pieces[] = { "refund", "manager", "AND", "OR", "NOT",
	"(", ")", "\"", "\"cancellation fee\"", "NEAR(", ",", " 5)",
	"bot:", "human:", "summary:", "transcript:", "agent:", "*", "-",
	"co-pay", "3.5%", "don't", "maria@example.com", "+1 (555) 010-2030",
	"4242", "12", "café", "\xe2\x80\x94", "\xcc\x81", "\xe0\xa5\xa4", "&",
	"\"\"", "NEAR", "near", "and", "{bot}", ":", "^", "'", "\\",
	"\xf0\x9f\x98\x80", "é", "1.25", "(555) 010", " ", " ", " " };

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *text = NULL;
		size_t len = 0;
		char *err = NULL;
		CHECK_MSG(cv_read_file(argv[i], 1 << 20, &text, &len, &err) ==
				  CV_OK,
			"%s: %s", argv[i], err);
		if (text)
			CHECK_MSG(LLVMFuzzerTestOneInput((const uint8_t *)text,
					  len) == 0,
				"%s", argv[i]);
		free(text);
		free(err);
	}
	/* CV_FUZZ_ITERS / CV_FUZZ_SEED widen a manual run */
	const char *iters = getenv("CV_FUZZ_ITERS"),
		   *s0 = getenv("CV_FUZZ_SEED");
	int total = iters ? atoi(iters) : 2000;
	unsigned seed = s0 ? (unsigned)atoi(s0) : 12345;
	struct buf q;
	buf_init(&q);
	for (int n = 0; n < total; n++) {
		buf_reset(&q);
		int k = 1 +
			(int)((seed = seed * 1103515245u + 12345u) >> 16) % 8;
		for (int j = 0; j < k; j++) {
			seed = seed * 1103515245u + 12345u;
			buf_puts(&q,
				pieces[(seed >> 16) % CV_ARRAY_LEN(pieces)]);
			if ((seed >> 8) & 1)
				buf_putc(&q, ' ');
		}
		CHECK_MSG(check_one(q.data), "query '%s'", q.data);
	}
	buf_finish(&q);
	store_close(st);
	return t_done();
}
#endif
