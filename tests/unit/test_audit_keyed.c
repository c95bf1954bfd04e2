/*
 * test_audit_keyed.c — keyed audit entries (issue 22): with the audit key
 * set, an entry's hash is HMAC-SHA256(key, the version 4 input), checked
 * here against libsodium's HMAC; someone who can write the store but not
 * read the key, rewriting an entry and recomputing the chain with plain
 * SHA-256, is caught whether or not they also clear the keyed marks;
 * entries of versions 1-3 written before the migration verify unchanged;
 * without the key keyed entries are counted as unchecked; and the key
 * file is made 0600, refused when group or others may read it, and never
 * stored in the database.
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audithead.h"
#include "hash.h"
#include "store/store.h"
#include "store/store_audit.h"
#include "old_store.h"
#include "t.h"
#include "util.h"

static char dir[] = "/tmp/cv_audit_keyed.XXXXXX";
static unsigned char key[AUDIT_KEY_LEN], other[AUDIT_KEY_LEN];

static struct store *open_store(const char *path, const unsigned char *k)
{
	struct store *s = NULL;
	char *err = NULL;
	CHECK(store_open(&s, path, 0, &err) == CV_OK);
	free(err);
	store_audit_set_key(s, k);
	return s;
}

static void append(struct store *s, const char *actor, const char *detail)
{
	char *err = NULL;
	CHECK(store_audit_append(s, actor, "search", detail, 1, &err) == CV_OK);
	free(err);
}

/* store_audit_verify_ex on path with key k: the error, stats, bad id. */
static enum cv_err verify(const char *path, const unsigned char *k,
	struct audit_verify_stats *vs, int64_t *bad)
{
	struct store *s = open_store(path, k);
	char *err = NULL;
	enum cv_err rc = store_audit_verify_ex(s, vs, bad, &err);
	store_close(s);
	free(err);
	return rc;
}

/* The strict store_audit_verify: the error and bad id. */
static enum cv_err verify_strict(const char *path, const unsigned char *k,
	int64_t *bad)
{
	struct store *s = open_store(path, k);
	char *err = NULL;
	int64_t checked = 0;
	enum cv_err rc = store_audit_verify(s, &checked, bad, &err);
	store_close(s);
	free(err);
	return rc;
}

/*
 * What someone who can write the store but has no key can do: change
 * entry `id`'s detail and recompute the hashes of the entries from
 * `from` on with plain SHA-256 (the version 1-3 formulas); with unmark,
 * also clear the keyed mark of every entry from `id` on, so that they
 * look written without the key.
 */
static void forge(const char *path, int64_t id, int64_t from, bool unmark)
{
	char *q = xasprintf("UPDATE audit SET detail = '{\"q\":\"forged\"}'"
			    " WHERE id = %lld;",
		(long long)id);
	sql(path, q);
	free(q);
	if (unmark) {
		q = xasprintf("UPDATE audit SET keyed = NULL WHERE id >= %lld;",
			(long long)id);
		sql(path, q);
		free(q);
	}
	sqlite3 *db;
	sqlite3_stmt *st, *up;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db,
		      "SELECT id, ts, actor, command, detail,"
		      " result_count, os_user, client, prev_hash FROM audit"
		      " WHERE id >= ? ORDER BY id",
		      -1, &st, NULL) == SQLITE_OK);
	sqlite3_bind_int64(st, 1, from);
	CHECK(sqlite3_prepare_v2(db,
		      "UPDATE audit SET prev_hash = ?,"
		      " hash = ? WHERE id = ?",
		      -1, &up, NULL) == SQLITE_OK);
	char prev[CV_SHA256_HEX] = "", h[CV_SHA256_HEX];
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!*prev) /* the first: linked to the entry before as is */
			snprintf(prev, sizeof(prev), "%s",
				sqlite3_column_text(st, 8));
		struct audit_entry e = {
			.id = sqlite3_column_int64(st, 0),
			.ts = sqlite3_column_int64(st, 1),
			.actor = (const char *)sqlite3_column_text(st, 2),
			.command = (const char *)sqlite3_column_text(st, 3),
			.detail = (const char *)sqlite3_column_text(st, 4),
			.result_count = sqlite3_column_int64(st, 5),
			.os_user = (const char *)sqlite3_column_text(st, 6),
			.client = (const char *)sqlite3_column_text(st, 7),
			.prev_hash = prev,
		};
		store_audit_hash(&e, NULL, h);
		sqlite3_bind_text(up, 1, prev, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(up, 2, h, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(up, 3, e.id);
		CHECK(sqlite3_step(up) == SQLITE_DONE);
		sqlite3_reset(up);
		memcpy(prev, h, sizeof(prev));
	}
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	sqlite3_close(db);
}

struct rows {
	int n;
	bool keyed[8];
	char hash[8][CV_SHA256_HEX], prev[8][CV_SHA256_HEX];
	int64_t ts[8];
};

static int row(const struct audit_entry *e, void *arg)
{
	struct rows *r = arg;
	if (r->n < 8) {
		r->keyed[r->n] = e->keyed;
		snprintf(r->hash[r->n], CV_SHA256_HEX, "%s", e->hash);
		snprintf(r->prev[r->n], CV_SHA256_HEX, "%s", e->prev_hash);
		r->ts[r->n] = e->ts;
	}
	r->n++;
	return 0;
}

/* The documented version 4 hash, by libsodium's HMAC. */
static void want_v4(const char *prev, int64_t ts, const char *actor,
	const char *u, const char *c, char out[CV_SHA256_HEX])
{
	char *in = xasprintf("callvault-audit-v4\n%s\n%lld\n%s\nsearch\n{}\n1"
			     "\n%s\n%s",
		prev, (long long)ts, actor, u, c);
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256(mac, (const unsigned char *)in, strlen(in), key);
	sodium_bin2hex(out, CV_SHA256_HEX, mac, sizeof(mac));
	free(in);
}

/* Keyed entries: marked, hashed as documented, verified with the key,
 * not with another, counted as unchecked without one. */
static void test_keyed(void)
{
	char *path = xasprintf("%s/k.db", dir);
	struct store *s = open_store(path, key);
	append(s, "alice", "{}");
	store_audit_set_os_user(s, "svc");
	append(s, "bob", "{}");
	(void)store_audit_set_client(s, "203.0.113.7");
	append(s, "carol", "{}");
	struct rows r = { 0 };
	char *err = NULL;
	CHECK(store_audit_each(s, NULL, row, &r, &err) == CV_OK);
	store_close(s);
	CHECK_INT(r.n, 3);
	char h[CV_SHA256_HEX];
	want_v4(AUDIT_GENESIS, r.ts[0], "alice", "-", "-", h);
	CHECK_STR(r.hash[0], h);
	want_v4(r.hash[0], r.ts[1], "bob", "=svc", "-", h);
	CHECK_STR(r.hash[1], h);
	want_v4(r.hash[1], r.ts[2], "carol", "=svc", "=203.0.113.7", h);
	CHECK_STR(r.hash[2], h);
	CHECK(r.keyed[0] && r.keyed[1] && r.keyed[2]);

	struct audit_verify_stats vs;
	int64_t bad = 0;
	CHECK(verify(path, key, &vs, &bad) == CV_OK);
	CHECK_INT(vs.checked, 3);
	CHECK_INT(vs.keyed, 3);
	CHECK_INT(vs.unchecked, 0);
	CHECK_INT(vs.unkeyed_after, 0);
	CHECK(verify_strict(path, key, &bad) == CV_OK);
	CHECK(verify(path, other, &vs, &bad) == CV_EINTEGRITY);
	CHECK_INT(bad, 1);
	/* without the key: links checked, hashes counted as unchecked */
	CHECK(verify(path, NULL, &vs, &bad) == CV_OK);
	CHECK_INT(vs.unchecked, 3);
	CHECK(verify_strict(path, NULL, &bad) == CV_ENOTFOUND);
	sql(path, "UPDATE audit SET prev_hash = hash WHERE id = 3");
	CHECK(verify(path, NULL, &vs, &bad) == CV_EINTEGRITY);
	CHECK_INT(bad, 3);
	free(err);
	free(path);
}

/* The attacker without the key: a changed detail and a recomputed
 * chain, with the keyed marks kept or cleared, never passes. */
static void test_forged(void)
{
	static const struct {
		bool unmark;
		int64_t at, from;   /* the entry rewritten; recomputed from */
		enum cv_err strict; /* store_audit_verify */
		int64_t bad;
		int64_t unkeyed_after, exposed;
	} rows[] = {
		/* the whole chain recomputed, marks kept: the first keyed
		 * entry no longer verifies */
		{ false, 4, 1, CV_EINTEGRITY, 1, 0, 0 },
		{ false, 1, 1, CV_EINTEGRITY, 1, 0, 0 },
		/* recomputed from the changed entry on: caught there */
		{ false, 4, 4, CV_EINTEGRITY, 4, 0, 0 },
		/* marks cleared from entry 4: a chain that links, but
		 * unkeyed entries after keyed ones, all exposed */
		{ true, 4, 4, CV_EINTEGRITY, 4, 2, 2 },
		{ true, 2, 2, CV_EINTEGRITY, 2, 4, 4 },
		/* cleared from 4 but the chain recomputed from 1: entry 1,
		 * still marked keyed, no longer verifies */
		{ true, 4, 1, CV_EINTEGRITY, 1, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *path = xasprintf("%s/f%zu.db", dir, i);
		struct store *s = open_store(path, key);
		for (int j = 0; j < 5; j++)
			append(s, "alice", "{\"q\":\"x\"}");
		store_close(s);
		int64_t bad = 0;
		CHECK(verify_strict(path, key, &bad) == CV_OK);
		forge(path, rows[i].at, rows[i].from, rows[i].unmark);
		CHECK_MSG(verify_strict(path, key, &bad) == rows[i].strict,
			"row %zu", i);
		CHECK_MSG(bad == rows[i].bad, "row %zu: bad %lld", i,
			(long long)bad);
		struct audit_verify_stats vs;
		enum cv_err rc = verify(path, key, &vs, &bad);
		if (!rows[i].unkeyed_after) {
			CHECK_MSG(rc == CV_EINTEGRITY, "row %zu", i);
		} else {
			CHECK_MSG(rc == CV_OK, "row %zu", i);
			CHECK_INT(vs.unkeyed_after, rows[i].unkeyed_after);
			CHECK_INT(vs.exposed, rows[i].exposed);
			CHECK_INT(vs.first_unkeyed_after, rows[i].at);
		}
		free(path);
	}
}

/* Versions 1-3 written before the migration verify as they did, and
 * keyed entries follow them; an unkeyed entry between keyed ones is
 * counted but bound by the keyed one after it (not exposed). */
static void test_old_entries(void)
{
	char *path = xasprintf("%s/old.db", dir);
	store_before(path, "audit: keyed entry hashes");
	char prev[CV_SHA256_HEX] = AUDIT_GENESIS, h[CV_SHA256_HEX];
	static const struct {
		const char *os_user, *client;
	} old[] = { { NULL, NULL }, { "svc", NULL }, { "svc", "10.0.0.1" } };
	for (int i = 0; i < 3; i++) {
		struct audit_entry e = {
			.ts = 1000 + i,
			.actor = "old",
			.command = "search",
			.detail = "{}",
			.result_count = 0,
			.prev_hash = prev,
			.os_user = old[i].os_user,
			.client = old[i].client,
		};
		store_audit_hash(&e, NULL, h);
		char *q = xasprintf("INSERT INTO audit(ts, actor, command,"
				    " detail, result_count, prev_hash, hash,"
				    " os_user, client) VALUES (%d, 'old',"
				    " 'search', '{}', 0, '%s', '%s', %s%s%s,"
				    " %s%s%s);",
			1000 + i, prev, h, e.os_user ? "'" : "",
			e.os_user ? e.os_user : "NULL", e.os_user ? "'" : "",
			e.client ? "'" : "", e.client ? e.client : "NULL",
			e.client ? "'" : "");
		sql(path, q);
		free(q);
		memcpy(prev, h, sizeof(prev));
	}
	struct store *s = open_store(path, key);
	append(s, "new", "{}");
	store_audit_set_key(s, NULL); /* a user without the key */
	append(s, "ro", "{}");
	store_audit_set_key(s, key);
	append(s, "new", "{}");
	store_close(s);
	struct audit_verify_stats vs;
	int64_t bad = 0;
	CHECK(verify(path, key, &vs, &bad) == CV_OK);
	CHECK_INT(vs.checked, 6);
	CHECK_INT(vs.keyed, 2);
	CHECK_INT(vs.first_keyed, 4);
	CHECK_INT(vs.unkeyed_after, 1);
	CHECK_INT(vs.first_unkeyed_after, 5);
	CHECK_INT(vs.exposed, 0);
	/* an old entry changed: caught at it, as before */
	sql(path, "UPDATE audit SET os_user = 'root' WHERE id = 2");
	CHECK(verify(path, key, &vs, &bad) == CV_EINTEGRITY);
	CHECK_INT(bad, 2);
	free(path);
}

/* The key file: made 0600 in a 0700 directory, read back the same,
 * refused when group or others may read or write it, or not a key; its
 * bytes never reach the database. */
static void test_key_file(void)
{
	char *kpath = xasprintf("%s/db.secrets/audit.key", dir), *err = NULL;
	unsigned char k1[AUDITHEAD_KEY_LEN], k2[AUDITHEAD_KEY_LEN];
	CHECK(audithead_key_load(kpath, false, k1, &err) == CV_ENOTFOUND);
	free(err), err = NULL;
	CHECK(audithead_key_load(kpath, true, k1, &err) == CV_OK);
	struct stat st;
	CHECK(stat(kpath, &st) == 0 && (st.st_mode & 0777) == 0600);
	char *d = xasprintf("%s/db.secrets", dir);
	CHECK(stat(d, &st) == 0 && (st.st_mode & 0777) == 0700);
	free(d);
	CHECK(audithead_key_load(kpath, true, k2, &err) == CV_OK);
	CHECK(memcmp(k1, k2, sizeof(k1)) == 0);
	static const mode_t modes[] = { 0640, 0604, 0620, 0602 };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		CHECK(chmod(kpath, modes[i]) == 0);
		CHECK_MSG(audithead_key_load(kpath, false, k2, &err) ==
				  CV_EINVAL,
			"mode %o", (unsigned)modes[i]);
		CHECK(err && strstr(err, "chmod 600"));
		free(err), err = NULL;
	}
	CHECK(chmod(kpath, 0600) == 0);

	/* entries keyed with it: the database holds no copy of it */
	char hex[2 * AUDITHEAD_KEY_LEN + 1];
	sodium_bin2hex(hex, sizeof(hex), k1, sizeof(k1));
	char *path = xasprintf("%s/db", dir);
	struct store *s = open_store(path, k1);
	for (int i = 0; i < 3; i++)
		append(s, "alice", "{}");
	store_close(s);
	char *text = NULL;
	size_t n = 0;
	CHECK(cv_read_file(path, 1 << 26, &text, &n, &err) == CV_OK);
	CHECK(text && !memmem(text, n, hex, strlen(hex)) &&
		!memmem(text, n, k1, sizeof(k1)));
	free(text);

	char *bad = xasprintf("%s/bad.key", dir);
	CHECK(cv_write_file_atomic(bad, "not a key\n", 10, 0600, &err) ==
		CV_OK);
	CHECK(audithead_key_load(bad, false, k2, &err) == CV_EINVAL);
	free(err), err = NULL;
	/* the right length, one digit not hex */
	memcpy(hex, "g", 1);
	CHECK(cv_write_file_atomic(bad, hex, strlen(hex), 0600, &err) == CV_OK);
	CHECK(audithead_key_load(bad, false, k2, &err) == CV_EINVAL);
	free(err);
	free(bad);
	free(path);
	free(kpath);
}

int main(void)
{
	if (!mkdtemp(dir) || sodium_init() < 0)
		return 1;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(other, sizeof(other));
	test_keyed();
	test_forged();
	test_old_entries();
	test_key_file();
	char *rm = xasprintf("rm -rf %s", dir);
	if (system(rm) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(rm);
	return t_done();
}
