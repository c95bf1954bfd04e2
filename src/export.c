/* export.c — see export.h */
#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_audit.h"
#include "store/store_export.h"

#define FLUSH_AT (64 * 1024)

static const char *const columns[] = { "id", "locationId", "agentId",
	"agentName", "contactId", "fromNumber", "createdAt", "duration",
	"trialCall", "actionTypes", "appointmentBooked", "transferred",
	"summary" };

void export_csv_field(struct buf *b, const char *s, bool last)
{
	if (s && s[strcspn(s, ",\"\r\n")]) {
		buf_putc(b, '"');
		for (const char *p = s; *p;) {
			size_t n = strcspn(p, "\"");
			buf_append(b, p, n);
			p += n;
			if (*p == '"') {
				buf_append(b, "\"\"", 2);
				p++;
			}
		}
		buf_putc(b, '"');
	} else if (s) {
		buf_puts(b, s);
	}
	buf_append(b, last ? "\r\n" : ",", last ? 2 : 1);
}

/* Bytes that need escaping in a JSON string. */
static size_t json_safe_span(const unsigned char *p)
{
	const unsigned char *q = p;
	while (*q >= 0x20 && *q != '"' && *q != '\\')
		q++;
	return (size_t)(q - p);
}

void export_json_string(struct buf *b, const char *s)
{
	if (!s) {
		buf_append(b, "null", 4);
		return;
	}
	buf_putc(b, '"');
	const unsigned char *p = (const unsigned char *)s;
	for (;;) {
		size_t n = json_safe_span(p);
		buf_append(b, p, n);
		p += n;
		if (!*p)
			break;
		switch (*p) {
		case '"': buf_append(b, "\\\"", 2); break;
		case '\\': buf_append(b, "\\\\", 2); break;
		case '\n': buf_append(b, "\\n", 2); break;
		case '\r': buf_append(b, "\\r", 2); break;
		case '\t': buf_append(b, "\\t", 2); break;
		default: buf_printf(b, "\\u%04x", *p); break;
		}
		p++;
	}
	buf_putc(b, '"');
}

static const char *tri(int v)
{
	return v < 0 ? NULL : v ? "true" : "false";
}

static void csv_row(struct buf *b, const struct store_export_row *r)
{
	char ts[32], dur[32] = "";
	cv_format_iso8601(r->created_at, ts);
	if (r->has_duration)
		snprintf(dur, sizeof(dur), "%.15g", r->duration);
	const char *v[] = { r->id, r->location_id, r->agent_id, r->agent_name,
		r->contact_id, r->from_number, ts, dur, tri(r->trial_call),
		r->action_types, tri(r->appointment_booked),
		tri(r->transferred), r->summary };
	for (size_t i = 0; i < CV_ARRAY_LEN(v); i++)
		export_csv_field(b, v[i], i + 1 == CV_ARRAY_LEN(v));
}

static void json_types(struct buf *b, const char *types)
{
	buf_putc(b, '[');
	const char *p = types ? types : "";
	bool first = true;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n) {
			char *t = xstrndup(p, n);
			if (!first)
				buf_putc(b, ',');
			export_json_string(b, t);
			free(t);
			first = false;
		}
		p += n + (p[n] == ',');
	}
	buf_putc(b, ']');
}

static void jsonl_row(struct buf *b, const struct store_export_row *r)
{
	char ts[32];
	cv_format_iso8601(r->created_at, ts);
	const char *strs[] = { r->id, r->location_id, r->agent_id,
		r->agent_name, r->contact_id, r->from_number, ts };
	buf_putc(b, '{');
	for (size_t i = 0; i < CV_ARRAY_LEN(strs); i++) {
		buf_printf(b, "%s\"%s\":", i ? "," : "", columns[i]);
		export_json_string(b, strs[i]);
	}
	if (r->has_duration)
		buf_printf(b, ",\"duration\":%.15g", r->duration);
	else
		buf_puts(b, ",\"duration\":null");
	const char *t = tri(r->trial_call);
	buf_printf(b, ",\"trialCall\":%s,\"actionTypes\":", t ? t : "null");
	json_types(b, r->action_types);
	buf_printf(b, ",\"appointmentBooked\":%s,\"transferred\":%s,"
		      "\"summary\":",
		tri(r->appointment_booked), tri(r->transferred));
	export_json_string(b, r->summary);
	buf_puts(b, "}\n");
}

struct run {
	const struct export_opts *o;
	const struct export_out *out;
	struct buf b;
	struct export_result *res;
	enum cv_err werr;
};

static int flush(struct run *r)
{
	if (r->b.len && r->werr == CV_OK)
		r->werr = r->out->write(r->out->ctx, r->b.data, r->b.len);
	buf_reset(&r->b);
	return r->werr != CV_OK;
}

static int on_row(const struct store_export_row *row, void *arg)
{
	struct run *r = arg;
	if (r->o->format == EXPORT_CSV)
		csv_row(&r->b, row);
	else
		jsonl_row(&r->b, row);
	r->res->rows++;
	if (row->version_id > r->res->to_version)
		r->res->to_version = row->version_id;
	return r->b.len >= FLUSH_AT ? flush(r) : 0;
}

/* The audit detail: o->detail with the run's figures added. */
static char *detail_of(const struct export_opts *o,
	const struct export_result *res)
{
	const char *d = o->detail ? o->detail : "{}";
	size_t n = strlen(d);
	while (n > 0 && d[n - 1] != '}')
		n--;
	bool empty = n < 2 || strspn(d + 1, " \t\n") >= n - 2;
	return xasprintf("%.*s%s\"rows\":%lld,\"fromVersion\":%lld,"
			 "\"toVersion\":%lld}",
		n ? (int)n - 1 : 1, n ? d : "{", empty ? "" : ",",
		(long long)res->rows, (long long)res->from_version,
		(long long)res->to_version);
}

static enum cv_err finish(struct store *s, const struct export_opts *o,
	const struct export_out *out, const struct export_result *res,
	char **errmsg)
{
	enum cv_err rc = store_begin(s, errmsg);
	if (rc != CV_OK)
		return rc;
	if (o->since_last)
		rc = store_cursor_set(s, o->since_last, res->to_version,
			res->rows, errmsg);
	char *detail = detail_of(o, res);
	if (rc == CV_OK)
		rc = store_audit_append(s, o->actor, "export", detail,
			res->rows, errmsg);
	free(detail);
	if (rc == CV_OK)
		rc = out->commit(out->ctx, errmsg);
	if (rc == CV_OK)
		rc = store_commit(s, errmsg);
	else
		store_rollback(s);
	return rc;
}

enum cv_err export_run(struct store *s, const struct export_opts *o,
	const struct export_out *out, struct export_result *res,
	char **errmsg)
{
	memset(res, 0, sizeof(*res));
	enum cv_err rc = CV_OK;
	if (o->since_last)
		rc = store_cursor_get(s, o->since_last, &res->from_version,
			errmsg);
	if (rc != CV_OK)
		return rc;
	res->to_version = res->from_version;
	struct run r = { .o = o, .out = out, .res = res };
	buf_init(&r.b);
	if (o->format == EXPORT_CSV)
		for (size_t i = 0; i < CV_ARRAY_LEN(columns); i++)
			export_csv_field(&r.b, columns[i],
				i + 1 == CV_ARRAY_LEN(columns));
	rc = store_export_each(s, o->filter, o->plan, res->from_version,
		o->since_last != NULL, on_row, &r, errmsg);
	if (rc == CV_OK)
		flush(&r);
	if (rc == CV_OK && r.werr != CV_OK)
		rc = cv_error(errmsg, r.werr, "writing the export failed");
	else if (rc == CV_EIO && r.werr != CV_OK) {
		if (errmsg) {
			free(*errmsg);
			*errmsg = NULL;
		}
		rc = cv_error(errmsg, r.werr, "writing the export failed");
	}
	buf_finish(&r.b);
	if (rc == CV_OK)
		rc = finish(s, o, out, res, errmsg);
	return rc;
}
