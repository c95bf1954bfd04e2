/* bagread.c — see bagread.h */
#include "bagread.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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
		? cv_error(errmsg, CV_EINVAL, "stopped") : CV_OK;
}

enum cv_err bagread_walk(const char *path, const struct bagread_cb *cb,
	void *arg, char **errmsg)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	enum cv_err rc = CV_OK;
	struct buf root;
	buf_init(&root);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		rc = cv_error(errmsg, CV_EIO, "cannot open %s: %s", path,
			archive_error_string(a));
		goto out;
	}
	struct archive_entry *e;
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *rest, *name = archive_entry_pathname(e);
		if (!name || !split_path(name, &root, &rest)) {
			rc = cv_error(errmsg, CV_EINTEGRITY,
				"entry \"%s\" is outside the bag's top "
				"directory", name ? name : "?");
			goto out;
		}
		if (archive_entry_filetype(e) != AE_IFREG)
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
	buf_finish(&root);
	return rc;
}
