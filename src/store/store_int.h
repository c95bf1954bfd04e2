/*
 * store_int.h — internals shared by the files of the store module
 * (the .c files in src/store). Nothing outside src/store/ includes this.
 */
#ifndef CV_STORE_INT_H
#define CV_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "store.h"

#define STMT_CACHE_SIZE 256

struct stmt_slot {
	const char *sql; /* key: the address of a static string */
	sqlite3_stmt *stmt;
};

struct store {
	sqlite3 *db;
	char *path;
	int busy_ms;
	int64_t busy_spent_us; /* store_begin's queue wait, during its BEGIN */
	int64_t busy_since_us; /* when the current wait began */
	bool in_tx;
	struct store_terms *terms; /* store_terms.c, created on first use */
	bool rank_ready;           /* store_rank.c registered its function */
	int wal_frames;            /* WAL frames after this connection's last
				     commit (on_wal_commit) */
	int wal_prev;              /* WAL frames after its previous commit */
	int own_frames;            /* frames it added since its last
				     automatic checkpoint (on_wal_commit) */
	int wal_retry_at;          /* frames before the next try to rewind a
				     WAL past its bound (0: at the bound) */
	bool wal_rewind_due;       /* past the bound at a COMMIT of
				     store_commit's: rewind once its turn
				     is given back (on_wal_commit) */
	int autockpt;              /* checkpoint every this many frames; 0 =
				     never (set here, never with PRAGMA
				     wal_autocheckpoint, which would replace
				     the store's WAL hook) */
	int64_t max_age_ms;        /* store_trust.c: the replay window as */
	int64_t max_age_read_at;   /* read then (0 = never); read again a
				     second later */
	const char *audit_os_user; /* store_audit.c: the OS user this
				     process's entries record (borrowed);
				     NULL = none recorded */
	const char *audit_client;  /* store_audit.c: the client address
				     the next entries record (borrowed);
				     NULL = none */
	const unsigned char *audit_key; /* store_audit.c: the HMAC key of
				     keyed entries (borrowed, AUDIT_KEY_LEN
				     bytes); NULL = entries unkeyed */
	int wlock_fd;     /* store_wlock.c: the writers' queue's file */
	bool wlock_tried; /* wlock_fd opened (or found unusable) */
	bool wlock_held;  /* this connection has the turn to write */
	struct stmt_slot cache[STMT_CACHE_SIZE];
};

/*
 * A prepared statement for a static SQL string, prepared on first use and
 * finalised at close. The statement is reset and its bindings cleared
 * before it is returned. NULL (with *errmsg set) on a prepare error.
 */
sqlite3_stmt *store_stmt(struct store *s, const char *sql, char **errmsg);

/* The per-connection set of the calls query holds match, holding every
 * call until store_holds_evaluate() runs (store_hold_query.c). */
enum cv_err store_holds_temp_create(struct store *s, char **errmsg);

/* The connection's FTS5 API (tokenizers, auxiliary functions); NULL when
 * FTS5 is missing. */
fts5_api *store_fts5_api(sqlite3 *db);

/* The writers' queue (store_wlock.c): take this connection's turn
 * before BEGIN IMMEDIATE (false: none, go on without it), give it back
 * after COMMIT or ROLLBACK, and close its file. */
bool store_wlock_acquire(struct store *s);
void store_wlock_release(struct store *s);
void store_wlock_close(struct store *s);
/* Whether s is one of the writers that keep the WAL bounded (serve's
 * webhook writer, import and sync in bulk mode), not a short one. */
bool store_owns_wal(const struct store *s);

/* Register store_vfs.c's VFS (once, before any store is opened); its
 * name, or NULL when the default VFS cannot be wrapped. */
const char *store_vfs_register(void);

/*
 * The agent's name of calls c (NULL when unknown): the agent of that id in
 * the call's location, else in the first location (by id) that has one,
 * so that show, search, export and an archive name an agent alike.
 */
#define STORE_AGENT_NAME_SQL                                                   \
	" coalesce((SELECT a.name FROM agents a"                               \
	"   WHERE a.location_id = c.location_id AND a.id = c.agent_id),"       \
	"  (SELECT a.name FROM agents a WHERE a.id = c.agent_id"               \
	"   ORDER BY a.location_id LIMIT 1))"

/*
 * The walk of a prepared and bound statement (store_rows.c): for each row,
 * row(st, fn, arg) reads the columns into the caller's struct and returns
 * what fn (the walker's callback, cast back to its own type) answered; a
 * non-zero answer stops the walk, which then returns `stopped` (CV_OK for
 * a walker whose callback may stop early). A step error is
 * store_dberr(s, errmsg, what). st is reset at the end either way.
 */
typedef void (*store_fn)(void);
typedef int (*store_row_fn)(sqlite3_stmt *st, store_fn fn, void *arg);
enum cv_err store_each(struct store *s, sqlite3_stmt *st, store_row_fn row,
	store_fn fn, void *arg, enum cv_err stopped, const char *what,
	char **errmsg);

/*
 * The collection of a prepared and bound statement's rows into an array
 * (store_rows.c): each row gets a zeroed element of `size` bytes that
 * fill(st, elem) reads the columns into; *out (a `void *` that the caller
 * then assigns to its typed pointer) and *n are the array and its length.
 * On a step error the rows read so far are dropped — drop(v, n) frees
 * them, or free(v) when drop is NULL (elements that own nothing) — *out
 * is NULL, *n is 0, and the answer is store_dberr(s, errmsg, what). st is
 * reset at the end either way.
 */
typedef void (*store_fill_fn)(sqlite3_stmt *st, void *elem);
typedef void (*store_drop_fn)(void *v, size_t n);
enum cv_err store_collect(struct store *s, sqlite3_stmt *st, size_t size,
	store_fill_fn fill, store_drop_fn drop, void **out, size_t *n,
	const char *what, char **errmsg);

/* store_collect() over a query with no parameters, prepared here; a
 * prepare error is CV_EDB (with *errmsg set), *out NULL and *n 0. */
enum cv_err store_list(struct store *s, const char *sql, size_t size,
	store_fill_fn fill, store_drop_fn drop, void **out, size_t *n,
	const char *what, char **errmsg);

/* For rows of one text column: a store_row_fn whose fn is an
 * int (*)(const char *text, void *arg), given column 0 (NULL for SQL
 * NULL); a store_fill_fn of a char * element, an owned copy of column 0;
 * and the store_drop_fn of an array of those. */
int store_text_row(sqlite3_stmt *st, store_fn fn, void *arg);
void store_text_fill(sqlite3_stmt *st, void *elem);
void store_texts_drop(void *v, size_t n);

/* A store_fill_fn for a struct store_transcription from the columns id,
 * message_id, location_id, sha256, source, body, fetched_at. */
void store_transcription_row(sqlite3_stmt *st, void *elem);

/* Translate the last SQLite error into a cv_err with a message. */
enum cv_err store_dberr(struct store *s, char **errmsg, const char *what);

/* Run a query that yields one integer (count(*), max(id) …) into *out. */
enum cv_err store_scalar_int(struct store *s, const char *sql, int64_t *out,
	char **errmsg);

/* Execute SQL with no results. */
enum cv_err store_exec(struct store *s, const char *sql, char **errmsg);

/* Step a statement whose parameters are bound, expecting no rows, and
 * reset it: CV_OK, or store_dberr's error naming what. */
enum cv_err store_step_done(struct store *s, sqlite3_stmt *st, const char *what,
	char **errmsg);
/* Run sql, whose one parameter is text (NULL binds NULL), expecting no
 * rows: store_step_done()'s answer, or CV_EDB on a prepare error. */
enum cv_err store_exec_text(struct store *s, const char *sql, const char *text,
	const char *what, char **errmsg);

/* Bind helpers: a NULL string binds SQL NULL. */
void store_bind_text(sqlite3_stmt *st, int i, const char *v);
void store_bind_tri(sqlite3_stmt *st, int i, int v); /* -1 binds NULL */
/* A column as an owned string, NULL for SQL NULL. */
char *store_col_dup(sqlite3_stmt *st, int i);

/*
 * Walk versions with a statement whose columns are id, seq, source,
 * received_at, canonical, canonical_sha256, raw_sha256, redacted and,
 * optionally, raw_kept; its one parameter is the call id.
 */
enum cv_err store_walk_versions(struct store *s, const char *sql,
	const char *call_id,
	int (*fn)(const struct store_version *v, void *arg), void *arg,
	char **errmsg);

/* One migration step: SQL run inside a transaction. */
struct store_migration {
	const char *name;
	const char *sql;
};
extern const struct store_migration store_migrations[];
extern const int store_n_migrations;

#endif
