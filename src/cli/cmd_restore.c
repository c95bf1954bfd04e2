/* cmd_restore.c — `callvault restore ARCHIVE…` */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "retention.h"
#include "storage.h"

static void report(const char *path, const struct restore_stats *st)
{
	printf("%s: %lld calls, %lld versions added (%lld already there), "
	       "%lld events", path, (long long)st->calls,
		(long long)st->versions_added,
		(long long)st->versions_present, (long long)st->events);
	if (st->disposed)
		printf("; %lld disposed of, not loaded", (long long)st->disposed);
	putchar('\n');
}

/* An S3 target for s3:// archives: --from NAME, else the default. */
static enum cv_err open_target(struct store *s, const char *from,
	struct store_storage *t, struct s3 **c, char **err)
{
	if (*c)
		return CV_OK;
	return storage_open(s, from, t, c, err);
}

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c != 'f')
			return CV_EXIT_USAGE;
		from = optarg;
	}
	if (optind >= argc)
		return cli_fail(CV_EXIT_USAGE, "restore",
			"name at least one ARCHIVE");
	struct store *s = cli_open_store(cli, "restore", 0);
	if (!s)
		return CV_EXIT_FAIL;
	int code = CV_EXIT_OK;
	struct store_storage t = { 0 };
	struct s3 *cl = NULL;
	for (int i = optind; i < argc && code == CV_EXIT_OK; i++) {
		struct restore_stats st;
		char *err = NULL;
		bool remote = !strncmp(argv[i], "s3://", 5);
		enum cv_err rc = remote ? open_target(s, from, &t, &cl, &err)
					: CV_OK;
		if (rc == CV_OK && remote)
			rc = restore_archive_s3(s, cl, argv[i], cli->actor,
				&st, &err);
		else if (rc == CV_OK)
			rc = restore_archive(s, argv[i], cli->actor, &st,
				&err);
		if (rc != CV_OK)
			code = cli_fail(cli_exit_for(rc) == CV_EXIT_INTEGRITY
					? CV_EXIT_INTEGRITY : CV_EXIT_FAIL,
				"restore", "%s", err ? err : cv_strerror(rc));
		else
			report(argv[i], &st);
		free(err);
	}
	s3_destroy(cl);
	store_storage_finish(&t);
	store_close(s);
	return code;
}

const struct cli_cmd cmd_restore = {
	.name = "restore",
	.summary = "load archives back into the store",
	.help = "usage: callvault [--db PATH] restore [--from NAME] ARCHIVE…\n"
		"\n"
		"An ARCHIVE may be a file or an s3://BUCKET/KEY URL in the S3 "
		"target\nNAME (`callvault storage`; default: the default "
		"target), streamed\ninto the same private copy: the version "
		"the store recorded there, which\nmust have the recorded "
		"SHA-256, or, for another instance's bag in a\nshared bucket, "
		"the current version, checked by its own manifests.\n"
		"\n"
		"Verify each archive, then load its calls, every version, "
		"webhook events\nand agent names into the store (creating it "
		"when needed), in one\ntransaction per archive. Versions are "
		"stored with source `restore` and\nkeep their original source, "
		"received time and hash of the original\nbytes; archiving the "
		"restored calls again gives byte-identical\npayload files "
		"(data/audit.jsonl excepted: it is the log of the store\nthat "
		"wrote it). Versions already in the store are left alone.\n"
		"Whether a version is current follows the trust order as when "
		"it came\n(`callvault trust --help`). Calls that were "
		"disposed of (purged: they\nhave a tombstone) are not loaded, "
		"nor their events; the summary ends\nwith `; N disposed of, "
		"not loaded` when there are any.\n",
	.run = run,
};
