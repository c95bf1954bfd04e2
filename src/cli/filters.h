/*
 * filters.h — the call filters shared by `search` and `export`:
 * --from --to --tz --location --agent --contact --number --action
 * --min-duration --max-duration --trial --no-trial.
 */
#ifndef CV_CLI_FILTERS_H
#define CV_CLI_FILTERS_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>

#include "../search.h"

/* getopt_long entries (option values FILTER_OPT_BASE and up). */
#define FILTER_OPT_BASE 1000
#define FILTER_OPTIONS                                                         \
	{ "from", required_argument, NULL, FILTER_OPT_BASE + 0 },              \
		{ "to", required_argument, NULL, FILTER_OPT_BASE + 1 },        \
		{ "tz", required_argument, NULL, FILTER_OPT_BASE + 2 },        \
		{ "location", required_argument, NULL, FILTER_OPT_BASE + 3 },  \
		{ "agent", required_argument, NULL, FILTER_OPT_BASE + 4 },     \
		{ "contact", required_argument, NULL, FILTER_OPT_BASE + 5 },   \
		{ "number", required_argument, NULL, FILTER_OPT_BASE + 6 },    \
		{ "action", required_argument, NULL, FILTER_OPT_BASE + 7 },    \
		{ "min-duration", required_argument, NULL,                     \
			FILTER_OPT_BASE + 8 },                                 \
		{ "max-duration", required_argument, NULL,                     \
			FILTER_OPT_BASE + 9 },                                 \
		{ "trial", no_argument, NULL, FILTER_OPT_BASE + 10 },          \
	{                                                                      \
		"no-trial", no_argument, NULL, FILTER_OPT_BASE + 11            \
	}

/* The --help text for the filters (a string literal). */
#define CLI_FILTERS_HELP                                                       \
	"Filters (all optional, combined with AND):\n"                         \
	"  --from TIME, --to TIME  created at or after / at or before TIME:\n" \
	"                  YYYY-MM-DD or ISO 8601 (2026-03-02T15:04:05Z).\n"   \
	"                  Inclusive: a bare --to date includes that whole "   \
	"day.\n"                                                               \
	"  --tz ZONE       read (and show) times in ZONE (IANA, e.g.\n"        \
	"                  America/New_York); default: the store's zone\n"     \
	"                  (callvault config set timezone), else UTC\n"        \
	"  --location ID   the sub-account (locationId)\n"                     \
	"  --agent ID|NAME the agent, by id or by name (case-insensitive)\n"   \
	"  --contact ID    the contact (contactId)\n"                          \
	"  --number PHONE  the caller's number, compared in E.164, so\n"       \
	"                  \"(512) 555-0143\" finds +15125550143\n"            \
	"  --action TYPE   an action of this type ran (CALL_TRANSFER, SMS,\n"  \
	"                  APPOINTMENT_BOOKING, …)\n"                        \
	"  --min-duration S, --max-duration S  call length in seconds\n"       \
	"  --trial, --no-trial  only trial calls / no trial calls\n"

struct cli_filters {
	struct search_filter f;              /* after cli_filters_finish */
	struct search_filter_arg arg[SFK_N]; /* the values as given */
	char action[64];
};

void cli_filters_init(struct cli_filters *cf);
/*
 * Take option c with argument arg. Returns 1 when it was a filter option,
 * 0 when it is not one. The values are checked by cli_filters_finish.
 */
int cli_filters_opt(struct cli_filters *cf, const char *cmd, int c,
	const char *arg);
/* Check every value and resolve --from/--to in --tz with the parser the
 * API and holds use (search_filters_parse); false after printing its
 * message (exit 2). */
bool cli_filters_finish(struct cli_filters *cf, const char *cmd);
struct cli;
struct store;
/* After the store is open: settle the command's zone (cli_zone, --tz
 * or the store's timezone setting) and, when --tz was not given, read
 * --from/--to again in the store's zone. Returns 0 or the exit code
 * after printing the error. */
int cli_filters_zone(struct cli_filters *cf, struct cli *cli, struct store *s,
	const char *cmd);
/* The filters that are set, as a JSON object (new reference). */
json_t *cli_filters_json(const struct cli_filters *cf);

#endif
