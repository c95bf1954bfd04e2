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

/* what a WAV header may take: LIST/bext chunks before "data" can run to
 * kilobytes */
#define HEAD_MAX 65536

struct blobstore {
	char *dir;
	/* directories with a rename not yet fsync'd (blob_sync) */
	bool dirty_fan[256], dirty_top;
};

struct blob_writer {
	struct blobstore *b;
	char *tmp;
	int fd;
	int64_t size, max;
	struct cv_hash *h;
	unsigned char head[HEAD_MAX];
	bool failed, flushed;
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

void blob_close(struct blobstore *b)
{
	if (!b)
		return;
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
	enum cv_err rc = mkdir_data(tmpdir, errmsg);
	if (rc != CV_OK) {
		free(tmpdir);
		return rc;
	}
	char *tmp = NULL;
	int fd = tmp_create(tmpdir, &tmp, errmsg);
	free(tmpdir);
	if (fd < 0)
		return CV_EIO;
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
	const char *c = p;
	size_t left = n;
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
	cv_hash_update(w->h, p, n);
	w->size += (int64_t)n;
	return CV_OK;
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
	free(w->tmp);
	free(w->flush_why);
	free(w);
}

enum cv_err blob_writer_flush(struct blob_writer *w)
{
	w->flushed = true;
	if (w->failed)
		w->flush_rc = CV_EIO;
	else if (fsync(w->fd) != 0)
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
	char *fan = xasprintf("%s/%.2s", w->b->dir, hex);
	bool made = mkdir(fan, (mode_t)cv_data_dir_mode()) == 0;
	enum cv_err rc = made || errno == EEXIST
				 ? CV_OK
				 : sys_err(errmsg, "create", fan);
	char *dst = blob_path(w->b, hex);
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
	if (rc == CV_OK || made) {
		unsigned v = 0;
		(void)sscanf(hex, "%2x", &v);
		w->b->dirty_fan[v & 0xff] = true;
		w->b->dirty_top |= made;
	}
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
	enum cv_err rc = CV_OK;
	for (unsigned i = 0; i < 256 && rc == CV_OK; i++) {
		if (!b->dirty_fan[i])
			continue;
		char *fan = xasprintf("%s/%02x", b->dir, i);
		rc = cv_fsync_dir(fan, errmsg);
		free(fan);
		if (rc == CV_OK)
			b->dirty_fan[i] = false;
	}
	if (rc == CV_OK && b->dirty_top) {
		rc = cv_fsync_dir(b->dir, errmsg);
		if (rc == CV_OK)
			b->dirty_top = false;
	}
	return rc;
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
