/*
 * store_vfs.c — a thin VFS over SQLite's default one that gathers the
 * write-ahead log's writes into large ones.
 *
 * SQLite writes each WAL frame with two calls, its 24-byte header and then
 * its page, one after the other at increasing offsets. A commit of a
 * webhook group or an import batch is hundreds to thousands of frames, so
 * it was as many pwrite(2) calls, and on this kind of virtual machine a
 * system call's fixed cost made them a fifth of the store's time. Here
 * consecutive writes to a -wal file are copied into one buffer and handed
 * to the real file in one call.
 *
 * The buffer only ever holds frames of the write transaction in progress
 * on its connection, and is written out
 * - when the commit frame (its header holds the database size) has been
 *   buffered, whether SQLite writes it first or rewrites its header with
 *   new checksums; a failed write fails that call, whose result SQLite
 *   checks, so the commit fails and rolls back. xSync (every commit under
 *   synchronous=FULL, which store.c always sets) writes it out too. So a
 *   commit's frames are in the file before SQLite publishes them to other
 *   connections;
 * - when the connection releases the WAL write lock (the database file's
 *   xShmLock), which also ends a transaction that rolled back: its
 *   spilled frames are written while the lock is still held, beyond the
 *   last committed frame, where the next writer overwrites them. Without
 *   this they would be written later, over another connection's commits;
 * - before a read that touches it, and before xTruncate, xFileSize and
 *   xSync, which need the file as SQLite believes it to be.
 * A WAL file is gathered only when it can be tied to its database file
 * (for the lock) and the device is powersafe (otherwise SQLite pads and
 * syncs in the middle of a commit's frames). Other files pass straight
 * through: the database file's writes are published by calls whose errors
 * SQLite does not always check. tests/unit/test_store_vfs.c covers commits,
 * rollbacks under a second writer, crash recovery and a failing disk.
 */
#include "store_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Gather at most this many bytes before writing: 29 frames of 4 KiB.
 * SQLite's unix VFS writes at most 128 KiB - 1 per call (it masks the
 * count with 0x1ffff), so a gathered write must stay below that. */
#define GATHER_MAX (120u * 1024)

struct gfile {
	sqlite3_file base;
	sqlite3_file *real;        /* the default VFS's file, after this */
	bool wal;                  /* gather this file's writes */
	sqlite3_int64 commit_page; /* offset of the commit frame's page,
				     once its header is buffered; else -1 */
	sqlite3_filename name;     /* a database file: as SQLite opened it */
	struct gfile *peer;        /* database file <-> its connection's WAL */
	struct gfile *next;        /* open database files (dbs) */
	unsigned char *buf;        /* NULL until the first gathered write */
	size_t len;
	sqlite3_int64 off;    /* file offset of buf[0] */
	unsigned char *frame; /* the last whole frame read, if any */
	int frame_len;        /* 0: none */
	sqlite3_int64 frame_off;
};

static sqlite3_vfs *root; /* the default VFS this one wraps */
static sqlite3_vfs gvfs;

/* Open database files, to tie each connection's WAL to its database
 * file (SQLite names the WAL after the database's own filename object). */
static pthread_mutex_t dbs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct gfile *dbs;

static int flush(struct gfile *f)
{
	if (f->len == 0)
		return SQLITE_OK;
	size_t n = f->len;
	f->len = 0; /* a failed write is not retried: the commit fails */
	return f->real->pMethods->xWrite(f->real, f->buf, (int)n, f->off);
}

#define REAL(f) (((struct gfile *)(f))->real)
#define FLUSH_OR_RETURN(f)                                                     \
	do {                                                                   \
		int frc_ = flush((struct gfile *)(f));                         \
		if (frc_ != SQLITE_OK)                                         \
			return frc_;                                           \
	} while (0)

static int g_close(sqlite3_file *pf)
{
	struct gfile *f = (struct gfile *)pf;
	pthread_mutex_lock(&dbs_mu);
	if (f->peer)
		f->peer->peer = NULL;
	for (struct gfile **p = &dbs; *p; p = &(*p)->next) {
		if (*p == f) {
			*p = f->next;
			break;
		}
	}
	pthread_mutex_unlock(&dbs_mu);
	/* the write lock's release emptied the buffer; what a close could
	 * still find is no transaction's, and is not written */
	int rc = f->real->pMethods->xClose(f->real);
	free(f->buf);
	free(f->frame);
	f->buf = f->frame = NULL;
	return rc;
}

/* The WAL's frame header: page number, then the database size in pages
 * after a commit (0 in other frames), salts and checksums. */
#define FRAME_HDR 24
#define MAX_PAGE 65536

/* A read of exactly one frame (header and page of a power-of-two size):
 * what SQLite does before it rewrites a frame's header. */
static bool is_frame_read(int amt)
{
	int page = amt - FRAME_HDR;
	return page >= 512 && page <= MAX_PAGE && (page & (page - 1)) == 0;
}

static int g_read(sqlite3_file *pf, void *out, int amt, sqlite3_int64 off)
{
	struct gfile *f = (struct gfile *)pf;
	/* only a read of gathered bytes needs them written first: the
	 * writer reads older frames back between its writes all the time */
	if (f->len && off < f->off + (sqlite3_int64)f->len &&
		off + amt > f->off)
		FLUSH_OR_RETURN(f);
	int rc = f->real->pMethods->xRead(f->real, out, amt, off);
	f->frame_len = 0;
	if (rc == SQLITE_OK && f->wal && is_frame_read(amt) &&
		(f->frame || (f->frame = malloc(FRAME_HDR + MAX_PAGE)))) {
		memcpy(f->frame, out, (size_t)amt);
		f->frame_len = amt;
		f->frame_off = off;
	}
	return rc;
}

static bool is_commit_header(const void *data, int amt)
{
	const unsigned char *h = data;
	return amt == FRAME_HDR && (h[4] | h[5] | h[6] | h[7]) != 0;
}

static int g_write(sqlite3_file *pf, const void *data, int amt,
	sqlite3_int64 off)
{
	struct gfile *f = (struct gfile *)pf;
	sqlite3_int64 end = f->off + (sqlite3_int64)f->len;
	bool commit = false; /* write the buffer out after this write */
	if (f->frame_len && amt == FRAME_HDR && off == f->frame_off) {
		/* When a transaction wrote a page twice, its commit reads
		 * every frame from there on and writes back only its header
		 * (walRewriteChecksums), the commit frame's last: a 24-byte
		 * write each. Written as the whole frame just read, they are
		 * contiguous and gather. */
		commit = is_commit_header(data, amt);
		memcpy(f->frame, data, FRAME_HDR);
		data = f->frame;
		amt = f->frame_len;
	} else if (off == f->commit_page) {
		commit = true; /* the commit frame's page */
	}
	f->frame_len = 0; /* kept only for the write that follows it */
	f->commit_page = -1;
	if (!f->wal || amt <= 0 || (size_t)amt > GATHER_MAX / 2)
		goto direct;
	if (f->len && off + amt <= f->off) /* an older one: buffer unaffected */
		return f->real->pMethods->xWrite(f->real, data, amt, off);
	if (f->len &&
		(off < f->off || off > end ||
			(off == end && f->len + (size_t)amt > GATHER_MAX))) {
		FLUSH_OR_RETURN(f);
		end = f->off;
	}
	if (!f->buf && !(f->buf = malloc(GATHER_MAX)))
		goto direct;
	if (f->len == 0)
		f->off = end = off;
	if (off + amt > end + (sqlite3_int64)(GATHER_MAX - f->len)) {
		/* overlaps the end and would not fit */
		FLUSH_OR_RETURN(f);
		f->off = off;
	}
	/* new bytes, or a frame of this transaction written again */
	memcpy(f->buf + (off - f->off), data, (size_t)amt);
	if (off + amt > f->off + (sqlite3_int64)f->len)
		f->len = (size_t)(off + amt - f->off);
	if (commit)
		return flush(f);
	if (is_commit_header(data, amt))
		f->commit_page = off + FRAME_HDR;
	return SQLITE_OK;
direct:
	FLUSH_OR_RETURN(f);
	return f->real->pMethods->xWrite(f->real, data, amt, off);
}

static int g_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
	FLUSH_OR_RETURN(pf);
	return REAL(pf)->pMethods->xTruncate(REAL(pf), size);
}

static int g_sync(sqlite3_file *pf, int flags)
{
	FLUSH_OR_RETURN(pf);
	return REAL(pf)->pMethods->xSync(REAL(pf), flags);
}

static int g_file_size(sqlite3_file *pf, sqlite3_int64 *size)
{
	FLUSH_OR_RETURN(pf);
	return REAL(pf)->pMethods->xFileSize(REAL(pf), size);
}

static int g_lock(sqlite3_file *pf, int lock)
{
	return REAL(pf)->pMethods->xLock(REAL(pf), lock);
}

static int g_unlock(sqlite3_file *pf, int lock)
{
	return REAL(pf)->pMethods->xUnlock(REAL(pf), lock);
}

static int g_check_reserved(sqlite3_file *pf, int *out)
{
	return REAL(pf)->pMethods->xCheckReservedLock(REAL(pf), out);
}

static int g_file_control(sqlite3_file *pf, int op, void *arg)
{
	return REAL(pf)->pMethods->xFileControl(REAL(pf), op, arg);
}

static int g_sector_size(sqlite3_file *pf)
{
	return REAL(pf)->pMethods->xSectorSize(REAL(pf));
}

static int g_device_chars(sqlite3_file *pf)
{
	return REAL(pf)->pMethods->xDeviceCharacteristics(REAL(pf));
}

static int g_shm_map(sqlite3_file *pf, int pg, int pgsz, int extend,
	void volatile **out)
{
	return REAL(pf)->pMethods->xShmMap(REAL(pf), pg, pgsz, extend, out);
}

/* SQLite's WAL write lock: the first lock slot of the shared memory */
#define WAL_WRITE_LOCK 0

static int g_shm_lock(sqlite3_file *pf, int offset, int n, int flags)
{
	struct gfile *f = (struct gfile *)pf;
	if (offset == WAL_WRITE_LOCK && n == 1 && f->peer &&
		flags == (SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE))
		/* the transaction is over; under FULL only a rolled-back one
		 * leaves frames here, beyond the last commit. SQLite ignores
		 * an unlock's result: nothing committed can depend on it. */
		(void)flush(f->peer);
	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void g_shm_barrier(sqlite3_file *pf)
{
	REAL(pf)->pMethods->xShmBarrier(REAL(pf));
}

static int g_shm_unmap(sqlite3_file *pf, int del)
{
	return REAL(pf)->pMethods->xShmUnmap(REAL(pf), del);
}

static int g_fetch(sqlite3_file *pf, sqlite3_int64 off, int amt, void **pp)
{
	return REAL(pf)->pMethods->xFetch(REAL(pf), off, amt, pp);
}

static int g_unfetch(sqlite3_file *pf, sqlite3_int64 off, void *p)
{
	return REAL(pf)->pMethods->xUnfetch(REAL(pf), off, p);
}

static const sqlite3_io_methods gmethods = {
	.iVersion = 3, /* lowered to the real file's in g_open */
	.xClose = g_close,
	.xRead = g_read,
	.xWrite = g_write,
	.xTruncate = g_truncate,
	.xSync = g_sync,
	.xFileSize = g_file_size,
	.xLock = g_lock,
	.xUnlock = g_unlock,
	.xCheckReservedLock = g_check_reserved,
	.xFileControl = g_file_control,
	.xSectorSize = g_sector_size,
	.xDeviceCharacteristics = g_device_chars,
	.xShmMap = g_shm_map,
	.xShmLock = g_shm_lock,
	.xShmBarrier = g_shm_barrier,
	.xShmUnmap = g_shm_unmap,
	.xFetch = g_fetch,
	.xUnfetch = g_unfetch,
};

/* The same methods at each version a real file may have: SQLite calls
 * xShm* and xFetch only if the version says they exist. */
static sqlite3_io_methods gmethods_v[3];
static pthread_once_t methods_once = PTHREAD_ONCE_INIT;

static void methods_init(void)
{
	for (int v = 1; v <= 3; v++) {
		gmethods_v[v - 1] = gmethods;
		gmethods_v[v - 1].iVersion = v;
	}
}

/* Tie a WAL file to its connection's database file; false if it is not
 * open here (then the WAL is not gathered: nothing would see the end of
 * its transactions). */
static bool tie_wal(struct gfile *wal, sqlite3_filename name)
{
	sqlite3_filename db = sqlite3_filename_database(name);
	bool tied = false;
	pthread_mutex_lock(&dbs_mu);
	for (struct gfile *d = dbs; d && db; d = d->next) {
		/* SQLite pads a commit and syncs inside its frames unless the
		 * database file's device is powersafe (psow): not gathered */
		if (d->name == db && !d->peer &&
			(d->real->pMethods->xDeviceCharacteristics(d->real) &
				SQLITE_IOCAP_POWERSAFE_OVERWRITE)) {
			d->peer = wal;
			wal->peer = d;
			tied = true;
			break;
		}
	}
	pthread_mutex_unlock(&dbs_mu);
	return tied;
}

static int g_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *pf,
	int flags, int *out_flags)
{
	(void)vfs;
	struct gfile *f = (struct gfile *)pf;
	pthread_once(&methods_once, methods_init);
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	f->commit_page = -1;
	int rc = root->xOpen(root, name, f->real, flags, out_flags);
	const sqlite3_io_methods *m = f->real->pMethods;
	/* SQLite closes a file whose open failed only if it has methods */
	f->base.pMethods = NULL;
	if (!m)
		return rc;
	int v = m->iVersion < 1 ? 1 : m->iVersion > 3 ? 3 : m->iVersion;
	f->base.pMethods = &gmethods_v[v - 1];
	if (rc != SQLITE_OK)
		return rc;
	if (flags & SQLITE_OPEN_MAIN_DB) {
		f->name = name;
		pthread_mutex_lock(&dbs_mu);
		f->next = dbs;
		dbs = f;
		pthread_mutex_unlock(&dbs_mu);
	} else if ((flags & SQLITE_OPEN_WAL) && v >= 2) {
		f->wal = tie_wal(f, name);
	}
	return rc;
}

#define PASS(fn, ...) return root->fn(root, __VA_ARGS__)
static int g_delete(sqlite3_vfs *v, const char *n, int sync)
{
	(void)v;
	PASS(xDelete, n, sync);
}
static int g_access(sqlite3_vfs *v, const char *n, int flags, int *out)
{
	(void)v;
	PASS(xAccess, n, flags, out);
}
static int g_full_path(sqlite3_vfs *v, const char *n, int len, char *out)
{
	(void)v;
	PASS(xFullPathname, n, len, out);
}
static void *g_dlopen(sqlite3_vfs *v, const char *n)
{
	(void)v;
	PASS(xDlOpen, n);
}
static void g_dlerror(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	root->xDlError(root, n, out);
}
static void (*g_dlsym(sqlite3_vfs *v, void *h, const char *n))(void)
{
	(void)v;
	PASS(xDlSym, h, n);
}
static void g_dlclose(sqlite3_vfs *v, void *h)
{
	(void)v;
	root->xDlClose(root, h);
}
static int g_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	PASS(xRandomness, n, out);
}
static int g_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	PASS(xSleep, us);
}
static int g_current_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	PASS(xCurrentTime, out);
}
static int g_last_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	PASS(xGetLastError, n, out);
}
static int g_current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	PASS(xCurrentTimeInt64, out);
}
static int g_set_syscall(sqlite3_vfs *v, const char *n, sqlite3_syscall_ptr p)
{
	(void)v;
	PASS(xSetSystemCall, n, p);
}
static sqlite3_syscall_ptr g_get_syscall(sqlite3_vfs *v, const char *n)
{
	(void)v;
	PASS(xGetSystemCall, n);
}
static const char *g_next_syscall(sqlite3_vfs *v, const char *n)
{
	(void)v;
	PASS(xNextSystemCall, n);
}
#undef PASS

const char *store_vfs_register(void)
{
	if (gvfs.zName)
		return gvfs.zName;
	root = sqlite3_vfs_find(NULL);
	if (!root || root->iVersion < 3)
		return NULL; /* then SQLite's own VFS is used as it is */
	gvfs = (sqlite3_vfs){
		.iVersion = 3,
		.szOsFile = (int)sizeof(struct gfile) + root->szOsFile,
		.mxPathname = root->mxPathname,
		.zName = "callvault-gather",
		.xOpen = g_open,
		.xDelete = g_delete,
		.xAccess = g_access,
		.xFullPathname = g_full_path,
		.xDlOpen = g_dlopen,
		.xDlError = g_dlerror,
		.xDlSym = g_dlsym,
		.xDlClose = g_dlclose,
		.xRandomness = g_random,
		.xSleep = g_sleep,
		.xCurrentTime = g_current_time,
		.xGetLastError = g_last_error,
		.xCurrentTimeInt64 = g_current_time64,
		.xSetSystemCall = g_set_syscall,
		.xGetSystemCall = g_get_syscall,
		.xNextSystemCall = g_next_syscall,
	};
	if (sqlite3_vfs_register(&gvfs, 0) != SQLITE_OK) {
		gvfs.zName = NULL;
		return NULL;
	}
	return gvfs.zName;
}
