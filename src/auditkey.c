/*
 * auditkey.c — the audit key file (audithead.h): found, made and read
 * with OpenSSL and not libsodium, so that the lean binary, which keys
 * every audit entry it appends, can read it too.
 */
#include "audithead.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfile.h"
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
			enum cv_err e = cv_error(errmsg, CV_EIO,
				"cannot create "
				"%s: %s",
				dir, strerror(errno));
			free(dir);
			return e;
		}
	}
	free(dir);
	/* linked into place, never renamed over (keyfile.h): serve and a
	 * sync timer making the key at once on the first run after an
	 * upgrade must both use the one on disk */
	return cv_keyfile_create(path, AUDITHEAD_KEY_LEN, "audit key", errmsg);
}

/* text (cv_read_secret's, trimmed) as exactly AUDITHEAD_KEY_LEN bytes */
static bool decode(const char *text, unsigned char key[AUDITHEAD_KEY_LEN])
{
	return strlen(text) == 2 * AUDITHEAD_KEY_LEN &&
	       cv_unhex(text, AUDITHEAD_KEY_LEN, key, true);
}

enum cv_err audithead_key_load(const char *path, bool create,
	unsigned char key[AUDITHEAD_KEY_LEN], char **errmsg)
{
	struct stat st;
	enum cv_err rc;
	if (stat(path, &st) != 0) {
		if (errno != ENOENT || !create)
			return cv_error(errmsg,
				errno == ENOENT ? CV_ENOTFOUND : CV_EIO,
				"audit key %s: %s", path, strerror(errno));
		if ((rc = create_key(path, errmsg)) != CV_OK)
			return rc;
		if (stat(path, &st) != 0)
			return cv_error(errmsg, CV_EIO, "audit key %s: %s",
				path, strerror(errno));
	}
	if (st.st_mode & 077)
		return cv_error(errmsg, CV_EINVAL,
			"audit key %s may be read "
			"or written by group or others (mode %04o); fix it "
			"with: chmod 600 %s",
			path, (unsigned)(st.st_mode & 07777), path);
	char *text = NULL;
	if ((rc = cv_read_secret(path, &text, errmsg)) != CV_OK)
		return rc;
	if (!decode(text, key))
		rc = cv_error(errmsg, CV_EINVAL,
			"audit key %s is not 64 hex "
			"digits",
			path);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return rc;
}
