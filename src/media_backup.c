/* media_backup.c — see media_backup.h */
#include "media_backup.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"
#include "store/store.h"
#include "store/store_recordings.h"
#include "store/store_storage.h"

struct copy {
	struct store *s; /* the snapshot */
	struct blobstore *from, *to;
	int64_t n, bytes;
	char *err;
	enum cv_err rc;
};

static int copy_one(const struct store_recording *r, void *arg)
{
	struct copy *c = arg;
	int64_t size;
	if (blob_exists(c->to, r->sha256, NULL))
		return 0;
	int fd;
	char *err = NULL;
	enum cv_err rc = blob_open_read(c->from, r->sha256, &fd, &size, &err);
	char got[CV_SHA256_HEX];
	if (rc == CV_OK) {
		rc = blob_put_fd(c->to, fd, 0, r->sha256, got, &size, &err);
		close(fd);
	}
	struct store_remote_blob *v = NULL;
	size_t nv = 0;
	if (rc == CV_ENOTFOUND &&
		store_remote_blob_list(c->s, NULL, r->sha256, &v, &nv, NULL) ==
			CV_OK &&
		nv > 0) {
		/* evicted (`storage evict`): the copy's store records where
		 * it is, as the live one does */
		store_remote_blobs_free(v, nv);
		free(err);
		return 0;
	}
	if (rc != CV_OK) {
		c->rc = rc;
		c->err = xasprintf("recording %s of message %s: %s%s",
			r->sha256, r->message_id, err ? err : cv_strerror(rc),
			rc == CV_ENOTFOUND ? " (purged or erased since the "
					     "snapshot? run backup again)"
					   : "");
		free(err);
		return 1;
	}
	c->n++;
	c->bytes += size;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
	struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path); /* best effort: the error reported is the copy's */
	return 0;
}

void media_backup_discard(const char *out_path)
{
	char *dir = xasprintf("%s.blobs", out_path);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

enum cv_err media_backup(const char *live_store, const char *copy_path,
	const char *out_path, int64_t *n, int64_t *bytes, char **errmsg)
{
	*n = 0;
	*bytes = 0;
	struct store *s;
	enum cv_err rc = store_open(&s, copy_path, STORE_READONLY, errmsg);
	if (rc != CV_OK)
		return rc;
	int64_t rows = 0;
	struct copy c = { .s = s, .rc = CV_OK };
	rc = store_recordings_count(s, &rows, errmsg);
	if (rc != CV_OK || rows == 0)
		goto out;
	rc = blob_open(&c.from, live_store, false, errmsg);
	if (rc == CV_OK)
		rc = blob_open(&c.to, out_path, true, errmsg);
	if (rc == CV_OK)
		rc = store_recordings_each(s, copy_one, &c, errmsg);
	if (rc != CV_OK && c.err) {
		free(*errmsg);
		*errmsg = c.err;
		c.err = NULL;
		rc = c.rc;
	}
	if (rc != CV_OK && c.to)
		nftw(blob_dir(c.to), rm_entry, 16, FTW_DEPTH | FTW_PHYS);
out:
	free(c.err);
	blob_close(c.from);
	blob_close(c.to);
	store_close(s);
	if (rc == CV_OK) {
		*n = c.n;
		*bytes = c.bytes;
	}
	return rc;
}
