/*
 * api_control.c — hlsim's OAuth endpoints (POST /oauth/token, the
 * agency-wide installs) and its control endpoints under /__sim/ (stats,
 * info, dump, faults, quirks, reset, a webhook receiver) (api.h).
 */
#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "common.h"
#include "emit.h"
#include "util.h"

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
	return api_dump_free(json_pack("{s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:o,s:o,"
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
	char *out = api_dump_free(json_pack("{s:i,s:s,s:s,s:s,s:s,s:I,s:I,s:o}",
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
		api_set_error(r, 400, "missing x-ghl-signature");
	} else if (f429 && h->webhooks <= atol(f429)) {
		api_set_error(r, 429, "Too Many Requests");
	} else if (st && atoi(st) >= 200 && atoi(st) < 600) {
		api_set_error(r, atoi(st), api_reason(atoi(st)));
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
		api_set_error(r, 400, err ? err : "bad quirk spec");
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
		api_set_error(r, 400, err ? err : "bad fault spec");
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
		r->status = auth_location_token(h->auth, api_bearer(conn), ver,
			body, cv_now_ms(), locid_of, h, &r->body);
	} else if (!post && !strcmp(url, "/oauth/installedLocations")) {
		const char *sk = MHD_lookup_connection_value(conn,
			MHD_GET_ARGUMENT_KIND, "skip");
		const char *li = MHD_lookup_connection_value(conn,
			MHD_GET_ARGUMENT_KIND, "limit");
		r->status = auth_installed_locations(h->auth, api_bearer(conn),
			ver,
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
			api_set_error(r, 400, "unknown locationId");
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

void api_control_or_oauth(struct hlsim *h, struct MHD_Connection *conn,
	const char *method, const char *url, struct req *q, struct reply *r)
{
	bool post = !strcmp(method, "POST");
	if (agency_request(h, conn, post, url, q, r))
		return;
	if (post && !strcmp(url, "/oauth/token")) {
		if (q->too_big) {
			api_set_error(r, 413, "Payload Too Large");
			return;
		}
		if (faults_roll(&h->faults, F_OAUTH5XX)) {
			api_set_error(r, 503, api_reason(503));
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
		api_not_found(r, method, url);
	}
}
