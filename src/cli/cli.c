/* cli.c — helpers shared by the subcommands */
#include "cli.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../audithead.h"
#include "../store/store_audit.h"
#include "../store/store_settings.h"

int cli_fail(int code, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "callvault %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return code;
}

int cli_exit_for(enum cv_err e)
{
	switch (e) {
	case CV_OK: return CV_EXIT_OK;
	case CV_EINVAL:
	case CV_EPARSE:
	case CV_ENOTFOUND: return CV_EXIT_USAGE;
	case CV_EINTEGRITY: return CV_EXIT_INTEGRITY;
	default: return CV_EXIT_FAIL;
	}
}

void cli_identify(struct cli *cli)
{
	/* a copy: getpwuid's storage is reused by the next lookup */
	static char name[256];
	uid_t uid = geteuid();
	struct passwd *pw = getpwuid(uid);
	if (pw && pw->pw_name && *pw->pw_name)
		snprintf(name, sizeof(name), "%s", pw->pw_name);
	else
		snprintf(name, sizeof(name), "uid:%lu", (unsigned long)uid);
	cli->os_user = name;
	if (!cli->actor)
		cli->actor = name;
}

_Static_assert(AUDIT_KEY_LEN == AUDITHEAD_KEY_LEN, "one audit key");

const unsigned char *cli_audit_key(const struct cli *cli)
{
	static unsigned char key[AUDITHEAD_KEY_LEN];
	static int state; /* 0 not read yet, 1 have it, -1 none */
	if (state)
		return state > 0 ? key : NULL;
	char *path = audithead_key_path(cli->db_path), *err = NULL;
	enum cv_err rc = audithead_key_load(path, true, key, &err);
	state = rc == CV_OK ? 1 : -1;
	/* a misplaced or exposed key is the owner's to fix; a key this
	 * user may not read is how a read-only user is set up */
	if (rc == CV_EINVAL)
		fprintf(stderr,
			"callvault: warning: %s; audit entries are "
			"written unkeyed\n",
			err);
	free(err);
	free(path);
	return state > 0 ? key : NULL;
}

struct store *cli_open_store(struct cli *cli, const char *cmd, int flags)
{
	struct store *s;
	char *err = NULL;
	enum cv_err rc = store_open(&s, cli->db_path, flags, &err);
	if (rc != CV_OK) {
		cli_fail(CV_EXIT_FAIL, cmd, "%s", err ? err : cv_strerror(rc));
		free(err);
		return NULL;
	}
	store_audit_set_os_user(s, cli->os_user);
	/* `audit` appends nothing, and reads the key itself: a key it
	 * made could not check entries keyed with one that was lost */
	if (strcmp(cmd, "audit") != 0)
		store_audit_set_key(s, cli_audit_key(cli));
	return s;
}

enum cv_err cli_audit_commit(struct cli *cli, struct store *s, enum cv_err rc,
	const char *action, const char *detail, char **err)
{
	if (rc == CV_OK)
		rc = store_audit_append(s, cli->actor, action, detail, -1, err);
	if (rc == CV_OK)
		rc = store_commit(s, err);
	else
		store_rollback(s);
	return rc;
}

int cli_zone(struct cli *cli, struct store *s, const char *tz, const char *cmd)
{
	char *name = NULL, *err = NULL;
	enum cv_err rc = tz ? CV_OK : store_timezone(s, &name, &err);
	if (rc != CV_OK) {
		int code = cli_fail(CV_EXIT_FAIL, cmd, "%s", err);
		free(err);
		return code;
	}
	if (tz)
		name = xstrdup(tz);
	cli_zone_finish(cli);
	rc = tz_open(&cli->zone, name, &err);
	if (rc != CV_OK) {
		int code = cli_fail(rc == CV_EINVAL ? CV_EXIT_USAGE
						    : CV_EXIT_FAIL,
			cmd, "%s: %s",
			tz ? "--tz"
			   : "the store's timezone setting "
			     "(callvault config set timezone)",
			err);
		free(err);
		free(name);
		return code;
	}
	cli->zone_name = name;
	return 0;
}

const char *cli_take_tz(int *argc, char **argv)
{
	const char *tz = NULL;
	int j = 0;
	for (int i = 0; i < *argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--tz")) {
			tz = i + 1 < *argc ? argv[++i] : "";
			continue;
		}
		if (!strncmp(argv[i], "--tz=", 5)) {
			tz = argv[i] + 5;
			continue;
		}
		argv[j++] = argv[i];
	}
	for (int i = j; i < *argc; i++)
		argv[i] = NULL;
	*argc = j;
	return tz;
}

struct store *cli_open_zoned(struct cli *cli, const char *cmd, int flags,
	const char *tz, int *code)
{
	struct store *s = cli_open_store(cli, cmd, flags);
	*code = s ? cli_zone(cli, s, tz, cmd) : CV_EXIT_FAIL;
	if (*code) {
		store_close(s);
		return NULL;
	}
	return s;
}

struct store *cli_open_report(struct cli *cli, const char *cmd, int argc,
	char **argv, bool *json, int *code)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "tz", required_argument, NULL, 'z' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tz = NULL;
	int c;
	*json = false;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'j') {
			*json = true;
		} else if (c == 'z') {
			tz = optarg;
		} else {
			*code = CV_EXIT_USAGE;
			return NULL;
		}
	}
	if (optind < argc) {
		*code = cli_fail(CV_EXIT_USAGE, cmd, "unexpected argument '%s'",
			argv[optind]);
		return NULL;
	}
	return cli_open_zoned(cli, cmd, STORE_NOCREATE | STORE_ONESHOT, tz,
		code);
}

void cli_zone_finish(struct cli *cli)
{
	tz_free(cli->zone);
	free(cli->zone_name);
	cli->zone = NULL;
	cli->zone_name = NULL;
}

void cli_time(const struct cli *cli, int64_t ms, char out[TZ_TIME_LEN])
{
	tz_format(cli->zone, ms, out);
}

const char *cli_zone_name(const struct cli *cli)
{
	return cli->zone_name ? cli->zone_name : "UTC";
}

bool cli_want_help(const struct cli_cmd *cmd, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
			strcmp(argv[i], "-h") == 0) {
			fputs(cmd->help, stdout);
			return true;
		}
	}
	return false;
}

int cli_getopt(int argc, char **argv, const char *shortopts,
	const struct option *longopts)
{
	opterr = 0;
	int c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c == '?' || c == ':') {
		if (optopt && optopt < 256)
			fprintf(stderr, "callvault %s: option -%c %s\n",
				argv[0], optopt,
				c == ':' ? "needs an argument" : "is unknown");
		else
			fprintf(stderr,
				"callvault %s: option %s is unknown "
				"or needs an argument (see --help)\n",
				argv[0], argv[optind - 1]);
		return '?';
	}
	return c;
}

int cli_out_only(int argc, char **argv, const char *cmd, const char **out)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	*out = NULL;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c != 'o')
			return CV_EXIT_USAGE;
		*out = optarg;
	}
	if (optind < argc)
		return cli_fail(CV_EXIT_USAGE, cmd, "unexpected argument '%s'",
			argv[optind]);
	return CV_EXIT_OK;
}

bool cli_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}
