/*
 * archive.c — `callvault archive`: one BagIt bag per location-month in a
 * tar.zst. Payload files are generated in one pass over the calls (ordered
 * by createdAt, id): transcripts go straight into the tar, the JSONL/CSV
 * files are spooled to unlinked temp files while hashed, then copied in
 * (to S3: counted, then made again from the same snapshot, spool.h);
 * the manifests and tag files come last. Nothing in data/ depends on the
 * time of archiving, so the same calls give the same payload bytes.
 * Here: each bag's target (a file, or S3), its steps in order, its record
 * (publish.c) and --rebuild; the payload is written by archive_payload.c,
 * the manifests and tag files by archive_tags.c (archive_int.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive_int.h"
#include "archive_media.h"
#include "publish.h"
#include "rebuild.h"
#include "storage.h"
#include "store/store_archive_state.h"
#include "store/store_holds.h"
#include "store/store_retention.h"
#include "tarzst.h"

#define ARCHIVE_CACHE_KIB 4000

enum { ARCHIVE_WRITEBACK_BYTES = 8 << 20 };

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
		(rc = archive_payload_write(b, from, to, only_new, now)) ==
			CV_OK &&
		(rc = archive_tags_write(b, seq, ch, now, tag_sha)) == CV_OK)
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
