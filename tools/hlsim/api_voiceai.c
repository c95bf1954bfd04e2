/*
 * api_voiceai.c — hlsim's Voice AI routes: GET
 * /voice-ai/dashboard/call-logs (its query validated as the real API
 * does, pages shaped by quirks and faults), one call log, and the agents
 * of a location (api.h).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "common.h"
#include "util.h"

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

/* ---- query arguments ---- */

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
	const char *s = api_arg(a, name);
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
	const char *s = api_arg(a, name);
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
	const char *l = api_arg(a, "locationId");
	if (!l || !*l)
		json_array_append_new(msgs,
			json_string("locationId should not be empty"));
}

static void check_dates(const struct args *a, struct sim_filter *f,
	json_t *msgs)
{
	const char *s = api_arg(a, "startDate"), *e = api_arg(a, "endDate");
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
	c->r->body = api_dump_free(json_pack("{s:I,s:i,s:o,s:o}", "total",
		total, "page", echo, "pageSize",
		quirks_echo(qk, asked, page_size, json_array_size(arr)),
		"callLogs", arr));
}

void api_route_call_logs(struct ctx *c)
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
	f.agent_id = api_arg(c->a, "agentId");
	f.contact_ids = api_arg(c->a, "contactId");
	f.action_types = api_arg(c->a, "actionType");
	if (f.action_types)
		check_action_types(f.action_types, msgs);
	if (json_array_size(msgs)) {
		api_set_422(c->r, msgs);
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

void api_route_call_log(struct ctx *c, const char *id)
{
	static const char *const allowed[] = { "locationId" };
	json_t *msgs = json_array();
	check_unknown(c->a, allowed, 1, msgs);
	check_location(c->a, msgs);
	if (json_array_size(msgs)) {
		api_set_422(c->r, msgs);
		return;
	}
	json_decref(msgs);
	long i = simdata_find_call(c->h->sd, c->loc, id);
	if (i < 0) {
		api_set_error(c->r, 404, "Call log not found");
		return;
	}
	c->r->status = 200;
	json_t *call = quirks_call(&c->h->quirks,
		simdata_serve(c->h->sd, (size_t)i, c->now));
	c->r->body = json_dumps(call, JSON_COMPACT);
	json_decref(call);
}

void api_route_agents(struct ctx *c)
{
	static const char *const allowed[] = { "locationId", "page", "pageSize",
		"query" };
	json_t *msgs = json_array();
	check_unknown(c->a, allowed, CV_ARRAY_LEN(allowed), msgs);
	check_location(c->a, msgs);
	int page = int_arg(c->a, "page", 1, 5000, 1, msgs);
	int page_size = int_arg(c->a, "pageSize", 1, 50, 10, msgs);
	if (json_array_size(msgs)) {
		api_set_422(c->r, msgs);
		return;
	}
	json_decref(msgs);
	switch (c->h->quirks.agents) {
	case AGENTS_SCOPE:
		api_set_error(c->r, 401,
			"The token is not authorized for this "
			"scope.");
		return;
	case AGENTS_5XX:
		api_set_error(c->r, 500, "Internal server error");
		return;
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
	const char *q = api_arg(c->a, "query");
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
	c->r->body = api_dump_free(json_pack("{s:i,s:i,s:i,s:o}", "total",
		total, "page", page, "pageSize", page_size, "agents", arr));
}

void api_route_agent(struct ctx *c, const char *id)
{
	struct sim_location *l = &c->h->sd->locs[c->loc];
	for (int j = 0; j < l->n_agents; j++) {
		if (!l->agents[j].deleted && !strcmp(l->agents[j].id, id)) {
			c->r->status = 200;
			c->r->body = json_dumps(l->agents[j].obj, JSON_COMPACT);
			return;
		}
	}
	api_set_error(c->r, 404, "Agent not found");
}
