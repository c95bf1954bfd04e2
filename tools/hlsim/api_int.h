/*
 * api_int.h — what api.c (the server: authentication, rate limits,
 * faults, routing, replies), api_voiceai.c (the Voice AI call logs and
 * agents) and api_control.c (OAuth and the /__sim/ control endpoints)
 * share: a request and its answer (not part of api.h).
 */
#ifndef HLSIM_API_INT_H
#define HLSIM_API_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "util.h"

#define MAX_ARGS 64

/* Per-connection request state (POST bodies). */
struct req {
	struct buf body;
	bool too_big;
};

/* What to answer. */
struct reply {
	int status;
	char *body;               /* malloc'd */
	bool truncate;            /* send part of it, then close */
	bool reset;               /* close without an answer */
	const char *content_type; /* default application/json */
	const char *disposition;  /* Content-Disposition, or NULL */
	struct media_stream *wav; /* a recording to stream (media.h) */
	uint64_t wav_len;
	struct rl_result rl;
};

struct args {
	const char *k[MAX_ARGS], *v[MAX_ARGS];
	int n;
	bool overflow;
};

/* An API route's request (all run with h->lock held). */
struct ctx {
	struct hlsim *h;
	const struct args *a;
	int loc; /* the token's location */
	int64_t now;
	struct reply *r;
};

/* JSON bodies: json_dumps(o) (o released); a status's reason phrase; an
 * error answer; a 422 whose message is the array of violations. */
char *api_dump_free(json_t *o);
const char *api_reason(int status);
void api_set_error(struct reply *r, int status, const char *msg);
void api_set_422(struct reply *r, json_t *msgs);
/* A query argument's value, or NULL. */
const char *api_arg(const struct args *a, const char *key);
/* A 404 "Cannot <method> <url>". */
void api_not_found(struct reply *r, const char *method, const char *url);
/* The bearer token of a request, or NULL. */
const char *api_bearer(struct MHD_Connection *conn);

/* (api_voiceai.c) GET /voice-ai/dashboard/call-logs[/id] and
 * /voice-ai/agents[/id]. */
void api_route_call_logs(struct ctx *c);
void api_route_call_log(struct ctx *c, const char *id);
void api_route_agents(struct ctx *c);
void api_route_agent(struct ctx *c, const char *id);

/* (api_control.c) A request under /oauth/ or /__sim/. */
void api_control_or_oauth(struct hlsim *h, struct MHD_Connection *conn,
	const char *method, const char *url, struct req *q, struct reply *r);

#endif
