/* cmd_quarantine.c — `callvault quarantine`: list rejected input */
#include <stdio.h>
#include <stdlib.h>

#include "../util.h"
#include "cli.h"

static int print_row(const struct store_quarantine_row *q, void *arg)
{
	char ts[32];
	cv_format_iso8601(q->received_at, ts);
	char *reason = cv_term_safe(q->reason ? q->reason : "", 0);
	printf("%lld\t%s\t%s\t%zu bytes\t%s\n", (long long)q->id, ts,
		store_source_name(q->source), q->size, reason);
	free(reason);
	(*(long *)arg)++;
	return 0;
}

static int run(struct cli *cli, int argc, char **argv)
{
	if (argc > 1)
		return cli_fail(CV_EXIT_USAGE, "quarantine",
			"takes no arguments");
	struct store *s = cli_open_store(cli, "quarantine", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	long n = 0;
	char *err = NULL;
	enum cv_err rc = store_each_quarantine(s, print_row, &n, &err);
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
	.help = "usage: callvault [--db PATH] quarantine\n"
		"\n"
		"One line per rejected input: id, received time, source, "
		"size, reason.\nThe raw bytes stay in the store's quarantine "
		"table.\n",
	.run = run,
};
