/* cmd_archive.c — `callvault archive`: monthly BagIt archives in tar.zst */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../audithead.h"
#include "../sitekey.h"
#include "../util.h"
#include "cli.h"
#include "retention.h"

/* the default --threads cap (see cmd_archive) */
enum { ARCHIVE_DEFAULT_THREADS = 4 };

struct tally {
	int written;
	bool rebuild;
	int unstamped; /* a token was asked for, none came */
};

/* The seal of an archive written: its signature and timestamp. */
static void report_seal(const struct archive_outcome *r, struct tally *t)
{
	if (r->is_signed || r->timestamped)
		printf("  %s%s%s\n",
			r->is_signed ? "tag manifest signed "
				       "with the site key"
				     : "",
			r->is_signed && r->timestamped ? "; " : "",
			r->timestamped ? "RFC 3161 timestamp kept" : "");
	if (*r->tsa_error) {
		t->unstamped++;
		fprintf(stderr,
			"callvault archive: %s: written without a "
			"timestamp: %s\n",
			r->path, r->tsa_error);
	}
}

static void report(const struct archive_outcome *r, void *arg)
{
	struct tally *t = arg;
	const char *loc = *r->location ? r->location : "(no location)";
	if (!*r->path && t->rebuild) {
		printf("%s %s%s%.0d: intact, nothing rebuilt\n", loc, r->month,
			r->seq ? "." : "", r->seq);
		return;
	}
	if (!*r->path) {
		printf("%s %s: unchanged, nothing written\n", loc, r->month);
		return;
	}
	t->written++;
	printf("%s %s: %s %s (%s%lld calls, %lld versions, %lld events, "
	       "%.1f MB payload -> %.1f MB, sha256 %s)\n",
		loc, r->month, t->rebuild ? "rebuilt" : "wrote", r->path,
		r->seq ? "supplement, " : "", (long long)r->calls,
		(long long)r->versions, (long long)r->events,
		(double)r->payload_bytes / 1e6, (double)r->size / 1e6,
		r->sha256);
	report_seal(r, t);
}

int cli_site_key(struct cli *cli, const char *cmd, const char *given,
	struct sitekey **k)
{
	const char *env = getenv("CALLVAULT_SIGNING_KEY");
	bool configured = given || (env && *env);
	char *path = given ? xstrdup(given)
			   : sitekey_private_path(cli->db_path);
	int code = CV_EXIT_OK;
	char *err = NULL;
	*k = NULL;
	if (!configured && access(path, F_OK) != 0) {
		fprintf(stderr,
			"callvault %s: note: no site key at %s "
			"(callvault key init): not signed\n",
			cmd, path);
	} else {
		enum cv_err rc = sitekey_load(path, k, &err);
		if (rc != CV_OK)
			code = cli_fail(rc == CV_EINVAL ? CV_EXIT_USAGE
							: CV_EXIT_FAIL,
				cmd, "%s", err ? err : cv_strerror(rc));
	}
	free(err);
	free(path);
	return code;
}

/* archive_opts.progress: one line redrawn in place on the terminal */
static void draw_progress(void *ctx, const char *location, const char *month,
	int64_t done, int64_t total, bool final)
{
	(void)ctx;
	if (final)
		fputs("\r\033[K", stderr);
	else
		fprintf(stderr, "\r\033[Karchive %s %s: %lld/%lld calls",
			location, month, (long long)done, (long long)total);
}

static bool valid_month(const char *m)
{
	int64_t a, b;
	return retention_month_bounds(m, &a, &b);
}

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "month", required_argument, NULL, 'm' },
		{ "rebuild", required_argument, NULL, 'R' },
		{ "through", required_argument, NULL, 't' },
		{ "location", required_argument, NULL, 'l' },
		{ "out", required_argument, NULL, 'o' },
		{ "level", required_argument, NULL, 'L' },
		{ "threads", required_argument, NULL, 'T' },
		{ "key", required_argument, NULL, 'k' },
		{ "tsa", required_argument, NULL, 'a' },
		{ "tsa-optional", no_argument, NULL, 'O' },
		{ "to", required_argument, NULL, 'S' },
		{ "to-default", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	/* Each zstd worker holds ~1.2 MiB of job and window: at the number
	 * of CPUs a 16-core machine would take archive --to past its
	 * 64 MiB bound (58 MiB for the bag alone at 16), and past four the
	 * hashing and writing threads, not zstd, set the pace. */
	long threads = sysconf(_SC_NPROCESSORS_ONLN);
	if (threads > ARCHIVE_DEFAULT_THREADS)
		threads = ARCHIVE_DEFAULT_THREADS;
	struct archive_opts o = { .out_dir = "archives",
		.level = 3,
		.actor = cli->actor };
	const char *key_path = NULL;
	bool tsa_optional = false;
	long v;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'm':
		case 'R':
			if (o.month)
				return cli_fail(CV_EXIT_USAGE, "archive",
					"give --month or --rebuild once");
			o.month = optarg;
			o.rebuild = c == 'R';
			break;
		case 't': o.through = optarg; break;
		case 'l': o.location = optarg; break;
		case 'o': o.out_dir = optarg; break;
		case 'S': o.storage = optarg; break;
		case 'D': o.storage_default = true; break;
		case 'L':
			if (!cli_parse_long(optarg, 1, 19, &v))
				return cli_fail(CV_EXIT_USAGE, "archive",
					"--level must be 1 to 19");
			o.level = (int)v;
			break;
		case 'T':
			if (!cli_parse_long(optarg, 0, 64, &threads))
				return cli_fail(CV_EXIT_USAGE, "archive",
					"--threads must be 0 to 64");
			break;
		case 'k': key_path = optarg; break;
		case 'a': o.tsa_url = optarg; break;
		case 'O': tsa_optional = true; break;
		default: return CV_EXIT_USAGE;
		}
	}
	if (!o.tsa_url && getenv("CALLVAULT_TSA_URL") &&
		*getenv("CALLVAULT_TSA_URL"))
		o.tsa_url = getenv("CALLVAULT_TSA_URL");
	o.threads = threads > 0 ? (int)threads : 0;
	if (optind != argc)
		return cli_fail(CV_EXIT_USAGE, "archive", "takes no operands");
	if (o.month && o.through)
		return cli_fail(CV_EXIT_USAGE, "archive",
			"give --month, --rebuild or --through, not more");
	if ((o.month && !valid_month(o.month)) ||
		(o.through && !valid_month(o.through)))
		return cli_fail(CV_EXIT_USAGE, "archive",
			"months are written YYYY-MM");
	if ((o.storage || o.storage_default) && o.rebuild)
		return cli_fail(CV_EXIT_USAGE, "archive",
			"--rebuild writes to "
			"a directory, not to --to");
	if (isatty(STDERR_FILENO))
		o.progress = draw_progress;
	struct sitekey *key = NULL;
	int code = cli_site_key(cli, "archive", key_path, &key);
	if (code != CV_EXIT_OK)
		return code;
	o.key = key;
	/* the audit key MACs the chain head each bag records; made on
	 * first use, beside the store */
	unsigned char akey[AUDITHEAD_KEY_LEN];
	char *apath = audithead_key_path(cli->db_path), *aerr = NULL;
	enum cv_err arc = audithead_key_load(apath, true, akey, &aerr);
	free(apath);
	if (arc != CV_OK) {
		code = cli_fail(arc == CV_EINVAL ? CV_EXIT_USAGE : CV_EXIT_FAIL,
			"archive", "%s", aerr ? aerr : cv_strerror(arc));
		free(aerr);
		sitekey_destroy(key);
		return code;
	}
	o.audit_key = akey;
	struct store *s = cli_open_store(cli, "archive", STORE_NOCREATE);
	if (!s) {
		sitekey_destroy(key);
		return CV_EXIT_FAIL;
	}
	char *err = NULL;
	struct tally t = { 0, o.rebuild, 0 };
	enum cv_err rc = archive_run(s, &o, report, &t, &err);
	store_close(s);
	sitekey_destroy(key);
	if (rc != CV_OK) {
		code = cli_fail(rc == CV_EINVAL ? CV_EXIT_FAIL
						: cli_exit_for(rc),
			"archive", "%s", err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	printf("%d archive(s) %s\n", t.written,
		o.rebuild ? "rebuilt" : "written");
	if (t.unstamped && !tsa_optional)
		return cli_fail(CV_EXIT_FAIL, "archive",
			"%d archive(s) "
			"written without the timestamp asked for (--tsa-optional "
			"accepts that)",
			t.unstamped);
	return CV_EXIT_OK;
}

const struct cli_cmd cmd_archive = {
	.name = "archive",
	.summary = "write monthly BagIt archives (tar.zst) of the calls",
	.help = "usage: callvault [--db PATH] archive [--month YYYY-MM | "
		"--through YYYY-MM |\n"
		"                 --rebuild YYYY-MM]\n"
		"                 [--location LOC] [--out DIR | --to NAME | "
		"--to-default]\n"
		"                 [--level N] [--threads N]\n"
		"\n"
		"Write one archive per location per calendar month (UTC, by "
		"createdAt):\nDIR/<locationId>/<YYYY-MM>.tar.zst, a BagIt 1.0 "
		"bag (RFC 8493), with\n<YYYY-MM>.tar.zst.sha256 beside it "
		"(sha256sum format). A month archived\nbefore gets nothing "
		"when nothing changed, else a supplement\n<YYYY-MM>.<N>.tar.zst "
		"with the calls that arrived or changed since\n(or whose "
		"recording or timed transcription did).\nA call's "
		"recordings go in as data/recordings/<callId>.wav, the bytes as"
		"\nreceived, streamed from the blob store; a blob that no "
		"longer hashes\nto what was received stops the archive "
		"(exit 3).\nEach archive "
		"names the previous one of its location (tag-manifest hash).\n"
		"Archive months are always UTC months, whatever the store's "
		"zone\n(callvault config set timezone) or --tz: a call made "
		"at 19:30 on\n31 March in Chicago is in the April archive.\n"
		"A run first finishes or rolls back an archive that a killed "
		"run left\nhalf published, and removes the temp files of dead "
		"runs.\n"
		"\n"
		"  --month M      just this month\n"
		"  --through M    every month up to and including M "
		"(default: the\n                 previous month)\n"
		"  --rebuild M    write again each archive of month M whose "
		"file is\n                 lost or damaged, at its recorded path, "
		"from the calls\n                 still in the store; refused once "
		"any of them was\n                 purged or changed\n"
		"  --location LOC just this location\n"
		"  --out DIR      where archives go (default ./archives)\n"
		"  --to NAME      stream each archive into the S3 target NAME "
		"instead\n                 (callvault storage), locked until "
		"the end of its\n                 month's retention period; "
		"nothing of the bag is\n                 written to local disk, "
		"not even a temp file (an\n                 evicted recording "
		"it holds is fetched back into\n                 the blob "
		"store, as `recording get` does)\n"
		"  --to-default   the same, to the default S3 target\n"
		"  --level N      zstd level 1-19 (default 3)\n"
		"  --threads N    zstd worker threads (default: the number of "
		"CPUs, at most 4;\n                 each adds ~1.2 MiB of "
		"memory; 0 = compress in the\n                 calling "
		"thread; hashing and writing have threads\n                 "
		"of their own either way)\n"
		"  --key FILE     the site signing key (default "
		"$CALLVAULT_SIGNING_KEY,\n                 else <db>.secrets/"
		"site.key when it exists): each\n                 bag's tag "
		"manifest gets a detached Ed25519 signature,\n"
		"                 tagmanifest-sha256.txt.sig (callvault key "
		"init)\n"
		"  --tsa URL      also an RFC 3161 timestamp of the tag "
		"manifest from\n                 this timestamp authority "
		"(default $CALLVAULT_TSA_URL),\n                 kept as "
		"tagmanifest-sha256.txt.tsr; when none comes the\n"
		"                 archive is written without it, said, and "
		"the exit is 1\n"
		"  --tsa-optional ... unless this is given (exit 0)\n"
		"\nEach bag's bag-info.txt records the audit chain's head "
		"(Callvault-Audit-Head:\nid and hash of the newest entry) "
		"with an HMAC-SHA256 keyed by the audit\nkey "
		"($CALLVAULT_AUDIT_KEY, else <db>.secrets/audit.key, made on "
		"first\nuse, 0600); `callvault audit --verify --against DIR` "
		"holds the live\nlog to it.\n"
		"\nSee docs/archives.md for checking an archive with stock "
		"tools.\n",
	.run = run,
};
