/* storage_evict.c — `storage evict`: remove local copies of recordings
 * that an S3 target holds, verified there first (see storage.h). */
#include "storage.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "media_dispose.h"
#include "store/store_audit.h"
#include "store/store_retention.h"

/* What the store says a blob needs: every row that names it held by an
 * archive (of a month within the selection), and the latest end of
 * those months' retention periods (*need). *why (static) says why not. */
static enum cv_err needs(struct store *s, const struct storage_evict_opts *o,
	const char *sha, bool *ok, int64_t *need, bool *held, const char **why,
	char **errmsg)
{
	struct store_blob_cover cv;
	enum cv_err rc = store_blob_cover(s, sha, &cv, errmsg);
	*ok = false;
	*need = 0;
	*why = NULL;
	if (rc != CV_OK)
		return rc;
	if (cv.rows == 0)
		*why = "no recording row names it";
	else if (cv.unarchived > 0 || cv.n == 0)
		*why = "a recording with these bytes is in no archive yet";
	for (size_t i = 0; !*why && i < cv.n && rc == CV_OK; i++) {
		int keep;
		if ((o->from && strcmp(cv.month[i], o->from) < 0) ||
			(o->to && strcmp(cv.month[i], o->to) >= 0)) {
			*why = "a call with these bytes is outside the months "
			       "selected";
			break;
		}
		rc = store_ret_policy_for(s, cv.location_id[i], &keep, errmsg);
		if (rc == CV_OK && keep < 0)
			*why = "no retention policy: no date the bucket copy "
			       "must be locked until";
		else if (rc == CV_OK) {
			int64_t u = storage_retain_until(cv.month[i], keep);
			*need = u > *need ? u : *need;
		}
	}
	if (rc == CV_OK)
		rc = store_remote_blob_held(s, sha, held, errmsg);
	*ok = rc == CV_OK && !*why;
	store_blob_cover_finish(&cv);
	return rc;
}

/* The bucket's word, not the store's: the recorded version is still the
 * current one of its key, has the recorded size, is locked until at
 * least need (and under a legal hold when a hold covers a call), and its
 * bytes, streamed and hashed, are the named ones. *bad (caller frees)
 * says what is wrong. */
static enum cv_err check_remote(struct s3 *c,
	const struct store_remote_blob *rb, int64_t local_size, int64_t need,
	bool held, struct s3_obj *o, char **bad)
{
	struct s3_obj cur = { 0 };
	char *e = NULL, got[CV_SHA256_HEX];
	char until[32], want[32];
	memset(o, 0, sizeof(*o));
	enum cv_err rc = s3_head(c, rb->key, NULL, &cur, &e);
	if (rc == CV_OK && strcmp(cur.version_id, rb->version_id) != 0) {
		*bad = xasprintf("a newer version (%s) was written over the "
				 "recorded one (%s): see `storage verify`",
			cur.version_id, rb->version_id);
		return CV_EINTEGRITY;
	}
	if (rc == CV_OK)
		rc = s3_head(c, rb->key, rb->version_id, o, &e);
	cv_format_iso8601(o->retain_until_ms, until);
	cv_format_iso8601(need, want);
	if (rc != CV_OK)
		*bad = xasprintf("%s", e ? e : cv_strerror(rc));
	else if (o->size != rb->size || o->size != local_size)
		*bad = xasprintf(
			"its size is %lld bytes, the local blob's %lld",
			(long long)o->size, (long long)local_size);
	else if (o->mode == S3_LOCK_NONE)
		*bad = xasprintf("the version is not locked");
	else if (o->retain_until_ms / 1000 < need / 1000)
		*bad = xasprintf("locked until %s only, the retention policy "
				 "needs %s",
			until, want);
	else if (held && !o->legal_hold)
		*bad = xasprintf("a hold covers its call but the version has "
				 "no legal hold (see `storage holds`)");
	else if ((rc = storage_stream_sha(c, rb->key, rb->version_id, got,
			  &e)) != CV_OK)
		*bad = xasprintf("reading it: %s", e ? e : cv_strerror(rc));
	else if (strcmp(got, rb->sha256) != 0)
		*bad = xasprintf("its bytes hash to %s", got);
	free(e);
	return *bad ? CV_EINTEGRITY : CV_OK;
}

static char *audit_detail(const struct store_remote_blob *rb, int64_t size)
{
	char until[32];
	cv_format_iso8601(rb->retain_until, until);
	json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:I}", "target", rb->target,
		"sha256", rb->sha256, "key", rb->key, "versionId",
		rb->version_id, "size", (json_int_t)size);
	char *r = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	return r;
}

/* Under the store's write lock: the store still wants no more than what
 * the bucket was found to give (no row of an unarchived call has named
 * the bytes since, the record is the same version), then unlink and
 * audit, committed together. */
static enum cv_err evict_one(struct store *s, struct blobstore *b,
	const struct storage_evict_opts *o, const struct store_remote_blob *rb,
	int64_t verified_until, bool verified_hold, int64_t size, bool *done,
	char **errmsg)
{
	bool ok, held;
	int64_t need;
	const char *why;
	struct store_remote_blob *v = NULL;
	size_t n = 0;
	*done = false;
	enum cv_err rc = store_begin(s, errmsg);
	if (rc != CV_OK)
		return rc;
	rc = needs(s, o, rb->sha256, &ok, &need, &held, &why, errmsg);
	if (rc == CV_OK)
		rc = store_remote_blob_list(s, rb->target, rb->sha256, &v, &n,
			errmsg);
	if (rc == CV_OK && ok && n == 1 &&
		!strcmp(v[0].version_id, rb->version_id) &&
		verified_until / 1000 >= need / 1000 &&
		(!held || verified_hold) && blob_exists(b, rb->sha256, NULL)) {
		media_test_pause("evict-before-unlink");
		/* the audit entry first: a failed append leaves the file */
		char *d = audit_detail(rb, size);
		rc = store_audit_append(s, o->actor, "storage-evict", d, 1,
			errmsg);
		free(d);
		if (rc == CV_OK)
			rc = blob_remove(b, rb->sha256, errmsg);
		*done = rc == CV_OK;
	}
	store_remote_blobs_free(v, n);
	if (rc == CV_OK)
		rc = store_commit(s, errmsg);
	else
		store_rollback(s);
	return rc;
}

enum cv_err storage_evict(struct store *s, const struct storage_evict_opts *o,
	struct storage_evict_stats *st, char **errmsg)
{
	memset(st, 0, sizeof(*st));
	struct store_storage t;
	struct s3 *c = NULL;
	enum cv_err rc = storage_open(s, o->name, &t, &c, errmsg);
	if (rc != CV_OK)
		return rc;
	struct blobstore *b = NULL;
	struct store_remote_blob *v = NULL;
	size_t n = 0;
	char *e = NULL;
	rc = blob_open(&b, store_db_path(s), false, &e);
	if (rc == CV_ENOTFOUND)
		rc = CV_OK; /* no local blobs at all */
	else if (rc != CV_OK)
		cv_error(errmsg, rc, "%s", e);
	free(e);
	if (rc == CV_OK && b)
		rc = store_remote_blob_list(s, t.name, NULL, &v, &n, errmsg);
	for (size_t i = 0; i < n && rc == CV_OK; i++) {
		const struct store_remote_blob *rb = &v[i];
		int64_t size = 0, need;
		bool ok, held, done = false;
		const char *why;
		char *bad = NULL;
		if (!blob_exists(b, rb->sha256, &size)) {
			st->remote_only++;
			continue;
		}
		rc = needs(s, o, rb->sha256, &ok, &need, &held, &why, errmsg);
		if (rc != CV_OK)
			break;
		if (!ok) {
			st->kept++;
			if (o->verbose)
				fprintf(o->out, "kept recording %s: %s\n",
					rb->sha256, why);
			continue;
		}
		struct s3_obj got; /* what the bucket was found to hold */
		if (check_remote(c, rb, size, need, held, &got, &bad) !=
			CV_OK) {
			st->refused++;
			fprintf(o->out, "REFUSED recording %s (%s): %s\n",
				rb->sha256, rb->key, bad);
			free(bad);
			continue;
		}
		if (!o->dry_run)
			rc = evict_one(s, b, o, rb, got.retain_until_ms,
				got.legal_hold, size, &done, errmsg);
		if (rc == CV_OK && (done || o->dry_run)) {
			fprintf(o->out,
				"%s recording %s (%lld bytes; verified in %s, "
				"version %s)\n",
				o->dry_run ? "would evict" : "evicted",
				rb->sha256, (long long)size, t.name,
				rb->version_id);
			st->evicted++;
			st->bytes += size;
		} else if (rc == CV_OK) {
			st->kept++;
			fprintf(o->out,
				"kept recording %s: the store changed while "
				"it was verified\n",
				rb->sha256);
		}
	}
	store_remote_blobs_free(v, n);
	blob_close(b);
	s3_destroy(c);
	store_storage_finish(&t);
	if (rc == CV_OK && st->refused)
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"%lld recording(s) refused: "
			"the bucket does not hold a verified, locked copy "
			"(listed above)",
			(long long)st->refused);
	return rc;
}
