/* cmd_init.c — `callvault init`: create or migrate the store */
#include <stdio.h>

#include "cli.h"

static int run(struct cli *cli, int argc, char **argv)
{
	if (argc > 1)
		return cli_fail(CV_EXIT_USAGE, "init", "takes no arguments");
	struct store *s = cli_open_store(cli, "init", 0);
	if (!s)
		return CV_EXIT_FAIL;
	printf("store %s ready (schema version %d)\n", cli->db_path,
		store_schema_version(s));
	store_close(s);
	return CV_EXIT_OK;
}

const struct cli_cmd cmd_init = {
	.name = "init",
	.summary = "create the store, or migrate it to this version's schema",
	.help = "usage: callvault [--db PATH] init\n"
		"\n"
		"Create the SQLite store (WAL mode) or bring an existing one "
		"up to the\nschema this callvault uses. Safe to run again.\n",
	.run = run,
};
