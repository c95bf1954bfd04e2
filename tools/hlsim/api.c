/*
 * api.c — see api.h. The server: requests authenticated, rate-limited,
 * faulted and routed, answers sent; the routes are in api_voiceai.c
 * (Voice AI), media.c (recordings, transcriptions) and api_control.c
 * (OAuth, /__sim/), sharing api_int.h.
 */
#include "api.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api_int.h"
#include "common.h"
#include "media.h"
#include "util.h"

#define MAX_BODY 16384
#define MAX_URL 2048

struct api_server {
	struct MHD_Daemon *d;
};

static const char *const VERSIONS[] = { "2021-04-15", "2021-07-28",
	"2023-02-21", "v3" };

/* ---- JSON bodies ---- */

char *api_dump_free(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

const char *api_reason(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

void api_set_error(struct reply *r, int status, const char *msg)
{
	r->status = status;
	free(r->body);
	r->body = api_dump_free(json_pack("{s:i,s:s,s:s}", "statusCode", status,
		"message", msg, "error", api_reason(status)));
}

/* A 422 whose message is the array of violations. */
void api_set_422(struct reply *r, json_t *msgs)
{
	r->status = 422;
	free(r->body);
	r->body = api_dump_free(json_pack("{s:i,s:o,s:s}", "statusCode", 422,
		"message", msgs, "error", api_reason(422)));
}

/* ---- query arguments ---- */

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind,
	const char *key, const char *value)
{
	struct args *a = cls;
	(void)kind;
	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->k[i], key))
			return MHD_YES; /* the first occurrence wins */
	if (a->n == MAX_ARGS) {
		a->overflow = true;
		return MHD_NO;
	}
	a->k[a->n] = key;
	a->v[a->n++] = value ? value : "";
	return MHD_YES;
}

const char *api_arg(const struct args *a, const char *key)
{
	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->k[i], key))
			return a->v[i];
	return NULL;
}

/* ---- routes (all run with h->lock held) ---- */

void api_not_found(struct reply *r, const char *method, const char *url)
{
	char *m = xasprintf("Cannot %.10s %.200s", method, url);
	api_set_error(r, 404, m);
	free(m);
}

/* false (and a 401 in r) unless the Version header is a known value. */
static bool check_version(struct MHD_Connection *conn, struct reply *r)
{
	const char *ver = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		"Version");
	if (!ver) {
		api_set_error(r, 401, "version header was not found.");
		return false;
	}
	for (size_t i = 0; i < CV_ARRAY_LEN(VERSIONS); i++)
		if (!strcmp(ver, VERSIONS[i]))
			return true;
	api_set_error(r, 401, "version header is invalid");
	return false;
}

/* The bearer token of a request, or NULL. */
const char *api_bearer(struct MHD_Connection *conn)
{
	const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_AUTHORIZATION);
	return authz && !strncasecmp(authz, "Bearer ", 7) ? authz + 7 : NULL;
}

/* Count the request against its buckets; false (and a 429) when over. */
static bool rate_limit(struct hlsim *h, const char *key, enum auth_kind kind,
	int loc, int64_t now, struct reply *r)
{
	char bkey[64], dkey[64];
	snprintf(bkey, sizeof(bkey), "%s@%d", key, loc);
	snprintf(dkey, sizeof(dkey), "%s@%d", kind == AUTH_PIT ? "pits" : "app",
		loc);
	ratelimit_hit(h->rl, bkey, dkey, cv_mono_ms(), now / 86400000, &r->rl);
	if (r->rl.allowed && !faults_storm(&h->faults))
		return true;
	if (r->rl.allowed)
		r->rl.remaining = 0; /* a storm looks like a spent window */
	api_set_error(r, 429, "Too Many Requests");
	return false;
}

/* The recording and transcription routes (media.c). */
static bool route_media(struct ctx *c, const char *url)
{
	struct media_answer a;
	if (!media_route(c->h, c->loc, url, c->now, &a))
		return false;
	c->r->status = a.status;
	c->r->body = a.body;
	c->r->content_type = a.content_type;
	c->r->disposition = a.disposition;
	c->r->wav = a.wav;
	c->r->wav_len = a.wav_len;
	return true;
}

static void route(struct ctx *c, const char *method, const char *url)
{
	const char *p = url;
	if (strcmp(method, "GET"))
		api_not_found(c->r, method, url);
	else if (!strncmp(p, "/conversations/", 15) && route_media(c, p))
		;
	else if (!strcmp(p, "/voice-ai/dashboard/call-logs"))
		api_route_call_logs(c);
	else if (!strncmp(p, "/voice-ai/dashboard/call-logs/", 30) && p[30] &&
		 !strchr(p + 30, '/'))
		api_route_call_log(c, p + 30);
	else if (!strcmp(p, "/voice-ai/agents"))
		api_route_agents(c);
	else if (!strncmp(p, "/voice-ai/agents/", 17) && p[17] &&
		 !strchr(p + 17, '/'))
		api_route_agent(c, p + 17);
	else if (!strcmp(p, "/voice-ai/dashboard/agents"))
		api_set_422(c->r, json_pack("[s]", "property locationId should "
						   "not exist"));
	else
		api_not_found(c->r, method, url);
}

/* Faults that spoil a good answer on its way out. */
static void spoil(struct hlsim *h, struct reply *r)
{
	if (r->status != 200 || r->wav || r->content_type)
		return;
	if (faults_roll(&h->faults, F_BADJSON))
		r->body[strlen(r->body) / 2] = '\0'; /* not valid JSON */
	else if (faults_roll(&h->faults, F_TRUNCATE))
		r->truncate = true;
}

static void fault_5xx(struct hlsim *h, struct reply *r)
{
	static const int codes[] = { 500, 502, 503, 504 };
	int st = codes[sim_rand(&h->faults.rng) % 4];
	api_set_error(r, st,
		st == 500 ? "Internal server error" : api_reason(st));
}

/* Authenticate, rate-limit, fault and route an API request. */
static void api_request(struct hlsim *h, struct MHD_Connection *conn,
	const char *method, const char *url, struct reply *r)
{
	h->api_requests++;
	int64_t now = cv_now_ms();
	simdata_tick(h->sd, now);
	if (faults_roll(&h->faults, F_RESET)) {
		r->reset = true;
		return;
	}
	if (!check_version(conn, r))
		return;
	const char *token = api_bearer(conn), *key = NULL;
	int loc = -1;
	enum auth_kind kind = auth_check(h->auth, token, now, &loc, &key);
	if (kind == AUTH_INVALID) {
		api_set_error(r, 401, "Invalid token: access token is invalid");
		return;
	}
	if (!rate_limit(h, key, kind, loc, now, r))
		return;
	if (!auth_scope_ok(h->auth, url)) {
		api_set_error(r, 401,
			"The token is not authorized for this scope.");
		return;
	}
	if (faults_roll(&h->faults, F_REVOKE)) {
		auth_revoke(h->auth, kind == AUTH_OAUTH ? token : NULL);
		api_set_error(r, 401, "Invalid token: access token is invalid");
		return;
	}
	struct args a = { .n = 0 };
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
	const char *lid = api_arg(&a, "locationId");
	if (a.overflow)
		api_set_error(r, 400, "Too many query parameters");
	else if (lid && *lid && simdata_find_location(h->sd, lid) != loc)
		api_set_error(r, 401,
			"The token is not authorized for this scope.");
	else if (faults_roll(&h->faults, F_5XX))
		fault_5xx(h, r);
	else {
		struct ctx c = { .h = h,
			.a = &a,
			.loc = loc,
			.now = now,
			.r = r };
		route(&c, method, url);
		spoil(h, r);
	}
}
/* ---- MHD glue ---- */

struct partial {
	char *body;
	size_t cut;
};

static ssize_t partial_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct partial *p = cls;
	if (pos >= p->cut)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = p->cut - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, p->body + pos, n);
	return (ssize_t)n;
}

static void partial_free(void *cls)
{
	struct partial *p = cls;
	free(p->body);
	free(p);
}

static void add_header(void *resp, const char *name, const char *value)
{
	MHD_add_response_header(resp, name, value);
}

static enum MHD_Result send_reply(struct hlsim *h, struct MHD_Connection *conn,
	struct reply *r)
{
	size_t n = r->body ? strlen(r->body) : 0;
	struct MHD_Response *resp;
	if (r->wav) {
		/* streamed: a long recording is never held whole */
		resp = MHD_create_response_from_callback(r->wav_len, 64 * 1024,
			media_stream_read, r->wav, media_stream_free);
		r->wav = NULL;
	} else if (r->truncate && n > 1) {
		struct partial *p = xmalloc(sizeof(*p));
		p->body = r->body;
		p->cut = n / 2;
		r->body = NULL;
		resp = MHD_create_response_from_callback(n, 4096, partial_read,
			p, partial_free);
	} else {
		resp = MHD_create_response_from_buffer(n, r->body,
			MHD_RESPMEM_MUST_FREE);
		r->body = NULL;
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		r->content_type ? r->content_type
				: "application/json; charset=utf-8");
	if (r->disposition)
		MHD_add_response_header(resp, "Content-Disposition",
			r->disposition);
	ratelimit_headers(h->rl, &r->rl, r->status, add_header, resp);
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status,
		resp);
	MHD_destroy_response(resp);
	return ret;
}

static bool is_api_path(const char *url)
{
	return strncmp(url, "/__sim/", 7) && strncmp(url, "/oauth/", 7);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
	const char *url, const char *method, const char *version,
	const char *upload, size_t *upload_size, void **con_cls)
{
	struct hlsim *h = cls;
	(void)version;
	struct req *q = *con_cls;
	if (!q) {
		q = xcalloc(1, sizeof(*q));
		buf_init(&q->body);
		*con_cls = q;
		return MHD_YES;
	}
	if (*upload_size) {
		if (q->body.len + *upload_size > MAX_BODY)
			q->too_big = true;
		else
			buf_append(&q->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	struct reply r = { .status = 500 };
	ratelimit_defaults(h->rl, &r.rl);
	bool api = is_api_path(url);
	pthread_mutex_lock(&h->lock);
	int latency = api ? h->faults.latency_ms : 0;
	if (latency > 0)
		h->faults.fired[F_LATENCY]++;
	pthread_mutex_unlock(&h->lock);
	if (latency > 0)
		usleep((useconds_t)latency * 1000);
	pthread_mutex_lock(&h->lock);
	h->requests++;
	if (strlen(url) > MAX_URL)
		api_set_error(&r, 414, "URI Too Long");
	else if (api)
		api_request(h, conn, method, url, &r);
	else
		api_control_or_oauth(h, conn, method, url, q, &r);
	if (r.reset) {
		h->resets++;
	} else {
		if (r.status >= 100 && r.status < 600)
			h->status_count[r.status]++;
		if (r.status == 429)
			h->served_429++;
	}
	pthread_mutex_unlock(&h->lock);
	if (r.reset) {
		free(r.body);
		return MHD_NO;
	}
	if (!r.body && !r.wav)
		api_set_error(&r, r.status, api_reason(r.status));
	return send_reply(h, conn, &r);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct req *q = *con_cls;
	if (q) {
		buf_finish(&q->body);
		free(q);
		*con_cls = NULL;
	}
}

struct api_server *api_start(struct hlsim *h, uint16_t port, uint16_t *bound,
	char **errmsg)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d =
		MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
					 MHD_USE_THREAD_PER_CONNECTION,
			port, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR,
			(struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
			completed, h, MHD_OPTION_CONNECTION_TIMEOUT,
			(unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
			(unsigned)256, MHD_OPTION_END);
	if (!d) {
		cv_error(errmsg, CV_EIO, "cannot listen on 127.0.0.1:%u",
			(unsigned)port);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d,
		MHD_DAEMON_INFO_BIND_PORT);
	*bound = info ? info->port : port;
	pthread_mutex_lock(&h->lock);
	h->port = *bound;
	h->started_ms = cv_now_ms();
	pthread_mutex_unlock(&h->lock);
	struct api_server *s = xcalloc(1, sizeof(*s));
	s->d = d;
	return s;
}

void api_stop(struct api_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
