/* search_filter.c — see search.h: the filters of a search, export or
 * hold, checked in one place, and times read in a zone. */
#include "search.h"

#include <stdlib.h>
#include <string.h>

#include "calllog.h"
#include "tz.h"
#include "util.h"

const char *const search_filter_keys[SFK_N] = { "from", "to", "tz", "location",
	"agent", "contact", "number", "action", "min_duration", "max_duration",
	"trial" };

/* How long each value may be: ids are CALLLOG_MAX_ID, an agent may be
 * named, times and zones are short. */
static const size_t max_len[SFK_N] = { 64, 64, 64, CALLLOG_MAX_ID,
	CALLLOG_MAX_ID, CALLLOG_MAX_ID, 64, 63, 32, 32, 8 };

void search_filter_init(struct search_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->trial = -1;
}

/* ---- times ---- */

/* Has s (an ISO 8601 date-time) an explicit zone: Z or ±hh[:mm]? */
static bool has_offset(const char *s)
{
	const char *t = strpbrk(s, "Tt ");
	if (!t)
		return false;
	return strpbrk(t, "Zz+-") != NULL;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* search_parse_time with the zone loaded (NULL = UTC). */
static bool parse_time_in(const char *s, const struct tz *z, bool end,
	int64_t *out_ms, char **errmsg)
{
	int64_t ms;
	if (!cv_parse_iso8601(s, &ms)) {
		char *v = cv_term_safe(s, 0);
		cv_error(errmsg, CV_EINVAL,
			"'%s' is not a date; use YYYY-MM-DD or ISO 8601 "
			"(2026-03-02T15:04:05Z)",
			v);
		free(v);
		return false;
	}
	bool date_only = strlen(s) == 10;
	int64_t span = 0; /* how much an inclusive end extends */
	if (end && !date_only) {
		const char *t = strpbrk(s, "Tt ");
		size_t clock = strcspn(t + 1, "Zz+-");
		span = clock <= 5 ? 60000 - 1 : !strchr(t, '.') ? 999 : 0;
	}
	if (end && date_only) {
		ms += 86400000; /* the next midnight, less 1 ms below */
		span = -1;
	}
	if (has_offset(s) || !z) {
		*out_ms = ms + span;
		return true;
	}
	/* without an offset cv_parse_iso8601 read the wall clock as UTC */
	int64_t wall = floor_div(ms, 1000);
	*out_ms = tz_local_to_utc(z, wall) * 1000 + (ms - wall * 1000) + span;
	return true;
}

static enum cv_err load_zone(const char *tz, struct tz **z, char **errmsg)
{
	return tz_open(z, tz, errmsg);
}

bool search_parse_time(const char *s, const char *tz, bool end, int64_t *out_ms,
	char **errmsg)
{
	struct tz *z = NULL;
	int64_t ms;
	/* a bad date is reported before a bad zone */
	if (cv_parse_iso8601(s, &ms) && load_zone(tz, &z, errmsg) != CV_OK)
		return false;
	bool ok = parse_time_in(s, z, end, out_ms, errmsg);
	tz_free(z);
	return ok;
}

/* ---- the filters ---- */

static enum cv_err refuse(char **errmsg, enum search_filter_key k,
	const char *fmt, const char *v)
{
	char *safe = cv_term_safe(v ? v : "", 0);
	char *what = xasprintf(fmt, safe);
	cv_error(errmsg, CV_EINVAL, "%s %s", search_filter_keys[k], what);
	free(what);
	free(safe);
	return CV_EINVAL;
}

/* Check one value's bytes; it goes to sf->given[k]. */
static enum cv_err take(struct search_filters *sf, enum search_filter_key k,
	const struct search_filter_arg *a, char **errmsg)
{
	if (a->len == 0)
		return refuse(errmsg, k, "is empty%s", "");
	if (memchr(a->p, '\0', a->len))
		return refuse(errmsg, k, "holds a NUL byte%s", "");
	if (!cv_utf8_valid(a->p, a->len))
		return refuse(errmsg, k, "is not valid UTF-8%s", "");
	for (size_t i = 0; i < a->len; i++)
		if ((unsigned char)a->p[i] < 0x20 || a->p[i] == 0x7f)
			return refuse(errmsg, k,
				"holds a control "
				"character%s",
				"");
	if (a->len > max_len[k]) {
		char n[24];
		snprintf(n, sizeof(n), "%zu", max_len[k]);
		return refuse(errmsg, k, "is longer than %s bytes", n);
	}
	sf->given[k] = a->p;
	return CV_OK;
}

static bool parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= 0) || v > 1e9)
		return false;
	*out = v;
	return true;
}

static enum cv_err parse_times(struct search_filters *sf, char **errmsg)
{
	struct search_filter *f = &sf->f;
	struct tz *z = NULL;
	char *e = NULL;
	enum cv_err rc = load_zone(sf->given[SFK_TZ], &z, &e);
	if (rc != CV_OK) {
		cv_error(errmsg, rc, "tz: %s", e);
		free(e);
		return rc;
	}
	for (int k = SFK_FROM; k <= SFK_TO && rc == CV_OK; k++) {
		const char *v = sf->given[k];
		int64_t *ms = k == SFK_FROM ? &f->from_ms : &f->to_ms;
		bool *has = k == SFK_FROM ? &f->has_from : &f->has_to;
		if (v && !parse_time_in(v, z, k == SFK_TO, ms, &e))
			rc = cv_error(errmsg, CV_EINVAL, "%s %s",
				search_filter_keys[k], e);
		*has = v && rc == CV_OK;
	}
	free(e);
	tz_free(z);
	if (rc == CV_OK && f->has_from && f->has_to && f->from_ms > f->to_ms)
		rc = cv_error(errmsg, CV_EINVAL, "from is after to");
	return rc;
}

static enum cv_err parse_values(struct search_filters *sf, char **errmsg)
{
	struct search_filter *f = &sf->f;
	const char **g = sf->given;
	f->location = g[SFK_LOCATION];
	f->agent = g[SFK_AGENT];
	f->contact = g[SFK_CONTACT];
	if (g[SFK_NUMBER] && !calllog_e164(g[SFK_NUMBER], f->number_e164))
		return refuse(errmsg, SFK_NUMBER,
			"'%s' is not a phone number "
			"(7 to 15 digits)",
			g[SFK_NUMBER]);
	if (g[SFK_ACTION]) {
		for (size_t i = 0; g[SFK_ACTION][i]; i++) {
			char ch = g[SFK_ACTION][i];
			if (ch >= 'a' && ch <= 'z')
				ch = (char)(ch - 'a' + 'A');
			if (!((ch >= 'A' && ch <= 'Z') || ch == '_' ||
				    (ch >= '0' && ch <= '9')))
				return refuse(errmsg, SFK_ACTION,
					"'%s' is not "
					"an action type (letters, digits "
					"and _)",
					g[SFK_ACTION]);
			sf->action[i] = ch; /* max_len keeps it inside */
		}
		f->action = sf->action;
	}
	for (int k = SFK_MIN_DURATION; k <= SFK_MAX_DURATION; k++) {
		bool min = k == SFK_MIN_DURATION;
		if (!g[k])
			continue;
		if (!parse_seconds(g[k],
			    min ? &f->min_duration : &f->max_duration))
			return refuse(errmsg, k,
				"'%s' is not a number of "
				"seconds",
				g[k]);
		*(min ? &f->has_min_duration : &f->has_max_duration) = true;
	}
	if (f->has_min_duration && f->has_max_duration &&
		f->min_duration > f->max_duration)
		return cv_error(errmsg, CV_EINVAL,
			"min_duration is over max_duration");
	if (g[SFK_TRIAL]) {
		const char *v = g[SFK_TRIAL];
		if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
			f->trial = 1;
		else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
			f->trial = 0;
		else
			return refuse(errmsg, SFK_TRIAL,
				"'%s' must be true "
				"or false",
				v);
	}
	return CV_OK;
}

enum cv_err search_filters_parse(struct search_filters *sf,
	const struct search_filter_arg args[SFK_N], char **errmsg)
{
	memset(sf, 0, sizeof(*sf));
	search_filter_init(&sf->f);
	for (int k = 0; k < SFK_N; k++)
		if (args[k].p && take(sf, k, &args[k], errmsg) != CV_OK)
			return CV_EINVAL;
	enum cv_err rc = parse_values(sf, errmsg);
	return rc == CV_OK ? parse_times(sf, errmsg) : rc;
}
