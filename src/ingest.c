/* ingest.c — see ingest.h */
#include "ingest.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void ingest_stats_add(struct ingest_stats *into,
	const struct ingest_stats *from)
{
	into->read += from->read;
	into->added += from->added;
	into->updated += from->updated;
	into->unchanged += from->unchanged;
	into->quarantined += from->quarantined;
	into->quarantined_new += from->quarantined_new;
	into->kept += from->kept;
	into->disposed += from->disposed;
}

/* A valid record its location's trust policy does not let this source
 * create: kept in quarantine as its scrubbed canonical form (secrets
 * already replaced), naming the payload it came in. */
static enum cv_err refuse(struct store *s, const struct store_payload *p,
	const struct calllog *c, char **errmsg)
{
	char *r = xasprintf("source %s may not create calls in location %s"
			    " (callvault trust) (in payload sha256:%s)",
		store_cred_name(p->auth),
		c->location_id ? c->location_id : "(none)", p->sha256);
	enum cv_err rc = store_quarantine(s, p->source, c->canonical,
		c->canonical_len, r, errmsg);
	free(r);
	return rc;
}

static void count(struct ingest_stats *st, enum store_ingest_result res)
{
	int64_t *const by[] = {
		[INGEST_NEW] = &st->added,
		[INGEST_UPDATED] = &st->updated,
		[INGEST_UNCHANGED] = &st->unchanged,
		[INGEST_KEPT] = &st->kept,
		[INGEST_DISPOSED] = &st->disposed,
		[INGEST_REFUSED] = &st->quarantined,
	};
	(*by[res])++;
}

enum cv_err ingest_parsed(struct store *s, struct store_payload *p,
	const struct calllog_batch *b, const char *reason,
	struct ingest_stats *st, char **errmsg)
{
	if (reason) {
		st->read++;
		st->quarantined++;
		return store_quarantine(s, p->source, p->bytes, p->len, reason,
			errmsg);
	}
	/* secrets anywhere in the payload: keep only its hash */
	for (size_t i = 0; i < b->n; i++)
		if (!b->items[i].reason && b->items[i].rec.n_redacted > 0)
			p->withhold = true;
	enum cv_err rc = CV_OK;
	for (size_t i = 0; i < b->n && rc == CV_OK; i++) {
		const struct calllog_item *it = &b->items[i];
		st->read++;
		if (it->reason) {
			/* a lone record keeps the exact bytes; a list element
			 * its own JSON (so the same record in another page is
			 * kept once, however often a sync reads it) */
			bool added = false;
			st->quarantined++;
			rc = b->is_list ? store_quarantine_row(s, p->source,
						  it->raw, it->raw_len,
						  it->reason, &added, errmsg)
					: store_quarantine_row(s, p->source,
						  p->bytes, p->len, it->reason,
						  &added, errmsg);
			st->quarantined_new += added;
			continue;
		}
		enum store_ingest_result res;
		rc = store_ingest_call(s, &it->rec, p, &res, errmsg);
		if (rc == CV_OK && res == INGEST_REFUSED)
			rc = refuse(s, p, &it->rec, errmsg);
		if (rc != CV_OK)
			break;
		count(st, res);
	}
	return rc;
}

enum cv_err ingest_payload(struct store *s, enum store_source src,
	const char *bytes, size_t len, const char *location_hint,
	struct ingest_stats *st, struct calllog_batch *batch_out, char **errmsg)
{
	struct calllog_batch b;
	char *reason = NULL;
	struct store_payload p;
	store_payload_init(&p, src, bytes, len);
	if (calllog_parse_payload(bytes, len, location_hint, &b, &reason) !=
			CV_OK &&
		!reason)
		reason = xstrdup("unparseable payload");
	enum cv_err rc = ingest_parsed(s, &p, &b, reason, st, errmsg);
	free(reason);
	if (batch_out)
		*batch_out = b;
	else
		calllog_batch_finish(&b);
	return rc;
}
