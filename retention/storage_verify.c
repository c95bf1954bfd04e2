/* storage_verify.c — verify the archives in an S3 target, and mirror the
 * legal holds onto them (see storage.h). */
#include "storage.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "retention.h"
#include "store/store_holds.h"
#include "store/store_retention.h"

struct vctx {
	struct store *s;
	struct s3 *c;
	FILE *out;
	int64_t now;
	int bad;
	bool deep;
};

/* verify --deep of a remote bag: a thread streams the version into a
 * pipe (hashing it), verify_fed reads the bag from the other end. */
struct feeder {
	struct s3 *c;
	const struct store_remote *r;
	int wfd;
	struct cv_hash *h;
	enum cv_err rc;
	char *err;
	char sha[CV_SHA256_HEX]; /* of the bytes fed */
	pthread_t th;
};

static bool feed_cb(const void *p, size_t n, void *arg)
{
	struct feeder *f = arg;
	cv_hash_update(f->h, p, n);
	for (const char *q = p; n;) {
		ssize_t w = write(f->wfd, q, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		q += w;
		n -= (size_t)w;
	}
	return true;
}

static void *feed_main(void *arg)
{
	struct feeder *f = arg;
	f->rc = s3_get(f->c, f->r->key, f->r->version_id, 0, -1, feed_cb, f,
		&f->err);
	close(f->wfd);
	return NULL;
}

static bool feed_finish(void *arg, char sha[CV_SHA256_HEX], char **why)
{
	struct feeder *f = arg;
	pthread_join(f->th, NULL);
	char out[CV_SHA512_HEX];
	cv_hash_final_hex(f->h, out);
	memcpy(sha, out, CV_SHA256_HEX);
	memcpy(f->sha, out, CV_SHA256_HEX);
	f->sha[CV_SHA256_HEX - 1] = '\0';
	if (f->rc == CV_OK)
		return true;
	*why = f->err ? f->err : xstrdup(cv_strerror(f->rc));
	f->err = NULL;
	return false;
}

/* Stream r's version once through verify_fed (the checks of verify; with
 * deep, of verify --deep; against the store when one is given): the
 * problems it named in *nbad, the SHA-256 of the bytes into sha. */
static enum cv_err fed_check(struct vctx *x, const struct store_remote *r,
	bool deep, struct store *st, int *nbad, char sha[CV_SHA256_HEX],
	char **errmsg)
{
	int p[2];
	if (pipe(p) != 0)
		return cv_error(errmsg, CV_EIO, "pipe: %s", strerror(errno));
	struct feeder f = { .c = x->c,
		.r = r,
		.wfd = p[1],
		.h = cv_hash_create("sha256") };
	if (pthread_create(&f.th, NULL, feed_main, &f) != 0) {
		close(p[0]);
		close(p[1]);
		cv_hash_destroy(f.h);
		return cv_error(errmsg, CV_EIO, "cannot start a thread");
	}
	struct verify_feed vf = { .fd = p[0],
		.finish = feed_finish,
		.arg = &f };
	struct verify_opts vo = { .deep = deep,
		.store = st,
		.out = x->out ? x->out : stderr };
	*nbad = 0;
	enum cv_err rc = verify_fed(r->url, &vf, &vo, nbad, errmsg);
	close(p[0]);
	free(f.err);
	memcpy(sha, f.sha, CV_SHA256_HEX);
	return rc;
}

/* Stream the bag once: the deep checks of a local verify --deep, and
 * its SHA-256 into sha. */
static enum cv_err deep_sha(struct vctx *x, const struct store_remote *r,
	char sha[CV_SHA256_HEX], char **errmsg)
{
	int nbad = 0;
	enum cv_err rc = fed_check(x, r, true, x->s, &nbad, sha, errmsg);
	/* the deep look reset the query holds' state: evaluate again */
	if (rc == CV_OK)
		rc = store_holds_evaluate(x->s, errmsg);
	if (rc == CV_OK && nbad) {
		x->bad++;
		if (x->out)
			fprintf(x->out,
				"BAD %s (version %s): verify --deep "
				"found %d problem(s), named above\n",
				r->url, r->version_id, nbad);
		sha[0] = '\0';
	}
	return rc;
}

static void bad(struct vctx *x, const struct store_remote *r, const char *why)
{
	x->bad++;
	if (x->out)
		fprintf(x->out, "BAD %s (version %s): %s\n", r->url,
			r->version_id, why);
}

/* The legal hold as the holds require it; *changed when it was set. */
static enum cv_err mirror_one(struct vctx *x, const struct store_remote *r,
	bool *on, char **errmsg)
{
	bool held, now_on;
	enum cv_err rc = store_remote_held(x->s, r->archive_id, &held, errmsg);
	if (rc == CV_OK)
		rc = s3_get_legal_hold(x->c, r->key, r->version_id, &now_on,
			errmsg);
	if (rc == CV_OK && held != now_on) {
		rc = s3_put_legal_hold(x->c, r->key, r->version_id, held,
			errmsg);
		if (rc == CV_OK && x->out)
			fprintf(x->out, "legal hold %s on %s (%s)\n",
				held ? "ON" : "OFF", r->url,
				held ? "a hold covers its calls"
				     : "no hold covers its calls any more");
	}
	*on = held;
	return rc;
}

/* The policy grew since the archive was locked: a lock may always be
 * extended (never shortened), so extend it and read it back. */
static enum cv_err extend(struct vctx *x, const struct store_remote *r,
	struct s3_obj *o, int64_t need)
{
	char *e = NULL, d[32];
	enum cv_err rc = s3_put_retention(x->c, r->key, r->version_id, o->mode,
		need, &e);
	if (rc == CV_OK)
		rc = s3_head(x->c, r->key, r->version_id, o, &e);
	if (rc == CV_OK && o->retain_until_ms / 1000 < need / 1000)
		rc = CV_EINTEGRITY;
	s3_format_date(need, d);
	if (rc == CV_OK && x->out)
		fprintf(x->out,
			"retention of %s extended to %s (the policy "
			"is longer now)\n",
			r->url, d);
	else if (x->out)
		fprintf(x->out, "cannot extend the retention of %s to %s: %s\n",
			r->url, d, e ? e : "not kept");
	free(e);
	return rc;
}

/* An S3 call's message e becomes the caller's error; e is freed. */
static enum cv_err hand_over(char **errmsg, enum cv_err rc, char *e)
{
	cv_error(errmsg, rc, "%s", e ? e : "S3 request failed");
	free(e);
	return rc;
}

/* Lock state, current version, and bytes of one remote archive. */
static enum cv_err verify_one(struct vctx *x, const struct store_remote *r,
	char **errmsg)
{
	struct s3_obj cur, o;
	char why[512], sha[CV_SHA256_HEX];
	char *e = NULL;
	enum cv_err rc = s3_head(x->c, r->key, NULL, &cur, &e);
	if (rc == CV_ENOTFOUND ||
		(rc == CV_OK && strcmp(cur.version_id, r->version_id))) {
		snprintf(why, sizeof why,
			"it is no longer the current "
			"version of its key (%s): %s",
			r->key,
			rc == CV_OK ? "a newer version was uploaded over it"
				    : "it was deleted (a delete marker)");
		bad(x, r, why);
	} else if (rc != CV_OK) {
		return hand_over(errmsg, rc, e);
	}
	free(e);
	e = NULL;
	int keep;
	bool hold;
	rc = s3_head(x->c, r->key, r->version_id, &o, &e);
	if (rc == CV_ENOTFOUND) {
		free(e);
		bad(x, r, "the recorded version is gone (deleted)");
		return CV_OK;
	}
	if (rc != CV_OK) {
		return hand_over(errmsg, rc, e);
	}
	free(e);
	if ((rc = store_ret_policy_for(x->s, r->location_id, &keep, errmsg)) !=
			CV_OK ||
		(rc = mirror_one(x, r, &hold, errmsg)) != CV_OK)
		return rc;
	int64_t need = keep >= 0 ? storage_retain_until(r->month, keep) : 0;
	char d[32];
	s3_format_date(o.retain_until_ms, d);
	int before = x->bad;
	if (o.mode == S3_LOCK_NONE)
		bad(x, r, "it is not locked (no Object Lock retention)");
	else if (strcmp(s3_lock_mode_name(o.mode), r->lock_mode))
		bad(x, r, "its lock mode is not the one recorded");
	if (o.mode != S3_LOCK_NONE && o.retain_until_ms / 1000 < need / 1000 &&
		extend(x, r, &o, need) != CV_OK) {
		snprintf(why, sizeof why,
			"retained only until %s, before "
			"its retention period ends",
			d);
		bad(x, r, why);
	}
	s3_format_date(o.retain_until_ms, d);
	rc = x->deep ? deep_sha(x, r, sha, errmsg)
		     : storage_stream_sha(x->c, r->key, r->version_id, sha,
			       errmsg);
	if (rc != CV_OK)
		return rc;
	if (*sha && strcmp(sha, r->sha256)) {
		snprintf(why, sizeof why, "sha256 %s, recorded %s", sha,
			r->sha256);
		bad(x, r, why);
	}
	if (x->bad > before)
		return CV_OK;
	int n;
	rc = store_ret_mark_verified(x->s, r->sha256, x->now, &n, errmsg);
	if (rc == CV_OK)
		rc = store_remote_update(x->s, r->archive_id,
			s3_lock_mode_name(o.mode), o.retain_until_ms, hold,
			x->now, errmsg);
	if (rc == CV_OK && x->out)
		fprintf(x->out,
			"OK %s (version %s, sha256 %s, %s until %s, "
			"legal hold %s)\n",
			r->url, r->version_id, sha, s3_lock_mode_name(o.mode),
			d, hold ? "ON" : "OFF");
	return rc;
}

/* ---- recordings ---- */

static void bad_blob(struct vctx *x, const struct store_remote_blob *b,
	const char *why)
{
	x->bad++;
	if (x->out)
		fprintf(x->out, "BAD recording %s (version %s): %s\n", b->key,
			b->version_id, why);
}

/* Its legal hold as the holds require (ON while a hold covers a call
 * whose recording these bytes are). */
static enum cv_err mirror_blob(struct vctx *x, struct store_remote_blob *b,
	char **errmsg)
{
	bool held, now_on;
	enum cv_err rc = store_remote_blob_held(x->s, b->sha256, &held, errmsg);
	if (rc == CV_OK)
		rc = s3_get_legal_hold(x->c, b->key, b->version_id, &now_on,
			errmsg);
	if (rc == CV_OK && held != now_on) {
		rc = s3_put_legal_hold(x->c, b->key, b->version_id, held,
			errmsg);
		if (rc == CV_OK && x->out)
			fprintf(x->out, "legal hold %s on recording %s\n",
				held ? "ON" : "OFF", b->key);
	}
	b->legal_hold = held;
	return rc;
}

/* Current version, lock (mode, at least the recorded date) and bytes
 * (their SHA-256 is the key's). */
static enum cv_err verify_blob(struct vctx *x, struct store_remote_blob *b,
	char **errmsg)
{
	struct s3_obj cur, o;
	char *e = NULL, got[CV_SHA256_HEX], why[300];
	enum cv_err rc = s3_head(x->c, b->key, NULL, &cur, &e);
	int before = x->bad;
	if (rc == CV_ENOTFOUND ||
		(rc == CV_OK && strcmp(cur.version_id, b->version_id)))
		bad_blob(x, b,
			rc == CV_OK ? "a newer version was uploaded "
				      "over it"
				    : "it was deleted (a delete marker)");
	else if (rc != CV_OK)
		return hand_over(errmsg, rc, e);
	free(e);
	e = NULL;
	rc = s3_head(x->c, b->key, b->version_id, &o, &e);
	if (rc == CV_ENOTFOUND) {
		free(e);
		bad_blob(x, b, "the recorded version is gone (deleted)");
		return CV_OK;
	}
	if (rc != CV_OK)
		return hand_over(errmsg, rc, e);
	free(e);
	if (o.mode == S3_LOCK_NONE)
		bad_blob(x, b, "it is not locked (no Object Lock retention)");
	else if (strcmp(s3_lock_mode_name(o.mode), b->lock_mode) ||
		 o.retain_until_ms / 1000 < b->retain_until / 1000)
		bad_blob(x, b, "its lock is shorter or weaker than recorded");
	if ((rc = mirror_blob(x, b, errmsg)) != CV_OK ||
		(rc = storage_stream_sha(x->c, b->key, b->version_id, got,
			 errmsg)) != CV_OK)
		return rc;
	if (strcmp(got, b->sha256)) {
		snprintf(why, sizeof why, "its bytes hash to %s", got);
		bad_blob(x, b, why);
	}
	if (x->bad > before)
		return CV_OK;
	b->checked_at = x->now;
	rc = store_remote_blob_put(x->s, b, errmsg);
	if (rc == CV_OK && x->out)
		fprintf(x->out,
			"OK recording %s (version %s, %s until %.10s, "
			"legal hold %s)\n",
			b->key, b->version_id, b->lock_mode,
			(s3_format_date(o.retain_until_ms, why), why),
			b->legal_hold ? "ON" : "OFF");
	return rc;
}

static enum cv_err each_blob(struct vctx *x, const char *target, bool verify,
	char **errmsg)
{
	struct store_remote_blob *v;
	size_t n;
	enum cv_err rc = store_remote_blob_list(x->s, target, NULL, &v, &n,
		errmsg);
	for (size_t i = 0; i < n && rc == CV_OK; i++) {
		if (verify) {
			rc = verify_blob(x, &v[i], errmsg);
			continue;
		}
		rc = mirror_blob(x, &v[i], errmsg);
		if (rc == CV_OK)
			rc = store_remote_blob_put(x->s, &v[i], errmsg);
	}
	store_remote_blobs_free(v, n);
	return rc;
}

static enum cv_err each_remote(struct store *s, const char *name, FILE *out,
	int64_t now, bool verify, bool deep, int *n_bad, char **errmsg)
{
	struct store_storage t;
	struct vctx x = { .s = s, .out = out, .now = now, .deep = deep };
	enum cv_err rc = storage_open(s, name, &t, &x.c, errmsg);
	if (rc != CV_OK)
		return rc;
	struct store_remote *v = NULL;
	size_t n = 0;
	/* what the query holds match now (unevaluated, one holds every
	 * call: every legal hold would go ON) */
	rc = store_holds_evaluate(s, errmsg);
	if (rc == CV_OK)
		rc = store_remote_list(s, NULL, &v, &n, errmsg);
	for (size_t i = 0; i < n && rc == CV_OK; i++) {
		bool hold;
		if (strcmp(v[i].target, t.name))
			continue;
		rc = verify ? verify_one(&x, &v[i], errmsg)
			    : mirror_one(&x, &v[i], &hold, errmsg);
		if (rc == CV_OK && !verify)
			rc = store_remote_update(s, v[i].archive_id,
				v[i].lock_mode, v[i].retain_until, hold, 0,
				errmsg);
	}
	store_remotes_free(v, n);
	if (rc == CV_OK)
		rc = each_blob(&x, t.name, verify, errmsg);
	s3_destroy(x.c);
	store_storage_finish(&t);
	*n_bad = x.bad;
	return rc;
}

/* ---- another instance's bags ---- */

/* One bag of another instance, at its current version: locked, and its
 * own manifests and tag manifest (with deep, the checks of `verify
 * --deep --no-store`) as it streams in. */
static enum cv_err verify_foreign(struct vctx *x, const char *key,
	char **errmsg)
{
	struct s3_obj o;
	char *e = NULL, d[32], why[256];
	enum cv_err rc = s3_head(x->c, key, NULL, &o, &e);
	if (rc != CV_OK) {
		return hand_over(errmsg, rc, e);
	}
	struct store_remote r = { .key = (char *)key,
		.version_id = o.version_id };
	r.url = xasprintf("s3://%s/%s", s3_bucket(x->c), key);
	int before = x->bad;
	s3_format_date(o.retain_until_ms, d);
	if (o.mode == S3_LOCK_NONE)
		bad(x, &r, "it is not locked (no Object Lock retention)");
	else if (o.retain_until_ms <= x->now) {
		snprintf(why, sizeof why, "its lock ended on %s", d);
		bad(x, &r, why);
	}
	int nbad = 0;
	char sha[CV_SHA256_HEX] = "";
	rc = fed_check(x, &r, x->deep, NULL, &nbad, sha, errmsg);
	if (rc == CV_OK && nbad)
		bad(x, &r, "its own manifests do not hold (named above)");
	if (rc == CV_OK && x->bad == before && x->out)
		fprintf(x->out,
			"OK %s (version %s, sha256 %s, %s until %s, legal "
			"hold %s; another instance's: its own manifests)\n",
			r.url, o.version_id, sha, s3_lock_mode_name(o.mode), d,
			o.legal_hold ? "ON" : "OFF");
	free(r.url);
	return rc;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);
	return a >= b && !strcmp(s + a - b, tail);
}

/* Every bag (KEY.tar.zst) under another instance's prefix. */
static enum cv_err each_foreign(struct store *s,
	const struct storage_verify_opts *o, int *n_bad, char **errmsg)
{
	struct store_storage t;
	struct vctx x = { .s = s,
		.out = o->out,
		.now = o->now_ms ? o->now_ms : cv_now_ms(),
		.deep = o->deep };
	enum cv_err rc = storage_open(s, o->name, &t, &x.c, errmsg);
	if (rc != CV_OK)
		return rc;
	size_t len = strlen(o->prefix);
	char *pre = xasprintf("%s%s", o->prefix,
		len && o->prefix[len - 1] != '/' ? "/" : "");
	char **keys = NULL;
	size_t n = 0, bags = 0;
	rc = s3_list(x.c, pre, &keys, &n, errmsg);
	for (size_t i = 0; i < n; i++) {
		if (rc == CV_OK && ends_with(keys[i], ".tar.zst")) {
			bags++;
			rc = verify_foreign(&x, keys[i], errmsg);
		}
		free(keys[i]);
	}
	free(keys);
	if (rc == CV_OK && !bags)
		rc = cv_error(errmsg, CV_ENOTFOUND,
			"no bags (*.tar.zst) under s3://%s/%s", t.bucket, pre);
	free(pre);
	s3_destroy(x.c);
	store_storage_finish(&t);
	*n_bad = x.bad;
	return rc;
}

enum cv_err storage_verify(struct store *s, const struct storage_verify_opts *o,
	char **errmsg)
{
	int n_bad = 0;
	if (o->prefix) {
		enum cv_err rc = each_foreign(s, o, &n_bad, errmsg);
		if (rc == CV_OK && n_bad)
			rc = cv_error(errmsg, CV_EINTEGRITY,
				"%d archive(s) BAD", n_bad);
		return rc;
	}
	enum cv_err rc = each_remote(s, o->name, o->out,
		o->now_ms ? o->now_ms : cv_now_ms(), true, o->deep, &n_bad,
		errmsg);
	if (rc == CV_OK && n_bad)
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"%d remote archive(s) "
			"BAD",
			n_bad);
	return rc;
}

enum cv_err storage_mirror_holds(struct store *s, const char *name, FILE *out,
	char **errmsg)
{
	int n_bad;
	return each_remote(s, name, out, cv_now_ms(), false, false, &n_bad,
		errmsg);
}
