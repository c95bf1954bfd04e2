/* tz.c — see tz.h. A TZif reader (RFC 8536, versions 1 to 4) and the
 * POSIX TZ rule of its footer, which gives the offsets after the last
 * transition the file lists. */
#include "tz.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define TZ_DIR "/usr/share/zoneinfo/"
#define TZ_MAX_FILE (256 * 1024) /* the largest zone is ~4 KiB */
#define TZ_MAX_TRANS 4000
#define TZ_MAX_TYPES 256

/* One change of a POSIX rule: a day of the year and a time on it. */
struct rule_date {
	char kind;      /* 'J' (1-365, no Feb 29), 'D' (0-365), 'M' */
	int n, m, w, d; /* J/D: n; M: month m, week w, weekday d */
	int32_t time;   /* seconds after local midnight */
};

struct tz {
	size_t n_trans;
	int64_t *trans; /* transition instants, ascending */
	uint8_t *idx;   /* type after each transition */
	size_t n_types;
	int32_t *utoff;           /* each type's offset */
	bool has_rule;            /* the footer's rule, after the last one */
	int32_t std_off, dst_off; /* seconds east */
	bool has_dst;
	struct rule_date start, end;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- the POSIX TZ string (footer) ---- */

static const char *skip_name(const char *p)
{
	if (*p == '<') {
		const char *e = strchr(p, '>');
		return e ? e + 1 : NULL;
	}
	const char *s = p;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] as seconds; hours up to 167 (RFC 8536 extension). */
static const char *parse_hms(const char *p, int32_t *out)
{
	int sign = 1, part[3] = { 0, 0, 0 };
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (int i = 0; i < 3; i++) {
		if (i && *p != ':')
			break;
		if (i)
			p++;
		if (*p < '0' || *p > '9')
			return NULL;
		int v = 0;
		for (int k = 0; *p >= '0' && *p <= '9' && k < 3; k++)
			v = v * 10 + (*p++ - '0');
		part[i] = v;
	}
	if (part[0] > 167 || part[1] > 59 || part[2] > 59)
		return NULL;
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	return p;
}

static const char *parse_num(const char *p, int lo, int hi, int *out)
{
	int v = 0, k = 0;
	for (; *p >= '0' && *p <= '9' && k < 4; k++)
		v = v * 10 + (*p++ - '0');
	if (!k || v < lo || v > hi)
		return NULL;
	*out = v;
	return p;
}

static const char *parse_date(const char *p, struct rule_date *r)
{
	r->time = 2 * 3600;
	if (*p == 'J') {
		r->kind = 'J';
		p = parse_num(p + 1, 1, 365, &r->n);
	} else if (*p == 'M') {
		r->kind = 'M';
		if ((p = parse_num(p + 1, 1, 12, &r->m)) && *p == '.' &&
			(p = parse_num(p + 1, 1, 5, &r->w)) && *p == '.')
			p = parse_num(p + 1, 0, 6, &r->d);
		else
			p = NULL;
	} else {
		r->kind = 'D';
		p = parse_num(p, 0, 365, &r->n);
	}
	if (p && *p == '/')
		p = parse_hms(p + 1, &r->time);
	return p;
}

/* std offset [dst [offset] [,start[/time],end[/time]]] */
static bool parse_rule(struct tz *z, const char *p)
{
	int32_t off;
	if (!(p = skip_name(p)) || !(p = parse_hms(p, &off)))
		return false;
	z->std_off = -off; /* POSIX counts west of Greenwich */
	if (!*p)
		return true;
	if (!(p = skip_name(p)))
		return false;
	z->has_dst = true;
	z->dst_off = z->std_off + 3600;
	if (*p && *p != ',') {
		if (!(p = parse_hms(p, &off)))
			return false;
		z->dst_off = -off;
	}
	/* without dates POSIX leaves the rule to the implementation; TZif
	 * footers always give them */
	return *p == ',' && (p = parse_date(p + 1, &z->start)) && *p == ',' &&
	       (p = parse_date(p + 1, &z->end)) && !*p;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local midnight (as seconds) of rule date r in year y, plus its time. */
static int64_t rule_local(const struct rule_date *r, int64_t y)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	int64_t day;
	if (r->kind == 'J') {
		day = days_from_civil(y, 1, 1) + r->n - 1 +
		      (leap(y) && r->n >= 60);
	} else if (r->kind == 'D') {
		day = days_from_civil(y, 1, 1) + r->n;
	} else {
		int64_t first = days_from_civil(y, r->m, 1);
		int wday = (int)(((first % 7) + 7 + 4) % 7); /* 1970: Thu */
		int mday = 1 + (r->d - wday + 7) % 7 + (r->w - 1) * 7;
		int len = mdays[r->m - 1] + (r->m == 2 && leap(y));
		while (mday > len)
			mday -= 7;
		day = first + mday - 1;
	}
	return day * 86400 + r->time;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int32_t rule_offset(const struct tz *z, int64_t utc)
{
	if (!z->has_dst)
		return z->std_off;
	/* the year by standard time; the days since 1970 → civil year
	 * (within one year is enough: the rule is tried on y-1..y+1) */
	int64_t local = utc + z->std_off;
	int64_t y = 1970 + floor_div(floor_div(local, 86400) * 400, 146097);
	for (int64_t yy = y - 1; yy <= y + 1; yy++) {
		/* the start is in standard time, the end in summer time */
		int64_t s = rule_local(&z->start, yy) - z->std_off;
		int64_t e = rule_local(&z->end, yy) - z->dst_off;
		bool north = s < e;
		if (north && utc >= s && utc < e)
			return z->dst_off;
		if (!north) {
			/* summer time spans the new year: it is on before
			 * e and from s on in year yy */
			int64_t ystart = days_from_civil(yy, 1, 1) * 86400 -
					 z->std_off;
			int64_t yend = days_from_civil(yy + 1, 1, 1) * 86400 -
				       z->std_off;
			if (utc >= ystart && utc < yend)
				return utc < e || utc >= s ? z->dst_off
							   : z->std_off;
		}
	}
	return z->std_off;
}

int32_t tz_offset_at(const struct tz *z, int64_t utc)
{
	if (z->n_trans && utc >= z->trans[z->n_trans - 1] && z->has_rule)
		return rule_offset(z, utc);
	if (!z->n_trans || utc < z->trans[0])
		return z->n_types ? z->utoff[0]
				  : (z->has_rule ? rule_offset(z, utc) : 0);
	size_t lo = 0, hi = z->n_trans; /* last transition <= utc */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= utc)
			lo = mid;
		else
			hi = mid;
	}
	return z->utoff[z->idx[lo]];
}

int64_t tz_local_to_utc(const struct tz *z, int64_t local)
{
	/* offsets are under a day: those a day either side are the only
	 * ones that can apply (zones do not change twice in two days) */
	int32_t before = tz_offset_at(z, local - 86400);
	int32_t after = tz_offset_at(z, local + 86400);
	bool ok_b = tz_offset_at(z, local - before) == before;
	bool ok_a = tz_offset_at(z, local - after) == after;
	if (ok_b && ok_a)
		return local - before < local - after ? local - before
						      : local - after;
	if (ok_a)
		return local - after;
	return local - before; /* valid, or in a gap: the earlier offset */
}

/* ---- the file ---- */

struct hdr {
	char version;
	uint32_t isut, isstd, leap, time, type, chars;
};

static bool read_hdr(const unsigned char *p, size_t n, struct hdr *h)
{
	if (n < 44 || memcmp(p, "TZif", 4) != 0)
		return false;
	h->version = (char)p[4];
	h->isut = be32(p + 20);
	h->isstd = be32(p + 24);
	h->leap = be32(p + 28);
	h->time = be32(p + 32);
	h->type = be32(p + 36);
	h->chars = be32(p + 40);
	return h->time <= TZ_MAX_TRANS && h->type >= 1 &&
	       h->type <= TZ_MAX_TYPES && h->chars <= 1024 && h->leap <= 1000 &&
	       h->isut <= h->type && h->isstd <= h->type;
}

static size_t block_len(const struct hdr *h, size_t tsize)
{
	return h->time * tsize + h->time + h->type * 6 + h->chars +
	       h->leap * (tsize + 4) + h->isstd + h->isut;
}

/* Fill z from the data block at p (times of tsize bytes). */
static bool read_block(struct tz *z, const struct hdr *h,
	const unsigned char *p, size_t tsize)
{
	z->n_trans = h->time;
	z->trans = xcalloc(h->time + 1, sizeof(*z->trans));
	z->idx = xcalloc(h->time + 1, 1);
	z->n_types = h->type;
	z->utoff = xcalloc(h->type, sizeof(*z->utoff));
	for (size_t i = 0; i < h->time; i++) {
		z->trans[i] = tsize == 8 ? be64(p + i * 8)
					 : (int32_t)be32(p + i * 4);
		if (i && z->trans[i] <= z->trans[i - 1])
			return false;
	}
	p += h->time * tsize;
	for (size_t i = 0; i < h->time; i++)
		if ((z->idx[i] = p[i]) >= h->type)
			return false;
	p += h->time;
	for (size_t i = 0; i < h->type; i++) {
		int32_t off = (int32_t)be32(p + i * 6);
		if (off < -25 * 3600 || off > 26 * 3600)
			return false;
		z->utoff[i] = off;
	}
	return true;
}

static bool parse_file(struct tz *z, const unsigned char *p, size_t n)
{
	struct hdr h;
	if (!read_hdr(p, n, &h))
		return false;
	size_t tsize = 4, len = block_len(&h, 4);
	if (h.version >= '2') {
		/* skip the 32-bit data to the 64-bit header and data */
		if (n < 44 + len)
			return false;
		p += 44 + len;
		n -= 44 + len;
		if (!read_hdr(p, n, &h))
			return false;
		tsize = 8;
		len = block_len(&h, 8);
	}
	/* leap-second ("right/") zones count TAI-like seconds: refused */
	if (h.leap || n < 44 + len || !read_block(z, &h, p + 44, tsize))
		return false;
	if (tsize == 4)
		return true;
	const char *foot = (const char *)p + 44 + len;
	size_t fn = n - 44 - len;
	const char *nl = fn > 1 && foot[0] == '\n'
				 ? memchr(foot + 1, '\n', fn - 1)
				 : NULL;
	if (!nl || nl == foot + 1)
		return true; /* no rule: the last type stays in force */
	char *rule = xstrndup(foot + 1, (size_t)(nl - foot - 1));
	z->has_rule = parse_rule(z, rule);
	bool ok = z->has_rule;
	free(rule);
	return ok;
}

static bool name_ok(const char *tz)
{
	if (!*tz || strstr(tz, "..") || tz[0] == '/' || strlen(tz) > 64)
		return false;
	for (const char *c = tz; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
			    (*c >= 'A' && *c <= 'Z') || strchr("_+-/", *c)))
			return false;
	return true;
}

enum cv_err tz_load(struct tz **out, const char *name, char **errmsg)
{
	*out = NULL;
	struct tz *z = xcalloc(1, sizeof(*z));
	if (strcmp(name, "UTC") == 0 || strcmp(name, "Z") == 0) {
		*out = z; /* no transitions, no types: offset 0 */
		return CV_OK;
	}
	if (!name_ok(name)) {
		free(z);
		return cv_error(errmsg, CV_EINVAL, "unknown time zone '%s'",
			name);
	}
	char *path = xasprintf(TZ_DIR "%s", name), *data = NULL, *e = NULL;
	size_t n = 0;
	enum cv_err rc = cv_read_file(path, TZ_MAX_FILE, &data, &n, &e);
	free(path);
	free(e);
	if (rc != CV_OK) {
		tz_free(z);
		return cv_error(errmsg, CV_EINVAL, "unknown time zone '%s'",
			name);
	}
	if (!parse_file(z, (const unsigned char *)data, n)) {
		rc = cv_error(errmsg, CV_EPARSE,
			"time zone '%s': %s%s is not "
			"a TZif file callvault can read",
			name, TZ_DIR, name);
		tz_free(z);
		z = NULL;
	}
	free(data);
	*out = z;
	return rc;
}

void tz_free(struct tz *z)
{
	if (!z)
		return;
	free(z->trans);
	free(z->idx);
	free(z->utoff);
	free(z);
}

enum cv_err tz_open(struct tz **out, const char *name, char **errmsg)
{
	*out = NULL;
	if (!name || strcmp(name, "UTC") == 0 || strcmp(name, "Z") == 0 ||
		strcmp(name, "Etc/UTC") == 0)
		return CV_OK;
	char *e = NULL;
	enum cv_err rc = tz_load(out, name, &e);
	if (rc == CV_EINVAL) {
		char *v = cv_term_safe(name, 0);
		cv_error(errmsg, rc,
			"unknown time zone '%s'; use an IANA name "
			"such as America/New_York, or UTC",
			v);
		free(v);
	} else if (rc != CV_OK) {
		cv_error(errmsg, rc, "%s", e);
	}
	free(e);
	return rc;
}

void tz_format(const struct tz *z, int64_t ms, char out[TZ_TIME_LEN])
{
	char b[32];
	if (!z) {
		cv_format_iso8601(ms, b);
		memcpy(out, b, strlen(b) + 1);
		return;
	}
	int32_t off = tz_offset_at(z, floor_div(ms, 1000));
	cv_format_iso8601(ms + (int64_t)off * 1000, b);
	size_t n = strlen(b) - 1; /* without its Z */
	int32_t a = off < 0 ? -off : off;
	snprintf(out, TZ_TIME_LEN, "%.*s%c%02d:%02d", (int)n, b,
		off < 0 ? '-' : '+', (int)(a / 3600 % 100), (int)(a / 60 % 60));
}
