/* storage_blobs.c — recordings in an S3 target under content-addressed
 * keys (PREFIX/blobs/sha256/<hash>), locked like the bags that hold
 * them; verify them, mirror their legal holds, and fetch one back into
 * the local blob store (see storage.h). */
#include "storage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"
#include "hash.h"
#include "media_dispose.h"
#include "store/store_recordings.h"

char *storage_blob_key(struct s3 *c, const char *sha256)
{
	char rel[96];
	snprintf(rel, sizeof rel, "blobs/sha256/%s", sha256);
	return s3_key(c, rel);
}

static bool hash_cb(const void *p, size_t n, void *arg)
{
	cv_hash_update(arg, p, n);
	return true;
}

/* Stream one version and hash it (no temp file); got its SHA-256. */
enum cv_err storage_stream_sha(struct s3 *c, const char *key,
	const char *version, char got[CV_SHA256_HEX], char **errmsg)
{
	struct cv_hash *h = cv_hash_create("sha256");
	enum cv_err rc = s3_get(c, key, version, 0, -1, hash_cb, h, errmsg);
	char out[CV_SHA512_HEX];
	cv_hash_final_hex(h, out);
	memcpy(got, out, CV_SHA256_HEX);
	return rc;
}

/* Read the local blob and send it as a new locked version of key: one
 * PUT up to a part's size, a multipart upload beyond. The bytes are
 * hashed as they are read: when they are not the ones named, nothing is
 * completed. */
static enum cv_err upload(struct s3 *c, struct blobstore *bs, const char *sha,
	const char *key, enum s3_lock_mode mode, int64_t until,
	struct s3_obj *o, char **errmsg)
{
	int fd;
	int64_t size;
	enum cv_err rc = blob_open_read(bs, sha, &fd, &size, errmsg);
	if (rc == CV_ENOTFOUND)
		return cv_error(errmsg, CV_EINTEGRITY,
			"recording %s is not in "
			"the local blob store: it cannot be sent to the "
			"bucket",
			sha);
	if (rc != CV_OK)
		return rc;
	bool small = size <= (int64_t)S3_PART_MIN;
	size_t cap = small ? (size_t)size + 1 : (1u << 20);
	unsigned char *p = xmalloc(cap);
	struct cv_hash *h = cv_hash_create("sha256");
	struct s3_upload *u = NULL;
	if (!small)
		rc = s3_upload_begin(c, key, mode, until, S3_PART_MIN, &u,
			errmsg);
	size_t have = 0;
	while (rc == CV_OK) {
		ssize_t r = read(fd, p + have, cap - have);
		if (r < 0) {
			rc = cv_error(errmsg, CV_EIO,
				"reading recording %s: "
				"%s",
				sha, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		cv_hash_update(h, p + have, (size_t)r);
		if (small && (have += (size_t)r) == cap)
			rc = cv_error(errmsg, CV_EINTEGRITY,
				"recording %s grew "
				"while it was read",
				sha);
		else if (!small)
			rc = s3_upload_write(u, p, (size_t)r, errmsg);
	}
	close(fd);
	char got[CV_SHA512_HEX];
	cv_hash_final_hex(h, got);
	if (rc == CV_OK && strcmp(got, sha))
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"recording %s: the local "
			"blob's bytes hash to %s; not sent",
			sha, got);
	if (rc == CV_OK && small)
		rc = s3_put(c, key, p, have, mode, until, o, errmsg);
	if (rc == CV_OK && small)
		rc = s3_head(c, key, *o->version_id ? o->version_id : NULL, o,
			errmsg);
	else if (rc == CV_OK)
		rc = s3_upload_finish(u, o, errmsg);
	s3_upload_destroy(u);
	free(p);
	return rc;
}

/* Make sure version o of key is locked in mode until at least until
 * (a lock is only ever extended). */
static enum cv_err lock_until(struct s3 *c, const char *key, struct s3_obj *o,
	enum s3_lock_mode mode, int64_t until, char **errmsg)
{
	if (o->mode != S3_LOCK_NONE &&
		o->retain_until_ms / 1000 >= until / 1000)
		return CV_OK;
	enum cv_err rc = s3_put_retention(c, key, o->version_id,
		o->mode != S3_LOCK_NONE ? o->mode : mode, until, errmsg);
	if (rc == CV_OK)
		rc = s3_head(c, key, o->version_id, o, errmsg);
	return rc;
}

/* One recording: the version the store records when it is locked long
 * enough, else the current version of its key when its bytes are the
 * named ones, else a new version. */
static enum cv_err put_one(struct store *s, struct s3 *c,
	const struct store_storage *t, struct blobstore *bs, const char *sha,
	int64_t until, struct store_remote_blob *out, char **errmsg)
{
	enum s3_lock_mode mode;
	if (!s3_lock_mode_parse(t->lock_mode, &mode))
		mode = S3_LOCK_COMPLIANCE;
	char *key = storage_blob_key(c, sha);
	struct store_remote_blob *v;
	size_t n;
	struct s3_obj o = { 0 };
	bool have = false;
	enum cv_err rc = store_remote_blob_list(s, t->name, sha, &v, &n,
		errmsg);
	char *e = NULL;
	if (rc == CV_OK && n == 1 && v[0].retain_until / 1000 >= until / 1000) {
		/* recorded and locked long enough: nothing to send */
		*out = v[0];
		memset(&v[0], 0, sizeof(v[0]));
		store_remote_blobs_free(v, n);
		free(key);
		return CV_OK;
	}
	if (rc == CV_OK && n == 1)
		have = s3_head(c, key, v[0].version_id, &o, &e) == CV_OK;
	if (rc == CV_OK && !have && s3_head(c, key, NULL, &o, &e) == CV_OK) {
		/* there already (a run that died before recording it):
		 * used only when its bytes are the named ones */
		char got[CV_SHA256_HEX];
		have = storage_stream_sha(c, key, o.version_id, got, &e) ==
			       CV_OK &&
		       !strcmp(got, sha);
	}
	free(e);
	if (rc == CV_OK && !have)
		rc = upload(c, bs, sha, key, mode, until, &o, errmsg);
	if (rc == CV_OK)
		rc = lock_until(c, key, &o, mode, until, errmsg);
	if (rc == CV_OK && (o.mode == S3_LOCK_NONE ||
				   o.retain_until_ms / 1000 < until / 1000))
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"recording %s (version "
			"%s): the server did not keep the lock; not recorded",
			key, o.version_id);
	bool held = false;
	if (rc == CV_OK)
		rc = store_remote_blob_held(s, sha, &held, errmsg);
	if (rc == CV_OK && held != o.legal_hold)
		rc = s3_put_legal_hold(c, key, o.version_id, held, errmsg);
	if (rc == CV_OK) {
		*out = (struct store_remote_blob){ .target = xstrdup(t->name),
			.sha256 = xstrdup(sha),
			.key = xstrdup(key),
			.version_id = xstrdup(o.version_id),
			.size = o.size,
			.lock_mode = xstrdup(s3_lock_mode_name(o.mode)),
			.retain_until = o.retain_until_ms,
			.legal_hold = held };
	}
	store_remote_blobs_free(v, n);
	free(key);
	return rc;
}

enum cv_err storage_blobs_put(struct store *s, struct s3 *c,
	const struct store_storage *t, const char *const *shas, size_t n,
	int64_t until, struct store_remote_blob **out, size_t *nout,
	char **errmsg)
{
	*out = NULL;
	*nout = 0;
	if (!n)
		return CV_OK;
	struct blobstore *bs = NULL;
	enum cv_err rc = blob_open(&bs, store_db_path(s), false, errmsg);
	if (rc == CV_ENOTFOUND)
		rc = CV_EINTEGRITY; /* recordings without a blob store */
	*out = xcalloc(n, sizeof(**out));
	for (size_t i = 0; i < n && rc == CV_OK; i++) {
		bool dup = false;
		for (size_t j = 0; j < *nout && !dup; j++)
			dup = !strcmp((*out)[j].sha256, shas[i]);
		if (!dup && (rc = put_one(s, c, t, bs, shas[i], until,
				     &(*out)[*nout], errmsg)) == CV_OK)
			(*nout)++;
	}
	blob_close(bs);
	if (rc != CV_OK) {
		store_remote_blobs_free(*out, *nout);
		*out = NULL;
		*nout = 0;
	}
	return rc;
}

static bool blob_sink(const void *p, size_t n, void *arg)
{
	char *e = NULL;
	bool ok = blob_writer_write(arg, p, n, &e) == CV_OK;
	free(e);
	return ok;
}

/* Name a fetched blob the way every publisher does: under the store's
 * write lock, and only while a row still names it (an erase or purge
 * that forgot it meanwhile removed it; it must not come back). Then a
 * remover (purge, subject erase, `storage evict`) counting the rows
 * under the same lock never unlinks it between our naming and a read. */
static enum cv_err publish_named(struct store *s, struct blob_writer *w,
	const char *sha256, char got[CV_SHA256_HEX], int64_t *size,
	char **errmsg)
{
	media_test_pause("fetch-before-name");
	bool tx = !store_tx_active(s);
	int64_t refs = 0;
	enum cv_err rc = tx ? store_begin(s, errmsg) : CV_OK;
	if (rc == CV_OK)
		rc = store_recording_refs(s, sha256, &refs, errmsg);
	if (rc == CV_OK && refs == 0)
		rc = cv_error(errmsg, CV_ENOTFOUND,
			"recording %s: no row names "
			"it any more (erased or purged)",
			sha256);
	if (rc == CV_OK) {
		rc = blob_writer_commit(w, sha256, got, size, errmsg);
		w = NULL;
	}
	blob_writer_abort(w);
	if (tx && rc == CV_OK)
		rc = store_commit(s, errmsg);
	else if (tx)
		store_rollback(s);
	return rc;
}

enum cv_err storage_blob_fetch(struct store *s, struct blobstore *bs,
	const char *sha256, FILE *out, char **errmsg)
{
	struct store_remote_blob *v;
	size_t n;
	enum cv_err rc = store_remote_blob_list(s, NULL, sha256, &v, &n,
		errmsg);
	if (rc == CV_OK && n == 0)
		rc = cv_error(errmsg, CV_ENOTFOUND,
			"recording %s is neither "
			"in the local blob store nor recorded in an S3 "
			"target",
			sha256);
	/* the first target that gives the named bytes */
	char *first = NULL;
	for (size_t i = 0; i < n && rc == CV_OK; i++) {
		struct store_storage t;
		struct s3 *c = NULL;
		struct blob_writer *w = NULL;
		char *e = NULL, got[CV_SHA256_HEX];
		int64_t size;
		enum cv_err r = storage_open(s, v[i].target, &t, &c, &e);
		if (r == CV_OK)
			/* no more than the recorded size: a wrong or hostile
			 * object cannot fill the disk before its hash fails */
			r = blob_writer_new(bs, v[i].size > 0 ? v[i].size : 0,
				&w, &e);
		if (r == CV_OK)
			r = s3_get(c, v[i].key, v[i].version_id, 0, -1,
				blob_sink, w, &e);
		if (r == CV_OK) {
			r = publish_named(s, w, sha256, got, &size, &e);
			w = NULL;
		}
		blob_writer_abort(w);
		if (c) {
			s3_destroy(c);
			store_storage_finish(&t);
		}
		if (r == CV_OK) {
			if (out)
				fprintf(out,
					"fetched recording %s (%lld bytes) "
					"from %s\n",
					sha256, (long long)size, v[i].target);
			free(first);
			first = NULL;
			break;
		}
		if (!first)
			first = xasprintf("cannot fetch recording %s from %s: "
					  "%s",
				sha256, v[i].target, e ? e : "error");
		free(e);
		if (i + 1 == n)
			rc = cv_error(errmsg, r, "%s", first);
	}
	free(first);
	store_remote_blobs_free(v, n);
	return rc;
}

enum cv_err storage_blob_open_read(struct store *s, struct blobstore *bs,
	const char *sha256, int *fd, int64_t *size, FILE *out, char **errmsg)
{
	char *e = NULL;
	enum cv_err rc = blob_open_read(bs, sha256, fd, size, &e);
	/* A caller inside its own read snapshot (archive, evidence) must
	 * not name the fetched blob there: its rows are the snapshot's, an
	 * erase or purge committed since would not show, and the blob would
	 * come back with no row naming it. The fetch goes through a
	 * connection of its own, which takes the write lock and counts the
	 * rows as they are now. */
	struct store *own = NULL;
	if (rc == CV_ENOTFOUND && store_tx_active(s)) {
		free(e);
		e = NULL;
		rc = store_open(&own, store_db_path(s), STORE_NOCREATE, &e);
		rc = rc == CV_OK ? CV_ENOTFOUND : rc;
	}
	for (int i = 0; i < 3 && rc == CV_ENOTFOUND; i++) {
		free(e);
		e = NULL;
		rc = storage_blob_fetch(own ? own : s, bs, sha256, out, &e);
		if (rc == CV_OK)
			rc = blob_open_read(bs, sha256, fd, size, &e);
		else if (rc == CV_ENOTFOUND)
			break; /* no target has it, or no row names it */
	}
	store_close(own);
	if (rc != CV_OK)
		cv_error(errmsg, rc, "%s", e ? e : "cannot open the blob");
	free(e);
	return rc;
}
