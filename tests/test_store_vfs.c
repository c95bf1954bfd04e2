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
 * the test copies the database and WAL while they are open (as a crash
 * would leave them) and counts what a fresh connection recovers.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_int.h"
#include "util.h"
#include "t.h"

static char dir[] = "/tmp/cvvfsXXXXXX";

static sqlite3 *open_db(const char *path, const char *vfs)
{
	sqlite3 *db = NULL;
	CHECK_MSG(sqlite3_open_v2(path, &db,
			  SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) ==
			SQLITE_OK,
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
	int in = open(from, O_RDONLY), out = open(to,
		O_WRONLY | O_CREAT | O_TRUNC, 0600);
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

static void test_big_transaction_recovers(void)
{
	const char *vfs = store_vfs_register();
	CHECK(vfs != NULL);
	char *path = xasprintf("%s/big.db", dir);
	sqlite3 *db = open_db(path, vfs);
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
		 "PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = 20;"
		 "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT);"
		 "CREATE INDEX t_v ON t(v);");
	/* 2,000 rows of ~1 KiB through a 20-page cache: spills; then every
	 * tenth row again, so spilled pages are written twice */
	exec(db, "BEGIN;"
		 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1"
		 "  FROM n WHERE i < 2000)"
		 " INSERT INTO t SELECT i, printf('%.1000c', char(65 + i % 26))"
		 "  || i FROM n;"
		 "UPDATE t SET v = v || '-again' WHERE k % 10 = 0;"
		 "COMMIT;");
	CHECK_INT(scalar(db, "SELECT count(*) FROM t"), 2000);

	/* a second connection on SQLite's own VFS reads it all */
	sqlite3 *plain = open_db(path, NULL);
	CHECK_INT(scalar(plain, "SELECT count(*) FROM t WHERE v LIKE"
				"'%-again'"),
		200);
	sqlite3_close(plain);

	/* the files as a crash would leave them, WAL not checkpointed */
	char *wal = xasprintf("%s-wal", path);
	char *copy = xasprintf("%s/copy.db", dir);
	char *copy_wal = xasprintf("%s-wal", copy);
	copy_file(path, copy);
	copy_file(wal, copy_wal);
	sqlite3 *rec = open_db(copy, NULL);
	CHECK_INT(scalar(rec, "SELECT count(*) FROM t"), 2000);
	CHECK_INT(scalar(rec, "SELECT count(*) FROM t WHERE v LIKE"
			      "'%-again'"),
		200);
	sqlite3_stmt *st = NULL;
	CHECK(sqlite3_prepare_v2(rec, "PRAGMA integrity_check", -1, &st,
		      NULL) == SQLITE_OK &&
		sqlite3_step(st) == SQLITE_ROW);
	if (st)
		CHECK_STR((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(rec);
	sqlite3_close(db);
	free(copy_wal);
	free(copy);
	free(wal);
	free(path);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_big_transaction_recovers();
	char *rm = xasprintf("rm -rf %s", dir);
	if (system(rm) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(rm);
	return t_done();
}
