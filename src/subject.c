/*
 * subject.c — erasure of one person's calls (subject_erase); the access
 * package is in subject_export.c.
 *
 * Erasure removes each call the way purge does (store_ret_purge_call: the
 * same tables, the same tombstone, the same refusal of a held call), so
 * that sync, webhooks, import and restore drop an erased call exactly as
 * they drop a purged one; its recordings and timed transcriptions go
 * with it (the blobs once the batch commits). Archives are immutable:
 * the ones that still hold erased calls are named with the end of their
 * retention, for the operator to answer the request with.
 */
#include "subject.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "bagjson.h"
#include "media_dispose.h"
#include "store/store_audit.h"
#include "store/store_media_arch.h"
#include "store/store_holds.h"
#include "store/store_retention.h"
#include "subject_key.h"
#include "tz.h"
#include "util.h"

bool subject_text_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max || !cv_utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

struct cand {
	char *id, *location, *held_by;
	int64_t created_at;
	bool erased;
};

struct arch {
	int64_t id;
	char *location, *month, *path;
	int seq, keep_months;
	int64_t calls;
};

struct erase {
	struct store *s;
	const struct subject_erase_opts *o;
	struct subject_erase_stats *st;
	struct cand *c;
	size_t n, cap;
	struct arch *a;
	size_t n_a, cap_a;
	char *tomb_reason; /* "erasure: request R" */
	/* the keyed hash of the contact or number; "" for --call ids */
	char hmac[CV_SHA256_HEX];
	int n_earlier;
};

static int add_cand(const struct store_subject_call *sc, void *arg)
{
	struct erase *e = arg;
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 16;
		e->c = xrealloc(e->c, e->cap * sizeof(*e->c));
	}
	e->c[e->n++] = (struct cand){
		.id = xstrdup(sc->id),
		.location = sc->location_id ? xstrdup(sc->location_id) : NULL,
		.held_by = sc->held_by ? xstrdup(sc->held_by) : NULL,
		.created_at = sc->created_at,
	};
	return 0;
}

static void erase_finish(struct erase *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->c[i].id);
		free(e->c[i].location);
		free(e->c[i].held_by);
	}
	free(e->c);
	for (size_t i = 0; i < e->n_a; i++) {
		free(e->a[i].location);
		free(e->a[i].month);
		free(e->a[i].path);
	}
	free(e->a);
	free(e->tomb_reason);
}

/* Whether id is a candidate already (a --call given twice). */
static bool listed(const struct erase *e, const char *id)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->c[i].id, id) == 0)
			return true;
	return false;
}

/* The calls to consider: the selection, or each --call id that is there
 * (the others are reported and counted as missing). */
static enum cv_err collect(struct erase *e, char **errmsg)
{
	const struct subject_erase_opts *o = e->o;
	if (o->sel)
		return store_subject_each_call(e->s, o->sel, add_cand, e,
			errmsg);
	enum cv_err rc = CV_OK;
	for (size_t i = 0; i < o->n_call_ids && rc == CV_OK; i++) {
		struct store_subject_sel one = { .call_id = o->call_ids[i] };
		size_t before = e->n;
		if (listed(e, o->call_ids[i]))
			continue;
		rc = store_subject_each_call(e->s, &one, add_cand, e, errmsg);
		if (rc != CV_OK || e->n > before)
			continue;
		bool dead = false;
		rc = store_tombstoned(e->s, o->call_ids[i], NULL, &dead,
			errmsg);
		struct cv_safe k = { 0 };
		if (rc == CV_OK)
			fprintf(o->out, "  missing %s: %s\n",
				cv_safe(&k, o->call_ids[i]),
				dead ? "already disposed of (tombstone)"
				     : "no such call in the store");
		cv_safe_finish(&k);
		e->st->missing++;
	}
	return rc;
}

static int add_arch(const struct store_subject_archive *sa, void *arg)
{
	struct erase *e = arg;
	for (size_t i = 0; i < e->n_a; i++) {
		if (e->a[i].id == sa->id) {
			e->a[i].calls++;
			return 0;
		}
	}
	if (e->n_a == e->cap_a) {
		e->cap_a = e->cap_a ? 2 * e->cap_a : 8;
		e->a = xrealloc(e->a, e->cap_a * sizeof(*e->a));
	}
	e->a[e->n_a++] = (struct arch){
		.id = sa->id,
		.location = xstrdup(sa->location_id),
		.month = xstrdup(sa->month),
		.path = xstrdup(sa->path),
		.seq = sa->seq,
		.keep_months = sa->keep_months,
		.calls = 1,
	};
	return 0;
}

/* "YYYY-MM" plus n months. */
static void month_add(const char *month, int n, char out[8])
{
	int y = atoi(month), m = atoi(month + 5) - 1 + n;
	y += m / 12;
	m %= 12;
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%04d-%02d", y % 10000, m + 1);
	memcpy(out, tmp, 7);
	out[7] = '\0';
}

static void report_archives(struct erase *e)
{
	FILE *f = e->o->out;
	if (!e->n_a) {
		fputs("no archive holds these calls\n", f);
		return;
	}
	char now[8];
	cv_format_month(e->o->now_ms ? e->o->now_ms : cv_now_ms(), now);
	fprintf(f,
		"archives still holding %s calls (callvault never "
		"changes an archive):\n",
		e->o->dry_run ? "these" : "erased");
	for (size_t i = 0; i < e->n_a; i++) {
		const struct arch *a = &e->a[i];
		struct cv_safe k = { 0 };
		fprintf(f, "  %s (archive %lld, %s %s, %lld call%s): ",
			cv_safe(&k, a->path), (long long)a->id,
			*a->location ? cv_safe(&k, a->location)
				     : "(no location)",
			a->month, (long long)a->calls,
			a->calls == 1 ? "" : "s");
		cv_safe_finish(&k);
		if (a->keep_months < 0) {
			fputs("no retention policy: kept until deleted by "
			      "hand\n",
				f);
			continue;
		}
		char last[8];
		month_add(a->month, a->keep_months, last);
		fprintf(f, "retained through %s (keep %d months)%s\n", last,
			a->keep_months,
			strcmp(now, last) > 0 ? "; past it now" : "");
	}
}

/* The audit entry of one batch: request, reason, counts, the ids it
 * erased and those it kept for a hold (the batches partition the calls);
 * the first also names the archives. */
static char *batch_detail(struct erase *e, size_t from, size_t to, int batch,
	int batches, bool first)
{
	const struct subject_erase_opts *o = e->o;
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{\"request\":");
	bagjson_cstr(&b, o->request_id);
	buf_puts(&b, ",\"reason\":");
	bagjson_cstr(&b, o->reason);
	buf_printf(&b,
		",\"selector\":\"%s\",\"batch\":%d,\"batches\":%d,"
		"\"matched\":%lld,\"erased\":[",
		!o->sel              ? "calls"
		: o->sel->contact_id ? "contact"
				     : "number",
		batch, batches, (long long)e->n);
	bool comma = false;
	for (size_t i = from; i < to; i++) {
		if (!e->c[i].erased)
			continue;
		buf_puts(&b, comma ? "," : "");
		bagjson_cstr(&b, e->c[i].id);
		comma = true;
	}
	buf_puts(&b, "],\"held\":[");
	comma = false;
	for (size_t i = from; i < to; i++) {
		if (!e->c[i].held_by)
			continue;
		buf_puts(&b, comma ? ",{\"call\":" : "{\"call\":");
		bagjson_cstr(&b, e->c[i].id);
		buf_puts(&b, ",\"holds\":");
		bagjson_cstr(&b, e->c[i].held_by);
		buf_putc(&b, '}');
		comma = true;
	}
	buf_puts(&b, "],\"archives\":[");
	for (size_t i = 0; first && i < e->n_a; i++)
		buf_printf(&b, "%s%lld", i ? "," : "", (long long)e->a[i].id);
	buf_puts(&b, "]}");
	return buf_steal(&b);
}

/* Erase c[from, to) in one transaction with its audit entry. A call a
 * hold came to cover since it was read is kept (purge_call refuses it). */
static enum cv_err erase_batch(struct erase *e, size_t from, size_t to,
	int batch, int batches, char **errmsg)
{
	enum cv_err rc = store_begin(e->s, errmsg);
	int64_t n = 0;
	struct media_dispose md;
	media_dispose_init(&md, e->s);
	for (size_t i = from; i < to && rc == CV_OK; i++) {
		struct cand *c = &e->c[i];
		if (c->held_by)
			continue;
		char *why = NULL, *mid = NULL;
		rc = store_call_message_id(e->s, c->id, &mid, &why);
		if (rc == CV_OK)
			rc = store_ret_purge_call(e->s, c->id, e->tomb_reason,
				&why);
		/* its recordings and transcriptions go with it */
		if (rc == CV_OK)
			rc = media_dispose_message(&md, mid, &why);
		free(mid);
		if (rc == CV_EINVAL || rc == CV_ENOTFOUND) {
			c->held_by =
				rc == CV_EINVAL
					? xstrdup("a hold placed during the erase")
					: NULL;
			rc = CV_OK;
		} else if (rc == CV_OK) {
			c->erased = true;
			n++;
			if (*e->hmac)
				rc = store_subject_mark(e->s, c->id, e->hmac,
					errmsg);
		} else if (errmsg) {
			*errmsg = why;
			why = NULL;
		}
		free(why);
	}
	char *d = rc == CV_OK ? batch_detail(e, from, to, batch, batches,
					batch == 1)
			      : NULL;
	if (rc == CV_OK)
		rc = store_audit_append(e->s, e->o->actor, "subject erase", d,
			n, errmsg);
	free(d);
	if (rc == CV_OK)
		rc = store_commit(e->s, errmsg);
	else
		store_rollback(e->s);
	if (rc != CV_OK) /* rolled back: nothing of this batch went */
		for (size_t i = from; i < to; i++)
			e->c[i].erased = false;
	else
		rc = media_dispose_blobs(&md, errmsg);
	media_dispose_finish(&md);
	return rc;
}

static void report_calls(struct erase *e)
{
	for (size_t i = 0; i < e->n; i++) {
		const struct cand *c = &e->c[i];
		char ts[TZ_TIME_LEN];
		tz_format(e->o->zone, c->created_at, ts);
		struct cv_safe k = { 0 };
		const char *what = c->held_by      ? "held"
				   : e->o->dry_run ? "would erase"
				   : c->erased     ? "erased"
						   : "kept";
		fprintf(e->o->out, "  %-11s %s  %s", what, cv_safe(&k, c->id),
			ts);
		if (c->held_by)
			fprintf(e->o->out,
				"  under hold %s: not erased "
				"(holds win)",
				cv_safe(&k, c->held_by));
		fputc('\n', e->o->out);
		cv_safe_finish(&k);
	}
}

static enum cv_err check_opts(const struct subject_erase_opts *o, char **errmsg)
{
	if (!subject_text_ok(o->request_id, SUBJECT_REQUEST_MAX))
		return cv_error(errmsg, CV_EINVAL,
			"--request-id must be 1 to "
			"%d bytes of UTF-8 without control characters",
			SUBJECT_REQUEST_MAX);
	if (!subject_text_ok(o->reason, SUBJECT_REASON_MAX))
		return cv_error(errmsg, CV_EINVAL,
			"--reason must be 1 to %d "
			"bytes of UTF-8 without control characters",
			SUBJECT_REASON_MAX);
	if (!o->sel == !o->n_call_ids)
		return cv_error(errmsg, CV_EINVAL,
			"give a contact, a number "
			"or call ids");
	return CV_OK;
}

static enum cv_err erase_all(struct erase *e, char **errmsg)
{
	size_t todo = 0;
	for (size_t i = 0; i < e->n; i++)
		todo += !e->c[i].held_by;
	int batches = todo ? (int)((todo + SUBJECT_BATCH - 1) / SUBJECT_BATCH)
			   : 1;
	enum cv_err rc = CV_OK;
	size_t from = 0;
	for (int b = 1; b <= batches && rc == CV_OK; b++) {
		size_t to = from, k = 0;
		while (to < e->n && (k < SUBJECT_BATCH || e->c[to].held_by))
			k += !e->c[to++].held_by;
		if (b == batches)
			to = e->n;
		rc = erase_batch(e, from, to, b, batches, errmsg);
		from = to;
	}
	return rc;
}

static int say_earlier(const struct store_subject_earlier *p, void *arg)
{
	struct erase *e = arg;
	char ts[TZ_TIME_LEN];
	tz_format(e->o->zone, p->last_at, ts);
	struct cv_safe k = { 0 };
	if (!e->n_earlier++)
		fputs("earlier erasures of this person (matched by the keyed "
		      "hash their tombstones keep):\n",
			e->o->out);
	fprintf(e->o->out, "  %s: %lld call%s, %s\n", cv_safe(&k, p->reason),
		(long long)p->calls, p->calls == 1 ? "" : "s", ts);
	cv_safe_finish(&k);
	return 0;
}

/* The keyed hash of the person (not for --call ids), and the erasures
 * the store already holds of them. The key is made by the first erasure
 * that removes something; without one, nothing was ever erased by
 * contact or number. */
static enum cv_err subject_hash(struct erase *e, char **errmsg)
{
	const struct store_subject_sel *sel = e->o->sel;
	if (!sel || !e->o->key_path)
		return CV_OK;
	unsigned char key[SUBJECT_KEY_LEN];
	bool make = !e->o->dry_run && e->n > 0;
	enum cv_err rc = subject_key_load(e->o->key_path, make, key, errmsg);
	if (rc == CV_ENOTFOUND && !make)
		return CV_OK;
	if (rc != CV_OK)
		return rc;
	subject_hmac(key, sel->contact_id ? "contact" : "number",
		sel->contact_id ? sel->contact_id : sel->e164, e->hmac);
	OPENSSL_cleanse(key, sizeof(key));
	return store_subject_earlier(e->s, e->hmac, say_earlier, e, errmsg);
}

enum cv_err subject_erase(struct store *s, const struct subject_erase_opts *o,
	struct subject_erase_stats *st, char **errmsg)
{
	*st = (struct subject_erase_stats){ 0 };
	enum cv_err rc = check_opts(o, errmsg);
	if (rc != CV_OK)
		return rc;
	struct erase e = { .s = s, .o = o, .st = st };
	e.tomb_reason = xasprintf(STORE_ERASURE_PREFIX "request %s",
		o->request_id);
	rc = store_holds_evaluate(s, errmsg);
	if (rc == CV_OK)
		rc = collect(&e, errmsg);
	if (rc == CV_OK)
		rc = subject_hash(&e, errmsg);
	st->matched = (int64_t)e.n;
	if (rc != CV_OK || !e.n) {
		if (rc == CV_OK)
			fprintf(o->out, "0 calls: nothing matched, nothing "
					"written\n");
		erase_finish(&e);
		return rc;
	}
	for (size_t i = 0; i < e.n && rc == CV_OK; i++)
		if (!e.c[i].held_by)
			rc = store_subject_archives(s, e.c[i].id, add_arch, &e,
				errmsg);
	if (rc == CV_OK && !o->dry_run)
		rc = erase_all(&e, errmsg);
	for (size_t i = 0; i < e.n; i++) {
		st->held += e.c[i].held_by != NULL;
		st->erased += o->dry_run ? !e.c[i].held_by : e.c[i].erased;
	}
	st->archives = (int64_t)e.n_a;
	report_calls(&e);
	if (rc == CV_OK && o->dry_run) {
		struct cv_safe k = { 0 };
		fprintf(o->out,
			"dry run, nothing written: each call to erase "
			"would lose its row, versions, raw payloads, webhook "
			"events and index rows and leave a tombstone \"%s\"; "
			"held calls stay while a hold covers them\n",
			cv_safe(&k, e.tomb_reason));
		cv_safe_finish(&k);
	}
	if (rc == CV_OK)
		report_archives(&e);
	fprintf(o->out, "%lld call%s matched: %lld %s, %lld held\n",
		(long long)st->matched, st->matched == 1 ? "" : "s",
		(long long)st->erased,
		o->dry_run ? "would be erased" : "erased", (long long)st->held);
	erase_finish(&e);
	return rc;
}
