/* media_dispose.c — see media_dispose.h */
#include "media_dispose.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

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
	for (size_t i = 0; b && i < d->n_orphans; i++) {
		int64_t refs = 0;
		enum cv_err r = store_recording_refs(d->s, d->orphans[i], &refs,
			rc == CV_OK ? &e : NULL);
		/* named again meanwhile (a restore): keep it */
		if (r == CV_OK && refs == 0)
			r = blob_remove(b, d->orphans[i],
				rc == CV_OK ? &e : NULL);
		if (rc == CV_OK)
			rc = r;
	}
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
