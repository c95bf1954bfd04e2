/*
 * webhook_http.h — what the receiver reads from a request's headers, and
 * what it lets an answer say (libmicrohttpd types; part of the HTTP
 * server's module, apart so that http_server.c keeps to serving).
 */
#ifndef CV_WEBHOOK_HTTP_H
#define CV_WEBHOOK_HTTP_H

#include <microhttpd.h>
#include <stdbool.h>

#include "console.h"
#include "signature.h"

/* Content-Type is application/json (any case, parameters allowed). */
bool webhook_is_json_type(const char *ct);

/* The signature headers of c and how often each appears (a header that
 * appears more than once is refused). */
struct webhook_sig_scan {
	struct sig_headers h;
	int count[3];
};
void webhook_scan_signatures(struct MHD_Connection *c,
	struct webhook_sig_scan *sc);

/* Whether c carries v's header secret exactly once; else *why says what
 * is wrong (a static string, never the value). */
bool webhook_header_secret_ok(const struct sig_verifier *v,
	struct MHD_Connection *c, const char **why);

/* A request whose body's end is ambiguous: two Content-Lengths that
 * disagree (libmicrohttpd takes the first), or Content-Length with
 * Transfer-Encoding (it takes the chunks). A proxy in front may have
 * read it the other way and sent what follows as the next request, so
 * it is refused and its connection closed. The JSON error to answer
 * with, or NULL when the framing is clear. */
const char *webhook_ambiguous_framing(struct MHD_Connection *c);

/* Make a console error answer say no more than it may: a 5xx (whose text
 * comes from the store or the system), or any error carrying the store's
 * (SQLite's) words, keeps its status and gets a generic body; the detail
 * goes to the log, where the operator looks. */
void webhook_scrub_error(struct console_response *res);

#endif
