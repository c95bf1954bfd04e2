/* media_dispose.c — see media_dispose.h */
#include "media_dispose.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "store/store_media_arch.h"
#include "store/store_recordings.h"
#include "util.h"

void media_dispose_init(struct media_dispose *d, struct store *s)
{
	memset(d, 0, sizeof(*d));
	d->s = s;
}

enum cv_err media_dispose_message(struct media_dispose *d, const char *mid,
	char **errmsg)
{
	if (!mid)
		return CV_OK;
	int64_t calls = 0;
	enum cv_err rc = store_message_calls(d->s, mid, &calls, errmsg);
	if (rc != CV_OK || calls > 0)
		return rc;
	char **o;
	size_t n;
	if ((rc = store_media_forget(d->s, mid, &o, &n, errmsg)) != CV_OK)
		return rc;
	d->orphans = xrealloc(d->orphans,
		(d->n_orphans + n + 1) * sizeof(*d->orphans));
	if (n) /* o is NULL when there are none */
		memcpy(d->orphans + d->n_orphans, o, n * sizeof(*o));
	d->n_orphans += n;
	d->messages++;
	free(o);
	return CV_OK;
}

void media_test_pause(const char *point)
{
	const char *v = getenv("CALLVAULT_TEST_PAUSE");
	size_t n = strlen(point);
	if (!v || strncmp(v, point, n) != 0 || v[n] != ':')
		return;
	char *paused = xasprintf("%s/paused", v + n + 1);
	char *go = xasprintf("%s/go", v + n + 1);
	int fd = open(paused, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	struct timespec t = { 0, 20 * 1000 * 1000 };
	for (int i = 0; i < 1500 && access(go, F_OK) != 0; i++)
		nanosleep(&t, NULL); /* at most 30 s */
	free(paused);
	free(go);
}

enum cv_err media_remove_unused(struct store *s, struct blobstore *b,
	char *const *shas, size_t n, char **errmsg)
{
	enum cv_err rc = CV_OK;
	for (size_t i = 0; i < n; i++) {
		/* The count and the unlink under the store's write lock (BEGIN
		 * IMMEDIATE): a publisher names its blob and writes its row
		 * inside its own write transaction, so it either committed
		 * before (and the count sees its row) or names the blob again
		 * after this one is gone. One blob per transaction: a purge of
		 * thousands never keeps a sync waiting past its busy bound. */
		char *e = NULL;
		int64_t refs = 0;
		enum cv_err r = store_begin(s, &e);
		if (r == CV_OK)
			r = store_recording_refs(s, shas[i], &refs, &e);
		if (r == CV_OK && refs == 0) {
			media_test_pause("media-before-unlink");
			r = blob_remove(b, shas[i], &e);
		}
		if (r == CV_OK)
			r = store_commit(s, &e);
		else
			store_rollback(s);
		if (rc == CV_OK && r != CV_OK) {
			rc = r;
			cv_error(errmsg, r, "%s", e ? e : cv_strerror(r));
		}
		free(e);
	}
	return rc;
}

enum cv_err media_dispose_blobs(struct media_dispose *d, char **errmsg)
{
	if (!d->n_orphans)
		return CV_OK;
	/* tests: die between the commit and the removal */
	const char *crash = getenv("CALLVAULT_TEST_CRASH");
	if (crash && !strcmp(crash, "media-before-unlink"))
		raise(SIGKILL);
	struct blobstore *b = NULL;
	char *e = NULL;
	enum cv_err rc = blob_open(&b, store_db_path(d->s), false, &e);
	if (rc == CV_ENOTFOUND)
		rc = CV_OK;
	else if (rc == CV_OK)
		rc = media_remove_unused(d->s, b, d->orphans, d->n_orphans, &e);
	if (rc != CV_OK)
		cv_error(errmsg, rc, "removing recordings: %s",
			e ? e : "failed");
	free(e);
	blob_close(b);
	media_dispose_finish(d);
	return rc;
}

void media_dispose_finish(struct media_dispose *d)
{
	for (size_t i = 0; i < d->n_orphans; i++)
		free(d->orphans[i]);
	free(d->orphans);
	d->orphans = NULL;
	d->n_orphans = 0;
}
