/*
 * test_tz_cross.c — one window, the same calls, through every interface
 * (issue 23): with the store's zone set to America/Chicago
 * (`callvault config set timezone`), windows that straddle both of 2026's
 * changes of clocks are run through
 *  - `callvault search` (the store's zone, and --tz),
 *  - the console's JSON API /api/search (the store's zone without a tz
 *    argument, and a session's tz),
 *  - the console's hold from a search (POST /api/holds?search=1),
 *  - a hold by criteria, placed by the CLI and by the console,
 * and each must give the same calls, the ones the zone's wall clock puts
 * in the window; --tz UTC must give the UTC day's instead (so a zone that
 * is ignored somewhere fails). Runs `callvault serve --console` as a
 * child on port 0.
 *
 * usage: test_tz_cross   (env CALLVAULT = the binary)
 */
#include <jansson.h>

#include "console_t.h"

/* Calls around 2026-03-08 (CST -> CDT at 08:00Z) and 2026-11-01 (CDT ->
 * CST at 07:00Z: 01:00-02:00 local happens twice). */
static const char *const calls[][2] = {
	{ "s0", "2026-03-08T07:29:00Z" }, /* 01:29 CST: before */
	{ "s1", "2026-03-08T07:30:00Z" }, /* 01:30 CST: first */
	{ "s2", "2026-03-08T08:00:00Z" }, /* 03:00 CDT: after the gap */
	{ "s3", "2026-03-08T08:30:30Z" }, /* 03:30:30 CDT: last minute */
	{ "s4", "2026-03-08T08:31:00Z" }, /* 03:31 CDT: after */
	{ "n0", "2026-11-01T04:59:00Z" }, /* Oct 31 23:59 CDT */
	{ "n1", "2026-11-01T05:00:00Z" }, /* Nov 1 00:00 CDT */
	{ "n2", "2026-11-01T06:30:00Z" }, /* 01:30 CDT, the first one */
	{ "n3", "2026-11-01T07:30:00Z" }, /* 01:30 CST, the second one */
	{ "n4", "2026-11-02T05:59:00Z" }, /* Nov 1 23:59 CST */
	{ "n5", "2026-11-02T06:00:00Z" }, /* Nov 2 00:00 CST */
};

/* The windows, as the console's date-and-time inputs send them, and
 * the calls each holds in America/Chicago and in UTC. */
static const struct window {
	const char *from, *to;
	const char *chicago, *utc;
} windows[] = {
	{ "2026-03-08T01:30", "2026-03-08T03:30", "s1 s2 s3", "" },
	{ "2026-11-01", "2026-11-01", "n1 n2 n3 n4", "n0 n1 n2 n3" },
};

static void setup(void)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/calls.jsonl", dir);
	FILE *f = fopen(path, "w");
	for (size_t i = 0; i < CV_ARRAY_LEN(calls); i++)
		fprintf(f,
			"{\"id\":\"%s\",\"locationId\":\"L1\","
			"\"contactId\":\"K%zu\",\"createdAt\":\"%s\","
			"\"summary\":\"window call\"}\n",
			calls[i][0], i, calls[i][1]);
	fclose(f);
	CHECK(cv("init >/dev/null") == 0);
	CHECK(cv("import '%s' >/dev/null", path) == 0);
	CHECK(cv("config set timezone America/Chicago >/dev/null") == 0);
	snprintf(path, sizeof(path), "%s/pw", dir);
	f = fopen(path, "w");
	fputs("correct horse 1\n", f);
	fclose(f);
	CHECK(cv("user add holder --role hold-admin --password-file '%s' "
		 ">/dev/null",
		      path) == 0);
}

/* Sorted ids from a JSON array of objects with "id", space-separated. */
static void ids_of(json_t *arr, char *out, size_t n)
{
	const char *v[64];
	size_t k = 0;
	for (size_t i = 0; i < json_array_size(arr) && k < 64; i++)
		v[k++] = json_string_value(
			json_object_get(json_array_get(arr, i), "id"));
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			const char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	out[0] = '\0';
	for (size_t i = 0; i < k; i++)
		snprintf(out + strlen(out), n - strlen(out), "%s%s",
			i ? " " : "", v[i] ? v[i] : "?");
}

/* The CLI's search: `search --from --to [--tz] --format json`. */
static void cli_search(const struct window *w, const char *tz, char *out,
	size_t n)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/out.json", dir);
	CHECK(cv("search --from %s --to %s %s%s --limit 100 --format json "
		 ">'%s'",
		      w->from, w->to, tz ? "--tz " : "", tz ? tz : "",
		      path) == 0);
	json_t *j = json_load_file(path, 0, NULL);
	CHECK(json_is_array(j));
	ids_of(j, out, n);
	json_decref(j);
}

static void api_search(const struct session *s, const struct window *w,
	const char *tz, char *out, size_t n, char *zone, size_t zn)
{
	struct resp *r = malloc(sizeof(*r));
	char path[400];
	snprintf(path, sizeof(path), "/api/search?from=%s&to=%s&limit=100%s%s",
		w->from, w->to, tz ? "&tz=" : "", tz ? tz : "");
	CHECK(get(r, path, s->cookie) == 200);
	json_t *j = json_loads(r->body, 0, NULL);
	ids_of(json_object_get(j, "hits"), out, n);
	const char *z = json_string_value(json_object_get(j, "timeZone"));
	snprintf(zone, zn, "%s", z ? z : "");
	json_decref(j);
	free(r);
}

/* The call ids `hold show ID` lists, sorted (the hold's own list for a
 * hold from a search; the stored calls its criteria cover otherwise). */
static void held(long long id, char *out, size_t n)
{
	char path[400], line[256];
	snprintf(path, sizeof(path), "%s/hold.txt", dir);
	CHECK(cv("hold show %lld >'%s'", id, path) == 0);
	json_t *arr = json_array();
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "held call ");
		if (!p)
			continue;
		p = strrchr(p, ' ') + 1;
		p[strcspn(p, "\n")] = '\0';
		json_array_append_new(arr, json_pack("{s:s}", "id", p));
	}
	if (f)
		fclose(f);
	ids_of(arr, out, n);
	json_decref(arr);
}

static long long hold_from_search(const struct session *s,
	const struct window *w, int i)
{
	struct resp *r = malloc(sizeof(*r));
	char path[400], body[200];
	snprintf(path, sizeof(path), "/api/holds?search=1&from=%s&to=%s",
		w->from, w->to);
	snprintf(body, sizeof(body), "matter=window+%d&reason=subpoena", i);
	CHECK_MSG(req(r, "POST", path, body, s->cookie, s->csrf, NULL) == 201,
		"hold from search: %ld %s", r->status, r->body);
	json_t *j = json_loads(r->body, 0, NULL);
	long long id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	free(r);
	return id;
}

/* The calls a hold by criteria covers now, from `hold list`. */
static long long covers(long long id)
{
	char path[400], line[256];
	snprintf(path, sizeof(path), "%s/list.txt", dir);
	CHECK(cv("hold list >'%s'", path) == 0);
	FILE *f = fopen(path, "r");
	long long cur = -1, n = -1, v;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "hold #%lld", &v) == 1)
			cur = v;
		if (cur == id && sscanf(line, "  covers %lld", &v) == 1)
			n = v;
	}
	if (f)
		fclose(f);
	return n;
}

static void one_window(const struct session *s, const struct window *w, int i)
{
	char cli[256], cli_utc[256], api[256], api_tz[256], api_utc[256];
	char hold[256], zone[64];
	cli_search(w, NULL, cli, sizeof(cli));
	CHECK_STR(cli, w->chicago);
	cli_search(w, "UTC", cli_utc, sizeof(cli_utc));
	CHECK_STR(cli_utc, w->utc);
	api_search(s, w, NULL, api, sizeof(api), zone, sizeof(zone));
	CHECK_STR(api, w->chicago);
	CHECK_STR(zone, "America/Chicago");
	api_search(s, w, "America/Chicago", api_tz, sizeof(api_tz), zone,
		sizeof(zone));
	CHECK_STR(api_tz, cli);
	api_search(s, w, "UTC", api_utc, sizeof(api_utc), zone, sizeof(zone));
	CHECK_STR(api_utc, cli_utc);
	CHECK_STR(zone, "UTC");
	held(hold_from_search(s, w, i), hold, sizeof(hold));
	CHECK_STR(hold, w->chicago);

	/* holds by criteria: the CLI's and the console's cover as many */
	int64_t want = 0;
	for (const char *p = w->chicago; *p; p++)
		want += *p == ' ' || p == w->chicago;
	char path[400];
	snprintf(path, sizeof(path), "%s/hold_add.txt", dir);
	CHECK(cv("hold add --matter crit-%d --from %s --to %s --reason r "
		 ">'%s'",
		      i, w->from, w->to, path) == 0);
	FILE *f = fopen(path, "r");
	long long id = -1;
	CHECK(f && fscanf(f, "hold #%lld", &id) == 1);
	if (f)
		fclose(f);
	CHECK_INT(covers(id), want);
	struct resp *r = malloc(sizeof(*r));
	char body[300];
	snprintf(body, sizeof(body), "matter=api-%d&reason=r&from=%s&to=%s", i,
		w->from, w->to);
	CHECK(req(r, "POST", "/api/holds", body, s->cookie, s->csrf, NULL) ==
		201);
	json_t *j = json_loads(r->body, 0, NULL);
	CHECK_INT(covers(json_integer_value(json_object_get(j, "id"))), want);
	json_decref(j);
	free(r);
}

int main(int argc, char **argv)
{
	bin = getenv("CALLVAULT");
	if (!bin) {
		fprintf(stderr, "usage: CALLVAULT=bin test_tz_cross\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "/tmp/cvtzx.XXXXXX");
	if (!mkdtemp(dir))
		wt_die("mkdtemp");
	snprintf(db, sizeof(db), "%s/db", dir);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	setup();
	struct wt_server srv;
	const char *extra[] = { "--console", NULL };
	if (!wt_start(&srv, dir, db, NULL, extra))
		wt_die("serve did not start");
	port = srv.port;
	struct session h;
	CHECK(login("holder", "correct+horse+1", &h) == 200);
	struct resp *r = malloc(sizeof(*r));
	CHECK(get(r, "/api/me", h.cookie) == 200);
	CHECK(strstr(r->body, "\"timeZone\":\"America/Chicago\"") != NULL);
	free(r);
	for (size_t i = 0; i < CV_ARRAY_LEN(windows); i++)
		one_window(&h, &windows[i], (int)i);
	CHECK(wt_stop(&srv) == 0);
	CHECK(cv("audit --verify >/dev/null") == 0);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	curl_global_cleanup();
	return t_done();
}
