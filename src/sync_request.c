/* sync_request.c — sync's requests: the rate limits the server announces,
 * each request built and sent, retries, and what each answer leads to
 * (sync_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "highlevel.h"
#include "hljson.h"
#include "media.h"
#include "pager.h"
#include "sync_int.h"
#include "util.h"

#define MAX_429 30            /* consecutive 429 answers before giving up */
#define MAX_429_WAIT_MS 60000 /* longest wait a 429's headers may ask */
#define AGENT_ATTEMPTS 3      /* agents are auxiliary: retried less */

static double jitter(void)
{
	return (double)random() / (double)RAND_MAX;
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
int64_t sync_rate_delay(const struct job *j, int64_t now)
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

void sync_start_request(struct job *j)
{
	if (j->daily_remaining == 0 && j->phase == PH_MEDIA) {
		/* the call logs are in: the media wait for the next run */
		sync_add_warning(j,
			"the daily API budget is spent; %zu recordings "
			"and transcriptions wait for the next sync",
			j->nm - j->im);
		sync_job_done(j);
		return;
	}
	if (j->daily_remaining == 0) {
		sync_job_fail(j, "the daily API budget is spent (X-RateLimit-"
				 "Daily-Remaining 0); run sync again after the "
				 "daily reset");
		return;
	}
	const char *token;
	char *err = NULL;
	/* a refresh waits on a file lock and the token endpoint: not
	 * while holding the store's write lock */
	if (auth_token_would_refresh(j->auth)) {
		sync_tx_flush(j->run);
		if (j->finished)
			return;
	}
	enum cv_err rc = auth_token(j->auth, &token, &err);
	if (rc != CV_OK) {
		sync_job_fail(j, "%s", err ? err : cv_strerror(rc));
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
		sync_add_warning(j, "recordings not fetched: %s",
			err ? err : cv_strerror(rc));
		free(err);
		sync_job_done(j);
		return;
	}
	if (rc != CV_OK) {
		sync_job_fail(j, "%s", err ? err : cv_strerror(rc));
		free(err);
		return;
	}
	j->in_flight = true;
	j->res->requests++;
}

/* Try the same request again after a jittered exponential backoff, or
 * fail the location when the retries are spent. */
void sync_retry_later(struct job *j, const char *why)
{
	const struct sync_opts *o = j->run->o;
	if (j->phase == PH_AGENTS && j->attempts + 1 >= AGENT_ATTEMPTS) {
		sync_agents_skip(j, why);
		return;
	}
	if (++j->attempts > o->max_retries) {
		sync_job_fail(j, "gave up after %d attempts: %s", j->attempts,
			why);
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

/* ---- responses --------------------------------------------------------- */

static void on_ok(struct job *j, struct hl_response *r)
{
	j->n429_run = 0;
	j->auth_retried = false;
	switch (j->phase) {
	case PH_AGENTS: sync_agents_page(j, r); break;
	case PH_CALLS: sync_parser_submit(j, r); break;
	case PH_QUEUE: sync_queue_item(j, r); break;
	case PH_MEDIA:
	case PH_DONE: break;
	}
}

static void on_429(struct job *j, const struct hl_response *r)
{
	j->res->n429++;
	if (++j->n429_run > MAX_429) {
		sync_job_fail(j, "rate limited (HTTP 429) %d times in a row",
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
		sync_job_fail(j,
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
		sync_job_fail(j,
			"HTTP 401: %s (check the location's --version)", m);
		return;
	}
	if (strcasestr(m, "invalid token") && !j->auth_retried) {
		char *err = NULL;
		j->auth_retried = true;
		sync_tx_flush(
			j->run); /* auth_refused may refresh: see sync_start_request */
		if (j->finished)
			return;
		if (auth_refused(j->auth, j->token_sent, &err) != CV_OK) {
			sync_job_fail(j, "%s", err);
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
		sync_agents_skip(j, why);
		free(why);
		return;
	}
	sync_job_fail(j, "HTTP 401: %s%s", *m ? m : "unauthorized",
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
		sync_retry_later(j, why);
		free(why);
	} else if (r->status == 401) {
		on_401(j, msg);
	} else if (j->phase == PH_QUEUE &&
		   (r->status == 404 || r->status == 400)) {
		sync_queue_refused(j, r->status, msg);
	} else if (j->phase == PH_AGENTS) {
		char *why = xasprintf("HTTP %ld%s%s%s", r->status,
			msg ? ": " : "", msg ? msg : "",
			r->status == 403 ? " (the token lacks the scope "
					   "voice-ai-agents.readonly?)"
					 : "");
		sync_agents_skip(j, why);
		free(why);
	} else {
		sync_job_fail(j, "HTTP %ld%s%s", r->status, msg ? ": " : "",
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
		sync_media_item(j, r);
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
			sync_job_fail(j, "%s", r->errmsg);
		else
			sync_retry_later(j,
				r->errmsg ? r->errmsg : "HTTP failed");
		return;
	}
	if (r->status == 200)
		on_ok(j, r);
	else
		on_error_status(j, r);
}
