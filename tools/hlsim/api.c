/* api.c — see api.h */
#include "api.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"
#include "emit.h"
#include "media.h"
#include "util.h"

#define MAX_BODY 16384
#define MAX_ARGS 64
#define MAX_URL 2048

struct api_server {
	struct MHD_Daemon *d;
};

/* Per-connection request state (POST bodies). */
struct req {
	struct buf body;
	bool too_big;
};

/* What to answer. */
struct reply {
	int status;
	char *body;               /* malloc'd */
	bool truncate;            /* send part of it, then close */
	bool reset;               /* close without an answer */
	const char *content_type; /* default application/json */
	const char *disposition;  /* Content-Disposition, or NULL */
	struct media_stream *wav; /* a recording to stream (media.h) */
	uint64_t wav_len;
	struct rl_result rl;
};

struct args {
	const char *k[MAX_ARGS], *v[MAX_ARGS];
	int n;
	bool overflow;
};

static const char *const VERSIONS[] = { "2021-04-15", "2021-07-28",
	"2023-02-21", "v3" };

static const char EXAMPLE_PAGE[] =
	"{\"total\":137,\"page\":1,\"pageSize\":2,\"callLogs\":[{\"id\":"
	"\"66f1c0d2a4b5c6d7e8f90123\",\"contactId\":\"Xo3kPq9LmN2bV7cR1tYz\","
	"\"agentId\":\"66e0aa11bb22cc33dd44ee55\",\"isAgentDeleted\":false,"
	"\"fromNumber\":\"+15125550143\",\"createdAt\":"
	"\"2026-03-02T15:04:05.123Z\",\"duration\":142,\"trialCall\":false,"
	"\"executedCallActions\":[],\"summary\":\"Caller asked for a roof "
	"estimate; visit booked for Thursday 10:00.\",\"transcript\":\"bot: "
	"Thanks for calling Acme Roofing, how can I help?\\nhuman: I need an "
	"estimate for a leak.\"},{\"id\":\"66f1c1e3a4b5c6d7e8f90456\","
	"\"agentId\":\"66e0aa11bb22cc33dd44ee55\",\"isAgentDeleted\":false,"
	"\"fromNumber\":\"+15125550199\",\"createdAt\":"
	"\"2026-03-02T15:20:00.000Z\",\"duration\":9,\"trialCall\":true,"
	"\"executedCallActions\":[],\"summary\":\"Test call; caller hung up.\","
	"\"transcript\":\"bot:Thanks for calling Acme Roofing, how can I "
	"help?\\nhuman:Hello?\"}]}";

/* ---- JSON bodies ---- */

static char *dump_free(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static const char *reason(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

static void set_error(struct reply *r, int status, const char *msg)
{
	r->status = status;
	free(r->body);
	r->body = dump_free(json_pack("{s:i,s:s,s:s}", "statusCode", status,
		"message", msg, "error", reason(status)));
}

/* A 422 whose message is the array of violations. */
static void set_422(struct reply *r, json_t *msgs)
{
	r->status = 422;
	free(r->body);
	r->body = dump_free(json_pack("{s:i,s:o,s:s}", "statusCode", 422,
		"message", msgs, "error", reason(422)));
}

/* ---- query arguments ---- */

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind,
	const char *key, const char *value)
{
	struct args *a = cls;
	(void)kind;
	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->k[i], key))
			return MHD_YES; /* the first occurrence wins */
	if (a->n == MAX_ARGS) {
		a->overflow = true;
		return MHD_NO;
	}
	a->k[a->n] = key;
	a->v[a->n++] = value ? value : "";
	return MHD_YES;
}

static const char *arg(const struct args *a, const char *key)
{
	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->k[i], key))
			return a->v[i];
	return NULL;
}

/* Append "property X should not exist" for keys not in allowed. */
static void check_unknown(const struct args *a, const char *const *allowed,
	size_t n_allowed, json_t *msgs)
{
	for (int i = 0; i < a->n; i++) {
		bool ok = false;
		for (size_t j = 0; j < n_allowed && !ok; j++)
			ok = !strcmp(a->k[i], allowed[j]);
		if (!ok) {
			char *m = xasprintf("property %.100s should not exist",
				a->k[i]);
			json_array_append_new(msgs, json_string(m));
			free(m);
		}
	}
}

/* A finite number within +-1e15 (epoch ms and page numbers fit). */
static bool parse_num(const char *s, double *out)
{
	char *end;
	if (!s || !*s)
		return false;
	*out = strtod(s, &end);
	return *end == '\0' && *out >= -1e15 && *out <= 1e15;
}

static void msgf(json_t *msgs, const char *fmt, const char *name)
{
	char *m = xasprintf(fmt, name);
	json_array_append_new(msgs, json_string(m));
	free(m);
}

/* Validate an integer argument in [lo, hi]; default when absent. */
static int int_arg(const struct args *a, const char *name, int lo, int hi,
	int dflt, json_t *msgs)
{
	const char *s = arg(a, name);
	double v;
	if (!s)
		return dflt;
	if (!parse_num(s, &v)) {
		msgf(msgs,
			"%s must be a number conforming to the specified "
			"constraints",
			name);
		return dflt;
	}
	if (v < lo) {
		char *m = xasprintf("%s must not be less than %d", name, lo);
		json_array_append_new(msgs, json_string(m));
		free(m);
		return dflt;
	}
	if (v > hi) {
		char *m = xasprintf("%s must not be greater than %d", name, hi);
		json_array_append_new(msgs, json_string(m));
		free(m);
		return dflt;
	}
	if (v != (double)(long)v) {
		msgf(msgs, "%s must be an integer number", name);
		return dflt;
	}
	return (int)v;
}

/* Validate an enum argument; returns the index or -1 (absent/invalid). */
static int enum_arg(const struct args *a, const char *name,
	const char *const *vals, size_t n, const char *list, json_t *msgs)
{
	const char *s = arg(a, name);
	if (!s)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, vals[i]))
			return (int)i;
	char *m = xasprintf("%s must be one of the following values: %s", name,
		list);
	json_array_append_new(msgs, json_string(m));
	free(m);
	return -1;
}

static const char *const ACTION_TYPES[] = { "CALL_TRANSFER", "DATA_EXTRACTION",
	"IN_CALL_DATA_EXTRACTION", "WORKFLOW_TRIGGER", "SMS",
	"APPOINTMENT_BOOKING", "CUSTOM_ACTION", "KNOWLEDGE_BASE" };

static void check_action_types(const char *s, json_t *msgs)
{
	char *copy = xstrdup(s), *save = NULL;
	bool bad = !*s;
	for (char *t = strtok_r(copy, ",", &save); t && !bad;
		t = strtok_r(NULL, ",", &save)) {
		bool ok = false;
		for (size_t i = 0; i < CV_ARRAY_LEN(ACTION_TYPES); i++)
			ok = ok || !strcmp(t, ACTION_TYPES[i]);
		bad = !ok;
	}
	free(copy);
	if (bad)
		json_array_append_new(msgs,
			json_string(
				"each value in "
				"actionType must be one of the following values: "
				"CALL_TRANSFER, DATA_EXTRACTION, IN_CALL_DATA_EXTRACTION, "
				"WORKFLOW_TRIGGER, SMS, APPOINTMENT_BOOKING, "
				"CUSTOM_ACTION, KNOWLEDGE_BASE"));
}

static void check_location(const struct args *a, json_t *msgs)
{
	const char *l = arg(a, "locationId");
	if (!l || !*l)
		json_array_append_new(msgs,
			json_string("locationId should not be empty"));
}

static void check_dates(const struct args *a, struct sim_filter *f,
	json_t *msgs)
{
	const char *s = arg(a, "startDate"), *e = arg(a, "endDate");
	double sv = 0, ev = 0;
	if (!s && !e)
		return;
	if (!s || !e) {
		json_array_append_new(msgs,
			json_string(
				"startDate and endDate must be provided together"));
		return;
	}
	bool ok = true;
	if (!parse_num(s, &sv)) {
		msgf(msgs,
			"%s must be a number conforming to the specified "
			"constraints",
			"startDate");
		ok = false;
	}
	if (!parse_num(e, &ev)) {
		msgf(msgs,
			"%s must be a number conforming to the specified "
			"constraints",
			"endDate");
		ok = false;
	}
	if (ok && sv >= ev) {
		json_array_append_new(msgs,
			json_string("startDate must be less than endDate"));
		ok = false;
	}
	f->has_range = ok;
	f->start_ms = (int64_t)sv;
	f->end_ms = (int64_t)ev;
}

/* The range a request's bounds select under the server's quirks. */
static void quirk_range(const struct quirks *q, struct sim_filter *f)
{
	if (f->has_range)
		quirks_dates(q, &f->start_ms, &f->end_ms);
}

/* ---- routes (all run with h->lock held) ---- */

struct ctx {
	struct hlsim *h;
	const struct args *a;
	int loc; /* the token's location */
	int64_t now;
	struct reply *r;
};

static void page_body(struct ctx *c, const struct sim_filter *f, int page,
	int asked)
{
	struct simdata *sd = c->h->sd;
	struct faults *fl = &c->h->faults;
	const struct quirks *qk = &c->h->quirks;
	int page_size = qk->page_size ? qk->page_size : asked;
	size_t *idx, n;
	simdata_query(sd, f, &idx, &n);
	int serve_page = page;
	if (page > 1 && faults_roll(fl, F_REPEAT))
		serve_page = page - 1;
	json_t *arr = json_array();
	size_t from = (size_t)(serve_page - 1) * (size_t)page_size;
	if (!faults_roll(fl, F_EMPTY))
		for (size_t k = from; k < n && k < from + (size_t)page_size;
			k++)
			json_array_append_new(arr,
				quirks_call(qk,
					simdata_serve(sd, idx[k], c->now)));
	free(idx);
	json_int_t total = (json_int_t)n;
	if (qk->total_all) {
		struct sim_filter all = { .loc = f->loc };
		simdata_query(sd, &all, &idx, &n);
		free(idx);
		total = (json_int_t)n;
	}
	if (faults_roll(fl, F_DRIFT))
		total += sim_range(&fl->rng, 0, 1)
				 ? sim_range(&fl->rng, 1, 5)
				 : -sim_range(&fl->rng, 1,
					   total < 5 ? total : 5);
	int echo = page;
	if (faults_roll(fl, F_NOECHO))
		echo = page > 1 ? 1 : page + 1;
	c->r->status = 200;
	c->r->body = dump_free(json_pack("{s:I,s:i,s:o,s:o}", "total", total,
		"page", echo, "pageSize",
		quirks_echo(qk, asked, page_size, json_array_size(arr)),
		"callLogs", arr));
}

static void route_call_logs(struct ctx *c)
{
	static const char *const allowed[] = { "locationId", "agentId",
		"contactId", "callType", "startDate", "endDate", "actionType",
		"sortBy", "sort", "page", "pageSize" };
	static const char *const sort_by[] = { "createdAt", "duration" };
	static const char *const sort[] = { "ascend", "descend" };
	static const char *const call_type[] = { "LIVE", "TRIAL" };
	if (faults_roll(&c->h->faults, F_EXAMPLE)) {
		c->r->status = 200;
		c->r->body = xstrdup(EXAMPLE_PAGE);
		return;
	}
	json_t *msgs = json_array();
	struct sim_filter f = { .loc = c->loc };
	check_unknown(c->a, allowed, CV_ARRAY_LEN(allowed), msgs);
	check_location(c->a, msgs);
	int page = int_arg(c->a, "page", 1, 1000000, 1, msgs);
	int page_size = int_arg(c->a, "pageSize", 1, 50, 10, msgs);
	check_dates(c->a, &f, msgs);
	int sb = enum_arg(c->a, "sortBy", sort_by, 2, "duration, createdAt",
		msgs);
	int so = enum_arg(c->a, "sort", sort, 2, "ascend, descend", msgs);
	int ct = enum_arg(c->a, "callType", call_type, 2, "LIVE, TRIAL", msgs);
	f.agent_id = arg(c->a, "agentId");
	f.contact_ids = arg(c->a, "contactId");
	f.action_types = arg(c->a, "actionType");
	if (f.action_types)
		check_action_types(f.action_types, msgs);
	if (json_array_size(msgs)) {
		set_422(c->r, msgs);
		return;
	}
	json_decref(msgs);
	f.call_type = ct + 1;
	f.sort_by = sb < 0 ? 0 : sb;
	f.ascend = sb >= 0 && so == 0; /* default: newest first */
	if (c->h->quirks.ignore_sort) {
		f.sort_by = 0;
		f.ascend = false;
	}
	quirk_range(&c->h->quirks, &f);
	page_body(c, &f, page, page_size);
}

static void route_call_log(struct ctx *c, const char *id)
{
	static const char *const allowed[] = { "locationId" };
	json_t *msgs = json_array();
	check_unknown(c->a, allowed, 1, msgs);
	check_location(c->a, msgs);
	if (json_array_size(msgs)) {
		set_422(c->r, msgs);
		return;
	}
	json_decref(msgs);
	long i = simdata_find_call(c->h->sd, c->loc, id);
	if (i < 0) {
		set_error(c->r, 404, "Call log not found");
		return;
	}
	c->r->status = 200;
	json_t *call = quirks_call(&c->h->quirks,
		simdata_serve(c->h->sd, (size_t)i, c->now));
	c->r->body = json_dumps(call, JSON_COMPACT);
	json_decref(call);
}

static void route_agents(struct ctx *c)
{
	static const char *const allowed[] = { "locationId", "page", "pageSize",
		"query" };
	json_t *msgs = json_array();
	check_unknown(c->a, allowed, CV_ARRAY_LEN(allowed), msgs);
	check_location(c->a, msgs);
	int page = int_arg(c->a, "page", 1, 5000, 1, msgs);
	int page_size = int_arg(c->a, "pageSize", 1, 50, 10, msgs);
	if (json_array_size(msgs)) {
		set_422(c->r, msgs);
		return;
	}
	json_decref(msgs);
	switch (c->h->quirks.agents) {
	case AGENTS_SCOPE:
		set_error(c->r, 401,
			"The token is not authorized for this "
			"scope.");
		return;
	case AGENTS_5XX: set_error(c->r, 500, "Internal server error"); return;
	case AGENTS_SCHEMA:
		/* the spec's own example fails its schema: an action
		 * without `id`, and most required fields missing */
		c->r->status = 200;
		c->r->body = xstrdup(
			"{\"total\":1,\"page\":1,\"pageSize\":"
			"10,\"agents\":[{\"id\":\"66e0aa11bb22cc33dd44ee55\","
			"\"agentName\":\"Front desk\",\"actions\":[{"
			"\"actionType\":\"SMS\",\"name\":\"Send link\"}]}]}");
		return;
	case AGENTS_OK: break;
	}
	const char *q = arg(c->a, "query");
	struct sim_location *l = &c->h->sd->locs[c->loc];
	json_t *arr = json_array();
	int total = 0;
	for (int j = 0; j < l->n_agents; j++) {
		struct sim_agent *ag = &l->agents[j];
		const char *name = json_string_value(
			json_object_get(ag->obj, "agentName"));
		if (ag->deleted || (q && *q && !strcasestr(name, q)))
			continue;
		if (total >= (page - 1) * page_size && total < page * page_size)
			json_array_append(arr, ag->obj);
		total++;
	}
	c->r->status = 200;
	c->r->body = dump_free(json_pack("{s:i,s:i,s:i,s:o}", "total", total,
		"page", page, "pageSize", page_size, "agents", arr));
}

static void route_agent(struct ctx *c, const char *id)
{
	struct sim_location *l = &c->h->sd->locs[c->loc];
	for (int j = 0; j < l->n_agents; j++) {
		if (!l->agents[j].deleted && !strcmp(l->agents[j].id, id)) {
			c->r->status = 200;
			c->r->body = json_dumps(l->agents[j].obj, JSON_COMPACT);
			return;
		}
	}
	set_error(c->r, 404, "Agent not found");
}

static void not_found(struct reply *r, const char *method, const char *url)
{
	char *m = xasprintf("Cannot %.10s %.200s", method, url);
	set_error(r, 404, m);
	free(m);
}

/* false (and a 401 in r) unless the Version header is a known value. */
static bool check_version(struct MHD_Connection *conn, struct reply *r)
{
	const char *ver = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		"Version");
	if (!ver) {
		set_error(r, 401, "version header was not found.");
		return false;
	}
	for (size_t i = 0; i < CV_ARRAY_LEN(VERSIONS); i++)
		if (!strcmp(ver, VERSIONS[i]))
			return true;
	set_error(r, 401, "version header is invalid");
	return false;
}

/* The bearer token of a request, or NULL. */
static const char *bearer(struct MHD_Connection *conn)
{
	const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_AUTHORIZATION);
	return authz && !strncasecmp(authz, "Bearer ", 7) ? authz + 7 : NULL;
}

/* Count the request against its buckets; false (and a 429) when over. */
static bool rate_limit(struct hlsim *h, const char *key, enum auth_kind kind,
	int loc, int64_t now, struct reply *r)
{
	char bkey[64], dkey[64];
	snprintf(bkey, sizeof(bkey), "%s@%d", key, loc);
	snprintf(dkey, sizeof(dkey), "%s@%d", kind == AUTH_PIT ? "pits" : "app",
		loc);
	ratelimit_hit(h->rl, bkey, dkey, cv_mono_ms(), now / 86400000, &r->rl);
	if (r->rl.allowed && !faults_storm(&h->faults))
		return true;
	if (r->rl.allowed)
		r->rl.remaining = 0; /* a storm looks like a spent window */
	set_error(r, 429, "Too Many Requests");
	return false;
}

/* The recording and transcription routes (media.c). */
static bool route_media(struct ctx *c, const char *url)
{
	struct media_answer a;
	if (!media_route(c->h, c->loc, url, c->now, &a))
		return false;
	c->r->status = a.status;
	c->r->body = a.body;
	c->r->content_type = a.content_type;
	c->r->disposition = a.disposition;
	c->r->wav = a.wav;
	c->r->wav_len = a.wav_len;
	return true;
}

static void route(struct ctx *c, const char *method, const char *url)
{
	const char *p = url;
	if (strcmp(method, "GET"))
		not_found(c->r, method, url);
	else if (!strncmp(p, "/conversations/", 15) && route_media(c, p))
		;
	else if (!strcmp(p, "/voice-ai/dashboard/call-logs"))
		route_call_logs(c);
	else if (!strncmp(p, "/voice-ai/dashboard/call-logs/", 30) && p[30] &&
		 !strchr(p + 30, '/'))
		route_call_log(c, p + 30);
	else if (!strcmp(p, "/voice-ai/agents"))
		route_agents(c);
	else if (!strncmp(p, "/voice-ai/agents/", 17) && p[17] &&
		 !strchr(p + 17, '/'))
		route_agent(c, p + 17);
	else if (!strcmp(p, "/voice-ai/dashboard/agents"))
		set_422(c->r, json_pack("[s]", "property locationId should "
					       "not exist"));
	else
		not_found(c->r, method, url);
}

/* Faults that spoil a good answer on its way out. */
static void spoil(struct hlsim *h, struct reply *r)
{
	if (r->status != 200 || r->wav || r->content_type)
		return;
	if (faults_roll(&h->faults, F_BADJSON))
		r->body[strlen(r->body) / 2] = '\0'; /* not valid JSON */
	else if (faults_roll(&h->faults, F_TRUNCATE))
		r->truncate = true;
}

static void fault_5xx(struct hlsim *h, struct reply *r)
{
	static const int codes[] = { 500, 502, 503, 504 };
	int st = codes[sim_rand(&h->faults.rng) % 4];
	set_error(r, st, st == 500 ? "Internal server error" : reason(st));
}

/* Authenticate, rate-limit, fault and route an API request. */
static void api_request(struct hlsim *h, struct MHD_Connection *conn,
	const char *method, const char *url, struct reply *r)
{
	h->api_requests++;
	int64_t now = cv_now_ms();
	simdata_tick(h->sd, now);
	if (faults_roll(&h->faults, F_RESET)) {
		r->reset = true;
		return;
	}
	if (!check_version(conn, r))
		return;
	const char *token = bearer(conn), *key = NULL;
	int loc = -1;
	enum auth_kind kind = auth_check(h->auth, token, now, &loc, &key);
	if (kind == AUTH_INVALID) {
		set_error(r, 401, "Invalid token: access token is invalid");
		return;
	}
	if (!rate_limit(h, key, kind, loc, now, r))
		return;
	if (!auth_scope_ok(h->auth, url)) {
		set_error(r, 401,
			"The token is not authorized for this scope.");
		return;
	}
	if (faults_roll(&h->faults, F_REVOKE)) {
		auth_revoke(h->auth, kind == AUTH_OAUTH ? token : NULL);
		set_error(r, 401, "Invalid token: access token is invalid");
		return;
	}
	struct args a = { .n = 0 };
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
	const char *lid = arg(&a, "locationId");
	if (a.overflow)
		set_error(r, 400, "Too many query parameters");
	else if (lid && *lid && simdata_find_location(h->sd, lid) != loc)
		set_error(r, 401,
			"The token is not authorized for this scope.");
	else if (faults_roll(&h->faults, F_5XX))
		fault_5xx(h, r);
	else {
		struct ctx c = { .h = h,
			.a = &a,
			.loc = loc,
			.now = now,
			.r = r };
		route(&c, method, url);
		spoil(h, r);
	}
}

/* ---- /__sim control endpoints ---- */

static char *stats_json(struct hlsim *h)
{
	json_t *st = json_object();
	for (int i = 100; i < 600; i++) {
		if (h->status_count[i]) {
			char k[8];
			snprintf(k, sizeof(k), "%d", i);
			json_object_set_new(st, k,
				json_integer(h->status_count[i]));
		}
	}
	json_t *fj = json_object();
	for (int k = 0; k < F__COUNT; k++)
		json_object_set_new(fj, faults_name((enum fault_kind)k),
			json_integer(h->faults.fired[k]));
	long issued, refreshed, rejected;
	auth_counts(h->auth, &issued, &refreshed, &rejected);
	struct rl_result d;
	ratelimit_defaults(h->rl, &d);
	struct emit_tally et = { 0 };
	if (h->emitter)
		emitter_tally(h->emitter, &et);
	return dump_free(json_pack("{s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:o,s:o,"
				   "s:I,s:I,s:I,s:{s:i,s:i,s:i},s:i,s:i,"
				   "s:{s:i,s:i,s:i,s:i,s:i,s:i}}",
		"requests", (int)h->requests, "apiRequests",
		(int)h->api_requests, "served429", (int)h->served_429,
		"maxWindowRequests", (json_int_t)ratelimit_max_seen(h->rl),
		"burst", (json_int_t)d.max, "windowMs",
		(json_int_t)d.interval_ms, "daily", (json_int_t)d.limit_daily,
		"status", st, "faults", fj, "calls", (json_int_t)h->sd->n_calls,
		"arrived", (json_int_t)h->sd->arrived, "mutations",
		(json_int_t)h->sd->mutations, "oauth", "issued", (int)issued,
		"refreshed", (int)refreshed, "rejected", (int)rejected,
		"resets", (int)h->resets, "webhooks", (int)h->webhooks,
		"emitted", "sent", (int)et.sent, "ok", (int)et.ok, "retried",
		(int)et.retried, "failed", (int)et.failed, "dropped",
		(int)et.dropped, "duplicates", (int)et.dups));
}

static char *info_json(struct hlsim *h)
{
	struct simdata *sd = h->sd;
	json_t *locs = json_array();
	for (int i = 0; i < sd->n_locs; i++) {
		struct sim_location *l = &sd->locs[i];
		json_t *ags = json_array();
		for (int j = 0; j < l->n_agents; j++)
			json_array_append_new(ags,
				json_pack("{s:s,s:O,s:b}", "id",
					l->agents[j].id, "agentName",
					json_object_get(l->agents[j].obj,
						"agentName"),
					"deleted", l->agents[j].deleted));
		char code[40];
		snprintf(code, sizeof(code), "code-%s", l->id);
		json_array_append_new(locs,
			json_pack("{s:s,s:s,s:s,s:o}", "id", l->id, "pit",
				l->pit, "authCode", code, "agents", ags));
	}
	char s[32], e[32];
	cv_format_iso8601(sd->o.start_ms, s);
	cv_format_iso8601(sd->end_ms, e);
	char *out = dump_free(json_pack("{s:i,s:s,s:s,s:s,s:s,s:I,s:I,s:o}",
		"port", (int)h->port, "clientId", h->client_id, "clientSecret",
		h->client_secret, "start", s, "end", e, "startMs",
		(json_int_t)sd->o.start_ms, "endMs", (json_int_t)sd->end_ms,
		"locations", locs));
	return out;
}

char *api_info_json(struct hlsim *h)
{
	pthread_mutex_lock(&h->lock);
	char *out = info_json(h);
	pthread_mutex_unlock(&h->lock);
	return out;
}

static int locid_of(void *ctx, const char *id)
{
	return simdata_find_location(((struct hlsim *)ctx)->sd, id);
}

static const char *loc_id(void *ctx, int loc)
{
	return ((struct hlsim *)ctx)->sd->locs[loc].id;
}

/*
 * A webhook receiver for testing the emitter: counts deliveries; query
 * `fail429=N` answers 429 to the first N deliveries, `status=S` always S.
 */
static void webhook_sink(struct hlsim *h, struct MHD_Connection *conn,
	struct req *q, struct reply *r)
{
	const char *f429 = MHD_lookup_connection_value(conn,
		MHD_GET_ARGUMENT_KIND, "fail429");
	const char *st = MHD_lookup_connection_value(conn,
		MHD_GET_ARGUMENT_KIND, "status");
	h->webhooks++;
	if (!MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    "x-ghl-signature") ||
		q->too_big) {
		set_error(r, 400, "missing x-ghl-signature");
	} else if (f429 && h->webhooks <= atol(f429)) {
		set_error(r, 429, "Too Many Requests");
	} else if (st && atoi(st) >= 200 && atoi(st) < 600) {
		set_error(r, atoi(st), reason(atoi(st)));
	} else {
		r->status = 200;
		r->body = xstrdup("{\"ok\":true}");
	}
}

/* Replace the quirks from the form field `spec`. */
static void set_quirks(struct hlsim *h, struct req *q, struct reply *r)
{
	char *spec = auth_form_get(q->body.data ? q->body.data : "", "spec");
	struct quirks nq;
	char *err = NULL;
	if (q->too_big || quirks_parse(&nq, spec ? spec : "", &err)) {
		set_error(r, 400, err ? err : "bad quirk spec");
	} else {
		h->quirks = nq;
		r->status = 200;
		r->body = xstrdup("{\"quirks\":\"set\"}");
	}
	free(err);
	free(spec);
}

/* Replace the fault settings from the form field `spec` (counters kept). */
static void set_faults(struct hlsim *h, struct req *q, struct reply *r)
{
	char *spec = auth_form_get(q->body.data ? q->body.data : "", "spec");
	struct faults nf;
	char *err = NULL;
	if (q->too_big ||
		faults_parse(&nf, spec ? spec : "", h->faults.rng, &err)) {
		set_error(r, 400, err ? err : "bad fault spec");
	} else {
		memcpy(nf.fired, h->faults.fired, sizeof(nf.fired));
		nf.api_count = h->faults.api_count;
		nf.storm_next = nf.api_count + 1;
		h->faults = nf;
		r->status = 200;
		r->body = xstrdup("{\"faults\":\"set\"}");
	}
	free(err);
	free(spec);
}

/*
 * Agency-wide installs: POST /oauth/locationToken, GET
 * /oauth/installedLocations, and POST /__sim/install (form locationId,
 * installed=0|1). false when url is none of them.
 */
static bool agency_request(struct hlsim *h, struct MHD_Connection *conn,
	bool post, const char *url, struct req *q, struct reply *r)
{
	const char *ver = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		"Version");
	const char *body = q->body.data ? q->body.data : "";
	if (post && !strcmp(url, "/oauth/locationToken")) {
		r->status = auth_location_token(h->auth, bearer(conn), ver,
			body, cv_now_ms(), locid_of, h, &r->body);
	} else if (!post && !strcmp(url, "/oauth/installedLocations")) {
		const char *sk = MHD_lookup_connection_value(conn,
			MHD_GET_ARGUMENT_KIND, "skip");
		const char *li = MHD_lookup_connection_value(conn,
			MHD_GET_ARGUMENT_KIND, "limit");
		r->status = auth_installed_locations(h->auth, bearer(conn), ver,
			MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
				"companyId"),
			MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
				"appId"),
			sk ? atol(sk) : 0, li ? atol(li) : 20, h->sd->n_locs,
			loc_id, h, cv_now_ms(), &r->body);
	} else if (post && !strcmp(url, "/__sim/install")) {
		char *lid = auth_form_get(body, "locationId");
		char *yes = auth_form_get(body, "installed");
		int loc = lid ? locid_of(h, lid) : -1;
		if (loc < 0) {
			set_error(r, 400, "unknown locationId");
		} else {
			auth_set_installed(h->auth, loc, !yes || atoi(yes));
			r->status = 200;
			r->body = xstrdup("{\"install\":\"set\"}");
		}
		free(lid);
		free(yes);
	} else {
		return false;
	}
	return true;
}

static void control_or_oauth(struct hlsim *h, struct MHD_Connection *conn,
	const char *method, const char *url, struct req *q, struct reply *r)
{
	bool post = !strcmp(method, "POST");
	if (agency_request(h, conn, post, url, q, r))
		return;
	if (post && !strcmp(url, "/oauth/token")) {
		if (q->too_big) {
			set_error(r, 413, "Payload Too Large");
			return;
		}
		if (faults_roll(&h->faults, F_OAUTH5XX)) {
			set_error(r, 503, reason(503));
			return;
		}
		r->status = auth_token_endpoint(h->auth,
			q->body.data ? q->body.data : "", cv_now_ms(), locid_of,
			loc_id, h, &r->body);
	} else if (!strcmp(url, "/__sim/stats")) {
		r->status = 200;
		r->body = stats_json(h);
	} else if (!strcmp(url, "/__sim/dump")) {
		size_t n;
		simdata_tick(h->sd, cv_now_ms());
		r->status = 200;
		r->body = simdata_dump_mem(h->sd, &n);
		r->content_type = "application/x-ndjson";
	} else if (!strcmp(url, "/__sim/info")) {
		r->status = 200;
		r->body = info_json(h);
	} else if (post && !strcmp(url, "/__sim/fault")) {
		set_faults(h, q, r);
	} else if (post && !strcmp(url, "/__sim/quirk")) {
		set_quirks(h, q, r);
	} else if (post && !strcmp(url, "/__sim/arrivals-stop")) {
		/* no more arrivals: the calls held from now on are fixed */
		simdata_tick(h->sd, cv_now_ms());
		h->sd->o.arrival_rate = 0;
		r->status = 200;
		r->body = xasprintf("{\"arrived\":%zu}", h->sd->arrived);
	} else if (post && !strcmp(url, "/__sim/webhook")) {
		webhook_sink(h, conn, q, r);
	} else if (post && !strcmp(url, "/__sim/reset")) {
		h->requests = h->api_requests = h->served_429 = h->resets = 0;
		h->webhooks = 0;
		memset(h->status_count, 0, sizeof(h->status_count));
		memset(h->faults.fired, 0, sizeof(h->faults.fired));
		ratelimit_reset(h->rl);
		r->status = 200;
		r->body = xstrdup("{\"reset\":true}");
	} else {
		not_found(r, method, url);
	}
}

/* ---- MHD glue ---- */

struct partial {
	char *body;
	size_t cut;
};

static ssize_t partial_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct partial *p = cls;
	if (pos >= p->cut)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = p->cut - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, p->body + pos, n);
	return (ssize_t)n;
}

static void partial_free(void *cls)
{
	struct partial *p = cls;
	free(p->body);
	free(p);
}

static void add_header(void *resp, const char *name, const char *value)
{
	MHD_add_response_header(resp, name, value);
}

static enum MHD_Result send_reply(struct hlsim *h, struct MHD_Connection *conn,
	struct reply *r)
{
	size_t n = r->body ? strlen(r->body) : 0;
	struct MHD_Response *resp;
	if (r->wav) {
		/* streamed: a long recording is never held whole */
		resp = MHD_create_response_from_callback(r->wav_len, 64 * 1024,
			media_stream_read, r->wav, media_stream_free);
		r->wav = NULL;
	} else if (r->truncate && n > 1) {
		struct partial *p = xmalloc(sizeof(*p));
		p->body = r->body;
		p->cut = n / 2;
		r->body = NULL;
		resp = MHD_create_response_from_callback(n, 4096, partial_read,
			p, partial_free);
	} else {
		resp = MHD_create_response_from_buffer(n, r->body,
			MHD_RESPMEM_MUST_FREE);
		r->body = NULL;
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		r->content_type ? r->content_type
				: "application/json; charset=utf-8");
	if (r->disposition)
		MHD_add_response_header(resp, "Content-Disposition",
			r->disposition);
	ratelimit_headers(h->rl, &r->rl, r->status, add_header, resp);
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status,
		resp);
	MHD_destroy_response(resp);
	return ret;
}

static bool is_api_path(const char *url)
{
	return strncmp(url, "/__sim/", 7) && strncmp(url, "/oauth/", 7);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
	const char *url, const char *method, const char *version,
	const char *upload, size_t *upload_size, void **con_cls)
{
	struct hlsim *h = cls;
	(void)version;
	struct req *q = *con_cls;
	if (!q) {
		q = xcalloc(1, sizeof(*q));
		buf_init(&q->body);
		*con_cls = q;
		return MHD_YES;
	}
	if (*upload_size) {
		if (q->body.len + *upload_size > MAX_BODY)
			q->too_big = true;
		else
			buf_append(&q->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	struct reply r = { .status = 500 };
	ratelimit_defaults(h->rl, &r.rl);
	bool api = is_api_path(url);
	pthread_mutex_lock(&h->lock);
	int latency = api ? h->faults.latency_ms : 0;
	if (latency > 0)
		h->faults.fired[F_LATENCY]++;
	pthread_mutex_unlock(&h->lock);
	if (latency > 0)
		usleep((useconds_t)latency * 1000);
	pthread_mutex_lock(&h->lock);
	h->requests++;
	if (strlen(url) > MAX_URL)
		set_error(&r, 414, "URI Too Long");
	else if (api)
		api_request(h, conn, method, url, &r);
	else
		control_or_oauth(h, conn, method, url, q, &r);
	if (r.reset) {
		h->resets++;
	} else {
		if (r.status >= 100 && r.status < 600)
			h->status_count[r.status]++;
		if (r.status == 429)
			h->served_429++;
	}
	pthread_mutex_unlock(&h->lock);
	if (r.reset) {
		free(r.body);
		return MHD_NO;
	}
	if (!r.body && !r.wav)
		set_error(&r, r.status, reason(r.status));
	return send_reply(h, conn, &r);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct req *q = *con_cls;
	if (q) {
		buf_finish(&q->body);
		free(q);
		*con_cls = NULL;
	}
}

struct api_server *api_start(struct hlsim *h, uint16_t port, uint16_t *bound,
	char **errmsg)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d =
		MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
					 MHD_USE_THREAD_PER_CONNECTION,
			port, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR,
			(struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
			completed, h, MHD_OPTION_CONNECTION_TIMEOUT,
			(unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
			(unsigned)256, MHD_OPTION_END);
	if (!d) {
		cv_error(errmsg, CV_EIO, "cannot listen on 127.0.0.1:%u",
			(unsigned)port);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d,
		MHD_DAEMON_INFO_BIND_PORT);
	*bound = info ? info->port : port;
	pthread_mutex_lock(&h->lock);
	h->port = *bound;
	h->started_ms = cv_now_ms();
	pthread_mutex_unlock(&h->lock);
	struct api_server *s = xcalloc(1, sizeof(*s));
	s->d = d;
	return s;
}

void api_stop(struct api_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
