/* bagfmt.c — see bagfmt.h */
#include "bagfmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bagjson.h"
#include "calllog.h"

void bagfmt_cat(struct buf *b, ...)
{
	va_list ap;
	va_start(ap, b);
	const char *s;
	while ((s = va_arg(ap, const char *)))
		buf_puts(b, s);
	va_end(ap);
}

static void iso_or_empty(struct buf *l, int64_t ms)
{
	char ts[32];
	cv_format_iso8601(ms, ts);
	buf_puts(l, ts);
}

void bagfmt_version(struct buf *l, const char *call_id,
	const struct store_version *v)
{
	enum store_source src = v->source; /* the original one */
	buf_puts(l, "{\"callId\":");
	bagjson_cstr(l, call_id);
	bagfmt_cat(l, ",\"canonicalSha256\":\"", v->canonical_sha256,
		"\",\"rawSha256\":\"", v->raw_sha256, "\",\"receivedAt\":\"",
		NULL);
	iso_or_empty(l, v->received_at);
	buf_puts(l, "\",\"record\":");
	buf_puts(l, v->canonical);
	buf_printf(l, ",\"redacted\":%d,\"seq\":%d,\"source\":\"%s\"",
		v->redacted, v->seq, store_source_name(src));
	/* how it was authenticated, and why it never became current: a
	 * restore ranks it the same way (keys stay sorted) */
	if (v->auth != CRED_UNRECORDED)
		buf_printf(l, ",\"trust\":\"%s\"", store_cred_name(v->auth));
	buf_puts(l, "}\n");
}

void bagfmt_event(struct buf *l, const struct store_event *e)
{
	if (e->withheld) {
		buf_puts(l, "{\"bodyWithheld\":true");
	} else if (cv_utf8_valid(e->body, e->body_len) &&
		   !memchr(e->body, '\0', e->body_len)) {
		buf_puts(l, "{\"body\":");
		bagjson_str(l, e->body, e->body_len);
	} else {
		buf_puts(l, "{\"bodyBase64\":\"");
		bagjson_base64(l, e->body, e->body_len);
		buf_putc(l, '"');
	}
	buf_printf(l, ",\"bodySha256\":\"%s\"", e->body_sha256);
	bagjson_member(l, "callId", e->call_id);
	bagjson_member(l, "dedupKey", e->dedup_key);
	bagjson_member(l, "locationId", e->location_id);
	bagjson_member(l, "messageId", e->message_id);
	bagjson_member(l, "outcome", e->outcome);
	buf_puts(l, ",\"receivedAt\":\"");
	iso_or_empty(l, e->received_at);
	buf_putc(l, '"');
	bagjson_member(l, "signature", e->signature);
	bagjson_member(l, "type", e->type);
	buf_puts(l, "}\n");
}

/* RFC 4180 field: quoted when it holds a comma, quote, CR or LF. */
void bagfmt_csv_field(struct buf *l, const char *s, bool last)
{
	if (s && s[strcspn(s, ",\"\r\n")]) {
		buf_putc(l, '"');
		for (; *s; s++) {
			if (*s == '"')
				buf_putc(l, '"');
			buf_putc(l, *s);
		}
		buf_putc(l, '"');
	} else if (s) {
		buf_puts(l, s);
	}
	buf_puts(l, last ? "\r\n" : ",");
}

void bagfmt_transcript(struct buf *l, const struct store_arch_call *c)
{
	char ts[32];
	cv_format_iso8601(c->created_at, ts);
	const char *dash = "-";
	bagfmt_cat(l, "Call:      ", c->id, "\nCreated:   ", ts,
		"\nLocation:  ", c->location_id ? c->location_id : dash,
		"\nAgent:     ", NULL);
	if (c->agent_name)
		bagfmt_cat(l, c->agent_name, " (",
			c->agent_id ? c->agent_id : dash, ")", NULL);
	else
		buf_puts(l, c->agent_id ? c->agent_id : dash);
	bagfmt_cat(l, "\nContact:   ", c->contact_id ? c->contact_id : dash,
		"\nFrom:      ", c->from_number ? c->from_number : dash, "\n",
		NULL);
	if (c->has_duration) {
		char d[64];
		snprintf(d, sizeof(d), "Duration:  %.15g s\n", c->duration);
		buf_puts(l, d);
	}
	bagfmt_cat(l, "Summary:   ", c->summary ? c->summary : "(none)", "\n\n",
		NULL);
	struct calllog_turn *turns;
	size_t n = calllog_turns(c->transcript, &turns);
	for (size_t i = 0; i < n; i++) {
		const char *who = calllog_speaker_name(turns[i].speaker);
		bagfmt_cat(l, who, *who ? ": " : "", NULL);
		buf_append(l, turns[i].text, turns[i].len);
		buf_putc(l, '\n');
	}
	if (n == 0)
		buf_puts(l, "(no transcript)\n");
	free(turns);
}
