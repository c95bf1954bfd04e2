/*
 * test_export.c — export's cells and its cursor (src/export.h) without a
 * command around them: CSV quoting and formula neutralising, ids kept as
 * text, JSON strings; a cursor that moves only when the output was
 * written completely, and then yields only new or changed calls.
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "ingest.h"
#include "store/store.h"
#include "t.h"
#include "util.h"

static char dir[] = "/tmp/cv_export.XXXXXX";

static char *field(const char *s, bool last)
{
	struct buf b;
	buf_init(&b);
	export_csv_field(&b, s, last);
	return buf_steal(&b);
}

static void test_cells(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "plain," },
		{ NULL, "," },
		{ "a,b", "\"a,b\"," },
		{ "say \"hi\"", "\"say \"\"hi\"\"\"," },
		{ "two\nlines", "\"two\nlines\"," },
		/* OWASP: what a spreadsheet would run gets a leading ' */
		{ "=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"," },
		{ "+1 555", "\"'+1 555\"," },
		{ "-2+3", "\"'-2+3\"," },
		{ "@SUM(A1)", "\"'@SUM(A1)\"," },
		{ "\tx", "\"'\tx\"," },
		{ "'quoted", "\"''quoted\"," },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(cases); i++) {
		char *got = field(cases[i].in, false);
		CHECK_MSG(!strcmp(got, cases[i].out), "%s -> [%s], want [%s]",
			cases[i].in ? cases[i].in : "NULL", got, cases[i].out);
		free(got);
	}
	char *got = field("end", true);
	CHECK_STR(got, "end\r\n");
	free(got);

	struct buf b;
	buf_init(&b);
	export_csv_id(&b, "15125550123", false); /* stays text */
	export_csv_id(&b, "0042", true);
	CHECK_STR(b.data, "\"'15125550123\",\"'0042\"\r\n");
	buf_reset(&b);
	export_json_string(&b, "a\"b\\c\n\x01");
	CHECK_STR(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
	buf_reset(&b);
	export_json_string(&b, NULL);
	CHECK_STR(b.data, "null");
	buf_finish(&b);
}

/* An output that collects in memory and can refuse to commit. */
struct mem {
	struct buf b;
	bool fail;
};

static enum cv_err mem_write(void *ctx, const void *p, size_t n)
{
	buf_append(&((struct mem *)ctx)->b, p, n);
	return CV_OK;
}

static enum cv_err mem_commit(void *ctx, char **errmsg)
{
	return ((struct mem *)ctx)->fail
		       ? cv_error(errmsg, CV_EIO, "disk full (test)")
		       : CV_OK;
}

static int64_t export_rows(struct store *s, bool fail, struct mem *m)
{
	struct export_opts o = {
		.format = EXPORT_JSONL,
		.since_last = "bi",
		.actor = "t",
		.detail = "{}",
	};
	struct export_out out = { mem_write, mem_commit, m };
	struct export_result r = { 0 };
	char *err = NULL;
	buf_reset(&m->b);
	m->fail = fail;
	enum cv_err rc = export_run(s, &o, &out, &r, &err);
	free(err);
	return rc == CV_OK ? r.rows : -1;
}

static void ingest(struct store *s, const char *id, const char *summary)
{
	char *j = xasprintf(
		"{\"id\":\"%s\",\"locationId\":\"L1\","
		"\"createdAt\":\"2026-06-01T10:00:00.000Z\",\"duration\":5,"
		"\"summary\":\"%s\"}",
		id, summary);
	struct ingest_stats st = { 0 };
	char *err = NULL;
	CHECK(store_begin(s, &err) == CV_OK);
	CHECK(ingest_payload(s, SRC_IMPORT, j, strlen(j), NULL, &st, NULL,
		      &err) == CV_OK);
	CHECK(store_commit(s, &err) == CV_OK);
	free(err);
	free(j);
}

static void test_cursor(void)
{
	char *path = xasprintf("%s/s.db", dir);
	struct store *s;
	char *err = NULL;
	CHECK(store_open(&s, path, 0, &err) == CV_OK);
	struct mem m = { 0 };
	buf_init(&m.b);
	ingest(s, "c1", "one");
	ingest(s, "c2", "two");
	/* the output fails: the cursor stays where it was */
	CHECK_INT(export_rows(s, true, &m), -1);
	CHECK_INT(export_rows(s, false, &m), 2);
	CHECK(strstr(m.b.data, "\"operation\":\"new\"") != NULL);
	CHECK_INT(export_rows(s, false, &m), 0); /* nothing new */
	ingest(s, "c2", "two, changed");
	ingest(s, "c3", "three");
	CHECK_INT(export_rows(s, true, &m), -1);
	CHECK_INT(export_rows(s, false, &m), 2);
	CHECK(strstr(m.b.data, "\"operation\":\"changed\"") != NULL);
	CHECK(strstr(m.b.data, "c1") == NULL);
	/* reset: everything again */
	struct store_cursor before;
	CHECK(export_cursor_reset(s, "bi", "t", &before, &err) == CV_OK);
	CHECK(before.version_id > 0);
	CHECK_INT(export_rows(s, false, &m), 3);
	CHECK(export_cursor_reset(s, "nope", "t", &before, &err) ==
		CV_ENOTFOUND);
	free(err);
	buf_finish(&m.b);
	store_close(s);
	free(path);
}

int main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	test_cells();
	test_cursor();
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	return t_done();
}
