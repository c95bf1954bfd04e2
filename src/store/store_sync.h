/*
 * store_sync.h — what `callvault sync` keeps in the store: the locations
 * it pulls from (no secrets: those are files under secrets_dir), each
 * location's checkpoint and last result, agent names, and the webhook
 * fetch queue.
 */
#ifndef CV_STORE_SYNC_H
#define CV_STORE_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

enum store_auth { STORE_AUTH_PIT, STORE_AUTH_OAUTH };

/* One location row; strings owned (store_location_finish). */
struct store_location {
	char *id;
	enum store_auth auth;
	char *api_base;
	char *api_version;
	char *client_id; /* OAuth only, else NULL */
	char *secrets_dir;
	int64_t added_at, updated_at;
	/* from sync_state; checkpoint_ms < 0 when the location never synced */
	int64_t checkpoint_ms, last_run_at, last_ok_at, requests;
	char *last_error;
	char *last_warning; /* the last run's warning, or NULL */
};
void store_location_finish(struct store_location *l);

/* Insert or replace a location (added_at kept when it existed). */
enum cv_err store_location_put(struct store *s, const struct store_location *l,
	char **errmsg) CV_MUST_CHECK;
/* CV_ENOTFOUND when there is no such location. */
enum cv_err store_location_get(struct store *s, const char *id,
	struct store_location *out, char **errmsg) CV_MUST_CHECK;
/* Every location in id order; *out is an array the caller frees with
 * store_locations_free. */
enum cv_err store_location_list(struct store *s, struct store_location **out,
	size_t *n, char **errmsg) CV_MUST_CHECK;
void store_locations_free(struct store_location *l, size_t n);
/* Remove the row and its sync state; CV_ENOTFOUND when absent. */
enum cv_err store_location_delete(struct store *s, const char *id,
	char **errmsg) CV_MUST_CHECK;

/*
 * Raise the location's checkpoint to ms (never lowers it). Meant to run
 * inside the transaction that stored the calls it vouches for.
 */
enum cv_err store_sync_checkpoint(struct store *s, const char *loc, int64_t ms,
	char **errmsg) CV_MUST_CHECK;
/* Record a run's outcome: error NULL = success, warning NULL = none.
 * requests are added. */
enum cv_err store_sync_result(struct store *s, const char *loc, int64_t now,
	const char *error, const char *warning, int64_t requests,
	char **errmsg) CV_MUST_CHECK;

/* Record what the API said it held in a run's range [from, to] (its
 * first page's total; -1 = no usable total), as of `at`: status shows
 * the difference to the calls stored there as "calls behind". */
enum cv_err store_sync_listed(struct store *s, const char *loc, int64_t from,
	int64_t to, int64_t total, int64_t at, char **errmsg) CV_MUST_CHECK;

/* Record an agent's name (kept when the agent is later deleted). */
enum cv_err store_agent_put(struct store *s, const char *loc, const char *id,
	const char *name, int64_t now, char **errmsg) CV_MUST_CHECK;
/* Mark the agents of loc not seen since `since` as deleted. */
enum cv_err store_agents_mark_deleted(struct store *s, const char *loc,
	int64_t since, char **errmsg) CV_MUST_CHECK;

/* The call ids a webhook queued for loc (at most max); caller frees each
 * and the array. */
enum cv_err store_fetch_queue_list(struct store *s, const char *loc, size_t max,
	char ***ids, size_t *n, char **errmsg) CV_MUST_CHECK;
/* Drop a fetched call from the queue (inside the ingest transaction). */
enum cv_err store_fetch_queue_done(struct store *s, const char *call_id,
	char **errmsg) CV_MUST_CHECK;
/* Count a failed attempt and its reason. */
enum cv_err store_fetch_queue_failed(struct store *s, const char *call_id,
	const char *error, char **errmsg) CV_MUST_CHECK;

/* ---- reconcile: what the store holds, to compare with the API --------- */

/* A call's location, createdAt and its current version's canonical
 * SHA-256; *found false (CV_OK) when the store has no such call. */
struct store_call_digest {
	bool found;
	bool disposed; /* not found: purged or erased (a
				     tombstone), so never to come back */
	int64_t created_at;
	char canonical_sha256[CV_SHA256_HEX];
};
enum cv_err store_call_digest(struct store *s, const char *id,
	struct store_call_digest *out, char **errmsg) CV_MUST_CHECK;

/* Every call of loc with from <= createdAt <= to, in createdAt order. */
typedef enum cv_err (*store_call_fn)(void *ctx, const char *id,
	int64_t created_at, char **errmsg);
enum cv_err store_each_call_in(struct store *s, const char *loc, int64_t from,
	int64_t to, store_call_fn fn, void *ctx, char **errmsg) CV_MUST_CHECK;

#endif
