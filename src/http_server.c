/* http_server.c — see webhook.h: the HTTP server (libmicrohttpd), its
 * listening socket, connection admission and request routing; the
 * webhook routes are webhook.c's, the console's http_console.c's
 * (http_server_int.h). */
#include "webhook.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_server_int.h"
#include "util.h"
#include "webhook_admission.h"
#include "webhook_http.h"
#include "webhook_metrics.h"
#include "webhook_queue.h"

#define WEBHOOK_PATH "/webhooks/highlevel"
#define WORKFLOW_PATH "/webhooks/workflow"

static const struct {
	const char *path;
	const char *method;
	enum route route;
} routes[] = {
	{ .path = WEBHOOK_PATH, .method = "POST", .route = R_WEBHOOK },
	{ .path = WORKFLOW_PATH, .method = "POST", .route = R_WORKFLOW },
	{ .path = "/healthz", .method = "GET", .route = R_HEALTHZ },
	{ .path = "/metrics", .method = "GET", .route = R_METRICS },
};

/* Suspend c while another thread works for it (call before handing it
 * over, so that it is suspended before anything can resume it). False,
 * nothing done, once the server is closing: webhook_server_stop sets
 * closing and then waits for parked to reach 0, so with both sides
 * sequentially consistent either it sees this connection parked or this
 * sees closing. */
bool http_park_conn(struct webhook_server *w, struct MHD_Connection *c)
{
	atomic_fetch_add(&w->parked, 1);
	if (atomic_load(&w->closing)) {
		atomic_fetch_sub(&w->parked, 1);
		return false;
	}
	MHD_suspend_connection(c);
	return true;
}

void http_unpark_conn(struct webhook_server *w, struct MHD_Connection *c)
{
	MHD_resume_connection(c);
	atomic_fetch_sub(&w->parked, 1);
}

/* Hand the request to another thread; false when closing. */
bool http_park(struct webhook_server *w, struct req *r,
	struct MHD_Connection *c)
{
	r->w = w;
	r->c = c;
	if (!http_park_conn(w, c))
		return false;
	r->parked = true;
	return true;
}

/* The other thread's work is done; the request belongs to the server
 * again (and may be freed) once this returns. */
void http_unpark(struct req *r)
{
	http_unpark_conn(r->w, r->c);
}

/* Hold n more bytes of the budget for buffered bodies, as they arrive;
 * false (nothing held) when that would pass the client's or the server's
 * bound. */
static bool reserve(struct webhook_server *w, struct req *r, size_t n)
{
	if (!admission_reserve(w->adm, r->ac, n))
		return false;
	r->reserved += n;
	return true;
}

/* The admission state of c (admission_open's, kept by libmicrohttpd). */
struct adm_conn *http_conn_admission(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static enum MHD_Result send_answer(struct webhook_server *w,
	struct MHD_Connection *c, unsigned status, const char *type,
	const char *body, size_t len, bool copy, bool close)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len,
		(void *)body,
		copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == 405)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST, GET");
	if (status == 429)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "60");
	if (close || atomic_load(&w->stopping)) /* no more requests on it */
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result res = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	webhook_metrics_status(&w->m, status);
	return res;
}

static enum MHD_Result respond(struct webhook_server *w,
	struct MHD_Connection *c, unsigned status, const char *type,
	const char *body, size_t len, bool copy)
{
	return send_answer(w, c, status, type, body, len, copy, false);
}

/* A small static JSON answer. */
enum MHD_Result http_answer(struct webhook_server *w, struct MHD_Connection *c,
	unsigned status, const char *json)
{
	return respond(w, c, status, "application/json", json, strlen(json),
		false);
}

/* The same, closing the connection after it: its framing cannot be
 * trusted, or the server has no room for what it might send next. */
static enum MHD_Result answer_close(struct webhook_server *w,
	struct MHD_Connection *c, unsigned status, const char *json)
{
	return send_answer(w, c, status, "application/json", json, strlen(json),
		false, true);
}

/* A delivery's answer is stored: its client gets 429 when it cannot be
 * taken now, and HighLevel retries that. */
static bool is_delivery(enum route r)
{
	return r == R_WEBHOOK || r == R_WORKFLOW;
}

/* The first call for a request: route it and check what headers can. */
static enum MHD_Result begin_request(struct webhook_server *w,
	struct MHD_Connection *c, const char *url, const char *method,
	const char *version, void **con_cls)
{
	if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
		!MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			MHD_HTTP_HEADER_HOST))
		return http_answer(w, c, 400, "{\"error\":\"no Host header\"}");
	const char *framing = webhook_ambiguous_framing(c);
	if (framing) {
		cv_warn("msg=\"ambiguous request framing; refused\"");
		return answer_close(w, c, 400, framing);
	}
	size_t i = 0;
	while (i < CV_ARRAY_LEN(routes) && strcmp(routes[i].path, url) != 0)
		i++;
	if (admission_full(w->adm, http_conn_admission(c))) {
		/* every other connection is answering authenticated work:
		 * say so at once (HighLevel retries a 429) */
		cv_warn("msg=\"connections all busy; answering 429\"");
		if (i < CV_ARRAY_LEN(routes) && is_delivery(routes[i].route))
			return answer_close(w, c, 429,
				"{\"error\":\"busy, "
				"retry later\"}");
		return answer_close(w, c, 503,
			"{\"error\":\"busy, retry "
			"later\"}");
	}
	if (atomic_load(&w->stopping)) {
		/* stopping: take no new request (what MHD_quiesce_daemon
		 * would do, see webhook_server_stop); HighLevel retries a
		 * 429, and a 503 takes the server out of a load balancer */
		if (i < CV_ARRAY_LEN(routes) && is_delivery(routes[i].route))
			return http_answer(w, c, 429,
				"{\"error\":\"shutting down, "
				"retry later\"}");
		return http_answer(w, c, 503,
			"{\"error\":\"the server is "
			"stopping\"}");
	}
	if (i == CV_ARRAY_LEN(routes) && w->console && console_owns(url))
		return http_begin_console(w, c, con_cls);
	if (i == CV_ARRAY_LEN(routes) ||
		(routes[i].route == R_WORKFLOW &&
			!sig_header_secret_name(w->cfg.verifier)))
		return http_answer(w, c, 404, "{\"error\":\"not found\"}");
	if (strcmp(routes[i].method, method) != 0)
		return http_answer(w, c, 405,
			"{\"error\":\"method not allowed\"}");
	struct adm_conn *ac = http_conn_admission(c);
	if (is_delivery(routes[i].route)) {
		size_t declared = 0;
		const char *json = NULL;
		unsigned st = http_check_webhook(w, c, routes[i].route,
			&declared, &json);
		/* many large bodies at once: memory is bounded, and
		 * HighLevel retries a 429. Memory is held as the body
		 * arrives (on_request), not on the word of Content-Length:
		 * this only refuses what could not fit now. */
		if (st == 0 && !admission_fits(w->adm, ac, declared)) {
			cv_warn("msg=\"body budget spent; answering 429\"");
			st = 429;
			json = "{\"error\":\"busy, retry later\"}";
		}
		if (st != 0)
			return http_answer(w, c, st, json);
	}
	struct req *r = xcalloc(1, sizeof(*r));
	r->route = routes[i].route;
	r->ac = ac;
	buf_init(&r->body);
	/* GET routes are answered at the final call: keeps keep-alive */
	*con_cls = r;
	atomic_fetch_add(&w->active, 1);
	return MHD_YES;
}

void http_client_address(struct MHD_Connection *c, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, n, "?");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			out, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			&((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			(socklen_t)n);
}

/* /metrics tells how busy the archive is and who failed where: to the
 * holder of its token, else to loopback clients only. */
static bool metrics_allowed(struct webhook_server *w, struct MHD_Connection *c)
{
	const char *tok = w->cfg.metrics_token;
	if (tok) {
		const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			MHD_HTTP_HEADER_AUTHORIZATION);
		size_t n = strlen(tok);
		if (!h || strncasecmp(h, "Bearer ", 7) != 0 ||
			strlen(h + 7) != n)
			return false;
		unsigned char d = 0;
		for (size_t i = 0; i < n; i++)
			d |= (unsigned char)(h[7 + i] ^ tok[i]);
		return d == 0;
	}
	char addr[64];
	http_client_address(c, addr, sizeof(addr));
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	       strncmp(addr, "::ffff:127.", 11) == 0;
}

/* The store's write-ahead log on disk, for /metrics: it grows while
 * webhooks arrive back to back (docs/webhooks.md), and other processes
 * (sync, import, the CLI) write to it and truncate it too, so it is read
 * when asked for, not remembered from the writer's commits. */
static int64_t wal_file_bytes(const struct webhook_server *w)
{
	char *path = xasprintf("%s-wal", w->cfg.db_path);
	struct stat st;
	int64_t n = stat(path, &st) == 0 ? (int64_t)st.st_size
		    : errno == ENOENT    ? 0
					 : -1;
	free(path);
	return n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
	const char *url, const char *method, const char *version,
	const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct webhook_server *w = cls;
	struct req *r = *con_cls;
	if (!r) {
		enum MHD_Result res = begin_request(w, c, url, method, version,
			con_cls);
		if (!*con_cls) /* answered already */
			admission_busy(w->adm, http_conn_admission(c));
		return res;
	}
	if (*upload_size > 0 && !is_delivery(r->route) &&
		r->route != R_CONSOLE) {
		*upload_size = 0; /* a body on GET: read and dropped */
		return MHD_YES;
	}
	if (*upload_size > 0) {
		size_t want = r->body.len + *upload_size;
		if (want > (r->route == R_CONSOLE ? CONSOLE_MAX_BODY
						  : w->cfg.max_body) ||
			(want > r->reserved &&
				!reserve(w, r, want - r->reserved))) {
			/* chunked (no Content-Length) past the bound, or past
			 * the budget (the client's or the server's; checked
			 * on Content-Length before, but bytes held by others
			 * arrived meanwhile): libmicrohttpd 0.9.75 cannot
			 * answer before the whole body is read, so read no
			 * further and close without an answer */
			cv_warn("msg=\"body past its bound or the budget; "
				"closing\" bytes=%zu",
				want);
			return MHD_NO;
		}
		buf_append(&r->body, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (!r->parked) /* whole: no deadline while it is answered */
		admission_busy(w->adm, r->ac);
	if (r->route == R_HEALTHZ)
		return respond(w, c, 200, "text/plain", "ok\n", 3, false);
	if (r->route == R_METRICS && !metrics_allowed(w, c))
		return http_answer(w, c, w->cfg.metrics_token ? 401 : 403,
			w->cfg.metrics_token
				? "{\"error\":\"/metrics needs its bearer token\"}"
				: "{\"error\":\"/metrics answers loopback clients "
				  "only (serve --metrics-token-file)\"}");
	if (r->route == R_METRICS) {
		struct buf b;
		buf_init(&b);
		webhook_metrics_render(&w->m, webhook_queue_depth(w->q),
			wal_file_bytes(w), &b);
		admission_render(w->adm, &b);
		webhook_metrics_render_store(w->cfg.db_path, &b);
		enum MHD_Result res = respond(w, c, 200,
			"text/plain; version=0.0.4", b.data, b.len, true);
		buf_finish(&b);
		return res;
	}
	if (r->parked && r->route == R_CONSOLE)
		return http_console_answer(w, c, r);
	if (r->parked)
		return http_answer_stored(w, c, r);
	if (r->route == R_CONSOLE)
		return http_console_request(w, c, url, method, r);
	return http_finish_request(w, c, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	enum MHD_RequestTerminationCode toe)
{
	struct webhook_server *w = cls;
	struct req *r = *con_cls;
	/* receiving again: the next request's deadline starts now */
	admission_idle(w->adm, http_conn_admission(c));
	if (!r)
		return;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		cv_debug("msg=\"request ended early\" code=%d", (int)toe);
	webhook_job_free(r->job); /* it borrows the body */
	buf_finish(&r->body);
	if (r->route == R_CONSOLE && r->parked) {
		if (r->stream)
			http_pipe_stream_release(r->stream);
		console_response_finish(&r->res);
	}
	admission_release(w->adm, r->ac, r->reserved);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&w->active, 1);
}

/* Connections come and go: admission keeps what each client holds. */
static void on_connection(void *cls, struct MHD_Connection *c,
	void **socket_context, enum MHD_ConnectionNotificationCode code)
{
	struct webhook_server *w = cls;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		admission_close(w->adm, *socket_context);
		*socket_context = NULL;
		return;
	}
	const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *sa = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!fd)
		return; /* cannot be cut: left to the idle timeout */
	*socket_context = admission_open(w->adm, sa ? sa->client_addr : NULL,
		fd->connect_fd);
}

/* Leave the URL as sent: routes match the exact path, so "%00" or other
 * escapes can never be decoded into one of them. */
static size_t keep_escapes(void *cls, struct MHD_Connection *c, char *uri)
{
	return strlen(uri);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char *msg = xvasprintf(fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	cv_debug("msg=\"libmicrohttpd: %s\"", msg);
	free(msg);
}

/* Split "host:port" / "[v6]:port" and bind a listening socket. */
static enum cv_err bind_listen(struct webhook_server *w, char **errmsg)
{
	const char *spec = w->cfg.listen;
	const char *colon = strrchr(spec, ':');
	if (!colon || colon == spec || !colon[1])
		return cv_error(errmsg, CV_EINVAL,
			"--listen wants ADDR:PORT, got \"%s\"", spec);
	char *host = xstrndup(spec, (size_t)(colon - spec));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV },
			*ai = NULL;
	int g = getaddrinfo(host, colon + 1, &hints, &ai);
	free(host);
	if (g != 0)
		return cv_error(errmsg, CV_EINVAL, "--listen %s: %s", spec,
			gai_strerror(g));
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
		listen(fd, 512) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return cv_error(errmsg, CV_EIO, "cannot listen on %s: %s", spec,
			strerror(e));
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char name[64] = "?";
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, name, sizeof(name));
		w->port = ntohs(a->sin6_port);
		snprintf(w->address, sizeof(w->address), "[%s]:%u", name,
			w->port);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, name, sizeof(name));
		w->port = ntohs(a->sin_port);
		snprintf(w->address, sizeof(w->address), "%s:%u", name,
			w->port);
	}
	w->listen_fd = fd;
	return CV_OK;
}

static void apply_defaults(struct webhook_config *c)
{
	if (!c->max_body)
		c->max_body = WEBHOOK_MAX_BODY;
	if (!c->timeout_s)
		c->timeout_s = 30;
	if (!c->max_connections)
		c->max_connections = 512;
	if (!c->busy_ms)
		c->busy_ms = 2000;
	if (!c->max_buffered)
		c->max_buffered = WEBHOOK_MAX_BUFFERED;
	if (!c->request_timeout_s)
		c->request_timeout_s = 10;
	if (!c->per_addr_conns)
		c->per_addr_conns = c->max_connections / 16 < 2
					    ? 2
					    : c->max_connections / 16;
	if (!c->per_addr_buffered) {
		c->per_addr_buffered = c->max_buffered / 8;
		if (c->per_addr_buffered < c->max_body)
			c->per_addr_buffered = c->max_body;
	}
	if (c->per_addr_buffered > c->max_buffered)
		c->per_addr_buffered = c->max_buffered;
}

/* The admission bounds: an eighth of the connections stay free for new
 * ones, which displace the oldest receiving ones (webhook_admission.h). */
static struct admission *make_admission(const struct webhook_config *c)
{
	unsigned spare = c->max_connections / 8;
	if (spare < 1 && c->max_connections > 1)
		spare = 1;
	struct admission_opts o = {
		.max_live = c->max_connections - spare,
		.per_addr_conns = c->per_addr_conns,
		.max_buffered = c->max_buffered,
		.per_addr_buffered = c->per_addr_buffered,
		.request_timeout_ms = c->request_timeout_s * 1000,
	};
	return admission_create(&o);
}

enum cv_err webhook_server_start(struct webhook_server **out,
	const struct webhook_config *cfg, char **errmsg)
{
	struct webhook_server *w = xcalloc(1, sizeof(*w));
	w->cfg = *cfg;
	w->listen_fd = -1;
	apply_defaults(&w->cfg);
	*out = NULL;
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0) {
		free(w);
		return cv_error(errmsg, CV_EIO, "cannot create an eventfd: %s",
			strerror(errno));
	}
	struct webhook_queue_opts qo = { .db_path = cfg->db_path,
		.busy_ms = w->cfg.busy_ms,
		.max_batch = cfg->max_batch,
		.max_depth = cfg->max_queue,
		.max_store_bytes = cfg->max_store_bytes };
	w->adm = make_admission(&w->cfg);
	enum cv_err rc = webhook_queue_create(&w->q, &qo, &w->m, errmsg);
	if (rc == CV_OK && cfg->console)
		rc = console_create(&w->console, cfg->console, errmsg);
	if (rc == CV_OK)
		rc = bind_listen(w, errmsg);
	if (rc != CV_OK)
		goto fail;
	/* one epoll thread per core, never blocked: a request waiting for a
	 * commit or a query is parked (suspended) instead of holding a
	 * thread, which cost a context switch per event */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = cores < 2 ? 2 : cores > 16 ? 16 : (unsigned)cores;
	/* Each connection's memory pool holds its request line, headers and
	 * read buffer (bodies go to struct req). libmicrohttpd zeroes the
	 * whole pool before each request on a kept-alive connection, so its
	 * size is paid per request: 64 KiB was ~2 % of the receiver's CPU.
	 * HighLevel's headers, and a browser's, come to a few KiB; a request
	 * whose headers do not fit is answered 431. */
	size_t pool = 16 * 1024;
	w->d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD |
					MHD_ALLOW_SUSPEND_RESUME |
					MHD_USE_ERROR_LOG,
		0, NULL, NULL, on_request, w, MHD_OPTION_THREAD_POOL_SIZE,
		threads, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)w->listen_fd,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)w->cfg.timeout_s,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)w->cfg.max_connections,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, w,
		MHD_OPTION_UNESCAPE_CALLBACK, keep_escapes, w,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, w, MHD_OPTION_END);
	if (!w->d) {
		rc = cv_error(errmsg, CV_EIO, "cannot start the HTTP server");
		goto fail;
	}
	*out = w;
	return CV_OK;
fail:
	if (w->listen_fd >= 0)
		close(w->listen_fd);
	console_destroy(w->console);
	webhook_queue_destroy(w->q);
	admission_destroy(w->adm);
	close(w->wake_fd);
	free(w);
	return rc;
}

const char *webhook_server_address(const struct webhook_server *w)
{
	return w->address;
}

uint16_t webhook_server_port(const struct webhook_server *w)
{
	return w->port;
}

void webhook_server_stop(struct webhook_server *w)
{
	if (!w)
		return;
	/* No MHD_quiesce_daemon: with a thread pool under epoll it races the
	 * workers' own removal of the listening socket from their epoll sets
	 * and can abort (libmicrohttpd 0.9.75, daemon.c). Instead a request
	 * that begins from now on is answered at once (begin_request: 429
	 * for a webhook, 503 otherwise), and every answer closes its
	 * connection; the grace period is for the requests already begun. */
	atomic_store(&w->stopping, true);
	int64_t until = cv_mono_ms() + (int64_t)w->cfg.grace_s * 1000;
	while (atomic_load(&w->active) > 0 && cv_mono_ms() < until)
		usleep(10 * 1000);
	if (atomic_load(&w->active) > 0)
		cv_warn("msg=\"grace period over; closing connections\" "
			"in_flight=%d",
			atomic_load(&w->active));
	/* Park nothing more (a webhook now gets 429, which HighLevel
	 * retries). A parked request is resumed by its commit (bounded by
	 * the store's busy wait), its console query or its stream's next
	 * write; libmicrohttpd must not be stopped before. */
	atomic_store(&w->closing, true);
	uint64_t one = 1;
	if (write(w->wake_fd, &one, sizeof(one)) < 0)
		cv_warn("msg=\"cannot wake the export watchers\"");
	while (atomic_load(&w->parked) > 0)
		usleep(10 * 1000);
	MHD_stop_daemon(w->d); /* closes the listening socket too */
	console_destroy(w->console);
	webhook_queue_destroy(w->q); /* commits what is queued */
	admission_destroy(w->adm);   /* every connection is closed */
	close(w->wake_fd);
	free(w);
}
