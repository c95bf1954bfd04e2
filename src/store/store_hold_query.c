/*
 * store_hold_query.c — query holds (store_holds.h): a hold that keeps a
 * search holds every call the search matches, whenever holds are asked
 * about. Running each hold's search once per question (a purge run, an
 * erasure, `hold show`) into a per-connection set, instead of once per
 * call, keeps a purge of a million calls to one search per hold.
 */
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "store_holds.h"
#include "store_int.h"
#include "store_search_int.h"

/*
 * The set and the newest version id its searches saw live in temp tables
 * (this connection only). A fresh connection holds every call under
 * every query hold (max_version -1) until store_holds_evaluate() runs:
 * forgetting to evaluate keeps calls, never frees them.
 */
enum cv_err store_holds_temp_create(struct store *s, char **errmsg)
{
	return store_exec(s,
		"CREATE TEMP TABLE IF NOT EXISTS hold_query_calls("
		"  hold_id INTEGER NOT NULL,"
		"  rid INTEGER NOT NULL,"
		"  PRIMARY KEY(hold_id, rid)"
		") WITHOUT ROWID;"
		"CREATE TEMP TABLE IF NOT EXISTS hold_query_state("
		"  max_version INTEGER NOT NULL"
		");"
		"DELETE FROM temp.hold_query_state;"
		"INSERT INTO temp.hold_query_state VALUES (-1);",
		errmsg);
}

char *store_hold_filters_text(const char *const given[SFK_N])
{
	struct buf b;
	buf_init(&b);
	for (int k = 0; k < SFK_N; k++)
		if (given[k])
			buf_printf(&b, "%s=%s\n", search_filter_keys[k],
				given[k]);
	return store_hold_filters_more(&b, NULL, 0);
}

char *store_hold_filters_more(struct buf *b, const char *const *locs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "location=%s\n", locs[i]);
	if (!b->data)
		buf_puts(b, "");
	return buf_steal(b);
}

bool store_hold_filters_args(const char *text,
	struct search_filter_arg args[SFK_N], char **copy)
{
	memset(args, 0, SFK_N * sizeof(*args));
	*copy = xstrdup(text ? text : "");
	char *save = NULL;
	for (char *l = strtok_r(*copy, "\n", &save); l;
		l = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(l, '=');
		if (!eq)
			return false;
		*eq = '\0';
		int k = 0;
		while (k < SFK_N && strcmp(search_filter_keys[k], l) != 0)
			k++;
		if (k == SFK_N)
			return false;
		args[k] = (struct search_filter_arg){ eq + 1, strlen(eq + 1) };
	}
	return true;
}

/* Each "location=" line of a query hold's filters, in order (the
 * strings point into text, which is changed): how many there are, the
 * first max of them in out. */
static size_t locations(char *text, const char **out, size_t max)
{
	size_t n = 0;
	for (char *l = text; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(l, "location=", 9) == 0 && n++ < max)
			out[n - 1] = l + 9;
		l = nl ? nl + 1 : NULL;
	}
	return n;
}

bool store_hold_in_scope(const struct store_hold *h, const char *location)
{
	if (!h->query)
		return !h->location_id || strcmp(h->location_id, location) == 0;
	char *copy = xstrdup(h->query_filters ? h->query_filters : "");
	const char *loc[STORE_HOLD_MAX_LOCATIONS];
	size_t n = locations(copy, loc, STORE_HOLD_MAX_LOCATIONS);
	/* more than it can read: counted in, never left out */
	bool in = n == 0 || n > STORE_HOLD_MAX_LOCATIONS;
	for (size_t i = 0; i < n && !in; i++)
		in = strcmp(loc[i], location) == 0;
	free(copy);
	return in;
}

struct qhold {
	int64_t id;
	char *query, *filters;
};

static void qhold_row(sqlite3_stmt *st, void *elem)
{
	struct qhold *q = elem;
	q->id = sqlite3_column_int64(st, 0);
	q->query = store_col_dup(st, 1);
	q->filters = store_col_dup(st, 2);
}

static void qholds_drop(void *v, size_t n)
{
	struct qhold *q = v;
	for (size_t i = 0; i < n; i++) {
		free(q[i].query);
		free(q[i].filters);
	}
	free(v);
}

/* The active query holds, read before any search runs. */
static enum cv_err read_query_holds(struct store *s, struct qhold **out,
	size_t *n, char **errmsg)
{
	static const char sql[] =
		"SELECT id, query, query_filters FROM holds"
		" WHERE released_at IS NULL AND query IS NOT NULL ORDER BY id";
	void *v;
	enum cv_err rc = store_list(s, sql, sizeof(**out), qhold_row,
		qholds_drop, &v, n, "holds", errmsg);
	*out = v;
	return rc;
}

/* Run one search of a hold (location: one of its locations, or NULL)
 * into the set. */
static enum cv_err eval_search(struct store *s, const struct qhold *q,
	struct search_filter_arg a[SFK_N], const char *location, char **e)
{
	struct search_filters sf;
	struct search_plan plan;
	int pos = 0;
	memset(&plan, 0, sizeof(plan));
	if (location)
		a[SFK_LOCATION] = (struct search_filter_arg){ location,
			strlen(location) };
	enum cv_err rc = search_filters_parse(&sf, a, e);
	if (rc == CV_OK)
		rc = search_parse(q->query ? q->query : "", &plan, &pos, e);
	if (rc == CV_OK) {
		struct store_search_opts o = { .plan = &plan, .filter = &sf.f };
		char *ins = xasprintf("INSERT OR IGNORE INTO "
				      "temp.hold_query_calls(hold_id, rid) "
				      "SELECT %lld, *",
			(long long)q->id);
		rc = store_search_insert(s, &o, ins, e);
		free(ins);
	}
	search_plan_finish(&plan);
	return rc;
}

/* Run one hold's search into the set, with the parsers the CLI and the
 * console use: the hold means what its search meant when placed. A hold
 * scoped to several locations runs it once for each. */
static enum cv_err eval_one(struct store *s, const struct qhold *q,
	char **errmsg)
{
	struct search_filter_arg a[SFK_N];
	const char *loc[STORE_HOLD_MAX_LOCATIONS];
	char *copy = NULL, *e = NULL;
	char *lines = xstrdup(q->filters ? q->filters : "");
	size_t n = locations(lines, loc, STORE_HOLD_MAX_LOCATIONS);
	enum cv_err rc = CV_OK;
	if (!store_hold_filters_args(q->filters, a, &copy))
		rc = cv_error(&e, CV_EPARSE, "its filters are damaged");
	else if (n > STORE_HOLD_MAX_LOCATIONS)
		rc = cv_error(&e, CV_EPARSE, "more than %d locations",
			STORE_HOLD_MAX_LOCATIONS);
	for (size_t i = 0; rc == CV_OK && i < (n ? n : 1); i++)
		rc = eval_search(s, q, a, n ? loc[i] : NULL, &e);
	if (rc != CV_OK)
		rc = cv_error(errmsg, rc == CV_EINVAL ? CV_EPARSE : rc,
			"hold %lld: %s", (long long)q->id,
			e ? e : cv_strerror(rc));
	free(lines);
	free(copy);
	free(e);
	return rc;
}

/* The newest version the searches saw (done) or -1: every call held. A
 * writer that commits after the snapshot was taken gives its version a
 * larger id (AUTOINCREMENT), so its call counts as held. */
static enum cv_err set_state(struct store *s, bool done, char **errmsg)
{
	static const char sql[] =
		"UPDATE temp.hold_query_state SET max_version = CASE WHEN ?1"
		" THEN (SELECT coalesce(max(id), 0) FROM versions) ELSE -1 END";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int(st, 1, done);
	return store_step_done(s, st, "holds", errmsg);
}

enum cv_err store_holds_evaluate(struct store *s, char **errmsg)
{
	bool own_tx = !s->in_tx && !store_tx_active(s);
	if (own_tx && store_exec(s, "BEGIN", errmsg) != CV_OK)
		return CV_EDB;
	struct qhold *q = NULL;
	size_t n = 0;
	/* while it runs, and if it fails: every call held */
	enum cv_err rc = set_state(s, false, errmsg);
	if (rc == CV_OK)
		rc = store_exec(s, "DELETE FROM temp.hold_query_calls", errmsg);
	if (rc == CV_OK)
		rc = read_query_holds(s, &q, &n, errmsg);
	for (size_t i = 0; i < n && rc == CV_OK; i++)
		rc = eval_one(s, &q[i], errmsg);
	if (rc == CV_OK)
		rc = set_state(s, true, errmsg);
	qholds_drop(q, n);
	if (own_tx)
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}
