/* cmd_location_agency.c — `callvault location add-agency`: a Company-level
 * OAuth install, every location it is installed in (issue 17). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agency.h"
#include "../auth.h"
#include "../highlevel.h"
#include "../store/store_sync.h"
#include "../util.h"
#include "cli.h"
#include "cmd_location.h"

struct agency_args {
	const char *client_id, *secret_file, *refresh_file, *company;
	const char *api_base, *version;
	bool no_check;
};

/* One run: the agency's directory and app, and what happened. */
struct run {
	struct cli *cli;
	struct store *s;
	const struct agency_args *a;
	char *dir, *company_id, *client_id, *api_base, *version;
	int added, kept, failed, stopped, own;
};

static int parse(int argc, char **argv, struct agency_args *a)
{
	static const struct option opts[] = {
		{ "client-id", required_argument, NULL, 'c' },
		{ "client-secret-file", required_argument, NULL, 's' },
		{ "refresh-token-file", required_argument, NULL, 'r' },
		{ "company", required_argument, NULL, 'C' },
		{ "api-base", required_argument, NULL, 'b' },
		{ "version", required_argument, NULL, 'V' },
		{ "no-check", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'c': a->client_id = optarg; break;
		case 's': a->secret_file = optarg; break;
		case 'r': a->refresh_file = optarg; break;
		case 'C': a->company = optarg; break;
		case 'b': a->api_base = optarg; break;
		case 'V': a->version = optarg; break;
		case 'N': a->no_check = true; break;
		default: return CV_EXIT_USAGE;
		}
	}
	bool install = a->client_id || a->secret_file || a->refresh_file;
	if (optind != argc || (install && a->company) ||
		(!a->company &&
			!(a->client_id && a->secret_file && a->refresh_file)))
		return cli_fail(CV_EXIT_USAGE, "location",
			"add-agency needs "
			"--client-id ID --client-secret-file FILE "
			"--refresh-token-file FILE, or --company ID (see "
			"--help)");
	if (a->company && !auth_location_id_valid(a->company))
		return cli_fail(CV_EXIT_USAGE, "location", "bad --company");
	if (!hl_url_allowed(a->api_base))
		return cli_fail(CV_EXIT_USAGE, "location",
			"--api-base must be "
			"an https URL (plain http only to loopback)");
	return CV_EXIT_OK;
}

/* A new install: stage the Company credentials, refresh them to learn
 * the company, then put them in place as "agency-<companyId>". */
static int install(struct run *run, char **err)
{
	const struct agency_args *a = run->a;
	char *staging = xasprintf("%s.secrets/agency.new", run->cli->db_path);
	(void)!auth_remove(staging, NULL);
	struct hl_client_opts http = { .timeout_ms = 30000 };
	struct auth *co = NULL;
	const char *token;
	enum cv_err rc = auth_save_oauth(staging, a->secret_file,
		a->refresh_file, err);
	if (rc == CV_OK)
		rc = auth_open_company(&co, staging, run->api_base,
			a->client_id, &http, err);
	if (rc == CV_OK)
		rc = auth_token(co, &token, err);
	const char *cid = co ? auth_granted_company(co) : NULL, *gl = NULL,
		   *gs = NULL;
	if (co)
		auth_granted(co, &gl, &gs);
	if (rc == CV_OK && gl)
		rc = cv_error(err, CV_EAUTH,
			"this is an install in location %s "
			"(user_type=Location): add it with `callvault location "
			"add`",
			gl);
	else if (rc == CV_OK && (!cid || !auth_location_id_valid(cid)))
		rc = cv_error(err, CV_EAUTH,
			"the token reply names no usable "
			"companyId (is it a Company-level install, "
			"user_type=Company?)");
	if (rc == CV_OK) {
		run->company_id = xstrdup(cid);
		run->dir = agency_dir(run->cli->db_path, cid);
		rc = auth_install(staging, run->dir, err);
	}
	if (rc == CV_OK)
		rc = agency_save_app(run->dir, a->client_id, run->api_base,
			run->version, err);
	/* refused after a refresh: the token the user gave is spent, its
	 * successor goes back into their file */
	char *e2 = NULL;
	if (rc != CV_OK && co && (gl || cid) &&
		auth_export_refresh(co, a->refresh_file, &e2) == CV_OK)
		fprintf(stderr,
			"callvault location: %s now holds the rotated "
			"refresh token\n",
			a->refresh_file);
	free(e2);
	auth_close(co);
	if (rc != CV_OK)
		(void)!auth_remove(staging, NULL);
	free(staging);
	return rc == CV_OK ? CV_EXIT_OK
	       : cli_exit_for(rc) == CV_EXIT_USAGE || rc == CV_EAUTH
		       ? CV_EXIT_USAGE
		       : CV_EXIT_FAIL;
}

/* Register one installed location with a token of its own. */
static void add_one(struct run *run, const char *id)
{
	struct store_location old;
	if (store_location_get(run->s, id, &old, NULL) == CV_OK) {
		char *of = agency_of(old.secrets_dir);
		bool ours = of && strcmp(of, run->dir) == 0;
		printf("location %s: %s\n", id,
			ours ? "already registered"
			     : "has credentials of its own: left as it is");
		if (ours)
			run->kept++;
		else
			run->own++;
		free(of);
		store_location_finish(&old);
		return;
	}
	struct store_location l = {
		.id = (char *)id,
		.auth = STORE_AUTH_OAUTH,
		.api_base = run->api_base,
		.api_version = run->version,
		.client_id = run->client_id,
		.secrets_dir = auth_secrets_dir(run->cli->db_path, id),
	};
	char *staging = auth_staging_dir(l.secrets_dir), *err = NULL;
	(void)!auth_remove(staging, NULL);
	int code = auth_save_agency_location(staging, run->dir, run->company_id,
			   &err) == CV_OK
			   ? CV_EXIT_OK
			   : CV_EXIT_FAIL;
	if (code == CV_EXIT_OK && !run->a->no_check)
		code = location_check(&l, staging, NULL);
	if (code == CV_EXIT_OK &&
		(auth_install(staging, l.secrets_dir, &err) != CV_OK ||
			store_location_put(run->s, &l, &err) != CV_OK))
		code = CV_EXIT_FAIL;
	if (code == CV_EXIT_OK) {
		printf("location %s added (agency %s%s)\n", id, run->company_id,
			run->a->no_check ? "; not checked" : "");
		run->added++;
	} else {
		if (err)
			cli_fail(code, "location", "%s: %s", id, err);
		(void)!auth_remove(staging, NULL);
		run->failed++;
	}
	free(err);
	free(staging);
	free(l.secrets_dir);
}

static bool listed(char **ids, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

/* Stop the agency's locations the listing no longer holds: the row and
 * the secrets go; the calls stay. */
static void stop_missing(struct run *run, char **ids, size_t n)
{
	struct store_location *l;
	size_t nl;
	char *err = NULL;
	if (store_location_list(run->s, &l, &nl, &err) != CV_OK) {
		cli_fail(CV_EXIT_FAIL, "location", "%s", err);
		free(err);
		run->failed++;
		return;
	}
	for (size_t i = 0; i < nl; i++) {
		char *of = agency_of(l[i].secrets_dir);
		if (of && strcmp(of, run->dir) == 0 &&
			!listed(ids, n, l[i].id)) {
			if (store_location_delete(run->s, l[i].id, &err) ==
					CV_OK &&
				auth_remove(l[i].secrets_dir, &err) == CV_OK) {
				printf("location %s: the app is no longer "
				       "installed there: stopped (its calls "
				       "stay in the store)\n",
					l[i].id);
				run->stopped++;
			} else {
				cli_fail(CV_EXIT_FAIL, "location", "%s: %s",
					l[i].id, err);
				run->failed++;
			}
			free(err);
			err = NULL;
		}
		free(of);
	}
	store_locations_free(l, nl);
}

/* List the installed locations and bring the store in line with them. */
static int reconcile(struct run *run)
{
	struct hl_client_opts http = { .timeout_ms = 30000 };
	struct auth *co = NULL;
	char **ids = NULL, *app = agency_app_id(run->client_id), *err = NULL;
	size_t n = 0;
	enum cv_err rc = auth_open_company(&co, run->dir, run->api_base,
		run->client_id, &http, &err);
	if (rc == CV_OK)
		rc = agency_list(co, run->api_base, run->company_id, app, &http,
			&ids, &n, &err);
	auth_close(co);
	free(app);
	if (rc != CV_OK) {
		int code = cli_fail(rc == CV_EAUTH ? CV_EXIT_USAGE
						   : CV_EXIT_FAIL,
			"location", "agency %s: %s", run->company_id, err);
		free(err);
		return code;
	}
	for (size_t i = 0; i < n; i++) {
		if (auth_location_id_valid(ids[i])) {
			add_one(run, ids[i]);
		} else {
			cli_fail(CV_EXIT_FAIL, "location",
				"agency %s lists a "
				"location id callvault cannot use: \"%.64s\"",
				run->company_id, ids[i]);
			run->failed++;
		}
	}
	stop_missing(run, ids, n);
	printf("agency %s: %zu installed location(s): %d added, %d already "
	       "registered, %d stopped, %d failed%s\n",
		run->company_id, n, run->added, run->kept, run->stopped,
		run->failed,
		run->own ? " (some have credentials of their own)" : "");
	agency_ids_free(ids, n);
	return run->failed ? CV_EXIT_FAIL : CV_EXIT_OK;
}

int location_add_agency(struct cli *cli, int argc, char **argv)
{
	struct agency_args a = { .api_base = HL_DEFAULT_API_BASE,
		.version = HL_DEFAULT_VERSION };
	int code = parse(argc, argv, &a);
	if (code != CV_EXIT_OK)
		return code;
	struct run run = { .cli = cli, .a = &a };
	run.s = cli_open_store(cli, "location", 0);
	if (!run.s)
		return CV_EXIT_FAIL;
	char *err = NULL;
	if (a.company) {
		run.company_id = xstrdup(a.company);
		run.dir = agency_dir(cli->db_path, a.company);
		if (agency_load_app(run.dir, &run.client_id, &run.api_base,
			    &run.version, &err) != CV_OK)
			code = cli_fail(CV_EXIT_USAGE, "location", "%s", err);
	} else {
		run.api_base = location_api_base(a.api_base);
		run.client_id = xstrdup(a.client_id);
		run.version = xstrdup(a.version);
		code = install(&run, &err);
		if (code != CV_EXIT_OK)
			cli_fail(code, "location",
				"agency install: %s; nothing "
				"stored",
				err ? err : "failed");
	}
	if (code == CV_EXIT_OK)
		code = reconcile(&run);
	free(err);
	free(run.dir);
	free(run.company_id);
	free(run.client_id);
	free(run.api_base);
	free(run.version);
	store_close(run.s);
	return code;
}
