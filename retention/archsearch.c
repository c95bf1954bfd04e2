/*
 * archsearch.c — search archived months (retention.h): each archive is
 * verified and loaded, as `restore` does, into a private temporary store
 * (a fresh directory under $TMPDIR, 0700, removed afterwards), where the
 * search runs with the same plan and filters as over the live store.
 * Nothing of the archive reaches the live store.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "retention.h"
#include "store/store_search.h"

/* Where the archive is under dir: dir/<location dir>/<file>, as
 * `archive --out dir` lays it out. */
char *archsearch_path(const char *dir, const char *recorded)
{
	const char *file = strrchr(recorded, '/');
	if (!file)
		return xasprintf("%s/%s", dir, recorded);
	const char *loc = file;
	while (loc > recorded && loc[-1] != '/')
		loc--;
	return xasprintf("%s/%s", dir, loc);
}

static enum cv_err search_one(const char *path, const char *tmp,
	const struct store_search_opts *so,
	int (*fn)(const char *archive, const struct store_hit *h, void *arg),
	void *arg, char **errmsg)
{
	char *db = xasprintf("%s/archive.db", tmp);
	struct store *t = NULL;
	struct restore_stats rs;
	struct store_hit *hits = NULL;
	size_t n = 0;
	enum cv_err rc = store_open(&t, db, 0, errmsg);
	if (rc == CV_OK)
		rc = restore_archive(t, path, "archive search", &rs, errmsg);
	if (rc == CV_OK)
		rc = store_search(t, so, &hits, &n, errmsg);
	for (size_t i = 0; rc == CV_OK && i < n; i++)
		if (fn(path, &hits[i], arg) != 0)
			rc = CV_EINVAL;
	store_hits_free(hits, n);
	store_close(t);
	for (const char *sfx = ""; sfx; sfx = !*sfx                  ? "-wal"
					      : !strcmp(sfx, "-wal") ? "-shm"
								     : NULL) {
		char *f = xasprintf("%s%s", db, sfx);
		unlink(f);
		free(f);
	}
	free(db);
	return rc;
}

enum cv_err archsearch_run(char *const *paths, size_t n,
	const struct store_search_opts *so,
	int (*fn)(const char *archive, const struct store_hit *h, void *arg),
	void *arg, char **errmsg)
{
	const char *base = getenv("TMPDIR");
	char *tmp = xasprintf("%s/callvault-asearch.XXXXXX",
		base && *base ? base : "/tmp");
	if (!mkdtemp(tmp)) {
		enum cv_err rc = cv_error(errmsg, CV_EIO,
			"cannot make a temp "
			"directory %s: %s",
			tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	enum cv_err rc = CV_OK;
	for (size_t i = 0; i < n && rc == CV_OK; i++)
		rc = search_one(paths[i], tmp, so, fn, arg, errmsg);
	rmdir(tmp);
	free(tmp);
	return rc;
}
