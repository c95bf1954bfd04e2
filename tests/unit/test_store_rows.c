/*
 * test_store_rows.c — the store's row loops (src/store/store_rows.c):
 * store_each and store_collect, over an in-memory store, and the page
 * cache STORE_ONESHOT gives. A unit test of the store's internals, so it
 * includes store_int.h.
 *
 * The error case matters: a statement that fails after some rows (here
 * abs() of the smallest integer, an "integer overflow" at run time) must
 * give the store's error naming what was read, drop the rows collected so
 * far, and leave the statement reset for its next use.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util.h"
#include "t.h"

#define ROWS_OK                                                                \
	"WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n"       \
	" WHERE x < ?) SELECT x, 'row ' || x FROM n"
#define ROWS_FAIL                                                              \
	"WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n"       \
	" WHERE x < 5) SELECT CASE WHEN x = ? THEN"                            \
	" abs(-9223372036854775807 - 1) ELSE x END, 'r' FROM n"

struct row {
	int64_t x;
	char *text;
};

static void fill(sqlite3_stmt *st, void *elem)
{
	struct row *r = elem;
	CHECK(r->x == 0 && r->text == NULL); /* zeroed before fill */
	r->x = sqlite3_column_int64(st, 0);
	r->text = store_col_dup(st, 1);
}

static void fill_flat(sqlite3_stmt *st, void *elem)
{
	*(int64_t *)elem = sqlite3_column_int64(st, 0);
}

static size_t dropped;
static void drop(void *v, size_t n)
{
	struct row *r = v;
	for (size_t i = 0; i < n; i++)
		free(r[i].text);
	free(v);
	dropped += n;
}

static void test_collect(struct store *s)
{
	/* one row, the first growth, the first cap and one past it, many */
	static const int counts[] = { 1, 2, 8, 9, 100 };
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		sqlite3_stmt *st = store_stmt(s, ROWS_OK, NULL);
		CHECK(st != NULL);
		sqlite3_bind_int(st, 1, counts[c]);
		void *v = (void *)1;
		size_t n = 99;
		char *err = NULL;
		CHECK_INT(store_collect(s, st, sizeof(struct row), fill, drop,
				  &v, &n, "rows", &err),
			CV_OK);
		CHECK_INT(n, counts[c]);
		struct row *r = v;
		for (size_t i = 0; i < n; i++) {
			CHECK_INT(r[i].x, (int64_t)i + 1);
			char want[32];
			snprintf(want, sizeof(want), "row %zu", i + 1);
			CHECK_STR(r[i].text, want);
		}
		drop(v, n);
		CHECK(err == NULL);
	}
}

static void test_collect_empty(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, ROWS_OK " WHERE x > 1000", NULL);
	sqlite3_bind_int(st, 1, 3);
	void *v = (void *)1;
	size_t n = 99;
	CHECK_INT(store_collect(s, st, sizeof(struct row), fill, drop, &v, &n,
			  "rows", NULL),
		CV_OK);
	CHECK(v == NULL);
	CHECK_INT(n, 0);
}

static void test_collect_error(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, ROWS_FAIL, NULL);
	CHECK(st != NULL);
	sqlite3_bind_int(st, 1, 4); /* rows 1..3, then the error */
	void *v = (void *)1;
	size_t n = 99;
	char *err = NULL;
	dropped = 0;
	enum cv_err rc = store_collect(s, st, sizeof(struct row), fill, drop,
		&v, &n, "the test rows", &err);
	CHECK_INT(rc, CV_EDB);
	CHECK(v == NULL);
	CHECK_INT(n, 0);
	CHECK_INT(dropped, 3);
	CHECK_MSG(err && strstr(err, "the test rows: integer overflow"), "%s",
		err ? err : "(null)");
	free(err);
	/* reset: the same statement runs again, now without the error */
	sqlite3_bind_int(st, 1, 99);
	err = NULL;
	CHECK_INT(store_collect(s, st, sizeof(struct row), fill, drop, &v, &n,
			  "the test rows", &err),
		CV_OK);
	CHECK_INT(n, 5);
	drop(v, n);
	/* without a drop function the array alone is freed (ASan, valgrind) */
	sqlite3_bind_int(st, 1, 2);
	err = NULL;
	CHECK_INT(store_collect(s, st, sizeof(int64_t), fill_flat, NULL, &v, &n,
			  "flat rows", &err),
		CV_EDB);
	CHECK(v == NULL);
	free(err);
}

static int seen;
static int count_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	(void)fn;
	seen++;
	return sqlite3_column_int64(st, 0) == *(int64_t *)arg;
}

static void test_each(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, ROWS_OK, NULL);
	sqlite3_bind_int(st, 1, 10);
	int64_t stop_at = 0;
	seen = 0;
	CHECK_INT(store_each(s, st, count_row, NULL, &stop_at, CV_EINVAL,
			  "rows", NULL),
		CV_OK);
	CHECK_INT(seen, 10);
	/* a callback that stops: the walk answers `stopped` */
	stop_at = 4;
	seen = 0;
	CHECK_INT(store_each(s, st, count_row, NULL, &stop_at, CV_EINVAL,
			  "rows", NULL),
		CV_EINVAL);
	CHECK_INT(seen, 4);
	/* a step error: store_dberr naming what */
	st = store_stmt(s, ROWS_FAIL, NULL);
	sqlite3_bind_int(st, 1, 2);
	stop_at = 0;
	seen = 0;
	char *err = NULL;
	CHECK_INT(store_each(s, st, count_row, NULL, &stop_at, CV_EINVAL,
			  "walked rows", &err),
		CV_EDB);
	CHECK_INT(seen, 1);
	CHECK_MSG(err && strstr(err, "walked rows: integer overflow"), "%s",
		err ? err : "(null)");
	free(err);
}

static int text_seen;
static int count_text(const char *text, void *arg)
{
	char want[32];
	snprintf(want, sizeof(want), "%d", ++text_seen);
	CHECK_STR(text, want);
	return strcmp(text, (const char *)arg) == 0;
}

/* the one-text-column helpers: store_text_row, store_text_fill and
 * store_texts_drop (which frees the strings of a dropped partial list) */
static void test_text(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, ROWS_OK, NULL);
	sqlite3_bind_int(st, 1, 10);
	void *v;
	size_t n;
	CHECK_INT(store_collect(s, st, sizeof(char *), store_text_fill,
			  store_texts_drop, &v, &n, "texts", NULL),
		CV_OK);
	CHECK_INT(n, 10);
	CHECK_STR(((char **)v)[9], "10");
	store_texts_drop(v, n);
	text_seen = 0;
	CHECK_INT(store_each(s, st, store_text_row, (store_fn)count_text, "4",
			  CV_EINVAL, "texts", NULL),
		CV_EINVAL);
	CHECK_INT(text_seen, 4);
	st = store_stmt(s, ROWS_FAIL, NULL);
	sqlite3_bind_int(st, 1, 4);
	char *err = NULL;
	CHECK_INT(store_collect(s, st, sizeof(char *), store_text_fill,
			  store_texts_drop, &v, &n, "texts", &err),
		CV_EDB);
	CHECK(v == NULL && n == 0);
	free(err);
}

/* STORE_ONESHOT (store.h): the small page cache for a command that
 * reads once and exits; every other store keeps 16 MB. */
static void test_cache_sizes(struct store *dflt)
{
	struct store *s = NULL;
	char *err = NULL;
	int64_t kib = 0;
	CHECK(store_scalar_int(dflt, "PRAGMA cache_size", &kib, &err) == CV_OK);
	CHECK_MSG(kib == -16000, "default cache_size %lld", (long long)kib);
	CHECK(store_open(&s, STORE_MEMORY, STORE_ONESHOT, &err) == CV_OK);
	CHECK(store_scalar_int(s, "PRAGMA cache_size", &kib, &err) == CV_OK);
	CHECK_MSG(kib == -STORE_ONESHOT_CACHE_KIB, "one-shot cache_size %lld",
		(long long)kib);
	store_close(s);
	free(err);
}

int main(void)
{
	struct store *s = NULL;
	char *err = NULL;
	if (store_open(&s, STORE_MEMORY, 0, &err) != CV_OK) {
		fprintf(stderr, "store_open: %s\n", err ? err : "?");
		return 1;
	}
	test_collect(s);
	test_collect_empty(s);
	test_collect_error(s);
	test_each(s);
	test_text(s);
	test_cache_sizes(s);
	store_close(s);
	return t_done();
}
