/* cmd_user.c — `callvault user add|set|list|disable|passwd|token`: the
 * people who may use the web console, and what each may do (see
 * docs/console.md). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../hash.h"
#include "../password.h"
#include "../roles.h"
#include "../store/store_audit.h"
#include "../store/store_users.h"
#include "../util.h"
#include "cli.h"

/* What a user may do, from --role or --permissions. */
struct grant {
	const char *role, *perms; /* as given; NULL: not given */
	const char *matters[32], *drops[32];
	size_t n_matters, n_drops;
	const char *label; /* the role stored: preset or "custom" */
	char *text;        /* the set stored (roles_format) */
};

/* Take one of --role, --permissions, --matter, --drop-matter; 0, or the
 * exit code after a message. */
static int grant_opt(struct grant *g, int c, const char *arg)
{
	if (c == 'r' || c == 'P') {
		if (g->role || g->perms)
			return cli_fail(CV_EXIT_USAGE, "user",
				"give one "
				"--role or --permissions");
		*(c == 'r' ? &g->role : &g->perms) = arg;
		return 0;
	}
	size_t *n = c == 'm' ? &g->n_matters : &g->n_drops;
	if (!*arg || strlen(arg) > 200 || *n == CV_ARRAY_LEN(g->matters))
		return cli_fail(CV_EXIT_USAGE, "user",
			"a matter has 1 to 200 "
			"bytes; at most %zu at once",
			CV_ARRAY_LEN(g->matters));
	(c == 'm' ? g->matters : g->drops)[(*n)++] = arg;
	return 0;
}

/* Resolve --role / --permissions into g->label and g->text; false after
 * a message. */
static bool grant_resolve(struct grant *g)
{
	unsigned perms = 0;
	char *err = NULL;
	if (g->role && !roles_preset(g->role, &perms)) {
		cli_fail(CV_EXIT_USAGE, "user",
			"--role must be %s (or give "
			"--permissions)",
			roles_preset_list);
		return false;
	}
	if (g->perms && !roles_parse(g->perms, &perms, &err)) {
		cli_fail(CV_EXIT_USAGE, "user", "--permissions: %s", err);
		free(err);
		return false;
	}
	g->label = roles_preset_of(perms);
	if (!g->label)
		g->label = "custom";
	g->text = roles_format(perms);
	return true;
}

/* Store the user's matters added and dropped. */
static enum cv_err grant_matters(struct store *s, const char *name,
	const struct grant *g, char **err)
{
	enum cv_err rc = CV_OK;
	for (size_t i = 0; rc == CV_OK && i < g->n_matters; i++)
		rc = store_user_matter(s, name, g->matters[i], true, err);
	for (size_t i = 0; rc == CV_OK && i < g->n_drops; i++)
		rc = store_user_matter(s, name, g->drops[i], false, err);
	return rc;
}

/* The audit detail of a grant: the user, the set, the matters. */
static char *grant_detail(const char *name, const struct grant *g)
{
	json_t *o = json_pack("{s:s}", "user", name);
	if (g->text) {
		json_object_set_new(o, "role", json_string(g->label));
		json_object_set_new(o, "permissions", json_string(g->text));
	}
	json_t *add = json_array(), *drop = json_array();
	for (size_t i = 0; i < g->n_matters; i++)
		json_array_append_new(add, json_string(g->matters[i]));
	for (size_t i = 0; i < g->n_drops; i++)
		json_array_append_new(drop, json_string(g->drops[i]));
	json_object_set_new(o, "mattersAdded", add);
	json_object_set_new(o, "mattersDropped", drop);
	char *d = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return d;
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
		char *again = isatty(STDIN_FILENO) ? prompt_line("Again: ")
						   : xstrdup(pw ? pw : "");
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
		cli_fail(CV_EXIT_USAGE, "user", "a password has %d to %d bytes",
			PASSWORD_MIN, PASSWORD_MAX);
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

/* Finish a change: audit it (detail NULL: the user's name), commit the
 * transaction open on s, report errors. */
static int done(struct cli *cli, struct store *s, enum cv_err rc, char *err,
	const char *what, const char *name, const char *detail)
{
	if (rc == CV_OK) {
		char *d = detail ? NULL : xasprintf("{\"user\":\"%s\"}", name);
		rc = store_audit_append(s, cli->actor, what,
			detail ? detail : d, -1, &err);
		free(d);
	}
	if (rc != CV_OK)
		store_rollback(s); /* also when SQLite already rolled back */
	else if (store_tx_active(s))
		rc = store_commit(s, &err);
	int code = CV_EXIT_OK;
	if (rc != CV_OK)
		code = cli_fail(cli_exit_for(rc), "user", "%s",
			err ? err : cv_strerror(rc));
	free(err);
	store_close(s);
	return code;
}

static const struct option grant_opts[] = {
	{ "role", required_argument, NULL, 'r' },
	{ "permissions", required_argument, NULL, 'P' },
	{ "matter", required_argument, NULL, 'm' },
	{ "drop-matter", required_argument, NULL, 'D' },
	{ "password-file", required_argument, NULL, 'p' },
	{ NULL, 0, NULL, 0 },
};

/* add and set: NAME and what the user may do. */
static int user_grant(struct cli *cli, bool add, int argc, char **argv)
{
	struct grant g = { 0 };
	const char *file = NULL;
	int c, code;
	while ((c = cli_getopt(argc, argv, "", grant_opts)) != -1) {
		if (c == 'p' && add)
			file = optarg;
		else if (c == 'r' || c == 'P' || c == 'm' || (c == 'D' && !add))
			code = grant_opt(&g, c, optarg);
		else
			code = CV_EXIT_USAGE;
		if (code)
			return code;
	}
	if (optind + 1 != argc || !valid_name(argv[optind]))
		return cli_fail(CV_EXIT_USAGE, "user",
			"%s wants one NAME "
			"(letters, digits, . _ - @; at most 64)",
			add ? "add" : "set");
	if (add && !g.role && !g.perms)
		return cli_fail(CV_EXIT_USAGE, "user",
			"add wants --role %s, "
			"or --permissions",
			roles_preset_list);
	if (!add && !g.role && !g.perms && !g.n_matters && !g.n_drops)
		return cli_fail(CV_EXIT_USAGE, "user",
			"set wants --role, "
			"--permissions, --matter or --drop-matter");
	if ((g.role || g.perms) && !grant_resolve(&g))
		return CV_EXIT_USAGE;
	const char *name = argv[optind];
	char *h = add ? hash_new_password(file) : NULL;
	struct store *s = add && !h ? NULL
				    : cli_open_store(cli, "user",
					      add ? 0 : STORE_NOCREATE);
	if (!s) {
		free(h);
		free(g.text);
		return add && !h ? CV_EXIT_USAGE : CV_EXIT_FAIL;
	}
	char *err = NULL;
	enum cv_err rc = store_begin(s, &err);
	if (rc == CV_OK && add)
		rc = store_user_add(s, name, g.label, g.text, h, &err);
	else if (rc == CV_OK && g.text)
		rc = store_user_set_permissions(s, name, g.label, g.text, &err);
	if (rc == CV_OK)
		rc = grant_matters(s, name, &g, &err);
	free(h);
	char *detail = grant_detail(name, &g);
	code = done(cli, s, rc, err, add ? "user add" : "user set", name,
		detail);
	free(detail);
	if (code == 0 && g.text)
		printf("user %s %s: %s (%s)\n", name, add ? "added" : "set",
			g.label, g.text);
	else if (code == 0)
		printf("user %s: matters changed\n", name);
	free(g.text);
	return code;
}

struct matters_line {
	struct cv_safe k;
	int n;
};

static int print_matter(const char *matter, void *arg)
{
	struct matters_line *m = arg;
	printf("%s%s", m->n++ ? "; " : "", cv_safe(&m->k, matter));
	return 0;
}

static int print_user(const struct store_user *u, void *arg)
{
	char ts[32], *err = NULL;
	cv_format_iso8601(u->created_at, ts);
	struct cv_safe k = { 0 };
	printf("%-24s  %-10s  %-8s  %s  %s  ", cv_safe(&k, u->name),
		cv_safe(&k, u->role), u->disabled ? "disabled" : "active", ts,
		cv_safe(&k, u->permissions ? u->permissions : "none"));
	cv_safe_finish(&k);
	/* the matters whose holds the user may release */
	struct matters_line m = { .n = 0 };
	enum cv_err rc = store_user_each_matter(arg, u->name, print_matter, &m,
		&err);
	cv_safe_finish(&m.k);
	printf("%s\n", rc == CV_OK ? "" : "(matters unreadable)");
	free(err);
	return 0;
}

static int user_list(struct cli *cli)
{
	struct store *s = cli_open_store(cli, "user", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	char *err = NULL;
	printf("%-24s  %-10s  %-8s  %-24s  %s  %s\n", "NAME", "ROLE", "STATE",
		"CREATED", "PERMISSIONS", "MATTERS");
	enum cv_err rc = store_user_each(s, print_user, s, &err);
	int code = rc == CV_OK ? CV_EXIT_OK
			       : cli_fail(CV_EXIT_FAIL, "user", "%s", err);
	free(err);
	store_close(s);
	return code;
}

/* disable, passwd and token: one NAME. */
static int user_change(struct cli *cli, const char *sub, int argc, char **argv)
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
		return cli_fail(CV_EXIT_USAGE, "user", "%s wants one NAME",
			sub);
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
	int code = done(cli, s, rc, err, what, name, NULL);
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
		return cli_fail(CV_EXIT_USAGE, "user",
			"which: add, set, "
			"list, disable, passwd or token? (see --help)");
	const char *sub = argv[1];
	if (strcmp(sub, "add") == 0 || strcmp(sub, "set") == 0)
		return user_grant(cli, strcmp(sub, "add") == 0, argc - 1,
			argv + 1);
	if (strcmp(sub, "list") == 0)
		return user_list(cli);
	if (strcmp(sub, "disable") == 0 || strcmp(sub, "passwd") == 0 ||
		strcmp(sub, "token") == 0)
		return user_change(cli, sub, argc - 1, argv + 1);
	return cli_fail(CV_EXIT_USAGE, "user", "unknown subcommand '%s'", sub);
}

const struct cli_cmd cmd_user = {
	.name = "user",
	.summary = "manage web console users (permissions, matters, passwords, "
		   "API tokens)",
	.help = "usage: callvault [--db PATH] user add NAME (--role ROLE | "
		"--permissions LIST)\n"
		"         [--matter M]... [--password-file F]\n"
		"       callvault user set NAME [--role ROLE | --permissions "
		"LIST]\n"
		"         [--matter M]... [--drop-matter M]...\n"
		"       callvault user list\n"
		"       callvault user disable NAME\n"
		"       callvault user passwd NAME [--password-file F]\n"
		"       callvault user token NAME\n"
		"\n"
		"Users of the web console served by `callvault serve` "
		"(docs/console.md).\n"
		"A user holds a set of permissions:\n"
		"  search        search, read calls, list holds and archives\n"
		"  export        export CSV\n"
		"  hold-place    place legal holds\n"
		"  hold-release  release holds of the user's matters (every "
		"matter when\n"
		"                the user also holds user-admin)\n"
		"  audit-read    read the audit log\n"
		"  user-admin    list users and what they may do\n"
		"--permissions takes them comma-separated (or none). --role "
		"names a preset:\n"
		"  viewer      search\n"
		"  exporter    search, export\n"
		"  hold-admin  search, export, hold-place, hold-release\n"
		"  admin       all six\n"
		"--matter M makes the user a hold-admin of matter M (repeatable);"
		"\n--drop-matter M undoes it. A change takes effect at the "
		"user's next request.\n"
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
