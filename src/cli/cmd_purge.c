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
	if (st.media)
		printf("with them, the recordings and timed transcriptions "
		       "of %lld call(s)\n",
			(long long)st.media);
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
		"index\nentries, raw payloads no longer referenced, recordings "
		"and timed\ntranscriptions) each call older than its "
		"location's retention policy\nwhose every version, recording "
		"and timed transcription is in an\narchive that was verified "
		"after it was written (and whose file is\nstill there, "
		"unchanged), and that no active legal hold covers. One\n"
		"transaction per location-month, each with a disposal record "
		"in the\naudit log (call ids, month, archives, policy; no "
		"content), and a\ntombstone per call (id, location, time, "
		"reason) so that no webhook,\nsync, import or restore brings "
		"it back. A recording's file in the blob\nstore is removed "
		"only after that transaction commits.\n"
		"\nQuarantine rows (rejected input, whole transcripts "
		"included) received\nbefore the months the longest retention "
		"policy keeps are removed too\n(none without any policy); "
		"the audit log records how many.\n"
		"\n"
		"  --dry-run  list what would go and, for what stays, why\n",
	.run = run,
};
