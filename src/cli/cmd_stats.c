/* cmd_stats.c — `callvault stats [--json]` */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "cli.h"

static json_t *rows_json(const struct store_count_row *r, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, r[i].key, json_integer(r[i].calls));
	return o;
}

static void print_json(const struct store_stats *st)
{
	char first[32] = "", last[32] = "";
	json_t *o = json_object();
	json_object_set_new(o, "calls", json_integer(st->calls));
	json_object_set_new(o, "versions", json_integer(st->versions));
	json_object_set_new(o, "quarantined", json_integer(st->quarantined));
	json_object_set_new(o, "payloads", json_integer(st->payloads));
	json_object_set_new(o, "events", json_integer(st->events));
	if (st->calls > 0) {
		cv_format_iso8601(st->first_created, first);
		cv_format_iso8601(st->last_created, last);
		json_object_set_new(o, "firstCreatedAt", json_string(first));
		json_object_set_new(o, "lastCreatedAt", json_string(last));
	}
	json_object_set_new(o, "byLocation",
		rows_json(st->locations, st->n_locations));
	json_object_set_new(o, "byMonth", rows_json(st->months, st->n_months));
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	json_decref(o);
}

static void print_text(const struct cli *cli, const struct store_stats *st)
{
	printf("calls        %lld\n", (long long)st->calls);
	printf("versions     %lld\n", (long long)st->versions);
	printf("quarantined  %lld\n", (long long)st->quarantined);
	printf("payloads     %lld\n", (long long)st->payloads);
	printf("events       %lld\n", (long long)st->events);
	if (st->calls > 0) {
		char a[TZ_TIME_LEN], b[TZ_TIME_LEN];
		cli_time(cli, st->first_created, a);
		cli_time(cli, st->last_created, b);
		printf("span         %s .. %s (%s)\n", a, b,
			cli_zone_name(cli));
	}
	printf("\nby location\n");
	for (size_t i = 0; i < st->n_locations; i++)
		printf("  %-28s %lld\n", st->locations[i].key,
			(long long)st->locations[i].calls);
	printf("\nby month (UTC months, as archived)\n");
	for (size_t i = 0; i < st->n_months; i++)
		printf("  %-28s %lld\n", st->months[i].key,
			(long long)st->months[i].calls);
}

static int run(struct cli *cli, int argc, char **argv)
{
	bool json;
	int zc;
	struct store *s = cli_open_report(cli, "stats", argc, argv, &json, &zc);
	if (!s)
		return zc;
	struct store_stats st;
	char *err = NULL;
	enum cv_err rc = store_stats(s, &st, &err);
	if (rc == CV_OK) {
		if (json)
			print_json(&st);
		else
			print_text(cli, &st);
	}
	store_stats_finish(&st);
	store_close(s);
	if (rc != CV_OK) {
		int code = cli_fail(CV_EXIT_FAIL, "stats", "%s", err);
		free(err);
		return code;
	}
	return CV_EXIT_OK;
}

const struct cli_cmd cmd_stats = {
	.name = "stats",
	.summary = "totals, and calls per location and per month",
	.help = "usage: callvault [--db PATH] stats [--json] [--tz ZONE]\n"
		"\n"
		"Totals of calls, versions, quarantined inputs, raw payloads "
		"and webhook\nevents; calls per location and per month (UTC "
		"months, by createdAt,\nas archives are cut). The span of "
		"createdAt is shown in --tz ZONE,\nelse the store's zone "
		"(callvault config set timezone), else UTC; JSON\nkeeps "
		"UTC.\n--json prints an object with at least "
		"`calls`, `versions`, `quarantined`.\n",
	.run = run,
};
