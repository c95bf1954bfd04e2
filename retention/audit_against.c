/*
 * audit_against.c — `audit --verify --against DIR…`: the live audit log
 * held to the chain heads the monthly bags recorded (audithead.h). Each
 * entry's hash covers every entry before it, so a chain that verifies
 * and still has, at each archived head's id, the archived hash, holds
 * every entry up to that head unchanged; a log cut short lacks the id,
 * a rewritten (and recomputed) one has another hash there.
 */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>

#include "audithead.h"
#include "bagread.h"
#include "retention.h"
#include "store/store_audit.h"

#define INFO_MAX (1024u * 1024) /* bag-info.txt, as verify bounds it */

struct head {
	char *path;
	int64_t id;
	char hash[CV_SHA256_HEX];
	char mac[CV_SHA256_HEX]; /* "" when the bag has none */
	bool found;              /* the bag records a head */
};

/* ---- finding the bags ---- */

static struct head *g_heads; /* nftw has no argument to pass */
static size_t g_n;

static int collect(const char *p, const struct stat *st, int type,
	struct FTW *f)
{
	size_t l = strlen(p);
	if (type == FTW_F && l > 8 && !strcmp(p + l - 8, ".tar.zst")) {
		g_heads = xrealloc(g_heads, (g_n + 1) * sizeof(*g_heads));
		memset(&g_heads[g_n], 0, sizeof(*g_heads));
		g_heads[g_n++].path = xstrdup(p);
	}
	return 0;
}

/* ---- bag-info.txt of one bag ---- */

struct info_read {
	struct buf b;
	bool in, too_big;
};

static int i_begin(const struct bagread_entry *e, void *arg)
{
	struct info_read *r = arg;
	r->in = !strcmp(e->path, "bag-info.txt");
	return r->in ? 0 : 1;
}

static int i_data(const void *p, size_t n, void *arg)
{
	struct info_read *r = arg;
	if (r->b.len + n > INFO_MAX) {
		r->too_big = true;
		return 1;
	}
	buf_append(&r->b, p, n);
	return 0;
}

static int i_end(void *arg)
{
	return 0;
}

/* "Label: value" of text, copied into out (size n); false if absent. */
static bool info_line(const char *text, const char *label, char *out, size_t n)
{
	size_t ll = strlen(label);
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > ll + 2 && !strncmp(p, label, ll) && p[ll] == ':' &&
			p[ll + 1] == ' ') {
			snprintf(out, n, "%.*s", (int)(len - ll - 2),
				p + ll + 2);
			return true;
		}
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

static enum cv_err read_head(struct head *h, char **errmsg)
{
	struct info_read r = { .in = false };
	buf_init(&r.b);
	struct bagread_cb cb = { i_begin, i_data, i_end };
	enum cv_err rc = bagread_walk(h->path, &cb, &r, errmsg);
	if (rc == CV_OK && !r.too_big) {
		buf_putc(&r.b, '\0');
		char v[256], m[256];
		long long id;
		char hash[CV_SHA256_HEX + 1];
		if (info_line(r.b.data, AUDITHEAD_LABEL, v, sizeof(v)) &&
			sscanf(v, "%lld %65s", &id, hash) == 2 && id >= 0 &&
			strlen(hash) == 64) {
			h->found = true;
			h->id = id;
			memcpy(h->hash, hash, CV_SHA256_HEX);
		}
		if (info_line(r.b.data, AUDITHEAD_MAC_LABEL, m, sizeof(m)) &&
			!strncmp(m, "hmac-sha256 ", 12) && strlen(m + 12) == 64)
			memcpy(h->mac, m + 12, CV_SHA256_HEX);
	} else if (rc == CV_OK || rc == CV_EINVAL) {
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"bag-info.txt larger "
			"than 1 MiB");
	}
	buf_finish(&r.b);
	return rc;
}

/* ---- holding the log to one head ---- */

/* 0 when the log holds h; else the problem was printed. */
static int check_head(struct store *s, const struct head *h,
	const unsigned char *key, int64_t last_id, FILE *out)
{
	if (key) {
		char want[CV_SHA256_HEX];
		audithead_mac(key, h->id, h->hash, want);
		if (!*h->mac || !cv_memeq_ct(want, h->mac, 64)) {
			fprintf(out,
				"%s: BAD audit head #%lld: its MAC %s "
				"(not written with this audit key)\n",
				h->path, (long long)h->id,
				*h->mac ? "does not verify" : "is missing");
			return 1;
		}
	}
	if (h->id == 0)
		return 0;
	char live[CV_SHA256_HEX], *err = NULL;
	enum cv_err rc = store_audit_hash_of(s, h->id, live, &err);
	free(err);
	if (rc == CV_ENOTFOUND) {
		fprintf(out,
			"%s: BAD audit log truncated: the bag recorded "
			"entry #%lld, the live log %s\n",
			h->path, (long long)h->id,
			last_id ? "ends before it" : "is empty");
		return 1;
	}
	if (rc != CV_OK || strcmp(live, h->hash) != 0) {
		fprintf(out,
			"%s: BAD audit log rewritten: entry #%lld is not "
			"the one the bag recorded (hash %s, recorded "
			"%s)\n",
			h->path, (long long)h->id, rc == CV_OK ? live : "?",
			h->hash);
		return 1;
	}
	return 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct head *)a)->path,
		((const struct head *)b)->path);
}

enum cv_err audit_verify_against(struct store *s, char *const *dirs,
	size_t n_dirs, const unsigned char *key, FILE *out,
	struct audit_against_stats *st, char **errmsg)
{
	memset(st, 0, sizeof(*st));
	g_heads = NULL;
	g_n = 0;
	for (size_t i = 0; i < n_dirs; i++)
		if (nftw(dirs[i], collect, 16, FTW_PHYS) != 0)
			return cv_error(errmsg, CV_EIO, "cannot read %s",
				dirs[i]);
	struct head *hs = g_heads;
	size_t n = g_n;
	g_heads = NULL;
	qsort(hs, n, sizeof(*hs), by_path);
	int64_t last = 0;
	char last_hash[CV_SHA256_HEX];
	enum cv_err rc = store_audit_head(s, &last, last_hash, errmsg);
	for (size_t i = 0; i < n && rc == CV_OK; i++) {
		char *e = NULL;
		if (read_head(&hs[i], &e) != CV_OK) {
			fprintf(out, "%s: BAD cannot be read: %s\n", hs[i].path,
				e ? e : "?");
			st->bad++;
		} else if (!hs[i].found) {
			fprintf(out,
				"%s: note: records no audit head "
				"(written before callvault did)\n",
				hs[i].path);
		} else if (check_head(s, &hs[i], key, last, out)) {
			st->bad++;
		} else {
			st->heads++;
			if (hs[i].id >= st->newest)
				st->newest = hs[i].id;
		}
		free(e);
	}
	for (size_t i = 0; i < n; i++)
		free(hs[i].path);
	free(hs);
	st->bags = n;
	return rc;
}
