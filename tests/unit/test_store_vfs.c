/*
 * test_store_vfs.c — the store's write-gathering VFS (src/store/
 * store_vfs.c) under plain SQLite, where a test can shrink the page cache
 * and look at the files. A unit test of the store's internals, so it
 * includes store_int.h.
 *
 * The case that matters most: a transaction larger than the page cache
 * spills pages to the WAL, writes some of them again, and at commit SQLite
 * rewrites the header (checksums) of every frame from the first rewritten
 * one on. store_vfs.c writes those as whole frames so they gather. If it
 * got one byte wrong, nothing would show while the WAL index is in shared
 * memory; a process opening the files afterwards recovers the WAL from
 * its checksums and would stop at the bad frame, losing the commit. So
 * the test copies the database and WAL right after the commit, while
 * they are open (as a crash would leave them), and counts what a fresh
 * connection recovers; under synchronous=FULL and under NORMAL, where no
 * sync follows the commit to write the buffer out.
 *
 * Then a transaction that spilled and rolled back while another
 * connection commits: its frames must not be written over the other's
 * (they were, at close, before the buffer was tied to the write lock);
 * and a device without powersafe overwrite, which is not gathered.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store_int.h"
#include "util.h"
#include "t.h"

static char dir[] = "/tmp/cvvfsXXXXXX";

static sqlite3 *open_db(const char *path, const char *vfs)
{
	sqlite3 *db = NULL;
	CHECK_MSG(sqlite3_open_v2(path, &db,
			  SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			  vfs) == SQLITE_OK,
		"open %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
	return db;
}

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	CHECK_MSG(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK,
		"%s: %s", sql, err ? err : "?");
	sqlite3_free(err);
}

static long long scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
		sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		CHECK_MSG(0, "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return v;
}

static void copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY),
	    out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(in >= 0 && out >= 0);
	char buf[65536];
	ssize_t n;
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		CHECK(write(out, buf, (size_t)n) == n);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
}

/* Open a fresh database on the gathering VFS with a 20-page cache. */
static sqlite3 *open_small(const char *path, const char *sync)
{
	const char *vfs = store_vfs_register();
	CHECK(vfs != NULL);
	sqlite3 *db = open_db(path, vfs);
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_busy_timeout(db, 5000);
	char *sql = xasprintf("PRAGMA journal_mode = WAL;"
			      "PRAGMA synchronous = %s;"
			      "PRAGMA wal_autocheckpoint = 0;"
			      "PRAGMA cache_size = 20;",
		sync);
	exec(db, sql);
	free(sql);
	return db;
}

/* 2,000 rows of ~1 KiB through a 20-page cache: spills; then every tenth
 * row again, so spilled pages are written twice. */
static const char big_tx[] =
	"BEGIN;"
	"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1"
	"  FROM n WHERE i < 2000)"
	" INSERT INTO t SELECT i, printf('%.1000c', char(65 + i % 26))"
	"  || i FROM n;"
	"UPDATE t SET v = v || '-again' WHERE k % 10 = 0;";

static void check_integrity(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	CHECK(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) ==
			SQLITE_OK &&
		sqlite3_step(st) == SQLITE_ROW);
	if (st)
		CHECK_STR((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
}

static void big_transaction_recovers(const char *name, const char *sync)
{
	char *path = xasprintf("%s/%s.db", dir, name);
	sqlite3 *db = open_small(path, sync);
	exec(db, "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT);"
		 "CREATE INDEX t_v ON t(v);");
	exec(db, big_tx);
	exec(db, "COMMIT");

	/* at once, before this connection touches the WAL again: the files
	 * as a crash would leave them, WAL not checkpointed */
	char *wal = xasprintf("%s-wal", path);
	char *copy = xasprintf("%s/%s-copy.db", dir, name);
	char *copy_wal = xasprintf("%s-wal", copy);
	copy_file(path, copy);
	copy_file(wal, copy_wal);

	CHECK_INT(scalar(db, "SELECT count(*) FROM t"), 2000);
	sqlite3 *plain = open_db(path, NULL); /* SQLite's own VFS */
	CHECK_INT(scalar(plain, "SELECT count(*) FROM t WHERE v LIKE"
				"'%-again'"),
		200);
	sqlite3_close(plain);

	sqlite3 *rec = open_db(copy, NULL);
	CHECK_MSG(scalar(rec, "SELECT count(*) FROM t") == 2000,
		"synchronous=%s: a crash right after COMMIT recovers %lld "
		"rows of 2000",
		sync, scalar(rec, "SELECT count(*) FROM t"));
	CHECK_INT(scalar(rec, "SELECT count(*) FROM t WHERE v LIKE"
			      "'%-again'"),
		200);
	check_integrity(rec);
	sqlite3_close(rec);
	sqlite3_close(db);
	free(copy_wal);
	free(copy);
	free(wal);
	free(path);
}

static void test_big_transaction_recovers(void)
{
	big_transaction_recovers("full", "FULL");
	big_transaction_recovers("normal", "NORMAL");
}

/* A spills frames, then rolls back; B commits at the same WAL offsets;
 * A reads, then closes. B's commit must be intact, then and after
 * recovery. */
static void test_rollback_under_another_writer(void)
{
	char *path = xasprintf("%s/rb.db", dir);
	sqlite3 *a = open_small(path, "FULL");
	exec(a, "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT);"
		"INSERT INTO t VALUES (0, 'seed');");
	sqlite3 *b = open_small(path, "FULL");
	exec(b, "PRAGMA cache_size = -20000"); /* B writes at its commit */
	exec(a, "PRAGMA cache_size = 10;"
		"BEGIN;"
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1"
		"  FROM n WHERE i < 300)"
		" INSERT INTO t SELECT 100000 + i, printf('%.1000c', 'A')"
		"  FROM n;"
		"ROLLBACK;");
	exec(b, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1"
		"  FROM n WHERE i < 600)"
		" INSERT INTO t SELECT i, printf('%.1000c', 'B') FROM n;");
	/* A reads B's frames, where its own abandoned ones were */
	CHECK_INT(scalar(a, "SELECT count(*) FROM t WHERE v LIKE 'B%'"), 600);
	sqlite3_close(a);
	sqlite3 *plain = open_db(path, NULL);
	CHECK_INT(scalar(plain, "SELECT count(*) FROM t WHERE v LIKE 'B%'"),
		600);
	CHECK_INT(scalar(plain, "SELECT count(*) FROM t WHERE k >= 100000"), 0);
	check_integrity(plain);
	sqlite3_close(plain);
	sqlite3_close(b);
	plain = open_db(path, NULL); /* every connection closed: recovery */
	CHECK_INT(scalar(plain, "SELECT count(*) FROM t"), 601);
	check_integrity(plain);
	sqlite3_close(plain);
	free(path);
}

/* psow=0: SQLite pads the WAL and syncs inside a commit's frames; such a
 * WAL is passed through, and another connection reads every commit. */
static void test_not_powersafe(void)
{
	const char *vfs = store_vfs_register();
	char *uri = xasprintf("file:%s/psow.db?psow=0", dir);
	int fl = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI;
	sqlite3 *a = NULL, *b = NULL;
	CHECK(sqlite3_open_v2(uri, &a, fl, vfs) == SQLITE_OK);
	exec(a, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
		"PRAGMA wal_autocheckpoint = 0;"
		"CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT);");
	CHECK(sqlite3_open_v2(uri, &b, fl, NULL) == SQLITE_OK);
	int bad = 0;
	for (int i = 0; i < 40; i++) {
		char *sql = xasprintf("INSERT INTO t VALUES (%d,"
				      " printf('%%.500c', 'x'))",
			i);
		exec(a, sql);
		free(sql);
		bad += scalar(b, "SELECT count(*) FROM t") != i + 1;
	}
	CHECK_INT(bad, 0);
	sqlite3_close(b);
	sqlite3_close(a);
	free(uri);
}

/* Review finding (write turns, taken out): a connection that had just
 * committed was refused the write lock while another waited, and SQLite
 * does not call the busy handler for a transaction that has already
 * read, so a read-then-write transaction got SQLITE_BUSY at once where
 * it used to wait. Under the store's VFS it must wait like under the
 * plain one. */
static atomic_int b_waiting, a_done;

/* b's busy handler: it says it is waiting, then waits for a to finish
 * its read-then-write transaction before retrying. So b is a waiter for
 * the whole of a's turn whatever the scheduler does; with a sleeping
 * busy_timeout b could take the lock between a's COMMIT and a's INSERT
 * (a loaded machine, an ASan build), and then a's read snapshot is stale
 * and SQLITE_BUSY is SQLite's answer under any VFS. */
static int b_busy(void *arg, int n)
{
	(void)arg;
	(void)n;
	atomic_store(&b_waiting, 1);
	for (int i = 0; i < 5000 && !atomic_load(&a_done); i++)
		usleep(1000);
	return 1;
}

static void *immediate_writer(void *arg)
{
	sqlite3 *b = arg;
	if (sqlite3_exec(b,
		    "BEGIN IMMEDIATE; INSERT INTO t VALUES(9, 'w');"
		    " COMMIT",
		    NULL, NULL, NULL) != SQLITE_OK)
		sqlite3_exec(b, "ROLLBACK", NULL, NULL, NULL);
	return NULL;
}

static void test_read_then_write_after_commit(void)
{
	const char *vfs = store_vfs_register();
	CHECK(vfs != NULL);
	char *path = xasprintf("%s/rw.db", dir);
	sqlite3 *a = open_db(path, vfs), *b = open_db(path, vfs);
	sqlite3_busy_timeout(a, 5000);
	sqlite3_busy_handler(b, b_busy, NULL);
	exec(a, "PRAGMA journal_mode=WAL; CREATE TABLE t(k, v)");
	int busy = 0, waited = 0;
	for (int i = 0; i < 20; i++) {
		pthread_t th;
		atomic_store(&b_waiting, 0);
		atomic_store(&a_done, 0);
		exec(a, "BEGIN IMMEDIATE; INSERT INTO t VALUES(1, 'a')");
		CHECK(pthread_create(&th, NULL, immediate_writer, b) == 0);
		for (int k = 0; k < 5000 && !atomic_load(&b_waiting); k++)
			usleep(1000); /* until b waits in its busy handler */
		waited += atomic_load(&b_waiting);
		exec(a, "COMMIT");
		if (sqlite3_exec(a,
			    "BEGIN; SELECT count(*) FROM t;"
			    " INSERT INTO t VALUES(2, 'r'); COMMIT",
			    NULL, NULL, NULL) != SQLITE_OK) {
			busy++;
			sqlite3_exec(a, "ROLLBACK", NULL, NULL, NULL);
		}
		atomic_store(&a_done, 1);
		pthread_join(th, NULL);
	}
	CHECK_INT(waited, 20);
	CHECK_INT(busy, 0);
	CHECK_INT(scalar(a, "SELECT count(*) FROM t WHERE v = 'w'"), 20);
	sqlite3_close(a);
	sqlite3_close(b);
	free(path);
}

/*
 * The writers' queue (store_wlock.c). A serve-like connection commits
 * back to back on its own thread; a short writer (a search's audit
 * entry) must get in within a bound each time. Without the queue its
 * busy handler woke to find the lock taken again, for many commits.
 */
struct hammer {
	struct store *s;
	atomic_bool stop;
	int commits;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	while (!atomic_load(&h->stop)) {
		if (store_begin(h->s, NULL) != CV_OK)
			continue;
		for (int i = 0; i < 20; i++)
			(void)store_exec(h->s,
				"INSERT INTO w VALUES(1, randomblob(200))",
				NULL);
		if (store_commit(h->s, NULL) == CV_OK)
			h->commits++;
	}
	return NULL;
}

static struct store *open_store(const char *path, bool queue)
{
	struct store *s = NULL;
	char *err = NULL;
	CHECK_MSG(store_open(&s, path, 0, &err) == CV_OK, "open %s: %s", path,
		err ? err : "?");
	free(err);
	if (!queue) { /* as before the queue: straight to SQLite's lock */
		s->wlock_tried = true;
		s->wlock_fd = -1;
	}
	return s;
}

/* the worst wait of a short writer, in ms, over `tries` */
static int64_t short_writer_worst(const char *path, bool queue, int tries,
	int *failed)
{
	struct hammer h = { .s = open_store(path, queue) };
	struct store *me = open_store(path, queue);
	store_set_busy_timeout(h.s, 2000);
	store_set_busy_timeout(me, 2000);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, hammer_main, &h) == 0);
	usleep(20000);
	int64_t worst = 0;
	for (int i = 0; i < tries; i++) {
		int64_t t0 = cv_mono_us();
		enum cv_err rc = store_begin(me, NULL);
		if (rc == CV_OK) {
			rc = store_exec(me, "INSERT INTO w VALUES(2, 'me')",
				NULL);
			rc = rc == CV_OK ? store_commit(me, NULL) : rc;
		}
		*failed += rc != CV_OK;
		int64_t ms = (cv_mono_us() - t0) / 1000;
		worst = ms > worst ? ms : worst;
		usleep(5000);
	}
	atomic_store(&h.stop, true);
	pthread_join(th, NULL);
	CHECK(h.commits > tries); /* it did commit back to back */
	store_close(me);
	store_close(h.s);
	return worst;
}

static void test_short_writer_gets_in(void)
{
	char *path = xasprintf("%s/queue.db", dir);
	struct store *s = open_store(path, true);
	CHECK(store_exec(s, "CREATE TABLE w(k, v)", NULL) == CV_OK);
	store_close(s);
	int failed = 0;
	int64_t worst = short_writer_worst(path, true, 40, &failed);
	CHECK_INT(failed, 0);
	CHECK_MSG(worst < 300, "a short writer waited %lld ms",
		(long long)worst);
	char *lock = xasprintf("%s-wlock", path);
	struct stat st;
	CHECK(stat(lock, &st) == 0 && (st.st_mode & 077) == 0);
	free(lock);
	free(path);
}

/* The regression that took write turns out, with the queue: a
 * connection that has just committed, while the turn is taken (h took it
 * and is about to write) and another writer queues behind it, runs a
 * read-then-write transaction, which SQLite never lets wait. The queue
 * is not in its way: only store_begin queues, and SQLite's lock is free. */
static void *queued_writer(void *arg)
{
	struct store *b = arg;
	if (store_begin(b, NULL) != CV_OK ||
		store_exec(b, "INSERT INTO t VALUES(9, 'w')", NULL) != CV_OK ||
		store_commit(b, NULL) != CV_OK)
		store_rollback(b);
	return NULL;
}

static void test_read_then_write_with_queue(void)
{
	char *path = xasprintf("%s/rwq.db", dir);
	struct store *a = open_store(path, true), *b = open_store(path, true);
	struct store *h = open_store(path, true);
	CHECK(store_exec(a, "CREATE TABLE t(k, v)", NULL) == CV_OK);
	int busy = 0;
	for (int i = 0; i < 20; i++) {
		pthread_t th;
		CHECK(store_begin(a, NULL) == CV_OK);
		CHECK(store_exec(a, "INSERT INTO t VALUES(1, 'a')", NULL) ==
			CV_OK);
		CHECK(store_commit(a, NULL) == CV_OK);
		CHECK(store_wlock_acquire(h));
		CHECK(pthread_create(&th, NULL, queued_writer, b) == 0);
		usleep(3000); /* b now waits in the queue */
		if (store_exec(a,
			    "BEGIN; SELECT count(*) FROM t;"
			    " INSERT INTO t VALUES(2, 'r'); COMMIT",
			    NULL) != CV_OK) {
			busy++;
			store_rollback(a);
		}
		CHECK_INT(scalar(a->db, "SELECT count(*) FROM t WHERE v = 'w'"),
			i); /* b waited for its turn */
		store_wlock_release(h);
		pthread_join(th, NULL);
	}
	CHECK_INT(busy, 0);
	CHECK_INT(scalar(a->db, "SELECT count(*) FROM t WHERE v = 'w'"), 20);
	store_close(a);
	store_close(b);
	store_close(h);
	free(path);
}

/*
 * Review findings on the queue. (1) A transaction that SQLite rolls back
 * by itself (an I/O error, out of memory; a raw ROLLBACK here) left
 * in_tx set and the turn held when the caller rolled back only if a
 * transaction was still active: every other writer then waited its
 * whole busy bound. store_rollback now always runs on those paths, and
 * the connection's next store_begin gives the turn back itself. (2) The
 * wait for the turn and SQLite's busy wait each had the full bound, so
 * a locked store failed after twice the busy timeout.
 */
static void test_queue_turn_not_leaked(void)
{
	char *path = xasprintf("%s/leak.db", dir);
	struct store *a = open_store(path, true), *b = open_store(path, true);
	store_set_busy_timeout(b, 300);
	CHECK(store_begin(a, NULL) == CV_OK);
	CHECK(sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
	store_rollback(a); /* no transaction is active: the turn still goes */
	CHECK(!a->wlock_held && !a->in_tx);
	int64_t t0 = cv_mono_ms();
	CHECK(store_begin(b, NULL) == CV_OK);
	CHECK(store_commit(b, NULL) == CV_OK);
	CHECK_MSG(cv_mono_ms() - t0 < 150, "b waited %lld ms for a's turn",
		(long long)(cv_mono_ms() - t0));
	/* a caller that does not roll back: the next store_begin does */
	CHECK(store_begin(a, NULL) == CV_OK);
	CHECK(sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(store_begin(a, NULL) == CV_OK);
	CHECK(store_commit(a, NULL) == CV_OK);
	CHECK(!a->wlock_held && !a->in_tx);
	/* (2): a holds the store; b gives up after its bound, not twice */
	CHECK(store_begin(a, NULL) == CV_OK);
	t0 = cv_mono_ms();
	CHECK(store_begin(b, NULL) != CV_OK);
	int64_t waited = cv_mono_ms() - t0;
	CHECK_MSG(waited >= 280 && waited < 500,
		"a begin on a locked store failed after %lld ms (bound 300)",
		(long long)waited);
	store_rollback(a);
	store_close(a);
	store_close(b);
	free(path);
}

/* Nobody waiting: the queue costs a repeat writer nothing that shows
 * (200 commits, CPU time, alternating rounds with and without it;
 * synchronous off, so that the disk's flushes do not hide it). */
static int64_t thread_cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void test_queue_costs_nothing_alone(void)
{
	char *path = xasprintf("%s/alone.db", dir);
	int64_t t[2] = { 0, 0 };
	for (int round = 0; round < 8; round++) {
		bool queue = round % 2 == 0;
		struct store *s = open_store(path, queue);
		CHECK(store_exec(s,
			      "PRAGMA synchronous = OFF;"
			      " CREATE TABLE IF NOT EXISTS t(k, v)",
			      NULL) == CV_OK);
		int64_t t0 = thread_cpu_us();
		for (int i = 0; i < 200; i++) {
			CHECK(store_begin(s, NULL) == CV_OK);
			CHECK(store_exec(s, "INSERT INTO t VALUES(3, 'x')",
				      NULL) == CV_OK);
			CHECK(store_commit(s, NULL) == CV_OK);
		}
		t[queue] += thread_cpu_us() - t0;
		CHECK(queue == (s->wlock_fd >= 0));
		store_close(s);
	}
	CHECK_MSG(t[1] < t[0] * 13 / 10 + 10000,
		"200 commits: %lld µs of CPU with the queue, %lld without",
		(long long)t[1], (long long)t[0]);
	free(path);
}

/* store_short_writer_waiting: what serve's webhook writer asks between
 * the events of a group commit, to commit early and let a queued short
 * writer in (webhook_queue.c). False alone and outside a transaction;
 * false while a bulk writer (import, sync) waits, so that serve's group
 * commits do not shrink to an event each while one runs; true while a
 * short one waits, and that one gets in once the holder commits. */
struct waiter {
	struct store *s;
	atomic_bool in;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	if (store_begin(w->s, NULL) == CV_OK) {
		atomic_store(&w->in, true);
		if (store_commit(w->s, NULL) != CV_OK)
			atomic_store(&w->in, false);
	}
	return NULL;
}

static void test_writers_waiting(void)
{
	char *path = xasprintf("%s/waiting.db", dir);
	struct store *a = open_store(path, true);
	struct waiter w = { .s = open_store(path, true) };
	store_set_busy_timeout(a, 5000);
	store_set_busy_timeout(w.s, 5000);
	CHECK(!store_short_writer_waiting(a)); /* no transaction */
	CHECK(store_begin(a, NULL) == CV_OK);
	CHECK(!store_short_writer_waiting(a)); /* nobody queued */
	/* a bulk writer queued: not a short one */
	struct waiter bulk = { .s = open_store(path, true) };
	store_set_busy_timeout(bulk.s, 5000);
	CHECK(store_set_bulk(bulk.s, true, NULL) == CV_OK);
	pthread_t bth;
	CHECK(pthread_create(&bth, NULL, waiter_main, &bulk) == 0);
	usleep(50000); /* it polls for the turn by now */
	CHECK(!atomic_load(&bulk.in));
	CHECK(!store_short_writer_waiting(a));
	pthread_t th;
	CHECK(pthread_create(&th, NULL, waiter_main, &w) == 0);
	bool seen = false;
	for (int i = 0; i < 2000 && !seen; i++) {
		seen = store_short_writer_waiting(a);
		if (!seen)
			usleep(1000);
	}
	CHECK_MSG(seen, "a queued writer was not seen");
	CHECK(!atomic_load(&w.in)); /* it waits for a's turn */
	CHECK(store_commit(a, NULL) == CV_OK);
	pthread_join(th, NULL);
	pthread_join(bth, NULL);
	CHECK(atomic_load(&w.in));
	CHECK(atomic_load(&bulk.in));
	CHECK(!store_short_writer_waiting(a));
	store_close(bulk.s);
	store_close(w.s);
	store_close(a);
	free(path);
}

/*
 * Two processes upgrading one store at once (issue 25's index build takes
 * seconds on a big store): the second read the schema version, waited
 * for the first's migration to commit, then ran the same migration again
 * and failed ("index calls_time_filters already exists"). It now reads
 * the version again once it has the lock.
 */
struct opener {
	const char *path;
	enum cv_err rc;
	char *err;
};

static void *opener_main(void *arg)
{
	struct opener *op = arg;
	struct store *s = NULL;
	op->rc = store_open(&s, op->path, 0, &op->err);
	store_close(s);
	return NULL;
}

static void test_migration_race(void)
{
	char *path = xasprintf("%s/race.db", dir);
	struct store *s = open_store(path, false);
	store_close(s);
	/* the store at the version before the last migration (its schema
	 * already migrated: a second run of that migration fails, as most
	 * do, being no IF NOT EXISTS) */
	int last = store_n_migrations;
	CHECK_INT(last >= 1, 1);
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	char *undo = xasprintf("PRAGMA user_version = %d;", last - 1);
	CHECK(sqlite3_exec(db, undo, NULL, NULL, NULL) == SQLITE_OK);
	free(undo);
	/* db holds the write lock while another process opens the store */
	CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
		SQLITE_OK);
	struct opener op = { .path = path };
	pthread_t th;
	CHECK(pthread_create(&th, NULL, opener_main, &op) == 0);
	usleep(200000); /* it read version last - 1 and waits for the lock */
	/* the first process's migration commits */
	char *redo = xasprintf("PRAGMA user_version = %d; COMMIT;", last);
	char *e = NULL;
	CHECK_MSG(sqlite3_exec(db, redo, NULL, NULL, &e) == SQLITE_OK,
		"migrating: %s", e ? e : "?");
	sqlite3_free(e);
	free(redo);
	pthread_join(th, NULL);
	CHECK_MSG(op.rc == CV_OK, "the second opener: %s",
		op.err ? op.err : "?");
	free(op.err);
	sqlite3_close(db);
	free(path);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_big_transaction_recovers();
	test_rollback_under_another_writer();
	test_not_powersafe();
	test_read_then_write_after_commit();
	test_short_writer_gets_in();
	test_read_then_write_with_queue();
	test_queue_turn_not_leaked();
	test_queue_costs_nothing_alone();
	test_writers_waiting();
	test_migration_race();
	char *rm = xasprintf("rm -rf %s", dir);
	if (system(rm) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(rm);
	return t_done();
}
