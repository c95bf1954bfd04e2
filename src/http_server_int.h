/*
 * http_server_int.h — internals shared by the files of the HTTP server
 * behind webhook.h: http_server.c (libmicrohttpd, the listening socket,
 * connection admission, routing, start and stop), webhook.c (the webhook
 * routes: verify, queue, answer once stored) and http_console.c (the web
 * console's requests on threads of their own, streamed answers). Nothing
 * else includes this.
 */
#ifndef CV_HTTP_SERVER_INT_H
#define CV_HTTP_SERVER_INT_H

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "console.h"
#include "signature.h"
#include "util.h"
#include "webhook.h"
#include "webhook_admission.h"
#include "webhook_metrics.h"
#include "webhook_queue.h"

struct webhook_server {
	struct webhook_config cfg;
	struct MHD_Daemon *d;
	struct webhook_queue *q;
	struct console *console; /* NULL when not served */
	struct webhook_metrics m;
	int listen_fd;
	uint16_t port;
	char address[80];
	atomic_int active;     /* requests in flight */
	atomic_int parked;     /* connections suspended, awaiting a
				     * thread's answer (MHD_stop_daemon must
				     * not see any) */
	atomic_bool stopping;  /* answer, then close the connection */
	atomic_bool closing;   /* grace over: park nothing more */
	int wake_fd;           /* eventfd, readable once closing: wakes
				     * the pipe watchers */
	struct admission *adm; /* what unauthenticated clients hold */
};

/* R_WEBHOOK: signed (app and system webhooks); R_WORKFLOW: a workflow
 * Custom Webhook action's, with the header secret. */
enum route { R_WEBHOOK, R_WORKFLOW, R_HEALTHZ, R_METRICS, R_CONSOLE };

struct pipe_stream; /* http_console.c */

/* One request's state, from headers to completion. A request whose
 * answer takes waiting (a group commit, a console query) is parked: its
 * connection is suspended and the thread doing the work resumes it, so
 * the server's few threads never wait on the store. */
struct req {
	enum route route;
	struct buf body;
	size_t reserved;     /* bytes of the body budget held */
	struct adm_conn *ac; /* its connection's admission state */
	struct webhook_server *w;
	struct MHD_Connection *c;
	bool parked; /* answered when resumed */
	/* a webhook's answer, set by the writer thread */
	enum sig_scheme scheme;
	unsigned status;
	enum webhook_outcome outcome;
	struct webhook_job *job; /* the writer's, freed here */
	/* a console request's, set by its thread */
	const char *url, *method; /* the connection's, valid until done */
	char client[INET6_ADDRSTRLEN + 1];
	struct console_response res;
	struct pipe_stream *stream; /* a streamed answer, until sent */
};

/* http_server.c: parking a request, its connection, plain answers */
bool http_park_conn(struct webhook_server *w, struct MHD_Connection *c);
void http_unpark_conn(struct webhook_server *w, struct MHD_Connection *c);
bool http_park(struct webhook_server *w, struct req *r,
	struct MHD_Connection *c);
void http_unpark(struct req *r);
struct adm_conn *http_conn_admission(struct MHD_Connection *c);
enum MHD_Result http_answer(struct webhook_server *w, struct MHD_Connection *c,
	unsigned status, const char *json);
void http_client_address(struct MHD_Connection *c, char *out, size_t n);

/* webhook.c: the webhook routes */
unsigned http_check_webhook(struct webhook_server *w, struct MHD_Connection *c,
	enum route route, size_t *declared, const char **json);
enum MHD_Result http_finish_request(struct webhook_server *w,
	struct MHD_Connection *c, struct req *r);
enum MHD_Result http_answer_stored(struct webhook_server *w,
	struct MHD_Connection *c, struct req *r);

/* http_console.c: the web console's requests */
enum MHD_Result http_begin_console(struct webhook_server *w,
	struct MHD_Connection *c, void **con_cls);
enum MHD_Result http_console_request(struct webhook_server *w,
	struct MHD_Connection *c, const char *url, const char *method,
	struct req *r);
enum MHD_Result http_console_answer(struct webhook_server *w,
	struct MHD_Connection *c, struct req *r);
void http_pipe_stream_release(struct pipe_stream *ps);

#endif
