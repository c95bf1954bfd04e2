/*
 * login_gate.h — which password checks run, and how many at once.
 *
 * The console read the failed-login count and then ran the slow password
 * check (PBKDF2, ~0.2 s of a core): 40 simultaneous wrong passwords for
 * one user all read 0 failures and were all checked, against a limit of
 * 5, and a 120-login burst held both cores long enough to raise webhook
 * latency to 1.1 s. The gate reserves an attempt before the check:
 * attempts in flight count against the limit together with the failures
 * the store recorded, under one lock. At most `slots` checks run at once
 * and at most `queue` more wait for one; more than that are turned away
 * at once.
 */
#ifndef CV_LOGIN_GATE_H
#define CV_LOGIN_GATE_H

#include <stdbool.h>
#include <stdint.h>

struct login_gate;

/* max_failures per key; slots >= 1 checks at once; queue waiting. */
struct login_gate *login_gate_create(int max_failures, int slots, int queue);
void login_gate_destroy(struct login_gate *g);

enum login_gate_verdict {
	LOGIN_GATE_OK,      /* reserved and holding a check slot */
	LOGIN_GATE_LIMITED, /* failures recorded + in flight reach the max */
	LOGIN_GATE_BUSY,    /* slots and queue full */
};

/*
 * Reserve an attempt for each of n keys ("user:NAME", "addr:IP") and
 * wait for a check slot. count(arg, key, &recorded) gives the failures
 * the store holds for key in the window (false when it cannot tell: the
 * gate then refuses, failing closed); it runs under the gate's lock, so
 * a failure the caller records before login_gate_leave is never missed.
 * On LOGIN_GATE_OK the caller checks the password, records a failure,
 * and then calls login_gate_leave with the same keys.
 */
enum login_gate_verdict login_gate_enter(struct login_gate *g,
	const char *const *keys, int n,
	bool (*count)(void *arg, const char *key, int64_t *recorded),
	void *arg);
void login_gate_leave(struct login_gate *g, const char *const *keys, int n);

/* Password checks let through so far (for tests and /metrics). */
int64_t login_gate_checks(struct login_gate *g);

#endif
