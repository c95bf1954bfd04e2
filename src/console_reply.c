/* console_reply.c — request decoding (%-escapes, query arguments, form
 * fields) and JSON replies (console_int.h). */
#include "console_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decode n bytes of %-escaped (and + for space) text into a new string
 * of *len bytes, which may hold NUL bytes (a NUL follows them); NULL when
 * a % is not followed by two hex digits. */
static char *pct_decode_raw(const char *in, size_t n, size_t *len)
{
	char *out = xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (in[i] == '+') {
			out[k++] = ' ';
		} else if (in[i] != '%') {
			out[k++] = in[i];
		} else if (i + 2 < n && (hi = cv_hex_digit(in[i + 1])) >= 0 &&
			   (lo = cv_hex_digit(in[i + 2])) >= 0) {
			out[k++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	out[k] = '\0';
	*len = k;
	return out;
}

/* The same, NULL also when the result holds a NUL byte or is not UTF-8. */
char *cx_pct_decode(const char *in, size_t n)
{
	size_t k;
	char *out = pct_decode_raw(in, n, &k);
	if (out && (memchr(out, '\0', k) || !cv_utf8_valid(out, k))) {
		free(out);
		return NULL;
	}
	return out;
}

const char *cx_own(struct ctx *x, char *s)
{
	if (!s)
		return NULL;
	if (x->n_owned == MAX_OWNED) {
		free(s);
		return NULL;
	}
	x->owned[x->n_owned++] = s;
	return s;
}

/* A query argument, decoded (NULL when absent or empty). */
const char *cx_arg(struct ctx *x, const char *key)
{
	const char *v = x->req->get(x->req->ctx, CONSOLE_ARG, key);
	if (!v || !*v)
		return NULL;
	return cx_own(x, cx_pct_decode(v, strlen(v)));
}

/* A field of the urlencoded request body, still escaped: its *len
 * bytes (NULL when absent). */
const char *cx_form_raw(struct ctx *x, const char *key, size_t *len)
{
	const char *p = x->req->body ? x->req->body : "";
	const char *end = p + x->req->body_len;
	size_t klen = strlen(key);
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - p) > klen && strncmp(p, key, klen) == 0 &&
			p[klen] == '=') {
			*len = (size_t)(stop - p) - klen - 1;
			return p + klen + 1;
		}
		p = stop + 1;
	}
	return NULL;
}

/* A field of the urlencoded request body, decoded (NULL when absent,
 * empty or not decodable). */
const char *cx_form(struct ctx *x, const char *key)
{
	size_t n = 0;
	const char *v = cx_form_raw(x, key, &n);
	return v && n ? cx_own(x, cx_pct_decode(v, n)) : NULL;
}

/*
 * A filter's value from the query string (or the form body), %-decoded
 * but not yet checked: search_filters_parse refuses an empty value, a
 * NUL byte or bytes that are not UTF-8, naming the filter. false after
 * a 400 when it does not %-decode at all.
 */
bool cx_filter_value(struct ctx *x, bool in_form, const char *key,
	struct search_filter_arg *a)
{
	size_t n = 0;
	const char *raw = in_form ? cx_form_raw(x, key, &n)
				  : x->req->get(x->req->ctx, CONSOLE_ARG, key);
	a->p = NULL;
	a->len = 0;
	if (!raw)
		return true;
	if (!in_form)
		n = strlen(raw);
	char *d = pct_decode_raw(raw, n, &a->len);
	if (!d || !cx_own(x, d)) {
		char *msg = xasprintf("%s has a bad %%-escape", key);
		cx_reply_error(x, 400, msg);
		free(msg);
		return false;
	}
	a->p = d;
	return true;
}

const char *cx_header(struct ctx *x, const char *key)
{
	return x->req->get(x->req->ctx, CONSOLE_HEADER, key);
}

/* Dump JSON with <, > and & escaped, so no reader can take it for HTML. */
void cx_reply_json(struct ctx *x, unsigned status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	struct console_response *r = x->res;
	r->status = status;
	r->type = "application/json";
	buf_reset(&r->body);
	for (const char *p = s ? s : "null"; *p; p++) {
		if (*p == '<' || *p == '>' || *p == '&')
			buf_printf(&r->body, "\\u%04x", (unsigned)*p);
		else
			buf_putc(&r->body, *p);
	}
	free(s);
}

void cx_reply_error(struct ctx *x, unsigned status, const char *msg)
{
	cx_reply_json(x, status, json_pack("{s:s}", "error", msg));
}

json_t *cx_jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *cx_jtime(int64_t ms)
{
	char ts[32];
	if (!ms)
		return json_null();
	cv_format_iso8601(ms, ts);
	return json_string(ts);
}
