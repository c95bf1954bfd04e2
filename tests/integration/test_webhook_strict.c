/*
 * test_webhook_strict.c — `callvault serve` refuses what it cannot read
 * one way only (issue 18 item 9), and takes workflow deliveries by their
 * header secret (issue 17): ambiguous request framing, secrets too short
 * to be secret, the workflow route and its credential forms, and no
 * store error text in any answer.
 */
#include <pthread.h>

#include "store/store.h"
#include "t.h"
#include "util.h"
#include "whtest.h"

static char dir[256], db[300], edpem[300];
static EVP_PKEY *ed;

static void setup(void)
{
	ed = wt_fresh_dir("cvstrict", dir, db, edpem);
}

/* Run `callvault --db DB ARGS` with stdout and stderr into *out (the
 * caller frees it); returns the exit status. */
static int cv_run(char **out, const char *fmt, ...)
{
	char args[1500], cmd[2000];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	/* bounded: a serve that should refuse to start might not */
	snprintf(cmd, sizeof(cmd), "timeout 20 '%s' --db '%s' %s 2>&1",
		getenv("CALLVAULT"), db, args);
	FILE *p = popen(cmd, "r");
	struct buf b;
	buf_init(&b);
	char line[1024];
	while (p && fgets(line, sizeof(line), p))
		buf_puts(&b, line);
	int st = p ? pclose(p) : -1;
	buf_putc(&b, '\0');
	*out = buf_steal(&b);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		wt_die("write file");
}

/* Everything the server sends on one connection until it closes it. */
static char *raw_all(int port, const char *req, size_t len)
{
	int fd = wt_connect(port);
	send(fd, req, len, MSG_NOSIGNAL);
	struct buf b;
	buf_init(&b);
	char chunk[4096];
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 3000) <= 0)
			break;
		ssize_t r = recv(fd, chunk, sizeof(chunk), 0);
		if (r <= 0)
			break;
		buf_append(&b, chunk, (size_t)r);
	}
	close(fd);
	buf_putc(&b, '\0');
	return buf_steal(&b);
}

static int count_answers(const char *all)
{
	int n = 0;
	for (const char *p = all; (p = strstr(p, "HTTP/1.1 ")); p++)
		n++;
	return n;
}

static int status_of(const char *all)
{
	int st = 0;
	return sscanf(all, "HTTP/1.%*d %d", &st) == 1 ? st : 0;
}

/* A signed webhook with the given framing headers and wire body: head,
 * the signature over body, then framing, then wire. */
static char *framed(const char *body, const char *framing, const char *wire)
{
	char *sig = wt_sign(ed, NULL, body, strlen(body));
	char *r = xasprintf("POST /webhooks/highlevel HTTP/1.1\r\nHost: x\r\n"
			    "Content-Type: application/json\r\n"
			    "x-ghl-signature: %s\r\n%s\r\n%s",
		sig, framing, wire);
	free(sig);
	return r;
}

/*
 * Two Content-Lengths that disagree, or one with Transfer-Encoding:
 * libmicrohttpd took the first length, or the chunks, and stored the
 * signed body; a proxy reading it the other way would have sent what
 * follows as a request of its own. Now 400, and the connection closed
 * so nothing after it is read as a request.
 */
static void test_framing(int port)
{
	const char *body = "{\"type\":\"FramingTest\",\"n\":1}";
	char wire[200], fr[200];
	size_t bl = strlen(body);
	snprintf(fr, sizeof(fr),
		"Content-Length: %zu\r\nContent-Length: "
		"%zu\r\n",
		bl, bl + 40);
	char *req = framed(body, fr, body);
	char *all = raw_all(port, req, strlen(req));
	CHECK_MSG(status_of(all) == 400, "two Content-Lengths: %d",
		status_of(all));
	free(req);
	free(all);
	/* chunked, with a request smuggled after its last chunk */
	snprintf(wire, sizeof(wire),
		"%zx\r\n%s\r\n0\r\n\r\n"
		"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
		bl, body);
	snprintf(fr, sizeof(fr),
		"Content-Length: %zu\r\nTransfer-Encoding: "
		"chunked\r\n",
		bl);
	req = framed(body, fr, wire);
	all = raw_all(port, req, strlen(req));
	CHECK_MSG(status_of(all) == 400, "Content-Length and chunked: %d",
		status_of(all));
	CHECK_MSG(count_answers(all) == 1,
		"%d answers on a connection "
		"refused for its framing",
		count_answers(all));
	free(req);
	free(all);
	/* the same length twice says one thing: taken */
	snprintf(fr, sizeof(fr),
		"Content-Length: %zu\r\nContent-Length: "
		"%zu\r\nConnection: close\r\n",
		bl, bl);
	req = framed(body, fr, body);
	all = raw_all(port, req, strlen(req));
	CHECK_MSG(status_of(all) == 200, "one length twice: %d",
		status_of(all));
	free(req);
	free(all);
}

/* Secrets shorter than 32 bytes are refused at start, naming the file. */
static void test_short_secrets(void)
{
	char path[400], *out = NULL;
	snprintf(path, sizeof(path), "%s/short", dir);
	write_file(path, "0123456789abcdef0123456789abcde\n"); /* 31 */
	int st = cv_run(&out,
		"serve --listen 127.0.0.1:0 "
		"--shared-secret-file '%s'",
		path);
	CHECK_INT(st, 2);
	CHECK_MSG(strstr(out, path) && strstr(out, "31 bytes") &&
			  strstr(out, "at least 32"),
		"short shared secret: %s", out);
	free(out);
	write_file(path, "X-Callvault-Secret: 0123456789abcdef\n");
	st = cv_run(&out,
		"serve --listen 127.0.0.1:0 "
		"--header-secret-file '%s'",
		path);
	CHECK_INT(st, 2);
	CHECK_MSG(strstr(out, path) && strstr(out, "at least 32"),
		"short header secret: %s", out);
	free(out);
	write_file(path, "no header here\n");
	st = cv_run(&out,
		"serve --listen 127.0.0.1:0 "
		"--header-secret-file '%s'",
		path);
	CHECK_INT(st, 2);
	CHECK_MSG(strstr(out, "Header-Name: value"), "not a header: %s", out);
	free(out);
}

static long post_workflow(int port, const char *path, const char *body,
	const char *h1, const char *h2)
{
	const char *hs[] = { "Content-Type: application/json", h1, h2, NULL };
	return wt_http(NULL, port, "POST", path, body, strlen(body), hs);
}

/* `callvault show ID --json` mentions want. */
static bool show_json_has(const char *id, const char *want)
{
	char *out = NULL;
	cv_run(&out, "show '%s' --json", id);
	bool has = strstr(out, want) != NULL;
	free(out);
	return has;
}

#define SECRET "s3cret-for-workflows-0123456789abcdef"

/*
 * Workflow Custom Webhook actions send a fixed credential, not a
 * signature: they are taken on their own path, by their header, and
 * stored as authenticated by "header-secret".
 */
static void test_header_secret(void)
{
	static const struct {
		const char *file; /* the file's line */
		const char *good; /* a header that matches it */
		const char *bad;  /* one that does not */
	} forms[] = {
		{ "X-Callvault-Secret: " SECRET, "x-callvault-secret: " SECRET,
			"X-Callvault-Secret: " SECRET "x" },
		{ "Authorization: Bearer " SECRET,
			"Authorization: bearer " SECRET,
			"Authorization: Basic " SECRET },
		/* user:password, sent as its base64 */
		{ "Authorization: Basic callvault:" SECRET,
			"Authorization: Basic Y2FsbHZhdWx0OnMzY3JldC1mb3Itd29y"
			"a2Zsb3dzLTAxMjM0NTY3ODlhYmNkZWY=",
			"Authorization: Basic Y2FsbHZhdWx0OnMzY3JldC1mb3Itd29y"
			"a2Zsb3dzLTAxMjM0NTY3ODlhYmNkZWc=" },
	};
	char path[400];
	snprintf(path, sizeof(path), "%s/header-secret", dir);
	for (size_t i = 0; i < CV_ARRAY_LEN(forms); i++) {
		char line[300], id[32];
		snprintf(line, sizeof(line), "%s\n", forms[i].file);
		write_file(path, line);
		const char *extra[] = { "--public-key", edpem,
			"--header-secret-file", path, NULL };
		struct wt_server s;
		if (!wt_start(&s, dir, db, NULL, extra)) {
			CHECK_MSG(false, "form %zu: serve did not start", i);
			continue;
		}
		snprintf(id, sizeof(id), "wf-call-%zu", i);
		char *b = wt_call_body(id, id, "from a workflow");
		const char *wf = "/webhooks/workflow";
		CHECK_MSG(post_workflow(s.port, wf, b, forms[i].bad, NULL) ==
				  401,
			"form %zu: wrong credential", i);
		CHECK_MSG(post_workflow(s.port, wf, b, NULL, NULL) == 401,
			"form %zu: no credential", i);
		CHECK_MSG(post_workflow(s.port, wf, b, forms[i].good,
				  forms[i].good) == 401,
			"form %zu: credential twice", i);
		/* the signed route does not take it */
		CHECK_MSG(post_workflow(s.port, "/webhooks/highlevel", b,
				  forms[i].good, NULL) == 401,
			"form %zu: on the signed route", i);
		CHECK_MSG(post_workflow(s.port, wf, b, forms[i].good, NULL) ==
				  200,
			"form %zu: right credential", i);
		CHECK_INT(wt_stop(&s), 0);
		CHECK_MSG(show_json_has(id, "\"header-secret\""),
			"form %zu: stored as header-secret", i);
		free(b);
	}
	/* without --header-secret-file there is no such route */
	const char *extra[] = { "--public-key", edpem, NULL };
	struct wt_server s;
	CHECK(wt_start(&s, dir, db, NULL, extra));
	char *b = wt_call_body("wf-none", "wf-none", "no route");
	CHECK_INT(post_workflow(s.port, "/webhooks/workflow", b,
			  "X-Callvault-Secret: " SECRET, NULL),
		404);
	free(b);
	CHECK_INT(wt_stop(&s), 0);
}

static size_t to_buf(char *p, size_t sz, size_t n, void *arg)
{
	buf_append(arg, p, sz * n);
	return sz * n;
}

/*
 * The store's words never reach a client: a hold placed while another
 * process holds the store's write lock used to be answered 400 with
 * SQLite's "database is locked"; now the answer says the request could
 * not be carried out and the log has the detail.
 */
static void test_no_store_text(void)
{
	char path[400], *out = NULL;
	snprintf(path, sizeof(path), "%s/pw", dir);
	write_file(path, "correct+horse+battery+1\n");
	CHECK_INT(cv_run(&out,
			  "user add ha --role hold-admin "
			  "--password-file '%s'",
			  path),
		0);
	free(out);
	CHECK_INT(cv_run(&out, "user token ha"), 0);
	char token[200];
	snprintf(token, sizeof(token), "Authorization: Bearer %.*s",
		(int)strcspn(out, " \r\n"), out);
	free(out);
	const char *extra[] = { "--public-key", edpem, "--console",
		"--busy-timeout", "300", NULL };
	struct wt_server s;
	CHECK(wt_start(&s, dir, db, NULL, extra));
	struct store *lock;
	CHECK(store_open(&lock, db, 0, NULL) == CV_OK);
	CHECK(store_begin(lock, NULL) == CV_OK); /* holds the write lock */
	CURL *h = curl_easy_init();
	char url[200];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/holds", s.port);
	struct curl_slist *hl = curl_slist_append(NULL, token);
	struct buf b;
	buf_init(&b);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS,
		"matter=m1&reason=litigation&call=c-held");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_buf);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	long code = 0;
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	buf_putc(&b, '\0');
	CHECK_MSG(code >= 400, "hold on a locked store: %ld", code);
	CHECK_MSG(!strstr(b.data, "locked") && !strstr(b.data, "SQLITE") &&
			  !strstr(b.data, "store:"),
		"store text in the answer: %s", b.data);
	buf_finish(&b);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	store_rollback(lock);
	store_close(lock);
	CHECK_INT(wt_stop(&s), 0);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	signal(SIGPIPE, SIG_IGN);
	setup();
	const char *extra[] = { "--public-key", edpem, NULL };
	struct wt_server s;
	CHECK(wt_start(&s, dir, db, NULL, extra));
	test_framing(s.port);
	CHECK_INT(wt_stop(&s), 0);
	test_short_secrets();
	test_header_secret();
	test_no_store_text();
	wt_remove_dir(dir, ed);
	curl_global_cleanup();
	return t_done();
}
