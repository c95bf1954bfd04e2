/*
 * publish.h — making a finished archive visible without a window in
 * which a crash wedges archiving: the intent (path, expected SHA-256) is
 * committed to the store before the rename, and the next run finishes or
 * rolls back whatever an earlier, dead writer left half published.
 */
#ifndef CV_PUBLISH_H
#define CV_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "store/store.h"
#include "store/store_retention.h"
#include "util.h"

struct amedia;
struct seal;

struct publish {
	struct store *s;
	const char *actor;
	const char *path, *name;   /* the archive, and its file name */
	struct store_archive *rec; /* a new archive: recorded (id set) */
	char *const *ids;          /* the calls it holds, for the record */
	const int64_t *vids;
	size_t n;
	const struct amedia *media; /* the recordings it holds, or NULL */
	const char *bag_info;       /* kept for --rebuild */
	size_t bag_info_len;
	const struct seal *seal; /* its signature and timestamp */
	int64_t rebuild_id;      /* else: the record a rebuild replaces */
	int64_t now;
	/* more to record in the same transaction (an S3 copy), or NULL */
	enum cv_err (*also)(struct store *s, int64_t archive_id, void *arg,
		char **errmsg);
	void *also_arg;
};
/*
 * The record, its bag-info.txt, the audit entry, p->also and the end of
 * any intent for p->path, in one transaction (nothing on failure).
 */
enum cv_err publish_record(const struct publish *p,
	char **errmsg) CV_MUST_CHECK;
/*
 * Commit the sink (an archive finished, its hash in p->rec->sha256) to
 * p->path, write the .sha256 beside it and record it, the intent around
 * all three. On failure nothing is left: no file, no record, no intent.
 */
enum cv_err publish_archive(const struct publish *p, struct sink *sk,
	char **errmsg) CV_MUST_CHECK;

/*
 * Finish or roll back what dead writers left: each publish intent whose
 * process is gone is finished when the store recorded the file (the
 * .sha256 is written again) and rolled back (the file and its .sha256
 * removed) when it did not. fn (may be NULL) hears of each.
 */
enum cv_err publish_recover(struct store *s,
	void (*fn)(const char *path, bool finished, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

/* Remove the `*.tar.zst.tmp.<pid>` and `*.tar.zst.sha256.tmp.<pid>`
 * files in dir whose process is gone; how many it removed. */
int publish_sweep_temps(const char *dir);

/* The same in out_dir and each directory in it (one per location). */
int publish_sweep_tree(const char *out_dir);

/* Tests: CALLVAULT_TEST_CRASH=<point> kills the process there. */
void publish_crash_point(const char *point);

/* FILE.sha256 beside path, sha256sum format, written atomically (0600). */
enum cv_err publish_write_sidecar(const char *path, const char *sha256,
	char **errmsg) CV_MUST_CHECK;
/* Remove path and its .sha256 (either may be missing). */
void publish_unlink_pair(const char *path);

#endif
