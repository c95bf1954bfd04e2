/*
 * test_search.c — the query language, filters, snippets and export over
 * a fixture corpus imported through the real ingest path. Table-driven:
 * each row is a query (and filters) with the call ids it must return.
 *
 * usage: test_search FIXTURE.jsonl
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "export.h"
#include "ingest.h"
#include "search.h"
#include "store/store_export.h"
#include "store/store_search.h"
#include "store/store_int.h"
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

/* ---- times, digits, rendering ---- */

static void test_helpers(void)
{
	int64_t ms;
	char *err = NULL;
	CHECK(search_parse_time("2026-03-02", NULL, false, &ms, &err));
	CHECK_INT(ms, 1772409600000LL);
	CHECK(search_parse_time("2026-03-02", NULL, true, &ms, &err));
	CHECK_INT(ms, 1772409600000LL + 86400000 - 1);
	CHECK(search_parse_time("2026-03-02T10:00", NULL, true, &ms, &err));
	CHECK_INT(ms, 1772445600000LL + 59999);
	CHECK(search_parse_time("2026-03-02T10:00:00+02:00", "Asia/Tokyo",
		false, &ms, &err));
	CHECK_INT(ms, 1772438400000LL);
	/* New York is UTC-5 in March before the 8th */
	CHECK(search_parse_time("2026-03-02", "America/New_York", false, &ms,
		&err));
	CHECK_INT(ms, 1772409600000LL + 5 * 3600000LL);
	CHECK(search_parse_time("2026-03-31", "America/New_York", true, &ms,
		&err));
	CHECK_INT(ms, 1775016000000LL - 1); /* 2026-04-01T04:00Z - 1 ms */
	CHECK(getenv("TZ") == NULL);
	CHECK(!search_parse_time("2026-02-30", NULL, false, &ms, &err));
	free(err);
	err = NULL;
	CHECK(!search_parse_time("2026-03-02", "Mars/Olympus", false, &ms,
		&err));
	CHECK(err && strstr(err, "zone"));
	free(err);
	err = NULL;
	CHECK(!search_parse_time("2026-03-02", "../etc/passwd", false, &ms,
		&err));
	free(err);

	size_t s, e;
	CHECK(search_find_digits("call +1 (555) 010-2030 now", 0, "5550102030",
		&s, &e));
	CHECK_INT(s, 9);
	CHECK_INT(e, 22);
	CHECK(!search_find_digits("call 555 01 x 02030", 0, "5550102030", &s,
		&e));

	size_t *r, nr;
	char *out = search_render("a \x02hit\x03 b\n\x1b[31m",
		SEARCH_STYLE_PLAIN, true, &r, &nr);
	CHECK_STR(out, "a hit b  [31m");
	CHECK_INT(nr, 1);
	CHECK_INT(r[0], 2);
	CHECK_INT(r[1], 5);
	free(r);
	free(out);
	out = search_render("é \x02hit\x03", SEARCH_STYLE_BRACKETS, true, NULL,
		NULL);
	CHECK_STR(out, "é [hit]");
	free(out);
	out = search_render("\x02x\x03", SEARCH_STYLE_BOLD, true, NULL, NULL);
	CHECK_STR(out, "\033[1mx\033[0m");
	free(out);

	struct buf b;
	buf_init(&b);
	export_csv_field(&b, "plain", false);
	export_csv_field(&b, "a,\"b\"\nc", false);
	export_csv_field(&b, NULL, true);
	CHECK_STR(b.data, "plain,\"a,\"\"b\"\"\nc\",\r\n");
	/* cells a spreadsheet runs as formulas get a ' inside quotes; so
	 * does one starting with ', so that removing one ' undoes it */
	static const struct {
		const char *in, *out;
	} cells[] = {
		{ "=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"," },
		{ "+1", "\"'+1\"," },
		{ "-2", "\"'-2\"," },
		{ "@SUM(A1)", "\"'@SUM(A1)\"," },
		{ "\tx", "\"'\tx\"," },
		{ "\rx", "\"'\rx\"," },
		{ "'q", "\"''q\"," },
		{ "a=b", "a=b," },
		{ " =x", " =x," },
		{ "", "," },
		{ "José", "José," },
		{ "12", "12," },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(cells); i++) {
		buf_reset(&b);
		export_csv_field(&b, cells[i].in, false);
		CHECK_STR(b.data, cells[i].out);
	}
	/* ids and numbers: always quoted; all digits marked as text too */
	static const struct {
		const char *in, *out;
	} ids[] = {
		{ "c01", "\"c01\"," },
		{ "+15125550101", "\"'+15125550101\"," },
		{ "0123", "\"'0123\"," },
		{ "(512) 555-0102", "\"(512) 555-0102\"," },
		{ "1e5", "\"1e5\"," },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(ids); i++) {
		buf_reset(&b);
		export_csv_id(&b, ids[i].in, false);
		CHECK_STR(b.data, ids[i].out);
	}
	buf_reset(&b);
	export_csv_id(&b, NULL, true);
	CHECK_STR(b.data, "\r\n");
	buf_reset(&b);
	export_json_string(&b, "q\"\\\n\x01");
	CHECK_STR(b.data, "\"q\\\"\\\\\\n\\u0001\"");
	buf_finish(&b);
}

/* ---- queries over the fixture corpus ---- */

static struct store *load_fixture(const char *path, const char *db)
{
	struct store *s;
	char *err = NULL;
	if (store_open(&s, db, 0, &err) != CV_OK) {
		fprintf(stderr, "open: %s\n", err);
		exit(1);
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	char line[16384];
	struct ingest_stats st = { 0 };
	CHECK(store_begin(s, &err) == CV_OK);
	while (fgets(line, sizeof(line), f))
		CHECK(ingest_payload(s, SRC_IMPORT, line, strlen(line), NULL,
			      &st, NULL, &err) == CV_OK);
	CHECK(store_commit(s, &err) == CV_OK);
	fclose(f);
	CHECK_INT(st.added, 8);
	CHECK_INT(st.quarantined, 0);
	free(err);
	return s;
}

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

static struct store_hit *one(struct store *s, const char *q,
	enum store_sort sort, size_t *n)
{
	struct search_plan pl;
	char *err = NULL;
	int pos;
	struct store_hit *h = NULL;
	*n = 0;
	if (search_parse(q, &pl, &pos, &err) == CV_OK) {
		struct store_search_opts o = { .plan = &pl,
			.sort = sort,
			.limit = 100 };
		CHECK(store_search(s, &o, &h, n, &err) == CV_OK);
	}
	free(err);
	search_plan_finish(&pl);
	return h;
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
	struct store_hit *h = one(s, "", STORE_SORT_NEWEST, &n);
	CHECK_INT(n, 8);
	if (n == 8) {
		CHECK_STR(h[0].id, "c04");
		CHECK_STR(h[7].id, "c06");
	}
	store_hits_free(h, n);
	h = one(s, "", STORE_SORT_OLDEST, &n);
	if (n == 8)
		CHECK_STR(h[0].id, "c06");
	store_hits_free(h, n);
	/* hits are marked in snippets, digits too */
	h = one(s, "bot:refund", STORE_SORT_RELEVANCE, &n);
	for (size_t i = 0; i < n; i++)
		CHECK(strstr(h[i].snippet, "\x02refund\x03") != NULL);
	store_hits_free(h, n);
	h = one(s, "4242", STORE_SORT_RELEVANCE, &n);
	CHECK(n == 1 && strstr(h[0].snippet, "\x02"
					     "4242\x03"));
	store_hits_free(h, n);
	h = one(s, "5550102030", STORE_SORT_RELEVANCE, &n);
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
	struct store_hit *h = one(s, "5550102030", STORE_SORT_NEWEST, &n);
	CHECK(n == 1);
	if (n == 1)
		CHECK_STR(h[0].agent_name, "Amy");
	store_hits_free(h, n);
	free(err);
}

/* ---- export and its cursor ---- */

static enum cv_err mem_put(void *ctx, const void *p, size_t n)
{
	return sink_write(ctx, p, n);
}

static enum cv_err mem_done(void *ctx, char **errmsg)
{
	return sink_commit(ctx, errmsg);
}

static int64_t export_once(struct store *s, enum sink_fault fault,
	enum cv_err *rc, struct buf *copy)
{
	struct sink *sk = sink_open_mem();
	sink_set_fault(sk, fault);
	struct export_out out = { mem_put, mem_done, sk };
	struct export_opts eo = { .format = EXPORT_CSV,
		.since_last = "job",
		.actor = "test",
		.bom = true };
	struct export_result res;
	char *err = NULL;
	*rc = export_run(s, &eo, &out, &res, &err);
	if (copy) {
		buf_reset(copy);
		buf_append(copy, sink_mem(sk)->data, sink_mem(sk)->len);
	}
	free(err);
	sink_destroy(sk);
	return *rc == CV_OK ? res.rows : -1;
}

static void test_export(struct store *s)
{
	enum cv_err rc;
	int64_t v0, v1;
	char *err = NULL;
	struct buf out;
	buf_init(&out);
	/* a failed write: nothing moves */
	CHECK_INT(export_once(s, SINK_FAULT_WRITE, &rc, NULL), -1);
	CHECK(rc != CV_OK);
	CHECK(store_cursor_get(s, "job", &v0, &err) == CV_OK);
	CHECK_INT(v0, 0);
	/* a good run takes everything, the next nothing */
	CHECK_INT(export_once(s, SINK_FAULT_NONE, &rc, &out), 8);
	CHECK(strncmp(out.data, "\xEF\xBB\xBFid,locationId,agentId,agentName,",
		      35) == 0);
	CHECK(strstr(out.data, ",summary,updatedAt,operation\r\n") != NULL);
	CHECK(strstr(out.data, "\r\n\"c05\",\"L1\",\"A2\",Billing Desk,,"
			       "\"'+447700900123\",2026-02-10T12:00:00.000Z,"
			       "900,false,,false,false,Manager callback "
			       "requested about a refund.,") != NULL);
	CHECK(strstr(out.data, ",changed\r\n") == NULL);
	CHECK(store_cursor_get(s, "job", &v1, &err) == CV_OK);
	CHECK(v1 > 0);
	CHECK_INT(export_once(s, SINK_FAULT_NONE, &rc, &out), 0);
	/* a changed call comes out again, alone */
	const char *changed =
		"{\"id\":\"c02\",\"createdAt\":\"2026-03-15T23:30:00.000Z\","
		"\"locationId\":\"L1\",\"agentId\":\"A2\",\"contactId\":\"K2\","
		"\"fromNumber\":\"(512) 555-0102\",\"duration\":31,"
		"\"summary\":\"Changed.\",\"transcript\":\"bot: hi\"}";
	struct ingest_stats st = { 0 };
	CHECK(store_begin(s, &err) == CV_OK);
	CHECK(ingest_payload(s, SRC_IMPORT, changed, strlen(changed), NULL, &st,
		      NULL, &err) == CV_OK);
	CHECK(store_commit(s, &err) == CV_OK);
	CHECK_INT(st.updated, 1);
	/* failing at the rename (fsync for memory) keeps the cursor */
	CHECK_INT(export_once(s, SINK_FAULT_WRITE, &rc, NULL), -1);
	/* and a call new to the store beside it */
	const char *fresh =
		"{\"id\":\"c77\",\"createdAt\":\"2026-01-01T00:00:00.000Z\","
		"\"summary\":\"-1 new\",\"transcript\":\"bot: hi\"}";
	CHECK(store_begin(s, &err) == CV_OK);
	CHECK(ingest_payload(s, SRC_IMPORT, fresh, strlen(fresh), NULL, &st,
		      NULL, &err) == CV_OK);
	CHECK(store_commit(s, &err) == CV_OK);
	CHECK_INT(export_once(s, SINK_FAULT_NONE, &rc, &out), 2);
	CHECK(strstr(out.data, "\r\n\"c02\",") && strstr(out.data, "Changed."));
	CHECK(strstr(out.data, "Z,changed\r\n\"c77\",,,,,,"
			       "2026-01-01T00:00:00.000Z,,,,false,false,"
			       "\"'-1 new\",") != NULL);
	CHECK(strstr(out.data, "Z,new\r\n") != NULL);
	CHECK_INT(export_once(s, SINK_FAULT_NONE, &rc, &out), 0);
	/* a reset cursor takes everything again, all new */
	struct store_cursor before;
	CHECK(export_cursor_reset(s, "job", "test", &before, &err) == CV_OK);
	CHECK(before.version_id > v1);
	CHECK(export_cursor_reset(s, "job", "test", &before, &err) ==
		CV_ENOTFOUND);
	CHECK(err && strstr(err, "no export cursor named 'job'"));
	free(err);
	err = NULL;
	CHECK_INT(export_once(s, SINK_FAULT_NONE, &rc, &out), 9);
	CHECK(strstr(out.data, ",changed\r\n") == NULL);
	buf_finish(&out);
	free(err);
}

/* FTS5's own count for a MATCH expression, on a second connection. */
static int64_t native_count(const char *db, const char *match)
{
	sqlite3 *raw;
	sqlite3_stmt *st;
	int64_t n = -1;
	if (sqlite3_open(db, &raw) == SQLITE_OK &&
		sqlite3_prepare_v2(raw,
			"SELECT count(*) FROM calls_fts WHERE "
			"calls_fts MATCH ?",
			-1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(raw);
	return n;
}

static void ingest_line(struct store *s, const char *line, bool commit)
{
	char *err = NULL;
	struct ingest_stats st = { 0 };
	CHECK(store_begin(s, &err) == CV_OK);
	CHECK(ingest_payload(s, SRC_IMPORT, line, strlen(line), NULL, &st, NULL,
		      &err) == CV_OK);
	if (commit)
		CHECK(store_commit(s, &err) == CV_OK);
	else
		store_rollback(s);
	free(err);
}

/*
 * Prefix terms are answered from the term list (store_terms.c): the same
 * calls as FTS5's own prefix query, for every prefix of the fixture's
 * words; a rolled-back ingest does not leave the list believing a word is
 * stored; a token longer than FTS5 indexes is listed as FTS5 keeps it.
 */
static void test_prefix_terms(struct store *s, const char *db)
{
	static const char *const prefixes[] = { "r", "re", "ref", "refu",
		"refund", "refunds", "m", "man", "cancel", "cancellation",
		"charg", "bo", "o", "zz", "4", "co", "colleague", "e" };
	char *err = NULL;
	for (size_t i = 0; i < CV_ARRAY_LEN(prefixes); i++) {
		char *q = xasprintf("%s*", prefixes[i]);
		char *native = xasprintf("\"%s\" *", prefixes[i]);
		struct search_plan pl;
		int pos;
		CHECK(search_parse(q, &pl, &pos, &err) == CV_OK);
		struct store_search_opts o = { .plan = &pl,
			.sort = STORE_SORT_NEWEST,
			.limit = 100 };
		int64_t count = -1;
		CHECK(store_search_count(s, &o, &count, &err) == CV_OK);
		CHECK_MSG(count == native_count(db, native),
			"%s: %lld, FTS5 says %lld", q, (long long)count,
			(long long)native_count(db, native));
		struct store_hit *h;
		size_t n;
		CHECK(store_search(s, &o, &h, &n, &err) == CV_OK);
		CHECK_MSG((int64_t)n == count, "%s: %zu hits", q, n);
		store_hits_free(h, n);
		/* explain shows the expression that runs: an OR of terms
		 * for a word prefix the list covers */
		char *fts = NULL;
		free(store_search_sql(s, &o, &fts));
		bool expanded = fts && !strstr(fts, "*");
		if (count > 0 &&
			!(prefixes[i][0] >= '0' && prefixes[i][0] <= '9'))
			CHECK_MSG(expanded, "%s ran as %s", q, fts);
		free(fts);
		search_plan_finish(&pl);
		free(q);
		free(native);
	}
	/* rolled back: "zymurgy" is not stored, and the list must not
	 * think it is when the next call brings it */
	ingest_line(s,
		"{\"id\":\"t1\",\"createdAt\":"
		"\"2026-01-01T00:00:00Z\",\"summary\":\"zymurgy\"}",
		false);
	ingest_line(s,
		"{\"id\":\"t2\",\"createdAt\":"
		"\"2026-01-01T00:00:00Z\",\"summary\":\"zymurgy "
		"zymotic\"}",
		true);
	CHECK(store_check(s, &err) == CV_OK);
	CHECK_MSG(native_count(db, "\"zym\" *") == 1, "zym");
	/* a 40,000-letter word: FTS5 keeps its first 32,768 bytes */
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{\"id\":\"t3\",\"createdAt\":"
		     "\"2026-01-01T00:00:00Z\",\"summary\":\"");
	for (int i = 0; i < 40000; i++)
		buf_putc(&b, 'q');
	buf_puts(&b, "\"}");
	ingest_line(s, b.data, true);
	buf_finish(&b);
	CHECK_MSG(store_check(s, &err) == CV_OK, "check: %s", err);
	free(err);
}

/* How many of the n hits stand where FTS5's own bm25() puts them among
 * the matches of 'refund' with rowid > floor (ties newest first). */
static size_t bm25_agree(const char *db, int64_t floor,
	const struct store_hit *h, size_t n)
{
	sqlite3 *raw;
	sqlite3_stmt *st = NULL;
	size_t i = 0, same = 0;
	CHECK(sqlite3_open(db, &raw) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(raw,
		      "SELECT rowid FROM calls_fts WHERE "
		      "calls_fts MATCH 'refund' AND rowid > ? ORDER BY "
		      "bm25(calls_fts), rowid DESC",
		      -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_int64(st, 1, floor);
	while (sqlite3_step(st) == SQLITE_ROW && i < n)
		same += sqlite3_column_int64(st, 0) == h[i++].rid;
	sqlite3_finalize(st);
	sqlite3_close(raw);
	return same;
}

/*
 * Relevance (store_rank.c): with one phrase, the order is FTS5's bm25()
 * (ties newest first); with several, a phrase few of the ranked calls
 * hold outweighs one all of them hold; pages split the same order.
 */
static void test_relevance(const char *dir)
{
	char *db = xasprintf("%s/rank.db", dir), *err = NULL;
	struct store *s;
	CHECK(store_open(&s, db, 0, &err) == CV_OK);
	static const char *const filler[] = { "", "the weather is fine ",
		"please hold the line while I check the account ",
		"we talked about the order, the delivery, the invoice and the "
		"weekend opening hours at length " };
	for (int k = 0; k < 40; k++) {
		struct buf t;
		buf_init(&t);
		buf_printf(&t, "human: %s", filler[k % 4]);
		for (int r = 0; r <= k % 5; r++)
			buf_puts(&t, "refund ");
		if (k == 7 || k == 21 || k == 33)
			buf_puts(&t, "zebra ");
		char *line =
			xasprintf("{\"id\":\"r%02d\",\"createdAt\":"
				  "\"2026-04-01T10:%02d:00Z\",\"transcript\":"
				  "\"%s\"}",
				k, k, t.data);
		ingest_line(s, line, true);
		free(line);
		buf_finish(&t);
	}
	/* one phrase: bm25()'s order exactly */
	size_t n;
	struct store_hit *h = one(s, "refund", STORE_SORT_RELEVANCE, &n);
	CHECK_INT(n, 40);
	size_t same = bm25_agree(db, 0, h, n);
	CHECK_MSG(same == 40, "%zu of 40 in bm25() order", same);
	/* not simply newest first, or the comparison proves nothing */
	CHECK(n == 40 && h[0].rid != 40);
	store_hits_free(h, n);
	/* a pool of 10: the 10 newest matches only, in bm25()'s order */
	struct search_plan one_pl;
	int one_pos;
	CHECK(search_parse("refund", &one_pl, &one_pos, &err) == CV_OK);
	int64_t among = 0;
	struct store_search_opts po = { .plan = &one_pl,
		.sort = STORE_SORT_RELEVANCE,
		.limit = 10,
		.pool = 10,
		.ranked_among = &among };
	CHECK(store_search(s, &po, &h, &n, &err) == CV_OK);
	CHECK_INT(n, 10);
	CHECK_INT(among, 10);
	same = bm25_agree(db, 30, h, n);
	CHECK_MSG(same == 10 && n == 10, "%zu of 10 in bm25() order", same);
	store_hits_free(h, n);
	search_plan_finish(&one_pl);
	/* two phrases: the three calls with the rare one come first */
	h = one(s, "refund OR zebra", STORE_SORT_RELEVANCE, &n);
	CHECK_INT(n, 40);
	size_t i;
	for (i = 0; i < 3 && i < n; i++)
		CHECK_MSG(strcmp(h[i].id, "r07") == 0 ||
				  strcmp(h[i].id, "r21") == 0 ||
				  strcmp(h[i].id, "r33") == 0,
			"hit %zu is %s", i, h[i].id);
	/* paging: offset 3 starts where the first page of 3 ended */
	struct search_plan pl;
	int pos;
	struct store_hit *p = NULL;
	size_t np = 0;
	CHECK(search_parse("refund OR zebra", &pl, &pos, &err) == CV_OK);
	struct store_search_opts o = { .plan = &pl,
		.sort = STORE_SORT_RELEVANCE,
		.limit = 5,
		.offset = 3 };
	CHECK(store_search(s, &o, &p, &np, &err) == CV_OK);
	CHECK_INT(np, 5);
	for (i = 0; i < np && n == 40; i++)
		CHECK(p[i].rid == h[3 + i].rid);
	store_hits_free(p, np);
	store_hits_free(h, n);
	search_plan_finish(&pl);
	CHECK(store_check(s, &err) == CV_OK);
	free(err);
	store_close(s);
	free(db);
}

/* Statements run whose SQL holds needle (sqlite3_trace_v2's ctx). */
struct sql_seen {
	const char *needle;
	int n;
};

static int trace_seen(unsigned type, void *ctx, void *p, void *x)
{
	struct sql_seen *seen = ctx;
	const char *sql = sqlite3_sql(p);
	if (type == SQLITE_TRACE_STMT && sql && strstr(sql, seen->needle))
		seen->n++;
	return 0;
}

/* A page of 20 of q, newest first, in location loc (NULL: any), counting
 * the statements with needle in *seen; the hits (store_hits_free). */
static struct store_hit *traced_search(struct store *s, const char *q,
	const char *loc, const char *needle, int *seen, size_t *n)
{
	struct search_plan pl;
	int pos;
	char *err = NULL;
	struct search_filter f;
	search_filter_init(&f);
	f.trial = -1;
	f.location = loc;
	CHECK(search_parse(q, &pl, &pos, &err) == CV_OK);
	struct sql_seen ss = { needle, 0 };
	sqlite3_trace_v2(s->db, SQLITE_TRACE_STMT, trace_seen, &ss);
	struct store_search_opts o = { .plan = &pl,
		.filter = &f,
		.sort = STORE_SORT_NEWEST,
		.limit = 20 };
	struct store_hit *h = NULL;
	*n = 0;
	CHECK(store_search(s, &o, &h, n, &err) == CV_OK);
	sqlite3_trace_v2(s->db, 0, NULL, NULL);
	*seen = ss.n;
	search_plan_finish(&pl);
	free(err);
	return h;
}

/* A scratch store dir/name, not synced; its path in *db. */
static struct store *scratch_store(const char *dir, const char *name, char **db)
{
	char *err = NULL;
	struct store *s;
	*db = xasprintf("%s/%s", dir, name);
	CHECK_MSG(store_open(&s, *db, 0, &err) == CV_OK, "open: %s", err);
	CHECK(store_exec(s, "PRAGMA synchronous = OFF", NULL) == CV_OK);
	free(err);
	return s;
}

/*
 * The probe path (walk the filtered calls newest first, ask FTS5 about
 * each) is chosen and bounded by counted work, not by the clock: it gave
 * up after 15 ms of wall time, so on a loaded machine a common word with
 * a selective filter fell back to the top-k scan of every match. Here
 * the machine is "loaded" by a child that stops this process for 15 ms
 * out of every 16; the path taken (seen in the statements SQLite runs)
 * must be the same as on a quiet machine: the probes for a word in every
 * call, the top-k scan for a phrase in one call of ten.
 */
static int topk_runs(struct store *s, const char *q, int times)
{
	int scans = 0;
	for (int i = 0; i < times; i++) {
		size_t n;
		int seen;
		/* the phrase is in all of L5's calls */
		struct store_hit *h = traced_search(s, q, "L5",
			"MATCH ? AND rowid BETWEEN", &seen, &n);
		CHECK_INT(n, 20);
		store_hits_free(h, n);
		scans += seen;
	}
	return scans;
}

static void test_probe_counted(const char *dir)
{
	char *db;
	struct store *s = scratch_store(dir, "probe.db", &db);
	for (int k = 0; k < 600; k++) {
		char *line = xasprintf(
			"{\"id\":\"p%03d\",\"locationId\":\"L%d\","
			"\"createdAt\":\"2026-04-%02dT10:%02d:00Z\","
			"\"transcript\":\"human: a refund please%s\"}",
			k, k % 10, 1 + k / 60, k % 60,
			k % 10 == 5 ? ", the roof leak is back" : "");
		ingest_line(s, line, true);
		free(line);
	}
	pid_t parent = getpid(), child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		for (;;) { /* a loaded machine: 1 ms of CPU in 16 */
			usleep(1000);
			kill(parent, SIGSTOP);
			usleep(15000);
			kill(parent, SIGCONT);
		}
	}
	int word = topk_runs(s, "refund", 40);
	int phrase = topk_runs(s, "\"roof leak\"", 10);
	kill(child, SIGKILL);
	kill(parent, SIGCONT);
	waitpid(child, NULL, 0);
	CHECK_MSG(word == 0, "a common word scanned by top-k %d times of 40",
		word);
	CHECK_INT(phrase, 10);
	store_close(s);
	free(db);
}

/*
 * A backfill imported after the live calls: the newest rowids are the
 * oldest calls. The unfiltered top-k scan (matches in rowid order, newest
 * rowid first) read every backfilled match before the live ones, one
 * look-up each (150 ms to seconds for a common word at a million calls);
 * it now gives up after a bounded number and the newest calls are probed.
 */
static void test_backfill_order(const char *dir)
{
	char *db;
	struct store *s = scratch_store(dir, "backfill.db", &db);
	for (int k = 0; k < 3100; k++) {
		bool live = k < 100; /* live first, then the backfill */
		char *line =
			xasprintf("{\"id\":\"b%04d\",\"locationId\":\"L1\","
				  "\"createdAt\":\"%s-%02dT%02d:%02d:00Z\","
				  "\"transcript\":\"human: a refund please\"}",
				k, live ? "2026-06" : "2025-03", 1 + k % 28,
				k / 60 % 24, k % 60);
		ingest_line(s, line, true);
		free(line);
	}
	int looks;
	size_t n;
	struct store_hit *h = traced_search(s, "refund", NULL,
		"SELECT c.created_at FROM calls c WHERE c.rid = ?1", &looks,
		&n);
	CHECK_INT(n, 20);
	for (size_t i = 0; i < n; i++) {
		CHECK(h[i].created_at >= 1780272000000LL); /* June 2026 */
		CHECK(i == 0 || h[i].created_at <= h[i - 1].created_at);
	}
	CHECK_MSG(looks <= 500, "the top-k scan looked up %d matches", looks);
	store_hits_free(h, n);
	store_close(s);
	free(db);
}

/*
 * The probes go in batches (store_search_paths.c): one FTS5 query over a
 * batch's rowid range when the candidates' rowids are close, a probe
 * each when they are not. Either way a page must be the one a plain
 * join sorted by time gives. Half the calls are stored in time order
 * (close rowids), half in random order (far apart); words of several
 * densities, with and without a location, both sorts, several offsets;
 * both kinds of batch must have run.
 */
static int64_t *plain_page(struct store *s, const char *fts, const char *loc,
	bool newest, int limit, int offset, size_t *n)
{
	char *sql = xasprintf("SELECT c.rid FROM calls_fts JOIN calls c ON "
			      "c.rid = calls_fts.rowid WHERE calls_fts MATCH ?1"
			      " AND (?2 IS NULL OR c.location_id = ?2)"
			      " ORDER BY c.created_at %s, c.rid %s"
			      " LIMIT ?3 OFFSET ?4",
		newest ? "DESC" : "ASC", newest ? "DESC" : "ASC");
	sqlite3_stmt *st;
	CHECK(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_text(st, 1, fts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, loc, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, limit);
	sqlite3_bind_int(st, 4, offset);
	int64_t *v = xmalloc((size_t)limit * sizeof(*v));
	*n = 0;
	while (sqlite3_step(st) == SQLITE_ROW)
		v[(*n)++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	free(sql);
	return v;
}

static void test_probe_batches(const char *dir)
{
	char *db;
	struct store *s = scratch_store(dir, "batches.db", &db);
	unsigned seed = 7;
	for (int k = 0; k < 2400; k++) {
		bool ordered = k < 1200;
		int minute = ordered ? k : rand_r(&seed) % 4000;
		int r = rand_r(&seed) % 100;
		char *line = xasprintf(
			"{\"id\":\"q%04d\",\"locationId\":\"L%d\","
			"\"createdAt\":\"2026-05-%02dT%02d:%02d:00Z\","
			"\"transcript\":\"human: %s%s%s\"}",
			k, rand_r(&seed) % 5, 1 + minute / 1440,
			minute / 60 % 24, minute % 60,
			r < 70 ? "a refund please " : "hello ",
			r % 9 == 0 ? "the roof leaks " : "",
			r % 31 == 0 ? "zeppelin" : "");
		ingest_line(s, line, true);
		free(line);
	}
	static const char *const texts[] = { "refund", "roof",
		"refund AND roof", "zeppelin", "hello" };
	static const char *const locs[] = { NULL, "L2" };
	static const int offsets[] = { 0, 7, 40 };
	struct sql_seen range = { "AND rowid >= ? AND rowid <= ?", 0 };
	struct sql_seen one = { "MATCH ? AND rowid = ?", 0 };
	int pages = 0;
	for (size_t t = 0; t < CV_ARRAY_LEN(texts); t++)
		for (size_t l = 0; l < CV_ARRAY_LEN(locs); l++)
			for (int newest = 0; newest < 2; newest++)
				for (size_t o = 0; o < CV_ARRAY_LEN(offsets);
					o++) {
					struct search_plan pl;
					int pos;
					char *err = NULL;
					struct search_filter f;
					search_filter_init(&f);
					f.trial = -1;
					f.location = locs[l];
					CHECK(search_parse(texts[t], &pl, &pos,
						      &err) == CV_OK);
					struct store_search_opts so = {
						.plan = &pl,
						.filter = &f,
						.sort = newest ? STORE_SORT_NEWEST
							       : STORE_SORT_OLDEST,
						.limit = 20,
						.offset = offsets[o]
					};
					struct store_hit *h = NULL;
					size_t n = 0, pn;
					sqlite3_trace_v2(s->db,
						SQLITE_TRACE_STMT, trace_seen,
						&range);
					CHECK(store_search(s, &so, &h, &n,
						      &err) == CV_OK);
					struct store_hit *h2 = NULL;
					size_t n2 = 0;
					sqlite3_trace_v2(s->db,
						SQLITE_TRACE_STMT, trace_seen,
						&one);
					CHECK(store_search(s, &so, &h2, &n2,
						      &err) == CV_OK);
					store_hits_free(h2, n2);
					sqlite3_trace_v2(s->db, 0, NULL, NULL);
					int64_t *want = plain_page(s, pl.fts,
						locs[l], newest, 20, offsets[o],
						&pn);
					CHECK_MSG(n == pn,
						"%s in %s, offset %d: %zu hits,"
						" the plain join %zu",
						texts[t],
						locs[l] ? locs[l] : "all",
						offsets[o], n, pn);
					for (size_t i = 0; i < n && i < pn; i++)
						CHECK_MSG(h[i].rid == want[i],
							"%s in %s, offset %d,"
							" hit %zu",
							texts[t],
							locs[l] ? locs[l]
								: "all",
							offsets[o], i);
					pages++;
					free(want);
					store_hits_free(h, n);
					search_plan_finish(&pl);
					free(err);
				}
	CHECK_INT(pages, 60);
	CHECK_MSG(range.n > 0, "no batch was one range query");
	CHECK_MSG(one.n > 0, "no batch was probed call by call");
	store_close(s);
	free(db);
}

/* What a terminal would obey is shown, not obeyed (issue 18 item 7). */
static void test_terminal_safe(void)
{
	static const char *const rows[][2] = {
		{ "plain caf\xc3\xa9", "plain caf\xc3\xa9" },
		{ "\x1b]0;OWNED\x07\x1b[2J", "\\x1b]0;OWNED\\x07\\x1b[2J" },
		{ "a\tb\nc\x7f", "a\\tb\\nc\\x7f" },
		{ "csi \xc2\x9b"
		  "31m",
			"csi \\u009B31m" },
		{ "\xe2\x80\xae"
		  "evil\xe2\x81\xa6"
		  "x\xe2\x81\xa9",
			"\\u202Eevil\\u2066x\\u2069" },
		{ "bad \xc0\x80 \xff", "bad \\xc0\\x80 \\xff" },
		/* neighbours of the ranges pass */
		{ "\xc2\xa0\xe2\x80\xa9\xe2\x80\xaf",
			"\xc2\xa0\xe2\x80\xa9\xe2\x80\xaf" },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(rows); i++) {
		char *got = cv_term_safe(rows[i][0], 0);
		CHECK_STR(got, rows[i][1]);
		free(got);
	}
	char *keep = cv_term_safe("a\nb\x1b", CV_SAFE_NEWLINES);
	CHECK_STR(keep, "a\nb\\x1b");
	free(keep);
	/* search_render: U+FFFD for a terminal, as stored for JSON */
	const char *text = "x \xc2\x9b \xe2\x80\xae \x02hit\x03";
	size_t *r = NULL, nr = 0;
	char *t = search_render(text, SEARCH_STYLE_BRACKETS, true, &r, &nr);
	CHECK_STR(t, "x \xef\xbf\xbd \xef\xbf\xbd [hit]");
	CHECK(nr == 1 && r[0] == 6 && r[1] == 9);
	free(t);
	free(r);
	t = search_render(text, SEARCH_STYLE_PLAIN, true, NULL, NULL);
	CHECK_STR(t, "x \xc2\x9b \xe2\x80\xae hit");
	free(t);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_search FIXTURE.jsonl\n");
		return 2;
	}
	cv_log_set_level(CV_LOG_WARN);
	test_parser();
	test_helpers();
	test_terminal_safe();
	char dir[] = "/tmp/cvsearchXXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char *db = xasprintf("%s/s.db", dir);
	struct store *s = load_fixture(argv[1], db);
	/* an agent's name, as sync would record it */
	sqlite3 *raw;
	CHECK(sqlite3_open(db, &raw) == SQLITE_OK);
	CHECK(sqlite3_exec(raw,
		      "INSERT INTO agents(location_id, id, name,"
		      " updated_at) VALUES ('L1', 'A2', 'Billing "
		      "Desk', 0), ('L9', 'A3', 'Zed', 0), ('L5',"
		      " 'A3', 'Amy', 0)",
		      NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(raw);
	char *err = NULL;
	test_queries(s);
	test_agent_name(s);
	test_export(s);
	test_prefix_terms(s, db);
	test_relevance(dir);
	test_probe_counted(dir);
	test_backfill_order(dir);
	test_probe_batches(dir);
	CHECK(store_check(s, &err) == CV_OK);
	free(err);
	store_close(s);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
	free(cmd);
	free(db);
	return t_done();
}
