/* cmd_evidence.c — `callvault evidence export`: the calls of a legal hold
 * or a search as a verifiable package for counsel, a regulator or a court
 * (retention/evidence.h, docs/evidence.md) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sitekey.h"
#include "../subject.h"
#include "../util.h"
#include "cli.h"
#include "evidence.h"
#include "filters.h"

#define REASON_MAX 1000

struct eargs {
	long hold;
	const char *query, *reason, *out, *key, *tsa;
	bool tsa_optional;
	struct cli_filters cf;
};

static int parse(struct eargs *a, int argc, char **argv)
{
	static const char cmd[] = "evidence export";
	static const struct option opts[] = {
		{ "hold", required_argument, NULL, 'H' },
		{ "reason", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ "tsa", required_argument, NULL, 'a' },
		{ "tsa-optional", no_argument, NULL, 'O' },
		FILTER_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;
	cli_filters_init(&a->cf);
	optind = 0;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'H') {
			if (!cli_parse_long(optarg, 1, 0x7fffffffL, &a->hold))
				return cli_fail(CV_EXIT_USAGE, cmd,
					"--hold "
					"takes a hold id, not '%s'",
					optarg);
		} else if (c == 'r') {
			a->reason = optarg;
		} else if (c == 'o') {
			a->out = optarg;
		} else if (c == 'k') {
			a->key = optarg;
		} else if (c == 'a') {
			a->tsa = optarg;
		} else if (c == 'O') {
			a->tsa_optional = true;
		} else if (!cli_filters_opt(&a->cf, cmd, c, optarg)) {
			return CV_EXIT_USAGE;
		}
	}
	if (optind + 1 < argc)
		return cli_fail(CV_EXIT_USAGE, cmd,
			"one QUERY (quote it), "
			"not '%s' too",
			argv[optind + 1]);
	a->query = optind < argc ? argv[optind] : NULL;
	return CV_EXIT_OK;
}

/* --hold, or a query and/or filters: one selection, never both. */
static int check(struct eargs *a)
{
	static const char cmd[] = "evidence export";
	bool filters = false;
	for (int k = 0; k < SFK_N; k++)
		filters |= k != SFK_TZ && a->cf.arg[k].p;
	if (a->hold && (a->query || filters))
		return cli_fail(CV_EXIT_USAGE, cmd,
			"--hold or a QUERY and "
			"filters, not both");
	if (!a->hold && !a->query && !filters)
		return cli_fail(CV_EXIT_USAGE, cmd,
			"select the calls: --hold "
			"ID, or a QUERY and/or filters");
	if (!subject_text_ok(a->reason, REASON_MAX))
		return cli_fail(CV_EXIT_USAGE, cmd,
			"--reason is required: 1 "
			"to %d bytes of UTF-8 without control characters",
			REASON_MAX);
	int oc = cli_new_out(cmd, a->out);
	if (oc != CV_EXIT_OK)
		return oc;
	/* filters (and the zone) are checked before the store is opened */
	return cli_filters_finish(&a->cf, cmd) ? CV_EXIT_OK : CV_EXIT_USAGE;
}

static int export(struct cli *cli, struct eargs *a)
{
	static const char cmd[] = "evidence export";
	struct sitekey *key = NULL;
	int kc = cli_site_key(cli, cmd, a->key, &key);
	if (kc != CV_EXIT_OK)
		return kc;
	if (!a->tsa && getenv("CALLVAULT_TSA_URL") &&
		*getenv("CALLVAULT_TSA_URL"))
		a->tsa = getenv("CALLVAULT_TSA_URL");
	struct store *s = cli_open_store(cli, cmd, STORE_NOCREATE);
	if (!s) {
		sitekey_destroy(key);
		return CV_EXIT_FAIL;
	}
	struct evidence_opts o = { .hold_id = a->hold,
		.query = a->query ? a->query : "",
		.filters = a->cf.arg,
		.reason = a->reason,
		.out_path = a->out,
		.tz = a->cf.arg[SFK_TZ].p,
		.actor = cli->actor,
		.os_user = cli->os_user,
		.key = key,
		.tsa_url = a->tsa };
	struct evpkg_stats st;
	char *err = NULL;
	enum cv_err rc = evidence_export(s, &o, &st, &err);
	store_close(s);
	sitekey_destroy(key);
	int code = CV_EXIT_OK;
	if (rc != CV_OK)
		code = cli_fail(rc == CV_EPARSE ? CV_EXIT_USAGE
						: cli_exit_for(rc),
			cmd, "%s", err ? err : cv_strerror(rc));
	else if (!st.calls)
		printf("0 calls: nothing selected, nothing written\n");
	else
		printf("%s: %lld call%s, %lld version%s, %lld event%s, %llu "
		       "bytes, sha256 %s\n",
			a->out, (long long)st.calls, st.calls == 1 ? "" : "s",
			(long long)st.versions, st.versions == 1 ? "" : "s",
			(long long)st.events, st.events == 1 ? "" : "s",
			(unsigned long long)st.size, st.sha256);
	if (rc == CV_OK && st.recordings)
		printf("%lld recording%s, exactly as received\n",
			(long long)st.recordings,
			st.recordings == 1 ? "" : "s");
	if (rc == CV_OK && st.calls)
		printf("%s%s\n",
			st.is_signed ? "signed by the site key" : "not signed",
			st.stamped ? ", timestamped (RFC 3161)" : "");
	if (rc == CV_OK && st.calls && *st.tsa_error) {
		fprintf(stderr, "callvault %s: no timestamp: %s\n", cmd,
			st.tsa_error);
		if (!a->tsa_optional)
			code = cli_fail(CV_EXIT_FAIL, cmd,
				"written without the "
				"timestamp asked for (--tsa-optional accepts "
				"that)");
	}
	free(err);
	return code;
}

static int run(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "export") != 0)
		return cli_fail(CV_EXIT_USAGE, "evidence",
			argc < 2 ? "export? (see --help)"
				 : "unknown subcommand (export)");
	struct eargs a = { 0 };
	int code = parse(&a, argc - 1, argv + 1);
	if (code == CV_EXIT_OK)
		code = check(&a);
	if (code == CV_EXIT_OK)
		code = export(cli, &a);
	return code;
}

const struct cli_cmd cmd_evidence = {
	.name = "evidence",
	.summary = "evidence packages: the calls of a hold or a search, "
		   "verifiable with stock tools",
	.help = "usage: callvault [--db PATH] evidence export (--hold ID | QUERY "
		"[filters])\n"
		"         --reason TEXT --out FILE.tar.zst [--tz ZONE]\n"
		"         [--key FILE] [--tsa URL [--tsa-optional]]\n"
		"\n"
		"Writes the calls a legal hold covers now (a query hold: what its\n"
		"search matches now), or every call a search matches (QUERY in\n"
		"search's grammar, with search's filters), as a BagIt bag in a\n"
		"tar.zst (mode 0600) with FILE.sha256 beside it. Only those calls:\n"
		"each call's versions (canonical JSON with source, time received and\n"
		"SHA-256 as received), transcript, webhook events, recording (the\n"
		"bytes as received) and timed transcription; a load file\n"
		"(data/loadfile.csv: call id, time in --tz and in UTC, location,\n"
		"agent, caller, duration, each file's path and SHA-256); and a\n"
		"chain-of-custody report (data/custody-report.html, printable): who\n"
		"exported, when, why, the hold or search, the store, where and when\n"
		"each version came from, the audit entries that name these calls,\n"
		"and the tar, zstd and sha256sum commands that verify the package\n"
		"without callvault. The export is audited. Selecting nothing writes\n"
		"nothing and says so. An existing FILE is not overwritten. At most\n"
		"50,000 calls.\n"
		"\n"
		"  --hold ID        the calls of this legal hold\n"
		"  --reason TEXT    why (required; in the report and the audit log)\n"
		"  --out FILE       the package to write\n"
		"  --tz ZONE        the load file's and the filters' zone (default "
		"UTC)\n"
		"  --key FILE       the site signing key (default "
		"$CALLVAULT_SIGNING_KEY,\n"
		"                   else <db>.secrets/site.key when it exists): "
		"the tag\n"
		"                   manifest is signed (tagmanifest-sha256.txt.sig, "
		"checked\n"
		"                   by `openssl pkeyutl -verify -rawin`, as the "
		"report says)\n"
		"  --tsa URL        also an RFC 3161 timestamp over it (.tsr; "
		"default\n"
		"                   $CALLVAULT_TSA_URL). A TSA that fails: the "
		"package is\n"
		"                   written without it, exit 1 unless "
		"--tsa-optional\n"
		"\n" CLI_FILTERS_HELP "\nSee docs/evidence.md.\n",
	.run = run,
};
