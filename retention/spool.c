/* spool.c — see spool.h */
#include "spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

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
	sp->h256 = cv_hash_create("sha256");
	sp->h512 = cv_hash_create("sha512");
	return CV_OK;
}

void spool_put(struct spool *sp, const void *p, size_t n)
{
	fwrite(p, 1, n, sp->f);
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
	memset(sp, 0, sizeof(*sp));
}

enum cv_err spool_copy(struct spool *sp, struct tarzst *t, const char *path,
	char *hex256, char *hex512, char **errmsg)
{
	if (fflush(sp->f) != 0 || ferror(sp->f) || fseek(sp->f, 0, SEEK_SET))
		return cv_error(errmsg, CV_EIO, "temp file for %s: %s", path,
			strerror(errno));
	char h512[CV_SHA512_HEX];
	cv_hash_final_hex(sp->h256, h512);
	memcpy(hex256, h512, CV_SHA256_HEX);
	cv_hash_final_hex(sp->h512, hex512);
	sp->h256 = sp->h512 = NULL;
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
