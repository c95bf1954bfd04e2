/* util_time.c — see util.h: clocks, the data files' modes, ISO 8601 */
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

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
