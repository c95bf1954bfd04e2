/*
 * util.c — see util.h: errors, allocation, the log, the growable buffer
 * and the terminal. Times are in util_time.c, text encodings in
 * util_text.c, sinks and file reads in util_file.c.
 */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static enum cv_log_level log_level = CV_LOG_INFO;

const char *cv_strerror(enum cv_err e)
{
	static const char *const names[] = {
		[CV_OK] = "ok",
		[CV_ENOMEM] = "out of memory",
		[CV_EIO] = "I/O error",
		[CV_EPARSE] = "parse error",
		[CV_EDB] = "database error",
		[CV_EBUSY] = "store busy",
		[CV_EHTTP] = "HTTP error",
		[CV_ETOOBIG] = "too large",
		[CV_EINVAL] = "invalid argument",
		[CV_ENOTFOUND] = "not found",
		[CV_EINTEGRITY] = "integrity failure",
		[CV_EAUTH] = "authentication failed",
		[CV_ELIMIT] = "rate limit reached",
	};
	if ((size_t)e < CV_ARRAY_LEN(names) && names[e])
		return names[e];
	return "unknown error";
}

static void oom(void)
{
	fputs("callvault: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom();
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

enum cv_err cv_error(char **errmsg, enum cv_err err, const char *fmt, ...)
{
	if (errmsg) {
		va_list ap;
		va_start(ap, fmt);
		free(*errmsg);
		*errmsg = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return err;
}

void cv_log_set_level(enum cv_log_level lvl)
{
	log_level = lvl;
}

void cv_log_at(enum cv_log_level lvl, const char *file, int line,
	const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	if (lvl < log_level)
		return;
	char ts[32];
	cv_format_iso8601(cv_now_ms(), ts);
	const char *base = strrchr(file, '/');
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "ts=%s level=%s src=%s:%d %s\n", ts, names[lvl],
		base ? base + 1 : file, line, msg);
	free(msg);
}

/* ---- buf ---- */

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_finish(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static void buf_grow(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	buf_puts(b, s);
	free(s);
}

char *buf_steal(struct buf *b)
{
	char *p = b->data ? b->data : xstrdup("");
	buf_init(b);
	return p;
}

bool cv_stdout_fancy(void)
{
	const char *nc = getenv("NO_COLOR");
	return isatty(STDOUT_FILENO) && !(nc && *nc);
}

int64_t cv_count_of(double d)
{
	const double max = 9007199254740992.0; /* 2^53 */
	if (!(d >= 0))
		return -1;
	return d >= max ? (int64_t)max : (int64_t)d;
}
