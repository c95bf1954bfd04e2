/* store_backup.c — `callvault backup`: a verified online copy; see
 * store_status.h */
#include "store_int.h"
#include "store_status.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util.h"

/* The figures compared between the store's snapshot and the copy. */
static const char *const count_sql[] = {
	"SELECT count(*) FROM calls",
	"SELECT count(*) FROM versions",
	"SELECT count(*) FROM raw_payloads",
	"SELECT count(*) FROM webhook_events",
	"SELECT count(*) FROM audit",
};

static int read_counts(sqlite3 *db, int64_t v[5])
{
	for (size_t i = 0; i < CV_ARRAY_LEN(count_sql); i++) {
		sqlite3_stmt *st;
		int r = sqlite3_prepare_v2(db, count_sql[i], -1, &st, NULL);
		if (r != SQLITE_OK)
			return r;
		r = sqlite3_step(st);
		v[i] = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (r != SQLITE_ROW)
			return r == SQLITE_DONE ? SQLITE_ERROR : r;
	}
	return SQLITE_OK;
}

static enum cv_err fsync_file(const char *path, char **errmsg)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		enum cv_err e = cv_error(errmsg, CV_EIO, "fsync %s: %s", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return e;
	}
	close(fd);
	return CV_OK;
}

/* The snapshot: a read transaction on the store's connection, kept open
 * while the backup API copies from it (it uses the open transaction). */
static enum cv_err copy_snapshot(struct store *s, const char *tmp,
	int64_t want[5], char **errmsg)
{
	sqlite3 *dst = NULL;
	enum cv_err rc = store_exec(s, "BEGIN", errmsg);
	if (rc != CV_OK)
		return rc;
	if (read_counts(s->db, want) != SQLITE_OK) {
		rc = store_dberr(s, errmsg, "backup: read counts");
		goto out;
	}
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) !=
		SQLITE_OK) {
		rc = cv_error(errmsg, CV_EIO, "backup: cannot open %s: %s", tmp,
			dst ? sqlite3_errmsg(dst) : "out of memory");
		goto out;
	}
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", s->db, "main");
	int r = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
	if (b)
		sqlite3_backup_finish(b);
	if (r != SQLITE_DONE)
		rc = cv_error(errmsg, r == SQLITE_FULL ? CV_EIO : CV_EDB,
			"backup: copying to %s: %s", tmp, sqlite3_errmsg(dst));
out:
	if (dst && sqlite3_close(dst) != SQLITE_OK && rc == CV_OK)
		rc = cv_error(errmsg, CV_EIO, "backup: closing %s", tmp);
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

static int first_row(void *arg, int n, char **vals, char **cols)
{
	(void)cols;
	char **first = arg;
	if (n > 0 && !*first)
		*first = xstrdup(vals[0] ? vals[0] : "NULL");
	return 0;
}

/* Open the copy as a reader would and hold it to the snapshot. */
static enum cv_err verify_copy(const char *tmp, const int64_t want[5],
	char **errmsg)
{
	sqlite3 *db = NULL;
	char *ic = NULL;
	int64_t got[5];
	enum cv_err rc = CV_OK;
	if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE, NULL) !=
			SQLITE_OK ||
		sqlite3_exec(db, "PRAGMA integrity_check", first_row, &ic,
			NULL) != SQLITE_OK)
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"backup: the copy cannot be checked: %s",
			db ? sqlite3_errmsg(db) : "out of memory");
	else if (!ic || strcmp(ic, "ok") != 0)
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"backup: the copy fails integrity_check: %s",
			ic ? ic : "no result");
	else if (read_counts(db, got) != SQLITE_OK)
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"backup: the copy cannot be counted: %s",
			sqlite3_errmsg(db));
	for (size_t i = 0; rc == CV_OK && i < CV_ARRAY_LEN(count_sql); i++)
		if (got[i] != want[i])
			rc = cv_error(errmsg, CV_EINTEGRITY,
				"backup: the copy has %lld for `%s`, the "
				"store %lld",
				(long long)got[i], count_sql[i],
				(long long)want[i]);
	free(ic);
	sqlite3_close(db);
	return rc;
}

static void unlink_tmp(const char *tmp)
{
	static const char *const sfx[] = { "", "-journal", "-wal", "-shm" };
	for (size_t i = 0; i < CV_ARRAY_LEN(sfx); i++) {
		char *p = xasprintf("%s%s", tmp, sfx[i]);
		unlink(p);
		free(p);
	}
}

enum cv_err store_backup(struct store *s, const char *out_path,
	store_backup_hook before_publish, void *arg,
	struct store_backup_counts *c, char **errmsg)
{
	struct stat st;
	memset(c, 0, sizeof(*c));
	if (lstat(out_path, &st) == 0)
		return cv_error(errmsg, CV_EINVAL,
			"%s exists; a backup never overwrites", out_path);
	char *tmp = xasprintf("%s.tmp.%ld", out_path, (long)getpid());
	mode_t mode = (mode_t)cv_data_mode();
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		enum cv_err e = cv_error(errmsg, CV_EIO, "cannot create %s: %s",
			tmp, strerror(errno));
		free(tmp);
		return e;
	}
	(void)fchmod(fd, mode); /* journals and the WAL take this mode */
	close(fd);
	int64_t want[5];
	enum cv_err rc = copy_snapshot(s, tmp, want, errmsg);
	if (rc == CV_OK)
		rc = fsync_file(tmp, errmsg);
	if (rc == CV_OK)
		rc = verify_copy(tmp, want, errmsg);
	if (rc == CV_OK && stat(tmp, &st) == 0)
		c->bytes = (int64_t)st.st_size;
	if (rc == CV_OK && before_publish)
		rc = before_publish(tmp, arg, errmsg);
	if (rc == CV_OK && rename(tmp, out_path) != 0)
		rc = cv_error(errmsg, CV_EIO, "rename to %s: %s", out_path,
			strerror(errno));
	if (rc == CV_OK) {
		char *d = xstrdup(out_path);
		rc = cv_fsync_dir(dirname(d), errmsg);
		free(d);
	}
	unlink_tmp(tmp); /* after a rename only its journals remain */
	free(tmp);
	if (rc == CV_OK) {
		c->calls = want[0];
		c->versions = want[1];
		c->payloads = want[2];
		c->events = want[3];
		c->audit = want[4];
	}
	return rc;
}
