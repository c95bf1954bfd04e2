/* s3_upload.c — a multipart upload fed like a file.
 *
 * The writer only copies bytes into a part buffer; a full buffer is
 * queued and the writer takes a free one. Sender threads (one per part
 * in flight, CALLVAULT_S3_PARTS_IN_FLIGHT, default 2; each with its own
 * connection) take queued parts, hash each in one pass (SHA-256 and MD5
 * over the same 64 KiB while it is in cache), send it (retried by
 * s3_request) and put the buffer back on the free list. So the producer
 * is never held up by hashing or by the network while a buffer is free,
 * and memory stays at one part buffer per part in flight whatever the
 * object's size (fewer when the producer is slower than the network: a
 * buffer is allocated only when none is free); the object itself is
 * never staged on disk. A sender is started only when every running one
 * is busy. The client given to s3_upload_begin is used by the first sender
 * while parts are in flight, and by the caller's requests (create,
 * complete, retention, HEAD, abort) only when none are.
 */
#include "s3_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/evp.h>

#define S3_PARTS_MAX 10000
/* Parts in flight (each a buffer and a sender with its own connection):
 * CALLVAULT_S3_PARTS_IN_FLIGHT, 1 to FLIGHT_MAX, default 2. Two 8 MiB
 * parts are what fits archive --to's 64 MiB bound beside the bag builder
 * (~37 MiB; a third buffer measured 64.2 MiB peak with the senders held
 * up); more are for an engine that needs them and the memory to spare. */
#define FLIGHT_MAX 4
#define FLIGHT_DEFAULT 2
#define HASH_CHUNK (64u << 10)
#define HUGE_PAGE (2u << 20)

struct part {
	unsigned char *p;
	size_t len;
	int n;
};

struct s3_upload {
	struct s3 *s;
	char *key, *id;
	enum s3_lock_mode mode;
	int64_t until_ms;
	size_t part_size;
	char (*etags)[80];
	/* the writer's */
	unsigned char *cur;
	size_t fill;
	int n_parts; /* queued so far */
	bool done, failed;
	/* shared with the senders, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* a part queued, landed or given up */
	int bufs;          /* parts in flight at most */
	struct part queue[FLIGHT_MAX];
	int q_head, q_len;
	unsigned char *free_bufs[FLIGHT_MAX];
	int n_free, n_alloc;
	int busy;       /* senders with a part in hand */
	bool stop;      /* nothing more will be queued */
	enum cv_err rc; /* the first sender's failure */
	char *err;
	pthread_t th[FLIGHT_MAX];
	struct s3 *conn[FLIGHT_MAX]; /* conn[0] is s; the others clones */
	int n_threads;
};

enum cv_err s3_upload_begin(struct s3 *s, const char *key,
	enum s3_lock_mode mode, int64_t until_ms, size_t part_size,
	struct s3_upload **out, char **errmsg)
{
	if (part_size < S3_PART_MIN || part_size > S3_PART_MAX)
		return cv_error(errmsg, CV_EINVAL,
			"S3 part size %zu: must "
			"be %u to %u MiB",
			part_size, S3_PART_MIN >> 20, S3_PART_MAX >> 20);
	const char *v = getenv("CALLVAULT_S3_PARTS_IN_FLIGHT");
	char *end = NULL;
	long bufs = v && *v ? strtol(v, &end, 10) : FLIGHT_DEFAULT;
	if (v && *v && (*end || bufs < 1 || bufs > FLIGHT_MAX))
		return cv_error(errmsg, CV_EINVAL,
			"CALLVAULT_S3_PARTS_IN_FLIGHT=%.20s: must be 1 to %d",
			v, FLIGHT_MAX);
	struct s3_upload *u = xcalloc(1, sizeof(*u));
	u->bufs = (int)bufs;
	u->s = s;
	u->key = xstrdup(key);
	u->mode = mode;
	u->until_ms = until_ms;
	u->part_size = part_size;
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	u->conn[0] = s;
	enum cv_err rc = s3_mpu_create(s, key, mode, until_ms, &u->id, errmsg);
	if (rc != CV_OK) {
		s3_upload_destroy(u);
		return rc;
	}
	u->etags = xcalloc(S3_PARTS_MAX, sizeof(*u->etags));
	*out = u;
	return CV_OK;
}

/* SHA-256 (hex) and MD5 (base64) of p in one pass. */
static void digests(const unsigned char *p, size_t n, char sha[CV_SHA256_HEX],
	char md5[32])
{
	EVP_MD_CTX *hs = EVP_MD_CTX_new(), *hm = EVP_MD_CTX_new();
	if (!hs || !hm)
		abort();
	EVP_DigestInit_ex(hs, EVP_sha256(), NULL);
	EVP_DigestInit_ex(hm, EVP_md5(), NULL);
	for (size_t off = 0; off < n; off += HASH_CHUNK) {
		size_t k = n - off < HASH_CHUNK ? n - off : HASH_CHUNK;
		EVP_DigestUpdate(hs, p + off, k);
		EVP_DigestUpdate(hm, p + off, k);
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_DigestFinal_ex(hs, md, &len);
	for (unsigned int i = 0; i < len && i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", md[i]);
	EVP_DigestFinal_ex(hm, md, &len);
	cv_base64_encode(md, len, md5);
	EVP_MD_CTX_free(hs);
	EVP_MD_CTX_free(hm);
}

/* Hash and send one part over c; its error into *err. */
static enum cv_err send_one(struct s3_upload *u, struct s3 *c,
	const struct part *pt, char **err)
{
	char sha[CV_SHA256_HEX], md5[32];
	digests(pt->p, pt->len, sha, md5);
	return s3_mpu_part(c, u->key, u->id, pt->n, pt->p, pt->len, sha, md5,
		u->etags[pt->n - 1], err);
}

/* Under mu: a part landed (or was given up); its buffer is free again
 * and the first failure is kept. */
static void landed(struct s3_upload *u, const struct part *pt, enum cv_err rc,
	char *err)
{
	u->free_bufs[u->n_free++] = pt->p;
	if (rc != CV_OK && u->rc == CV_OK) {
		u->rc = rc;
		u->err = err ? err : xstrdup("S3 UploadPart failed");
	} else {
		free(err);
	}
	pthread_cond_broadcast(&u->cv);
}

struct sender_arg {
	struct s3_upload *u;
	int slot;
};

static void *sender(void *arg)
{
	struct sender_arg *a = arg;
	struct s3_upload *u = a->u;
	struct s3 *c = u->conn[a->slot];
	free(a);
	pthread_mutex_lock(&u->mu);
	for (;;) {
		while (!u->q_len && !u->stop)
			pthread_cond_wait(&u->cv, &u->mu);
		if (!u->q_len)
			break;
		struct part pt = u->queue[u->q_head];
		u->q_head = (u->q_head + 1) % u->bufs;
		u->q_len--;
		enum cv_err rc = CV_OK;
		char *err = NULL;
		if (u->rc == CV_OK) { /* after a failure: just give it up */
			u->busy++;
			pthread_mutex_unlock(&u->mu);
			rc = send_one(u, c, &pt, &err);
			pthread_mutex_lock(&u->mu);
			u->busy--;
		}
		landed(u, &pt, rc, err);
	}
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

/* Under mu: one more sender when every running one is busy; false when
 * there is none at all (no thread could be made). */
static bool enough_senders(struct s3_upload *u)
{
	if (u->n_threads < u->bufs && u->busy + u->q_len >= u->n_threads) {
		int i = u->n_threads;
		if (!u->conn[i])
			u->conn[i] = s3_clone(u->s);
		struct sender_arg *a = xmalloc(sizeof(*a));
		*a = (struct sender_arg){ u, i };
		if (pthread_create(&u->th[i], NULL, sender, a) == 0)
			u->n_threads++;
		else
			free(a);
	}
	return u->n_threads > 0;
}

/* Under mu: the first sender failure as ours. */
static enum cv_err failed_rc(struct s3_upload *u, char **errmsg)
{
	u->failed = true;
	return cv_error(errmsg, u->rc, "%s", u->err);
}

/* A part buffer in huge pages where the kernel has them: first touching
 * 8 MiB of small pages is 2,048 page faults, a good part of the
 * writer's time on a VM. */
static unsigned char *part_buffer(size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, HUGE_PAGE, n) != 0 || !p)
		abort();
#ifdef MADV_HUGEPAGE
	(void)madvise(p, n, MADV_HUGEPAGE);
#endif
	return p;
}

/* A buffer for the writer: a free one, a new one while fewer than
 * u->bufs exist, else wait for a part to land. */
static enum cv_err take_buffer(struct s3_upload *u, char **errmsg)
{
	enum cv_err rc = CV_OK;
	pthread_mutex_lock(&u->mu);
	while (u->rc == CV_OK && !u->n_free && u->n_alloc == u->bufs)
		pthread_cond_wait(&u->cv, &u->mu);
	if (u->rc != CV_OK)
		rc = failed_rc(u, errmsg);
	else if (u->n_free)
		u->cur = u->free_bufs[--u->n_free];
	else {
		u->n_alloc++;
		u->cur = part_buffer(u->part_size);
	}
	pthread_mutex_unlock(&u->mu);
	u->fill = 0;
	return rc;
}

/* Queue the writer's buffer as the next part (sent here when no sender
 * thread can be made). */
static enum cv_err queue_part(struct s3_upload *u, char **errmsg)
{
	if (u->n_parts == S3_PARTS_MAX) {
		u->failed = true;
		return cv_error(errmsg, CV_ETOOBIG,
			"S3 s3://%s/%s: more than "
			"%d parts of %zu bytes",
			u->s->bucket, u->key, S3_PARTS_MAX, u->part_size);
	}
	struct part pt = { u->cur, u->fill, ++u->n_parts };
	u->cur = NULL;
	u->fill = 0;
	enum cv_err rc = CV_OK;
	pthread_mutex_lock(&u->mu);
	if (u->rc != CV_OK) {
		u->free_bufs[u->n_free++] = pt.p;
		rc = failed_rc(u, errmsg);
	} else if (enough_senders(u)) {
		u->queue[(u->q_head + u->q_len) % u->bufs] = pt;
		u->q_len++;
		pthread_cond_broadcast(&u->cv);
	} else {
		pthread_mutex_unlock(&u->mu);
		char *err = NULL;
		enum cv_err r = send_one(u, u->s, &pt, &err);
		pthread_mutex_lock(&u->mu);
		landed(u, &pt, r, err);
		if (u->rc != CV_OK)
			rc = failed_rc(u, errmsg);
	}
	pthread_mutex_unlock(&u->mu);
	return rc;
}

enum cv_err s3_upload_write(struct s3_upload *u, const void *p, size_t n,
	char **errmsg)
{
	const unsigned char *c = p;
	if (u->failed)
		return cv_error(errmsg, CV_EIO,
			"S3 upload of %s failed "
			"before",
			u->key);
	while (n > 0) {
		if (!u->cur && take_buffer(u, errmsg) != CV_OK)
			return CV_EIO;
		size_t take = u->part_size - u->fill;
		if (take > n)
			take = n;
		memcpy(u->cur + u->fill, c, take);
		u->fill += take;
		c += take;
		n -= take;
		if (u->fill == u->part_size && queue_part(u, errmsg) != CV_OK)
			return CV_EIO;
	}
	return CV_OK;
}

/* Let the senders finish what is queued (or give it up, when cancel)
 * and end: afterwards u->s is the caller's alone again. */
static void stop_senders(struct s3_upload *u, bool cancel)
{
	pthread_mutex_lock(&u->mu);
	u->stop = true;
	if (cancel && u->rc == CV_OK) {
		u->rc = CV_EIO;
		u->err = xstrdup("upload abandoned");
	}
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	for (int i = 0; i < u->n_threads; i++)
		pthread_join(u->th[i], NULL);
	u->n_threads = 0;
}

enum cv_err s3_upload_finish(struct s3_upload *u, struct s3_obj *out,
	char **errmsg)
{
	enum cv_err rc = u->failed ? cv_error(errmsg, CV_EIO,
					     "S3 upload of "
					     "%s failed before",
					     u->key)
				   : CV_OK;
	/* the last part may be short; an empty object still needs one */
	if (rc == CV_OK && !u->cur && u->n_parts == 0)
		rc = take_buffer(u, errmsg);
	if (rc == CV_OK && u->cur && (u->fill > 0 || u->n_parts == 0))
		rc = queue_part(u, errmsg);
	stop_senders(u, false);
	if (rc == CV_OK && u->rc != CV_OK)
		rc = failed_rc(u, errmsg);
	struct s3_obj done = { 0 };
	if (rc == CV_OK)
		rc = s3_mpu_complete(u->s, u->key, u->id, u->etags, u->n_parts,
			&done, errmsg);
	if (rc != CV_OK) {
		u->failed = true;
		return rc;
	}
	u->done = true; /* completed: nothing left to abort */
	if (!*done.version_id)
		return cv_error(errmsg, CV_EPARSE,
			"S3 s3://%s/%s: no version "
			"id for the completed upload (is versioning, and so "
			"Object Lock, on?)",
			u->s->bucket, u->key);
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
	stop_senders(u, !u->done);
	if (u->id && !u->done) {
		char *e = NULL;
		if (s3_mpu_abort(u->s, u->key, u->id, &e) != CV_OK)
			cv_warn("level=warn msg=\"cannot abort the upload of "
				"%s (storage gc will): %s\"",
				u->key, e);
		free(e);
	}
	free(u->key);
	free(u->id);
	free(u->cur);
	for (int i = 0; i < u->n_free; i++)
		free(u->free_bufs[i]);
	for (int i = 1; i < FLIGHT_MAX; i++)
		s3_destroy(u->conn[i]);
	free(u->etags);
	free(u->err);
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->cv);
	free(u);
}
