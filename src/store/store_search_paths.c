/*
 * store_search_paths.c — see store_search_int.h: the ways store_search
 * finds a page of newest (oldest) first hits without sorting every match:
 * the window of the newest calls, the FTS5 top-k scan, and probing the
 * calls that pass the filters.
 */
#include "store_search.h"
#include "store_search_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/*
 * Newest/oldest first, the common case: the text condition is checked on
 * the WINDOW newest (oldest) calls that pass the filters, read in order
 * from the created_at index. When that yields a full page it is the
 * answer (any other match is older); otherwise the caller falls back to
 * matching everything and sorting. This keeps common terms fast without
 * ranking hundreds of thousands of matches.
 */
#define WINDOW 2000

static int window_of(const struct store_search_opts *o)
{
	return o->window > 0 ? o->window : WINDOW;
}

static void build_window(const struct store_search_opts *o, bool count,
	struct buf *sql, struct store_sql_args *a)
{
	const struct search_plan *pl = o->plan;
	const char *dir = o->sort == STORE_SORT_OLDEST ? "" : " DESC";
	buf_printf(sql,
		"SELECT %s FROM (SELECT c.rid AS rid, c.created_at AS "
		"created_at%s FROM calls c WHERE 1",
		count ? "count(*)" : "c.rid",
		pl->literal ? ", c.summary AS summary, c.transcript AS "
			      "transcript"
			    : "");
	store_filter_sql(o->filter, sql, a);
	buf_printf(sql, " ORDER BY c.created_at%s, c.rid%s LIMIT %d) c", dir,
		dir, window_of(o));
	if (count)
		return;
	if (pl->fts) {
		buf_puts(sql, " WHERE EXISTS (SELECT 1 FROM calls_fts WHERE "
			      "calls_fts MATCH ? AND calls_fts.rowid = c.rid)");
		store_sql_arg_text(a, pl->fts);
	} else {
		buf_puts(sql, " WHERE ");
		store_cond_sql(pl->cond, sql, a, NULL);
	}
	buf_printf(sql, " ORDER BY c.created_at%s, c.rid%s", dir, dir);
}

static int64_t count_sql(struct store *s, const char *sql,
	const struct store_sql_args *a)
{
	sqlite3_stmt *st;
	int64_t n = -1;
	if (store_search_prepare(s, sql, &st, NULL) != CV_OK)
		return -1;
	store_bind_args(st, 1, a);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

struct topk {
	int64_t *rid, *ts;
	size_t n, cap;
	bool desc;
};

static bool better(const struct topk *k, int64_t ts, int64_t rid, size_t i)
{
	if (ts != k->ts[i])
		return k->desc ? ts > k->ts[i] : ts < k->ts[i];
	return k->desc ? rid > k->rid[i] : rid < k->rid[i];
}

static void topk_add(struct topk *k, int64_t ts, int64_t rid)
{
	if (k->n == k->cap && !better(k, ts, rid, k->n - 1))
		return;
	size_t lo = 0, hi = k->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (better(k, ts, rid, mid))
			hi = mid;
		else
			lo = mid + 1;
	}
	size_t move = (k->n == k->cap ? k->n - 1 : k->n) - lo;
	memmove(k->rid + lo + 1, k->rid + lo, move * sizeof(*k->rid));
	memmove(k->ts + lo + 1, k->ts + lo, move * sizeof(*k->ts));
	k->rid[lo] = rid;
	k->ts[lo] = ts;
	if (k->n < k->cap)
		k->n++;
}

struct topk_stmts {
	sqlite3_stmt *scan, *look, *stop;
};

/*
 * With --from/--to, the rowids of the calls in that time range, so that
 * the FTS5 scan reads only the matches that can pass it: a month's calls
 * are a narrow rowid band when calls are stored roughly in time order
 * (and a wider one, still correct, when they are not). An empty range
 * leaves lo > hi.
 */
#define TIME_RANGE_MAX 100000

static enum cv_err time_rid_range(struct store *s,
	const struct search_filter *f, int64_t *lo, int64_t *hi, char **errmsg)
{
	if (!f || (!f->has_from && !f->has_to))
		return CV_OK;
	/* a range of more than TIME_RANGE_MAX calls is not worth the scan
	 * of its index entries: lo..hi stay unbounded */
	sqlite3_stmt *st = store_stmt(s,
		"SELECT min(rid), max(rid), count(*) FROM (SELECT rid FROM "
		"calls WHERE created_at BETWEEN ?1 AND ?2 LIMIT ?3)",
		errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, f->has_from ? f->from_ms : INT64_MIN);
	sqlite3_bind_int64(st, 2, f->has_to ? f->to_ms : INT64_MAX);
	sqlite3_bind_int(st, 3, TIME_RANGE_MAX + 1);
	enum cv_err rc = CV_OK;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = store_dberr(s, errmsg, "search");
	} else if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		*lo = 1;
		*hi = 0;
	} else if (sqlite3_column_int64(st, 2) > TIME_RANGE_MAX) {
		/* too many to be worth it */
	} else {
		*lo = sqlite3_column_int64(st, 0);
		*hi = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc;
}

static enum cv_err topk_prepare(struct store *s,
	const struct store_search_opts *o, struct topk_stmts *t, char **errmsg)
{
	bool desc = o->sort != STORE_SORT_OLDEST;
	struct buf look, stop;
	struct store_sql_args a = { 0 };
	buf_init(&look);
	buf_init(&stop);
	buf_puts(&look, "SELECT c.created_at FROM calls c WHERE c.rid = ?1");
	store_filter_sql(o->filter, &look, &a);
	/* +c.rid: never a rowid range scan; the time range (or a filter's
	 * index with time) bounds the work */
	buf_printf(&stop,
		"SELECT 1 FROM calls c WHERE c.created_at %s ?1 "
		"AND +c.rid %s ?2",
		desc ? ">" : "<", desc ? "<" : ">");
	store_filter_sql(o->filter, &stop, &a);
	buf_puts(&stop, " LIMIT 1");
	int64_t lo = 0, hi = INT64_MAX;
	enum cv_err rc = time_rid_range(s, o->filter, &lo, &hi, errmsg);
	char *scan = xasprintf("SELECT rowid FROM calls_fts WHERE calls_fts "
			       "MATCH ? AND rowid BETWEEN %lld AND %lld "
			       "ORDER BY rowid%s",
		(long long)lo, (long long)hi, desc ? " DESC" : "");
	if (rc == CV_OK)
		rc = store_search_prepare(s, scan, &t->scan, errmsg);
	if (rc == CV_OK)
		rc = store_search_prepare(s, look.data, &t->look, errmsg);
	if (rc == CV_OK)
		rc = store_search_prepare(s, stop.data, &t->stop, errmsg);
	if (rc == CV_OK) {
		sqlite3_bind_text(t->scan, 1, o->plan->fts, -1,
			SQLITE_TRANSIENT);
		store_bind_args(t->look, 2, &a);
		store_bind_args(t->stop, 3, &a);
	}
	free(scan);
	buf_finish(&look);
	buf_finish(&stop);
	return rc;
}

/* true when no unseen call (beyond rid `seen`) can enter the top k */
static bool topk_complete(struct topk_stmts *t, const struct topk *k,
	int64_t seen)
{
	sqlite3_reset(t->stop);
	sqlite3_bind_int64(t->stop, 1, k->ts[k->n - 1]);
	sqlite3_bind_int64(t->stop, 2, seen);
	return sqlite3_step(t->stop) == SQLITE_DONE;
}

/*
 * max_reads > 0: give up (*done false, no hits) after reading that many
 * matches without the top k being complete, which happens when the
 * newest rowids are not the newest calls (a backfill imported after the
 * live calls came in: every one of its matches is read before the
 * newest, 150 ms to seconds for a common word).
 */
enum cv_err store_search_topk(struct store *s,
	const struct store_search_opts *o, int64_t max_reads,
	struct store_hit **hits, size_t *n, bool *done, char **errmsg)
{
	struct topk k = { .cap = (size_t)(o->limit + o->offset),
		.desc = o->sort != STORE_SORT_OLDEST };
	struct topk_stmts t = { 0 };
	*done = true;
	if (k.cap == 0)
		return CV_OK;
	k.rid = xmalloc(k.cap * sizeof(*k.rid));
	k.ts = xmalloc(k.cap * sizeof(*k.ts));
	enum cv_err rc = topk_prepare(s, o, &t, errmsg);
	int r = SQLITE_DONE;
	size_t since_full = 0, next_check = 1;
	int64_t reads = 0;
	while (rc == CV_OK && (r = sqlite3_step(t.scan)) == SQLITE_ROW) {
		int64_t rid = sqlite3_column_int64(t.scan, 0);
		sqlite3_reset(t.look);
		sqlite3_bind_int64(t.look, 1, rid);
		if (sqlite3_step(t.look) == SQLITE_ROW)
			topk_add(&k, sqlite3_column_int64(t.look, 0), rid);
		bool last = max_reads > 0 && ++reads >= max_reads;
		if (!last && (k.n < k.cap || ++since_full < next_check))
			continue;
		if (k.n == k.cap && topk_complete(&t, &k, rid))
			break;
		if (last) {
			*done = false;
			k.n = 0;
			break;
		}
		next_check *= 2;
	}
	if (rc == CV_OK && r != SQLITE_ROW && r != SQLITE_DONE)
		rc = store_dberr(s, errmsg, "search");
	for (size_t i = (size_t)o->offset; rc == CV_OK && i < k.n; i++) {
		if (!(*n % 64))
			*hits = xrealloc(*hits, (*n + 64) * sizeof(**hits));
		memset(&(*hits)[*n], 0, sizeof(**hits));
		(*hits)[(*n)++].rid = k.rid[i];
	}
	sqlite3_finalize(t.scan);
	sqlite3_finalize(t.look);
	sqlite3_finalize(t.stop);
	free(k.rid);
	free(k.ts);
	return rc;
}

/*
 * With filters: walk the calls that pass them newest (oldest) first and
 * ask FTS5 about each. Wins when the filters are selective and the text
 * common; *done false when its work budget ran out before a page was
 * found (then the FTS5-driven top-k answers).
 *
 * The budget is counted, not clocked: it stopped after 15 ms of wall
 * time, so on a loaded machine it gave up after a few probes and the
 * top-k path scanned hundreds of thousands of matches for queries the
 * probes answer in 60 (a word with a location and a month). Work is in
 * µs of one core's CPU, as measured on 200,000 calls (1M for the range
 * reads): a probe of one call, of words ~60, of a phrase or NEAR (FTS5
 * reads positions) 100-300 (150 taken); a match read by a batch's range
 * query 0.05-0.1 warm, of a phrase ~0.1 (1 and 2 taken, for pages read
 * cold); a step of the filter walk over the time index (--action,
 * --min-duration, --trial: calls_time_filters holds their columns) ~1
 * (2 taken; it was ~20 when each step read the call's row). Every
 * filter's column is in calls_time_filters or has an index of its own,
 * so the walk reads no call's row; a filter added on another column
 * must go into that index too, or this count is wrong. The same
 * query takes the same path on a quiet or loaded machine. (PROBE_WORK is
 * in store_search_int.h.)
 */
#define PROBE_BUDGET 1000
#define PROBE_COST_WORDS 60
#define PROBE_COST_POSITIONS 150
#define PROBE_COST_MATCH 1
#define PROBE_COST_MATCH_POSITIONS 2
#define PROBE_COST_ROW 2

/* Whether matching fts makes FTS5 read positions: NEAR, or a quoted
 * phrase of more than one token (a separator inside the quotes). */
static bool reads_positions(const char *fts)
{
	if (strstr(fts, "NEAR("))
		return true;
	bool quoted = false;
	for (const unsigned char *p = (const unsigned char *)fts; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (quoted && *p < 0x80 && !isalnum(*p) && *p != '_')
			return true;
	}
	return false;
}

/*
 * The text's density, for the probes' cost (store_search_probe): its
 * matches in PROBE_WINDOWS windows of PROBE_SAMPLE calls spread evenly
 * over the store (the filters taken as independent of it; not the
 * newest calls alone, which a webhook burst of one kind fills). Counts
 * over rowid ranges of the index: 1-3 ms in a new process, whose pages
 * of the index are not read yet, so looked up only when a decision
 * needs it (most searches decide without).
 */
#define PROBE_WINDOWS 4
#define PROBE_SAMPLE 500

/* The text's matches among calls sampled (0 of 0: none could be). */
struct density {
	int64_t hits, sampled;
	bool known; /* looked up (never in a window search) */
};

static void text_density(struct store *s, const struct store_search_opts *o,
	struct density *d)
{
	if (d->known || o->window)
		return;
	d->known = true;
	static const char sql[] =
		"SELECT count(*) FROM calls_fts WHERE calls_fts MATCH ?1"
		" AND rowid BETWEEN ?2 AND ?3";
	sqlite3_stmt *st = store_stmt(s, "SELECT max(rid) FROM calls", NULL);
	int64_t calls = 0, hits = 0, sampled = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		calls = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	if (!(st = store_stmt(s, sql, NULL)))
		return; /* not known: the probes' budget still bounds */
	sqlite3_bind_text(st, 1, o->plan->fts, -1, SQLITE_STATIC);
	for (int w = 0; w < PROBE_WINDOWS; w++) {
		int64_t lo = calls * (2 * w + 1) / (2 * PROBE_WINDOWS) -
			     PROBE_SAMPLE / 2;
		lo = lo < 1 ? 1 : lo;
		int64_t hi = lo + PROBE_SAMPLE - 1 < calls
				     ? lo + PROBE_SAMPLE - 1
				     : calls;
		sqlite3_bind_int64(st, 2, lo);
		sqlite3_bind_int64(st, 3, hi);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_reset(st);
			return;
		}
		hits += sqlite3_column_int64(st, 0);
		sampled += hi >= lo ? hi - lo + 1 : 0;
		sqlite3_reset(st);
		if (hi >= calls)
			break; /* a small store: its windows overlap */
	}
	d->hits = hits;
	d->sampled = sampled;
}

/*
 * The probes of one batch of candidates (rids, in the walk's order): which
 * match the text. One FTS5 query over the batch's rowid range, parsing
 * the expression and seeking each segment once, or a probe a candidate,
 * which does both every time (~60 µs): whichever costs less by the
 * counts above, the range query's matches estimated from the text's
 * density (d; every rowid when not known). The range wins while the
 * candidates' rowids are close (calls are stored about in time order) or
 * the text is rare among them; probes win behind a backfill, where the
 * newest calls by time are far apart by rowid, unless the text is rare
 * there. The answer is the same either way: a rid matches iff FTS5 has
 * it. Returns the batch's cost in work units, counted as it ran.
 */
#define PROBE_BATCH_MAX 512

/* a candidate of a batch: its rowid and its place in the walk */
struct cand {
	int64_t rid;
	size_t at;
};

static int cmp_cand(const void *a, const void *b)
{
	int64_t x = ((const struct cand *)a)->rid;
	int64_t y = ((const struct cand *)b)->rid;
	return (x > y) - (x < y);
}

/* Probe rids[i] one by one for every i with todo[i] (all when todo is
 * NULL); how many were probed. r: the last step's code. */
static size_t probe_each(sqlite3_stmt *one, const int64_t *rids,
	const bool *todo, bool *match, size_t n, int *r)
{
	size_t probed = 0;
	for (size_t i = 0; i < n; i++) {
		if (todo && !todo[i])
			continue;
		sqlite3_reset(one);
		sqlite3_bind_int64(one, 2, rids[i]);
		*r = sqlite3_step(one);
		match[i] = *r == SQLITE_ROW;
		probed++;
		if (*r != SQLITE_ROW && *r != SQLITE_DONE)
			break;
	}
	sqlite3_reset(one);
	return probed;
}

/*
 * As above; *cost is what it counted, and nothing is probed (*over set)
 * when its estimate passes room (the work left; the caller gives up).
 * A range read stops once its matches have cost what probing each
 * candidate would (the density under-estimated them, or a burst of the
 * text sits in the range), and the candidates it did not reach are
 * probed one by one.
 */
static enum cv_err probe_batch(struct store *s,
	const struct store_search_opts *o, struct density *d,
	const int64_t *rids, bool *match, size_t n, int64_t room, int64_t *cost,
	bool *over, char **errmsg)
{
	const char *fts = o->plan->fts;
	bool desc = o->sort != STORE_SORT_OLDEST;
	static const char one_sql[] =
		"SELECT 1 FROM calls_fts WHERE calls_fts MATCH ? AND rowid = ?";
	/* in the walk's direction: FTS5 ends a range only when it finds a
	 * match past it, and a phrase or AND checks every rowid that has
	 * all its words on the way. Past the newest calls' rowids (a
	 * backfill stored later) that ran through 100,000 calls for
	 * "roof leak" (14 ms a batch, warm); the way the walk goes is where
	 * its next batch reads anyway. */
	static const char range_asc[] =
		"SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?"
		" AND rowid >= ? AND rowid <= ? ORDER BY rowid";
	static const char range_desc[] =
		"SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?"
		" AND rowid >= ? AND rowid <= ? ORDER BY rowid DESC";
	bool positions = reads_positions(fts);
	int64_t per_probe = positions ? PROBE_COST_POSITIONS : PROBE_COST_WORDS;
	int64_t per_match = positions ? PROBE_COST_MATCH_POSITIONS
				      : PROBE_COST_MATCH;
	*cost = 0;
	*over = false;
	int64_t lo = rids[0], hi = rids[0];
	for (size_t i = 1; i < n; i++) {
		lo = rids[i] < lo ? rids[i] : lo;
		hi = rids[i] > hi ? rids[i] : hi;
	}
	/* the density is looked up only when the range loses even as if
	 * every rowid of it matched (close rowids win without it) */
	int64_t span = hi - lo + 1;
	int64_t each = (int64_t)n * per_probe;
	if (n > 1 && per_probe + span * per_match > each)
		text_density(s, o, d);
	int64_t matches = d->sampled > 0 ? span * d->hits / d->sampled : span;
	bool range = n > 1 && per_probe + matches * per_match <= each;
	if ((range ? per_probe + matches * per_match : each) > room) {
		*over = true;
		return CV_OK;
	}
	sqlite3_stmt *one = store_stmt(s, one_sql, errmsg);
	if (!one)
		return CV_EDB;
	sqlite3_bind_text(one, 1, fts, -1, SQLITE_STATIC);
	int r = SQLITE_DONE;
	if (!range) {
		*cost = (int64_t)probe_each(one, rids, NULL, match, n, &r) *
			per_probe;
	} else {
		sqlite3_stmt *st = store_stmt(s, desc ? range_desc : range_asc,
			errmsg);
		if (!st)
			return CV_EDB;
		sqlite3_bind_text(st, 1, fts, -1, SQLITE_STATIC);
		struct cand *sorted = xmalloc(n * sizeof(*sorted));
		for (size_t i = 0; i < n; i++) {
			sorted[i] = (struct cand){ rids[i], i };
			match[i] = false;
		}
		qsort(sorted, n, sizeof(*sorted), cmp_cand);
		sqlite3_bind_int64(st, 2, lo);
		sqlite3_bind_int64(st, 3, hi);
		int64_t read = 0, cap = each / per_match, at = 0;
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			struct cand key = { sqlite3_column_int64(st, 0), 0 };
			struct cand *c = bsearch(&key, sorted, n,
				sizeof(*sorted), cmp_cand);
			if (c)
				match[c->at] = true;
			at = key.rid;
			if (++read >= cap)
				break;
		}
		sqlite3_reset(st);
		*cost = per_probe + read * per_match;
		if (r == SQLITE_ROW) { /* stopped: the rest one by one */
			bool *todo = xcalloc(n, sizeof(*todo));
			for (size_t i = 0; i < n; i++)
				todo[i] = desc ? rids[i] < at : rids[i] > at;
			*cost += (int64_t)probe_each(one, rids, todo, match, n,
					 &r) *
				 per_probe;
			free(todo);
		}
		free(sorted);
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return store_dberr(s, errmsg, "search");
	return CV_OK;
}

/*
 * The walk over the calls that pass the filters, newest (oldest) first,
 * in batches, each probed as probe_batch chooses, until a page is found
 * or the work counted reaches `work`. Counted: each batch's probes as
 * probe_batch ran them, and each step of the walk over the time index.
 * After the first batch (whose rowids show how far apart the filters'
 * calls are) the rest is estimated from its cost a candidate and the
 * candidates a page needs at the rate it matched (at the text's density
 * when it matched none): when that passes the budget, probing stops
 * there and the top-k scan answers, as it does at once for a text the
 * density sample does not hold (rare: its few matches are soon read).
 */
enum cv_err store_search_probe(struct store *s,
	const struct store_search_opts *o, int64_t work,
	struct store_hit **hits, size_t *n, bool *done, char **errmsg)
{
	int64_t per_probe = reads_positions(o->plan->fts) ? PROBE_COST_POSITIONS
							  : PROBE_COST_WORDS;
	*done = false;
	struct density d = { 0, 0, false };
	const char *dir = o->sort == STORE_SORT_OLDEST ? "" : " DESC";
	struct buf sql;
	struct store_sql_args a = { 0 };
	buf_init(&sql);
	buf_puts(&sql, "SELECT c.rid FROM calls c WHERE 1");
	store_filter_sql(o->filter, &sql, &a);
	buf_printf(&sql, " ORDER BY c.created_at%s, c.rid%s", dir, dir);
	sqlite3_stmt *cand;
	enum cv_err rc = store_search_prepare(s, sql.data, &cand, errmsg);
	buf_finish(&sql);
	if (rc != CV_OK)
		return rc;
	store_bind_args(cand, 1, &a);
	int64_t found = 0, want = o->limit + o->offset;
	int r = SQLITE_ROW;
	int budget = o->window > 0 ? o->window
				   : (int)(PROBE_BUDGET * work / PROBE_WORK);
	int64_t batch[PROBE_BATCH_MAX];
	bool match[PROBE_BATCH_MAX];
	/* a first batch as large as the page: common text answers in it;
	 * then larger ones, up to PROBE_BATCH_MAX */
	size_t size = (size_t)(want < 1 ? 1 : want);
	int k = 0;
	int64_t spent = 0;        /* the batches' probes, counted */
	int64_t unit = per_probe; /* a candidate's cost, as last seen */
	while (rc == CV_OK && found < want && r == SQLITE_ROW) {
		size_t m = 0;
		size = size > PROBE_BATCH_MAX ? PROBE_BATCH_MAX : size;
		/* a candidate more, at the last batch's cost a candidate */
		for (; m < size && k < budget; k++) {
			int64_t rows = sqlite3_stmt_status(cand,
				SQLITE_STMTSTATUS_FULLSCAN_STEP, 0);
			if (!o->window &&
				spent + (int64_t)(m + 1) * unit +
						rows * PROBE_COST_ROW >
					work)
				break;
			if ((r = sqlite3_step(cand)) != SQLITE_ROW)
				break;
			batch[m++] = sqlite3_column_int64(cand, 0);
		}
		int64_t cost = 0;
		bool over = false;
		int64_t rows = sqlite3_stmt_status(cand,
			SQLITE_STMTSTATUS_FULLSCAN_STEP, 0);
		int64_t room = o->window ? INT64_MAX
					 : work - spent - rows * PROBE_COST_ROW;
		if (m > 0)
			rc = probe_batch(s, o, &d, batch, match, m, room, &cost,
				&over, errmsg);
		if (over)
			break; /* *done false: the top-k scan answers */
		spent += cost;
		int64_t got = 0; /* matches among the batch's candidates */
		for (size_t i = 0; rc == CV_OK && i < m && found < want; i++) {
			if (!match[i])
				continue;
			got++;
			if (found++ < o->offset)
				continue;
			if (!(*n % 64))
				*hits = xrealloc(*hits,
					(*n + 64) * sizeof(**hits));
			memset(&(*hits)[*n], 0, sizeof(**hits));
			(*hits)[(*n)++].rid = batch[i];
		}
		if (m < size) /* budget spent, or the candidates ended */
			break;
		if (m > 0)
			unit = cost / (int64_t)m > 0 ? cost / (int64_t)m : 1;
		/* after the first batch: the candidates still needed, at the
		 * rate it matched (by the text's density when it matched
		 * none; a text in no call sampled is rare, and the top-k
		 * scan reads its few matches), at its cost each; the walk's
		 * steps so far in proportion */
		if (!o->window && k == (int)m && found < want && rc == CV_OK) {
			if (got == 0)
				text_density(s, o, &d);
			if (got == 0 && d.sampled > 0 && d.hits == 0)
				break;
			int64_t need = got > 0 ? (want - found) * (int64_t)m /
							 got
				       : d.hits > 0 ? (want - found) *
							      d.sampled / d.hits
						    : 0;
			rows = sqlite3_stmt_status(cand,
				SQLITE_STMTSTATUS_FULLSCAN_STEP, 0);
			if (k + need > budget ||
				spent + need * unit +
						(rows + rows * need /
								(int64_t)m) *
							PROBE_COST_ROW >
					work)
				break;
		}
		size *= 2;
	}
	if (rc == CV_OK && r != SQLITE_ROW && r != SQLITE_DONE)
		rc = store_dberr(s, errmsg, "search");
	*done = found >= want || r == SQLITE_DONE;
	sqlite3_finalize(cand);
	return rc;
}

/* The window strategy; *done false when the caller must fall back. */
enum cv_err store_search_window(struct store *s,
	const struct store_search_opts *o, struct store_hit **hits, size_t *n,
	bool *done, char **errmsg)
{
	struct buf sql;
	struct store_sql_args a = { 0 };
	buf_init(&sql);
	build_window(o, false, &sql, &a);
	buf_puts(&sql, " LIMIT ? OFFSET ?");
	enum cv_err rc = store_search_collect_rids(s, sql.data, &a, o->limit,
		o->offset, hits, n, errmsg);
	*done = rc != CV_OK || (int64_t)*n == o->limit;
	if (!*done) {
		/* fewer than a page: complete only if the window was not full */
		buf_reset(&sql);
		a.n = 0;
		build_window(o, true, &sql, &a);
		int64_t cand = count_sql(s, sql.data, &a);
		*done = cand >= 0 && cand < window_of(o);
	}
	buf_finish(&sql);
	return rc;
}
