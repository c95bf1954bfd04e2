/*
 * webhook_t.h — what the webhook test programs (test_webhook,
 * test_webhook_hostile, test_webhook_durable in integration/) share: a
 * temp directory with a store made by `callvault init` (locA given
 * credentials), key files and a shared secret; the store's counts read
 * beside the running server; the server started as most cases want it;
 * a signed burst. The server is the binary in $CALLVAULT, run as a child
 * on port 0. Static functions and the program's dir, db, keys: include
 * it once per program.
 */
#ifndef CV_WEBHOOK_T_H
#define CV_WEBHOOK_T_H

#include <pthread.h>
#include <stdatomic.h>

#include "store/store.h"
#include "store/store_webhook.h"
#include "t.h"
#include "util.h"
#include "whtest.h"

static char dir[256], db[300], edpem[300], rsapem[300], secret[300];
static EVP_PKEY *ed, *other_ed, *rsa;

/* The directory, keys and secret; the store, initialised, with
 * credentials for locA (never used: nothing here runs sync). */
static inline void setup(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	snprintf(dir, sizeof(dir), "%s/cvwh.XXXXXX",
		getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		wt_die("mkdtemp");
	snprintf(db, sizeof(db), "%s/store.db", dir);
	snprintf(edpem, sizeof(edpem), "%s/ed.pem", dir);
	snprintf(rsapem, sizeof(rsapem), "%s/rsa.pem", dir);
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	ed = wt_keygen("ED25519", 0);
	other_ed = wt_keygen("ED25519", 0);
	rsa = wt_keygen(NULL, 2048);
	wt_write_pubkey(ed, edpem);
	wt_write_pubkey(rsa, rsapem);
	FILE *f = fopen(secret, "w");
	fputs("s3cret-shared-0123456789abcdef0123\n", f);
	fclose(f);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' init >/dev/null",
		getenv("CALLVAULT"), db);
	CHECK(system(cmd) == 0);
	snprintf(cmd, sizeof(cmd),
		"'%s' --db '%s' location add locA "
		"--no-check --token-file '%s' --api-base http://127.0.0.1:9 "
		">/dev/null",
		getenv("CALLVAULT"), db, secret);
	CHECK(system(cmd) == 0);
}

/* Remove what setup made. */
static inline void teardown(void)
{
	char rm[400];
	snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	if (system(rm) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(other_ed);
	EVP_PKEY_free(rsa);
	curl_global_cleanup();
}

/* The server most cases talk to: Ed25519 and the shared secret, a 2 s
 * idle timeout; /healthz answers. */
static inline void serve(struct wt_server *s)
{
	const char *extra[] = { "--public-key", edpem, "--shared-secret-file",
		secret, "--timeout", "2", NULL };
	if (!wt_start(s, dir, db, NULL, extra))
		wt_die("server did not start");
	CHECK_INT(wt_http(NULL, s->port, "GET", "/healthz", NULL, 0, NULL),
		200);
}

/* Counts in the store (opened read-only beside the running server). */
struct counts {
	int64_t events, queued, calls, quarantined;
};

static inline struct counts counts(void)
{
	struct counts c = { -1, -1, -1, -1 };
	struct store *s;
	struct store_stats st;
	if (store_open(&s, db, STORE_READONLY, NULL) != CV_OK)
		return c;
	if (store_webhook_counts(s, &c.events, &c.queued, NULL) == CV_OK &&
		store_stats(s, &st, NULL) == CV_OK) {
		c.calls = st.calls;
		c.quarantined = st.quarantined;
		store_stats_finish(&st);
	}
	store_close(s);
	return c;
}

static inline int call_versions(const char *id)
{
	struct store *s;
	struct store_call sc;
	int n = -1;
	if (store_open(&s, db, STORE_READONLY, NULL) != CV_OK)
		return -1;
	if (store_get_call(s, id, &sc, NULL) == CV_OK) {
		n = sc.n_versions;
		store_call_finish(&sc);
	}
	store_close(s);
	return n;
}

/* `callvault check` passes on the store. */
static inline void check_store(void)
{
	char cmd[800];
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' check >/dev/null",
		getenv("CALLVAULT"), db);
	CHECK_MSG(system(cmd) == 0, "callvault check failed on %s", db);
}

static inline long post_ed(int port, EVP_PKEY *k, const char *body)
{
	return wt_post_signed(NULL, port, k, body, strlen(body));
}

/* n signed call ends from one thread; ok counts the 200s. */
struct burst {
	int port, thread, n;
	atomic_int *ok;
};

static inline void *burst_main(void *arg)
{
	struct burst *b = arg;
	CURL *h = curl_easy_init();
	for (int i = 0; i < b->n; i++) {
		char id[64], wh[64];
		snprintf(id, sizeof(id), "burst-%d-%d", b->thread, i);
		snprintf(wh, sizeof(wh), "wh-burst-%d-%d", b->thread, i);
		char *body = wt_call_body(id, wh, "burst");
		if (wt_post_signed(h, b->port, ed, body, strlen(body)) == 200)
			atomic_fetch_add(b->ok, 1);
		free(body);
	}
	curl_easy_cleanup(h);
	return NULL;
}

#endif
