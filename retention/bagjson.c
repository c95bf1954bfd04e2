/* bagjson.c — see bagjson.h. jansson is used here and nowhere else in
 * retention/. */
#include "bagjson.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "store/store_subject.h"
#include "util.h"

void bagjson_str(struct buf *b, const char *s, size_t n)
{
	if (!s) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '"');
	size_t run = 0; /* bytes copied as they are */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		default: buf_printf(b, "\\u%04x", c); break;
		}
	}
	buf_append(b, s + run, n - run);
	buf_putc(b, '"');
}

void bagjson_cstr(struct buf *b, const char *s)
{
	bagjson_str(b, s, s ? strlen(s) : 0);
}

void bagjson_member(struct buf *b, const char *key, const char *s)
{
	buf_printf(b, ",\"%s\":", key);
	bagjson_cstr(b, s);
}

void bagjson_base64(struct buf *b, const void *p, size_t n)
{
	char *s = xmalloc(CV_BASE64_LEN(n) + 1);
	buf_append(b, s, cv_base64_encode(p, n, s));
	free(s);
}

/* The base64 at s onto out: false when it is not base64. */
static bool unbase64(const char *s, struct buf *out)
{
	size_t cap = strlen(s) / 4 * 3 + 3;
	unsigned char *v = xmalloc(cap);
	long n = cv_base64_decode(s, v, cap);
	if (n >= 0)
		buf_append(out, v, (size_t)n);
	free(v);
	return n >= 0;
}

static json_t *load_line(const char *line, size_t n, char **errmsg)
{
	json_error_t err;
	if (calllog_json_depth(line, n, CALLLOG_MAX_DEPTH) >
		CALLLOG_MAX_DEPTH) {
		cv_error(errmsg, CV_EPARSE, "JSON nested too deep");
		return NULL;
	}
	json_t *o = json_loadb(line, n, 0, &err);
	if (!o || !json_is_object(o)) {
		cv_error(errmsg, CV_EPARSE, "not a JSON object: %s",
			o ? "wrong type" : err.text);
		json_decref(o);
		return NULL;
	}
	return o;
}

static char *str_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v)
		       ? xstrndup(json_string_value(v), json_string_length(v))
		       : NULL;
}

static bool time_of(json_t *o, const char *key, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) && cv_parse_iso8601(json_string_value(v), out);
}

enum cv_err bagjson_parse_version(const char *line, size_t n,
	struct bag_version *out, char **errmsg)
{
	memset(out, 0, sizeof(*out));
	json_t *o = load_line(line, n, errmsg);
	if (!o)
		return CV_EPARSE;
	enum cv_err rc = CV_OK;
	out->call_id = str_of(o, "callId");
	out->raw_sha256 = str_of(o, "rawSha256");
	out->canonical_sha256 = str_of(o, "canonicalSha256");
	json_t *seq = json_object_get(o, "seq");
	json_t *red = json_object_get(o, "redacted");
	json_t *rec = json_object_get(o, "record");
	char *src = str_of(o, "source");
	char *cred = str_of(o, "trust"); /* absent in older bags */
	out->seq = json_is_integer(seq) ? (int)json_integer_value(seq) : 0;
	out->redacted = json_is_integer(red) ? (int)json_integer_value(red) : 0;
	if (!out->call_id || !out->raw_sha256 || !out->canonical_sha256 ||
		out->seq < 1 || !json_is_object(rec) || !src ||
		!store_source_parse(src, &out->source) ||
		(cred && !store_cred_parse(cred, &out->cred)) ||
		!time_of(o, "receivedAt", &out->received_at)) {
		rc = cv_error(errmsg, CV_EPARSE,
			"versions.jsonl: a line lacks a field");
	} else {
		out->record = json_dumps(rec, JSON_SORT_KEYS | JSON_COMPACT);
		out->record_len = strlen(out->record);
	}
	free(src);
	free(cred);
	json_decref(o);
	if (rc != CV_OK)
		bag_version_finish(out);
	return rc;
}

void bag_version_finish(struct bag_version *v)
{
	free(v->call_id);
	free(v->raw_sha256);
	free(v->canonical_sha256);
	free(v->record);
	memset(v, 0, sizeof(*v));
}

enum cv_err bagjson_parse_event(const char *line, size_t n,
	struct bag_event *out, char **errmsg)
{
	memset(out, 0, sizeof(*out));
	json_t *o = load_line(line, n, errmsg);
	if (!o)
		return CV_EPARSE;
	char **strs[] = { &out->dedup_key, &out->type, &out->call_id,
		&out->message_id, &out->location_id, &out->body_sha256,
		&out->signature, &out->outcome };
	static const char *const keys[] = { "dedupKey", "type", "callId",
		"messageId", "locationId", "bodySha256", "signature",
		"outcome" };
	for (size_t i = 0; i < CV_ARRAY_LEN(keys); i++)
		*strs[i] = str_of(o, keys[i]);
	struct buf body;
	buf_init(&body);
	json_t *text = json_object_get(o, "body");
	json_t *b64 = json_object_get(o, "bodyBase64");
	out->withheld = json_is_true(json_object_get(o, "bodyWithheld"));
	bool ok = out->dedup_key && out->body_sha256 &&
		  time_of(o, "receivedAt", &out->received_at);
	if (out->withheld)
		;
	else if (json_is_string(text))
		buf_append(&body, json_string_value(text),
			json_string_length(text));
	else if (!json_is_string(b64) ||
		 !unbase64(json_string_value(b64), &body))
		ok = false;
	out->body_len = body.len;
	out->body = buf_steal(&body);
	json_decref(o);
	if (!ok) {
		bag_event_finish(out);
		return cv_error(errmsg, CV_EPARSE,
			"events.jsonl: a line lacks a field");
	}
	return CV_OK;
}

void bag_event_finish(struct bag_event *e)
{
	char *strs[] = { e->dedup_key, e->type, e->call_id, e->message_id,
		e->location_id, e->body_sha256, e->signature, e->outcome,
		e->body };
	for (size_t i = 0; i < CV_ARRAY_LEN(strs); i++)
		free(strs[i]);
	memset(e, 0, sizeof(*e));
}

char *bagjson_call_id(const char *line, size_t n)
{
	json_t *o = load_line(line, n, NULL);
	char *id = o ? str_of(o, "id") : NULL;
	json_decref(o);
	return id;
}

/* ---- erasures.jsonl ---- */

void bagjson_erasure_line(struct buf *l, const struct store_erasure *e)
{
	char ts[32];
	cv_format_iso8601(e->erased_at, ts);
	buf_puts(l, "{\"callId\":");
	bagjson_cstr(l, e->call_id);
	buf_printf(l, ",\"erasedAt\":\"%s\"", ts);
	bagjson_member(l, "locationId", e->location_id);
	bagjson_member(l, "messageId", e->message_id);
	bagjson_member(l, "reason", e->reason);
	bagjson_member(l, "subjectHmac", e->subject_hmac);
	buf_puts(l, "}\n");
}

static bool hex64(const char *s)
{
	if (!s)
		return true;
	if (strlen(s) != CV_SHA256_HEX - 1)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

enum cv_err bagjson_parse_erasure(const char *line, size_t n,
	struct bag_erasure *out, char **errmsg)
{
	memset(out, 0, sizeof(*out));
	json_t *o = load_line(line, n, errmsg);
	if (!o)
		return CV_EPARSE;
	out->call_id = str_of(o, "callId");
	out->location_id = str_of(o, "locationId");
	out->message_id = str_of(o, "messageId");
	out->reason = str_of(o, "reason");
	out->subject_hmac = str_of(o, "subjectHmac");
	size_t pl = strlen(STORE_ERASURE_PREFIX);
	bool ok = out->call_id && *out->call_id && out->reason &&
		  strncmp(out->reason, STORE_ERASURE_PREFIX, pl) == 0 &&
		  hex64(out->subject_hmac) &&
		  time_of(o, "erasedAt", &out->erased_at);
	json_decref(o);
	if (!ok) {
		bag_erasure_finish(out);
		return cv_error(errmsg, CV_EPARSE,
			"erasures.jsonl: a line lacks a field");
	}
	return CV_OK;
}

void bag_erasure_finish(struct bag_erasure *e)
{
	free(e->call_id);
	free(e->location_id);
	free(e->message_id);
	free(e->reason);
	free(e->subject_hmac);
	memset(e, 0, sizeof(*e));
}
