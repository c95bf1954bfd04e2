/* sync.c — see sync.h. The run: its locations' jobs, the loop that
 * schedules their requests, and what it reports (sync_int.h has the
 * other pieces). */
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "blob.h"
#include "highlevel.h"
#include "pager.h"
#include "store/store_sync.h"
#include "sync_int.h"
#include "util.h"
#include "workq.h"

#define RECON_MARGIN_MS (24 * INT64_C(3600000))

void sync_opts_init(struct sync_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->overlap_ms = 24 * 3600 * 1000;
	o->max_retries = 6;
	o->backoff_ms = 250;
	o->timeout_ms = 60000;
	o->media_max_bytes = MEDIA_DEFAULT_MAX_BYTES;
}

void sync_results_free(struct sync_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].location);
		free(r[i].error);
		free(r[i].warning);
		recon_free(r[i].recon);
		free(r[i].recon);
	}
	free(r);
}

/* ---- ending a job -------------------------------------------------- */

void sync_job_fail(struct job *j, const char *fmt, ...)
{
	if (j->finished)
		return;
	va_list ap;
	va_start(ap, fmt);
	j->res->error = xvasprintf(fmt, ap);
	va_end(ap);
	j->finished = true;
	j->phase = PH_DONE;
	cv_errlog("location=%s msg=\"sync failed: %s\"", j->loc.id,
		j->res->error);
}

void sync_job_done(struct job *j)
{
	j->finished = true;
	j->phase = PH_DONE;
}

/* Agent names are auxiliary: whatever goes wrong with them, the call
 * logs are still archived, and the run says what was missing. */
void sync_add_warning(struct job *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *w = xvasprintf(fmt, ap);
	va_end(ap);
	cv_warn("location=%s msg=\"%s\"", j->loc.id, w);
	if (j->res->warning) {
		char *both = xasprintf("%s; %s", j->res->warning, w);
		free(w);
		w = both;
	}
	free(j->res->warning);
	j->res->warning = w;
}

/* ---- progress ---------------------------------------------------------- */

static void report_progress(struct sync_run *run, bool final)
{
	int64_t now = cv_mono_ms();
	if (!final && now - run->last_draw < 250)
		return;
	run->last_draw = now;
	struct sync_progress *rows = xcalloc(run->n + 1, sizeof(*rows));
	for (size_t i = 0; i < run->n; i++) {
		struct job *j = &run->jobs[i];
		double secs = (double)(now - j->started) / 1000.0;
		double rate = secs > 0 ? (double)j->res->calls.read / secs : 0;
		int64_t left = j->phase == PH_CALLS ? j->last_total : 0;
		rows[i] = (struct sync_progress){ .location = j->loc.id,
			.state = j->res->error           ? "FAILED"
				 : j->phase == PH_AGENTS ? "agents"
				 : j->phase == PH_CALLS  ? "calls"
				 : j->phase == PH_QUEUE  ? "queue"
				 : j->phase == PH_MEDIA  ? "media"
							 : "done",
			.pages = j->res->pages,
			.calls = j->res->calls.read,
			.calls_per_s = rate,
			.eta_s = left > 0 && rate > 0 ? (double)left / rate
						      : -1 };
	}
	run->o->progress(run->o->progress_ctx, rows, run->n, final);
	free(rows);
}

/* ---- the run ----------------------------------------------------------- */

static enum cv_err job_init(struct sync_run *run, struct job *j,
	struct sync_result *res, char **errmsg)
{
	const struct sync_opts *o = run->o;
	j->run = run;
	j->res = res;
	res->location = xstrdup(j->loc.id);
	j->phase = o->reconcile ? PH_CALLS : PH_AGENTS;
	j->agents_start = cv_now_ms();
	j->daily_remaining = -1;
	/* until the server tells its limits: one request at a time */
	j->rl_max = 0;
	j->started = cv_mono_ms();
	int64_t cp = o->full ? -1 : j->loc.checkpoint_ms;
	j->win_end = o->until_ms > 0 ? o->until_ms : cv_now_ms();
	if (o->since_ms > 0)
		j->win_start = o->since_ms;
	else if (cp >= 0)
		j->win_start = cp - o->overlap_ms;
	else
		j->win_start = SYNC_DEFAULT_SINCE_MS;
	if (j->win_start < 0)
		j->win_start = 0;
	/* the checkpoint moves only when this window joins what is stored */
	j->advance_checkpoint = !o->reconcile && o->until_ms == 0 &&
				((cp >= 0 && j->win_start <= cp) ||
					(o->since_ms == 0 && cp < 0) ||
					(o->full && o->since_ms == 0));
	res->window_start = j->win_start;
	res->window_end = j->win_end;
	if (j->win_start >= j->win_end)
		return cv_error(errmsg, CV_EINVAL,
			"location %s: the window "
			"is empty (--since must be before --until)",
			j->loc.id);
	pager_init(&j->agents, 0, 0, SYNC_PAGE_SIZE, false);
	pager_init(&j->calls, j->win_start, j->win_end, SYNC_PAGE_SIZE, true);
	if (o->reconcile) {
		/* the listing reaches a day past each end: a date filter
		 * read in a time zone or by whole days still lists the
		 * period's edges; only calls inside it are compared */
		res->recon = xcalloc(1, sizeof(*res->recon));
		recon_init(res->recon, j->win_start, j->win_end, o->repair);
		pager_finish(&j->calls);
		pager_init(&j->calls, j->win_start - RECON_MARGIN_MS,
			j->win_end + RECON_MARGIN_MS, SYNC_PAGE_SIZE, true);
	}
	struct hl_client_opts http = { .timeout_ms = o->timeout_ms };
	char *err = NULL;
	if (auth_open(&j->auth, &j->loc, &http, &err) != CV_OK) {
		/* this location cannot run; the others still do */
		sync_job_fail(j, "credentials: %s", err ? err : "unreadable");
		free(err);
	}
	return CV_OK;
}

static void job_finish(struct job *j)
{
	pager_finish(&j->agents);
	pager_finish(&j->calls);
	auth_close(j->auth);
	free(j->token_sent);
	for (size_t i = 0; i < j->nq; i++)
		free(j->queue[i]);
	free(j->queue);
	media_abort(j->mf);
	store_media_jobs_free(j->media, j->nm);
	store_location_finish(&j->loc);
}

static enum cv_err load_locations(struct sync_run *run, char **errmsg)
{
	const struct sync_opts *o = run->o;
	if (o->n_locations == 0) {
		struct store_location *all;
		size_t n;
		enum cv_err rc = store_location_list(run->s, &all, &n, errmsg);
		if (rc != CV_OK)
			return rc;
		run->jobs = xcalloc(n + 1, sizeof(*run->jobs));
		for (size_t i = 0; i < n; i++)
			run->jobs[i].loc = all[i];
		free(all);
		run->n = n;
		if (n == 0)
			return cv_error(errmsg, CV_ENOTFOUND,
				"no locations "
				"(add one with `callvault location add`)");
		return CV_OK;
	}
	run->jobs = xcalloc(o->n_locations, sizeof(*run->jobs));
	for (size_t i = 0; i < o->n_locations; i++) {
		for (size_t k = 0; k < i; k++)
			if (strcmp(o->locations[k], o->locations[i]) == 0)
				return cv_error(errmsg, CV_EINVAL,
					"location %s named twice",
					o->locations[i]);
		enum cv_err rc = store_location_get(run->s, o->locations[i],
			&run->jobs[i].loc, errmsg);
		if (rc != CV_OK)
			return rc;
		run->n++;
	}
	return CV_OK;
}

/* One pass over the jobs: start what may start; returns the wait. */
static int64_t schedule(struct sync_run *run, bool *active)
{
	int64_t now = cv_mono_ms(), wait = 1000;
	*active = false;
	for (size_t i = 0; i < run->n; i++) {
		struct job *j = &run->jobs[i];
		if (j->finished)
			continue;
		*active = true;
		if (j->in_flight)
			continue;
		if (j->phase == PH_MEDIA && run->flushq &&
			workq_pending(run->flushq) >= FLUSH_MAX)
			continue; /* flush_wake ends the poll */
		int64_t d = j->ready_at - now;
		if (d <= 0)
			d = sync_rate_delay(j, now);
		if (d > 0) {
			if (d < wait)
				wait = d;
			continue;
		}
		sync_start_request(j);
	}
	return wait;
}

static bool any_in_flight(const struct sync_run *run)
{
	for (size_t i = 0; i < run->n; i++)
		if (run->jobs[i].in_flight)
			return true;
	return false;
}

/* --max-store-mb bounds the database and its blob store together: the
 * blobs there already count, and each recording kept (sync_bound_database). */
static int add_size(const char *name, bool valid, int64_t size, void *arg)
{
	*(int64_t *)arg += size > 0 ? size : 0;
	return 0;
}

static enum cv_err bound_store(struct sync_run *run, char **errmsg)
{
	run->cap = run->o->max_store_bytes;
	char *err = NULL;
	enum cv_err rc = blob_open(&run->blobs, store_db_path(run->s), false,
		&err);
	if (rc == CV_ENOTFOUND) {
		free(err);
		rc = CV_OK; /* no recordings yet */
	} else if (rc != CV_OK) {
		return cv_error(errmsg, rc, "%s", err);
	} else if (blob_each(run->blobs, add_size, &run->blob_bytes) != 0) {
		return cv_error(errmsg, CV_EIO,
			"cannot list the blob store "
			"%s",
			blob_dir(run->blobs));
	}
	sync_bound_database(run);
	return rc;
}

/* (in one transaction with what is still pending: one commit) */
static void record_results(struct sync_run *run)
{
	char *terr = NULL;
	(void)!sync_tx_begin(run, &terr); /* else each row commits on its own */
	free(terr);
	for (size_t i = 0; i < run->n; i++) {
		struct job *j = &run->jobs[i];
		char *err = NULL;
		j->res->seconds = (double)(cv_mono_ms() - j->started) / 1000.0;
		if (run->o->reconcile)
			continue; /* a comparison, not a sync: the caller
				     records it in the audit log */
		if (!j->res->error && !run->o->reconcile &&
			j->calls.max_outside > run->o->overlap_ms)
			sync_add_warning(j,
				"records came up to %lld h outside the "
				"window asked for (a coarse or shifted date "
				"filter): --overlap should be larger than that",
				(long long)(j->calls.max_outside / 3600000));
		if (!j->res->error && j->calls.unreached > 0)
			sync_add_warning(j,
				"the server's total claimed %lld more "
				"calls than it listed (the same short page "
				"came back for every page number)",
				(long long)j->calls.unreached);
		/* a record quarantined for the first time holds the
		 * checkpoint, so the next sync reads it once more; one that
		 * stays unreadable is kept once and pins nothing */
		const struct ingest_stats *cs = &j->res->calls;
		if (!j->res->error && cs->quarantined_new > 0)
			sync_add_warning(j,
				"%lld records went to quarantine (see "
				"`callvault quarantine`); the checkpoint stays "
				"before them, so the next sync reads them "
				"again",
				(long long)cs->quarantined_new);
		else if (!j->res->error && cs->quarantined > 0)
			sync_add_warning(j,
				"%lld records are still unreadable; "
				"they stay in quarantine and the checkpoint "
				"moves on",
				(long long)cs->quarantined);
		if (j->auth)
			j->res->refreshes = auth_refresh_count(j->auth);
		sync_note_write(j);
		/* a total that turned out to ignore the date filter says
		 * nothing about the range */
		if (j->range_listed && j->calls.total_unreliable &&
			store_sync_listed(run->s, j->loc.id, j->win_start,
				j->win_end, -1, cv_now_ms(), &err) != CV_OK) {
			cv_warn("location=%s msg=\"cannot record the API's "
				"total: %s\"",
				j->loc.id, err);
			free(err);
			err = NULL;
		}
		if (store_sync_result(run->s, j->loc.id, cv_now_ms(),
			    j->res->error, j->res->warning, j->res->requests,
			    &err) != CV_OK) {
			cv_warn("location=%s msg=\"cannot record the result: "
				"%s\"",
				j->loc.id, err);
			free(err);
		}
	}
}

enum cv_err sync_run(struct store *s, const struct sync_opts *o,
	struct sync_result **results, size_t *n, char **errmsg)
{
	struct sync_run run = { .s = s, .o = o };
	*results = NULL;
	*n = 0;
	srandom((unsigned)(cv_now_ms() ^ getpid()));
	enum cv_err rc = load_locations(&run, errmsg);
	struct sync_result *res = xcalloc(run.n + 1, sizeof(*res));
	for (size_t i = 0; i < run.n && rc == CV_OK; i++)
		rc = job_init(&run, &run.jobs[i], &res[i], errmsg);
	if (rc == CV_OK) {
		struct hl_client_opts http = { .timeout_ms = o->timeout_ms };
		rc = hl_client_create(&run.http, &http, errmsg);
	}
	/* import's page cache and checkpoint interval: pages of calls
	 * arrive as fast as an import reads them */
	if (rc == CV_OK)
		rc = store_set_bulk(s, true, errmsg);
	if (rc == CV_OK && o->max_store_bytes > 0)
		rc = bound_store(&run, errmsg);
	if (rc == CV_OK)
		rc = sync_parser_start(&run.parser, run.http, errmsg);
	if (rc != CV_OK)
		goto out;
	bool active = true;
	while (active) {
		int64_t wait = schedule(&run, &active);
		/* the recordings being flushed are kept before the end */
		active |= run.flushq && workq_pending(run.flushq) > 0;
		if (!active)
			break;
		/* commit what waits when it is old enough, or when no answer
		 * is coming (every location waits for its rate limit) */
		if (run.tx_open) {
			int64_t age = cv_mono_ms() - run.tx_started;
			if (age >= GROUP_MS || !any_in_flight(&run))
				sync_tx_flush(&run);
			else if (wait > GROUP_MS - age)
				wait = GROUP_MS - age;
		}
		hl_client_poll(run.http, (int)(wait < 1 ? 1 : wait));
		sync_parser_collect(&run);
		sync_flush_collect(&run);
		if (o->progress)
			report_progress(&run, false);
	}
	if (o->progress)
		report_progress(&run, true);
	record_results(&run);
	sync_tx_flush(&run);
	(void)!store_set_bulk(s, false, NULL);
	if (o->max_store_bytes > 0)
		store_set_size_limit(s, 0);
out:
	workq_destroy(run.flushq, sync_flush_drop);
	sync_parser_stop(&run.parser);
	hl_client_destroy(run.http);
	blob_close(run.blobs);
	for (size_t i = 0; i < run.n; i++)
		job_finish(&run.jobs[i]);
	free(run.jobs);
	if (rc != CV_OK) {
		sync_results_free(res, run.n);
		return rc;
	}
	*results = res;
	*n = run.n;
	return CV_OK;
}
