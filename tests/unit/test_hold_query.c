/*
 * test_hold_query.c — query holds fail closed (store_holds.h): before
 * its first evaluation on a connection a query hold holds every call; an
 * evaluation holds exactly what its search matches; a call that changes
 * after the evaluation (a new version, which could make it match) stays
 * held until the next one; a stored query that no longer parses makes
 * the evaluation fail and keeps every call held.
 */
#include <sqlite3.h>

#include "rt_fixture.h"
#include "store/store_holds.h"
#include "t.h"

#define REC(id, text)                                                          \
	"{\"id\":\"" id "\",\"locationId\":\"L1\",\"createdAt\":"              \
	"\"2026-01-05T10:00:00Z\",\"transcript\":\"human: " text "\"}"

/* Change the store behind callvault's back. */
static int sql(const char *path, const char *q)
{
	sqlite3 *db = NULL;
	int r = sqlite3_open(path, &db);
	if (r == SQLITE_OK)
		r = sqlite3_exec(db, q, NULL, NULL, NULL);
	sqlite3_close(db);
	return r;
}

static bool held(struct store *s, const char *id)
{
	bool h = false;
	char *err = NULL;
	if (store_hold_is_held(s, id, &h, &err) != CV_OK) {
		fprintf(stderr, "is_held: %s\n", err ? err : "?");
		abort();
	}
	return h;
}

int main(void)
{
	char *dir = rt_tempdir();
	char *path = xasprintf("%s/s.db", dir);
	struct store *s = NULL;
	CHECK(store_open(&s, path, 0, NULL) == CV_OK);
	CHECK(rt_ingest(s, REC("a", "my lawyer called")) == 0);
	CHECK(rt_ingest(s, REC("b", "book a table")) == 0);
	char *filters = store_hold_filters_text(
		(const char *[SFK_N]){ [SFK_LOCATION] = "L1" });
	CHECK_STR(filters, "location=L1\n");
	/* the lines read back: a value may hold '=', a bad line is refused */
	struct search_filter_arg a[SFK_N];
	char *copy = NULL,
	     *t = store_hold_filters_text(
		     (const char *[SFK_N]){ [SFK_AGENT] = "Ann = Bot",
			     [SFK_TZ] = "America/Chicago" });
	CHECK(store_hold_filters_args(t, a, &copy));
	CHECK(a[SFK_AGENT].p && strcmp(a[SFK_AGENT].p, "Ann = Bot") == 0);
	CHECK(a[SFK_TZ].p && strcmp(a[SFK_TZ].p, "America/Chicago") == 0);
	CHECK(!a[SFK_LOCATION].p);
	free(copy);
	free(t);
	CHECK(!store_hold_filters_args("nokey\n", a, &copy));
	free(copy);
	CHECK(!store_hold_filters_args("colour=red\n", a, &copy));
	free(copy);
	struct store_hold h = { .matter = "M",
		.query = "lawyer",
		.query_filters = filters };
	int64_t id = 0;
	CHECK(store_hold_add(s, &h, "t", &id, NULL) == CV_OK);
	/* not evaluated yet: everything held */
	CHECK(held(s, "a") && held(s, "b"));
	CHECK(store_holds_evaluate(s, NULL) == CV_OK);
	CHECK(held(s, "a"));
	CHECK(!held(s, "b"));
	/* b changes after the evaluation: held until evaluated again */
	CHECK(rt_ingest(s, REC("b", "book a table, my lawyer says")) == 0);
	CHECK(held(s, "b"));
	CHECK(rt_ingest(s, REC("c", "nothing")) == 0);
	CHECK(held(s, "c"));
	CHECK(store_holds_evaluate(s, NULL) == CV_OK);
	CHECK(held(s, "b"));
	CHECK(!held(s, "c"));
	CHECK(store_hold_in_scope(&h, "L1"));
	CHECK(!store_hold_in_scope(&h, "L2"));
	struct store_hold two = { .query = "x",
		.query_filters = "location=L1\nlocation=L3\n" };
	CHECK(store_hold_in_scope(&two, "L3") &&
		!store_hold_in_scope(&two, "L2"));
	/* a hold both ways (query and criteria) is refused */
	struct store_hold both = h;
	both.contact_id = "K";
	CHECK(store_hold_add(s, &both, "t", &id, NULL) == CV_EINVAL);
	/* a second connection has not evaluated: it holds everything */
	struct store *s2 = NULL;
	CHECK(store_open(&s2, path, STORE_NOCREATE, NULL) == CV_OK);
	CHECK(held(s2, "c"));
	store_close(s2);
	/* a stored query that no longer parses: refused, all held */
	CHECK(sql(path, "UPDATE holds SET query = '(lawyer'") == SQLITE_OK);
	char *err = NULL;
	CHECK(store_holds_evaluate(s, &err) == CV_EPARSE);
	CHECK(err && strstr(err, "hold 1"));
	free(err);
	CHECK(held(s, "c"));
	store_close(s);
	free(filters);
	rt_rmrf(dir);
	free(dir);
	free(path);
	return t_done();
}
