/* store_audit.c — see store_audit.h */
#include "store_audit.h"

#include <stdlib.h>
#include <string.h>

#include "../hash.h"
#include "../util.h"
#include "store_int.h"

/* The canonical input of versions 1-3 (see store_audit.h). */
static void plain_input(const struct audit_entry *e, struct buf *b)
{
	/* version 2 (an OS user recorded) and version 3 (a client address
	 * recorded) start with a line no version 1 input can start with:
	 * a prev_hash is 64 hex digits */
	if (e->client)
		buf_puts(b, AUDIT_HASH_V3 "\n");
	else if (e->os_user)
		buf_puts(b, AUDIT_HASH_V2 "\n");
	buf_printf(b, "%s\n%lld\n%s\n%s\n%s\n%lld", e->prev_hash,
		(long long)e->ts, e->actor, e->command,
		e->detail ? e->detail : "{}", (long long)e->result_count);
	if (e->client) /* "=NAME" or "-": an OS user or none, unmistaken */
		buf_printf(b, "\n%s%s\n%s", e->os_user ? "=" : "-",
			e->os_user ? e->os_user : "", e->client);
	else if (e->os_user)
		buf_printf(b, "\n%s", e->os_user);
}

/* Version 4: every field, an absent OS user or client as "-", a present
 * one as "=" and its value, so that none can pass for another. */
static void keyed_input(const struct audit_entry *e, struct buf *b)
{
	buf_printf(b,
		AUDIT_HASH_V4 "\n%s\n%lld\n%s\n%s\n%s\n%lld\n%s%s\n"
			      "%s%s",
		e->prev_hash, (long long)e->ts, e->actor, e->command,
		e->detail ? e->detail : "{}", (long long)e->result_count,
		e->os_user ? "=" : "-", e->os_user ? e->os_user : "",
		e->client ? "=" : "-", e->client ? e->client : "");
}

void store_audit_hash(const struct audit_entry *e, const unsigned char *key,
	char out[CV_SHA256_HEX])
{
	struct buf b;
	buf_init(&b);
	if (e->keyed) {
		keyed_input(e, &b);
		cv_hmac_sha256_hex(key, AUDIT_KEY_LEN, b.data, b.len, out);
	} else {
		plain_input(e, &b);
		cv_sha256_hex(b.data, b.len, out);
	}
	buf_finish(&b);
}

void store_audit_set_key(struct store *s, const unsigned char *key)
{
	s->audit_key = key;
}

void store_audit_set_os_user(struct store *s, const char *os_user)
{
	s->audit_os_user = os_user;
}

const char *store_audit_set_client(struct store *s, const char *client)
{
	const char *was = s->audit_client;
	s->audit_client = client && *client ? client : NULL;
	return was;
}

enum cv_err store_audit_append(struct store *s, const char *actor,
	const char *command, const char *detail, int64_t result_count,
	char **errmsg)
{
	static const char last[] =
		"SELECT hash, ts FROM audit ORDER BY id DESC LIMIT 1";
	static const char ins[] =
		"INSERT INTO audit(ts, actor, command, detail, result_count,"
		" prev_hash, hash, os_user, client, keyed)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	bool own_tx = !s->in_tx;
	enum cv_err rc = CV_OK;
	if (own_tx && (rc = store_begin(s, errmsg)) != CV_OK)
		return rc;
	sqlite3_stmt *st = store_stmt(s, last, errmsg);
	if (!st) {
		rc = CV_EDB;
		goto out;
	}
	char prev[CV_SHA256_HEX] = AUDIT_GENESIS;
	int64_t prev_ts = 0;
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		snprintf(prev, sizeof(prev), "%s", sqlite3_column_text(st, 0));
		prev_ts = sqlite3_column_int64(st, 1);
	} else if (r != SQLITE_DONE) {
		rc = store_dberr(s, errmsg, "audit");
		goto out;
	}
	sqlite3_reset(st);
	struct audit_entry e = {
		/* time never runs backwards along the chain */
		.ts = cv_now_ms() > prev_ts ? cv_now_ms() : prev_ts,
		.actor = actor ? actor : "unknown",
		.command = command,
		.detail = detail ? detail : "{}",
		.result_count = result_count,
		.prev_hash = prev,
		.os_user = s->audit_os_user,
		.client = s->audit_client,
		/* keyed whenever this process has the key: without it the
		 * entry falls back to the plain hash (verify counts it) */
		.keyed = s->audit_key != NULL,
	};
	char hash[CV_SHA256_HEX];
	store_audit_hash(&e, s->audit_key, hash);
	if (!(st = store_stmt(s, ins, errmsg))) {
		rc = CV_EDB;
		goto out;
	}
	sqlite3_bind_int64(st, 1, e.ts);
	sqlite3_bind_text(st, 2, e.actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e.command, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e.detail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, e.result_count);
	sqlite3_bind_text(st, 6, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, hash, -1, SQLITE_STATIC);
	store_bind_text(st, 8, e.os_user);
	store_bind_text(st, 9, e.client);
	if (e.keyed)
		sqlite3_bind_int(st, 10, 1);
	else
		sqlite3_bind_null(st, 10);
	rc = store_step_done(s, st, "audit append", errmsg);
out:
	if (own_tx) {
		if (rc == CV_OK)
			rc = store_commit(s, errmsg);
		else
			store_rollback(s);
	}
	return rc;
}

static void entry_from_row(sqlite3_stmt *st, struct audit_entry *e)
{
	e->id = sqlite3_column_int64(st, 0);
	e->ts = sqlite3_column_int64(st, 1);
	e->actor = (const char *)sqlite3_column_text(st, 2);
	e->command = (const char *)sqlite3_column_text(st, 3);
	e->detail = (const char *)sqlite3_column_text(st, 4);
	e->result_count = sqlite3_column_int64(st, 5);
	e->prev_hash = (const char *)sqlite3_column_text(st, 6);
	e->hash = (const char *)sqlite3_column_text(st, 7);
	e->os_user = (const char *)sqlite3_column_text(st, 8);
	e->client = (const char *)sqlite3_column_text(st, 9);
	e->keyed = sqlite3_column_int(st, 10) != 0;
}

typedef int (*entry_fn)(const struct audit_entry *e, void *arg);

static int entry_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct audit_entry e;
	entry_from_row(st, &e);
	return ((entry_fn)fn)(&e, arg);
}

enum cv_err store_audit_each(struct store *s, const struct audit_filter *f,
	int (*fn)(const struct audit_entry *e, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] =
		"SELECT id, ts, actor, command, detail, result_count,"
		" prev_hash, hash, os_user, client, keyed FROM audit"
		" WHERE (?1 = 0 OR ts >= ?1) AND (?2 = 0 OR ts <= ?2)"
		"  AND (?3 IS NULL OR actor = ?3)"
		"  AND (?4 IS NULL OR os_user = ?4)"
		"  AND (?5 IS NULL OR command = ?5)"
		"  AND (?6 IS NULL OR client = ?6)"
		"  AND (?7 IS NULL OR CASE WHEN json_valid(detail) THEN ("
		"   json_extract(detail, '$.location') = ?7"
		"   OR json_extract(detail, '$.locationId') = ?7"
		"   OR json_extract(detail, '$.filters.location') = ?7"
		"   OR json_extract(detail, '$.criteria.location') = ?7"
		"   OR EXISTS (SELECT 1 FROM calls c WHERE c.location_id = ?7"
		"    AND c.id IN (SELECT json_extract(audit.detail, '$.id')"
		"     UNION ALL SELECT value FROM json_each(audit.detail,"
		"      '$.ids')"
		"     UNION ALL SELECT value FROM json_each(audit.detail,"
		"      '$.callIds')"
		"     UNION ALL SELECT value FROM json_each(audit.detail,"
		"      '$.criteria.calls')))"
		"  ) ELSE 0 END) ORDER BY id";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, f ? f->from_ms : 0);
	sqlite3_bind_int64(st, 2, f ? f->to_ms : 0);
	store_bind_text(st, 3, f ? f->actor : NULL);
	store_bind_text(st, 4, f ? f->os_user : NULL);
	store_bind_text(st, 5, f ? f->command : NULL);
	store_bind_text(st, 6, f ? f->client : NULL);
	store_bind_text(st, 7, f ? f->location : NULL);
	return store_each(s, st, entry_row, (store_fn)fn, arg, CV_EINVAL,
		"read audit", errmsg);
}

/* Why entry e does not follow the entries before it (NULL: it does, or
 * it is keyed and there is no key to check its hash with). */
static const char *check_entry(const struct audit_entry *e, int64_t last_id,
	const char *prev, const unsigned char *key)
{
	if (e->id != last_id + 1)
		return "an entry before it is missing (ids not consecutive)";
	if (!e->prev_hash || strcmp(e->prev_hash, prev) != 0)
		return "its prev_hash does not match the entry before";
	if (e->keyed && !key)
		return NULL;
	char want[CV_SHA256_HEX];
	store_audit_hash(e, key, want);
	if (!e->hash || strlen(e->hash) != CV_SHA256_HEX - 1 ||
		!cv_memeq_ct(e->hash, want, CV_SHA256_HEX - 1))
		return "its content does not match its hash";
	return NULL;
}

/* Count e in st: keyed, unchecked, unkeyed after the first keyed. */
static void tally(struct audit_verify_stats *st, const struct audit_entry *e,
	bool have_key)
{
	st->checked++;
	if (e->keyed) {
		st->keyed++;
		if (!st->first_keyed)
			st->first_keyed = e->id;
		st->last_keyed = e->id;
		st->exposed = 0;
		if (!have_key)
			st->unchecked++;
	} else if (st->first_keyed) {
		st->unkeyed_after++;
		if (!st->first_unkeyed_after)
			st->first_unkeyed_after = e->id;
		st->exposed++;
	}
}

/* The walk of the chain by store_audit_verify_ex. */
struct verify_walk {
	struct audit_verify_stats *vs;
	const unsigned char *key;
	char prev[CV_SHA256_HEX];
	int64_t last_id;
	int64_t bad_id;
	const char *why; /* why bad_id breaks the chain */
};

static int verify_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	(void)fn;
	struct verify_walk *w = arg;
	struct audit_entry e;
	entry_from_row(st, &e);
	w->why = check_entry(&e, w->last_id, w->prev, w->key);
	if (w->why) {
		w->bad_id = e.id;
		return 1;
	}
	tally(w->vs, &e, w->key != NULL);
	snprintf(w->prev, sizeof(w->prev), "%s", e.hash);
	w->last_id = e.id;
	return 0;
}

enum cv_err store_audit_verify_ex(struct store *s,
	struct audit_verify_stats *vs, int64_t *bad_id, char **errmsg)
{
	static const char sql[] =
		"SELECT id, ts, actor, command, detail, result_count,"
		" prev_hash, hash, os_user, client, keyed FROM audit"
		" ORDER BY id";
	memset(vs, 0, sizeof(*vs));
	*bad_id = 0;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	struct verify_walk w = { .vs = vs,
		.key = s->audit_key,
		.prev = AUDIT_GENESIS };
	enum cv_err rc = store_each(s, st, verify_row, NULL, &w, CV_EINTEGRITY,
		"read audit", errmsg);
	if (rc == CV_EINTEGRITY && w.why) {
		*bad_id = w.bad_id;
		rc = cv_error(errmsg, CV_EINTEGRITY, "audit entry %lld: %s",
			(long long)w.bad_id, w.why);
	}
	return rc;
}

enum cv_err store_audit_verify(struct store *s, int64_t *checked,
	int64_t *bad_id, char **errmsg)
{
	struct audit_verify_stats vs;
	enum cv_err rc = store_audit_verify_ex(s, &vs, bad_id, errmsg);
	if (checked)
		*checked = vs.checked;
	if (rc != CV_OK)
		return rc;
	if (vs.unkeyed_after) {
		*bad_id = vs.first_unkeyed_after;
		return cv_error(errmsg, CV_EINTEGRITY,
			"audit entry %lld: "
			"%lld entr%s unkeyed after the first keyed one (#%lld)",
			(long long)vs.first_unkeyed_after,
			(long long)vs.unkeyed_after,
			vs.unkeyed_after == 1 ? "y is" : "ies are",
			(long long)vs.first_keyed);
	}
	if (vs.unchecked)
		return cv_error(errmsg, CV_ENOTFOUND,
			"%lld keyed audit "
			"entr%s cannot be checked without the audit key",
			(long long)vs.unchecked,
			vs.unchecked == 1 ? "y" : "ies");
	return CV_OK;
}

/* One row's hash: the newest (id 0) or entry id. */
static enum cv_err hash_row(struct store *s, const char *sql, int64_t id,
	int64_t *id_out, char hash[CV_SHA256_HEX], char **errmsg)
{
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	if (id)
		sqlite3_bind_int64(st, 1, id);
	int r = sqlite3_step(st);
	enum cv_err rc = CV_OK;
	if (r == SQLITE_ROW) {
		if (id_out)
			*id_out = sqlite3_column_int64(st, 0);
		const char *h = (const char *)sqlite3_column_text(st, 1);
		snprintf(hash, CV_SHA256_HEX, "%s", h ? h : "");
	} else if (r == SQLITE_DONE) {
		rc = CV_ENOTFOUND;
	} else {
		rc = store_dberr(s, errmsg, "read audit");
	}
	sqlite3_reset(st);
	return rc;
}

enum cv_err store_audit_head(struct store *s, int64_t *id,
	char hash[CV_SHA256_HEX], char **errmsg)
{
	static const char sql[] =
		"SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1";
	enum cv_err rc = hash_row(s, sql, 0, id, hash, errmsg);
	if (rc == CV_ENOTFOUND) {
		*id = 0;
		snprintf(hash, CV_SHA256_HEX, "%s", AUDIT_GENESIS);
		rc = CV_OK;
	}
	return rc;
}

enum cv_err store_audit_hash_of(struct store *s, int64_t id,
	char hash[CV_SHA256_HEX], char **errmsg)
{
	static const char sql[] = "SELECT id, hash FROM audit WHERE id = ?";
	return hash_row(s, sql, id, NULL, hash, errmsg);
}
