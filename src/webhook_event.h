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

#include "common.h"
#include "store/store.h"

enum webhook_outcome {
	WH_DUPLICATE,     /* seen before: nothing changed */
	WH_CALL_NEW,
	WH_CALL_UPDATED,
	WH_CALL_UNCHANGED,
	WH_CALL_MESSAGE,  /* Inbound/OutboundMessage with messageType CALL */
	WH_RECORDED,      /* INSTALL, UNINSTALL */
	WH_RAW,           /* another type, kept as received */
	WH_QUARANTINED,   /* not a valid event; kept with its reason */
};
const char *webhook_outcome_name(enum webhook_outcome o);

/*
 * Store one body (already verified by `scheme`, a sig_scheme_name) inside
 * the caller's transaction. Returns an error only when the store failed;
 * the caller must then roll back and the event is not taken (answer 429).
 */
enum cv_err webhook_event_store(struct store *s, const void *body,
	size_t len, const char *scheme, enum webhook_outcome *out,
	char **errmsg) CV_MUST_CHECK;

#endif
