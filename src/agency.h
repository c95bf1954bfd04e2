/*
 * agency.h — agency-wide installs (issue 17): one Company-level OAuth
 * install of a marketplace app covers every sub-account it is installed
 * in. The agency's secrets live in "<db>.secrets/agency-<companyId>"; each
 * location gets a token of its own from POST /oauth/locationToken (see
 * auth.h), so each is synced with its own rate-limit budget.
 */
#ifndef CV_AGENCY_H
#define CV_AGENCY_H

#include <stddef.h>

#include "auth.h"
#include "common.h"
#include "highlevel.h"

/* The agency's secrets directory for the store at db_path; caller frees. */
char *agency_dir(const char *db_path, const char *company_id);

/* The app id of a client id: the part before '-' (as HighLevel's SDK
 * derives it); caller frees. */
char *agency_app_id(const char *client_id);

/*
 * The ids of the locations the app is installed in, from GET
 * /oauth/installedLocations (paged; at most 10,000) with the company's
 * token. *ids is an array of n strings; free with agency_ids_free.
 * CV_EAUTH when refused, CV_EHTTP when unreachable, CV_EPARSE when the
 * answer is not a listing.
 */
enum cv_err agency_list(struct auth *company, const char *api_base,
	const char *company_id, const char *app_id,
	const struct hl_client_opts *http, char ***ids, size_t *n,
	char **errmsg) CV_MUST_CHECK;
void agency_ids_free(char **ids, size_t n);

/* The agency directory a location's secrets directory belongs to (its
 * `agency` file), or NULL for a location of its own; caller frees. */
char *agency_of(const char *loc_dir);

/* The app's client id, API root and Version, kept in the agency's
 * directory (file `app`) for the listings that follow. */
enum cv_err agency_save_app(const char *dir, const char *client_id,
	const char *api_base, const char *version, char **errmsg) CV_MUST_CHECK;
/* CV_ENOTFOUND when dir holds no agency install. Caller frees. */
enum cv_err agency_load_app(const char *dir, char **client_id, char **api_base,
	char **version, char **errmsg) CV_MUST_CHECK;

#endif
