/*
 * auth.h — credentials of one HighLevel location: a Private Integration
 * Token, or an OAuth client with a rotating, single-use refresh token.
 *
 * Secrets live in files in the location's secrets directory (created
 * 0700; files 0600, written atomically): `token` (PIT), or
 * `client_secret` and `tokens` (OAuth: refresh token, access token,
 * expiry). An OAuth refresh is single-flight per location, also across
 * processes (flock on `lock`), and the new pair is durable on disk before
 * it is used. No secret ever reaches an error message or a log line.
 */
#ifndef CV_AUTH_H
#define CV_AUTH_H

#include <stdbool.h>

#include "common.h"
#include "highlevel.h"
#include "store/store_sync.h"

/* true for ids safe as a directory name: 1–64 of [A-Za-z0-9_-]. */
bool auth_location_id_valid(const char *id);

/* The secrets directory of loc for the store at db_path
 * ("<db>.secrets/<loc>"); caller frees. */
char *auth_secrets_dir(const char *db_path, const char *loc);

/* Copy a PIT from token_file into dir (created when missing). */
enum cv_err auth_save_pit(const char *dir, const char *token_file,
	char **errmsg) CV_MUST_CHECK;
/* Copy an OAuth client secret and refresh token into dir. */
enum cv_err auth_save_oauth(const char *dir, const char *secret_file,
	const char *refresh_file, char **errmsg) CV_MUST_CHECK;
/* Delete the secrets of dir and the directory. */
enum cv_err auth_remove(const char *dir, char **errmsg) CV_MUST_CHECK;

/* The Version of the agency endpoints (/oauth/locationToken,
 * /oauth/installedLocations), which declare only this one. */
#define AUTH_AGENCY_VERSION "2021-07-28"

/*
 * An agency-wide install: the agency's directory holds the app's client
 * secret and the Company refresh token (auth_save_oauth); each location's
 * directory holds an `agency` file naming that directory and the company,
 * and its own access token, which comes from POST /oauth/locationToken
 * with the company's token (itself refreshed with user_type=Company).
 */
enum cv_err auth_save_agency_location(const char *dir, const char *agency_dir,
	const char *company_id, char **errmsg) CV_MUST_CHECK;

struct auth;
/* Open the Company credentials in dir (for an agency-wide install). */
enum cv_err auth_open_company(struct auth **out, const char *dir,
	const char *api_base, const char *client_id,
	const struct hl_client_opts *http, char **errmsg) CV_MUST_CHECK;
/* The companyId of the last token reply, or NULL; owned by a. */
const char *auth_granted_company(const struct auth *a);

/* Load the credentials of a location row (an agency location's too);
 * CV_EAUTH when files lack. */
enum cv_err auth_open(struct auth **out, const struct store_location *loc,
	const struct hl_client_opts *http, char **errmsg) CV_MUST_CHECK;
void auth_close(struct auth *a);

/*
 * The bearer token to send now (owned by a, valid until the next auth
 * call). An OAuth access token that is missing or near its expiry is
 * refreshed first. CV_EAUTH when the server refused the refresh token,
 * CV_EHTTP when the token endpoint could not be reached.
 */
enum cv_err auth_token(struct auth *a, const char **token,
	char **errmsg) CV_MUST_CHECK;
/* Whether auth_token() would refresh now: lock a file and wait for the
 * token endpoint. */
bool auth_token_would_refresh(const struct auth *a);

/*
 * The API answered 401 "Invalid token" to `token`. For OAuth: refresh
 * (unless another process already replaced that token) and return CV_OK
 * so the caller retries once. For a PIT: CV_OK (one retry as is).
 */
enum cv_err auth_refused(struct auth *a, const char *token,
	char **errmsg) CV_MUST_CHECK;

/* Number of refresh exchanges this process made (for tests and logs). */
int auth_refresh_count(const struct auth *a);

/*
 * What the last token reply this process received said: the location the
 * token is for and its scopes (space-separated). Each NULL when no
 * refresh happened or the reply left it out; owned by a.
 */
void auth_granted(const struct auth *a, const char **location_id,
	const char **scope);

/* Write the current OAuth refresh token to path (atomically, 0600): used
 * to hand a rotated token back when a new location is refused. */
enum cv_err auth_export_refresh(const struct auth *a, const char *path,
	char **errmsg) CV_MUST_CHECK;

/*
 * New credentials are written to a staging directory beside dir (the
 * name returned, caller frees) and checked there; auth_install() then
 * puts them in place of dir's (the old ones are removed), so a refused
 * --replace leaves the working credentials untouched.
 */
char *auth_staging_dir(const char *dir);
enum cv_err auth_install(const char *staging, const char *dir,
	char **errmsg) CV_MUST_CHECK;

#endif
