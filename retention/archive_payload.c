/*
 * archive_payload.c — the payload of one bag (archive.c): in one pass
 * over the calls (ordered by createdAt, id), each call's transcript goes
 * straight into the tar, its lines to the JSONL/CSV spools; then the
 * audit entries and erasures, each spool copied in with its manifest
 * lines, and the recordings last (archive_media.c).
 *
 * To S3 the spools are counted, not stored (spool.h): each JSONL/CSV
 * file, and at the end each manifest, is made a second time from the
 * same read snapshot, straight into the tar, by the *_again functions
 * here, which must put exactly the bytes the first pass put.
 */
#include <stdlib.h>
#include <string.h>

#include "archive_int.h"
#include "archive_media.h"
#include "bagfmt.h"
#include "bagjson.h"
#include "store/store_audit.h"
#include "store/store_retention.h"
#include "store/store_subject.h"
#include "tarzst.h"

/* ---- one bag ---- */

static const char *const payload_names[] = { "calls.jsonl", "versions.jsonl",
	"events.jsonl", "outcomes.csv", "audit.jsonl", "erasures.jsonl" };

static void manifest_add(struct bag *b, const char *rel, const char *h256,
	const char *h512, uint64_t size)
{
	struct buf *l = &b->line;
	buf_reset(l);
	bagfmt_cat(l, h256, "  ", rel, "\n", NULL);
	spool_put(&b->sp[SP_M256], l->data, l->len);
	buf_reset(l);
	bagfmt_cat(l, h512, "  ", rel, "\n", NULL);
	spool_put(&b->sp[SP_M512], l->data, l->len);
	if (b->again)
		return;
	b->oxum_bytes += size;
	b->oxum_files++;
}

static int version_line(const struct store_version *v, void *arg)
{
	struct bag *b = arg;
	buf_reset(&b->line);
	bagfmt_version(&b->line, b->cur_id, v);
	spool_put(&b->sp[SP_VERSIONS], b->line.data, b->line.len);
	b->versions += !b->again;
	return 0;
}

static int event_line(const struct store_event *e, void *arg)
{
	struct bag *b = arg;
	buf_reset(&b->line);
	bagfmt_event(&b->line, e);
	spool_put(&b->sp[SP_EVENTS], b->line.data, b->line.len);
	b->events += !b->again;
	return 0;
}

static const char outcomes_header[] =
	"id,locationId,agentId,agentName,contactId,fromNumber,createdAt,"
	"duration,trialCall,actionTypes,appointmentBooked,transferred,"
	"summary\r\n";

static void outcome_row(struct bag *b, const struct store_arch_call *c)
{
	char ts[32], dur[64] = "";
	cv_format_iso8601(c->created_at, ts);
	if (c->has_duration)
		snprintf(dur, sizeof(dur), "%.15g", c->duration);
	struct buf *l = &b->line;
	buf_reset(l);
	const char *f[] = { c->id, c->location_id, c->agent_id, c->agent_name,
		c->contact_id, c->from_number, ts, dur,
		c->trial_call < 0 ? ""
		: c->trial_call   ? "true"
				  : "false",
		c->action_types, c->appointment_booked ? "true" : "false",
		c->transferred ? "true" : "false", c->summary };
	for (size_t i = 0; i < CV_ARRAY_LEN(f); i++)
		bagfmt_csv_field(l, f[i], i + 1 == CV_ARRAY_LEN(f));
	spool_put(&b->sp[SP_OUTCOMES], l->data, l->len);
}

/* A call's transcript into the tar (to_tar) and its manifest lines. */
static enum cv_err add_transcript(struct bag *b,
	const struct store_arch_call *c, bool to_tar)
{
	buf_reset(&b->line);
	bagfmt_transcript(&b->line, c);
	char *safe = retention_safe_name(c->id);
	buf_reset(&b->path);
	bagfmt_cat(&b->path, b->root, "/data/transcripts/", safe, ".txt", NULL);
	free(safe);
	char h256[CV_SHA256_HEX], h512[CV_SHA512_HEX];
	cv_sha256_hex(b->line.data, b->line.len, h256);
	cv_sha512_hex(b->line.data, b->line.len, h512);
	enum cv_err rc = to_tar ? tarzst_add(b->t, b->path.data, b->line.data,
					  b->line.len, b->errmsg)
				: CV_OK;
	if (rc == CV_OK)
		manifest_add(b, b->path.data + strlen(b->root) + 1, h256, h512,
			b->line.len);
	return rc;
}

static void remember(struct bag *b, const char *id, int64_t vid)
{
	if (b->n_ids == b->cap_ids) {
		b->cap_ids = b->cap_ids ? b->cap_ids * 2 : 1024;
		b->ids = xrealloc(b->ids, b->cap_ids * sizeof(*b->ids));
		b->vids = xrealloc(b->vids, b->cap_ids * sizeof(*b->vids));
	}
	b->ids[b->n_ids] = xstrdup(id);
	b->vids[b->n_ids++] = vid;
}

static int call_cb(const struct store_arch_call *c, void *arg)
{
	struct bag *b = arg;
	spool_put(&b->sp[SP_CALLS], c->canonical, c->canonical_len);
	spool_put(&b->sp[SP_CALLS], "\n", 1);
	b->cur_id = c->id;
	if ((b->rc = store_ret_each_version(b->s, c->id, version_line, b,
		     b->errmsg)) != CV_OK ||
		(b->rc = store_ret_each_event(b->s, c->id, event_line, b,
			 b->errmsg)) != CV_OK ||
		(b->rc = add_transcript(b, c, true)) != CV_OK ||
		(b->rc = amedia_note_call(b->media, c->id, b->errmsg)) != CV_OK)
		return 1;
	outcome_row(b, c);
	remember(b, c->id, c->version_id);
	if (!b->calls)
		b->first = c->created_at;
	b->last = c->created_at;
	b->calls++;
	if (b->o->progress && (b->calls % 1000 == 0 || b->calls == b->total))
		b->o->progress(b->o->progress_ctx, b->location, b->month,
			b->calls, b->total, false);
	return 0;
}

static int audit_cb(const struct audit_entry *e, void *arg)
{
	struct bag *b = arg;
	struct buf *l = &b->line;
	buf_reset(l);
	buf_puts(l, "{\"actor\":");
	bagjson_cstr(l, e->actor);
	if (e->client) { /* hashed too, when set (store_audit.h) */
		buf_puts(l, ",\"client\":");
		bagjson_cstr(l, e->client);
	}
	buf_puts(l, ",\"command\":");
	bagjson_cstr(l, e->command);
	buf_puts(l, ",\"detail\":");
	bagjson_cstr(l, e->detail);
	buf_printf(l, ",\"hash\":\"%s\",\"id\":%lld", e->hash,
		(long long)e->id);
	/* keys sorted; the OS user is part of the entry's hash when set,
	 * so the chain can be recomputed from the bag alone */
	if (e->os_user) {
		buf_puts(l, ",\"osUser\":");
		bagjson_cstr(l, e->os_user);
	}
	buf_printf(l,
		",\"prevHash\":\"%s\",\"resultCount\":%lld,"
		"\"ts\":%lld}\n",
		e->prev_hash, (long long)e->result_count, (long long)e->ts);
	spool_put(&b->sp[SP_AUDIT], l->data, l->len);
	return 0;
}

/* Every erasure of the location so far rides in each later bag: an
 * older archive cannot be changed, and a restore of it reads them from
 * any later one (restore.c) */
static int erasure_cb(const struct store_erasure *e, void *arg)
{
	struct bag *b = arg;
	buf_reset(&b->line);
	bagjson_erasure_line(&b->line, e);
	spool_put(&b->sp[SP_ERASURES], b->line.data, b->line.len);
	return 0;
}

/* ---- the files made again (counted spools) ---- */

static int calls_again(const struct store_arch_call *c, void *arg)
{
	struct bag *b = arg;
	spool_put(&b->sp[SP_CALLS], c->canonical, c->canonical_len);
	spool_put(&b->sp[SP_CALLS], "\n", 1);
	return 0;
}

static int outcomes_again(const struct store_arch_call *c, void *arg)
{
	outcome_row(arg, c);
	return 0;
}

static int transcript_again(const struct store_arch_call *c, void *arg)
{
	struct bag *b = arg;
	return (b->rc = add_transcript(b, c, false)) != CV_OK;
}

static enum cv_err each_call_again(struct bag *b,
	int (*fn)(const struct store_arch_call *c, void *arg), char **errmsg)
{
	b->rc = CV_OK;
	enum cv_err rc = store_ret_each_call(b->s, b->location, b->from, b->to,
		b->only_new, b->archive_id, fn, b, errmsg);
	return b->rc != CV_OK ? b->rc : rc;
}

static enum cv_err lines_again(struct bag *b, bool versions, char **errmsg)
{
	enum cv_err rc = CV_OK;
	for (size_t i = 0; i < b->n_ids && rc == CV_OK; i++) {
		b->cur_id = b->ids[i];
		rc = versions ? store_ret_each_version(b->s, b->ids[i],
					version_line, b, errmsg)
			      : store_ret_each_event(b->s, b->ids[i],
					event_line, b, errmsg);
	}
	return rc;
}

static struct audit_filter bag_audit_filter(const struct bag *b)
{
	/* this location's entries only: a bag is handed over alone */
	return (struct audit_filter){ .from_ms = b->from,
		.to_ms = b->to - 1,
		.location = b->location };
}

struct again {
	struct bag *b;
	int which; /* SP_* */
};

static enum cv_err file_again(void *arg, char **errmsg)
{
	struct again *a = arg;
	struct bag *b = a->b;
	struct audit_filter af = bag_audit_filter(b);
	enum cv_err rc;
	b->again = true;
	switch (a->which) {
	case SP_CALLS: rc = each_call_again(b, calls_again, errmsg); break;
	case SP_VERSIONS:
	case SP_EVENTS:
		rc = lines_again(b, a->which == SP_VERSIONS, errmsg);
		break;
	case SP_OUTCOMES:
		spool_put(&b->sp[SP_OUTCOMES], outcomes_header,
			strlen(outcomes_header));
		rc = each_call_again(b, outcomes_again, errmsg);
		break;
	case SP_AUDIT:
		rc = store_audit_each(b->s, &af, audit_cb, b, errmsg);
		break;
	default:
		rc = store_erasures_each(b->s, b->location, b->now, erasure_cb,
			b, errmsg);
		break;
	}
	b->again = false;
	return rc;
}

static void media_manifest(void *arg, const char *rel, const char *h256,
	const char *h512, uint64_t size)
{
	manifest_add(arg, rel, h256, h512, size);
}

enum cv_err archive_manifest_again(void *arg, char **errmsg)
{
	struct bag *b = arg;
	b->again = true;
	enum cv_err rc = each_call_again(b, transcript_again, errmsg);
	for (int i = SP_CALLS; i <= SP_ERASURES && rc == CV_OK; i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "data/%s", payload_names[i]);
		manifest_add(b, rel, b->sp[i].hex256, b->sp[i].hex512,
			b->sp[i].size);
	}
	if (rc == CV_OK)
		amedia_manifest_again(b->media, media_manifest, b);
	b->again = false;
	return rc;
}

enum cv_err archive_payload_write(struct bag *b, int64_t from, int64_t to,
	bool only_new, int64_t now)
{
	enum cv_err rc = CV_OK;
	b->from = from;
	b->to = to;
	b->only_new = only_new;
	b->now = now;
	/* to S3 there is no archive directory, and nothing is staged on
	 * local disk: the files are counted, then made again */
	bool counted = b->o->storage || b->o->storage_default ||
		       b->o->counted_spools;
	for (int i = 0; i < SP_N && rc == CV_OK; i++)
		if (counted)
			spool_open_counted(&b->sp[i]);
		else
			rc = spool_open(&b->sp[i], b->o->out_dir, b->errmsg);
	if (rc != CV_OK)
		return rc;
	b->media = amedia_create(b->s, counted ? NULL : b->o->out_dir,
		b->archive_id);
	spool_put(&b->sp[SP_OUTCOMES], outcomes_header,
		strlen(outcomes_header));
	const char *dirs[] = { "", "/data", "/data/transcripts" };
	for (int i = 0; i < 3 && rc == CV_OK; i++) {
		buf_reset(&b->path);
		buf_printf(&b->path, "%s%s", b->root, dirs[i]);
		rc = tarzst_add_dir(b->t, b->path.data, b->errmsg);
	}
	if (rc == CV_OK)
		rc = store_ret_each_call(b->s, b->location, from, to, only_new,
			b->archive_id, call_cb, b, b->errmsg);
	if (rc != CV_OK)
		return b->rc != CV_OK ? b->rc : rc;
	struct audit_filter af = bag_audit_filter(b);
	rc = store_audit_each(b->s, &af, audit_cb, b, b->errmsg);
	/* those made by the time the bag was first written (a rebuild
	 * writes the same bytes) */
	if (rc == CV_OK)
		rc = store_erasures_each(b->s, b->location, now, erasure_cb, b,
			b->errmsg);
	/* counted: the data files are final before any is made again */
	for (int i = SP_CALLS; i <= SP_ERASURES; i++)
		spool_seal(&b->sp[i]);
	for (int i = SP_CALLS; i <= SP_ERASURES && rc == CV_OK; i++) {
		char h256[CV_SHA256_HEX], h512[CV_SHA512_HEX];
		buf_reset(&b->path);
		buf_printf(&b->path, "%s/data/%s", b->root, payload_names[i]);
		uint64_t size = b->sp[i].size;
		struct again a = { b, i };
		rc = spool_emit(&b->sp[i], b->t, b->path.data, file_again, &a,
			h256, h512, b->errmsg);
		if (rc == CV_OK)
			manifest_add(b, b->path.data + strlen(b->root) + 1,
				h256, h512, size);
	}
	if (rc == CV_OK && b->oxum_files + amedia_files(b->media) >
				   RETENTION_BAG_FILES_MAX - 8)
		return cv_error(b->errmsg, CV_EINVAL,
			"%s %s: with their "
			"recordings, more files than one archive may hold "
			"(%u)",
			b->location, b->month, RETENTION_BAG_FILES_MAX);
	if (rc == CV_OK)
		rc = amedia_write(b->media, b->t, b->root, media_manifest, b,
			b->errmsg);
	return rc;
}
