/* cmd_search.c — `callvault search QUERY [filters] [--limit N] …` */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../export.h"
#include "../store/store_audit.h"
#include "../store/store_search.h"
#include "../util.h"
#include "cli.h"
#include "filters.h"
#include "search_purged.h"

#define MAX_LIMIT 10000

enum out_format { OUT_TABLE, OUT_JSON, OUT_CSV };

struct search_args {
	struct cli_filters cf;
	struct store_search_opts so;
	enum out_format format;
	bool count, literal, explain;
	char *query;
	const char *archives; /* --archives DIR */
};

static const char *const sort_names[] = { "relevance", "newest", "oldest" };

static int take_opt(struct search_args *a, int c, const char *arg)
{
	long v;
	switch (c) {
	case 'l':
		if (!cli_parse_long(arg, 1, MAX_LIMIT, &v))
			return cli_fail(CV_EXIT_USAGE, "search",
				"--limit needs "
				"a number from 1 to %d",
				MAX_LIMIT);
		a->so.limit = v;
		return 0;
	case 'o':
		if (!cli_parse_long(arg, 0, 1000000000L, &v))
			return cli_fail(CV_EXIT_USAGE, "search",
				"--offset needs a number >= 0");
		a->so.offset = v;
		return 0;
	case 's':
		for (size_t i = 0; i < CV_ARRAY_LEN(sort_names); i++)
			if (strcmp(arg, sort_names[i]) == 0) {
				a->so.sort = (enum store_sort)i;
				return 0;
			}
		return cli_fail(CV_EXIT_USAGE, "search",
			"--sort must be relevance, newest or oldest");
	case 'f':
		if (strcmp(arg, "table") == 0)
			a->format = OUT_TABLE;
		else if (strcmp(arg, "json") == 0)
			a->format = OUT_JSON;
		else if (strcmp(arg, "csv") == 0)
			a->format = OUT_CSV;
		else
			return cli_fail(CV_EXIT_USAGE, "search",
				"--format must be table, json or csv");
		return 0;
	case 'c': a->count = true; return 0;
	case 'L': a->literal = true; return 0;
	case 'x': a->explain = true; return 0;
	case 'A': a->archives = arg; return 0;
	default: return CV_EXIT_USAGE;
	}
}

static int parse_args(struct search_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		FILTER_OPTIONS,
		{ "limit", required_argument, NULL, 'l' },
		{ "offset", required_argument, NULL, 'o' },
		{ "sort", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "count", no_argument, NULL, 'c' },
		{ "literal", no_argument, NULL, 'L' },
		{ "explain", no_argument, NULL, 'x' },
		{ "archives", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == '?')
			return CV_EXIT_USAGE;
		int r = cli_filters_opt(&a->cf, "search", c, optarg);
		if (r < 0)
			return CV_EXIT_USAGE;
		if (r == 0 && (r = take_opt(a, c, optarg)) != 0)
			return r;
	}
	if (!cli_filters_finish(&a->cf, "search"))
		return CV_EXIT_USAGE;
	if (a->archives && (a->format == OUT_CSV || a->count))
		return cli_fail(CV_EXIT_USAGE, "search",
			"--archives lists "
			"calls: table or json, not --count or csv");
	struct buf q;
	buf_init(&q);
	for (int i = optind; i < argc; i++)
		buf_printf(&q, "%s%s", i > optind ? " " : "", argv[i]);
	a->query = buf_steal(&q);
	a->so.filter = &a->cf.f;
	return 0;
}

/* Print a syntax error with a caret under the position. */
static int syntax_error(const char *query, int pos, const char *msg)
{
	fprintf(stderr, "callvault search: syntax error at position %d: %s\n",
		pos, msg);
	if (strlen(query) <= 200) {
		fprintf(stderr, "  %s\n  ", query);
		int col = 1;
		for (const char *p = query; *p && col < pos; p++)
			if (((unsigned char)*p & 0xC0) != 0x80)
				col++, fputc(*p == '\t' ? '\t' : ' ', stderr);
		fputs("^\n", stderr);
	}
	fputs("See `callvault search --help` for the query language.\n",
		stderr);
	return CV_EXIT_USAGE;
}

/* The ids a search shows, for its audit entry: the custody report of an
 * evidence package names who searched for each call from them. */
static json_t *shown_ids(const struct store_hit *h, size_t n,
	const struct search_purged *p)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(h[i].id));
	for (size_t i = 0; i < p->n_hits; i++)
		json_array_append_new(arr, json_string(p->hits[i].id));
	return arr;
}

static char *audit_detail(const struct search_args *a,
	const struct search_purged *p, json_t *shown)
{
	json_t *o = json_object();
	json_object_set_new(o, "query", json_string(a->query));
	if (a->literal)
		json_object_set_new(o, "literal", json_true());
	json_object_set_new(o, "filters", cli_filters_json(&a->cf));
	json_object_set_new(o, "sort", json_string(sort_names[a->so.sort]));
	json_object_set_new(o, "limit", json_integer(a->so.limit));
	json_object_set_new(o, "offset", json_integer(a->so.offset));
	if (a->count)
		json_object_set_new(o, "count", json_true());
	search_purged_audit(p, o);
	if (shown)
		json_object_set_new(o, "results", shown);
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static void print_table(const struct cli *cli, const struct store_hit *h,
	size_t n, bool more, const struct search_args *a)
{
	bool fancy = cv_stdout_fancy();
	if (n == 0) {
		printf("no calls match\n");
		return;
	}
	printf("times in %s\n", cli_zone_name(cli));
	printf("%-24s  %-22s  %-20s  %-16s  %-20s  %-13s  %6s\n", "CALL",
		"TIME", "LOCATION", "AGENT", "CONTACT", "NUMBER", "SECS");
	for (size_t i = 0; i < n; i++) {
		char ts[TZ_TIME_LEN], dur[16] = "-";
		cli_time(cli, h[i].created_at, ts);
		/* 2026-03-08 01:30 -06:00: the offset tells the two 01:30s
		 * of the night clocks go back apart */
		ts[10] = ' ';
		if (ts[23] == 'Z')
			memcpy(ts + 16, " UTC", 5);
		else
			memmove(ts + 17, ts + 23, 7), ts[16] = ' ';
		if (h[i].has_duration)
			snprintf(dur, sizeof(dur), "%.0f", h[i].duration);
		const char *agent = h[i].agent_name ? h[i].agent_name
						    : h[i].agent_id;
		struct cv_safe k = { 0 };
		printf("%-24s  %-22s  %-20s  %-16s  %-20s  %-13s  %6s\n",
			cv_safe(&k, h[i].id), ts,
			cv_safe(&k, h[i].location_id ? h[i].location_id : "-"),
			cv_safe(&k, agent ? agent : "-"),
			cv_safe(&k, h[i].contact_id ? h[i].contact_id : "-"),
			cv_safe(&k, h[i].from_number ? h[i].from_number : "-"),
			dur);
		cv_safe_finish(&k);
		char *snip = search_render(h[i].snippet,
			fancy ? SEARCH_STYLE_BOLD : SEARCH_STYLE_BRACKETS, true,
			NULL, NULL);
		printf("    %s\n", snip);
		free(snip);
	}
	printf("%zu call%s shown (from %lld)%s\n", n, n == 1 ? "" : "s",
		(long long)a->so.offset + 1,
		more ? "; there are more: use --offset" : "");
}

static void print_archive_hits(const struct cli *cli,
	const struct search_purged *p, const struct search_args *a)
{
	if (!p->dir || !p->n_hits)
		return;
	printf("\nfound in archives (purged from the live store):\n");
	struct search_args b = *a;
	b.so.offset = 0;
	print_table(cli, p->hits, p->n_hits, false, &b);
	struct cv_safe k = { 0 };
	for (size_t i = 0; i < p->n_hits; i++)
		printf("  %s in %s\n", cv_safe(&k, p->hits[i].id),
			cv_safe(&k, p->hit_archive[i]));
	cv_safe_finish(&k);
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *hits_json(const struct store_hit *h, size_t n,
	char *const *archive)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char ts[32];
		cv_format_iso8601(h[i].created_at, ts);
		json_t *o = json_object();
		json_object_set_new(o, "id", jstr(h[i].id));
		json_object_set_new(o, "locationId", jstr(h[i].location_id));
		json_object_set_new(o, "agentId", jstr(h[i].agent_id));
		json_object_set_new(o, "agentName", jstr(h[i].agent_name));
		json_object_set_new(o, "contactId", jstr(h[i].contact_id));
		json_object_set_new(o, "fromNumber", jstr(h[i].from_number));
		json_object_set_new(o, "createdAt", json_string(ts));
		json_object_set_new(o, "duration",
			h[i].has_duration ? json_real(h[i].duration)
					  : json_null());
		size_t *r, nr;
		char *snip = search_render(h[i].snippet, SEARCH_STYLE_PLAIN,
			true, &r, &nr);
		json_object_set_new(o, "snippet", json_string(snip));
		json_t *ranges = json_array();
		for (size_t k = 0; k < nr; k++)
			json_array_append_new(ranges,
				json_pack("[I,I]", (json_int_t)r[2 * k],
					(json_int_t)r[2 * k + 1]));
		json_object_set_new(o, "snippetRanges", ranges);
		free(r);
		free(snip);
		if (archive) /* a purged call, found in this archive */
			json_object_set_new(o, "archive",
				json_string(archive[i]));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* The live hits, then those found in archives (--archives). */
static void print_json(const struct store_hit *h, size_t n,
	const struct search_purged *p)
{
	json_t *arr = hits_json(h, n, NULL);
	json_t *more = hits_json(p->hits, p->n_hits, p->hit_archive);
	json_array_extend(arr, more);
	json_decref(more);
	json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(arr);
}

/* CSV to a terminal is for reading: what the terminal would obey is
 * shown as escapes (to a file or a pipe it stays exact). */
static void print_csv(const struct store_hit *h, size_t n)
{
	bool tty = isatty(STDOUT_FILENO);
	struct buf b;
	buf_init(&b);
	const char *head[] = { "id", "createdAt", "locationId", "agentId",
		"agentName", "contactId", "fromNumber", "duration", "snippet" };
	for (size_t i = 0; i < CV_ARRAY_LEN(head); i++)
		export_csv_field(&b, head[i], i + 1 == CV_ARRAY_LEN(head));
	for (size_t i = 0; i < n; i++) {
		char ts[32], dur[32] = "";
		cv_format_iso8601(h[i].created_at, ts);
		if (h[i].has_duration)
			snprintf(dur, sizeof(dur), "%.15g", h[i].duration);
		char *snip = search_render(h[i].snippet, SEARCH_STYLE_BRACKETS,
			true, NULL, NULL);
		const char *v[] = { h[i].id, ts, h[i].location_id,
			h[i].agent_id, h[i].agent_name, h[i].contact_id,
			h[i].from_number, dur, snip };
		struct cv_safe sk = { 0 };
		for (size_t k = 0; k < CV_ARRAY_LEN(v); k++)
			export_csv_field(&b, tty ? cv_safe(&sk, v[k]) : v[k],
				k + 1 == CV_ARRAY_LEN(v));
		cv_safe_finish(&sk);
		free(snip);
	}
	fwrite(b.data, 1, b.len, stdout);
	buf_finish(&b);
}

static int execute(struct cli *cli, struct search_args *a,
	struct search_plan *plan)
{
	struct store *s = cli_open_store(cli, "search",
		STORE_NOCREATE | STORE_ONESHOT);
	if (!s)
		return CV_EXIT_FAIL;
	int zc = cli_filters_zone(&a->cf, cli, s, "search");
	if (zc) {
		store_close(s);
		return zc;
	}
	struct store_hit *hits = NULL;
	size_t n = 0;
	int64_t total = 0;
	char *err = NULL;
	enum cv_err rc;
	int64_t among = 0;
	a->so.plan = plan;
	a->so.ranked_among = &among;
	if (a->count) {
		rc = store_search_count(s, &a->so, &total, &err);
	} else {
		a->so.limit++; /* one more tells whether there are more */
		rc = store_search(s, &a->so, &hits, &n, &err);
		a->so.limit--;
		total = (int64_t)(n > (size_t)a->so.limit ? (size_t)a->so.limit
							  : n);
	}
	bool more = n > (size_t)total;
	/* the months of the period that purge emptied, and (--archives)
	 * the same search in their archives */
	struct search_purged p = { 0 };
	if (rc == CV_OK)
		rc = search_purged_find(s, a->so.filter, &p, &err);
	if (rc == CV_OK && a->archives && p.calls) {
		struct store_search_opts ao = a->so;
		ao.offset = 0;
		ao.ranked_among = NULL;
		rc = search_purged_archives(s, a->archives, &ao, &p, &err);
	}
	char *detail = audit_detail(a, &p,
		rc == CV_OK && !a->count ? shown_ids(hits, (size_t)total, &p)
					 : NULL);
	/* audited before anything is shown */
	if (rc == CV_OK)
		rc = store_audit_append(s, cli->actor, "search", detail,
			total + (int64_t)p.n_hits, &err);
	free(detail);
	store_close(s);
	int code = CV_EXIT_OK;
	if (rc != CV_OK) {
		/* an archive (--archives) that does not verify: 3 */
		code = cli_fail(rc == CV_EPARSE       ? CV_EXIT_USAGE
				: rc == CV_EINTEGRITY ? CV_EXIT_INTEGRITY
						      : CV_EXIT_FAIL,
			"search", "%s", err ? err : cv_strerror(rc));
	} else if (a->count) {
		printf("%lld\n", (long long)total);
	} else if (a->format == OUT_JSON) {
		print_json(hits, (size_t)total, &p);
	} else if (a->format == OUT_CSV) {
		print_csv(hits, (size_t)total);
	} else {
		print_table(cli, hits, (size_t)total, more, a);
		print_archive_hits(cli, &p, a);
	}
	/* machine-readable output stays so: the note goes to stderr */
	if (code == CV_EXIT_OK)
		search_purged_note(&p,
			a->format == OUT_TABLE && !a->count ? stdout : stderr);
	search_purged_finish(&p);
	if (code == CV_EXIT_OK && among > 0)
		fprintf(stderr,
			"callvault search: ranked by relevance among the "
			"%lld most recently stored matches (more match); "
			"narrow with filters, or --sort newest lists "
			"them all\n",
			(long long)among);
	free(err);
	store_hits_free(hits, n);
	if (code == CV_EXIT_OK && (fflush(stdout) != 0 || ferror(stdout)))
		code = cli_fail(CV_EXIT_FAIL, "search",
			"writing output failed");
	return code;
}

static int run(struct cli *cli, int argc, char **argv)
{
	struct search_args a = { .so = { .limit = 20,
					 .sort = STORE_SORT_NEWEST } };
	cli_filters_init(&a.cf);
	int code = parse_args(&a, argc, argv);
	if (code != 0) {
		free(a.query);
		return code;
	}
	struct search_plan plan;
	char *err = NULL;
	int pos = 0;
	enum cv_err rc = a.literal ? search_parse_literal(a.query, &plan, &err)
				   : search_parse(a.query, &plan, &pos, &err);
	if (rc != CV_OK) {
		code = a.literal ? cli_fail(CV_EXIT_USAGE, "search", "%s", err)
				 : syntax_error(a.query, pos, err);
	} else if (a.explain) {
		/* with a store, prefix terms are shown as they are run */
		struct store *s = NULL;
		(void)!store_open(&s, cli->db_path, STORE_READONLY, NULL);
		a.so.plan = &plan;
		char *fts = NULL;
		char *sql = store_search_sql(s, &a.so, &fts);
		char *plain = store_search_describe(&plan);
		printf("%s\n", plain);
		free(plain);
		if (fts && plan.fts && strcmp(fts, plan.fts) != 0)
			printf("expanded: %s\n", fts);
		if (plan.highlight)
			printf("highlight: %s\n", plan.highlight);
		printf("sql: %s;\n", sql);
		free(sql);
		free(fts);
		store_close(s);
	} else {
		code = execute(cli, &a, &plan);
	}
	free(err);
	search_plan_finish(&plan);
	free(a.query);
	return code;
}

/* --archives reads archives: libarchive is in callvault-full only */
static bool needs_full(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strncmp(argv[i], "--archives", 10) == 0 &&
			(argv[i][10] == '\0' || argv[i][10] == '='))
			return true;
	return false;
}

const struct cli_cmd cmd_search = {
	.name = "search",
	.summary = "search transcripts and summaries (audited)",
	.help = "usage: callvault [--db PATH] [--actor NAME] search [QUERY…] [filters]\n"
		"         [--limit N] [--offset N] [--sort relevance|newest|oldest]\n"
		"         [--format table|json|csv] [--count] [--literal] [--explain]\n"
		"         [--archives DIR]\n"
		"\n"
		"Find calls whose summary or transcript match QUERY (the words after\n"
		"the options are joined with spaces). An empty QUERY with filters\n"
		"lists the calls the filters match. Every search is recorded in the\n"
		"audit log (`callvault audit`), with --actor or the OS user.\n"
		"\n"
		"Query language:\n"
		"  refund manager        both words (AND is implied); word forms match:\n"
		"                        refund finds refunds, refunded\n"
		"  \"cancellation fee\"    the words next to each other, in this order\n"
		"  refund OR credit      either;  refund NOT manager  the first "
		"without\n"
		"                        the second;  NOT refund  calls without it\n"
		"  (refund OR credit) AND manager   parentheses group\n"
		"  NEAR(refund manager, 5)  within 5 words of each other (default "
		"10)\n"
		"  cancel*               words that start with cancel\n"
		"  summary:refund        only in the summary\n"
		"  transcript:refund     only in the transcript\n"
		"  bot:\"cancellation fee\"  only in what the voice agent said\n"
		"  human:manager         only in what the caller said\n"
		"  human:(refund OR credit)  a field applies to a group too\n"
		"Punctuation needs no escaping: maria@example.com, don't, co-pay, "
		"3.5%,\n"
		"+1 (555) 010-2030 match the text as written. A number of 3 or more\n"
		"digits also matches as a fragment of longer numbers (4242 finds a "
		"card\n"
		"ending in 4242; 5550102030 finds +1 (555) 010-2030) in the caller's\n"
		"number, the summary and the transcript; inside bot:/human:/summary:\n"
		"it matches whole numbers only. Operators are upper case; and/or/not\n"
		"are ordinary words. A query that cannot be read is an error (exit 2)\n"
		"naming the position, never an empty result.\n"
		"\n"
		"  --literal       QUERY is exact text: calls whose summary or "
		"transcript\n"
		"                  contain it byte for byte (case and punctuation "
		"count)\n"
		"  --limit N       at most N calls (default 20, at most 10000)\n"
		"  --offset N      skip the first N\n"
		"  --sort ORDER    newest (default), oldest, or relevance (BM25 "
		"over at most\n"
		"                  the 2,000 most recently stored matches; "
		"queries with\n"
		"                  number fragments or a leading NOT sort newest)\n"
		"  --format F      table (default; hits in bold on a terminal, [hit] "
		"when\n"
		"                  NO_COLOR is set or not a terminal), json (array of\n"
		"                  objects with snippet and snippetRanges: [start, end)\n"
		"                  in code points), csv\n"
		"  --count         print only the number of matching calls\n"
		"  --explain       print the FTS5 expression and the SQL (runnable in "
		"the\n                  sqlite3 shell) and exit; nothing is searched\n"
		"  --archives DIR  also search the archives (under DIR, as `archive\n"
		"                  --out DIR` laid them out) of the months whose calls\n"
		"                  purge removed: each is verified and loaded into a\n"
		"                  private temporary store and searched the same way;\n"
		"                  their matches are listed after the live ones\n"
		"                  (json: with \"archive\"), and the archives go to\n"
		"                  the audit entry\n"
		"\n"
		"When the period searched (--from/--to, by month; none: all) had calls\n"
		"that purge removed, a note says how many and names the archives that\n"
		"hold them (after the table; on stderr for json and csv).\n"
		"\n" CLI_FILTERS_HELP "\n"
		"Examples:\n"
		"  callvault search 'refund AND manager' --from 2026-03-01 --to "
		"2026-03-31\n"
		"  callvault search --number '+1 512-555-0143' --sort newest\n"
		"  callvault search 'bot:\"cancellation fee\"' --agent Billing\n"
		"  callvault search 4242 --format json\n"
		"Exit codes: 0 (also when nothing matches), 1 failure, 2 bad query or "
		"option.\n",
	.run = run,
	.needs_full = needs_full,
};
