/*
 * test_webhook_queue.c — the group-commit writer behind serve
 * (src/webhook_queue.h), on its own: every submitted event is answered
 * exactly once; 200 only after its batch is committed (it is in the store
 * when the answer comes); 429 when the store stays locked past the bound
 * (and then it is not stored); a full queue refuses at once; destroy
 * commits what is still queued.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "t.h"
#include "util.h"
#include "webhook_queue.h"

static char dir[] = "/tmp/cv_whq.XXXXXX";

#define MAXEV 2000

struct tally {
	atomic_int done, ok, refused, twice;
	atomic_int seen[MAXEV];
	atomic_int outcome[MAXEV];
	char *body[MAXEV];
	const char *db;
	atomic_int stored_when_answered; /* 200s found in the store then */
	bool check_stored;
};

static struct tally T;

static int64_t count_rows(const char *db, const char *where)
{
	sqlite3 *h;
	int64_t n = -1;
	char *q = xasprintf("SELECT count(*) FROM webhook_events %s", where);
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(h, 5000);
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(h, q, -1, &st, NULL) == SQLITE_OK &&
			sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	free(q);
	return n;
}

static void done(void *ctx, unsigned status, enum webhook_outcome o,
	struct webhook_job *job)
{
	int i = (int)(intptr_t)ctx;
	if (atomic_fetch_add(&T.seen[i], 1) > 0)
		atomic_fetch_add(&T.twice, 1);
	atomic_store(&T.outcome[i], (int)o);
	if (status == 200) {
		atomic_fetch_add(&T.ok, 1);
		if (T.check_stored) {
			char *w = xasprintf("WHERE dedup_key = 'w-%d'", i);
			if (count_rows(T.db, w) == 1)
				atomic_fetch_add(&T.stored_when_answered, 1);
			free(w);
		}
	} else {
		atomic_fetch_add(&T.refused, 1);
	}
	webhook_job_free(job);
	atomic_fetch_add(&T.done, 1);
}

static void reset(void)
{
	for (int i = 0; i < MAXEV; i++) {
		free(T.body[i]);
		T.body[i] = NULL;
		atomic_store(&T.seen[i], 0);
	}
	atomic_store(&T.done, 0);
	atomic_store(&T.ok, 0);
	atomic_store(&T.refused, 0);
	atomic_store(&T.twice, 0);
	atomic_store(&T.stored_when_answered, 0);
}

static const char *body(int i)
{
	if (!T.body[i])
		T.body[i] = xasprintf("{\"type\":\"CallvaultTest\","
				      "\"webhookId\":\"w-%d\",\"n\":%d}",
			i, i);
	return T.body[i];
}

static bool wait_done(int n)
{
	for (int i = 0; i < 3000 && atomic_load(&T.done) < n; i++)
		usleep(10000);
	return atomic_load(&T.done) == n;
}

struct sub {
	struct webhook_queue *q;
	int from, to;
	int refused_now;
};

static void *submitter(void *arg)
{
	struct sub *s = arg;
	for (int i = s->from; i < s->to; i++) {
		const char *b = body(i);
		if (webhook_queue_submit(s->q, b, strlen(b), "hmac", done,
			    (void *)(intptr_t)i) != 0)
			s->refused_now++;
	}
	return NULL;
}

static struct webhook_queue *open_queue(const char *db, int busy_ms,
	size_t depth, struct webhook_metrics *m)
{
	struct webhook_queue_opts o = {
		.db_path = db,
		.busy_ms = busy_ms,
		.max_batch = 64,
		.max_depth = depth,
	};
	struct webhook_queue *q = NULL;
	char *err = NULL;
	CHECK_MSG(webhook_queue_create(&q, &o, m, &err) == CV_OK, "%s",
		err ? err : "");
	free(err);
	return q;
}

/* Four threads, 1,000 events: each answered once, 200, and stored by
 * the time it is answered; the same events again are duplicates. */
static void test_concurrent(void)
{
	char *db = xasprintf("%s/a.db", dir);
	struct webhook_metrics m;
	memset(&m, 0, sizeof(m));
	reset();
	T.db = db;
	T.check_stored = true;
	for (int i = 0; i < 1000; i++)
		body(i);
	struct webhook_queue *q = open_queue(db, 5000, 4096, &m);
	if (!q)
		return;
	pthread_t th[4];
	struct sub s[4];
	for (int t = 0; t < 4; t++) {
		s[t] = (struct sub){ q, t * 250, t * 250 + 250, 0 };
		pthread_create(&th[t], NULL, submitter, &s[t]);
	}
	for (int t = 0; t < 4; t++)
		pthread_join(th[t], NULL);
	CHECK(wait_done(1000));
	CHECK_INT(atomic_load(&T.ok), 1000);
	CHECK_INT(atomic_load(&T.twice), 0);
	CHECK_INT(atomic_load(&T.stored_when_answered), 1000);
	CHECK_INT(atomic_load(&T.outcome[7]), WH_RAW);
	CHECK_INT(count_rows(db, ""), 1000);

	/* again: answered 200, nothing new */
	T.check_stored = false;
	for (int i = 0; i < 1000; i++)
		atomic_store(&T.seen[i], 0);
	atomic_store(&T.done, 0);
	struct sub again = { q, 0, 100, 0 };
	submitter(&again);
	CHECK(wait_done(100));
	CHECK_INT(atomic_load(&T.outcome[42]), WH_DUPLICATE);
	webhook_queue_destroy(q);
	CHECK_INT(count_rows(db, ""), 1000);
	free(db);
}

/* The store locked by another writer past the bound: 429, not stored;
 * a full queue refuses at once; once the lock goes, 200 again. */
static void test_locked(void)
{
	char *db = xasprintf("%s/b.db", dir);
	struct webhook_metrics m;
	memset(&m, 0, sizeof(m));
	reset();
	T.db = db;
	T.check_stored = false;
	struct webhook_queue *q = open_queue(db, 100, 8, &m);
	if (!q)
		return;
	struct store *other;
	char *err = NULL;
	CHECK(store_open(&other, db, 0, &err) == CV_OK);
	CHECK(store_begin(other, &err) == CV_OK); /* BEGIN IMMEDIATE */
	struct sub s = { q, 0, 40, 0 };
	submitter(&s);
	CHECK(s.refused_now > 0); /* the queue was full */
	int queued = 40 - s.refused_now;
	CHECK(wait_done(queued));
	CHECK_INT(atomic_load(&T.refused), queued); /* none got in */
	CHECK_INT(atomic_load(&T.twice), 0);
	store_rollback(other);
	store_close(other);
	CHECK_INT(count_rows(db, ""), 0);

	/* unlocked: the same events are taken now */
	for (int i = 0; i < 40; i++)
		atomic_store(&T.seen[i], 0);
	atomic_store(&T.done, 0);
	atomic_store(&T.ok, 0);
	struct sub s2 = { q, 0, 5, 0 };
	submitter(&s2);
	CHECK_INT(s2.refused_now, 0);
	CHECK(wait_done(5));
	CHECK_INT(atomic_load(&T.ok), 5);

	/* destroy right after submitting: everything queued is committed
	 * and answered */
	atomic_store(&T.done, 0);
	atomic_store(&T.ok, 0);
	struct sub s3 = { q, 100, 108, 0 };
	submitter(&s3);
	webhook_queue_destroy(q);
	CHECK_INT(atomic_load(&T.done), 8 - s3.refused_now);
	CHECK_INT(atomic_load(&T.ok), 8 - s3.refused_now);
	CHECK_INT(count_rows(db, ""), 5 + 8 - s3.refused_now);
	free(err);
	free(db);
}

int main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	test_concurrent();
	test_locked();
	reset();
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	return t_done();
}
