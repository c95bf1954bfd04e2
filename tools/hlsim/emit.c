/* emit.c — see emit.h */
#include "emit.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common.h"
#include "simdata.h"
#include "util.h"

struct event {
	char *body;
	bool bad_sig;
	bool dup;
};

struct tally {
	long sent, ok, retried, failed, bad_sig, dups;
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
	if (k && EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519) {
		cv_errlog("msg=\"key is not Ed25519\"");
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

static int write_pem(EVP_PKEY *k, const char *path, bool private_key)
{
	BIO *b = BIO_new(BIO_s_mem());
	int ok = private_key ? PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0,
		NULL, NULL) : PEM_write_bio_PUBKEY(b, k);
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	char *err = NULL;
	int rc = 0;
	if (!ok || n <= 0 || cv_write_file_atomic(path, data, (size_t)n,
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
			strlen(body)) == 1 && n == 64;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static void push(struct event **v, size_t *n, size_t *cap, char *body,
	bool dup)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[*n].body = body;
	(*v)[*n].bad_sig = false;
	(*v)[*n].dup = dup;
	(*n)++;
}

/* Build the delivery list: events, duplicates, order, bad signatures. */
static struct event *build_events(const struct hlsim_opts *o,
	const struct simdata *sd, size_t *out_n, struct tally *t)
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
		push(&v, &n, &cap, body, false);
		if (sim_randf(&rng) < o->duplicates) {
			push(&v, &n, &cap, xstrdup(body), true);
			t->dups++;
		}
		if (sim_randf(&rng) < o->inbound_share) {
			json_t *m = simdata_inbound_body(sd, i, &rng, now);
			push(&v, &n, &cap, json_dumps(m, JSON_COMPACT), false);
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
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
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

static void deliver(const struct hlsim_opts *o, CURL *c, EVP_PKEY *k,
	struct event *e, size_t i, struct tally *t)
{
	unsigned char sig[64];
	char b64[100];
	if (sign(k, e->body, sig)) {
		t->failed++;
		return;
	}
	if (o->save_dir)
		save(o->save_dir, i, e->body, sig);
	if (e->bad_sig) {
		sig[i % 64] ^= 0x5a;
		t->bad_sig++;
	}
	EVP_EncodeBlock((unsigned char *)b64, sig, 64);
	t->sent++;
	for (int attempt = 0;; attempt++) {
		long st = post(c, o->url, e->body, b64);
		if (st >= 200 && st < 300) {
			t->ok++;
			return;
		}
		if (st != 429 || attempt >= o->max_retries) {
			if (!e->bad_sig)
				t->failed++;
			return;
		}
		t->retried++;
		sleep_ms(o->retry_ms);
	}
}

int emit_run(const struct hlsim_opts *o)
{
	EVP_PKEY *k = load_or_make_key(o->key);
	if (!k)
		return 1;
	int rc = 0;
	if (o->key_out && write_pem(k, o->key_out, false))
		rc = 1;
	if (!rc && o->key_out_private && write_pem(k, o->key_out_private,
		true))
		rc = 1;
	if (!rc && o->save_dir)
		mkdir(o->save_dir, 0755);
	struct simdata *sd = rc ? NULL : simdata_create(&o->data);
	struct tally t = { 0 };
	size_t n = 0;
	struct event *ev = sd ? build_events(o, sd, &n, &t) : NULL;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *c = curl_easy_init();
	for (size_t i = 0; c && i < n; i++)
		deliver(o, c, k, &ev[i], i, &t);
	if (sd)
		printf("sent=%ld 2xx=%ld 429-retried=%ld failed=%ld "
			"bad-signature=%ld duplicates=%ld\n", t.sent, t.ok,
			t.retried, t.failed, t.bad_sig, t.dups);
	if (t.failed)
		rc = 1;
	curl_easy_cleanup(c);
	curl_global_cleanup();
	for (size_t i = 0; i < n; i++)
		free(ev[i].body);
	free(ev);
	simdata_destroy(sd);
	EVP_PKEY_free(k);
	return rc;
}
