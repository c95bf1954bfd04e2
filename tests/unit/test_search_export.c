/*
 * test_search_export.c — what search hands on: times and digits found,
 * hits rendered, CSV and JSON cells, text made safe for a terminal;
 * export and its cursor over the fixture corpus, then, on the store as
 * export left it, the term list prefix terms are answered from.
 *
 * usage: test_search_export FIXTURE.jsonl
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "export.h"
#include "ingest.h"
#include "search.h"
#include "search_t.h"
#include "store/store_export.h"
#include "store/store_search.h"
#include "t.h"
#include "util.h"

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

/* ---- the term list, on the store export changed ---- */

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
	ts_ingest_line(s,
		"{\"id\":\"t1\",\"createdAt\":"
		"\"2026-01-01T00:00:00Z\",\"summary\":\"zymurgy\"}",
		false);
	ts_ingest_line(s,
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
	ts_ingest_line(s, b.data, true);
	buf_finish(&b);
	CHECK_MSG(store_check(s, &err) == CV_OK, "check: %s", err);
	free(err);
}

int main(int argc, char **argv)
{
	const char *fixture = ts_fixture_arg(argc, argv);
	test_helpers();
	test_terminal_safe();
	struct ts_fixture fx;
	ts_open(&fx, fixture);
	test_export(fx.s);
	test_prefix_terms(fx.s, fx.db);
	ts_close(&fx);
	return t_done();
}
