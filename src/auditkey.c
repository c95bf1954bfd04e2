/*
 * auditkey.c — the audit key file (audithead.h): found, made and read
 * with OpenSSL and not libsodium, so that the lean binary, which keys
 * every audit entry it appends, can read it too.
 */
#include "audithead.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

char *audithead_key_path(const char *db_path)
{
	const char *v = getenv("CALLVAULT_AUDIT_KEY");
	if (v && *v)
		return xstrdup(v);
	return xasprintf("%s.secrets/%s", db_path, AUDITHEAD_KEY_NAME);
}

static enum cv_err create_key(const char *path, char **errmsg)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		if (*dir && mkdir(dir, 0700) != 0 && errno != EEXIST) {
			enum cv_err e = cv_error(errmsg, CV_EIO, "cannot create "
				"%s: %s", dir, strerror(errno));
			free(dir);
			return e;
		}
	}
	free(dir);
	static const char digits[] = "0123456789abcdef";
	unsigned char key[AUDITHEAD_KEY_LEN];
	char hex[2 * AUDITHEAD_KEY_LEN + 1];
	if (RAND_bytes(key, sizeof(key)) != 1)
		return cv_error(errmsg, CV_EIO, "no random bytes for the "
			"audit key");
	for (size_t i = 0; i < sizeof(key); i++) {
		hex[2 * i] = digits[key[i] >> 4];
		hex[2 * i + 1] = digits[key[i] & 15];
	}
	hex[2 * AUDITHEAD_KEY_LEN] = '\n';
	/* Linked into place, never renamed over: two processes making the
	 * key at once (serve and a sync timer on the first run after an
	 * upgrade) must end up with one key, the one on disk. A rename
	 * would let the second replace the key the first already uses. */
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	enum cv_err rc = CV_OK;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, hex, sizeof(hex)) != (ssize_t)sizeof(hex) ||
	    fsync(fd) != 0)
		rc = cv_error(errmsg, CV_EIO, "cannot write the audit key %s: "
			"%s", tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (rc == CV_OK && link(tmp, path) != 0 && errno != EEXIST)
		rc = cv_error(errmsg, CV_EIO, "cannot create the audit key %s: "
			"%s", path, strerror(errno));
	unlink(tmp);
	free(tmp);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

/* text (cv_read_secret's, trimmed) as exactly AUDITHEAD_KEY_LEN bytes */
static bool decode(const char *text, unsigned char key[AUDITHEAD_KEY_LEN])
{
	size_t n = 0;
	return strlen(text) == 2 * AUDITHEAD_KEY_LEN &&
	       OPENSSL_hexstr2buf_ex(key, AUDITHEAD_KEY_LEN, &n, text, '\0') ==
		       1 &&
	       n == AUDITHEAD_KEY_LEN;
}

enum cv_err audithead_key_load(const char *path, bool create,
	unsigned char key[AUDITHEAD_KEY_LEN], char **errmsg)
{
	struct stat st;
	enum cv_err rc;
	if (stat(path, &st) != 0) {
		if (errno != ENOENT || !create)
			return cv_error(errmsg, errno == ENOENT ? CV_ENOTFOUND
								: CV_EIO,
				"audit key %s: %s", path, strerror(errno));
		if ((rc = create_key(path, errmsg)) != CV_OK)
			return rc;
		if (stat(path, &st) != 0)
			return cv_error(errmsg, CV_EIO, "audit key %s: %s",
				path, strerror(errno));
	}
	if (st.st_mode & 077)
		return cv_error(errmsg, CV_EINVAL, "audit key %s may be read "
			"or written by group or others (mode %04o); fix it "
			"with: chmod 600 %s", path,
			(unsigned)(st.st_mode & 07777), path);
	char *text = NULL;
	if ((rc = cv_read_secret(path, &text, errmsg)) != CV_OK)
		return rc;
	if (!decode(text, key))
		rc = cv_error(errmsg, CV_EINVAL, "audit key %s is not 64 hex "
			"digits", path);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return rc;
}
