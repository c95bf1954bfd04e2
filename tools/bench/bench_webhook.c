/*
 * bench_webhook.c — load generator for `callvault serve`.
 *
 *   bench_webhook keygen DIR
 *       write DIR/ed25519.pem (private) and DIR/ed25519.pub.pem (public)
 *   bench_webhook run [--curl] KEY.pem PORT N CONCURRENCY [PATH]
 *       pre-build and sign N unique VoiceAiCallEnd bodies, then send them
 *       over CONCURRENCY keep-alive connections to PATH
 *       (default /webhooks/highlevel; /healthz for the HTTP baseline).
 *       Prints requests, 200s, seconds, requests/s, p50/p99/max latency,
 *       and its own CPU while sending (it shares the cores with the server).
 *       By default a minimal HTTP/1.1 client on epoll sends each request
 *       from bytes built beforehand, usually with one send, and usually
 *       reads its answer with one recv; --curl sends through libcurl's
 *       multi socket interface instead, which costs ~1.5 times the CPU per
 *       POST and ~3 times per GET, taken from the server on the same two
 *       cores.
 *   bench_webhook fsync DIR SECONDS
 *       the disk's rate of 4 KiB write + fdatasync in DIR (the baseline
 *       for how many commits per second the disk allows).
 *   bench_webhook verify KEY.pem N
 *       Ed25519 verifications per second of one benchmark body on one
 *       core: libsodium (what the server uses) and OpenSSL 3.0's EVP
 *       one-shot (what it used before), three alternating rounds of N
 *       each, medians.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/epoll.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
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
	char *wire; /* the whole request, for the raw client */
	size_t wire_len;
	double start;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static char *wire_request(const char *path, int port, const char *sig_hdr,
	const char *body, size_t len, size_t *wire_len)
{
	char *w = NULL;
	int k = body ? asprintf(&w,
			       "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
			       "Content-Type: application/json\r\n%s\r\n"
			       "Content-Length: %zu\r\n\r\n%s",
			       path, port, sig_hdr, len, body)
		     : asprintf(&w,
			       "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d"
			       "\r\n\r\n",
			       path, port);
	if (k < 0)
		wt_die("asprintf");
	*wire_len = (size_t)k;
	return w;
}

/* Sign n unique bodies; build what the chosen client sends. */
static void prepare(struct req *r, size_t n, EVP_PKEY *k, const char *tag,
	const char *path, int port, bool use_curl)
{
	char *sum = wt_summary_text();
	for (size_t i = 0; i < n; i++) {
		char id[96], wh[96], hdr[160];
		snprintf(id, sizeof(id), "bench-%s-%zu", tag, i);
		snprintf(wh, sizeof(wh), "wh-bench-%s-%zu", tag, i);
		r[i].body = wt_call_body(id, wh, sum);
		r[i].len = strlen(r[i].body);
		char *sig = wt_sign(k, NULL, r[i].body, r[i].len);
		snprintf(hdr, sizeof(hdr), "x-ghl-signature: %s", sig);
		free(sig);
		if (!use_curl) {
			r[i].wire = wire_request(path, port, hdr, r[i].body,
				r[i].len, &r[i].wire_len);
			continue;
		}
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
	long timeout_ms; /* libcurl's timer; -1 = none */
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

/* Send r[0..n) over conc connections through libcurl; lat[i] gets each
 * answer's latency. Returns the number of 200s. */
static size_t curl_send(struct req *r, size_t n, int conc, const char *url,
	bool post, double *lat)
{
	CURLM *m = curl_multi_init();
	struct loop l = { .ep = epoll_create1(EPOLL_CLOEXEC),
		.timeout_ms = -1 };
	if (l.ep < 0)
		wt_die("epoll_create1");
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conc);
	curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(m, CURLMOPT_SOCKETDATA, &l);
	curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(m, CURLMOPT_TIMERDATA, &l);
	CURL **hs = calloc((size_t)conc, sizeof(CURL *));
	if (!hs)
		wt_die("out of memory");
	size_t next = 0, done = 0, ok = 0;
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
	for (int i = 0; i < conc; i++)
		if (hs[i])
			curl_easy_cleanup(hs[i]);
	curl_multi_cleanup(m);
	close(l.ep);
	free(hs);
	return ok;
}

/*
 * The raw client: one keep-alive connection per slot, each with at most
 * one request in flight. A request goes out from bytes built beforehand,
 * usually in one send (a partial one is resumed when epoll says there is
 * room); its answer is read, one recv per wake-up, until the header
 * block's end and Content-Length bytes after it, which callvault's webhook
 * and /healthz answers always carry (a streamed export does not). Anything
 * else (no Content-Length, a header block over 8 KiB, a closed
 * connection) stops the run: this client is for measuring callvault, not
 * for general use.
 */
struct slot {
	int fd;
	struct req *r; /* in flight, or NULL */
	size_t sent;
	char head[8192]; /* the answer's header block, as it arrives */
	size_t head_len;
	size_t body_left; /* after the header block; SIZE_MAX: unknown */
	int status;
	bool watch_out; /* epoll waits for room to write */
};

static int connect_port(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		wt_die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
		wt_die("fcntl");
	return fd;
}

/* Write what is left of the slot's request; watch for the answer, or
 * for room to write the rest. */
static void slot_write(int ep, struct slot *s)
{
	const struct req *r = s->r;
	while (s->sent < r->wire_len) {
		ssize_t k = send(s->fd, r->wire + s->sent,
			r->wire_len - s->sent, MSG_NOSIGNAL);
		if (k < 0 && errno == EAGAIN)
			break;
		if (k <= 0)
			wt_die("send");
		s->sent += (size_t)k;
	}
	/* the socket is watched for input; for output only while a request
	 * is part written (a syscall saved per request otherwise) */
	bool want_out = s->sent < r->wire_len;
	if (want_out != s->watch_out) {
		struct epoll_event ev = { .events = want_out ? EPOLLOUT
							     : EPOLLIN,
			.data.ptr = s };
		if (epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev) != 0)
			wt_die("epoll_ctl");
		s->watch_out = want_out;
	}
}

static void slot_start(int ep, struct slot *s, struct req *r)
{
	s->r = r;
	s->sent = 0;
	s->head_len = 0;
	s->body_left = SIZE_MAX;
	s->status = 0;
	r->start = wt_now_s();
	slot_write(ep, s);
}

/* The header block is complete: the status and the body's length. */
static void parse_head(struct slot *s, size_t end)
{
	s->head[end] = '\0';
	if (sscanf(s->head, "HTTP/1.%*d %d", &s->status) != 1)
		wt_die("answer without a status line");
	for (char *line = strstr(s->head, "\r\n"); line && *line;
		line = strstr(line + 2, "\r\n")) {
		if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
			s->body_left = strtoul(line + 17, NULL, 10);
		if (strncasecmp(line + 2, "Connection: close", 17) == 0)
			wt_die("the server closed a keep-alive connection");
	}
	if (s->body_left == SIZE_MAX)
		wt_die("answer without Content-Length");
}

/* Read what has arrived (one recv: epoll, level-triggered, says when
 * there is more); true when the whole answer has. */
static bool slot_read(struct slot *s)
{
	char buf[16384];
	ssize_t k = recv(s->fd, buf, sizeof(buf), 0);
	if (k < 0 && errno == EAGAIN)
		return false;
	if (k < 0)
		wt_die("recv");
	if (k == 0)
		wt_die("recv: connection closed mid-answer");
	size_t got = (size_t)k, off = 0;
	if (s->body_left == SIZE_MAX) {
		size_t room = sizeof(s->head) - 1 - s->head_len;
		size_t take = got < room ? got : room;
		memcpy(s->head + s->head_len, buf, take);
		size_t from = s->head_len > 3 ? s->head_len - 3 : 0;
		s->head_len += take;
		s->head[s->head_len] = '\0';
		char *e = strstr(s->head + from, "\r\n\r\n");
		if (!e) {
			if (take == room)
				wt_die("answer header block over 8 KiB");
			return false;
		}
		size_t end = (size_t)(e - s->head) + 4;
		off = take - (s->head_len - end);
		parse_head(s, end);
	}
	if (got - off > s->body_left)
		wt_die("more bytes than the answer's Content-Length");
	s->body_left -= got - off;
	return s->body_left == 0;
}

static size_t raw_send(struct req *r, size_t n, int conc, int port, double *lat)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		wt_die("epoll_create1");
	size_t nslots = (size_t)conc < n ? (size_t)conc : n;
	struct slot *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		wt_die("out of memory");
	size_t next = 0, done = 0, ok = 0;
	for (size_t i = 0; i < nslots; i++) {
		slots[i].fd = connect_port(port);
		struct epoll_event ev = { .events = EPOLLIN,
			.data.ptr = &slots[i] };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, slots[i].fd, &ev) != 0)
			wt_die("epoll_ctl");
		slot_start(ep, &slots[i], &r[next++]);
	}
	struct epoll_event evs[64];
	while (done < n) {
		int k = epoll_wait(ep, evs, 64, 60000);
		if (k < 0 && errno == EINTR)
			continue; /* stopped and continued */
		if (k < 0)
			wt_die("epoll_wait");
		if (k == 0)
			wt_die("no answer within 60 s");
		for (int i = 0; i < k; i++) {
			struct slot *s = evs[i].data.ptr;
			if (!s->r) {
				/* its share is done: only a close can come */
				epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
				continue;
			}
			if (s->sent < s->r->wire_len) {
				slot_write(ep, s);
				continue;
			}
			if (!slot_read(s))
				continue;
			lat[done++] = wt_now_s() - s->r->start;
			if (s->status == 200)
				ok++;
			s->r = NULL;
			if (next < n)
				slot_start(ep, s, &r[next++]);
		}
	}
	for (size_t i = 0; i < nslots; i++)
		close(slots[i].fd);
	free(slots);
	close(ep);
	return ok;
}

static EVP_PKEY *load_key(const char *keyfile)
{
	FILE *f = fopen(keyfile, "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (!k)
		wt_die("read private key");
	fclose(f);
	return k;
}

static int run(bool use_curl, const char *keyfile, int port, size_t n, int conc,
	const char *path)
{
	EVP_PKEY *k = load_key(keyfile);
	if (n == 0 || conc < 1)
		wt_die("N and CONCURRENCY must be positive");
	bool post = strcmp(path, "/healthz") != 0;
	struct req *r = calloc(n, sizeof(*r));
	double *lat = calloc(n, sizeof(double));
	if (!r || !lat)
		wt_die("out of memory for N requests");
	char tag[32];
	snprintf(tag, sizeof(tag), "%ld", (long)time(NULL) ^ (long)getpid());
	if (post)
		prepare(r, n, k, tag, path, port, use_curl);
	else if (!use_curl)
		for (size_t i = 0; i < n; i++)
			r[i].wire = wire_request(path, port, NULL, NULL, 0,
				&r[i].wire_len);
	char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	double t0 = wt_now_s();
	size_t ok = use_curl ? curl_send(r, n, conc, url, post, lat)
			     : raw_send(r, n, conc, port, lat);
	double secs = wt_now_s() - t0;
	getrusage(RUSAGE_SELF, &ru1);
	qsort(lat, n, sizeof(double), cmp_double);
	printf("path=%s client=%s requests=%zu ok=%zu concurrency=%d "
	       "seconds=%.3f rate=%.0f/s p50_ms=%.2f p99_ms=%.2f "
	       "max_ms=%.2f\n",
		path, use_curl ? "curl" : "raw", n, ok, conc, secs,
		(double)n / secs, lat[n / 2] * 1e3,
		lat[(size_t)((double)n * 0.99)] * 1e3, lat[n - 1] * 1e3);
	/* its own share of the two cores, signing (done before) excluded */
	double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
		     (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
		     (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) /
			     1e6 +
		     (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) /
			     1e6;
	printf("load generator CPU while sending: %.0f ms = %.0f us/request\n",
		cpu * 1e3, cpu * 1e6 / (double)n);
	for (size_t i = 0; i < n; i++) {
		free(r[i].body);
		free(r[i].wire);
		curl_slist_free_all(r[i].hdrs);
	}
	free(r);
	free(lat);
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

/* Seconds for n verifications of sig over body; dies if one fails. */
static double time_verify(bool sodium, EVP_PKEY *k, const unsigned char *pk,
	const unsigned char *sig, const char *body, size_t len, size_t n)
{
	double t0 = wt_now_s();
	for (size_t i = 0; i < n; i++) {
		bool ok;
		if (sodium) {
			ok = crypto_sign_verify_detached(sig,
				     (const unsigned char *)body, len, pk) == 0;
		} else {
			EVP_MD_CTX *ctx = EVP_MD_CTX_new();
			ok = ctx &&
			     EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) ==
				     1 &&
			     EVP_DigestVerify(ctx, sig, 64,
				     (const unsigned char *)body, len) == 1;
			EVP_MD_CTX_free(ctx);
		}
		if (!ok)
			wt_die("a valid signature did not verify");
	}
	return wt_now_s() - t0;
}

static int verify_rate(const char *keyfile, size_t n)
{
	if (n == 0)
		wt_die("N must be positive");
	if (sodium_init() < 0)
		wt_die("sodium_init");
	EVP_PKEY *k = load_key(keyfile);
	char *sum = wt_summary_text();
	char *body = wt_call_body("bench-verify", "wh-bench-verify", sum);
	size_t len = strlen(body), pkl = 32, sl = 64;
	unsigned char pk[32], sig[64];
	wt_sign_raw(k, NULL, body, len, sig, &sl);
	if (EVP_PKEY_get_raw_public_key(k, pk, &pkl) != 1 || sl != 64)
		wt_die("not an Ed25519 key");
	double t[2][3];
	for (int r = 0; r < 3; r++)
		for (int e = 0; e < 2; e++)
			t[e][r] = time_verify(e == 0, k, pk, sig, body, len, n);
	for (int e = 0; e < 2; e++) {
		qsort(t[e], 3, sizeof(double), cmp_double);
		printf("ed25519 %s: %.0f verifies/s (%.1f us each), %zu-byte "
		       "body, one core, median of 3 x %zu\n",
			e == 0 ? "libsodium" : "openssl", (double)n / t[e][1],
			t[e][1] * 1e6 / (double)n, len, n);
	}
	free(body);
	free(sum);
	EVP_PKEY_free(k);
	return 0;
}

/* N: a positive decimal count, or 0 (refused by run) */
static size_t count(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' || v > SIZE_MAX / 64
		       ? 0
		       : (size_t)v;
}

int main(int argc, char **argv)
{
	curl_global_init(CURL_GLOBAL_ALL);
	signal(SIGPIPE, SIG_IGN);
	int rc = 2;
	if (argc == 3 && strcmp(argv[1], "keygen") == 0)
		rc = keygen(argv[2]);
	else if (argc >= 3 && strcmp(argv[1], "run") == 0) {
		bool use_curl = strcmp(argv[2], "--curl") == 0;
		int a = use_curl ? 3 : 2;
		if (argc - a == 4 || argc - a == 5)
			rc = run(use_curl, argv[a], atoi(argv[a + 1]),
				count(argv[a + 2]), atoi(argv[a + 3]),
				argc - a == 5 ? argv[a + 4]
					      : "/webhooks/highlevel");
	} else if (argc == 4 && strcmp(argv[1], "fsync") == 0)
		rc = fsync_rate(argv[2], atof(argv[3]));
	else if (argc == 4 && strcmp(argv[1], "verify") == 0)
		rc = verify_rate(argv[2], count(argv[3]));
	if (rc == 2)
		fprintf(stderr,
			"usage: bench_webhook keygen DIR | run [--curl] KEY "
			"PORT N CONCURRENCY [PATH] | fsync DIR "
			"SECONDS | verify KEY N\n");
	curl_global_cleanup();
	return rc;
}
