/* filters.c — see filters.h */
#include "filters.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calllog.h"
#include "../util.h"
#include "cli.h"


void cli_filters_init(struct cli_filters *cf)
{
	memset(cf, 0, sizeof(*cf));
	search_filter_init(&cf->f);
}

static int bad(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "callvault %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return -1;
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

int cli_filters_opt(struct cli_filters *cf, const char *cmd, int c,
	const char *arg)
{
	struct search_filter *f = &cf->f;
	switch (c - FILTER_OPT_BASE) {
	case 0: cf->from = arg; return 1;
	case 1: cf->to = arg; return 1;
	case 2: cf->tz = arg; return 1;
	case 3: f->location = arg; return 1;
	case 4: f->agent = arg; return 1;
	case 5: f->contact = arg; return 1;
	case 6:
		cf->number = arg;
		if (!calllog_e164(arg, f->number_e164))
			return bad(cmd, "--number '%s' is not a phone number "
					"(7 to 15 digits)", arg);
		return 1;
	case 7:
		if (strlen(arg) >= sizeof(cf->action) || !*arg)
			return bad(cmd, "--action '%s' is not an action type",
				arg);
		for (size_t i = 0; arg[i]; i++)
			cf->action[i] = (char)toupper((unsigned char)arg[i]);
		f->action = cf->action;
		return 1;
	case 8:
		if (!parse_seconds(arg, &f->min_duration))
			return bad(cmd, "--min-duration '%s' is not a number "
					"of seconds", arg);
		f->has_min_duration = true;
		return 1;
	case 9:
		if (!parse_seconds(arg, &f->max_duration))
			return bad(cmd, "--max-duration '%s' is not a number "
					"of seconds", arg);
		f->has_max_duration = true;
		return 1;
	case 10: f->trial = 1; return 1;
	case 11: f->trial = 0; return 1;
	default: return 0;
	}
}

bool cli_filters_finish(struct cli_filters *cf, const char *cmd)
{
	char *err = NULL;
	struct search_filter *f = &cf->f;
	if (cf->from && !(f->has_from = search_parse_time(cf->from, cf->tz,
				  false, &f->from_ms, &err)))
		goto bad;
	if (cf->to && !(f->has_to = search_parse_time(cf->to, cf->tz, true,
				&f->to_ms, &err)))
		goto bad;
	if (!cf->from && !cf->to && cf->tz &&
	    !search_parse_time("2000-01-01", cf->tz, false, &f->from_ms,
		    &err))
		goto bad;
	if (f->has_from && f->has_to && f->from_ms > f->to_ms) {
		cli_fail(CV_EXIT_USAGE, cmd, "--from is after --to");
		return false;
	}
	if (f->has_min_duration && f->has_max_duration &&
	    f->min_duration > f->max_duration) {
		cli_fail(CV_EXIT_USAGE, cmd,
			"--min-duration is over --max-duration");
		return false;
	}
	return true;
bad:
	cli_fail(CV_EXIT_USAGE, cmd, "%s", err ? err : "bad time");
	free(err);
	return false;
}

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

json_t *cli_filters_json(const struct cli_filters *cf)
{
	const struct search_filter *f = &cf->f;
	json_t *o = json_object();
	char ts[32];
	if (f->has_from) {
		cv_format_iso8601(f->from_ms, ts);
		set_str(o, "from", ts);
	}
	if (f->has_to) {
		cv_format_iso8601(f->to_ms, ts);
		set_str(o, "to", ts);
	}
	set_str(o, "tz", cf->tz);
	set_str(o, "location", f->location);
	set_str(o, "agent", f->agent);
	set_str(o, "contact", f->contact);
	if (f->number_e164[0])
		set_str(o, "number", f->number_e164);
	set_str(o, "action", f->action);
	if (f->has_min_duration)
		json_object_set_new(o, "minDuration",
			json_real(f->min_duration));
	if (f->has_max_duration)
		json_object_set_new(o, "maxDuration",
			json_real(f->max_duration));
	if (f->trial >= 0)
		json_object_set_new(o, "trial", json_boolean(f->trial));
	return o;
}
