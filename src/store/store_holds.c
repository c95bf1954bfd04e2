/* store_holds.c — see store_holds.h */
#include "store_holds.h"

#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "store_audit.h"
#include "store_int.h"

/* JSON string literal of s (ids, names, reasons) appended to b. */
static void json_str(struct buf *b, const char *s)
{
	if (!s) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			buf_printf(b, "\\u%04x", *p);
		else
			buf_putc(b, (char)*p);
	}
	buf_putc(b, '"');
}

static char *hold_detail(const struct store_hold *h, int64_t id)
{
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "{\"hold\":%lld,\"matter\":", (long long)id);
	json_str(&b, h->matter);
	buf_puts(&b, ",\"reason\":");
	json_str(&b, h->reason);
	buf_puts(&b, ",\"criteria\":{\"calls\":[");
	for (size_t i = 0; i < h->n_calls; i++) {
		if (i)
			buf_putc(&b, ',');
		json_str(&b, h->call_ids[i]);
	}
	buf_puts(&b, "],\"contact\":");
	json_str(&b, h->contact_id);
	buf_puts(&b, ",\"number\":");
	json_str(&b, h->from_e164);
	buf_puts(&b, ",\"agent\":");
	json_str(&b, h->agent_id);
	buf_puts(&b, ",\"location\":");
	json_str(&b, h->location_id);
	buf_puts(&b, ",\"from\":");
	if (h->has_from)
		buf_printf(&b, "%lld", (long long)h->from_ms);
	else
		buf_puts(&b, "null");
	buf_puts(&b, ",\"to\":");
	if (h->has_to)
		buf_printf(&b, "%lld", (long long)h->to_ms);
	else
		buf_puts(&b, "null");
	buf_puts(&b, "}");
	if (h->query) {
		buf_puts(&b, ",\"query\":");
		json_str(&b, h->query);
		buf_puts(&b, ",\"filters\":");
		json_str(&b, h->query_filters ? h->query_filters : "");
	}
	if (h->chosen_by) { /* JSON text already (the console's) */
		buf_puts(&b, ",\"chosenBy\":");
		buf_puts(&b, h->chosen_by);
	}
	buf_puts(&b, "}");
	return buf_steal(&b);
}

static enum cv_err insert_hold(struct store *s, const struct store_hold *h,
	const char *actor, int64_t *id, char **errmsg)
{
	static const char ins[] =
		"INSERT INTO holds(matter, reason, contact_id, from_e164,"
		" agent_id, location_id, from_ms, to_ms, created_at,"
		" created_by, chosen_by, query, query_filters)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	static const char ins_call[] =
		"INSERT OR IGNORE INTO hold_calls(hold_id, call_id)"
		" VALUES (?, ?)";
	sqlite3_stmt *st = store_stmt(s, ins, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, h->matter);
	store_bind_text(st, 2, h->reason);
	store_bind_text(st, 3, h->contact_id);
	store_bind_text(st, 4, h->from_e164);
	store_bind_text(st, 5, h->agent_id);
	store_bind_text(st, 6, h->location_id);
	if (h->has_from)
		sqlite3_bind_int64(st, 7, h->from_ms);
	if (h->has_to)
		sqlite3_bind_int64(st, 8, h->to_ms);
	sqlite3_bind_int64(st, 9, cv_now_ms());
	sqlite3_bind_text(st, 10, actor, -1, SQLITE_STATIC);
	store_bind_text(st, 11, h->chosen_by);
	store_bind_text(st, 12, h->query);
	if (h->query)
		sqlite3_bind_text(st, 13,
			h->query_filters ? h->query_filters : "", -1,
			SQLITE_STATIC);
	enum cv_err rc = store_step_done(s, st, "add hold", errmsg);
	if (rc != CV_OK)
		return rc;
	*id = sqlite3_last_insert_rowid(s->db);
	for (size_t i = 0; rc == CV_OK && i < h->n_calls; i++) {
		if (!(st = store_stmt(s, ins_call, errmsg)))
			return CV_EDB;
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_text(st, 2, h->call_ids[i], -1, SQLITE_STATIC);
		rc = store_step_done(s, st, "add hold call", errmsg);
	}
	return rc;
}

enum cv_err store_hold_add(struct store *s, const struct store_hold *h,
	const char *actor, int64_t *id, char **errmsg)
{
	if (!h->matter || !*h->matter)
		return cv_error(errmsg, CV_EINVAL, "a hold needs a matter");
	if (!h->n_calls && !h->contact_id && !h->from_e164 && !h->agent_id &&
		!h->location_id && !h->has_from && !h->has_to && !h->query)
		return cv_error(errmsg, CV_EINVAL,
			"a hold needs at least one criterion");
	/* a query hold is its search: other criteria would be a second,
	 * different reading of the same filters */
	if (h->query &&
		(h->n_calls || h->contact_id || h->from_e164 || h->agent_id ||
			h->location_id || h->has_from || h->has_to))
		return cv_error(errmsg, CV_EINVAL,
			"a query hold takes its "
			"criteria as filters");
	enum cv_err rc = store_begin(s, errmsg);
	if (rc != CV_OK)
		return rc;
	rc = insert_hold(s, h, actor, id, errmsg);
	if (rc == CV_OK) {
		char *detail = hold_detail(h, *id);
		rc = store_audit_append(s, actor, "hold add", detail, -1,
			errmsg);
		free(detail);
	}
	if (rc == CV_OK)
		return store_commit(s, errmsg);
	store_rollback(s);
	return rc;
}

enum cv_err store_hold_matter(struct store *s, int64_t id, char **matter,
	bool *released, char **errmsg)
{
	static const char sql[] = "SELECT matter, released_at IS NOT NULL"
				  " FROM holds WHERE id = ?";
	*matter = NULL;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, id);
	int r = sqlite3_step(st);
	enum cv_err rc = CV_OK;
	if (r == SQLITE_ROW) {
		*matter = store_col_dup(st, 0);
		if (released)
			*released = sqlite3_column_int(st, 1) != 0;
	} else if (r == SQLITE_DONE) {
		rc = cv_error(errmsg, CV_ENOTFOUND, "no hold %lld",
			(long long)id);
	} else {
		rc = store_dberr(s, errmsg, "read hold");
	}
	sqlite3_reset(st);
	return rc;
}

enum cv_err store_hold_release(struct store *s, int64_t id, const char *actor,
	const char *reason, char **errmsg)
{
	static const char upd[] =
		"UPDATE holds SET released_at = ?, released_by = ?,"
		" release_reason = ? WHERE id = ? AND released_at IS NULL";
	if (!reason || !*reason)
		return cv_error(errmsg, CV_EINVAL,
			"releasing a hold needs a reason");
	enum cv_err rc = store_begin(s, errmsg);
	if (rc != CV_OK)
		return rc;
	char *matter = NULL;
	bool released = false;
	rc = store_hold_matter(s, id, &matter, &released, errmsg);
	if (rc == CV_OK && released)
		rc = cv_error(errmsg, CV_EINVAL,
			"hold %lld is already released", (long long)id);
	sqlite3_stmt *st = rc == CV_OK ? store_stmt(s, upd, errmsg) : NULL;
	if (rc == CV_OK && !st)
		rc = CV_EDB;
	if (rc != CV_OK)
		goto out;
	sqlite3_bind_int64(st, 1, cv_now_ms());
	sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, id);
	rc = store_step_done(s, st, "release hold", errmsg);
	if (rc != CV_OK)
		goto out;
	/* the entry names the matter, so a release reads on its own */
	struct buf d;
	buf_init(&d);
	buf_printf(&d, "{\"hold\":%lld,\"matter\":", (long long)id);
	json_str(&d, matter);
	buf_puts(&d, ",\"reason\":");
	json_str(&d, reason);
	buf_putc(&d, '}');
	rc = store_audit_append(s, actor, "hold release", d.data, -1, errmsg);
	buf_finish(&d);
out:
	free(matter);
	if (rc == CV_OK)
		return store_commit(s, errmsg);
	store_rollback(s);
	return rc;
}

/* The call ids a hold names, as an array of owned strings. */
static enum cv_err hold_call_ids(struct store *s, int64_t id, char ***out,
	size_t *n, char **errmsg)
{
	static const char sql[] = "SELECT call_id FROM hold_calls"
				  " WHERE hold_id = ? ORDER BY call_id";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, id);
	void *v;
	enum cv_err rc = store_collect(s, st, sizeof(**out), store_text_fill,
		store_texts_drop, &v, n, "hold calls", errmsg);
	*out = v;
	return rc;
}

static enum cv_err hold_matched(struct store *s, int64_t id, int64_t *n,
	char **errmsg)
{
	static const char sql[] =
		"SELECT count(*) FROM calls c, holds h WHERE h.id = ? AND " STORE_HOLD_MATCH_SQL;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, id);
	int r = sqlite3_step(st);
	*n = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "hold count");
}

/* Copy a hold row into owned memory, so the statement can be reused. */
struct hold_row {
	struct store_hold h;
	char *str[12];
};

static void hold_row_read(sqlite3_stmt *st, struct hold_row *hr)
{
	memset(hr, 0, sizeof(*hr));
	for (int i = 0; i < 9; i++)
		hr->str[i] = store_col_dup(st, i + 1);
	hr->str[9] = store_col_dup(st, 14);
	hr->str[10] = store_col_dup(st, 15);
	hr->str[11] = store_col_dup(st, 16);
	struct store_hold *h = &hr->h;
	h->id = sqlite3_column_int64(st, 0);
	h->matter = hr->str[0];
	h->reason = hr->str[1];
	h->contact_id = hr->str[2];
	h->from_e164 = hr->str[3];
	h->agent_id = hr->str[4];
	h->location_id = hr->str[5];
	h->created_by = hr->str[6];
	h->released_by = hr->str[7];
	h->release_reason = hr->str[8];
	h->chosen_by = hr->str[9];
	h->query = hr->str[10];
	h->query_filters = hr->str[11];
	h->has_from = sqlite3_column_type(st, 10) != SQLITE_NULL;
	h->from_ms = sqlite3_column_int64(st, 10);
	h->has_to = sqlite3_column_type(st, 11) != SQLITE_NULL;
	h->to_ms = sqlite3_column_int64(st, 11);
	h->created_at = sqlite3_column_int64(st, 12);
	h->released_at = sqlite3_column_int64(st, 13);
}

static void hold_row_finish(struct hold_row *hr)
{
	for (int i = 0; i < 12; i++)
		free(hr->str[i]);
}

static enum cv_err visit_hold(struct store *s, struct hold_row *hr,
	int (*fn)(const struct store_hold *h, int64_t matched, void *arg),
	void *arg, char **errmsg)
{
	char **ids = NULL;
	size_t n = 0;
	int64_t matched = 0;
	enum cv_err rc = hold_call_ids(s, hr->h.id, &ids, &n, errmsg);
	if (rc == CV_OK)
		rc = hold_matched(s, hr->h.id, &matched, errmsg);
	if (rc == CV_OK) {
		hr->h.call_ids = (const char *const *)ids;
		hr->h.n_calls = n;
		if (fn(&hr->h, matched, arg) != 0)
			rc = CV_EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return rc;
}

enum cv_err store_hold_each(struct store *s, bool active_only, int64_t id,
	int (*fn)(const struct store_hold *h, int64_t matched, void *arg),
	void *arg, char **errmsg)
{
	static const char sql[] =
		"SELECT id, matter, reason, contact_id, from_e164, agent_id,"
		" location_id, created_by, released_by, release_reason,"
		" from_ms, to_ms, created_at, coalesce(released_at, 0),"
		" chosen_by, query, query_filters FROM holds WHERE (?1 = 0 OR released_at IS NULL)"
		" AND (?2 = 0 OR id = ?2) AND id > ?3 ORDER BY id LIMIT 1";
	/* one row at a time: the visit runs other statements */
	int64_t after = 0;
	enum cv_err rc = CV_OK;
	bool seen = false;
	for (;;) {
		sqlite3_stmt *st = store_stmt(s, sql, errmsg);
		if (!st)
			return CV_EDB;
		sqlite3_bind_int(st, 1, active_only);
		sqlite3_bind_int64(st, 2, id);
		sqlite3_bind_int64(st, 3, after);
		int r = sqlite3_step(st);
		if (r == SQLITE_DONE) {
			sqlite3_reset(st);
			break;
		}
		if (r != SQLITE_ROW)
			return store_dberr(s, errmsg, "read holds");
		struct hold_row hr;
		hold_row_read(st, &hr);
		sqlite3_reset(st);
		after = hr.h.id;
		seen = true;
		rc = visit_hold(s, &hr, fn, arg, errmsg);
		hold_row_finish(&hr);
		if (rc != CV_OK)
			return rc;
	}
	if (id && !seen)
		return cv_error(errmsg, CV_ENOTFOUND, "no hold %lld",
			(long long)id);
	return rc;
}

enum cv_err store_hold_each_call(struct store *s, int64_t id,
	int (*fn)(const char *call_id, void *arg), void *arg, char **errmsg)
{
	static const char sql[] =
		"SELECT c.id FROM calls c, holds h WHERE h.id = ? AND " STORE_HOLD_MATCH_SQL
		" ORDER BY c.created_at, c.id";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, id);
	return store_each(s, st, store_text_row, (store_fn)fn, arg, CV_EINVAL,
		"read held calls", errmsg);
}

enum cv_err store_hold_is_held(struct store *s, const char *call_id, bool *held,
	char **errmsg)
{
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM calls c, holds h WHERE c.id = ?"
		" AND " STORE_HOLD_MATCH_SQL ")";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	*held = r == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "hold check");
}

void store_hold_criteria(struct store_hold *h, const struct search_filter *f)
{
	h->contact_id = f->contact;
	h->agent_id = f->agent;
	h->location_id = f->location;
	h->from_e164 = f->number_e164[0] ? f->number_e164 : NULL;
	h->has_from = f->has_from;
	h->from_ms = f->from_ms;
	h->has_to = f->has_to;
	h->to_ms = f->has_to ? f->to_ms + 1 : 0;
}
