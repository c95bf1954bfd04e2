/* cmd_location.h — parts of `callvault location` shared by its files. */
#ifndef CV_CMD_LOCATION_H
#define CV_CMD_LOCATION_H

#include "../store/store_sync.h"
#include "cli.h"

/*
 * Check the credentials staged in `staging` for location l with one
 * request per endpoint and print what the token can do. Returns an exit
 * code: 0 when call logs can be read. When an OAuth check refreshed a
 * token it then refuses, the new refresh token goes to refresh_file
 * (when not NULL).
 */
int location_check(const struct store_location *l, const char *staging,
	const char *refresh_file);

/* --api-base without trailing slashes; caller frees. */
char *location_api_base(const char *url);

/* `callvault location add-agency …` (cmd_location_agency.c). */
int location_add_agency(struct cli *cli, int argc, char **argv);

#endif
