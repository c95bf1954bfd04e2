/* bagread.c — see bagread.h */
#include "bagread.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "util.h"

/* Split "root/rest" and refuse absolute paths and "..". */
static bool split_path(const char *full, struct buf *root, const char **rest)
{
	if (!*full || full[0] == '/')
		return false;
	for (const char *p = full; *p;) {
		size_t n = strcspn(p, "/");
		if ((n == 2 && p[0] == '.' && p[1] == '.') || n == 0)
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	size_t n = strcspn(full, "/");
	if (!root->len)
		buf_append(root, full, n);
	else if (root->len != n || memcmp(root->data, full, n) != 0)
		return false;
	*rest = full[n] ? full + n + 1 : full + n;
	return true;
}

/*
 * The zstd stream is decompressed here rather than by libarchive's
 * filter, so that the window a frame may ask for is bounded: 8 MiB, what
 * zstd levels up to 19 (archive --level) use; a frame asking for more
 * (up to 2 GiB) is refused instead of allocated.
 */
#define WINDOW_LOG_MAX 23

struct zsrc {
	FILE *f;
	ZSTD_DStream *ds;
	ZSTD_inBuffer ib;
	size_t last; /* ZSTD_decompressStream's last answer */
	char in[1 << 16], out[1 << 17];
};

static la_ssize_t z_read(struct archive *a, void *arg, const void **buf)
{
	struct zsrc *z = arg;
	ZSTD_outBuffer ob = { z->out, sizeof(z->out), 0 };
	while (ob.pos == 0) {
		if (z->ib.pos == z->ib.size) {
			size_t n = fread(z->in, 1, sizeof(z->in), z->f);
			if (n == 0 && ferror(z->f)) {
				archive_set_error(a, EIO, "read error");
				return -1;
			}
			if (n == 0 && z->last != 0) {
				archive_set_error(a, EINVAL,
					"truncated zstd stream");
				return -1;
			}
			if (n == 0)
				return 0;
			z->ib = (ZSTD_inBuffer){ z->in, n, 0 };
		}
		z->last = ZSTD_decompressStream(z->ds, &ob, &z->ib);
		if (ZSTD_isError(z->last)) {
			archive_set_error(a, EINVAL, "zstd: %s",
				ZSTD_getErrorName(z->last));
			return -1;
		}
	}
	*buf = z->out;
	return (la_ssize_t)ob.pos;
}

static enum cv_err read_entry(struct archive *a, const struct bagread_cb *cb,
	void *arg, char **errmsg)
{
	const void *p;
	size_t n;
	la_int64_t off;
	int r;
	while ((r = archive_read_data_block(a, &p, &n, &off)) == ARCHIVE_OK) {
		if (n && cb->data(p, n, arg) != 0)
			return cv_error(errmsg, CV_EINVAL, "stopped");
	}
	if (r != ARCHIVE_EOF)
		return cv_error(errmsg, CV_EINTEGRITY, "cannot unpack: %s",
			archive_error_string(a) ? archive_error_string(a)
						: "read error");
	return cb->end && cb->end(arg) != 0
		       ? cv_error(errmsg, CV_EINVAL, "stopped")
		       : CV_OK;
}

enum cv_err bagread_walk(const char *path, const struct bagread_cb *cb,
	void *arg, char **errmsg)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	enum cv_err rc = CV_OK;
	struct buf root;
	buf_init(&root);
	struct zsrc *z = xcalloc(1, sizeof(*z));
	z->last = 1;
	z->ds = ZSTD_createDStream();
	if (!z->ds)
		abort();
	ZSTD_DCtx_setParameter(z->ds, ZSTD_d_windowLogMax, WINDOW_LOG_MAX);
	if (!(z->f = fopen(path, "rb"))) {
		rc = cv_error(errmsg, CV_EIO, "cannot open %s: %s", path,
			strerror(errno));
		goto out;
	}
	if (archive_read_open(a, z, NULL, z_read, NULL) != ARCHIVE_OK) {
		rc = cv_error(errmsg, CV_EINTEGRITY, "cannot unpack: %s",
			archive_error_string(a) ? archive_error_string(a)
						: "not a tar.zst");
		goto out;
	}
	struct archive_entry *e;
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *rest, *name = archive_entry_pathname(e);
		if (!name || !split_path(name, &root, &rest)) {
			rc = cv_error(errmsg, CV_EINTEGRITY,
				"entry \"%s\" is outside the bag's top "
				"directory",
				name ? name : "?");
			goto out;
		}
		/* links, devices and FIFOs have no place in a bag: a tool
		 * unpacking it would create them */
		mode_t type = archive_entry_filetype(e);
		if (archive_entry_hardlink(e) || archive_entry_symlink(e) ||
			(type != AE_IFREG && type != AE_IFDIR)) {
			rc = cv_error(errmsg, CV_EINTEGRITY,
				"entry \"%s\" is "
				"not a regular file or directory",
				name);
			goto out;
		}
		if (type == AE_IFDIR)
			continue;
		struct bagread_entry be = { root.data, rest,
			archive_entry_size(e) };
		int want = cb->begin(&be, arg);
		if (want < 0) {
			rc = cv_error(errmsg, CV_EINVAL, "stopped");
			goto out;
		}
		if (want == 0 && (rc = read_entry(a, cb, arg, errmsg)) != CV_OK)
			goto out;
	}
	if (r != ARCHIVE_EOF)
		rc = cv_error(errmsg, CV_EINTEGRITY, "cannot unpack: %s",
			archive_error_string(a) ? archive_error_string(a)
						: "read error");
	else if (!root.len)
		rc = cv_error(errmsg, CV_EINTEGRITY, "the archive is empty");
out:
	archive_read_free(a);
	if (z->f)
		fclose(z->f);
	ZSTD_freeDStream(z->ds);
	free(z);
	buf_finish(&root);
	return rc;
}
