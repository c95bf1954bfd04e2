/* storage.c — see storage.h: targets, check, gc and the streamed,
 * locked upload of one bag. Verify and hold mirroring: storage_verify.c */
#include "storage.h"

#include <stdlib.h>
#include <string.h>

#include "retention.h"

enum cv_err storage_open(struct store *s, const char *name,
	struct store_storage *t, struct s3 **c, char **errmsg)
{
	enum cv_err rc = store_storage_get(s, name, t, errmsg);
	if (rc != CV_OK)
		return rc;
	struct s3_target st = { .name = t->name,
		.endpoint = t->endpoint,
		.bucket = t->bucket,
		.prefix = t->prefix,
		.region = t->region,
		.path_style = t->path_style,
		.access_key_file = t->access_key_file,
		.secret_key_file = t->secret_key_file };
	rc = s3_create(c, &st, errmsg);
	if (rc != CV_OK)
		store_storage_finish(t);
	return rc;
}

/* ---- storage check ---- */

static void line(FILE *out, const char *what, const char *fmt, ...)
	CV_PRINTF(3, 4);
static void line(FILE *out, const char *what, const char *fmt, ...)
{
	if (!out)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(out, "%-12s ", what);
	vfprintf(out, fmt, ap);
	fputc('\n', out);
	va_end(ap);
}

/* A locked test object: GOVERNANCE for one day, so that it can go
 * (with the bypass permission) and never binds the bucket for long. */
static enum cv_err check_write(struct s3 *c, FILE *out, char **errmsg)
{
	int64_t now = cv_now_ms(), until = now + 86400000;
	char rel[64];
	snprintf(rel, sizeof rel, "callvault-check/%lld",
		(long long)(now / 1000));
	char *key = s3_key(c, rel);
	struct s3_obj o;
	enum cv_err rc = s3_put(c, key, "callvault storage check\n", 24,
		S3_LOCK_GOVERNANCE, until, &o, errmsg);
	if (rc == CV_OK)
		rc = s3_head(c, key, *o.version_id ? o.version_id : NULL, &o,
			errmsg);
	if (rc == CV_OK && (o.mode != S3_LOCK_GOVERNANCE ||
				   o.retain_until_ms / 1000 != until / 1000))
		rc = cv_error(errmsg, CV_EINVAL,
			"a locked write to %s was "
			"accepted but not locked (mode %s): the server does "
			"not enforce Object Lock",
			key, s3_lock_mode_name(o.mode));
	char *e = NULL;
	/* a locked version must not go without the bypass */
	if (rc == CV_OK && s3_delete(c, key, o.version_id, &e) == CV_OK)
		rc = cv_error(errmsg, CV_EINVAL,
			"the locked test version of "
			"%s could be deleted: Object Lock is not enforced",
			key);
	free(e);
	if (rc == CV_OK)
		line(out, "locked write",
			"ok (%s, version %s, GOVERNANCE "
			"until +1 day, delete refused)",
			key, o.version_id);
	free(key);
	return rc;
}

enum cv_err storage_check(struct s3 *c, FILE *out, char **errmsg)
{
	bool lock;
	enum cv_err rc = s3_bucket_lock(c, &lock, errmsg);
	if (rc != CV_OK)
		return rc;
	line(out, "bucket", "ok");
	if (!lock)
		return cv_error(errmsg, CV_EINVAL,
			"Object Lock is not enabled "
			"on the bucket (ObjectLockConfigurationNotFoundError): "
			"create a bucket with Object Lock enabled "
			"(x-amz-bucket-object-lock-enabled: true); it cannot be "
			"turned on later on most engines");
	line(out, "object lock", "enabled");
	return check_write(c, out, errmsg);
}

/* ---- storage gc ---- */

enum cv_err storage_gc(struct s3 *c, int64_t older_ms, int64_t now_ms,
	FILE *out, size_t *n, char **errmsg)
{
	struct s3_upload_info *v;
	size_t nv;
	*n = 0;
	enum cv_err rc = s3_mpu_list(c, &v, &nv, errmsg);
	for (size_t i = 0; i < nv && rc == CV_OK; i++) {
		if (v[i].initiated_ms && now_ms - v[i].initiated_ms < older_ms)
			continue;
		rc = s3_mpu_abort(c, v[i].key, v[i].upload_id, errmsg);
		if (rc == CV_ENOTFOUND) {
			rc = CV_OK; /* finished or aborted meanwhile */
			free(*errmsg);
			*errmsg = NULL;
			continue;
		}
		if (rc == CV_OK && out) {
			char *k = cv_term_safe(v[i].key, 0);
			fprintf(out, "aborted %s (upload %.24s...)\n", k,
				v[i].upload_id);
			free(k);
		}
		if (rc == CV_OK)
			(*n)++;
	}
	free(v);
	return rc;
}

int64_t storage_retain_until(const char *month, int keep_months)
{
	int y = atoi(month), m = atoi(month + 5) - 1 + keep_months + 1;
	if (keep_months < 0 || keep_months > 1200)
		return 0;
	y += m / 12;
	m %= 12;
	char buf[24];
	snprintf(buf, sizeof buf, "%04d-%02d", y, m + 1);
	int64_t from, to;
	return retention_month_bounds(buf, &from, &to) ? from : 0;
}

/* ---- the upload of one bag ---- */

struct storage_put {
	struct s3 *c;
	const struct store_storage *t;
	struct s3_upload *u;
	struct sink *sk;
	char *key, *url;
	enum s3_lock_mode mode;
	int64_t until_ms;
	struct s3_obj obj;
	char sha256[CV_SHA256_HEX];
	char *err;                       /* the upload's own error */
	struct store_remote_blob *blobs; /* recordings sent with it */
	size_t n_blobs;
};

static enum cv_err put_write(const void *p, size_t n, void *arg)
{
	struct storage_put *sp = arg;
	if (sp->err)
		return CV_EIO;
	return s3_upload_write(sp->u, p, n, &sp->err);
}

enum cv_err storage_put_begin(struct s3 *c, const struct store_storage *t,
	const char *rel, int64_t until_ms, struct storage_put **out,
	struct sink **sk, char **errmsg)
{
	struct storage_put *p = xcalloc(1, sizeof(*p));
	p->c = c;
	p->t = t;
	p->key = s3_key(c, rel);
	p->url = s3_url(c, p->key);
	p->until_ms = until_ms;
	if (!s3_lock_mode_parse(t->lock_mode, &p->mode))
		p->mode = S3_LOCK_COMPLIANCE;
	/* 8 MiB parts: 10,000 of them hold 78 GiB, and memory stays at
	 * two parts' buffers (one filled while the other is sent) */
	enum cv_err rc = s3_upload_begin(c, p->key, p->mode, until_ms,
		S3_PART_MIN, &p->u, errmsg);
	if (rc != CV_OK) {
		storage_put_destroy(p);
		return rc;
	}
	p->sk = sink_open_fn(put_write, p);
	*sk = p->sk;
	*out = p;
	return CV_OK;
}

const char *storage_put_url(const struct storage_put *p)
{
	return p->url;
}

const char *storage_put_error(const struct storage_put *p)
{
	return p->err;
}

enum cv_err storage_put_finish(struct storage_put *p, const char *sha256,
	bool hold, char **errmsg)
{
	if (p->err)
		return cv_error(errmsg, CV_EIO, "%s", p->err);
	snprintf(p->sha256, sizeof p->sha256, "%s", sha256);
	enum cv_err rc = s3_upload_finish(p->u, &p->obj, errmsg);
	if (rc == CV_OK &&
		(p->obj.mode != p->mode ||
			p->obj.retain_until_ms / 1000 != p->until_ms / 1000))
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"%s (version %s): the "
			"server did not keep the lock (mode %s); not recorded",
			p->url, p->obj.version_id,
			s3_lock_mode_name(p->obj.mode));
	if (rc == CV_OK && hold)
		rc = s3_put_legal_hold(p->c, p->key, p->obj.version_id, true,
			errmsg);
	if (rc == CV_OK)
		p->obj.legal_hold = hold;
	return rc;
}

enum cv_err storage_put_record(struct store *s, int64_t archive_id, void *arg,
	char **errmsg)
{
	struct storage_put *p = arg;
	struct store_remote r = { .archive_id = archive_id,
		.target = p->t->name,
		.url = p->url,
		.key = p->key,
		.version_id = p->obj.version_id,
		.etag = p->obj.etag,
		.sha256 = p->sha256,
		.lock_mode = (char *)s3_lock_mode_name(p->obj.mode),
		.retain_until = p->obj.retain_until_ms,
		.legal_hold = p->obj.legal_hold };
	enum cv_err rc = store_remote_add(s, &r, errmsg);
	for (size_t i = 0; i < p->n_blobs && rc == CV_OK; i++)
		rc = store_remote_blob_put(s, &p->blobs[i], errmsg);
	return rc;
}

int64_t storage_put_until(const struct storage_put *p)
{
	return p->until_ms;
}

void storage_put_add_blobs(struct storage_put *p, struct store_remote_blob *v,
	size_t n)
{
	store_remote_blobs_free(p->blobs, p->n_blobs);
	p->blobs = v;
	p->n_blobs = n;
}

void storage_put_destroy(struct storage_put *p)
{
	if (!p)
		return;
	s3_upload_destroy(p->u);
	sink_destroy(p->sk);
	free(p->key);
	free(p->url);
	free(p->err);
	store_remote_blobs_free(p->blobs, p->n_blobs);
	free(p);
}
