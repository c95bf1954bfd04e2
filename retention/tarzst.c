/* tarzst.c — see tarzst.h */
#include "tarzst.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "fanout.h"

/*
 * The compressed bytes go out through a fanout: zstd fills a slot, one
 * lane hashes it and another writes it to the sink while zstd fills the
 * next. Four slots of 128 KiB.
 */
enum { OUT_SLOTS = 4, OUT_SLOT_SIZE = 128 << 10, ZSTD_JOB = 1 << 20 };
/* libarchive's block: whole blocks go to zstd without a copy, the small
 * pieces between them (headers, padding, small files) are gathered */
enum { TAR_BLOCK = 64 << 10 };

struct tarzst {
	struct archive *ar;
	struct archive_entry *ent;
	ZSTD_CCtx *zc;
	struct sink *sink;
	struct cv_hash *h;
	struct fanout *fo; /* lanes: hash, write */
	char *out;         /* the slot being filled, or NULL */
	size_t out_pos;
	uint64_t size, tar_size;
	int64_t mtime;
	enum cv_err err; /* first failure in the callbacks */
};

static bool lane_hash(void *arg, const void *p, size_t n, void *tag)
{
	(void)tag;
	cv_hash_update(arg, p, n);
	return true;
}

static bool lane_write(void *arg, const void *p, size_t n, void *tag)
{
	(void)tag;
	return sink_write(arg, p, n) == CV_OK;
}

/* Hand the slot being filled to the lanes. */
static void emit(struct tarzst *t)
{
	if (t->out && t->out_pos) {
		fanout_push(t->fo, t->out_pos, NULL);
		t->size += t->out_pos;
		t->out = NULL;
	}
}

static bool compress(struct tarzst *t, const void *p, size_t n,
	ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { p, n, 0 };
	for (;;) {
		if (!t->out) {
			t->out = fanout_slot(t->fo);
			t->out_pos = 0;
		}
		ZSTD_outBuffer o = { t->out, OUT_SLOT_SIZE, t->out_pos };
		size_t left = ZSTD_compressStream2(t->zc, &o, &in, mode);
		if (ZSTD_isError(left)) {
			t->err = CV_EIO;
			return false;
		}
		t->out_pos = o.pos;
		if (t->out_pos == OUT_SLOT_SIZE)
			emit(t);
		if (fanout_failed(t->fo)) { /* the sink refused */
			t->err = CV_EIO;
			return false;
		}
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
		return cv_error(errmsg, t->err,
			"%s: writing the archive "
			"failed",
			what);
	return cv_error(errmsg, CV_EIO, "%s: %s", what,
		archive_error_string(t->ar) ? archive_error_string(t->ar)
					    : "libarchive failed");
}

static bool setup_zstd(struct tarzst *t, int level, int threads)
{
	t->zc = ZSTD_createCCtx();
	if (!t->zc)
		return false;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(t->zc, ZSTD_c_compressionLevel,
		    level)) ||
		ZSTD_isError(
			ZSTD_CCtx_setParameter(t->zc, ZSTD_c_checksumFlag, 1)))
		return false;
	/* a libzstd without threads refuses workers: run in the caller */
	if (threads > 0)
		(void)ZSTD_CCtx_setParameter(t->zc, ZSTD_c_nbWorkers, threads);
	/* 1 MiB jobs, not zstd's 8 MiB at level 3 (4 windows): the
	 * workers start sooner, and zstd keeps about five jobs' input and
	 * output in memory (~45 MiB more peak RSS at 8 MiB, which took
	 * archive --to past 64 MiB), for ~0.3 % more output */
	if (threads > 0)
		(void)ZSTD_CCtx_setParameter(t->zc, ZSTD_c_jobSize, ZSTD_JOB);
	return true;
}

enum cv_err tarzst_create(struct tarzst **out, struct sink *sink, int level,
	int threads, int64_t mtime, char **errmsg)
{
	struct tarzst *t = xcalloc(1, sizeof(*t));
	t->sink = sink;
	t->mtime = mtime;
	t->h = cv_hash_create("sha256");
	fanout_fn *const fns[] = { lane_hash, lane_write };
	void *const args[] = { t->h, sink };
	t->fo = fanout_create(OUT_SLOTS, OUT_SLOT_SIZE, 2, fns, args);
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
		archive_write_set_bytes_per_block(t->ar, TAR_BLOCK) !=
			ARCHIVE_OK ||
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
		return cv_error(errmsg, t->err,
			"finishing the zstd frame "
			"failed");
	emit(t);
	/* every byte written (or the sink's failure known) before the
	 * caller commits the sink; the lanes are gone after this */
	bool ok = fanout_drain(t->fo);
	fanout_destroy(t->fo);
	t->fo = NULL;
	if (!ok)
		return cv_error(errmsg, CV_EIO,
			"tar close: writing the "
			"archive failed");
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
	fanout_destroy(t->fo); /* before the hash its lane updates */
	cv_hash_destroy(t->h);
	free(t);
}
