/*
 * cmd_reconcile.c — `callvault reconcile`: list what HighLevel holds for
 * each location and day of a period and compare it with the store; the
 * result is printed (or written as JSON) and recorded in the audit log as
 * the evidence that the period is complete.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../store/store_audit.h"
#include "../sync.h"
#include "../util.h"
#include "cli.h"
#include "progress.h"

#define MAX_LOCATIONS 1000
#define DEFAULT_DAYS 30
#define DAY_MS INT64_C(86400000)
/* ids of each kind named in the audit entry (all are counted, and all
 * are in --format json): a wrong store or calls HighLevel itself has
 * dropped can be every call of years, too many for one entry */
#define AUDIT_MAX_IDS 10000

struct args {
	struct sync_opts o;
	const char **locs;
	bool json;
};

static int parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "location", required_argument, NULL, 'l' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "days", required_argument, NULL, 'd' },
		{ "repair", no_argument, NULL, 'R' },
		{ "format", required_argument, NULL, 'F' },
		{ "retries", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	long v, days = DEFAULT_DAYS;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'l':
			if (a->o.n_locations == MAX_LOCATIONS)
				return cli_fail(CV_EXIT_USAGE, "reconcile",
					"too many --location");
			a->locs[a->o.n_locations++] = optarg;
			break;
		case 's':
			if (!cv_parse_iso8601(optarg, &a->o.since_ms) ||
				a->o.since_ms <= 0)
				return cli_fail(CV_EXIT_USAGE, "reconcile",
					"--since needs an ISO 8601 date");
			break;
		case 'u':
			if (!cv_parse_iso8601(optarg, &a->o.until_ms) ||
				a->o.until_ms <= 0)
				return cli_fail(CV_EXIT_USAGE, "reconcile",
					"--until needs an ISO 8601 date");
			break;
		case 'd':
			if (!cli_parse_long(optarg, 1, 366 * 20, &days))
				return cli_fail(CV_EXIT_USAGE, "reconcile",
					"--days needs 1 to 7320");
			break;
		case 'R': a->o.repair = true; break;
		case 'F':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return cli_fail(CV_EXIT_USAGE, "reconcile",
					"--format is text or json");
			a->json = !strcmp(optarg, "json");
			break;
		case 'r':
			if (!cli_parse_long(optarg, 0, 20, &v))
				return cli_fail(CV_EXIT_USAGE, "reconcile",
					"--retries needs 0 to 20");
			a->o.max_retries = (int)v;
			break;
		case 't':
			if (!cli_parse_long(optarg, 1, 3600, &v))
				return cli_fail(CV_EXIT_USAGE, "reconcile",
					"--timeout needs seconds (1 to 3600)");
			a->o.timeout_ms = v * 1000;
			break;
		default: return CV_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_fail(CV_EXIT_USAGE, "reconcile",
			"unexpected "
			"argument '%s'",
			argv[optind]);
	if (!a->o.until_ms)
		a->o.until_ms = cv_now_ms();
	if (!a->o.since_ms)
		a->o.since_ms = a->o.until_ms - days * DAY_MS;
	if (a->o.since_ms >= a->o.until_ms)
		return cli_fail(CV_EXIT_USAGE, "reconcile",
			"--since must be "
			"before --until");
	return CV_EXIT_OK;
}

static json_t *iso(int64_t ms)
{
	char b[32];
	cv_format_iso8601(ms, b);
	return json_string(b);
}

/* The ids of one kind (at most max; all when max is 0). */
static json_t *ids_json(const struct recon *r, enum recon_kind k, size_t max)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < r->n_ids; i++) {
		const struct recon_id *x = &r->ids[i];
		if (x->kind != k || (max && json_array_size(arr) >= max))
			continue;
		json_t *o = json_pack("{s:s,s:o}", "id", x->id, "createdAt",
			iso(x->created_at));
		if (k != RECON_NOT_LISTED)
			json_object_set_new(o, "repaired",
				json_boolean(x->repaired));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *totals_json(const struct recon *r)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "api",
		(json_int_t)r->api, "disposed", (json_int_t)r->disposed,
		"store", (json_int_t)r->store, "missing",
		(json_int_t)r->missing, "differs", (json_int_t)r->differs,
		"notListed", (json_int_t)r->not_listed, "repaired",
		(json_int_t)r->repaired, "outsidePeriod",
		(json_int_t)r->outside, "unidentified",
		(json_int_t)r->unidentified);
}

static json_t *location_json(const struct sync_result *res, bool days,
	size_t max_ids)
{
	const struct recon *r = res->recon;
	json_t *o = json_pack("{s:s,s:o,s:o,s:b}", "location", res->location,
		"since", iso(r->since), "until", iso(r->until), "repair",
		r->repair);
	if (res->error) {
		json_object_set_new(o, "error", json_string(res->error));
		return o;
	}
	json_object_set_new(o, "complete", json_boolean(recon_clean(r)));
	json_object_set_new(o, "totals", totals_json(r));
	if (days) {
		json_t *arr = json_array();
		for (size_t i = 0; i < r->n_days; i++) {
			const struct recon_day *d = &r->days[i];
			char b[32];
			cv_format_iso8601(d->day, b);
			b[10] = '\0';
			json_array_append_new(arr,
				json_pack("{s:s,s:I,s:I,"
					  "s:I,s:I,s:I,s:I}",
					"day", b, "api", (json_int_t)d->api,
					"store", (json_int_t)d->store,
					"missing", (json_int_t)d->missing,
					"differs", (json_int_t)d->differs,
					"notListed", (json_int_t)d->not_listed,
					"disposed", (json_int_t)d->disposed));
		}
		json_object_set_new(o, "days", arr);
	}
	json_object_set_new(o, "missing", ids_json(r, RECON_MISSING, max_ids));
	json_object_set_new(o, "differs", ids_json(r, RECON_DIFFERS, max_ids));
	json_object_set_new(o, "notListed",
		ids_json(r, RECON_NOT_LISTED, max_ids));
	if (max_ids &&
		((size_t)r->missing > max_ids || (size_t)r->differs > max_ids ||
			(size_t)r->not_listed > max_ids))
		json_object_set_new(o, "idsTruncatedAt",
			json_integer((json_int_t)max_ids));
	return o;
}

static void print_text(const struct sync_result *res)
{
	const struct recon *r = res->recon;
	if (res->error) {
		printf("%s: FAILED: %s\n", res->location, res->error);
		return;
	}
	for (size_t i = 0; i < r->n_days; i++) {
		const struct recon_day *d = &r->days[i];
		char b[32];
		cv_format_iso8601(d->day, b);
		b[10] = '\0';
		printf("%s  %s  api %lld  store %lld  missing %lld  differs "
		       "%lld  not-listed %lld  disposed %lld\n",
			res->location, b, (long long)d->api,
			(long long)d->store, (long long)d->missing,
			(long long)d->differs, (long long)d->not_listed,
			(long long)d->disposed);
	}
	for (size_t i = 0; i < r->n_ids; i++) {
		const struct recon_id *x = &r->ids[i];
		char b[32];
		cv_format_iso8601(x->created_at, b);
		printf("%s  %s  %s  %s%s\n", res->location,
			recon_kind_name(x->kind), x->id, b,
			x->repaired ? "  repaired" : "");
	}
	printf("%s: %s: listed %lld, stored %lld, missing %lld, differs "
	       "%lld, not listed by the API %lld, repaired %lld, disposed of "
	       "here %lld, listed without an id or createdAt %lld\n",
		res->location, recon_clean(r) ? "complete" : "INCOMPLETE",
		(long long)r->api, (long long)r->store, (long long)r->missing,
		(long long)r->differs, (long long)r->not_listed,
		(long long)r->repaired, (long long)r->disposed,
		(long long)r->unidentified);
}

/* One audit entry per location: the period, the counts and every id
 * found wanting — the record that the period was checked. */
static enum cv_err audit(struct store *s, const char *actor,
	const struct sync_result *res, char **errmsg)
{
	json_t *o = location_json(res, false, AUDIT_MAX_IDS);
	char *detail = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	int64_t n = res->recon && !res->error ? res->recon->api : -1;
	enum cv_err rc = store_audit_append(s, actor, "reconcile", detail, n,
		errmsg);
	free(detail);
	return rc;
}

static int run(struct cli *cli, int argc, char **argv)
{
	struct args a = { .locs = xcalloc(MAX_LOCATIONS, sizeof(char *)) };
	sync_opts_init(&a.o);
	a.o.reconcile = true;
	int code = parse(argc, argv, &a);
	if (code != CV_EXIT_OK) {
		free(a.locs);
		return code;
	}
	a.o.locations = a.locs;
	struct cli_progress prog = { 0 };
	if (isatty(STDERR_FILENO)) {
		a.o.progress = cli_sync_progress;
		a.o.progress_ctx = &prog;
	}
	struct store *s = cli_open_store(cli, "reconcile", STORE_NOCREATE);
	if (!s) {
		free(a.locs);
		return CV_EXIT_FAIL;
	}
	struct sync_result *res = NULL;
	size_t n = 0;
	char *err = NULL;
	enum cv_err rc = sync_run(s, &a.o, &res, &n, &err);
	if (rc != CV_OK) {
		code = cli_fail(cli_exit_for(rc), "reconcile", "%s",
			err ? err : cv_strerror(rc));
		goto out;
	}
	/* audited before anything is shown */
	for (size_t i = 0; i < n && rc == CV_OK; i++)
		rc = audit(s, cli->actor, &res[i], &err);
	if (rc != CV_OK) {
		code = cli_fail(CV_EXIT_FAIL, "reconcile", "audit log: %s",
			err);
		goto out;
	}
	json_t *all = a.json ? json_array() : NULL;
	size_t failed = 0, wanting = 0;
	for (size_t i = 0; i < n; i++) {
		failed += res[i].error != NULL;
		wanting += !res[i].error && !recon_clean(res[i].recon);
		if (all)
			json_array_append_new(all,
				location_json(&res[i], true, 0));
		else
			print_text(&res[i]);
	}
	if (all) {
		json_t *top = json_pack("{s:o}", "locations", all);
		json_dumpf(top, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(top);
	}
	code = failed ? CV_EXIT_FAIL : wanting ? CV_EXIT_INTEGRITY : CV_EXIT_OK;
	if (failed)
		fprintf(stderr,
			"callvault reconcile: %zu of %zu locations "
			"could not be listed\n",
			failed, n);
	else if (wanting)
		fprintf(stderr,
			"callvault reconcile: calls are missing or "
			"differ in %zu of %zu locations (--repair "
			"fetches them)\n",
			wanting, n);
out:
	sync_results_free(res, n);
	free(err);
	free(a.locs);
	store_close(s);
	return code;
}

const struct cli_cmd cmd_reconcile = {
	.name = "reconcile",
	.summary = "prove a period complete against what the API lists",
	.help = "usage: callvault reconcile [--location LOC]… [--since DATE] "
		"[--until DATE]\n"
		"                           [--days N] [--repair] "
		"[--format text|json]\n"
		"                           [--retries N] [--timeout SECS]\n"
		"\n"
		"For each location (default: every one), list every call "
		"HighLevel holds in\nthe period (ids and createdAt, paged "
		"within the rate limits as sync pages)\nand compare with the "
		"store, day by day (UTC): calls the store is missing,\ncalls "
		"whose API copy differs from the stored current version, and "
		"calls\nthe store holds that the API no longer lists "
		"(HighLevel's own retention, or\na deletion there: reported, "
		"never a failure). Late calls (a createdAt\nolder than sync's "
		"overlap) are found here. The result is recorded in the\n"
		"audit log with every id found wanting.\n"
		"\n"
		"  --location LOC  only LOC (repeatable)\n"
		"  --since DATE    period start (ISO 8601); default: --days "
		"before --until\n"
		"  --until DATE    period end (default: now)\n"
		"  --days N        the default period's length (default 30)\n"
		"  --repair        store the missing and different calls "
		"(from the listing:\n"
		"                  no extra requests)\n"
		"  --format F      text (default: a line per day and per id "
		"found wanting,\n"
		"                  then a summary) or json\n"
		"  --retries N, --timeout SECS  as for sync\n"
		"\nExit 0 when every listed call is stored as listed (after "
		"--repair), 3 when\nsome are missing or differ, 1 when a "
		"location could not be listed, 2 on\nusage errors.\n",
	.run = run,
};
