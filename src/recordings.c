/* recordings.c — see recordings.h */
#include "recordings.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "store/store_recordings.h"
#include "util.h"

const char *rec_problem_name(enum rec_problem p)
{
	switch (p) {
	case RP_MISSING: return "missing";
	case RP_MISMATCH: return "mismatch";
	case RP_ORPHAN: return "orphan";
	case RP_STRAY: return "stray";
	}
	return "?";
}

struct names {
	char **v;
	size_t n, cap;
	char **msg; /* message id of each row (same order) */
};

static int collect(const struct store_recording *r, void *arg)
{
	struct names *nm = arg;
	if (nm->n == nm->cap) {
		nm->cap = nm->cap ? nm->cap * 2 : 64;
		nm->v = xrealloc(nm->v, nm->cap * sizeof(*nm->v));
		nm->msg = xrealloc(nm->msg, nm->cap * sizeof(*nm->msg));
	}
	nm->v[nm->n] = xstrdup(r->sha256);
	nm->msg[nm->n++] = xstrdup(r->message_id);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct walk {
	const struct names *rows; /* sorted copy of the names */
	void (*fn)(enum rec_problem, const char *, const char *, const char *,
		void *);
	void *arg;
	struct rec_check *r;
};

static int each_blob(const char *name, bool valid, int64_t size, void *arg)
{
	struct walk *w = arg;
	(void)size;
	w->r->blobs++;
	if (!valid) {
		w->r->problems++;
		w->fn(RP_STRAY, name, NULL,
			"not a blob (its name is not the "
			"SHA-256 of a file in its fan-out directory)",
			w->arg);
		return 0;
	}
	const char *key = name;
	if (!bsearch(&key, w->rows->v, w->rows->n, sizeof(char *), cmp_str)) {
		w->r->problems++;
		w->fn(RP_ORPHAN, name, NULL, "no recording row names it",
			w->arg);
	}
	return 0;
}

static void names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++) {
		free(nm->v[i]);
		free(nm->msg[i]);
	}
	free(nm->v);
	free(nm->msg);
}

/* Each row: its blob there, and (deep) its bytes hashing to its name. */
static void check_rows(const struct blobstore *b, const struct names *nm,
	bool deep, struct walk *w)
{
	for (size_t i = 0; i < nm->n; i++) {
		int64_t size = 0;
		if (!b || !blob_exists(b, nm->v[i], &size)) {
			w->r->problems++;
			w->fn(RP_MISSING, nm->v[i], nm->msg[i],
				"the row's blob "
				"is not in the blob store",
				w->arg);
			continue;
		}
		if (!deep)
			continue;
		char got[CV_SHA256_HEX], *err = NULL;
		if (blob_hash(b, nm->v[i], got, &err) != CV_OK) {
			w->r->problems++;
			w->fn(RP_MISSING, nm->v[i], nm->msg[i], err, w->arg);
			free(err);
			continue;
		}
		w->r->bytes_hashed += size;
		if (strcmp(got, nm->v[i]) != 0) {
			char *d = xasprintf("its bytes hash to %s", got);
			w->r->problems++;
			w->fn(RP_MISMATCH, nm->v[i], nm->msg[i], d, w->arg);
			free(d);
		}
	}
}

enum cv_err recordings_check(struct store *s, const char *store_path, bool deep,
	void (*fn)(enum rec_problem p, const char *name, const char *message_id,
		const char *detail, void *arg),
	void *arg, struct rec_check *r, char **errmsg)
{
	memset(r, 0, sizeof(*r));
	struct names nm = { 0 };
	enum cv_err rc = store_recordings_each(s, collect, &nm, errmsg);
	if (rc != CV_OK) {
		names_free(&nm);
		return rc;
	}
	r->rows = (int64_t)nm.n;
	struct blobstore *b = NULL;
	char *e = NULL;
	rc = blob_open(&b, store_path, false, &e);
	if (rc == CV_ENOTFOUND)
		rc = CV_OK; /* no blob store yet: every row is missing */
	else if (rc != CV_OK && errmsg)
		*errmsg = xstrdup(e ? e : cv_strerror(rc));
	free(e);
	struct walk w = { .rows = &nm, .fn = fn, .arg = arg, .r = r };
	if (rc == CV_OK)
		check_rows(b, &nm, deep, &w);
	struct names sorted = nm;
	sorted.v = xmalloc((nm.n + 1) * sizeof(char *));
	if (nm.n) {
		memcpy(sorted.v, nm.v, nm.n * sizeof(char *));
		qsort(sorted.v, nm.n, sizeof(char *), cmp_str);
	}
	w.rows = &sorted;
	if (rc == CV_OK && b && blob_each(b, each_blob, &w) < 0)
		rc = cv_error(errmsg, CV_EIO, "cannot read the blob store %s",
			blob_dir(b));
	free(sorted.v);
	blob_close(b);
	names_free(&nm);
	return rc;
}

enum cv_err recording_copy(const struct blobstore *b, const char *sha256,
	struct sink *out, int64_t *size, char **errmsg)
{
	int in;
	enum cv_err rc = blob_open_read(b, sha256, &in, NULL, errmsg);
	if (rc != CV_OK)
		return rc;
	struct cv_hash *h = cv_hash_create("sha256");
	char *buf = xmalloc(1 << 16);
	int64_t total = 0;
	for (;;) {
		ssize_t n = read(in, buf, 1 << 16);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = cv_error(errmsg, CV_EIO, "cannot read blob %s: %s",
				sha256, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		cv_hash_update(h, buf, (size_t)n);
		total += n;
		rc = sink_write(out, buf, (size_t)n);
		if (rc != CV_OK) {
			cv_error(errmsg, rc, "cannot write the copy");
			break;
		}
	}
	close(in);
	free(buf);
	char hex[129];
	cv_hash_final_hex(h, hex);
	if (rc == CV_OK && strcmp(hex, sha256) != 0)
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"blob %s hashes to %.64s: "
			"the stored recording is damaged",
			sha256, hex);
	if (size)
		*size = total;
	return rc;
}

static recording_fetch_fn *fetcher;

void recording_set_fetcher(recording_fetch_fn *fn)
{
	fetcher = fn;
}

enum cv_err recording_fetch(struct store *s, struct blobstore *b,
	const char *sha256, char **errmsg)
{
	if (!fetcher)
		return cv_error(errmsg, CV_ENOTFOUND,
			"recording %s is not in "
			"the local blob store",
			sha256);
	return fetcher(s, b, sha256, errmsg);
}
