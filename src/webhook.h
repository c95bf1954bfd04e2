/*
 * webhook.h — the HTTP receiver for HighLevel webhooks (libmicrohttpd is
 * used here and nowhere else in the core).
 *
 * Routes: POST /webhooks/highlevel (verify, store durably, then answer),
 * POST /webhooks/workflow when a header secret is configured (the same,
 * authenticated by that header), GET /healthz, GET /metrics (Prometheus
 * text), and when configured the web console's pages and API
 * (console.h). Anything else is 404 or 405. A body over the bound is 413
 * (refused on Content-Length before it is read), a content type other
 * than JSON is 415, an unverified body is 401 (nothing stored), a body
 * the store cannot take is 429 (HighLevel retries only 429), ambiguous
 * framing is 400. A few epoll threads serve every connection; what
 * unauthenticated clients may hold (connections, body bytes, time) is
 * bounded by webhook_admission.h.
 */
#ifndef CV_WEBHOOK_H
#define CV_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "console.h"
#include "signature.h"

#define WEBHOOK_MAX_BODY (1u << 20)             /* 1 MiB */
#define WEBHOOK_MAX_BUFFERED ((size_t)64 << 20) /* all bodies in flight */

struct webhook_config {
	const char *listen; /* "ADDR:PORT", "[v6]:PORT"; port 0 = any */
	const char *db_path;
	struct sig_verifier *verifier; /* borrowed, configured */
	size_t max_body;               /* 0 = WEBHOOK_MAX_BODY */
	size_t max_buffered;           /* bodies held at once before 429;
	                            * 0 = WEBHOOK_MAX_BUFFERED */
	unsigned timeout_s;            /* idle connection timeout; 0 = 30 */
	unsigned request_timeout_s;    /* to receive a whole request, from the
	                            * connection's start or its previous
	                            * request's end; 0 = 10 */
	unsigned max_connections;      /* 0 = 512 */
	unsigned per_addr_conns;       /* receiving connections per client
	                            * address; 0 = max_connections / 16 */
	size_t per_addr_buffered;      /* body bytes held per client address;
	                            * 0 = max_buffered / 8 (>= max_body) */
	int busy_ms;                   /* store lock bound; 0 = 2000 */
	size_t max_batch;              /* events per commit; 0 = 512 */
	size_t max_queue;              /* queued events before 429; 0 = 4096 */
	unsigned grace_s;              /* wait for in-flight requests at stop */
	int64_t max_store_bytes; /* a full store answers 429; 0 = no cap */
	const struct console_config *console; /* NULL: no web console */
	const char *metrics_token; /* GET /metrics needs "Authorization:
				      Bearer <it>"; NULL: loopback clients
				      only */
};

struct webhook_server;

/* Open the store, bind, start serving. */
enum cv_err webhook_server_start(struct webhook_server **out,
	const struct webhook_config *cfg, char **errmsg) CV_MUST_CHECK;
/* The bound address, "127.0.0.1:8080" (valid until stop). */
const char *webhook_server_address(const struct webhook_server *w);
uint16_t webhook_server_port(const struct webhook_server *w);
/* Graceful stop: stop accepting, let in-flight requests finish (up to
 * grace_s), commit what is queued, close the store, free. NULL ok. */
void webhook_server_stop(struct webhook_server *w);

#endif
