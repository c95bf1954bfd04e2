/* sync_calls.c — sync's agents, call-log pages and fetch queue, and the
 * thread that parses the pages (sync_int.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "calllog.h"
#include "hljson.h"
#include "ingest.h"
#include "pager.h"
#include "reconcile.h"
#include "store/store_sync.h"
#include "sync_int.h"
#include "util.h"

#define QUEUE_BATCH 10000

/* A page of call logs on its way through the parser thread. */
struct page {
	struct job *j;
	struct buf body; /* the response body, as received */
	struct calllog_batch b;
	bool parsed; /* calllog_parse_payload succeeded */
	char *reason;
	struct page *next;
};

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

static void begin_queue(struct job *j)
{
	char *err = NULL;
	enum cv_err rc = store_fetch_queue_list(j->run->s, j->loc.id,
		QUEUE_BATCH, &j->queue, &j->nq, &err);
	if (rc != CV_OK) {
		sync_job_fail(j, "fetch queue: %s", err);
		free(err);
		return;
	}
	j->iq = 0;
	j->phase = PH_QUEUE;
	if (!j->nq)
		sync_begin_media(j);
}

void sync_agents_skip(struct job *j, const char *why)
{
	sync_add_warning(j, "agent names not listed: %s", why);
	begin_calls(j);
}

void sync_agents_page(struct job *j, const struct hl_response *r)
{
	struct hljson_agents a;
	char *err = NULL;
	if (hljson_agents_parse(r->body.data, r->body.len, &a, &err) != CV_OK) {
		char *why = xasprintf("unusable agents page: %s", err);
		free(err);
		sync_agents_skip(j, why);
		free(why);
		return;
	}
	if (!sync_in_tx_begin(j)) {
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
	if (!sync_in_tx_end(j, rc, err)) {
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
		sync_agents_skip(j, j->agents.error);
	} else if (pager_done(&j->agents)) {
		sync_note_write(j);
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
		sync_retry_later(j, why);
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
		sync_job_fail(j, "reconcile: %s", err);
		free(err);
		free(recs);
		calllog_batch_finish(&b);
		return;
	}
	if (ingest && !sync_in_tx_begin(j)) {
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
	if (ingest && !sync_in_tx_end(j, rc, err))
		return;
	if (ingest && recon &&
		recon_repaired(recon, j->run->s, &err) != CV_OK) {
		sync_job_fail(j, "reconcile: %s", err);
		free(err);
		return;
	}
	ingest_stats_add(&j->res->calls, &st);
	j->res->pages++;
	j->last_total = total;
	if (n > 0)
		j->attempts = 0;
	if (step == PAGER_FAILED) {
		sync_job_fail(j, "paging call logs: %s", j->calls.error);
		return;
	}
	if (pager_done(&j->calls)) {
		if (!recon) {
			begin_queue(j);
		} else if (recon_finish(recon, j->run->s, j->loc.id, &err) !=
			   CV_OK) {
			sync_job_fail(j, "reconcile: %s", err);
			free(err);
		} else {
			sync_job_done(j);
		}
		return;
	}
	if (pager_next(&j->calls, &j->req) && j->req.retry) {
		/* the same whole page twice: give the server a moment */
		sync_retry_later(j, "the server answered the same page again");
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
		sync_begin_media(j);
}

void sync_queue_item(struct job *j, const struct hl_response *r)
{
	const char *id = j->queue[j->iq];
	struct calllog_batch b;
	char *reason = NULL;
	if (calllog_parse_payload(r->body.data, r->body.len, j->loc.id, &b,
		    &reason) != CV_OK) {
		char *why = xasprintf("call %s unusable: %s", id, reason);
		free(reason);
		calllog_batch_finish(&b);
		sync_retry_later(j, why);
		free(why);
		return;
	}
	if (!sync_in_tx_begin(j)) {
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
	if (!sync_in_tx_end(j, rc, err))
		return;
	ingest_stats_add(&j->res->calls, &st);
	j->res->queue_fetched++;
	j->attempts = 0;
	queue_next(j);
}

/* A 4xx for one queued call: note it and go on with the next. */
void sync_queue_refused(struct job *j, long status, const char *msg)
{
	char *err = NULL;
	char *why = xasprintf("HTTP %ld%s%s", status, msg ? ": " : "",
		msg ? msg : "");
	sync_note_write(j);
	if (store_fetch_queue_failed(j->run->s, j->queue[j->iq], why, &err) !=
		CV_OK) {
		sync_job_fail(j, "store: %s", err);
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

enum cv_err sync_parser_start(struct parser *ps, struct hl_client *http,
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

void sync_parser_stop(struct parser *ps)
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
 * sync_parser_collect() has stored it. */
void sync_parser_submit(struct job *j, struct hl_response *r)
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
void sync_parser_collect(struct sync_run *run)
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
