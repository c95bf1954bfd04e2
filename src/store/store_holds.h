/*
 * store_holds.h — legal holds. A hold names a matter and criteria; a call
 * is held while any active hold matches it. Criteria are evaluated when
 * asked (at purge time), so a call that arrives after the hold was placed
 * is caught too. Within one hold, all given criteria must match (a list of
 * call ids matches any of them); across holds, any hold is enough, so
 * releasing one never frees a call another still holds. Every change is
 * written to the audit log in the same transaction.
 */
#ifndef CV_STORE_HOLDS_H
#define CV_STORE_HOLDS_H

#include <stdbool.h>
#include <stdint.h>

#include "../search.h"
#include "../util.h"
#include "store.h"

/* SQL condition: the call row `c` is matched by the hold row `h`. */
#define STORE_HOLD_MATCH_SQL                                                   \
	"(h.released_at IS NULL"                                               \
	" AND (NOT EXISTS (SELECT 1 FROM hold_calls x WHERE x.hold_id = h.id)" \
	"  OR EXISTS (SELECT 1 FROM hold_calls x WHERE x.hold_id = h.id"       \
	"   AND x.call_id = c.id))"                                            \
	" AND (h.contact_id IS NULL OR h.contact_id = c.contact_id)"           \
	" AND (h.from_e164 IS NULL OR h.from_e164 = c.from_e164)"              \
	" AND (h.agent_id IS NULL OR h.agent_id = c.agent_id)"                 \
	" AND (h.location_id IS NULL OR h.location_id = c.location_id)"        \
	" AND (h.from_ms IS NULL OR c.created_at >= h.from_ms)"                \
	" AND (h.to_ms IS NULL OR c.created_at < h.to_ms)"                     \
	" AND " STORE_HOLD_QUERY_SQL ")"

/*
 * A query hold (h.query not NULL) matches the calls its search matched
 * when store_holds_evaluate() last ran on this connection (the set in
 * temp.hold_query_calls), and, to fail closed, every call with a version
 * newer than that evaluation saw (version ids only grow): a call that
 * arrives or changes after it is held until the next evaluation. Until
 * evaluated, a query hold holds every call.
 */
#define STORE_HOLD_QUERY_SQL                                                   \
	"(h.query IS NULL"                                                     \
	" OR c.version_id > (SELECT max_version FROM temp.hold_query_state)"   \
	" OR EXISTS (SELECT 1 FROM temp.hold_query_calls q"                    \
	"  WHERE q.hold_id = h.id AND q.rid = c.rid))"

struct store_hold {
	int64_t id;
	const char *matter, *reason;
	const char *contact_id, *from_e164, *agent_id, *location_id;
	bool has_from, has_to;
	int64_t from_ms, to_ms; /* [from, to) on createdAt */
	const char *const *call_ids;
	size_t n_calls;
	int64_t created_at;
	const char *created_by;
	int64_t released_at; /* 0 while active */
	const char *released_by, *release_reason;
	const char *chosen_by; /* JSON: the search (query, filters) that
				     chose the calls of a hold placed from
				     one; NULL otherwise */
	/* A query hold: the query (callvault's grammar; "" = filters only)
	 * and its filters as "key=value\n" lines (search_filter_keys, the
	 * values as given; store_hold_filters_text). NULL otherwise. Its
	 * other criteria are then unset: the search decides. */
	const char *query, *query_filters;
};

/*
 * Place a hold (h->id, created_* and released_* are ignored) and audit
 * it as actor. At least one criterion is required (CV_EINVAL). *id gets
 * the new hold's id.
 */
enum cv_err store_hold_add(struct store *s, const struct store_hold *h,
	const char *actor, int64_t *id, char **errmsg) CV_MUST_CHECK;
/* Release an active hold with a reason, audited (the entry names the
 * hold, its matter and the reason). CV_ENOTFOUND when there is no such
 * hold, CV_EINVAL when it is already released or no reason is given.
 * Who may release which hold is the caller's to check (the console:
 * a hold-admin of its matter, or an admin). */
enum cv_err store_hold_release(struct store *s, int64_t id, const char *actor,
	const char *reason, char **errmsg) CV_MUST_CHECK;
/* The matter of hold id (*matter owned by the caller) and whether it is
 * released (released may be NULL); CV_ENOTFOUND when there is none. */
enum cv_err store_hold_matter(struct store *s, int64_t id, char **matter,
	bool *released, char **errmsg) CV_MUST_CHECK;
/* Walk holds by id (active ones only when active_only); *matched is how
 * many stored calls the hold covers now. Pointers valid during fn. */
enum cv_err store_hold_each(struct store *s, bool active_only, int64_t id,
	int (*fn)(const struct store_hold *h, int64_t matched, void *arg),
	void *arg, char **errmsg) CV_MUST_CHECK;
/* Walk the ids of stored calls a hold covers now (released: none). */
enum cv_err store_hold_each_call(struct store *s, int64_t id,
	int (*fn)(const char *call_id, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;
/* Set h's criteria from checked filters (search_filters_parse): contact,
 * number, agent, location and [from, to + 1 ms) — a filter's to is
 * inclusive, a hold's range is not. h borrows f's strings. */
void store_hold_criteria(struct store_hold *h, const struct search_filter *f);

/*
 * Evaluate every active query hold on this connection: run its search
 * (search_parse, search_filters_parse, store_search) once, into the set
 * STORE_HOLD_QUERY_SQL reads, from one read snapshot. Call it before
 * asking which calls are held (purge, erasure, hold show, the console's
 * held mark). A stored query that no longer parses fails (CV_EPARSE
 * naming the hold), and every call stays held: nothing may be disposed
 * of on a guess.
 */
enum cv_err store_holds_evaluate(struct store *s, char **errmsg) CV_MUST_CHECK;

/* The given filter values (checked by search_filters_parse) as
 * "key=value\n" lines, for store_hold.query_filters. Caller frees. */
char *store_hold_filters_text(const char *const given[SFK_N]);
/* Append a "location=" line for each of locs to b and return its text
 * (b is emptied; caller frees): a query hold scoped to several
 * locations. */
char *store_hold_filters_more(struct buf *b, const char *const *locs, size_t n);
/* Read such lines back into args (pointing into *copy, which the
 * caller frees). false on a line that is not one. */
bool store_hold_filters_args(const char *text,
	struct search_filter_arg args[SFK_N], char **copy);

/* Whether a hold reaches calls of this location: it has no location
 * scope, or its location criterion, or one of a query hold's location
 * filters (a query hold may name up to STORE_HOLD_MAX_LOCATIONS, one
 * "location=" line each, and holds what its search matches in any). */
#define STORE_HOLD_MAX_LOCATIONS 64
bool store_hold_in_scope(const struct store_hold *h, const char *location);

/* Whether an active hold covers the call (false for unknown calls). */
enum cv_err store_hold_is_held(struct store *s, const char *call_id, bool *held,
	char **errmsg) CV_MUST_CHECK;

#endif
