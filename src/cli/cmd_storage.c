/* cmd_storage.c — `callvault storage add|list|check|gc|verify`: S3 archive
 * targets with Object Lock (issue 24) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "../store/store_audit.h"
#include "../store/store_storage.h"
#include "../util.h"
#include "cli.h"
#include "storage.h"

/* A key file must exist and be the owner's alone; its contents are read
 * only when the target is used. */
static bool key_file_ok(const char *path, const char *opt)
{
	struct stat st;
	if (!path) {
		cli_fail(CV_EXIT_USAGE, "storage", "%s FILE is required", opt);
		return false;
	}
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		cli_fail(CV_EXIT_USAGE, "storage",
			"%s %s: not a readable "
			"file",
			opt, path);
		return false;
	}
	if (st.st_mode & 077) {
		cli_fail(CV_EXIT_USAGE, "storage",
			"%s %s is readable by group "
			"or others (mode %03o); chmod 600 it",
			opt, path, (unsigned)(st.st_mode & 0777));
		return false;
	}
	return true;
}

/* S3 bucket names: 3-63 of [a-z0-9.-]. */
static bool bucket_ok(const char *b)
{
	size_t n = strlen(b);
	return n >= 3 && n <= 63 &&
	       strspn(b, "abcdefghijklmnopqrstuvwxyz"
			 "0123456789.-") == n;
}

static int fail_rc(const char *what, enum cv_err rc, char *err)
{
	int code = cli_fail(rc == CV_EINVAL ? CV_EXIT_FAIL : cli_exit_for(rc),
		"storage", "%s%s%s", what, *what ? ": " : "",
		err ? err : cv_strerror(rc));
	free(err);
	return code;
}

static char *abs_path(const char *p)
{
	char *r = realpath(p, NULL);
	return r ? r : xstrdup(p);
}

static int add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "bucket", required_argument, NULL, 'b' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "region", required_argument, NULL, 'r' },
		{ "path-style", no_argument, NULL, 'P' },
		{ "access-key-file", required_argument, NULL, 'a' },
		{ "secret-key-file", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "default", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_storage t = { .region = "us-east-1",
		.prefix = "",
		.lock_mode = "COMPLIANCE" };
	const char *ak = NULL, *sk = NULL;
	enum s3_lock_mode mode;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'e': t.endpoint = optarg; break;
		case 'b': t.bucket = optarg; break;
		case 'p': t.prefix = optarg; break;
		case 'r': t.region = optarg; break;
		case 'P': t.path_style = true; break;
		case 'a': ak = optarg; break;
		case 's': sk = optarg; break;
		case 'd': t.is_default = true; break;
		case 'm':
			if (!s3_lock_mode_parse(optarg, &mode))
				return cli_fail(CV_EXIT_USAGE, "storage",
					"--mode is COMPLIANCE or GOVERNANCE");
			t.lock_mode = (char *)s3_lock_mode_name(mode);
			break;
		default: return CV_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_fail(CV_EXIT_USAGE, "storage", "add takes one NAME");
	t.name = argv[optind];
	if (!*t.name || strlen(t.name) > 64 || strchr(t.name, '/'))
		return cli_fail(CV_EXIT_USAGE, "storage",
			"NAME: 1-64 bytes, "
			"no '/'");
	if (!t.endpoint || (strncmp(t.endpoint, "http://", 7) &&
				   strncmp(t.endpoint, "https://", 8)))
		return cli_fail(CV_EXIT_USAGE, "storage",
			"--endpoint must be "
			"an http:// or https:// URL");
	if (!t.bucket || !bucket_ok(t.bucket))
		return cli_fail(CV_EXIT_USAGE, "storage",
			"--bucket must be "
			"3-63 of a-z 0-9 . -");
	if (*t.prefix == '/' || strlen(t.prefix) > 512)
		return cli_fail(CV_EXIT_USAGE, "storage",
			"--prefix: no "
			"leading '/', at most 512 bytes");
	if (!key_file_ok(ak, "--access-key-file") ||
		!key_file_ok(sk, "--secret-key-file"))
		return CV_EXIT_USAGE;
	char *pfx = NULL;
	if (*t.prefix && t.prefix[strlen(t.prefix) - 1] != '/')
		t.prefix = pfx = xasprintf("%s/", t.prefix);
	t.access_key_file = abs_path(ak);
	t.secret_key_file = abs_path(sk);
	struct store *s = cli_open_store(cli, "storage", STORE_NOCREATE);
	char *err = NULL;
	enum cv_err rc = s ? store_storage_add(s, &t, cli->actor, &err)
			   : CV_EDB;
	char *d = xasprintf("{\"storage\":\"%s\",\"bucket\":\"%s\"}", t.name,
		t.bucket);
	if (rc == CV_OK)
		rc = store_audit_append(s, cli->actor, "storage-add", d, 0,
			&err);
	free(d);
	free(t.access_key_file);
	free(t.secret_key_file);
	store_close(s);
	if (rc == CV_OK)
		printf("storage %s added (s3://%s/%s, %s); run `callvault "
		       "storage check %s`\n",
			t.name, t.bucket, t.prefix, t.lock_mode, t.name);
	free(pfx);
	if (!s)
		return CV_EXIT_FAIL;
	return rc == CV_OK ? CV_EXIT_OK : fail_rc("", rc, err);
}

static int list(struct cli *cli, int argc, char **argv)
{
	if (argc != 1)
		return cli_fail(CV_EXIT_USAGE, "storage", "list takes nothing");
	struct store *s = cli_open_store(cli, "storage", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	struct store_storage *v;
	size_t n;
	char *err = NULL;
	enum cv_err rc = store_storage_list(s, &v, &n, &err);
	store_close(s);
	if (rc != CV_OK)
		return fail_rc("", rc, err);
	struct cv_safe k = { 0 };
	for (size_t i = 0; i < n; i++)
		printf("%s%s  %s  s3://%s/%s  %s%s  region %s\n",
			cv_safe(&k, v[i].name),
			v[i].is_default ? " (default)" : "",
			cv_safe(&k, v[i].endpoint), v[i].bucket,
			cv_safe(&k, v[i].prefix), v[i].lock_mode,
			v[i].path_style ? "  path-style" : "",
			cv_safe(&k, v[i].region));
	cv_safe_finish(&k);
	store_storages_free(v, n);
	return CV_EXIT_OK;
}

/* Forget a target. The objects stay in the bucket (nothing is deleted,
 * nor could be before their dates); the store's records of them stay
 * too, naming the target, so that adding it again under the same NAME
 * reaches them again. */
static int remove_target(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c != 'f')
			return CV_EXIT_USAGE;
		force = true;
	}
	if (optind + 1 != argc)
		return cli_fail(CV_EXIT_USAGE, "storage",
			"remove takes one "
			"NAME");
	const char *name = argv[optind];
	struct store *s = cli_open_store(cli, "storage", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	struct store_storage t;
	int64_t na = 0, nb = 0;
	char *err = NULL;
	enum cv_err rc = store_storage_get(s, name, &t, &err);
	if (rc == CV_OK)
		rc = store_remote_count(s, name, &na, &nb, &err);
	if (rc == CV_OK && (na || nb) && !force) {
		int code = cli_fail(CV_EXIT_FAIL, "storage",
			"remove %s: the "
			"store records %lld archive(s) and %lld recording(s) "
			"in s3://%s/%s. Without the target, storage verify, "
			"restore --from, recording get and the legal holds "
			"cannot reach them, and purge relies on their last "
			"verify. --force removes it anyway: the objects stay "
			"in the bucket, locked (nothing is deleted), and the "
			"store keeps its records of them, reachable again by "
			"adding a target of this name",
			name, (long long)na, (long long)nb, t.bucket, t.prefix);
		store_storage_finish(&t);
		store_close(s);
		return code;
	}
	char *d = NULL;
	if (rc == CV_OK) {
		/* names and buckets are the operator's text: jansson quotes */
		json_t *o = json_pack("{s:s,s:s,s:I,s:I}", "storage", t.name,
			"bucket", t.bucket, "archives", (json_int_t)na,
			"recordings", (json_int_t)nb);
		d = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (!d)
			rc = cv_error(&err, CV_ENOMEM, "audit detail");
		rc = store_begin(s, &err);
	}
	if (rc == CV_OK)
		rc = store_storage_remove(s, name, &err);
	if (rc == CV_OK)
		rc = store_audit_append(s, cli->actor, "storage-remove", d, 0,
			&err);
	if (rc == CV_OK)
		rc = store_commit(s, &err);
	else if (d)
		store_rollback(s);
	free(d);
	if (rc == CV_OK)
		printf("storage %s removed (nothing deleted in s3://%s/%s%s)\n",
			name, t.bucket, t.prefix,
			na || nb ? "; the store still records what is there"
				 : "");
	store_storage_finish(&t); /* zeroed when not found */
	store_close(s);
	return rc == CV_OK ? CV_EXIT_OK : fail_rc("remove", rc, err);
}

/* check, gc and verify: one target, a client for it. */
static int with_target(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "older-than-hours", required_argument, NULL, 'o' },
		{ "deep", no_argument, NULL, 'D' },
		{ "prefix", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sub = argv[0], *prefix = NULL;
	long hours = 24;
	bool deep = false;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'D' && !strcmp(sub, "verify")) {
			deep = true;
			continue;
		}
		if (c == 'p' && !strcmp(sub, "verify") && *optarg) {
			prefix = optarg;
			continue;
		}
		if (c == 'p')
			return cli_fail(CV_EXIT_USAGE, "storage",
				"%s: --prefix P (not empty) is for verify "
				"only",
				sub);
		if (c == 'D')
			return cli_fail(CV_EXIT_USAGE, "storage",
				"%s: --deep "
				"is for verify only",
				sub);
		if (c != 'o' || strcmp(sub, "gc") ||
			!cli_parse_long(optarg, 0, 24 * 3650, &hours))
			return cli_fail(CV_EXIT_USAGE, "storage",
				"%s: "
				"--older-than-hours N is for gc only",
				sub);
	}
	if (optind + 1 < argc)
		return cli_fail(CV_EXIT_USAGE, "storage", "%s takes one NAME",
			sub);
	const char *name = optind < argc ? argv[optind] : NULL;
	struct store *s = cli_open_store(cli, "storage", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	char *err = NULL;
	enum cv_err rc;
	if (!strcmp(sub, "verify")) {
		struct storage_verify_opts o = { .name = name,
			.out = stdout,
			.deep = deep,
			.prefix = prefix };
		rc = storage_verify(s, &o, &err);
		store_close(s);
		return rc == CV_OK ? CV_EXIT_OK : fail_rc("verify", rc, err);
	}
	if (!strcmp(sub, "holds")) {
		rc = storage_mirror_holds(s, name, stdout, &err);
		store_close(s);
		return rc == CV_OK ? CV_EXIT_OK : fail_rc("holds", rc, err);
	}
	struct store_storage t;
	struct s3 *cl = NULL;
	rc = storage_open(s, name, &t, &cl, &err);
	store_close(s);
	if (rc != CV_OK)
		return fail_rc("", rc, err);
	size_t n = 0;
	if (!strcmp(sub, "check"))
		rc = storage_check(cl, stdout, &err);
	else
		rc = storage_gc(cl, hours * 3600000, cv_now_ms(), stdout, &n,
			&err);
	if (rc == CV_OK && !strcmp(sub, "check"))
		printf("storage %s: ready for locked archives (%s)\n", t.name,
			t.lock_mode);
	else if (rc == CV_OK)
		printf("%zu unfinished upload(s) aborted\n", n);
	s3_destroy(cl);
	char *what = xasprintf("%s %s", sub, t.name);
	store_storage_finish(&t);
	int code = rc == CV_OK ? CV_EXIT_OK : fail_rc(what, rc, err);
	free(what);
	return code;
}

/* YYYY-MM */
static bool month_ok(const char *m)
{
	return strlen(m) == 7 && strspn(m, "0123456789") == 4 && m[4] == '-' &&
	       strspn(m + 5, "0123456789") == 2 && atoi(m + 5) >= 1 &&
	       atoi(m + 5) <= 12;
}

static int evict(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "month", required_argument, NULL, 'm' },
		{ "before", required_argument, NULL, 'b' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct storage_evict_opts o = { .actor = cli->actor, .out = stdout };
	const char *month = NULL;
	char next[32];
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if ((c == 'm' || c == 'b') && (month || !month_ok(optarg)))
			return cli_fail(CV_EXIT_USAGE, "storage evict",
				"one --month or --before YYYY-MM");
		if (c == 'm' || c == 'b')
			month = optarg;
		if (c == 'm') {
			int y = atoi(optarg), mo = atoi(optarg + 5);
			snprintf(next, sizeof next, "%04d-%02d",
				mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1);
			o.from = optarg;
			o.to = next;
		} else if (c == 'b') {
			o.to = optarg;
		} else if (c == 'n') {
			o.dry_run = true;
		} else if (c == 'v') {
			o.verbose = true;
		} else if (c != 'm' && c != 'b') {
			return CV_EXIT_USAGE;
		}
	}
	if (optind + 1 < argc)
		return cli_fail(CV_EXIT_USAGE, "storage",
			"evict takes one NAME");
	o.name = optind < argc ? argv[optind] : NULL;
	struct store *s = cli_open_store(cli, "storage", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	struct storage_evict_stats st;
	char *err = NULL;
	enum cv_err rc = storage_evict(s, &o, &st, &err);
	store_close(s);
	if (rc == CV_OK || rc == CV_EINTEGRITY)
		printf("%s %lld recording(s), %lld bytes freed%s; %lld kept "
		       "(not eligible), %lld refused, %lld already only in "
		       "the bucket\n",
			o.dry_run ? "would evict" : "evicted",
			(long long)st.evicted, (long long)st.bytes,
			o.dry_run ? " (dry run: nothing removed)" : "",
			(long long)st.kept, (long long)st.refused,
			(long long)st.remote_only);
	return rc == CV_OK ? CV_EXIT_OK : fail_rc("evict", rc, err);
}

static int run(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_fail(CV_EXIT_USAGE, "storage",
			"add, list, remove, "
			"check, gc, verify, holds or evict? (callvault storage "
			"--help)");
	const char *sub = argv[1];
	if (!strcmp(sub, "add"))
		return add(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return list(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "remove"))
		return remove_target(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "evict"))
		return evict(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "check") || !strcmp(sub, "gc") ||
		!strcmp(sub, "verify") || !strcmp(sub, "holds"))
		return with_target(cli, argc - 1, argv + 1);
	return cli_fail(CV_EXIT_USAGE, "storage", "unknown subcommand %s", sub);
}

const struct cli_cmd cmd_storage = {
	.name = "storage",
	.summary = "S3 archive targets with Object Lock: add, list, remove, "
		   "check, gc, verify, holds, evict",
	.help = "usage: callvault [--db PATH] storage add NAME --endpoint URL "
		"--bucket B\n"
		"                 [--prefix P] [--region R] [--path-style] "
		"[--mode M]\n"
		"                 [--default] --access-key-file F "
		"--secret-key-file F\n"
		"       callvault storage list\n"
		"       callvault storage remove NAME [--force]\n"
		"       callvault storage check [NAME]\n"
		"       callvault storage gc [NAME] [--older-than-hours N]\n"
		"       callvault storage verify [--deep] [--prefix P] [NAME]\n"
		"       callvault storage holds [NAME]\n"
		"       callvault storage evict [NAME] [--month YYYY-MM | "
		"--before YYYY-MM]\n"
		"                 [--dry-run] [--verbose]\n"
		"\n"
		"An S3 bucket with Object Lock as an archive target: `archive "
		"--to NAME`\n(or `--to-default`) streams each bag into it, "
		"locked until the end of\nits month's retention period. The "
		"key files must be readable by their\nowner only (chmod 600); "
		"the store keeps their paths, and they are read\neach time "
		"the target is used, never logged. NAME defaults to the\n"
		"default target.\n"
		"\n"
		"  add      register a target; --mode COMPLIANCE (default) or\n"
		"           GOVERNANCE; --prefix keeps one instance's bags apart "
		"in a\n           shared bucket; --default makes it archive's "
		"default\n"
		"  list     the targets\n"
		"  remove   forget a target; refused (exit 1) while the store "
		"records\n           archives or recordings in it, unless "
		"--force: nothing in\n           the bucket is deleted, and "
		"the records stay, reachable\n           again by adding a "
		"target of the same NAME\n"
		"  check    the bucket exists, Object Lock is enabled, a locked "
		"test\n           write is accepted and its version cannot be "
		"deleted;\n           exit 1 naming what is missing\n"
		"  gc       abort unfinished multipart uploads under the prefix "
		"older\n           than N hours (default 24)\n"
		"  verify   stream every archive recorded in the target, hash "
		"it, and\n           check it is still the current version, "
		"its lock mode,\n           retain-until (at least the "
		"policy's; extended when the policy\n           grew) and legal "
		"hold (ON exactly when a hold covers its\n           calls; set "
		"so when not); and each recording (its bytes\n           hash "
		"to its key); exit 3 naming each bad one. --deep\n           "
		"also unpacks each bag as it streams in (no temp file)\n"
		"           and makes the checks of `verify --deep`\n"
		"           --prefix P: instead, every bag (*.tar.zst) under\n"
		"           another instance's prefix P in the same bucket, "
		"at its\n           current version: locked (mode and "
		"retain-until shown,\n           not held to this store's "
		"policy) and its own manifests\n           and tag manifest "
		"(--deep: the checks of `verify --deep\n           "
		"--no-store`); this store records nothing\n"
		"  holds    set each archive's and recording's S3 legal hold "
		"as\n           callvault's holds now require (ON when a hold "
		"covers a\n           call of it, else OFF); hold add and "
		"release do it\n           themselves: this is for a target "
		"they could not reach\n"
		"  evict    free local disk: remove the local copy of each "
		"recording the\n           target holds, once the bucket "
		"itself shows the recorded\n           version current, of "
		"the named bytes (streamed and hashed),\n           locked "
		"until at least the end of the retention period of\n"
		"           every archived month holding it, and under a "
		"legal hold\n           when a hold covers its call; only "
		"recordings whose every\n           call is archived (in the "
		"month, or the months before\n           YYYY-MM, when given). "
		"Audited; each bad bucket copy is\n           named (REFUSED) "
		"and the exit is 3. `recording get` and the\n           "
		"console fetch an evicted recording back (and keep it\n"
		"           cached until the next evict)\n"
		"\n"
		"Errors name the server's S3 error code (AccessDenied, "
		"SignatureDoesNotMatch,\nRequestTimeTooSkewed, NoSuchBucket, "
		"ObjectLockConfigurationNotFoundError).\n",
	.run = run,
};
