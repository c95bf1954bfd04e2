/* util_file.c — see util.h: sinks (durable writes) and file reads */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- sinks ---- */

struct sink {
	int fd; /* -1 for memory sinks */
	char *path, *tmp;
	struct buf mem;
	enum sink_fault fault;
	bool committed, failed;
	uint64_t written, flushed, wb_every; /* sink_set_writeback */
	enum cv_err (*fn)(const void *p, size_t n, void *arg);
	void *arg;
};

enum cv_err sink_open_file(struct sink **out, const char *path, int mode,
	char **errmsg)
{
	struct sink *s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	s->fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (s->fd < 0) {
		enum cv_err e = cv_error(errmsg, CV_EIO, "cannot create %s: %s",
			s->tmp, strerror(errno));
		free(s->tmp);
		s->tmp = NULL;
		sink_destroy(s);
		return e;
	}
	/* umask must not widen or narrow what the caller asked for */
	(void)fchmod(s->fd, (mode_t)mode);
	*out = s;
	return CV_OK;
}

struct sink *sink_open_mem(void)
{
	struct sink *s = xcalloc(1, sizeof(*s));
	s->fd = -1;
	buf_init(&s->mem);
	return s;
}

struct sink *sink_open_fn(enum cv_err (*fn)(const void *p, size_t n, void *arg),
	void *arg)
{
	struct sink *s = sink_open_mem();
	s->fn = fn;
	s->arg = arg;
	return s;
}

void sink_set_fault(struct sink *s, enum sink_fault f)
{
	s->fault = f;
}

void sink_set_writeback(struct sink *s, uint64_t every)
{
	s->wb_every = every;
}

/* Start the disk writing what is written so far (not waiting for it). A
 * failure here only loses the head start: commit's fsync reports. */
static void writeback(struct sink *s)
{
	if (!s->wb_every || s->written - s->flushed < s->wb_every)
		return;
#ifdef SYNC_FILE_RANGE_WRITE
	(void)sync_file_range(s->fd, (off_t)s->flushed,
		(off_t)(s->written - s->flushed), SYNC_FILE_RANGE_WRITE);
#endif
	s->flushed = s->written;
}

enum cv_err sink_write(struct sink *s, const void *p, size_t n)
{
	if (s->failed)
		return CV_EIO;
	if (s->fault == SINK_FAULT_WRITE) {
		s->failed = true;
		errno = EIO;
		return CV_EIO;
	}
	if (s->fn) {
		enum cv_err rc = s->fn(p, n, s->arg);
		s->failed = rc != CV_OK;
		return rc;
	}
	if (s->fd < 0) {
		buf_append(&s->mem, p, n);
		return CV_OK;
	}
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(s->fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			s->failed = true;
			return CV_EIO;
		}
		c += w;
		n -= (size_t)w;
		s->written += (uint64_t)w;
	}
	writeback(s);
	return CV_OK;
}

enum cv_err cv_fsync_dir(const char *dir, char **errmsg)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	enum cv_err rc = CV_OK;
	if (dfd < 0 || fsync(dfd) != 0)
		rc = cv_error(errmsg, CV_EIO, "cannot fsync directory %s: %s",
			dir, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	return rc;
}

static enum cv_err fsync_dir_of(const char *path, char **errmsg)
{
	char *copy = xstrdup(path);
	enum cv_err rc = cv_fsync_dir(dirname(copy), errmsg);
	free(copy);
	return rc;
}

enum cv_err sink_commit(struct sink *s, char **errmsg)
{
	if (s->fd < 0)
		return s->failed ? CV_EIO : CV_OK;
	if (s->failed)
		return cv_error(errmsg, CV_EIO, "write to %s failed", s->tmp);
	if (s->fault == SINK_FAULT_FSYNC || fsync(s->fd) != 0) {
		s->failed = true;
		return cv_error(errmsg, CV_EIO, "fsync of %s failed", s->tmp);
	}
	if (close(s->fd) != 0) {
		s->fd = -2;
		s->failed = true;
		return cv_error(errmsg, CV_EIO, "close of %s failed", s->tmp);
	}
	s->fd = -2;
	if (s->fault == SINK_FAULT_RENAME || rename(s->tmp, s->path) != 0) {
		s->failed = true;
		return cv_error(errmsg, CV_EIO, "cannot rename %s to %s",
			s->tmp, s->path);
	}
	s->committed = true;
	return fsync_dir_of(s->path, errmsg);
}

const struct buf *sink_mem(const struct sink *s)
{
	return &s->mem;
}

void sink_destroy(struct sink *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->tmp && !s->committed)
		unlink(s->tmp);
	free(s->tmp);
	free(s->path);
	buf_finish(&s->mem);
	free(s);
}

enum cv_err cv_write_file_atomic(const char *path, const void *p, size_t n,
	int mode, char **errmsg)
{
	struct sink *s;
	enum cv_err rc = sink_open_file(&s, path, mode, errmsg);
	if (rc != CV_OK)
		return rc;
	rc = sink_write(s, p, n);
	if (rc != CV_OK)
		cv_error(errmsg, rc, "cannot write %s", path);
	else
		rc = sink_commit(s, errmsg);
	sink_destroy(s);
	return rc;
}

enum cv_err cv_read_file(const char *path, size_t max, char **out, size_t *len,
	char **errmsg)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return cv_error(errmsg, CV_EIO, "cannot open %s: %s", path,
			strerror(errno));
	struct buf b;
	buf_init(&b);
	char chunk[65536];
	size_t n;
	enum cv_err rc = CV_OK;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > max) {
			rc = cv_error(errmsg, CV_ETOOBIG,
				"%s is larger than %zu bytes", path, max);
			break;
		}
		buf_append(&b, chunk, n);
	}
	if (rc == CV_OK && ferror(f))
		rc = cv_error(errmsg, CV_EIO, "cannot read %s", path);
	fclose(f);
	if (rc != CV_OK) {
		buf_finish(&b);
		return rc;
	}
	if (len)
		*len = b.len;
	*out = buf_steal(&b);
	return CV_OK;
}

enum cv_err cv_read_secret(const char *path, char **out, char **errmsg)
{
	size_t len;
	char *s;
	enum cv_err rc = cv_read_file(path, 64 * 1024, &s, &len, errmsg);
	if (rc != CV_OK)
		return rc;
	s[strcspn(s, "\r\n")] = '\0';
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = '\0';
	if (len == 0) {
		free(s);
		return cv_error(errmsg, CV_EINVAL, "secret file %s is empty",
			path);
	}
	*out = s;
	return CV_OK;
}
