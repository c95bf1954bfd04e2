/*
 * auth.h — simulated HighLevel credentials: static Private Integration
 * Tokens per location, and the OAuth token endpoint (authorization_code and
 * refresh_token grants; single-use rotating refresh tokens; access tokens
 * that expire). Not thread-safe: the server holds its lock around calls.
 */
#ifndef HLSIM_AUTH_H
#define HLSIM_AUTH_H

#include <stdbool.h>
#include <stdint.h>

struct auth;

struct auth_opts {
	const char *client_id, *client_secret;
	int64_t token_ttl_s; /* access token lifetime (expires_in) */
	uint64_t seed;
	const char *lack_scopes; /* comma list no token has, or NULL */
};

enum auth_kind { AUTH_INVALID, AUTH_PIT, AUTH_OAUTH };

struct auth *auth_create(const struct auth_opts *o);
void auth_destroy(struct auth *a);

/* Register a static PIT for location index loc. */
void auth_add_pit(struct auth *a, int loc, const char *token);

/*
 * Look a bearer token up. Returns its kind (AUTH_INVALID when unknown,
 * expired or revoked); *loc gets the location index and *key a stable
 * rate-limit identity ("pit:N" or "app") borrowed from a.
 */
enum auth_kind auth_check(struct auth *a, const char *token, int64_t now_ms,
	int *loc, const char **key);

/* The scope an API path needs ("voice-ai-dashboard.readonly" for
 * call logs, "voice-ai-agents.readonly" for agents), or NULL. */
const char *auth_scope_for(const char *path);

/* false when the tokens lack the scope path needs (--lack-scope): the
 * API then answers 401 "The token is not authorized for this scope.". */
bool auth_scope_ok(const struct auth *a, const char *path);

/* Revoke a token (fault injection). Unknown tokens are ignored. */
void auth_revoke(struct auth *a, const char *token);

/*
 * Answer POST /oauth/token for the form-encoded body `form`. locid_of maps a
 * location id to its index (-1 unknown), loc_id maps back. Returns the HTTP
 * status and sets *body (malloc'd JSON).
 */
int auth_token_endpoint(struct auth *a, const char *form, int64_t now_ms,
	int (*locid_of)(void *ctx, const char *id),
	const char *(*loc_id)(void *ctx, int loc), void *ctx, char **body);

/*
 * Agency-wide installs. A Company token comes from the code
 * "company-<anything>" with user_type=Company (and its refresh tokens);
 * it is refused on location endpoints. POST /oauth/locationToken (form
 * companyId, locationId) gives a location token for a location the app
 * is installed in; GET /oauth/installedLocations lists the locations
 * (skip, limit) with isInstalled. Both need `Version: 2021-07-28`.
 * Return the HTTP status and set *body (malloc'd JSON).
 */
int auth_location_token(struct auth *a, const char *token, const char *version,
	const char *form, int64_t now_ms,
	int (*locid_of)(void *ctx, const char *id), void *ctx, char **body);
int auth_installed_locations(struct auth *a, const char *token,
	const char *version, const char *company_id, const char *app_id,
	long skip, long limit, int n_locs, const char *(*loc_id)(void *, int),
	void *ctx, int64_t now_ms, char **body);
/* Install the app in location loc, or uninstall it (POST /__sim/install). */
void auth_set_installed(struct auth *a, int loc, bool yes);

/* Counters for /__sim/stats. */
void auth_counts(const struct auth *a, long *issued, long *refreshed,
	long *rejected);

/* Decode application/x-www-form-urlencoded field `key` (malloc'd) or NULL. */
char *auth_form_get(const char *form, const char *key);

#endif
