/*
 * main.c — `callvault [--db PATH] COMMAND …`: global options and dispatch.
 *
 * Built twice. `callvault-full` (the whole table) links everything.
 * `callvault` (CV_LEAN) holds only the commands that need the store and
 * nothing else, so that a search starts in a few milliseconds instead of
 * paying for libcurl's, libmicrohttpd's and libarchive's ~40 shared
 * libraries; any other command (and the full --help) is handed to
 * callvault-full by exec, in the same process, arguments unchanged.
 * `user` is one of those: it alone needs more of libcrypto than SHA-2,
 * and callvault links libcrypto statically (see meson.build).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util.h"
#include "cli.h"

static const struct cli_cmd *const commands[] = {
	&cmd_init,
	&cmd_import,
	&cmd_show,
	&cmd_stats,
	&cmd_quarantine,
	&cmd_check,
	&cmd_search,
	&cmd_export,
	&cmd_audit,
	&cmd_hold,
	&cmd_retention,
	&cmd_trust,
	&cmd_status,
	&cmd_backup,
	&cmd_config,
	&cmd_recording,
#ifndef CV_LEAN
	&cmd_user,
	&cmd_serve,
	&cmd_archive,
	&cmd_verify,
	&cmd_purge,
	&cmd_restore,
	&cmd_location,
	&cmd_sync,
	&cmd_reconcile,
	&cmd_subject,
	&cmd_key,
	&cmd_storage,
	&cmd_evidence,
#endif
};

const struct cli_cmd *cli_find(const char *name)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(commands); i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

#ifdef CV_LEAN
/* Replace this process with callvault-full: first the one next to this
 * binary (a build directory, or both in one bin/), then the installed
 * one. Returns only on failure, with the exit code. */
static int exec_full(char **argv)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
	if (n > 0) {
		dir[n] = '\0';
		char *slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, sizeof path, "%s/callvault-full", dir);
			execv(path, argv);
		}
	}
	execv(CALLVAULT_LIBEXECDIR "/callvault-full", argv);
	fprintf(stderr,
		"callvault: cannot run callvault-full (next to this "
		"binary or in " CALLVAULT_LIBEXECDIR "): %s\n",
		strerror(errno));
	return CV_EXIT_FAIL;
}

int cli_exec_full(const struct cli *cli)
{
	return exec_full(cli->argv);
}
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: callvault [--db PATH] [--actor NAME] COMMAND [ARGS]\n"
		"\n"
		"Archive HighLevel Voice AI call logs, transcripts and recordings.\n"
		"\n"
		"Global options:\n"
		"  --db PATH      the store (default $CALLVAULT_DB, else "
		"./callvault.db)\n"
		"  --actor NAME   on whose behalf, for the audit log (default: "
		"the OS user,\n"
		"                 which every entry records besides, from the "
		"uid)\n"
		"  --group        what callvault creates of the data (store, "
		"WAL, backups,\n"
		"                 blobs, archives) is readable by the owner's "
		"group too\n"
		"                 (0640, directories 0750; default owner only, "
		"0600/0700);\n"
		"                 secrets stay 0600. Or CALLVAULT_GROUP=1\n"
		"  -v, --verbose  debug logging to stderr\n"
		"  -h, --help     this help;  --version  print the version\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < CV_ARRAY_LEN(commands); i++)
		fprintf(f, "  %-12s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(f, "\n`callvault COMMAND --help` describes a command.\n"
		   "Exit codes: 0 success, 1 runtime failure, 2 usage or bad "
		   "input, 3 integrity failure.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "actor", required_argument, NULL, 'a' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "group", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .prog = "callvault", .argv = argv };
	/* Private by default: whatever callvault creates (the store and its
	 * WAL, archives, exports, secrets, directories) is the owner's
	 * alone, whatever umask it was started with; a stricter one stays.
	 * --group (or CALLVAULT_GROUP=1): the data is the group's to read
	 * too (util.h: cv_data_mode); secrets stay the owner's. */
	const char *genv = getenv("CALLVAULT_GROUP");
	bool group = genv && *genv && strcmp(genv, "0") != 0;
	const char *env = getenv("CALLVAULT_DB");
	cli.db_path = env && *env ? env : "./callvault.db";
	int c;
	/* "+" stops at the first non-option: the command */
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cli.db_path = optarg; break;
		case 'a':
			if (!*optarg) {
				fprintf(stderr, "callvault: --actor needs a "
						"name\n");
				return CV_EXIT_USAGE;
			}
			cli.actor = optarg;
			break;
		case 'v': cv_log_set_level(CV_LOG_DEBUG); break;
		case 'g': group = true; break;
		case 'h':
#ifdef CV_LEAN
			return exec_full(argv);
#else
			usage(stdout);
			return CV_EXIT_OK;
#endif
		case 'V':
			printf("callvault %s\n", CALLVAULT_VERSION);
			return CV_EXIT_OK;
		default: usage(stderr); return CV_EXIT_USAGE;
		}
	}
	cv_set_group_readable(group);
	if (group)
		umask(027);
	else
		umask(umask(077) | 077);
	if (optind >= argc) {
#ifdef CV_LEAN
		return exec_full(argv);
#endif
		usage(stderr);
		return CV_EXIT_USAGE;
	}
	cli_identify(&cli);
	const struct cli_cmd *cmd = cli_find(argv[optind]);
#ifdef CV_LEAN
	if (!cmd || (cmd->needs_full &&
			    cmd->needs_full(argc - optind, argv + optind)))
		return exec_full(argv);
#endif
	if (!cmd) {
		fprintf(stderr,
			"callvault: unknown command '%s' (see "
			"`callvault --help`)\n",
			argv[optind]);
		return CV_EXIT_USAGE;
	}
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	if (cli_want_help(cmd, sub_argc, sub_argv))
		return CV_EXIT_OK;
	optind = 0; /* reset getopt for the subcommand (GNU) */
	int code = cmd->run(&cli, sub_argc, sub_argv);
	cli_zone_finish(&cli);
	return code;
}
