/* tarzst.c — see tarzst.h */
#include "tarzst.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define ZSTD_JOB (1 << 20)

struct tarzst {
	struct archive *ar;
	struct archive_entry *ent;
	ZSTD_CCtx *zc;
	struct sink *sink;
	struct cv_hash *h;
	void *out;
	size_t out_cap;
	uint64_t size, tar_size;
	int64_t mtime;
	enum cv_err err;          /* first failure in the callbacks */
};

/* Write the zstd output buffer's first n bytes to the sink. */
static bool emit(struct tarzst *t, size_t n)
{
	if (n == 0)
		return true;
	if (sink_write(t->sink, t->out, n) != CV_OK) {
		t->err = CV_EIO;
		return false;
	}
	cv_hash_update(t->h, t->out, n);
	t->size += n;
	return true;
}

static bool compress(struct tarzst *t, const void *p, size_t n,
	ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { p, n, 0 };
	for (;;) {
		ZSTD_outBuffer o = { t->out, t->out_cap, 0 };
		size_t left = ZSTD_compressStream2(t->zc, &o, &in, mode);
		if (ZSTD_isError(left)) {
			t->err = CV_EIO;
			return false;
		}
		if (!emit(t, o.pos))
			return false;
		if (mode == ZSTD_e_continue ? in.pos == in.size : left == 0)
			return true;
	}
}

static la_ssize_t write_cb(struct archive *a, void *arg, const void *p,
	size_t n)
{
	struct tarzst *t = arg;
	t->tar_size += n;
	return compress(t, p, n, ZSTD_e_continue) ? (la_ssize_t)n : -1;
}

static int close_cb(struct archive *a, void *arg)
{
	return ARCHIVE_OK;
}

static enum cv_err arerr(struct tarzst *t, char **errmsg, const char *what)
{
	if (t->err != CV_OK)
		return cv_error(errmsg, t->err, "%s: writing the archive "
						"failed", what);
	return cv_error(errmsg, CV_EIO, "%s: %s", what,
		archive_error_string(t->ar) ? archive_error_string(t->ar)
					    : "libarchive failed");
}

static bool setup_zstd(struct tarzst *t, int level, int threads)
{
	t->zc = ZSTD_createCCtx();
	if (!t->zc)
		return false;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(t->zc,
		    ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(t->zc, ZSTD_c_checksumFlag,
		    1)))
		return false;
	/* a libzstd without threads refuses workers: run in the caller.
	 * With workers, 1 MiB jobs: zstd's default for level 3 is 8 MiB,
	 * and it keeps about five jobs' input and output in memory (~45 MiB
	 * more peak RSS for archive, against 0.3 % more bytes) */
	if (threads > 0 &&
	    !ZSTD_isError(ZSTD_CCtx_setParameter(t->zc, ZSTD_c_nbWorkers,
		    threads)))
		(void)ZSTD_CCtx_setParameter(t->zc, ZSTD_c_jobSize, ZSTD_JOB);
	t->out_cap = ZSTD_CStreamOutSize();
	t->out = xmalloc(t->out_cap);
	return true;
}

enum cv_err tarzst_create(struct tarzst **out, struct sink *sink, int level,
	int threads, int64_t mtime, char **errmsg)
{
	struct tarzst *t = xcalloc(1, sizeof(*t));
	t->sink = sink;
	t->mtime = mtime;
	t->h = cv_hash_create("sha256");
	*out = NULL;
	if (!setup_zstd(t, level, threads)) {
		tarzst_destroy(t);
		return cv_error(errmsg, CV_EINVAL, "zstd: bad level %d", level);
	}
	t->ar = archive_write_new();
	t->ent = archive_entry_new();
	if (!t->ar || !t->ent)
		abort();
	if (archive_write_set_format_pax_restricted(t->ar) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t->ar, 1) != ARCHIVE_OK ||
	    archive_write_open(t->ar, t, NULL, write_cb, close_cb) !=
		    ARCHIVE_OK) {
		enum cv_err rc = arerr(t, errmsg, "tar");
		tarzst_destroy(t);
		return rc;
	}
	*out = t;
	return CV_OK;
}

static enum cv_err header(struct tarzst *t, const char *path, bool dir,
	uint64_t size, char **errmsg)
{
	struct archive_entry *e = t->ent;
	archive_entry_clear(e);
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, dir ? 0755 : 0644);
	archive_entry_set_size(e, dir ? 0 : (la_int64_t)size);
	archive_entry_set_mtime(e, (time_t)(t->mtime / 1000), 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "callvault");
	archive_entry_set_gname(e, "callvault");
	if (archive_write_header(t->ar, e) != ARCHIVE_OK)
		return arerr(t, errmsg, path);
	return CV_OK;
}

enum cv_err tarzst_add_dir(struct tarzst *t, const char *path, char **errmsg)
{
	enum cv_err rc = header(t, path, true, 0, errmsg);
	if (rc == CV_OK && archive_write_finish_entry(t->ar) != ARCHIVE_OK)
		rc = arerr(t, errmsg, path);
	return rc;
}

enum cv_err tarzst_begin(struct tarzst *t, const char *path, uint64_t size,
	char **errmsg)
{
	return header(t, path, false, size, errmsg);
}

enum cv_err tarzst_write(struct tarzst *t, const void *p, size_t n,
	char **errmsg)
{
	const char *c = p;
	while (n > 0) {
		la_ssize_t w = archive_write_data(t->ar, c, n);
		if (w <= 0)
			return arerr(t, errmsg, "tar data");
		c += w;
		n -= (size_t)w;
	}
	return CV_OK;
}

enum cv_err tarzst_end(struct tarzst *t, char **errmsg)
{
	if (archive_write_finish_entry(t->ar) != ARCHIVE_OK)
		return arerr(t, errmsg, "tar entry");
	return CV_OK;
}

enum cv_err tarzst_add(struct tarzst *t, const char *path, const void *p,
	size_t n, char **errmsg)
{
	enum cv_err rc = tarzst_begin(t, path, n, errmsg);
	if (rc == CV_OK)
		rc = tarzst_write(t, p, n, errmsg);
	if (rc == CV_OK)
		rc = tarzst_end(t, errmsg);
	return rc;
}

enum cv_err tarzst_finish(struct tarzst *t, char sha256[CV_SHA256_HEX],
	uint64_t *size, uint64_t *tar_size, char **errmsg)
{
	if (archive_write_close(t->ar) != ARCHIVE_OK)
		return arerr(t, errmsg, "tar close");
	if (!compress(t, NULL, 0, ZSTD_e_end))
		return cv_error(errmsg, t->err, "finishing the zstd frame "
						"failed");
	char hex[CV_SHA512_HEX];
	cv_hash_final_hex(t->h, hex);
	t->h = NULL;
	memcpy(sha256, hex, CV_SHA256_HEX);
	*size = t->size;
	*tar_size = t->tar_size;
	return CV_OK;
}

void tarzst_destroy(struct tarzst *t)
{
	if (!t)
		return;
	if (t->ar)
		archive_write_free(t->ar);
	if (t->ent)
		archive_entry_free(t->ent);
	ZSTD_freeCCtx(t->zc);
	cv_hash_destroy(t->h);
	free(t->out);
	free(t);
}
