/*
 * test_audit_identity.c — the audit log's OS user (issue 23): an entry
 * that records one is hashed with it (version 2 of the hash input), an
 * entry that does not is hashed as before (version 1), so a store's old
 * entries keep verifying after the migration, and adding, removing or
 * changing an OS user breaks the chain; and the console's client
 * address (version 3): hashed with the OS user, old entries unchanged,
 * tampering with either caught, and filtered on.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "store/store.h"
#include "store/store_audit.h"
#include "old_store.h"
#include "t.h"
#include "util.h"

static char dir[] = "/tmp/cv_audit_id.XXXXXX";

struct rows {
	int n;
	char hash[4][CV_SHA256_HEX];
	char os_user[4][32];
	int64_t ts[4];
};

static int row(const struct audit_entry *e, void *arg)
{
	struct rows *r = arg;
	if (r->n < 4) {
		snprintf(r->hash[r->n], CV_SHA256_HEX, "%s", e->hash);
		snprintf(r->os_user[r->n], 32, "%s",
			e->os_user ? e->os_user : "(null)");
		r->ts[r->n] = e->ts;
	}
	r->n++;
	return 0;
}

/* The hash as docs and store_audit.h describe it, computed here. */
static void want_hash(const char *prev, int64_t ts, const char *actor,
	const char *os_user, char out[CV_SHA256_HEX])
{
	char *in =
		os_user ? xasprintf(
				  "callvault-audit-v2\n%s\n%lld\n%s\nsearch\n{}\n0"
				  "\n%s",
				  prev, (long long)ts, actor, os_user)
			: xasprintf("%s\n%lld\n%s\nsearch\n{}\n0", prev,
				  (long long)ts, actor);
	cv_sha256_hex(in, strlen(in), out);
	free(in);
}

static int64_t verify(const char *path, int64_t *checked)
{
	struct store *s;
	char *err = NULL;
	int64_t bad = 0;
	CHECK(store_open(&s, path, 0, &err) == CV_OK);
	enum cv_err rc = store_audit_verify(s, checked, &bad, &err);
	store_close(s);
	free(err);
	return rc == CV_OK ? 0 : bad;
}

/* A store written before the column existed: its entries verify after
 * the migration, and the chain goes on with version 2 entries. */
static void test_old_store(void)
{
	char *path = xasprintf("%s/old.db", dir);
	struct store *s;
	char *err = NULL;
	int latest = store_schema_latest();
	/* the schema just before this migration, whichever came
	 * after it since, with one entry hashed the old way */
	store_before(path, "audit: the operating-system user of each entry");
	char h0[CV_SHA256_HEX];
	want_hash(AUDIT_GENESIS, 1000, "alice", NULL, h0);
	char *q = xasprintf("INSERT INTO audit(ts, actor, command, detail,"
			    " result_count, prev_hash, hash) VALUES (1000,"
			    " 'alice', 'search', '{}', 0, '%s', '%s');",
		AUDIT_GENESIS, h0);
	sql(path, q);
	free(q);
	CHECK(store_open(&s, path, 0, &err) == CV_OK);
	CHECK_INT(store_schema_version(s), latest);
	store_audit_set_os_user(s, "root");
	CHECK(store_audit_append(s, "carol", "search", "{}", 0, &err) == CV_OK);
	struct rows r = { 0 };
	CHECK(store_audit_each(s, NULL, row, &r, &err) == CV_OK);
	store_close(s);
	CHECK_INT(r.n, 2);
	char h[CV_SHA256_HEX];
	want_hash(AUDIT_GENESIS, r.ts[0], "alice", NULL, h);
	CHECK_STR(r.hash[0], h);
	CHECK_STR(r.os_user[0], "(null)");
	want_hash(r.hash[0], r.ts[1], "carol", "root", h);
	CHECK_STR(r.hash[1], h);
	CHECK_STR(r.os_user[1], "root");
	int64_t checked = 0;
	CHECK_INT(verify(path, &checked), 0);
	CHECK_INT(checked, 2);

	/* each way of tampering with the OS user breaks the chain there */
	sql(path, "UPDATE audit SET os_user = NULL WHERE id = 2");
	CHECK_INT(verify(path, &checked), 2);
	sql(path, "UPDATE audit SET os_user = 'nobody' WHERE id = 2");
	CHECK_INT(verify(path, &checked), 2);
	sql(path, "UPDATE audit SET os_user = 'root' WHERE id = 2");
	CHECK_INT(verify(path, &checked), 0);
	sql(path, "UPDATE audit SET os_user = 'root' WHERE id = 1");
	CHECK_INT(verify(path, &checked), 1);
	free(path);
	free(err);
}

/* The filters: by OS user, by actor, by command. */
static int count(const struct audit_entry *e, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void test_filters(void)
{
	char *path = xasprintf("%s/f.db", dir);
	struct store *s;
	char *err = NULL;
	CHECK(store_open(&s, path, 0, &err) == CV_OK);
	CHECK(store_audit_append(s, "carol", "search", "{}", 0, &err) == CV_OK);
	store_audit_set_os_user(s, "root");
	CHECK(store_audit_append(s, "carol", "search", "{}", 0, &err) == CV_OK);
	CHECK(store_audit_append(s, "root", "show", "{}", 0, &err) == CV_OK);
	static const struct {
		struct audit_filter f;
		int want;
	} rows[] = {
		{ { .os_user = "root" }, 2 },
		{ { .actor = "carol" }, 2 },
		{ { .actor = "carol", .os_user = "root" }, 1 },
		{ { .command = "show" }, 1 },
		{ { .os_user = "carol" }, 0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int n = 0;
		CHECK(store_audit_each(s, &rows[i].f, count, &n, &err) ==
			CV_OK);
		CHECK_MSG(n == rows[i].want, "row %zu: %d, want %d", i, n,
			rows[i].want);
	}
	store_close(s);
	free(path);
	free(err);
}

/* A version 3 entry after version 1 and 2 entries: all verify; the
 * hash is the documented one; changing the client, or the OS user of a
 * version 3 entry, breaks it. */
static void test_client(void)
{
	char *path = xasprintf("%s/client.db", dir);
	struct store *s;
	char *err = NULL;
	CHECK(store_open(&s, path, 0, &err) == CV_OK);
	CHECK(store_audit_append(s, "a", "search", "{}", 0, &err) == CV_OK);
	store_audit_set_os_user(s, "svc");
	CHECK(store_audit_append(s, "b", "search", "{}", 0, &err) == CV_OK);
	CHECK(store_audit_set_client(s, "203.0.113.7") == NULL);
	CHECK(store_audit_append(s, "carol", "search", "{}", 0, &err) == CV_OK);
	store_audit_set_os_user(s, NULL);
	CHECK(store_audit_append(s, "dave", "search", "{}", 0, &err) == CV_OK);
	CHECK_STR(store_audit_set_client(s, NULL), "203.0.113.7");
	struct rows r = { 0 };
	CHECK(store_audit_each(s, NULL, row, &r, &err) == CV_OK);
	CHECK_INT(r.n, 4);
	/* version 3: "=" os_user (or "-"), then the client */
	char *in = xasprintf("callvault-audit-v3\n%s\n%lld\ncarol\nsearch\n"
			     "{}\n0\n=svc\n203.0.113.7",
		r.hash[1], (long long)r.ts[2]);
	char h[CV_SHA256_HEX];
	cv_sha256_hex(in, strlen(in), h);
	free(in);
	CHECK_STR(r.hash[2], h);
	in = xasprintf("callvault-audit-v3\n%s\n%lld\ndave\nsearch\n{}\n0"
		       "\n-\n203.0.113.7",
		r.hash[2], (long long)r.ts[3]);
	cv_sha256_hex(in, strlen(in), h);
	free(in);
	CHECK_STR(r.hash[3], h);
	int n = 0;
	struct audit_filter f = { .client = "203.0.113.7" };
	CHECK(store_audit_each(s, &f, count, &n, &err) == CV_OK);
	CHECK_INT(n, 2);
	store_close(s);
	int64_t checked = 0;
	CHECK_INT(verify(path, &checked), 0);
	CHECK_INT(checked, 4);
	sql(path, "UPDATE audit SET client = '198.51.100.1' WHERE id = 3");
	CHECK_INT(verify(path, &checked), 3);
	sql(path, "UPDATE audit SET client = NULL WHERE id = 3");
	CHECK_INT(verify(path, &checked), 3);
	sql(path, "UPDATE audit SET client = '203.0.113.7' WHERE id = 3");
	CHECK_INT(verify(path, &checked), 0);
	sql(path, "UPDATE audit SET os_user = 'svc' WHERE id = 4");
	CHECK_INT(verify(path, &checked), 4);
	sql(path, "UPDATE audit SET os_user = '' WHERE id = 4");
	CHECK_INT(verify(path, &checked), 4);
	sql(path, "UPDATE audit SET os_user = NULL WHERE id = 4");
	CHECK_INT(verify(path, &checked), 0);
	sql(path, "UPDATE audit SET client = '203.0.113.7' WHERE id = 2");
	CHECK_INT(verify(path, &checked), 2);
	free(path);
	free(err);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_old_store();
	test_filters();
	test_client();
	char *rm = xasprintf("rm -rf %s", dir);
	if (system(rm) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(rm);
	return t_done();
}
