/*
 * sync_int.h — internals shared by the files of the sync engine
 * (sync.c: the run and its jobs; sync_request.c: rate limits, requests
 * and their answers; sync_tx.c: the shared transaction; sync_calls.c:
 * agents, call-log pages, the fetch queue and the parser thread;
 * sync_media.c: recordings and transcriptions). Nothing else includes
 * this; the API is sync.h.
 */
#ifndef CV_SYNC_INT_H
#define CV_SYNC_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "highlevel.h"
#include "media.h"
#include "pager.h"
#include "store/store_sync.h"
#include "sync.h"

#define SEND_RING 1024 /* send times remembered per location */
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

struct page; /* sync_calls.c */

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
	bool tx_open; /* the shared transaction (see sync_tx_flush) */
	int tx_pages;
	int64_t tx_started; /* monotonic ms */
	int64_t last_draw;
	struct blobstore *blobs; /* opened at the first recording */
	bool swept;              /* its tmp/ cleared of crashed writes */
	struct workq *flushq;    /* recordings being fsync'd */
	/* --max-store-mb: the bound on the database and its blobs */
	int64_t cap, blob_bytes, flush_bytes;
};

/* sync.c: ending a job, and what a run reports */
void sync_job_fail(struct job *j, const char *fmt, ...) CV_PRINTF(2, 3);
void sync_job_done(struct job *j);
void sync_add_warning(struct job *j, const char *fmt, ...) CV_PRINTF(2, 3);

/* sync_request.c: rate limits, requests, retries */
int64_t sync_rate_delay(const struct job *j, int64_t now);
void sync_start_request(struct job *j);
void sync_retry_later(struct job *j, const char *why);

/* sync_tx.c: the transaction shared by every location */
bool sync_tx_lost(struct sync_run *run);
void sync_tx_flush(struct sync_run *run);
enum cv_err sync_tx_begin(struct sync_run *run, char **errmsg);
void sync_note_write(struct job *j);
bool sync_in_tx_begin(struct job *j);
bool sync_in_tx_end(struct job *j, enum cv_err rc, char *err);

/* sync_calls.c: agents, call-log pages, the fetch queue, the parser */
void sync_agents_skip(struct job *j, const char *why);
void sync_agents_page(struct job *j, const struct hl_response *r);
void sync_queue_item(struct job *j, const struct hl_response *r);
void sync_queue_refused(struct job *j, long status, const char *msg);
enum cv_err sync_parser_start(struct parser *ps, struct hl_client *http,
	char **errmsg);
void sync_parser_stop(struct parser *ps);
void sync_parser_submit(struct job *j, struct hl_response *r);
void sync_parser_collect(struct sync_run *run);

/* sync_media.c: recordings and transcriptions (media.h) */
void sync_begin_media(struct job *j);
void sync_bound_database(struct sync_run *run);
void sync_media_item(struct job *j, const struct hl_response *r);
void sync_flush_collect(struct sync_run *run);
void sync_flush_drop(void *item);

#endif
