/* cmd_backup.c — `callvault backup --out FILE`: a verified online copy */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../media_backup.h"
#include "../store/store_audit.h"
#include "../store/store_status.h"
#include "cli.h"

/* The recordings a backup copied beside it (<out>.blobs). */
struct blobs {
	const char *live, *out;
	int64_t n, bytes;
};

static enum cv_err copy_blobs(const char *copy_path, void *arg, char **errmsg)
{
	struct blobs *b = arg;
	return media_backup(b->live, copy_path, b->out, &b->n, &b->bytes,
		errmsg);
}

/* The audit entry's detail: where the copy went and what it holds. */
static char *detail_json(const char *out, const struct store_backup_counts *c,
	const struct blobs *b)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"out", out, "calls", (json_int_t)c->calls, "versions",
		(json_int_t)c->versions, "payloads", (json_int_t)c->payloads,
		"events", (json_int_t)c->events, "audit", (json_int_t)c->audit,
		"bytes", (json_int_t)c->bytes, "recordings", (json_int_t)b->n,
		"recording_bytes", (json_int_t)b->bytes);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return s;
}

static int backup(struct cli *cli, struct store *s, const char *out)
{
	struct store_backup_counts c;
	struct blobs b = { .live = cli->db_path, .out = out };
	char *err = NULL;
	char *blobdir = xasprintf("%s.blobs", out);
	enum cv_err rc = access(blobdir, F_OK) == 0
				 ? cv_error(&err, CV_EINVAL,
					   "%s exists; a backup never "
					   "overwrites",
					   blobdir)
				 : store_backup(s, out, copy_blobs, &b, &c,
					   &err);
	free(blobdir);
	if (rc == CV_OK) {
		char *d = detail_json(out, &c, &b);
		if (!d)
			rc = cv_error(&err, CV_ENOMEM, "audit detail");
		else
			rc = store_audit_append(s, cli->actor, "backup", d,
				c.calls, &err);
		free(d);
		if (rc != CV_OK) { /* an unaudited copy is not kept */
			remove(out);
			media_backup_discard(out);
		}
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
	if (b.n)
		printf("recordings %s.blobs: %lld blobs, %lld bytes, each "
		       "hashed to its name\n",
			out, (long long)b.n, (long long)b.bytes);
	return CV_EXIT_OK;
}

static int run(struct cli *cli, int argc, char **argv)
{
	const char *out;
	int code = cli_out_only(argc, argv, "backup", &out);
	if (code != CV_EXIT_OK)
		return code;
	if (!out || !*out)
		return cli_fail(CV_EXIT_USAGE, "backup",
			"--out FILE is required");
	struct store *s = cli_open_store(cli, "backup", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	code = backup(cli, s, out);
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
		"work on it.\nThe call recordings its rows name are copied "
		"from the blob store\n(<db>.blobs/) into FILE.blobs/, each "
		"hashed while copied, before FILE\nappears; FILE.blobs must "
		"not exist either.\nSecrets of `location add` live in files beside "
		"the store (<db>.secrets/)\nand are not in the copy; back "
		"them up separately. Exit 3 when the copy\ndoes not verify "
		"(nothing is left at FILE).\n",
	.run = run,
};
