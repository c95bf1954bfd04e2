/* webhook_event.c — see webhook_event.h */
#include "webhook_event.h"

#include <stdlib.h>
#include <string.h>

#include "calllog.h"
#include "hash.h"
#include "ingest.h"
#include "store/store_webhook.h"
#include "util.h"

const char *webhook_outcome_name(enum webhook_outcome o)
{
	static const char *const names[] = {
		[WH_DUPLICATE] = "duplicate",
		[WH_CALL_NEW] = "call new",
		[WH_CALL_UPDATED] = "call updated",
		[WH_CALL_UNCHANGED] = "call unchanged",
		[WH_CALL_MESSAGE] = "call message",
		[WH_RECORDED] = "recorded",
		[WH_RAW] = "stored raw",
		[WH_QUARANTINED] = "quarantined",
	};
	return names[o];
}

static bool streq(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

/* A call end: upsert the call, queue the REST fetch. */
static enum cv_err store_call_end(struct store *s,
	const struct calllog_envelope *env, const void *body, size_t len,
	enum webhook_outcome *out, bool *withheld, char **errmsg)
{
	struct ingest_stats st = { 0 };
	struct calllog_batch b;
	enum cv_err rc = ingest_payload(s, SRC_WEBHOOK, body, len, NULL, &st,
		&b, errmsg);
	if (rc != CV_OK) {
		calllog_batch_finish(&b);
		return rc;
	}
	for (size_t i = 0; i < b.n; i++)
		if (!b.items[i].reason && b.items[i].rec.n_redacted > 0)
			*withheld = true;
	calllog_batch_finish(&b);
	*out = st.quarantined ? WH_QUARANTINED
		: st.added    ? WH_CALL_NEW
		: st.updated  ? WH_CALL_UPDATED
			      : WH_CALL_UNCHANGED;
	/* sync drains the queue for locations it has credentials for */
	if (env->call_id && *env->call_id && env->location_id &&
	    *env->location_id)
		rc = store_fetch_enqueue(s, env->call_id, env->location_id,
			errmsg);
	return rc;
}

static enum webhook_outcome classify(const struct calllog_envelope *env)
{
	if ((streq(env->type, "InboundMessage") ||
		    streq(env->type, "OutboundMessage")) &&
	    streq(env->message_type, "CALL"))
		return WH_CALL_MESSAGE;
	if (streq(env->type, "INSTALL") || streq(env->type, "UNINSTALL"))
		return WH_RECORDED;
	return WH_RAW;
}

enum cv_err webhook_event_store(struct store *s, const void *body,
	size_t len, const char *scheme, enum webhook_outcome *out,
	char **errmsg)
{
	struct calllog_envelope env;
	char *reason = NULL, sha[CV_SHA256_HEX];
	cv_sha256_hex(body, len, sha);
	bool valid = calllog_event_envelope(body, len, &env, &reason) == CV_OK;
	char *key = valid && env.webhook_id && *env.webhook_id
		? xstrdup(env.webhook_id)
		: xasprintf("sha256:%s", sha);
	bool seen = false, withheld = false, dup = false;
	enum cv_err rc = store_webhook_seen(s, key, &seen, errmsg);
	if (rc != CV_OK || seen) {
		*out = WH_DUPLICATE;
		goto out;
	}
	if (!valid) {
		*out = WH_QUARANTINED;
		rc = store_quarantine(s, SRC_WEBHOOK, body, len, reason, errmsg);
	} else if (env.call_end) {
		rc = store_call_end(s, &env, body, len, out, &withheld, errmsg);
	} else {
		*out = classify(&env);
	}
	if (rc != CV_OK)
		goto out;
	bool keep_msg = env.call_end || *out == WH_CALL_MESSAGE;
	struct store_webhook_event e = {
		.dedup_key = key,
		.type = env.type,
		.call_id = env.call_end ? env.call_id : NULL,
		.message_id = keep_msg ? env.message_id : NULL,
		.location_id = env.location_id,
		.received_at = cv_now_ms(),
		.body = body,
		.len = len,
		.body_sha256 = sha,
		.signature = scheme,
		.outcome = webhook_outcome_name(*out),
		.withheld = withheld,
	};
	rc = store_webhook_insert(s, &e, &dup, errmsg);
	if (rc == CV_OK && dup)
		*out = WH_DUPLICATE;
out:
	free(key);
	free(reason);
	calllog_envelope_finish(&env);
	return rc;
}
