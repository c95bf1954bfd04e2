/* sync_media.c — sync's recordings and timed transcriptions (media.h):
 * queued, fetched, flushed and kept (sync_int.h). */
#include <stdlib.h>

#include "blob.h"
#include "media.h"
#include "store/store_recordings.h"
#include "sync_int.h"
#include "util.h"
#include "workq.h"

#define MEDIA_BATCH 10000 /* media jobs per location and run */


/* A recording on its way through the flush threads (media_flush). */
struct flushing {
	struct job *j;
	struct media_fetch *f;
	int64_t size;
};

/* ---- recordings and transcriptions (media.h) --------------------------- */

static void flush_wake(void *arg)
{
	struct sync_run *run = arg;
	hl_client_wakeup(run->http);
}

/* Queue the media of the calls this run stored, then fetch what is due. */
void sync_begin_media(struct job *j)
{
	struct sync_run *run = j->run;
	char *err = NULL;
	int64_t now = cv_now_ms();
	if (run->o->reconcile) {
		sync_job_done(j);
		return;
	}
	/* the calls of this run's window; every call of the location the
	 * first time (a store synced before recordings were fetched) */
	struct store_media_counts c;
	enum cv_err rc = store_media_counts(run->s, j->loc.id, MEDIA_RECORDING,
		&c, &err);
	int64_t since = c.pending + c.done + c.missing + c.denied ? j->win_start
								  : 0;
	if (rc == CV_OK && !sync_in_tx_begin(j))
		return;
	if (rc == CV_OK)
		rc = store_media_want_calls(run->s, j->loc.id, since, now,
			&err);
	if (!sync_in_tx_end(j, rc, err))
		return;
	if (run->o->no_media) {
		sync_job_done(j);
		return;
	}
	if ((!run->blobs && blob_open(&run->blobs, store_db_path(run->s), true,
				    &err) != CV_OK) ||
		(!run->flushq && workq_create(&run->flushq, FLUSH_THREADS,
					 flush_wake, run, &err) != CV_OK)) {
		sync_add_warning(j, "recordings not fetched: %s", err);
		free(err);
		sync_job_done(j);
		return;
	}
	if (!run->swept) {
		/* what a killed sync was writing: never a blob, never named */
		run->swept = true;
		(void)blob_sweep_tmp(run->blobs);
	}
	if (store_media_due(run->s, j->loc.id, now, MEDIA_BATCH, &j->media,
		    &j->nm, &err) != CV_OK) {
		sync_add_warning(j, "recordings not fetched: %s", err);
		free(err);
		sync_job_done(j);
		return;
	}
	j->im = 0;
	j->attempts = 0;
	j->phase = PH_MEDIA;
	if (!j->nm)
		sync_job_done(j);
}

static void media_next(struct job *j)
{
	if (++j->im >= j->nm)
		sync_job_done(j);
}

/* What became of one media job, for the run's counts and log. */
static void media_outcome(struct job *j, const struct store_media_job *mj,
	enum media_verdict v, const char *why)
{
	const char *kind = media_kind_name(mj->kind);
	if (v == MV_STORED) {
		if (mj->kind == MEDIA_RECORDING)
			j->res->recordings++;
		else
			j->res->transcriptions++;
	} else if (v == MV_DENIED || v == MV_DISK) {
		j->res->media_failed++;
		if (!j->media_stopped)
			sync_add_warning(j, "recordings not fetched: %s", why);
		j->media_stopped = true;
		if (!j->finished)
			sync_job_done(j);
	} else if (v == MV_GONE) {
		cv_info("location=%s message=%s msg=\"%s\"", j->loc.id,
			mj->message_id, why);
	} else if (v == MV_MISSING && mj->kind == MEDIA_TRANSCRIPTION) {
		/* the usual for a Voice AI call (media.h): not a failure */
		cv_info("location=%s message=%s msg=\"no timed transcription: "
			"%s\"",
			j->loc.id, mj->message_id, why);
	} else {
		j->res->media_failed++;
		cv_warn("location=%s message=%s kind=%s msg=\"%s not kept: "
			"%s; %s\"",
			j->loc.id, mj->message_id, kind, kind, why,
			v == MV_MISSING ? "reported missing"
					: "tried again later");
	}
}

/* Bytes the blob store may still take under --max-store-mb (-1: no
 * bound): the recordings on their way count already. */
static int64_t store_room(struct sync_run *run)
{
	if (run->cap <= 0)
		return -1;
	return run->cap - store_db_bytes(run->s) - run->blob_bytes -
	       run->flush_bytes;
}

/* The database may grow only into what the blobs leave of the bound. */
void sync_bound_database(struct sync_run *run)
{
	if (run->cap > 0)
		store_set_size_limit(run->s,
			run->cap - run->blob_bytes > 0
				? run->cap - run->blob_bytes
				: 1);
}

static void flush_one(void *item)
{
	struct flushing *p = item;
	media_flush(p->f);
}

void sync_flush_drop(void *item)
{
	struct flushing *p = item;
	media_abort(p->f);
	free(p);
}

/* Record one media answer; a denied scope or a full disk ends the
 * location's media for this run (its call logs are stored already). A
 * good recording goes to the flush threads, and the next request starts
 * while it is fsync'd (sync_flush_collect keeps it). */
void sync_media_item(struct job *j, const struct hl_response *r)
{
	struct store_media_job *mj = &j->media[j->im];
	struct media_fetch *f = j->mf;
	j->mf = NULL;
	if (mj->kind == MEDIA_TRANSCRIPTION && j->run->flushq &&
		workq_pending(j->run->flushq) > 0) {
		/* whether a transcription's 404 is final depends on its
		 * recording being kept (media_finish): keep what is
		 * flushing first */
		workq_wait(j->run->flushq);
		sync_flush_collect(j->run);
	}
	if (!sync_in_tx_begin(j)) {
		media_abort(f);
		return;
	}
	enum media_verdict v;
	char *why = NULL, *err = NULL;
	int64_t size = media_fetch_size(f);
	enum cv_err rc = media_finish(j->run->s, f, r, cv_now_ms(),
		store_room(j->run), &v, &why, &err);
	if (rc == CV_OK && v == MV_DENIED)
		rc = store_media_deny_location(j->run->s, j->loc.id,
			cv_now_ms() + 24 * INT64_C(3600000), why, &err);
	if (rc == CV_OK && v == MV_FLUSH) {
		struct flushing *p = xcalloc(1, sizeof(*p));
		*p = (struct flushing){ .j = j, .f = f, .size = size };
		j->run->flush_bytes += size;
		workq_submit(j->run->flushq, flush_one, p);
	} else if (v == MV_FLUSH) {
		media_abort(f);
	}
	if (!sync_in_tx_end(j, rc, err)) {
		free(why);
		return;
	}
	if (v != MV_FLUSH)
		media_outcome(j, mj, v, why);
	free(why);
	if (!j->finished)
		media_next(j);
}

/* Keep the recordings whose bytes are durable now, in the shared
 * transaction (sync_tx_flush makes their names durable before it commits). */
void sync_flush_collect(struct sync_run *run)
{
	struct flushing *p;
	while (run->flushq && (p = workq_collect(run->flushq))) {
		struct job *j = p->j;
		char *why = NULL, *err = NULL;
		enum media_verdict v = MV_GONE;
		enum cv_err rc = CV_OK;
		run->flush_bytes -= p->size;
		sync_tx_lost(run);
		if (j->res->error) {
			/* its transaction failed: nothing of it commits */
			media_abort(p->f);
			free(p);
			continue;
		}
		struct store_media_job mj = *media_fetch_job(p->f);
		mj.message_id = xstrdup(mj.message_id);
		rc = sync_tx_begin(run, &err);
		sync_note_write(j);
		if (rc == CV_OK)
			rc = media_keep(run->s, p->f, cv_now_ms(), &v, &why,
				&err);
		else
			media_abort(p->f);
		if (rc == CV_OK && v == MV_STORED) {
			run->blob_bytes += p->size;
			sync_bound_database(run);
		}
		(void)sync_in_tx_end(j, rc, err);
		if (!j->res->error)
			media_outcome(j, &mj, v, why);
		free(mj.message_id);
		free(why);
		free(p);
	}
}
