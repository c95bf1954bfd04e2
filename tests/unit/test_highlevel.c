/* test_highlevel.c — the HighLevel client's pure parts: rate-limit
 * headers, error bodies, token and agent responses, URL handling. */
#include <string.h>
#include <time.h>

#include "highlevel.h"
#include "hljson.h"
#include "t.h"

static void test_ratelimit_lines(void)
{
	static const struct {
		const char *line;
		bool ok;
		int field; /* 0 daily limit, 1 daily rem, 2 interval, 3 max,
			      4 remaining */
		long long want;
	} rows[] = {
		{ "X-RateLimit-Limit-Daily: 200000\r\n", true, 0, 200000 },
		{ "x-ratelimit-daily-remaining: 199990\r\n", true, 1, 199990 },
		{ "X-RATELIMIT-INTERVAL-MILLISECONDS:10000\r\n", true, 2,
			10000 },
		{ "X-RateLimit-Max: 100\r\n", true, 3, 100 },
		{ "X-RateLimit-Remaining:  0 \r\n", true, 4, 0 },
		{ "X-RateLimit-Remaining: -1\r\n", false, 4, -1 },
		{ "X-RateLimit-Remaining: 12abc\r\n", false, 4, -1 },
		{ "X-RateLimit-Remaining:\r\n", false, 4, -1 },
		{ "X-RateLimit-Maximum: 5\r\n", false, 3, -1 },
		{ "Content-Length: 10\r\n", false, 3, -1 },
		{ "no colon here\r\n", false, 3, -1 },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(rows); i++) {
		struct hl_ratelimit rl;
		hl_ratelimit_init(&rl);
		bool ok = hl_ratelimit_parse_line(rows[i].line,
			strlen(rows[i].line), &rl);
		int64_t v[5] = { rl.limit_daily, rl.daily_remaining,
			rl.interval_ms, rl.max, rl.remaining };
		CHECK_MSG(ok == rows[i].ok, "row %zu", i);
		CHECK_INT(v[rows[i].field], rows[i].want);
	}
}

/* A header line for an epoch time offset from now. */
static void http_date_line(char *out, size_t n, int64_t offset_s)
{
	time_t t = (time_t)(cv_now_ms() / 1000 + offset_s);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
}

/* Retry-After, X-RateLimit-Daily-Reset, and values that are ignored. */
static void test_ratelimit_reset_headers(void)
{
	static const struct {
		const char *line;
		bool ok;
		unsigned bad;
		int field; /* 0 retry_after_ms, 1 daily_reset_ms, 2 max */
		long long want;
	} rows[] = {
		{ "Retry-After: 3\r\n", true, 0, 0, 3000 },
		{ "retry-after:0\r\n", true, 0, 0, 0 },
		{ "Retry-After: soon\r\n", false, HL_RL_RETRY_AFTER, 0, -1 },
		{ "Retry-After: -2\r\n", false, HL_RL_RETRY_AFTER, 0, -1 },
		{ "Retry-After: 1.5\r\n", false, HL_RL_RETRY_AFTER, 0, -1 },
		/* a date in the past: retry now */
		{ "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n", true, 0, 0,
			0 },
		{ "X-RateLimit-Daily-Reset: 3600\r\n", true, 0, 1, 3600000 },
		{ "x-ratelimit-daily-reset: 0\r\n", true, 0, 1, 0 },
		/* 1970 as epoch seconds: no daily reset is that far */
		{ "X-RateLimit-Daily-Reset: 3600000\r\n", false,
			HL_RL_DAILY_RESET, 1, -1 },
		{ "X-RateLimit-Daily-Reset: tomorrow\r\n", false,
			HL_RL_DAILY_RESET, 1, -1 },
		{ "X-RateLimit-Max: 100.0\r\n", false, HL_RL_MAX, 2, -1 },
		{ "X-RateLimit-Max: 1e2\r\n", false, HL_RL_MAX, 2, -1 },
		{ "X-RateLimit-Max: 1234567890123456789\r\n", false, HL_RL_MAX,
			2, -1 },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(rows); i++) {
		struct hl_ratelimit rl;
		hl_ratelimit_init(&rl);
		bool ok = hl_ratelimit_parse_line(rows[i].line,
			strlen(rows[i].line), &rl);
		int64_t v[3] = { rl.retry_after_ms, rl.daily_reset_ms, rl.max };
		CHECK_MSG(ok == rows[i].ok, "row %zu", i);
		CHECK_MSG(rl.bad == rows[i].bad, "row %zu: bad %u", i, rl.bad);
		CHECK_MSG(v[rows[i].field] == rows[i].want, "row %zu: %lld", i,
			(long long)v[rows[i].field]);
	}
	/* an HTTP-date 30 s ahead; an epoch reset an hour ahead, in s and
	 * in ms */
	char line[128];
	struct hl_ratelimit rl;
	hl_ratelimit_init(&rl);
	http_date_line(line, sizeof(line), 30);
	CHECK(hl_ratelimit_parse_line(line, strlen(line), &rl));
	CHECK_MSG(rl.retry_after_ms > 27000 && rl.retry_after_ms <= 30000,
		"%lld", (long long)rl.retry_after_ms);
	int64_t now = cv_now_ms();
	snprintf(line, sizeof(line), "X-RateLimit-Daily-Reset: %lld\r\n",
		(long long)(now / 1000 + 3600));
	CHECK(hl_ratelimit_parse_line(line, strlen(line), &rl));
	CHECK_MSG(rl.daily_reset_ms > 3590000 && rl.daily_reset_ms <= 3600000,
		"%lld", (long long)rl.daily_reset_ms);
	snprintf(line, sizeof(line), "X-RateLimit-Daily-Reset: %lld\r\n",
		(long long)(now + 3600000));
	CHECK(hl_ratelimit_parse_line(line, strlen(line), &rl));
	CHECK_MSG(rl.daily_reset_ms > 3590000 && rl.daily_reset_ms <= 3600000,
		"%lld", (long long)rl.daily_reset_ms);
	/* a later good value of a header clears its bad bit */
	hl_ratelimit_init(&rl);
	CHECK(!hl_ratelimit_parse_line("X-RateLimit-Max: x\r\n", 19, &rl));
	CHECK(rl.bad == HL_RL_MAX);
	CHECK(hl_ratelimit_parse_line("X-RateLimit-Max: 7\r\n", 19, &rl));
	CHECK(rl.bad == 0 && rl.max == 7);
	CHECK_STR(hl_ratelimit_header_name(HL_RL_RETRY_AFTER), "Retry-After");
}

static void test_error_messages(void)
{
	static const struct {
		const char *body;
		const char *want; /* NULL = none */
	} rows[] = {
		{ "{\"statusCode\":400,\"message\":\"Bad Request\"}",
			"Bad Request" },
		{ "{\"statusCode\":401,\"message\":\"Invalid token: access "
		  "token is invalid\",\"error\":\"Unauthorized\"}",
			"Invalid token: access token is invalid" },
		{ "{\"statusCode\":422,\"message\":[\"property limit should "
		  "not exist\",\"pageSize must not be greater than 50\"],"
		  "\"error\":\"Unprocessable Entity\"}",
			"property limit should not exist, pageSize must not be "
			"greater than 50" },
		{ "{\"statusCode\":422,\"message\":[],\"error\":\"Unprocessable"
		  " Entity\"}",
			"Unprocessable Entity" },
		{ "{\"statusCode\":500}", NULL },
		{ "<html>Bad gateway</html>", NULL },
		{ "", NULL },
		{ "{\"message\":\"line\\nbreak\"}", "line?break" },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(rows); i++) {
		char *m = hljson_error_message(rows[i].body,
			strlen(rows[i].body));
		if (rows[i].want)
			CHECK_STR(m, rows[i].want);
		else
			CHECK_MSG(m == NULL, "row %zu: got %s", i, m);
		free(m);
	}
	/* long messages are cut */
	char big[2000] = "{\"message\":\"";
	size_t n = strlen(big);
	memset(big + n, 'x', 1500);
	strcpy(big + n + 1500, "\"}");
	char *m = hljson_error_message(big, strlen(big));
	CHECK(m && strlen(m) <= 300);
	free(m);
	/* deep nesting is refused, not recursed into */
	char deep[400];
	memset(deep, '[', 200);
	memset(deep + 200, ']', 200);
	CHECK(hljson_error_message(deep, sizeof(deep)) == NULL);
}

static void test_token_and_agents(void)
{
	const char *ok = "{\"access_token\":\"eyJa\",\"token_type\":\"Bearer\","
			 "\"expires_in\":86399,\"refresh_token\":\"eyJr\","
			 "\"locationId\":\"L1\",\"scope\":\"voice-ai-dashboard."
			 "readonly conversations/message.readonly\"}";
	struct hljson_token t;
	char *err = NULL;
	CHECK(hljson_token_parse(ok, strlen(ok), &t, &err) == CV_OK);
	CHECK_STR(t.access_token, "eyJa");
	CHECK_STR(t.refresh_token, "eyJr");
	CHECK_INT(t.expires_in, 86399);
	CHECK_STR(t.location_id, "L1");
	CHECK_STR(t.scope, "voice-ai-dashboard.readonly "
			   "conversations/message.readonly");
	CHECK(hljson_scope_has(t.scope, "voice-ai-dashboard.readonly"));
	CHECK(hljson_scope_has(t.scope, "conversations/message.readonly"));
	CHECK(!hljson_scope_has(t.scope, "voice-ai-agents.readonly"));
	CHECK(!hljson_scope_has(t.scope, "voice-ai-dashboard"));
	CHECK(!hljson_scope_has(t.scope, ""));
	CHECK(!hljson_scope_has(NULL, "x"));
	CHECK(hljson_scope_has("  a\tb  ", "b"));
	hljson_token_finish(&t);
	const char *bad = "{\"access_token\":\"eyJa\"}";
	CHECK(hljson_token_parse(bad, strlen(bad), &t, &err) == CV_EPARSE);
	CHECK(err && strstr(err, "refresh_token"));
	CHECK(err && !strstr(err, "eyJa")); /* no token in messages */
	free(err);

	const char *page = "{\"total\":3,\"page\":1,\"pageSize\":50,\"agents\":"
			   "[{\"id\":\"a1\",\"agentName\":\"Front Desk\"},"
			   "{\"_id\":\"a2\"},{\"agentName\":\"no id\"}]}";
	struct hljson_agents a;
	CHECK(hljson_agents_parse(page, strlen(page), &a, NULL) == CV_OK);
	CHECK_INT(a.total, 3);
	CHECK_INT(a.n, 2);
	CHECK_STR(a.items[0].id, "a1");
	CHECK_STR(a.items[0].name, "Front Desk");
	CHECK_STR(a.items[1].id, "a2");
	CHECK(a.items[1].name == NULL);
	hljson_agents_finish(&a);
	CHECK(hljson_agents_parse("{}", 2, &a, NULL) == CV_EPARSE);
}

/* /oauth/locationToken replies lack a refresh token; installedLocations */
static void test_agency_replies(void)
{
	const char *lt = "{\"access_token\":\"eyJl\",\"token_type\":\"Bearer\","
			 "\"expires_in\":86399,\"locationId\":\"L1\","
			 "\"userId\":\"U\"}";
	struct hljson_token t;
	char *err = NULL;
	CHECK(hljson_token_parse(lt, strlen(lt), &t, &err) == CV_EPARSE);
	free(err);
	err = NULL;
	CHECK(hljson_token_parse_opt(lt, strlen(lt), false, &t, &err) == CV_OK);
	CHECK_STR(t.access_token, "eyJl");
	CHECK(t.refresh_token == NULL && t.company_id == NULL);
	hljson_token_finish(&t);
	const char *page =
		"{\"locations\":[{\"_id\":\"L1\",\"name\":\"a\","
		"\"isInstalled\":true},{\"_id\":\"L2\",\"isInstalled\":"
		"false},{\"_id\":\"L3\"},{\"name\":\"no id\"}],"
		"\"count\":40}";
	struct hljson_installed in;
	CHECK(hljson_installed_parse(page, strlen(page), &in, NULL) == CV_OK);
	CHECK_INT(in.count, 40);
	CHECK_INT(in.listed, 4);
	CHECK_INT(in.n, 2);
	CHECK_STR(in.ids[0], "L1");
	CHECK_STR(in.ids[1], "L3");
	hljson_installed_finish(&in);
	CHECK(hljson_installed_parse("{\"count\":1}", 11, &in, &err) ==
		CV_EPARSE);
	CHECK(err && strstr(err, "locations"));
	free(err);
}

static void test_urls(void)
{
	static const struct {
		const char *url;
		bool ok;
	} rows[] = {
		{ "https://services.leadconnectorhq.com", true },
		{ "http://127.0.0.1:8080", true },
		{ "http://localhost/x", true },
		{ "http://[::1]:9", true },
		{ "http://example.com", false },
		{ "http://127.0.0.1.evil.com/", false },
		{ "http://localhost:80@evil.com/", false },
		{ "ftp://127.0.0.1", false },
		{ "https://", false },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(rows); i++)
		CHECK_MSG(hl_url_allowed(rows[i].url) == rows[i].ok, "%s",
			rows[i].url);
	struct buf u;
	buf_init(&u);
	buf_puts(&u, "http://h/p");
	hl_query_add(&u, "locationId", "a b&c=d/é");
	hl_query_add_int(&u, "startDate", 1679308800000);
	CHECK_STR(u.data, "http://h/p?locationId=a%20b%26c%3Dd%2F%C3%A9"
			  "&startDate=1679308800000");
	buf_finish(&u);
}

int main(void)
{
	test_ratelimit_lines();
	test_ratelimit_reset_headers();
	test_error_messages();
	test_token_and_agents();
	test_agency_replies();
	test_urls();
	return t_done();
}
