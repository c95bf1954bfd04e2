/*
 * test_webhook_durable.c — `callvault serve` when the store cannot take
 * a webhook (locked: 429, parked requests; full: 429, nothing kept) and
 * when the server is stopped under load (SIGTERM keeps every 200) or
 * killed (kill -9 loses no acknowledged event).
 */
#include "webhook_t.h"

static bool event_seen(struct store *s, const char *key)
{
	bool seen = false;
	return store_webhook_seen(s, key, &seen, NULL) == CV_OK && seen;
}

static void test_locked(void)
{
	const char *extra[] = { "--public-key", edpem, "--busy-timeout", "200",
		NULL };
	struct wt_server s;
	CHECK(wt_start(&s, dir, db, NULL, extra));
	struct store *lock;
	CHECK(store_open(&lock, db, 0, NULL) == CV_OK);
	CHECK(store_begin(lock, NULL) == CV_OK); /* holds the write lock */
	char *b = wt_call_body("call-locked", "wh-locked", "locked");
	CHECK_INT(post_ed(s.port, ed, b), 429);
	CHECK_INT(post_ed(s.port, ed, b), 429);
	store_rollback(lock);
	store_close(lock);
	CHECK_INT(post_ed(s.port, ed, b), 200); /* HighLevel's retry */
	CHECK_INT(call_versions("call-locked"), 1);
	CHECK_INT(wt_stop(&s), 0);
	free(b);
}

/* Requests waiting on a locked store are parked, not holding the
 * server's few threads: /healthz answers meanwhile, and none is stored.
 * Once stopping, new requests are refused at once.
 * A SIGTERM whose grace period (0 s) ends while they wait exits 0: the
 * server waits for the store's answer to every parked request before it
 * stops libmicrohttpd, which aborts on a suspended connection. */
static void test_parked(void)
{
	enum { WAITERS = 16 };
	const char *extra[] = { "--public-key", edpem, "--busy-timeout", "1000",
		"--grace", "0", NULL };
	struct wt_server s;
	CHECK(wt_start(&s, dir, db, NULL, extra));
	struct counts c0 = counts();
	struct store *lock;
	CHECK(store_open(&lock, db, 0, NULL) == CV_OK);
	CHECK(store_begin(lock, NULL) == CV_OK);
	atomic_int ok = 0;
	pthread_t th[WAITERS];
	struct burst b[WAITERS];
	double t0 = wt_now_s();
	for (int i = 0; i < WAITERS; i++) {
		b[i] = (struct burst){ s.port, 1000 + i, 1, &ok };
		pthread_create(&th[i], NULL, burst_main, &b[i]);
	}
	usleep(300 * 1000);
	double h0 = wt_now_s();
	CHECK_INT(wt_http(NULL, s.port, "GET", "/healthz", NULL, 0, NULL), 200);
	double waited = wt_now_s() - h0;
	CHECK_MSG(waited < 0.5, "/healthz took %.3f s behind parked requests",
		waited);
	kill(s.pid, SIGTERM);
	usleep(100 * 1000);
	/* stopping: a new request is answered at once, a webhook with 429
	 * (HighLevel retries it), anything else with 503 */
	char *late = wt_call_body("call-late", "wh-late", "late");
	CHECK_INT(post_ed(s.port, ed, late), 429);
	free(late);
	CHECK_INT(wt_http(NULL, s.port, "GET", "/healthz", NULL, 0, NULL), 503);
	for (int i = 0; i < WAITERS; i++)
		pthread_join(th[i], NULL);
	CHECK_INT(atomic_load(&ok), 0); /* the store stayed locked */
	CHECK_MSG(wt_now_s() - t0 >= 0.9, "answered before the wait bound");
	CHECK_INT(wt_stop(&s), 0);
	store_rollback(lock);
	store_close(lock);
	struct counts c1 = counts();
	CHECK_INT(c1.calls, c0.calls);
	CHECK_INT(c1.events, c0.events);
}

/* A full store (here: a size cap) answers 429 and keeps nothing. */
static void test_full(void)
{
	char saved[sizeof(db)], cmd[800];
	memcpy(saved, db, sizeof(db));
	snprintf(db, sizeof(db), "%s/full.db", dir);
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' init >/dev/null",
		getenv("CALLVAULT"), db);
	CHECK(system(cmd) == 0);
	const char *extra[] = { "--public-key", edpem, "--max-store-mb", "1",
		NULL };
	struct wt_server s;
	CHECK(wt_start(&s, dir, db, NULL, extra));
	char *big = malloc(60001);
	memset(big, 'z', 60000);
	big[60000] = '\0';
	int ok = 0, refused = 0;
	char id[64];
	for (int i = 0; i < 60 && !refused; i++) {
		snprintf(id, sizeof(id), "full-%d", i);
		char *b = wt_call_body(id, id, big);
		long st = post_ed(s.port, ed, b);
		free(b);
		if (st == 200)
			ok++;
		else if (st == 429)
			refused++;
		else
			CHECK_MSG(false, "full store: status %ld", st);
	}
	CHECK_INT(refused, 1);
	CHECK_MSG(ok >= 2, "only %d stored before full", ok);
	CHECK_INT(call_versions(id), -1); /* the refused one is not there */
	snprintf(id, sizeof(id), "full-%d", ok - 1);
	CHECK_INT(call_versions(id), 1);
	CHECK_INT(wt_stop(&s), 0);
	check_store();
	free(big);
	memcpy(db, saved, sizeof(db));
}

/* ---- crash safety ---- */

#define CRASH_THREADS 8
#define CRASH_MAX 4000

struct crash {
	const char *prefix;
	int port, thread;
	atomic_bool *stop;
	int acked[CRASH_MAX];
	int n_acked;
};

static void *crash_main(void *arg)
{
	struct crash *c = arg;
	CURL *h = curl_easy_init();
	for (int i = 0; i < CRASH_MAX && !atomic_load(c->stop); i++) {
		char id[64], wh[64];
		snprintf(id, sizeof(id), "%s-%d-%d", c->prefix, c->thread, i);
		snprintf(wh, sizeof(wh), "wh-%s-%d-%d", c->prefix, c->thread,
			i);
		char *body = wt_call_body(id, wh, "crash");
		long st = wt_post_signed(h, c->port, ed, body, strlen(body));
		free(body);
		if (st == 200)
			c->acked[c->n_acked++] = i;
		else if (st == 0)
			break; /* the server is gone */
	}
	curl_easy_cleanup(h);
	return NULL;
}

/* Count acknowledged crash-load events missing from the store. */
static int lost_acked(const char *prefix, struct crash *c, int *total)
{
	struct store *st;
	int lost = 0;
	*total = 0;
	if (store_open(&st, db, STORE_READONLY, NULL) != CV_OK)
		return -1;
	for (int t = 0; t < CRASH_THREADS; t++) {
		for (int i = 0; i < c[t].n_acked; i++) {
			char id[64], wh[64];
			struct store_call sc;
			snprintf(id, sizeof(id), "%s-%d-%d", prefix, t,
				c[t].acked[i]);
			snprintf(wh, sizeof(wh), "wh-%s-%d-%d", prefix, t,
				c[t].acked[i]);
			(*total)++;
			if (store_get_call(st, id, &sc, NULL) != CV_OK ||
				!event_seen(st, wh))
				lost++;
			else
				store_call_finish(&sc);
		}
	}
	store_close(st);
	return lost;
}

/* Run the load from 8 threads for ms, then end the server with sig. */
static int load_then(struct wt_server *s, const char *prefix, int ms, int sig,
	struct crash *c)
{
	atomic_bool stop = false;
	pthread_t th[CRASH_THREADS];
	for (int i = 0; i < CRASH_THREADS; i++) {
		c[i] = (struct crash){ .port = s->port,
			.thread = i,
			.stop = &stop,
			.prefix = prefix };
		pthread_create(&th[i], NULL, crash_main, &c[i]);
	}
	usleep((useconds_t)ms * 1000);
	int code = 0;
	if (sig == SIGKILL)
		wt_kill9(s);
	else
		code = wt_stop(s);
	atomic_store(&stop, true);
	for (int i = 0; i < CRASH_THREADS; i++)
		pthread_join(th[i], NULL);
	return code;
}

static void test_kill9(void)
{
	static struct crash c[CRASH_THREADS];
	struct wt_server s;
	const char *extra[] = { "--public-key", edpem, NULL };
	int total;
	/* graceful: SIGTERM under load exits 0 and keeps every 200 */
	CHECK(wt_start(&s, dir, db, NULL, extra));
	CHECK_INT(load_then(&s, "term", 700, SIGTERM, c), 0);
	CHECK_INT(lost_acked("term", c, &total), 0);
	CHECK_MSG(total > 20, "only %d events acknowledged before TERM", total);
	/* crash: kill -9 mid-load */
	CHECK(wt_start(&s, dir, db, NULL, extra));
	load_then(&s, "crash", 1200, SIGKILL, c);
	/* restart on the same store; it must recover and serve */
	CHECK(wt_start(&s, dir, db, NULL, extra));
	char *b = wt_call_body("after-crash", "wh-after", "after");
	CHECK_INT(post_ed(s.port, ed, b), 200);
	free(b);
	CHECK_INT(wt_stop(&s), 0);
	int lost = lost_acked("crash", c, &total);
	printf("kill -9: %d events acknowledged before the kill, %d lost\n",
		total, lost);
	CHECK_MSG(total > 50, "only %d events acknowledged before kill", total);
	CHECK_INT(lost, 0);
	check_store();
}

int main(void)
{
	setup();
	test_locked();
	test_parked();
	check_store();
	test_full();
	test_kill9();
	teardown();
	return t_done();
}
