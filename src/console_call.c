/* console_call.c — one call's page, GET /api/calls/{id} (console_int.h):
 * metadata, the transcript with the search's hits marked, versions,
 * webhook events, and whether a hold covers it. */
#include "console_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "calllog.h"
#include "store/store_holds.h"
#include "store/store_search.h"
#include "store/store_webhook.h"

static int version_json(const struct store_version *v, void *arg)
{
	json_array_append_new(arg,
		json_pack("{s:i,s:s,s:o,s:s,s:s,s:b,s:i}", "seq", v->seq,
			"source", store_source_name(v->source), "receivedAt",
			cx_jtime(v->received_at), "receivedSha256",
			v->raw_sha256 ? v->raw_sha256 : "", "canonicalSha256",
			v->canonical_sha256 ? v->canonical_sha256 : "",
			"rawKept", v->raw_kept, "redacted", v->redacted));
	return 0;
}

static int event_json(const struct store_webhook_event *e, void *arg)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", cx_jstr(e->type));
	json_object_set_new(o, "receivedAt", cx_jtime(e->received_at));
	json_object_set_new(o, "sha256", cx_jstr(e->body_sha256));
	json_object_set_new(o, "signature", cx_jstr(e->signature));
	json_object_set_new(o, "outcome", cx_jstr(e->outcome));
	json_array_append_new(arg, o);
	return 0;
}

/* Transcript turns; with cols (from store_search_highlight) each turn's
 * text comes from its speaker's column with the hits marked. */
static json_t *turns_json(const struct calllog *c, char *cols[4])
{
	json_t *arr = json_array();
	struct calllog_turn *turns;
	size_t n = calllog_turns(c->transcript, &turns);
	char **marked = cols ? store_highlight_turns(turns, n, cols) : NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "speaker",
			json_string(calllog_speaker_name(turns[i].speaker)));
		char *t = marked ? marked[i]
				 : xstrndup(turns[i].text, turns[i].len);
		cx_put_marked(o, "text", "ranges", t);
		free(t);
		json_array_append_new(arr, o);
	}
	free(marked);
	free(turns);
	return arr;
}

static json_t *actions_json(const struct calllog *c)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < c->n_actions; i++) {
		const struct calllog_action *a = &c->actions[i];
		json_array_append_new(arr,
			json_pack("{s:o,s:o,s:o,s:o}", "id", cx_jstr(a->id),
				"type", cx_jstr(a->type), "name",
				cx_jstr(a->name), "executedAt",
				cx_jtime(a->executed_at)));
	}
	return arr;
}

static json_t *call_json(struct ctx *x, const struct store_call *sc,
	char *cols[4], char **err)
{
	const struct calllog *c = &sc->log;
	json_t *o = json_object();
	json_object_set_new(o, "id", cx_jstr(c->id));
	json_object_set_new(o, "locationId", cx_jstr(c->location_id));
	json_object_set_new(o, "agentId", cx_jstr(c->agent_id));
	json_object_set_new(o, "agentName", cx_jstr(sc->agent_name));
	json_object_set_new(o, "contactId", cx_jstr(c->contact_id));
	json_object_set_new(o, "fromNumber", cx_jstr(c->from_number));
	json_object_set_new(o, "messageId", cx_jstr(c->message_id));
	json_object_set_new(o, "createdAt", cx_jtime(c->created_at));
	json_object_set_new(o, "duration",
		c->has_duration ? json_real(c->duration) : json_null());
	json_object_set_new(o, "trialCall",
		c->trial_call < 0 ? json_null() : json_boolean(c->trial_call));
	cx_put_marked(o, "summary", "summaryRanges",
		cols ? cols[0] : c->summary);
	json_object_set_new(o, "turns", turns_json(c, cols));
	json_object_set_new(o, "actions", actions_json(c));
	json_t *rec = json_loads(c->canonical ? c->canonical : "{}", 0, NULL);
	json_t *ex = rec ? json_object_get(rec, "extractedData") : NULL;
	json_object_set_new(o, "extractedData",
		ex ? json_incref(ex) : json_null());
	json_decref(rec);
	json_t *vers = json_array(), *evs = json_array();
	if (store_each_version(x->s, c->id, version_json, vers, err) != CV_OK ||
		store_each_call_event(x->s, c->id, event_json, evs, err) !=
			CV_OK) {
		json_decref(vers);
		json_decref(evs);
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "versions", vers);
	json_object_set_new(o, "events", evs);
	bool held = false;
	/* query holds run their search now: a call that came to match
	 * since the last look is marked held */
	if (store_holds_evaluate(x->s, err) != CV_OK ||
		store_hold_is_held(x->s, c->id, &held, err) != CV_OK) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "held", json_boolean(held));
	json_t *media = cx_media_json(x, c->id, err);
	if (!media) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "media", media);
	return o;
}

void cx_api_call(struct ctx *x, const char *raw_id)
{
	const char *id = cx_own(x, cx_pct_decode(raw_id, strlen(raw_id)));
	if (!id || !*id || strlen(id) > CALLLOG_MAX_ID) {
		cx_reply_error(x, 400, "bad call id");
		return;
	}
	struct query qy;
	memset(&qy, 0, sizeof(qy));
	const char *q = cx_arg(x, "q");
	int pos;
	char *err = NULL, *cols[4] = { NULL, NULL, NULL, NULL };
	bool marks = q && search_parse(q, &qy.plan, &pos, &err) == CV_OK;
	qy.have_plan = marks;
	free(err);
	err = NULL;
	struct store_call sc;
	enum cv_err rc = store_get_call(x->s, id, &sc, &err);
	if (rc == CV_OK && marks &&
		store_search_highlight(x->s, id, &qy.plan, cols, &err) != CV_OK)
		marks = false;
	json_t *o = rc == CV_OK ? call_json(x, &sc, marks ? cols : NULL, &err)
				: NULL;
	if (rc == CV_ENOTFOUND) {
		/* "no such call" tells something too: audited */
		if (cx_audit(x, "show",
			    json_pack("{s:s,s:b}", "id", id, "found", 0), 0))
			cx_reply_error(x, 404, "no such call");
	} else if (!o)
		cx_reply_error(x, 500, err ? err : "reading the call failed");
	else if (cx_audit(x, "show",
			 json_pack("{s:s,s:o}", "id", id, "highlight",
				 cx_jstr(q)),
			 1))
		cx_reply_json(x, 200, o), o = NULL;
	json_decref(o);
	if (rc == CV_OK)
		store_call_finish(&sc);
	for (int i = 0; i < 4; i++)
		free(cols[i]);
	free(err);
	if (qy.have_plan)
		search_plan_finish(&qy.plan);
}
