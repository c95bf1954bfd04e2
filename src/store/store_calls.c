/* store_calls.c — ingest, versions, quarantine and reading calls back */
#include "store_int.h"
#include "store_terms.h"
#include "store_trust.h"

#include <stdlib.h>
#include <string.h>

#include "../util.h"

static const char *const source_names[] = {
	[SRC_API] = "api",
	[SRC_WEBHOOK] = "webhook",
	[SRC_IMPORT] = "import",
	[SRC_RESTORE] = "restore",
};

const char *store_source_name(enum store_source src)
{
	return source_names[src];
}

bool store_source_parse(const char *name, enum store_source *out)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(source_names); i++) {
		if (strcmp(name, source_names[i]) == 0) {
			*out = (enum store_source)i;
			return true;
		}
	}
	return false;
}

void store_payload_init_hashed(struct store_payload *p, enum store_source src,
	const void *bytes, size_t len, const char *sha256_hex)
{
	memset(p, 0, sizeof(*p));
	p->source = src;
	p->auth = store_cred_default(src);
	p->bytes = bytes;
	p->len = len;
	p->received_at = cv_now_ms();
	memcpy(p->sha256, sha256_hex, sizeof(p->sha256));
}

void store_payload_init(struct store_payload *p, enum store_source src,
	const void *bytes, size_t len)
{
	char sha[CV_SHA256_HEX];
	cv_sha256_hex(bytes, len, sha);
	store_payload_init_hashed(p, src, bytes, len, sha);
}

char *store_digit_spans(const char *text)
{
	struct buf out;
	buf_init(&out);
	const char *p = text ? text : "";
	while (*p) {
		if (!(*p >= '0' && *p <= '9')) {
			p++;
			continue;
		}
		/* a span of digits joined by phone-number punctuation */
		if (out.len)
			buf_putc(&out, ' ');
		const char *q = p;
		while (*q &&
			((*q >= '0' && *q <= '9') ||
				(strchr(" ()-.+", *q) && q[1] &&
					strchr("0123456789 ()-.+", q[1])))) {
			if (*q >= '0' && *q <= '9')
				buf_putc(&out, *q);
			q++;
		}
		p = q;
	}
	return buf_steal(&out);
}

/* Split the transcript by speaker for the FTS columns bot/human/other. */
static void split_speakers(const char *transcript, struct buf cols[3])
{
	struct calllog_turn *turns;
	size_t n = calllog_turns(transcript, &turns);
	for (size_t i = 0; i < n; i++) {
		struct buf *b = &cols[turns[i].speaker == CALLLOG_BOT     ? 0
				      : turns[i].speaker == CALLLOG_HUMAN ? 1
									  : 2];
		if (b->len)
			buf_putc(b, '\n');
		buf_append(b, turns[i].text, turns[i].len);
	}
	free(turns);
}

static enum cv_err index_call(struct store *s, int64_t rid,
	const struct calllog *c, bool replace, char **errmsg)
{
	static const char del_fts[] = "DELETE FROM calls_fts WHERE rowid = ?";
	static const char del_dig[] =
		"DELETE FROM calls_digits WHERE rowid = ?";
	static const char ins_fts[] = "INSERT INTO calls_fts"
				      "(rowid, summary, bot, human, other)"
				      " VALUES (?, ?, ?, ?, ?)";
	static const char ins_dig[] =
		"INSERT INTO calls_digits(rowid, digits) VALUES (?, ?)";
	sqlite3_stmt *st;
	if (replace) {
		const char *dels[] = { del_fts, del_dig };
		for (int i = 0; i < 2; i++) {
			if (!(st = store_stmt(s, dels[i], errmsg)))
				return CV_EDB;
			sqlite3_bind_int64(st, 1, rid);
			enum cv_err rc = store_step_done(s, st, "unindex call",
				errmsg);
			if (rc != CV_OK)
				return rc;
		}
	}
	struct buf cols[3];
	for (int i = 0; i < 3; i++)
		buf_init(&cols[i]);
	split_speakers(c->transcript, cols);
	enum cv_err rc = CV_OK;
	if (!(st = store_stmt(s, ins_fts, errmsg))) {
		rc = CV_EDB;
		goto out;
	}
	sqlite3_bind_int64(st, 1, rid);
	store_bind_text(st, 2, c->summary);
	for (int i = 0; i < 3; i++)
		store_bind_text(st, 3 + i, cols[i].len ? cols[i].data : NULL);
	/* the term list is fed from FTS5's own tokenizing of this insert */
	if ((rc = store_terms_capture_begin(s, errmsg)) != CV_OK)
		goto out;
	bool indexed = sqlite3_step(st) == SQLITE_DONE;
	if (!indexed)
		rc = store_dberr(s, errmsg, "index call");
	enum cv_err trc = store_terms_capture_end(s, indexed,
		rc == CV_OK ? errmsg : NULL);
	if (rc == CV_OK)
		rc = trc;
	if (rc != CV_OK)
		goto out;
	struct buf all;
	buf_init(&all);
	buf_printf(&all, "%s\n%s\n%s", c->from_number ? c->from_number : "",
		c->summary ? c->summary : "",
		c->transcript ? c->transcript : "");
	char *digits = store_digit_spans(all.data);
	buf_finish(&all);
	if (!(st = store_stmt(s, ins_dig, errmsg))) {
		rc = CV_EDB;
	} else {
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_text(st, 2, digits, -1, SQLITE_STATIC);
		rc = store_step_done(s, st, "index digits", errmsg);
	}
	free(digits);
out:
	for (int i = 0; i < 3; i++)
		buf_finish(&cols[i]);
	return rc;
}

static enum cv_err keep_payload(struct store *s, struct store_payload *p,
	char **errmsg)
{
	static const char sql[] =
		"INSERT INTO raw_payloads(sha256, source, received_at, size,"
		" bytes, withheld) VALUES (?, ?, ?, ?, ?, ?)"
		" ON CONFLICT(sha256) DO NOTHING";
	if (p->stored)
		return CV_OK;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, p->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, store_source_name(p->source), -1,
		SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, p->received_at);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)p->len);
	if (p->withhold) {
		sqlite3_bind_null(st, 5);
		sqlite3_bind_text(st, 6, "contained secrets (scrubbed)", -1,
			SQLITE_STATIC);
	} else {
		sqlite3_bind_blob64(st, 5, p->bytes, p->len, SQLITE_STATIC);
		sqlite3_bind_null(st, 6);
	}
	enum cv_err rc = store_step_done(s, st, "store payload", errmsg);
	if (rc == CV_OK)
		p->stored = true;
	return rc;
}

/* A new version of c, seq; not_current says why it is not the call's
 * current one (NULL when it is). */
static enum cv_err add_version(struct store *s, const struct calllog *c,
	struct store_payload *p, int seq, const char *not_current, int64_t *vid,
	char **errmsg)
{
	static const char sql[] =
		"INSERT INTO versions(call_id, seq, source, received_at,"
		" canonical, canonical_sha256, raw_sha256, redacted, auth,"
		" not_current, notes)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, seq);
	sqlite3_bind_text(st, 3, store_source_name(p->source), -1,
		SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, p->received_at);
	sqlite3_bind_text(st, 5, c->canonical, (int)c->canonical_len,
		SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->canonical_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, p->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, c->n_redacted);
	store_bind_text(st, 9,
		p->auth == CRED_UNRECORDED ? NULL : store_cred_name(p->auth));
	store_bind_text(st, 10, not_current);
	sqlite3_bind_text(st, 11, c->notes, -1, SQLITE_STATIC);
	enum cv_err rc = store_step_done(s, st, "store version", errmsg);
	if (rc == CV_OK)
		*vid = sqlite3_last_insert_rowid(s->db);
	return rc;
}

/* Bind the normalised fields shared by INSERT and UPDATE (params 1..17). */
static void bind_fields(sqlite3_stmt *st, const struct calllog *c, int64_t vid,
	const char *e164)
{
	store_bind_text(st, 1, c->location_id);
	store_bind_text(st, 2, c->agent_id);
	store_bind_text(st, 3, c->contact_id);
	store_bind_text(st, 4, c->from_number);
	store_bind_text(st, 5, e164);
	store_bind_text(st, 6, c->message_id);
	sqlite3_bind_int64(st, 7, c->created_at);
	if (c->has_duration)
		sqlite3_bind_double(st, 8, c->duration);
	store_bind_tri(st, 9, c->trial_call);
	store_bind_tri(st, 10, c->agent_deleted);
	sqlite3_bind_int(st, 11, c->transferred);
	sqlite3_bind_int(st, 12, c->appointment_booked);
	store_bind_text(st, 13, c->action_types);
	store_bind_text(st, 14, c->summary);
	store_bind_text(st, 15, c->transcript);
	sqlite3_bind_int64(st, 16, vid);
	sqlite3_bind_text(st, 17, c->canonical_sha256, -1, SQLITE_STATIC);
}

/* What the store holds of a call id before a delivery. */
struct known {
	int64_t rid; /* 0 = no such call */
	int nver;
	bool same;           /* the delivery equals the current version */
	enum store_cred cur; /* how the current version came */
};

static enum cv_err find_call(struct store *s, const struct calllog *c,
	struct known *k, char **errmsg)
{
	static const char find[] =
		"SELECT c.rid, c.canonical_sha256, c.n_versions, v.auth,"
		" coalesce(v.origin, v.source) FROM calls c"
		" JOIN versions v ON v.id = c.version_id WHERE c.id = ?";
	memset(k, 0, sizeof(*k));
	sqlite3_stmt *st = store_stmt(s, find, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		k->rid = sqlite3_column_int64(st, 0);
		k->same = strcmp((const char *)sqlite3_column_text(st, 1),
				  c->canonical_sha256) == 0;
		k->nver = sqlite3_column_int(st, 2);
		k->cur = store_cred_of_row((const char *)sqlite3_column_text(st,
						   3),
			(const char *)sqlite3_column_text(st, 4));
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE
		       ? CV_OK
		       : store_dberr(s, errmsg, "find call");
}

/* A new call id: dropped when disposed of, refused when its location's
 * policy does not let this kind create calls. */
static enum cv_err may_create(struct store *s, const struct calllog *c,
	const struct store_payload *p, enum store_ingest_result *res,
	char **errmsg)
{
	bool dead = false, ok = true;
	enum cv_err rc = store_trust_new_call(s, c->id, c->location_id, p->auth,
		&dead, &ok, errmsg);
	if (rc == CV_OK && dead)
		*res = INGEST_DISPOSED;
	/* a restore brings back what was created under the policy of then
	 * (replay: set by restore alone, not by `import --source restore`) */
	else if (rc == CV_OK && !ok && !p->replay)
		*res = INGEST_REFUSED;
	return rc;
}

/* Whether the call has a version with c's content already. */
static enum cv_err has_content(struct store *s, const struct calllog *c,
	bool *out, char **errmsg)
{
	static const char sql[] = "SELECT 1 FROM versions WHERE call_id = ?"
				  " AND canonical_sha256 = ?";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->canonical_sha256, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	*out = r == SQLITE_ROW;
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE
		       ? CV_OK
		       : store_dberr(s, errmsg, "find version");
}

static enum cv_err run_rid(struct store *s, const char *sql, int64_t rid,
	int64_t t, const char *what, char **errmsg)
{
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_int64(st, 1, t);
	sqlite3_bind_int64(st, 2, rid);
	return store_step_done(s, st, what, errmsg);
}

/* Keep a delivery of lower trust than the current version as a version
 * that is not current (once per content). */
static enum cv_err keep_outranked(struct store *s, const struct calllog *c,
	struct store_payload *p, const struct known *k,
	enum store_ingest_result *res, char **errmsg)
{
	static const char bump[] =
		"UPDATE calls SET n_versions = n_versions + 1,"
		" last_seen = max(last_seen, ?1) WHERE rid = ?2";
	bool dup = false;
	enum cv_err rc = p->replay ? CV_OK : has_content(s, c, &dup, errmsg);
	if (rc != CV_OK)
		return rc;
	*res = INGEST_UNCHANGED;
	if (dup)
		return CV_OK;
	char why[96];
	snprintf(why, sizeof(why),
		"lower trust than current version from "
		"%s",
		store_cred_name(k->cur));
	int64_t vid;
	if (c->n_redacted > 0)
		p->withhold = true;
	if ((rc = keep_payload(s, p, errmsg)) == CV_OK &&
		(rc = add_version(s, c, p, k->nver + 1, why, &vid, errmsg)) ==
			CV_OK &&
		(rc = run_rid(s, bump, k->rid, p->received_at, "keep version",
			 errmsg)) == CV_OK)
		*res = INGEST_KEPT;
	return rc;
}

enum cv_err store_ingest_call(struct store *s, const struct calllog *c,
	struct store_payload *p, enum store_ingest_result *res, char **errmsg)
{
	static const char touch[] =
		"UPDATE calls SET last_seen = max(last_seen, ?1) WHERE rid = ?2";
	static const char ins[] =
		"INSERT INTO calls(location_id, agent_id, contact_id,"
		" from_number, from_e164, message_id, created_at, duration,"
		" trial_call, agent_deleted, transferred, appointment_booked,"
		" action_types, summary, transcript, version_id,"
		" canonical_sha256, id, n_versions, first_seen, last_seen,"
		" updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
		" ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, 1, ?19, ?19, ?19)";
	static const char upd[] =
		"UPDATE calls SET location_id = ?1, agent_id = ?2,"
		" contact_id = ?3, from_number = ?4, from_e164 = ?5,"
		" message_id = ?6, created_at = ?7, duration = ?8,"
		" trial_call = ?9, agent_deleted = ?10, transferred = ?11,"
		" appointment_booked = ?12, action_types = ?13, summary = ?14,"
		" transcript = ?15, version_id = ?16, canonical_sha256 = ?17,"
		" n_versions = n_versions + 1,"
		" last_seen = max(last_seen, ?19), updated_at = ?19"
		" WHERE rid = ?18";
	if (p->received_at == 0)
		p->received_at = cv_now_ms();
	struct known k;
	enum cv_err rc = find_call(s, c, &k, errmsg);
	if (rc != CV_OK)
		return rc;
	*res = INGEST_NEW;
	if (!k.rid && ((rc = may_create(s, c, p, res, errmsg)) != CV_OK ||
			      *res != INGEST_NEW))
		return rc;
	if (k.same && !p->replay) {
		*res = INGEST_UNCHANGED;
		return run_rid(s, touch, k.rid, p->received_at, "touch call",
			errmsg);
	}
	if (k.rid && store_cred_rank(p->auth) < store_cred_rank(k.cur))
		return keep_outranked(s, c, p, &k, res, errmsg);
	if (c->n_redacted > 0)
		p->withhold = true;
	int64_t vid = 0;
	rc = keep_payload(s, p, errmsg);
	if (rc == CV_OK)
		rc = add_version(s, c, p, k.nver + 1, NULL, &vid, errmsg);
	if (rc != CV_OK)
		return rc;
	char e164[20];
	bool has_e164 = calllog_e164(c->from_number, e164);
	int64_t rid = k.rid;
	sqlite3_stmt *st = store_stmt(s, rid ? upd : ins, errmsg);
	if (!st)
		return CV_EDB;
	bind_fields(st, c, vid, has_e164 ? e164 : NULL);
	if (rid)
		sqlite3_bind_int64(st, 18, rid);
	else
		sqlite3_bind_text(st, 18, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 19, p->received_at);
	if ((rc = store_step_done(s, st, "store call", errmsg)) != CV_OK)
		return rc;
	bool replace = rid != 0;
	if (!rid)
		rid = sqlite3_last_insert_rowid(s->db);
	rc = index_call(s, rid, c, replace, errmsg);
	if (rc == CV_OK)
		*res = replace ? INGEST_UPDATED : INGEST_NEW;
	return rc;
}

enum cv_err store_quarantine(struct store *s, enum store_source src,
	const void *raw, size_t len, const char *reason, char **errmsg)
{
	return store_quarantine_row(s, src, raw, len, reason, NULL, errmsg);
}

enum cv_err store_quarantine_row(struct store *s, enum store_source src,
	const void *raw, size_t len, const char *reason, bool *added,
	char **errmsg)
{
	static const char sql[] =
		"INSERT INTO quarantine(source, received_at, reason, size,"
		" raw_sha256, raw) VALUES (?, ?, ?, ?, ?, ?)"
		" ON CONFLICT(raw_sha256, reason) DO NOTHING";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	char sha[CV_SHA256_HEX];
	cv_sha256_hex(raw, len, sha);
	sqlite3_bind_text(st, 1, store_source_name(src), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, cv_now_ms());
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)len);
	sqlite3_bind_text(st, 5, sha, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 6, raw ? raw : "", len, SQLITE_STATIC);
	enum cv_err rc = store_step_done(s, st, "quarantine", errmsg);
	if (added)
		*added = rc == CV_OK && sqlite3_changes(s->db) > 0;
	return rc;
}

void store_call_finish(struct store_call *c)
{
	if (!c)
		return;
	calllog_finish(&c->log);
	free(c->agent_name);
	memset(c, 0, sizeof(*c));
}

enum cv_err store_get_call(struct store *s, const char *id,
	struct store_call *out, char **errmsg)
{
	static const char sql[] =
		"SELECT c.rid, v.canonical, c.version_id, c.n_versions,"
		" c.first_seen, c.last_seen, c.updated_at," STORE_AGENT_NAME_SQL
		" FROM calls c JOIN versions v ON v.id = c.version_id"
		" WHERE c.id = ?";
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		sqlite3_reset(st);
		return cv_error(errmsg, CV_ENOTFOUND, "no call with id %s", id);
	}
	if (r != SQLITE_ROW)
		return store_dberr(s, errmsg, "read call");
	out->rid = sqlite3_column_int64(st, 0);
	enum cv_err rc =
		calllog_from_canonical((const char *)sqlite3_column_text(st, 1),
			(size_t)sqlite3_column_bytes(st, 1), &out->log, errmsg);
	out->version_id = sqlite3_column_int64(st, 2);
	out->n_versions = sqlite3_column_int(st, 3);
	out->first_seen = sqlite3_column_int64(st, 4);
	out->last_seen = sqlite3_column_int64(st, 5);
	out->updated_at = sqlite3_column_int64(st, 6);
	out->agent_name = store_col_dup(st, 7);
	sqlite3_reset(st);
	if (rc != CV_OK)
		store_call_finish(out);
	return rc;
}

typedef int (*version_fn)(const struct store_version *v, void *arg);

/* The optional columns after the first eight: whether the raw payload is
 * kept, auth, not_current, whether current. */
static int version_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	int ncol = sqlite3_column_count(st);
	struct store_version v = {
		.id = sqlite3_column_int64(st, 0),
		.seq = sqlite3_column_int(st, 1),
		.received_at = sqlite3_column_int64(st, 3),
		.canonical = (const char *)sqlite3_column_text(st, 4),
		.canonical_sha256 = (const char *)sqlite3_column_text(st, 5),
		.raw_sha256 = (const char *)sqlite3_column_text(st, 6),
		.redacted = sqlite3_column_int(st, 7),
		.raw_kept = ncol > 8 && sqlite3_column_int(st, 8) != 0,
	};
	if (!store_source_parse((const char *)sqlite3_column_text(st, 2),
		    &v.source))
		v.source = SRC_IMPORT;
	v.auth = store_cred_of_row(ncol > 9 ? (const char *)
						      sqlite3_column_text(st, 9)
					    : NULL,
		(const char *)sqlite3_column_text(st, 2));
	if (ncol > 10)
		v.not_current = (const char *)sqlite3_column_text(st, 10);
	v.current = ncol > 11 && sqlite3_column_int(st, 11) != 0;
	return ((version_fn)fn)(&v, arg);
}

enum cv_err store_walk_versions(struct store *s, const char *sql,
	const char *call_id,
	int (*fn)(const struct store_version *v, void *arg), void *arg,
	char **errmsg)
{
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, call_id, -1, SQLITE_STATIC);
	return store_each(s, st, version_row, (store_fn)fn, arg, CV_EINVAL,
		"read versions", errmsg);
}

enum cv_err store_each_version(struct store *s, const char *call_id,
	int (*fn)(const struct store_version *v, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] =
		"SELECT v.id, v.seq, v.source, v.received_at, v.canonical,"
		" v.canonical_sha256, v.raw_sha256, v.redacted,"
		" p.bytes IS NOT NULL, v.auth, v.not_current,"
		" v.id = (SELECT c.version_id FROM calls c"
		"  WHERE c.id = v.call_id)"
		" FROM versions v LEFT JOIN raw_payloads p"
		"  ON p.sha256 = v.raw_sha256"
		" WHERE v.call_id = ? ORDER BY v.seq";
	return store_walk_versions(s, sql, call_id, fn, arg, errmsg);
}

static int64_t count_of(struct store *s, const char *sql)
{
	int64_t n;
	return store_scalar_int(s, sql, &n, NULL) == CV_OK ? n : -1;
}

static void count_row(sqlite3_stmt *st, void *elem)
{
	struct store_count_row *r = elem;
	const unsigned char *k = sqlite3_column_text(st, 0);
	snprintf(r->key, sizeof(r->key), "%s", k ? (const char *)k : "(none)");
	r->calls = sqlite3_column_int64(st, 1);
}

static enum cv_err count_rows(struct store *s, const char *sql,
	struct store_count_row **rows, size_t *n, char **errmsg)
{
	void *v;
	enum cv_err rc = store_list(s, sql, sizeof(**rows), count_row, NULL, &v,
		n, "stats", errmsg);
	*rows = v;
	return rc;
}

enum cv_err store_stats(struct store *s, struct store_stats *out, char **errmsg)
{
	static const char q_calls[] = "SELECT count(*) FROM calls";
	static const char q_versions[] = "SELECT count(*) FROM versions";
	static const char q_quar[] = "SELECT count(*) FROM quarantine";
	static const char q_pay[] = "SELECT count(*) FROM raw_payloads";
	static const char q_events[] = "SELECT count(*) FROM webhook_events";
	static const char q_first[] =
		"SELECT coalesce(min(created_at), 0) FROM calls";
	static const char q_last[] =
		"SELECT coalesce(max(created_at), 0) FROM calls";
	static const char q_loc[] =
		"SELECT location_id, count(*) FROM calls"
		" GROUP BY location_id ORDER BY location_id";
	static const char q_month[] =
		"SELECT strftime('%Y-%m', created_at / 1000, 'unixepoch'),"
		" count(*) FROM calls GROUP BY 1 ORDER BY 1";
	memset(out, 0, sizeof(*out));
	out->calls = count_of(s, q_calls);
	out->versions = count_of(s, q_versions);
	out->quarantined = count_of(s, q_quar);
	out->payloads = count_of(s, q_pay);
	out->events = count_of(s, q_events);
	out->first_created = count_of(s, q_first);
	out->last_created = count_of(s, q_last);
	if (out->calls < 0 || out->versions < 0 || out->quarantined < 0)
		return store_dberr(s, errmsg, "stats");
	enum cv_err rc = count_rows(s, q_loc, &out->locations,
		&out->n_locations, errmsg);
	if (rc == CV_OK)
		rc = count_rows(s, q_month, &out->months, &out->n_months,
			errmsg);
	return rc;
}

void store_stats_finish(struct store_stats *st)
{
	free(st->locations);
	free(st->months);
	memset(st, 0, sizeof(*st));
}

typedef int (*quarantine_fn)(const struct store_quarantine_row *q, void *arg);

static int quarantine_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	struct store_quarantine_row q = {
		.id = sqlite3_column_int64(st, 0),
		.received_at = sqlite3_column_int64(st, 2),
		.reason = (const char *)sqlite3_column_text(st, 3),
		.size = (size_t)sqlite3_column_int64(st, 4),
	};
	if (!store_source_parse((const char *)sqlite3_column_text(st, 1),
		    &q.source))
		q.source = SRC_IMPORT;
	return ((quarantine_fn)fn)(&q, arg);
}

enum cv_err store_each_quarantine(struct store *s,
	int (*fn)(const struct store_quarantine_row *q, void *arg), void *arg,
	char **errmsg)
{
	static const char sql[] =
		"SELECT id, source, received_at, reason, size FROM quarantine"
		" ORDER BY id";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	return store_each(s, st, quarantine_row, (store_fn)fn, arg, CV_EINVAL,
		"read quarantine", errmsg);
}
