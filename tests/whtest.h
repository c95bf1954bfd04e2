/*
 * whtest.h — helpers for the webhook receiver tests and benchmark: key
 * pairs made with OpenSSL, signing bodies the way HighLevel does, running
 * `callvault serve` as a child on port 0, and speaking HTTP to it with
 * libcurl or a raw socket. Header-only (static functions), test code only.
 */
#ifndef CV_WHTEST_H
#define CV_WHTEST_H

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline void wt_die(const char *what)
{
	fprintf(stderr, "fatal: %s\n", what);
	exit(2);
}

static inline EVP_PKEY *wt_keygen(const char *alg, int rsa_bits)
{
	EVP_PKEY *k = NULL;
	if (rsa_bits)
		k = EVP_RSA_gen((unsigned)rsa_bits);
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, alg);
	if (!k)
		wt_die("keygen");
	return k;
}

static inline void wt_write_pubkey(EVP_PKEY *k, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f || PEM_write_PUBKEY(f, k) != 1)
		wt_die("write public key");
	fclose(f);
}

/* Standard base64 of n bytes, padded (the caller frees it). */
static inline char *wt_b64(const unsigned char *p, size_t n)
{
	char *out = malloc(n * 2 + 8);
	if (!out)
		wt_die("malloc");
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* A signature of body (Ed25519 when md is NULL) into sig[*sl]; *sl is
 * its capacity, then its length. */
static inline void wt_sign_raw(EVP_PKEY *k, const EVP_MD *md, const void *body,
	size_t len, unsigned char *sig, size_t *sl)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestSignInit(ctx, NULL, md, NULL, k) != 1 ||
		EVP_DigestSign(ctx, sig, sl, body, len) != 1)
		wt_die("sign");
	EVP_MD_CTX_free(ctx);
}

/* base64 of a signature of body (Ed25519 when md is NULL). */
static inline char *wt_sign(EVP_PKEY *k, const EVP_MD *md, const void *body,
	size_t len)
{
	unsigned char sig[1024];
	size_t sl = sizeof(sig);
	wt_sign_raw(k, md, body, len, sig, &sl);
	return wt_b64(sig, sl);
}

static inline void wt_hmac_hex(const char *key, const void *body, size_t len,
	char out[65])
{
	unsigned char mac[32];
	unsigned int ml = 0;
	HMAC(EVP_sha256(), key, (int)strlen(key), body, len, mac, &ml);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", mac[i]);
}

/* ~1.2 KB of text, the size of a typical call summary + transcript (the
 * caller frees it). */
static inline char *wt_summary_text(void)
{
	static const char words[] = "caller asked about a roof estimate and "
				    "booked a visit for thursday morning ";
	size_t n = 20 * (sizeof(words) - 1);
	char *s = malloc(n + 1);
	if (!s)
		wt_die("malloc");
	for (size_t i = 0; i < 20; i++)
		memcpy(s + i * (sizeof(words) - 1), words, sizeof(words) - 1);
	s[n] = '\0';
	return s;
}

/* A VoiceAiCallEnd body; webhook_id NULL leaves webhookId out. */
static inline char *wt_call_body(const char *call_id, const char *webhook_id,
	const char *summary)
{
	char wh[200] = "";
	if (webhook_id)
		snprintf(wh, sizeof(wh), "\"webhookId\":\"%s\",", webhook_id);
	size_t n = 2048 + strlen(summary);
	char *b = malloc(n);
	snprintf(b, n,
		"{\"type\":\"VoiceAiCallEnd\",%s\"timestamp\":"
		"\"2026-03-02T15:06:31.412Z\",\"id\":\"%s\",\"locationId\":"
		"\"locA\",\"agentId\":\"agent1\",\"contactId\":\"c1\","
		"\"fromNumber\":\"+15125550143\",\"createdAt\":"
		"\"2026-03-02T15:04:05.123Z\",\"duration\":142,\"summary\":"
		"\"%s\",\"transcript\":\"bot: Thanks for calling Acme "
		"Roofing, how can I help?\\nhuman: I need an estimate for a "
		"leak.\\nbot: I can book that. Does Thursday at 10 work?\\n"
		"human: Yes, Thursday works for me.\",\"messageId\":\"m-%s\","
		"\"trialCall\":false,\"executedCallActions\":[{\"_id\":\"a1\","
		"\"actionType\":\"APPOINTMENT_BOOKING\",\"actionName\":\"Book\","
		"\"executedAt\":\"2026-03-02T15:05:40.000Z\"}]}",
		wh, call_id, summary, call_id);
	return b;
}

/* A fresh directory for one test program: dir (under $TMPDIR, named
 * after prefix), db = dir/store.db created with `callvault init`, and an
 * Ed25519 key whose public half is in edpem = dir/ed.pem. */
static inline EVP_PKEY *wt_fresh_dir(const char *prefix, char dir[256],
	char db[300], char edpem[300])
{
	snprintf(dir, 256, "%s/%s.XXXXXX",
		getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", prefix);
	if (!mkdtemp(dir))
		wt_die("mkdtemp");
	snprintf(db, 300, "%s/store.db", dir);
	snprintf(edpem, 300, "%s/ed.pem", dir);
	EVP_PKEY *k = wt_keygen("ED25519", 0);
	wt_write_pubkey(k, edpem);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' init >/dev/null",
		getenv("CALLVAULT") ? getenv("CALLVAULT") : "callvault", db);
	if (system(cmd) != 0)
		wt_die("callvault init");
	return k;
}

/* Remove what wt_fresh_dir made. */
static inline void wt_remove_dir(const char *dir, EVP_PKEY *k)
{
	char rm[400];
	snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	if (system(rm) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	EVP_PKEY_free(k);
}

/* ---- running the server ---- */

struct wt_server {
	pid_t pid;
	int port;
	char port_file[400];
};

/* Start `$CALLVAULT --db db serve --listen 127.0.0.1:0 --port-file …`
 * plus extra args (NULL-terminated); now (may be NULL) sets CALLVAULT_NOW. */
static inline bool wt_start(struct wt_server *s, const char *dir,
	const char *db, const char *now, const char *const *extra)
{
	static int seq;
	const char *bin = getenv("CALLVAULT");
	if (!bin)
		wt_die("CALLVAULT not set");
	snprintf(s->port_file, sizeof(s->port_file), "%s/port.%d.%d", dir,
		(int)getpid(), seq++);
	unlink(s->port_file);
	const char *argv[64];
	int n = 0;
	argv[n++] = bin;
	argv[n++] = "--db";
	argv[n++] = db;
	argv[n++] = "serve";
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--port-file";
	argv[n++] = s->port_file;
	for (int i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	s->pid = fork();
	if (s->pid == 0) {
		if (now)
			setenv("CALLVAULT_NOW", now, 1);
		else
			unsetenv("CALLVAULT_NOW");
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(s->port_file, "r");
		if (f) {
			int ok = fscanf(f, "%d", &s->port) == 1;
			fclose(f);
			if (ok)
				return true;
		}
		int st;
		if (waitpid(s->pid, &st, WNOHANG) == s->pid)
			return false;
		usleep(10000);
	}
	return false;
}

/* SIGTERM and wait; returns the exit status (-1 if killed by a signal). */
static inline int wt_stop(struct wt_server *s)
{
	int st = 0;
	kill(s->pid, SIGTERM);
	if (waitpid(s->pid, &st, 0) != s->pid)
		return -1;
	unlink(s->port_file);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline void wt_kill9(struct wt_server *s)
{
	int st;
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &st, 0);
	unlink(s->port_file);
}

/* ---- HTTP ---- */

static inline size_t wt_sink(char *p, size_t sz, size_t n, void *arg)
{
	return sz * n;
}

/* POST (or method) body to path with extra header lines; HTTP status, or
 * 0 when there was no answer. handle may be NULL (a fresh one). */
static inline long wt_http(CURL *handle, int port, const char *method,
	const char *path, const void *body, size_t len,
	const char *const *headers)
{
	CURL *h = handle ? handle : curl_easy_init();
	char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	struct curl_slist *hl = NULL;
	for (int i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	if (len <= 65536) /* big bodies wait for 100-continue (or a 413) */
		hl = curl_slist_append(hl, "Expect:");
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
			(curl_off_t)len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, wt_sink);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	long code = 0;
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hl);
	if (!handle)
		curl_easy_cleanup(h);
	return code;
}

/* POST a JSON body signed with the Ed25519 key k. */
static inline long wt_post_signed(CURL *h, int port, EVP_PKEY *k,
	const char *body, size_t len)
{
	char *sig = wt_sign(k, NULL, body, len);
	char hdr[256];
	snprintf(hdr, sizeof(hdr), "x-ghl-signature: %s", sig);
	const char *hs[] = { "Content-Type: application/json", hdr, NULL };
	long code = wt_http(h, port, "POST", "/webhooks/highlevel", body, len,
		hs);
	free(sig);
	return code;
}

static inline int wt_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		wt_die("connect");
	return fd;
}

/* Connect from a chosen loopback address (any of 127.0.0.0/8 is this
 * host's), as a client elsewhere would; -1 when it cannot. */
static inline int wt_connect_from(int port, const char *from)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in a = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0)
		return -1;
	if (inet_pton(AF_INET, from, &src.sin_addr) != 1 ||
		bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
		connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether the server has closed fd (EOF or reset), without reading any
 * answer it may have sent first. */
static inline bool wt_closed(int fd)
{
	char b[512];
	for (;;) {
		ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return true;
		if (r < 0 && errno == EAGAIN)
			return false;
	}
}

/* Read a status line; status, 0 on EOF/reset without one, -1 on timeout. */
static inline int wt_read_status(int fd, int timeout_ms)
{
	char buf[4096];
	size_t n = 0;
	while (n < sizeof(buf) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, timeout_ms) <= 0)
			return -1;
		ssize_t r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
		if (strstr(buf, "\r\n"))
			break;
	}
	buf[n] = '\0';
	int status = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return 0;
	return status;
}

/* Send raw bytes on a fresh connection and read the status. */
static inline int wt_raw(int port, const void *req, size_t len, int timeout_ms)
{
	int fd = wt_connect(port);
	size_t off = 0;
	while (off < len) {
		ssize_t w = send(fd, (const char *)req + off, len - off,
			MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	int st = wt_read_status(fd, timeout_ms);
	close(fd);
	return st;
}

static inline double wt_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
