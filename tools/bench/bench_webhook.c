/*
 * bench_webhook.c — load generator for `callvault serve`.
 *
 *   bench_webhook keygen DIR
 *       write DIR/ed25519.pem (private) and DIR/ed25519.pub.pem (public)
 *   bench_webhook run KEY.pem PORT N CONCURRENCY [PATH]
 *       pre-build and sign N unique VoiceAiCallEnd bodies, then send them
 *       over CONCURRENCY keep-alive connections (libcurl's multi socket
 *       interface on epoll) to PATH
 *       (default /webhooks/highlevel; /healthz for the HTTP baseline).
 *       Prints requests, 200s, seconds, requests/s, p50/p99/max latency,
 *       and its own CPU while sending (it shares the cores with the server).
 *   bench_webhook fsync DIR SECONDS
 *       the disk's rate of 4 KiB write + fdatasync in DIR (the baseline
 *       for how many commits per second the disk allows).
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "whtest.h"

static int keygen(const char *dir)
{
	char path[512];
	EVP_PKEY *k = wt_keygen("ED25519", 0);
	snprintf(path, sizeof(path), "%s/ed25519.pem", dir);
	FILE *f = fopen(path, "w");
	if (!f || PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1)
		wt_die("write private key");
	fclose(f);
	snprintf(path, sizeof(path), "%s/ed25519.pub.pem", dir);
	wt_write_pubkey(k, path);
	EVP_PKEY_free(k);
	return 0;
}

struct req {
	char *body;
	size_t len;
	struct curl_slist *hdrs;
	double start;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static char *summary_text(void)
{
	/* ~1.2 KB, the size of a typical call summary + transcript */
	static const char words[] = "caller asked about a roof estimate and "
				    "booked a visit for thursday morning ";
	size_t n = 20 * (sizeof(words) - 1);
	char *s = malloc(n + 1);
	for (size_t i = 0; i < 20; i++)
		memcpy(s + i * (sizeof(words) - 1), words, sizeof(words) - 1);
	s[n] = '\0';
	return s;
}

static void prepare(struct req *r, size_t n, EVP_PKEY *k, const char *tag)
{
	char *sum = summary_text();
	for (size_t i = 0; i < n; i++) {
		char id[96], wh[96], hdr[160];
		snprintf(id, sizeof(id), "bench-%s-%zu", tag, i);
		snprintf(wh, sizeof(wh), "wh-bench-%s-%zu", tag, i);
		r[i].body = wt_call_body(id, wh, sum);
		r[i].len = strlen(r[i].body);
		char *sig = wt_sign(k, NULL, r[i].body, r[i].len);
		snprintf(hdr, sizeof(hdr), "x-ghl-signature: %s", sig);
		free(sig);
		r[i].hdrs = curl_slist_append(NULL,
			"Content-Type: application/json");
		r[i].hdrs = curl_slist_append(r[i].hdrs, hdr);
		r[i].hdrs = curl_slist_append(r[i].hdrs, "Expect:");
	}
	free(sum);
}

static void start_one(CURLM *m, CURL *h, struct req *r, const char *url,
	bool post)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, wt_sink);
	curl_easy_setopt(h, CURLOPT_PRIVATE, r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	/* SIGPIPE is ignored process-wide (main): without this libcurl
	 * sets and restores it around every call, a fifth of this
	 * program's CPU, taken from the server it shares the cores with */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (post) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
			(curl_off_t)r->len);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->hdrs);
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	r->start = wt_now_s();
	curl_multi_add_handle(m, h);
}

/*
 * The event loop: libcurl's multi socket interface on epoll. It was
 * curl_multi_perform + curl_multi_poll, which polls all CONCURRENCY
 * sockets on every wake-up and walked every transfer: ~56 us of CPU per
 * request, taken from the server this shares two cores with.
 */
struct loop {
	int ep;
	long timeout_ms;   /* libcurl's timer; -1 = none */
};

static int on_socket(CURL *h, curl_socket_t fd, int what, void *user,
	void *sockp)
{
	(void)h;
	(void)sockp;
	struct loop *l = user;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	struct epoll_event ev = { 0 };
	ev.data.fd = fd;
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) |
		    (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
	if (epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) != 0 &&
	    epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		wt_die("epoll_ctl");
	return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *user)
{
	(void)m;
	((struct loop *)user)->timeout_ms = timeout_ms;
	return 0;
}

/* Wait for sockets or libcurl's timer and let libcurl act on them. */
static void loop_step(CURLM *m, struct loop *l)
{
	struct epoll_event ev[64];
	int running;
	long wait = l->timeout_ms < 0 || l->timeout_ms > 100 ? 100
							     : l->timeout_ms;
	int k = epoll_wait(l->ep, ev, 64, (int)wait);
	for (int i = 0; i < k; i++) {
		int flags = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			    (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			    (ev[i].events & (EPOLLERR | EPOLLHUP)
					    ? CURL_CSELECT_ERR
					    : 0);
		curl_multi_socket_action(m, ev[i].data.fd, flags, &running);
	}
	if (k <= 0 || l->timeout_ms == 0) {
		/* the timer is one-shot: libcurl sets it again if it wants */
		l->timeout_ms = -1;
		curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
	}
}

static int run(const char *keyfile, int port, size_t n, int conc,
	const char *path)
{
	FILE *f = fopen(keyfile, "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (!k)
		wt_die("read private key");
	fclose(f);
	bool post = strcmp(path, "/healthz") != 0;
	struct req *r = calloc(n, sizeof(*r));
	char tag[32];
	snprintf(tag, sizeof(tag), "%ld", (long)time(NULL) ^ (long)getpid());
	if (post)
		prepare(r, n, k, tag);
	char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	double *lat = calloc(n, sizeof(double));
	CURLM *m = curl_multi_init();
	struct loop l = { .ep = epoll_create1(EPOLL_CLOEXEC), .timeout_ms = -1 };
	if (l.ep < 0)
		wt_die("epoll_create1");
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conc);
	curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(m, CURLMOPT_SOCKETDATA, &l);
	curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(m, CURLMOPT_TIMERDATA, &l);
	CURL **hs = calloc((size_t)conc, sizeof(CURL *));
	size_t next = 0, done = 0, ok = 0;
	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	double t0 = wt_now_s();
	for (int i = 0; i < conc && next < n; i++) {
		hs[i] = curl_easy_init();
		start_one(m, hs[i], &r[next++], url, post);
	}
	while (done < n) {
		int q;
		loop_step(m, &l);
		CURLMsg *msg;
		while ((msg = curl_multi_info_read(m, &q))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURL *h = msg->easy_handle;
			struct req *rq;
			long code = 0;
			curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&rq);
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
			lat[done++] = wt_now_s() - rq->start;
			if (code == 200)
				ok++;
			curl_multi_remove_handle(m, h);
			if (next < n)
				start_one(m, h, &r[next++], url, post);
		}
	}
	double secs = wt_now_s() - t0;
	getrusage(RUSAGE_SELF, &ru1);
	qsort(lat, n, sizeof(double), cmp_double);
	printf("path=%s requests=%zu ok=%zu concurrency=%d seconds=%.3f "
	       "rate=%.0f/s p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
		path, n, ok, conc, secs, (double)n / secs,
		lat[n / 2] * 1e3, lat[(size_t)((double)n * 0.99)] * 1e3,
		lat[n - 1] * 1e3);
	/* its own share of the two cores, signing (done before) excluded */
	double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
		(double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
		(double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
		(double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
	printf("load generator CPU while sending: %.0f ms = %.0f us/request\n",
		cpu * 1e3, cpu * 1e6 / (double)n);
	for (int i = 0; i < conc; i++)
		if (hs[i])
			curl_easy_cleanup(hs[i]);
	curl_multi_cleanup(m);
	close(l.ep);
	for (size_t i = 0; i < n; i++) {
		free(r[i].body);
		curl_slist_free_all(r[i].hdrs);
	}
	free(r);
	free(lat);
	free(hs);
	EVP_PKEY_free(k);
	return ok == n ? 0 : 1;
}

static int fsync_rate(const char *dir, double secs)
{
	char path[512], block[4096];
	snprintf(path, sizeof(path), "%s/fsync.probe", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		wt_die("open probe");
	memset(block, 'x', sizeof(block));
	long n = 0;
	double t0 = wt_now_s();
	while (wt_now_s() - t0 < secs) {
		if (pwrite(fd, block, sizeof(block), (off_t)(n % 256) * 4096) !=
			    (ssize_t)sizeof(block) ||
		    fdatasync(fd) != 0)
			wt_die("write/fdatasync");
		n++;
	}
	double t = wt_now_s() - t0;
	close(fd);
	unlink(path);
	printf("fsync: %ld write+fdatasync in %.2f s = %.0f/s (%.3f ms each)\n",
		n, t, (double)n / t, t / (double)n * 1e3);
	return 0;
}

int main(int argc, char **argv)
{
	curl_global_init(CURL_GLOBAL_ALL);
	signal(SIGPIPE, SIG_IGN);
	int rc = 2;
	if (argc == 3 && strcmp(argv[1], "keygen") == 0)
		rc = keygen(argv[2]);
	else if ((argc == 6 || argc == 7) && strcmp(argv[1], "run") == 0)
		rc = run(argv[2], atoi(argv[3]), (size_t)atol(argv[4]),
			atoi(argv[5]), argc == 7 ? argv[6] : "/webhooks/highlevel");
	else if (argc == 4 && strcmp(argv[1], "fsync") == 0)
		rc = fsync_rate(argv[2], atof(argv[3]));
	else
		fprintf(stderr, "usage: bench_webhook keygen DIR | run KEY PORT N "
				"CONCURRENCY [PATH] | fsync DIR SECONDS\n");
	curl_global_cleanup();
	return rc;
}
