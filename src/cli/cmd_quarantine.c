/* cmd_quarantine.c — `callvault quarantine`: list rejected input */
#include <stdio.h>
#include <stdlib.h>

#include "../util.h"
#include "cli.h"

struct rows {
	const struct cli *cli;
	long n;
};

static int print_row(const struct store_quarantine_row *q, void *arg)
{
	struct rows *r = arg;
	char ts[TZ_TIME_LEN];
	cli_time(r->cli, q->received_at, ts);
	char *reason = cv_term_safe(q->reason ? q->reason : "", 0);
	printf("%lld\t%s\t%s\t%zu bytes\t%s\n", (long long)q->id, ts,
		store_source_name(q->source), q->size, reason);
	free(reason);
	r->n++;
	return 0;
}

static int run(struct cli *cli, int argc, char **argv)
{
	const char *tz = cli_take_tz(&argc, argv);
	if (argc > 1 || (tz && !*tz))
		return cli_fail(CV_EXIT_USAGE, "quarantine",
			"takes no arguments but --tz ZONE");
	int zc;
	struct store *s = cli_open_zoned(cli, "quarantine", STORE_NOCREATE, tz,
		&zc);
	if (!s)
		return zc;
	struct rows r = { cli, 0 };
	long n = 0;
	char *err = NULL;
	enum cv_err rc = store_each_quarantine(s, print_row, &r, &err);
	n = r.n;
	store_close(s);
	if (rc != CV_OK) {
		int code = cli_fail(CV_EXIT_FAIL, "quarantine", "%s", err);
		free(err);
		return code;
	}
	fprintf(stderr, "%ld quarantined\n", n);
	return CV_EXIT_OK;
}

const struct cli_cmd cmd_quarantine = {
	.name = "quarantine",
	.summary = "list rejected input kept in quarantine, with reasons",
	.help = "usage: callvault [--db PATH] quarantine [--tz ZONE]\n"
		"\n"
		"One line per rejected input: id, received time, source, "
		"size, reason.\nThe raw bytes stay in the store's quarantine "
		"table. Times are shown in\n--tz ZONE, else the store's zone "
		"(callvault config set timezone),\nelse UTC, with their "
		"offset.\n",
	.run = run,
};
