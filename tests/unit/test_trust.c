/*
 * test_trust.c — issue 18: trust by source (a lower-trust credential never
 * replaces the current version, the API's copy settles; which sources may
 * create calls per location) and disposal is final (purge leaves
 * tombstones that webhooks, import, sync and restore honour; quarantine
 * is purged past retention). Deliveries go through the same paths as in
 * production: webhook_event_store and ingest_payload.
 */
#include "t.h"

#include "retention.h"
#include "rt_fixture.h"
#include "store/store_audit.h"
#include "old_store.h"
#include "store/store_retention.h"
#include "store/store_webhook.h"
#include "webhook_event.h"

static char *dir;

static struct store *open_new(const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct store *s = NULL;
	char *err = NULL;
	CHECK_MSG(store_open(&s, path, 0, &err) == CV_OK, "%s", err);
	free(err);
	free(path);
	return s;
}

/* A VoiceAiCallEnd body (the webhook shape). */
static char *call_body(const char *id, const char *loc, const char *whid,
	const char *created, const char *summary)
{
	return xasprintf(
		"{\"type\":\"VoiceAiCallEnd\",\"webhookId\":\"%s\","
		"\"timestamp\":\"%s\",\"id\":\"%s\",\"locationId\":\"%s\","
		"\"agentId\":\"ag1\",\"contactId\":\"k1\",\"fromNumber\":"
		"\"+15125550143\",\"createdAt\":\"%s\",\"duration\":42,"
		"\"summary\":\"%s\",\"transcript\":\"bot: hello\\nhuman: my "
		"SSN is 078-05-1120\",\"messageId\":\"m-%s\"}",
		whid, created, id, loc, created, summary, id);
}

/* The REST shape of the same call, as sync pulls it. */
static char *api_record(const char *id, const char *loc, const char *created,
	const char *summary)
{
	return xasprintf(
		"{\"id\":\"%s\",\"locationId\":\"%s\",\"agentId\":\"ag1\","
		"\"contactId\":\"k1\",\"fromNumber\":\"+15125550143\","
		"\"createdAt\":\"%s\",\"duration\":42,\"summary\":\"%s\","
		"\"transcript\":\"bot: hello\",\"isAgentDeleted\":false}",
		id, loc, created, summary);
}

/* Deliver a verified webhook body as the receiver's writer does. */
static enum webhook_outcome deliver(struct store *s, const char *body,
	const char *scheme)
{
	struct webhook_event e;
	webhook_event_prepare(&e, body, strlen(body), scheme);
	enum webhook_outcome o = WH_RAW;
	char *err = NULL;
	CHECK(store_begin(s, &err) == CV_OK);
	CHECK_MSG(webhook_event_store(s, &e, &o, &err) == CV_OK, "%s", err);
	CHECK(store_commit(s, &err) == CV_OK);
	free(err);
	webhook_event_finish(&e);
	return o;
}

static struct ingest_stats feed(struct store *s, const char *json,
	enum store_source src)
{
	struct ingest_stats st = { 0 };
	char *err = NULL;
	CHECK(store_begin(s, &err) == CV_OK);
	CHECK_MSG(ingest_payload(s, src, json, strlen(json), NULL, &st, NULL,
			  &err) == CV_OK,
		"%s", err);
	CHECK(store_commit(s, &err) == CV_OK);
	free(err);
	return st;
}

/* The current summary of a call, or "(none)" when it is not stored. */
static char cur_summary[256];
static const char *current(struct store *s, const char *id)
{
	struct store_call sc;
	snprintf(cur_summary, sizeof(cur_summary), "(none)");
	if (store_get_call(s, id, &sc, NULL) == CV_OK)
		snprintf(cur_summary, sizeof(cur_summary), "%s",
			sc.log.summary ? sc.log.summary : "");
	store_call_finish(&sc);
	return cur_summary;
}

struct vrow {
	enum store_cred cred;
	bool current;
	char not_current[96];
	char source[16];
};
struct vlist {
	int n;
	struct vrow v[16];
};
static int vcollect(const struct store_version *v, void *arg)
{
	struct vlist *l = arg;
	if (l->n == 16)
		return 1;
	struct vrow *r = &l->v[l->n++];
	r->cred = v->auth;
	r->current = v->current;
	snprintf(r->not_current, sizeof(r->not_current), "%s",
		v->not_current ? v->not_current : "");
	snprintf(r->source, sizeof(r->source), "%s",
		store_source_name(v->source));
	return 0;
}
static struct vlist versions(struct store *s, const char *id)
{
	struct vlist l = { 0 };
	CHECK(store_each_version(s, id, vcollect, &l, NULL) == CV_OK);
	return l;
}

static void test_trust_order(void)
{
	struct store *s = open_new("order.db");
	const char *t = "2026-03-02T15:04:05.000Z";
	char *signed_body = call_body("c1", "L1", "wh-1", t, "signed");
	char *forged = call_body("c1", "L1", "wh-2", t, "forged");
	char *forged_again = call_body("c1", "L1", "wh-3", t, "forged");
	CHECK_INT(deliver(s, signed_body, "ed25519"), WH_CALL_NEW);
	/* the finding: an HMAC body rewrote an Ed25519-verified call */
	CHECK_INT(deliver(s, forged, "hmac"), WH_CALL_KEPT);
	CHECK_STR(current(s, "c1"), "signed");
	struct vlist l = versions(s, "c1");
	CHECK_INT(l.n, 2);
	CHECK_INT(l.v[0].cred, CRED_ED25519);
	CHECK(l.v[0].current);
	CHECK_INT(l.v[1].cred, CRED_HMAC);
	CHECK(!l.v[1].current);
	CHECK_STR(l.v[1].not_current,
		"lower trust than current version from ed25519");
	/* the same forged content again: kept once */
	CHECK_INT(deliver(s, forged_again, "hmac"), WH_CALL_UNCHANGED);
	CHECK_INT(versions(s, "c1").n, 2);
	/* lower still: a header secret, a scheme the store does not know
	 * (trusted as a header secret), an import */
	char *b4 = call_body("c1", "L1", "wh-4", t, "header");
	char *b5 = call_body("c1", "L1", "wh-5", t, "unknown scheme");
	CHECK_INT(deliver(s, b4, "header-secret"), WH_CALL_KEPT);
	CHECK_INT(deliver(s, b5, "no-such-scheme"), WH_CALL_KEPT);
	CHECK_INT(versions(s, "c1").v[3].cred, CRED_HEADER_SECRET);
	char *imp = api_record("c1", "L1", t, "imported");
	CHECK_INT(feed(s, imp, SRC_IMPORT).kept, 1);
	CHECK_STR(current(s, "c1"), "signed");
	/* the API's copy settles it, and stays current against webhooks */
	char *api = api_record("c1", "L1", t, "from the api");
	CHECK_INT(feed(s, api, SRC_API).updated, 1);
	CHECK_STR(current(s, "c1"), "from the api");
	char *late = call_body("c1", "L1", "wh-6", t, "signed later");
	CHECK_INT(deliver(s, late, "ed25519"), WH_CALL_KEPT);
	CHECK_STR(current(s, "c1"), "from the api");
	l = versions(s, "c1");
	CHECK_INT(l.n, 7);
	CHECK_STR(l.v[6].not_current,
		"lower trust than current version from api");
	CHECK(l.v[5].current && l.v[5].cred == CRED_API);
	/* equal trust: the newer replaces, as before */
	char *r1 = call_body("c2", "L1", "wh-7", t, "one");
	char *r2 = call_body("c2", "L1", "wh-8", t, "two");
	CHECK_INT(deliver(s, r1, "ed25519"), WH_CALL_NEW);
	CHECK_INT(deliver(s, r2, "rsa-legacy"), WH_CALL_UPDATED);
	CHECK_STR(current(s, "c2"), "two");
	CHECK_MSG(store_check(s, NULL) == CV_OK, "check");
	char *parts[] = { signed_body, forged, forged_again, b4, b5, imp, api,
		late, r1, r2 };
	for (size_t i = 0; i < CV_ARRAY_LEN(parts); i++)
		free(parts[i]);
	store_close(s);
}

static int count_quarantine(const struct store_quarantine_row *q, void *a)
{
	(*(int *)a)++;
	return 0;
}
static int n_quarantined(struct store *s)
{
	int n = 0;
	CHECK(store_each_quarantine(s, count_quarantine, &n, NULL) == CV_OK);
	return n;
}

static void test_allow_create(void)
{
	unsigned m = 0;
	char bad[80] = "";
	CHECK(!store_trust_mask_parse("ed25519,bogus", &m, bad, sizeof(bad)));
	CHECK_STR(bad, "bogus");
	CHECK(!store_trust_mask_parse("api,", &m, bad, sizeof(bad)));
	CHECK(!store_trust_mask_parse("unrecorded", &m, bad, sizeof(bad)));
	CHECK(store_trust_mask_parse("none", &m, bad, sizeof(bad)) && !m);
	CHECK(store_trust_mask_parse("hmac,api", &m, bad, sizeof(bad)));
	char *str = store_trust_mask_str(m);
	CHECK_STR(str, "api,hmac");
	free(str);

	struct store *s = open_new("create.db");
	const char *t = "2026-03-02T15:04:05.000Z";
	CHECK(store_trust_set(s, "L1", 1u << CRED_ED25519 | 1u << CRED_API,
		      "test", NULL) == CV_OK);
	char *h = call_body("n1", "L1", "w1", t, "by hmac");
	CHECK_INT(deliver(s, h, "hmac"), WH_QUARANTINED);
	CHECK_STR(current(s, "n1"), "(none)");
	CHECK_INT(n_quarantined(s), 1);
	char *e = call_body("n1", "L1", "w2", t, "signed");
	CHECK_INT(deliver(s, e, "ed25519"), WH_CALL_NEW);
	/* the policy limits creation only: an update is ranked, not refused */
	char *h2 = call_body("n1", "L1", "w3", t, "hmac update");
	CHECK_INT(deliver(s, h2, "hmac"), WH_CALL_KEPT);
	/* another location has no policy, and there is no default */
	char *o = call_body("n2", "L2", "w4", t, "elsewhere");
	CHECK_INT(deliver(s, o, "hmac"), WH_CALL_NEW);
	/* a default for locations without their own */
	CHECK(store_trust_set(s, "", 1u << CRED_API, "test", NULL) == CV_OK);
	char *imp = api_record("n3", "L3", t, "imported");
	struct ingest_stats st = feed(s, imp, SRC_IMPORT);
	CHECK_INT(st.quarantined, 1);
	CHECK_INT(st.added, 0);
	CHECK_STR(current(s, "n3"), "(none)");
	/* labelled restore by `import --source restore`: still refused */
	CHECK_INT(feed(s, imp, SRC_RESTORE).quarantined, 1);
	CHECK_STR(current(s, "n3"), "(none)");
	CHECK_INT(feed(s, imp, SRC_API).added, 1);
	CHECK(store_trust_unset(s, "", NULL) == CV_OK);
	CHECK(store_trust_unset(s, "", NULL) == CV_ENOTFOUND);
	char *imp4 = api_record("n4", "L3", t, "imported");
	CHECK_INT(feed(s, imp4, SRC_IMPORT).added, 1);
	char *parts[] = { h, e, h2, o, imp, imp4 };
	for (size_t i = 0; i < CV_ARRAY_LEN(parts); i++)
		free(parts[i]);
	store_close(s);
}

struct grab {
	char path[4096], sha[CV_SHA256_HEX];
	int n;
};
static void grab_cb(const struct archive_outcome *r, void *arg)
{
	struct grab *g = arg;
	if (!*r->path)
		return;
	g->n++;
	snprintf(g->path, sizeof(g->path), "%s", r->path);
	memcpy(g->sha, r->sha256, CV_SHA256_HEX);
}

/* Archive 2026-01 of location loc and mark it verified; its path. */
static struct grab archive_jan(struct store *s, const char *loc, int64_t now)
{
	char *out = xasprintf("%s/arch", dir);
	struct archive_opts o = { .out_dir = out,
		.location = loc,
		.month = "2026-01",
		.actor = "test",
		.level = 1,
		.now_ms = now };
	struct grab g = { .n = 0 };
	char *err = NULL;
	CHECK_MSG(archive_run(s, &o, grab_cb, &g, &err) == CV_OK, "%s", err);
	free(err);
	int n = 0;
	if (g.n)
		CHECK(store_ret_mark_verified(s, g.sha, now, &n, NULL) ==
				CV_OK &&
			n == 1);
	free(out);
	return g;
}

static struct purge_stats purge(struct store *s, int64_t now)
{
	struct purge_opts po = { .actor = "test", .now_ms = now };
	struct purge_stats st;
	char *err = NULL;
	CHECK_MSG(purge_run(s, &po, &st, &err) == CV_OK, "%s", err);
	free(err);
	return st;
}

static int count_event(const struct store_webhook_event *e, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void test_disposal_is_final(void)
{
	struct store *s = open_new("dispose.db");
	int64_t now;
	cv_parse_iso8601("2026-03-15T00:00:00Z", &now);
	const char *t = "2026-01-10T10:00:00.000Z";
	char *body = call_body("d1", "LD", "wh-d1", t, "to be disposed");
	char *msg = xasprintf("{\"type\":\"InboundMessage\",\"webhookId\":"
			      "\"wh-msg\",\"messageType\":\"CALL\","
			      "\"messageId\":\"m-d1\",\"locationId\":\"LD\"}");
	CHECK_INT(deliver(s, body, "ed25519"), WH_CALL_NEW);
	CHECK_INT(deliver(s, msg, "ed25519"), WH_CALL_MESSAGE);
	CHECK(store_ret_set_policy(s, "LD", 0, "test", NULL) == CV_OK);
	struct grab g = archive_jan(s, "LD", now);
	CHECK_INT(g.n, 1);
	CHECK_INT(purge(s, now).purged, 1);
	CHECK_STR(current(s, "d1"), "(none)");
	bool dead = false;
	CHECK(store_tombstoned(s, "d1", NULL, &dead, NULL) == CV_OK && dead);
	CHECK(store_tombstoned(s, NULL, "m-d1", &dead, NULL) == CV_OK && dead);
	CHECK(store_tombstoned(s, "d2", NULL, &dead, NULL) == CV_OK && !dead);

	/* the finding: a saved, validly signed body brought it back */
	CHECK_INT(deliver(s, body, "ed25519"), WH_CALL_DISPOSED);
	CHECK_INT(deliver(s, msg, "ed25519"), WH_CALL_DISPOSED);
	CHECK_STR(current(s, "d1"), "(none)");
	int n = 0;
	CHECK(store_each_call_event(s, "d1", count_event, &n, NULL) == CV_OK);
	CHECK_INT(n, 0);
	/* re-import (either shape) and the API's copy */
	struct ingest_stats st = feed(s, body, SRC_IMPORT);
	CHECK_INT(st.disposed, 1);
	CHECK_INT(st.added + st.updated + st.kept + st.quarantined, 0);
	char *api = api_record("d1", "LD", t, "from the api");
	CHECK_INT(feed(s, api, SRC_API).disposed, 1);
	CHECK_STR(current(s, "d1"), "(none)");
	/* its archive, restored */
	struct restore_stats rs;
	char *err = NULL;
	CHECK_MSG(restore_archive(s, g.path, "test", &rs, &err) == CV_OK, "%s",
		err);
	free(err);
	CHECK_INT(rs.disposed, 1);
	CHECK_INT(rs.calls, 0);
	CHECK_INT(rs.versions_added, 0);
	CHECK_INT(rs.events, 0);
	CHECK_INT(rs.events_disposed, 2);
	CHECK_STR(current(s, "d1"), "(none)");
	n = 0;
	CHECK(store_each_call_event(s, "d1", count_event, &n, NULL) == CV_OK);
	CHECK_INT(n, 0);
	/* restored into a store without the tombstone, it comes back */
	struct store *s2 = open_new("elsewhere.db");
	CHECK(restore_archive(s2, g.path, "test", &rs, NULL) == CV_OK);
	CHECK_INT(rs.calls, 1);
	CHECK_STR(current(s2, "d1"), "to be disposed");
	store_close(s2);
	CHECK_MSG(store_check(s, NULL) == CV_OK, "check");
	free(body);
	free(msg);
	free(api);
	store_close(s);
}

/* A version kept at lower trust after the archive is archived before
 * purge may take the call; restore ranks versions as they were. */
static void test_kept_versions_archived(void)
{
	struct store *s = open_new("kept.db");
	int64_t now;
	cv_parse_iso8601("2026-03-15T00:00:00Z", &now);
	const char *t = "2026-01-10T10:00:00.000Z";
	char *a = call_body("k1", "LK", "wh-a", t, "signed");
	char *b = call_body("k1", "LK", "wh-b", t, "forged");
	CHECK_INT(deliver(s, a, "ed25519"), WH_CALL_NEW);
	CHECK(store_ret_set_policy(s, "LK", 0, "test", NULL) == CV_OK);
	CHECK_INT(archive_jan(s, "LK", now).n, 1);
	CHECK_INT(deliver(s, b, "hmac"), WH_CALL_KEPT);
	struct purge_stats ps = purge(s, now);
	CHECK_INT(ps.purged, 0);
	CHECK_INT(ps.unarchived, 1);
	struct grab g = archive_jan(s, "LK", now); /* a supplement */
	CHECK_INT(g.n, 1);
	struct store *r = open_new("kept-restored.db");
	struct restore_stats rs;
	char *err = NULL;
	CHECK_MSG(restore_archive(r, g.path, "test", &rs, &err) == CV_OK, "%s",
		err);
	free(err);
	CHECK_STR(current(r, "k1"), "signed");
	struct vlist l = versions(r, "k1");
	CHECK_INT(l.n, 2);
	CHECK_STR(l.v[0].source, "restore");
	CHECK_INT(l.v[0].cred, CRED_ED25519);
	CHECK(l.v[0].current);
	CHECK_INT(l.v[1].cred, CRED_HMAC);
	CHECK_STR(l.v[1].not_current,
		"lower trust than current version from ed25519");
	store_close(r);
	CHECK_INT(purge(s, now).purged, 1);
	free(a);
	free(b);
	store_close(s);
}

static int find_purge_q(const struct audit_entry *e, void *arg)
{
	if (!strcmp(e->command, "purge quarantine"))
		*(int64_t *)arg = e->result_count;
	return 0;
}

static void test_quarantine_retention(void)
{
	struct store *s = open_new("quar.db");
	CHECK_INT(feed(s, "{\"id\":1,\"transcript\":\"bot: secret\"}",
			  SRC_IMPORT)
			  .quarantined,
		1);
	CHECK_INT(feed(s, "not json", SRC_WEBHOOK).quarantined, 1);
	int64_t now = cv_now_ms();
	int64_t later = now + INT64_C(5) * 31 * 24 * 3600 * 1000;
	/* no policy: nothing goes */
	CHECK_INT(purge(s, later).quarantine, 0);
	CHECK_INT(n_quarantined(s), 2);
	CHECK(store_ret_set_policy(s, NULL, 1, "test", NULL) == CV_OK);
	CHECK(store_ret_set_policy(s, "LX", 2, "test", NULL) == CV_OK);
	/* within the longest policy: kept */
	CHECK_INT(purge(s, now).quarantine, 0);
	CHECK_INT(n_quarantined(s), 2);
	/* a dry run counts, removes nothing */
	FILE *devnull = fopen("/dev/null", "w");
	struct purge_opts po = { .actor = "test",
		.now_ms = later,
		.dry_run = true,
		.out = devnull };
	struct purge_stats st;
	CHECK(purge_run(s, &po, &st, NULL) == CV_OK);
	fclose(devnull);
	CHECK_INT(st.quarantine, 2);
	CHECK_INT(n_quarantined(s), 2);
	CHECK_INT(purge(s, later).quarantine, 2);
	CHECK_INT(n_quarantined(s), 0);
	int64_t audited = -1;
	CHECK(store_audit_each(s, NULL, find_purge_q, &audited, NULL) == CV_OK);
	CHECK_INT(audited, 2);
	store_close(s);
}

struct ev_probe {
	int n;
	bool withheld;
	char outcome[64];
};
static int probe_event(const struct store_webhook_event *e, void *arg)
{
	struct ev_probe *p = arg;
	p->n++;
	p->withheld = e->withheld;
	snprintf(p->outcome, sizeof(p->outcome), "%s",
		e->outcome ? e->outcome : "");
	return 0;
}

/* The optional replay window: a body older than it by its own timestamp
 * is recorded without its body and changes nothing. */
static void test_replay_window(void)
{
	const int64_t day = INT64_C(24) * 3600 * 1000;
	struct store *s = open_new("window.db");
	const char *t2019 = "2019-05-02T10:00:00.000Z";
	char *old1 = call_body("p1", "LP", "wp-1", t2019, "old, no window");
	CHECK_INT(deliver(s, old1, "ed25519"), WH_CALL_NEW);
	int64_t age = -1;
	CHECK(store_trust_max_age(s, &age, NULL) == CV_OK && age == 0);
	CHECK(store_trust_set_max_age(s, 7 * day, "test", NULL) == CV_OK);
	CHECK(store_trust_max_age(s, &age, NULL) == CV_OK && age == 7 * day);
	char *old2 = call_body("p2", "LP", "wp-2", t2019, "old, refused");
	CHECK_INT(deliver(s, old2, "ed25519"), WH_STALE);
	CHECK_STR(current(s, "p2"), "(none)");
	struct ev_probe ev = { 0 };
	CHECK(store_each_call_event(s, "p2", probe_event, &ev, NULL) == CV_OK);
	CHECK_INT(ev.n, 1);
	CHECK(ev.withheld);
	CHECK_STR(ev.outcome, "refused: older than the replay window");
	CHECK_INT(deliver(s, old2, "ed25519"), WH_DUPLICATE);
	/* an old version of a live call changes nothing either */
	char *old3 = call_body("p1", "LP", "wp-3", t2019, "old, changed");
	CHECK_INT(deliver(s, old3, "ed25519"), WH_STALE);
	CHECK_STR(current(s, "p1"), "old, no window");
	/* within the window, and without a timestamp: taken */
	char ts[32];
	cv_format_iso8601(cv_now_ms() - 3600 * 1000, ts);
	char *fresh = call_body("p4", "LP", "wp-4", ts, "fresh");
	CHECK_INT(deliver(s, fresh, "ed25519"), WH_CALL_NEW);
	const char *no_ts = "{\"type\":\"VoiceAiCallEnd\",\"webhookId\":"
			    "\"wp-5\",\"id\":\"p5\",\"locationId\":\"LP\","
			    "\"agentId\":\"a\",\"createdAt\":\"2019-05-02T"
			    "10:00:00Z\",\"transcript\":\"bot: hi\"}";
	CHECK_INT(deliver(s, no_ts, "ed25519"), WH_CALL_NEW);
	CHECK(store_trust_set_max_age(s, 0, "test", NULL) == CV_OK);
	char *old6 = call_body("p6", "LP", "wp-6", t2019, "window off");
	CHECK_INT(deliver(s, old6, "ed25519"), WH_CALL_NEW);
	free(old1);
	free(old2);
	free(old3);
	free(fresh);
	free(old6);
	store_close(s);
}

/* A store at the schema before this change, with webhook versions whose
 * events name their scheme: the migration records how each came. */
static void test_migration(void)
{
	char *path = xasprintf("%s/old.db", dir);
	/* up to the trust migration, whichever came after it since */
	store_before(path, "trust by source, tombstones of disposed calls");
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	static const char rows[] =
		"INSERT INTO versions(call_id, seq, source, received_at,"
		" canonical, canonical_sha256, raw_sha256) VALUES"
		" ('o1', 1, 'webhook', 1, '{}', 'c1', 'r1'),"
		" ('o1', 2, 'webhook', 2, '{}', 'c2', 'r2'),"
		" ('o1', 3, 'api', 3, '{}', 'c3', 'r3'),"
		" ('o1', 4, 'webhook', 4, '{}', 'c4', 'r4');"
		"INSERT INTO webhook_events(dedup_key, call_id, received_at,"
		" body_sha256, body, signature) VALUES"
		" ('a', 'o1', 1, 'r1', x'00', 'ed25519'),"
		" ('b', 'o1', 2, 'r2', x'00', 'hmac');";
	CHECK_MSG(sqlite3_exec(db, rows, NULL, NULL, NULL) == SQLITE_OK, "%s",
		sqlite3_errmsg(db));
	sqlite3_close(db);
	struct store *s = NULL;
	CHECK(store_open(&s, path, 0, NULL) == CV_OK);
	CHECK_INT(store_schema_version(s), store_schema_latest());
	struct vlist l = versions(s, "o1");
	CHECK_INT(l.n, 4);
	CHECK_INT(l.v[0].cred, CRED_ED25519);
	CHECK_INT(l.v[1].cred, CRED_HMAC);
	CHECK_INT(l.v[2].cred, CRED_API);
	CHECK_INT(l.v[3].cred, CRED_UNRECORDED); /* no event says */
	CHECK_INT(store_cred_rank(CRED_UNRECORDED),
		store_cred_rank(CRED_ED25519));
	store_close(s);
	free(path);
}

int main(void)
{
	dir = rt_tempdir();
	test_trust_order();
	test_allow_create();
	test_disposal_is_final();
	test_kept_versions_archived();
	test_quarantine_retention();
	test_replay_window();
	test_migration();
	rt_rmrf(dir);
	free(dir);
	return t_done();
}
