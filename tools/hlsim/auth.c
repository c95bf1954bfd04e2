/* auth.c — see auth.h */
#include "auth.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "simdata.h"
#include "util.h"

#define B64URL                                                                 \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#define JWT_HEAD "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."

enum tok_kind { TOK_PIT, TOK_ACCESS, TOK_REFRESH, TOK_CODE };

#define COMPANY -2 /* the loc of a Company token */
#define COMPANY_ID "GNb7aIv4rQFVb9iwNl5K"
#define USER_ID "Rg6BRRiHh7dS9gJy3W8a"

struct tok {
	char *value;
	enum tok_kind kind;
	int loc;
	int64_t expires_ms; /* 0 = never */
	bool dead;          /* used (refresh/code) or revoked */
	char key[24];       /* rate-limit identity */
};

struct auth {
	struct auth_opts o;
	char *client_id, *client_secret;
	char *lack;       /* o.lack_scopes, owned */
	int *uninstalled; /* location indexes the app is not in */
	size_t n_uninstalled;
	struct tok *toks;
	size_t n, cap;
	int n_pits;
	uint64_t rng;
	long issued, refreshed, rejected;
};

/* Every scope a token has unless --lack-scope takes it away. */
static const char *const SCOPES[] = { "voice-ai-dashboard.readonly",
	"voice-ai-agents.readonly", "conversations/message.readonly" };

const char *auth_scope_for(const char *path)
{
	if (!strncmp(path, "/voice-ai/dashboard/call-logs", 29))
		return SCOPES[0];
	if (!strncmp(path, "/voice-ai/agents", 16))
		return SCOPES[1];
	if (!strncmp(path, "/conversations/", 15))
		return SCOPES[2];
	return NULL;
}

/* Whether scope is in the comma list (whole items). */
static bool in_list(const char *list, const char *scope)
{
	size_t n = strlen(scope);
	for (const char *p = list; p && *p;) {
		size_t w = strcspn(p, ",");
		if (w == n && !strncmp(p, scope, n))
			return true;
		p += w + (p[w] == ',');
	}
	return false;
}

bool auth_scope_ok(const struct auth *a, const char *path)
{
	const char *need = auth_scope_for(path);
	return !need || !in_list(a->o.lack_scopes, need);
}

/* The space-separated scope list of a token reply (malloc'd). */
static char *granted(const struct auth *a)
{
	char buf[256] = "";
	for (size_t i = 0; i < sizeof(SCOPES) / sizeof(SCOPES[0]); i++) {
		if (in_list(a->o.lack_scopes, SCOPES[i]))
			continue;
		if (*buf)
			strcat(buf, " ");
		strcat(buf, SCOPES[i]);
	}
	return xstrdup(buf);
}

struct auth *auth_create(const struct auth_opts *o)
{
	struct auth *a = xcalloc(1, sizeof(*a));
	a->o = *o;
	a->client_id = xstrdup(o->client_id);
	a->client_secret = xstrdup(o->client_secret);
	a->lack = o->lack_scopes ? xstrdup(o->lack_scopes) : NULL;
	a->o.lack_scopes = a->lack;
	a->rng = o->seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return a;
}

void auth_destroy(struct auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->toks[i].value);
	free(a->toks);
	free(a->client_id);
	free(a->client_secret);
	free(a->lack);
	free(a->uninstalled);
	free(a);
}

static struct tok *add_tok(struct auth *a, const char *value,
	enum tok_kind kind, int loc)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 32;
		a->toks = xrealloc(a->toks, a->cap * sizeof(*a->toks));
	}
	struct tok *t = &a->toks[a->n++];
	memset(t, 0, sizeof(*t));
	t->value = xstrdup(value);
	t->kind = kind;
	t->loc = loc;
	snprintf(t->key, sizeof(t->key), "app");
	return t;
}

static struct tok *find_tok(struct auth *a, const char *value)
{
	for (size_t i = a->n; i-- > 0;)
		if (!strcmp(a->toks[i].value, value))
			return &a->toks[i];
	return NULL;
}

void auth_add_pit(struct auth *a, int loc, const char *token)
{
	struct tok *t = add_tok(a, token, TOK_PIT, loc);
	snprintf(t->key, sizeof(t->key), "pit:%d", a->n_pits++);
}

enum auth_kind auth_check(struct auth *a, const char *token, int64_t now_ms,
	int *loc, const char **key)
{
	struct tok *t = token ? find_tok(a, token) : NULL;
	if (!t || t->dead || (t->kind != TOK_PIT && t->kind != TOK_ACCESS) ||
		(t->expires_ms && now_ms >= t->expires_ms) || t->loc == COMPANY)
		return AUTH_INVALID;
	*loc = t->loc;
	*key = t->key;
	return t->kind == TOK_PIT ? AUTH_PIT : AUTH_OAUTH;
}

void auth_revoke(struct auth *a, const char *token)
{
	struct tok *t = token ? find_tok(a, token) : NULL;
	if (t)
		t->dead = true;
}

void auth_counts(const struct auth *a, long *issued, long *refreshed,
	long *rejected)
{
	*issued = a->issued;
	*refreshed = a->refreshed;
	*rejected = a->rejected;
}

static char *url_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%' && i + 2 < n &&
			   cv_hex_digit(s[i + 1]) >= 0 &&
			   cv_hex_digit(s[i + 2]) >= 0) {
			*o++ = (char)(cv_hex_digit(s[i + 1]) * 16 +
				      cv_hex_digit(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

char *auth_form_get(const char *form, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = form; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (eq && (size_t)(eq - p) == kl && !memcmp(p, key, kl))
			return url_decode(eq + 1, len - kl - 1);
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

static char *oauth_error(int status, const char *error, const char *desc)
{
	json_t *o = json_pack("{s:i,s:s,s:s,s:s}", "statusCode", status,
		"message", desc, "error", error, "error_description", desc);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static void jwt_like(struct auth *a, char *out, size_t outsz)
{
	char p1[44], p2[44];
	sim_randstr(&a->rng, B64URL, 43, p1);
	sim_randstr(&a->rng, B64URL, 43, p2);
	snprintf(out, outsz, "%s%s.%s", JWT_HEAD, p1, p2);
}

static char *dump_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* Mint an access token that expires (and a refresh token) for loc. */
static void mint(struct auth *a, int loc, int64_t now_ms, char *access,
	char *refresh)
{
	jwt_like(a, access, 160);
	struct tok *t = add_tok(a, access, TOK_ACCESS, loc);
	t->expires_ms = now_ms + a->o.token_ttl_s * 1000;
	if (refresh) {
		jwt_like(a, refresh, 160);
		add_tok(a, refresh, TOK_REFRESH, loc);
	}
	a->issued++;
}

/* Issue an access + refresh pair for loc; returns the JSON body. */
static char *issue(struct auth *a, int loc, const char *loc_id, int64_t now_ms)
{
	char access[160], refresh[160];
	mint(a, loc, now_ms, access, refresh);
	char *scope = granted(a);
	char *s = dump_json(json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s}",
		"access_token", access, "token_type", "Bearer", "expires_in",
		(json_int_t)a->o.token_ttl_s, "refresh_token", refresh, "scope",
		scope, "userType", "Location", "companyId", COMPANY_ID,
		"locationId", loc_id, "userId", USER_ID));
	free(scope);
	return s;
}

/* Issue a Company (agency) access + refresh pair. */
static char *issue_company(struct auth *a, int64_t now_ms)
{
	char access[160], refresh[160];
	mint(a, COMPANY, now_ms, access, refresh);
	return dump_json(json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:b}",
		"access_token", access, "token_type", "Bearer", "expires_in",
		(json_int_t)a->o.token_ttl_s, "refresh_token", refresh, "scope",
		"oauth.readonly oauth.write voice-ai-dashboard.readonly",
		"userType", "Company", "companyId", COMPANY_ID, "userId",
		USER_ID, "isBulkInstallation", 1));
}

static int grant_code(struct auth *a, const char *code, int64_t now_ms,
	int (*locid_of)(void *, const char *),
	const char *(*loc_id)(void *, int), void *ctx, char **body)
{
	/* codes are "code-<locationId>[-anything]" or, for an agency-wide
	 * install, "company-<anything>"; each usable once */
	int loc = -1;
	if (code && !strncmp(code, "company-", 8))
		loc = COMPANY;
	else if (code && !strncmp(code, "code-", 5)) {
		char id[64];
		snprintf(id, sizeof(id), "%.20s", code + 5);
		loc = locid_of(ctx, id);
	}
	struct tok *used = code ? find_tok(a, code) : NULL;
	if ((loc < 0 && loc != COMPANY) || used) {
		a->rejected++;
		*body = oauth_error(400, "invalid_grant",
			"Invalid grant: authorization code is invalid");
		return 400;
	}
	struct tok *t = add_tok(a, code, TOK_CODE, loc);
	t->dead = true;
	*body = loc == COMPANY ? issue_company(a, now_ms)
			       : issue(a, loc, loc_id(ctx, loc), now_ms);
	return 200;
}

static int grant_refresh(struct auth *a, const char *rt, const char *utype,
	int64_t now_ms, const char *(*loc_id)(void *, int), void *ctx,
	char **body)
{
	struct tok *t = rt ? find_tok(a, rt) : NULL;
	/* a Company token is refreshed with user_type=Company only */
	bool company = utype && !strcmp(utype, "Company");
	if (!t || t->kind != TOK_REFRESH || t->dead ||
		company != (t->loc == COMPANY)) {
		a->rejected++;
		*body = oauth_error(400, "invalid_grant",
			"Invalid grant: refresh token is invalid");
		return 400;
	}
	t->dead = true; /* single use: the old refresh token dies now */
	int loc = t->loc;
	a->refreshed++;
	*body = loc == COMPANY ? issue_company(a, now_ms)
			       : issue(a, loc, loc_id(ctx, loc), now_ms);
	return 200;
}

/* A field of a form-encoded body, or of a JSON object body (j). */
static char *field(const char *form, const json_t *j, const char *key)
{
	if (!j)
		return auth_form_get(form, key);
	const char *v = json_string_value(json_object_get(j, key));
	return v ? xstrdup(v) : NULL;
}

int auth_token_endpoint(struct auth *a, const char *form, int64_t now_ms,
	int (*locid_of)(void *ctx, const char *id),
	const char *(*loc_id)(void *ctx, int loc), void *ctx, char **body)
{
	/* form-encoded as the spec says; JSON as one site sample shows */
	json_t *j = form[0] == '{' ? json_loads(form, 0, NULL) : NULL;
	char *cid = field(form, j, "client_id");
	char *sec = field(form, j, "client_secret");
	char *grant = field(form, j, "grant_type");
	char *utype = field(form, j, "user_type");
	char *code = field(form, j, "code");
	char *rt = field(form, j, "refresh_token");
	json_decref(j);
	int status;
	if (!cid || !sec || strcmp(cid, a->client_id) ||
		strcmp(sec, a->client_secret)) {
		a->rejected++;
		status = 401;
		*body = oauth_error(401, "invalid_client",
			"Invalid client: client credentials are invalid");
	} else if (utype && strcmp(utype, "Location") &&
		   strcmp(utype, "Company")) {
		a->rejected++;
		status = 422;
		*body = oauth_error(422, "invalid_request",
			"user_type must be one of the following values: "
			"Company, Location");
	} else if (grant && !strcmp(grant, "authorization_code")) {
		status = grant_code(a, code, now_ms, locid_of, loc_id, ctx,
			body);
	} else if (grant && !strcmp(grant, "refresh_token")) {
		status = grant_refresh(a, rt, utype, now_ms, loc_id, ctx, body);
	} else {
		a->rejected++;
		status = 400;
		*body = oauth_error(400, "unsupported_grant_type",
			"grant_type must be authorization_code or "
			"refresh_token");
	}
	free(cid);
	free(sec);
	free(grant);
	free(utype);
	free(code);
	free(rt);
	return status;
}

/* ---- agency-wide installs (oauth.json) ---- */

static bool installed(const struct auth *a, int loc)
{
	for (size_t i = 0; i < a->n_uninstalled; i++)
		if (a->uninstalled[i] == loc)
			return false;
	return true;
}

void auth_set_installed(struct auth *a, int loc, bool yes)
{
	size_t k = 0;
	for (size_t i = 0; i < a->n_uninstalled; i++)
		if (a->uninstalled[i] != loc)
			a->uninstalled[k++] = a->uninstalled[i];
	a->n_uninstalled = k;
	if (!yes) {
		a->uninstalled = xrealloc(a->uninstalled,
			(k + 1) * sizeof(*a->uninstalled));
		a->uninstalled[a->n_uninstalled++] = loc;
	}
}

/* The Version these endpoints declare, and a live Company token. */
static int company_call(struct auth *a, const char *token, const char *version,
	int64_t now_ms, char **body)
{
	if (!version) {
		*body = oauth_error(401, "Unauthorized",
			"version header was not found.");
		return 401;
	}
	if (strcmp(version, "2021-07-28")) {
		*body = oauth_error(401, "Unauthorized",
			"version header is invalid");
		return 401;
	}
	struct tok *t = token ? find_tok(a, token) : NULL;
	if (!t || t->dead || t->kind != TOK_ACCESS ||
		(t->expires_ms && now_ms >= t->expires_ms)) {
		*body = oauth_error(401, "Unauthorized",
			"Invalid token: access token is invalid");
		return 401;
	}
	if (t->loc != COMPANY) {
		*body = oauth_error(401, "Unauthorized",
			"The token is not authorized for this scope.");
		return 401;
	}
	return 0;
}

int auth_location_token(struct auth *a, const char *token, const char *version,
	const char *form, int64_t now_ms,
	int (*locid_of)(void *ctx, const char *id), void *ctx, char **body)
{
	int st = company_call(a, token, version, now_ms, body);
	if (st)
		return st;
	char *cid = auth_form_get(form, "companyId");
	char *lid = auth_form_get(form, "locationId");
	int loc = lid ? locid_of(ctx, lid) : -1;
	if (!cid || strcmp(cid, COMPANY_ID)) {
		st = 400;
		*body = oauth_error(400, "Bad Request", "companyId is invalid");
	} else if (loc < 0 || !installed(a, loc)) {
		st = 400;
		*body = oauth_error(400, "Bad Request",
			"The app is not "
			"installed for this location");
	} else {
		char access[160];
		mint(a, loc, now_ms, access, NULL);
		char *scope = granted(a);
		st = 200;
		*body = dump_json(json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:s}",
			"access_token", access, "token_type", "Bearer",
			"expires_in", (json_int_t)a->o.token_ttl_s, "scope",
			scope, "locationId", lid, "userId", USER_ID, "appId",
			a->client_id));
		free(scope);
	}
	free(cid);
	free(lid);
	return st;
}

/* appId: the client id, or its part before '-' (as the SDK derives it) */
static bool app_id_ok(const struct auth *a, const char *app)
{
	size_t n = strcspn(a->client_id, "-");
	return app &&
	       (!strcmp(app, a->client_id) ||
		       (strlen(app) == n && !strncmp(app, a->client_id, n)));
}

int auth_installed_locations(struct auth *a, const char *token,
	const char *version, const char *company_id, const char *app_id,
	long skip, long limit, int n_locs, const char *(*loc_id)(void *, int),
	void *ctx, int64_t now_ms, char **body)
{
	int st = company_call(a, token, version, now_ms, body);
	if (st)
		return st;
	if (!company_id || strcmp(company_id, COMPANY_ID) ||
		!app_id_ok(a, app_id)) {
		*body = oauth_error(400, "Bad Request",
			"companyId or appId is invalid");
		return 400;
	}
	json_t *arr = json_array();
	for (long i = skip; i >= 0 && i < n_locs && i < skip + limit; i++)
		json_array_append_new(arr,
			json_pack("{s:s,s:s,s:s,s:b}", "_id",
				loc_id(ctx, (int)i), "name", "Sub-account",
				"address", "1 Main St", "isInstalled",
				installed(a, (int)i)));
	*body = dump_json(json_pack("{s:o,s:i,s:b}", "locations", arr, "count",
		n_locs, "installToFutureLocations", 0));
	return 200;
}
