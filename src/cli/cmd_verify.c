/* cmd_verify.c — `callvault verify ARCHIVE… [--deep]` */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "retention.h"

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "deep", no_argument, NULL, 'd' },
		{ "no-store", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct verify_opts o = { .out = stdout };
	bool use_store = true;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'd')
			o.deep = true;
		else if (c == 'n')
			use_store = false;
		else
			return CV_EXIT_USAGE;
	}
	if (optind >= argc)
		return cli_fail(CV_EXIT_USAGE, "verify",
			"name at least one ARCHIVE");
	for (int i = optind; i < argc; i++)
		if (!strncmp(argv[i], "s3://", 5))
			return cli_fail(CV_EXIT_USAGE, "verify", "%s is in S3: "
				"`callvault storage verify [NAME]` verifies "
				"the archives of a target", argv[i]);
	struct store *s = NULL;
	if (use_store && access(cli->db_path, F_OK) == 0) {
		s = cli_open_store(cli, "verify", STORE_NOCREATE);
		if (!s)
			return CV_EXIT_FAIL;
	}
	o.store = s;
	char *err = NULL;
	enum cv_err rc = verify_archives(argv + optind,
		(size_t)(argc - optind), &o, &err);
	store_close(s);
	if (rc != CV_OK) {
		int code = cli_fail(cli_exit_for(rc) == CV_EXIT_INTEGRITY
				? CV_EXIT_INTEGRITY : CV_EXIT_FAIL,
			"verify", "%s", err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	return CV_EXIT_OK;
}

const struct cli_cmd cmd_verify = {
	.name = "verify",
	.summary = "verify archives (checksums, BagIt, chain)",
	.help = "usage: callvault [--db PATH] verify ARCHIVE… [--deep] "
		"[--no-store]\n"
		"\n"
		"Check each archive: its SHA-256 against the .sha256 beside "
		"it, every\nline of manifest-sha256.txt and manifest-sha512.txt,"
		" Payload-Oxum, the\ntag manifest, and the link to the previous "
		"archive of the location when\nthat is present (a missing "
		"archive in the middle of the chain is a\nchain break). With "
		"the store, each archive is also compared with the\nrecord "
		"of the archive written at its path (SHA-256, tag manifest,\n"
		"location, month, call and version counts), each OK line says "
		"which of\nthe two it was checked against, recorded archives "
		"missing from the\ndirectories named are reported, and each "
		"lost or bad one is said to be\nrebuildable (archive "
		"--rebuild) or not (its calls were purged). A\nsuccessful "
		"verify is recorded in the store, which purge requires.\n"
		"Every bag is read within fixed bounds (tag files 1 MiB, "
		"manifests\n64 MiB, manifest lines 4 KiB, JSON lines 16 MiB, "
		"200,000 files, zstd\nwindow 8 MiB); links, devices and FIFOs "
		"make a bag bad.\n"
		"\n"
		"  --deep      also read data/calls.jsonl, versions.jsonl and "
		"events.jsonl:\n              line counts as bag-info.txt "
		"says, every line ended, UTF-8,\n              no NUL; with "
		"the store, each call compared with it\n"
		"  --no-store  do not open the store (record nothing)\n"
		"\nExit 0 when every archive is sound, 3 naming each bad "
		"file.\n",
	.run = run,
};
