/* cmd_hold.c — `callvault hold add|list|show|release`: legal holds */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../search.h"
#include "../store/store_holds.h"
#include "../util.h"
#include "cli.h"

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
	if (h->chosen_by)
		printf("  chosen by the search %s\n", cv_safe(&k, h->chosen_by));
	if (h->released_at) {
		cli_time(cli, h->released_at, ts);
		printf("  released %s by %s: %s\n", ts,
			cv_safe(&k, h->released_by ? h->released_by : ""),
			cv_safe(&k, h->release_reason ? h->release_reason
						      : ""));
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

/* The criteria, checked by the parser search, export and the console's
 * holds use; false after printing its message. --to is inclusive (a bare
 * date: that whole day). */
static bool criteria(struct store_hold *h, struct search_filters *sf,
	const struct search_filter_arg a[SFK_N])
{
	char *err = NULL;
	if (search_filters_parse(sf, a, &err) != CV_OK) {
		cli_fail(CV_EXIT_USAGE, "hold add", "%s", err ? err : "bad "
								"criterion");
		free(err);
		return false;
	}
	store_hold_criteria(h, &sf->f);
	return true;
}

#define CRIT 1000 /* getopt values of the criteria: CRIT + their key */

static int add(struct cli *cli, struct store *s, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "matter", required_argument, NULL, 'm' },
		{ "call", required_argument, NULL, 'c' },
		{ "contact", required_argument, NULL, CRIT + SFK_CONTACT },
		{ "number", required_argument, NULL, CRIT + SFK_NUMBER },
		{ "agent", required_argument, NULL, CRIT + SFK_AGENT },
		{ "location", required_argument, NULL, CRIT + SFK_LOCATION },
		{ "from", required_argument, NULL, CRIT + SFK_FROM },
		{ "to", required_argument, NULL, CRIT + SFK_TO },
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_hold h = { 0 };
	struct search_filter_arg a[SFK_N] = { { 0 } };
	struct search_filters sf;
	const char **calls = xcalloc((size_t)argc, sizeof(*calls));
	int c, code = CV_EXIT_USAGE;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'm')
			h.matter = optarg;
		else if (c == 'c')
			calls[h.n_calls++] = optarg;
		else if (c == 'r')
			h.reason = optarg;
		else if (c >= CRIT && c < CRIT + SFK_N)
			a[c - CRIT] = (struct search_filter_arg){ optarg,
				strlen(optarg) };
		else
			goto out;
	}
	/* times without an offset are read in --tz, else the store's zone */
	if (cli->zone)
		a[SFK_TZ] = (struct search_filter_arg){ cli->zone_name,
			strlen(cli->zone_name) };
	if (!criteria(&h, &sf, a))
		goto out;
	h.call_ids = calls;
	int64_t id;
	char *err = NULL;
	enum cv_err rc = optind != argc
		? cv_error(&err, CV_EINVAL, "unexpected operand %s",
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
	code = CV_EXIT_OK;
out:
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
	if (optind + 1 != argc || !cli_parse_long(argv[optind], 1,
					      0x7fffffffL, &id))
		return cli_fail(CV_EXIT_USAGE, "hold release",
			"name one hold ID");
	char *err = NULL;
	enum cv_err rc = store_hold_release(s, id, cli->actor, reason, &err);
	if (rc != CV_OK) {
		int code = cli_fail(cli_exit_for(rc), "hold release", "%s",
			err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	printf("hold #%ld released\n", id);
	return CV_EXIT_OK;
}

static int show(struct cli *cli, struct store *s, int argc, char **argv,
	bool list)
{
	long id = 0;
	if (!list && (argc != 2 || !cli_parse_long(argv[1], 1, 0x7fffffffL,
					  &id)))
		return cli_fail(CV_EXIT_USAGE, "hold show", "name one hold ID");
	bool all = list && argc > 1 && !strcmp(argv[1], "--all");
	char *err = NULL;
	if (list)
		printf("times in %s\n", cli_zone_name(cli));
	enum cv_err rc = store_hold_each(s, list && !all, id, list_cb, cli,
		&err);
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
		"are written to the audit log.\n"
		"\n--from and --to without an offset are read in --tz ZONE, "
		"else in the\nstore's zone (callvault config set timezone), "
		"else UTC; list and show\nshow times in that zone, with "
		"its offset.\n",
	.run = run,
};
