/* store_deep.c — see store_deep.h */
#include "store_deep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../hash.h"
#include "../util.h"
#include "store_int.h"

struct dcall {
	uint32_t id_off, id_len; /* in ids */
	bool seen;
};

struct dver {
	unsigned char sha[32]; /* canonical_sha256 */
	uint32_t call;         /* index in calls */
	bool recorded;         /* the version the archive recorded */
};

struct store_deep {
	int64_t archive_id;
	struct buf ids; /* the call ids, back to back */
	struct dcall *calls;
	struct dver *vers;
	uint32_t n_calls, cap_calls, n_vers, cap_vers;
	uint32_t *by_id, *by_sha; /* open addressing: index + 1, 0 free */
	uint32_t id_mask, sha_mask;
	uint64_t seed; /* of hash_sha() */
};

static uint32_t hash_id(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

/* The hashes come from SHA-256, so their bits are spread; mixed with a
 * random seed all the same, lest calls made to share some of them (a
 * few million tries for each) crowd one slot's neighbourhood. */
static uint32_t hash_sha(const struct store_deep *d, const unsigned char *sha)
{
	uint64_t w;
	memcpy(&w, sha, sizeof(w));
	return (uint32_t)(((w ^ d->seed) * 0x9E3779B97F4A7C15ull) >> 32);
}

static const char *id_of(const struct store_deep *d, uint32_t i)
{
	return d->ids.data + d->calls[i].id_off;
}

/* Index tables twice the entries' count, rounded up to a power of 2. */
static uint32_t *table(uint32_t n, uint32_t *mask)
{
	uint32_t cap = 16;
	while (cap < 2 * (uint64_t)n)
		cap *= 2;
	*mask = cap - 1;
	return xcalloc(cap, sizeof(uint32_t));
}

static void index_all(struct store_deep *d)
{
	d->by_id = table(d->n_calls, &d->id_mask);
	for (uint32_t i = 0; i < d->n_calls; i++) {
		uint32_t j = hash_id(id_of(d, i), d->calls[i].id_len) &
			     d->id_mask;
		while (d->by_id[j])
			j = (j + 1) & d->id_mask;
		d->by_id[j] = i + 1;
	}
	d->by_sha = table(d->n_vers, &d->sha_mask);
	for (uint32_t i = 0; i < d->n_vers; i++) {
		uint32_t j = hash_sha(d, d->vers[i].sha) & d->sha_mask;
		while (d->by_sha[j])
			j = (j + 1) & d->sha_mask;
		d->by_sha[j] = i + 1;
	}
}

static struct dcall *find_call(const struct store_deep *d, const char *id)
{
	size_t n = strlen(id);
	for (uint32_t j = hash_id(id, n) & d->id_mask; d->by_id[j];
		j = (j + 1) & d->id_mask) {
		struct dcall *c = &d->calls[d->by_id[j] - 1];
		if (c->id_len == n && !memcmp(d->ids.data + c->id_off, id, n))
			return c;
	}
	return NULL;
}

static enum cv_err too_many(char **errmsg)
{
	return cv_error(errmsg, CV_ETOOBIG,
		"deep: the archive records more "
		"versions than can be held");
}

static enum cv_err add_call(struct store_deep *d, const char *id, size_t n,
	char **errmsg)
{
	if (d->n_calls == UINT32_MAX - 1 || d->ids.len + n + 1 > UINT32_MAX)
		return too_many(errmsg);
	if (d->n_calls == d->cap_calls) {
		d->cap_calls = d->cap_calls ? d->cap_calls * 2 : 1024;
		d->calls = xrealloc(d->calls, d->cap_calls * sizeof(*d->calls));
	}
	d->calls[d->n_calls++] = (struct dcall){ (uint32_t)d->ids.len,
		(uint32_t)n, false };
	buf_append(&d->ids, id, n);
	buf_putc(&d->ids, '\0');
	return CV_OK;
}

static enum cv_err add_version(struct store_deep *d, const char *sha,
	bool recorded, char **errmsg)
{
	struct dver v = { .call = d->n_calls - 1, .recorded = recorded };
	/* a hash the store holds in another form matches no line: such a
	 * line is asked about, and the answer says why */
	if (!sha || strlen(sha) != 64 || !cv_unhex(sha, 32, v.sha, true))
		return CV_OK;
	if (d->n_vers == UINT32_MAX - 1)
		return too_many(errmsg);
	if (d->n_vers == d->cap_vers) {
		d->cap_vers = d->cap_vers ? d->cap_vers * 2 : 1024;
		d->vers = xrealloc(d->vers, d->cap_vers * sizeof(*d->vers));
	}
	d->vers[d->n_vers++] = v;
	return CV_OK;
}

/* One walk of the archive's calls in call id order (so that each call's
 * rows come together), each with every version up to the recorded one,
 * in the indexes alone; a call whose versions were purged has one row
 * of NULLs. */
static const char walk_sql[] =
	"SELECT ac.call_id, v.id = ac.version_id, v.canonical_sha256"
	" FROM archive_calls ac INDEXED BY archive_calls_archive"
	" LEFT JOIN versions v INDEXED BY versions_call_sha"
	"  ON v.call_id = ac.call_id AND v.id <= ac.version_id"
	" WHERE ac.archive_id = ? ORDER BY ac.call_id";

static enum cv_err walk(struct store *s, int64_t archive_id,
	struct store_deep **out, char **errmsg);

enum cv_err store_deep_begin(struct store *s, int64_t archive_id,
	struct store_deep **out, char **errmsg)
{
	static const char get_cache[] = "PRAGMA cache_size";
	*out = NULL;
	/* the walk reads each index page once: a small page cache meanwhile
	 * keeps verify's peak RSS down (its bound is 64 MiB) */
	int64_t cache = 0;
	enum cv_err rc = store_scalar_int(s, get_cache, &cache, errmsg);
	if (rc == CV_OK)
		rc = store_exec(s, "PRAGMA cache_size = -2000", errmsg);
	if (rc == CV_OK)
		rc = walk(s, archive_id, out, errmsg);
	/* (should this fail, the cache stays small: slower, not wrong) */
	char set[64];
	snprintf(set, sizeof(set), "PRAGMA cache_size = %lld",
		(long long)cache);
	if (cache)
		store_exec(s, set, NULL);
	return rc;
}

static enum cv_err walk(struct store *s, int64_t archive_id,
	struct store_deep **out, char **errmsg)
{
	sqlite3_stmt *st = store_stmt(s, walk_sql, errmsg);
	if (!st)
		return CV_EDB;
	struct store_deep *d = xcalloc(1, sizeof(*d));
	d->archive_id = archive_id;
	if (getrandom(&d->seed, sizeof(d->seed), 0) != sizeof(d->seed))
		d->seed = (uint64_t)(uintptr_t)d ^ (uint64_t)cv_now_ms();
	buf_init(&d->ids);
	sqlite3_bind_int64(st, 1, archive_id);
	enum cv_err rc = CV_OK;
	int r = SQLITE_DONE;
	while (rc == CV_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if (!d->n_calls || d->calls[d->n_calls - 1].id_len != n ||
			memcmp(id_of(d, d->n_calls - 1), id, n))
			rc = add_call(d, id, n, errmsg);
		if (rc == CV_OK && sqlite3_column_type(st, 2) != SQLITE_NULL)
			rc = add_version(d,
				(const char *)sqlite3_column_text(st, 2),
				sqlite3_column_int(st, 1), errmsg);
	}
	if (rc == CV_OK && r != SQLITE_DONE)
		rc = store_dberr(s, errmsg, "deep");
	sqlite3_reset(st);
	if (rc != CV_OK) {
		store_deep_free(d);
		return rc;
	}
	index_all(d);
	*out = d;
	return CV_OK;
}

void store_deep_free(struct store_deep *d)
{
	if (!d)
		return;
	buf_finish(&d->ids);
	free(d->calls);
	free(d->vers);
	free(d->by_id);
	free(d->by_sha);
	free(d);
}

static void mark_seen(struct dcall *c, enum store_deep_state *st)
{
	if (c->seen)
		*st = DEEP_DUPLICATE;
	c->seen = true;
}

bool store_deep_call_fast(struct store_deep *d, const unsigned char sha[32],
	enum store_deep_state *st)
{
	for (uint32_t j = hash_sha(d, sha) & d->sha_mask; d->by_sha[j];
		j = (j + 1) & d->sha_mask) {
		const struct dver *v = &d->vers[d->by_sha[j] - 1];
		if (v->recorded && !memcmp(v->sha, sha, 32)) {
			*st = DEEP_MATCH;
			mark_seen(&d->calls[v->call], st);
			return true;
		}
	}
	return false;
}

bool store_deep_version_fast(const struct store_deep *d, const char *call_id,
	const unsigned char sha[32])
{
	for (uint32_t j = hash_sha(d, sha) & d->sha_mask; d->by_sha[j];
		j = (j + 1) & d->sha_mask) {
		const struct dver *v = &d->vers[d->by_sha[j] - 1];
		if (!memcmp(v->sha, sha, 32) &&
			!strcmp(id_of(d, v->call), call_id))
			return true;
	}
	return false;
}

/* One row, three ints: recorded here, a version matches, the call's
 * versions remain. ASK_SQL(match) is such a query, match the EXISTS
 * of the middle column (?1 the archive, ?2 the call, ?3 the hash). */
#define ASK_SQL(match)                                                         \
	"SELECT EXISTS (SELECT 1 FROM archive_calls"                           \
	"   WHERE archive_id = ?1 AND call_id = ?2),"                          \
	" EXISTS (" match "),"                                                 \
	" EXISTS (SELECT 1 FROM versions WHERE call_id = ?2)"
static enum cv_err ask(struct store *s, const char *sql, int64_t archive_id,
	const char *call_id, const char *sha, enum store_deep_state *out,
	char **errmsg)
{
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, archive_id);
	sqlite3_bind_text(st, 2, call_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sha, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		if (!sqlite3_column_int(st, 0))
			*out = DEEP_NOT_RECORDED;
		else if (sqlite3_column_int(st, 1))
			*out = DEEP_MATCH;
		else
			*out = sqlite3_column_int(st, 2) ? DEEP_OTHER
							 : DEEP_GONE;
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "deep");
}

enum cv_err store_deep_call(struct store *s, struct store_deep *d,
	const char *call_id, const char *sha, enum store_deep_state *st,
	char **errmsg)
{
	static const char sql[] = ASK_SQL(
		"SELECT 1 FROM archive_calls ac JOIN versions v"
		"   ON v.id = ac.version_id WHERE ac.archive_id = ?1"
		"   AND ac.call_id = ?2 AND v.canonical_sha256 = ?3");
	enum cv_err rc = ask(s, sql, d->archive_id, call_id, sha, st, errmsg);
	struct dcall *c = rc == CV_OK && *st != DEEP_NOT_RECORDED
				  ? find_call(d, call_id)
				  : NULL;
	if (c)
		mark_seen(c, st);
	return rc;
}

enum cv_err store_deep_version(struct store *s, const struct store_deep *d,
	const char *call_id, const char *sha, enum store_deep_state *st,
	char **errmsg)
{
	static const char sql[] = ASK_SQL(
		"SELECT 1 FROM archive_calls ac JOIN versions v"
		"   ON v.call_id = ac.call_id AND v.id <= ac.version_id"
		"   WHERE ac.archive_id = ?1 AND ac.call_id = ?2"
		"   AND v.canonical_sha256 = ?3");
	return ask(s, sql, d->archive_id, call_id, sha, st, errmsg);
}

int64_t store_deep_unseen(const struct store_deep *d)
{
	int64_t n = 0;
	for (uint32_t i = 0; i < d->n_calls; i++)
		n += !d->calls[i].seen;
	return n;
}
