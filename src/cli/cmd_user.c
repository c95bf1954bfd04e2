/* cmd_user.c — `callvault user add|list|disable|passwd|token`: the people
 * who may use the web console (see docs/console.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../hash.h"
#include "../password.h"
#include "../store/store_audit.h"
#include "../store/store_users.h"
#include "../util.h"
#include "cli.h"

static const char *const roles[] = { "viewer", "exporter", "hold-admin",
	"admin" };

static bool valid_role(const char *r)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(roles); i++)
		if (strcmp(r, roles[i]) == 0)
			return true;
	return false;
}

static bool valid_name(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = n[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			    c == '-' || c == '@'))
			return false;
	}
	return true;
}

/* One line from stdin, without echo when it is a terminal. */
static char *prompt_line(const char *prompt)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		fprintf(stderr, "%s", prompt);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char line[PASSWORD_MAX + 2];
	char *got = fgets(line, sizeof(line), stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!got)
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	char *s = xstrdup(line);
	memset(line, 0, sizeof(line));
	return s;
}

/* The new password: from --password-file, else asked twice. NULL after
 * printing the error. */
static char *new_password(const char *file)
{
	char *pw = NULL, *err = NULL;
	if (file) {
		if (cv_read_secret(file, &pw, &err) != CV_OK) {
			cli_fail(CV_EXIT_USAGE, "user", "%s", err);
			free(err);
			return NULL;
		}
	} else {
		pw = prompt_line("New password: ");
		char *again = isatty(STDIN_FILENO)
			? prompt_line("Again: ") : xstrdup(pw ? pw : "");
		bool same = pw && again && strcmp(pw, again) == 0;
		free(again);
		if (!same) {
			free(pw);
			cli_fail(CV_EXIT_USAGE, "user",
				"the passwords differ (or none was given)");
			return NULL;
		}
	}
	if (strlen(pw) < PASSWORD_MIN || strlen(pw) > PASSWORD_MAX) {
		memset(pw, 0, strlen(pw));
		free(pw);
		cli_fail(CV_EXIT_USAGE, "user",
			"a password has %d to %d bytes", PASSWORD_MIN,
			PASSWORD_MAX);
		return NULL;
	}
	return pw;
}

static char *hash_new_password(const char *file)
{
	char *pw = new_password(file);
	if (!pw)
		return NULL;
	char *h = password_hash(pw);
	memset(pw, 0, strlen(pw));
	free(pw);
	return h;
}

/* Finish a change: audit it, report errors. */
static int done(struct cli *cli, struct store *s, enum cv_err rc, char *err,
	const char *what, const char *name)
{
	if (rc == CV_OK) {
		char *detail = xasprintf("{\"user\":\"%s\"}", name);
		rc = store_audit_append(s, cli->actor, what, detail, -1, &err);
		free(detail);
	}
	int code = CV_EXIT_OK;
	if (rc != CV_OK)
		code = cli_fail(cli_exit_for(rc), "user", "%s",
			err ? err : cv_strerror(rc));
	free(err);
	store_close(s);
	return code;
}

static int user_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "password-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *role = NULL, *file = NULL;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'r')
			role = optarg;
		else if (c == 'p')
			file = optarg;
		else
			return CV_EXIT_USAGE;
	}
	if (optind + 1 != argc || !valid_name(argv[optind]))
		return cli_fail(CV_EXIT_USAGE, "user", "add wants one NAME "
			"(letters, digits, . _ - @; at most 64)");
	if (!role || !valid_role(role))
		return cli_fail(CV_EXIT_USAGE, "user", "--role must be viewer, "
			"exporter, hold-admin or admin");
	char *h = hash_new_password(file);
	if (!h)
		return CV_EXIT_USAGE;
	struct store *s = cli_open_store(cli, "user", 0);
	if (!s) {
		free(h);
		return CV_EXIT_FAIL;
	}
	char *err = NULL;
	enum cv_err rc = store_user_add(s, argv[optind], role, h, &err);
	free(h);
	int code = done(cli, s, rc, err, "user add", argv[optind]);
	if (code == 0)
		printf("user %s added with role %s\n", argv[optind], role);
	return code;
}

static int print_user(const struct store_user *u, void *arg)
{
	char ts[32];
	cv_format_iso8601(u->created_at, ts);
	struct cv_safe k = { 0 };
	printf("%-24s  %-10s  %-8s  %s\n", cv_safe(&k, u->name),
		cv_safe(&k, u->role), u->disabled ? "disabled" : "active", ts);
	cv_safe_finish(&k);
	return 0;
}

static int user_list(struct cli *cli)
{
	struct store *s = cli_open_store(cli, "user", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	char *err = NULL;
	printf("%-24s  %-10s  %-8s  %s\n", "NAME", "ROLE", "STATE", "CREATED");
	enum cv_err rc = store_user_each(s, print_user, NULL, &err);
	int code = rc == CV_OK ? CV_EXIT_OK
		: cli_fail(CV_EXIT_FAIL, "user", "%s", err);
	free(err);
	store_close(s);
	return code;
}

/* disable, passwd and token: one NAME. */
static int user_change(struct cli *cli, const char *sub, int argc,
	char **argv)
{
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c != 'p')
			return CV_EXIT_USAGE;
		file = optarg;
	}
	if (optind + 1 != argc)
		return cli_fail(CV_EXIT_USAGE, "user", "%s wants one NAME", sub);
	const char *name = argv[optind];
	char *h = NULL, tok[65] = "", th[CV_SHA256_HEX];
	if (strcmp(sub, "passwd") == 0 && !(h = hash_new_password(file)))
		return CV_EXIT_USAGE;
	struct store *s = cli_open_store(cli, "user", STORE_NOCREATE);
	if (!s) {
		free(h);
		return CV_EXIT_FAIL;
	}
	char *err = NULL;
	enum cv_err rc;
	struct store_user u;
	if (strcmp(sub, "disable") == 0) {
		rc = store_user_disable(s, name, &err);
	} else if (h) {
		rc = store_user_set_password(s, name, h, &err);
	} else if ((rc = store_user_get(s, name, &u, &err)) == CV_OK) {
		bool off = u.disabled;
		store_user_finish(&u);
		password_random_hex(32, tok);
		cv_sha256_hex(tok, strlen(tok), th);
		rc = off ? cv_error(&err, CV_EINVAL, "user %s is disabled",
				   name)
			 : store_token_set(s, name, th, cv_now_ms(), &err);
	}
	free(h);
	char *what = xasprintf("user %s", sub);
	int code = done(cli, s, rc, err, what, name);
	free(what);
	if (code == 0 && tok[0])
		printf("%s\n", tok); /* shown once; only its hash is kept */
	else if (code == 0)
		printf("user %s: %s done\n", name, sub);
	memset(tok, 0, sizeof(tok));
	return code;
}

static int run(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_fail(CV_EXIT_USAGE, "user", "which: add, list, "
			"disable, passwd or token? (see --help)");
	const char *sub = argv[1];
	if (strcmp(sub, "add") == 0)
		return user_add(cli, argc - 1, argv + 1);
	if (strcmp(sub, "list") == 0)
		return user_list(cli);
	if (strcmp(sub, "disable") == 0 || strcmp(sub, "passwd") == 0 ||
	    strcmp(sub, "token") == 0)
		return user_change(cli, sub, argc - 1, argv + 1);
	return cli_fail(CV_EXIT_USAGE, "user", "unknown subcommand '%s'", sub);
}

const struct cli_cmd cmd_user = {
	.name = "user",
	.summary = "manage web console users (roles, passwords, API tokens)",
	.help = "usage: callvault [--db PATH] user add NAME --role ROLE "
		"[--password-file F]\n"
		"       callvault user list\n"
		"       callvault user disable NAME\n"
		"       callvault user passwd NAME [--password-file F]\n"
		"       callvault user token NAME\n"
		"\n"
		"Users of the web console served by `callvault serve` "
		"(docs/console.md).\n"
		"Roles, each including the ones before it:\n"
		"  viewer      search and read calls\n"
		"  exporter    also export CSV\n"
		"  hold-admin  also place and release legal holds\n"
		"  admin       also see the audit log\n"
		"Without --password-file the password is asked for (no "
		"echo). Passwords\n"
		"are kept as PBKDF2-HMAC-SHA256 (210000 iterations, random "
		"salt).\n"
		"`disable` ends the user's sessions and token; `passwd` ends "
		"their sessions.\n"
		"`token` prints a new API token once (Authorization: Bearer "
		"TOKEN); only\nits SHA-256 is kept, and it replaces the "
		"previous one.\n"
		"Every change is recorded in the audit log.\n",
	.run = run,
};
