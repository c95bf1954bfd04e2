/* calllog.c — see calllog.h. jansson is used here and nowhere else. */
#include "calllog.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define REDACTED "[redacted]"

/* Keys that belong to a webhook delivery, not to the call. */
static const char *const envelope_keys[] = { "type", "webhookId", "timestamp" };

int calllog_json_depth(const char *bytes, size_t n, int limit)
{
	int depth = 0, max = 0;
	bool in_str = false;
	for (size_t i = 0; i < n; i++) {
		char c = bytes[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > max) {
				max = depth;
				if (max > limit)
					return max;
			}
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return max;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER:
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}

/* Every string in v must be within CALLLOG_MAX_STRING. */
static bool strings_bounded(const json_t *v, const char **bad_key)
{
	const char *k;
	json_t *x;
	size_t i;
	switch (json_typeof(v)) {
	case JSON_STRING: return json_string_length(v) <= CALLLOG_MAX_STRING;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, k, x)
		{
			if (!strings_bounded(x, bad_key)) {
				if (!*bad_key)
					*bad_key = k;
				return false;
			}
		}
		return true;
	case JSON_ARRAY:
		json_array_foreach(v, i, x)
		{
			if (!strings_bounded(x, bad_key))
				return false;
		}
		return true;
	default: return true;
	}
}

enum ftype { F_STRING, F_NUMBER, F_BOOL, F_ARRAY };

/* Fetch an optional field of the given type; null counts as missing. */
static bool get_field(json_t *obj, const char *key, enum ftype t, json_t **out,
	char **reason)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return true;
	bool ok = (t == F_STRING && json_is_string(v)) ||
		  (t == F_NUMBER && json_is_number(v)) ||
		  (t == F_BOOL && json_is_boolean(v)) ||
		  (t == F_ARRAY && json_is_array(v));
	if (!ok) {
		static const char *const want[] = { "string", "number",
			"boolean", "array" };
		*reason = xasprintf("field \"%s\": expected %s, got %s", key,
			want[t], type_name(v));
		return false;
	}
	*out = v;
	return true;
}

static char *dup_str(json_t *v)
{
	return v ? xstrndup(json_string_value(v), json_string_length(v)) : NULL;
}

static int tri(json_t *v)
{
	return v ? json_is_true(v) : -1;
}

/* Read a string field that identifies something: bounded, no control
 * characters. */
static bool get_id(json_t *obj, const char *key, char **dst, char **reason)
{
	json_t *v;
	if (!get_field(obj, key, F_STRING, &v, reason))
		return false;
	if (!v)
		return true;
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len > CALLLOG_MAX_ID) {
		*reason = xasprintf("field \"%s\": longer than %d bytes", key,
			CALLLOG_MAX_ID);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			*reason = xasprintf(
				"field \"%s\": control character in id", key);
			return false;
		}
	}
	*dst = xstrndup(s, len);
	return true;
}

/* Note what could not be read into c's fields; the record is kept. */
static void note(struct calllog *c, const char *fmt, ...) CV_PRINTF(2, 3);
static void note(struct calllog *c, const char *fmt, ...)
{
	/* bounded: a record of a million odd actions gets a few notes and
	 * a count, not a quadratic string */
	if (c->n_notes++ >= CALLLOG_MAX_NOTES)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *n = xvasprintf(fmt, ap);
	va_end(ap);
	char *all = c->notes ? xasprintf("%s; %s", c->notes, n) : n;
	if (all != n)
		free(n);
	free(c->notes);
	c->notes = all;
}

/* The last note: how many were not written out. */
static void notes_close(struct calllog *c)
{
	if (c->n_notes <= CALLLOG_MAX_NOTES)
		return;
	char *all = xasprintf("%s; and %d more", c->notes,
		c->n_notes - CALLLOG_MAX_NOTES);
	free(c->notes);
	c->notes = all;
}

/* An optional field that does not decide whether the record is kept:
 * of another type, it is noted and left unread (NULL). */
static json_t *soft_field(struct calllog *c, json_t *obj, const char *key,
	enum ftype t, const char *prefix)
{
	json_t *v;
	char *why = NULL;
	if (get_field(obj, key, t, &v, &why))
		return v;
	note(c, "%s%s", prefix, why);
	free(why);
	return NULL;
}

/* An id-like field, likewise: unreadable ids are noted, not fatal. */
static char *soft_id(struct calllog *c, json_t *obj, const char *key,
	const char *prefix)
{
	char *id = NULL, *why = NULL;
	if (get_id(obj, key, &id, &why))
		return id;
	note(c, "%s%s", prefix, why);
	free(why);
	return NULL;
}

/* Replace secrets in CUSTOM_ACTION apiDetails (in any action, to be safe). */
static int scrub_action(json_t *action)
{
	json_t *params = json_object_get(action, "actionParameters");
	json_t *api = json_is_object(params)
			      ? json_object_get(params, "apiDetails")
			      : NULL;
	int n = 0;
	if (!json_is_object(api))
		return 0;
	json_t *auth = json_object_get(api, "authenticationValue");
	if (auth && !json_is_null(auth) &&
		!(json_is_string(auth) && json_string_length(auth) == 0)) {
		json_object_set_new(api, "authenticationValue",
			json_string(REDACTED));
		n++;
	}
	json_t *headers = json_object_get(api, "headers");
	size_t i;
	json_t *h;
	if (json_is_array(headers)) {
		json_array_foreach(headers, i, h)
		{
			json_t *val = json_is_object(h)
					      ? json_object_get(h, "value")
					      : NULL;
			if (val && !json_is_null(val)) {
				json_object_set_new(h, "value",
					json_string(REDACTED));
				n++;
			}
		}
	} else if (json_is_object(headers)) {
		const char *k;
		json_t *v;
		void *tmp;
		json_object_foreach_safe(headers, tmp, k, v)
		{
			json_object_set_new(headers, k, json_string(REDACTED));
			n++;
		}
	}
	return n;
}

/* Actions are kept whole in the canonical form; what cannot be read
 * into struct calllog_action is noted. */
static void parse_actions(json_t *obj, struct calllog *c)
{
	json_t *arr = soft_field(c, obj, "executedCallActions", F_ARRAY, "");
	if (!arr)
		return;
	size_t n = json_array_size(arr), i;
	json_t *a;
	c->actions = xcalloc(n ? n : 1, sizeof(*c->actions));
	struct buf types;
	buf_init(&types);
	json_array_foreach(arr, i, a)
	{
		char prefix[48];
		snprintf(prefix, sizeof(prefix),
			"executedCallActions[%zu]: ", i);
		if (!json_is_object(a)) {
			note(c, "%sexpected object, got %s", prefix,
				type_name(a));
			continue;
		}
		struct calllog_action *ca = &c->actions[c->n_actions++];
		/* webhook shape: "_id" instead of "actionId" */
		json_t *underscore = json_object_get(a, "_id");
		if (underscore && !json_object_get(a, "actionId")) {
			json_object_set(a, "actionId", underscore);
			json_object_del(a, "_id");
			c->shape = CALLLOG_WEBHOOK;
		}
		ca->id = soft_id(c, a, "actionId", prefix);
		ca->type = dup_str(
			soft_field(c, a, "actionType", F_STRING, prefix));
		ca->name = dup_str(
			soft_field(c, a, "actionName", F_STRING, prefix));
		json_t *v = soft_field(c, a, "executedAt", F_STRING, prefix);
		if (v && !cv_parse_iso8601(json_string_value(v),
				 &ca->executed_at))
			ca->executed_at = 0;
		if (ca->type) {
			if (strcmp(ca->type, "APPOINTMENT_BOOKING") == 0)
				c->appointment_booked = true;
			if (strcmp(ca->type, "CALL_TRANSFER") == 0)
				c->transferred = true;
			char *needle = xasprintf(",%s,", ca->type);
			char *hay = xasprintf(",%s,",
				types.data ? types.data : "");
			if (!strstr(hay, needle)) {
				if (types.len)
					buf_putc(&types, ',');
				buf_puts(&types, ca->type);
			}
			free(needle);
			free(hay);
		}
		c->n_redacted += scrub_action(a);
	}
	c->action_types = types.len ? buf_steal(&types) : NULL;
	buf_finish(&types);
}

/* Fill c from obj (which is modified: scrubbed and normalised). */
static bool parse_object(json_t *obj, const char *location_hint,
	struct calllog *c, char **reason)
{
	json_t *v;
	const char *bad = NULL;
	memset(c, 0, sizeof(*c));
	c->trial_call = c->agent_deleted = c->agent_transfer = -1;
	c->shape = CALLLOG_REST;

	if (!strings_bounded(obj, &bad)) {
		*reason = xasprintf("field \"%s\": string longer than %u bytes",
			bad ? bad : "?", CALLLOG_MAX_STRING);
		return false;
	}
	json_t *type = json_object_get(obj, "type");
	if (json_is_string(type) || json_object_get(obj, "webhookId"))
		c->shape = CALLLOG_WEBHOOK;
	if (json_is_string(type) &&
		strcmp(json_string_value(type), "VoiceAiCallEnd") != 0) {
		*reason = xasprintf("field \"type\": \"%.64s\" is not a call "
				    "log (VoiceAiCallEnd)",
			json_string_value(type));
		return false;
	}
	for (size_t i = 0; i < CV_ARRAY_LEN(envelope_keys); i++)
		json_object_del(obj, envelope_keys[i]);

	if (!get_id(obj, "id", &c->id, reason))
		return false;
	if (!c->id || !*c->id) {
		*reason = xstrdup("field \"id\": missing");
		return false;
	}
	if (!get_field(obj, "createdAt", F_STRING, &v, reason))
		return false;
	if (!v) {
		*reason = xstrdup("field \"createdAt\": missing");
		return false;
	}
	if (!cv_parse_iso8601(json_string_value(v), &c->created_at)) {
		*reason = xasprintf("field \"createdAt\": \"%.64s\" is not an "
				    "ISO 8601 date-time",
			json_string_value(v));
		return false;
	}
	c->location_id = soft_id(c, obj, "locationId", "");
	c->agent_id = soft_id(c, obj, "agentId", "");
	c->contact_id = soft_id(c, obj, "contactId", "");
	c->from_number = soft_id(c, obj, "fromNumber", "");
	c->message_id = soft_id(c, obj, "messageId", "");
	if (!c->location_id && location_hint) {
		/* the REST shape has none; an unreadable one (noted) is kept
		 * as received, and the call files under the location it was
		 * listed for */
		c->location_id = xstrdup(location_hint);
		if (!json_object_get(obj, "locationId"))
			json_object_set_new(obj, "locationId",
				json_string(location_hint));
	}
	v = soft_field(c, obj, "duration", F_NUMBER, "");
	if (v && json_number_value(v) < 0) {
		/* kept as received, but no duration to report */
		note(c, "field \"duration\": negative (%g)",
			json_number_value(v));
	} else if (v) {
		c->duration = json_number_value(v);
		c->has_duration = true;
	}
	c->trial_call = tri(soft_field(c, obj, "trialCall", F_BOOL, ""));
	c->agent_deleted = tri(
		soft_field(c, obj, "isAgentDeleted", F_BOOL, ""));
	c->agent_transfer = tri(
		soft_field(c, obj, "agentTransferOccurred", F_BOOL, ""));
	c->summary = dup_str(soft_field(c, obj, "summary", F_STRING, ""));
	c->transcript = dup_str(soft_field(c, obj, "transcript", F_STRING, ""));
	parse_actions(obj, c);
	notes_close(c);
	if (c->agent_transfer == 1)
		c->transferred = true;

	char *canon = json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT);
	if (!canon)
		abort();
	c->canonical_len = strlen(canon);
	c->canonical = canon;
	if (c->canonical_len > CALLLOG_MAX_RECORD) {
		*reason = xasprintf("record larger than %u bytes",
			CALLLOG_MAX_RECORD);
		return false;
	}
	cv_sha256_hex(canon, c->canonical_len, c->canonical_sha256);
	return true;
}

void calllog_finish(struct calllog *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->location_id);
	free(c->agent_id);
	free(c->contact_id);
	free(c->from_number);
	free(c->message_id);
	free(c->summary);
	free(c->transcript);
	for (size_t i = 0; i < c->n_actions; i++) {
		free(c->actions[i].id);
		free(c->actions[i].type);
		free(c->actions[i].name);
	}
	free(c->actions);
	free(c->action_types);
	free(c->notes);
	free(c->canonical);
	memset(c, 0, sizeof(*c));
}

/* Load JSON text with our bounds; NULL and *reason on failure. */
static json_t *load_bounded(const char *bytes, size_t n, char **reason)
{
	if (n > CALLLOG_MAX_PAYLOAD) {
		*reason = xasprintf("payload larger than %u bytes",
			CALLLOG_MAX_PAYLOAD);
		return NULL;
	}
	if (calllog_json_depth(bytes, n, CALLLOG_MAX_DEPTH) >
		CALLLOG_MAX_DEPTH) {
		*reason = xasprintf("JSON nested deeper than %d levels",
			CALLLOG_MAX_DEPTH);
		return NULL;
	}
	json_error_t err;
	json_t *root = json_loadb(bytes, n,
		JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
	if (!root) {
		*reason = xasprintf("invalid JSON at line %d column %d: %s",
			err.line, err.column, err.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		*reason = xasprintf("expected a JSON object, got %s",
			type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Parse one record. obj is normalised in place; a list element keeps an
 * untouched copy so that a rejection can quarantine it as received. */
static void parse_item(json_t *obj, const char *location_hint, bool keep_raw,
	struct calllog_item *it)
{
	memset(it, 0, sizeof(*it));
	json_t *orig = keep_raw ? json_deep_copy(obj) : NULL;
	if (!parse_object(obj, location_hint, &it->rec, &it->reason)) {
		calllog_finish(&it->rec);
		if (orig) {
			it->raw = json_dumps(orig,
				JSON_COMPACT | JSON_ENCODE_ANY);
			it->raw_len = it->raw ? strlen(it->raw) : 0;
		}
	}
	json_decref(orig);
}

static int64_t int_field(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? cv_count_of(json_number_value(v)) : -1;
}

enum cv_err calllog_parse_payload(const char *bytes, size_t n,
	const char *location_hint, struct calllog_batch *out, char **reason)
{
	memset(out, 0, sizeof(*out));
	out->total = out->page = out->page_size = -1;
	json_t *root = load_bounded(bytes, n, reason);
	if (!root)
		return CV_EPARSE;
	json_t *list = json_object_get(root, "callLogs");
	if (list && !json_object_get(root, "id")) {
		if (!json_is_array(list)) {
			*reason =
				xasprintf("field \"callLogs\": expected array,"
					  " got %s",
					type_name(list));
			json_decref(root);
			return CV_EPARSE;
		}
		out->is_list = true;
		out->total = int_field(root, "total");
		out->page = int_field(root, "page");
		out->page_size = int_field(root, "pageSize");
		size_t i;
		json_t *el;
		out->items = xcalloc(json_array_size(list) + 1,
			sizeof(*out->items));
		json_array_foreach(list, i, el)
		{
			struct calllog_item *it = &out->items[out->n++];
			if (!json_is_object(el)) {
				memset(it, 0, sizeof(*it));
				it->reason =
					xasprintf("callLogs[%zu]: expected "
						  "object, got %s",
						i, type_name(el));
				it->raw = json_dumps(el,
					JSON_COMPACT | JSON_ENCODE_ANY);
				it->raw_len = it->raw ? strlen(it->raw) : 0;
				continue;
			}
			parse_item(el, location_hint, true, it);
		}
	} else {
		out->items = xcalloc(1, sizeof(*out->items));
		out->n = 1;
		parse_item(root, location_hint, false, &out->items[0]);
	}
	json_decref(root);
	return CV_OK;
}

void calllog_batch_finish(struct calllog_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		calllog_finish(&b->items[i].rec);
		free(b->items[i].reason);
		free(b->items[i].raw);
	}
	free(b->items);
	memset(b, 0, sizeof(*b));
}

enum cv_err calllog_parse_one(const char *bytes, size_t n,
	const char *location_hint, struct calllog *out, char **reason)
{
	memset(out, 0, sizeof(*out));
	json_t *root = load_bounded(bytes, n, reason);
	if (!root)
		return CV_EPARSE;
	bool ok = parse_object(root, location_hint, out, reason);
	json_decref(root);
	if (!ok) {
		calllog_finish(out);
		return CV_EPARSE;
	}
	return CV_OK;
}

enum cv_err calllog_from_canonical(const char *json, size_t n,
	struct calllog *out, char **errmsg)
{
	char *reason = NULL;
	enum cv_err rc = calllog_parse_one(json, n, NULL, out, &reason);
	if (rc != CV_OK) {
		cv_error(errmsg, rc, "stored record does not parse: %s",
			reason);
		free(reason);
	}
	return rc;
}

enum cv_err calllog_event_envelope(const char *bytes, size_t n,
	struct calllog_envelope *out, struct calllog_batch *call, char **reason)
{
	memset(out, 0, sizeof(*out));
	if (call) {
		memset(call, 0, sizeof(*call));
		call->total = call->page = call->page_size = -1;
	}
	json_t *root = load_bounded(bytes, n, reason);
	if (!root)
		return CV_EPARSE;
	bool ok = get_id(root, "type", &out->type, reason) &&
		  get_id(root, "webhookId", &out->webhook_id, reason) &&
		  get_id(root, "messageId", &out->message_id, reason) &&
		  get_id(root, "messageType", &out->message_type, reason) &&
		  get_id(root, "locationId", &out->location_id, reason);
	if (ok) {
		json_t *ts = json_object_get(root, "timestamp");
		if (!json_is_string(ts) ||
			!cv_parse_iso8601(json_string_value(ts),
				&out->timestamp_ms))
			out->timestamp_ms = 0;
		out->call_end = out->type ? strcmp(out->type,
						    "VoiceAiCallEnd") == 0
					  : json_object_get(root, "agentId") &&
						    json_object_get(root,
							    "transcript");
		if (out->call_end)
			ok = get_id(root, "id", &out->call_id, reason);
	}
	if (ok && out->call_end && call) {
		/* the call log, from the same parse */
		call->items = xcalloc(1, sizeof(*call->items));
		call->n = 1;
		parse_item(root, NULL, false, &call->items[0]);
	}
	json_decref(root);
	return ok ? CV_OK : CV_EPARSE;
}

void calllog_envelope_finish(struct calllog_envelope *e)
{
	free(e->type);
	free(e->webhook_id);
	free(e->message_id);
	free(e->message_type);
	free(e->location_id);
	free(e->call_id);
	memset(e, 0, sizeof(*e));
}

const char *calllog_speaker_name(enum calllog_speaker s)
{
	return s == CALLLOG_BOT ? "bot" : s == CALLLOG_HUMAN ? "human" : "";
}

static enum calllog_speaker speaker_prefix(const char *line, size_t len,
	size_t *skip)
{
	static const struct {
		const char *p;
		enum calllog_speaker s;
	} pre[] = { { "bot:", CALLLOG_BOT }, { "human:", CALLLOG_HUMAN } };
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	for (size_t k = 0; k < CV_ARRAY_LEN(pre); k++) {
		size_t pl = strlen(pre[k].p);
		if (len - i >= pl && strncasecmp(line + i, pre[k].p, pl) == 0) {
			i += pl;
			while (i < len && (line[i] == ' ' || line[i] == '\t'))
				i++;
			*skip = i;
			return pre[k].s;
		}
	}
	*skip = 0;
	return CALLLOG_OTHER;
}

size_t calllog_turns(const char *transcript, struct calllog_turn **out)
{
	size_t n = 0, cap = 16;
	struct calllog_turn *t = xmalloc(cap * sizeof(*t));
	const char *p = transcript ? transcript : "";
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		size_t trimmed = len;
		if (trimmed && p[trimmed - 1] == '\r')
			trimmed--;
		size_t skip;
		enum calllog_speaker s = speaker_prefix(p, trimmed, &skip);
		if (s == CALLLOG_OTHER && n > 0) {
			/* continuation of the previous turn */
			t[n - 1].len = (size_t)(p + trimmed - t[n - 1].text);
		} else if (trimmed > 0) {
			if (n == cap)
				t = xrealloc(t, (cap *= 2) * sizeof(*t));
			t[n].speaker = s;
			t[n].text = p + skip;
			t[n].len = trimmed - skip;
			n++;
		}
		p += len + (nl ? 1 : 0);
	}
	*out = t;
	return n;
}

bool calllog_e164(const char *in, char out[20])
{
	char digits[20];
	size_t nd = 0;
	bool plus = false;
	if (!in)
		return false;
	for (const char *p = in; *p; p++) {
		if (*p == '+' && nd == 0)
			plus = true;
		else if (*p >= '0' && *p <= '9') {
			if (nd >= 17)
				return false;
			digits[nd++] = *p;
		} else if (!strchr(" ()-./\t", *p)) {
			return false;
		}
	}
	digits[nd] = '\0';
	const char *d = digits;
	if (!plus && nd > 2 && d[0] == '0' && d[1] == '0') {
		d += 2;
		nd -= 2;
		plus = true;
	}
	size_t o = 0;
	out[o++] = '+';
	if (!plus && nd == 10)
		out[o++] = '1'; /* NANP without its country code */
	else if (nd < 7 || nd > 15)
		return false;
	memcpy(out + o, d, nd);
	out[o + nd] = '\0';
	return true;
}
