/* s3_upload.c — a multipart upload fed like a file. Three part buffers:
 * while two worker threads send two parts over two connections (retried
 * by s3_request), the writer fills the third and hashes it as it goes
 * (SHA-256 and MD5), so hashing, sending and producing the bag overlap.
 * Memory stays at three parts whatever the object's size; nothing is
 * staged on disk. Each curl handle is used by one thread at a time: the
 * second sender has a client of its own, and every other request waits
 * for the parts in flight first. */
#include "s3_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define S3_PARTS_MAX 10000

/* The part in flight. */
struct flight {
	const unsigned char *p;
	size_t len;
	int n;
	char sha[CV_SHA256_HEX], md5[32];
	enum cv_err rc;
	char *err;
};

#define SENDERS 2

struct s3_upload {
	struct s3 *s;
	struct s3 *conn[SENDERS];  /* s itself, and a clone */
	char *key, *id;
	enum s3_lock_mode mode;
	int64_t until_ms;
	unsigned char *buf[SENDERS + 1];
	size_t part_size, fill;   /* of the writer's buffer */
	char (*etags)[80];
	EVP_MD_CTX *sha, *md5;    /* of the writer's buffer so far */
	int n_parts;              /* handed to the senders */
	struct flight fl[SENDERS];
	pthread_t th[SENDERS];
	bool running[SENDERS];
	bool done, failed;
};

/* The writer's buffer: part n_parts + 1's (part k has buffer
 * (k - 1) % 3, so the one handed over three parts ago, landed). */
static unsigned char *wbuf(struct s3_upload *u)
{
	int i = u->n_parts % (SENDERS + 1);
	if (!u->buf[i])
		u->buf[i] = xmalloc(u->part_size);
	return u->buf[i];
}

enum cv_err s3_upload_begin(struct s3 *s, const char *key,
	enum s3_lock_mode mode, int64_t until_ms, size_t part_size,
	struct s3_upload **out, char **errmsg)
{
	if (part_size < S3_PART_MIN || part_size > S3_PART_MAX)
		return cv_error(errmsg, CV_EINVAL, "S3 part size %zu: must "
			"be %u to %u MiB", part_size, S3_PART_MIN >> 20,
			S3_PART_MAX >> 20);
	struct s3_upload *u = xcalloc(1, sizeof(*u));
	u->s = s;
	u->key = xstrdup(key);
	u->mode = mode;
	u->until_ms = until_ms;
	u->part_size = part_size;
	enum cv_err rc = s3_mpu_create(s, key, mode, until_ms, &u->id, errmsg);
	if (rc != CV_OK) {
		s3_upload_destroy(u);
		return rc;
	}
	u->conn[0] = s;
	u->etags = xcalloc(S3_PARTS_MAX, sizeof(*u->etags));
	u->sha = EVP_MD_CTX_new();
	u->md5 = EVP_MD_CTX_new();
	if (!u->sha || !u->md5)
		abort();
	EVP_DigestInit_ex(u->sha, EVP_sha256(), NULL);
	EVP_DigestInit_ex(u->md5, EVP_md5(), NULL);
	*out = u;
	return CV_OK;
}

struct sender_arg {
	struct s3_upload *u;
	int slot;
};

static void *sender(void *arg)
{
	struct sender_arg *a = arg;
	struct s3_upload *u = a->u;
	struct flight *f = &u->fl[a->slot];
	f->rc = s3_mpu_part(u->conn[a->slot], u->key, u->id, f->n, f->p,
		f->len, f->sha, f->md5, u->etags[f->n - 1], &f->err);
	free(a);
	return NULL;
}

/* Wait for the part in a slot; its error, if any, becomes ours. */
static enum cv_err landed(struct s3_upload *u, int slot, char **errmsg)
{
	if (!u->running[slot])
		return CV_OK;
	pthread_join(u->th[slot], NULL);
	u->running[slot] = false;
	struct flight *f = &u->fl[slot];
	enum cv_err rc = f->rc;
	if (rc != CV_OK) {
		cv_error(errmsg, rc, "%s", f->err ? f->err : "S3 "
			"UploadPart failed");
		u->failed = true;
	}
	free(f->err);
	f->err = NULL;
	return rc;
}

/* Every part in flight landed (the first error wins). */
static enum cv_err all_landed(struct s3_upload *u, char **errmsg)
{
	enum cv_err rc = CV_OK;
	for (int i = 0; i < SENDERS; i++) {
		char *e = NULL;
		enum cv_err r = landed(u, i, &e);
		if (r != CV_OK && rc == CV_OK) {
			rc = r;
			cv_error(errmsg, r, "%s", e);
		}
		free(e);
	}
	return rc;
}

/* The writer's hashes of its buffer into f; fresh ones for the next. */
static void digests(struct s3_upload *u, struct flight *f)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_DigestFinal_ex(u->sha, md, &len);
	for (unsigned int i = 0; i < len && i < 32; i++)
		snprintf(f->sha + 2 * i, 3, "%02x", md[i]);
	EVP_DigestFinal_ex(u->md5, md, &len);
	EVP_EncodeBlock((unsigned char *)f->md5, md, (int)len);
	EVP_DigestInit_ex(u->sha, EVP_sha256(), NULL);
	EVP_DigestInit_ex(u->md5, EVP_md5(), NULL);
}

/* Hand the writer's buffer to a sender (after the part that sender
 * had landed) and give the writer the next buffer. */
static enum cv_err send_part(struct s3_upload *u, char **errmsg)
{
	int slot = u->n_parts % SENDERS;
	enum cv_err rc = landed(u, slot, errmsg);
	if (rc != CV_OK)
		return rc;
	if (u->n_parts == S3_PARTS_MAX)
		return cv_error(errmsg, CV_ETOOBIG, "S3 s3://%s/%s: more than "
			"%d parts of %zu bytes", u->s->bucket, u->key,
			S3_PARTS_MAX, u->part_size);
	if (!u->conn[slot])
		u->conn[slot] = s3_clone(u->s);
	struct flight *f = &u->fl[slot];
	*f = (struct flight){ .p = wbuf(u), .len = u->fill,
		.n = u->n_parts + 1 };
	digests(u, f);
	u->n_parts++;
	struct sender_arg *a = xmalloc(sizeof(*a));
	*a = (struct sender_arg){ u, slot };
	if (pthread_create(&u->th[slot], NULL, sender, a) == 0) {
		u->running[slot] = true;
	} else {
		sender(a);  /* no thread: send it here */
		if ((rc = f->rc) != CV_OK) {
			cv_error(errmsg, rc, "%s", f->err);
			free(f->err);
			f->err = NULL;
			return rc;
		}
	}
	u->fill = 0;
	return CV_OK;
}

enum cv_err s3_upload_write(struct s3_upload *u, const void *p, size_t n,
	char **errmsg)
{
	const unsigned char *c = p;
	if (u->failed)
		return cv_error(errmsg, CV_EIO, "S3 upload of %s failed "
			"before", u->key);
	while (n > 0) {
		size_t take = u->part_size - u->fill;
		if (take > n)
			take = n;
		memcpy(wbuf(u) + u->fill, c, take);
		EVP_DigestUpdate(u->sha, c, take);
		EVP_DigestUpdate(u->md5, c, take);
		u->fill += take;
		c += take;
		n -= take;
		if (u->fill == u->part_size &&
		    send_part(u, errmsg) != CV_OK) {
			u->failed = true;
			return CV_EIO;
		}
	}
	return CV_OK;
}

enum cv_err s3_upload_finish(struct s3_upload *u, struct s3_obj *out,
	char **errmsg)
{
	enum cv_err rc = u->failed ? cv_error(errmsg, CV_EIO, "S3 upload of "
		"%s failed before", u->key) : CV_OK;
	/* the last part may be short; an empty object still needs one */
	if (rc == CV_OK && (u->fill > 0 || u->n_parts == 0))
		rc = send_part(u, errmsg);
	if (rc == CV_OK)
		rc = all_landed(u, errmsg);
	struct s3_obj done = { 0 };
	if (rc == CV_OK)
		rc = s3_mpu_complete(u->s, u->key, u->id, u->etags, u->n_parts,
			&done, errmsg);
	if (rc != CV_OK) {
		u->failed = true;
		return rc;
	}
	u->done = true;  /* completed: nothing left to abort */
	if (!*done.version_id)
		return cv_error(errmsg, CV_EPARSE, "S3 s3://%s/%s: no version "
			"id for the completed upload (is versioning, and so "
			"Object Lock, on?)", u->s->bucket, u->key);
	if (u->mode != S3_LOCK_NONE)
		rc = s3_put_retention(u->s, u->key, done.version_id, u->mode,
			u->until_ms, errmsg);
	if (rc == CV_OK)
		rc = s3_head(u->s, u->key, done.version_id, out, errmsg);
	return rc;
}

void s3_upload_destroy(struct s3_upload *u)
{
	if (!u)
		return;
	char *e = NULL;
	(void)all_landed(u, &e);  /* the handles are free again */
	free(e);
	e = NULL;
	if (u->id && !u->done) {
		if (s3_mpu_abort(u->s, u->key, u->id, &e) != CV_OK)
			cv_warn("level=warn msg=\"cannot abort the upload of "
				"%s (storage gc will): %s\"", u->key, e);
		free(e);
	}
	free(u->key);
	free(u->id);
	for (int i = 0; i <= SENDERS; i++)
		free(u->buf[i]);
	for (int i = 1; i < SENDERS; i++)
		s3_destroy(u->conn[i]);
	free(u->etags);
	EVP_MD_CTX_free(u->sha);
	EVP_MD_CTX_free(u->md5);
	free(u);
}
