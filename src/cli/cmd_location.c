/* cmd_location.c — `callvault location add|list|remove` */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../auth.h"
#include "../credcheck.h"
#include "../highlevel.h"
#include "../store/store_sync.h"
#include "../util.h"
#include "cli.h"
#include "cmd_location.h"

struct add_args {
	const char *token_file, *client_id, *secret_file, *refresh_file;
	const char *api_base, *version;
	bool replace, no_check;
};

static int parse_add(int argc, char **argv, struct add_args *a)
{
	static const struct option opts[] = {
		{ "token-file", required_argument, NULL, 't' },
		{ "client-id", required_argument, NULL, 'c' },
		{ "client-secret-file", required_argument, NULL, 's' },
		{ "refresh-token-file", required_argument, NULL, 'r' },
		{ "api-base", required_argument, NULL, 'b' },
		{ "version", required_argument, NULL, 'V' },
		{ "replace", no_argument, NULL, 'R' },
		{ "no-check", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case 't': a->token_file = optarg; break;
		case 'c': a->client_id = optarg; break;
		case 's': a->secret_file = optarg; break;
		case 'r': a->refresh_file = optarg; break;
		case 'b': a->api_base = optarg; break;
		case 'V': a->version = optarg; break;
		case 'R': a->replace = true; break;
		case 'N': a->no_check = true; break;
		default: return CV_EXIT_USAGE;
		}
	}
	bool oauth = a->client_id || a->secret_file || a->refresh_file;
	if (a->token_file && oauth)
		return cli_fail(CV_EXIT_USAGE, "location",
			"give either "
			"--token-file or the OAuth options, not both");
	if (!a->token_file &&
		!(a->client_id && a->secret_file && a->refresh_file))
		return cli_fail(CV_EXIT_USAGE, "location",
			"give --token-file "
			"FILE, or --client-id ID --client-secret-file FILE "
			"--refresh-token-file FILE");
	if (!hl_url_allowed(a->api_base))
		return cli_fail(CV_EXIT_USAGE, "location",
			"--api-base must be "
			"an https URL (plain http only to loopback)");
	if (!*a->version || strlen(a->version) > 32 ||
		strpbrk(a->version, "\r\n"))
		return cli_fail(CV_EXIT_USAGE, "location", "bad --version");
	return CV_EXIT_OK;
}

/*
 * The check refreshed an OAuth token it then refused: the refresh token
 * the user gave is spent, so its successor goes back into their file
 * (else the app would have to be installed again).
 */
static void hand_back_refresh(struct auth *au, const char *file)
{
	char *err = NULL;
	if (auth_export_refresh(au, file, &err) == CV_OK)
		fprintf(stderr,
			"callvault location: the check used the "
			"refresh token in %s (they are single-use); the file "
			"now holds its successor\n",
			file);
	else
		fprintf(stderr,
			"callvault location: the refresh token in %s "
			"was used by the check and its successor could not be "
			"written back (%s): install the app again\n",
			file, err);
	free(err);
}

/* Print what the check found and judge it: an exit code. */
static int judge(const struct credcheck *c, const char *id)
{
	char *sum = credcheck_summary(c);
	printf("location %s: %s\n", id, sum);
	free(sum);
	char *why = NULL;
	enum cv_err rc = credcheck_verdict(c, id, &why);
	if (rc != CV_OK) {
		int code = cli_fail(rc == CV_EAUTH ? CV_EXIT_USAGE
						   : CV_EXIT_FAIL,
			"location", "%s; nothing stored%s", why,
			rc == CV_EHTTP
				? " (--no-check adds it without checking)"
				: "");
		free(why);
		return code;
	}
	if (c->item[CC_AGENTS].state == CC_MISSING_SCOPE)
		fprintf(stderr,
			"callvault location: warning: agent names "
			"stay unknown until the token has the scope %s\n",
			CC_SCOPE_AGENTS);
	return CV_EXIT_OK;
}

char *location_api_base(const char *url)
{
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	return xstrndup(url, n);
}

int location_check(const struct store_location *l, const char *staging,
	const char *refresh_file)
{
	struct store_location st = *l;
	st.secrets_dir = (char *)staging;
	struct hl_client_opts http = { .timeout_ms = 30000 };
	struct auth *au = NULL;
	struct credcheck c;
	char *err = NULL;
	credcheck_init(&c);
	enum cv_err rc = auth_open(&au, &st, &http, &err);
	if (rc == CV_OK)
		rc = credcheck_run(&st, au, &http, &c, &err);
	int code;
	if (rc != CV_OK)
		code = cli_fail(rc == CV_EAUTH ? CV_EXIT_USAGE : CV_EXIT_FAIL,
			"location", "%s; nothing stored%s",
			err ? err : cv_strerror(rc),
			rc == CV_EHTTP
				? " (--no-check adds it without checking)"
				: "");
	else
		code = judge(&c, l->id);
	if (code != CV_EXIT_OK && rc == CV_OK && refresh_file &&
		auth_refresh_count(au) > 0)
		hand_back_refresh(au, refresh_file);
	free(err);
	credcheck_finish(&c);
	auth_close(au);
	return code;
}

/* Stage, check (unless --no-check) and install l's secrets. */
static int save_secrets(const struct store_location *l,
	const struct add_args *a, char **err)
{
	char *staging = auth_staging_dir(l->secrets_dir);
	(void)!auth_remove(staging, NULL); /* a crashed add's leftovers */
	enum cv_err rc = a->token_file
				 ? auth_save_pit(staging, a->token_file, err)
				 : auth_save_oauth(staging, a->secret_file,
					   a->refresh_file, err);
	int code = rc == CV_OK                         ? CV_EXIT_OK
		   : cli_exit_for(rc) == CV_EXIT_USAGE ? CV_EXIT_USAGE
						       : CV_EXIT_FAIL;
	if (code == CV_EXIT_OK && !a->no_check)
		code = location_check(l, staging, a->refresh_file);
	if (code == CV_EXIT_OK &&
		auth_install(staging, l->secrets_dir, err) != CV_OK)
		code = CV_EXIT_FAIL;
	if (code != CV_EXIT_OK)
		(void)!auth_remove(staging, NULL);
	free(staging);
	return code;
}

static int add(struct cli *cli, int argc, char **argv)
{
	struct add_args a = { .api_base = HL_DEFAULT_API_BASE,
		.version = HL_DEFAULT_VERSION };
	int code = parse_add(argc, argv, &a);
	if (code != CV_EXIT_OK)
		return code;
	if (optind != argc - 1)
		return cli_fail(CV_EXIT_USAGE, "location",
			"add needs exactly "
			"one LOCATION id");
	const char *id = argv[optind];
	if (!auth_location_id_valid(id))
		return cli_fail(CV_EXIT_USAGE, "location",
			"location id must "
			"be 1-64 of A-Z a-z 0-9 _ -");
	struct store *s = cli_open_store(cli, "location", 0);
	if (!s)
		return CV_EXIT_FAIL;
	struct store_location old;
	char *err = NULL;
	enum cv_err rc = store_location_get(s, id, &old, NULL);
	store_location_finish(&old);
	if (rc == CV_OK && !a.replace) {
		store_close(s);
		return cli_fail(CV_EXIT_USAGE, "location",
			"location %s exists "
			"(use --replace to change its credentials)",
			id);
	}
	char *base = location_api_base(a.api_base);
	struct store_location l = {
		.id = (char *)id,
		.auth = a.token_file ? STORE_AUTH_PIT : STORE_AUTH_OAUTH,
		.api_base = base,
		.api_version = (char *)a.version,
		.client_id = (char *)a.client_id,
		.secrets_dir = auth_secrets_dir(cli->db_path, id),
	};
	code = save_secrets(&l, &a, &err);
	if (code == CV_EXIT_OK && store_location_put(s, &l, &err) != CV_OK)
		code = CV_EXIT_FAIL;
	if (code == CV_EXIT_OK)
		printf("location %s added (%s, %s, Version %s; secrets in "
		       "%s%s)\n",
			id,
			a.token_file ? "private integration token" : "OAuth",
			base, a.version, l.secrets_dir,
			a.no_check ? "; not checked" : "");
	else if (err)
		code = cli_fail(code, "location", "%s", err);
	free(err);
	free(base);
	free(l.secrets_dir);
	store_close(s);
	return code;
}

static void print_time(const char *label, int64_t ms)
{
	char t[32];
	if (ms > 0)
		cv_format_iso8601(ms, t);
	else
		strcpy(t, "-");
	printf("  %s %s", label, t);
}

static int list(struct cli *cli, int argc, char **argv)
{
	if (argc > 2)
		return cli_fail(CV_EXIT_USAGE, "location",
			"list takes no "
			"arguments");
	struct store *s = cli_open_store(cli, "location", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	struct store_location *l;
	size_t n;
	char *err = NULL;
	enum cv_err rc = store_location_list(s, &l, &n, &err);
	if (rc != CV_OK) {
		store_close(s);
		int code = cli_fail(CV_EXIT_FAIL, "location", "%s", err);
		free(err);
		return code;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%s  %s  %s  Version %s", l[i].id,
			l[i].auth == STORE_AUTH_OAUTH ? "oauth" : "pit",
			l[i].api_base, l[i].api_version);
		print_time("checkpoint", l[i].checkpoint_ms);
		print_time("last-ok", l[i].last_ok_at);
		printf("  requests %lld", (long long)l[i].requests);
		if (l[i].last_error)
			printf("  last-error \"%s\"", l[i].last_error);
		if (l[i].last_warning)
			printf("  last-warning \"%s\"", l[i].last_warning);
		putchar('\n');
	}
	store_locations_free(l, n);
	store_close(s);
	return CV_EXIT_OK;
}

static int remove_loc(struct cli *cli, int argc, char **argv)
{
	if (argc != 3)
		return cli_fail(CV_EXIT_USAGE, "location",
			"remove needs one "
			"LOCATION id");
	struct store *s = cli_open_store(cli, "location", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	struct store_location l;
	char *err = NULL;
	enum cv_err rc = store_location_get(s, argv[2], &l, &err);
	if (rc == CV_OK)
		rc = store_location_delete(s, argv[2], &err);
	if (rc == CV_OK)
		rc = auth_remove(l.secrets_dir, &err);
	int code = CV_EXIT_OK;
	if (rc == CV_OK)
		printf("location %s removed (its calls stay in the store)\n",
			argv[2]);
	else
		code = cli_fail(cli_exit_for(rc), "location", "%s", err);
	free(err);
	store_location_finish(&l);
	store_close(s);
	return code;
}

static int run(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_fail(CV_EXIT_USAGE, "location",
			"add, list or "
			"remove (see --help)");
	const char *sub = argv[1];
	if (strcmp(sub, "add") == 0)
		return add(cli, argc - 1, argv + 1);
	if (strcmp(sub, "add-agency") == 0)
		return location_add_agency(cli, argc - 1, argv + 1);
	if (strcmp(sub, "list") == 0)
		return list(cli, argc, argv);
	if (strcmp(sub, "remove") == 0)
		return remove_loc(cli, argc, argv);
	return cli_fail(CV_EXIT_USAGE, "location", "unknown subcommand '%s'",
		sub);
}

const struct cli_cmd cmd_location = {
	.name = "location",
	.summary = "add, list or remove HighLevel locations to sync",
	.help = "usage: callvault location add LOC --token-file FILE "
		"[--api-base URL] [--version V]\n"
		"                              [--replace] [--no-check]\n"
		"       callvault location add LOC --client-id ID "
		"--client-secret-file FILE\n"
		"                              --refresh-token-file FILE "
		"[--api-base URL] [--version V]\n"
		"                              [--replace] [--no-check]\n"
		"       callvault location add-agency --client-id ID "
		"--client-secret-file FILE\n"
		"                              --refresh-token-file FILE "
		"[--api-base URL] [--version V]\n"
		"                              [--no-check]\n"
		"       callvault location add-agency --company ID "
		"[--no-check]\n"
		"       callvault location list\n"
		"       callvault location remove LOC\n"
		"\n"
		"add registers a HighLevel location (sub-account) with a "
		"Private Integration\nToken, or with an OAuth app "
		"(user_type=Location) and its refresh token.\nThe secrets are "
		"copied into <db>.secrets/LOC/ (directory 0700, files 0600,\n"
		"written atomically); the store keeps only the location row. "
		"OAuth refresh\ntokens are single-use: callvault rotates them "
		"itself, one refresh at a time\nacross processes, and writes "
		"each new pair to disk before using it.\n"
		"\n"
		"  --api-base URL  API root (default " HL_DEFAULT_API_BASE
		");\n"
		"                  https, or http only to 127.0.0.1/localhost\n"
		"  --version V     the Version header (default " HL_DEFAULT_VERSION
		")\n"
		"  --replace       change the credentials of an existing "
		"location (kept as\n"
		"                  they were when the new ones are refused)\n"
		"  --no-check      store the credentials without asking the API "
		"(offline setup)\n"
		"\n"
		"Before storing anything, add asks the API what the token can "
		"do: one call-log\nrequest (one record of the last minute) and "
		"one agents request (one record),\nand prints e.g. \"call logs: "
		"ok; agents: missing scope voice-ai-agents.readonly;\n"
		"recordings: not checked\". Call logs need the scope\n" CC_SCOPE_CALLS
		", agent names " CC_SCOPE_AGENTS ",\n"
		"recordings " CC_SCOPE_RECORDINGS ".\n"
		"A token that cannot read call logs is refused (exit 2, nothing "
		"stored); so\nis an OAuth token whose reply names another "
		"location. When the API cannot be\nreached the exit is 1. An "
		"OAuth check refreshes the token; if the location is\nthen "
		"refused, the new refresh token is written back to "
		"--refresh-token-file.\n"
		"\nadd-agency takes a Company-level OAuth install of a "
		"marketplace app\n(user_type=Company): it lists the locations "
		"the app is installed in\n(GET /oauth/installedLocations), and "
		"registers each with a token of its\nown from POST "
		"/oauth/locationToken (Version " AUTH_AGENCY_VERSION
		"), refreshed "
		"as it\nexpires with the company's token, so each location "
		"has its own rate-limit\nbudget. Each is checked as add "
		"checks one. The company's secrets go to\n"
		"<db>.secrets/agency-COMPANY/. --company ID lists again with "
		"those: new\ninstalls are added, locations the app left are "
		"stopped (row and secrets\nremoved; their calls stay); run it "
		"on a schedule, or after an INSTALL or\nUNINSTALL webhook.\n"
		"\nlist prints each location with its checkpoint and last "
		"result (no secrets).\nremove deletes the row and the secrets; "
		"stored calls stay.\n",
	.run = run,
};
