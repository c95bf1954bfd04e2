/* cmd_key.c — `callvault key init [--out DIR]`, `key show`: the site
 * signing key (sitekey.h) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sitekey.h"
#include "../util.h"
#include "cli.h"

static int key_init(struct cli *cli, int argc, char **argv)
{
	const char *out;
	int code = cli_out_only(argc, argv, "key", &out);
	if (code != CV_EXIT_OK)
		return code;
	char *dir = out ? xstrdup(out) : sitekey_default_dir(cli->db_path);
	char *pem = NULL, *err = NULL;
	enum cv_err rc = sitekey_init(dir, &pem, &err);
	if (rc != CV_OK) {
		code = cli_fail(rc == CV_EINVAL ? CV_EXIT_USAGE : CV_EXIT_FAIL,
			"key", "%s", err ? err : cv_strerror(rc));
	} else {
		fprintf(stderr,
			"callvault key: wrote %s/%s (private, 0600) "
			"and %s/%s; the public key:\n",
			dir, SITEKEY_PRIVATE_NAME, dir, SITEKEY_PUBLIC_NAME);
		fputs(pem, stdout);
	}
	free(pem);
	free(err);
	free(dir);
	return code;
}

/* The public key of the configured private key, as PEM. */
static int key_show(struct cli *cli, int argc, char **argv)
{
	if (argc > 1)
		return cli_fail(CV_EXIT_USAGE, "key",
			"show takes no "
			"arguments");
	char *path = sitekey_private_path(cli->db_path), *err = NULL;
	struct sitekey *k = NULL;
	enum cv_err rc = sitekey_load(path, &k, &err);
	int code = CV_EXIT_OK;
	if (rc != CV_OK) {
		code = cli_fail(rc == CV_EINVAL ? CV_EXIT_USAGE : CV_EXIT_FAIL,
			"key", "%s", err ? err : cv_strerror(rc));
	} else {
		char *pem = sitekey_public_pem(k);
		fputs(pem, stdout);
		free(pem);
	}
	sitekey_destroy(k);
	free(err);
	free(path);
	return code;
}

static int run(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_fail(CV_EXIT_USAGE, "key", "give init or show");
	if (!strcmp(argv[1], "init"))
		return key_init(cli, argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return key_show(cli, argc - 1, argv + 1);
	return cli_fail(CV_EXIT_USAGE, "key",
		"unknown subcommand '%s' "
		"(init or show)",
		argv[1]);
}

const struct cli_cmd cmd_key = {
	.name = "key",
	.summary = "make the site signing key (Ed25519) that signs archives",
	.help = "usage: callvault [--db PATH] key init [--out DIR]\n"
		"       callvault [--db PATH] key show\n"
		"\n"
		"init makes the site signing key, an Ed25519 key pair: DIR/site.key\n"
		"(PKCS#8 PEM, mode 0600) and DIR/site.pub (SubjectPublicKeyInfo\n"
		"PEM), and prints the public key. DIR defaults to the store's\n"
		"secrets directory, <db>.secrets/. An existing key is never\n"
		"replaced. show prints the public key of the configured key.\n"
		"\n"
		"Where callvault looks for the key (archive signs every bag's tag\n"
		"manifest with it, verify checks the signatures):\n"
		"  $CALLVAULT_SIGNING_KEY     the private key (default\n"
		"                             <db>.secrets/site.key); a file that\n"
		"                             group or others may read is refused\n"
		"  $CALLVAULT_SIGNING_PUBKEY  the public key verify uses (default\n"
		"                             <db>.secrets/site.pub)\n"
		"\n"
		"A signature verifies with stock tools (docs/archives.md):\n"
		"  openssl pkeyutl -verify -pubin -inkey site.pub -rawin \\\n"
		"      -in tagmanifest-sha256.txt -sigfile tagmanifest-sha256.txt.sig\n",
	.run = run,
};
