/* cmd_export.c — `callvault export [filters] [--format csv|jsonl] …` */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../export.h"
#include "../store/store_export.h"
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
		return cv_error(errmsg, CV_EIO,
			"writing standard output "
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

struct cursor_list {
	const struct cli *cli;
	bool jsonl;
	int64_t n;
};

static int print_cursor(const struct store_cursor *c, void *arg)
{
	struct cursor_list *l = arg;
	char at[TZ_TIME_LEN];
	/* JSON keeps UTC; the table is for reading, in the zone */
	if (l->jsonl)
		cv_format_iso8601(c->updated_at, at);
	else
		cli_time(l->cli, c->updated_at, at);
	if (l->jsonl) {
		json_t *o = json_pack("{s:s,s:s,s:I,s:I}", "name", c->name,
			"lastExportAt", at, "lastRows",
			(json_int_t)c->last_rows, "throughVersion",
			(json_int_t)c->version_id);
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		putchar('\n');
	} else {
		if (l->n == 0)
			printf("times in %s\n%-24s  %-29s  %10s  %s\n",
				cli_zone_name(l->cli), "NAME", "LAST EXPORT",
				"ROWS", "THROUGH VERSION");
		printf("%-24s  %-29s  %10lld  %lld\n", c->name, at,
			(long long)c->last_rows, (long long)c->version_id);
	}
	l->n++;
	return 0;
}

/* --list-cursors and --reset-cursor NAME: no rows are exported. */
static int cursors(struct cli *cli, const char *reset, bool jsonl,
	const char *tz)
{
	int zc;
	struct store *s = cli_open_zoned(cli, "export", STORE_NOCREATE, tz,
		&zc);
	if (!s)
		return zc;
	char *err = NULL;
	enum cv_err rc;
	struct cursor_list l = { .cli = cli, .jsonl = jsonl };
	struct store_cursor before;
	if (reset)
		rc = export_cursor_reset(s, reset, cli->actor, &before, &err);
	else
		rc = store_cursor_each(s, print_cursor, &l, &err);
	store_close(s);
	int code = CV_EXIT_OK;
	if (rc != CV_OK)
		code = cli_fail(rc == CV_ENOTFOUND ? CV_EXIT_USAGE
						   : CV_EXIT_FAIL,
			"export", "%s", err ? err : cv_strerror(rc));
	else if (reset)
		printf("export: cursor '%s' reset (it had exported through "
		       "version %lld); the next --since-last %s exports "
		       "every call\n",
			reset, (long long)before.version_id, reset);
	else if (l.n == 0 && !jsonl)
		fprintf(stderr, "export: no cursors yet (--since-last NAME "
				"makes one)\n");
	free(err);
	return code;
}

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		FILTER_OPTIONS,
		{ "format", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "since-last", required_argument, NULL, 's' },
		{ "bom", no_argument, NULL, 'b' },
		{ "list-cursors", no_argument, NULL, 'L' },
		{ "reset-cursor", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_filters cf;
	cli_filters_init(&cf);
	struct export_opts eo = { .format = EXPORT_CSV, .actor = cli->actor };
	const char *out = NULL, *format = "csv", *reset = NULL;
	bool list = false, format_given = false;
	int c, n_opts = 0;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		int r = c == '?' ? -1
				 : cli_filters_opt(&cf, "export", c, optarg);
		if (r < 0)
			return CV_EXIT_USAGE;
		/* --tz: the zone the cursors' times are shown in, too */
		n_opts += c != FILTER_OPT_BASE + 2;
		if (r > 0)
			continue;
		if (c == 'b') {
			eo.bom = true;
		} else if (c == 'L') {
			list = true;
		} else if ((c == 'R' || c == 's') && !cursor_name_ok(optarg)) {
			return cli_fail(CV_EXIT_USAGE, "export",
				"--%s needs a "
				"name (1 to 128 bytes of UTF-8)",
				c == 'R' ? "reset-cursor" : "since-last");
		} else if (c == 'R') {
			reset = optarg;
		} else if (c == 'f' && (strcmp(optarg, "csv") == 0 ||
					       strcmp(optarg, "jsonl") == 0)) {
			format = optarg;
			format_given = true;
			eo.format = *optarg == 'c' ? EXPORT_CSV : EXPORT_JSONL;
		} else if (c == 'f') {
			return cli_fail(CV_EXIT_USAGE, "export",
				"--format must be csv or jsonl");
		} else if (c == 'o') {
			out = optarg;
		} else if (c == 's') {
			eo.since_last = optarg;
		}
	}
	if (optind != argc)
		return cli_fail(CV_EXIT_USAGE, "export",
			"unexpected argument '%s' (export takes filters, not "
			"a query)",
			argv[optind]);
	if (list && reset)
		return cli_fail(CV_EXIT_USAGE, "export",
			"give --list-cursors "
			"or --reset-cursor, not both");
	if ((list || reset) && n_opts != 1 + (list && format_given))
		return cli_fail(CV_EXIT_USAGE, "export",
			"--%s takes no other "
			"option%s",
			list ? "list-cursors" : "reset-cursor",
			list ? " but --format and --tz" : "");
	if (list || reset)
		return cursors(cli, reset, eo.format == EXPORT_JSONL,
			cf.arg[SFK_TZ].p);
	if (eo.bom && eo.format != EXPORT_CSV)
		return cli_fail(CV_EXIT_USAGE, "export",
			"--bom is for CSV: "
			"JSON text must not start with a byte-order mark");
	if (!cli_filters_finish(&cf, "export"))
		return CV_EXIT_USAGE;
	eo.filter = &cf.f;
	struct store *s = cli_open_store(cli, "export",
		STORE_NOCREATE | STORE_ONESHOT);
	int zc = s ? cli_filters_zone(&cf, cli, s, "export") : CV_EXIT_FAIL;
	if (zc) {
		store_close(s);
		return zc;
	}
	eo.filter = &cf.f;
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
		fprintf(stderr, "export: %lld row%s%s%s\n", (long long)res.rows,
			res.rows == 1 ? "" : "s", out ? " to " : "",
			out ? out : "");
	free(err);
	return code;
}

const struct cli_cmd cmd_export = {
	.name = "export",
	.summary = "export one row per call (CSV or JSONL) for reporting",
	.help = "usage: callvault [--db PATH] [--actor NAME] export [filters]\n"
		"         [--format csv|jsonl] [--bom] [--out FILE] [--since-last NAME]\n"
		"       callvault export --list-cursors [--format jsonl] [--tz ZONE]\n"
		"       callvault export --reset-cursor NAME\n"
		"\n"
		"One row per call: id, locationId, agentId, agentName, contactId,\n"
		"fromNumber, createdAt (ISO 8601 UTC), duration (seconds), trialCall,\n"
		"actionTypes (the action types executed), appointmentBooked,\n"
		"transferred, summary; with --since-last also updatedAt (when the\n"
		"call's current version was stored) and operation (new: the call\n"
		"was not in the store at the cursor's last export; changed: it was,\n"
		"and has changed since). Rows are streamed: memory stays flat for\n"
		"millions of calls. Without --since-last rows are ordered by creation\n"
		"time.\n"
		"\n"
		"CSV follows RFC 4180 (header row, CRLF, UTF-8) and is safe to open\n"
		"in a spreadsheet: ids and phone numbers are quoted, and a cell that\n"
		"a spreadsheet would run as a formula (one starting with = + - @, a\n"
		"tab or a carriage return, as OWASP's CSV-injection guidance lists),\n"
		"one starting with ' and an id or number made only of digits get a\n"
		"leading ' (so +15125550101 is written '+15125550101). To get the\n"
		"exact text back, remove the first character of every cell that\n"
		"starts with '. JSONL is exact: one object per line, actionTypes an\n"
		"array, nothing marked.\n"
		"\n"
		"  --format F        csv (default) or jsonl\n"
		"  --bom             start the CSV with a UTF-8 byte-order mark, so\n"
		"                    that Excel reads it as UTF-8 (José, not JosÃ©)\n"
		"  --out FILE        write FILE atomically (a temporary file renamed\n"
		"                    into place only when complete); default stdout\n"
		"  --since-last NAME only calls new or changed since the last\n"
		"                    successful export with this cursor NAME, in the\n"
		"                    order they changed. The cursor is kept in the\n"
		"                    store and moves only when the whole output was\n"
		"                    written (and renamed into place with --out).\n"
		"  --list-cursors    list the cursors: name, last export, its rows,\n"
		"                    the version it reached (--format jsonl: JSON,\n"
		"                    times in UTC; the table shows them in --tz, else\n"
		"                    the store's zone)\n"
		"  --reset-cursor NAME  delete cursor NAME (audited): the next\n"
		"                    --since-last NAME exports every call again\n"
		"\n" CLI_FILTERS_HELP "\n"
		"Every export is recorded in the audit log. Exit codes: 0 success,\n"
		"1 failure (nothing moved), 2 bad option or no such cursor.\n",
	.run = run,
};
