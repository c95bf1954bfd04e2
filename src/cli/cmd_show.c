/* cmd_show.c — `callvault show CALL_ID [--versions] [--json]` */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store_webhook.h"
#include "../util.h"
#include "../store/store_audit.h"
#include "cli.h"
#include "highlight.h"
#include "show_media.h"

static const char *yesno(int v)
{
	return v < 0 ? "unknown" : v ? "yes" : "no";
}

/* Text from the call (HighLevel's, or whoever signed the webhook) is
 * printed through cv_safe: a terminal shows its control characters and
 * bidirectional overrides instead of obeying them. */
static const char *or_dash(struct cv_safe *k, const char *s)
{
	return s ? cv_safe(k, s) : "-";
}

/* Each line of text, indented, its controls shown as escapes. */
static void print_block(const char *text)
{
	char *t = cv_term_safe(text, CV_SAFE_NEWLINES);
	for (char *line = t, *nl; line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		printf("  %.*s\n",
			(int)(nl ? (size_t)(nl - line) : strlen(line)), line);
	}
	free(t);
}

static void print_call(const struct cli *cli, const struct store_call *sc,
	bool text)
{
	const struct calllog *c = &sc->log;
	struct cv_safe k = { 0 };
	char ts[TZ_TIME_LEN];
	cli_time(cli, c->created_at, ts);
	printf("Call          %s\n", or_dash(&k, c->id));
	printf("Created       %s (%s)\n", ts, cli_zone_name(cli));
	printf("Location      %s\n", or_dash(&k, c->location_id));
	printf("Agent         %s%s%s%s\n",
		sc->agent_name ? cv_safe(&k, sc->agent_name) : "",
		sc->agent_name ? " (" : "", or_dash(&k, c->agent_id),
		sc->agent_name ? ")" : "");
	if (c->agent_deleted == 1)
		printf("              (agent deleted)\n");
	printf("Contact       %s\n", or_dash(&k, c->contact_id));
	printf("From          %s\n", or_dash(&k, c->from_number));
	if (c->has_duration)
		printf("Duration      %.0f s\n", c->duration);
	else
		printf("Duration      -\n");
	printf("Trial call    %s\n", yesno(c->trial_call));
	printf("Transferred   %s\n", c->transferred ? "yes" : "no");
	if (c->message_id)
		printf("Message       %s\n", cv_safe(&k, c->message_id));
	for (size_t i = 0; i < c->n_actions; i++) {
		char at[TZ_TIME_LEN] = "";
		if (c->actions[i].executed_at)
			cli_time(cli, c->actions[i].executed_at, at);
		printf("%s %s \"%s\"%s%s\n",
			i == 0 ? "Actions      " : "             ",
			c->actions[i].type ? cv_safe(&k, c->actions[i].type)
					   : "?",
			c->actions[i].name ? cv_safe(&k, c->actions[i].name)
					   : "",
			*at ? " at " : "", at);
	}
	cv_safe_finish(&k);
	printf("Versions      %d\n", sc->n_versions);
	if (c->n_redacted)
		printf("Redacted      %d secret(s) scrubbed before storing\n",
			c->n_redacted);
	if (!text)
		return;
	printf("\nSummary\n");
	print_block(c->summary ? c->summary : "(none)");
	printf("\nTranscript\n");
	struct calllog_turn *turns;
	size_t n = calllog_turns(c->transcript, &turns);
	struct buf line;
	buf_init(&line);
	for (size_t i = 0; i < n; i++) {
		const char *who = calllog_speaker_name(turns[i].speaker);
		buf_reset(&line);
		cv_term_safe_append(&line, turns[i].text, turns[i].len, 0);
		printf("  %-6s %s\n", *who ? who : "-", line.data);
	}
	buf_finish(&line);
	if (n == 0)
		printf("  (none)\n");
	free(turns);
}

static int print_version(const struct store_version *v, void *arg)
{
	char ts[TZ_TIME_LEN];
	cli_time(arg, v->received_at, ts);
	printf("  v%-3d %-8s %-13s %s  received-sha256 %s%s%s%s\n", v->seq,
		store_source_name(v->source), store_cred_name(v->auth), ts,
		v->raw_sha256, v->current ? "  (current)" : "",
		v->raw_kept ? "" : "  (raw withheld)",
		v->redacted ? "  (secrets redacted)" : "");
	if (v->not_current)
		printf("       not current: %s\n", v->not_current);
	return 0;
}

static int version_json(const struct store_version *v, void *arg)
{
	char ts[32];
	cv_format_iso8601(v->received_at, ts);
	json_t *o = json_object();
	json_object_set_new(o, "seq", json_integer(v->seq));
	json_object_set_new(o, "source",
		json_string(store_source_name(v->source)));
	json_object_set_new(o, "trust", json_string(store_cred_name(v->auth)));
	json_object_set_new(o, "current", json_boolean(v->current));
	json_object_set_new(o, "notCurrent",
		v->not_current ? json_string(v->not_current) : json_null());
	json_object_set_new(o, "receivedAt", json_string(ts));
	json_object_set_new(o, "receivedSha256", json_string(v->raw_sha256));
	json_object_set_new(o, "canonicalSha256",
		json_string(v->canonical_sha256));
	json_object_set_new(o, "rawKept", json_boolean(v->raw_kept));
	json_object_set_new(o, "redacted", json_integer(v->redacted));
	json_object_set_new(o, "record", json_loads(v->canonical, 0, NULL));
	json_array_append_new(arg, o);
	return 0;
}

/* print_event's argument */
struct events {
	const struct cli *cli;
	int n;
};

static int print_event(const struct store_webhook_event *e, void *arg)
{
	struct events *ev = arg;
	char ts[TZ_TIME_LEN];
	ev->n++;
	cli_time(ev->cli, e->received_at, ts);
	struct cv_safe k = { 0 };
	printf("  %s  %-16s %-15s %s%s\n", ts,
		e->type ? cv_safe(&k, e->type) : "(no type)",
		e->outcome ? cv_safe(&k, e->outcome) : "-",
		or_dash(&k, e->dedup_key),
		e->withheld ? "  (body withheld)" : "");
	cv_safe_finish(&k);
	return 0;
}

/* Every view of a call is audited, before anything is printed. */
static enum cv_err audit_show(struct store *s, struct cli *cli, const char *id,
	const char *highlight, char **err)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(id));
	if (highlight)
		json_object_set_new(o, "highlight", json_string(highlight));
	char *detail = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	enum cv_err rc = store_audit_append(s, cli->actor, "show", detail, 1,
		err);
	free(detail);
	return rc;
}

static int event_json(const struct store_webhook_event *e, void *arg)
{
	char ts[32];
	cv_format_iso8601(e->received_at, ts);
	json_t *o = json_object();
	json_object_set_new(o, "receivedAt", json_string(ts));
	json_object_set_new(o, "type",
		e->type ? json_string(e->type) : json_null());
	json_object_set_new(o, "outcome",
		e->outcome ? json_string(e->outcome) : json_null());
	json_object_set_new(o, "dedupKey", json_string(e->dedup_key));
	json_object_set_new(o, "bodySha256", json_string(e->body_sha256));
	json_object_set_new(o, "signature",
		e->signature ? json_string(e->signature) : json_null());
	json_array_append_new(arg, o);
	return 0;
}

static void say_disposed(const struct store_tombstone *t, void *arg)
{
	char ts[32];
	cv_format_iso8601(t->disposed_at, ts);
	*(char **)arg = xasprintf("call %s was disposed of at %s (%s); "
				  "nothing of it is kept",
		t->call_id, ts, t->reason);
}

/* An unknown id: say so, or that the call was disposed of. */
static void not_found(struct store *s, const char *id, char **err)
{
	char *why = NULL;
	if (store_get_tombstone(s, id, say_disposed, &why, NULL) == CV_OK &&
		why) {
		free(*err);
		*err = why;
	}
}

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "versions", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "highlight", required_argument, NULL, 'H' },
		{ "tz", required_argument, NULL, 'z' },
		{ NULL, 0, NULL, 0 },
	};
	bool versions = false, json = false;
	const char *highlight = NULL, *tz = NULL;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'v')
			versions = true;
		else if (c == 'j')
			json = true;
		else if (c == 'H')
			highlight = optarg;
		else if (c == 'z')
			tz = optarg;
		else
			return CV_EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cli_fail(CV_EXIT_USAGE, "show", "name one CALL_ID");
	const char *id = argv[optind];
	struct search_plan plan = { 0 };
	if (highlight && !cli_highlight_parse(highlight, &plan))
		return CV_EXIT_USAGE;
	int zc;
	struct store *s = cli_open_zoned(cli, "show", STORE_NOCREATE, tz, &zc);
	if (!s) {
		search_plan_finish(&plan);
		return zc;
	}
	struct store_call sc;
	char *err = NULL;
	enum cv_err rc = store_get_call(s, id, &sc, &err);
	if (rc == CV_ENOTFOUND)
		not_found(s, id, &err);
	if (rc == CV_OK)
		rc = audit_show(s, cli, id, highlight, &err);
	if (rc == CV_OK && json) {
		json_t *o = json_object();
		json_object_set_new(o, "call",
			json_loads(sc.log.canonical, 0, NULL));
		json_object_set_new(o, "agentName",
			sc.agent_name ? json_string(sc.agent_name)
				      : json_null());
		json_object_set_new(o, "nVersions",
			json_integer(sc.n_versions));
		if (versions) {
			json_t *arr = json_array();
			rc = store_each_version(s, id, version_json, arr, &err);
			json_object_set_new(o, "versions", arr);
		}
		if (rc == CV_OK)
			rc = show_media_json(s, id, sc.log.message_id, o, &err);
		if (rc == CV_OK) {
			json_t *ev = json_array();
			rc = store_each_call_event(s, id, event_json, ev, &err);
			json_object_set_new(o, "webhookEvents", ev);
		}
		if (rc == CV_OK) {
			json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
			fputc('\n', stdout);
		}
		json_decref(o);
	} else if (rc == CV_OK) {
		print_call(cli, &sc, !highlight);
		if (highlight) {
			int hc = cli_highlight_print(s, &sc.log, &plan);
			if (hc != CV_EXIT_OK) {
				store_call_finish(&sc);
				store_close(s);
				search_plan_finish(&plan);
				return hc;
			}
		}
		if (rc == CV_OK)
			rc = show_media_text(s, id, sc.log.message_id, &err);
		if (rc == CV_OK && versions) {
			printf("\nVersions (oldest first)\n");
			rc = store_each_version(s, id, print_version, cli,
				&err);
		}
		if (rc == CV_OK) {
			struct events ev = { cli, 0 };
			printf("\nWebhook events\n");
			rc = store_each_call_event(s, id, print_event, &ev,
				&err);
			if (ev.n == 0)
				printf("  (none)\n");
		}
	}
	store_call_finish(&sc);
	store_close(s);
	search_plan_finish(&plan);
	if (rc != CV_OK) {
		int code = cli_fail(rc == CV_ENOTFOUND ? CV_EXIT_FAIL
						       : cli_exit_for(rc),
			"show", "%s", err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	return CV_EXIT_OK;
}

const struct cli_cmd cmd_show = {
	.name = "show",
	.summary =
		"show one call: fields, agent, transcript, recording, versions",
	.help = "usage: callvault [--db PATH] show CALL_ID [--versions] "
		"[--json] [--highlight QUERY] [--tz ZONE]\n"
		"\n"
		"Print the call's current version: its fields, the agent's "
		"name when\nknown, executed actions, summary, and the "
		"transcript one turn per line.\n"
		"  --versions  also every version: source, how it was "
		"authenticated\n              (ed25519, rsa-legacy, hmac, "
		"header-secret, api, import;\n              unrecorded for "
		"older webhook versions), received time,\n              "
		"SHA-256 of the bytes as received, which one is current,\n"
		"              and for a version of lower trust than the "
		"current one\n              `not current: lower trust than "
		"current version from …`\n"
		"  --json      print JSON instead (its times stay UTC, with a "
		"Z)\n"
		"  --tz ZONE   show times in ZONE (IANA name); default: the "
		"store's\n              zone (callvault config set timezone), "
		"else UTC\n"
		"  --highlight QUERY  print the summary and the whole "
		"transcript with\n              the hits of QUERY marked "
		"(grammar: `callvault search --help`)\n"
		"\nThe recording kept (SHA-256 of the bytes as received, size, "
		"duration,\nwhen fetched; JSON: recordings) and the timed "
		"transcription, one\nsentence per line with its start time "
		"(JSON: timedTranscript), follow;\n`callvault recording get` "
		"writes the audio to a file.\n"
		"\nThe call's webhook deliveries (VoiceAiCallEnd events and the "
		"CALL\nmessage events sharing its messageId) are listed last "
		"(JSON:\nwebhookEvents).\n"
		"\nA call that was disposed of (purged) is reported as such, "
		"with when\nand why (exit 1).\n"
		"\nEvery view is recorded in the audit log.\n",
	.run = run,
};
