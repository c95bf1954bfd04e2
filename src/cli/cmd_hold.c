/* cmd_hold.c — `callvault hold add|list|show|release`: legal holds */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../search.h"
#include "../store/store_holds.h"
#include "../store/store_storage.h"
#include "../util.h"
#include "cli.h"
#include "filters.h"
#ifndef CV_LEAN
#include "storage.h"
#endif

/* A query hold's filters, one "key=value" line each (a location may
 * come several times). */
static void print_filters(struct cv_safe *k, const char *text)
{
	struct search_filter_arg a[SFK_N];
	char *copy = NULL;
	if (!store_hold_filters_args(text, a, &copy)) {
		printf("  filters   (damaged)\n");
		free(copy);
		return;
	}
	free(copy);
	for (const char *l = text; l && *l;) {
		size_t n = strcspn(l, "\n"), kl = strcspn(l, "=");
		char *key = xasprintf("%.*s", (int)kl, l);
		char *val = xasprintf("%.*s", (int)(n - kl - 1), l + kl + 1);
		printf("  %-9s %s\n", key, cv_safe(k, val));
		free(key);
		free(val);
		l += n + (l[n] != '\0');
	}
}

/* Stored text (matter, reason, names, ids) is printed through cv_safe:
 * a terminal shows its control characters instead of obeying them. */
static void print_hold(const struct cli *cli, const struct store_hold *h,
	int64_t matched)
{
	char ts[TZ_TIME_LEN];
	struct cv_safe k = { 0 };
	cli_time(cli, h->created_at, ts);
	printf("hold #%lld  matter: %s  %s\n", (long long)h->id,
		cv_safe(&k, h->matter ? h->matter : ""),
		h->released_at ? "RELEASED" : "active");
	printf("  placed %s by %s%s%s\n", ts,
		cv_safe(&k, h->created_by ? h->created_by : ""),
		h->reason ? "; reason: " : "",
		h->reason ? cv_safe(&k, h->reason) : "");
	for (size_t i = 0; i < h->n_calls; i++)
		printf("  call      %s\n", cv_safe(&k, h->call_ids[i]));
	const char *lbl[] = { "contact", "number", "agent", "location" };
	const char *val[] = { h->contact_id, h->from_e164, h->agent_id,
		h->location_id };
	for (int i = 0; i < 4; i++)
		if (val[i])
			printf("  %-9s %s\n", lbl[i], cv_safe(&k, val[i]));
	if (h->has_from) {
		cli_time(cli, h->from_ms, ts);
		printf("  from      %s\n", ts);
	}
	if (h->has_to) {
		cli_time(cli, h->to_ms, ts);
		printf("  before    %s\n", ts);
	}
	if (h->query) {
		printf("  query     %s\n",
			cv_safe(&k, *h->query ? h->query
					      : "(none: filters "
						"only)"));
		print_filters(&k, h->query_filters);
	}
	if (h->chosen_by)
		printf("  chosen by the search %s\n",
			cv_safe(&k, h->chosen_by));
	if (h->released_at) {
		cli_time(cli, h->released_at, ts);
		printf("  released %s by %s: %s\n", ts,
			cv_safe(&k, h->released_by ? h->released_by : ""),
			cv_safe(&k,
				h->release_reason ? h->release_reason : ""));
	}
	printf("  covers %lld stored call(s) now\n", (long long)matched);
	cv_safe_finish(&k);
}

static int list_cb(const struct store_hold *h, int64_t matched, void *arg)
{
	print_hold(arg, h, matched);
	return 0;
}

static int call_cb(const char *id, void *arg)
{
	char *safe = cv_term_safe(id, 0);
	printf("  held call %s\n", safe);
	free(safe);
	return 0;
}

/* Which filters the stored criteria of a hold by criteria hold: the
 * others (action, durations, trial) only a query hold can keep. */
static bool criteria_only(const struct cli_filters *cf)
{
	static const enum search_filter_key q_only[] = { SFK_ACTION,
		SFK_MIN_DURATION, SFK_MAX_DURATION, SFK_TRIAL };
	for (size_t i = 0; i < CV_ARRAY_LEN(q_only); i++)
		if (cf->arg[q_only[i]].p) {
			cli_fail(CV_EXIT_USAGE, "hold add",
				"--%s needs "
				"--query (a hold by criteria cannot keep it)",
				search_filter_keys[q_only[i]]);
			return false;
		}
	return true;
}

/*
 * The hold's criteria, checked by the parsers search, export and the
 * console use; false after printing the message (exit 2). With --query
 * the hold keeps the query and the filters as given, evaluated whenever
 * holds are (store_holds_evaluate); without, the filters become the
 * stored criteria (--to inclusive: a bare date is that whole day).
 */
/* Check the filters with each of several --location values in turn. */
static bool check_filters(struct cli_filters *cf, const char *const *locs,
	size_t n, struct search_filters *sf)
{
	char *err = NULL;
	for (size_t i = 0; i < (n ? n : 1); i++) {
		if (n)
			cf->arg[SFK_LOCATION] = (struct search_filter_arg){
				locs[i], strlen(locs[i])
			};
		if (search_filters_parse(sf, cf->arg, &err) != CV_OK) {
			cli_fail(CV_EXIT_USAGE, "hold add", "%s",
				err ? err : "bad criterion");
			free(err);
			return false;
		}
	}
	return true;
}

static bool criteria(struct store_hold *h, struct cli_filters *cf,
	const char *const *locs, size_t n_locs, char **filters)
{
	struct search_filters sf;
	if (n_locs > 1 && !h->query) {
		cli_fail(CV_EXIT_USAGE, "hold add",
			"several --location need "
			"--query");
		return false;
	}
	if (n_locs > STORE_HOLD_MAX_LOCATIONS) {
		cli_fail(CV_EXIT_USAGE, "hold add", "at most %d --location",
			STORE_HOLD_MAX_LOCATIONS);
		return false;
	}
	if (!check_filters(cf, locs, n_locs, &sf))
		return false;
	char *err = NULL;
	if (!h->query) {
		cf->f = sf.f;
		store_hold_criteria(h, &cf->f);
		return criteria_only(cf);
	}
	if (h->n_calls) {
		cli_fail(CV_EXIT_USAGE, "hold add",
			"--call and --query: a "
			"query hold holds what its "
			"search matches");
		return false;
	}
	struct search_plan plan;
	int pos = 0;
	if (search_parse(h->query, &plan, &pos, &err) != CV_OK) {
		cli_fail(CV_EXIT_USAGE, "hold add",
			"--query: %s (at "
			"character %d)",
			err ? err : "bad query", pos);
		free(err);
		return false;
	}
	search_plan_finish(&plan);
	/* the filters as given, with one line per location */
	sf.given[SFK_LOCATION] = NULL;
	struct buf b;
	buf_init(&b);
	char *base = store_hold_filters_text(sf.given);
	buf_puts(&b, base);
	free(base);
	*filters = store_hold_filters_more(&b, locs, n_locs);
	h->query_filters = *filters;
	return true;
}

#ifdef CV_LEAN
/* Whether the store has an S3 target with archives or recordings in
 * it: their legal holds follow the holds. */
static bool has_remote(struct store *s)
{
	struct store_storage *v = NULL;
	size_t n = 0;
	bool any = false;
	if (store_storage_list(s, &v, &n, NULL) == CV_OK)
		for (size_t i = 0; i < n && !any; i++) {
			int64_t a = 0, b = 0;
			any = store_remote_count(s, v[i].name, &a, &b, NULL) ==
				      CV_OK &&
			      a + b > 0;
		}
	store_storages_free(v, n);
	return any;
}
#endif

/* The hold changed: set the S3 legal holds of the archives and
 * recordings in each target as the holds now require (callvault-full
 * only: `callvault` hands add and release over when has_remote). A
 * target that cannot be reached is named, the change stays made, and
 * the exit is not 0: `storage holds` sets them later. */
static int sync_storage(struct store *s, const char *cmd)
{
#ifdef CV_LEAN
	(void)s;
	(void)cmd;
	return CV_EXIT_OK;
#else
	struct store_storage *v = NULL;
	size_t n = 0;
	char *err = NULL;
	int code = CV_EXIT_OK;
	enum cv_err rc = store_storage_list(s, &v, &n, &err);
	for (size_t i = 0; i < n && rc == CV_OK; i++) {
		int64_t a = 0, b = 0;
		rc = store_remote_count(s, v[i].name, &a, &b, &err);
		if (rc != CV_OK || a + b == 0)
			continue;
		enum cv_err r = storage_mirror_holds(s, v[i].name, stdout,
			&err);
		if (r == CV_OK)
			continue;
		code = cli_fail(cli_exit_for(r), cmd,
			"the hold change is "
			"made, but the S3 legal holds in %s could not be set: "
			"%s; run `callvault storage holds %s` when it can be "
			"reached",
			v[i].name, err ? err : cv_strerror(r), v[i].name);
		free(err);
		err = NULL;
	}
	if (rc != CV_OK)
		code = cli_fail(cli_exit_for(rc), cmd, "%s",
			err ? err : cv_strerror(rc));
	free(err);
	store_storages_free(v, n);
	return code;
#endif
}

static int add(struct cli *cli, struct store *s, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "matter", required_argument, NULL, 'm' },
		{ "call", required_argument, NULL, 'c' },
		{ "reason", required_argument, NULL, 'r' },
		{ "query", required_argument, NULL, 'q' },
		FILTER_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct store_hold h = { 0 };
	struct cli_filters cf;
	char *filters = NULL;
	const char **calls = xcalloc((size_t)argc, sizeof(*calls));
	const char **locs = xcalloc((size_t)argc, sizeof(*locs));
	size_t n_locs = 0;
	int c, code = CV_EXIT_USAGE;
	cli_filters_init(&cf);
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'm')
			h.matter = optarg;
		else if (c == 'c')
			calls[h.n_calls++] = optarg;
		else if (c == 'r')
			h.reason = optarg;
		else if (c == 'q')
			h.query = optarg;
		else if (c == FILTER_OPT_BASE + 3) /* --location, repeatable */
			locs[n_locs++] = optarg;
		else if (!cli_filters_opt(&cf, "hold add", c, optarg))
			goto out;
	}
	/* times without an offset are read in --tz, else the store's zone
	 * (a query hold keeps the zone with its filters) */
	if (cli->zone && !cf.arg[SFK_TZ].p)
		cf.arg[SFK_TZ] = (struct search_filter_arg){ cli->zone_name,
			strlen(cli->zone_name) };
	if (!criteria(&h, &cf, locs, n_locs, &filters))
		goto out;
	h.call_ids = calls;
	int64_t id;
	char *err = NULL;
	enum cv_err rc = optind != argc
				 ? cv_error(&err, CV_EINVAL,
					   "unexpected operand %s",
					   argv[optind])
				 : store_hold_add(s, &h, cli->actor, &id, &err);
	if (rc != CV_OK) {
		code = cli_fail(cli_exit_for(rc), "hold add", "%s",
			err ? err : cv_strerror(rc));
		free(err);
		goto out;
	}
	char *matter = cv_term_safe(h.matter, 0);
	printf("hold #%lld placed (matter: %s)\n", (long long)id, matter);
	free(matter);
	code = sync_storage(s, "hold add");
out:
	free(filters);
	free(locs);
	free(calls);
	return code;
}

static int release(struct cli *cli, struct store *s, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *reason = NULL;
	int c;
	long id;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c != 'r')
			return CV_EXIT_USAGE;
		reason = optarg;
	}
	if (optind + 1 != argc ||
		!cli_parse_long(argv[optind], 1, 0x7fffffffL, &id))
		return cli_fail(CV_EXIT_USAGE, "hold release",
			"name one hold ID");
	if (!reason || !*reason)
		return cli_fail(CV_EXIT_USAGE, "hold release",
			"give --reason "
			"TEXT: why the hold ends (kept on the hold and in the "
			"audit log)");
	char *err = NULL;
	enum cv_err rc = store_hold_release(s, id, cli->actor, reason, &err);
	if (rc != CV_OK) {
		int code = cli_fail(cli_exit_for(rc), "hold release", "%s",
			err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	printf("hold #%ld released\n", id);
	return sync_storage(s, "hold release");
}

static int show(struct cli *cli, struct store *s, int argc, char **argv,
	bool list)
{
	long id = 0;
	if (!list &&
		(argc != 2 || !cli_parse_long(argv[1], 1, 0x7fffffffL, &id)))
		return cli_fail(CV_EXIT_USAGE, "hold show", "name one hold ID");
	bool all = list && argc > 1 && !strcmp(argv[1], "--all");
	char *err = NULL;
	/* query holds: what their searches match now */
	if (list)
		printf("times in %s\n", cli_zone_name(cli));
	enum cv_err rc = store_holds_evaluate(s, &err);
	if (rc == CV_OK)
		rc = store_hold_each(s, list && !all, id, list_cb, cli, &err);
	if (rc == CV_OK && !list)
		rc = store_hold_each_call(s, id, call_cb, NULL, &err);
	if (rc != CV_OK) {
		int code = cli_fail(cli_exit_for(rc), "hold", "%s",
			err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	return CV_EXIT_OK;
}

static int run(struct cli *cli, int argc, char **argv)
{
	const char *tz = cli_take_tz(&argc, argv);
	if (tz && !*tz)
		return cli_fail(CV_EXIT_USAGE, "hold", "--tz needs a zone");
	if (argc < 2)
		return cli_fail(CV_EXIT_USAGE, "hold",
			"add, list, show or release (see --help)");
	const char *sub = argv[1];
	bool known = !strcmp(sub, "add") || !strcmp(sub, "list") ||
		     !strcmp(sub, "show") || !strcmp(sub, "release");
	if (!known)
		return cli_fail(CV_EXIT_USAGE, "hold", "unknown subcommand %s",
			sub);
	struct store *s = cli_open_store(cli, "hold", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	int code = cli_zone(cli, s, tz, "hold");
	if (code) {
		store_close(s);
		return code;
	}
#ifdef CV_LEAN
	/* the S3 legal holds need callvault-full's S3 client */
	if ((!strcmp(sub, "add") || !strcmp(sub, "release")) && has_remote(s)) {
		store_close(s);
		return cli_exec_full(cli);
	}
#endif
	optind = 0;
	if (!strcmp(sub, "add"))
		code = add(cli, s, argc - 1, argv + 1);
	else if (!strcmp(sub, "release"))
		code = release(cli, s, argc - 1, argv + 1);
	else
		code = show(cli, s, argc - 1, argv + 1, !strcmp(sub, "list"));
	store_close(s);
	return code;
}

const struct cli_cmd cmd_hold = {
	.name = "hold",
	.summary = "legal holds: add, list, show, release",
	.help = "usage: callvault [--db PATH] hold add --matter NAME "
		"[--call ID]… [--contact ID]\n"
		"           [--number E164] [--agent ID] [--location LOC] "
		"[--from DATE]\n"
		"           [--to DATE] [--reason TEXT] [--tz ZONE]\n"
		"       callvault hold add --matter NAME --query QUERY "
		"[filters] [--reason TEXT]\n"
		"       callvault hold list [--all] [--tz ZONE]\n"
		"       callvault hold show ID [--tz ZONE]\n"
		"       callvault hold release ID --reason TEXT\n"
		"\n"
		"A hold keeps the calls it covers from purge. All criteria "
		"given must\nmatch (several --call: any of them); --to DATE "
		"includes that day. The\ncriteria are evaluated whenever purge "
		"runs, so calls arriving after the\nhold was placed are held "
		"too. A call under several matters stays held\nuntil every one "
		"is released. Holds are never deleted; adding and\nreleasing "
		"are written to the audit log. A release needs --reason, kept\n"
		"on the hold and in the audit entry (with the matter). In the "
		"web console\nonly a hold-admin of the hold's matter (user set "
		"--matter) or an admin\nmay release it; here, whoever may write "
		"the store.\n"
		"\nWhen an S3 target (callvault storage) holds archives or "
		"recordings,\nadd and release set their S3 legal holds at once: "
		"ON while a hold covers\none of their calls, OFF when none "
		"does. When a target cannot be\nreached the hold change stays "
		"made, the target is named, the exit is\nnot 0, and `callvault "
		"storage holds` sets them later.\n"
		"\n--from and --to without an offset are read in --tz ZONE, "
		"else in the\nstore's zone (callvault config set timezone), "
		"else UTC; list and show\nshow times in that zone, with "
		"its offset.\n"
		"\n"
		"A query hold (--query, in search's grammar; \"\" for filters "
		"only) keeps\nthe query and the filters, as given, with the "
		"hold and holds every\ncall its search matches, now or later "
		"(new calls, new versions): purge,\nsubject erase, the "
		"console's held mark and hold show run it when they\nlook. A "
		"query that does not parse is refused (exit 2). --location "
		"scopes\nit to a sub-account; repeat it (up to 64) for "
		"several. It takes every\nfilter of search:\n\n" CLI_FILTERS_HELP,
	.run = run,
};
