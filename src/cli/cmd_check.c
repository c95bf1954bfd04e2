/* cmd_check.c — `callvault check`: integrity of the store */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../blob.h"
#include "../recordings.h"
#include "../store/store_storage.h"
#include "../util.h"
#include "cli.h"

/* Warn (on stderr; not a failure) about each of the store's files that
 * users other than its owner and group can read: transcripts, password
 * hashes and the audit log are in them. callvault creates them 0600;
 * an older store, or a copy, may not be. */
static void warn_readable(const char *db)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < CV_ARRAY_LEN(sfx); i++) {
		char *p = xasprintf("%s%s", db, sfx[i]);
		struct stat st;
		if (stat(p, &st) == 0 && (st.st_mode & S_IROTH))
			fprintf(stderr,
				"callvault check: warning: %s is "
				"readable by other users (mode %04o); "
				"chmod o-rwx it\n",
				p, (unsigned)(st.st_mode & 07777));
		free(p);
	}
}

struct said {
	struct store *s;
	struct blobstore *b;
	int64_t remote; /* rows whose blob is only in an S3 target */
};

/* A row whose blob is not in the local blob store but recorded in an S3
 * target (`storage evict` removed it; `recording get` fetches it back):
 * not a problem here, `storage verify` checks the bucket copy. */
static bool only_remote(struct said *a, enum rec_problem p, const char *name)
{
	struct store_remote_blob *v = NULL;
	size_t n = 0;
	if (p != RP_MISSING || (a->b && blob_exists(a->b, name, NULL)) ||
		store_remote_blob_list(a->s, NULL, name, &v, &n, NULL) != CV_OK)
		return false;
	store_remote_blobs_free(v, n);
	return n > 0;
}

static void say_problem(enum rec_problem p, const char *name,
	const char *message_id, const char *detail, void *arg)
{
	struct said *a = arg;
	if (only_remote(a, p, name)) {
		a->remote++;
		return;
	}
	fprintf(stderr, "callvault check: recording %s %s%s%s: %s\n",
		rec_problem_name(p), name, message_id ? " of message " : "",
		message_id ? message_id : "", detail ? detail : "");
}

/* Every recording row's blob there (and with deep, hashing to its
 * name); every blob named by a row. */
static enum cv_err check_recordings(struct store *s, const char *db, bool deep,
	char **err)
{
	struct rec_check r;
	struct said a = { .s = s };
	char *e = NULL;
	if (blob_open(&a.b, db, false, &e) != CV_OK)
		a.b = NULL;
	free(e);
	enum cv_err rc = recordings_check(s, db, deep, say_problem, &a, &r,
		err);
	blob_close(a.b);
	if (rc != CV_OK)
		return rc;
	r.problems -= a.remote;
	if (r.problems)
		return cv_error(err, CV_EINTEGRITY,
			"%lld problem(s) with "
			"recordings (%lld rows, %lld blobs; listed above)",
			(long long)r.problems, (long long)r.rows,
			(long long)r.blobs);
	printf("ok: %lld recordings, %lld blobs%s\n", (long long)r.rows,
		(long long)r.blobs,
		deep ? ", every blob hashes to its name"
		     : " (--deep also hashes them)");
	if (a.remote)
		printf("ok: %lld recording(s) kept only in an S3 target "
		       "(evicted; `storage verify` checks them there)\n",
			(long long)a.remote);
	return CV_OK;
}

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "deep", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	bool deep = false;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c != 'd')
			return CV_EXIT_USAGE;
		deep = true;
	}
	if (optind < argc)
		return cli_fail(CV_EXIT_USAGE, "check",
			"unexpected argument "
			"'%s'",
			argv[optind]);
	struct store *s = cli_open_store(cli, "check", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	warn_readable(cli->db_path);
	char *err = NULL;
	enum cv_err rc = store_check(s, &err);
	if (rc == CV_OK)
		printf("ok: SQLite integrity_check, FTS5 integrity-check, "
		       "term list and call/version links\n");
	if (rc == CV_OK)
		rc = check_recordings(s, cli->db_path, deep, &err);
	store_close(s);
	if (rc != CV_OK) {
		int code = cli_fail(cli_exit_for(rc) == CV_EXIT_INTEGRITY
					    ? CV_EXIT_INTEGRITY
					    : CV_EXIT_FAIL,
			"check", "%s", err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	return CV_EXIT_OK;
}

const struct cli_cmd cmd_check = {
	.name = "check",
	.summary = "check the store's integrity (SQLite, FTS5, versions, "
		   "recordings)",
	.help = "usage: callvault [--db PATH] check [--deep]\n"
		"\n"
		"Run SQLite's integrity_check, the FTS5 integrity-check of "
		"both search\nindexes, check that the term list holds every "
		"word of the index and that\nevery call points at its "
		"current version. Then check that every\nrecording row's "
		"blob is in the blob store beside the store, and that\nevery "
		"blob there has a row (each problem named on stderr).\n"
		"  --deep  also hash every recording: its bytes must hash to "
		"its name\nExit 0 when all pass, 3 naming the problem "
		"otherwise.\nWarns (without failing) when the store, "
		"its -wal or its -shm file can be\nread by users other than "
		"the owner and group.\n",
	.run = run,
};
