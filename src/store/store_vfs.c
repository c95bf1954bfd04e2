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
 * What keeps it safe:
 * - A commit's frames are all written out by the write of its last frame
 *   (the commit frame: its header holds the database size), whose result
 *   SQLite checks, before SQLite syncs the WAL and before it publishes
 *   the frames to other connections. A failed write thus fails the
 *   commit, which rolls back exactly as if that frame's own write had
 *   failed.
 * - Until then the frames are part of no transaction anyone can see. The
 *   writer reads one back only through xRead, which writes the buffer out
 *   first if the read touches it; xSync, xTruncate, xFileSize and xClose
 *   write it out first too. No call whose result SQLite may ignore (file
 *   controls, locks) writes anything, so no error can be lost.
 * Other files (the database, journals) pass straight through: their
 * writes are published by calls whose errors SQLite does not always check.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

/* Gather at most this many bytes before writing: 29 frames of 4 KiB.
 * SQLite's unix VFS writes at most 128 KiB - 1 per call (it masks the
 * count with 0x1ffff), so a gathered write must stay below that. */
#define GATHER_MAX (120u * 1024)

struct gfile {
	sqlite3_file base;
	sqlite3_file *real;       /* the default VFS's file, after this */
	bool wal;                 /* gather this file's writes */
	bool commit_hdr;          /* the last write was a commit frame's
				     header: its page comes next */
	unsigned char *buf;       /* NULL until the first gathered write */
	size_t len;
	sqlite3_int64 off;        /* file offset of buf[0] */
	unsigned char *frame;     /* the last whole frame read, if any */
	int frame_len;            /* 0: none */
	sqlite3_int64 frame_off;
};

static sqlite3_vfs *root;     /* the default VFS this one wraps */
static sqlite3_vfs gvfs;

static int flush(struct gfile *f)
{
	if (f->len == 0)
		return SQLITE_OK;
	size_t n = f->len;
	f->len = 0;   /* a failed write is not retried: the commit fails */
	return f->real->pMethods->xWrite(f->real, f->buf, (int)n, f->off);
}

#define REAL(f) (((struct gfile *)(f))->real)
#define FLUSH_OR_RETURN(f)                                                 \
	do {                                                               \
		int frc_ = flush((struct gfile *)(f));                     \
		if (frc_ != SQLITE_OK)                                     \
			return frc_;                                       \
	} while (0)

static int g_close(sqlite3_file *pf)
{
	struct gfile *f = (struct gfile *)pf;
	int rc = flush(f);
	int crc = f->real->pMethods->xClose(f->real);
	free(f->buf);
	free(f->frame);
	f->buf = f->frame = NULL;
	return rc != SQLITE_OK ? rc : crc;
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
	bool commit = f->commit_hdr;
	f->commit_hdr = false;
	if (f->frame_len && amt == FRAME_HDR && off == f->frame_off) {
		/* When a transaction wrote a page twice, its commit reads
		 * every frame from there on and writes back only its header
		 * (walRewriteChecksums): a 24-byte write each. Written as the
		 * whole frame just read, they are contiguous and gather. */
		memcpy(f->frame, data, FRAME_HDR);
		data = f->frame;
		amt = f->frame_len;
		commit = false;
	}
	f->frame_len = 0;  /* kept only for the write that follows it */
	if (!f->wal || amt <= 0 || (size_t)amt > GATHER_MAX / 2)
		goto direct;
	if (f->len && off >= f->off && off + amt <= end) {
		/* a frame of this transaction written again */
		memcpy(f->buf + (off - f->off), data, (size_t)amt);
		return SQLITE_OK;
	}
	if (f->len && off + amt <= f->off) /* an older one: buffer unaffected */
		return f->real->pMethods->xWrite(f->real, data, amt, off);
	if (f->len && (off != end || f->len + (size_t)amt > GATHER_MAX))
		FLUSH_OR_RETURN(f);
	if (!f->buf && !(f->buf = malloc(GATHER_MAX)))
		goto direct;
	if (f->len == 0)
		f->off = off;
	else
		commit = commit && off == end; /* the commit frame's page */
	memcpy(f->buf + f->len, data, (size_t)amt);
	f->len += (size_t)amt;
	if (commit)
		return flush(f);
	f->commit_hdr = is_commit_header(data, amt);
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

static int g_shm_lock(sqlite3_file *pf, int offset, int n, int flags)
{
	return REAL(pf)->pMethods->xShmLock(REAL(pf), offset, n, flags);
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
	.iVersion = 3,
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

static int g_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *pf,
	int flags, int *out_flags)
{
	(void)vfs;
	struct gfile *f = (struct gfile *)pf;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	f->wal = (flags & SQLITE_OPEN_WAL) != 0;
	int rc = root->xOpen(root, name, f->real, flags, out_flags);
	/* SQLite closes a file whose open failed only if it has methods */
	f->base.pMethods = f->real->pMethods ? &gmethods : NULL;
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
static int g_set_syscall(sqlite3_vfs *v, const char *n,
	sqlite3_syscall_ptr p)
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
		return NULL;   /* then SQLite's own VFS is used as it is */
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
