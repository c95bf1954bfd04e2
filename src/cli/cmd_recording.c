/* cmd_recording.c — `callvault recording get CALL_ID --out FILE` */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../blob.h"
#include "../recordings.h"
#include "../store/store_audit.h"
#include "../store/store_recordings.h"
#include "../util.h"
#include "cli.h"
#ifndef CV_LEAN
#include "storage.h"
#endif

/* The request is audited before a byte is written, as `show` is. */
static enum cv_err audit_get(struct store *s, struct cli *cli, const char *id,
	const struct store_recording *r, const char *out, char **err)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "id", id, "sha256",
		r->sha256, "out", out, "size", (json_int_t)r->size);
	char *detail = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	enum cv_err rc = store_audit_append(s, cli->actor, "recording get",
		detail, 1, err);
	free(detail);
	return rc;
}

/* Copy recording r to out (atomically: whole or not at all). */
static enum cv_err write_out(const char *db, const struct store_recording *r,
	const char *out, char **err)
{
	struct blobstore *b = NULL;
	enum cv_err rc = blob_open(&b, db, false, err);
	if (rc == CV_ENOTFOUND)
		rc = CV_EINTEGRITY; /* a row without its blob store */
	struct sink *k = NULL;
	if (rc == CV_OK)
		rc = sink_open_file(&k, out, 0600, err);
	int64_t n = 0;
	if (rc == CV_OK)
		rc = recording_copy(b, r->sha256, k, &n, err);
	if (rc == CV_OK)
		rc = sink_commit(k, err);
	sink_destroy(k);
	blob_close(b);
	return rc;
}

/* Not in the local blob store: fetch it back from the S3 target that
 * holds it (callvault-full has the S3 client), hash-checked. */
static enum cv_err fetch_missing(struct cli *cli, struct store *s,
	const struct store_recording *r, char **err)
{
	struct blobstore *b = NULL;
	if (blob_open(&b, cli->db_path, true, err) != CV_OK)
		return CV_EIO;
	enum cv_err rc = CV_OK;
	if (!blob_exists(b, r->sha256, NULL)) {
#ifdef CV_LEAN
		blob_close(b);
		store_close(s);
		exit(cli_exec_full(cli));
#else
		rc = storage_blob_fetch(s, b, r->sha256, stderr, err);
		if (rc == CV_ENOTFOUND)
			rc = CV_EINTEGRITY; /* the row's blob is gone */
#endif
	}
	blob_close(b);
	return rc;
}

static int get(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	bool force = false;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'f')
			force = true;
		else
			return CV_EXIT_USAGE;
	}
	if (optind + 1 != argc || !out)
		return cli_fail(CV_EXIT_USAGE, "recording get",
			"usage: "
			"callvault recording get CALL_ID --out FILE [--force]");
	const char *id = argv[optind];
	struct stat st;
	if (!force && lstat(out, &st) == 0)
		return cli_fail(CV_EXIT_USAGE, "recording get",
			"%s exists "
			"(--force replaces it)",
			out);
	struct store *s = cli_open_store(cli, "recording get", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	struct store_recording *v = NULL;
	size_t n = 0;
	char *err = NULL;
	enum cv_err rc = store_recordings_of_call(s, id, &v, &n, &err);
	if (rc == CV_OK && n == 0)
		rc = cv_error(&err, CV_ENOTFOUND,
			"no recording of call %s "
			"(see `callvault status` for what is pending)",
			id);
	/* the newest, when the same message was fetched twice with
	 * different bytes (both rows are kept) */
	const struct store_recording *r = n ? &v[n - 1] : NULL;
	if (rc == CV_OK)
		rc = fetch_missing(cli, s, r, &err);
	if (rc == CV_OK)
		rc = audit_get(s, cli, id, r, out, &err);
	if (rc == CV_OK)
		rc = write_out(cli->db_path, r, out, &err);
	/* evicted again (`storage evict`) between the fetch and the copy:
	 * fetch it again, a few times */
	for (int i = 0; r && i < 3 && rc == CV_ENOTFOUND; i++) {
		free(err);
		err = NULL;
		rc = fetch_missing(cli, s, r, &err);
		if (rc == CV_OK)
			rc = write_out(cli->db_path, r, out, &err);
	}
	if (r && rc == CV_ENOTFOUND)
		rc = CV_EINTEGRITY; /* the row's blob is gone */
	if (rc == CV_OK)
		printf("%s: %lld bytes, sha256 %s\n", out, (long long)r->size,
			r->sha256);
	store_recordings_free(v, n);
	store_close(s);
	if (rc != CV_OK) {
		int code = cli_fail(cli_exit_for(rc), "recording get", "%s",
			err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	return CV_EXIT_OK;
}

static int run(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "get") != 0)
		return cli_fail(CV_EXIT_USAGE, "recording",
			"usage: callvault "
			"recording get CALL_ID --out FILE [--force]");
	return get(cli, argc - 1, argv + 1);
}

const struct cli_cmd cmd_recording = {
	.name = "recording",
	.summary = "write a call's recording to a file, as received",
	.help = "usage: callvault [--db PATH] recording get CALL_ID --out "
		"FILE [--force]\n"
		"\n"
		"Write the recording of the call (the newest, when the same "
		"message was\nfetched with different bytes) to FILE, exactly "
		"the bytes received from\nHighLevel, mode 0600, whole or not "
		"at all. A recording no longer in the local blob\nstore is "
		"fetched back from the S3 target it was archived to\n"
		"(docs/object-storage.md), checked against its SHA-256 and "
		"kept in the\nblob store again. The bytes are hashed as they "
		"are copied: when they "
		"no longer hash to the name they were stored under,\nnothing "
		"is written and the exit is 3. Each request is recorded in "
		"the\naudit log first.\n"
		"  --out FILE  where to write (required)\n"
		"  --force     replace FILE when it exists (refused otherwise, "
		"exit 2)\n"
		"\nExit 0 written, 1 I/O error, 2 usage or no recording of that "
		"call, 3\nthe stored recording is damaged or missing from the "
		"blob store.\n",
	.run = run,
};
