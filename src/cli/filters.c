/* filters.c — see filters.h */
#include "filters.h"

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

int cli_filters_opt(struct cli_filters *cf, const char *cmd, int c,
	const char *arg)
{
	/* the options in FILTER_OPTIONS' order, then --trial, --no-trial */
	static const enum search_filter_key keys[] = { SFK_FROM, SFK_TO, SFK_TZ,
		SFK_LOCATION, SFK_AGENT, SFK_CONTACT, SFK_NUMBER, SFK_ACTION,
		SFK_MIN_DURATION, SFK_MAX_DURATION };
	int k = c - FILTER_OPT_BASE;
	if (k < 0 || k > 11)
		return 0;
	if (k >= 10)
		arg = k == 10 ? "true" : "false";
	cf->arg[k >= 10 ? SFK_TRIAL : keys[k]] = (struct search_filter_arg){
		arg, strlen(arg)
	};
	return 1;
}

bool cli_filters_finish(struct cli_filters *cf, const char *cmd)
{
	struct search_filters sf;
	char *err = NULL;
	if (search_filters_parse(&sf, cf->arg, &err) != CV_OK) {
		cli_fail(CV_EXIT_USAGE, cmd, "%s", err ? err : "bad filter");
		free(err);
		return false;
	}
	cf->f = sf.f;
	if (sf.f.action) {
		memcpy(cf->action, sf.action, sizeof(cf->action));
		cf->f.action = cf->action;
	}
	return true;
}

int cli_filters_zone(struct cli_filters *cf, struct cli *cli, struct store *s,
	const char *cmd)
{
	const char *given = cf->arg[SFK_TZ].p;
	int code = cli_zone(cli, s, given, cmd);
	if (code || given || !cli->zone)
		return code;
	cf->arg[SFK_TZ] = (struct search_filter_arg){ cli->zone_name,
		strlen(cli->zone_name) };
	return cli_filters_finish(cf, cmd) ? 0 : CV_EXIT_USAGE;
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
	set_str(o, "tz", cf->arg[SFK_TZ].p);
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
