/*
 * cli.h — what the subcommands of the callvault binary share. Each
 * subcommand lives in its own cmd_*.c and is listed in main.c's table.
 */
#ifndef CV_CLI_H
#define CV_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "../common.h"
#include "../store/store.h"
#include "../tz.h"

struct cli {
	const char *prog;    /* "callvault" */
	const char *db_path; /* --db, $CALLVAULT_DB, ./callvault.db */
	const char *actor;   /* --actor ("on behalf of"), else os_user */
	const char *os_user; /* the user the effective uid names (never
				   the environment): every audit entry of
				   the store cli_open_store opens records it */
	/* the zone times are read and shown in (cli_zone): NULL = UTC */
	struct tz *zone;
	char *zone_name;
	char **argv; /* the whole command line, as given */
};

struct cli_cmd {
	const char *name;
	const char *summary; /* one line for `callvault --help` */
	const char *help;    /* full text for `callvault CMD --help` */
	int (*run)(struct cli *cli, int argc, char **argv);
	/* in `callvault` (lean): true when these arguments need
	 * callvault-full (NULL: never) */
	bool (*needs_full)(int argc, char **argv);
};

#ifdef CV_LEAN
/* Replace this process with callvault-full, given the same command
 * line (a command that finds it needs what only callvault-full has);
 * returns only on failure, with the exit code. */
int cli_exec_full(const struct cli *cli);
#endif

/* Print "callvault CMD: message" to stderr; returns the exit code. */
int cli_fail(int code, const char *cmd, const char *fmt, ...) CV_PRINTF(3, 4);
/* The exit code for an error from a module. */
int cli_exit_for(enum cv_err e);
/* Set cli->os_user from the effective uid (getpwuid; "uid:N" when the
 * uid has no name), and cli->actor to it when no --actor was given. */
void cli_identify(struct cli *cli);
/* Open the store at cli->db_path, its audit entries recording
 * cli->os_user and keyed with cli_audit_key(); prints the error and
 * returns NULL. */
struct store *cli_open_store(struct cli *cli, const char *cmd, int flags);
/* Finish a change made in the transaction open on s, rc being how the
 * change went: on CV_OK append the audit entry `action` (detail: JSON)
 * by cli->actor and commit; otherwise (or when that fails) roll back.
 * Returns the first error, its message in *err. */
enum cv_err cli_audit_commit(struct cli *cli, struct store *s, enum cv_err rc,
	const char *action, const char *detail, char **err);
/*
 * The audit key (audithead.h) this process keys its audit entries with:
 * read once, made 0600 when missing. NULL when it cannot be had — not
 * readable by this user, its directory not writable — and the entries
 * are then unkeyed, as before, rather than the command failing (`audit
 * --verify` counts them); a key that group or others may read, or that
 * is not a key, is refused with a warning on stderr, never used.
 * Static storage: valid for the life of the process.
 */
const unsigned char *cli_audit_key(const struct cli *cli);
/*
 * Settle the zone this command reads and shows times in: `tz` (its --tz)
 * when given, else the store's `timezone` setting (`callvault config`),
 * else UTC. Sets cli->zone and cli->zone_name. Returns 0, or the exit
 * code after printing the error: 2 for an unknown zone, naming --tz or
 * the setting.
 */
int cli_zone(struct cli *cli, struct store *s, const char *tz, const char *cmd);
void cli_zone_finish(struct cli *cli);
/*
 * For a command that reads the store and shows times: cli_open_store(cli,
 * cmd, flags), then cli_zone(cli, s, tz, cmd). The store, or NULL with
 * *code the exit code (the error printed, nothing left open).
 */
struct store *cli_open_zoned(struct cli *cli, const char *cmd, int flags,
	const char *tz, int *code);
/*
 * For a report that takes only [--json] [--tz ZONE] (stats, status):
 * those options read into *json and the zone, then cli_open_zoned(cli,
 * cmd, STORE_NOCREATE | STORE_ONESHOT, …). The store, or NULL with
 * *code the exit code (2 for a usage error, printed).
 */
struct store *cli_open_report(struct cli *cli, const char *cmd, int argc,
	char **argv, bool *json, int *code);
/* For commands without getopt options of their own: --tz ZONE or
 * --tz=ZONE anywhere in argv (before a "--"), taken out of it; "" when
 * it has no value, NULL when not given. */
const char *cli_take_tz(int *argc, char **argv);
/* ms as ISO 8601 on the zone's wall clock, with its offset (tz_format). */
void cli_time(const struct cli *cli, int64_t ms, char out[TZ_TIME_LEN]);
/* The zone's name for headings: "UTC" before cli_zone. */
const char *cli_zone_name(const struct cli *cli);

/* True (and the help printed) when argv holds -h/--help. */
bool cli_want_help(const struct cli_cmd *cmd, int argc, char **argv);
/* Look up a command by name. */
const struct cli_cmd *cli_find(const char *name);

/* getopt_long with usage errors reported uniformly: returns the option,
 * -1 at the end, or '?' after printing the error (exit with 2). */
int cli_getopt(int argc, char **argv, const char *shortopts,
	const struct option *longopts);
/* Parse a command line whose one option is --out X (*out; NULL when not
 * given) and that takes no arguments: CV_EXIT_OK, or the exit code after
 * the error is printed. */
int cli_out_only(int argc, char **argv, const char *cmd, const char **out);

/*
 * (callvault-full only, cmd_verify.c) The site's public key: given, else
 * $CALLVAULT_SIGNING_PUBKEY, else <db>.secrets/site.pub when it exists
 * (*have false: none, signatures not required). A key configured but
 * unusable is reported; returns the exit code (CV_EXIT_OK when fine).
 */
int cli_site_pubkey(struct cli *cli, const char *cmd, const char *given,
	unsigned char pub[32], bool *have);

/*
 * (callvault-full only, cmd_archive.c) The site signing key: given, else
 * $CALLVAULT_SIGNING_KEY, else <db>.secrets/site.key when it exists (no
 * key there: *k NULL, a note that the output is not signed). A key
 * configured but unusable (e.g. readable by others) is reported; returns
 * the exit code (CV_EXIT_OK when fine). sitekey_destroy frees *k.
 */
struct sitekey;
int cli_site_key(struct cli *cli, const char *cmd, const char *given,
	struct sitekey **k);

/*
 * (callvault-full only, cmd_subject.c) The --out FILE of an export
 * package: given, UTF-8 without control characters (it is audited), and
 * not an existing file (never overwritten). CV_EXIT_OK, or the usage
 * error printed and its exit code.
 */
int cli_new_out(const char *cmd, const char *out);

/* Parse a non-negative integer argument; false on garbage. */
bool cli_parse_long(const char *s, long min, long max, long *out);

#define CLI_EXTERN(n) extern const struct cli_cmd n
CLI_EXTERN(cmd_init);
CLI_EXTERN(cmd_import);
CLI_EXTERN(cmd_show);
CLI_EXTERN(cmd_stats);
CLI_EXTERN(cmd_quarantine);
CLI_EXTERN(cmd_check);
CLI_EXTERN(cmd_serve);
CLI_EXTERN(cmd_search);
CLI_EXTERN(cmd_export);
CLI_EXTERN(cmd_audit);
CLI_EXTERN(cmd_user);
CLI_EXTERN(cmd_archive);
CLI_EXTERN(cmd_verify);
CLI_EXTERN(cmd_hold);
CLI_EXTERN(cmd_retention);
CLI_EXTERN(cmd_trust);
CLI_EXTERN(cmd_purge);
CLI_EXTERN(cmd_restore);
CLI_EXTERN(cmd_location);
CLI_EXTERN(cmd_sync);
CLI_EXTERN(cmd_reconcile);
CLI_EXTERN(cmd_subject);
CLI_EXTERN(cmd_evidence);
CLI_EXTERN(cmd_status);
CLI_EXTERN(cmd_backup);
CLI_EXTERN(cmd_config);
CLI_EXTERN(cmd_key);
CLI_EXTERN(cmd_storage);
CLI_EXTERN(cmd_recording);

#endif
