/* webhook_event.c — see webhook_event.h */
#include "webhook_event.h"

#include <stdlib.h>
#include <string.h>

#include "calllog.h"
#include "hash.h"
#include "ingest.h"
#include "media.h"
#include "store/store_recordings.h"
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
		[WH_CALL_KEPT] = "call kept, not current",
		[WH_CALL_DISPOSED] = "call disposed",
		[WH_STALE] = "refused: older than the replay window",
	};
	return names[o];
}

static bool streq(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

void webhook_event_prepare(struct webhook_event *e, const void *body,
	size_t len, const char *scheme)
{
	memset(e, 0, sizeof(*e));
	e->body = body;
	e->len = len;
	e->scheme = scheme;
	cv_sha256_hex(body, len, e->sha256);
	e->valid = calllog_event_envelope(body, len, &e->env, &e->batch,
			   &e->reason) == CV_OK;
	e->dedup_key = e->valid && e->env.webhook_id && *e->env.webhook_id
			       ? xstrdup(e->env.webhook_id)
			       : xasprintf("sha256:%s", e->sha256);
}

void webhook_event_finish(struct webhook_event *e)
{
	free(e->dedup_key);
	free(e->reason);
	calllog_envelope_finish(&e->env);
	calllog_batch_finish(&e->batch);
	memset(e, 0, sizeof(*e));
}

/* A call end: upsert the call, queue the REST fetch. */
static enum cv_err store_call_end(struct store *s,
	const struct webhook_event *e, enum webhook_outcome *out,
	bool *withheld, char **errmsg)
{
	struct ingest_stats st = { 0 };
	/* a fresh payload each time: a rolled-back batch runs this again;
	 * the body's hash was taken on the HTTP thread, not here on the
	 * writer's */
	struct store_payload p;
	store_payload_init_hashed(&p, SRC_WEBHOOK, e->body, e->len, e->sha256);
	/* how it was authenticated decides whether it may become current;
	 * a scheme the store does not know is trusted least */
	if (!store_cred_parse(e->scheme, &p.auth))
		p.auth = CRED_HEADER_SECRET;
	enum cv_err rc = ingest_parsed(s, &p, &e->batch, NULL, &st, errmsg);
	if (rc != CV_OK)
		return rc;
	*withheld = p.withhold;
	*out = st.quarantined ? WH_QUARANTINED
	       : st.disposed  ? WH_CALL_DISPOSED
	       : st.added     ? WH_CALL_NEW
	       : st.updated   ? WH_CALL_UPDATED
	       : st.kept      ? WH_CALL_KEPT
			      : WH_CALL_UNCHANGED;
	if (st.disposed)
		return CV_OK; /* nothing to fetch: it stays disposed of */
	/* sync drains the queue for locations it has credentials for */
	const struct calllog_envelope *env = &e->env;
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

/* Whether the body's own timestamp is older than the store's replay
 * window (none set: never). */
static enum cv_err too_old(struct store *s, const struct calllog_envelope *env,
	bool *stale, char **errmsg)
{
	int64_t max_age = 0;
	*stale = false;
	if (!env->timestamp_ms)
		return CV_OK;
	enum cv_err rc = store_trust_max_age(s, &max_age, errmsg);
	if (rc == CV_OK && max_age > 0)
		*stale = env->timestamp_ms < cv_now_ms() - max_age;
	return rc;
}

/* A call end or CALL message event of a call that was disposed of. */
static enum cv_err disposed_of(struct store *s,
	const struct calllog_envelope *env, enum webhook_outcome *out,
	char **errmsg)
{
	bool dead = false;
	enum cv_err rc = env->call_end
				 ? store_tombstoned(s, env->call_id, NULL,
					   &dead, errmsg)
				 : store_tombstoned(s, NULL, env->message_id,
					   &dead, errmsg);
	if (rc == CV_OK && dead)
		*out = WH_CALL_DISPOSED;
	return rc;
}

enum cv_err webhook_event_store(struct store *s, const struct webhook_event *e,
	enum webhook_outcome *out, char **errmsg)
{
	const struct calllog_envelope *env = &e->env;
	bool seen = false, withheld = false, dup = false, stale = false;
	*out = WH_DUPLICATE;
	enum cv_err rc = store_webhook_seen(s, e->dedup_key, &seen, errmsg);
	if (rc == CV_OK && !seen && e->valid)
		rc = too_old(s, env, &stale, errmsg);
	if (rc != CV_OK || seen)
		return rc;
	if (stale) {
		/* kept as a record of what came (hash, ids), not its body */
		*out = WH_STALE;
		withheld = true;
	} else if (!e->valid) {
		*out = WH_QUARANTINED;
		rc = store_quarantine(s, SRC_WEBHOOK, e->body, e->len,
			e->reason, errmsg);
	} else if (env->call_end) {
		rc = store_call_end(s, e, out, &withheld, errmsg);
	} else {
		*out = classify(env);
	}
	bool is_msg = e->valid && !env->call_end &&
		      classify(env) == WH_CALL_MESSAGE;
	/* a disposed call's events go too: not even their ids stay */
	if (rc == CV_OK && (*out == WH_STALE || is_msg))
		rc = disposed_of(s, env, out, errmsg);
	if (rc != CV_OK || *out == WH_CALL_DISPOSED)
		return rc;
	bool keep_msg = env->call_end || is_msg;
	struct store_webhook_event row = {
		.dedup_key = e->dedup_key,
		.type = env->type,
		.call_id = env->call_end ? env->call_id : NULL,
		.message_id = keep_msg ? env->message_id : NULL,
		.location_id = env->location_id,
		.received_at = cv_now_ms(),
		.body = e->body,
		.len = e->len,
		.body_sha256 = e->sha256,
		.signature = e->scheme,
		.outcome = webhook_outcome_name(*out),
		.withheld = withheld,
		/* a new version kept these exact bytes already */
		.in_payloads = !withheld && (*out == WH_CALL_NEW ||
						    *out == WH_CALL_UPDATED ||
						    *out == WH_CALL_KEPT),
	};
	rc = store_webhook_insert(s, &row, &dup, errmsg);
	if (rc == CV_OK && dup)
		*out = WH_DUPLICATE;
	/* the recording is fetched by sync, by this id, from the
	 * location's API base: never from a URL in the body */
	if (rc == CV_OK && keep_msg && !dup && *out != WH_STALE &&
		*out != WH_QUARANTINED && media_id_ok(env->message_id) &&
		env->location_id && *env->location_id) {
		int64_t now = cv_now_ms();
		rc = store_media_want(s, env->message_id, env->location_id, now,
			now, errmsg);
	}
	return rc;
}
