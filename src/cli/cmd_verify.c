/* cmd_verify.c — `callvault verify ARCHIVE… [--deep]` */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sitekey.h"
#include "../util.h"
#include "cli.h"
#include "retention.h"

int cli_site_pubkey(struct cli *cli, const char *cmd, const char *given,
	unsigned char pub[SITEKEY_PUB_LEN], bool *have)
{
	const char *env = getenv("CALLVAULT_SIGNING_PUBKEY");
	bool configured = given || (env && *env);
	char *path = given ? xstrdup(given) : sitekey_public_path(cli->db_path);
	char *err = NULL;
	int code = CV_EXIT_OK;
	*have = false;
	if (configured || access(path, F_OK) == 0) {
		enum cv_err rc = sitekey_load_public(path, pub, &err);
		if (rc != CV_OK)
			code = cli_fail(CV_EXIT_USAGE, cmd, "%s",
				err ? err : cv_strerror(rc));
		*have = rc == CV_OK;
	}
	free(err);
	free(path);
	return code;
}

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "deep", no_argument, NULL, 'd' },
		{ "no-store", no_argument, NULL, 'n' },
		{ "pubkey", required_argument, NULL, 'p' },
		{ "tsa-ca", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pub_path = NULL;
	unsigned char pub[SITEKEY_PUB_LEN];
	bool have_pub;
	struct verify_opts o = { .out = stdout };
	bool use_store = true;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'd')
			o.deep = true;
		else if (c == 'n')
			use_store = false;
		else if (c == 'p')
			pub_path = optarg;
		else if (c == 'c')
			o.tsa_ca = optarg;
		else
			return CV_EXIT_USAGE;
	}
	if (optind >= argc)
		return cli_fail(CV_EXIT_USAGE, "verify",
			"name at least one ARCHIVE");
	if (!o.tsa_ca && getenv("CALLVAULT_TSA_CA") &&
		*getenv("CALLVAULT_TSA_CA"))
		o.tsa_ca = getenv("CALLVAULT_TSA_CA");
	int code = cli_site_pubkey(cli, "verify", pub_path, pub, &have_pub);
	if (code != CV_EXIT_OK)
		return code;
	o.pubkey = have_pub ? pub : NULL;
	for (int i = optind; i < argc; i++)
		if (!strncmp(argv[i], "s3://", 5))
			return cli_fail(CV_EXIT_USAGE, "verify",
				"%s is in S3: "
				"`callvault storage verify [NAME]` verifies "
				"the archives of a target",
				argv[i]);
	struct store *s = NULL;
	if (use_store && access(cli->db_path, F_OK) == 0) {
		s = cli_open_store(cli, "verify", STORE_NOCREATE);
		if (!s)
			return CV_EXIT_FAIL;
	}
	o.store = s;
	char *err = NULL;
	enum cv_err rc = verify_archives(argv + optind, (size_t)(argc - optind),
		&o, &err);
	store_close(s);
	if (rc != CV_OK) {
		code = cli_fail(cli_exit_for(rc) == CV_EXIT_INTEGRITY
					? CV_EXIT_INTEGRITY
					: CV_EXIT_FAIL,
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
		"                [--pubkey FILE] [--tsa-ca FILE]\n"
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
		"the store, each call compared with it,\n              and "
		"every call and version held to the store's record\n"
		"              of what this archive holds (none missing, "
		"none extra,\n              each at the version recorded);"
		"\n              and each recording and timed transcription "
		"as\n              data/media.jsonl says (SHA-256, size)\n"
		"  --no-store  do not open the store (record nothing)\n"
		"  --pubkey F  the site's public key (default "
		"$CALLVAULT_SIGNING_PUBKEY,\n              else <db>.secrets/"
		"site.pub when it exists): with one,\n              every "
		"bag must carry tagmanifest-sha256.txt.sig, a valid\n"
		"              Ed25519 signature of its tag manifest by that "
		"key\n"
		"  --tsa-ca F  CA certificates (PEM) of timestamp authorities "
		"(default\n              $CALLVAULT_TSA_CA): a bag's RFC "
		"3161 token (.tsr) must be\n              signed by one "
		"they trust; without, only its imprint\n              (the "
		"tag manifest's hash) is checked\n"
		"\nExit 0 when every archive is sound, 3 naming each bad "
		"file.\n",
	.run = run,
};
