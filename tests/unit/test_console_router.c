/*
 * test_console_router.c — the console's route table and router without
 * a server (issue 19): the table is well-formed (every API route but
 * /api/me audits, every state-changing one needs a session), the paths
 * it serves are the ones the server hands it, and a successful answer
 * of an audited route that wrote no audit entry never goes out.
 */
#include <string.h>
#include <unistd.h>

#include "console_int.h"
#include "t.h"

static void test_table(void)
{
	size_t n = 0;
	for (const struct console_route *r; (r = console_route(n)); n++) {
		CHECK_MSG(!strcmp(r->method, "GET") ||
				  !strcmp(r->method, "POST"),
			"%s %s", r->method, r->path);
		CHECK_MSG(r->path[0] == '/', "%s", r->path);
		CHECK_MSG(console_owns(r->path) || strstr(r->path, "{id}"),
			"%s not handed to the console", r->path);
		bool api = strncmp(r->path, "/api/", 5) == 0;
		CHECK_MSG(!api || r->audit || !strcmp(r->path, "/api/me"),
			"%s %s reads without an audit entry", r->method,
			r->path);
		CHECK_MSG(!api || !r->public_, "%s needs no session", r->path);
		CHECK_MSG(!api || !strcmp(r->path, "/api/me") || r->perm,
			"%s needs no permission", r->path);
	}
	CHECK(n > 0 && console_route(n) == NULL);
	CHECK(console_owns("/api/whatever") && !console_owns("/webhooks/x") &&
		!console_owns("/metrics"));
}

static bool released;

static bool stream(void *arg, int fd)
{
	released = fd < 0;
	return false;
}

/* A recording's bytes never go out unaudited, from byte 0 or from a
 * later range (found in review: `Range: bytes=1-` sent all but one byte
 * unaudited); the file is not sent when there is no entry. */
static void test_recording(void)
{
	static const struct {
		unsigned status;
		int64_t off;
		unsigned want;
	} rows[] = {
		{ 206, 4096, 500 },
		{ 206, 0, 500 },
		{ 200, 0, 500 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct console_response res;
		memset(&res, 0, sizeof(res));
		buf_init(&res.body);
		res.status = rows[i].status;
		res.has_file = true;
		res.file_fd = dup(0);
		res.file_off = rows[i].off;
		res.file_len = 10;
		struct ctx x = { .res = &res };
		cx_audit_check(&x, "recording play");
		CHECK_MSG(res.status == rows[i].want, "row %zu: %u", i,
			res.status);
		CHECK(!res.has_file);
		console_response_finish(&res);
	}
}

static void test_unaudited(void)
{
	static const struct {
		unsigned status;
		bool audited;
		const char *audit;
		unsigned want;
	} rows[] = {
		{ 200, false, "search", 500 }, /* the bug it stops */
		{ 201, false, "hold add", 500 }, { 200, true, "search", 200 },
		{ 404, false, "show", 404 }, /* a refusal shows nothing */
		{ 200, false, NULL, 200 },   /* a route that does not audit */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct console_response res;
		memset(&res, 0, sizeof(res));
		buf_init(&res.body);
		res.status = rows[i].status;
		res.stream = stream;
		released = false;
		struct ctx x = { .res = &res, .audited = rows[i].audited };
		cx_audit_check(&x, rows[i].audit);
		CHECK_MSG(res.status == rows[i].want, "row %zu: %u", i,
			res.status);
		if (rows[i].want == 500) {
			CHECK(res.stream == NULL && released);
			CHECK(res.body.data &&
				strstr(res.body.data, "not audited") != NULL);
		}
		console_response_finish(&res);
	}
}

int main(void)
{
	test_table();
	test_unaudited();
	test_recording();
	return t_done();
}
