/*
 * calllog.h — one HighLevel Voice AI call log, parsed from either shape
 * (the REST CallLog object or the VoiceAiCallEnd webhook body), validated,
 * scrubbed of secrets and reduced to a canonical JSON form.
 *
 * This is the only module that uses jansson.
 */
#ifndef CV_CALLLOG_H
#define CV_CALLLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "hash.h"

/* Bounds on what comes from outside. */
#define CALLLOG_MAX_PAYLOAD (16u * 1024 * 1024) /* one line / body / page */
#define CALLLOG_MAX_RECORD (4u * 1024 * 1024)   /* one call log */
#define CALLLOG_MAX_STRING (1u * 1024 * 1024)   /* one string value */
#define CALLLOG_MAX_DEPTH 64                    /* JSON nesting */
#define CALLLOG_MAX_ID 256                      /* id-like fields */
#define CALLLOG_MAX_NOTES 20                    /* notes kept per record */

enum calllog_shape { CALLLOG_REST, CALLLOG_WEBHOOK };

struct calllog_action {
	char *id;            /* actionId, or _id in the webhook shape */
	char *type;          /* actionType, NULL when missing */
	char *name;          /* actionName */
	int64_t executed_at; /* epoch ms, 0 when missing or unparseable */
};

/* A normalised call log. Strings are owned; NULL means missing or null. */
struct calllog {
	enum calllog_shape shape;
	char *id;
	char *location_id;
	char *agent_id;
	char *contact_id;
	char *from_number;
	char *message_id;
	int64_t created_at; /* epoch ms UTC */
	double duration;    /* seconds */
	bool has_duration;
	int trial_call;     /* -1 unknown, 0, 1 */
	int agent_deleted;  /* -1 unknown (webhook shape), 0, 1 */
	int agent_transfer; /* agentTransferOccurred: -1, 0, 1 */
	char *summary;
	char *transcript;
	size_t n_actions;
	struct calllog_action *actions;

	/* Derived for reporting. */
	bool appointment_booked; /* an APPOINTMENT_BOOKING action ran */
	bool transferred;   /* CALL_TRANSFER ran or agentTransferOccurred */
	char *action_types; /* distinct action types, comma-separated */

	/* Canonical JSON (sorted keys, compact) of the scrubbed record. */
	char *canonical;
	size_t canonical_len;
	char canonical_sha256[CV_SHA256_HEX];
	int n_redacted; /* secrets replaced by "[redacted]" */

	/* What could not be read into the fields above (wrong type, out of
	 * range), "; "-separated, or NULL. The canonical form still holds
	 * the values as received: an archive keeps what it is given. */
	char *notes;
	int n_notes;
};

/* One element of a parsed payload: a record, or a rejection. */
struct calllog_item {
	struct calllog rec; /* valid when reason == NULL */
	char *reason;       /* why it was rejected, naming the field */
	char *raw;          /* the element as JSON, for quarantine */
	size_t raw_len;
};

/* What one payload (JSONL line, webhook body, API page) held. */
struct calllog_batch {
	size_t n;
	struct calllog_item *items;
	bool is_list;                   /* {"total":…,"callLogs":[…]} */
	int64_t total, page, page_size; /* list fields, -1 when absent */
};

/*
 * Parse one payload: a call-log object, a VoiceAiCallEnd body, or a list
 * response. A record is rejected (for quarantine) only when it cannot be
 * identified (no usable id or createdAt) or breaks a size bound; any
 * other field of an unexpected type or out of range is left unread and
 * named in the record's notes. location_hint (may be NULL) fills locationId when the record
 * lacks it (the REST shape has none). On CV_OK, out holds one item per
 * record, each either valid or rejected with its reason. On failure the
 * whole payload is unusable: *reason says why (the caller frees it), and
 * out is empty. Free out with calllog_batch_finish() either way.
 */
enum cv_err calllog_parse_payload(const char *bytes, size_t n,
	const char *location_hint, struct calllog_batch *out,
	char **reason) CV_MUST_CHECK;
void calllog_batch_finish(struct calllog_batch *b);

/* Parse a single call-log object (no list). Same contract. */
enum cv_err calllog_parse_one(const char *bytes, size_t n,
	const char *location_hint, struct calllog *out,
	char **reason) CV_MUST_CHECK;
void calllog_finish(struct calllog *c);

/*
 * Rebuild a call log from its stored canonical JSON (trusted input).
 */
enum cv_err calllog_from_canonical(const char *json, size_t n,
	struct calllog *out, char **errmsg) CV_MUST_CHECK;

/* Transcript turns: "bot: …" / "human:…" lines; other lines continue the
 * previous turn (speaker CALLLOG_OTHER when there is none). */
enum calllog_speaker { CALLLOG_OTHER, CALLLOG_BOT, CALLLOG_HUMAN };
struct calllog_turn {
	enum calllog_speaker speaker;
	const char *text; /* points into the transcript */
	size_t len;
};
/* Split a transcript into turns; *out is an array the caller frees. */
size_t calllog_turns(const char *transcript, struct calllog_turn **out);
const char *calllog_speaker_name(enum calllog_speaker s);

/*
 * Normalise a phone number to E.164 ("+15125550143"): keeps digits, "00"
 * becomes "+", a bare 10-digit number is taken as NANP (+1). Returns false
 * when fewer than 7 or more than 15 digits remain.
 */
bool calllog_e164(const char *in, char out[20]);

/*
 * The envelope of a webhook delivery: what the receiver needs to dedupe
 * and dispatch it. Strings are owned (NULL when absent).
 */
struct calllog_envelope {
	char *type;           /* "type", e.g. "VoiceAiCallEnd", "INSTALL" */
	char *webhook_id;     /* "webhookId" */
	char *message_id;     /* "messageId" */
	char *message_type;   /* "messageType", e.g. "CALL" */
	char *location_id;    /* "locationId" */
	char *call_id;        /* "id" of a call-end event */
	int64_t timestamp_ms; /* "timestamp" (ISO 8601), 0 when absent or
	                       * not one */
	bool call_end;        /* VoiceAiCallEnd, by type or by shape (agentId
	                      * and transcript present when type is missing) */
};

/*
 * Read the envelope of a webhook body with the same bounds as
 * calllog_parse_payload (size, depth, duplicate keys, UTF-8). CV_EPARSE
 * with *reason (caller frees) when the body is not a JSON object or an
 * envelope field has the wrong type or is not a bounded id. When call is
 * non-NULL and the body is a call end, *call gets its call log (one item,
 * valid or rejected with its reason) from the same parse, as
 * calllog_parse_payload would give it. Finish out (and call) either way.
 */
enum cv_err calllog_event_envelope(const char *bytes, size_t n,
	struct calllog_envelope *out, struct calllog_batch *call,
	char **reason) CV_MUST_CHECK;
void calllog_envelope_finish(struct calllog_envelope *e);

/* Maximum JSON nesting depth of bytes (strings skipped), stopping early at
 * limit+1. Used to refuse deep documents before any parser recurses. */
int calllog_json_depth(const char *bytes, size_t n, int limit);

#endif
