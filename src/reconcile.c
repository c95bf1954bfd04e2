/* reconcile.c — see reconcile.h */
#include "reconcile.h"

#include <stdlib.h>
#include <string.h>

#include "pager.h"
#include "store/store_sync.h"
#include "util.h"

#define DAY_MS INT64_C(86400000)

void recon_init(struct recon *r, int64_t since, int64_t until, bool repair)
{
	memset(r, 0, sizeof(*r));
	r->since = since;
	r->until = until;
	r->repair = repair;
}

void recon_free(struct recon *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_ids; i++)
		free(r->ids[i].id);
	free(r->ids);
	free(r->days);
	pager_keyset_free(&r->seen);
	memset(r, 0, sizeof(*r));
}

const char *recon_kind_name(enum recon_kind k)
{
	switch (k) {
	case RECON_MISSING: return "missing";
	case RECON_DIFFERS: return "differs";
	case RECON_NOT_LISTED: return "not-listed";
	}
	return "?";
}

bool recon_clean(const struct recon *r)
{
	if (r->unidentified > 0)
		return false;
	for (size_t i = 0; i < r->n_ids; i++)
		if (r->ids[i].kind != RECON_NOT_LISTED && !r->ids[i].repaired)
			return false;
	return true;
}

/* ---- days and ids ------------------------------------------------------ */

static struct recon_day *day_of(struct recon *r, int64_t t)
{
	int64_t d = t - (((t % DAY_MS) + DAY_MS) % DAY_MS);
	size_t lo = 0, hi = r->n_days;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (r->days[mid].day < d)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < r->n_days && r->days[lo].day == d)
		return &r->days[lo];
	if (r->n_days == r->cap_days) {
		r->cap_days = r->cap_days ? 2 * r->cap_days : 64;
		r->days = xrealloc(r->days, r->cap_days * sizeof(*r->days));
	}
	memmove(r->days + lo + 1, r->days + lo,
		(r->n_days - lo) * sizeof(*r->days));
	r->n_days++;
	memset(&r->days[lo], 0, sizeof(r->days[lo]));
	r->days[lo].day = d;
	return &r->days[lo];
}

static struct recon_id *add_id(struct recon *r, const char *id,
	int64_t created_at, enum recon_kind kind)
{
	if (r->n_ids == r->cap_ids) {
		r->cap_ids = r->cap_ids ? 2 * r->cap_ids : 64;
		r->ids = xrealloc(r->ids, r->cap_ids * sizeof(*r->ids));
	}
	r->ids[r->n_ids++] = (struct recon_id){ .id = xstrdup(id),
		.created_at = created_at,
		.kind = kind };
	struct recon_day *d = day_of(r, created_at);
	switch (kind) {
	case RECON_MISSING:
		d->missing++;
		r->missing++;
		break;
	case RECON_DIFFERS:
		d->differs++;
		r->differs++;
		break;
	case RECON_NOT_LISTED:
		d->not_listed++;
		r->not_listed++;
		break;
	}
	return &r->ids[r->n_ids - 1];
}

/* ---- the listing ------------------------------------------------------- */

enum cv_err recon_page(struct recon *r, struct store *s,
	const struct calllog_batch *b, bool *store_it, char **errmsg)
{
	*store_it = false;
	r->page_first = r->n_ids;
	for (size_t i = 0; i < b->n; i++) {
		const struct calllog *c = &b->items[i].rec;
		if (b->items[i].reason) {
			r->unidentified++; /* sync quarantines it */
			continue;
		}
		if (c->created_at < r->since || c->created_at > r->until) {
			r->outside++;
			continue;
		}
		uint64_t key = pager_key(c->id, strlen(c->id));
		if (!pager_keyset_add(&r->seen, key))
			continue; /* listed twice (overlapping windows) */
		r->api++;
		day_of(r, c->created_at)->api++;
		struct store_call_digest dg;
		enum cv_err rc = store_call_digest(s, c->id, &dg, errmsg);
		if (rc != CV_OK)
			return rc;
		struct recon_id *x;
		if (!dg.found && dg.disposed) {
			/* gone by our own rules, on purpose */
			r->disposed++;
			day_of(r, c->created_at)->disposed++;
			continue;
		} else if (!dg.found) {
			x = add_id(r, c->id, c->created_at, RECON_MISSING);
		} else if (strcmp(dg.canonical_sha256, c->canonical_sha256)) {
			x = add_id(r, c->id, c->created_at, RECON_DIFFERS);
		} else {
			continue;
		}
		memcpy(x->listed_sha256, c->canonical_sha256,
			sizeof(x->listed_sha256));
		*store_it |= r->repair;
	}
	return CV_OK;
}

enum cv_err recon_repaired(struct recon *r, struct store *s, char **errmsg)
{
	/* the ids the last page found wanting are the newest ones; each
	 * is repaired only if the store now holds it as listed (a trust
	 * policy may have refused it) */
	for (size_t k = r->page_first; k < r->n_ids; k++) {
		struct store_call_digest dg;
		enum cv_err rc = store_call_digest(s, r->ids[k].id, &dg,
			errmsg);
		if (rc != CV_OK)
			return rc;
		if (dg.found &&
			!strcmp(dg.canonical_sha256, r->ids[k].listed_sha256)) {
			r->ids[k].repaired = true;
			r->repaired++;
		}
	}
	return CV_OK;
}

struct finish_ctx {
	struct recon *r;
};

static enum cv_err stored_call(void *ctx, const char *id, int64_t t,
	char **errmsg)
{
	struct recon *r = ((struct finish_ctx *)ctx)->r;
	(void)errmsg;
	r->store++;
	day_of(r, t)->store++;
	if (!pager_keyset_has(&r->seen, pager_key(id, strlen(id))))
		add_id(r, id, t, RECON_NOT_LISTED);
	return CV_OK;
}

enum cv_err recon_finish(struct recon *r, struct store *s, const char *loc,
	char **errmsg)
{
	struct finish_ctx fc = { r };
	r->store = 0;
	for (size_t i = 0; i < r->n_days; i++)
		r->days[i].store = 0;
	enum cv_err rc = store_each_call_in(s, loc, r->since, r->until,
		stored_call, &fc, errmsg);
	r->complete = rc == CV_OK;
	return rc;
}
