/* blob.c — see blob.h */
#include "blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "workq.h"

/* what a WAV header may take: LIST/bext chunks before "data" can run to
 * kilobytes */
#define HEAD_MAX 65536
/* Bytes gathered before one write(2): an HTTP client hands a body over
 * in 16 KiB pieces, and on this kind of VM a write of 256 KiB costs
 * about what two of 16 KiB do. */
#define WBUF (256 * 1024)
/* threads fsyncing the directories of a blob_sync at once */
#define SYNC_THREADS 4

/* the top directory's slot in dirty[] (0-255: the fan-out ones) */
#define TOP 256

struct blobstore {
	char *dir;
	/* Directories with a rename not yet fsync'd. Each rename starts
	 * its directory's fsync on syncq's threads at once, so that by the
	 * blob_sync before a commit it is mostly done: done one after
	 * another there, on a busy disk, they cost milliseconds each, and
	 * sync renames into a few dozen between two commits. dirty[] marks
	 * those to fsync in blob_sync itself (no thread, or a failure). */
	bool dirty[TOP + 1];
	struct workq *syncq;
	bool no_threads;
	enum cv_err sync_rc; /* the first fsync that failed on syncq */
	char *sync_why;
	/* directories known to exist (made or seen by this process): not
	 * made again for every blob */
	bool have_fan[256], have_tmp;
};

struct blob_writer {
	struct blobstore *b;
	char *tmp;
	int fd;
	int64_t size, max;
	struct cv_hash *h;
	unsigned char head[HEAD_MAX];
	unsigned char *buf; /* bytes not written yet (WBUF) */
	size_t blen;
	bool failed, flushed;
	bool late_hash;       /* hashed by blob_writer_flush, from the file */
	enum cv_err flush_rc; /* blob_writer_flush's result */
	char *flush_why;
};

bool blob_name_valid(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static enum cv_err sys_err(char **errmsg, const char *what, const char *path)
{
	int e = errno;
	return cv_error(errmsg, e == ENOENT ? CV_ENOTFOUND : CV_EIO,
		"%s %s: %s", what, path, strerror(e));
}

static enum cv_err mkdir_data(const char *dir, char **errmsg)
{
	if (mkdir(dir, (mode_t)cv_data_dir_mode()) == 0 || errno == EEXIST)
		return CV_OK;
	return sys_err(errmsg, "create", dir);
}

/* A new temporary file under tmp/, locked (flock) for as long as it is
 * open: blob_sweep_tmp removes only files nobody holds. A sweep that
 * took the lock first (and removed the file) between our create and our
 * lock leaves us an unlinked file: then make another. */
static int tmp_create(const char *tmpdir, char **path, char **errmsg)
{
	for (;;) {
		char *tmp = xasprintf("%s/XXXXXX", tmpdir);
		int fd = mkostemp(tmp, O_CLOEXEC);
		struct stat st;
		if (fd < 0) {
			sys_err(errmsg, "create", tmp);
			free(tmp);
			return -1;
		}
		if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0) {
			sys_err(errmsg, "lock", tmp);
			close(fd);
			unlink(tmp);
			free(tmp);
			return -1;
		}
		if (st.st_nlink > 0) {
			*path = tmp;
			return fd;
		}
		close(fd);
		free(tmp);
	}
}

enum cv_err blob_open(struct blobstore **out, const char *store_path,
	bool create, char **errmsg)
{
	*out = NULL;
	char *dir = xasprintf("%s.blobs", store_path);
	struct stat st;
	if (stat(dir, &st) != 0) {
		if (errno != ENOENT || !create) {
			enum cv_err rc = sys_err(errmsg, "blob directory", dir);
			free(dir);
			return rc;
		}
		char *tmp = xasprintf("%s/tmp", dir);
		enum cv_err rc = mkdir_data(dir, errmsg);
		if (rc == CV_OK)
			rc = mkdir_data(tmp, errmsg);
		free(tmp);
		if (rc != CV_OK) {
			free(dir);
			return rc;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		cv_error(errmsg, CV_EIO, "blob directory %s: not a directory",
			dir);
		free(dir);
		return CV_EIO;
	}
	struct blobstore *b = xcalloc(1, sizeof(*b));
	b->dir = dir;
	*out = b;
	return CV_OK;
}

/* One directory's fsync, on syncq. */
struct dsync {
	char *path;
	int slot;
	enum cv_err rc;
	char *why;
};

static void dsync_run(void *item)
{
	struct dsync *d = item;
	d->rc = cv_fsync_dir(d->path, &d->why);
}

static void dsync_free(void *item)
{
	struct dsync *d = item;
	free(d->path);
	free(d->why);
	free(d);
}

static char *slot_path(const struct blobstore *b, int slot)
{
	return slot == TOP ? xstrdup(b->dir)
			   : xasprintf("%s/%02x", b->dir, slot);
}

/* Take the results of the fsyncs that ran: a failed one leaves its
 * directory dirty, and its error for blob_sync. */
static void dsync_collect(struct blobstore *b)
{
	for (struct dsync *d; b->syncq && (d = workq_collect(b->syncq));) {
		if (d->rc != CV_OK) {
			b->dirty[d->slot] = true;
			if (b->sync_rc == CV_OK) {
				b->sync_rc = d->rc;
				b->sync_why = d->why;
				d->why = NULL;
			}
		}
		dsync_free(d);
	}
}

/* A rename into directory slot: its fsync starts now. */
static void dsync_start(struct blobstore *b, int slot)
{
	if (!b->syncq && !b->no_threads &&
		workq_create(&b->syncq, SYNC_THREADS, NULL, NULL, NULL) !=
			CV_OK)
		b->no_threads = true;
	if (!b->syncq) {
		b->dirty[slot] = true; /* blob_sync does it */
		return;
	}
	dsync_collect(b);
	struct dsync *d = xcalloc(1, sizeof(*d));
	d->slot = slot;
	d->path = slot_path(b, slot);
	workq_submit(b->syncq, dsync_run, d);
}

void blob_close(struct blobstore *b)
{
	if (!b)
		return;
	workq_destroy(b->syncq, dsync_free);
	free(b->sync_why);
	free(b->dir);
	free(b);
}

const char *blob_dir(const struct blobstore *b)
{
	return b->dir;
}

char *blob_path(const struct blobstore *b, const char *sha256)
{
	return xasprintf("%s/%.2s/%s", b->dir, sha256, sha256);
}

enum cv_err blob_writer_new(struct blobstore *b, int64_t max_bytes,
	struct blob_writer **out, char **errmsg)
{
	*out = NULL;
	char *tmpdir = xasprintf("%s/tmp", b->dir);
	char *tmp = NULL;
	int fd = -1;
	enum cv_err rc = CV_OK;
	/* tmp/ is made once per blobstore, and again only if it went */
	if (b->have_tmp)
		fd = tmp_create(tmpdir, &tmp, NULL);
	if (fd < 0) {
		rc = mkdir_data(tmpdir, errmsg);
		if (rc == CV_OK)
			fd = tmp_create(tmpdir, &tmp, errmsg);
	}
	free(tmpdir);
	if (rc != CV_OK)
		return rc;
	if (fd < 0)
		return CV_EIO;
	b->have_tmp = true;
	(void)fchmod(fd, (mode_t)cv_data_mode());
	struct blob_writer *w = xcalloc(1, sizeof(*w));
	w->b = b;
	w->tmp = tmp;
	w->fd = fd;
	w->max = max_bytes;
	w->h = cv_hash_create("sha256");
	*out = w;
	return CV_OK;
}

static enum cv_err write_all(struct blob_writer *w, const unsigned char *c,
	size_t left, char **errmsg)
{
	while (left > 0) {
		ssize_t r = write(w->fd, c, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			w->failed = true;
			return sys_err(errmsg, "write", w->tmp);
		}
		c += r;
		left -= (size_t)r;
	}
	return CV_OK;
}

/* Write the bytes gathered in w->buf. */
static enum cv_err spill(struct blob_writer *w, char **errmsg)
{
	size_t n = w->blen;
	w->blen = 0;
	return write_all(w, w->buf, n, errmsg);
}

enum cv_err blob_writer_write(struct blob_writer *w, const void *p, size_t n,
	char **errmsg)
{
	if (w->failed)
		return cv_error(errmsg, CV_EIO, "blob write after an error");
	if (w->max > 0 && (int64_t)n > w->max - w->size) {
		w->failed = true;
		return cv_error(errmsg, CV_ETOOBIG,
			"over the size bound of %lld bytes", (long long)w->max);
	}
	if (w->size < HEAD_MAX) {
		size_t k = (size_t)(HEAD_MAX - w->size);
		memcpy(w->head + w->size, p, n < k ? n : k);
	}
	if (!w->late_hash)
		cv_hash_update(w->h, p, n);
	w->size += (int64_t)n;
	const unsigned char *c = p;
	if (w->blen == 0 && n >= WBUF) /* large already: as it is */
		return write_all(w, c, n, errmsg);
	if (!w->buf)
		w->buf = xmalloc(WBUF);
	while (n > 0) {
		size_t k = WBUF - w->blen < n ? WBUF - w->blen : n;
		memcpy(w->buf + w->blen, c, k);
		w->blen += k;
		c += k;
		n -= k;
		if (w->blen == WBUF && spill(w, errmsg) != CV_OK)
			return CV_EIO;
	}
	return CV_OK;
}

void blob_writer_hash_on_flush(struct blob_writer *w)
{
	if (w->size == 0)
		w->late_hash = true;
}

int64_t blob_writer_size(const struct blob_writer *w)
{
	return w->size;
}

const unsigned char *blob_writer_head(const struct blob_writer *w, size_t *n)
{
	*n = w->size < HEAD_MAX ? (size_t)w->size : HEAD_MAX;
	return w->head;
}

void blob_writer_abort(struct blob_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp)
		unlink(w->tmp);
	cv_hash_destroy(w->h);
	free(w->buf);
	free(w->tmp);
	free(w->flush_why);
	free(w);
}

/* Hash the file's bytes (what was written: read back from the page
 * cache), which must be w->size of them. */
static enum cv_err hash_file(struct blob_writer *w)
{
	enum { CHUNK = 256 * 1024 };
	unsigned char *buf = xmalloc(CHUNK);
	int64_t off = 0;
	enum cv_err rc = CV_OK;
	while (rc == CV_OK && off < w->size) {
		size_t want = w->size - off < CHUNK ? (size_t)(w->size - off)
						    : CHUNK;
		ssize_t r = pread(w->fd, buf, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = sys_err(&w->flush_why, "read back", w->tmp);
		else if (r == 0)
			rc = cv_error(&w->flush_why, CV_EIO,
				"read back %s: %lld of %lld bytes", w->tmp,
				(long long)off, (long long)w->size);
		else {
			cv_hash_update(w->h, buf, (size_t)r);
			off += r;
		}
	}
	free(buf);
	return rc;
}

enum cv_err blob_writer_flush(struct blob_writer *w)
{
	w->flushed = true;
	if (!w->failed && w->blen > 0)
		w->flush_rc = spill(w, &w->flush_why);
	free(w->buf);
	w->buf = NULL;
	if (w->failed) {
		w->flush_rc = CV_EIO;
		return w->flush_rc;
	}
	if (w->late_hash) {
		/* the disk writes while the bytes are hashed */
		(void)sync_file_range(w->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		w->flush_rc = hash_file(w);
	}
	if (w->flush_rc == CV_OK && fsync(w->fd) != 0)
		w->flush_rc = sys_err(&w->flush_why, "fsync", w->tmp);
	return w->flush_rc;
}

const char *blob_writer_flush_error(const struct blob_writer *w)
{
	return w->flush_why ? w->flush_why : "blob write after an error";
}

/* The rename of a flushed writer's file to its name; the directories it
 * touched are noted for blob_sync. */
static enum cv_err publish(struct blob_writer *w, const char *hex,
	char **errmsg)
{
	unsigned v = 0;
	(void)sscanf(hex, "%2x", &v);
	v &= 0xff;
	char *fan = xasprintf("%s/%.2s", w->b->dir, hex);
	char *dst = blob_path(w->b, hex);
	/* the fan-out directory is made once per blobstore: the rename
	 * says if it went since */
	if (w->b->have_fan[v] && rename(w->tmp, dst) == 0) {
		free(w->tmp);
		w->tmp = NULL;
		dsync_start(w->b, (int)v);
		free(dst);
		free(fan);
		return CV_OK;
	}
	bool made = mkdir(fan, (mode_t)cv_data_dir_mode()) == 0;
	enum cv_err rc = made || errno == EEXIST
				 ? CV_OK
				 : sys_err(errmsg, "create", fan);
	w->b->have_fan[v] = rc == CV_OK;
	/* Renamed over a file of that name too: these bytes are proven to
	 * hash to it, a file already there is not (a flipped bit keeps its
	 * size), so a restore after `check --deep` found damage repairs it.
	 * The same bytes twice are still one file. */
	if (rc == CV_OK && rename(w->tmp, dst) != 0) {
		rc = sys_err(errmsg, "rename to", dst);
	} else if (rc == CV_OK) {
		free(w->tmp);
		w->tmp = NULL; /* not ours to unlink any more */
	}
	if (rc == CV_OK || made)
		dsync_start(w->b, (int)v);
	if (made)
		dsync_start(w->b, TOP);
	free(dst);
	free(fan);
	return rc;
}

enum cv_err blob_writer_publish(struct blob_writer *w,
	const char *expect_sha256, char sha256[CV_SHA256_HEX], int64_t *size,
	char **errmsg)
{
	enum cv_err rc = CV_OK;
	char hex[129];
	if (!w->flushed)
		(void)!blob_writer_flush(w);
	if (w->flush_rc != CV_OK) {
		rc = cv_error(errmsg, w->flush_rc, "%s",
			blob_writer_flush_error(w));
		goto out;
	}
	cv_hash_final_hex(w->h, hex);
	w->h = NULL;
	if (expect_sha256 && strcmp(hex, expect_sha256) != 0) {
		rc = cv_error(errmsg, CV_EINTEGRITY, "bytes hash to %s, not %s",
			hex, expect_sha256);
		goto out;
	}
	/* the file stays open (and locked) until it has its name: a sweep
	 * never takes a file on its way */
	rc = publish(w, hex, errmsg);
	if (rc == CV_OK) {
		memcpy(sha256, hex, CV_SHA256_HEX);
		if (size)
			*size = w->size;
	}
out:
	blob_writer_abort(w);
	return rc;
}

enum cv_err blob_sync(struct blobstore *b, char **errmsg)
{
	if (b->syncq) {
		workq_wait(b->syncq);
		dsync_collect(b);
	}
	if (b->sync_rc != CV_OK) {
		/* said once; the directory is tried again next time */
		enum cv_err rc = cv_error(errmsg, b->sync_rc, "%s",
			b->sync_why ? b->sync_why : "fsync failed");
		free(b->sync_why);
		b->sync_why = NULL;
		b->sync_rc = CV_OK;
		return rc;
	}
	for (int i = 0; i <= TOP; i++) {
		if (!b->dirty[i])
			continue;
		char *path = slot_path(b, i);
		enum cv_err rc = cv_fsync_dir(path, errmsg);
		free(path);
		if (rc != CV_OK)
			return rc;
		b->dirty[i] = false;
	}
	return CV_OK;
}

enum cv_err blob_writer_commit(struct blob_writer *w, const char *expect_sha256,
	char sha256[CV_SHA256_HEX], int64_t *size, char **errmsg)
{
	struct blobstore *b = w->b;
	enum cv_err rc = blob_writer_publish(w, expect_sha256, sha256, size,
		errmsg);
	if (rc == CV_OK)
		rc = blob_sync(b, errmsg);
	return rc;
}

/* Read fd to its end, handing each chunk to fn; a non-OK fn result
 * stops and is returned. */
static enum cv_err read_all(int fd,
	enum cv_err (*fn)(const void *p, size_t n, void *arg, char **errmsg),
	void *arg, char **errmsg)
{
	char buf[65536];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cv_error(errmsg, CV_EIO, "read: %s",
				strerror(errno));
		if (r == 0)
			return CV_OK;
		enum cv_err rc = fn(buf, (size_t)r, arg, errmsg);
		if (rc != CV_OK)
			return rc;
	}
}

static enum cv_err to_writer(const void *p, size_t n, void *arg, char **errmsg)
{
	return blob_writer_write(arg, p, n, errmsg);
}

static enum cv_err to_hash(const void *p, size_t n, void *arg, char **errmsg)
{
	cv_hash_update(arg, p, n);
	return CV_OK;
}

enum cv_err blob_put_fd(struct blobstore *b, int fd, int64_t max_bytes,
	const char *expect_sha256, char sha256[CV_SHA256_HEX], int64_t *size,
	char **errmsg)
{
	struct blob_writer *w;
	enum cv_err rc = blob_writer_new(b, max_bytes, &w, errmsg);
	if (rc != CV_OK)
		return rc;
	rc = read_all(fd, to_writer, w, errmsg);
	if (rc != CV_OK) {
		blob_writer_abort(w);
		return rc;
	}
	return blob_writer_commit(w, expect_sha256, sha256, size, errmsg);
}

enum cv_err blob_open_read(const struct blobstore *b, const char *sha256,
	int *fd, int64_t *size, char **errmsg)
{
	*fd = -1;
	if (!blob_name_valid(sha256))
		return cv_error(errmsg, CV_EINVAL, "not a blob name: %s",
			sha256 ? sha256 : "(null)");
	char *path = blob_path(b, sha256);
	int f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	enum cv_err rc = CV_OK;
	struct stat st;
	if (f < 0) {
		rc = sys_err(errmsg, "open", path);
	} else if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = cv_error(errmsg, CV_EIO, "%s: not a regular file", path);
		close(f);
	} else {
		*fd = f;
		if (size)
			*size = st.st_size;
	}
	free(path);
	return rc;
}

bool blob_exists(const struct blobstore *b, const char *sha256, int64_t *size)
{
	if (!blob_name_valid(sha256))
		return false;
	char *path = blob_path(b, sha256);
	struct stat st;
	bool ok = lstat(path, &st) == 0 && S_ISREG(st.st_mode);
	if (ok && size)
		*size = st.st_size;
	free(path);
	return ok;
}

enum cv_err blob_hash(const struct blobstore *b, const char *sha256,
	char got[CV_SHA256_HEX], char **errmsg)
{
	int fd;
	enum cv_err rc = blob_open_read(b, sha256, &fd, NULL, errmsg);
	if (rc != CV_OK)
		return rc;
	struct cv_hash *h = cv_hash_create("sha256");
	rc = read_all(fd, to_hash, h, errmsg);
	close(fd);
	if (rc != CV_OK) {
		cv_hash_destroy(h);
		return rc;
	}
	char hex[129];
	cv_hash_final_hex(h, hex);
	memcpy(got, hex, CV_SHA256_HEX);
	return CV_OK;
}

enum cv_err blob_remove(struct blobstore *b, const char *sha256, char **errmsg)
{
	if (!blob_name_valid(sha256))
		return cv_error(errmsg, CV_EINVAL, "not a blob name");
	char *path = blob_path(b, sha256);
	enum cv_err rc = CV_OK;
	if (unlink(path) != 0 && errno != ENOENT) {
		rc = sys_err(errmsg, "remove", path);
	} else {
		char *fan = xasprintf("%s/%.2s", b->dir, sha256);
		if (access(fan, F_OK) == 0)
			rc = cv_fsync_dir(fan, errmsg);
		free(fan);
	}
	free(path);
	return rc;
}

static bool fan_name(const char *s)
{
	return strlen(s) == 2 && strspn(s, "0123456789abcdef") == 2;
}

int blob_each(const struct blobstore *b,
	int (*fn)(const char *name, bool valid, int64_t size, void *arg),
	void *arg)
{
	DIR *d = opendir(b->dir);
	if (!d)
		return -1;
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d))) {
		if (!fan_name(e->d_name))
			continue;
		char *fan = xasprintf("%s/%s", b->dir, e->d_name);
		DIR *f = opendir(fan);
		struct dirent *g;
		while (f && r == 0 && (g = readdir(f))) {
			if (g->d_name[0] == '.')
				continue;
			char *p = xasprintf("%s/%s", fan, g->d_name);
			struct stat st;
			int64_t sz = lstat(p, &st) == 0 ? st.st_size : -1;
			bool valid = blob_name_valid(g->d_name) &&
				     !strncmp(g->d_name, e->d_name, 2) &&
				     sz >= 0 && S_ISREG(st.st_mode);
			r = fn(g->d_name, valid, sz, arg);
			free(p);
		}
		if (f)
			closedir(f);
		free(fan);
	}
	closedir(d);
	return r;
}

int blob_sweep_tmp(struct blobstore *b)
{
	/* a writer, in this process or another, holds its file's lock
	 * until the file is named or removed: a file nobody holds was left
	 * by a writer that died (a crash, kill -9) */
	char *tmpdir = xasprintf("%s/tmp", b->dir);
	DIR *d = opendir(tmpdir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = xasprintf("%s/%s", tmpdir, e->d_name);
		int fd = open(p,
			O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
			unlink(p) == 0)
			n++;
		if (fd >= 0)
			close(fd);
		free(p);
	}
	if (d)
		closedir(d);
	free(tmpdir);
	return n;
}
