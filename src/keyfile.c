/* keyfile.c — see keyfile.h */
#include "keyfile.h"

#include <errno.h>
#include <stdbool.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "util.h"

/*
 * n bytes from the kernel's CSPRNG. getrandom(2), not RAND_bytes: in the
 * lean binary (statically linked libcrypto) RAND_bytes pulled in the
 * whole provider machinery, ~300 KB of tables whose relocations cost
 * every `callvault search` ~100 page faults at start (docs/benchmarks.md).
 */
static bool random_bytes(unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return false;
		p += got;
		n -= (size_t)got;
	}
	return true;
}

enum cv_err cv_keyfile_create(const char *path, size_t n, const char *what,
	char **errmsg)
{
	unsigned char *key = xmalloc(n);
	char *hex = xmalloc(2 * n + 1);
	enum cv_err rc = CV_OK;
	if (!random_bytes(key, n))
		rc = cv_error(errmsg, CV_EIO, "no random bytes for the %s: %s",
			what, strerror(errno));
	if (rc == CV_OK)
		cv_hex(key, n, hex);
	hex[2 * n] = '\n';
	char *tmp = xasprintf("%s.new.%ld", path, (long)getpid());
	if (rc == CV_OK)
		rc = cv_write_file_atomic(tmp, hex, 2 * n + 1, 0600, errmsg);
	if (rc == CV_OK && link(tmp, path) != 0 && errno != EEXIST)
		rc = cv_error(errmsg, CV_EIO, "cannot create the %s %s: %s",
			what, path, strerror(errno));
	unlink(tmp);
	free(tmp);
	OPENSSL_cleanse(key, n);
	OPENSSL_cleanse(hex, 2 * n + 1);
	free(key);
	free(hex);
	return rc;
}
