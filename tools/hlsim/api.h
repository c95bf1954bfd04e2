/*
 * api.h — the simulated HighLevel HTTP API (libmicrohttpd, 127.0.0.1 only):
 * Voice AI call logs and agents, POST /oauth/token, and the control
 * endpoints under /__sim/ (stats, info, reset). One mutex guards all state.
 */
#ifndef HLSIM_API_H
#define HLSIM_API_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "faults.h"
#include "quirks.h"
#include "ratelimit.h"
#include "simdata.h"

struct hlsim {
	pthread_mutex_t lock;
	struct simdata *sd;
	struct auth *auth;
	struct ratelimit *rl;
	struct faults faults;
	struct quirks quirks;
	const char *client_id, *client_secret;
	uint16_t port;
	int64_t started_ms;      /* when serving began (epoch ms) */
	struct emitter *emitter; /* webhooks for arrivals, or NULL */
	/* counters for /__sim/stats */
	long requests, api_requests, served_429, resets, webhooks;
	long status_count[600];
};

struct api_server;

/*
 * Start serving h on 127.0.0.1:port (0 = any free port); *bound gets the
 * port. Returns NULL with *errmsg set on failure. h must outlive the server.
 */
struct api_server *api_start(struct hlsim *h, uint16_t port, uint16_t *bound,
	char **errmsg);
/* Stop the server (waits for connection threads). NULL ok. */
void api_stop(struct api_server *s);

/* The JSON text of /__sim/info (malloc'd); takes the lock. */
char *api_info_json(struct hlsim *h);

#endif
