/* util.c — see util.h */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

/* ---- time ---- */

int64_t cv_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool group_readable;

void cv_set_group_readable(bool on)
{
	group_readable = on;
}

unsigned cv_data_mode(void)
{
	return group_readable ? 0640 : 0600;
}

unsigned cv_data_dir_mode(void)
{
	return group_readable ? 0750 : 0700;
}

int64_t cv_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t cv_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) /
			     365;
	const int64_t yy = (int64_t)yoe + era * 400;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static bool take_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	30, 31 };

bool cv_parse_iso8601(const char *s, int64_t *out_ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
	const char *p = s;
	if (!s || !take_digits(&p, 4, &y) || *p++ != '-' ||
		!take_digits(&p, 2, &mo) || *p++ != '-' ||
		!take_digits(&p, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return false;
	int64_t offset_min = 0;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!take_digits(&p, 2, &h) || *p++ != ':' ||
			!take_digits(&p, 2, &mi))
			return false;
		if (*p == ':') {
			p++;
			if (!take_digits(&p, 2, &sec))
				return false;
			if (*p == '.' || *p == ',') {
				p++;
				int ndig = 0, frac = 0;
				while (*p >= '0' && *p <= '9') {
					if (ndig < 3)
						frac = frac * 10 + (*p - '0');
					ndig++;
					p++;
				}
				if (ndig == 0)
					return false;
				for (int i = ndig; i < 3; i++)
					frac *= 10;
				ms = frac;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return false;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1, oh, om = 0;
			p++;
			if (!take_digits(&p, 2, &oh))
				return false;
			if (*p == ':')
				p++;
			if (*p && !take_digits(&p, 2, &om))
				return false;
			if (oh > 23 || om > 59)
				return false;
			offset_min = sign * (oh * 60 + om);
		} else if (*p != '\0') {
			return false;
		}
	}
	if (*p != '\0')
		return false;
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	int64_t t = ((days * 24 + h) * 60 + mi - offset_min) * 60 + sec;
	*out_ms = t * 1000 + ms;
	return true;
}

void cv_format_iso8601(int64_t ms, char out[32])
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int millis = (int)(ms - secs * 1000);
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t rem = secs - days * 86400;
	int y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999;
	snprintf(out, 32, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", y, m % 100,
		d % 100, (unsigned)(rem / 3600) % 100,
		(unsigned)(rem / 60 % 60), (unsigned)(rem % 60),
		(unsigned)millis % 1000);
}

void cv_format_month(int64_t ms, char out[8])
{
	char full[32];
	cv_format_iso8601(ms, full);
	memcpy(out, full, 7);
	out[7] = '\0';
}

/* Decode the UTF-8 sequence at p (before end) into *cp; its length, or 0
 * when it is not well-formed (overlong, surrogate, past U+10FFFF). */
static size_t utf8_next(const unsigned char *p, const unsigned char *end,
	unsigned *cp)
{
	unsigned c = *p, min;
	size_t len;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		len = 2, min = 0x80, c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3, min = 0x800, c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

void cv_hex(const void *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Each byte's hex value + 1; 0 for a byte that is not a hex digit. */
static const unsigned char hex_value[256] = {
	['0'] = 0 + 1,
	['1'] = 1 + 1,
	['2'] = 2 + 1,
	['3'] = 3 + 1,
	['4'] = 4 + 1,
	['5'] = 5 + 1,
	['6'] = 6 + 1,
	['7'] = 7 + 1,
	['8'] = 8 + 1,
	['9'] = 9 + 1,
	['a'] = 10 + 1,
	['b'] = 11 + 1,
	['c'] = 12 + 1,
	['d'] = 13 + 1,
	['e'] = 14 + 1,
	['f'] = 15 + 1,
	['A'] = 10 + 1,
	['B'] = 11 + 1,
	['C'] = 12 + 1,
	['D'] = 13 + 1,
	['E'] = 14 + 1,
	['F'] = 15 + 1,
};

static bool upper_hex(unsigned char c)
{
	return c >= 'A' && c <= 'F';
}

int cv_hex_digit(char c)
{
	return (int)hex_value[(unsigned char)c] - 1;
}

bool cv_unhex(const char *s, size_t n, unsigned char *out, bool any_case)
{
	/* a table, not a test per range (verify --deep decodes ~25 MB of
	 * manifest digits); a NUL is not a digit, so a short string ends
	 * the loop before its end is passed */
	const unsigned char *h = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		unsigned hi = hex_value[h[2 * i]];
		unsigned lo = hi ? hex_value[h[2 * i + 1]] : 0;
		if (!lo)
			return false;
		if (!any_case &&
			(upper_hex(h[2 * i]) || upper_hex(h[2 * i + 1])))
			return false;
		out[i] = (unsigned char)((hi - 1) << 4 | (lo - 1));
	}
	return true;
}

size_t cv_base64_encode(const void *p, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = p;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)u[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)u[i + 1] << 8;
		if (i + 2 < n)
			v |= u[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

/* The value of c in base64's standard alphabet ('+', '/') or its URL-safe
 * one ('-', '_'); *alphabet records which of the two the input uses (0
 * until a character tells), -1 for neither or a second alphabet. */
static int b64_value(char c, int *alphabet)
{
	int which = 0, v = -1;
	if (c >= 'A' && c <= 'Z')
		v = c - 'A';
	else if (c >= 'a' && c <= 'z')
		v = c - 'a' + 26;
	else if (c >= '0' && c <= '9')
		v = c - '0' + 52;
	else if (c == '+' || c == '/')
		v = c == '+' ? 62 : 63, which = 1;
	else if (c == '-' || c == '_')
		v = c == '-' ? 62 : 63, which = 2;
	if (which && *alphabet && *alphabet != which)
		return -1; /* one alphabet per string */
	if (which)
		*alphabet = which;
	return v;
}

long cv_base64_decode(const char *in, unsigned char *out, size_t cap)
{
	size_t n = strlen(in), o = 0;
	if (n % 4 == 0 && n >= 4 && in[n - 1] == '=')
		n -= in[n - 2] == '=' ? 2 : 1; /* padding: only where due */
	if (n % 4 == 1)
		return -1;
	int alphabet = 0;
	uint32_t acc = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(in[i], &alphabet);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 != 3)
			continue;
		if (o + 3 > cap)
			return -1;
		for (int j = 2; j >= 0; j--)
			out[o++] = (unsigned char)(acc >> (8 * j));
		acc = 0;
	}
	/* a last group of 2 or 3 characters carries 1 or 2 bytes; the bits
	 * left over must be zero, or another string would decode to the
	 * same bytes (a signature is one string, not several) */
	size_t rest = n % 4, take = rest ? rest - 1 : 0;
	unsigned spare = rest == 2 ? 4 : 2;
	if (rest && (acc & ((1u << spare) - 1)) != 0)
		return -1;
	if (o + take > cap)
		return -1;
	acc >>= rest ? spare : 0;
	for (size_t j = take; j > 0; j--)
		out[o++] = (unsigned char)(acc >> (8 * (j - 1)));
	return (long)o;
}

bool cv_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	unsigned cp;
	while (p < end) {
		/* runs of ASCII, 32 bytes at a time (verify --deep reads
		 * hundreds of MB of mostly ASCII JSON) */
		for (uint64_t w[4]; end - p >= 32; p += 32) {
			memcpy(w, p, sizeof(w));
			if ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ull)
				break;
		}
		if (p == end)
			break;
		size_t k = utf8_next(p, end, &cp);
		if (!k)
			return false;
		p += k;
	}
	return true;
}

/* What a terminal would act on rather than show. */
static bool term_active(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) ||
	       (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

void cv_term_safe_append(struct buf *b, const char *s, size_t n, int flags)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		unsigned cp;
		size_t k = utf8_next(p, end, &cp);
		if (!k) {
			buf_printf(b, "\\x%02x", *p++);
			continue;
		}
		if (!term_active(cp) ||
			(cp == '\n' && (flags & CV_SAFE_NEWLINES)))
			buf_append(b, p, k);
		else if (cp == '\t')
			buf_puts(b, "\\t");
		else if (cp == '\n')
			buf_puts(b, "\\n");
		else if (cp < 0x80)
			buf_printf(b, "\\x%02x", cp);
		else
			buf_printf(b, "\\u%04X", cp);
		p += k;
	}
}

char *cv_term_safe(const char *s, int flags)
{
	if (!s)
		return NULL;
	struct buf b;
	buf_init(&b);
	cv_term_safe_append(&b, s, strlen(s), flags);
	return buf_steal(&b);
}

const char *cv_safe(struct cv_safe *k, const char *s)
{
	if (!s)
		return NULL;
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 8;
		k->s = xrealloc(k->s, k->cap * sizeof(*k->s));
	}
	return k->s[k->n++] = cv_term_safe(s, 0);
}

void cv_safe_finish(struct cv_safe *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->s[i]);
	free(k->s);
	memset(k, 0, sizeof(*k));
}

/* ---- sinks ---- */

struct sink {
	int fd; /* -1 for memory sinks */
	char *path, *tmp;
	struct buf mem;
	enum sink_fault fault;
	bool committed, failed;
	uint64_t written, flushed, wb_every; /* sink_set_writeback */
	enum cv_err (*fn)(const void *p, size_t n, void *arg);
	void *arg;
};

enum cv_err sink_open_file(struct sink **out, const char *path, int mode,
	char **errmsg)
{
	struct sink *s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	s->fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (s->fd < 0) {
		enum cv_err e = cv_error(errmsg, CV_EIO, "cannot create %s: %s",
			s->tmp, strerror(errno));
		free(s->tmp);
		s->tmp = NULL;
		sink_destroy(s);
		return e;
	}
	/* umask must not widen or narrow what the caller asked for */
	(void)fchmod(s->fd, (mode_t)mode);
	*out = s;
	return CV_OK;
}

struct sink *sink_open_mem(void)
{
	struct sink *s = xcalloc(1, sizeof(*s));
	s->fd = -1;
	buf_init(&s->mem);
	return s;
}

struct sink *sink_open_fn(enum cv_err (*fn)(const void *p, size_t n, void *arg),
	void *arg)
{
	struct sink *s = sink_open_mem();
	s->fn = fn;
	s->arg = arg;
	return s;
}

void sink_set_fault(struct sink *s, enum sink_fault f)
{
	s->fault = f;
}

void sink_set_writeback(struct sink *s, uint64_t every)
{
	s->wb_every = every;
}

/* Start the disk writing what is written so far (not waiting for it). A
 * failure here only loses the head start: commit's fsync reports. */
static void writeback(struct sink *s)
{
	if (!s->wb_every || s->written - s->flushed < s->wb_every)
		return;
#ifdef SYNC_FILE_RANGE_WRITE
	(void)sync_file_range(s->fd, (off_t)s->flushed,
		(off_t)(s->written - s->flushed), SYNC_FILE_RANGE_WRITE);
#endif
	s->flushed = s->written;
}

enum cv_err sink_write(struct sink *s, const void *p, size_t n)
{
	if (s->failed)
		return CV_EIO;
	if (s->fault == SINK_FAULT_WRITE) {
		s->failed = true;
		errno = EIO;
		return CV_EIO;
	}
	if (s->fn) {
		enum cv_err rc = s->fn(p, n, s->arg);
		s->failed = rc != CV_OK;
		return rc;
	}
	if (s->fd < 0) {
		buf_append(&s->mem, p, n);
		return CV_OK;
	}
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(s->fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			s->failed = true;
			return CV_EIO;
		}
		c += w;
		n -= (size_t)w;
		s->written += (uint64_t)w;
	}
	writeback(s);
	return CV_OK;
}

enum cv_err cv_fsync_dir(const char *dir, char **errmsg)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	enum cv_err rc = CV_OK;
	if (dfd < 0 || fsync(dfd) != 0)
		rc = cv_error(errmsg, CV_EIO, "cannot fsync directory %s: %s",
			dir, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	return rc;
}

static enum cv_err fsync_dir_of(const char *path, char **errmsg)
{
	char *copy = xstrdup(path);
	enum cv_err rc = cv_fsync_dir(dirname(copy), errmsg);
	free(copy);
	return rc;
}

enum cv_err sink_commit(struct sink *s, char **errmsg)
{
	if (s->fd < 0)
		return s->failed ? CV_EIO : CV_OK;
	if (s->failed)
		return cv_error(errmsg, CV_EIO, "write to %s failed", s->tmp);
	if (s->fault == SINK_FAULT_FSYNC || fsync(s->fd) != 0) {
		s->failed = true;
		return cv_error(errmsg, CV_EIO, "fsync of %s failed", s->tmp);
	}
	if (close(s->fd) != 0) {
		s->fd = -2;
		s->failed = true;
		return cv_error(errmsg, CV_EIO, "close of %s failed", s->tmp);
	}
	s->fd = -2;
	if (s->fault == SINK_FAULT_RENAME || rename(s->tmp, s->path) != 0) {
		s->failed = true;
		return cv_error(errmsg, CV_EIO, "cannot rename %s to %s",
			s->tmp, s->path);
	}
	s->committed = true;
	return fsync_dir_of(s->path, errmsg);
}

const struct buf *sink_mem(const struct sink *s)
{
	return &s->mem;
}

void sink_destroy(struct sink *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->tmp && !s->committed)
		unlink(s->tmp);
	free(s->tmp);
	free(s->path);
	buf_finish(&s->mem);
	free(s);
}

enum cv_err cv_write_file_atomic(const char *path, const void *p, size_t n,
	int mode, char **errmsg)
{
	struct sink *s;
	enum cv_err rc = sink_open_file(&s, path, mode, errmsg);
	if (rc != CV_OK)
		return rc;
	rc = sink_write(s, p, n);
	if (rc != CV_OK)
		cv_error(errmsg, rc, "cannot write %s", path);
	else
		rc = sink_commit(s, errmsg);
	sink_destroy(s);
	return rc;
}

enum cv_err cv_read_file(const char *path, size_t max, char **out, size_t *len,
	char **errmsg)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return cv_error(errmsg, CV_EIO, "cannot open %s: %s", path,
			strerror(errno));
	struct buf b;
	buf_init(&b);
	char chunk[65536];
	size_t n;
	enum cv_err rc = CV_OK;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > max) {
			rc = cv_error(errmsg, CV_ETOOBIG,
				"%s is larger than %zu bytes", path, max);
			break;
		}
		buf_append(&b, chunk, n);
	}
	if (rc == CV_OK && ferror(f))
		rc = cv_error(errmsg, CV_EIO, "cannot read %s", path);
	fclose(f);
	if (rc != CV_OK) {
		buf_finish(&b);
		return rc;
	}
	if (len)
		*len = b.len;
	*out = buf_steal(&b);
	return CV_OK;
}

enum cv_err cv_read_secret(const char *path, char **out, char **errmsg)
{
	size_t len;
	char *s;
	enum cv_err rc = cv_read_file(path, 64 * 1024, &s, &len, errmsg);
	if (rc != CV_OK)
		return rc;
	s[strcspn(s, "\r\n")] = '\0';
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = '\0';
	if (len == 0) {
		free(s);
		return cv_error(errmsg, CV_EINVAL, "secret file %s is empty",
			path);
	}
	*out = s;
	return CV_OK;
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
