/* cmd_purge.c — `callvault purge [--dry-run]` */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "retention.h"

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct purge_opts o = { .actor = cli->actor, .out = stdout };
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c != 'n')
			return CV_EXIT_USAGE;
		o.dry_run = true;
	}
	if (optind != argc)
		return cli_fail(CV_EXIT_USAGE, "purge", "takes no operands");
	struct store *s = cli_open_store(cli, "purge", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	struct purge_stats st;
	char *err = NULL;
	enum cv_err rc = purge_run(s, &o, &st, &err);
	store_close(s);
	if (rc != CV_OK) {
		int code = cli_fail(cli_exit_for(rc), "purge", "%s",
			err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	printf("%s %lld; kept: %lld held, %lld not archived, %lld archive "
	       "not verified, %lld within retention, %lld without policy\n",
		o.dry_run ? "would purge" : "purged", (long long)st.purged,
		(long long)st.held, (long long)st.unarchived,
		(long long)st.unverified, (long long)st.within,
		(long long)st.no_policy);
	if (st.quarantine)
		printf("%s %lld quarantine row(s) past retention\n",
			o.dry_run ? "would remove" : "removed",
			(long long)st.quarantine);
	return CV_EXIT_OK;
}

const struct cli_cmd cmd_purge = {
	.name = "purge",
	.summary = "remove archived calls past their retention policy",
	.help = "usage: callvault [--db PATH] purge [--dry-run]\n"
		"\n"
		"Remove from the live store (call, versions, webhook events, "
		"index\nentries, raw payloads no longer referenced) each call "
		"older than its\nlocation's retention policy whose every "
		"version is in an archive that\nwas verified after it was "
		"written (and whose file is still there,\nunchanged), and that "
		"no active legal hold covers. One transaction per\n"
		"location-month, each with a disposal record in the audit log "
		"(call ids,\nmonth, archives, policy; no content), and a "
		"tombstone per call (id,\nlocation, time, reason) so that no "
		"webhook, sync, import or restore\nbrings it back.\n"
		"\nQuarantine rows (rejected input, whole transcripts "
		"included) received\nbefore the months the longest retention "
		"policy keeps are removed too\n(none without any policy); "
		"the audit log records how many.\n"
		"\n"
		"  --dry-run  list what would go and, for what stays, why\n",
	.run = run,
};
