/*
 * verify.c — `callvault verify`: check archives the way an auditor would,
 * from the files alone (the store only adds the chain records, --deep and
 * the note of a successful verify).
 */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bagjson.h"
#include "bagread.h"
#include "retention.h"
#include "store/store_retention.h"

#define TAG_MAX (512u * 1024 * 1024) /* a tag file held in memory */

struct vfile {
	char *path;
	int64_t size;
	char h256[CV_SHA256_HEX], h512[CV_SHA512_HEX];
	char *content;            /* tag files only */
	size_t content_len;
	bool in256, in512;
};

/* What one archive turned out to be. */
struct varch {
	const char *path;
	const char *name;         /* how the path is shown */
	int bad;                  /* problems found */
	char outer[CV_SHA256_HEX];
	char tag_sha[CV_SHA256_HEX]; /* of its tagmanifest-sha256.txt */
	char *loc, *prev_name, *prev_tag;
	int chain_index;          /* -1 unknown */
};

struct vwalk {
	struct vfile *files;
	size_t n, cap;
	struct vfile *cur;
	struct cv_hash *h256, *h512;
	struct buf content;
	bool keep, deep_calls;
	struct buf line;          /* --deep: the current calls.jsonl line */
	const struct verify_opts *o;
	struct varch *va;
	int64_t deep_same, deep_absent, deep_differ;
};

static void problem(struct varch *va, const struct verify_opts *o,
	const char *member, const char *fmt, const char *arg)
{
	va->bad++;
	fprintf(o->out, "%s: BAD %s: ", va->name, member);
	fprintf(o->out, fmt, arg ? arg : "");
	fputc('\n', o->out);
}

static bool is_tag_file(const char *p)
{
	return !strchr(p, '/');
}

static int w_begin(const struct bagread_entry *e, void *arg)
{
	struct vwalk *w = arg;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 256;
		w->files = xrealloc(w->files, w->cap * sizeof(*w->files));
	}
	w->cur = &w->files[w->n++];
	memset(w->cur, 0, sizeof(*w->cur));
	w->cur->path = xstrdup(e->path);
	w->h256 = cv_hash_create("sha256");
	w->h512 = cv_hash_create("sha512");
	w->keep = is_tag_file(e->path);
	w->deep_calls = w->o->deep && w->o->store &&
			strcmp(e->path, "data/calls.jsonl") == 0;
	buf_reset(&w->content);
	buf_reset(&w->line);
	return 0;
}

static void deep_line(struct vwalk *w, const char *p, size_t n)
{
	char *id = bagjson_call_id(p, n);
	char sha[CV_SHA256_HEX];
	cv_sha256_hex(p, n, sha);
	int state = 0;
	if (!id || store_ret_version_state(w->o->store, id, sha, &state,
			   NULL) != CV_OK) {
		problem(w->va, w->o, "data/calls.jsonl",
			"a line the store cannot be asked about%s", NULL);
	} else if (state == 0) {
		w->deep_absent++;
	} else if (state == 1) {
		w->deep_same++;
	} else {
		w->deep_differ++;
		problem(w->va, w->o, "data/calls.jsonl",
			"call %s differs from every version in the store", id);
	}
	free(id);
}

static void deep_feed(struct vwalk *w, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		buf_append(&w->line, p, k);
		if (!nl)
			return;
		deep_line(w, w->line.data, w->line.len);
		buf_reset(&w->line);
		p += k + 1;
		n -= k + 1;
	}
}

static int w_data(const void *p, size_t n, void *arg)
{
	struct vwalk *w = arg;
	cv_hash_update(w->h256, p, n);
	cv_hash_update(w->h512, p, n);
	w->cur->size += (int64_t)n;
	if (w->keep) {
		if (w->content.len + n > TAG_MAX)
			return 1;
		buf_append(&w->content, p, n);
	}
	if (w->deep_calls)
		deep_feed(w, p, n);
	return 0;
}

static int w_end(void *arg)
{
	struct vwalk *w = arg;
	cv_hash_final_hex(w->h256, w->cur->h512);
	memcpy(w->cur->h256, w->cur->h512, CV_SHA256_HEX);
	cv_hash_final_hex(w->h512, w->cur->h512);
	w->h256 = w->h512 = NULL;
	if (w->keep) {
		w->cur->content_len = w->content.len;
		w->cur->content = buf_steal(&w->content);
	}
	return 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct vfile *)a)->path,
		((const struct vfile *)b)->path);
}

static struct vfile *find(struct vwalk *w, const char *path)
{
	struct vfile key = { .path = (char *)path };
	return bsearch(&key, w->files, w->n, sizeof(*w->files), by_path);
}

/* RFC 8493 2.1.3: %0A, %0D and %25 in manifest file paths. */
static void unescape_path(char *p)
{
	char *o = p;
	for (; *p; p++) {
		if (p[0] == '%' && (!strncmp(p, "%0A", 3) ||
				    !strncmp(p, "%0D", 3) ||
				    !strncmp(p, "%25", 3))) {
			*o++ = p[2] == 'A' ? '\n' : p[2] == 'D' ? '\r' : '%';
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

/* Check every line of a manifest; mark the files it names. */
static void check_manifest(struct vwalk *w, const char *name, bool sha512,
	bool tags)
{
	struct vfile *m = find(w, name);
	if (!m) {
		problem(w->va, w->o, name, "%smissing", NULL);
		return;
	}
	size_t hexlen = sha512 ? 128 : 64;
	char *text = xstrndup(m->content, m->content_len), *save = NULL;
	for (char *ln = strtok_r(text, "\n", &save); ln;
	     ln = strtok_r(NULL, "\n", &save)) {
		ln[strcspn(ln, "\r")] = '\0';
		size_t hl = strcspn(ln, " \t");
		char *path = ln + hl + strspn(ln + hl, " \t");
		unescape_path(path);
		struct vfile *f = hl == hexlen && *path ? find(w, path) : NULL;
		if (!f || (!tags && strncmp(path, "data/", 5) != 0)) {
			problem(w->va, w->o, name, "names %s, which is not in "
				"the bag", *path ? path : "(nothing)");
			continue;
		}
		if (strncasecmp(ln, sha512 ? f->h512 : f->h256, hexlen) != 0)
			problem(w->va, w->o, f->path, "checksum does not match "
				"%s", name);
		if (sha512)
			f->in512 = true;
		else
			f->in256 = true;
	}
	free(text);
}

/* The value of a bag-info.txt label, owned; NULL when absent. */
static char *info_value(struct vwalk *w, const char *label)
{
	struct vfile *f = find(w, "bag-info.txt");
	if (!f)
		return NULL;
	size_t ll = strlen(label);
	for (const char *p = f->content; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n > ll && !strncmp(p, label, ll) && p[ll] == ':') {
			const char *v = p + ll + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			return xstrndup(v, n - (size_t)(v - p));
		}
		p = nl ? nl + 1 : p + n;
	}
	return NULL;
}

static void check_bag(struct vwalk *w)
{
	static const char bagit[] =
		"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	struct vfile *b = find(w, "bagit.txt");
	if (!b || b->content_len != strlen(bagit) ||
	    memcmp(b->content, bagit, b->content_len) != 0)
		problem(w->va, w->o, "bagit.txt", "%smissing or not BagIt 1.0",
			NULL);
	if (!find(w, "bag-info.txt"))
		problem(w->va, w->o, "bag-info.txt", "%smissing", NULL);
	check_manifest(w, "manifest-sha256.txt", false, false);
	check_manifest(w, "manifest-sha512.txt", true, false);
	check_manifest(w, "tagmanifest-sha256.txt", false, true);
	uint64_t bytes = 0, files = 0;
	for (size_t i = 0; i < w->n; i++) {
		struct vfile *f = &w->files[i];
		if (strncmp(f->path, "data/", 5) != 0)
			continue;
		bytes += (uint64_t)f->size;
		files++;
		if (!f->in256 || !f->in512)
			problem(w->va, w->o, f->path, "not in %s",
				!f->in256 ? "manifest-sha256.txt"
					  : "manifest-sha512.txt");
	}
	char *oxum = info_value(w, "Payload-Oxum");
	char want[64];
	snprintf(want, sizeof(want), "%llu.%llu", (unsigned long long)bytes,
		(unsigned long long)files);
	if (!oxum || strcmp(oxum, want) != 0)
		problem(w->va, w->o, "bag-info.txt", "Payload-Oxum is not %s",
			want);
	free(oxum);
	static const char *const tags[] = { "bagit.txt", "bag-info.txt",
		"manifest-sha256.txt", "manifest-sha512.txt" };
	for (size_t i = 0; i < CV_ARRAY_LEN(tags); i++) {
		struct vfile *f = find(w, tags[i]);
		if (f && !f->in256)
			problem(w->va, w->o, tags[i],
				"not in tagmanifest-sha256.txt%s", NULL);
	}
	struct vfile *tm = find(w, "tagmanifest-sha256.txt");
	if (tm)
		snprintf(w->va->tag_sha, CV_SHA256_HEX, "%s", tm->h256);
}

static void walk_finish(struct vwalk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->files[i].path);
		free(w->files[i].content);
	}
	free(w->files);
	cv_hash_destroy(w->h256);
	cv_hash_destroy(w->h512);
	buf_finish(&w->content);
	buf_finish(&w->line);
}

/* The outer SHA-256 against the .sha256 beside the archive. */
static void check_outer(struct varch *va, const struct verify_opts *o)
{
	char *side = xasprintf("%s.sha256", va->path), *text = NULL;
	size_t len;
	if (cv_read_file(side, 4096, &text, &len, NULL) != CV_OK) {
		problem(va, o, side, "%smissing or unreadable", NULL);
		free(side);
		return;
	}
	char hex[CV_SHA256_HEX];
	if (!retention_file_sha256(va->path, hex))
		problem(va, o, va->path, "%scannot be read", NULL);
	else if (len < 64 || strncasecmp(text, hex, 64) != 0)
		problem(va, o, va->path, "SHA-256 does not match %s", side);
	memcpy(va->outer, hex, CV_SHA256_HEX);
	free(text);
	free(side);
}

static void verify_one(struct varch *va, const struct verify_opts *o)
{
	check_outer(va, o);
	struct vwalk w = { .o = o, .va = va };
	buf_init(&w.content);
	buf_init(&w.line);
	struct bagread_cb cb = { w_begin, w_data, w_end };
	char *err = NULL;
	enum cv_err rc = bagread_walk(va->path, &cb, &w, &err);
	if (rc != CV_OK) {
		problem(va, o, va->path, "%s", err ? err : cv_strerror(rc));
	} else {
		qsort(w.files, w.n, sizeof(*w.files), by_path);
		check_bag(&w);
		va->loc = info_value(&w, "Callvault-Location-Id");
		va->prev_name = info_value(&w, "Previous-Bag");
		va->prev_tag = info_value(&w, "Previous-Bag-Tagmanifest-SHA256");
		char *ci = info_value(&w, "Callvault-Chain-Index");
		va->chain_index = ci ? atoi(ci) : -1;
		free(ci);
		if (o->deep && o->store)
			fprintf(o->out, "%s: deep: %lld calls as stored, %lld "
					"no longer in the store, %lld "
					"differ\n",
				va->path, (long long)w.deep_same,
				(long long)w.deep_absent,
				(long long)w.deep_differ);
	}
	free(err);
	walk_finish(&w);
}

/* The tag manifest hash of another archive file, "" when unreadable. */
static int tag_begin(const struct bagread_entry *e, void *arg)
{
	return strcmp(e->path, "tagmanifest-sha256.txt") == 0 ? 0 : 1;
}
static int tag_data(const void *p, size_t n, void *arg)
{
	cv_hash_update(arg, p, n);
	return 0;
}
static void tag_sha_of(const char *path, char out[CV_SHA256_HEX])
{
	struct cv_hash *h = cv_hash_create("sha256");
	struct bagread_cb cb = { tag_begin, tag_data, NULL };
	char hex[CV_SHA512_HEX];
	enum cv_err rc = bagread_walk(path, &cb, h, NULL);
	cv_hash_final_hex(h, hex);
	if (rc != CV_OK)
		hex[0] = '\0';
	memcpy(out, hex, CV_SHA256_HEX - 1);
	out[CV_SHA256_HEX - 1] = '\0';
}

/* Is there reason to say the chain before va is broken? */
static void check_chain(struct varch *all, size_t n, struct varch *va,
	const struct verify_opts *o)
{
	if (!va->prev_tag || !strcmp(va->prev_tag, "none"))
		return;
	for (size_t i = 0; i < n; i++)
		if (&all[i] != va && !strcmp(all[i].tag_sha, va->prev_tag))
			return;
	char *copy = xstrdup(va->path);
	char *prev = xasprintf("%s/%s", dirname(copy),
		va->prev_name ? va->prev_name : "?");
	free(copy);
	if (access(prev, F_OK) == 0) {
		char sha[CV_SHA256_HEX];
		tag_sha_of(prev, sha);
		if (strcmp(sha, va->prev_tag) != 0)
			problem(va, o, prev, "chain break: its tag manifest is "
				"not the one %s names", va->path);
		free(prev);
		return;
	}
	bool older = false;
	for (size_t i = 0; i < n; i++)
		older |= &all[i] != va && all[i].loc && va->loc &&
			 !strcmp(all[i].loc, va->loc) &&
			 all[i].chain_index >= 0 &&
			 all[i].chain_index < va->chain_index;
	struct store_archive rec;
	char *e = NULL;
	if (!older && o->store && va->loc &&
	    store_ret_find_archive(o->store, NULL, va->loc,
		    va->chain_index - 1, &rec, &e) == CV_OK) {
		older = access(rec.path, F_OK) != 0;
		store_archive_finish(&rec);
	}
	free(e);
	if (older)
		problem(va, o, prev, "chain break: the previous archive is "
			"missing%s", NULL);
	else
		fprintf(o->out, "%s: note: previous archive %s not present; "
				"chain link not checked\n",
			va->path, prev);
	free(prev);
}

enum cv_err verify_archives(char *const *paths, size_t n,
	const struct verify_opts *o, char **errmsg)
{
	struct varch *all = xcalloc(n, sizeof(*all));
	for (size_t i = 0; i < n; i++) {
		all[i].path = paths[i];
		all[i].name = o->names ? o->names[i] : paths[i];
		all[i].chain_index = -1;
		verify_one(&all[i], o);
	}
	int bad = 0;
	enum cv_err rc = CV_OK;
	for (size_t i = 0; i < n; i++) {
		check_chain(all, n, &all[i], o);
		if (all[i].bad) {
			bad++;
			continue;
		}
		int marked = 0;
		if (o->store && (rc = store_ret_mark_verified(o->store,
				     all[i].outer, cv_now_ms(), &marked,
				     errmsg)) != CV_OK)
			break;
		fprintf(o->out, "%s: OK%s\n", all[i].name,
			marked ? " (recorded in the store)" : "");
	}
	for (size_t i = 0; i < n; i++) {
		free(all[i].loc);
		free(all[i].prev_name);
		free(all[i].prev_tag);
	}
	free(all);
	if (rc == CV_OK && bad)
		rc = cv_error(errmsg, CV_EINTEGRITY, "%d of %zu archive(s) "
			"failed verification", bad, n);
	return rc;
}
