/*
 * archive.c — `callvault archive`: one BagIt bag per location-month in a
 * tar.zst. Payload files are generated in one pass over the calls (ordered
 * by createdAt, id): transcripts go straight into the tar, the JSONL/CSV
 * files are spooled to unlinked temp files while hashed, then copied in;
 * the manifests and tag files come last. Nothing in data/ depends on the
 * time of archiving, so the same calls give the same payload bytes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_media.h"
#include "audithead.h"
#include "bagfmt.h"
#include "bagjson.h"
#include "publish.h"
#include "rebuild.h"
#include "retention.h"
#include "spool.h"
#include "seal.h"
#include "storage.h"
#include "store/store_archive_state.h"
#include "store/store_audit.h"
#include "store/store_holds.h"
#include "store/store_retention.h"
#include "store/store_subject.h"
#include "tarzst.h"

#define ARCHIVE_CACHE_KIB 4000

/* ---- one bag ---- */

enum { ARCHIVE_WRITEBACK_BYTES = 8 << 20 };

enum {
	SP_CALLS,
	SP_VERSIONS,
	SP_EVENTS,
	SP_OUTCOMES,
	SP_AUDIT,
	SP_ERASURES,
	SP_M256,
	SP_M512,
	SP_N
};
static const char *const payload_names[] = { "calls.jsonl", "versions.jsonl",
	"events.jsonl", "outcomes.csv", "audit.jsonl", "erasures.jsonl" };

struct bag {
	struct store *s;
	const struct archive_opts *o;
	const char *location, *month;
	char *root; /* top directory inside the tar */
	struct tarzst *t;
	struct spool sp[SP_N];
	struct buf line, path;
	int64_t calls, versions, events, total, first, last;
	uint64_t oxum_bytes, oxum_files;
	char **ids; /* the calls, for archive_calls */
	int64_t *vids;
	size_t n_ids, cap_ids;
	enum cv_err rc;
	char **errmsg;
	const char *cur_id;
	int64_t archive_id;   /* --rebuild: just this archive's calls */
	struct buf info;      /* bag-info.txt: given (rebuild) or made */
	struct amedia *media; /* recordings, timed transcriptions */
	struct seal seal;     /* signature, timestamp of the tag manifest */
};

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
	b->oxum_bytes += size;
	b->oxum_files++;
}

static int version_line(const struct store_version *v, void *arg)
{
	struct bag *b = arg;
	buf_reset(&b->line);
	bagfmt_version(&b->line, b->cur_id, v);
	spool_put(&b->sp[SP_VERSIONS], b->line.data, b->line.len);
	b->versions++;
	return 0;
}

static int event_line(const struct store_event *e, void *arg)
{
	struct bag *b = arg;
	buf_reset(&b->line);
	bagfmt_event(&b->line, e);
	spool_put(&b->sp[SP_EVENTS], b->line.data, b->line.len);
	b->events++;
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

static enum cv_err add_transcript(struct bag *b,
	const struct store_arch_call *c)
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
	enum cv_err rc = tarzst_add(b->t, b->path.data, b->line.data,
		b->line.len, b->errmsg);
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
		(b->rc = add_transcript(b, c)) != CV_OK ||
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

/* ---- tag files ---- */

struct chain {
	int index;
	char *prev_tag; /* NULL for the first bag of a location */
	char *prev_name;
};

static int hold_line(const struct store_hold *h, int64_t matched, void *arg)
{
	struct bag *b = arg;
	if (!store_hold_in_scope(h, b->location))
		return 0;
	/* by id: a matter's name is not for whoever receives the bag */
	buf_printf(&b->path, "Callvault-Legal-Hold: #%lld\n", (long long)h->id);
	return 0;
}

/* The audit chain's head as this bag is written, MACed with the audit
 * key: `audit --verify --against` holds the live log to it. */
static enum cv_err audit_head(struct bag *b, struct buf *out)
{
	int64_t id;
	char hash[CV_SHA256_HEX], mac[CV_SHA256_HEX];
	enum cv_err rc = store_audit_head(b->s, &id, hash, b->errmsg);
	if (rc != CV_OK)
		return rc;
	buf_printf(out, AUDITHEAD_LABEL ": %lld %s\n", (long long)id, hash);
	if (b->o->audit_key) {
		audithead_mac(b->o->audit_key, id, hash, mac);
		buf_printf(out, AUDITHEAD_MAC_LABEL ": hmac-sha256 %s\n", mac);
	}
	return CV_OK;
}

static enum cv_err bag_info(struct bag *b, int seq, const struct chain *ch,
	int64_t now, struct buf *out)
{
	char date[32], first[32], last[32];
	cv_format_iso8601(now, date);
	date[10] = '\0';
	cv_format_iso8601(b->first, first);
	cv_format_iso8601(b->last, last);
	int keep;
	enum cv_err rc = store_ret_policy_for(b->s, b->location, &keep,
		b->errmsg);
	if (rc != CV_OK)
		return rc;
	buf_printf(out,
		"Bag-Software-Agent: callvault %s\n"
		"Bagging-Date: %s\n"
		"Payload-Oxum: %llu.%llu\n"
		"External-Identifier: callvault:%s:%s%s%.0d\n"
		"Callvault-Version: %s\n"
		"Callvault-Location-Id: %s\n"
		"Callvault-Month: %s\n"
		"Callvault-Supplement: %d\n"
		"Callvault-Chain-Index: %d\n"
		"Callvault-Calls: %lld\n"
		"Callvault-Versions: %lld\n"
		"Callvault-Events: %lld\n"
		"Callvault-First-Created-At: %s\n"
		"Callvault-Last-Created-At: %s\n",
		CALLVAULT_VERSION, date, (unsigned long long)b->oxum_bytes,
		(unsigned long long)b->oxum_files, b->location, b->month,
		seq ? "." : "", seq, CALLVAULT_VERSION, b->location, b->month,
		seq, ch->index, (long long)b->calls, (long long)b->versions,
		(long long)b->events, first, last);
	if (keep >= 0)
		buf_printf(out, "Callvault-Retention-Policy: keep %d months\n",
			keep);
	else
		buf_puts(out, "Callvault-Retention-Policy: none\n");
	buf_reset(&b->path);
	rc = store_hold_each(b->s, true, 0, hold_line, b, b->errmsg);
	if (rc != CV_OK)
		return rc;
	buf_puts(out,
		b->path.len ? b->path.data : "Callvault-Legal-Hold: none\n");
	if ((rc = audit_head(b, out)) != CV_OK)
		return rc;
	buf_printf(out,
		"Previous-Bag: %s\nPrevious-Bag-Tagmanifest-SHA256: %s\n",
		ch->prev_name ? ch->prev_name : "none",
		ch->prev_tag ? ch->prev_tag : "none");
	return CV_OK;
}

static void tag_line(struct buf *tm, const char *name, const void *p, size_t n)
{
	char h[CV_SHA256_HEX];
	cv_sha256_hex(p, n, h);
	buf_printf(tm, "%s  %s\n", h, name);
}

/* The manifests, bagit.txt, bag-info.txt and the tag manifest. */
static enum cv_err write_tags(struct bag *b, int seq, const struct chain *ch,
	int64_t now, char tag_sha[CV_SHA256_HEX])
{
	static const char bagit[] =
		"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	struct buf tm, p;
	buf_init(&tm);
	buf_init(&p);
	char h[2][CV_SHA256_HEX];
	enum cv_err rc = CV_OK;
	static const char *const mnames[] = { "manifest-sha256.txt",
		"manifest-sha512.txt" };
	for (int i = 0; i < 2 && rc == CV_OK; i++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%s", b->root, mnames[i]);
		char h512[CV_SHA512_HEX];
		rc = spool_copy(&b->sp[SP_M256 + i], b->t, p.data, h[i], h512,
			b->errmsg);
		if (rc == CV_OK)
			buf_printf(&tm, "%s  %s\n", h[i], mnames[i]);
	}
	if (rc == CV_OK && !b->info.len)
		rc = bag_info(b, seq, ch, now, &b->info);
	if (rc == CV_OK) {
		const struct buf info = b->info;
		tag_line(&tm, "bagit.txt", bagit, strlen(bagit));
		tag_line(&tm, "bag-info.txt", info.data, info.len);
		const char *names[] = { "bagit.txt", "bag-info.txt",
			"tagmanifest-sha256.txt" };
		const struct buf bodies[] = {
			{ (char *)bagit, strlen(bagit), 0 }, info, tm
		};
		for (int i = 0; i < 3 && rc == CV_OK; i++) {
			buf_reset(&p);
			buf_printf(&p, "%s/%s", b->root, names[i]);
			rc = tarzst_add(b->t, p.data, bodies[i].data,
				bodies[i].len, b->errmsg);
		}
		cv_sha256_hex(tm.data, tm.len, tag_sha);
	}
	/* a rebuilt bag has the same tag manifest: its seal, as kept */
	if (rc == CV_OK && b->archive_id)
		rc = seal_load(b->s, b->archive_id, &b->seal, b->errmsg);
	else if (rc == CV_OK)
		seal_make(b->o, tm.data, tm.len, &b->seal);
	if (rc == CV_OK)
		rc = seal_write(&b->seal, b->t, b->root, b->errmsg);
	buf_finish(&tm);
	buf_finish(&p);
	return rc;
}

/* ---- the pieces of one archive, in order ---- */

static void bag_finish(struct bag *b)
{
	for (int i = 0; i < SP_N; i++)
		spool_close(&b->sp[i]);
	for (size_t i = 0; i < b->n_ids; i++)
		free(b->ids[i]);
	free(b->ids);
	free(b->vids);
	free(b->root);
	buf_finish(&b->line);
	buf_finish(&b->path);
	buf_finish(&b->info);
	seal_finish(&b->seal);
	tarzst_destroy(b->t);
	amedia_destroy(b->media);
}

static void media_manifest(void *arg, const char *rel, const char *h256,
	const char *h512, uint64_t size)
{
	manifest_add(arg, rel, h256, h512, size);
}

static enum cv_err write_payload(struct bag *b, int64_t from, int64_t to,
	bool only_new, int64_t now)
{
	enum cv_err rc = CV_OK;
	/* to S3 there is no archive directory: the payload spools (tar
	 * wants each file's size first) are unlinked files in TMPDIR */
	const char *tmp = getenv("TMPDIR");
	const char *dir = !b->o->storage && !b->o->storage_default
				  ? b->o->out_dir
			  : tmp && *tmp ? tmp
					: "/tmp";
	for (int i = 0; i < SP_N && rc == CV_OK; i++)
		rc = spool_open(&b->sp[i], dir, b->errmsg);
	if (rc != CV_OK)
		return rc;
	b->media = amedia_create(b->s, dir, b->archive_id);
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
	/* this location's entries only: a bag is handed over alone */
	struct audit_filter af = { .from_ms = from,
		.to_ms = to - 1,
		.location = b->location };
	rc = store_audit_each(b->s, &af, audit_cb, b, b->errmsg);
	/* those made by the time the bag was first written (a rebuild
	 * writes the same bytes) */
	if (rc == CV_OK)
		rc = store_erasures_each(b->s, b->location, now, erasure_cb, b,
			b->errmsg);
	for (int i = SP_CALLS; i <= SP_ERASURES && rc == CV_OK; i++) {
		char h256[CV_SHA256_HEX], h512[CV_SHA512_HEX];
		buf_reset(&b->path);
		buf_printf(&b->path, "%s/data/%s", b->root, payload_names[i]);
		uint64_t size = b->sp[i].size;
		rc = spool_copy(&b->sp[i], b->t, b->path.data, h256, h512,
			b->errmsg);
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

/* The last archive of a location (-month); CV_ENOTFOUND quietly. */
static enum cv_err last_archive(struct store *s, const char *loc,
	const char *month, struct store_archive *out, char **errmsg)
{
	char *e = NULL;
	enum cv_err rc = store_ret_last_archive(s, loc, month, out, &e);
	if (rc != CV_OK && rc != CV_ENOTFOUND)
		cv_error(errmsg, rc, "%s", e);
	free(e);
	return rc;
}

static enum cv_err get_chain(struct store *s, const char *loc, struct chain *ch,
	char **errmsg)
{
	struct store_archive prev;
	memset(ch, 0, sizeof(*ch));
	enum cv_err rc = last_archive(s, loc, NULL, &prev, errmsg);
	if (rc == CV_ENOTFOUND)
		return CV_OK;
	if (rc != CV_OK)
		return rc;
	ch->index = prev.chain_index + 1;
	ch->prev_tag = xstrdup(prev.tagmanifest_sha256);
	const char *slash = strrchr(prev.path, '/');
	ch->prev_name = xstrdup(slash ? slash + 1 : prev.path);
	store_archive_finish(&prev);
	return CV_OK;
}

struct target {
	char *dir, *name, *path, *sidecar;
	int seq;
	bool only_new;
};

static void target_finish(struct target *tg)
{
	free(tg->dir);
	free(tg->name);
	free(tg->path);
	free(tg->sidecar);
}

static enum cv_err plan_target(struct store *s, const struct archive_opts *o,
	const char *loc, const char *month, struct target *tg, char **errmsg)
{
	struct store_archive last;
	memset(tg, 0, sizeof(*tg));
	enum cv_err rc = last_archive(s, loc, month, &last, errmsg);
	if (rc == CV_OK) {
		tg->seq = last.seq + 1;
		tg->only_new = true;
		store_archive_finish(&last);
	} else if (rc != CV_ENOTFOUND) {
		return rc;
	}
	char *safe = retention_safe_name(loc);
	tg->dir = xasprintf("%s/%s", o->out_dir, safe);
	free(safe);
	if (tg->seq)
		tg->name = xasprintf("%s.%d.tar.zst", month, tg->seq);
	else
		tg->name = xasprintf("%s.tar.zst", month);
	tg->path = xasprintf("%s/%s", tg->dir, tg->name);
	tg->sidecar = xasprintf("%s.sha256", tg->path);
	return CV_OK;
}

/* The bag into sk, its tar mtime now: res gets the file's hash and size,
 * tag_sha the tag manifest's. */
static enum cv_err write_bag(struct bag *b, struct sink *sk, int seq,
	const struct chain *ch, int64_t now, bool only_new,
	char tag_sha[CV_SHA256_HEX], struct archive_outcome *res)
{
	int64_t from, to;
	retention_month_bounds(b->month, &from, &to);
	char *safe = retention_safe_name(b->location);
	b->root = xasprintf("%s_%s%s%.0d", safe, b->month, seq ? "." : "", seq);
	free(safe);
	uint64_t tar_size;
	enum cv_err rc;
	if ((rc = tarzst_create(&b->t, sk, b->o->level ? b->o->level : 3,
		     b->o->threads, now, b->errmsg)) == CV_OK &&
		(rc = write_payload(b, from, to, only_new, now)) == CV_OK &&
		(rc = write_tags(b, seq, ch, now, tag_sha)) == CV_OK)
		rc = tarzst_finish(b->t, res->sha256, &res->size, &tar_size,
			b->errmsg);
	if (rc != CV_OK) {
		/* its threads write to sk: stopped before sk goes */
		tarzst_destroy(b->t);
		b->t = NULL;
		return rc;
	}
	res->seq = seq;
	res->calls = b->calls;
	res->versions = b->versions;
	res->events = b->events;
	res->payload_bytes = b->oxum_bytes;
	res->is_signed = b->seal.has_sig;
	res->timestamped = b->seal.token != NULL;
	if (b->seal.tsa_error)
		snprintf(res->tsa_error, sizeof(res->tsa_error), "%s",
			b->seal.tsa_error);
	return rc;
}

static void bag_start(struct bag *b, struct store *s,
	const struct archive_opts *o, const char *loc, const char *month,
	char **errmsg)
{
	*b = (struct bag){ .s = s,
		.o = o,
		.location = loc,
		.month = month,
		.errmsg = errmsg };
	buf_init(&b->line);
	buf_init(&b->path);
	buf_init(&b->info);
}

static enum cv_err open_sink(struct sink **sk, const char *dir,
	const char *path, enum sink_fault fault, char **errmsg)
{
	enum cv_err rc = retention_mkdirs(dir, errmsg);
	publish_sweep_temps(dir);
	if (rc == CV_OK)
		rc = sink_open_file(sk, path, (int)cv_data_mode(), errmsg);
	if (rc == CV_OK) {
		sink_set_fault(*sk, fault);
		/* the disk writes while the bag is made: less to wait for
		 * at the fsync before the rename */
		sink_set_writeback(*sk, ARCHIVE_WRITEBACK_BYTES);
	}
	return rc;
}

/* An S3 target of this run: its record and client. */
struct remote {
	struct store_storage t;
	struct s3 *c;
};

/* Start streaming the bag to the target: tg->path becomes its URL. */
static enum cv_err remote_begin(struct store *s, struct remote *x,
	const char *loc, const char *month, struct target *tg,
	struct storage_put **put, struct sink **sk, char **errmsg)
{
	int keep;
	enum cv_err rc = store_ret_policy_for(s, loc, &keep, errmsg);
	if (rc == CV_OK && keep < 0)
		rc = cv_error(errmsg, CV_EINVAL,
			"%s %s: no retention policy "
			"for the location, so no date to lock the archive "
			"until in %s (callvault retention set)",
			*loc ? loc : "(no location)", month, x->t.name);
	char *safe = retention_safe_name(loc);
	char *rel = xasprintf("%s/%s", safe, tg->name);
	free(safe);
	/* a month already past its period (archived late) is still
	 * locked for a day: S3 refuses a retain-until in the past */
	int64_t until = storage_retain_until(month, keep),
		floor = cv_now_ms() + 86400000;
	if (rc == CV_OK)
		rc = storage_put_begin(x->c, &x->t, rel,
			until > floor ? until : floor, put, sk, errmsg);
	free(rel);
	if (rc == CV_OK) {
		free(tg->path);
		tg->path = xstrdup(storage_put_url(*put));
	}
	return rc;
}

/* Complete the upload and lock it; legal hold ON when a hold covers a
 * call of the bag. Then its recordings, under content-addressed keys,
 * locked as long as the bag (after it: the bag's parts may still be on
 * the client's connection until it completes). A failure among them
 * leaves the bag's version unrecorded, as a crash there would. */
static enum cv_err remote_finish(struct store *s, struct remote *x,
	struct storage_put *put, const struct bag *b, const char *sha256,
	char **errmsg)
{
	bool held = false;
	enum cv_err rc = CV_OK;
	for (size_t i = 0; i < b->n_ids && !held && rc == CV_OK; i++)
		rc = store_hold_is_held(s, b->ids[i], &held, errmsg);
	publish_crash_point("s3-before-complete");
	if (rc == CV_OK)
		rc = storage_put_finish(put, sha256, held, errmsg);
	const char **shas;
	size_t n = amedia_recordings(b->media, &shas), nv = 0;
	struct store_remote_blob *v = NULL;
	if (rc == CV_OK)
		rc = storage_blobs_put(s, x->c, &x->t, shas, n,
			storage_put_until(put), &v, &nv, errmsg);
	free(shas);
	if (rc == CV_OK)
		storage_put_add_blobs(put, v, nv);
	return rc;
}

static enum cv_err archive_one(struct store *s, const struct archive_opts *o,
	struct remote *x, const char *loc, const char *month,
	struct archive_outcome *res, char **errmsg)
{
	struct storage_put *put = NULL;
	int64_t from, to, now = o->now_ms ? o->now_ms : cv_now_ms();
	retention_month_bounds(month, &from, &to);
	struct target tg;
	struct chain ch = { 0 };
	struct bag b;
	bag_start(&b, s, o, loc, month, errmsg);
	struct sink *sk = NULL;
	struct store_archive rec = { 0 };
	int64_t maxv = 0;
	bool snap = false;
	enum cv_err rc = plan_target(s, o, loc, month, &tg, errmsg);
	if (rc == CV_OK && (rc = store_read_begin(s, errmsg)) == CV_OK)
		snap = true;
	if (rc == CV_OK)
		rc = store_ret_count_calls(s, loc, from, to, tg.only_new, 0,
			&b.total, errmsg);
	if (rc != CV_OK || b.total == 0)
		goto out;
	if (b.total > RETENTION_BAG_FILES_MAX - 16) {
		rc = cv_error(errmsg, CV_EINVAL,
			"%s %s: %lld calls, more than "
			"one archive may hold (%u files)",
			loc, month, (long long)b.total,
			RETENTION_BAG_FILES_MAX);
		goto out;
	}
	if ((rc = get_chain(s, loc, &ch, errmsg)) != CV_OK ||
		(rc = store_ret_max_version(s, &maxv, errmsg)) != CV_OK)
		goto out;
	if (!x && access(tg.path, F_OK) == 0) {
		rc = cv_error(errmsg, CV_EINVAL,
			"%s exists but the store has "
			"no record of it; move it away first",
			tg.path);
		goto out;
	}
	char tag_sha[CV_SHA256_HEX];
	if (x)
		rc = remote_begin(s, x, loc, month, &tg, &put, &sk, errmsg);
	else
		rc = open_sink(&sk, tg.dir, tg.path, o->fault, errmsg);
	if (rc == CV_OK && x && o->fault)
		sink_set_fault(sk, o->fault);
	if (rc == CV_OK)
		rc = write_bag(&b, sk, tg.seq, &ch, now, tg.only_new, tag_sha,
			res);
	if (rc != CV_OK && put && storage_put_error(put) && errmsg) {
		free(*errmsg); /* the sink's failure: say the S3 reason */
		*errmsg = xstrdup(storage_put_error(put));
	}
	if (rc != CV_OK)
		goto out;
	if (x && (rc = remote_finish(s, x, put, &b, res->sha256, errmsg)) !=
			 CV_OK)
		goto out;
	rec = (struct store_archive){ .location_id = (char *)loc,
		.month = (char *)month,
		.seq = tg.seq,
		.chain_index = ch.index,
		.path = tg.path,
		.sha256 = res->sha256,
		.tagmanifest_sha256 = tag_sha,
		.prev_tagmanifest_sha256 = ch.prev_tag,
		.n_calls = b.calls,
		.n_versions = b.versions,
		.n_events = b.events,
		.payload_bytes = (int64_t)b.oxum_bytes,
		.size = (int64_t)res->size,
		.max_version_id = maxv,
		.written_at = now };
	store_read_end(s);
	snap = false;
	struct publish pub = { .s = s,
		.actor = o->actor,
		.path = tg.path,
		.name = tg.name,
		.rec = &rec,
		.ids = b.ids,
		.vids = b.vids,
		.n = b.n_ids,
		.media = b.media,
		.bag_info = b.info.data,
		.bag_info_len = b.info.len,
		.seal = &b.seal,
		.now = now };
	if (x) {
		pub.also = storage_put_record;
		pub.also_arg = put;
		publish_crash_point("s3-before-record");
		rc = publish_record(&pub, errmsg);
	} else {
		rc = publish_archive(&pub, sk, errmsg);
	}
	if (rc == CV_OK)
		snprintf(res->path, sizeof(res->path), "%s", tg.path);
out:
	if (put)
		sk = NULL; /* the upload's own sink */
	storage_put_destroy(put);
	if (o->progress && b.total)
		o->progress(o->progress_ctx, b.location, b.month, b.calls,
			b.total, true);
	if (snap)
		store_read_end(s);
	sink_destroy(sk);
	bag_finish(&b);
	free(ch.prev_tag);
	free(ch.prev_name);
	target_finish(&tg);
	return rc;
}

/* ---- archive --rebuild ---- */

/* May archive a be rebuilt from the live store? */
static enum cv_err rebuild_check(struct store *s, const struct store_archive *a,
	struct bag *b, char **errmsg)
{
	int64_t gone, changed, from, to;
	enum cv_err rc = store_ret_archive_rebuildable(s, a->id, &gone,
		&changed, errmsg);
	if (rc == CV_OK && gone)
		return cv_error(errmsg, CV_EINTEGRITY,
			"%s cannot be rebuilt: "
			"%lld of its %lld calls were purged",
			a->path, (long long)gone, (long long)a->n_calls);
	if (rc == CV_OK && changed)
		return cv_error(errmsg, CV_EINTEGRITY,
			"%s cannot be rebuilt: "
			"%lld of its calls have changed since (a later "
			"archive holds them)",
			a->path, (long long)changed);
	retention_month_bounds(a->month, &from, &to);
	if (rc == CV_OK)
		rc = store_ret_count_calls(s, a->location_id, from, to, false,
			a->id, &b->total, errmsg);
	if (rc == CV_OK && b->total != a->n_calls)
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"%s cannot be rebuilt: "
			"the store holds %lld of its %lld calls",
			a->path, (long long)b->total, (long long)a->n_calls);
	char *info = NULL;
	size_t len;
	if (rc == CV_OK && (rc = store_ret_get_baginfo(s, a->id, &info, &len,
				    errmsg)) == CV_OK)
		buf_append(&b->info, info, len);
	free(info);
	return rc;
}

/* Write archive a again from the live store, into its own path, when
 * that gives the same bag (the tag manifest it recorded). */
enum cv_err archive_rebuild_one(struct store *s, const struct archive_opts *o,
	struct store_archive *a, struct archive_outcome *res, char **errmsg)
{
	struct bag b;
	bag_start(&b, s, o, a->location_id, a->month, errmsg);
	b.archive_id = a->id;
	struct sink *sk = NULL;
	struct chain ch = { .index = a->chain_index };
	char *copy = xstrdup(a->path), tag_sha[CV_SHA256_HEX];
	const char *slash = strrchr(a->path, '/');
	if (strrchr(copy, '/'))
		*strrchr(copy, '/') = '\0';
	enum cv_err rc = store_read_begin(s, errmsg);
	bool snap = rc == CV_OK;
	if (rc == CV_OK)
		rc = rebuild_check(s, a, &b, errmsg);
	if (rc == CV_OK)
		rc = open_sink(&sk, slash ? copy : ".", a->path, o->fault,
			errmsg);
	if (rc == CV_OK)
		rc = write_bag(&b, sk, a->seq, &ch, a->written_at, false,
			tag_sha, res);
	if (rc == CV_OK && strcmp(tag_sha, a->tagmanifest_sha256) != 0)
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"%s cannot be rebuilt: "
			"the store's calls no longer give the bag recorded "
			"(tag manifest %s, recorded %s)",
			a->path, tag_sha, a->tagmanifest_sha256);
	if (snap)
		store_read_end(s);
	free(a->sha256);
	a->sha256 = memcpy(xmalloc(CV_SHA256_HEX), res->sha256, CV_SHA256_HEX);
	struct publish pub = { .s = s,
		.actor = o->actor,
		.path = a->path,
		.name = slash ? slash + 1 : a->path,
		.rec = a,
		.rebuild_id = a->id,
		.now = o->now_ms ? o->now_ms : cv_now_ms() };
	a->size = (int64_t)res->size;
	if (rc == CV_OK && (rc = publish_archive(&pub, sk, errmsg)) == CV_OK)
		snprintf(res->path, sizeof(res->path), "%s", a->path);
	sink_destroy(sk);
	bag_finish(&b);
	free(copy);
	return rc;
}

enum cv_err archive_run(struct store *s, const struct archive_opts *o,
	void (*fn)(const struct archive_outcome *r, void *arg), void *arg,
	char **errmsg)
{
	char through[8];
	const char *from = o->month, *to = o->month ? o->month : o->through;
	if (!to) {
		retention_month_back(o->now_ms ? o->now_ms : cv_now_ms(), 1,
			through);
		to = through;
	}
	struct store_locmonth *lm = NULL;
	size_t n = 0;
	struct remote xr = { 0 }, *x = NULL;
	/* a bag is one pass over the month's calls: a 4 MB page cache
	 * does, and keeps archive --to's peak RSS under 64 MiB with the
	 * upload's part buffers (the default 16 MB fills while counting) */
	enum cv_err rc = store_set_cache(s, ARCHIVE_CACHE_KIB, errmsg);
	if (rc != CV_OK)
		return rc;
	if (o->storage || o->storage_default) {
		if (o->rebuild)
			return cv_error(errmsg, CV_EINVAL,
				"--rebuild writes "
				"to a directory; an archive in S3 is locked");
		rc = storage_open(s, o->storage, &xr.t, &xr.c, errmsg);
		if (rc != CV_OK)
			return rc;
		x = &xr;
	}
	if (rc == CV_OK)
		rc = publish_recover(s, NULL, NULL, errmsg);
	if (o->out_dir && !o->rebuild && !x)
		publish_sweep_tree(o->out_dir);
	if (rc == CV_OK && o->rebuild)
		return archive_rebuild_month(s, o, o->location, o->month, fn,
			arg, errmsg);
	if (rc == CV_OK)
		rc = store_ret_locmonths(s, o->location, from, to, &lm, &n,
			errmsg);
	for (size_t i = 0; i < n && rc == CV_OK; i++) {
		if (o->rebuild) {
			rc = archive_rebuild_month(s, o, lm[i].location,
				lm[i].month, fn, arg, errmsg);
			continue;
		}
		struct archive_outcome res;
		memset(&res, 0, sizeof(res));
		snprintf(res.location, sizeof(res.location), "%s",
			lm[i].location);
		snprintf(res.month, sizeof(res.month), "%s", lm[i].month);
		rc = archive_one(s, o, x, lm[i].location, lm[i].month, &res,
			errmsg);
		if (rc == CV_OK && fn)
			fn(&res, arg);
	}
	free(lm);
	s3_destroy(xr.c);
	store_storage_finish(&xr.t);
	return rc;
}
