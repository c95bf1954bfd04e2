/* test_store.c — ingest, versions, quarantine, audit chain, integrity */
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "store/store.h"
#include "store/store_audit.h"
#include "store/store_webhook.h"
#include "util.h"
#include "t.h"

static char dir[] = "/tmp/cvstoreXXXXXX";

static struct store *open_fresh(const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct store *s = NULL;
	char *err = NULL;
	CHECK_MSG(store_open(&s, path, 0, &err) == CV_OK, "%s", err);
	free(err);
	free(path);
	return s;
}

static struct ingest_stats ingest(struct store *s, const char *json,
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

static int count_versions(const struct store_version *v, void *arg)
{
	int *n = arg;
	(*n)++;
	CHECK_INT(v->seq, *n);
	return 0;
}

static void test_versions(void)
{
	struct store *s = open_fresh("v.db");
	CHECK_INT(store_schema_version(s), store_schema_latest());
	const char *v1 =
		"{\"id\":\"c1\",\"createdAt\":\"2026-03-02T15:04:05Z\","
		"\"summary\":\"first\",\"transcript\":\"bot: hi\"}";
	const char *v1b =
		"{\"summary\":\"first\",\"transcript\":\"bot: hi\","
		" \"createdAt\":\"2026-03-02T15:04:05Z\",\"id\":\"c1\"}";
	const char *v2 =
		"{\"id\":\"c1\",\"createdAt\":\"2026-03-02T15:04:05Z\","
		"\"summary\":\"second\",\"transcript\":\"bot: hi\"}";
	struct ingest_stats st = ingest(s, v1, SRC_IMPORT);
	CHECK_INT(st.added, 1);
	st = ingest(s, v1b, SRC_WEBHOOK); /* same record, other bytes */
	CHECK_INT(st.unchanged, 1);
	st = ingest(s, v2, SRC_API);
	CHECK_INT(st.updated, 1);
	st = ingest(s, v2, SRC_API);
	CHECK_INT(st.unchanged, 1);

	struct store_call sc;
	char *err = NULL;
	CHECK(store_get_call(s, "c1", &sc, &err) == CV_OK);
	CHECK_STR(sc.log.summary, "second");
	CHECK_INT(sc.n_versions, 2);
	store_call_finish(&sc);
	int n = 0;
	CHECK(store_each_version(s, "c1", count_versions, &n, &err) == CV_OK);
	CHECK_INT(n, 2);
	CHECK(store_get_call(s, "nope", &sc, &err) == CV_ENOTFOUND);
	free(err);
	err = NULL;

	struct store_stats stats;
	CHECK(store_stats(s, &stats, &err) == CV_OK);
	CHECK_INT(stats.calls, 1);
	CHECK_INT(stats.versions, 2);
	CHECK_INT(stats.payloads, 2); /* only payloads that made versions */
	CHECK_INT(stats.n_months, 1);
	CHECK_STR(stats.months[0].key, "2026-03");
	store_stats_finish(&stats);
	CHECK_MSG(store_check(s, &err) == CV_OK, "%s", err);
	free(err);
	store_close(s);
}

struct version_probe {
	char raw_sha256[CV_SHA256_HEX];
	char source[16];
	int redacted;
	bool raw_kept;
};

static int probe_version(const struct store_version *v, void *arg)
{
	struct version_probe *p = arg;
	snprintf(p->raw_sha256, sizeof(p->raw_sha256), "%s", v->raw_sha256);
	snprintf(p->source, sizeof(p->source), "%s",
		store_source_name(v->source));
	p->redacted = v->redacted;
	p->raw_kept = v->raw_kept;
	return 0;
}

static void test_quarantine_and_secrets(void)
{
	struct store *s = open_fresh("q.db");
	struct ingest_stats st = ingest(s, "{\"id\":1}", SRC_IMPORT);
	CHECK_INT(st.quarantined, 1);
	st = ingest(s, "{\"id\":1}", SRC_IMPORT); /* kept once */
	CHECK_INT(st.quarantined, 1);
	const char *secret =
		"{\"id\":\"s1\",\"createdAt\":\"2026-03-02T15:04:05Z\","
		"\"executedCallActions\":[{\"actionType\":\"CUSTOM_ACTION\","
		"\"actionParameters\":{\"apiDetails\":{"
		"\"authenticationValue\":\"TOPSECRET\"}}}]}";
	st = ingest(s, secret, SRC_WEBHOOK);
	CHECK_INT(st.added, 1);
	/* the version proves what was received: the hash of the original */
	char want[CV_SHA256_HEX];
	cv_sha256_hex(secret, strlen(secret), want);
	struct version_probe probe = { 0 };
	char *e2 = NULL;
	CHECK(store_each_version(s, "s1", probe_version, &probe, &e2) == CV_OK);
	CHECK_STR(probe.raw_sha256, want);
	CHECK_INT(probe.redacted, 1);
	CHECK(!probe.raw_kept);
	CHECK_STR(probe.source, "webhook");
	free(e2);
	struct store_stats stats;
	char *err = NULL;
	CHECK(store_stats(s, &stats, &err) == CV_OK);
	CHECK_INT(stats.quarantined, 1);
	store_stats_finish(&stats);
	store_close(s);
	/* the secret is nowhere in the database file or its WAL (a small
	 * WAL is kept at close, not checkpointed) */
	bool redacted_seen = false;
	for (int f = 0; f < 2; f++) {
		char *path = xasprintf("%s/q.db%s", dir, f ? "-wal" : "");
		char *db = NULL;
		size_t len = 0;
		CHECK(cv_read_file(path, 1 << 26, &db, &len, &err) == CV_OK);
		CHECK(db && memmem(db, len, "TOPSECRET", 9) == NULL);
		if (db && memmem(db, len, "[redacted]", 10))
			redacted_seen = true;
		free(db);
		free(path);
	}
	CHECK(redacted_seen);
	free(err);
}

static void test_audit_chain(void)
{
	struct store *s = open_fresh("a.db");
	char *err = NULL;
	for (int i = 0; i < 5; i++)
		CHECK(store_audit_append(s, "alice", "search",
			      "{\"q\":\"refund\"}", i, &err) == CV_OK);
	int64_t checked = 0, bad = 0;
	CHECK(store_audit_verify(s, &checked, &bad, &err) == CV_OK);
	CHECK_INT(checked, 5);
	store_close(s);
	/* tamper through a second connection, the way an attacker would */
	char *path = xasprintf("%s/a.db", dir);
	char *cmd = xasprintf("sqlite3 %s \"UPDATE audit SET actor='mallory'"
			      " WHERE id=3\"",
		path);
	CHECK(system(cmd) == 0);
	{
		CHECK(store_open(&s, path, 0, &err) == CV_OK);
		CHECK(store_audit_verify(s, &checked, &bad, &err) ==
			CV_EINTEGRITY);
		CHECK_INT(bad, 3);
		CHECK(err && strstr(err, "entry 3"));
		store_close(s);
	}
	free(cmd);
	free(path);
	free(err);
}

static void test_digit_spans(void)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "call +1 (555) 010-2030 now", "15550102030" },
		{ "card ends in 4242.", "4242" },
		{ "a 12 b 345", "12 345" },
		{ "no digits", "" },
		{ "3.5% co-pay", "35" },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(t); i++) {
		char *d = store_digit_spans(t[i].in);
		CHECK_STR(d, t[i].out);
		free(d);
	}
}

static void test_reopen_and_readonly(void)
{
	struct store *s = open_fresh("r.db");
	store_close(s);
	char *path = xasprintf("%s/r.db", dir), *err = NULL;
	CHECK(store_open(&s, path, STORE_READONLY, &err) == CV_OK);
	store_close(s);
	char *missing = xasprintf("%s/missing.db", dir);
	CHECK(store_open(&s, missing, STORE_NOCREATE, &err) == CV_ENOTFOUND);
	CHECK(access(missing, F_OK) != 0);
	free(missing);
	free(path);
	free(err);
}

static off_t wal_bytes(const char *name)
{
	char *path = xasprintf("%s/%s-wal", dir, name);
	struct stat st;
	off_t n = stat(path, &st) == 0 ? st.st_size : -1;
	free(path);
	return n;
}

/*
 * A short command's commit stays in the WAL when it closes (no checkpoint,
 * no new WAL for the next one); a connection that saw the WAL grow past
 * a few hundred frames truncates it at close, so that the next process
 * does not copy the same frames into the database again.
 */
static void test_wal_at_close(void)
{
	char *err = NULL;
	struct store *s = open_fresh("w.db");
	CHECK(store_audit_append(s, "t", "search", "{}", 0, &err) == CV_OK);
	store_close(s);
	CHECK_MSG(wal_bytes("w.db") > 0, "wal %lld bytes after one commit",
		(long long)wal_bytes("w.db"));
	s = open_fresh("w.db");
	for (int i = 0; i < 400; i++)
		CHECK(store_audit_append(s, "t", "search", "{}", i, &err) ==
			CV_OK);
	store_close(s);
	CHECK_MSG(wal_bytes("w.db") == 0, "wal %lld bytes after 400 commits",
		(long long)wal_bytes("w.db"));
	s = open_fresh("w.db");
	int64_t checked = 0, bad = 0;
	CHECK(store_audit_verify(s, &checked, &bad, &err) == CV_OK);
	CHECK_INT(checked, 401);
	store_close(s);
	free(err);
}

static int64_t calls_in(struct store *s)
{
	struct store_stats st;
	char *err = NULL;
	CHECK_MSG(store_stats(s, &st, &err) == CV_OK, "%s", err);
	free(err);
	int64_t n = st.calls;
	store_stats_finish(&st);
	return n;
}

/* Ingest calls first..first+n-1, each with a transcript of about 8 KiB,
 * in one transaction; the result of the commit (or of the first error). */
static enum cv_err ingest_big(struct store *s, int first, int n)
{
	char *err = NULL;
	struct ingest_stats st = { 0 };
	struct buf t;
	buf_init(&t);
	for (int i = 0; i < 400; i++)
		buf_printf(&t, "%s: turn %d of a long call\\n",
			i % 2 ? "human" : "bot", i);
	enum cv_err rc = store_begin(s, &err);
	for (int i = first; rc == CV_OK && i < first + n; i++) {
		char *json =
			xasprintf("{\"id\":\"big%d\",\"createdAt\":"
				  "\"2026-03-02T15:04:05Z\",\"transcript\":"
				  "\"%s\"}",
				i, t.data);
		rc = ingest_payload(s, SRC_IMPORT, json, strlen(json), NULL,
			&st, NULL, &err);
		free(json);
	}
	if (rc == CV_OK)
		rc = store_commit(s, &err);
	else
		store_rollback(s);
	buf_finish(&t);
	free(err);
	return rc;
}

/*
 * store_vfs.c gathers the WAL's and the database's writes in memory and
 * writes them out before anything else touches the file. Check the two
 * things that could go wrong: another connection must see every committed
 * page (nothing left in the writer's buffer), and a write that fails when
 * it finally happens must fail the commit and keep nothing of it.
 */
static void test_gathered_writes(void)
{
	struct store *w = open_fresh("g.db"), *r = open_fresh("g.db");
	for (int round = 0; round < 4; round++) {
		CHECK(ingest_big(w, round * 300, 300) == CV_OK);
		CHECK_INT(calls_in(r), (round + 1) * 300);
	}
	char *err = NULL;
	CHECK_MSG(store_check(r, &err) == CV_OK, "%s", err);
	store_close(w);
	store_close(r);

	/* a file size limit below the WAL's end makes the gathered writes of
	 * a transaction fail (EFBIG) at its commit: it fits in the page
	 * cache, so nothing of it is written before */
	w = open_fresh("f.db");
	r = open_fresh("f.db");
	CHECK(ingest_big(w, 0, 100) == CV_OK);
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 256 * 1024;
	signal(SIGXFSZ, SIG_IGN);
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	CHECK_MSG(ingest_big(w, 1000, 100) != CV_OK,
		"a transaction over the file size limit committed");
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	signal(SIGXFSZ, SIG_DFL);

	CHECK_INT(calls_in(r), 100);
	CHECK_INT(calls_in(w), 100);
	CHECK(ingest_big(w, 5000, 10) == CV_OK);
	CHECK_INT(calls_in(r), 110);
	store_close(w);
	store_close(r);
	struct store *s = open_fresh("f.db");
	CHECK_INT(calls_in(s), 110);
	CHECK_MSG(store_check(s, &err) == CV_OK, "%s", err);
	store_close(s);
	free(err);
}


static int file_mode(const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct stat st;
	int m = stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
	free(path);
	return m;
}

/*
 * Issue 25. A WAL left large (an import, a process killed) is emptied by
 * the close that finds no other connection open, not by one that does
 * (a serve keeps the WAL index); the store's files are created 0600
 * under any umask; and a writer that never checkpoints on its own (the
 * webhook writer) still keeps the WAL under its bound.
 */
static void test_wal_state(void)
{
	mode_t old = umask(0);
	struct store *a = open_fresh("ws.db"), *b = open_fresh("ws.db");
	umask(old);
	CHECK_INT(file_mode("ws.db"), 0600);
	CHECK_INT(file_mode("ws.db-wal"), 0600);
	CHECK_INT(file_mode("ws.db-shm"), 0600);
	CHECK(ingest_big(a, 0, 400) == CV_OK);
	off_t big = wal_bytes("ws.db");
	CHECK_MSG(big > (1 << 20), "wal %lld bytes", (long long)big);
	store_close(a);
	CHECK_MSG(wal_bytes("ws.db") == big,
		"wal %lld bytes, want %lld: "
		"emptied under another connection",
		(long long)wal_bytes("ws.db"), (long long)big);
	store_close(b);
	CHECK_MSG(wal_bytes("ws.db") == 0,
		"wal %lld bytes after the last "
		"close",
		(long long)wal_bytes("ws.db"));

	/* 1,500 calls of ~8 KiB (~21,000 frames: 86 MB of WAL unbounded)
	 * in commits of 50, from a writer with no automatic checkpoints
	 * while a reader stays open */
	struct store *w = open_fresh("wb.db"), *r = open_fresh("wb.db");
	store_wal_autocheckpoint(w, 0);
	off_t most = 0;
	for (int i = 0; i < 30; i++) {
		CHECK(ingest_big(w, i * 50, 50) == CV_OK);
		if (wal_bytes("wb.db") > most)
			most = wal_bytes("wb.db");
	}
	CHECK_INT(calls_in(r), 1500);
	/* 8,192 frames of 4 KiB + 24 bytes (34 MB), and one commit past */
	CHECK_MSG(most < 40 << 20, "wal grew to %lld bytes", (long long)most);
	store_close(w);
	store_close(r);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_versions();
	test_quarantine_and_secrets();
	test_audit_chain();
	test_digit_spans();
	test_reopen_and_readonly();
	test_wal_at_close();
	test_gathered_writes();
	test_wal_state();
	char *rm = xasprintf("rm -rf %s", dir);
	if (system(rm) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(rm);
	return t_done();
}
