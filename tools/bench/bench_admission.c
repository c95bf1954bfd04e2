/*
 * bench_admission.c — genuine webhooks at a fixed rate while hostile
 * clients hold connections open (issue 18's admission benchmark).
 *
 *   bench_admission KEY.pem PORT RATE SECONDS none|one|spread N
 *
 * Sends RATE signed VoiceAiCallEnd webhooks a second for SECONDS from
 * 127.0.0.1, each on a connection of its own, on a fixed schedule (open
 * loop: a late answer does not delay the next request, and latency is
 * counted from when the request was due, so a stall shows in full).
 * Meanwhile a thread keeps N hostile connections open: "one" from
 * 127.0.0.2, "spread" each from its own address in 127.1.0.0/16 (all of
 * 127.0.0.0/8 is this host). Each hostile connection sends the headers
 * of a webhook declaring a 1 MiB body under a junk signature, then one
 * byte of body every 8 s; when the server closes it, it reconnects 1 s
 * later. Prints the share of genuine webhooks answered 200 and the
 * latency percentiles; anything else (another status, a closed
 * connection, no answer within 10 s) is a failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "whtest.h"

#define ANSWER_TIMEOUT_S 10.0
/* how a genuine webhook failed */
#define F_CONNECT (-1) /* no connection */
#define F_CLOSED (-2)  /* closed without an answer */
#define F_TIMEOUT (-3) /* no answer in ANSWER_TIMEOUT_S */

/* ---- the hostile connections ---- */

struct hostile {
	int fd; /* -1: closed */
	struct sockaddr_in from;
	double next; /* next drip, or reconnect when closed */
};

static struct {
	int port, n;
	struct hostile *h;
	atomic_bool stop;
	atomic_long connects, closed, open;
} atk;

static const char hostile_head[] =
	"POST /webhooks/highlevel HTTP/1.1\r\nHost: x\r\n"
	"Content-Type: application/json\r\n"
	"x-ghl-signature: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\r\n"
	"Content-Length: 1048576\r\n\r\n{";

static void hostile_connect(int ep, struct hostile *h, double now)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)atk.port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
	    one = 1;
	h->next = now + 1.0;
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&h->from, sizeof(h->from)) != 0 ||
		(connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0 &&
			errno != EINPROGRESS)) {
		close(fd);
		return;
	}
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLRDHUP,
		.data.ptr = h };
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	h->fd = fd;
	h->next = 0; /* headers go out when writable */
	atomic_fetch_add(&atk.connects, 1);
	atomic_fetch_add(&atk.open, 1);
}

static void hostile_close(struct hostile *h, double now)
{
	close(h->fd);
	h->fd = -1;
	h->next = now + 1.0;
	atomic_fetch_add(&atk.closed, 1);
	atomic_fetch_sub(&atk.open, 1);
}

/* A hostile connection became readable or writable. */
static void hostile_event(int ep, struct hostile *h, uint32_t events,
	double now)
{
	char buf[4096];
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		ssize_t r = recv(h->fd, buf, sizeof(buf), 0);
		if (r == 0 || (r < 0 && errno != EAGAIN) || r > 0) {
			/* closed, or answered (and so closed soon) */
			hostile_close(h, now);
			return;
		}
	}
	if ((events & EPOLLOUT) && h->next == 0) {
		if (send(h->fd, hostile_head, sizeof(hostile_head) - 1,
			    MSG_NOSIGNAL) < 0) {
			hostile_close(h, now);
			return;
		}
		h->next = now + 8.0;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP,
			.data.ptr = h };
		epoll_ctl(ep, EPOLL_CTL_MOD, h->fd, &ev);
	}
}

static void *attacker_main(void *arg)
{
	(void)arg;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		wt_die("epoll_create1");
	double now = wt_now_s();
	for (int i = 0; i < atk.n; i++)
		hostile_connect(ep, &atk.h[i], now);
	struct epoll_event evs[256];
	double tick = now;
	while (!atomic_load(&atk.stop)) {
		int k = epoll_wait(ep, evs, 256, 50);
		now = wt_now_s();
		for (int i = 0; i < k; i++)
			hostile_event(ep, evs[i].data.ptr, evs[i].events, now);
		if (now - tick < 0.1)
			continue;
		tick = now;
		for (int i = 0; i < atk.n; i++) {
			struct hostile *h = &atk.h[i];
			if (h->fd < 0 && now >= h->next)
				hostile_connect(ep, h, now);
			else if (h->fd >= 0 && h->next && now >= h->next) {
				send(h->fd, " ", 1, MSG_NOSIGNAL);
				h->next = now + 8.0;
			}
		}
	}
	for (int i = 0; i < atk.n; i++)
		if (atk.h[i].fd >= 0)
			close(atk.h[i].fd);
	close(ep);
	return NULL;
}

static void attack_setup(const char *mode, int n, int port)
{
	atk.port = port;
	atk.n = n;
	atk.h = calloc((size_t)n + 1, sizeof(*atk.h));
	if (!atk.h)
		wt_die("out of memory");
	for (int i = 0; i < n; i++) {
		struct hostile *h = &atk.h[i];
		h->fd = -1;
		h->from.sin_family = AF_INET;
		if (strcmp(mode, "one") == 0)
			h->from.sin_addr.s_addr = htonl(0x7f000002);
		else /* 127.1.x.y, y from 1 to 250 */
			h->from.sin_addr.s_addr = htonl(
				0x7f010000u | (uint32_t)(i / 250) << 8 |
				(uint32_t)(i % 250 + 1));
	}
}

/* ---- the genuine webhooks ---- */

struct genuine {
	char *wire;
	size_t len, sent;
	int fd;
	double due, done;
	int status; /* 0 until answered; < 0 failed (below) */
	char head[64];
	size_t head_len;
};

static void prepare(struct genuine *g, size_t n, EVP_PKEY *k, int port)
{
	char *sum = wt_summary_text(), tag[32];
	snprintf(tag, sizeof(tag), "%ld", (long)time(NULL) ^ (long)getpid());
	for (size_t i = 0; i < n; i++) {
		char id[96];
		snprintf(id, sizeof(id), "adm-%s-%zu", tag, i);
		char *body = wt_call_body(id, id, sum);
		size_t len = strlen(body);
		char *sig = wt_sign(k, NULL, body, len);
		int w = asprintf(&g[i].wire,
			"POST /webhooks/highlevel HTTP/1.1\r\nHost: "
			"127.0.0.1:%d\r\nContent-Type: application/json\r\n"
			"x-ghl-signature: %s\r\nConnection: close\r\n"
			"Content-Length: %zu\r\n\r\n%s",
			port, sig, len, body);
		if (w < 0)
			wt_die("asprintf");
		g[i].len = (size_t)w;
		g[i].fd = -1;
		free(sig);
		free(body);
	}
	free(sum);
}

static void genuine_end(int ep, struct genuine *g, int status, double now)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, g->fd, NULL);
	close(g->fd);
	g->fd = -1;
	g->status = status;
	g->done = now;
}

static void genuine_start(int ep, struct genuine *g, int port, double now)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
	    one = 1;
	if (fd < 0 || (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0 &&
			      errno != EINPROGRESS)) {
		if (fd >= 0)
			close(fd);
		g->status = F_CONNECT;
		g->done = now;
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	g->fd = fd;
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLRDHUP,
		.data.ptr = g };
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void genuine_event(int ep, struct genuine *g, uint32_t events,
	double now)
{
	if ((events & EPOLLOUT) && g->sent < g->len) {
		ssize_t k = send(g->fd, g->wire + g->sent, g->len - g->sent,
			MSG_NOSIGNAL);
		if (k < 0 && errno != EAGAIN) {
			genuine_end(ep, g, g->sent ? F_CLOSED : F_CONNECT, now);
			return;
		}
		if (k > 0)
			g->sent += (size_t)k;
		if (g->sent == g->len) {
			struct epoll_event ev = { .events = EPOLLIN |
							    EPOLLRDHUP,
				.data.ptr = g };
			epoll_ctl(ep, EPOLL_CTL_MOD, g->fd, &ev);
		}
	}
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	size_t room = sizeof(g->head) - 1 - g->head_len;
	ssize_t r = recv(g->fd, g->head + g->head_len, room, 0);
	if (r < 0 && errno == EAGAIN)
		return;
	if (r > 0) {
		g->head_len += (size_t)r;
		g->head[g->head_len] = '\0';
		int st = 0;
		if (strstr(g->head, "\r\n") &&
			sscanf(g->head, "HTTP/1.%*d %d", &st) == 1) {
			genuine_end(ep, g, st, now);
			return;
		}
		if (g->head_len < sizeof(g->head) - 1)
			return;
	}
	/* closed without a status line */
	genuine_end(ep, g, g->sent ? F_CLOSED : F_CONNECT, now);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Send g[0..n) at rate a second; returns when every one has ended. */
static void send_all(struct genuine *g, size_t n, double rate, int port)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		wt_die("epoll_create1");
	double t0 = wt_now_s() + 0.05;
	for (size_t i = 0; i < n; i++)
		g[i].due = t0 + (double)i / rate;
	size_t next = 0, lo = 0; /* every one before lo has ended */
	struct epoll_event evs[256];
	while (lo < n) {
		double now = wt_now_s();
		while (next < n && g[next].due <= now)
			genuine_start(ep, &g[next++], port, now);
		int wait = next < n ? (int)((g[next].due - now) * 1000) : 50;
		int k = epoll_wait(ep, evs, 256, wait < 0 ? 0 : wait);
		now = wt_now_s();
		for (int i = 0; i < k; i++)
			genuine_event(ep, evs[i].data.ptr, evs[i].events, now);
		for (size_t i = lo; i < next; i++)
			if (g[i].fd >= 0 && now - g[i].due > ANSWER_TIMEOUT_S)
				genuine_end(ep, &g[i], F_TIMEOUT, now);
		while (lo < next && g[lo].fd < 0)
			lo++;
	}
	close(ep);
}

static void report(const char *mode, int n_atk, struct genuine *g, size_t n,
	double secs)
{
	double *lat = calloc(n, sizeof(double));
	size_t ok = 0, by[6] = { 0 };
	for (size_t i = 0; i < n; i++) {
		lat[i] = g[i].done - g[i].due;
		if (g[i].status == 200)
			ok++;
		else if (g[i].status == 429)
			by[1]++;
		else if (g[i].status == 401)
			by[2]++;
		else if (g[i].status < 0)
			by[3 - g[i].status - 1]++;
		else
			by[0]++;
	}
	qsort(lat, n, sizeof(double), cmp_double);
	printf("attack=%s hostile=%d genuine=%zu ok=%zu ok_pct=%.2f "
	       "p50_ms=%.1f p99_ms=%.1f max_ms=%.1f status429=%zu "
	       "status401=%zu other=%zu no_connection=%zu closed=%zu "
	       "timeout=%zu seconds=%.1f "
	       "hostile_connects=%ld hostile_closed=%ld hostile_open=%ld\n",
		mode, n_atk, n, ok, 100.0 * (double)ok / (double)n,
		lat[n / 2] * 1e3, lat[(size_t)((double)n * 0.99)] * 1e3,
		lat[n - 1] * 1e3, by[1], by[2], by[0], by[3], by[4], by[5],
		secs, atomic_load(&atk.connects), atomic_load(&atk.closed),
		atomic_load(&atk.open));
	free(lat);
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: bench_admission KEY.pem PORT RATE "
				"SECONDS none|one|spread N\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	int port = atoi(argv[2]), n_atk = atoi(argv[6]);
	double rate = atof(argv[3]), secs = atof(argv[4]);
	const char *mode = argv[5];
	if (port <= 0 || rate <= 0 || secs <= 0 || n_atk < 0 ||
		(strcmp(mode, "none") && strcmp(mode, "one") &&
			strcmp(mode, "spread")))
		wt_die("bad arguments");
	FILE *f = fopen(argv[1], "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (!k)
		wt_die("read private key");
	fclose(f);
	size_t n = (size_t)(rate * secs);
	struct genuine *g = calloc(n, sizeof(*g));
	if (!g)
		wt_die("out of memory");
	prepare(g, n, k, port);
	pthread_t th;
	bool attacking = strcmp(mode, "none") != 0 && n_atk > 0;
	if (attacking) {
		attack_setup(mode, n_atk, port);
		pthread_create(&th, NULL, attacker_main, NULL);
		sleep(3); /* let the attack settle in */
	}
	double t0 = wt_now_s();
	send_all(g, n, rate, port);
	double took = wt_now_s() - t0;
	if (attacking) {
		atomic_store(&atk.stop, true);
		pthread_join(th, NULL);
	}
	report(mode, attacking ? n_atk : 0, g, n, took);
	for (size_t i = 0; i < n; i++)
		free(g[i].wire);
	free(g);
	free(atk.h);
	EVP_PKEY_free(k);
	return 0;
}
