/*
 * store_trust.h — trust and tombstone helpers shared inside the store
 * (the public side is in store.h).
 */
#ifndef CV_STORE_TRUST_H
#define CV_STORE_TRUST_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* A version's kind from its auth column, else what its source implies. */
enum store_cred store_cred_of_row(const char *auth, const char *source);

/* For a call id the store does not hold: whether it has a tombstone
 * (*dead), and whether the trust policy of location (its own, else the
 * default; every kind when there is none) lets auth create it (*ok). */
enum cv_err store_trust_new_call(struct store *s, const char *call_id,
	const char *location, enum store_cred auth, bool *dead, bool *ok,
	char **errmsg) CV_MUST_CHECK;

/* Leave a tombstone for a call that is still in calls (call it before
 * deleting the row): its id, location and messageId, when, and why. */
enum cv_err store_tombstone_add(struct store *s, const char *call_id,
	const char *reason, int64_t when, char **errmsg) CV_MUST_CHECK;

#endif
