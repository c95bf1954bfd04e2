/* agency.c — see agency.h */
#include "agency.h"

#include <stdlib.h>
#include <string.h>

#include "hljson.h"
#include "util.h"

#define PAGE 50
#define MAX_PAGES 200

char *agency_dir(const char *db_path, const char *company_id)
{
	return xasprintf("%s.secrets/agency-%s", db_path, company_id);
}

char *agency_app_id(const char *client_id)
{
	return xstrndup(client_id, strcspn(client_id, "-"));
}

void agency_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

static char *list_url(const char *api_base, const char *company_id,
	const char *app_id, int64_t skip)
{
	struct buf u;
	buf_init(&u);
	buf_puts(&u, api_base);
	buf_puts(&u, "/oauth/installedLocations");
	hl_query_add(&u, "companyId", company_id);
	hl_query_add(&u, "appId", app_id);
	hl_query_add(&u, "isInstalled", "true");
	hl_query_add_int(&u, "skip", skip);
	hl_query_add_int(&u, "limit", PAGE);
	return buf_steal(&u);
}

/* One page of the listing; appends its ids to *ids. */
static enum cv_err list_page(struct auth *company, const char *url,
	const struct hl_client_opts *http, char ***ids, size_t *n,
	size_t *listed, int64_t *count, char **errmsg)
{
	const char *token;
	enum cv_err rc = auth_token(company, &token, errmsg);
	if (rc != CV_OK)
		return rc;
	struct hl_response r;
	hl_get_sync(url, token, AUTH_AGENCY_VERSION, http, &r);
	if (r.err != CV_OK) {
		rc = cv_error(errmsg, CV_EHTTP, "installed locations: %s",
			r.errmsg ? r.errmsg : "request failed");
	} else if (r.status != 200) {
		char *m = hljson_error_message(r.body.data, r.body.len);
		rc = cv_error(errmsg,
			r.status >= 500 || r.status == 429 ? CV_EHTTP
							   : CV_EAUTH,
			"installed locations: HTTP "
			"%ld%s%s",
			r.status, m ? ": " : "", m ? m : "");
		free(m);
	} else {
		struct hljson_installed in;
		rc = hljson_installed_parse(r.body.data, r.body.len, &in,
			errmsg);
		if (rc == CV_OK) {
			*ids = xrealloc(*ids, (*n + in.n + 1) * sizeof(**ids));
			for (size_t i = 0; i < in.n; i++) {
				(*ids)[(*n)++] = in.ids[i];
				in.ids[i] = NULL;
			}
			*listed = in.listed;
			*count = in.count;
		}
		hljson_installed_finish(&in);
	}
	hl_response_finish(&r);
	return rc;
}

enum cv_err agency_list(struct auth *company, const char *api_base,
	const char *company_id, const char *app_id,
	const struct hl_client_opts *http, char ***ids, size_t *n,
	char **errmsg)
{
	*ids = NULL;
	*n = 0;
	enum cv_err rc = CV_OK;
	/* skip counts every listed location, installed or not: the page
	 * is full when the server gave PAGE entries */
	for (int page = 0; page < MAX_PAGES && rc == CV_OK; page++) {
		char *url = list_url(api_base, company_id, app_id,
			(int64_t)page * PAGE);
		size_t listed = 0;
		int64_t count = -1;
		rc = list_page(company, url, http, ids, n, &listed, &count,
			errmsg);
		free(url);
		if (rc == CV_OK &&
			(listed < PAGE ||
				(count >= 0 && (page + 1) * PAGE >= count)))
			break;
	}
	if (rc != CV_OK) {
		agency_ids_free(*ids, *n);
		*ids = NULL;
		*n = 0;
	}
	return rc;
}

/* The value of "key=" in a small key=value file, or NULL. */
static char *file_get(const char *path, const char *key)
{
	char *text = NULL, *err = NULL, *val = NULL;
	size_t len, kl = strlen(key);
	if (cv_read_file(path, 8192, &text, &len, &err) == CV_OK) {
		for (char *l = text; l && *l;) {
			char *eol = strchr(l, '\n');
			size_t k = eol ? (size_t)(eol - l) : strlen(l);
			if (k > kl && strncmp(l, key, kl) == 0 &&
				l[kl] == '=') {
				val = xstrndup(l + kl + 1, k - kl - 1);
				break;
			}
			l = eol ? eol + 1 : NULL;
		}
	}
	free(text);
	free(err);
	return val;
}

char *agency_of(const char *loc_dir)
{
	char *p = xasprintf("%s/agency", loc_dir);
	char *dir = file_get(p, "dir");
	free(p);
	return dir;
}

enum cv_err agency_save_app(const char *dir, const char *client_id,
	const char *api_base, const char *version, char **errmsg)
{
	char *p = xasprintf("%s/app", dir);
	char *text = xasprintf("client_id=%s\napi_base=%s\nversion=%s\n",
		client_id, api_base, version);
	enum cv_err rc = cv_write_file_atomic(p, text, strlen(text), 0600,
		errmsg);
	free(text);
	free(p);
	return rc;
}

enum cv_err agency_load_app(const char *dir, char **client_id, char **api_base,
	char **version, char **errmsg)
{
	char *p = xasprintf("%s/app", dir);
	*client_id = file_get(p, "client_id");
	*api_base = file_get(p, "api_base");
	*version = file_get(p, "version");
	free(p);
	if (*client_id && *api_base && *version)
		return CV_OK;
	free(*client_id);
	free(*api_base);
	free(*version);
	*client_id = *api_base = *version = NULL;
	return cv_error(errmsg, CV_ENOTFOUND,
		"no agency install in %s (add "
		"it with --client-id, --client-secret-file and "
		"--refresh-token-file)",
		dir);
}
