/* audithead.c — see audithead.h (HMAC-SHA256 by libsodium) */
#include "audithead.h"

#include <errno.h>
#include <sodium.h>
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
	unsigned char key[AUDITHEAD_KEY_LEN];
	char hex[2 * AUDITHEAD_KEY_LEN + 2];
	randombytes_buf(key, sizeof(key));
	sodium_bin2hex(hex, sizeof(hex) - 1, key, sizeof(key));
	strcat(hex, "\n");
	enum cv_err rc = cv_write_file_atomic(path, hex, strlen(hex), 0600,
		errmsg);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hex, sizeof(hex));
	return rc;
}

enum cv_err audithead_key_load(const char *path, bool create,
	unsigned char key[AUDITHEAD_KEY_LEN], char **errmsg)
{
	if (sodium_init() < 0)
		return cv_error(errmsg, CV_EIO, "libsodium cannot start");
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
	size_t n = 0;
	if (strlen(text) != 2 * AUDITHEAD_KEY_LEN ||
	    sodium_hex2bin(key, AUDITHEAD_KEY_LEN, text, strlen(text), NULL,
		    &n, NULL) != 0 || n != AUDITHEAD_KEY_LEN)
		rc = cv_error(errmsg, CV_EINVAL, "audit key %s is not 64 hex "
			"digits", path);
	sodium_memzero(text, strlen(text));
	free(text);
	return rc;
}

void audithead_mac(const unsigned char key[AUDITHEAD_KEY_LEN], int64_t id,
	const char *hash, char out[CV_SHA256_HEX])
{
	char *msg = xasprintf("callvault-audit-head-v1\n%lld\n%s",
		(long long)id, hash);
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256(mac, (const unsigned char *)msg, strlen(msg),
		key);
	sodium_bin2hex(out, CV_SHA256_HEX, mac, sizeof(mac));
	free(msg);
}
