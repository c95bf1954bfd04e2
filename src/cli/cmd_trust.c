/* cmd_trust.c — `callvault trust set|unset|show`: which credential kinds
 * may create calls, per location */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "cli.h"

#define DAY_MS (INT64_C(24) * 3600 * 1000)

/* show_cb's argument */
struct shown {
	const struct cli *cli;
	int n;
};

static int show_cb(const struct store_trust_policy *p, void *arg)
{
	struct shown *sh = arg;
	char ts[TZ_TIME_LEN];
	cli_time(sh->cli, p->set_at, ts);
	char *list = store_trust_mask_str(p->mask);
	printf("%-24s may create calls: %s  (set %s by %s)\n",
		*p->location ? p->location : "(default)", list, ts, p->set_by);
	free(list);
	sh->n++;
	return 0;
}

static int show(struct cli *cli, struct store *s, const char *tz)
{
	struct shown sh = { cli, 0 };
	int zc = cli_zone(cli, s, tz, "trust");
	if (zc)
		return zc;
	int n = 0;
	char *err = NULL;
	enum cv_err rc = store_trust_each(s, show_cb, &sh, &err);
	n = sh.n;
	if (rc != CV_OK) {
		int code = cli_fail(CV_EXIT_FAIL, "trust", "%s",
			err ? err : "failed");
		free(err);
		return code;
	}
	if (n == 0)
		printf("no trust policy: every source may create calls\n");
	int64_t age = 0;
	if (store_trust_max_age(s, &age, &err) != CV_OK) {
		int code = cli_fail(CV_EXIT_FAIL, "trust", "%s",
			err ? err : "failed");
		free(err);
		return code;
	}
	if (age)
		printf("replay window: webhook bodies whose timestamp is more "
		       "than %lld day(s) old are refused\n",
			(long long)(age / DAY_MS));
	else
		printf("no replay window: webhook bodies are taken whatever "
		       "their timestamp\n");
	printf("trust order (a version never replaces a current one of "
	       "higher rank):\n  api > ed25519 = rsa-legacy > hmac > "
	       "header-secret > import\n");
	return CV_EXIT_OK;
}

/* Write the change and its audit record in one transaction. */
static int change(struct cli *cli, struct store *s, const char *loc,
	const char *list, const unsigned *mask)
{
	char *err = NULL;
	json_t *o = json_object();
	json_object_set_new(o, "location", json_string(loc ? loc : ""));
	if (list)
		json_object_set_new(o, "allowCreate", json_string(list));
	char *d = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	enum cv_err rc = store_begin(s, &err);
	if (rc == CV_OK)
		rc = mask ? store_trust_set(s, loc, *mask, cli->actor, &err)
			  : store_trust_unset(s, loc, &err);
	rc = cli_audit_commit(cli, s, rc, mask ? "trust set" : "trust unset", d,
		&err);
	free(d);
	if (rc != CV_OK) {
		int code = cli_fail(rc == CV_ENOTFOUND ? CV_EXIT_FAIL
						       : cli_exit_for(rc),
			"trust", "%s", err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	printf("%s: %s%s\n", loc ? loc : "default",
		mask ? "may create calls: " : "policy removed",
		mask ? list : "");
	return CV_EXIT_OK;
}

static int set_or_unset(struct cli *cli, struct store *s, bool set, int argc,
	char **argv)
{
	static const struct option opts[] = {
		{ "location", required_argument, NULL, 'l' },
		{ "allow-create", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	const char *loc = NULL, *list = NULL;
	int c;
	optind = 0;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'l' && *optarg)
			loc = optarg;
		else if (c == 'a' && set)
			list = optarg;
		else
			return cli_fail(CV_EXIT_USAGE, "trust",
				"usage: trust "
				"set [--location LOC] --allow-create LIST, or "
				"trust unset [--location LOC]");
	}
	if (optind != argc || (set && !list))
		return cli_fail(CV_EXIT_USAGE, "trust",
			"usage: trust set "
			"[--location LOC] --allow-create LIST");
	unsigned mask = 0;
	char bad[80];
	if (set && !store_trust_mask_parse(list, &mask, bad, sizeof(bad)))
		return cli_fail(CV_EXIT_USAGE, "trust",
			"--allow-create: "
			"unknown source '%s' (ed25519, rsa-legacy, hmac, "
			"header-secret, api, import, or none)",
			bad);
	char *canon = set ? store_trust_mask_str(mask) : NULL;
	int code = change(cli, s, loc, canon, set ? &mask : NULL);
	free(canon);
	return code;
}

/* `trust max-age DAYS`: the replay window (0 = none). */
static int max_age(struct cli *cli, struct store *s, int argc, char **argv)
{
	long days = -1;
	if (argc != 3 || !cli_parse_long(argv[2], 0, 3650, &days))
		return cli_fail(CV_EXIT_USAGE, "trust",
			"usage: trust max-age "
			"DAYS (0 to 3650; 0 = no replay window)");
	char *err = NULL;
	char *d = xasprintf("{\"webhookMaxAgeDays\":%ld}", days);
	enum cv_err rc = store_begin(s, &err);
	if (rc == CV_OK)
		rc = store_trust_set_max_age(s, days * DAY_MS, cli->actor,
			&err);
	rc = cli_audit_commit(cli, s, rc, "trust max-age", d, &err);
	free(d);
	if (rc != CV_OK) {
		int code = cli_fail(cli_exit_for(rc), "trust", "%s",
			err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	if (days)
		printf("webhook bodies whose timestamp is more than %ld "
		       "day(s) old are refused\n",
			days);
	else
		printf("no replay window\n");
	return CV_EXIT_OK;
}

static int run(struct cli *cli, int argc, char **argv)
{
	const char *tz = argc >= 2 && !strcmp(argv[1], "show")
				 ? cli_take_tz(&argc, argv)
				 : NULL;
	if (tz && !*tz)
		return cli_fail(CV_EXIT_USAGE, "trust", "--tz needs a zone");
	const char *sub = argc >= 2 ? argv[1] : "";
	if (strcmp(sub, "set") && strcmp(sub, "unset") && strcmp(sub, "show") &&
		strcmp(sub, "max-age"))
		return cli_fail(CV_EXIT_USAGE, "trust",
			"set, unset, max-age or show (see --help)");
	struct store *s = cli_open_store(cli, "trust", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	int code = !strcmp(sub, "show") ? show(cli, s, tz)
		   : !strcmp(sub, "max-age")
			   ? max_age(cli, s, argc, argv)
			   : set_or_unset(cli, s, !strcmp(sub, "set"), argc - 1,
				     argv + 1);
	store_close(s);
	return code;
}

const struct cli_cmd cmd_trust = {
	.name = "trust",
	.summary = "which sources may create calls, per location",
	.help = "usage: callvault [--db PATH] trust set [--location LOC] "
		"--allow-create LIST\n"
		"       callvault trust unset [--location LOC]\n"
		"       callvault trust max-age DAYS\n"
		"       callvault trust show [--tz ZONE]\n"
		"\n"
		"Every version records how it was authenticated, and a "
		"version never\nreplaces a current one of higher trust: it is "
		"kept, not current, and\n`show --versions` says why. The "
		"order:\n"
		"  api            pulled by sync: settles disagreements, "
		"always current\n"
		"  ed25519        app webhook, x-ghl-signature (and "
		"rsa-legacy,\n                 x-wh-signature; webhook "
		"versions stored before the\n                 scheme was "
		"recorded rank here too)\n"
		"  hmac           X-HighLevel-Signature, the shared secret\n"
		"  header-secret  workflow action with a secret header\n"
		"  import         `callvault import` (a file proves nothing)\n"
		"A restored version ranks as the one it restores.\n"
		"\n"
		"`trust set` limits which of these may create calls that "
		"are not in the\nstore yet, in LOC (by the call's "
		"locationId), or without --location\nin every location "
		"without a policy of its own. LIST is comma-separated\n"
		"(e.g. ed25519,rsa-legacy,api), or none. A call a source may "
		"not create\nis quarantined with the reason; versions of "
		"calls that exist are not\nlimited, and restore is not. "
		"Without any policy every source may create\ncalls.\n"
		"\n"
		"`trust max-age DAYS` (1 to 3650; 0 = off, the default) sets "
		"a replay\nwindow: a webhook body whose own `timestamp` is "
		"more than DAYS before\nit arrives is answered 200 and "
		"recorded as an event without its body\n(outcome `refused: "
		"older than the replay window`); nothing else is\ndone with "
		"it. HighLevel retries a delivery for about an hour, so a "
		"day\nor more refuses only replays. A running `serve` "
		"applies a change\nwithin a second.\n"
		"\nChanges are written to the audit log.\n",
	.run = run,
};
