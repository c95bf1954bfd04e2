/*
 * test_search.c — the query language and its filters over a fixture
 * corpus imported through the real ingest path. Table-driven: each row
 * is a query (and filters) with the call ids it must return. Rendering,
 * export and the term list are in test_search_export.c; how the store
 * answers (ranking, probes, batches) in test_search_paths.c.
 *
 * usage: test_search FIXTURE.jsonl
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"
#include "search_t.h"
#include "store/store_search.h"
#include "t.h"
#include "util.h"

/* ---- parser ---- */

static const struct {
	const char *q;
	const char *fts;   /* expected plan.fts, or NULL */
	const char *where; /* expected substring of the SQL the store makes of
			      plan.cond (store_search_describe), or NULL */
} parse_ok[] = {
	{ "refund", "\"refund\"", NULL },
	{ "refund manager", "(\"refund\" AND \"manager\")", NULL },
	{ "refund AND manager", "(\"refund\" AND \"manager\")", NULL },
	{ "refund OR credit", "(\"refund\" OR \"credit\")", NULL },
	{ "refund NOT manager", "((\"refund\") NOT \"manager\")", NULL },
	{ "\"cancellation fee\"", "\"cancellation fee\"", NULL },
	{ "\"cancellation fe\"*", "\"cancellation fe\" *", NULL },
	{ "cancel*", "\"cancel\" *", NULL },
	{ "NEAR(refund manager, 5)", "NEAR(\"refund\" \"manager\", 5)", NULL },
	{ "NEAR(refund manager)", "NEAR(\"refund\" \"manager\", 10)", NULL },
	{ "NEAR(\"a b\" c,0)", "NEAR(\"a b\" \"c\", 0)", NULL },
	{ "bot:refund", "{bot} : \"refund\"", NULL },
	{ "human: refund", "{human} : \"refund\"", NULL },
	{ "summary:refund", "{summary} : \"refund\"", NULL },
	{ "transcript:refund", "{bot human other} : \"refund\"", NULL },
	{ "Bot:(a OR b)", "({bot} : \"a\" OR {bot} : \"b\")", NULL },
	{ "transcript:(human:x)", "{human} : \"x\"", NULL },
	{ "(a OR b) c", "((\"a\" OR \"b\") AND \"c\")", NULL },
	{ "maria@example.com", "\"maria@example.com\"", NULL },
	{ "don't", "\"don't\"", NULL },
	{ "co-pay", "\"co-pay\"", NULL },
	{ "3.5%", "\"3.5%\"", NULL },
	{ "25", "\"25\"", NULL },
	{ "and or not", "(\"and\" AND \"or\" AND \"not\")", NULL },
	{ "4242", NULL, "calls_digits" },
	{ "+1 (555) 010-2030", NULL, "calls_digits" },
	{ "(555) 010-2030", NULL, "calls_digits" },
	{ "human:4242", "{human} : \"4242\"", NULL },
	{ "NOT refund", NULL, "(NOT c.rid IN" },
	{ "refund 4242", NULL, "calls_fts" },
	{ "", NULL, NULL },
	{ "   ", NULL, NULL },
};

static const struct {
	const char *q;
	int pos;          /* expected 1-based error position */
	const char *says; /* expected substring of the message */
} parse_bad[] = {
	{ "refund AND", 11, "ends" },
	{ "refund OR", 10, "right" },
	{ "OR refund", 1, "left" },
	{ "(refund", 1, "never closed" },
	{ "refund)", 7, "unexpected ')'" },
	{ "\"unclosed phrase", 1, "quote" },
	{ "agent:bob", 1, "unknown field" },
	{ "-refund", 1, "NOT refund" },
	{ "refund & manager", 8, "no letters" },
	{ "NEAR(refund)", 1, "two terms" },
	{ "NEAR(a b, 500)", 9, "over 100" },
	{ "NEAR(a b", 9, "NEAR takes" },
	{ "summary:bot:x", 1, "do not overlap" },
	{ "NOT NOT x", 5, "NOT NOT" },
	{ "a AND OR b", 7, "needs a search term" },
	{ "\"\"", 1, "no words" },
	{ "é AND", 6, "ends" },
	/* words FTS5 would see as empty must not silently AND to nothing */
	{ "refund \xe0\xa5\xa4", 8, "no letters" },
	{ "refund \xcc\x81", 8, "no letters" },
	{ "refund \xe2\x80\x94", 8, "no letters" },
};

static void test_parser(void)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(parse_ok); i++) {
		struct search_plan pl;
		char *err = NULL;
		int pos = -1;
		enum cv_err rc = search_parse(parse_ok[i].q, &pl, &pos, &err);
		CHECK_MSG(rc == CV_OK, "%s: %s", parse_ok[i].q, err);
		if (rc == CV_OK && parse_ok[i].fts)
			CHECK_STR(pl.fts, parse_ok[i].fts);
		if (rc == CV_OK && parse_ok[i].where) {
			char *d = store_search_describe(&pl);
			CHECK_MSG(pl.cond && strstr(d, parse_ok[i].where),
				"%s: %s", parse_ok[i].q, d);
			free(d);
		}
		free(err);
		search_plan_finish(&pl);
	}
	/* blank queries have no text condition at all */
	struct search_plan pl;
	char *err = NULL;
	int pos;
	CHECK(search_parse("", &pl, &pos, &err) == CV_OK);
	CHECK(!pl.fts && !pl.cond);
	search_plan_finish(&pl);
	for (size_t i = 0; i < CV_ARRAY_LEN(parse_bad); i++) {
		err = NULL;
		pos = 0;
		enum cv_err rc = search_parse(parse_bad[i].q, &pl, &pos, &err);
		CHECK_MSG(rc == CV_EPARSE, "%s parsed", parse_bad[i].q);
		CHECK_MSG(pos == parse_bad[i].pos, "%s: position %d, want %d",
			parse_bad[i].q, pos, parse_bad[i].pos);
		CHECK_MSG(err && strstr(err, parse_bad[i].says) &&
				  strstr(err, "hint"),
			"%s: message '%s'", parse_bad[i].q, err);
		free(err);
		search_plan_finish(&pl);
	}
	/* bounds: length and term count */
	char *longq = xmalloc(SEARCH_MAX_QUERY + 10);
	memset(longq, 'a', SEARCH_MAX_QUERY + 9);
	longq[SEARCH_MAX_QUERY + 9] = '\0';
	err = NULL;
	CHECK(search_parse(longq, &pl, &pos, &err) == CV_EPARSE);
	CHECK(err && strstr(err, "longer"));
	free(err);
	struct buf many;
	buf_init(&many);
	for (int i = 0; i < SEARCH_MAX_TERMS + 1; i++)
		buf_printf(&many, "w%d ", i);
	err = NULL;
	CHECK(search_parse(many.data, &pl, &pos, &err) == CV_EPARSE);
	CHECK(err && strstr(err, "more than"));
	free(err);
	buf_finish(&many);
	free(longq);
	/* a literal: inner whole words narrow, the text is checked exactly */
	CHECK(search_parse_literal("x refund for y", &pl, &err) == CV_OK);
	CHECK(pl.cond && pl.cond->kind == SEARCH_COND_LITERAL);
	if (pl.cond) {
		CHECK_STR(pl.cond->match, "\"refund\" AND \"for\"");
		CHECK_STR(pl.cond->whole, "x refund for y");
	}
	char *d = store_search_describe(&pl);
	CHECK_STR(d, "where: c.rid IN (SELECT rowid FROM calls_fts WHERE "
		     "calls_fts MATCH ?) AND (instr(c.summary, ?) > 0 OR "
		     "instr(c.transcript, ?) > 0)\n"
		     "  ?1 calls_fts: \"refund\" AND \"for\"\n"
		     "  ?2 text: x refund for y\n"
		     "  ?3 text: x refund for y");
	free(d);
	/* the tree: a long number is found by its tail, checked whole, and
	 * a leading NOT negates the last kids of an AND */
	search_plan_finish(&pl);
	CHECK(search_parse("+1 (555) 010-2030 NOT refund", &pl, &pos, &err) ==
		CV_OK);
	CHECK(pl.cond && pl.cond->kind == SEARCH_COND_AND && pl.cond->n == 2 &&
		pl.cond->n_neg == 1);
	if (pl.cond && pl.cond->n == 2) {
		const struct search_cond *k = pl.cond->kids;
		CHECK(k[0].kind == SEARCH_COND_DIGITS);
		CHECK_STR(k[0].match, "\"0102030\"");
		CHECK_STR(k[0].whole, "15550102030");
		CHECK(k[1].kind == SEARCH_COND_TEXT);
		CHECK_STR(k[1].match, "\"refund\"");
	}
	d = store_search_describe(&pl);
	CHECK_STR(d, "where: (c.rid IN (SELECT rowid FROM calls_digits WHERE "
		     "calls_digits MATCH ? AND instr(digits, ?) > 0) AND NOT "
		     "c.rid IN (SELECT rowid FROM calls_fts WHERE calls_fts "
		     "MATCH ?))\n"
		     "  ?1 calls_digits: \"0102030\"\n"
		     "  ?2 text: 15550102030\n"
		     "  ?3 calls_fts: \"refund\"");
	free(d);
	search_plan_finish(&pl);
}

/* ---- queries over the fixture corpus ---- */

struct qcase {
	const char *q;
	const char *want; /* ids, space-separated, sorted */
	bool literal;
	const char *from, *to, *tz, *location, *agent, *contact, *number;
	const char *action;
	double min_dur, max_dur; /* 0 = unset */
	int trial;               /* 0 unset, 1 trial, 2 no trial */
};

static const struct qcase cases[] = {
	/* words, word forms, phrases, boolean */
	{ .q = "refund", .want = "c01 c05 c07" },
	{ .q = "refunds", .want = "c01 c05 c07" },
	{ .q = "REFUND", .want = "c01 c05 c07" },
	{ .q = "\"cancellation fee\"", .want = "c02" },
	{ .q = "\"fee cancellation\"", .want = "" },
	{ .q = "refund manager", .want = "c01 c05" },
	{ .q = "refund AND manager", .want = "c01 c05" },
	{ .q = "refund OR co-pay", .want = "c01 c04 c05 c07" },
	{ .q = "refund NOT manager", .want = "c07" },
	{ .q = "NOT refund", .want = "c02 c03 c04 c06 c08" },
	{ .q = "(refund OR fee) AND manager", .want = "c01 c05" },
	{ .q = "wrong OR (cancellation AND dollars)", .want = "c02 c06" },
	/* NEAR */
	{ .q = "NEAR(refund manager, 3)", .want = "c01" },
	{ .q = "NEAR(refund manager, 6)", .want = "c01 c05" },
	{ .q = "NEAR(refund window)", .want = "c07" },
	/* prefix */
	{ .q = "cancel*", .want = "c02 c07" },
	{ .q = "subscri*", .want = "c07" },
	{ .q = "\"cancellation f\"*", .want = "c02" },
	/* field and speaker scoping */
	{ .q = "bot:refund", .want = "c05 c07" },
	{ .q = "human:refund", .want = "c01" },
	{ .q = "human:manager", .want = "c05" },
	{ .q = "bot:manager", .want = "c01 c05" },
	{ .q = "summary:refund", .want = "c01 c05 c07" },
	{ .q = "summary:thursday", .want = "c03" },
	{ .q = "transcript:invoice", .want = "c01" },
	{ .q = "summary:invoice", .want = "" },
	{ .q = "human:(refund OR cancel)", .want = "c01 c02 c07" },
	{ .q = "bot:\"cancellation fee\"", .want = "c02" },
	{ .q = "human:\"cancellation fee\"", .want = "c02" },
	{ .q = "bot:NEAR(refund closed, 6)", .want = "c07" },
	{ .q = "human:NEAR(refund closed, 6)", .want = "" },
	/* punctuation */
	{ .q = "maria.lopez@example.com", .want = "c03" },
	{ .q = "don't", .want = "c04" },
	{ .q = "co-pay", .want = "c04" },
	{ .q = "3.5%", .want = "c04" },
	{ .q = "What's", .want = "c02" },
	{ .q = "cafe", .want = "c08" },
	{ .q = "café", .want = "c08" },
	{ .q = "\"quoted\"", .want = "c08" },
	/* numbers and digit fragments */
	{ .q = "4242", .want = "c03" },
	{ .q = "242", .want = "c03" },
	{ .q = "+1 (555) 010-2030", .want = "c04" },
	{ .q = "555-010-2030", .want = "c04" },
	{ .q = "0102030", .want = "c04" },
	/* the last seven digits are the same, the whole span is not */
	{ .q = "+2 (555) 010-2030", .want = "" },
	{ .q = "99990102030", .want = "" },
	{ .q = "15550102030", .want = "c04" },
	{ .q = "(555) 010-2030", .want = "c04" },
	{ .q = "0101", .want = "c01 c04" },
	{ .q = "5125550102", .want = "c02" },
	{ .q = "4242 OR 0106", .want = "c03 c06" },
	{ .q = "card 4242", .want = "c03" },
	{ .q = "refund NOT 0101", .want = "c05 c07" },
	{ .q = "human:4242", .want = "c03" },
	{ .q = "bot:4242", .want = "" },
	/* --literal: exact bytes */
	{ .q = "refund for my last", .literal = true, .want = "c01" },
	{ .q = "Refund", .literal = true, .want = "c07" },
	{ .q = "efund", .literal = true, .want = "c01 c05 c07" },
	{ .q = "co-pay is usually 3.5%", .literal = true, .want = "c04" },
	{ .q = "co-pay is  usually", .literal = true, .want = "" },
	{ .q = "\"quoted\", with", .literal = true, .want = "c08" },
	{ .q = "bot: The refund", .literal = true, .want = "c07" },
	/* filters, with an empty query and with one */
	{ .q = "",
		.from = "2026-03-01",
		.to = "2026-03-31",
		.want = "c01 c02 c03 c07" },
	{ .q = "",
		.from = "2026-03-01",
		.to = "2026-03-31",
		.tz = "America/New_York",
		.want = "c01 c02 c03 c04 c07" },
	{ .q = "", .from = "2026-03-31T23:59:59Z", .want = "c03 c04" },
	{ .q = "", .to = "2026-01-05T08:00", .want = "c06" },
	{ .q = "", .location = "L2", .want = "c03 c04" },
	{ .q = "", .agent = "A1", .want = "c01 c03 c06" },
	{ .q = "", .agent = "billing desk", .want = "c02 c05 c08" },
	{ .q = "", .contact = "K1", .want = "c01 c04" },
	{ .q = "", .number = "(512) 555-0101", .want = "c01 c04" },
	{ .q = "", .number = "512.555.0102", .want = "c02" },
	{ .q = "", .action = "SMS", .want = "c03" },
	{ .q = "", .action = "CALL_TRANSFER", .want = "c01" },
	{ .q = "", .min_dur = 100, .want = "c01 c03 c05" },
	{ .q = "", .max_dur = 45, .want = "c02 c04 c06 c08" },
	{ .q = "", .trial = 1, .want = "c02" },
	{ .q = "", .trial = 2, .want = "c01 c03 c04 c05 c06 c07 c08" },
	{ .q = "refund", .location = "L1", .want = "c01 c05" },
	{ .q = "refund", .from = "2026-03-01", .want = "c01 c07" },
	{ .q = "0101", .location = "L2", .want = "c04" },
	{ .q = "NOT refund", .trial = 2, .want = "c03 c04 c06 c08" },
	{ .q = "refund", .location = "nowhere", .want = "" },
};

static void ids_of(const struct store_hit *h, size_t n, char *out, size_t cap)
{
	/* sorted, space-separated */
	char **ids = xcalloc(n + 1, sizeof(*ids));
	for (size_t i = 0; i < n; i++)
		ids[i] = h[i].id;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(ids[j - 1], ids[j]) > 0;
			j--) {
			char *t = ids[j];
			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), cap - strlen(out), "%s%s",
			i ? " " : "", ids[i]);
	free(ids);
}

static void setup_filter(const struct qcase *c, struct search_filter *f)
{
	char *err = NULL;
	search_filter_init(f);
	if (c->from)
		f->has_from = search_parse_time(c->from, c->tz, false,
			&f->from_ms, &err);
	if (c->to)
		f->has_to = search_parse_time(c->to, c->tz, true, &f->to_ms,
			&err);
	CHECK_MSG(!err, "%s", err);
	free(err);
	f->location = c->location;
	f->agent = c->agent;
	f->contact = c->contact;
	if (c->number)
		CHECK(calllog_e164(c->number, f->number_e164));
	f->action = c->action;
	f->has_min_duration = c->min_dur > 0;
	f->min_duration = c->min_dur;
	f->has_max_duration = c->max_dur > 0;
	f->max_duration = c->max_dur;
	f->trial = c->trial == 0 ? -1 : c->trial == 1 ? 1 : 0;
}

static void run_case(struct store *s, const struct qcase *c)
{
	struct search_plan pl;
	struct search_filter f;
	char *err = NULL;
	int pos;
	enum cv_err rc = c->literal ? search_parse_literal(c->q, &pl, &err)
				    : search_parse(c->q, &pl, &pos, &err);
	CHECK_MSG(rc == CV_OK, "%s: %s", c->q, err);
	setup_filter(c, &f);
	/* every order; newest/oldest also with tiny windows, so that both
	 * the window and the sort-everything path answer */
	for (int k = 0; rc == CV_OK && k < 9; k++) {
		int sort = k % 3, window = k / 3 == 0 ? 0 : k / 3 == 1 ? 1 : 3;
		struct store_search_opts o = { .plan = &pl,
			.filter = &f,
			.sort = (enum store_sort)sort,
			.limit = 100,
			.window = window };
		struct store_hit *h;
		size_t n;
		char got[512];
		rc = store_search(s, &o, &h, &n, &err);
		CHECK_MSG(rc == CV_OK, "%s: %s", c->q, err);
		if (rc != CV_OK)
			break;
		ids_of(h, n, got, sizeof(got));
		CHECK_MSG(strcmp(got, c->want) == 0,
			"query '%s'%s (sort %d window %d): got '%s', want "
			"'%s'",
			c->q, c->literal ? " literal" : "", sort, window, got,
			c->want);
		for (size_t i = 0; i < n; i++)
			CHECK_MSG(h[i].snippet && *h[i].snippet, "%s: snippet",
				c->q);
		int64_t count = -1;
		CHECK(store_search_count(s, &o, &count, &err) == CV_OK);
		CHECK_MSG(count == (int64_t)n, "%s: count %lld != %zu", c->q,
			(long long)count, n);
		store_hits_free(h, n);
	}
	free(err);
	search_plan_finish(&pl);
}

static int cmp_rid_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

static void test_queries(struct store *s)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(cases); i++)
		run_case(s, &cases[i]);
	/* order: newest / oldest over a filter-only listing */
	size_t n;
	struct store_hit *h = ts_one(s, "", STORE_SORT_NEWEST, &n);
	CHECK_INT(n, 8);
	if (n == 8) {
		CHECK_STR(h[0].id, "c04");
		CHECK_STR(h[7].id, "c06");
	}
	store_hits_free(h, n);
	h = ts_one(s, "", STORE_SORT_OLDEST, &n);
	if (n == 8)
		CHECK_STR(h[0].id, "c06");
	store_hits_free(h, n);
	/* hits are marked in snippets, digits too */
	h = ts_one(s, "bot:refund", STORE_SORT_RELEVANCE, &n);
	for (size_t i = 0; i < n; i++)
		CHECK(strstr(h[i].snippet, "\x02refund\x03") != NULL);
	store_hits_free(h, n);
	h = ts_one(s, "4242", STORE_SORT_RELEVANCE, &n);
	CHECK(n == 1 && strstr(h[0].snippet, "\x02"
					     "4242\x03"));
	store_hits_free(h, n);
	h = ts_one(s, "5550102030", STORE_SORT_RELEVANCE, &n);
	CHECK(n == 1 && strstr(h[0].snippet, "\x02"
					     "555) 010-2030\x03"));
	store_hits_free(h, n);
	/* limit and offset page through */
	struct search_plan pl;
	char *err = NULL;
	int pos;
	CHECK(search_parse("", &pl, &pos, &err) == CV_OK);
	struct store_search_opts o = { .plan = &pl,
		.sort = STORE_SORT_OLDEST,
		.limit = 3,
		.offset = 6 };
	CHECK(store_search(s, &o, &h, &n, &err) == CV_OK);
	CHECK_INT(n, 2);
	store_hits_free(h, n);
	search_plan_finish(&pl);
	/* paging newest-first through a term, window hit and missed */
	CHECK(search_parse("refund OR manager OR fee", &pl, &pos, &err) ==
		CV_OK);
	const char *want[] = { "c02", "c07", "c01", "c05" };
	for (int w = 0; w < 6; w++) {
		for (int off = 0; off < 4; off++) {
			struct store_search_opts po = { .plan = &pl,
				.sort = STORE_SORT_NEWEST,
				.limit = 1,
				.offset = off,
				.window = w };
			CHECK(store_search(s, &po, &h, &n, &err) == CV_OK);
			CHECK_MSG(n == 1 && strcmp(h[0].id, want[off]) == 0,
				"window %d offset %d: %s", w, off,
				n ? h[0].id : "none");
			store_hits_free(h, n);
		}
	}
	/* relevance ranks at most `pool` matches: the most recently stored
	 * ones, and says so; with no more matches than that, all of them */
	struct store_search_opts ao = { .plan = &pl,
		.sort = STORE_SORT_RELEVANCE,
		.limit = 100 };
	CHECK(store_search(s, &ao, &h, &n, &err) == CV_OK);
	int64_t rids[4] = { 0 }, among = -1;
	CHECK_INT(n, 4);
	for (size_t i = 0; i < n && i < 4; i++)
		rids[i] = h[i].rid;
	store_hits_free(h, n);
	qsort(rids, 4, sizeof(rids[0]), cmp_rid_desc);
	ao.ranked_among = &among;
	ao.pool = 4;
	CHECK(store_search(s, &ao, &h, &n, &err) == CV_OK);
	CHECK_INT(n, 4);
	CHECK_INT(among, 0);
	store_hits_free(h, n);
	ao.pool = 2;
	ao.limit = 2;
	CHECK(store_search(s, &ao, &h, &n, &err) == CV_OK);
	CHECK_INT(n, 2);
	CHECK_INT(among, 2);
	for (size_t i = 0; i < n; i++)
		CHECK_MSG(h[i].rid == rids[0] || h[i].rid == rids[1],
			"rid %lld is not among the two newest matches",
			(long long)h[i].rid);
	store_hits_free(h, n);
	/* a page larger than the pool widens it: never fewer results */
	ao.limit = 3;
	CHECK(store_search(s, &ao, &h, &n, &err) == CV_OK);
	CHECK_INT(n, 3);
	CHECK_INT(among, 3);
	store_hits_free(h, n);
	/* an offset does not: pages past the pool are empty */
	ao.limit = 1;
	ao.offset = 2;
	CHECK(store_search(s, &ao, &h, &n, &err) == CV_OK);
	CHECK_INT(n, 0);
	store_hits_free(h, n);
	search_plan_finish(&pl);
	/* highlight for show: the bot column of c07 has two hits */
	CHECK(search_parse("refund", &pl, &pos, &err) == CV_OK);
	char *cols[4];
	CHECK(store_search_highlight(s, "c07", &pl, cols, &err) == CV_OK);
	CHECK_STR(cols[1], "The \x02refund\x03 was denied because the "
			   "\x02refund\x03 window closed.");
	CHECK(cols[3] == NULL);
	for (int i = 0; i < 4; i++)
		free(cols[i]);
	CHECK(store_search_highlight(s, "nope", &pl, cols, &err) ==
		CV_ENOTFOUND);
	free(err);
	search_plan_finish(&pl);
	/* a term FTS5 tokenises to nothing is an error, not "no results";
	 * a non-Latin word is searched */
	err = NULL;
	CHECK(search_parse("refund \xe2\xb8\xba", &pl, &pos, &err) == CV_OK);
	CHECK_INT(pl.n_unsure, 1);
	struct store_search_opts uo = { .plan = &pl, .limit = 10 };
	CHECK(store_search(s, &uo, &h, &n, &err) == CV_EPARSE);
	CHECK(err && strstr(err, "position 8"));
	free(err);
	err = NULL;
	search_plan_finish(&pl);
	CHECK(search_parse("caf\xc3\xa9 OR \xd0\xbf\xd1\x80\xd0\xb8", &pl, &pos,
		      &err) == CV_OK);
	uo.plan = &pl;
	CHECK(store_search(s, &uo, &h, &n, &err) == CV_OK);
	CHECK_INT(n, 1);
	store_hits_free(h, n);
	search_plan_finish(&pl);
	free(err);
	/* a query of many number fragments binds two values for each: with
	 * every filter too they must all fit (this overflowed the store's
	 * argument array and crashed) */
	struct buf many;
	buf_init(&many);
	for (int i = 0; i < SEARCH_MAX_TERMS - 1; i++)
		buf_printf(&many, "55501%05d OR ", i);
	buf_puts(&many, "5550102030");
	err = NULL;
	CHECK(search_parse(many.data, &pl, &pos, &err) == CV_OK);
	struct search_filter mf;
	search_filter_init(&mf);
	mf.has_from = mf.has_to = true;
	mf.from_ms = 0;
	mf.to_ms = INT64_MAX;
	mf.location = "L2";
	mf.agent = "A3";
	mf.contact = "K1";
	snprintf(mf.number_e164, sizeof(mf.number_e164), "+15125550101");
	mf.trial = 0;
	mf.has_min_duration = mf.has_max_duration = true;
	mf.max_duration = 1e9;
	struct store_search_opts mo = { .plan = &pl,
		.filter = &mf,
		.limit = 10 };
	for (int sort = 0; sort < 3; sort++) {
		mo.sort = (enum store_sort)sort;
		CHECK_MSG(store_search(s, &mo, &h, &n, &err) == CV_OK, "%s",
			err);
		CHECK_INT(n, 1);
		store_hits_free(h, n);
	}
	int64_t cnt = -1;
	CHECK(store_search_count(s, &mo, &cnt, &err) == CV_OK);
	CHECK_INT(cnt, 1);
	char *msql = store_search_sql(s, &mo, NULL);
	CHECK(msql && strstr(msql, "'5550102030'"));
	free(msql);
	search_plan_finish(&pl);
	buf_finish(&many);
	free(err);
}

/* An agent id known in two locations, neither the call's: show and
 * search name it by the first location's agent, as archives do. */
static void test_agent_name(struct store *s)
{
	char *err = NULL;
	struct store_call c;
	CHECK(store_get_call(s, "c04", &c, &err) == CV_OK);
	CHECK_STR(c.agent_name, "Amy");
	store_call_finish(&c);
	size_t n;
	struct store_hit *h = ts_one(s, "5550102030", STORE_SORT_NEWEST, &n);
	CHECK(n == 1);
	if (n == 1)
		CHECK_STR(h[0].agent_name, "Amy");
	store_hits_free(h, n);
	free(err);
}

int main(int argc, char **argv)
{
	const char *fixture = ts_fixture_arg(argc, argv);
	test_parser();
	struct ts_fixture fx;
	ts_open(&fx, fixture);
	test_queries(fx.s);
	test_agent_name(fx.s);
	ts_close(&fx);
	return t_done();
}
