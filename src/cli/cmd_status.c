/* cmd_status.c — `callvault status [--json]`: is the archive working? */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store_audit.h"
#include "../store/store_recordings.h"
#include "../store/store_status.h"
#include "../util.h"
#include "cli.h"

static json_t *time_or_null(int64_t ms)
{
	char t[32];
	if (ms <= 0)
		return json_null();
	cv_format_iso8601(ms, t);
	return json_string(t);
}

static json_t *location_json(const struct store_status_location *l)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(l->id));
	json_object_set_new(o, "registered", json_boolean(l->registered));
	json_object_set_new(o, "calls", json_integer(l->calls));
	json_object_set_new(o, "lastRunAt", time_or_null(l->last_run_at));
	json_object_set_new(o, "lastSuccessAt", time_or_null(l->last_ok_at));
	json_object_set_new(o, "checkpoint", time_or_null(l->checkpoint_ms));
	json_object_set_new(o, "lastError",
		l->last_error ? json_string(l->last_error) : json_null());
	json_object_set_new(o, "fetchQueued", json_integer(l->queued));
	json_object_set_new(o, "callsBehind",
		l->behind >= 0 ? json_integer(l->behind) : json_null());
	json_object_set_new(o, "callsBehindAsOf", time_or_null(l->behind_at));
	return o;
}

/* The media fetch jobs of a location, per kind (NULL on a store error:
 * the status still shows the rest). */
static json_t *media_json(struct store *s, const char *loc)
{
	json_t *o = json_object();
	for (int k = 0; k < MEDIA_N_KIND; k++) {
		struct store_media_counts c;
		if (store_media_counts(s, loc, (enum media_kind)k, &c, NULL) !=
			CV_OK) {
			json_decref(o);
			return json_null();
		}
		json_object_set_new(o, media_kind_name((enum media_kind)k),
			json_pack("{s:I,s:I,s:I,s:I}", "pending",
				(json_int_t)c.pending, "done",
				(json_int_t)c.done, "missing",
				(json_int_t)c.missing, "denied",
				(json_int_t)c.denied));
	}
	return o;
}

static json_t *archive_json(const struct store_status_archive *a)
{
	json_t *o = json_object();
	json_object_set_new(o, "locationId", json_string(a->location_id));
	json_object_set_new(o, "month", json_string(a->month));
	json_object_set_new(o, "bags", json_integer(a->bags));
	json_object_set_new(o, "lastWrittenAt",
		time_or_null(a->last_written_at));
	json_object_set_new(o, "lastVerifiedAt",
		time_or_null(a->last_verified_at));
	json_object_set_new(o, "unverified", json_integer(a->unverified));
	return o;
}

/* The audit chain's newest entry, for an external system to record
 * (audit --verify --against holds the log to such a head). */
struct head {
	int64_t id;
	char hash[CV_SHA256_HEX];
};

static void print_json(struct store *s, const struct store_status *st,
	int64_t now, const struct head *h)
{
	json_t *o = json_object(), *q = json_object();
	json_t *locs = json_array(), *arch = json_array();
	json_object_set_new(o, "calls", json_integer(st->calls));
	json_object_set_new(o, "dbBytes", json_integer(st->db_bytes));
	json_object_set_new(o, "walBytes", json_integer(st->wal_bytes));
	json_object_set_new(q, "depth", json_integer(st->queue_depth));
	json_object_set_new(q, "failing", json_integer(st->queue_failing));
	json_object_set_new(q, "oldestAt", time_or_null(st->queue_oldest_at));
	json_object_set_new(q, "oldestAgeSeconds",
		st->queue_oldest_at > 0
			? json_integer((now - st->queue_oldest_at) / 1000)
			: json_null());
	json_object_set_new(o, "fetchQueue", q);
	for (size_t i = 0; i < st->n_locations; i++) {
		json_t *l = location_json(&st->locations[i]);
		json_object_set_new(l, "media",
			media_json(s, st->locations[i].id));
		json_array_append_new(locs, l);
	}
	for (size_t i = 0; i < st->n_archives; i++)
		json_array_append_new(arch, archive_json(&st->archives[i]));
	json_object_set_new(o, "locations", locs);
	json_object_set_new(o, "archives", arch);
	json_object_set_new(o, "auditHead",
		json_pack("{s:I,s:s}", "id", (json_int_t)h->id, "hash",
			h->hash));
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	json_decref(o);
}

/* "2026-03-01T04:00:00-06:00" (in the command's zone) or "never" */
static const char *when(const struct cli *cli, int64_t ms,
	char out[TZ_TIME_LEN])
{
	if (ms <= 0)
		return "never";
	cli_time(cli, ms, out);
	char *dot = strchr(out, '.');
	if (dot)
		memmove(dot, dot + 4, strlen(dot + 4) + 1);
	return out;
}

static void print_locations(const struct cli *cli,
	const struct store_status *st)
{
	char a[TZ_TIME_LEN], b[TZ_TIME_LEN];
	printf("\n%-24s %9s %7s %-25s %-25s %s\n", "location", "calls",
		"behind", "last sync ok", "last sync run", "last error");
	for (size_t i = 0; i < st->n_locations; i++) {
		const struct store_status_location *l = &st->locations[i];
		char behind[24] = "?";
		if (l->behind >= 0)
			snprintf(behind, sizeof(behind), "%lld",
				(long long)l->behind);
		printf("%-24s %9lld %7s %-25s %-25s %s%s\n", l->id,
			(long long)l->calls, behind,
			l->registered || l->last_run_at
				? when(cli, l->last_ok_at, a)
				: "(not synced)",
			when(cli, l->last_run_at, b),
			l->last_error ? l->last_error : "-",
			l->queued ? " (fetches queued)" : "");
	}
}

/* Recordings and transcriptions per location: what the fetcher holds,
 * waits for, gave up on (missing) or may not read (denied). */
static void print_media(struct store *s, const struct store_status *st)
{
	bool head = false;
	for (size_t i = 0; i < st->n_locations; i++) {
		for (int k = 0; k < MEDIA_N_KIND; k++) {
			struct store_media_counts c;
			if (store_media_counts(s, st->locations[i].id,
				    (enum media_kind)k, &c, NULL) != CV_OK ||
				c.pending + c.done + c.missing + c.denied == 0)
				continue;
			if (!head)
				printf("\n%-24s %-13s %7s %7s %7s %7s\n",
					"media location", "kind", "fetched",
					"pending", "missing", "denied");
			head = true;
			printf("%-24s %-13s %7lld %7lld %7lld %7lld\n",
				st->locations[i].id,
				media_kind_name((enum media_kind)k),
				(long long)c.done, (long long)c.pending,
				(long long)c.missing, (long long)c.denied);
		}
	}
}

static void print_archives(const struct cli *cli, const struct store_status *st)
{
	char a[TZ_TIME_LEN], b[TZ_TIME_LEN];
	if (st->n_archives == 0) {
		printf("\narchives: none written\n");
		return;
	}
	printf("\n%-24s %-7s %4s %-25s %-25s\n", "archive location", "month",
		"bags", "last written", "last verified");
	for (size_t i = 0; i < st->n_archives; i++) {
		const struct store_status_archive *r = &st->archives[i];
		printf("%-24s %-7s %4lld %-25s %-25s%s\n",
			*r->location_id ? r->location_id : "(none)", r->month,
			(long long)r->bags, when(cli, r->last_written_at, a),
			when(cli, r->last_verified_at, b),
			r->unverified ? " UNVERIFIED" : "");
	}
}

static void print_text(const struct cli *cli, struct store *s,
	const struct store_status *st, int64_t now, const struct head *h)
{
	char t[TZ_TIME_LEN];
	printf("times in     %s\n", cli_zone_name(cli));
	printf("calls        %lld\n", (long long)st->calls);
	printf("store        %lld bytes, WAL %lld bytes\n",
		(long long)st->db_bytes, (long long)st->wal_bytes);
	printf("fetch queue  %lld waiting", (long long)st->queue_depth);
	if (st->queue_depth > 0)
		printf(", oldest %s (%lld s ago), %lld failing",
			when(cli, st->queue_oldest_at, t),
			(long long)((now - st->queue_oldest_at) / 1000),
			(long long)st->queue_failing);
	putchar('\n');
	printf("audit head   #%lld %s\n", (long long)h->id, h->hash);
	print_locations(cli, st);
	print_media(s, st);
	print_archives(cli, st);
}

static int run(struct cli *cli, int argc, char **argv)
{
	bool json;
	int zc;
	struct store *s = cli_open_report(cli, "status", argc, argv, &json,
		&zc);
	if (!s)
		return zc;
	struct store_status st;
	char *err = NULL;
	struct head h;
	enum cv_err rc = store_status_read(s, &st, &err);
	if (rc == CV_OK)
		rc = store_audit_head(s, &h.id, h.hash, &err);
	int64_t now = cv_now_ms();
	if (rc == CV_OK && json)
		print_json(s, &st, now, &h);
	else if (rc == CV_OK)
		print_text(cli, s, &st, now, &h);
	store_status_finish(&st);
	store_close(s);
	if (rc != CV_OK) {
		int code = cli_fail(CV_EXIT_FAIL, "status", "%s", err);
		free(err);
		return code;
	}
	return CV_EXIT_OK;
}

const struct cli_cmd cmd_status = {
	.name = "status",
	.summary = "is it working: syncs, fetch queue, WAL, archives",
	.help = "usage: callvault [--db PATH] status [--json] [--tz ZONE]\n"
		"\n"
		"What an operator checks: calls stored; the store's and its "
		"write-ahead\nlog's size; the webhook fetch queue (calls a "
		"webhook announced that sync\nhas not fetched yet: how many, "
		"the oldest, how many failed); per location\nthe calls "
		"stored, when a sync last ran and last succeeded, the last "
		"error,\nand the calls behind: the total the API gave for "
		"the last sync's range\n(its first page's) less the calls "
		"stored in that range now, as of that\nsync (`?` / null: no "
		"usable total yet; calls newer than that sync are\nnot "
		"known until the next one);\nper location the recordings and transcriptions "
		"fetched, pending, missing\n(absent after 26 h) and denied "
		"(the token lacks the scope);\nper location and month the "
		"archives written, when last written and last\nverified, and "
		"any bag never verified; the audit chain's head (id and\nhash "
		"of its newest entry, for an external system to record). "
		"Times are UTC. The same figures\nare on `serve`'s /metrics "
		"(docs/webhooks.md). --json prints them as an\nobject "
		"(`calls`, `walBytes`, `fetchQueue`, `locations`, "
		"`archives`, `auditHead`).\n",
	.run = run,
};
