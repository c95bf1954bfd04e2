/* cmd_backup.c — `callvault backup --out FILE`: a verified online copy */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "../store/store_audit.h"
#include "../store/store_status.h"
#include "cli.h"

/* The audit entry's detail: where the copy went and what it holds. */
static char *detail_json(const char *out,
	const struct store_backup_counts *c)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "out",
		out, "calls", (json_int_t)c->calls, "versions",
		(json_int_t)c->versions, "payloads", (json_int_t)c->payloads,
		"events", (json_int_t)c->events, "audit",
		(json_int_t)c->audit, "bytes", (json_int_t)c->bytes);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return s;
}

static int backup(struct cli *cli, struct store *s, const char *out)
{
	struct store_backup_counts c;
	char *err = NULL;
	enum cv_err rc = store_backup(s, out, &c, &err);
	if (rc == CV_OK) {
		char *d = detail_json(out, &c);
		if (!d)
			rc = cv_error(&err, CV_ENOMEM, "audit detail");
		else
			rc = store_audit_append(s, cli->actor, "backup", d,
				c.calls, &err);
		free(d);
		if (rc != CV_OK)   /* an unaudited copy is not kept */
			remove(out);
	}
	if (rc != CV_OK) {
		int code = cli_fail(cli_exit_for(rc), "backup", "%s",
			err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	printf("backup %s: %lld bytes, %lld calls, %lld versions, %lld "
	       "payloads, %lld events, %lld audit entries; integrity_check "
	       "ok, counts match\n",
		out, (long long)c.bytes, (long long)c.calls,
		(long long)c.versions, (long long)c.payloads,
		(long long)c.events, (long long)c.audit);
	return CV_EXIT_OK;
}

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c != 'o')
			return CV_EXIT_USAGE;
		out = optarg;
	}
	if (optind < argc)
		return cli_fail(CV_EXIT_USAGE, "backup",
			"unexpected argument '%s'", argv[optind]);
	if (!out || !*out)
		return cli_fail(CV_EXIT_USAGE, "backup",
			"--out FILE is required");
	struct store *s = cli_open_store(cli, "backup", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	int code = backup(cli, s, out);
	store_close(s);
	return code;
}

const struct cli_cmd cmd_backup = {
	.name = "backup",
	.summary = "a consistent, verified copy of the store (online)",
	.help = "usage: callvault [--db PATH] backup --out FILE\n"
		"\n"
		"Copy the store while serve, sync and the console keep "
		"working: SQLite's\nonline backup API copies one snapshot "
		"into FILE.tmp.PID beside FILE\n(created 0600), which is "
		"fsynced, then opened and checked: PRAGMA\nintegrity_check "
		"must pass and the copy must hold the snapshot's numbers\nof "
		"calls, versions, raw payloads, webhook events and audit "
		"entries. Only\nthen is it renamed to FILE (and the "
		"directory fsynced), and the backup is\nrecorded in the "
		"audit log. FILE must not exist. The copy is a complete\n"
		"store: `callvault --db FILE check` and every read command "
		"work on it.\nSecrets of `location add` live in files beside "
		"the store (<db>.secrets/)\nand are not in the copy; back "
		"them up separately. Exit 3 when the copy\ndoes not verify "
		"(nothing is left at FILE).\n",
	.run = run,
};
