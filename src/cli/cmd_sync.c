/* cmd_sync.c — `callvault sync`: pull call logs and agents from the API */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sync.h"
#include "../util.h"
#include "cli.h"
#include "progress.h"

#define MAX_LOCATIONS 1000

static bool parse_date(const char *s, int64_t *out)
{
	return cv_parse_iso8601(s, out) && *out > 0;
}

static int parse(int argc, char **argv, struct sync_opts *o, const char **locs)
{
	static const struct option opts[] = {
		{ "location", required_argument, NULL, 'l' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "full", no_argument, NULL, 'f' },
		{ "overlap", required_argument, NULL, 'o' },
		{ "retries", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "max-store-mb", required_argument, NULL, 'M' },
		{ "no-media", no_argument, NULL, 'N' },
		{ "max-recording-mb", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	long v;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'l':
			if (o->n_locations == MAX_LOCATIONS)
				return cli_fail(CV_EXIT_USAGE, "sync",
					"too many --location");
			locs[o->n_locations++] = optarg;
			break;
		case 's':
			if (!parse_date(optarg, &o->since_ms))
				return cli_fail(CV_EXIT_USAGE, "sync",
					"--since needs an ISO 8601 date");
			break;
		case 'u':
			if (!parse_date(optarg, &o->until_ms))
				return cli_fail(CV_EXIT_USAGE, "sync",
					"--until needs an ISO 8601 date");
			break;
		case 'f': o->full = true; break;
		case 'o':
			if (!cli_parse_long(optarg, 0, 24 * 366, &v))
				return cli_fail(CV_EXIT_USAGE, "sync",
					"--overlap needs hours (0 to 8784)");
			o->overlap_ms = (int64_t)v * 3600 * 1000;
			break;
		case 'r':
			if (!cli_parse_long(optarg, 0, 20, &v))
				return cli_fail(CV_EXIT_USAGE, "sync",
					"--retries needs 0 to 20");
			o->max_retries = (int)v;
			break;
		case 't':
			if (!cli_parse_long(optarg, 1, 3600, &v))
				return cli_fail(CV_EXIT_USAGE, "sync",
					"--timeout needs seconds (1 to 3600)");
			o->timeout_ms = v * 1000;
			break;
		case 'M':
			if (!cli_parse_long(optarg, 1, 100000000, &v))
				return cli_fail(CV_EXIT_USAGE, "sync",
					"--max-store-mb needs MiB (1 to "
					"100000000)");
			o->max_store_bytes = (int64_t)v << 20;
			break;
		case 'N': o->no_media = true; break;
		case 'R':
			if (!cli_parse_long(optarg, 1, 65536, &v))
				return cli_fail(CV_EXIT_USAGE, "sync",
					"--max-recording-mb needs MiB (1 to "
					"65536)");
			o->media_max_bytes = (int64_t)v << 20;
			break;
		default: return CV_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_fail(CV_EXIT_USAGE, "sync",
			"unexpected argument "
			"'%s'",
			argv[optind]);
	if (o->since_ms && o->until_ms && o->since_ms >= o->until_ms)
		return cli_fail(CV_EXIT_USAGE, "sync",
			"--since must be before "
			"--until");
	return CV_EXIT_OK;
}

static void report(const struct sync_result *r)
{
	if (r->error) {
		printf("%s: FAILED: %s\n", r->location, r->error);
		return;
	}
	char extra[64] = "";
	if (r->calls.disposed)
		snprintf(extra, sizeof(extra), ", disposed %lld",
			(long long)r->calls.disposed);
	printf("%s: ok: read %lld, new %lld, updated %lld, unchanged %lld, "
	       "quarantined %lld%s; agents %lld; queued fetched %lld; "
	       "%lld requests (%lld retried, %lld answered 429) in %.1fs\n",
		r->location, (long long)r->calls.read,
		(long long)r->calls.added, (long long)r->calls.updated,
		(long long)r->calls.unchanged, (long long)r->calls.quarantined,
		extra, (long long)r->agents, (long long)r->queue_fetched,
		(long long)r->requests, (long long)r->retries,
		(long long)r->n429, r->seconds);
	if (r->recordings || r->transcriptions || r->media_failed)
		printf("%s: media: %lld recordings, %lld transcriptions "
		       "fetched; %lld not kept (tried again later)\n",
			r->location, (long long)r->recordings,
			(long long)r->transcriptions,
			(long long)r->media_failed);
	if (r->warning)
		printf("%s: warning: %s\n", r->location, r->warning);
}

static int run(struct cli *cli, int argc, char **argv)
{
	struct sync_opts o;
	sync_opts_init(&o);
	const char **locs = xcalloc(MAX_LOCATIONS, sizeof(*locs));
	int code = parse(argc, argv, &o, locs);
	if (code != CV_EXIT_OK) {
		free(locs);
		return code;
	}
	o.locations = locs;
	struct cli_progress prog = { 0 };
	if (isatty(STDERR_FILENO)) {
		o.progress = cli_sync_progress;
		o.progress_ctx = &prog;
	}
	struct store *s = cli_open_store(cli, "sync", STORE_NOCREATE);
	if (!s) {
		free(locs);
		return CV_EXIT_FAIL;
	}
	struct sync_result *res;
	size_t n;
	char *err = NULL;
	enum cv_err rc = sync_run(s, &o, &res, &n, &err);
	if (rc != CV_OK) {
		code = cli_fail(cli_exit_for(rc), "sync", "%s",
			err ? err : cv_strerror(rc));
	} else {
		size_t failed = 0;
		for (size_t i = 0; i < n; i++) {
			report(&res[i]);
			failed += res[i].error != NULL;
		}
		if (failed) {
			fprintf(stderr,
				"callvault sync: %zu of %zu locations "
				"failed:\n",
				failed, n);
			for (size_t i = 0; i < n; i++)
				if (res[i].error)
					fprintf(stderr, "  %s: %s\n",
						res[i].location, res[i].error);
			code = CV_EXIT_FAIL;
		}
		sync_results_free(res, n);
	}
	free(err);
	free(locs);
	store_close(s);
	return code;
}

const struct cli_cmd cmd_sync = {
	.name = "sync",
	.summary = "pull call logs, agent names and recordings from the API",
	.help = "usage: callvault sync [--location LOC]… [--since DATE] "
		"[--until DATE] [--full]\n"
		"                      [--overlap HOURS] [--retries N] "
		"[--timeout SECS]\n"
		"                      [--max-store-mb N] [--no-media] "
		"[--max-recording-mb N]\n"
		"\n"
		"For each location (default: every one from `callvault "
		"location list`), in\nparallel: list the Voice AI agents "
		"(id -> name, kept after an agent is\ndeleted; a missing "
		"scope or a failing agents endpoint is a warning, never\na "
		"reason to skip the calls), then page the call logs of the "
		"window in\ntime-ordered parts by page number (pageSize=50 "
		"asked; whatever page size,\necho, total, order or date "
		"granularity the server uses, every record is\nkept, and a "
		"part ends only on what the records show), storing each page "
		"and\nmoving the checkpoint after each complete part in the "
		"same transaction (one\ncommit for up to 40 pages or 250 ms) "
		"— a sync that is killed resumes without\nloss or "
		"duplicates. A part with records that went to quarantine "
		"holds the\ncheckpoint, so the next sync reads them again. "
		"Then the calls that webhooks\nqueued are fetched one by one, "
		"and then the recordings and timed\ntranscriptions due (every "
		"call with a messageId is queued; see\ndocs/recordings.md), "
		"from the location's API base only. Each location\nstays "
		"under the rate limits the server announces (X-RateLimit-*), "
		"waits\non 429, backs off with jitter on 5xx, timeouts and "
		"resets, and fails alone\nwhen its retries or its daily "
		"budget are spent. Calls that reach HighLevel\nlater than the "
		"overlap are found by `callvault reconcile`.\n"
		"\n"
		"  --location LOC  sync only LOC (repeatable)\n"
		"  --since DATE    window start (ISO 8601); default: the "
		"checkpoint minus\n"
		"                  the overlap, or 2015-01-01 on a first sync\n"
		"  --until DATE    window end (default: now); the checkpoint "
		"moves only\n"
		"                  for windows that reach now\n"
		"  --full          ignore the checkpoint: re-read from "
		"2015-01-01 (or --since)\n"
		"  --overlap HOURS re-read this much before the checkpoint "
		"(default 24)\n"
		"  --retries N     retries of one request on 5xx/timeouts/"
		"resets (default 6)\n"
		"  --timeout SECS  one HTTP exchange (default 60)\n"
		"  --max-store-mb N  treat the store as full past N MiB, "
		"the database and its\n"
		"                  recordings (<store>.blobs) together: the "
		"locations whose\n"
		"                  pages were not yet committed fail, a "
		"recording that does not\n"
		"                  fit is left for the next run, nothing "
		"partial is kept, and\n"
		"                  the next sync resumes from their "
		"checkpoints (default: no cap)\n"
		"  --no-media      queue recordings and transcriptions, fetch "
		"none\n"
		"  --max-recording-mb N  refuse a recording larger than N MiB "
		"(default 256)\n"
		"\nA terminal shows progress per location; otherwise log lines "
		"go to stderr.\nPrints one result line per location, and a "
		"warning line when something\nauxiliary was missed (kept in "
		"`location list`). Exit 0 when every location's\ncall logs "
		"synced (warnings or not), 1 when any failed (each named with "
		"the\nreason), 2 on usage errors.\n",
	.run = run,
};
