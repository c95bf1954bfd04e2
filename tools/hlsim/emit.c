/* emit.c — see emit.h */
#include "emit.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common.h"
#include "simdata.h"
#include "util.h"

struct qitem {
	char *body;
	struct qitem *next;
};

struct emitter {
	EVP_PKEY *key;
	CURL *curl;
	const char *url, *save_dir;
	int64_t retry_ms;
	int max_retries;
	size_t saved;
	pthread_mutex_t mu; /* guards the tally and the queue */
	pthread_cond_t cv;
	struct emit_tally t;
	struct qitem *head, *tail;
	bool threaded, stop;
	pthread_t th;
};

static EVP_PKEY *load_or_make_key(const char *path)
{
	if (!path)
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	FILE *f = fopen(path, "r");
	if (!f) {
		cv_errlog("msg=\"cannot open key file\"");
		return NULL;
	}
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519) {
		cv_errlog("msg=\"key file holds no Ed25519 private key\"");
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

static int write_pem(EVP_PKEY *k, const char *path, bool private_key)
{
	BIO *b = BIO_new(BIO_s_mem());
	int ok = private_key ? PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0,
				       NULL, NULL)
			     : PEM_write_bio_PUBKEY(b, k);
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	char *err = NULL;
	int rc = 0;
	if (!ok || n <= 0 ||
		cv_write_file_atomic(path, data, (size_t)n,
			private_key ? 0600 : 0644, &err) != CV_OK) {
		cv_errlog("msg=\"cannot write key file: %s\"",
			err ? err : "PEM encoding failed");
		rc = -1;
	}
	free(err);
	BIO_free(b);
	return rc;
}

/* Sign body; sig gets 64 bytes. */
static int sign(EVP_PKEY *k, const char *body, unsigned char sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t n = 64;
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) == 1 &&
		 EVP_DigestSign(ctx, sig, &n, (const unsigned char *)body,
			 strlen(body)) == 1 &&
		 n == 64;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static size_t discard(char *p, size_t sz, size_t nm, void *ud)
{
	(void)p;
	(void)ud;
	return sz * nm;
}

/* POST once; returns the HTTP status, or 0 on a transport error. */
static long post(CURL *c, const char *url, const char *body,
	const char *sig_b64)
{
	char hdr[160];
	snprintf(hdr, sizeof(hdr), "x-ghl-signature: %s", sig_b64);
	struct curl_slist *h = curl_slist_append(NULL,
		"Content-Type: application/json");
	h = curl_slist_append(h, hdr);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "hlsim-webhook/1");
	long status = 0;
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	return status;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void save(const char *dir, size_t i, const char *body,
	const unsigned char sig[64])
{
	char *err = NULL;
	char *p = xasprintf("%s/%04zu.json", dir, i);
	if (cv_write_file_atomic(p, body, strlen(body), 0644, &err) != CV_OK)
		cv_warn("msg=\"save: %s\"", err);
	free(err);
	err = NULL;
	free(p);
	p = xasprintf("%s/%04zu.sig", dir, i);
	if (cv_write_file_atomic(p, sig, 64, 0644, &err) != CV_OK)
		cv_warn("msg=\"save: %s\"", err);
	free(err);
	free(p);
}

/* Add d to one counter under the lock. */
static void bump(struct emitter *e, long *field, long d)
{
	pthread_mutex_lock(&e->mu);
	*field += d;
	pthread_mutex_unlock(&e->mu);
}

void emitter_send(struct emitter *e, const char *body, bool bad_sig)
{
	unsigned char sig[64];
	char b64[100];
	if (sign(e->key, body, sig)) {
		bump(e, &e->t.failed, 1);
		return;
	}
	if (e->save_dir)
		save(e->save_dir, e->saved, body, sig);
	if (bad_sig) {
		sig[e->saved % 64] ^= 0x5a;
		bump(e, &e->t.bad_sig, 1);
	}
	e->saved++;
	EVP_EncodeBlock((unsigned char *)b64, sig, 64);
	bump(e, &e->t.sent, 1);
	for (int attempt = 0;; attempt++) {
		long st = post(e->curl, e->url, body, b64);
		if (st >= 200 && st < 300) {
			bump(e, &e->t.ok, 1);
			return;
		}
		if (st != 429 || attempt >= e->max_retries) {
			if (!bad_sig)
				bump(e, &e->t.failed, 1);
			return;
		}
		bump(e, &e->t.retried, 1);
		sleep_ms(e->retry_ms);
	}
}

static void *sender(void *arg)
{
	struct emitter *e = arg;
	pthread_mutex_lock(&e->mu);
	for (;;) {
		while (!e->head && !e->stop)
			pthread_cond_wait(&e->cv, &e->mu);
		if (e->stop)
			break;
		struct qitem *q = e->head;
		e->head = q->next;
		if (!e->head)
			e->tail = NULL;
		pthread_mutex_unlock(&e->mu);
		emitter_send(e, q->body, false);
		free(q->body);
		free(q);
		pthread_mutex_lock(&e->mu);
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

void emitter_enqueue(struct emitter *e, char *body)
{
	struct qitem *q = xcalloc(1, sizeof(*q));
	q->body = body;
	pthread_mutex_lock(&e->mu);
	if (e->tail)
		e->tail->next = q;
	else
		e->head = q;
	e->tail = q;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

void emitter_note(struct emitter *e, bool dropped, bool dup)
{
	if (dropped)
		bump(e, &e->t.dropped, 1);
	if (dup)
		bump(e, &e->t.dups, 1);
}

void emitter_tally(struct emitter *e, struct emit_tally *t)
{
	pthread_mutex_lock(&e->mu);
	*t = e->t;
	pthread_mutex_unlock(&e->mu);
}

struct emitter *emitter_create(const struct hlsim_opts *o, bool threaded)
{
	EVP_PKEY *k = load_or_make_key(o->key);
	if (!k)
		return NULL;
	if ((o->key_out && write_pem(k, o->key_out, false)) ||
		(o->key_out_private &&
			write_pem(k, o->key_out_private, true))) {
		EVP_PKEY_free(k);
		return NULL;
	}
	if (o->save_dir)
		mkdir(o->save_dir, 0755);
	struct emitter *e = xcalloc(1, sizeof(*e));
	e->key = k;
	e->curl = curl_easy_init();
	e->url = o->url;
	e->save_dir = o->save_dir;
	e->retry_ms = o->retry_ms;
	e->max_retries = o->max_retries;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	if (!e->curl) {
		emitter_destroy(e);
		return NULL;
	}
	if (threaded && pthread_create(&e->th, NULL, sender, e) != 0) {
		emitter_destroy(e);
		return NULL;
	}
	e->threaded = threaded;
	return e;
}

void emitter_destroy(struct emitter *e)
{
	if (!e)
		return;
	if (e->threaded) {
		pthread_mutex_lock(&e->mu);
		e->stop = true;
		pthread_cond_signal(&e->cv);
		pthread_mutex_unlock(&e->mu);
		pthread_join(e->th, NULL);
	}
	while (e->head) {
		struct qitem *q = e->head;
		e->head = q->next;
		free(q->body);
		free(q);
	}
	curl_easy_cleanup(e->curl);
	EVP_PKEY_free(e->key);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

/* ---- emit mode ---- */

struct event {
	char *body;
	bool bad_sig;
};

static void push(struct event **v, size_t *n, size_t *cap, char *body)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[*n].body = body;
	(*v)[*n].bad_sig = false;
	(*n)++;
}

/* Build the delivery list: events, duplicates, order, bad signatures. */
static struct event *build_events(const struct hlsim_opts *o,
	const struct simdata *sd, struct emitter *e, size_t *out_n)
{
	uint64_t rng = o->data.seed * 0x9E3779B97F4A7C15ULL + 7;
	struct event *v = NULL;
	size_t n = 0, cap = 0;
	size_t limit = o->count < 0 ? sd->n_calls : (size_t)o->count;
	int64_t now = cv_now_ms();
	for (size_t i = 0; i < sd->n_calls && i < limit; i++) {
		json_t *w = simdata_webhook_body(sd, i, &rng, now);
		char *body = json_dumps(w, JSON_COMPACT);
		json_decref(w);
		push(&v, &n, &cap, body);
		if (sim_randf(&rng) < o->duplicates) {
			push(&v, &n, &cap, xstrdup(body));
			emitter_note(e, false, true);
		}
		if (sim_randf(&rng) < o->inbound_share) {
			json_t *m = simdata_inbound_body(sd, i, &rng, now);
			push(&v, &n, &cap, json_dumps(m, JSON_COMPACT));
			json_decref(m);
		}
	}
	if (o->reorder)
		for (size_t i = n; i > 1; i--) {
			size_t j = (size_t)(sim_rand(&rng) % i);
			struct event tmp = v[i - 1];
			v[i - 1] = v[j];
			v[j] = tmp;
		}
	for (size_t i = 0; i < n; i++)
		v[i].bad_sig = o->bad_signature > 0 &&
			       sim_randf(&rng) < o->bad_signature;
	*out_n = n;
	return v;
}

int emit_run(const struct hlsim_opts *o)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct emitter *e = emitter_create(o, false);
	if (!e) {
		curl_global_cleanup();
		return 1;
	}
	struct simdata *sd = simdata_create(&o->data);
	size_t n = 0;
	struct event *ev = build_events(o, sd, e, &n);
	for (size_t i = 0; i < n; i++)
		emitter_send(e, ev[i].body, ev[i].bad_sig);
	struct emit_tally t;
	emitter_tally(e, &t);
	printf("sent=%ld 2xx=%ld 429-retried=%ld failed=%ld "
	       "bad-signature=%ld duplicates=%ld\n",
		t.sent, t.ok, t.retried, t.failed, t.bad_sig, t.dups);
	for (size_t i = 0; i < n; i++)
		free(ev[i].body);
	free(ev);
	simdata_destroy(sd);
	emitter_destroy(e);
	curl_global_cleanup();
	return t.failed ? 1 : 0;
}
