/*
 * webhook_event.h — what one verified webhook body means to the store:
 * dedupe it (webhookId, else the body's SHA-256), then dispatch on its
 * type. VoiceAiCallEnd upserts the call through ingest_payload() (same
 * versioning as import and sync) and queues a REST fetch; CALL message
 * events are kept linked by messageId; INSTALL/UNINSTALL are recorded;
 * unknown types are stored raw; a body that is not a valid event goes to
 * quarantine with its reason. No HTTP and no threads here.
 */
#ifndef CV_WEBHOOK_EVENT_H
#define CV_WEBHOOK_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calllog.h"
#include "common.h"
#include "store/store.h"

enum webhook_outcome {
	WH_DUPLICATE, /* seen before: nothing changed */
	WH_CALL_NEW,
	WH_CALL_UPDATED,
	WH_CALL_UNCHANGED,
	WH_CALL_MESSAGE,  /* Inbound/OutboundMessage with messageType CALL */
	WH_RECORDED,      /* INSTALL, UNINSTALL */
	WH_RAW,           /* another type, kept as received */
	WH_QUARANTINED,   /* not a valid event; kept with its reason */
	WH_CALL_KEPT,     /* a version kept, not current: lower trust */
	WH_CALL_DISPOSED, /* the call was disposed of: dropped, no event
			     row (its body holds the content) */
	WH_STALE,         /* its own timestamp is older than the replay
			     window (store_trust_max_age): recorded
			     without its body, nothing else done */
};
const char *webhook_outcome_name(enum webhook_outcome o);

/*
 * One verified body, parsed ahead of the store (so that the parsing can
 * run in the request's thread, not in the single writer). Fields are
 * internal; the body is borrowed and must outlive the event.
 */
struct webhook_event {
	const void *body;
	size_t len;
	const char *scheme; /* sig_scheme_name() of the verifier;
				      * the version's credential kind
				      * (store_cred_parse; one it does not
				      * know ranks as header-secret) */
	char sha256[CV_SHA256_HEX];
	char *dedup_key; /* webhookId, else "sha256:<hex>" */
	bool valid;      /* the envelope parsed */
	char *reason;    /* why not, for quarantine */
	struct calllog_envelope env;
	struct calllog_batch batch; /* a call end's call log (same parse) */
};

/* Parse body (never fails: a bad body is prepared for quarantine). */
void webhook_event_prepare(struct webhook_event *e, const void *body,
	size_t len, const char *scheme);
void webhook_event_finish(struct webhook_event *e);

/*
 * Store a prepared event inside the caller's transaction. Returns an
 * error only when the store failed; the caller must then roll back and
 * the event is not taken (answer 429). The event can be stored again
 * after a rollback.
 */
enum cv_err webhook_event_store(struct store *s, const struct webhook_event *e,
	enum webhook_outcome *out, char **errmsg) CV_MUST_CHECK;

#endif
