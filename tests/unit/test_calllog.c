/* test_calllog.c — table-driven tests of the call-log parser */
#include <stdlib.h>
#include <string.h>

#include "calllog.h"
#include "hash.h"
#include "util.h"
#include "t.h"

#define BASE_HEAD "{\"id\":\"c1\",\"createdAt\":\"2026-03-02T15:04:05.123Z\""

/* Rows: input → rejected naming a field, or accepted (and then, when a
 * field could not be read, kept with a note naming it: an archive keeps
 * what it is given and quarantines only what it cannot identify). */
static const struct {
	const char *name;
	const char *json;
	const char *reject; /* substring of the reason; NULL = accepted */
} rows[] = {
	{ "minimal", BASE_HEAD "}", NULL },
	{ "no id", "{\"createdAt\":\"2026-03-02T15:04:05Z\"}", "\"id\"" },
	{ "null id", "{\"id\":null,\"createdAt\":\"2026-03-02T15:04:05Z\"}",
		"\"id\"" },
	{ "empty id", "{\"id\":\"\",\"createdAt\":\"2026-03-02T15:04:05Z\"}",
		"\"id\"" },
	{ "numeric id", "{\"id\":42,\"createdAt\":\"2026-03-02T15:04:05Z\"}",
		"\"id\": expected string" },
	{ "no createdAt", "{\"id\":\"c1\"}", "\"createdAt\": missing" },
	{ "null createdAt", "{\"id\":\"c1\",\"createdAt\":null}",
		"\"createdAt\"" },
	{ "bad createdAt", "{\"id\":\"c1\",\"createdAt\":\"yesterday\"}",
		"\"createdAt\"" },
	{ "Feb 30", "{\"id\":\"c1\",\"createdAt\":\"2026-02-30T00:00:00Z\"}",
		"\"createdAt\"" },
	{ "numeric createdAt", "{\"id\":\"c1\",\"createdAt\":1700000000000}",
		"\"createdAt\": expected string" },
	{ "all optional null",
		BASE_HEAD
		",\"agentId\":null,\"contactId\":null,\"fromNumber\":null,"
		"\"duration\":null,\"trialCall\":null,\"summary\":null,"
		"\"transcript\":null,\"executedCallActions\":null,"
		"\"translation\":null,\"extractedData\":null,"
		"\"messageId\":null,\"isAgentDeleted\":null}",
		NULL },
	{ "polymorphic translation and extractedData",
		BASE_HEAD ",\"translation\":\"es\",\"extractedData\":[1,2]}",
		NULL },
	{ "unknown fields kept", BASE_HEAD ",\"newField\":{\"x\":1}}", NULL },
	{ "array", "[1,2]", "expected a JSON object" },
	{ "string", "\"hello\"", "expected a JSON object" },
	{ "not json", "hello", "invalid JSON" },
	{ "truncated", BASE_HEAD ",\"summary\":\"abc", "invalid JSON" },
	{ "duplicate keys", BASE_HEAD ",\"id\":\"c2\"}", "invalid JSON" },
	{ "invalid utf-8", BASE_HEAD ",\"summary\":\"\xff\xfe\"}",
		"invalid JSON" },
	{ "huge number", BASE_HEAD ",\"duration\":1e999}", "invalid JSON" },
	{ "huge integer", BASE_HEAD ",\"duration\":99999999999999999999999999}",
		"invalid JSON" },
	{ "NUL escape", BASE_HEAD ",\"summary\":\"a\\u0000b\"}",
		"invalid JSON" },
	{ "other event type", BASE_HEAD ",\"type\":\"InboundMessage\"}",
		"\"type\"" },
	{ "control char in id",
		"{\"id\":\"a\\nb\",\"createdAt\":\"2026-03-02T15:04:05Z\"}",
		"\"id\": control character" },
};

/* Fields of an unexpected type or out of range: the record is kept (its
 * canonical form holds the value as received), the typed field is left
 * unread, and the notes name it. An archive keeps what it is given. */
static const struct {
	const char *name;
	const char *json;
	const char *note; /* substring of the notes */
} noted[] = {
	{ "duration string", BASE_HEAD ",\"duration\":\"142\"}",
		"\"duration\": expected number" },
	{ "negative duration", BASE_HEAD ",\"duration\":-1}", "\"duration\"" },
	{ "trialCall string", BASE_HEAD ",\"trialCall\":\"no\"}",
		"\"trialCall\"" },
	{ "isAgentDeleted number", BASE_HEAD ",\"isAgentDeleted\":0}",
		"\"isAgentDeleted\"" },
	{ "summary number", BASE_HEAD ",\"summary\":5}", "\"summary\"" },
	{ "transcript object", BASE_HEAD ",\"transcript\":{}}",
		"\"transcript\"" },
	{ "actions object", BASE_HEAD ",\"executedCallActions\":{}}",
		"\"executedCallActions\"" },
	{ "action not object", BASE_HEAD ",\"executedCallActions\":[1]}",
		"executedCallActions[0]" },
	{ "actionType number",
		BASE_HEAD ",\"executedCallActions\":[{\"actionType\":3}]}",
		"\"actionType\"" },
	{ "agentId array", BASE_HEAD ",\"agentId\":[]}", "\"agentId\"" },
};

static void test_noted(void)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(noted); i++) {
		struct calllog c;
		char *reason = NULL;
		enum cv_err rc = calllog_parse_one(noted[i].json,
			strlen(noted[i].json), NULL, &c, &reason);
		CHECK_MSG(rc == CV_OK, "%s: rejected: %s", noted[i].name,
			reason ? reason : "");
		CHECK_MSG(rc == CV_OK && c.notes &&
				  strstr(c.notes, noted[i].note),
			"%s: want a note with '%s', got '%s'", noted[i].name,
			noted[i].note, c.notes ? c.notes : "(none)");
		CHECK(rc != CV_OK || strstr(c.canonical, "\"id\":\"c1\""));
		free(reason);
		calllog_finish(&c);
	}
	/* a negative duration is kept as received but not reported */
	struct calllog c;
	char *reason = NULL;
	const char *j = BASE_HEAD ",\"duration\":-3}";
	CHECK(calllog_parse_one(j, strlen(j), NULL, &c, &reason) == CV_OK);
	CHECK(!c.has_duration);
	CHECK(strstr(c.canonical, "\"duration\":-3") != NULL);
	calllog_finish(&c);
}

/* Notes are bounded (a quadratic string before: 100,000 odd actions took
 * minutes); an unreadable locationId files the call under the location
 * it was listed for; a total no double holds is bounded, not UB. */
static void test_note_bounds(void)
{
	struct buf j;
	buf_init(&j);
	buf_puts(&j, BASE_HEAD ",\"locationId\":7,\"executedCallActions\":[");
	for (int i = 0; i < 1000; i++)
		buf_puts(&j, i ? ",1" : "1");
	buf_puts(&j, "]}");
	struct calllog c;
	char *reason = NULL;
	CHECK(calllog_parse_one(j.data, j.len, "LOCH", &c, &reason) == CV_OK);
	CHECK(c.notes && strstr(c.notes, "; and 981 more"));
	CHECK(c.notes && strlen(c.notes) < 4096);
	CHECK_STR(c.location_id, "LOCH");
	CHECK(c.notes && strstr(c.notes, "\"locationId\": expected string"));
	CHECK(strstr(c.canonical, "\"locationId\":7") != NULL);
	calllog_finish(&c);
	buf_finish(&j);

	const char *page = "{\"total\":1e30,\"page\":\"2\",\"pageSize\":-5,"
			   "\"callLogs\":[]}";
	struct calllog_batch b;
	CHECK(calllog_parse_payload(page, strlen(page), NULL, &b, &reason) ==
		CV_OK);
	CHECK_INT(b.total, INT64_C(9007199254740992));
	CHECK_INT(b.page, -1);
	CHECK_INT(b.page_size, -1);
	calllog_batch_finish(&b);
}

static void test_table(void)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(rows); i++) {
		struct calllog c;
		char *reason = NULL;
		enum cv_err rc = calllog_parse_one(rows[i].json,
			strlen(rows[i].json), NULL, &c, &reason);
		if (!rows[i].reject) {
			CHECK_MSG(rc == CV_OK, "%s: rejected: %s", rows[i].name,
				reason ? reason : "");
			CHECK_MSG(rc != CV_OK || !c.notes,
				"%s: unexpected "
				"note '%s'",
				rows[i].name, c.notes);
		} else {
			CHECK_MSG(rc == CV_EPARSE && reason &&
					  strstr(reason, rows[i].reject),
				"%s: want reason with '%s', got '%s'",
				rows[i].name, rows[i].reject,
				reason ? reason : "(accepted)");
		}
		free(reason);
		calllog_finish(&c);
	}
}

static const char rest[] =
	"{\"id\":\"66f1c0d2a4b5c6d7e8f90123\",\"contactId\":\"Xo3k\","
	"\"agentId\":\"66e0aa\",\"isAgentDeleted\":false,"
	"\"fromNumber\":\"+15125550143\","
	"\"createdAt\":\"2026-03-02T15:04:05.123Z\",\"duration\":142,"
	"\"trialCall\":false,\"executedCallActions\":[{\"actionId\":\"a1\","
	"\"actionType\":\"APPOINTMENT_BOOKING\",\"actionName\":\"Book\","
	"\"executedAt\":\"2026-03-02T15:05:40.000Z\"}],"
	"\"summary\":\"Roof.\",\"transcript\":\"bot: Hi\\nhuman: Hello\","
	"\"translation\":null,\"agentTransferOccurred\":true}";

static void test_rest_shape(void)
{
	struct calllog c;
	char *reason = NULL;
	CHECK(calllog_parse_one(rest, strlen(rest), "LOC1", &c, &reason) ==
		CV_OK);
	CHECK_STR(c.id, "66f1c0d2a4b5c6d7e8f90123");
	CHECK_STR(c.location_id, "LOC1"); /* from the hint */
	CHECK_INT(c.created_at, 1772463845123LL);
	CHECK(c.has_duration && c.duration == 142);
	CHECK_INT(c.trial_call, 0);
	CHECK_INT(c.agent_deleted, 0);
	CHECK_INT(c.agent_transfer, 1);
	CHECK(c.transferred);
	CHECK(c.appointment_booked);
	CHECK_STR(c.action_types, "APPOINTMENT_BOOKING");
	CHECK_INT(c.n_actions, 1);
	CHECK_STR(c.actions[0].id, "a1");
	CHECK_INT(c.actions[0].executed_at, 1772463940000LL);
	CHECK_INT(c.shape, CALLLOG_REST);
	CHECK(strstr(c.canonical, "\"locationId\":\"LOC1\"") != NULL);
	calllog_finish(&c);
}

static void test_webhook_shape(void)
{
	static const char wh[] =
		"{\"type\":\"VoiceAiCallEnd\",\"webhookId\":\"w-1\","
		"\"timestamp\":\"2026-03-02T15:06:31.412Z\",\"id\":\"c9\","
		"\"locationId\":\"L\",\"agentId\":\"A\","
		"\"createdAt\":\"2026-03-02T15:04:05.123Z\","
		"\"translation\":{\"transcript\":\"hola\",\"language\":\"es\"},"
		"\"executedCallActions\":[{\"_id\":\"x1\",\"actionType\":"
		"\"CALL_TRANSFER\",\"actionName\":\"T\"},{\"_id\":\"x2\","
		"\"actionType\":\"SMS\",\"actionName\":\"S\"},{\"_id\":\"x3\","
		"\"actionType\":\"SMS\",\"actionName\":\"S2\"}]}";
	struct calllog c;
	char *reason = NULL;
	CHECK(calllog_parse_one(wh, strlen(wh), "OTHER", &c, &reason) == CV_OK);
	CHECK_INT(c.shape, CALLLOG_WEBHOOK);
	CHECK_STR(c.location_id, "L"); /* the record wins over the hint */
	CHECK_INT(c.agent_deleted, -1);
	CHECK_STR(c.actions[0].id, "x1"); /* _id read as actionId */
	CHECK(c.transferred);
	CHECK_STR(c.action_types, "CALL_TRANSFER,SMS");
	/* delivery envelope is not part of the record */
	CHECK(strstr(c.canonical, "webhookId") == NULL);
	CHECK(strstr(c.canonical, "\"type\"") == NULL);
	CHECK(strstr(c.canonical, "\"_id\"") == NULL);
	CHECK(strstr(c.canonical, "\"actionId\":\"x1\"") != NULL);
	CHECK(strstr(c.canonical, "hola") != NULL); /* opaque translation */
	calllog_finish(&c);
}

static void test_canonical(void)
{
	/* key order and whitespace do not make a new version */
	static const char a[] = "{\"id\":\"c1\",\"summary\":\"s\","
				"\"createdAt\":\"2026-03-02T15:04:05Z\"}";
	static const char b[] = "{ \"createdAt\" : \"2026-03-02T15:04:05Z\","
				"\n \"summary\":\"s\", \"id\":\"c1\" }";
	static const char changed[] = "{\"id\":\"c1\",\"summary\":\"t\","
				      "\"createdAt\":\"2026-03-02T15:04:05Z\"}";
	struct calllog x, y, z;
	char *r = NULL;
	CHECK(calllog_parse_one(a, strlen(a), NULL, &x, &r) == CV_OK);
	CHECK(calllog_parse_one(b, strlen(b), NULL, &y, &r) == CV_OK);
	CHECK(calllog_parse_one(changed, strlen(changed), NULL, &z, &r) ==
		CV_OK);
	CHECK_STR(x.canonical, y.canonical);
	CHECK_STR(x.canonical_sha256, y.canonical_sha256);
	CHECK(strcmp(x.canonical_sha256, z.canonical_sha256) != 0);
	CHECK_STR(x.canonical, "{\"createdAt\":\"2026-03-02T15:04:05Z\","
			       "\"id\":\"c1\",\"summary\":\"s\"}");
	calllog_finish(&x);
	calllog_finish(&y);
	calllog_finish(&z);
}

static void test_scrub(void)
{
	static const char in[] = BASE_HEAD
		",\"executedCallActions\":[{\"actionId\":\"a\","
		"\"actionType\":\"CUSTOM_ACTION\",\"actionName\":\"n\","
		"\"actionParameters\":{\"apiDetails\":{\"url\":"
		"\"https://x\",\"authenticationValue\":\"sk_live_S3CRET\","
		"\"headers\":[{\"key\":\"X-Key\",\"value\":\"H3ADER\"}]}}}]}";
	struct calllog c;
	char *r = NULL;
	CHECK(calllog_parse_one(in, strlen(in), NULL, &c, &r) == CV_OK);
	CHECK_INT(c.n_redacted, 2);
	CHECK(strstr(c.canonical, "S3CRET") == NULL);
	CHECK(strstr(c.canonical, "H3ADER") == NULL);
	CHECK(strstr(c.canonical, "\"authenticationValue\":\"[redacted]\""));
	CHECK(strstr(c.canonical, "\"key\":\"X-Key\"")); /* names kept */
	CHECK(strstr(c.canonical, "https://x"));
	calllog_finish(&c);
}

static void test_bounds(void)
{
	/* deep nesting is refused before the parser recurses */
	size_t depth = 10000;
	char *deep = xmalloc(2 * depth + 64);
	size_t n = (size_t)sprintf(deep, BASE_HEAD ",\"x\":");
	for (size_t i = 0; i < depth; i++)
		deep[n++] = '[';
	for (size_t i = 0; i < depth; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	struct calllog c;
	char *r = NULL;
	CHECK(calllog_parse_one(deep, n, NULL, &c, &r) == CV_EPARSE);
	CHECK(r && strstr(r, "nested deeper"));
	free(r);
	r = NULL;
	free(deep);
	CHECK_INT(calllog_json_depth("{\"a\":\"[[[[\"}", 11, 64), 1);

	/* a string over the bound names its field */
	size_t big = CALLLOG_MAX_STRING + 10;
	char *huge = xmalloc(big + 128);
	n = (size_t)sprintf(huge, BASE_HEAD ",\"transcript\":\"");
	memset(huge + n, 'a', big);
	n += big;
	n += (size_t)sprintf(huge + n, "\"}");
	CHECK(calllog_parse_one(huge, n, NULL, &c, &r) == CV_EPARSE);
	CHECK(r && strstr(r, "\"transcript\""));
	free(r);
	free(huge);
}

static void test_list_payload(void)
{
	static const char page[] =
		"{\"total\":3,\"page\":1,\"pageSize\":50,\"callLogs\":[" BASE_HEAD
		"}, 7, {\"id\":\"c2\"}]}";
	struct calllog_batch b;
	char *r = NULL;
	CHECK(calllog_parse_payload(page, strlen(page), "L", &b, &r) == CV_OK);
	CHECK(b.is_list);
	CHECK_INT(b.total, 3);
	CHECK_INT(b.n, 3);
	CHECK(b.items[0].reason == NULL);
	CHECK(b.items[1].reason && strstr(b.items[1].reason, "callLogs[1]"));
	CHECK(b.items[2].reason && strstr(b.items[2].reason, "createdAt"));
	CHECK(b.items[2].raw && strstr(b.items[2].raw, "c2"));
	calllog_batch_finish(&b);
}

static void test_turns(void)
{
	static const struct {
		const char *in;
		size_t n;
		enum calllog_speaker first;
		const char *first_text;
	} t[] = {
		{ "bot: Hello\nhuman: Hi", 2, CALLLOG_BOT, "Hello" },
		{ "bot:Hello\nhuman:Hi", 2, CALLLOG_BOT, "Hello" },
		{ "human:  spaced\r\nbot:x", 2, CALLLOG_HUMAN, "spaced" },
		{ "bot: one\nsecond line\nhuman: h", 2, CALLLOG_BOT,
			"one\nsecond line" },
		{ "no speaker", 1, CALLLOG_OTHER, "no speaker" },
		{ "", 0, CALLLOG_OTHER, NULL },
		{ "bot: a\nbot: b\n\n", 2, CALLLOG_BOT, "a" },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(t); i++) {
		struct calllog_turn *turns;
		size_t n = calllog_turns(t[i].in, &turns);
		CHECK_MSG(n == t[i].n, "turns of '%s': %zu", t[i].in, n);
		if (n && t[i].first_text) {
			CHECK_INT(turns[0].speaker, t[i].first);
			CHECK(turns[0].len == strlen(t[i].first_text) &&
				memcmp(turns[0].text, t[i].first_text,
					turns[0].len) == 0);
		}
		free(turns);
	}
}

static void test_time_and_numbers(void)
{
	int64_t ms;
	CHECK(cv_parse_iso8601("1970-01-01T00:00:00Z", &ms) && ms == 0);
	CHECK(cv_parse_iso8601("2026-03-02T15:04:05.123Z", &ms) &&
		ms == 1772463845123LL);
	CHECK(cv_parse_iso8601("2026-03-02T17:04:05.123+02:00", &ms) &&
		ms == 1772463845123LL);
	CHECK(cv_parse_iso8601("2026-03-02T15:04:05.1234567Z", &ms) &&
		ms == 1772463845123LL);
	CHECK(cv_parse_iso8601("2026-03-02", &ms) && ms == 1772409600000LL);
	CHECK(cv_parse_iso8601("2024-02-29T00:00:00Z", &ms));
	CHECK(!cv_parse_iso8601("2025-02-29T00:00:00Z", &ms));
	CHECK(!cv_parse_iso8601("2026-13-01T00:00:00Z", &ms));
	CHECK(!cv_parse_iso8601("2026-03-02T25:00:00Z", &ms));
	CHECK(!cv_parse_iso8601("2026-03-02T15:04:05Zjunk", &ms));
	char out[32];
	cv_format_iso8601(1772463845123LL, out);
	CHECK_STR(out, "2026-03-02T15:04:05.123Z");
	char e[20];
	CHECK(calllog_e164("+1 (512) 555-0143", e));
	CHECK_STR(e, "+15125550143");
	CHECK(calllog_e164("512.555.0143", e));
	CHECK_STR(e, "+15125550143");
	CHECK(calllog_e164("0044 20 7946 0958", e));
	CHECK_STR(e, "+442079460958");
	CHECK(!calllog_e164("call me", e));
	CHECK(!calllog_e164("12", e));
	CHECK(cv_utf8_valid("h\xc3\xa9", 3));
	CHECK(!cv_utf8_valid("\xc3", 1));
	CHECK(!cv_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
}

int main(void)
{
	test_table();
	test_noted();
	test_note_bounds();
	test_rest_shape();
	test_webhook_shape();
	test_canonical();
	test_scrub();
	test_bounds();
	test_list_payload();
	test_turns();
	test_time_and_numbers();
	return t_done();
}
