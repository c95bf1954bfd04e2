/*
 * opts.h — hlsim's command-line options (serve and emit modes share the
 * data options so both produce the same calls for the same seed).
 */
#ifndef HLSIM_OPTS_H
#define HLSIM_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "simdata.h"

struct hlsim_opts {
	struct simdata_opts data;
	/* serve */
	long port;
	const char *port_file, *info_file, *dump, *fault, *quirk;
	bool dump_only, quiet;
	const char **pits; /* LOC=TOKEN strings */
	int n_pits;
	char *pits_file_text; /* --pits-file contents (pits point into it) */
	const char *client_id, *client_secret;
	int64_t token_ttl, window_ms, daily;
	int burst;
	/* emit */
	const char *url, *key, *key_out, *key_out_private, *save_dir;
	const char *webhook_url; /* serve: webhooks for arriving calls */
	double webhook_drop;
	long count; /* -1 = all */
	double inbound_share, duplicates, bad_signature;
	bool reorder;
	int64_t retry_ms;
	int max_retries;
	/* credentials and rate-limit freedoms (issue 17) */
	char *lack_scopes; /* --lack-scope, comma-joined (malloc'd) */
	const char *retry_after;
	bool daily_reset, bare_429, rl_garbage;
	int64_t day_ms;
};

enum { OPTS_OK, OPTS_HELP, OPTS_ERROR };

/* Parse argv into o (defaults first). Prints the problem on stderr. */
int opts_parse(struct hlsim_opts *o, int argc, char **argv, bool emit);
/* Free what opts_parse allocated. */
void opts_finish(struct hlsim_opts *o);

#endif
