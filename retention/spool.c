/* spool.c — see spool.h */
#include "spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static void start_hashes(struct spool *sp)
{
	sp->h256 = cv_hash_create("sha256");
	sp->h512 = cv_hash_create("sha512");
}

enum cv_err spool_open(struct spool *sp, const char *dir, char **errmsg)
{
	char *tmpl = xasprintf("%s/.callvault-spool-XXXXXX", dir);
	int fd = mkstemp(tmpl);
	memset(sp, 0, sizeof(*sp));
	if (fd < 0) {
		enum cv_err e = cv_error(errmsg, CV_EIO,
			"cannot create a temp file in %s: %s", dir,
			strerror(errno));
		free(tmpl);
		return e;
	}
	unlink(tmpl);
	free(tmpl);
	sp->f = fdopen(fd, "w+b");
	if (!sp->f)
		abort();
	setvbuf(sp->f, NULL, _IOFBF, 1 << 18);
	sp->mode = SPOOL_FILE;
	start_hashes(sp);
	return CV_OK;
}

void spool_open_counted(struct spool *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->mode = SPOOL_COUNT;
	start_hashes(sp);
}

static void replay_put(struct spool *sp, const void *p, size_t n)
{
	if (sp->rc != CV_OK)
		return;
	if (n > sp->size - sp->again) {
		sp->rc = cv_error(&sp->err, CV_EINTEGRITY,
			"made again, it came out longer than the %llu bytes "
			"first made",
			(unsigned long long)sp->size);
		return;
	}
	sp->rc = tarzst_write(sp->t, p, n, &sp->err);
	cv_hash_update(sp->h256, p, n);
	sp->again += n;
}

void spool_put(struct spool *sp, const void *p, size_t n)
{
	switch (sp->mode) {
	case SPOOL_FILE: fwrite(p, 1, n, sp->f); break;
	case SPOOL_COUNT: break;
	case SPOOL_REPLAY: replay_put(sp, p, n); return;
	case SPOOL_NONE:
	case SPOOL_SEALED: return;
	}
	cv_hash_update(sp->h256, p, n);
	cv_hash_update(sp->h512, p, n);
	sp->size += n;
}

void spool_close(struct spool *sp)
{
	if (sp->f)
		fclose(sp->f);
	cv_hash_destroy(sp->h256);
	cv_hash_destroy(sp->h512);
	free(sp->err);
	memset(sp, 0, sizeof(*sp));
}

/* The digests of what was put, final. */
static void finish_hashes(struct spool *sp)
{
	char h512[CV_SHA512_HEX];
	cv_hash_final_hex(sp->h256, h512);
	memcpy(sp->hex256, h512, CV_SHA256_HEX);
	cv_hash_final_hex(sp->h512, sp->hex512);
	sp->h256 = sp->h512 = NULL;
}

void spool_seal(struct spool *sp)
{
	if (sp->mode != SPOOL_COUNT)
		return;
	finish_hashes(sp);
	sp->mode = SPOOL_SEALED;
}

enum cv_err spool_copy(struct spool *sp, struct tarzst *t, const char *path,
	char *hex256, char *hex512, char **errmsg)
{
	if (fflush(sp->f) != 0 || ferror(sp->f) || fseek(sp->f, 0, SEEK_SET))
		return cv_error(errmsg, CV_EIO, "temp file for %s: %s", path,
			strerror(errno));
	finish_hashes(sp);
	memcpy(hex256, sp->hex256, CV_SHA256_HEX);
	memcpy(hex512, sp->hex512, CV_SHA512_HEX);
	enum cv_err rc = tarzst_begin(t, path, sp->size, errmsg);
	static char chunk[1 << 16];
	uint64_t left = sp->size;
	while (rc == CV_OK && left > 0) {
		size_t n = fread(chunk, 1,
			left < sizeof(chunk) ? left : sizeof(chunk), sp->f);
		if (n == 0)
			return cv_error(errmsg, CV_EIO,
				"temp file for %s "
				"ended early",
				path);
		rc = tarzst_write(t, chunk, n, errmsg);
		left -= n;
	}
	return rc == CV_OK ? tarzst_end(t, errmsg) : rc;
}

enum cv_err spool_replay(struct spool *sp, struct tarzst *t, const char *path,
	spool_regen_fn *regen, void *arg, char *hex256, char *hex512,
	char **errmsg)
{
	spool_seal(sp);
	if (sp->mode != SPOOL_SEALED || sp->replayed)
		return cv_error(errmsg, CV_EINVAL,
			"%s: replayed twice or never counted", path);
	enum cv_err rc = tarzst_begin(t, path, sp->size, errmsg);
	if (rc != CV_OK)
		return rc;
	sp->mode = SPOOL_REPLAY;
	sp->t = t;
	sp->again = 0;
	sp->rc = CV_OK;
	sp->h256 = cv_hash_create("sha256");
	rc = regen(arg, errmsg);
	sp->mode = SPOOL_SEALED;
	sp->replayed = true;
	sp->t = NULL;
	char again[CV_SHA512_HEX];
	cv_hash_final_hex(sp->h256, again);
	sp->h256 = NULL;
	if (rc != CV_OK)
		return rc;
	if (sp->rc != CV_OK)
		return cv_error(errmsg, sp->rc, "%s: %s", path, sp->err);
	if (sp->again != sp->size || memcmp(again, sp->hex256, 64) != 0)
		return cv_error(errmsg, CV_EINTEGRITY,
			"%s: made again from the same snapshot of the store, "
			"it came out different (%llu bytes, first %llu); "
			"nothing was stored",
			path, (unsigned long long)sp->again,
			(unsigned long long)sp->size);
	memcpy(hex256, sp->hex256, CV_SHA256_HEX);
	memcpy(hex512, sp->hex512, CV_SHA512_HEX);
	return tarzst_end(t, errmsg);
}

enum cv_err spool_emit(struct spool *sp, struct tarzst *t, const char *path,
	spool_regen_fn *regen, void *arg, char *hex256, char *hex512,
	char **errmsg)
{
	if (sp->mode == SPOOL_FILE)
		return spool_copy(sp, t, path, hex256, hex512, errmsg);
	return spool_replay(sp, t, path, regen, arg, hex256, hex512, errmsg);
}
