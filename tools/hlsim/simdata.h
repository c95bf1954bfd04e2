/*
 * simdata.h — the simulated HighLevel data set: locations, agents, contacts
 * and Voice AI call logs, generated deterministically from a seed. Calls are
 * held as jansson objects in the REST CallLog shape (no locationId).
 * Not thread-safe: the caller (the server) holds its own lock.
 */
#ifndef HLSIM_SIMDATA_H
#define HLSIM_SIMDATA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A small deterministic PRNG (splitmix64). */
uint64_t sim_rand(uint64_t *state);
/* Uniform double in [0, 1). */
double sim_randf(uint64_t *state);
/* Uniform integer in [lo, hi]. */
int64_t sim_range(uint64_t *state, int64_t lo, int64_t hi);
/* Fill out with n random characters from alphabet; out gets a NUL. */
void sim_randstr(uint64_t *state, const char *alphabet, size_t n, char *out);

struct simdata_opts {
	uint64_t seed;
	int locations;
	int calls_per_location;
	int agents_per_location;
	int contacts_per_location;
	int64_t start_ms; /* first day of the start month, UTC */
	int months;
	double mutate_share; /* share of calls whose summary changes later */
	int64_t mutate_after_ms;
	double arrival_rate;     /* calls per second added while serving */
	double arrival_backdate; /* share of arrivals with createdAt in range */
};

struct sim_agent {
	char id[25];
	bool deleted;
	json_t *obj; /* GetAgentResponseDTO */
};

struct sim_call {
	char id[25];
	int loc;
	int64_t created_ms;
	double duration;
	bool trial;
	int agent;   /* index into the location's agents */
	json_t *obj; /* REST CallLog, no locationId */
	bool will_mutate, mutated;
	int64_t first_served_ms; /* 0 = never served */
};

struct sim_location {
	char id[21];
	char pit[48]; /* default Private Integration Token */
	char *business;
	struct sim_agent *agents;
	int n_agents;
	char (*contacts)[21];
	int n_contacts;
};

/* A cached query result, valid while n_calls is unchanged. */
struct sim_qcache {
	char key[400];
	size_t n_calls_at;
	size_t *idx, n;
};
#define SIM_QCACHE 8

struct simdata {
	struct simdata_opts o;
	struct sim_qcache cache[SIM_QCACHE];
	int cache_next;
	struct sim_location *locs;
	int n_locs;
	struct sim_call *calls;
	size_t n_calls, cap_calls;
	int64_t end_ms; /* end of the generated range */
	uint64_t arrival_rng;
	int64_t t0_ms; /* when serving started (for arrivals) */
	size_t arrived, mutations;
};

/* Generate the whole data set. Never fails (aborts on OOM). */
struct simdata *simdata_create(const struct simdata_opts *o);
void simdata_destroy(struct simdata *sd);

/* Index of the location with this id, or -1. */
int simdata_find_location(const struct simdata *sd, const char *id);

/* Add calls that "arrived" since t0 (arrival_rate); call with the lock held. */
void simdata_tick(struct simdata *sd, int64_t now_ms);

/*
 * Note that call i is being served now; applies a pending mutation when its
 * time has come. Returns the object to serialise (borrowed).
 */
json_t *simdata_serve(struct simdata *sd, size_t i, int64_t now_ms);

/* Filter of a call-logs list request (validated by the caller). */
struct sim_filter {
	int loc;
	const char *agent_id;     /* NULL = any */
	const char *contact_ids;  /* comma list, NULL = any */
	int call_type;            /* 0 any, 1 LIVE, 2 TRIAL */
	const char *action_types; /* comma list, NULL = any */
	bool has_range;
	int64_t start_ms, end_ms; /* inclusive */
	int sort_by;              /* 0 createdAt, 1 duration */
	bool ascend;
};

/*
 * All matching call indices in order; *out is malloc'd (free it), *n its
 * length. Recent results are cached until calls are added.
 */
void simdata_query(struct simdata *sd, const struct sim_filter *f, size_t **out,
	size_t *n);

/* Index of the call with this id in location loc, or -1. */
long simdata_find_call(const struct simdata *sd, int loc, const char *id);

/* Write every call as JSONL (REST shape + locationId), atomically. */
int simdata_dump(struct simdata *sd, const char *path, char **errmsg);
/* The same JSONL into a buffer (malloc'd, NUL-terminated). */
char *simdata_dump_mem(struct simdata *sd, size_t *len);

/* Convert a REST call object to a VoiceAiCallEnd body (new reference). */
json_t *simdata_webhook_body(const struct simdata *sd, size_t i, uint64_t *rng,
	int64_t now_ms);
/* An InboundMessage CALL event for call i (new reference). */
json_t *simdata_inbound_body(const struct simdata *sd, size_t i, uint64_t *rng,
	int64_t now_ms);

#endif
