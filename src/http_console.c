/* http_console.c — the web console's requests on the HTTP server
 * (http_server_int.h): each on a thread of its own, answered when back,
 * exports streamed through a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "console.h"
#include "http_server_int.h"
#include "util.h"
#include "webhook_admission.h"
#include "webhook_http.h"
#include "webhook_metrics.h"

/* A console request: its body is bounded on Content-Length and counted
 * in the shared budget. */
enum MHD_Result http_begin_console(struct webhook_server *w,
	struct MHD_Connection *c, void **con_cls)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n = cl ? strtoull(cl, NULL, 10) : 0;
	if (n > CONSOLE_MAX_BODY)
		return http_answer(w, c, 413, "{\"error\":\"body too large\"}");
	struct adm_conn *ac = http_conn_admission(c);
	if (!admission_fits(w->adm, ac, (size_t)n))
		return http_answer(w, c, 429,
			"{\"error\":\"busy, retry later\"}");
	struct req *r = xcalloc(1, sizeof(*r));
	r->route = R_CONSOLE;
	r->ac = ac;
	buf_init(&r->body);
	*con_cls = r;
	atomic_fetch_add(&w->active, 1);
	return MHD_YES;
}

static const char *console_get(void *ctx, enum console_value kind,
	const char *key)
{
	static const enum MHD_ValueKind kinds[] = {
		[CONSOLE_HEADER] = MHD_HEADER_KIND,
		[CONSOLE_ARG] = MHD_GET_ARGUMENT_KIND,
		[CONSOLE_COOKIE] = MHD_COOKIE_KIND,
	};
	return MHD_lookup_connection_value(ctx, kinds[kind], key);
}

/* Run fn(arg) on a thread nobody joins; 0 or an errno. */
static int spawn_detached(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int e = pthread_create(&t, &at, fn, arg);
	pthread_attr_destroy(&at);
	return e;
}

/*
 * A streamed answer (a console export) is written by its own thread into
 * a pipe and sent from the pipe's read end as it comes, without a server
 * thread ever blocking on it: when the pipe is empty the connection is
 * parked and a watcher thread, waiting in poll(), resumes it once the
 * pipe has data or is closed, or the server is closing. A stream that
 * reports its answer incomplete ends the response with an error (HTTP/1.1
 * clients see a truncated transfer, not a short file). The struct is
 * freed by whichever of the stream thread, the request (then its
 * response) and the watcher lets go of it last; closing the read end
 * makes a stream still writing fail at its next write and end.
 */
struct pipe_stream {
	struct webhook_server *w;
	struct MHD_Connection *c;
	int fd;  /* read end, non-blocking */
	int wfd; /* write end, the stream thread's */
	bool (*fn)(void *arg, int fd);
	void *arg;
	atomic_bool failed; /* set before wfd is closed */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool waiting; /* c is parked until fd is readable */
	bool gone;    /* the response was freed */
	int refs;
};

void http_pipe_stream_release(struct pipe_stream *ps)
{
	pthread_mutex_lock(&ps->mu);
	bool last = --ps->refs == 0;
	pthread_mutex_unlock(&ps->mu);
	if (!last)
		return;
	close(ps->fd);
	pthread_mutex_destroy(&ps->mu);
	pthread_cond_destroy(&ps->cv);
	free(ps);
}

static void *stream_thread(void *p)
{
	struct pipe_stream *ps = p;
	if (!ps->fn(ps->arg, ps->wfd))
		atomic_store(&ps->failed, true);
	close(ps->wfd); /* the reader sees the end after failed is set */
	http_pipe_stream_release(ps);
	return NULL;
}

/* Start res->stream writing into a pipe on a thread of its own; NULL
 * (the stream released) when that cannot be set up. The caller holds
 * one reference. */
static struct pipe_stream *start_stream(struct console_response *res)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		res->stream(res->stream_arg, -1);
		return NULL;
	}
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	struct pipe_stream *ps = xcalloc(1, sizeof(*ps));
	ps->fd = fds[0];
	ps->wfd = fds[1];
	ps->fn = res->stream;
	ps->arg = res->stream_arg;
	ps->refs = 2; /* the caller, the stream thread */
	pthread_mutex_init(&ps->mu, NULL);
	pthread_cond_init(&ps->cv, NULL);
	if (spawn_detached(stream_thread, ps) != 0) {
		close(fds[1]);
		res->stream(res->stream_arg, -1);
		ps->refs = 1;
		http_pipe_stream_release(ps);
		return NULL;
	}
	return ps;
}

static void *pipe_watcher(void *p)
{
	struct pipe_stream *ps = p;
	pthread_mutex_lock(&ps->mu);
	for (;;) {
		while (!ps->waiting && !ps->gone)
			pthread_cond_wait(&ps->cv, &ps->mu);
		if (ps->gone)
			break;
		pthread_mutex_unlock(&ps->mu);
		/* the connection is parked: the response cannot go away */
		struct pollfd pfd[2] = { { .fd = ps->fd, .events = POLLIN },
			{ .fd = ps->w->wake_fd, .events = POLLIN } };
		while (poll(pfd, 2, -1) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&ps->mu);
		ps->waiting = false;
		http_unpark_conn(ps->w, ps->c);
	}
	pthread_mutex_unlock(&ps->mu);
	http_pipe_stream_release(ps);
	return NULL;
}

static ssize_t pipe_stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct pipe_stream *ps = cls;
	ssize_t n;
	while ((n = read(ps->fd, out, max)) < 0 && errno == EINTR)
		;
	if (n > 0)
		return n;
	if (n == 0)
		return atomic_load(&ps->failed)
			       ? MHD_CONTENT_READER_END_WITH_ERROR
			       : MHD_CONTENT_READER_END_OF_STREAM;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	pthread_mutex_lock(&ps->mu);
	bool parked = http_park_conn(ps->w, ps->c);
	if (parked) {
		ps->waiting = true;
		pthread_cond_signal(&ps->cv);
	}
	pthread_mutex_unlock(&ps->mu);
	/* 0: nothing yet, asked again when resumed; closing: cut it short */
	return parked ? 0 : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void pipe_stream_gone(void *cls)
{
	struct pipe_stream *ps = cls;
	pthread_mutex_lock(&ps->mu);
	ps->gone = true;
	pthread_cond_signal(&ps->cv);
	pthread_mutex_unlock(&ps->mu);
	http_pipe_stream_release(ps);
}

/* The response sending ps (the caller's reference is taken over in
 * every case), or NULL. */
static struct MHD_Response *pipe_response(struct webhook_server *w,
	struct MHD_Connection *c, struct pipe_stream *ps)
{
	ps->w = w;
	ps->c = c;
	pthread_mutex_lock(&ps->mu);
	ps->refs++; /* the watcher's */
	pthread_mutex_unlock(&ps->mu);
	if (spawn_detached(pipe_watcher, ps) != 0) {
		http_pipe_stream_release(ps);
		http_pipe_stream_release(ps);
		return NULL;
	}
	struct MHD_Response *mr =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024,
			pipe_stream_read, ps, pipe_stream_gone);
	if (!mr)
		pipe_stream_gone(ps); /* the watcher ends, then frees it */
	return mr;
}

/* Each X-Forwarded-For value, joined with "," (a request may carry the
 * header more than once; the last one is the nearest proxy's). */
static enum MHD_Result forwarded_for(void *arg, enum MHD_ValueKind kind,
	const char *key, const char *value)
{
	struct buf *b = arg;
	if (key && value && strcasecmp(key, "X-Forwarded-For") == 0)
		buf_printf(b, "%s%s", b->len ? "," : "", value);
	return MHD_YES;
}

/* A console request's thread: searches and exports take as long as they
 * take while the server's threads go on answering webhooks. */
static void *console_thread(void *p)
{
	struct req *r = p;
	struct webhook_server *w = r->w;
	struct buf xff;
	buf_init(&xff);
	MHD_get_connection_values(r->c, MHD_HEADER_KIND, forwarded_for, &xff);
	struct console_request cr = { .method = r->method,
		.path = r->url,
		.client = r->client,
		.forwarded_for = xff.len ? xff.data : NULL,
		.body = r->body.data,
		.body_len = r->body.len,
		.get = console_get,
		.ctx = r->c };
	console_handle(w->console, &cr, &r->res);
	buf_finish(&xff);
	if (r->res.stream)
		r->stream = start_stream(&r->res);
	http_unpark(r);
	return NULL;
}

/* Hand a console request to console.c on a thread of its own; it is
 * answered when back (http_console_answer). */
enum MHD_Result http_console_request(struct webhook_server *w,
	struct MHD_Connection *c, const char *url, const char *method,
	struct req *r)
{
	http_client_address(c, r->client, sizeof(r->client));
	r->url = url;
	r->method = method;
	if (!http_park(w, r, c))
		return http_answer(w, c, 503,
			"{\"error\":\"the server is "
			"stopping\"}");
	int e = spawn_detached(console_thread, r);
	if (e != 0)
		http_unpark(r); /* not handled: status 0 answers 500 */
	return MHD_YES;
}

/* Send what console.c answered. */
enum MHD_Result http_console_answer(struct webhook_server *w,
	struct MHD_Connection *c, struct req *r)
{
	struct console_response *res = &r->res;
	if (res->status == 0)
		return http_answer(w, c, 500,
			"{\"error\":\"no thread for the "
			"request\"}");
	struct MHD_Response *mr;
	webhook_scrub_error(res);
	if (res->stream) {
		if (!r->stream)
			return http_answer(w, c, 500,
				"{\"error\":\"cannot start "
				"the export\"}");
		if (atomic_load(&w->closing)) /* it could not be sent whole */
			return http_answer(w, c, 503,
				"{\"error\":\"the server is "
				"stopping\"}");
		mr = pipe_response(w, c, r->stream);
		r->stream = NULL; /* taken over */
	} else if (res->has_file) {
		/* MHD sends it with sendfile/pread and closes the fd */
		mr = MHD_create_response_from_fd_at_offset64((uint64_t)res
								     ->file_len,
			res->file_fd, (uint64_t)res->file_off);
		if (mr)
			res->has_file = false;
	} else {
		size_t len = res->body.len;
		char *body = buf_steal(&res->body);
		mr = MHD_create_response_from_buffer(len,
			body ? body : xstrdup(""), MHD_RESPMEM_MUST_FREE);
	}
	if (!mr)
		return MHD_NO;
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, res->type);
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(mr, "X-Frame-Options", "DENY");
	if (res->html)
		MHD_add_response_header(mr, "Content-Security-Policy",
			"default-src 'none'; script-src 'self'; style-src "
			"'self'; img-src 'self'; media-src 'self'; "
			"connect-src 'self'; "
			"form-action 'self'; frame-ancestors 'none'; "
			"base-uri 'none'");
	if (res->set_cookie)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_SET_COOKIE,
			res->set_cookie);
	if (res->disposition)
		MHD_add_response_header(mr, "Content-Disposition",
			res->disposition);
	if (res->content_range)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_RANGE,
			res->content_range);
	if (res->accept_ranges)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_ACCEPT_RANGES,
			"bytes");
	if (res->retry_after > 0) {
		/* the real wait (a login lock-out is minutes, not 60 s) */
		char ra[24];
		snprintf(ra, sizeof(ra), "%lld", (long long)res->retry_after);
		MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	} else if (res->status == 429) {
		MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER, "60");
	}
	if (atomic_load(&w->stopping))
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION,
			"close");
	enum MHD_Result ok = MHD_queue_response(c, res->status, mr);
	MHD_destroy_response(mr);
	webhook_metrics_status(&w->m, res->status);
	return ok;
}
