/* console_query.c — a search's filters and query from the request
 * (checked by search_filters_parse, as the CLI's are), and the answers
 * built on them: /api/search, /api/export, POST /api/holds
 * (console_int.h). */
#include "console_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calllog.h"
#include "export.h"
#include "store/store_audit.h"
#include "store/store_holds.h"
#include "store/store_retention.h"
#include "store/store_search.h"
#include "store/store_settings.h"

/* ---- search and export ------------------------------------------- */


bool cx_bad_arg(struct ctx *x, const char *fmt, const char *v)
{
	char *msg = xasprintf(fmt, v);
	cx_reply_error(x, 400, msg);
	free(msg);
	return false;
}

/* Without a tz argument times are read in the store's zone (callvault
 * config set timezone), as the CLI reads them: the same window gives
 * the same calls everywhere. false after a 500. */
static bool default_zone(struct ctx *x, struct search_filter_arg *a)
{
	char *name = NULL, *err = NULL;
	if (store_timezone(x->s, &name, &err) != CV_OK) {
		cx_reply_error(x, 500,
			err ? err
			    : "the store's time zone "
			      "cannot be read");
		free(err);
		return false;
	}
	if (strcmp(name, "UTC") == 0) {
		free(name);
		return true;
	}
	a->p = cx_own(x, name);
	a->len = strlen(name);
	return true;
}

/* The zone a request's times are read in, for its answer. */
static const char *zone_of(const struct query *qy)
{
	return qy->sf.given[SFK_TZ] ? qy->sf.given[SFK_TZ] : "UTC";
}

/* The filters of the query string (or of the form, for a hold by
 * criteria), checked by the parser `callvault search` uses; false after
 * a 400 naming the filter. Those given go into qy->detail as given, and
 * the zone the times were read in as tz. */
static bool parse_filters(struct ctx *x, struct query *qy, bool in_form)
{
	struct search_filter_arg a[SFK_N];
	for (int k = 0; k < SFK_N; k++)
		if (!cx_filter_value(x, in_form, search_filter_keys[k], &a[k]))
			return false;
	if (!a[SFK_TZ].p && !default_zone(x, &a[SFK_TZ]))
		return false;
	char *err = NULL;
	if (search_filters_parse(&qy->sf, a, &err) != CV_OK) {
		cx_bad_arg(x, "%s", err ? err : "bad filter");
		free(err);
		return false;
	}
	for (int k = 0; k < SFK_N; k++) {
		const char *v = k == SFK_NUMBER && a[k].p ? qy->sf.f.number_e164
				: k == SFK_ACTION         ? qy->sf.f.action
							  : a[k].p;
		if (k == SFK_TRIAL && qy->sf.f.trial >= 0)
			json_object_set_new(qy->detail, "trial",
				json_boolean(qy->sf.f.trial));
		else if (v)
			json_object_set_new(qy->detail, search_filter_keys[k],
				json_string(v));
	}
	return true;
}

/* Filters and the query text; false after a 400 (a syntax error names
 * the position, never an empty result). */
static bool parse_query(struct ctx *x, struct query *qy)
{
	memset(qy, 0, sizeof(*qy));
	qy->detail = json_object();
	if (!parse_filters(x, qy, false))
		return false;
	qy->q = cx_arg(x, "q");
	if (!qy->q && x->req->get(x->req->ctx, CONSOLE_ARG, "q") &&
		*x->req->get(x->req->ctx, CONSOLE_ARG, "q"))
		return cx_bad_arg(x, "%s", "the query is not valid UTF-8");
	if (!qy->q)
		return true;
	if (strlen(qy->q) > SEARCH_MAX_QUERY)
		return cx_bad_arg(x, "%s", "the query is too long");
	json_object_set_new(qy->detail, "query", json_string(qy->q));
	int pos = 0;
	char *err = NULL;
	if (search_parse(qy->q, &qy->plan, &pos, &err) != CV_OK) {
		cx_reply_json(x, 400,
			json_pack("{s:s,s:s,s:i}", "error", "syntax error",
				"message", err ? err : "", "position", pos));
		free(err);
		return false;
	}
	qy->have_plan = true;
	return true;
}

static void query_finish(struct query *qy)
{
	if (qy->have_plan)
		search_plan_finish(&qy->plan);
	json_decref(qy->detail);
}

bool cx_int_arg(struct ctx *x, const char *key, long min, long max, long def,
	long *out)
{
	const char *v = cx_arg(x, key);
	*out = def;
	if (!v)
		return true;
	char *end;
	long n = strtol(v, &end, 10);
	if (end == v || *end || n < min || n > max) {
		char *msg = xasprintf("%s must be a number from %ld to %ld",
			key, min, max);
		cx_reply_error(x, 400, msg);
		free(msg);
		return false;
	}
	*out = n;
	return true;
}

/* Text with marks, as {text, ranges}. */
void cx_put_marked(json_t *o, const char *key, const char *rkey,
	const char *marked)
{
	size_t *r = NULL, nr = 0;
	char *t = search_render(marked ? marked : "", SEARCH_STYLE_PLAIN, false,
		&r, &nr);
	json_object_set_new(o, key, json_string(t));
	json_t *ranges = json_array();
	for (size_t k = 0; k < nr; k++)
		json_array_append_new(ranges,
			json_pack("[I,I]", (json_int_t)r[2 * k],
				(json_int_t)r[2 * k + 1]));
	json_object_set_new(o, rkey, ranges);
	free(r);
	free(t);
}

static json_t *hit_json(const struct store_hit *h)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", cx_jstr(h->id));
	json_object_set_new(o, "createdAt", cx_jtime(h->created_at));
	json_object_set_new(o, "locationId", cx_jstr(h->location_id));
	json_object_set_new(o, "agentId", cx_jstr(h->agent_id));
	json_object_set_new(o, "agentName", cx_jstr(h->agent_name));
	json_object_set_new(o, "contactId", cx_jstr(h->contact_id));
	json_object_set_new(o, "fromNumber", cx_jstr(h->from_number));
	json_object_set_new(o, "duration",
		h->has_duration ? json_real(h->duration) : json_null());
	cx_put_marked(o, "snippet", "snippetRanges", h->snippet);
	return o;
}

static const char *const sort_names[] = { "relevance", "newest", "oldest" };

static int purged_cb(const struct store_purged_archive *a, void *arg)
{
	json_array_append_new(arg,
		json_pack("{s:s,s:s,s:s,s:i,s:I}", "path", a->path,
			"locationId", a->location_id, "month", a->month, "seq",
			a->seq, "calls", (json_int_t)a->calls));
	return 0;
}

/* The calls purge removed from the months the search covers, and the
 * archives that hold them (null when none): a purged month is not
 * silently shorter. */
static json_t *purged_json(struct ctx *x, const struct search_filter *f,
	char **err)
{
	int64_t calls = 0;
	json_t *arr = json_array();
	if (store_ret_purged_in(x->s, f, &calls, purged_cb, arr, err) !=
			CV_OK ||
		!calls) {
		json_decref(arr);
		return calls ? NULL : json_null();
	}
	return json_pack("{s:I,s:o}", "calls", (json_int_t)calls, "archives",
		arr);
}

void cx_api_search(struct ctx *x, const char *unused)
{
	struct query qy;
	long limit, offset;
	if (!parse_query(x, &qy) ||
		!cx_int_arg(x, "limit", 1, PAGE_MAX, 20, &limit) ||
		!cx_int_arg(x, "offset", 0, 1000000, 0, &offset))
		goto out;
	struct store_search_opts so = { .plan = qy.have_plan ? &qy.plan : NULL,
		.filter = &qy.sf.f,
		.sort = STORE_SORT_NEWEST,
		.limit = limit + 1,
		.offset = offset };
	const char *sort = cx_arg(x, "sort");
	for (size_t i = 0; sort && i < CV_ARRAY_LEN(sort_names); i++)
		if (strcmp(sort, sort_names[i]) == 0)
			so.sort = (enum store_sort)i, sort = NULL;
	if (sort) {
		cx_bad_arg(x, "%s", "sort must be relevance, newest or oldest");
		goto out;
	}
	struct store_hit *hits = NULL;
	size_t n = 0;
	char *err = NULL;
	int64_t among = 0;
	so.ranked_among = &among;
	if (store_search(x->s, &so, &hits, &n, &err) != CV_OK) {
		cx_reply_error(x, 500, err ? err : "search failed");
		free(err);
		goto out;
	}
	json_t *purged = purged_json(x, &qy.sf.f, &err);
	if (!purged) {
		cx_reply_error(x, 500, err ? err : "search failed");
		free(err);
		store_hits_free(hits, n);
		goto out;
	}
	bool more = n > (size_t)limit;
	if (more)
		n = (size_t)limit;
	if (!json_is_null(purged))
		json_object_set_new(qy.detail, "purged",
			json_incref(json_object_get(purged, "calls")));
	json_object_set_new(qy.detail, "sort",
		json_string(sort_names[so.sort]));
	json_object_set_new(qy.detail, "limit", json_integer(limit));
	json_object_set_new(qy.detail, "offset", json_integer(offset));
	/* the ids shown: who searched for a call is then on record */
	json_t *shown = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(shown, json_string(hits[i].id));
	json_object_set_new(qy.detail, "results", shown);
	json_t *detail = json_deep_copy(qy.detail);
	if (cx_audit(x, "search", detail, (int64_t)n)) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, hit_json(&hits[i]));
		cx_reply_json(x, 200,
			json_pack("{s:o,s:I,s:I,s:b,s:s,s:o,s:o,"
				  "s:s,s:o}",
				"query", cx_jstr(qy.q), "offset",
				(json_int_t)offset, "limit", (json_int_t)limit,
				"more", more, "sort", sort_names[so.sort],
				"rankedAmong",
				among > 0 ? json_integer(among) : json_null(),
				"hits", arr, "timeZone", zone_of(&qy), "purged",
				purged));
	} else {
		json_decref(purged);
	}
	store_hits_free(hits, more ? n + 1 : n);
out:
	query_finish(&qy);
}

/* An export written on the server's thread while it is sent. */
struct export_job {
	struct console *c;
	struct store *s;
	char *user, *client, *q, *detail, *location, *agent, *contact;
	struct search_filter f;
	char action[64];
};

static enum cv_err fd_write(void *ctx, const void *p, size_t n)
{
	int fd = *(int *)ctx;
	const char *b = p;
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return CV_EIO; /* the client went away */
		b += w;
		n -= (size_t)w;
	}
	return CV_OK;
}

static enum cv_err fd_commit(void *ctx, char **errmsg)
{
	return CV_OK;
}

static bool export_stream(void *arg, int fd)
{
	struct export_job *j = arg;
	bool ok = false;
	if (fd >= 0) {
		struct search_plan plan;
		int pos;
		char *err = NULL;
		bool have = j->q &&
			    search_parse(j->q, &plan, &pos, &err) == CV_OK;
		free(err);
		err = NULL;
		struct export_opts eo = { .filter = &j->f,
			.plan = have ? &plan : NULL,
			.format = EXPORT_CSV,
			.actor = j->user,
			.detail = j->detail };
		struct export_out out = { .write = fd_write,
			.commit = fd_commit,
			.ctx = &fd };
		struct export_result er;
		ok = export_run(j->s, &eo, &out, &er, &err) == CV_OK;
		if (!ok)
			cv_warn("msg=\"console: export ended early\" err=\"%s\"",
				err ? err : "");
		free(err);
		if (have)
			search_plan_finish(&plan);
	}
	cx_store_give(j->c, j->s);
	pthread_mutex_lock(&j->c->mu);
	j->c->streams--;
	pthread_mutex_unlock(&j->c->mu);
	free(j->user);
	free(j->client);
	free(j->q);
	free(j->detail);
	free(j->location);
	free(j->agent);
	free(j->contact);
	free(j);
	return ok;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* The CSV of the current search, streamed: the start is audited before
 * a byte is sent, and export_run audits the rows written at the end. */
void cx_api_export(struct ctx *x, const char *unused)
{
	struct query qy;
	if (!parse_query(x, &qy)) {
		query_finish(&qy);
		return;
	}
	json_object_set_new(qy.detail, "format", json_string("csv"));
	json_object_set_new(qy.detail, "via", json_string("console"));
	char *detail = json_dumps(qy.detail, JSON_COMPACT | JSON_SORT_KEYS);
	if (!cx_audit(x, "export start", json_deep_copy(qy.detail), -1)) {
		free(detail);
		query_finish(&qy);
		return;
	}
	struct export_job *j = xcalloc(1, sizeof(*j));
	j->c = x->c;
	j->s = x->s;
	x->s = NULL; /* the job gives it back */
	j->user = xstrdup(x->user);
	j->client = xstrdup(x->client);
	/* the closing entry names the request's client too: the job's
	 * copy, as x's ends with this request */
	(void)store_audit_set_client(j->s, j->client);
	j->q = dup_or_null(qy.q);
	j->detail = detail;
	j->f = qy.sf.f;
	j->f.location = j->location = dup_or_null(qy.sf.f.location);
	j->f.agent = j->agent = dup_or_null(qy.sf.f.agent);
	j->f.contact = j->contact = dup_or_null(qy.sf.f.contact);
	if (qy.sf.f.action) {
		memcpy(j->action, qy.sf.action, sizeof(j->action));
		j->f.action = j->action;
	}
	pthread_mutex_lock(&x->c->mu);
	x->c->streams++;
	pthread_mutex_unlock(&x->c->mu);
	x->res->status = 200;
	x->res->type = "text/csv; charset=utf-8";
	x->res->disposition = xstrdup("attachment; "
				      "filename=\"callvault-export.csv\"");
	x->res->stream = export_stream;
	x->res->stream_arg = j;
	query_finish(&qy);
}

/* POST /api/holds (form: matter, reason, and a scope: call, contact,
 * number, agent, location, from, to). store_hold_add audits it. */

/* Whether the search of qy narrows at all (a zone alone does not). */
static bool narrows(const struct query *qy)
{
	for (int k = 0; k < SFK_N; k++)
		if (k != SFK_TZ && qy->sf.given[k])
			return true;
	return qy->q != NULL;
}

/* Audit the search a hold is placed from, whatever it answers: its
 * query and filters, the matter, and how many calls it matched (-1 when
 * it did not run). The hold's own entry (store_hold_add) follows. */
static bool audit_hold_search(struct ctx *x, struct query *qy,
	const struct store_hold *h, int64_t matched)
{
	json_t *d = json_deep_copy(qy->detail);
	json_object_set_new(d, "matter", json_string(h->matter));
	return cx_audit(x, "hold search", d, matched);
}

/* POST /api/holds?search=1&q=…&filters…: a query hold (store_holds.h)
 * keeping the search, so that it holds the calls it matches now and
 * every call that comes to match later. The search is audited with its
 * query and filters (even when it matches nothing: "no match" reveals
 * something too), then store_hold_add audits the hold. */
static void hold_from_search(struct ctx *x, struct store_hold *h)
{
	struct query qy;
	if (!parse_query(x, &qy)) {
		query_finish(&qy);
		return;
	}
	struct store_search_opts so = { .plan = qy.have_plan ? &qy.plan : NULL,
		.filter = &qy.sf.f };
	/* the hold is the search, nothing else: scope fields in the form
	 * would be a second reading of its filters */
	h->contact_id = h->agent_id = h->location_id = NULL;
	h->from_e164 = NULL;
	h->has_from = h->has_to = false;
	char *err = NULL;
	int64_t id = 0, n = 0;
	if (!narrows(&qy)) {
		cx_reply_error(x, 400,
			"a hold from a search needs a query or a "
			"filter");
	} else if (store_search_count(x->s, &so, &n, &err) != CV_OK) {
		if (audit_hold_search(x, &qy, h, -1))
			cx_reply_error(x, 500, err ? err : "search failed");
	} else if (!audit_hold_search(x, &qy, h, n)) {
		/* cx_audit() answered 503: nothing is told unaudited */
	} else if (n == 0) {
		cx_reply_error(x, 400, "the search matches no calls");
	} else {
		char *chosen = json_dumps(qy.detail,
			JSON_COMPACT | JSON_SORT_KEYS);
		char *filters = store_hold_filters_text(qy.sf.given);
		h->chosen_by = chosen;
		h->query = qy.q ? qy.q : "";
		h->query_filters = filters;
		if (store_hold_add(x->s, h, x->user, &id, &err) != CV_OK)
			cx_reply_error(x, 400,
				err ? err
				    : "the hold was not "
				      "placed");
		else if ((x->audited = true)) /* store_hold_add did */
			cx_reply_json(x, 201,
				json_pack("{s:I,s:I}", "id", (json_int_t)id,
					"calls", (json_int_t)n));
		free(chosen);
		free(filters);
	}
	free(err);
	query_finish(&qy);
}

/* The criteria of a hold by criteria, checked by the filter parser (a
 * value that does not decode is refused, never dropped: a dropped
 * criterion would widen the hold). false after a 400. */
static bool hold_criteria(struct ctx *x, struct store_hold *h, struct query *qy)
{
	static const enum search_filter_key allowed[] = { SFK_FROM, SFK_TO,
		SFK_TZ, SFK_LOCATION, SFK_AGENT, SFK_CONTACT, SFK_NUMBER };
	for (int k = 0; k < SFK_N; k++) {
		size_t n;
		bool ok = false;
		for (size_t i = 0; i < CV_ARRAY_LEN(allowed); i++)
			ok |= allowed[i] == (enum search_filter_key)k;
		if (!ok && cx_form_raw(x, search_filter_keys[k], &n))
			return cx_bad_arg(x, "a hold has no %s criterion",
				search_filter_keys[k]);
	}
	if (!parse_filters(x, qy, true))
		return false;
	store_hold_criteria(h, &qy->sf.f);
	return true;
}

void cx_api_hold_add(struct ctx *x, const char *unused)
{
	struct store_hold h = { .matter = cx_form(x, "matter"),
		.reason = cx_form(x, "reason") };
	const char *call = cx_form(x, "call");
	char *err = NULL;
	if (!h.matter || !h.reason || strlen(h.matter) > 200 ||
		strlen(h.reason) > 2000) {
		cx_reply_error(x, 400, "a hold needs a matter and a reason");
		return;
	}
	size_t n = 0;
	if (!call && cx_form_raw(x, "call", &n) && n) {
		cx_reply_error(x, 400,
			"call does not decode: a bad %-escape, a "
			"NUL byte or not UTF-8");
		return;
	}
	if (cx_arg(x, "search")) {
		hold_from_search(x, &h);
		return;
	}
	struct query qy = { .detail = json_object() };
	if (!hold_criteria(x, &h, &qy)) {
		query_finish(&qy);
		return;
	}
	if (call) {
		h.call_ids = &call;
		h.n_calls = 1;
	}
	int64_t id = 0;
	if (store_hold_add(x->s, &h, x->user, &id, &err) != CV_OK)
		cx_reply_error(x, 400, err ? err : "the hold was not placed");
	else if ((x->audited = true)) /* store_hold_add audited it */
		cx_reply_json(x, 201, json_pack("{s:I}", "id", (json_int_t)id));
	free(err);
	query_finish(&qy);
}
