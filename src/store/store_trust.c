/*
 * store_trust.c — how versions were authenticated and how far each kind
 * is trusted, which kinds may create calls per location, and the
 * tombstones purge leaves (see store.h).
 */
#include "store_int.h"
#include "store_trust.h"

#include <stdlib.h>
#include <string.h>

#include "../util.h"

static const char *const cred_names[STORE_N_CRED] = {
	[CRED_UNRECORDED] = "unrecorded",
	[CRED_IMPORT] = "import",
	[CRED_HEADER_SECRET] = "header-secret",
	[CRED_HMAC] = "hmac",
	[CRED_RSA] = "rsa-legacy",
	[CRED_ED25519] = "ed25519",
	[CRED_API] = "api",
};

/* An unrecorded webhook ranks with the signed ones: until now every
 * webhook version could replace another, and a store migrated from then
 * must not let a shared secret rewrite what may have been signed. */
static const int cred_ranks[STORE_N_CRED] = {
	[CRED_UNRECORDED] = 3,
	[CRED_IMPORT] = 0,
	[CRED_HEADER_SECRET] = 1,
	[CRED_HMAC] = 2,
	[CRED_RSA] = 3,
	[CRED_ED25519] = 3,
	[CRED_API] = 4,
};

const char *store_cred_name(enum store_cred a)
{
	return (unsigned)a < STORE_N_CRED ? cred_names[a] : "unrecorded";
}

bool store_cred_parse(const char *name, enum store_cred *out)
{
	for (int i = CRED_IMPORT; name && i < STORE_N_CRED; i++) {
		if (strcmp(name, cred_names[i]) == 0) {
			*out = (enum store_cred)i;
			return true;
		}
	}
	return false;
}

int store_cred_rank(enum store_cred a)
{
	return (unsigned)a < STORE_N_CRED ? cred_ranks[a] : 0;
}

enum store_cred store_cred_default(enum store_source src)
{
	return src == SRC_API      ? CRED_API
	       : src == SRC_IMPORT ? CRED_IMPORT
				   : CRED_UNRECORDED;
}

enum store_cred store_cred_of_row(const char *auth, const char *source)
{
	enum store_cred a;
	enum store_source src;
	if (store_cred_parse(auth, &a))
		return a;
	if (source && store_source_parse(source, &src))
		return store_cred_default(src);
	return CRED_UNRECORDED;
}

/* ---- who may create calls ---- */

char *store_trust_mask_str(unsigned mask)
{
	struct buf b;
	buf_init(&b);
	/* highest trust first, as an operator reads it */
	for (int i = STORE_N_CRED - 1; i > CRED_UNRECORDED; i--) {
		if (!(mask & (1u << i)))
			continue;
		if (b.len)
			buf_putc(&b, ',');
		buf_puts(&b, cred_names[i]);
	}
	if (!b.len)
		buf_puts(&b, "none");
	return buf_steal(&b);
}

bool store_trust_mask_parse(const char *list, unsigned *mask, char *bad,
	size_t bad_len)
{
	*mask = 0;
	if (strcmp(list, "none") == 0)
		return true;
	const char *p = list;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char word[32];
		enum store_cred a;
		bool ok = n > 0 && n < sizeof(word);
		if (ok) {
			memcpy(word, p, n);
			word[n] = '\0';
			ok = store_cred_parse(word, &a);
		}
		if (!ok) {
			snprintf(bad, bad_len, "%.*s", (int)(n < 64 ? n : 64),
				p);
			return false;
		}
		*mask |= 1u << a;
		if (!comma)
			return true;
		p = comma + 1;
	}
}

static unsigned mask_of(const char *list)
{
	unsigned m = 0;
	char bad[80];
	/* written by store_trust_set only; an unknown word allows nothing */
	if (!store_trust_mask_parse(list, &m, bad, sizeof(bad)))
		m = 0;
	return m;
}

enum cv_err store_trust_set(struct store *s, const char *location,
	unsigned mask, const char *actor, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO trust_policies(location_id, allow_create, set_at,"
		" set_by) VALUES (?, ?, ?, ?) ON CONFLICT(location_id) DO"
		" UPDATE SET allow_create = excluded.allow_create,"
		" set_at = excluded.set_at, set_by = excluded.set_by";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	char *list = store_trust_mask_str(mask);
	sqlite3_bind_text(st, 1, location ? location : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, cv_now_ms());
	sqlite3_bind_text(st, 4, actor ? actor : "", -1, SQLITE_STATIC);
	enum cv_err rc = store_step_done(s, st, "trust", errmsg);
	free(list);
	return rc;
}

enum cv_err store_trust_unset(struct store *s, const char *location,
	char **errmsg)
{
	static const char sql[] =
		"DELETE FROM trust_policies WHERE location_id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, location ? location : "", -1, SQLITE_STATIC);
	enum cv_err rc = store_step_done(s, st, "trust", errmsg);
	if (rc != CV_OK)
		return rc;
	return sqlite3_changes(s->db)
		       ? CV_OK
		       : cv_error(errmsg, CV_ENOTFOUND,
				 "no trust policy for %s",
				 location && *location ? location
						       : "the default");
}

typedef int (*trust_fn)(const struct store_trust_policy *p, void *arg);

static int trust_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_trust_policy p = {
		.location = (const char *)sqlite3_column_text(st, 0),
		.mask = mask_of((const char *)sqlite3_column_text(st, 1)),
		.set_at = sqlite3_column_int64(st, 2),
		.set_by = (const char *)sqlite3_column_text(st, 3),
	};
	return ((trust_fn)fn)(&p, arg);
}

enum cv_err store_trust_each(struct store *s,
	int (*fn)(const struct store_trust_policy *p, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] =
		"SELECT location_id, allow_create, set_at, set_by"
		" FROM trust_policies ORDER BY location_id";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	return store_each(s, st, trust_row, (store_fn)fn, arg, CV_EINVAL,
		"read trust policies", errmsg);
}

enum cv_err store_trust_new_call(struct store *s, const char *call_id,
	const char *location, enum store_cred auth, bool *dead, bool *ok,
	char **errmsg)
{
	/* one statement: this runs for every new call an import makes */
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM tombstones WHERE call_id = ?1),"
		" (SELECT allow_create FROM trust_policies"
		"  WHERE location_id IN (?2, '')"
		"  ORDER BY location_id = '' LIMIT 1)";
	*dead = false;
	*ok = true;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, location ? location : "", -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*dead = sqlite3_column_int(st, 0) != 0;
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			*ok = (mask_of((const char *)sqlite3_column_text(st,
				       1)) &
				      (1u << auth)) != 0;
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "trust");
}

enum cv_err store_trust_set_max_age(struct store *s, int64_t max_age_ms,
	const char *actor, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO trust_settings(key, value, set_at, set_by)"
		" VALUES ('webhook_max_age_ms', ?, ?, ?) ON CONFLICT(key) DO"
		" UPDATE SET value = excluded.value, set_at = excluded.set_at,"
		" set_by = excluded.set_by";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, max_age_ms);
	sqlite3_bind_int64(st, 2, cv_now_ms());
	sqlite3_bind_text(st, 3, actor ? actor : "", -1, SQLITE_STATIC);
	enum cv_err rc = store_step_done(s, st, "trust", errmsg);
	s->max_age_read_at = 0; /* read it again */
	return rc;
}

/* Read at most once a second: serve asks at every delivery, and a change
 * made by another process may take that long to apply. */
enum cv_err store_trust_max_age(struct store *s, int64_t *max_age_ms,
	char **errmsg)
{
	static const char sql[] =
		"SELECT coalesce((SELECT value FROM trust_settings"
		" WHERE key = 'webhook_max_age_ms'), 0)";
	int64_t now = cv_now_ms();
	enum cv_err rc = CV_OK;
	if (!s->max_age_read_at || now - s->max_age_read_at >= 1000 ||
		now < s->max_age_read_at) {
		rc = store_scalar_int(s, sql, &s->max_age_ms, errmsg);
		s->max_age_read_at = rc == CV_OK ? now : 0;
	}
	*max_age_ms = rc == CV_OK ? s->max_age_ms : 0;
	return rc;
}

/* ---- tombstones ---- */

enum cv_err store_tombstoned(struct store *s, const char *call_id,
	const char *message_id, bool *out, char **errmsg)
{
	static const char by_id[] =
		"SELECT 1 FROM tombstones WHERE call_id = ?";
	static const char by_msg[] =
		"SELECT 1 FROM tombstones WHERE message_id = ?";
	*out = false;
	const char *key = call_id ? call_id : message_id;
	if (!key || !*key)
		return CV_OK;
	sqlite3_stmt *st = store_stmt(s, call_id ? by_id : by_msg, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	*out = r == SQLITE_ROW;
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE
		       ? CV_OK
		       : store_dberr(s, errmsg, "tombstone");
}

enum cv_err store_get_tombstone(struct store *s, const char *call_id,
	void (*fn)(const struct store_tombstone *t, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] =
		"SELECT call_id, location_id, reason, disposed_at"
		" FROM tombstones WHERE call_id = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	enum cv_err rc = CV_OK;
	if (r == SQLITE_ROW) {
		struct store_tombstone t = {
			.call_id = (const char *)sqlite3_column_text(st, 0),
			.location_id = (const char *)sqlite3_column_text(st, 1),
			.reason = (const char *)sqlite3_column_text(st, 2),
			.disposed_at = sqlite3_column_int64(st, 3),
		};
		fn(&t, arg);
	} else if (r == SQLITE_DONE) {
		rc = cv_error(errmsg, CV_ENOTFOUND, "no tombstone for %s",
			call_id);
	} else {
		rc = store_dberr(s, errmsg, "tombstone");
	}
	sqlite3_reset(st);
	return rc;
}

enum cv_err store_tombstone_add(struct store *s, const char *call_id,
	const char *reason, int64_t when, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO tombstones(call_id, location_id, message_id,"
		" disposed_at, reason) SELECT id, location_id, message_id, ?2,"
		" ?3 FROM calls WHERE id = ?1 ON CONFLICT(call_id) DO UPDATE"
		" SET disposed_at = excluded.disposed_at,"
		" reason = excluded.reason";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, when);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	return store_step_done(s, st, "tombstone", errmsg);
}
