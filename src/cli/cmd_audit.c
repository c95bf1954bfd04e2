/* cmd_audit.c — `callvault audit [--from] [--to] [--actor] [--os-user]
 * [--client] [--command] [--verify]` */
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audithead.h"
#include "../search.h"
#include "../store/store_audit.h"
#include "../util.h"
#include "cli.h"
#ifndef CV_LEAN
#include "retention.h"
#endif

static int print_row(const struct audit_entry *e, void *arg)
{
	char ts[TZ_TIME_LEN];
	cli_time(arg, e->ts, ts);
	/* the actor of a failed login is whatever the client sent */
	struct cv_safe k = { 0 };
	printf("%6lld  %-29s  %-10s  %-12s  %-8s  %-15s  %6lld  %s\n",
		(long long)e->id, ts,
		e->os_user ? cv_safe(&k, e->os_user) : "-",
		cv_safe(&k, e->actor), cv_safe(&k, e->command),
		e->client ? cv_safe(&k, e->client) : "-",
		(long long)e->result_count, cv_safe(&k, e->detail));
	cv_safe_finish(&k);
	return 0;
}

static int json_row(const struct audit_entry *e, void *arg)
{
	char ts[32];
	cv_format_iso8601(e->ts, ts);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(e->id));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "osUser",
		e->os_user ? json_string(e->os_user) : json_null());
	json_object_set_new(o, "actor", json_string(e->actor));
	json_object_set_new(o, "client",
		e->client ? json_string(e->client) : json_null());
	json_object_set_new(o, "command", json_string(e->command));
	json_t *d = json_loads(e->detail, 0, NULL);
	json_object_set_new(o, "detail", d ? d : json_string(e->detail));
	json_object_set_new(o, "resultCount", json_integer(e->result_count));
	json_object_set_new(o, "prevHash", json_string(e->prev_hash));
	json_object_set_new(o, "hash", json_string(e->hash));
	json_array_append_new(arg, o);
	return 0;
}

#ifndef CV_LEAN
/* The live log held to the heads the bags under dirs recorded. */
static int against(struct cli *cli, struct store *s, char **dirs, size_t n)
{
	unsigned char key[AUDITHEAD_KEY_LEN];
	char *path = audithead_key_path(cli->db_path), *err = NULL;
	enum cv_err rc = audithead_key_load(path, false, key, &err);
	bool have = rc == CV_OK;
	if (rc == CV_ENOTFOUND)
		printf("note: no audit key at %s: the heads' MACs are not "
		       "checked\n",
			path);
	free(path);
	if (rc != CV_OK && rc != CV_ENOTFOUND) {
		int code = cli_fail(rc == CV_EINVAL ? CV_EXIT_USAGE
						    : CV_EXIT_FAIL,
			"audit", "%s", err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	free(err);
	err = NULL;
	struct audit_against_stats st;
	rc = audit_verify_against(s, dirs, n, have ? key : NULL, stdout, &st,
		&err);
	int code = CV_EXIT_OK;
	if (rc != CV_OK)
		code = cli_fail(CV_EXIT_FAIL, "audit", "%s",
			err ? err : cv_strerror(rc));
	else if (st.bad)
		code = cli_fail(CV_EXIT_INTEGRITY, "audit",
			"%lld of %zu "
			"archive(s) record an audit head the live log does not "
			"hold",
			(long long)st.bad, st.bags);
	else if (!st.heads)
		code = cli_fail(CV_EXIT_FAIL, "audit",
			"no archive with an "
			"audit head under the directories given (%zu "
			"archive(s))",
			st.bags);
	else
		printf("audit log holds every archived head: %lld "
		       "archive(s), the newest head entry #%lld\n",
			(long long)st.heads, (long long)st.newest);
	free(err);
	return code;
}
#endif

/* The key to check keyed entries with, set on s. 0, or the exit code:
 * 2 for a key refused (exposed, not a key); no key is not an error. */
static int verify_key(struct cli *cli, struct store *s,
	unsigned char key[AUDITHEAD_KEY_LEN], char **path, bool *have)
{
	char *err = NULL;
	*path = audithead_key_path(cli->db_path);
	enum cv_err rc = audithead_key_load(*path, false, key, &err);
	*have = rc == CV_OK;
	if (rc == CV_OK)
		store_audit_set_key(s, key);
	int code = rc == CV_EINVAL ? cli_fail(CV_EXIT_USAGE, "audit", "%s", err)
				   : 0;
	free(err);
	return code;
}

/* Unkeyed entries after keyed ones: exit 3 unless accepted. */
static int unkeyed(const struct audit_verify_stats *vs, bool accept)
{
	printf("%s: %lld unkeyed entr%s after the first keyed one (#%lld), "
	       "from #%lld; %lld after the newest keyed one (#%lld), bound "
	       "by no keyed entry. Written by a process that could not read "
	       "the audit key, or rewritten by someone without it\n",
		accept ? "accepted" : "BAD", (long long)vs->unkeyed_after,
		vs->unkeyed_after == 1 ? "y" : "ies",
		(long long)vs->first_keyed, (long long)vs->first_unkeyed_after,
		(long long)vs->exposed, (long long)vs->last_keyed);
	if (accept)
		return CV_EXIT_OK;
	return cli_fail(CV_EXIT_INTEGRITY, "audit",
		"%lld unkeyed audit "
		"entr%s after keyed ones (--accept-unkeyed to accept them)",
		(long long)vs->unkeyed_after,
		vs->unkeyed_after == 1 ? "y" : "ies");
}

static int verify(struct cli *cli, struct store *s, bool accept)
{
	unsigned char key[AUDITHEAD_KEY_LEN];
	char *path = NULL, *err = NULL;
	bool have = false;
	int code = verify_key(cli, s, key, &path, &have);
	struct audit_verify_stats vs;
	int64_t bad = 0;
	enum cv_err rc = code ? CV_OK
			      : store_audit_verify_ex(s, &vs, &bad, &err);
	if (code) {
		/* refused key: said */
	} else if (rc == CV_EINTEGRITY) {
		code = cli_fail(CV_EXIT_INTEGRITY, "audit",
			"chain broken at entry %lld: %s", (long long)bad,
			err ? err : "");
	} else if (rc != CV_OK) {
		code = cli_fail(CV_EXIT_FAIL, "audit", "%s",
			err ? err : cv_strerror(rc));
	} else if (vs.unchecked) {
		code = cli_fail(CV_EXIT_FAIL, "audit",
			"cannot check %lld "
			"keyed entr%s without the audit key (%s); their links "
			"hold",
			(long long)vs.unchecked,
			vs.unchecked == 1 ? "y" : "ies", path);
	} else {
		printf("audit chain ok: %lld entries, %lld keyed\n",
			(long long)vs.checked, (long long)vs.keyed);
		if (vs.checked && !vs.keyed && have)
			printf("note: no entry is keyed although the audit "
			       "key exists: all written before keying, or the "
			       "log rewritten without the key (--against "
			       "ARCHIVE shows which)\n");
		if (vs.unkeyed_after)
			code = unkeyed(&vs, accept);
	}
	store_audit_set_key(s, NULL);
	OPENSSL_cleanse(key, sizeof(key));
	free(path);
	free(err);
	return code;
}

/* --against reads archives: libarchive is in callvault-full only */
static bool needs_full(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--against", 9))
			return true;
	return false;
}

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "actor", required_argument, NULL, 'a' },
		{ "os-user", required_argument, NULL, 'u' },
		{ "command", required_argument, NULL, 'c' },
		{ "client", required_argument, NULL, 'C' },
		{ "format", required_argument, NULL, 'F' },
		{ "verify", no_argument, NULL, 'v' },
		{ "tz", required_argument, NULL, 'z' },
		{ "against", required_argument, NULL, 'A' },
		{ "accept-unkeyed", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	const char *times[2] = { NULL, NULL }, *tz = NULL;
	char **dirs = NULL;
	size_t n_dirs = 0;
	struct audit_filter f = { 0 };
	bool json = false, check = false, accept = false;
	char *err = NULL;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'f' || c == 't') {
			int64_t *dst = c == 'f' ? &f.from_ms : &f.to_ms;
			times[c == 't'] = optarg;
			/* checked now; read in the zone once it is known */
			if (!search_parse_time(optarg, NULL, c == 't', dst,
				    &err)) {
				cli_fail(CV_EXIT_USAGE, "audit", "%s", err);
				free(err);
				free(dirs);
				return CV_EXIT_USAGE;
			}
		} else if (c == 'a') {
			f.actor = optarg;
		} else if (c == 'u') {
			f.os_user = optarg;
		} else if (c == 'c') {
			f.command = optarg;
		} else if (c == 'C') {
			f.client = optarg;
		} else if (c == 'F' && (strcmp(optarg, "table") == 0 ||
					       strcmp(optarg, "json") == 0)) {
			json = strcmp(optarg, "json") == 0;
		} else if (c == 'F') {
			return cli_fail(CV_EXIT_USAGE, "audit",
				"--format must be table or json");
		} else if (c == 'v') {
			check = true;
		} else if (c == 'K') {
			accept = check = true;
		} else if (c == 'z') {
			tz = optarg;
		} else if (c == 'A') {
			dirs = xrealloc(dirs, (n_dirs + 1) * sizeof(*dirs));
			dirs[n_dirs++] = optarg;
			check = true;
		} else {
			free(dirs);
			return CV_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		free(dirs);
		return cli_fail(CV_EXIT_USAGE, "audit",
			"unexpected argument "
			"'%s'",
			argv[optind]);
	}
	int zc;
	struct store *s = cli_open_zoned(cli, "audit",
		STORE_NOCREATE | STORE_ONESHOT, tz, &zc);
	for (int i = 0; i < 2 && !zc; i++)
		if (times[i] && !search_parse_time(times[i], cli->zone_name, i,
					i ? &f.to_ms : &f.from_ms, &err)) {
			zc = cli_fail(CV_EXIT_USAGE, "audit", "%s", err);
			free(err);
		}
	if (zc) {
		store_close(s);
		free(dirs);
		return zc;
	}
	if (check) {
		int code = verify(cli, s, accept);
#ifndef CV_LEAN
		if (n_dirs) {
			int c2 = against(cli, s, dirs, n_dirs);
			code = code != CV_EXIT_OK ? code : c2;
		}
#endif
		store_close(s);
		free(dirs);
		return code;
	}
	json_t *arr = json ? json_array() : NULL;
	if (!json)
		printf("times in %s\n%6s  %-29s  %-10s  %-12s  %-8s  %-15s  "
		       "%6s  %s\n",
			cli_zone_name(cli), "ID", "TIME", "OS USER", "ACTOR",
			"COMMAND", "CLIENT", "COUNT", "DETAIL");
	enum cv_err rc = store_audit_each(s, &f, json ? json_row : print_row,
		json ? (void *)arr : (void *)cli, &err);
	store_close(s);
	if (json && rc == CV_OK) {
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	}
	json_decref(arr);
	int code = CV_EXIT_OK;
	if (rc != CV_OK)
		code = cli_fail(CV_EXIT_FAIL, "audit", "%s",
			err ? err : cv_strerror(rc));
	free(err);
	return code;
}

const struct cli_cmd cmd_audit = {
	.name = "audit",
	.summary = "list the audit log of reads and changes; --verify it",
	.help = "usage: callvault [--db PATH] audit [--from TIME] [--to TIME]\n"
		"         [--actor NAME] [--os-user NAME] [--client ADDR]\n"
		"         [--command CMD]\n"
		"         [--format table|json] [--tz ZONE]\n"
		"       callvault [--db PATH] audit --verify [--accept-unkeyed]\n"
		"         [--against DIR]…\n"
		"\n"
		"Every search, show and export (and hold and purge) appends an entry:\n"
		"time, who, command, the query and filters as JSON, and the number\n"
		"of results. Who is two things: the OS user, which a command-line\n"
		"entry takes from the process's effective uid (not from $USER), and\n"
		"the actor, on whose behalf: the global --actor when given, else the\n"
		"OS user; in the console, the logged-in user (the OS user is then\n"
		"the service's, or \"-\" when not recorded, as in entries older than\n"
		"this column). A console entry also records the client address (the\n"
		"real one behind `serve --trusted-proxy`; \"-\" for the command line).\n"
		"Each entry holds the hash of the entry before it and of its own\n"
		"content (OS user and client included), so a changed, removed or\n"
		"reordered entry breaks the chain. The hash is an HMAC with the\n"
		"audit key ($CALLVAULT_AUDIT_KEY or <db>.secrets/audit.key, made\n"
		"0600 on first use), so that rewriting the store cannot recompute\n"
		"it; a process that cannot read the key writes a plain SHA-256\n"
		"instead, as entries older than the key have.\n"
		"\n"
		"  --from, --to TIME  entries in this time range (inclusive;\n"
		"                     YYYY-MM-DD or ISO 8601; without an offset, in\n"
		"                     the zone below)\n"
		"  --tz ZONE          read and show times in ZONE (IANA name);\n"
		"                     default: the store's zone (callvault config\n"
		"                     set timezone), else UTC. JSON keeps UTC.\n"
		"  --actor NAME       entries on behalf of this actor\n"
		"  --os-user NAME     entries written by this OS user\n"
		"  --client ADDR      console entries from this client address\n"
		"  --command CMD      entries of this command (\"search\", \"subject\n"
		"                     erase\", …)\n"
		"  --format F         table (default) or json\n"
		"  --verify           check the whole chain: exit 0 when intact, 3\n"
		"                     naming the first entry that does not verify;\n"
		"                     1 when keyed entries cannot be checked for\n"
		"                     want of the key, 2 when the key is refused\n"
		"                     (group or others may read it); 3 too when\n"
		"                     unkeyed entries follow keyed ones: how a\n"
		"                     rewrite without the key would look\n"
		"  --accept-unkeyed   (implies --verify) report those, exit 0: when\n"
		"                     users who cannot read the key append entries\n"
		"  --against DIR      (implies --verify; repeatable) also hold the\n"
		"                     log to the chain head each archive under DIR\n"
		"                     recorded (bag-info.txt's Callvault-Audit-Head,\n"
		"                     its MAC checked with the audit key,\n"
		"                     $CALLVAULT_AUDIT_KEY or <db>.secrets/audit.key):\n"
		"                     the live log must still have that entry with\n"
		"                     that hash, so none up to it was removed or\n"
		"                     changed, even if the chain was recomputed.\n"
		"                     Exit 3 naming each archive whose head it\n"
		"                     does not hold (truncated or rewritten)\n",
	.run = run,
	.needs_full = needs_full,
};
