/* auth.c — see auth.h */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hljson.h"
#include "util.h"

#define TOKENS_MAX (64 * 1024)

struct auth {
	enum store_auth kind;
	char *loc;
	char *dir;
	char *token_url, *api_base;
	char *client_id;
	char *client_secret;
	struct hl_client_opts http;
	/* current pair (OAuth) or the PIT in access */
	char *access;
	char *refresh;
	int64_t expires_at, obtained_at; /* epoch ms; 0 = unknown */
	int refreshes;
	/* what the last token reply of this process said (NULL = unsaid) */
	char *granted_location, *granted_scope, *granted_company;
	/* an agency-wide install: this location's token comes from
	 * POST /oauth/locationToken with the company's token */
	struct auth *company;
	char *company_id;
	const char *user_type; /* of the refresh grant: Location, Company */
};

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

bool auth_location_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

char *auth_secrets_dir(const char *db_path, const char *loc)
{
	return xasprintf("%s.secrets/%s", db_path, loc);
}

static enum cv_err mkdir_private(const char *dir, char **errmsg)
{
	/* the parent "<db>.secrets" and the location directory */
	char *parent = xstrdup(dir);
	char *slash = strrchr(parent, '/');
	enum cv_err rc = CV_OK;
	if (slash && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0700) != 0 && errno != EEXIST)
			rc = cv_error(errmsg, CV_EIO, "cannot create %s: %s",
				parent, strerror(errno));
	}
	if (rc == CV_OK && mkdir(dir, 0700) != 0 && errno != EEXIST)
		rc = cv_error(errmsg, CV_EIO, "cannot create %s: %s", dir,
			strerror(errno));
	if (rc == CV_OK && chmod(dir, 0700) != 0)
		rc = cv_error(errmsg, CV_EIO, "cannot chmod %s: %s", dir,
			strerror(errno));
	free(parent);
	return rc;
}

static enum cv_err write_secret(const char *dir, const char *name,
	const char *text, char **errmsg)
{
	char *path = xasprintf("%s/%s", dir, name);
	enum cv_err rc = cv_write_file_atomic(path, text, strlen(text), 0600,
		errmsg);
	free(path);
	return rc;
}

/* Read a one-line secret file and store it in dir/name. */
static enum cv_err copy_secret(const char *dir, const char *name,
	const char *from, char **errmsg)
{
	char *v = NULL;
	enum cv_err rc = cv_read_secret(from, &v, errmsg);
	if (rc != CV_OK)
		return rc;
	char *line = xasprintf("%s\n", v);
	rc = write_secret(dir, name, line, errmsg);
	wipe_free(line);
	wipe_free(v);
	return rc;
}

enum cv_err auth_save_pit(const char *dir, const char *token_file,
	char **errmsg)
{
	enum cv_err rc = mkdir_private(dir, errmsg);
	if (rc == CV_OK)
		rc = copy_secret(dir, "token", token_file, errmsg);
	return rc;
}

static char *tokens_text(const char *refresh, const char *access,
	int64_t expires_at, int64_t obtained_at)
{
	return xasprintf("refresh_token=%s\naccess_token=%s\n"
			 "expires_at=%lld\nobtained_at=%lld\n",
		refresh, access ? access : "", (long long)expires_at,
		(long long)obtained_at);
}

enum cv_err auth_save_oauth(const char *dir, const char *secret_file,
	const char *refresh_file, char **errmsg)
{
	enum cv_err rc = mkdir_private(dir, errmsg);
	if (rc == CV_OK)
		rc = copy_secret(dir, "client_secret", secret_file, errmsg);
	char *refresh = NULL;
	if (rc == CV_OK)
		rc = cv_read_secret(refresh_file, &refresh, errmsg);
	if (rc == CV_OK) {
		char *t = tokens_text(refresh, NULL, 0, 0);
		rc = write_secret(dir, "tokens", t, errmsg);
		wipe_free(t);
	}
	wipe_free(refresh);
	return rc;
}

enum cv_err auth_remove(const char *dir, char **errmsg)
{
	static const char *const names[] = { "token", "client_secret", "tokens",
		"lock", "agency", "app" };
	for (size_t i = 0; i < CV_ARRAY_LEN(names); i++) {
		char *p = xasprintf("%s/%s", dir, names[i]);
		if (unlink(p) != 0 && errno != ENOENT) {
			enum cv_err rc = cv_error(errmsg, CV_EIO,
				"cannot remove %s: %s", p, strerror(errno));
			free(p);
			return rc;
		}
		free(p);
	}
	if (rmdir(dir) != 0 && errno != ENOENT)
		return cv_error(errmsg, CV_EIO, "cannot remove %s: %s", dir,
			strerror(errno));
	return CV_OK;
}

/* Value of "key=" in a tokens file (a copy), NULL when absent/empty. */
static char *tokens_get(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == '=')
			return xstrndup(p + kl + 1, n - kl - 1);
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

static int64_t tokens_get_int(const char *text, const char *key)
{
	char *v = tokens_get(text, key);
	int64_t r = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return r;
}

/* (Re)load the OAuth pair from dir/tokens. */
static enum cv_err load_tokens(struct auth *a, char **errmsg)
{
	char *path = xasprintf("%s/tokens", a->dir);
	char *text = NULL;
	size_t len;
	enum cv_err rc = cv_read_file(path, TOKENS_MAX, &text, &len, errmsg);
	free(path);
	if (rc != CV_OK)
		return CV_EAUTH;
	char *refresh = tokens_get(text, "refresh_token");
	char *access = tokens_get(text, "access_token");
	int64_t exp = tokens_get_int(text, "expires_at");
	int64_t got = tokens_get_int(text, "obtained_at");
	wipe_free(text);
	if ((!refresh || !*refresh) && !a->company) {
		wipe_free(refresh);
		wipe_free(access);
		return cv_error(errmsg, CV_EAUTH,
			"location %s: no refresh "
			"token on file (run `callvault location add` again)",
			a->loc);
	}
	wipe_free(a->refresh);
	wipe_free(a->access);
	a->refresh = refresh && *refresh ? refresh : NULL;
	a->access = access && *access ? access : NULL;
	if (access && !*access)
		free(access);
	if (refresh && !*refresh)
		free(refresh);
	a->expires_at = exp;
	a->obtained_at = got;
	return CV_OK;
}

/* A location of an agency-wide install: its `agency` file names the
 * agency's secrets directory and company; open the company's auth. */
static enum cv_err open_agency(struct auth *a, char **errmsg)
{
	char *p = xasprintf("%s/agency", a->dir);
	char *text = NULL;
	size_t len;
	enum cv_err rc = access(p, F_OK) != 0 ? CV_OK
					      : cv_read_file(p, TOKENS_MAX,
							&text, &len, errmsg);
	free(p);
	if (rc != CV_OK || !text)
		return rc;
	char *adir = tokens_get(text, "dir");
	a->company_id = tokens_get(text, "company_id");
	free(text);
	if (!adir || !a->company_id)
		rc = cv_error(errmsg, CV_EAUTH,
			"location %s: its agency file "
			"is damaged",
			a->loc);
	else
		rc = auth_open_company(&a->company, adir, a->api_base,
			a->client_id, &a->http, errmsg);
	free(adir);
	return rc;
}

enum cv_err auth_open_company(struct auth **out, const char *dir,
	const char *api_base, const char *client_id,
	const struct hl_client_opts *http, char **errmsg)
{
	struct store_location l = { .id = "agency",
		.auth = STORE_AUTH_OAUTH,
		.api_base = (char *)api_base,
		.client_id = (char *)client_id,
		.secrets_dir = (char *)dir };
	enum cv_err rc = auth_open(out, &l, http, errmsg);
	if (rc == CV_OK)
		(*out)->user_type = "Company";
	return rc;
}

enum cv_err auth_save_agency_location(const char *dir, const char *agency_dir,
	const char *company_id, char **errmsg)
{
	enum cv_err rc = mkdir_private(dir, errmsg);
	char *text = xasprintf("dir=%s\ncompany_id=%s\n", agency_dir,
		company_id);
	if (rc == CV_OK)
		rc = write_secret(dir, "agency", text, errmsg);
	free(text);
	char *t = tokens_text("", NULL, 0, 0);
	if (rc == CV_OK)
		rc = write_secret(dir, "tokens", t, errmsg);
	free(t);
	return rc;
}

const char *auth_granted_company(const struct auth *a)
{
	return a->granted_company;
}

enum cv_err auth_open(struct auth **out, const struct store_location *loc,
	const struct hl_client_opts *http, char **errmsg)
{
	struct auth *a = xcalloc(1, sizeof(*a));
	a->kind = loc->auth;
	a->loc = xstrdup(loc->id);
	a->dir = xstrdup(loc->secrets_dir);
	if (http)
		a->http = *http;
	enum cv_err rc;
	if (a->kind == STORE_AUTH_PIT) {
		char *p = xasprintf("%s/token", a->dir);
		rc = cv_read_secret(p, &a->access, errmsg);
		free(p);
	} else {
		a->client_id = xstrdup(loc->client_id ? loc->client_id : "");
		a->api_base = xstrdup(loc->api_base);
		a->token_url = xasprintf("%s/oauth/token", loc->api_base);
		a->user_type = "Location";
		rc = open_agency(a, errmsg);
		if (rc == CV_OK && !a->company) {
			char *p = xasprintf("%s/client_secret", a->dir);
			rc = cv_read_secret(p, &a->client_secret, errmsg);
			free(p);
		}
		if (rc == CV_OK)
			rc = load_tokens(a, errmsg);
	}
	if (rc != CV_OK) {
		auth_close(a);
		return rc == CV_EAUTH ? rc : CV_EAUTH;
	}
	*out = a;
	return CV_OK;
}

void auth_close(struct auth *a)
{
	if (!a)
		return;
	free(a->loc);
	free(a->dir);
	free(a->token_url);
	free(a->api_base);
	free(a->client_id);
	wipe_free(a->client_secret);
	wipe_free(a->access);
	wipe_free(a->refresh);
	free(a->granted_location);
	free(a->granted_scope);
	free(a->granted_company);
	free(a->company_id);
	auth_close(a->company);
	free(a);
}

int auth_refresh_count(const struct auth *a)
{
	return a->refreshes;
}

static bool needs_refresh(const struct auth *a, int64_t now)
{
	if (!a->access || a->expires_at <= 0)
		return true;
	int64_t life = a->expires_at - a->obtained_at;
	int64_t margin = life > 0 ? life / 5 : 0;
	if (margin > 300000)
		margin = 300000;
	return now >= a->expires_at - margin;
}

static char *form_text(const struct auth *a)
{
	char *id = hl_escape(a->client_id), *sec = hl_escape(a->client_secret),
	     *rt = hl_escape(a->refresh);
	char *f = xasprintf("client_id=%s&client_secret=%s&grant_type="
			    "refresh_token&refresh_token=%s&user_type=%s",
		id, sec, rt, a->user_type);
	free(id);
	wipe_free(sec);
	wipe_free(rt);
	return f;
}

/* POST /oauth/token: a refresh_token grant. */
static void post_refresh(struct auth *a, struct hl_response *r)
{
	char *form = form_text(a);
	hl_post_form(a->token_url, form, &a->http, r);
	wipe_free(form);
}

/*
 * POST /oauth/locationToken with the company's token (refreshed under
 * the agency's own lock when stale; once more when refused as invalid).
 */
static enum cv_err post_location_token(struct auth *a, struct hl_response *r,
	char **errmsg)
{
	char *cid = hl_escape(a->company_id), *lid = hl_escape(a->loc);
	char *form = xasprintf("companyId=%s&locationId=%s", cid, lid);
	char *url = xasprintf("%s/oauth/locationToken", a->api_base);
	enum cv_err rc = CV_OK;
	for (int n = 0; n < 2; n++) {
		const char *ct;
		rc = auth_token(a->company, &ct, errmsg);
		if (rc != CV_OK)
			break;
		char *sent = xstrdup(ct);
		hl_post_form_auth(url, form, sent, AUTH_AGENCY_VERSION,
			&a->http, r);
		char *m = r->status == 401 ? hljson_error_message(r->body.data,
						     r->body.len)
					   : NULL;
		bool invalid = m && strcasestr(m, "invalid token");
		free(m);
		if (invalid && n == 0)
			rc = auth_refused(a->company, sent, errmsg);
		wipe_free(sent);
		if (!invalid || n == 1 || rc != CV_OK)
			break;
		hl_response_finish(r);
	}
	free(url);
	free(form);
	free(cid);
	free(lid);
	return rc;
}

/* The token endpoint's answer: an error unless a 200. */
static enum cv_err check_reply(const struct auth *a,
	const struct hl_response *r, char **errmsg)
{
	if (r->err != CV_OK)
		return cv_error(errmsg, CV_EHTTP,
			"location %s: token endpoint: "
			"%s",
			a->loc, r->errmsg ? r->errmsg : "failed");
	if (r->status == 200)
		return CV_OK;
	char *m = hljson_error_message(r->body.data, r->body.len);
	enum cv_err rc = cv_error(errmsg,
		r->status >= 500 ? CV_EHTTP : CV_EAUTH,
		"location %s: token %s refused (HTTP %ld%s%s)", a->loc,
		a->company ? "request" : "refresh", r->status, m ? ": " : "",
		m ? m : "");
	free(m);
	return rc;
}

/* Keep the new pair: durable on disk before it is adopted. */
static enum cv_err adopt(struct auth *a, const struct hl_response *r,
	int64_t now, char **errmsg)
{
	struct hljson_token t;
	char *perr = NULL;
	if (hljson_token_parse_opt(r->body.data, r->body.len, !a->company, &t,
		    &perr) != CV_OK) {
		enum cv_err rc = cv_error(errmsg, CV_EAUTH,
			"location %s: "
			"token response: %s",
			a->loc, perr);
		free(perr);
		return rc;
	}
	int64_t life = t.expires_in > 0 ? t.expires_in * 1000 : 3600000;
	char *text = tokens_text(t.refresh_token ? t.refresh_token : "",
		t.access_token, now + life, now);
	char *path = xasprintf("%s/tokens", a->dir);
	enum cv_err rc = cv_write_file_atomic(path, text, strlen(text), 0600,
		errmsg);
	wipe_free(text);
	free(path);
	if (rc != CV_OK) {
		/* the server rotated the token but we could not keep it */
		cv_errlog("location=%s msg=\"new refresh token could not be "
			  "saved: re-install may be needed\"",
			a->loc);
		hljson_token_finish(&t);
		return rc;
	}
	wipe_free(a->access);
	wipe_free(a->refresh);
	a->access = t.access_token;
	a->refresh = t.refresh_token;
	a->expires_at = now + life;
	a->obtained_at = now;
	free(a->granted_location);
	free(a->granted_scope);
	free(a->granted_company);
	a->granted_location = t.location_id;
	a->granted_scope = t.scope;
	a->granted_company = t.company_id;
	t.access_token = t.refresh_token = NULL;
	t.location_id = t.scope = t.company_id = NULL;
	hljson_token_finish(&t);
	cv_info("location=%s msg=\"OAuth tokens refreshed\"", a->loc);
	return CV_OK;
}

/* One exchange at the token endpoint. Called with the lock held. */
static enum cv_err exchange(struct auth *a, char **errmsg)
{
	struct hl_response r;
	int64_t now = cv_now_ms();
	enum cv_err rc = CV_OK;
	memset(&r, 0, sizeof(r));
	if (a->company)
		rc = post_location_token(a, &r, errmsg);
	else
		post_refresh(a, &r);
	a->refreshes++;
	if (rc == CV_OK)
		rc = check_reply(a, &r, errmsg);
	if (rc == CV_OK)
		rc = adopt(a, &r, now, errmsg);
	hl_response_finish(&r);
	return rc;
}

/*
 * Under the location's lock: re-read the pair (another process may have
 * refreshed), then refresh when it is still stale, or still equal to the
 * token the server refused.
 */
static enum cv_err refresh_locked(struct auth *a, const char *refused,
	char **errmsg)
{
	char *lp = xasprintf("%s/lock", a->dir);
	int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lp);
	if (fd < 0)
		return cv_error(errmsg, CV_EIO,
			"location %s: cannot open the "
			"lock file: %s",
			a->loc, strerror(errno));
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			close(fd);
			return cv_error(errmsg, CV_EIO, "location %s: lock: %s",
				a->loc, strerror(errno));
		}
	}
	enum cv_err rc = load_tokens(a, errmsg);
	if (rc == CV_OK) {
		bool same = refused && a->access &&
			    strcmp(a->access, refused) == 0;
		if (same || needs_refresh(a, cv_now_ms()))
			rc = exchange(a, errmsg);
	}
	flock(fd, LOCK_UN);
	close(fd);
	return rc;
}

bool auth_token_would_refresh(const struct auth *a)
{
	return a->kind == STORE_AUTH_OAUTH && needs_refresh(a, cv_now_ms());
}

enum cv_err auth_token(struct auth *a, const char **token, char **errmsg)
{
	if (auth_token_would_refresh(a)) {
		enum cv_err rc = refresh_locked(a, NULL, errmsg);
		if (rc != CV_OK)
			return rc;
	}
	*token = a->access;
	return CV_OK;
}

enum cv_err auth_refused(struct auth *a, const char *token, char **errmsg)
{
	/* a PIT cannot be refreshed: the caller retries it once as is
	 * and fails on a second refusal */
	if (a->kind == STORE_AUTH_PIT)
		return CV_OK;
	char *copy = xstrdup(token);
	enum cv_err rc = refresh_locked(a, copy, errmsg);
	wipe_free(copy);
	return rc;
}

void auth_granted(const struct auth *a, const char **location_id,
	const char **scope)
{
	*location_id = a->granted_location;
	*scope = a->granted_scope;
}

enum cv_err auth_export_refresh(const struct auth *a, const char *path,
	char **errmsg)
{
	if (a->kind != STORE_AUTH_OAUTH || !a->refresh)
		return cv_error(errmsg, CV_EINVAL, "no refresh token");
	char *line = xasprintf("%s\n", a->refresh);
	enum cv_err rc = cv_write_file_atomic(path, line, strlen(line), 0600,
		errmsg);
	wipe_free(line);
	return rc;
}

char *auth_staging_dir(const char *dir)
{
	/* '.' is not allowed in a location id: no location is named so */
	return xasprintf("%s.new", dir);
}

enum cv_err auth_install(const char *staging, const char *dir, char **errmsg)
{
	char *old = xasprintf("%s.old", dir);
	enum cv_err rc = CV_OK;
	bool had = rename(dir, old) == 0;
	if (!had && errno != ENOENT)
		rc = cv_error(errmsg, CV_EIO, "cannot move %s aside: %s", dir,
			strerror(errno));
	if (rc == CV_OK && rename(staging, dir) != 0) {
		rc = cv_error(errmsg, CV_EIO, "cannot rename %s: %s", staging,
			strerror(errno));
		if (had)
			(void)!rename(old, dir);
	}
	if (rc == CV_OK && had) {
		char *err = NULL;
		if (auth_remove(old, &err) != CV_OK) {
			cv_warn("msg=\"old credentials left in %s: %s\"", old,
				err);
			free(err);
		}
	}
	free(old);
	return rc;
}
