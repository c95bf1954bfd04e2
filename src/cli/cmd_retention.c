/* cmd_retention.c — `callvault retention set|show` */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store_retention.h"
#include "../util.h"
#include "cli.h"

/* show_cb's argument */
struct shown {
	const struct cli *cli;
	int n;
};

static int show_cb(const struct store_policy *p, void *arg)
{
	struct shown *sh = arg;
	char ts[TZ_TIME_LEN];
	cli_time(sh->cli, p->set_at, ts);
	printf("%-24s keep %d month(s)  (set %s by %s)\n",
		*p->location ? p->location : "(default)", p->keep_months, ts,
		p->set_by);
	sh->n++;
	return 0;
}

static int set(struct cli *cli, struct store *s, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "location", required_argument, NULL, 'l' },
		{ "keep-months", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *loc = NULL;
	long keep = -1;
	int c;
	optind = 0;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'l')
			loc = optarg;
		else if (c == 'k' && cli_parse_long(optarg, 0, 1200, &keep))
			continue;
		else
			return cli_fail(CV_EXIT_USAGE, "retention",
				"--keep-months N (0 to 1200) is required");
	}
	if (keep < 0 || optind != argc)
		return cli_fail(CV_EXIT_USAGE, "retention",
			"usage: retention set [--location LOC] --keep-months N");
	char *err = NULL;
	char *d = xasprintf("{\"location\":\"%s\",\"keepMonths\":%ld}",
		loc ? loc : "", keep);
	enum cv_err rc = store_begin(s, &err);
	if (rc == CV_OK)
		rc = store_ret_set_policy(s, loc, (int)keep, cli->actor, &err);
	rc = cli_audit_commit(cli, s, rc, "retention set", d, &err);
	free(d);
	if (rc != CV_OK) {
		int code = cli_fail(cli_exit_for(rc), "retention", "%s",
			err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	printf("%s: keep %ld month(s) before the current one\n",
		loc ? loc : "default", keep);
	return CV_EXIT_OK;
}

static int run(struct cli *cli, int argc, char **argv)
{
	const char *tz = argc >= 2 && !strcmp(argv[1], "show")
				 ? cli_take_tz(&argc, argv)
				 : NULL;
	if (argc < 2 || (strcmp(argv[1], "set") && strcmp(argv[1], "show")) ||
		(tz && !*tz))
		return cli_fail(CV_EXIT_USAGE, "retention",
			"set or show [--tz ZONE] (see --help)");
	struct store *s = cli_open_store(cli, "retention", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	struct shown sh = { cli, 0 };
	int code = CV_EXIT_OK;
	if (!strcmp(argv[1], "set")) {
		code = set(cli, s, argc - 1, argv + 1);
	} else if ((code = cli_zone(cli, s, tz, "retention")) == 0) {
		char *err = NULL;
		if (store_ret_each_policy(s, show_cb, &sh, &err) != CV_OK) {
			code = cli_fail(CV_EXIT_FAIL, "retention", "%s",
				err ? err : "failed");
			free(err);
		} else if (sh.n == 0) {
			printf("no retention policy: purge removes nothing\n");
		}
	}
	store_close(s);
	return code;
}

const struct cli_cmd cmd_retention = {
	.name = "retention",
	.summary = "set or show retention policies",
	.help = "usage: callvault [--db PATH] retention set [--location LOC] "
		"--keep-months N\n"
		"       callvault retention show [--tz ZONE]\n"
		"\n"
		"Keep calls in the live store for N full months before the "
		"current one\n(UTC, by createdAt); purge may remove older ones "
		"once archived and\nverified. Without --location the policy is "
		"the default for every\nlocation without its own. Without any "
		"policy nothing is purged.\nChanges are written to the audit "
		"log.\n",
	.run = run,
};
