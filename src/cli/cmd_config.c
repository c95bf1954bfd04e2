/* cmd_config.c — `callvault config get|set|list`: store-wide settings
 * (store/store_settings.h). One so far: timezone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store_settings.h"
#include "../tz.h"
#include "../util.h"
#include "cli.h"

/* The settings there are, each with its check and default. */
static const struct setting {
	const char *key;
	const char *def;
} settings[] = {
	{ "timezone", "UTC" },
};

static enum cv_err check_zone(const char *v, char **canon, char **errmsg)
{
	struct tz *z = NULL;
	enum cv_err rc = tz_open(&z, v, errmsg);
	bool utc = !z; /* "UTC", "Z" */
	tz_free(z);
	if (rc == CV_OK)
		*canon = xstrdup(utc && strcmp(v, "Etc/UTC") ? "UTC" : v);
	return rc;
}

static const struct setting *find(const char *key)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(settings); i++)
		if (strcmp(settings[i].key, key) == 0)
			return &settings[i];
	return NULL;
}

static int get(struct store *s, const struct setting *st)
{
	char *v = NULL, *err = NULL;
	if (store_setting_get(s, st->key, &v, &err) != CV_OK) {
		int code = cli_fail(CV_EXIT_FAIL, "config", "%s", err);
		free(err);
		return code;
	}
	char *safe = cv_term_safe(v ? v : st->def, 0);
	printf("%s\n", safe);
	free(safe);
	free(v);
	return CV_EXIT_OK;
}

static int set(struct cli *cli, struct store *s, const struct setting *st,
	const char *value)
{
	char *canon = NULL, *err = NULL;
	enum cv_err rc = strcmp(st->key, "timezone") == 0
				 ? check_zone(value, &canon, &err)
				 : CV_OK;
	if (rc != CV_OK) {
		int code = cli_fail(cli_exit_for(rc), "config", "set %s: %s",
			st->key, err);
		free(err);
		return code;
	}
	rc = store_setting_set(s, st->key, canon, cli->actor, &err);
	if (rc != CV_OK) {
		int code = cli_fail(cli_exit_for(rc), "config", "%s",
			err ? err : cv_strerror(rc));
		free(err);
		free(canon);
		return code;
	}
	printf("%s = %s\n", st->key, canon);
	free(canon);
	return CV_EXIT_OK;
}

static int run(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc >= 2 ? argv[1] : "";
	bool is_get = !strcmp(sub, "get"), is_set = !strcmp(sub, "set");
	bool is_list = !strcmp(sub, "list");
	if ((!is_get && !is_set && !is_list) || (is_get && argc != 3) ||
		(is_set && argc != 4) || (is_list && argc != 2))
		return cli_fail(CV_EXIT_USAGE, "config",
			"usage: config get "
			"KEY | config set KEY VALUE | config list");
	const struct setting *st = is_list ? NULL : find(argv[2]);
	if (!is_list && !st) {
		char *k = cv_term_safe(argv[2], 0);
		int code = cli_fail(CV_EXIT_USAGE, "config",
			"unknown setting "
			"'%s' (there is: timezone)",
			k);
		free(k);
		return code;
	}
	struct store *s = cli_open_store(cli, "config", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	int code = CV_EXIT_OK;
	if (is_set) {
		code = set(cli, s, st, argv[3]);
	} else if (is_get) {
		code = get(s, st);
	} else {
		for (size_t i = 0; i < CV_ARRAY_LEN(settings) && !code; i++) {
			printf("%s = ", settings[i].key);
			code = get(s, &settings[i]);
		}
	}
	store_close(s);
	return code;
}

const struct cli_cmd cmd_config = {
	.name = "config",
	.summary = "store-wide settings: the time zone",
	.help = "usage: callvault [--db PATH] config get KEY\n"
		"       callvault config set KEY VALUE\n"
		"       callvault config list\n"
		"\n"
		"Settings kept in the store, the same for every command, "
		"serve and the\nconsole. Changing one is audited (\"config "
		"set\", with the old value).\n"
		"\n"
		"Settings:\n"
		"  timezone ZONE  the zone times are read and shown in "
		"(IANA name, e.g.\n"
		"                 America/Chicago; default UTC): search, "
		"show, export's\n"
		"                 filters, hold add's --from/--to, hold "
		"list, audit,\n"
		"                 stats, status and the console. Every such "
		"command's --tz\n"
		"                 overrides it for one run; a console user "
		"can change it\n"
		"                 for the session. Times without an offset "
		"are read on\n"
		"                 that wall clock (at a change of clocks, "
		"see docs/search.md);\n"
		"                 times are shown with their offset. "
		"Archive months stay\n"
		"                 UTC months (docs/archives.md). An unknown "
		"zone is refused\n"
		"                 (exit 2).\n"
		"\n"
		"Example: callvault config set timezone America/Chicago\n",
	.run = run,
};
