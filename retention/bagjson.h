/*
 * bagjson.h — the JSON of a bag's data files: writing string literals for
 * the lines callvault composes itself, and parsing the lines of
 * versions.jsonl and events.jsonl back (restore, verify --deep). The only
 * file of retention/ that uses jansson.
 */
#ifndef CV_BAGJSON_H
#define CV_BAGJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "store/store.h"
#include "util.h"

/* Append s (n bytes, valid UTF-8) as a JSON string literal; NULL = null. */
void bagjson_str(struct buf *b, const char *s, size_t n);
/* Same for a NUL-terminated string (NULL = null). */
void bagjson_cstr(struct buf *b, const char *s);
/* Append a member that is not the first of its object: ,"key": and s as
 * bagjson_cstr() writes it (key: plain ASCII, written as it is). */
void bagjson_member(struct buf *b, const char *key, const char *s);
/* Append the standard base64 of p (events whose body is not UTF-8). */
void bagjson_base64(struct buf *b, const void *p, size_t n);

/* One line of versions.jsonl. Strings owned. */
struct bag_version {
	char *call_id;
	int seq;
	enum store_source source;
	enum store_cred cred; /* "trust"; CRED_UNRECORDED when absent */
	int64_t received_at;
	char *raw_sha256, *canonical_sha256;
	int redacted;
	char *record; /* the canonical JSON of the version */
	size_t record_len;
};
enum cv_err bagjson_parse_version(const char *line, size_t n,
	struct bag_version *out, char **errmsg) CV_MUST_CHECK;
void bag_version_finish(struct bag_version *v);

/* One line of events.jsonl. Strings owned; body as bytes. */
struct bag_event {
	char *dedup_key, *type, *call_id, *message_id, *location_id;
	char *body_sha256, *signature, *outcome;
	int64_t received_at;
	bool withheld; /* only the hash was archived */
	char *body;
	size_t body_len;
};
enum cv_err bagjson_parse_event(const char *line, size_t n,
	struct bag_event *out, char **errmsg) CV_MUST_CHECK;
void bag_event_finish(struct bag_event *e);

/*
 * data/erasures.jsonl: the erasure tombstones of the bag's location made
 * before it was written (store_subject.h), one line each, keys sorted:
 * callId, erasedAt (ISO 8601 UTC), locationId, messageId, reason
 * ("erasure: request R"), subjectHmac (the keyed hash of the contact or
 * number, subject_key.h; null for an erasure by call id). No content.
 */
struct store_erasure;
void bagjson_erasure_line(struct buf *l, const struct store_erasure *e);
/* One line back. Strings owned. A line without a callId, an erasedAt or
 * a reason starting "erasure: ", or with a subjectHmac that is not 64
 * hex digits, is CV_EPARSE. */
struct bag_erasure {
	char *call_id, *location_id, *message_id, *reason, *subject_hmac;
	int64_t erased_at;
};
enum cv_err bagjson_parse_erasure(const char *line, size_t n,
	struct bag_erasure *out, char **errmsg) CV_MUST_CHECK;
void bag_erasure_finish(struct bag_erasure *e);

/* The "id" of a calls.jsonl line (owned), NULL when it has none. */
char *bagjson_call_id(const char *line, size_t n);

#endif
