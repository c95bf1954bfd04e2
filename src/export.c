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
/* an incremental export's (--since-last) extra columns, last */
static const char *const cursor_columns[] = { "updatedAt", "operation" };

/* A spreadsheet runs a cell starting with = + - @ TAB or CR as a formula
 * (OWASP, "CSV Injection"). A leading ' is marked too, so that the
 * marking is undone exactly by removing one leading ' from every cell. */
static bool formula_like(const char *s)
{
	return *s && strchr("=+-@\t\r'", *s);
}

static bool all_digits(const char *s)
{
	return *s && s[strspn(s, "0123456789")] == '\0';
}

/* s quoted (RFC 4180: "" for "), after a ' when mark. */
static void quoted(struct buf *b, const char *s, bool mark)
{
	buf_putc(b, '"');
	if (mark)
		buf_putc(b, '\'');
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
}

static void end_field(struct buf *b, bool last)
{
	buf_append(b, last ? "\r\n" : ",", last ? 2 : 1);
}

void export_csv_field(struct buf *b, const char *s, bool last)
{
	if (s && formula_like(s))
		quoted(b, s, true);
	else if (s && s[strcspn(s, ",\"\r\n")])
		quoted(b, s, false);
	else if (s)
		buf_puts(b, s);
	end_field(b, last);
}

void export_csv_id(struct buf *b, const char *s, bool last)
{
	if (s)
		quoted(b, s, formula_like(s) || all_digits(s));
	end_field(b, last);
}

/* A value callvault formatted itself (a number, a time, true/false):
 * never holds a separator, and a spreadsheet reading it as a number (a
 * negative duration too) reads what it is. */
static void csv_value(struct buf *b, const char *s, bool last)
{
	if (s)
		buf_puts(b, s);
	end_field(b, last);
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

static const char *operation(const struct store_export_row *r,
	int64_t from_version)
{
	return r->first_version_id > from_version ? "new" : "changed";
}

static void csv_row(struct buf *b, const struct store_export_row *r,
	const struct export_result *res, bool cursor)
{
	char ts[32], dur[32] = "", upd[32];
	cv_format_iso8601(r->created_at, ts);
	if (r->has_duration)
		snprintf(dur, sizeof(dur), "%.15g", r->duration);
	const char *ids[] = { r->id, r->location_id, r->agent_id };
	for (size_t i = 0; i < CV_ARRAY_LEN(ids); i++)
		export_csv_id(b, ids[i], false);
	export_csv_field(b, r->agent_name, false);
	export_csv_id(b, r->contact_id, false);
	export_csv_id(b, r->from_number, false);
	const char *v[] = { ts, dur, tri(r->trial_call) };
	for (size_t i = 0; i < CV_ARRAY_LEN(v); i++)
		csv_value(b, v[i], false);
	export_csv_field(b, r->action_types, false);
	csv_value(b, tri(r->appointment_booked), false);
	csv_value(b, tri(r->transferred), false);
	export_csv_field(b, r->summary, !cursor);
	if (!cursor)
		return;
	cv_format_iso8601(r->updated_at, upd);
	csv_value(b, upd, false);
	csv_value(b, operation(r, res->from_version), true);
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

static void jsonl_row(struct buf *b, const struct store_export_row *r,
	const struct export_result *res, bool cursor)
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
	buf_printf(b,
		",\"appointmentBooked\":%s,\"transferred\":%s,"
		"\"summary\":",
		tri(r->appointment_booked), tri(r->transferred));
	export_json_string(b, r->summary);
	if (cursor) {
		char upd[32];
		cv_format_iso8601(r->updated_at, upd);
		buf_printf(b, ",\"updatedAt\":\"%s\",\"operation\":\"%s\"", upd,
			operation(r, res->from_version));
	}
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
	bool cursor = r->o->since_last != NULL;
	if (r->o->format == EXPORT_CSV)
		csv_row(&r->b, row, r->res, cursor);
	else
		jsonl_row(&r->b, row, r->res, cursor);
	r->res->rows++;
	if (row->version_id > r->res->to_version)
		r->res->to_version = row->version_id;
	return r->b.len >= FLUSH_AT ? flush(r) : 0;
}

static void csv_header(struct buf *b, const struct export_opts *o)
{
	bool cursor = o->since_last != NULL;
	if (o->bom)
		buf_puts(b, "\xEF\xBB\xBF");
	for (size_t i = 0; i < CV_ARRAY_LEN(columns); i++)
		csv_value(b, columns[i],
			!cursor && i + 1 == CV_ARRAY_LEN(columns));
	for (size_t i = 0; cursor && i < CV_ARRAY_LEN(cursor_columns); i++)
		csv_value(b, cursor_columns[i],
			i + 1 == CV_ARRAY_LEN(cursor_columns));
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
	const struct export_out *out, struct export_result *res, char **errmsg)
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
		csv_header(&r.b, o);
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

enum cv_err export_cursor_reset(struct store *s, const char *name,
	const char *actor, struct store_cursor *before, char **errmsg)
{
	enum cv_err rc = store_begin(s, errmsg);
	if (rc == CV_OK)
		rc = store_cursor_delete(s, name, before, errmsg);
	if (rc == CV_OK && !before->name)
		rc = cv_error(errmsg, CV_ENOTFOUND,
			"no export cursor named "
			"'%s' (export --list-cursors lists them)",
			name);
	if (rc == CV_OK) {
		char at[32];
		cv_format_iso8601(before->updated_at, at);
		struct buf d;
		buf_init(&d);
		buf_printf(&d,
			"{\"lastExportAt\":\"%s\",\"lastRows\":%lld,"
			"\"name\":",
			at, (long long)before->last_rows);
		export_json_string(&d, name);
		buf_printf(&d, ",\"throughVersion\":%lld}",
			(long long)before->version_id);
		rc = store_audit_append(s, actor, "export reset-cursor", d.data,
			0, errmsg);
		buf_finish(&d);
	}
	if (rc == CV_OK)
		rc = store_commit(s, errmsg);
	else
		store_rollback(s);
	return rc;
}
