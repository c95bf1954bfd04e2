/*
 * faults.h — on-demand misbehaviour of the simulated API, parsed from
 * `--fault name=value,...`. Shares are probabilities per API request;
 * latency-ms, storm429 and storm-every are counts. Not thread-safe.
 */
#ifndef HLSIM_FAULTS_H
#define HLSIM_FAULTS_H

#include <stdbool.h>
#include <stdint.h>

enum fault_kind {
	F_5XX,
	F_RESET,
	F_TRUNCATE,
	F_BADJSON,
	F_REVOKE,
	F_REPEAT,
	F_DRIFT,
	F_EMPTY,
	F_NOECHO,
	F_EXAMPLE,
	F_OAUTH5XX,
	F_STORM,
	F_LATENCY,
	F_RECTRUNC,
	F_NOTAUDIO,
	F__COUNT
};

struct faults {
	double share[F__COUNT]; /* F_STORM, F_LATENCY unused here */
	int latency_ms;
	int rec_stall_ms; /* recordings: pause this long mid-body */
	int storm429;     /* length of a 429 storm (requests) */
	int storm_every;  /* a storm starts every N API requests */
	uint64_t rng;
	long api_count, storm_left, storm_next;
	long fired[F__COUNT];
};

/* Parse a spec into f (zeroed first). Returns 0, or -1 with *errmsg set. */
int faults_parse(struct faults *f, const char *spec, uint64_t seed,
	char **errmsg);
/* Roll the dice for kind k; counts it when it fires. */
bool faults_roll(struct faults *f, enum fault_kind k);
/* Count one API request; true when it falls inside a 429 storm. */
bool faults_storm(struct faults *f);
/* Name of kind k as used in the spec and in stats. */
const char *faults_name(enum fault_kind k);
/* Help text listing every fault. */
extern const char faults_help[];

#endif
