/*
 * purge.c — `callvault purge`: remove calls past their retention policy
 * from the live store, when every version is in a verified archive whose
 * file is still there unchanged, and no active hold covers them. One
 * transaction per location-month, with its disposal record (ids, month,
 * archives, policy; no content) in the audit log, and a tombstone per
 * call so that no source brings it back. Then quarantine rows past the
 * longest policy.
 */
#include <stdlib.h>
#include <string.h>

#include "bagjson.h"
#include "media_dispose.h"
#include "retention.h"
#include "store/store_audit.h"
#include "store/store_media_arch.h"
#include "store/store_holds.h"
#include "store/store_retention.h"
#include "store/store_storage.h"

/* An archive a purge relies on, checked against its file once. */
struct parch {
	int64_t id;
	char *path, *sha256;
	int state; /* 0 unchecked, 1 file ok, 2 missing/changed */
	bool used;
};

struct pctx {
	struct store *s;
	const struct purge_opts *o;
	struct purge_stats *st;
	struct parch *arch;
	size_t n_arch;
	const char *loc, *month;
	char **ids; /* to purge in this location-month */
	size_t n_ids, cap_ids;
};

static int collect_archive(const struct store_archive *a, void *arg)
{
	struct pctx *p = arg;
	p->arch = xrealloc(p->arch, (p->n_arch + 1) * sizeof(*p->arch));
	p->arch[p->n_arch++] = (struct parch){ .id = a->id,
		.path = xstrdup(a->path),
		.sha256 = xstrdup(a->sha256) };
	return 0;
}

/* An archive in S3: purge relies on it only once `storage verify` found
 * it intact, current and locked (recorded in the store). */
static bool remote_ok(struct pctx *p, const struct parch *a)
{
	struct store_remote *v;
	size_t n;
	char *e = NULL;
	bool ok = store_remote_list(p->s, a->path, &v, &n, &e) == CV_OK &&
		  n == 1 && v[0].checked_at > 0 &&
		  strcmp(v[0].lock_mode, "NONE") &&
		  !strcmp(v[0].sha256, a->sha256);
	free(e);
	store_remotes_free(v, n);
	return ok;
}

/* The archive with this id, its file checked (once) against its hash. */
static struct parch *archive_ok(struct pctx *p, int64_t id)
{
	for (size_t i = 0; i < p->n_arch; i++) {
		struct parch *a = &p->arch[i];
		if (a->id != id)
			continue;
		if (!a->state && !strncmp(a->path, "s3://", 5))
			a->state = remote_ok(p, a) ? 1 : 2;
		if (!a->state) {
			char sha[CV_SHA256_HEX];
			a->state = retention_file_sha256(a->path, sha) &&
						   !strcmp(sha, a->sha256)
					   ? 1
					   : 2;
		}
		return a->state == 1 ? a : NULL;
	}
	return NULL;
}

static void say(struct pctx *p, const char *verdict, const char *id,
	const char *why, const char *arg)
{
	if (!p->o->dry_run || !p->o->out)
		return;
	fprintf(p->o->out, "%s %s (%s %s): ", verdict, id,
		*p->loc ? p->loc : "(no location)", p->month);
	fprintf(p->o->out, why, arg ? arg : "");
	fputc('\n', p->o->out);
}

static int cand_cb(const struct store_purge_cand *c, void *arg)
{
	struct pctx *p = arg;
	struct parch *a = NULL;
	if (c->held_by) {
		p->st->held++;
		say(p, "keep", c->call_id, "under legal hold #%s", c->held_by);
	} else if (!c->archive_id) {
		if (c->archived_unverified)
			p->st->unverified++;
		else
			p->st->unarchived++;
		say(p, "keep", c->call_id, "%s",
			c->archived_unverified
				? "its archive has not been verified since written"
			: c->media_unarchived
				? "its recording or transcription is not archived"
				: "not every version is archived");
	} else if (!(a = archive_ok(p, c->archive_id))) {
		p->st->unverified++;
		say(p, "keep", c->call_id, "%s",
			"its archive file is missing "
			"or changed");
	} else {
		a->used = true;
		say(p, "purge", c->call_id, "in %s", a->path);
		if (p->n_ids == p->cap_ids) {
			p->cap_ids = p->cap_ids ? p->cap_ids * 2 : 256;
			p->ids = xrealloc(p->ids, p->cap_ids * sizeof(*p->ids));
		}
		p->ids[p->n_ids++] = xstrdup(c->call_id);
	}
	return 0;
}

static char *disposal_detail(struct pctx *p, int keep)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{\"location\":");
	bagjson_cstr(&b, p->loc);
	buf_printf(&b,
		",\"month\":\"%s\",\"policy\":{\"keepMonths\":%d},"
		"\"archives\":[",
		p->month, keep);
	bool first = true;
	for (size_t i = 0; i < p->n_arch; i++) {
		if (!p->arch[i].used)
			continue;
		buf_puts(&b, first ? "{\"path\":" : ",{\"path\":");
		bagjson_cstr(&b, p->arch[i].path);
		buf_printf(&b, ",\"sha256\":\"%s\"}", p->arch[i].sha256);
		first = false;
	}
	buf_puts(&b, "],\"callIds\":[");
	for (size_t i = 0; i < p->n_ids; i++) {
		if (i)
			buf_putc(&b, ',');
		bagjson_cstr(&b, p->ids[i]);
	}
	buf_puts(&b, "]}");
	return buf_steal(&b);
}

static void clear_ids(struct pctx *p)
{
	for (size_t i = 0; i < p->n_ids; i++)
		free(p->ids[i]);
	p->n_ids = 0;
	for (size_t i = 0; i < p->n_arch; i++)
		p->arch[i].used = false;
}

/* Commit when all went well, else roll back (a dry run has no
 * transaction: tx false). */
static enum cv_err end_tx(struct store *s, bool tx, enum cv_err rc,
	char **errmsg)
{
	if (tx && rc == CV_OK)
		return store_commit(s, errmsg);
	if (tx)
		store_rollback(s);
	return rc;
}

/* A call and its media (whose blobs go after the commit). */
static enum cv_err purge_one(struct pctx *p, struct media_dispose *md,
	const char *id, const char *reason, char **errmsg)
{
	char *mid = NULL;
	enum cv_err rc = store_call_message_id(p->s, id, &mid, errmsg);
	if (rc == CV_OK)
		rc = store_ret_purge_call(p->s, id, reason, errmsg);
	if (rc == CV_OK)
		rc = media_dispose_message(md, mid, errmsg);
	free(mid);
	return rc;
}

/* One location-month in one transaction (or just reported). */
static enum cv_err purge_month(struct pctx *p, int keep, char **errmsg)
{
	int64_t from, to;
	retention_month_bounds(p->month, &from, &to);
	bool tx = !p->o->dry_run;
	enum cv_err rc = tx ? store_begin(p->s, errmsg) : CV_OK;
	if (rc != CV_OK)
		return rc;
	struct purge_stats before = *p->st;
	rc = store_ret_each_purge_cand(p->s, p->loc, from, to, cand_cb, p,
		errmsg);
	char reason[64];
	snprintf(reason, sizeof(reason),
		"purge: past retention (%d "
		"months)",
		keep);
	struct media_dispose md;
	media_dispose_init(&md, p->s);
	for (size_t i = 0; tx && i < p->n_ids && rc == CV_OK; i++)
		rc = purge_one(p, &md, p->ids[i], reason, errmsg);
	if (tx && rc == CV_OK && p->n_ids) {
		char *d = disposal_detail(p, keep);
		rc = store_audit_append(p->s, p->o->actor, "purge", d,
			(int64_t)p->n_ids, errmsg);
		free(d);
	}
	rc = end_tx(p->s, tx, rc, errmsg);
	if (rc == CV_OK) {
		p->st->purged += (int64_t)p->n_ids;
		p->st->media += md.messages;
		rc = media_dispose_blobs(&md, errmsg);
	} else {
		*p->st = before;
	}
	media_dispose_finish(&md);
	clear_ids(p);
	return rc;
}

static enum cv_err purge_location(struct pctx *p, int64_t now, char **errmsg)
{
	int keep;
	enum cv_err rc = store_ret_policy_for(p->s, p->loc, &keep, errmsg);
	if (rc != CV_OK)
		return rc;
	char last[8] = "9999-12";
	if (keep >= 0)
		retention_month_back(now, keep + 1, last);
	struct store_locmonth *lm;
	size_t n;
	if ((rc = store_ret_locmonths(p->s, p->loc, NULL, NULL, &lm, &n,
		     errmsg)) != CV_OK)
		return rc;
	for (size_t i = 0; i < n && rc == CV_OK; i++) {
		p->month = lm[i].month;
		if (keep < 0 || strcmp(lm[i].month, last) > 0) {
			int64_t *c = keep < 0 ? &p->st->no_policy
					      : &p->st->within;
			*c += lm[i].calls;
			if (p->o->dry_run && p->o->out)
				fprintf(p->o->out,
					"keep %lld call(s) (%s %s): "
					"%s\n",
					(long long)lm[i].calls,
					*p->loc ? p->loc : "(no location)",
					lm[i].month,
					keep < 0 ? "no retention policy"
						 : "within the retention "
						   "period");
			continue;
		}
		rc = purge_month(p, keep, errmsg);
	}
	free(lm);
	return rc;
}

static int longest_cb(const struct store_policy *pol, void *arg)
{
	int *keep = arg;
	if (pol->keep_months > *keep)
		*keep = pol->keep_months;
	return 0;
}

/*
 * Quarantine rows (rejected input, often whole transcripts) past
 * retention. They have no trusted location or call id, so the longest
 * policy in force applies, by when they were received; none without any
 * policy. One transaction with its audit record (count and cut-off).
 */
static enum cv_err purge_quarantine(struct pctx *p, int64_t now, char **errmsg)
{
	int keep = -1;
	enum cv_err rc = store_ret_each_policy(p->s, longest_cb, &keep, errmsg);
	if (rc != CV_OK || keep < 0)
		return rc;
	char last[8];
	int64_t from, before;
	retention_month_back(now, keep + 1, last);
	retention_month_bounds(last, &from, &before);
	bool tx = !p->o->dry_run;
	int64_t n = 0;
	if (tx && (rc = store_begin(p->s, errmsg)) != CV_OK)
		return rc;
	rc = store_ret_purge_quarantine(p->s, before, tx, &n, errmsg);
	char ts[32];
	cv_format_iso8601(before, ts);
	if (tx && rc == CV_OK && n) {
		char *d = xasprintf("{\"quarantine\":{\"receivedBefore\":"
				    "\"%s\",\"keepMonths\":%d}}",
			ts, keep);
		rc = store_audit_append(p->s, p->o->actor, "purge quarantine",
			d, n, errmsg);
		free(d);
	}
	rc = end_tx(p->s, tx, rc, errmsg);
	if (rc == CV_OK)
		p->st->quarantine = n;
	if (rc == CV_OK && n && p->o->dry_run && p->o->out)
		fprintf(p->o->out,
			"purge %lld quarantine row(s) received "
			"before %s\n",
			(long long)n, ts);
	return rc;
}

enum cv_err purge_run(struct store *s, const struct purge_opts *o,
	struct purge_stats *st, char **errmsg)
{
	struct pctx p = { .s = s, .o = o, .st = st };
	memset(st, 0, sizeof(*st));
	char **locs = NULL;
	size_t n = 0;
	int64_t now = o->now_ms ? o->now_ms : cv_now_ms();
	/* each query hold's search runs once for the whole run */
	enum cv_err rc = store_holds_evaluate(s, errmsg);
	if (rc == CV_OK)
		rc = store_ret_each_archive(s, collect_archive, &p, errmsg);
	if (rc == CV_OK)
		rc = store_ret_locations(s, &locs, &n, errmsg);
	for (size_t i = 0; i < n && rc == CV_OK; i++) {
		p.loc = locs[i];
		rc = purge_location(&p, now, errmsg);
	}
	if (rc == CV_OK)
		rc = purge_quarantine(&p, now, errmsg);
	for (size_t i = 0; i < n; i++)
		free(locs[i]);
	free(locs);
	clear_ids(&p);
	for (size_t i = 0; i < p.n_arch; i++) {
		free(p.arch[i].path);
		free(p.arch[i].sha256);
	}
	free(p.arch);
	free(p.ids);
	return rc;
}
