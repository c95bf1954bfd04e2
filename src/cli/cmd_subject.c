/*
 * cmd_subject.c — `callvault subject erase|export`: data-subject requests
 * (erasure and access) for one person, by contact id or phone number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../search.h"
#include "../subject.h"
#include "../subject_key.h"
#include "../sitekey.h"
#include "cli.h"

#define MAX_CALL_IDS 10000

struct sargs {
	struct search_filter_arg arg[SFK_N];
	struct search_filters sf;
	struct store_subject_sel sel;
	char **call_ids;
	size_t n_call_ids;
	const char *request_id, *reason, *out;
	bool dry_run;
};

/* The person and the range, checked by the filters' one parser. */
static int take_sel(struct sargs *a, const char *cmd)
{
	char *err = NULL;
	if (search_filters_parse(&a->sf, a->arg, &err) != CV_OK) {
		cli_fail(CV_EXIT_USAGE, cmd, "%s", err);
		free(err);
		return CV_EXIT_USAGE;
	}
	const struct search_filter *f = &a->sf.f;
	a->sel = (struct store_subject_sel){
		.contact_id = f->contact,
		.e164 = f->number_e164[0] ? f->number_e164 : NULL,
		.has_from = f->has_from,
		.from_ms = f->from_ms,
		.has_to = f->has_to,
		.to_ms = f->to_ms,
	};
	return CV_EXIT_OK;
}

static void set_arg(struct sargs *a, int k, const char *v)
{
	a->arg[k] = (struct search_filter_arg){ v, strlen(v) };
}

/* With the store open: --from/--to without --tz are read again in the
 * store's zone (callvault config set timezone). 0 or the exit code. */
static int zone_sel(struct cli *cli, struct store *s, struct sargs *a,
	const char *cmd)
{
	int code = cli_zone(cli, s, a->arg[SFK_TZ].p, cmd);
	if (code || a->arg[SFK_TZ].p || !cli->zone || a->n_call_ids)
		return code;
	set_arg(a, SFK_TZ, cli->zone_name);
	return take_sel(a, cmd);
}

/* Parse the options both subcommands share; 0, or the exit code. */
static int parse(struct sargs *a, int argc, char **argv, const char *cmd)
{
	static const struct option opts[] = {
		{ "contact", required_argument, NULL, 'c' },
		{ "number", required_argument, NULL, 'n' },
		{ "call", required_argument, NULL, 'i' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "tz", required_argument, NULL, 'z' },
		{ "request-id", required_argument, NULL, 'r' },
		{ "reason", required_argument, NULL, 'R' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'c': set_arg(a, SFK_CONTACT, optarg); break;
		case 'n': set_arg(a, SFK_NUMBER, optarg); break;
		case 'f': set_arg(a, SFK_FROM, optarg); break;
		case 't': set_arg(a, SFK_TO, optarg); break;
		case 'z': set_arg(a, SFK_TZ, optarg); break;
		case 'r': a->request_id = optarg; break;
		case 'R': a->reason = optarg; break;
		case 'd': a->dry_run = true; break;
		case 'o': a->out = optarg; break;
		case 'i':
			if (a->n_call_ids == MAX_CALL_IDS)
				return cli_fail(CV_EXIT_USAGE, cmd,
					"at most "
					"%d --call ids",
					MAX_CALL_IDS);
			if (!subject_text_ok(optarg, CALLLOG_MAX_ID))
				return cli_fail(CV_EXIT_USAGE, cmd,
					"--call "
					"needs a call id (UTF-8, at most %d "
					"bytes, no control characters)",
					CALLLOG_MAX_ID);
			a->call_ids = xrealloc(a->call_ids,
				(a->n_call_ids + 1) * sizeof(char *));
			a->call_ids[a->n_call_ids++] = optarg;
			break;
		default: return CV_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_fail(CV_EXIT_USAGE, cmd, "unexpected argument '%s'",
			argv[optind]);
	int who = !!a->arg[SFK_CONTACT].p + !!a->arg[SFK_NUMBER].p +
		  !!a->n_call_ids;
	if (who != 1)
		return cli_fail(CV_EXIT_USAGE, cmd,
			"give exactly one of "
			"--contact, --number%s",
			strcmp(cmd, "subject erase") ? "" : " and --call");
	if (a->n_call_ids && (a->arg[SFK_FROM].p || a->arg[SFK_TO].p))
		return cli_fail(CV_EXIT_USAGE, cmd,
			"--from and --to select "
			"a person's calls, not --call ids");
	return a->n_call_ids ? CV_EXIT_OK : take_sel(a, cmd);
}

static int erase(struct cli *cli, struct sargs *a)
{
	static const char cmd[] = "subject erase";
	if (a->out)
		return cli_fail(CV_EXIT_USAGE, cmd, "--out is for export");
	if (!a->request_id || !a->reason)
		return cli_fail(CV_EXIT_USAGE, cmd,
			"--request-id and "
			"--reason are required");
	if (!subject_text_ok(a->request_id, SUBJECT_REQUEST_MAX) ||
		!subject_text_ok(a->reason, SUBJECT_REASON_MAX))
		return cli_fail(CV_EXIT_USAGE, cmd,
			"--request-id (at most "
			"%d bytes) and --reason (at most %d) must be UTF-8 "
			"text without control characters",
			SUBJECT_REQUEST_MAX, SUBJECT_REASON_MAX);
	struct store *s = cli_open_store(cli, cmd, STORE_NOCREATE);
	int zc = s ? zone_sel(cli, s, a, cmd) : CV_EXIT_FAIL;
	if (zc) {
		store_close(s);
		return zc;
	}
	/* serve's writer commits back to back under a webhook burst, and
	 * SQLite's lock is not fair: an erase batch waited past the store's
	 * 5 s and failed (tools/bench/bench_erase.sh). An erase may wait
	 * longer; it still stops rather than hang. */
	store_set_busy_timeout(s, SUBJECT_BUSY_MS);
	char *key_path = subject_key_path(cli->db_path);
	struct subject_erase_opts o = {
		.sel = a->n_call_ids ? NULL : &a->sel,
		.call_ids = a->call_ids,
		.n_call_ids = a->n_call_ids,
		.request_id = a->request_id,
		.reason = a->reason,
		.actor = cli->actor,
		.dry_run = a->dry_run,
		.out = stdout,
		.key_path = key_path,
		.zone = cli->zone,
	};
	struct subject_erase_stats st;
	char *err = NULL;
	enum cv_err rc = subject_erase(s, &o, &st, &err);
	free(key_path);
	store_close(s);
	int code = CV_EXIT_OK;
	if (rc != CV_OK)
		code = cli_fail(cli_exit_for(rc), cmd, "%s",
			err ? err : cv_strerror(rc));
	else if (st.held && !a->dry_run)
		code = cli_fail(CV_EXIT_FAIL, cmd,
			"%lld call%s held: the "
			"request is not complete until the hold is released",
			(long long)st.held, st.held == 1 ? "" : "s");
	free(err);
	return code;
}

int cli_new_out(const char *cmd, const char *out)
{
	struct stat sb;
	if (!out || !*out)
		return cli_fail(CV_EXIT_USAGE, cmd,
			"--out FILE.tar.zst is "
			"required");
	if (!subject_text_ok(out, 4096))
		return cli_fail(CV_EXIT_USAGE, cmd,
			"--out must be a UTF-8 "
			"path without control characters (it is audited)");
	if (stat(out, &sb) == 0)
		return cli_fail(CV_EXIT_USAGE, cmd,
			"%s exists; it is not "
			"overwritten",
			out);
	return CV_EXIT_OK;
}

static int export(struct cli *cli, struct sargs *a)
{
	static const char cmd[] = "subject export";
	if (a->n_call_ids || a->request_id || a->reason || a->dry_run)
		return cli_fail(CV_EXIT_USAGE, cmd,
			"--call, --request-id, "
			"--reason and --dry-run are for erase");
	int oc = cli_new_out(cmd, a->out);
	if (oc != CV_EXIT_OK)
		return oc;
	/* signed like an evidence package when the site has a key */
	struct sitekey *key = NULL;
	int kc = cli_site_key(cli, cmd, NULL, &key);
	if (kc != CV_EXIT_OK)
		return kc;
	struct store *s = cli_open_store(cli, cmd, STORE_NOCREATE);
	int zc = s ? zone_sel(cli, s, a, cmd) : CV_EXIT_FAIL;
	if (zc) {
		store_close(s);
		sitekey_destroy(key);
		return zc;
	}
	struct subject_export_opts o = {
		.sel = &a->sel,
		.out_path = a->out,
		.actor = cli->actor,
		.os_user = cli->os_user,
		.key = key,
	};
	struct subject_export_stats st;
	char *err = NULL;
	enum cv_err rc = subject_export(s, &o, &st, &err);
	store_close(s);
	sitekey_destroy(key);
	int code = CV_EXIT_OK;
	if (rc != CV_OK)
		code = cli_fail(cli_exit_for(rc), cmd, "%s",
			err ? err : cv_strerror(rc));
	else if (!st.calls)
		printf("0 calls: nothing matched, nothing written\n");
	else
		printf("%s: %lld call%s, %lld version%s, %llu bytes, sha256 "
		       "%s\n",
			a->out, (long long)st.calls, st.calls == 1 ? "" : "s",
			(long long)st.versions, st.versions == 1 ? "" : "s",
			(unsigned long long)st.size, st.sha256);
	if (rc == CV_OK && st.calls)
		printf("%lld recording%s; %s\n", (long long)st.recordings,
			st.recordings == 1 ? "" : "s",
			st.is_signed ? "signed by the site key" : "not signed");
	free(err);
	return code;
}

static int run(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_fail(CV_EXIT_USAGE, "subject",
			"erase or export? "
			"(see --help)");
	bool is_erase = strcmp(argv[1], "erase") == 0;
	if (!is_erase && strcmp(argv[1], "export") != 0)
		return cli_fail(CV_EXIT_USAGE, "subject",
			"unknown subcommand "
			"'%s' (erase or export)",
			argv[1]);
	struct sargs a = { 0 };
	int code = parse(&a, argc - 1, argv + 1,
		is_erase ? "subject erase" : "subject export");
	if (code == CV_EXIT_OK)
		code = is_erase ? erase(cli, &a) : export(cli, &a);
	free(a.call_ids);
	return code;
}

const struct cli_cmd cmd_subject = {
	.name = "subject",
	.summary = "data-subject requests: erase or export one person's calls",
	.help = "usage: callvault [--db PATH] subject erase (--contact ID |\n"
		"         --number PHONE | --call ID…) [--from TIME] [--to TIME]\n"
		"         --request-id R --reason TEXT [--dry-run]\n"
		"       callvault [--db PATH] subject export (--contact ID |\n"
		"         --number PHONE) [--from TIME] [--to TIME]\n"
		"         --out FILE.tar.zst\n"
		"\n"
		"erase removes the person's calls from the live store: every version,\n"
		"the raw payloads no other call shares, the webhook events, the\n"
		"fetch queue, its recordings and timed transcriptions (the files in\n"
		"the blob store once the batch commits) and the search and digit\n"
		"index rows, 500 calls per\n"
		"transaction. Each erased call leaves a tombstone (its id, location\n"
		"and messageId, \"erasure: request R\"; no content), so sync,\n"
		"webhooks, import and restore drop it instead of bringing it back.\n"
		"Erasing by contact or number, the tombstone also keeps an\n"
		"HMAC-SHA256 of it under the key in STORE.erasure-key (mode 0600,\n"
		"beside the store, made by the first such erasure; refused when\n"
		"others may read it), and earlier erasures of the same person are\n"
		"listed. Every archive bag written later carries the location's\n"
		"erasures (data/erasures.jsonl), which restore honours.\n"
		"A call an active legal hold covers is not erased (holds win): it is\n"
		"listed with its holds, and the exit code is 1. The archives that\n"
		"still hold erased calls are listed with the end of their retention:\n"
		"callvault never changes an archive. The audit log gets the request\n"
		"id, the reason, the counts and the call ids, never the contact,\n"
		"number or content. Nothing matched: nothing written (exit 0).\n"
		"\n"
		"export writes every call of the person, each with all its versions\n"
		"(canonical JSON, source, received time, SHA-256 of the bytes as\n"
		"received), transcript and webhook events, with a load file and a\n"
		"chain-of-custody report, as a BagIt bag in a tar.zst (mode 0600),\n"
		"the format of `evidence export` (docs/evidence.md): tar, zstd and\n"
		"sha256sum check it without callvault. The export is audited. An\n"
		"existing FILE is not overwritten. At most 50,000 calls.\n"
		"\n"
		"  --contact ID     the person's contact id (contactId)\n"
		"  --number PHONE   the caller's number, compared in E.164\n"
		"  --call ID        (erase) this call; repeatable\n"
		"  --from, --to TIME  only calls created in this range (inclusive;\n"
		"                   YYYY-MM-DD or ISO 8601); --tz ZONE reads times\n"
		"                   without an offset in ZONE (default: the store's\n"
		"                   zone, callvault config set timezone; else UTC)\n"
		"  --request-id R   (erase) the request served, for the audit log\n"
		"  --reason TEXT    (erase) why, for the audit log\n"
		"  --dry-run        (erase) say what would happen and why; write\n"
		"                   nothing\n"
		"  --out FILE       (export) the package to write\n"
		"\n"
		"See docs/subjects.md.\n",
	.run = run,
};
