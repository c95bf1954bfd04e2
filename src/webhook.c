/* webhook.c — the webhook routes of the HTTP server (webhook.h,
 * http_server_int.h): a delivery's headers checked, its body verified and
 * queued to be stored durably, and answered once it is. */
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "http_server_int.h"
#include "util.h"
#include "webhook_http.h"
#include "webhook_metrics.h"
#include "webhook_queue.h"

/* Checks on a delivery's headers, before its body is read: 0 to go on,
 * else the status to answer with *json. *declared: Content-Length. A
 * workflow delivery is authenticated here, by its header secret; a
 * webhook's signature is checked once its body is in. */
unsigned http_check_webhook(struct webhook_server *w, struct MHD_Connection *c,
	enum route route, size_t *declared, const char **json)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n = cl ? strtoull(cl, NULL, 10) : 0;
	struct webhook_sig_scan sc;
	webhook_scan_signatures(c, &sc);
	*declared = n > w->cfg.max_body ? w->cfg.max_body : (size_t)n;
	if (!webhook_is_json_type(ct)) {
		*json = "{\"error\":\"content type must be application/json\"}";
		return 415;
	}
	if (n > w->cfg.max_body) {
		cv_warn("msg=\"body too large; refused unread\" "
			"content_length=%llu",
			n);
		*json = "{\"error\":\"body too large\"}";
		return 413;
	}
	const char *why = NULL;
	if (route == R_WEBHOOK && !sc.count[0] && !sc.count[1] && !sc.count[2])
		why = "no signature header";
	if (route == R_WORKFLOW)
		webhook_header_secret_ok(w->cfg.verifier, c, &why);
	if (why) {
		atomic_fetch_add(&w->m.sig_failures, 1);
		cv_warn("msg=\"%s rejected\" reason=\"%s\"",
			route == R_WORKFLOW ? "header secret" : "signature",
			why);
		*json = route == R_WORKFLOW
				? "{\"error\":\"missing or wrong credential\"}"
				: "{\"error\":\"invalid signature\"}";
		return 401;
	}
	return 0;
}

/* The writer's answer for a parked webhook (writer thread). */
static void on_settled(void *ctx, unsigned status, enum webhook_outcome o,
	struct webhook_job *job)
{
	struct req *r = ctx;
	r->status = status;
	r->outcome = o;
	r->job = job;
	http_unpark(r);
}

/* The whole body is in: verify, then queue it to be stored durably; the
 * answer is sent when the writer has committed it (http_answer_stored). */
enum MHD_Result http_finish_request(struct webhook_server *w,
	struct MHD_Connection *c, struct req *r)
{
	struct webhook_sig_scan sc;
	webhook_scan_signatures(c, &sc);
	const char *why = NULL, *body = r->body.data ? r->body.data : "";
	enum sig_scheme s = SIG_NONE;
	if (r->route == R_WORKFLOW)
		s = SIG_HEADER_SECRET; /* checked with the headers */
	else if (sc.count[0] > 1 || sc.count[1] > 1 || sc.count[2] > 1)
		why = "a signature header appears more than once";
	else
		s = sig_verify(w->cfg.verifier, &sc.h, body, r->body.len, &why);
	if (s == SIG_NONE) {
		atomic_fetch_add(&w->m.sig_failures, 1);
		cv_warn("msg=\"signature rejected\" reason=\"%s\" bytes=%zu",
			why, r->body.len);
		return http_answer(w, c, 401,
			"{\"error\":\"invalid signature\"}");
	}
	r->scheme = s;
	if (!http_park(w, r, c)) /* stopping: HighLevel retries a 429 */
		return http_answer(w, c, 429,
			"{\"error\":\"shutting down, retry "
			"later\"}");
	unsigned st = webhook_queue_submit(w->q, body, r->body.len,
		sig_scheme_name(s), on_settled, r);
	if (st != 0)
		on_settled(r, st, WH_RAW, NULL); /* refused: queue full */
	return MHD_YES;
}

/* A parked webhook is back with the writer's answer. */
enum MHD_Result http_answer_stored(struct webhook_server *w,
	struct MHD_Connection *c, struct req *r)
{
	if (r->status != 200) {
		cv_warn("msg=\"event not stored; answering %u\" bytes=%zu",
			r->status, r->body.len);
		return http_answer(w, c, r->status,
			"{\"error\":\"store busy, retry later\"}");
	}
	cv_debug("msg=\"event stored\" outcome=\"%s\" signature=%s bytes=%zu",
		webhook_outcome_name(r->outcome), sig_scheme_name(r->scheme),
		r->body.len);
	return http_answer(w, c, 200,
		r->outcome == WH_DUPLICATE ? "{\"status\":\"duplicate\"}"
					   : "{\"status\":\"stored\"}");
}
