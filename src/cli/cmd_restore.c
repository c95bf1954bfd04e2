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
	       "%lld events",
		path, (long long)st->calls, (long long)st->versions_added,
		(long long)st->versions_present, (long long)st->events);
	if (st->recordings_added || st->recordings_present)
		printf(", %lld recordings added (%lld already there)",
			(long long)st->recordings_added,
			(long long)st->recordings_present);
	if (st->transcriptions)
		printf(", %lld timed transcriptions",
			(long long)st->transcriptions);
	if (st->disposed)
		printf("; %lld disposed of, not loaded",
			(long long)st->disposed);
	if (st->erasures)
		printf("; %lld erasure%s carried, %lld call%s erased%s",
			(long long)st->erasures, st->erasures == 1 ? "" : "s",
			(long long)st->erased, st->erased == 1 ? "" : "s",
			st->erasures_held ? " (some held: see the audit log)"
					  : "");
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
		{ "pubkey", required_argument, NULL, 'p' },
		{ "from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *given = NULL, *from = NULL;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'p')
			given = optarg;
		else if (c == 'f')
			from = optarg;
		else
			return CV_EXIT_USAGE;
	}
	if (optind >= argc)
		return cli_fail(CV_EXIT_USAGE, "restore",
			"name at least one ARCHIVE");
	unsigned char pub[32];
	bool have = false;
	int code = cli_site_pubkey(cli, "restore", given, pub, &have);
	if (code != CV_EXIT_OK)
		return code;
	struct store *s = cli_open_store(cli, "restore", 0);
	if (!s)
		return CV_EXIT_FAIL;
	struct store_storage t = { 0 };
	struct s3 *cl = NULL;
	for (int i = optind; i < argc && code == CV_EXIT_OK; i++) {
		struct restore_stats st;
		char *err = NULL;
		const unsigned char *pk = have ? pub : NULL;
		bool remote = !strncmp(argv[i], "s3://", 5);
		enum cv_err rc = remote ? open_target(s, from, &t, &cl, &err)
					: CV_OK;
		if (rc == CV_OK && remote)
			rc = restore_archive_s3(s, cl, argv[i], cli->actor, pk,
				&st, &err);
		else if (rc == CV_OK)
			rc = restore_archive_signed(s, argv[i], cli->actor, pk,
				&st, &err);
		if (rc != CV_OK)
			code = cli_fail(cli_exit_for(rc) == CV_EXIT_INTEGRITY
						? CV_EXIT_INTEGRITY
						: CV_EXIT_FAIL,
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
	.help = "usage: callvault [--db PATH] restore [--pubkey FILE] "
		"[--from NAME]\n         ARCHIVE…\n"
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
		"wrote it; and data/media.jsonl gives a restored recording\n"
		"the source `restore`). Recordings go back into the blob store "
		"only when\ntheir bytes hash to what the archive recorded "
		"(rows with source\n`restore`). Versions and recordings "
		"already in the store are left alone.\n"
		"Whether a version is current follows the trust order as when "
		"it came\n(`callvault trust --help`). Calls that were "
		"disposed of (purged: they\nhave a tombstone) are not loaded, "
		"nor their events; the summary ends\nwith `; N disposed of, "
		"not loaded` when there are any.\n"
		"Each bag carries the erasures (`subject erase`) of its "
		"location made\nbefore it was written (data/erasures.jsonl): "
		"they become tombstones\nhere and remove the calls they name, "
		"whichever archive those came\nfrom, unless a hold covers "
		"them (`; N erasures carried, M calls\nerased`).\n"
		"\n"
		"  --pubkey F  the site's public key (default "
		"$CALLVAULT_SIGNING_PUBKEY,\n              else <db>.secrets/"
		"site.pub when it exists): with one, an\n              archive "
		"whose tag-manifest signature is missing or wrong\n"
		"              is not loaded (exit 3), as verify says; one the "
		"store\n              recorded as written before the key "
		"existed is loaded\n",
	.run = run,
};
