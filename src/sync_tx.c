/* sync_tx.c — the store transaction sync's locations share (sync_int.h). */
#include <stdlib.h>

#include "blob.h"
#include "store/store.h"
#include "sync_int.h"
#include "util.h"

/*
 * Writes go into one transaction shared by every location, committed
 * by sync_tx_flush every GROUP_PAGES pages or GROUP_MS: 20 locations paging
 * at once made 840 commits of 50 calls, and the random-key index pages
 * each rewrote to the WAL were most of sync's time. A page's calls and
 * the checkpoint they vouch for are still in the same transaction, so a
 * crash loses both or neither. When a commit fails, every location with
 * writes in it fails: its progress in memory was never stored.
 */
static void tx_failed(struct sync_run *run, const char *err)
{
	store_rollback(run->s);
	run->tx_open = false;
	for (size_t i = 0; i < run->n; i++) {
		struct job *j = &run->jobs[i];
		if (!j->uncommitted)
			continue;
		j->uncommitted = false;
		if (!j->finished) {
			sync_job_fail(j, "store: %s", err);
		} else if (!j->res->error) {
			/* done in memory, but its last writes are gone */
			j->res->error = xasprintf("store: %s", err);
			cv_errlog("location=%s msg=\"sync failed: %s\"",
				j->loc.id, j->res->error);
		}
	}
}

/* A failed statement (disk full, I/O error) can make SQLite roll the
 * shared transaction back by itself: what it held is gone. */
bool sync_tx_lost(struct sync_run *run)
{
	if (!run->tx_open || store_tx_active(run->s))
		return false;
	tx_failed(run, "a failed write rolled the transaction back");
	return true;
}

void sync_tx_flush(struct sync_run *run)
{
	if (!run->tx_open || sync_tx_lost(run))
		return;
	char *err = NULL;
	/* the names of the blobs this transaction's rows point at are
	 * durable before the rows are */
	if (run->blobs && blob_sync(run->blobs, &err) != CV_OK) {
		tx_failed(run, err);
		free(err);
		return;
	}
	if (store_commit(run->s, &err) != CV_OK) {
		tx_failed(run, err ? err : "commit failed");
		free(err);
		return;
	}
	run->tx_open = false;
	for (size_t i = 0; i < run->n; i++)
		run->jobs[i].uncommitted = false;
}

/* Open the shared transaction unless it is open. */
enum cv_err sync_tx_begin(struct sync_run *run, char **errmsg)
{
	if (run->tx_open)
		return CV_OK;
	enum cv_err rc = store_begin(run->s, errmsg);
	if (rc == CV_OK) {
		run->tx_open = true;
		run->tx_pages = 0;
		run->tx_started = cv_mono_ms();
	}
	return rc;
}

/* A write of j's about to go into the store: in the shared transaction
 * when one is open, so j fails with it (tx_failed). */
void sync_note_write(struct job *j)
{
	j->uncommitted |= j->run->tx_open;
}

/* Join the shared transaction; false (and the job failed) on error. */
bool sync_in_tx_begin(struct job *j)
{
	char *err = NULL;
	sync_tx_lost(j->run);
	if (j->finished)
		return false;
	if (sync_tx_begin(j->run, &err) != CV_OK) {
		sync_job_fail(j, "store: %s", err);
		free(err);
		return false;
	}
	sync_note_write(j);
	return true;
}

/* The end of one page's writes: on error everything uncommitted goes. */
bool sync_in_tx_end(struct job *j, enum cv_err rc, char *err)
{
	struct sync_run *run = j->run;
	if (rc != CV_OK) {
		tx_failed(run, err ? err : cv_strerror(rc));
		free(err);
		return false;
	}
	if (++run->tx_pages >= GROUP_PAGES ||
		cv_mono_ms() - run->tx_started >= GROUP_MS)
		sync_tx_flush(run);
	return !j->finished;
}
