/* cmd_restore.c — `callvault restore ARCHIVE…` */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "retention.h"

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	if (cli_getopt(argc, argv, "", opts) != -1)
		return CV_EXIT_USAGE;
	if (optind >= argc)
		return cli_fail(CV_EXIT_USAGE, "restore",
			"name at least one ARCHIVE");
	struct store *s = cli_open_store(cli, "restore", 0);
	if (!s)
		return CV_EXIT_FAIL;
	int code = CV_EXIT_OK;
	for (int i = optind; i < argc && code == CV_EXIT_OK; i++) {
		struct restore_stats st;
		char *err = NULL;
		enum cv_err rc = restore_archive(s, argv[i], cli->actor, &st,
			&err);
		if (rc != CV_OK)
			code = cli_fail(cli_exit_for(rc) == CV_EXIT_INTEGRITY
					? CV_EXIT_INTEGRITY : CV_EXIT_FAIL,
				"restore", "%s", err ? err : cv_strerror(rc));
		else
			printf("%s: %lld calls, %lld versions added (%lld "
			       "already there), %lld events\n",
				argv[i], (long long)st.calls,
				(long long)st.versions_added,
				(long long)st.versions_present,
				(long long)st.events);
		free(err);
	}
	store_close(s);
	return code;
}

const struct cli_cmd cmd_restore = {
	.name = "restore",
	.summary = "load archives back into the store",
	.help = "usage: callvault [--db PATH] restore ARCHIVE…\n"
		"\n"
		"Verify each archive, then load its calls, every version, "
		"webhook events\nand agent names into the store (creating it "
		"when needed), in one\ntransaction per archive. Versions are "
		"stored with source `restore` and\nkeep their original source, "
		"received time and hash of the original\nbytes; archiving the "
		"restored calls again gives byte-identical\npayload files "
		"(data/audit.jsonl excepted: it is the log of the store\nthat "
		"wrote it). Versions already in the store are left alone.\n",
	.run = run,
};
