/* subject_key.c — see subject_key.h */
#include "subject_key.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfile.h"
#include "util.h"

char *subject_key_path(const char *db_path)
{
	return xasprintf("%s.erasure-key", db_path);
}

static enum cv_err read_key(const char *path, unsigned char *key, char **errmsg)
{
	struct stat sb;
	if (stat(path, &sb) != 0)
		return errno == ENOENT ? cv_error(errmsg, CV_ENOTFOUND,
						 "%s: no erasure key", path)
				       : cv_error(errmsg, CV_EIO, "%s: %s",
						 path, strerror(errno));
	if (sb.st_mode & 077)
		return cv_error(errmsg, CV_EINTEGRITY,
			"%s: the erasure key "
			"may be read by others (mode %03o); chmod 600 it",
			path, (unsigned)(sb.st_mode & 0777));
	char *s = NULL;
	enum cv_err rc = cv_read_secret(path, &s, errmsg);
	if (rc != CV_OK)
		return rc;
	bool ok = strlen(s) == 2 * SUBJECT_KEY_LEN &&
		  cv_unhex(s, SUBJECT_KEY_LEN, key, false);
	OPENSSL_cleanse(s, strlen(s));
	free(s);
	return ok ? CV_OK
		  : cv_error(errmsg, CV_EINTEGRITY,
			    "%s: not an "
			    "erasure key (%d hex digits)",
			    path, 2 * SUBJECT_KEY_LEN);
}

enum cv_err subject_key_load(const char *path, bool create,
	unsigned char key[SUBJECT_KEY_LEN], char **errmsg)
{
	enum cv_err rc = read_key(path, key, errmsg);
	if (rc != CV_ENOTFOUND || !create)
		return rc;
	rc = cv_keyfile_create(path, SUBJECT_KEY_LEN, "erasure key", errmsg);
	return rc == CV_OK ? read_key(path, key, errmsg) : rc;
}

void subject_hmac(const unsigned char key[SUBJECT_KEY_LEN], const char *kind,
	const char *value, char out[CV_SHA256_HEX])
{
	char *msg = xasprintf("%s:%s", kind, value);
	unsigned char mac[32];
	unsigned int n = 0;
	HMAC(EVP_sha256(), key, SUBJECT_KEY_LEN, (unsigned char *)msg,
		strlen(msg), mac, &n);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
	free(msg);
}
