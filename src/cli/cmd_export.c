/* cmd_export.c — `callvault export [filters] [--format csv|jsonl] …` */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../export.h"
#include "../util.h"
#include "cli.h"
#include "filters.h"

static enum cv_err sink_put(void *ctx, const void *p, size_t n)
{
	return sink_write(ctx, p, n);
}

static enum cv_err sink_done(void *ctx, char **errmsg)
{
	return sink_commit(ctx, errmsg);
}

static enum cv_err stdout_put(void *ctx, const void *p, size_t n)
{
	return fwrite(p, 1, n, stdout) == n ? CV_OK : CV_EIO;
}

static enum cv_err stdout_done(void *ctx, char **errmsg)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return cv_error(errmsg, CV_EIO, "writing standard output "
						"failed");
	return CV_OK;
}

static bool cursor_name_ok(const char *n)
{
	size_t len = strlen(n);
	return len > 0 && len <= 128 && cv_utf8_valid(n, len);
}

static char *detail_of(const struct cli_filters *cf, const char *format,
	const char *out, const char *since)
{
	json_t *o = json_object();
	json_object_set_new(o, "filters", cli_filters_json(cf));
	json_object_set_new(o, "format", json_string(format));
	if (out)
		json_object_set_new(o, "out", json_string(out));
	if (since)
		json_object_set_new(o, "sinceLast", json_string(since));
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		FILTER_OPTIONS,
		{ "format", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "since-last", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_filters cf;
	cli_filters_init(&cf);
	struct export_opts eo = { .format = EXPORT_CSV, .actor = cli->actor };
	const char *out = NULL, *format = "csv";
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		int r = c == '?' ? -1 : cli_filters_opt(&cf, "export", c, optarg);
		if (r < 0)
			return CV_EXIT_USAGE;
		if (r > 0)
			continue;
		if (c == 'f' && (strcmp(optarg, "csv") == 0 ||
				       strcmp(optarg, "jsonl") == 0)) {
			format = optarg;
			eo.format = *optarg == 'c' ? EXPORT_CSV : EXPORT_JSONL;
		} else if (c == 'f') {
			return cli_fail(CV_EXIT_USAGE, "export",
				"--format must be csv or jsonl");
		} else if (c == 'o') {
			out = optarg;
		} else if (c == 's' && cursor_name_ok(optarg)) {
			eo.since_last = optarg;
		} else if (c == 's') {
			return cli_fail(CV_EXIT_USAGE, "export",
				"--since-last needs a name (1 to 128 bytes)");
		}
	}
	if (optind != argc)
		return cli_fail(CV_EXIT_USAGE, "export",
			"unexpected argument '%s' (export takes filters, not "
			"a query)", argv[optind]);
	if (!cli_filters_finish(&cf, "export"))
		return CV_EXIT_USAGE;
	eo.filter = &cf.f;
	struct store *s = cli_open_store(cli, "export", STORE_NOCREATE);
	if (!s)
		return CV_EXIT_FAIL;
	char *err = NULL;
	struct sink *sk = NULL;
	struct export_out o = { stdout_put, stdout_done, NULL };
	enum cv_err rc = CV_OK;
	if (out) {
		rc = sink_open_file(&sk, out, 0600, &err);
		o = (struct export_out){ sink_put, sink_done, sk };
	}
	char *detail = detail_of(&cf, format, out, eo.since_last);
	eo.detail = detail;
	struct export_result res;
	if (rc == CV_OK)
		rc = export_run(s, &eo, &o, &res, &err);
	sink_destroy(sk);
	store_close(s);
	free(detail);
	int code = CV_EXIT_OK;
	if (rc != CV_OK)
		code = cli_fail(CV_EXIT_FAIL, "export", "%s%s",
			err ? err : cv_strerror(rc),
			eo.since_last ? " (the cursor did not move)" : "");
	else if (out || eo.since_last)
		fprintf(stderr, "export: %lld row%s%s%s\n",
			(long long)res.rows, res.rows == 1 ? "" : "s",
			out ? " to " : "", out ? out : "");
	free(err);
	return code;
}

const struct cli_cmd cmd_export = {
	.name = "export",
	.summary = "export one row per call (CSV or JSONL) for reporting",
	.help =
	"usage: callvault [--db PATH] [--actor NAME] export [filters]\n"
	"         [--format csv|jsonl] [--out FILE] [--since-last NAME]\n"
	"\n"
	"One row per call: id, locationId, agentId, agentName, contactId,\n"
	"fromNumber, createdAt (ISO 8601 UTC), duration (seconds), trialCall,\n"
	"actionTypes (the action types executed), appointmentBooked,\n"
	"transferred, summary. CSV follows RFC 4180 (header row, CRLF, UTF-8);\n"
	"JSONL is one object per line with actionTypes as an array. Rows are\n"
	"streamed: memory stays flat for millions of calls. Without\n"
	"--since-last rows are ordered by creation time.\n"
	"\n"
	"  --format F        csv (default) or jsonl\n"
	"  --out FILE        write FILE atomically (a temporary file renamed\n"
	"                    into place only when complete); default stdout\n"
	"  --since-last NAME only calls new or changed since the last\n"
	"                    successful export with this cursor NAME, in the\n"
	"                    order they changed. The cursor is kept in the\n"
	"                    store and moves only when the whole output was\n"
	"                    written (and renamed into place with --out).\n"
	"\n"
	CLI_FILTERS_HELP
	"\n"
	"Every export is recorded in the audit log. Exit codes: 0 success,\n"
	"1 failure (nothing moved), 2 bad option.\n",
	.run = run,
};
