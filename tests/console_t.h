/*
 * console_t.h — the console tests' HTTP client (libcurl over loopback):
 * one request with its status, body, cookie and headers; log in; run the
 * CLI on the test's store. Static functions and the program's bin, dir,
 * db and port: include it once per program.
 */
#ifndef CV_CONSOLE_T_H
#define CV_CONSOLE_T_H

#include <pthread.h>
#include <stdarg.h>
#include <strings.h>

#include "common.h"
#include "store/store.h"
#include "t.h"
#include "whtest.h"

static const char *bin;
static char dir[256], db[300];
static int port;

struct resp {
	long status;
	char body[1 << 18]; /* an audit page of 200 entries fits */
	size_t len;
	char cookie[128];     /* the cv_session value set, "" when none */
	bool secure, cleared; /* Set-Cookie had Secure / Max-Age=0 */
	char ctype[128];
	long retry_after; /* Retry-After, -1 when absent */
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t k = sz * n;
	if (r->len + k >= sizeof(r->body))
		k = sizeof(r->body) - 1 - r->len;
	memcpy(r->body + r->len, p, k);
	r->len += k;
	r->body[r->len] = '\0';
	return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t k = sz * n;
	char line[1024];
	snprintf(line, sizeof(line), "%.*s", (int)(k < 1023 ? k : 1023), p);
	if (strncasecmp(line, "Set-Cookie: cv_session=", 23) == 0) {
		size_t v = strcspn(line + 23, ";\r\n");
		snprintf(r->cookie, sizeof(r->cookie), "%.*s", (int)v,
			line + 23);
		r->secure = strstr(line, "; Secure") != NULL;
		r->cleared = strstr(line, "Max-Age=0") != NULL;
	}
	if (strncasecmp(line, "Retry-After: ", 13) == 0)
		r->retry_after = atol(line + 13);
	if (strncasecmp(line, "Content-Type: ", 14) == 0)
		snprintf(r->ctype, sizeof(r->ctype), "%.*s",
			(int)strcspn(line + 14, "\r\n"), line + 14);
	return k;
}

/* One request. cookie/csrf may be NULL; extra header lines end in NULL. */
static long req(struct resp *r, const char *method, const char *path,
	const char *body, const char *cookie, const char *csrf, ...)
{
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
	CURL *h = curl_easy_init();
	char url[1024], hdr[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	struct curl_slist *hl = NULL;
	if (csrf) {
		snprintf(hdr, sizeof(hdr), "X-CSRF-Token: %s", csrf);
		hl = curl_slist_append(hl, hdr);
	}
	va_list ap;
	va_start(ap, csrf);
	for (const char *e; (e = va_arg(ap, const char *));)
		hl = curl_slist_append(hl, e);
	va_end(ap);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	if (cookie) {
		snprintf(hdr, sizeof(hdr), "cv_session=%s", cookie);
		curl_easy_setopt(h, CURLOPT_COOKIE, hdr);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	return r->status;
}

static long get(struct resp *r, const char *path, const char *cookie)
{
	return req(r, "GET", path, NULL, cookie, NULL, NULL);
}

struct session {
	char cookie[128], csrf[128];
};

/* Log in; returns the status and fills s on 200. */
static long login(const char *user, const char *pw, struct session *s)
{
	struct resp r;
	char body[256];
	snprintf(body, sizeof(body), "user=%s&password=%s", user, pw);
	req(&r, "POST", "/login", body, NULL, NULL, NULL);
	if (r.status == 200 && s) {
		snprintf(s->cookie, sizeof(s->cookie), "%s", r.cookie);
		const char *c = strstr(r.body, "\"csrf\":\"");
		snprintf(s->csrf, sizeof(s->csrf), "%.64s", c ? c + 8 : "");
	}
	return r.status;
}

static int cv(const char *fmt, ...)
{
	char cmd[4096], args[1800];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' %s", bin, db, args);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A fresh store in a temporary directory (dir, db), with the password
 * "correct horse 1" in *pwfile* for `user add --password-file`; exits 2
 * without $CALLVAULT. */
static char pwfile[400];

static inline void ct_begin(const char *prog)
{
	bin = getenv("CALLVAULT");
	if (!bin) {
		fprintf(stderr, "usage: CALLVAULT=bin %s\n", prog);
		exit(2);
	}
	snprintf(dir, sizeof(dir), "/tmp/cv%s.XXXXXX", prog);
	if (!mkdtemp(dir))
		wt_die("mkdtemp");
	snprintf(db, sizeof(db), "%s/db", dir);
	snprintf(pwfile, sizeof(pwfile), "%s/pw", dir);
	FILE *f = fopen(pwfile, "w");
	if (!f)
		wt_die("password file");
	fputs("correct horse 1\n", f);
	fclose(f);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CHECK(cv("init >/dev/null") == 0);
}

/* The chain still verifies; the directory removed; the exit status. */
static inline int ct_end(void)
{
	CHECK(cv("audit --verify >/dev/null") == 0);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	curl_global_cleanup();
	return t_done();
}

#endif
