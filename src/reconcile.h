/*
 * reconcile.h — prove a period complete: what HighLevel lists for a
 * location, day by day, against what the store holds (issue 17).
 *
 * sync's engine pages the API (its rate limits, retries and pager) and
 * hands each page here; reconcile classifies each listed call — stored
 * and the same, missing from the store, or stored with other content
 * than the API's copy — then, when the listing is complete, finds the
 * calls the store holds in the period that the API no longer lists.
 */
#ifndef CV_RECONCILE_H
#define CV_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>

#include "calllog.h"
#include "common.h"
#include "pager.h"
#include "store/store.h"

enum recon_kind { RECON_MISSING, RECON_DIFFERS, RECON_NOT_LISTED };

struct recon_id {
	char *id;
	int64_t created_at;
	enum recon_kind kind;
	bool repaired; /* stored by --repair, and now current as
				   listed (checked after storing) */
	char listed_sha256[CV_SHA256_HEX]; /* the API copy's canonical */
};

/* Counts for one UTC day of the period. */
struct recon_day {
	int64_t day; /* epoch ms of 00:00 UTC */
	int64_t api, store, missing, differs, not_listed, disposed;
};

struct recon {
	int64_t since, until; /* the period, inclusive */
	bool repair;
	struct recon_day *days; /* in day order */
	size_t n_days, cap_days;
	struct recon_id *ids;
	size_t n_ids, cap_ids;
	size_t page_first; /* ids[] found wanting by the last page */
	int64_t api, store, missing, differs, not_listed, repaired;
	int64_t disposed;         /* listed, but purged or erased here */
	int64_t outside;          /* listed records outside the period */
	int64_t unidentified;     /* listed records without an id or a
				   createdAt: the period is not proven */
	struct pager_keyset seen; /* ids listed so far (pager keys) */
	bool complete;            /* the listing ended (recon_finish ran) */
};

void recon_init(struct recon *r, int64_t since, int64_t until, bool repair);
void recon_free(struct recon *r);

/*
 * Classify the records of one listed page. *store_it is set when the
 * page holds calls to repair (missing or different, with repair on):
 * the caller then ingests the page and calls recon_repaired().
 */
enum cv_err recon_page(struct recon *r, struct store *s,
	const struct calllog_batch *b, bool *store_it,
	char **errmsg) CV_MUST_CHECK;
/* The page recon_page() asked for was stored: mark the ids it found
 * wanting repaired where the store now holds them as listed. */
enum cv_err recon_repaired(struct recon *r, struct store *s,
	char **errmsg) CV_MUST_CHECK;

/* The listing is complete: find what the store holds and the API does
 * not list, and count the store's calls per day. */
enum cv_err recon_finish(struct recon *r, struct store *s, const char *loc,
	char **errmsg) CV_MUST_CHECK;

/* Nothing is missing or different (after repairs). */
bool recon_clean(const struct recon *r);

const char *recon_kind_name(enum recon_kind k);

#endif
