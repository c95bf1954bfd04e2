/*
 * store_wlock.c — the writers' queue: a fair lock every store_begin takes
 * before SQLite's write lock, so that a short writer (a search's audit
 * entry) gets in between serve's back-to-back group commits.
 *
 * SQLite's write lock is not fair: a connection whose busy handler sleeps
 * finds it free only if it wakes in the few µs between another's COMMIT
 * and its next BEGIN IMMEDIATE, so under webhook load an audit entry
 * waited for many commits. "Write turns" (a connection that had just
 * committed was refused SQLite's lock while another waited) made a
 * read-then-write transaction fail at once, since SQLite does not call
 * the busy handler for a transaction that has already read. This queue
 * refuses nothing inside SQLite: it is taken before BEGIN IMMEDIATE,
 * while the connection holds no SQLite lock, and only by store_begin.
 *
 * Open-file-description locks on bytes of <store>-wlock (one file
 * description per connection, so two connections of one process queue
 * like two processes): the turnstile (byte 0) and the turn (byte 1). A
 * writer takes the turnstile, then the turn, and lets the turnstile go;
 * it holds the turn until its COMMIT or ROLLBACK. A waiter for the turn
 * holds the turnstile, so the writer that just released the turn cannot
 * take it again before the waiter: they alternate. Waits poll (250 µs,
 * then 1 ms, like the busy handler) up to the connection's busy bound;
 * past it the writer goes on without its turn, to SQLite's own lock,
 * as it did before. A short writer (not in bulk mode) also holds byte 2
 * shared while it waits, which serve's group commit looks at to let it
 * in early (store_short_writer_waiting). A killed process's locks go
 * with its descriptors.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util.h"

enum { TURNSTILE = 0, TURN = 1, SHORT = 2 };

/* F_OFD_SETLK (or F_OFD_GETLK) of one byte of the lock file */
static int byte_lock(int fd, int cmd, int byte, struct flock *fl)
{
	short type = fl->l_type;
	memset(fl, 0, sizeof *fl);
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
	fl->l_start = byte;
	fl->l_len = 1;
	return fcntl(fd, cmd, fl);
}

static int set_lock(int fd, int byte, short type)
{
	struct flock fl = { .l_type = type };
	return byte_lock(fd, F_OFD_SETLK, byte, &fl);
}

/* Take byte by polling until deadline_us; false when it did not come. */
static bool take(int fd, int byte, int64_t start_us, int64_t deadline_us)
{
	for (;;) {
		if (set_lock(fd, byte, F_WRLCK) == 0)
			return true;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return false;
		int64_t now = cv_mono_us();
		if (now >= deadline_us)
			return false;
		usleep(now - start_us < 2000 ? 250 : 1000);
	}
}

/* The connection's lock file, opened on first use; -1 when it has none
 * (an in-memory or read-only store, or a directory it cannot write). */
static int lock_fd(struct store *s)
{
	if (s->wlock_tried)
		return s->wlock_fd;
	s->wlock_tried = true;
	s->wlock_fd = -1;
	const char *db = sqlite3_db_filename(s->db, "main");
	if (!db || !*db || sqlite3_db_readonly(s->db, "main") != 0)
		return -1;
	char *path = xasprintf("%s-wlock", db);
	mode_t mode = (mode_t)cv_data_mode();
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
	free(path);
	if (fd < 0)
		return -1;
	(void)fchmod(fd, mode); /* whatever the umask */
	s->wlock_fd = fd;
	return fd;
}

bool store_wlock_acquire(struct store *s)
{
	int fd = s->wlock_held ? -1 : lock_fd(s);
	if (fd < 0)
		return false;
	int64_t start = cv_mono_us();
	int64_t deadline = start + (int64_t)s->busy_ms * 1000;
	/* a short writer says so while it waits (a shared lock on SHORT) */
	bool mark = !store_owns_wal(s) && set_lock(fd, SHORT, F_RDLCK) == 0;
	if (take(fd, TURNSTILE, start, deadline)) {
		s->wlock_held = take(fd, TURN, start, deadline);
		set_lock(fd, TURNSTILE, F_UNLCK);
	}
	if (mark)
		set_lock(fd, SHORT, F_UNLCK);
	return s->wlock_held;
}

/* A short writer holds SHORT (shared) while it waits for the turn; the
 * holder of the turn does not, so any lock there is another writer's. */
bool store_short_writer_waiting(struct store *s)
{
	if (!s->wlock_held)
		return false;
	struct flock fl = { .l_type = F_WRLCK };
	return byte_lock(s->wlock_fd, F_OFD_GETLK, SHORT, &fl) == 0 &&
	       fl.l_type != F_UNLCK;
}

void store_wlock_release(struct store *s)
{
	if (!s->wlock_held)
		return;
	set_lock(s->wlock_fd, TURN, F_UNLCK);
	s->wlock_held = false;
}

void store_wlock_close(struct store *s)
{
	store_wlock_release(s);
	if (s->wlock_tried && s->wlock_fd >= 0)
		close(s->wlock_fd);
	s->wlock_fd = -1;
}
