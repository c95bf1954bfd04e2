/* cmd_check.c — `callvault check`: integrity of the store */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static int run(struct cli *cli, int argc, char **argv)
{
	if (argc > 1)
		return cli_fail(CV_EXIT_USAGE, "check", "takes no arguments");
	struct store *s = cli_open_store(cli, "check", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	char *err = NULL;
	enum cv_err rc = store_check(s, &err);
	store_close(s);
	if (rc != CV_OK) {
		int code = cli_fail(cli_exit_for(rc) == CV_EXIT_INTEGRITY
				? CV_EXIT_INTEGRITY : CV_EXIT_FAIL,
			"check", "%s", err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	printf("ok: SQLite integrity_check, FTS5 integrity-check, term list "
	       "and call/version links\n");
	return CV_EXIT_OK;
}

const struct cli_cmd cmd_check = {
	.name = "check",
	.summary = "check the store's integrity (SQLite, FTS5, versions)",
	.help = "usage: callvault [--db PATH] check\n"
		"\n"
		"Run SQLite's integrity_check, the FTS5 integrity-check of "
		"both search\nindexes, check that the term list holds every "
		"word of the index and that\nevery call points at its "
		"current version. Exit 0 when all pass, 3 naming\nthe first "
		"problem otherwise.\n",
	.run = run,
};
