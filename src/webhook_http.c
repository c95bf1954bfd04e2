/* webhook_http.c — see webhook_http.h */
#include "webhook_http.h"

#include <string.h>
#include <strings.h>

#include "util.h"

bool webhook_is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, sizeof(want) - 1) != 0)
		return false;
	ct += sizeof(want) - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind,
	const char *key, const char *value)
{
	static const char *const names[3] = { "x-ghl-signature",
		"x-wh-signature", "x-highlevel-signature" };
	struct webhook_sig_scan *sc = cls;
	const char **slot[3] = { &sc->h.ghl, &sc->h.wh, &sc->h.hmac };
	for (int i = 0; i < 3; i++) {
		if (key && strcasecmp(key, names[i]) == 0) {
			sc->count[i]++;
			*slot[i] = value ? value : "";
		}
	}
	return MHD_YES;
}

void webhook_scan_signatures(struct MHD_Connection *c,
	struct webhook_sig_scan *sc)
{
	memset(sc, 0, sizeof(*sc));
	MHD_get_connection_values(c, MHD_HEADER_KIND, scan_header, sc);
}

struct hs_scan {
	const char *name, *value;
	int count;
};

static enum MHD_Result scan_header_secret(void *cls, enum MHD_ValueKind kind,
	const char *key, const char *value)
{
	struct hs_scan *hs = cls;
	if (key && strcasecmp(key, hs->name) == 0) {
		hs->count++;
		hs->value = value ? value : "";
	}
	return MHD_YES;
}

bool webhook_header_secret_ok(const struct sig_verifier *v,
	struct MHD_Connection *c, const char **why)
{
	struct hs_scan hs = { .name = sig_header_secret_name(v) };
	MHD_get_connection_values(c, MHD_HEADER_KIND, scan_header_secret, &hs);
	*why = hs.count == 0  ? "no header secret"
	       : hs.count > 1 ? "the header secret appears more than once"
	       : !sig_header_secret_ok(v, hs.value)
		       ? "the header secret does not match"
		       : NULL;
	return !*why;
}

/* The headers that say where a request's body ends. */
struct framing {
	const char *length;  /* the first Content-Length */
	bool lengths_differ; /* another one disagrees with it */
	bool transfer_encoding;
};

static enum MHD_Result scan_framing(void *cls, enum MHD_ValueKind kind,
	const char *key, const char *value)
{
	struct framing *f = cls;
	if (!key)
		return MHD_YES;
	if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		f->transfer_encoding = true;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) != 0)
		return MHD_YES;
	if (!f->length)
		f->length = value ? value : "";
	else if (strcmp(f->length, value ? value : "") != 0)
		f->lengths_differ = true;
	return MHD_YES;
}

const char *webhook_ambiguous_framing(struct MHD_Connection *c)
{
	struct framing f = { 0 };
	MHD_get_connection_values(c, MHD_HEADER_KIND, scan_framing, &f);
	if (f.lengths_differ)
		return "{\"error\":\"Content-Length headers disagree\"}";
	if (f.length && f.transfer_encoding)
		return "{\"error\":\"Content-Length together with "
		       "Transfer-Encoding\"}";
	return NULL;
}

/* Text SQLite puts in its errors (sqlite3_errstr), which store errors
 * carry: an answer must not tell a client what the store said. */
static const char *const db_error_texts[] = {
	"database is locked",
	"database table is locked",
	"disk I/O error",
	"database disk image is malformed",
	"file is not a database",
	"database or disk is full",
	"unable to open database file",
	"SQL logic error",
	"constraint failed",
	"out of memory",
	"attempt to write a readonly database",
	"database schema has changed",
	"sqlite",
	"SQLITE_",
};

static bool has_db_error_text(const struct buf *b)
{
	if (!b->data)
		return false;
	for (size_t i = 0; i < CV_ARRAY_LEN(db_error_texts); i++)
		if (memmem(b->data, b->len, db_error_texts[i],
			    strlen(db_error_texts[i])))
			return true;
	return false;
}

void webhook_scrub_error(struct console_response *res)
{
	if (res->stream || res->status < 400 ||
		(res->status < 500 && !has_db_error_text(&res->body)))
		return;
	cv_warn("msg=\"console: error answer\" status=%u detail=\"%.*s\"",
		res->status, res->body.len > 300 ? 300 : (int)res->body.len,
		res->body.data ? res->body.data : "");
	buf_finish(&res->body);
	buf_init(&res->body);
	buf_puts(&res->body,
		res->status >= 500
			? "{\"error\":\"internal error; the server log has "
			  "the detail\"}"
			: "{\"error\":\"the request could not be carried out; "
			  "the server log has the detail\"}");
	res->type = "application/json";
	res->html = false;
}
