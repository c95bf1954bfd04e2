/* cmd_check.c — `callvault check`: integrity of the store */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../util.h"
#include "cli.h"

/* Warn (on stderr; not a failure) about each of the store's files that
 * users other than its owner and group can read: transcripts, password
 * hashes and the audit log are in them. callvault creates them 0600;
 * an older store, or a copy, may not be. */
static void warn_readable(const char *db)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < CV_ARRAY_LEN(sfx); i++) {
		char *p = xasprintf("%s%s", db, sfx[i]);
		struct stat st;
		if (stat(p, &st) == 0 && (st.st_mode & S_IROTH))
			fprintf(stderr, "callvault check: warning: %s is "
					"readable by other users (mode %04o); "
					"chmod o-rwx it\n",
				p, (unsigned)(st.st_mode & 07777));
		free(p);
	}
}

static int run(struct cli *cli, int argc, char **argv)
{
	if (argc > 1)
		return cli_fail(CV_EXIT_USAGE, "check", "takes no arguments");
	struct store *s = cli_open_store(cli, "check", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	warn_readable(cli->db_path);
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
		"problem otherwise.\nWarns (without failing) when the store, "
		"its -wal or its -shm file can be\nread by users other than "
		"the owner and group.\n",
	.run = run,
};
