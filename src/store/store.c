/* store.c — opening, migrating and transactions; see store.h */
#include "store_int.h"
#include "store_terms.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util.h"

enum cv_err store_dberr(struct store *s, char **errmsg, const char *what)
{
	int code = sqlite3_extended_errcode(s->db);
	int prim = code & 0xff;
	enum cv_err e = CV_EDB;
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		e = CV_EBUSY;
	else if (prim == SQLITE_FULL || prim == SQLITE_IOERR)
		e = CV_EIO;
	else if (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB)
		e = CV_EINTEGRITY;
	return cv_error(errmsg, e, "%s: %s (%s)", what, sqlite3_errmsg(s->db),
		sqlite3_errstr(code));
}

enum cv_err store_step_done(struct store *s, sqlite3_stmt *st, const char *what,
	char **errmsg)
{
	int r = sqlite3_step(st);
	enum cv_err rc = r == SQLITE_DONE ? CV_OK
					  : store_dberr(s, errmsg, what);
	sqlite3_reset(st);
	return rc;
}

enum cv_err store_exec_text(struct store *s, const char *sql, const char *text,
	const char *what, char **errmsg)
{
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	store_bind_text(st, 1, text);
	return store_step_done(s, st, what, errmsg);
}

fts5_api *store_fts5_api(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) !=
		SQLITE_OK)
		return NULL;
	sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return api;
}

enum cv_err store_exec(struct store *s, const char *sql, char **errmsg)
{
	char *err = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		enum cv_err e = store_dberr(s, errmsg, "store");
		if (errmsg && err) {
			free(*errmsg);
			*errmsg = xasprintf("store: %s", err);
		}
		sqlite3_free(err);
		return e;
	}
	return CV_OK;
}

enum cv_err store_scalar_int(struct store *s, const char *sql, int64_t *out,
	char **errmsg)
{
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	int r = sqlite3_step(st);
	*out = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return r == SQLITE_ROW ? CV_OK : store_dberr(s, errmsg, "query");
}

static size_t slot_of(const char *sql)
{
	uintptr_t h = (uintptr_t)sql;
	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 7) % STMT_CACHE_SIZE;
}

sqlite3_stmt *store_stmt(struct store *s, const char *sql, char **errmsg)
{
	size_t i = slot_of(sql);
	for (size_t n = 0; n < STMT_CACHE_SIZE; n++) {
		struct stmt_slot *sl = &s->cache[(i + n) % STMT_CACHE_SIZE];
		if (sl->sql == sql) {
			sqlite3_reset(sl->stmt);
			sqlite3_clear_bindings(sl->stmt);
			return sl->stmt;
		}
		if (!sl->sql) {
			if (sqlite3_prepare_v3(s->db, sql, -1,
				    SQLITE_PREPARE_PERSISTENT, &sl->stmt,
				    NULL) != SQLITE_OK) {
				store_dberr(s, errmsg, "prepare");
				sl->stmt = NULL;
				return NULL;
			}
			sl->sql = sql;
			return sl->stmt;
		}
	}
	cv_error(errmsg, CV_EDB, "statement cache full");
	return NULL;
}

void store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

void store_bind_tri(sqlite3_stmt *st, int i, int v)
{
	if (v < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int(st, i, v);
}

char *store_col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrndup((const char *)t,
			   (size_t)sqlite3_column_bytes(st, i))
		 : NULL;
}

int store_schema_latest(void)
{
	return store_n_migrations;
}

/* A pragma's integer value, dflt when it cannot be read. */
static int64_t pragma_int(struct store *s, const char *sql, int64_t dflt)
{
	sqlite3_stmt *st;
	int64_t v = dflt;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

int store_schema_version(struct store *s)
{
	return (int)pragma_int(s, "PRAGMA user_version", -1);
}

static enum cv_err migrate(struct store *s, char **errmsg)
{
	int v = store_schema_version(s);
	if (v < 0)
		return store_dberr(s, errmsg, "read schema version");
	if (v > store_n_migrations)
		return cv_error(errmsg, CV_EDB,
			"store schema version %d is newer than this callvault "
			"(%d); upgrade callvault",
			v, store_n_migrations);
	for (; v < store_n_migrations; v++) {
		enum cv_err rc = store_exec(s, "BEGIN IMMEDIATE", errmsg);
		if (rc != CV_OK)
			return rc;
		/* another process may have migrated while this one waited
		 * for the lock (an index build takes seconds on a big store):
		 * go on from the version it left */
		int now = store_schema_version(s);
		if (now > v) {
			rc = store_exec(s, "COMMIT", errmsg);
			if (rc != CV_OK)
				return rc;
			v = now - 1;
			continue;
		}
		rc = store_exec(s, store_migrations[v].sql, errmsg);
		if (rc == CV_OK) {
			char pragma[64];
			snprintf(pragma, sizeof(pragma),
				"PRAGMA user_version = %d", v + 1);
			rc = store_exec(s, pragma, errmsg);
		}
		if (rc == CV_OK)
			rc = store_exec(s, "COMMIT", errmsg);
		if (rc != CV_OK) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			char *inner = errmsg && *errmsg ? *errmsg : NULL;
			if (errmsg) {
				*errmsg = xasprintf("migration %d (%s): %s",
					v + 1, store_migrations[v].name,
					inner ? inner : "failed");
				free(inner);
			}
			return rc;
		}
	}
	return CV_OK;
}

/*
 * Waiting for a lock: try again every 250 µs for the first 2 ms, then
 * every millisecond, up to busy_ms of real time. SQLite's own
 * sqlite3_busy_timeout sleeps up to 100 ms between tries, and ours slept
 * up to 16 ms: a search's audit entry waiting behind serve's webhook
 * writer then woke long after the lock was free. A try costs a few µs.
 */
static int busy_handler(void *arg, int count)
{
	struct store *s = arg;
	int64_t now = cv_mono_us();
	if (count == 0)
		s->busy_since_us = now;
	int64_t waited = now - s->busy_since_us;
	/* store_begin's wait for its turn counts towards the same bound */
	if (waited + s->busy_spent_us >= (int64_t)s->busy_ms * 1000)
		return 0;
	usleep(waited < 2000 ? 250 : 1000);
	return 1;
}

void store_set_busy_timeout(struct store *s, int ms)
{
	s->busy_ms = ms;
}

/*
 * The WAL's hard bound, in frames (32 MiB of 4 KiB pages; a bulk import
 * or sync checkpoints every 64 MiB, and that is its bound). A WAL starts
 * again from its beginning only when a writer finds every frame copied
 * into the database and no reader using it; under back-to-back commits
 * (a webhook burst) a passive checkpointer never catches up and the WAL
 * grew to 681 MB. Past the bound the committing connection runs a
 * RESTART checkpoint itself, which waits (at most WAL_BOUND_WAIT_MS)
 * for the readers, so that its next transaction rewinds the WAL. A
 * process killed at any moment therefore leaves about this much WAL at
 * most for the next one to read back.
 */
#define WAL_BOUND_FRAMES 8192
#define WAL_BOUND_WAIT_MS 200

static void restart_wal(struct store *s, sqlite3 *db, const char *name)
{
	/* First copy what can be copied without SQLite's write lock
	 * (PASSIVE): a RESTART holds that lock while it copies, and the
	 * writers queued behind it (a search's audit entry) waited for
	 * thousands of frames. Refused (serve's background checkpoint is
	 * copying): try again at the next commit. */
	int r = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
		NULL, NULL);
	if (r != SQLITE_OK) {
		if (r != SQLITE_BUSY && r != SQLITE_LOCKED)
			s->wal_retry_at = s->wal_frames + 1024; /* I/O error */
		return;
	}
	int busy = s->busy_ms;
	int64_t t0 = cv_mono_ms();
	s->busy_ms = WAL_BOUND_WAIT_MS;
	r = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, NULL,
		NULL);
	s->busy_ms = busy;
	/* Refused at once: another checkpoint is copying; it ends soon,
	 * so try again at the next commit. Refused after waiting for
	 * readers: try again 4 MiB later, not at every commit. */
	if (r == SQLITE_OK)
		s->wal_frames = s->wal_retry_at = 0;
	else if (cv_mono_ms() - t0 >= 2)
		s->wal_retry_at = s->wal_frames + 1024;
}

/*
 * Whether this connection is one of the writers that make a WAL grow and
 * so keeps it bounded: one whose owner checkpoints on its own schedule
 * (autockpt 0: serve's webhook writer) or in bulk mode (import, sync). A
 * short command's commit (a search's audit entry) never waits for
 * readers, which under webhook load cost searches up to 200 ms each.
 */
bool store_owns_wal(const struct store *s)
{
	return s->autockpt == 0 || s->autockpt > 1000;
}

/*
 * After each commit of this connection: how many frames the WAL holds
 * (the file's size says nothing once it has grown: journal_size_limit
 * keeps it at 4 MiB), the hard bound above, and the automatic
 * checkpoint SQLite's own hook would run, every s->autockpt frames (0:
 * never, for a connection whose owner checkpoints on its own schedule),
 * counted here in frames this connection wrote. A WAL that others wrote
 * is folded in by them, by serve's background checkpoint, or by the
 * last connection to close (store_close).
 */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *s = arg;
	int bound = s->autockpt > WAL_BOUND_FRAMES ? s->autockpt
						   : WAL_BOUND_FRAMES;
	s->wal_frames = frames;
	if (frames >= bound && store_owns_wal(s)) {
		/* inside store_commit: after it gives its turn back, so the
		 * writers queued behind it do not wait for the copy too */
		if (frames >= s->wal_retry_at && s->in_tx)
			s->wal_rewind_due = true;
		else if (frames >= s->wal_retry_at)
			restart_wal(s, db, name);
		return SQLITE_OK;
	}
	s->wal_retry_at = 0;
	/* frames this connection added: since its previous commit (others'
	 * commits in between count too); its first commit adds none, so a
	 * short command never copies a serve's frames into the database
	 * (1,000-2,000 page writes a search under webhook load) */
	if (s->wal_prev > 0)
		s->own_frames += frames >= s->wal_prev ? frames - s->wal_prev
						       : frames;
	s->wal_prev = frames;
	if (s->autockpt > 0 && s->own_frames >= s->autockpt &&
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
			NULL, NULL) == SQLITE_OK)
		s->wal_frames = s->own_frames = 0;
	return SQLITE_OK;
}

/* Any rollback, ours or SQLite's own: forget what the transaction did
 * to the caches kept beside the connection. */
static void on_rollback(void *arg)
{
	store_terms_rolled_back(arg);
}

static const char *vfs_name; /* store_vfs.c's, or NULL for the default */

/* Before SQLite's first use in the process: no global allocation
 * statistics. Keeping them takes one process-wide mutex on every
 * sqlite3_malloc, which the console's 32 request threads fought over
 * (~200 futex calls per search). Fails harmlessly (SQLITE_MISUSE) if
 * SQLite was already initialised. Then the gathering VFS. */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	vfs_name = store_vfs_register();
}

/*
 * Create a missing store file owner-only (0600; 0640 with --group)
 * whatever the umask:
 * it holds transcripts, password hashes and the audit log. SQLite gives
 * the -wal and -shm files the database file's mode, so they follow.
 * An existing file is left as it is (`callvault check` warns when others
 * can read it).
 */
static enum cv_err create_private(const char *path, char **errmsg)
{
	mode_t mode = (mode_t)cv_data_mode(); /* 0640 with --group */
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return errno == EEXIST ? CV_OK
				       : cv_error(errmsg, CV_EIO,
						 "cannot create store %s: %s",
						 path, strerror(errno));
	(void)fchmod(fd, mode); /* a umask wider than 077 cannot narrow it */
	close(fd);
	return CV_OK;
}

enum cv_err store_open(struct store **out, const char *path, int flags,
	char **errmsg)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_setup);
	struct stat st;
	*out = NULL;
	if ((flags & (STORE_NOCREATE | STORE_READONLY)) && stat(path, &st) != 0)
		return cv_error(errmsg, CV_ENOTFOUND,
			"no store at %s (run `callvault init` first)", path);
	if (!(flags & (STORE_NOCREATE | STORE_READONLY)) &&
		strcmp(path, STORE_MEMORY) != 0 &&
		create_private(path, errmsg) != CV_OK)
		return CV_EIO;
	struct store *s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->busy_ms = 5000;
	s->wlock_fd = -1;
	int oflags = (flags & STORE_READONLY)
			     ? SQLITE_OPEN_READONLY
			     : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX,
		    vfs_name) != SQLITE_OK) {
		enum cv_err e = cv_error(errmsg, CV_EDB,
			"cannot open store %s:"
			" %s",
			path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_close(s);
		return e;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_handler(s->db, busy_handler, s);
	sqlite3_rollback_hook(s->db, on_rollback, s);
	s->autockpt = 1000; /* SQLite's default; see store_owns_wal */
	sqlite3_wal_hook(s->db, on_wal_commit, s);
	/* A short-lived command (a search, whose only write is its audit
	 * entry) should not pay for checkpointing its few frames and
	 * recreating the WAL at every close: the -wal file is kept when the
	 * last connection closes, and closing checkpoints only when the WAL
	 * has grown (store_close). docs/architecture.md, "The WAL". */
	int persist = 1;
	sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	enum cv_err rc = store_terms_register(s, errmsg);
	if (rc == CV_OK && !(flags & STORE_READONLY))
		rc = store_exec(s, "PRAGMA journal_mode = WAL", errmsg);
	if (rc == CV_OK)
		rc = store_exec(s,
			"PRAGMA synchronous = FULL;"
			"PRAGMA foreign_keys = ON;"
			"PRAGMA cache_size = -16000;"
			"PRAGMA temp_store = MEMORY;"
			"PRAGMA journal_size_limit = 4194304;",
			errmsg);
	if (rc == CV_OK && !(flags & STORE_READONLY))
		rc = migrate(s, errmsg);
	if (rc == CV_OK && (flags & STORE_READONLY) &&
		store_schema_version(s) != store_n_migrations)
		rc = cv_error(errmsg, CV_EDB,
			"store %s has schema version %d, expected %d (run "
			"`callvault init`)",
			path, store_schema_version(s), store_n_migrations);
	/* after the migrations, which may build an index over every call */
	if (rc == CV_OK && (flags & STORE_ONESHOT))
		rc = store_set_cache(s, STORE_ONESHOT_CACHE_KIB, errmsg);
	if (rc == CV_OK)
		rc = store_holds_temp_create(s, errmsg);
	if (rc != CV_OK) {
		store_close(s);
		return rc;
	}
	*out = s;
	return CV_OK;
}

/* Size of the -wal file above which closing a store folds it into the
 * database and empties it, when this is the last connection. */
#define CLOSE_CKPT_BYTES (1 << 20)

const char *store_db_path(const struct store *s)
{
	return s->path;
}

int64_t store_wal_bytes(struct store *s)
{
	const char *db = sqlite3_db_filename(s->db, "main");
	const char *wal = db ? sqlite3_filename_wal(db) : NULL;
	struct stat st;
	if (!wal || !*wal)
		return -1;
	if (stat(wal, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	return (int64_t)st.st_size;
}

/*
 * The first connection to open a store rebuilds the WAL index from the
 * -wal file and counts every frame in it as not yet checkpointed, so a
 * WAL left full when the last connection closed was read back, and
 * copied into the database again, by every later command (42 times the
 * cost of a search after an import). So whoever closes the last
 * connection to a store whose WAL has grown past CLOSE_CKPT_BYTES —
 * after an import or a sync, or the first command after a killed process
 * — lets SQLite's own close do it: with the database file's EXCLUSIVE
 * lock, which it gets only when no other connection (a serve) is open,
 * it checkpoints and, the WAL being persistent with a size limit,
 * truncates it to zero bytes. Otherwise the close costs one failed
 * lock attempt and the other connections keep the WAL index.
 */
static void close_checkpoint(struct store *s)
{
	if (!s->db || sqlite3_db_readonly(s->db, "main") != 0)
		return;
	if (store_wal_bytes(s) > CLOSE_CKPT_BYTES ||
		s->wal_frames > CLOSE_CKPT_BYTES / 4096)
		sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0,
			NULL);
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->in_tx)
		store_rollback(s);
	for (size_t i = 0; i < STMT_CACHE_SIZE; i++)
		if (s->cache[i].stmt)
			sqlite3_finalize(s->cache[i].stmt);
	close_checkpoint(s);
	store_wlock_close(s);
	store_terms_free(s);
	if (s->db)
		sqlite3_close(s->db);
	free(s->path);
	free(s);
}

enum cv_err store_begin(struct store *s, char **errmsg)
{
	/* SQLite rolled the last transaction back by itself (an I/O error,
	 * out of memory) and its caller did not: its turn goes with it */
	if (s->in_tx && !store_tx_active(s))
		store_rollback(s);
	/* the writers' queue first, holding no SQLite lock (store_wlock.c);
	 * the time it took comes off the busy handler's bound */
	if (!s->in_tx && !store_tx_active(s)) {
		int64_t t0 = cv_mono_us();
		store_wlock_acquire(s);
		s->busy_spent_us = cv_mono_us() - t0;
	}
	enum cv_err rc = store_exec(s, "BEGIN IMMEDIATE", errmsg);
	s->busy_spent_us = 0;
	if (rc == CV_OK)
		s->in_tx = true;
	else if (!s->in_tx)
		store_wlock_release(s);
	return rc;
}

enum cv_err store_commit(struct store *s, char **errmsg)
{
	enum cv_err rc = store_exec(s, "COMMIT", errmsg);
	if (rc == CV_OK) {
		s->in_tx = false;
		store_wlock_release(s);
		store_terms_committed(s);
	} else {
		store_rollback(s);
	}
	if (s->wal_rewind_due) {
		s->wal_rewind_due = false;
		restart_wal(s, s->db, "main");
	}
	return rc;
}

enum cv_err store_set_bulk(struct store *s, bool on, char **errmsg)
{
	/* The bigger page cache keeps more of the random-key indexes
	 * (call ids, payload hashes) in memory; 30 MB keeps an import's peak
	 * RSS near 55 MiB, under its 64 MiB bound. */
	s->autockpt = on ? 16384 : 1000;
	return store_exec(s,
		on ? "PRAGMA cache_size = -30000"
		   : "PRAGMA cache_size = -16000",
		errmsg);
}

enum cv_err store_set_cache(struct store *s, int kib, char **errmsg)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d", kib);
	return store_exec(s, sql, errmsg);
}

int64_t store_db_bytes(struct store *s)
{
	return pragma_int(s, "PRAGMA page_count", 0) *
	       pragma_int(s, "PRAGMA page_size", 4096);
}

void store_set_size_limit(struct store *s, int64_t max_bytes)
{
	int64_t page = pragma_int(s, "PRAGMA page_size", 4096);
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
		max_bytes > 0 ? (long long)(max_bytes / page) : 4294967294LL);
	sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

bool store_tx_active(struct store *s)
{
	return sqlite3_get_autocommit(s->db) == 0;
}

void store_rollback(struct store *s)
{
	if (store_tx_active(s))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_tx = false;
	store_wlock_release(s);
}

static int check_row(void *arg, int n, char **vals, char **cols)
{
	char **first = arg;
	if (n > 0 && vals[0] && strcmp(vals[0], "ok") != 0 && !*first)
		*first = xstrdup(vals[0]);
	return 0;
}

enum cv_err store_check(struct store *s, char **errmsg)
{
	char *first = NULL;
	if (sqlite3_exec(s->db, "PRAGMA integrity_check", check_row, &first,
		    NULL) != SQLITE_OK) {
		free(first); /* rows seen before the error */
		return store_dberr(s, errmsg, "integrity_check");
	}
	if (first) {
		enum cv_err e = cv_error(errmsg, CV_EINTEGRITY,
			"integrity_check: %s", first);
		free(first);
		return e;
	}
	static const char *const fts[] = {
		"INSERT INTO calls_fts(calls_fts) VALUES('integrity-check')",
		"INSERT INTO calls_digits(calls_digits) "
		"VALUES('integrity-check')",
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(fts); i++) {
		if (sqlite3_exec(s->db, fts[i], NULL, NULL, NULL) != SQLITE_OK)
			return cv_error(errmsg, CV_EINTEGRITY,
				"FTS5 integrity-check: %s",
				sqlite3_errmsg(s->db));
	}
	enum cv_err trc = store_terms_check(s, errmsg);
	if (trc != CV_OK)
		return trc;
	/* every call points at an existing version of itself */
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
		    "SELECT c.id FROM calls c LEFT JOIN versions v"
		    " ON v.id = c.version_id"
		    " WHERE v.id IS NULL OR v.call_id != c.id"
		    "  OR v.canonical_sha256 != c.canonical_sha256 LIMIT 1",
		    -1, &st, NULL) != SQLITE_OK)
		return store_dberr(s, errmsg, "consistency check");
	enum cv_err rc = CV_OK;
	if (sqlite3_step(st) == SQLITE_ROW)
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"call %s does not point at its current version",
			sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc;
}
