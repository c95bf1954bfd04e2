/* sync.c — see sync.h */
#include "sync.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth.h"
#include "calllog.h"
#include "highlevel.h"
#include "hljson.h"
#include "media.h"
#include "pager.h"
#include "store/store_sync.h"
#include "util.h"
#include "workq.h"

#define MAX_429 30            /* consecutive 429 answers before giving up */
#define MAX_429_WAIT_MS 60000 /* longest wait a 429's headers may ask */
#define AGENT_ATTEMPTS 3      /* agents are auxiliary: retried less */
#define RECON_MARGIN_MS (24 * INT64_C(3600000))
#define QUEUE_BATCH 10000
#define MEDIA_BATCH 10000 /* media jobs per location and run */
#define SEND_RING 1024    /* send times remembered per location */
/* Pages are stored in shared transactions: one commit (one fsync) for up
 * to GROUP_PAGES pages or GROUP_MS of work, whichever comes first. */
#define GROUP_PAGES 40
#define GROUP_MS 250
/* Recordings whose fsync runs on FLUSH_THREADS threads while the next
 * one downloads (several fsyncs at once share the file system's journal
 * commits); at most FLUSH_MAX wait at a time. */
#define FLUSH_THREADS 4
#define FLUSH_MAX 8

enum phase { PH_AGENTS, PH_CALLS, PH_QUEUE, PH_MEDIA, PH_DONE };

/* One location being synced. */
struct job {
	struct sync_run *run;
	struct store_location loc;
	struct auth *auth;
	struct sync_result *res;
	enum phase phase;
	bool in_flight, finished;
	int64_t ready_at; /* monotonic ms: not before */
	int64_t started;  /* monotonic ms */
	char *token_sent; /* copy of the token of the request */

	/* rate limits as announced; our own send times in a ring */
	int64_t rl_max, rl_interval, daily_remaining;
	int64_t blocked_until;   /* monotonic ms: the server's window is
				     spent by someone else */
	int64_t sent[SEND_RING]; /* our send times, a ring */
	size_t sent_head, sent_n;

	bool uncommitted;       /* has writes in the open transaction */
	int attempts, n429_run; /* consecutive failures of this request */
	bool auth_retried;

	/* agents: one undated listing */
	struct pager agents;
	int64_t agents_start;

	/* calls: the range, paged in windows (pager.h) */
	struct pager calls;
	struct pager_req req; /* the request in flight */
	int64_t win_start, win_end;
	int64_t win_quarantined; /* newly, in the current window */
	int64_t last_total;
	bool range_listed; /* the range's first page's total was
				     recorded (store_sync_listed) */
	bool advance_checkpoint;
	bool checkpoint_held; /* a window had quarantined records: the
				     checkpoint moves no further this run */

	/* the fetch queue */
	char **queue;
	size_t nq, iq;

	/* recordings and transcriptions due (media.h) */
	struct store_media_job *media;
	size_t nm, im;
	struct media_fetch *mf; /* the attempt in flight */
	bool media_stopped;     /* a full disk: no more this run */
};

/* A recording on its way through the flush threads (media_flush). */
struct flushing {
	struct job *j;
	struct media_fetch *f;
	int64_t size;
};

/* A page of call logs on its way through the parser thread. */
struct page {
	struct job *j;
	struct buf body; /* the response body, as received */
	struct calllog_batch b;
	bool parsed; /* calllog_parse_payload succeeded */
	char *reason;
	struct page *next;
};

/*
 * Call-log pages are parsed (JSON, canonical form, hashes: a third of
 * sync's CPU) on a thread of their own while the main thread goes on
 * with HTTP and the store. A location has one page in flight at a time,
 * so its pages stay in order.
 */
struct parser {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct page *todo, **todo_tail, *done, **done_tail;
	bool stop, running;
	struct hl_client *http; /* woken when a page is parsed */
};

struct sync_run {
	struct store *s;
	struct parser parser;
	const struct sync_opts *o;
	struct hl_client *http;
	struct job *jobs;
	size_t n;
	bool tx_open; /* the shared transaction (see tx_flush) */
	int tx_pages;
	int64_t tx_started; /* monotonic ms */
	int64_t last_draw;
	struct blobstore *blobs; /* opened at the first recording */
	bool swept;              /* its tmp/ cleared of crashed writes */
	struct workq *flushq;    /* recordings being fsync'd */
	/* --max-store-mb: the bound on the database and its blobs */
	int64_t cap, blob_bytes, flush_bytes;
};

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

static double jitter(void)
{
	return (double)random() / (double)RAND_MAX;
}

/* ---- ending a job -------------------------------------------------- */

static void job_fail(struct job *j, const char *fmt, ...) CV_PRINTF(2, 3);
static void job_fail(struct job *j, const char *fmt, ...)
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

static void job_done(struct job *j)
{
	j->finished = true;
	j->phase = PH_DONE;
}

/* ---- rate limiting --------------------------------------------------- */

static void note_sent(struct job *j, int64_t now)
{
	j->sent[(j->sent_head + j->sent_n) % SEND_RING] = now;
	if (j->sent_n < SEND_RING)
		j->sent_n++;
	else
		j->sent_head = (j->sent_head + 1) % SEND_RING;
}

/* The time of our k-th most recent request (k from 1). */
static int64_t sent_back(const struct job *j, size_t k)
{
	return j->sent[(j->sent_head + j->sent_n - k) % SEND_RING];
}

/* How many of our requests fall in the interval before now. */
static int64_t sent_within(const struct job *j, int64_t now)
{
	int64_t iv = j->rl_interval > 0 ? j->rl_interval : 10000, n = 0;
	for (size_t k = 1; k <= j->sent_n && sent_back(j, k) > now - iv; k++)
		n++;
	return n;
}

/* Adopt the limits a response announced. */
static void learn_limits(struct job *j, const struct hl_ratelimit *rl)
{
	if (rl->interval_ms > 0)
		j->rl_interval = rl->interval_ms;
	if (rl->daily_remaining >= 0)
		j->daily_remaining = rl->daily_remaining;
	if (rl->max > 0)
		j->rl_max = rl->max < SEND_RING ? rl->max : SEND_RING;
	/* the window is spent but not by us: another process uses this
	 * token, so wait part of an interval before asking again */
	if (rl->remaining == 0 && sent_within(j, cv_mono_ms()) < j->rl_max) {
		int64_t iv = j->rl_interval > 0 ? j->rl_interval : 10000;
		j->blocked_until = cv_mono_ms() + iv / 2;
	}
}

/*
 * Milliseconds to wait before the next request so that no interval of
 * the announced length ever holds more than the announced maximum
 * (with a small margin for the time a request takes to arrive).
 */
static int64_t rate_delay(const struct job *j, int64_t now)
{
	if (j->blocked_until > now)
		return j->blocked_until - now;
	if (j->rl_max <= 0 || j->sent_n < (size_t)j->rl_max)
		return 0;
	int64_t iv = j->rl_interval > 0 ? j->rl_interval : 10000;
	int64_t margin = iv / 50 > 20 ? iv / 50 : 20;
	/* the request rl_max back must leave the interval first */
	int64_t d = sent_back(j, (size_t)j->rl_max) + iv + margin - now;
	return d > 0 ? d : 0;
}

/* ---- requests ---------------------------------------------------------- */

static void on_response(struct hl_response *r, void *arg);

static char *url_for(struct job *j)
{
	struct buf u;
	buf_init(&u);
	buf_puts(&u, j->loc.api_base);
	switch (j->phase) {
	case PH_AGENTS:
		buf_puts(&u, "/voice-ai/agents");
		hl_query_add(&u, "locationId", j->loc.id);
		hl_query_add_int(&u, "page", j->req.page);
		hl_query_add_int(&u, "pageSize", SYNC_PAGE_SIZE);
		break;
	case PH_CALLS:
		/* oldest first is asked for, but nothing depends on it */
		buf_puts(&u, "/voice-ai/dashboard/call-logs");
		hl_query_add(&u, "locationId", j->loc.id);
		hl_query_add_int(&u, "startDate", j->req.start);
		hl_query_add_int(&u, "endDate", j->req.end);
		hl_query_add(&u, "sortBy", "createdAt");
		hl_query_add(&u, "sort", "ascend");
		hl_query_add_int(&u, "page", j->req.page);
		hl_query_add_int(&u, "pageSize", SYNC_PAGE_SIZE);
		break;
	case PH_QUEUE: {
		char *id = hl_escape(j->queue[j->iq]);
		buf_printf(&u, "/voice-ai/dashboard/call-logs/%s", id);
		free(id);
		hl_query_add(&u, "locationId", j->loc.id);
		break;
	}
	case PH_MEDIA:
	case PH_DONE: break;
	}
	return buf_steal(&u);
}

static void tx_flush(struct sync_run *run);

static void add_warning(struct job *j, const char *fmt, ...) CV_PRINTF(2, 3);

static void start_request(struct job *j)
{
	if (j->daily_remaining == 0 && j->phase == PH_MEDIA) {
		/* the call logs are in: the media wait for the next run */
		add_warning(j,
			"the daily API budget is spent; %zu recordings "
			"and transcriptions wait for the next sync",
			j->nm - j->im);
		job_done(j);
		return;
	}
	if (j->daily_remaining == 0) {
		job_fail(j, "the daily API budget is spent (X-RateLimit-"
			    "Daily-Remaining 0); run sync again after the "
			    "daily reset");
		return;
	}
	const char *token;
	char *err = NULL;
	/* a refresh waits on a file lock and the token endpoint: not
	 * while holding the store's write lock */
	if (auth_token_would_refresh(j->auth)) {
		tx_flush(j->run);
		if (j->finished)
			return;
	}
	enum cv_err rc = auth_token(j->auth, &token, &err);
	if (rc != CV_OK) {
		job_fail(j, "%s", err ? err : cv_strerror(rc));
		free(err);
		return;
	}
	free(j->token_sent);
	j->token_sent = xstrdup(token);
	if (j->phase == PH_AGENTS)
		(void)pager_next(&j->agents, &j->req);
	else if (j->phase == PH_CALLS)
		(void)pager_next(&j->calls, &j->req);
	if (j->phase == PH_MEDIA) {
		rc = media_start(j->run->http, j->run->blobs,
			j->run->o->media_max_bytes, j->loc.api_base, token,
			j->loc.api_version, &j->media[j->im], on_response, j,
			&j->mf, &err);
	} else {
		char *url = url_for(j);
		rc = hl_get(j->run->http, url, token, j->loc.api_version,
			on_response, j, &err);
		free(url);
	}
	if (rc != CV_OK && j->phase == PH_MEDIA) {
		/* no temporary file, no request: the call logs stand */
		add_warning(j, "recordings not fetched: %s",
			err ? err : cv_strerror(rc));
		free(err);
		job_done(j);
		return;
	}
	if (rc != CV_OK) {
		job_fail(j, "%s", err ? err : cv_strerror(rc));
		free(err);
		return;
	}
	j->in_flight = true;
	j->res->requests++;
}

/* Try the same request again after a jittered exponential backoff, or
 * fail the location when the retries are spent. */
static void agents_skip(struct job *j, const char *why);

static void retry_later(struct job *j, const char *why)
{
	const struct sync_opts *o = j->run->o;
	if (j->phase == PH_AGENTS && j->attempts + 1 >= AGENT_ATTEMPTS) {
		agents_skip(j, why);
		return;
	}
	if (++j->attempts > o->max_retries) {
		job_fail(j, "gave up after %d attempts: %s", j->attempts, why);
		return;
	}
	int64_t step = o->backoff_ms << (j->attempts - 1);
	if (step > 8000)
		step = 8000;
	int64_t wait = step / 2 + (int64_t)(jitter() * (double)(step / 2));
	cv_warn("location=%s attempt=%d wait_ms=%lld msg=\"%s; retrying\"",
		j->loc.id, j->attempts, (long long)wait, why);
	j->res->retries++;
	j->ready_at = cv_mono_ms() + wait;
}

/* ---- phases ------------------------------------------------------------ */

static void begin_calls(struct job *j)
{
	j->phase = PH_CALLS;
	j->attempts = 0;
	j->win_quarantined = 0;
	cv_info("location=%s window_start=%lld window_end=%lld msg=\"paging "
		"call logs\"",
		j->loc.id, (long long)j->win_start, (long long)j->win_end);
}

static void begin_media(struct job *j);

static void begin_queue(struct job *j)
{
	char *err = NULL;
	enum cv_err rc = store_fetch_queue_list(j->run->s, j->loc.id,
		QUEUE_BATCH, &j->queue, &j->nq, &err);
	if (rc != CV_OK) {
		job_fail(j, "fetch queue: %s", err);
		free(err);
		return;
	}
	j->iq = 0;
	j->phase = PH_QUEUE;
	if (!j->nq)
		begin_media(j);
}

/*
 * Writes go into one transaction shared by every location, committed
 * by tx_flush every GROUP_PAGES pages or GROUP_MS: 20 locations paging
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
			job_fail(j, "store: %s", err);
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
static bool tx_lost(struct sync_run *run)
{
	if (!run->tx_open || store_tx_active(run->s))
		return false;
	tx_failed(run, "a failed write rolled the transaction back");
	return true;
}

static void tx_flush(struct sync_run *run)
{
	if (!run->tx_open || tx_lost(run))
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
static enum cv_err tx_begin(struct sync_run *run, char **errmsg)
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
static void note_write(struct job *j)
{
	j->uncommitted |= j->run->tx_open;
}

/* Join the shared transaction; false (and the job failed) on error. */
static bool in_tx_begin(struct job *j)
{
	char *err = NULL;
	tx_lost(j->run);
	if (j->finished)
		return false;
	if (tx_begin(j->run, &err) != CV_OK) {
		job_fail(j, "store: %s", err);
		free(err);
		return false;
	}
	note_write(j);
	return true;
}

/* The end of one page's writes: on error everything uncommitted goes. */
static bool in_tx_end(struct job *j, enum cv_err rc, char *err)
{
	struct sync_run *run = j->run;
	if (rc != CV_OK) {
		tx_failed(run, err ? err : cv_strerror(rc));
		free(err);
		return false;
	}
	if (++run->tx_pages >= GROUP_PAGES ||
		cv_mono_ms() - run->tx_started >= GROUP_MS)
		tx_flush(run);
	return !j->finished;
}

/* Agent names are auxiliary: whatever goes wrong with them, the call
 * logs are still archived, and the run says what was missing. */
static void add_warning(struct job *j, const char *fmt, ...) CV_PRINTF(2, 3);
static void add_warning(struct job *j, const char *fmt, ...)
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

static void agents_skip(struct job *j, const char *why)
{
	add_warning(j, "agent names not listed: %s", why);
	begin_calls(j);
}

static void agents_page(struct job *j, const struct hl_response *r)
{
	struct hljson_agents a;
	char *err = NULL;
	if (hljson_agents_parse(r->body.data, r->body.len, &a, &err) != CV_OK) {
		char *why = xasprintf("unusable agents page: %s", err);
		free(err);
		agents_skip(j, why);
		free(why);
		return;
	}
	if (!in_tx_begin(j)) {
		hljson_agents_finish(&a);
		return;
	}
	enum cv_err rc = CV_OK;
	int64_t now = cv_now_ms();
	struct pager_rec *recs = xcalloc(a.n + 1, sizeof(*recs));
	for (size_t i = 0; i < a.n && rc == CV_OK; i++) {
		rc = store_agent_put(j->run->s, j->loc.id, a.items[i].id,
			a.items[i].name, now, &err);
		recs[i].key = pager_key(a.items[i].id, strlen(a.items[i].id));
	}
	if (!in_tx_end(j, rc, err)) {
		free(recs);
		hljson_agents_finish(&a);
		return;
	}
	j->res->agents += (int64_t)a.n;
	enum pager_step st = pager_page(&j->agents, recs, a.n, a.total);
	free(recs);
	hljson_agents_finish(&a);
	j->attempts = 0;
	if (st == PAGER_FAILED) {
		agents_skip(j, j->agents.error);
	} else if (pager_done(&j->agents)) {
		note_write(j);
		if (store_agents_mark_deleted(j->run->s, j->loc.id,
			    j->agents_start, &err) != CV_OK) {
			cv_warn("location=%s msg=\"agents: %s\"", j->loc.id,
				err);
			free(err);
		}
		begin_calls(j);
	}
}

/* The key the pager tells records apart by: the id, else the bytes. */
static struct pager_rec rec_of(const struct calllog_item *it)
{
	struct pager_rec r = { 0, 0 };
	if (!it->reason) {
		r.key = pager_key(it->rec.id, strlen(it->rec.id));
		r.created_at = it->rec.created_at;
	} else {
		r.key = pager_key(it->raw, it->raw_len);
	}
	return r;
}

/*
 * A window is complete: move the checkpoint to its end, unless a record
 * of this run went to quarantine (then the checkpoint stays where it is,
 * so that the next sync reads those records again).
 */
static enum cv_err window_done(struct job *j, char **err)
{
	if (j->win_quarantined > 0)
		j->checkpoint_held = true;
	j->win_quarantined = 0;
	if (!j->advance_checkpoint || j->checkpoint_held)
		return CV_OK;
	int64_t cp = j->calls.done_end < j->win_end ? j->calls.done_end
						    : j->win_end;
	return store_sync_checkpoint(j->run->s, j->loc.id, cp, err);
}

/*
 * Store one page of call logs, every record whatever its createdAt (a
 * record outside the window is still a real call), then let the pager
 * decide what comes next; a window's last page carries the checkpoint it
 * completes in the same transaction.
 */
static void calls_page(struct job *j, struct page *pg)
{
	struct calllog_batch b = pg->b;
	memset(&pg->b, 0, sizeof(pg->b));
	if (!pg->parsed || !b.is_list) {
		char *why = xasprintf("call-log page unusable: %s",
			pg->reason ? pg->reason : "not a list response");
		calllog_batch_finish(&b);
		retry_later(j, why);
		free(why);
		return;
	}
	struct pager_rec *recs = xcalloc(b.n + 1, sizeof(*recs));
	for (size_t i = 0; i < b.n; i++)
		recs[i] = rec_of(&b.items[i]);
	size_t n = b.n;
	int64_t total = b.total;
	char *err = NULL;
	enum cv_err rc = CV_OK;
	struct recon *recon = j->res->recon;
	bool ingest = true;
	if (recon && recon_page(recon, j->run->s, &b, &ingest, &err) != CV_OK) {
		job_fail(j, "reconcile: %s", err);
		free(err);
		free(recs);
		calllog_batch_finish(&b);
		return;
	}
	if (ingest && !in_tx_begin(j)) {
		free(recs);
		calllog_batch_finish(&b);
		return;
	}
	struct ingest_stats st = { 0 };
	if (ingest) {
		struct store_payload p;
		store_payload_init(&p, SRC_API, pg->body.data, pg->body.len);
		rc = ingest_parsed(j->run->s, &p, &b, NULL, &st, &err);
	}
	calllog_batch_finish(&b);
	j->win_quarantined += st.quarantined_new;
	if (!j->range_listed && ingest && !recon && rc == CV_OK) {
		/* the first window is the whole range: its first page's
		 * total is what the API holds there (status: calls behind),
		 * recorded with the page, so a run that stops after it
		 * leaves the difference to see */
		j->range_listed = true;
		rc = store_sync_listed(j->run->s, j->loc.id, j->win_start,
			j->win_end, total, cv_now_ms(), &err);
	}
	enum pager_step step = pager_page(&j->calls, recs, n, total);
	free(recs);
	if (rc == CV_OK && step == PAGER_WINDOW_DONE && !recon)
		rc = window_done(j, &err);
	if (ingest && !in_tx_end(j, rc, err))
		return;
	if (ingest && recon &&
		recon_repaired(recon, j->run->s, &err) != CV_OK) {
		job_fail(j, "reconcile: %s", err);
		free(err);
		return;
	}
	ingest_stats_add(&j->res->calls, &st);
	j->res->pages++;
	j->last_total = total;
	if (n > 0)
		j->attempts = 0;
	if (step == PAGER_FAILED) {
		job_fail(j, "paging call logs: %s", j->calls.error);
		return;
	}
	if (pager_done(&j->calls)) {
		if (!recon) {
			begin_queue(j);
		} else if (recon_finish(recon, j->run->s, j->loc.id, &err) !=
			   CV_OK) {
			job_fail(j, "reconcile: %s", err);
			free(err);
		} else {
			job_done(j);
		}
		return;
	}
	if (pager_next(&j->calls, &j->req) && j->req.retry) {
		/* the same whole page twice: give the server a moment */
		retry_later(j, "the server answered the same page again");
		if (!j->finished)
			j->attempts--; /* not a transport failure */
	}
	if ((j->res->pages % 20) == 0 && !j->run->o->progress)
		cv_info("location=%s pages=%lld calls=%lld msg=\"syncing\"",
			j->loc.id, (long long)j->res->pages,
			(long long)j->res->calls.read);
}

static void queue_next(struct job *j)
{
	if (++j->iq >= j->nq)
		begin_media(j);
}

static void queue_item(struct job *j, const struct hl_response *r)
{
	const char *id = j->queue[j->iq];
	struct calllog_batch b;
	char *reason = NULL;
	if (calllog_parse_payload(r->body.data, r->body.len, j->loc.id, &b,
		    &reason) != CV_OK) {
		char *why = xasprintf("call %s unusable: %s", id, reason);
		free(reason);
		calllog_batch_finish(&b);
		retry_later(j, why);
		free(why);
		return;
	}
	if (!in_tx_begin(j)) {
		calllog_batch_finish(&b);
		return;
	}
	char *err = NULL;
	struct ingest_stats st = { 0 };
	struct store_payload p;
	store_payload_init(&p, SRC_API, r->body.data, r->body.len);
	enum cv_err rc = ingest_parsed(j->run->s, &p, &b, NULL, &st, &err);
	calllog_batch_finish(&b);
	if (rc == CV_OK)
		rc = store_fetch_queue_done(j->run->s, id, &err);
	if (!in_tx_end(j, rc, err))
		return;
	ingest_stats_add(&j->res->calls, &st);
	j->res->queue_fetched++;
	j->attempts = 0;
	queue_next(j);
}

/* A 4xx for one queued call: note it and go on with the next. */
static void queue_refused(struct job *j, long status, const char *msg)
{
	char *err = NULL;
	char *why = xasprintf("HTTP %ld%s%s", status, msg ? ": " : "",
		msg ? msg : "");
	note_write(j);
	if (store_fetch_queue_failed(j->run->s, j->queue[j->iq], why, &err) !=
		CV_OK) {
		job_fail(j, "store: %s", err);
		free(err);
	} else {
		j->res->queue_left++;
		cv_warn("location=%s call=%s msg=\"queued call not fetched: "
			"%s\"",
			j->loc.id, j->queue[j->iq], why);
		j->attempts = 0;
		queue_next(j);
	}
	free(why);
}

/* ---- recordings and transcriptions (media.h) --------------------------- */

static void flush_wake(void *arg)
{
	struct sync_run *run = arg;
	hl_client_wakeup(run->http);
}

/* Queue the media of the calls this run stored, then fetch what is due. */
static void begin_media(struct job *j)
{
	struct sync_run *run = j->run;
	char *err = NULL;
	int64_t now = cv_now_ms();
	if (run->o->reconcile) {
		job_done(j);
		return;
	}
	/* the calls of this run's window; every call of the location the
	 * first time (a store synced before recordings were fetched) */
	struct store_media_counts c;
	enum cv_err rc = store_media_counts(run->s, j->loc.id, MEDIA_RECORDING,
		&c, &err);
	int64_t since = c.pending + c.done + c.missing + c.denied ? j->win_start
								  : 0;
	if (rc == CV_OK && !in_tx_begin(j))
		return;
	if (rc == CV_OK)
		rc = store_media_want_calls(run->s, j->loc.id, since, now,
			&err);
	if (!in_tx_end(j, rc, err))
		return;
	if (run->o->no_media) {
		job_done(j);
		return;
	}
	if ((!run->blobs && blob_open(&run->blobs, store_db_path(run->s), true,
				    &err) != CV_OK) ||
		(!run->flushq && workq_create(&run->flushq, FLUSH_THREADS,
					 flush_wake, run, &err) != CV_OK)) {
		add_warning(j, "recordings not fetched: %s", err);
		free(err);
		job_done(j);
		return;
	}
	if (!run->swept) {
		/* what a killed sync was writing: never a blob, never named */
		run->swept = true;
		(void)blob_sweep_tmp(run->blobs);
	}
	if (store_media_due(run->s, j->loc.id, now, MEDIA_BATCH, &j->media,
		    &j->nm, &err) != CV_OK) {
		add_warning(j, "recordings not fetched: %s", err);
		free(err);
		job_done(j);
		return;
	}
	j->im = 0;
	j->attempts = 0;
	j->phase = PH_MEDIA;
	if (!j->nm)
		job_done(j);
}

static void media_next(struct job *j)
{
	if (++j->im >= j->nm)
		job_done(j);
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
			add_warning(j, "recordings not fetched: %s", why);
		j->media_stopped = true;
		if (!j->finished)
			job_done(j);
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
static void bound_database(struct sync_run *run)
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

static void flush_drop(void *item)
{
	struct flushing *p = item;
	media_abort(p->f);
	free(p);
}

/* Record one media answer; a denied scope or a full disk ends the
 * location's media for this run (its call logs are stored already). A
 * good recording goes to the flush threads, and the next request starts
 * while it is fsync'd (flush_collect keeps it). */
static void flush_collect(struct sync_run *run);

static void media_item(struct job *j, const struct hl_response *r)
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
		flush_collect(j->run);
	}
	if (!in_tx_begin(j)) {
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
	if (!in_tx_end(j, rc, err)) {
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
 * transaction (tx_flush makes their names durable before it commits). */
static void flush_collect(struct sync_run *run)
{
	struct flushing *p;
	while (run->flushq && (p = workq_collect(run->flushq))) {
		struct job *j = p->j;
		char *why = NULL, *err = NULL;
		enum media_verdict v = MV_GONE;
		enum cv_err rc = CV_OK;
		run->flush_bytes -= p->size;
		tx_lost(run);
		if (j->res->error) {
			/* its transaction failed: nothing of it commits */
			media_abort(p->f);
			free(p);
			continue;
		}
		struct store_media_job mj = *media_fetch_job(p->f);
		mj.message_id = xstrdup(mj.message_id);
		rc = tx_begin(run, &err);
		note_write(j);
		if (rc == CV_OK)
			rc = media_keep(run->s, p->f, cv_now_ms(), &v, &why,
				&err);
		else
			media_abort(p->f);
		if (rc == CV_OK && v == MV_STORED) {
			run->blob_bytes += p->size;
			bound_database(run);
		}
		(void)in_tx_end(j, rc, err);
		if (!j->res->error)
			media_outcome(j, &mj, v, why);
		free(mj.message_id);
		free(why);
		free(p);
	}
}

/* ---- the parser thread ------------------------------------------------- */

static void page_free(struct page *pg)
{
	buf_finish(&pg->body);
	calllog_batch_finish(&pg->b);
	free(pg->reason);
	free(pg);
}

static void pages_free(struct page *pg)
{
	for (struct page *nx; pg; pg = nx) {
		nx = pg->next;
		page_free(pg);
	}
}

static void *parser_main(void *arg)
{
	struct parser *ps = arg;
	pthread_mutex_lock(&ps->mu);
	for (;;) {
		while (!ps->todo && !ps->stop)
			pthread_cond_wait(&ps->cv, &ps->mu);
		if (ps->stop)
			break;
		struct page *pg = ps->todo;
		if (!(ps->todo = pg->next))
			ps->todo_tail = &ps->todo;
		pg->next = NULL;
		pthread_mutex_unlock(&ps->mu);
		pg->parsed = calllog_parse_payload(pg->body.data, pg->body.len,
				     pg->j->loc.id, &pg->b,
				     &pg->reason) == CV_OK;
		pthread_mutex_lock(&ps->mu);
		*ps->done_tail = pg;
		ps->done_tail = &pg->next;
		hl_client_wakeup(ps->http);
	}
	pthread_mutex_unlock(&ps->mu);
	return NULL;
}

static enum cv_err parser_start(struct parser *ps, struct hl_client *http,
	char **errmsg)
{
	pthread_mutex_init(&ps->mu, NULL);
	pthread_cond_init(&ps->cv, NULL);
	ps->todo_tail = &ps->todo;
	ps->done_tail = &ps->done;
	ps->http = http;
	if (pthread_create(&ps->th, NULL, parser_main, ps) != 0)
		return cv_error(errmsg, CV_EIO, "cannot start a thread");
	ps->running = true;
	return CV_OK;
}

static void parser_stop(struct parser *ps)
{
	if (!ps->running)
		return;
	pthread_mutex_lock(&ps->mu);
	ps->stop = true;
	pthread_cond_signal(&ps->cv);
	pthread_mutex_unlock(&ps->mu);
	pthread_join(ps->th, NULL);
	pages_free(ps->todo);
	pages_free(ps->done);
	pthread_mutex_destroy(&ps->mu);
	pthread_cond_destroy(&ps->cv);
	ps->running = false;
}

/* Hand a call-log page to the parser; the job stays in flight until
 * parser_collect() has stored it. */
static void parser_submit(struct job *j, struct hl_response *r)
{
	struct parser *ps = &j->run->parser;
	struct page *pg = xcalloc(1, sizeof(*pg));
	pg->j = j;
	pg->body = r->body;
	buf_init(&r->body);
	j->in_flight = true;
	pthread_mutex_lock(&ps->mu);
	*ps->todo_tail = pg;
	ps->todo_tail = &pg->next;
	pthread_cond_signal(&ps->cv);
	pthread_mutex_unlock(&ps->mu);
}

/* Store the pages parsed so far and decide each location's next step. */
static void parser_collect(struct sync_run *run)
{
	struct parser *ps = &run->parser;
	pthread_mutex_lock(&ps->mu);
	struct page *pg = ps->done;
	ps->done = NULL;
	ps->done_tail = &ps->done;
	pthread_mutex_unlock(&ps->mu);
	for (struct page *nx; pg; pg = nx) {
		nx = pg->next;
		pg->j->in_flight = false;
		if (!pg->j->finished)
			calls_page(pg->j, pg);
		page_free(pg);
	}
}

/* ---- responses --------------------------------------------------------- */

static void on_ok(struct job *j, struct hl_response *r)
{
	j->n429_run = 0;
	j->auth_retried = false;
	switch (j->phase) {
	case PH_AGENTS: agents_page(j, r); break;
	case PH_CALLS: parser_submit(j, r); break;
	case PH_QUEUE: queue_item(j, r); break;
	case PH_MEDIA:
	case PH_DONE: break;
	}
}

static void on_429(struct job *j, const struct hl_response *r)
{
	j->res->n429++;
	if (++j->n429_run > MAX_429) {
		job_fail(j, "rate limited (HTTP 429) %d times in a row",
			j->n429_run);
		return;
	}
	int64_t iv = r->rl.interval_ms > 0 ? r->rl.interval_ms
		     : j->rl_interval > 0  ? j->rl_interval
					   : 10000;
	/* when the server says when: Retry-After, or for a spent daily
	 * budget X-RateLimit-Daily-Reset (waited for up to a minute) */
	bool daily = r->rl.daily_remaining == 0;
	int64_t said = daily ? r->rl.daily_reset_ms : r->rl.retry_after_ms;
	if (daily && (said < 0 || said > MAX_429_WAIT_MS)) {
		char when[40] = "";
		if (said >= 0)
			snprintf(when, sizeof(when), " (in %lld s)",
				(long long)(said + 999) / 1000);
		job_fail(j,
			"the daily API budget is spent (%lld requests a "
			"day); run sync again after the daily reset%s",
			(long long)r->rl.limit_daily, when);
		return;
	}
	if (said >= 0)
		iv = said < 50                ? 50
		     : said < MAX_429_WAIT_MS ? said
					      : MAX_429_WAIT_MS;
	if (daily)
		j->daily_remaining = -1; /* renewed when the wait is over */
	int64_t wait = iv + (int64_t)(jitter() * (double)iv * 0.1);
	cv_warn("location=%s wait_ms=%lld msg=\"rate limited (429)%s; "
		"waiting\"",
		j->loc.id, (long long)wait,
		daily ? ", daily budget spent" : "");
	j->ready_at = cv_mono_ms() + wait;
}

static void on_401(struct job *j, const char *msg)
{
	const char *m = msg ? msg : "";
	if (strcasestr(m, "version header")) {
		job_fail(j, "HTTP 401: %s (check the location's --version)", m);
		return;
	}
	if (strcasestr(m, "invalid token") && !j->auth_retried) {
		char *err = NULL;
		j->auth_retried = true;
		tx_flush(
			j->run); /* auth_refused may refresh: see start_request */
		if (j->finished)
			return;
		if (auth_refused(j->auth, j->token_sent, &err) != CV_OK) {
			job_fail(j, "%s", err);
			free(err);
		}
		j->res->refreshes = auth_refresh_count(j->auth);
		return; /* retried at once with the new token */
	}
	if (j->phase == PH_AGENTS && !strcasestr(m, "invalid token")) {
		/* "The token is not authorized for this scope.": the call
		 * logs may still be readable, and they are what matters */
		char *why = xasprintf("HTTP 401: %s (the token lacks the "
				      "scope voice-ai-agents.readonly?)",
			*m ? m : "unauthorized");
		agents_skip(j, why);
		free(why);
		return;
	}
	job_fail(j, "HTTP 401: %s%s", *m ? m : "unauthorized",
		strcasestr(m, "invalid token")
			? " (token revoked? add the "
			  "location again with new credentials)"
			: "");
}

static void on_error_status(struct job *j, const struct hl_response *r)
{
	char *msg = hljson_error_message(r->body.data, r->body.len);
	if (r->status == 429) {
		on_429(j, r);
	} else if (r->status >= 500) {
		char *why = xasprintf("HTTP %ld%s%s", r->status,
			msg ? ": " : "", msg ? msg : "");
		retry_later(j, why);
		free(why);
	} else if (r->status == 401) {
		on_401(j, msg);
	} else if (j->phase == PH_QUEUE &&
		   (r->status == 404 || r->status == 400)) {
		queue_refused(j, r->status, msg);
	} else if (j->phase == PH_AGENTS) {
		char *why = xasprintf("HTTP %ld%s%s%s", r->status,
			msg ? ": " : "", msg ? msg : "",
			r->status == 403 ? " (the token lacks the scope "
					   "voice-ai-agents.readonly?)"
					 : "");
		agents_skip(j, why);
		free(why);
	} else {
		job_fail(j, "HTTP %ld%s%s", r->status, msg ? ": " : "",
			msg ? msg : "");
	}
	free(msg);
}

/*
 * The answer to a media request: a 429 or a stale token is asked again
 * (the budget and the token are sync's); any other outcome is the job's
 * and never fails the location's sync.
 */
static void media_answer(struct job *j, struct hl_response *r)
{
	char *msg = r->err == CV_OK && r->status == 401
			    ? hljson_error_message(r->body.data, r->body.len)
			    : NULL;
	if (r->err == CV_OK &&
		(r->status == 429 ||
			(r->status == 401 && msg &&
				strcasestr(msg, "invalid token")))) {
		media_abort(j->mf);
		j->mf = NULL;
		if (r->status == 429)
			on_429(j, r);
		else
			on_401(j, msg);
	} else {
		media_item(j, r);
	}
	free(msg);
}

static void on_response(struct hl_response *r, void *arg)
{
	struct job *j = arg;
	j->in_flight = false;
	/* counted when its answer came, not when it was queued: the server
	 * saw it somewhere in between, so the window we keep is never
	 * shorter than the server's, however late a loaded machine sends */
	note_sent(j, cv_mono_ms());
	cv_debug("location=%s status=%ld elapsed_ms=%lld bytes=%zu "
		 "remaining=%lld",
		j->loc.id, r->status, (long long)r->elapsed_ms, r->body.len,
		(long long)r->rl.remaining);
	learn_limits(j, &r->rl);
	if (j->phase == PH_MEDIA) {
		media_answer(j, r);
		return;
	}
	if (r->err != CV_OK) {
		if (r->err == CV_ETOOBIG)
			job_fail(j, "%s", r->errmsg);
		else
			retry_later(j, r->errmsg ? r->errmsg : "HTTP failed");
		return;
	}
	if (r->status == 200)
		on_ok(j, r);
	else
		on_error_status(j, r);
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
		job_fail(j, "credentials: %s", err ? err : "unreadable");
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
			d = rate_delay(j, now);
		if (d > 0) {
			if (d < wait)
				wait = d;
			continue;
		}
		start_request(j);
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
 * blobs there already count, and each recording kept (bound_database). */
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
	bound_database(run);
	return rc;
}

/* (in one transaction with what is still pending: one commit) */
static void record_results(struct sync_run *run)
{
	char *terr = NULL;
	(void)!tx_begin(run, &terr); /* else each row commits on its own */
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
			add_warning(j,
				"records came up to %lld h outside the "
				"window asked for (a coarse or shifted date "
				"filter): --overlap should be larger than that",
				(long long)(j->calls.max_outside / 3600000));
		if (!j->res->error && j->calls.unreached > 0)
			add_warning(j,
				"the server's total claimed %lld more "
				"calls than it listed (the same short page "
				"came back for every page number)",
				(long long)j->calls.unreached);
		/* a record quarantined for the first time holds the
		 * checkpoint, so the next sync reads it once more; one that
		 * stays unreadable is kept once and pins nothing */
		const struct ingest_stats *cs = &j->res->calls;
		if (!j->res->error && cs->quarantined_new > 0)
			add_warning(j,
				"%lld records went to quarantine (see "
				"`callvault quarantine`); the checkpoint stays "
				"before them, so the next sync reads them "
				"again",
				(long long)cs->quarantined_new);
		else if (!j->res->error && cs->quarantined > 0)
			add_warning(j,
				"%lld records are still unreadable; "
				"they stay in quarantine and the checkpoint "
				"moves on",
				(long long)cs->quarantined);
		if (j->auth)
			j->res->refreshes = auth_refresh_count(j->auth);
		note_write(j);
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
		rc = parser_start(&run.parser, run.http, errmsg);
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
				tx_flush(&run);
			else if (wait > GROUP_MS - age)
				wait = GROUP_MS - age;
		}
		hl_client_poll(run.http, (int)(wait < 1 ? 1 : wait));
		parser_collect(&run);
		flush_collect(&run);
		if (o->progress)
			report_progress(&run, false);
	}
	if (o->progress)
		report_progress(&run, true);
	record_results(&run);
	tx_flush(&run);
	(void)!store_set_bulk(s, false, NULL);
	if (o->max_store_bytes > 0)
		store_set_size_limit(s, 0);
out:
	workq_destroy(run.flushq, flush_drop);
	parser_stop(&run.parser);
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
