/* quirks.c — see quirks.h */
#include "quirks.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "util.h"

#define HOUR_MS INT64_C(3600000)
#define DAY_MS (24 * HOUR_MS)

const char quirks_help[] =
	"      page-size=N    serve pages of N records whatever is asked\n"
	"      echo=E         the pageSize the answer names: served (default),\n"
	"                     asked, count (records returned), string, example\n"
	"                     (always 10, as the spec's example)\n"
	"      dates=day      the date filter selects whole UTC days\n"
	"      tz=H           the bounds are read as local time H hours from\n"
	"                     UTC (e.g. -5; with dates=day, local days)\n"
	"      sort=ignore    newest first, whatever sortBy/sort say\n"
	"      total=all      total counts every call of the location\n"
	"      agents=A       /voice-ai/agents: scope (401 missing scope), 5xx,\n"
	"                     schema (the spec example's shape: actions\n"
	"                     without id, required fields missing)\n"
	"      odd-values=P   share of calls served with a negative duration,\n"
	"                     a string trialCall and an unknown field\n"
	"      no-created=P   share of calls served without createdAt\n"
	"      rec-none=P     share of calls with a messageId but no recording\n"
	"      rec-late=S     a recording appears S seconds after its call\n"
	"                     ended (or after hlsim started, if later)\n"
	"      rec-rate=R     8000 or 16000 Hz (default: either, by call)\n"
	"      rec-max-s=S    recordings at most S seconds long\n"
	"      rec-s=S        every recording S seconds long (benchmarks)\n"
	"      transcription=none  404 for every transcription\n"
	"                     (POST /__sim/quirk spec=... changes quirks)\n";

static int bad(char **errmsg, const char *name, const char *val)
{
	cv_error(errmsg, CV_EINVAL, "bad value \"%s\" for quirk %s", val, name);
	return -1;
}

static int pick(const char *val, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(val, names[i]))
			return i;
	return -1;
}

/* The recording quirks (tools/hlsim/media.c serves them). */
static int set_media(struct quirks *q, const char *name, const char *val,
	char **errmsg)
{
	char *end;
	double v = strtod(val, &end);
	bool num = *val && !*end && v >= 0;
	if (!strcmp(name, "rec-none") && num && v <= 1)
		q->rec_none = v;
	else if (!strcmp(name, "rec-late") && num && v <= 7 * 86400)
		q->rec_late_ms = (int64_t)(v * 1000);
	else if (!strcmp(name, "rec-rate") && (v == 8000 || v == 16000))
		q->rec_rate = (int)v;
	else if (!strcmp(name, "rec-max-s") && num && v <= 86400)
		q->rec_max_s = (int)v;
	else if (!strcmp(name, "rec-s") && num && v <= 86400)
		q->rec_s = (int)v;
	else if (!strcmp(name, "transcription") && !strcmp(val, "none"))
		q->trans_none = true;
	else if (!strcmp(name, "transcription") && !strcmp(val, "ok"))
		q->trans_none = false;
	else if (!strcmp(name, "rec-none") || !strcmp(name, "rec-late") ||
		 !strcmp(name, "rec-rate") || !strcmp(name, "rec-max-s") ||
		 !strcmp(name, "rec-s") || !strcmp(name, "transcription"))
		return bad(errmsg, name, val);
	else {
		cv_error(errmsg, CV_EINVAL, "unknown quirk \"%s\"", name);
		return -1;
	}
	return 0;
}

static int set_one(struct quirks *q, const char *name, const char *val,
	char **errmsg)
{
	static const char *const echoes[] = { "served", "asked", "count",
		"string", "example" };
	static const char *const agents[] = { "ok", "scope", "5xx", "schema" };
	char *end;
	if (!strcmp(name, "page-size")) {
		long v = strtol(val, &end, 10);
		if (*end || v < 1 || v > 50)
			return bad(errmsg, name, val);
		q->page_size = (int)v;
	} else if (!strcmp(name, "echo")) {
		int k = pick(val, echoes, 5);
		if (k < 0)
			return bad(errmsg, name, val);
		q->echo = (enum quirk_echo)k;
	} else if (!strcmp(name, "dates")) {
		if (strcmp(val, "day"))
			return bad(errmsg, name, val);
		q->date_grain_ms = DAY_MS;
	} else if (!strcmp(name, "tz")) {
		long v = strtol(val, &end, 10);
		if (*end || end == val || v < -14 || v > 14)
			return bad(errmsg, name, val);
		q->tz_offset_ms = v * HOUR_MS;
	} else if (!strcmp(name, "sort")) {
		if (strcmp(val, "ignore"))
			return bad(errmsg, name, val);
		q->ignore_sort = true;
	} else if (!strcmp(name, "total")) {
		if (strcmp(val, "all"))
			return bad(errmsg, name, val);
		q->total_all = true;
	} else if (!strcmp(name, "agents")) {
		int k = pick(val, agents, 4);
		if (k < 0)
			return bad(errmsg, name, val);
		q->agents = (enum quirk_agents)k;
	} else if (!strcmp(name, "odd-values") || !strcmp(name, "no-created")) {
		double v = strtod(val, &end);
		if (*end || end == val || v < 0 || v > 1)
			return bad(errmsg, name, val);
		*(name[0] == 'o' ? &q->odd_values : &q->unidentifiable) = v;
	} else if (!strncmp(name, "rec-", 4) ||
		   !strcmp(name, "transcription")) {
		return set_media(q, name, val, errmsg);
	} else {
		cv_error(errmsg, CV_EINVAL, "unknown quirk \"%s\"", name);
		return -1;
	}
	return 0;
}

int quirks_parse(struct quirks *q, const char *spec, char **errmsg)
{
	memset(q, 0, sizeof(*q));
	if (!spec || !*spec)
		return 0;
	char *copy = xstrdup(spec), *save = NULL;
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok && !rc;
		tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			cv_error(errmsg, CV_EINVAL,
				"quirk \"%s\" needs "
				"name=value",
				tok);
			rc = -1;
			break;
		}
		*eq = '\0';
		rc = set_one(q, tok, eq + 1, errmsg);
	}
	free(copy);
	return rc;
}

static int64_t floor_to(int64_t v, int64_t g)
{
	return v - (((v % g) + g) % g);
}

void quirks_dates(const struct quirks *q, int64_t *lo, int64_t *hi)
{
	/* a bound read as local wall-clock time names the instant that
	 * much earlier or later */
	if (q->date_grain_ms) {
		*lo = floor_to(*lo, q->date_grain_ms);
		*hi = floor_to(*hi, q->date_grain_ms) + q->date_grain_ms - 1;
	}
	*lo -= q->tz_offset_ms;
	*hi -= q->tz_offset_ms;
}

json_t *quirks_echo(const struct quirks *q, int asked, int ps, size_t n)
{
	switch (q->echo) {
	case ECHO_ASKED: return json_integer(asked);
	case ECHO_COUNT: return json_integer((json_int_t)n);
	case ECHO_STRING: {
		char b[16];
		snprintf(b, sizeof(b), "%d", ps);
		return json_string(b);
	}
	case ECHO_EXAMPLE: return json_integer(10);
	case ECHO_SERVED: break;
	}
	return json_integer(ps);
}

/* A stable share of calls by id: the same call is odd on every page. */
static bool chosen(const char *id, double share, uint64_t salt)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325) ^ salt;
	for (const char *p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * UINT64_C(0x100000001b3);
	return (double)(h % 10000) < share * 10000.0;
}

json_t *quirks_call(const struct quirks *q, json_t *call)
{
	const char *id = json_string_value(json_object_get(call, "id"));
	if (id && q->unidentifiable > 0 && chosen(id, q->unidentifiable, 7)) {
		json_t *c = json_deep_copy(call);
		json_object_del(c, "createdAt");
		return c;
	}
	if (q->odd_values <= 0 || !id || !chosen(id, q->odd_values, 0))
		return json_incref(call);
	json_t *c = json_deep_copy(call);
	double d = json_number_value(json_object_get(c, "duration"));
	json_object_set_new(c, "duration", json_real(-1.0 - d));
	json_t *trial = json_object_get(c, "trialCall");
	json_object_set_new(c, "trialCall",
		json_string(json_is_true(trial) ? "true" : "false"));
	json_object_set_new(c, "sentimentScore", json_real(-0.25));
	return c;
}
