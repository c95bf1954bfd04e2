/*
 * rebuild.h — the retention module's internals shared between archive.c,
 * rebuild.c and retutil.c (not part of its API, retention.h).
 */
#ifndef CV_REBUILD_H
#define CV_REBUILD_H

#include "retention.h"
#include "store/store_retention.h"

/* Create a directory and its parents (0755). */
enum cv_err retention_mkdirs(const char *path, char **errmsg) CV_MUST_CHECK;

/*
 * Write archive a again from the live store into its own path, when that
 * gives the bag it recorded (same tag manifest), and record its new file
 * hash; CV_EINTEGRITY, naming why, when it cannot be rebuilt (calls
 * purged or changed, or no bag-info.txt kept). a->sha256 and a->size are
 * replaced (still owned by a).
 */
enum cv_err archive_rebuild_one(struct store *s, const struct archive_opts *o,
	struct store_archive *a, struct archive_outcome *res,
	char **errmsg) CV_MUST_CHECK;

/* Rebuild each archive of a month (of one location, or of every one when
 * loc is NULL) whose file is lost or not the one recorded; fn hears of
 * each archive (path empty: left alone). */
enum cv_err archive_rebuild_month(struct store *s, const struct archive_opts *o,
	const char *loc, const char *month,
	void (*fn)(const struct archive_outcome *r, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

#endif
