/*
 * bagcheck.c — the inside of one archive, checked in one streaming pass
 * within fixed bounds whatever the bag holds: tag files, manifest lines,
 * manifests, JSON lines and the number of files are capped, each excess
 * a problem of that archive. Manifests are not kept: each line is
 * checked against the file it names when that file was read already,
 * else its digest waits in the file's slot until the file comes.
 * Here: the walk over the tar, the table of the bag's files and the
 * checks of the bag as a whole; the manifest lines and the lanes that
 * hash each file are in bagcheck_manifest.c, the JSON Lines files in
 * bagcheck_deep.c (bagcheck_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "bagcheck_int.h"
#include "bagread.h"
#include "sitekey.h"
#include "tsa.h"

const char *const bagcheck_mnames[] = { "manifest-sha256.txt",
	"manifest-sha512.txt", "tagmanifest-sha256.txt" };

static struct vfile *at(struct bwalk *w, uint32_t i)
{
	return &w->blocks[i / BLOCK][i % BLOCK];
}

static uint32_t hash_path(const char *p)
{
	uint32_t h = 2166136261u;
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static void rehash(struct bwalk *w)
{
	uint32_t *old = w->slots, *old_h = w->hashes, old_cap = w->cap;
	w->cap = w->cap ? w->cap * 2 : 1024;
	w->slots = xcalloc(w->cap, sizeof(*w->slots));
	w->hashes = xcalloc(w->cap, sizeof(*w->hashes));
	for (uint32_t i = 0; i < old_cap; i++) {
		if (!old[i])
			continue;
		uint32_t j = old_h[i] & (w->cap - 1);
		while (w->slots[j])
			j = (j + 1) & (w->cap - 1);
		w->slots[j] = old[i];
		w->hashes[j] = old_h[i];
	}
	free(old);
	free(old_h);
}

/* The slot of path: its file's, or the free one where it would go. A
 * path is compared only when its hash is the same (the comparison is a
 * cache miss: a bag has ~300,000 lookups of 100,000 names). */
static uint32_t slot_of(const struct bwalk *w, const char *path, uint32_t h)
{
	uint32_t j = h & (w->cap - 1);
	for (; w->slots[j]; j = (j + 1) & (w->cap - 1))
		if (w->hashes[j] == h &&
			!strcmp(at((struct bwalk *)w, w->slots[j] - 1)->path,
				path))
			break;
	return j;
}

/* The file named path, added when new; NULL past FILES_MAX. */
struct vfile *bagcheck_lookup(struct bwalk *w, const char *path)
{
	if (2 * (w->n + 1) > w->cap)
		rehash(w);
	uint32_t h = hash_path(path), j = slot_of(w, path, h);
	if (w->slots[j])
		return at(w, w->slots[j] - 1);
	if (w->n >= FILES_MAX)
		return NULL;
	if (w->n % BLOCK == 0)
		w->blocks[w->n / BLOCK] = xcalloc(BLOCK, sizeof(struct vfile));
	struct vfile *f = at(w, w->n);
	f->path = xstrdup(path);
	w->slots[j] = ++w->n;
	w->hashes[j] = h;
	return f;
}


void bagcheck_problem(struct bwalk *w, const char *member, const char *fmt,
	const char *arg)
{
	verify_problem(w->va, w->o, member, fmt, arg);
}

/* ---- the walk ---- */

/* The files vseal.c needs whole, each within its own bound. */
static void seal_begin(struct bwalk *w, const char *path)
{
	struct varch *va = w->va;
	w->seal = NULL;
	if (!strcmp(path, bagcheck_mnames[M_TAG])) {
		w->seal = &va->tagm;
		w->seal_max = TAG_MAX;
		va->tagm_whole = true;
	} else if (!strcmp(path, SITEKEY_SIG_FILE)) {
		w->seal = &va->sig;
		w->seal_max = SITEKEY_SIG_LEN;
		va->has_sig = true;
	} else if (!strcmp(path, TSA_TOKEN_FILE)) {
		w->seal = &va->tsr;
		w->seal_max = TSA_TOKEN_MAX;
		va->has_tsr = true;
	}
	if (w->seal)
		buf_reset(w->seal);
}

static int seal_data(struct bwalk *w, const void *p, size_t n)
{
	if (w->seal->len + n <= w->seal_max) {
		buf_append(w->seal, p, n);
		return 0;
	}
	if (w->seal == &w->va->tagm) { /* too long to be signed by us */
		w->va->tagm_whole = false;
		w->seal = NULL;
		return 0;
	}
	bagcheck_problem(w, w->cur->path, "larger than a %s may be",
		w->seal == &w->va->sig ? "signature" : "timestamp token");
	return 1;
}

static int w_begin(const struct bagread_entry *e, void *arg)
{
	struct bwalk *w = arg;
	if (strlen(e->path) > BAG_PATH_MAX) {
		bagcheck_problem(w, "(entry)",
			"a path longer than 1024 bytes%s", NULL);
		return -1;
	}
	struct vfile *f = bagcheck_lookup(w, e->path);
	if (!f) {
		bagcheck_problem(w, e->path,
			"more than 200000 files in the bag%s", NULL);
		return -1;
	}
	if (f->flags & F_SEEN) {
		bagcheck_problem(w, e->path, "in the archive twice%s", NULL);
		return -1;
	}
	f->flags |= F_SEEN;
	w->cur = f;
	w->keep = !strcmp(e->path, "bagit.txt") ||
		  !strcmp(e->path, "bag-info.txt");
	seal_begin(w, e->path);
	w->mk = M_NONE;
	for (int i = 0; i < 3; i++)
		if (!strcmp(e->path, bagcheck_mnames[i]))
			w->mk = (enum mkind)i;
	static const char *const deep[] = { "data/calls.jsonl",
		"data/versions.jsonl", "data/events.jsonl" };
	w->deep = -1;
	w->media = w->o->deep && !strcmp(e->path, "data/media.jsonl");
	for (int i = 0; w->o->deep && i < DEEP_N; i++)
		if (!strcmp(e->path, deep[i])) {
			w->deep = i;
			w->va->lines[i] = 0;
		}
	w->erasures = !strcmp(e->path, "data/erasures.jsonl");
	w->erasure_lines = 0;
	w->streamed = 0;
	buf_reset(&w->content);
	buf_reset(&w->line);
	return 0;
}

static int w_data(const void *p, size_t n, void *arg)
{
	struct bwalk *w = arg;
	bagcheck_lanes_feed(w, p, n);
	w->cur->size += (int64_t)n;
	if (w->keep) {
		if (w->content.len + n > TAG_MAX) {
			bagcheck_problem(w, w->cur->path, "larger than 1 MiB%s",
				NULL);
			return 1;
		}
		buf_append(&w->content, p, n);
	}
	if (w->seal && seal_data(w, p, n))
		return 1;
	if (w->mk != M_NONE) {
		w->streamed += n;
		if (w->streamed > MANIFEST_MAX) {
			bagcheck_problem(w, w->cur->path,
				"larger than 64 MiB%s", NULL);
			return 1;
		}
		if (!bagcheck_feed_lines(w, p, n, MANIFEST_LINE_MAX)) {
			bagcheck_problem(w, w->cur->path,
				"a line longer than 4096 "
				"bytes%s",
				NULL);
			return 1;
		}
	}
	if ((w->deep >= 0 || w->erasures || w->media) &&
		!bagcheck_feed_lines(w, p, n, JSON_LINE_MAX)) {
		bagcheck_problem(w, w->cur->path, "a line longer than 16 MiB%s",
			NULL);
		return 1;
	}
	return 0;
}

static int w_end(void *arg)
{
	struct bwalk *w = arg;
	struct vfile *f = w->cur;
	if (w->erasures && w->line.len) /* a last line without its LF */
		bagcheck_erasure_line(w, w->line.data, w->line.len);
	bagcheck_lanes_end(w, f);
	if (f->flags & (F_WANT256 | F_WANT512)) /* a manifest named it */
		bagcheck_settle(w);
	if (w->line.len && w->mk != M_NONE) {
		buf_putc(&w->line, '\0');
		bagcheck_manifest_line(w, w->line.data);
	} else if (w->line.len) {
		bagcheck_problem(w, f->path, "its last line has no newline%s",
			NULL);
	}
	buf_reset(&w->line);
	if (w->keep) {
		struct buf *to = !strcmp(f->path, "bagit.txt") ? &w->bagit
							       : &w->info;
		buf_reset(to);
		buf_append(to, w->content.data, w->content.len);
	}
	return 0;
}

/* ---- the bag as a whole ---- */

/* The value of a bag-info.txt label, owned; NULL when absent. */
static char *info_value(const struct buf *info, const char *label)
{
	size_t ll = strlen(label);
	const char *p = info->data, *end = p + info->len;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > ll && !strncmp(p, label, ll) && p[ll] == ':') {
			const char *v = p + ll + 1;
			while (v < p + n && (*v == ' ' || *v == '\t'))
				v++;
			return xstrndup(v, n - (size_t)(v - p));
		}
		p = nl ? nl + 1 : end;
	}
	return NULL;
}

static int64_t info_int(const struct buf *info, const char *label)
{
	char *v = info_value(info, label), *end = NULL;
	long long n = v && *v ? strtoll(v, &end, 10) : -1;
	if (v && (!end || *end || n < 0))
		n = -1;
	free(v);
	return n;
}

static struct vfile *find(struct bwalk *w, const char *path)
{
	if (!w->cap)
		return NULL;
	uint32_t j = slot_of(w, path, hash_path(path));
	return w->slots[j] ? at(w, w->slots[j] - 1) : NULL;
}

static bool seen(struct bwalk *w, const char *path)
{
	struct vfile *f = find(w, path);
	return f && (f->flags & F_SEEN);
}

/* Outside data/, a callvault bag holds its five tag files only, and
 * the signature and timestamp of its tag manifest. */
static void check_place(struct bwalk *w, struct vfile *f)
{
	static const char *const known[] = { "bagit.txt", "bag-info.txt",
		"manifest-sha256.txt", "manifest-sha512.txt",
		"tagmanifest-sha256.txt", SITEKEY_SIG_FILE, TSA_TOKEN_FILE };
	for (size_t i = 0; i < CV_ARRAY_LEN(known); i++)
		if (!strcmp(f->path, known[i]))
			return;
	bagcheck_problem(w, f->path, "%snot a file a callvault bag holds",
		NULL);
}

static void check_names(struct bwalk *w, uint64_t *bytes, uint64_t *files)
{
	static const unsigned bits[] = { F_IN256, F_IN512, F_INTAG };
	for (uint32_t i = 0; i < w->n; i++) {
		struct vfile *f = at(w, i);
		if (!(f->flags & F_SEEN)) {
			for (int m = 0; m < 3; m++)
				if (f->flags & bits[m])
					bagcheck_problem(w, bagcheck_mnames[m],
						"names %s, which "
						"is not in the bag",
						f->path);
			continue;
		}
		if (strncmp(f->path, "data/", 5) != 0) {
			check_place(w, f);
			continue;
		}
		*bytes += (uint64_t)f->size;
		(*files)++;
		if (!(f->flags & F_IN256) || !(f->flags & F_IN512))
			bagcheck_problem(w, f->path, "not in %s",
				!(f->flags & F_IN256) ? bagcheck_mnames[M_256]
						      : bagcheck_mnames[M_512]);
	}
}

static void check_bag(struct bwalk *w)
{
	static const char bagit[] =
		"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	if (!seen(w, "bagit.txt") || w->bagit.len != strlen(bagit) ||
		memcmp(w->bagit.data, bagit, w->bagit.len) != 0)
		bagcheck_problem(w, "bagit.txt", "%smissing or not BagIt 1.0",
			NULL);
	if (!seen(w, "bag-info.txt"))
		bagcheck_problem(w, "bag-info.txt", "%smissing", NULL);
	for (int m = 0; m < 3; m++)
		if (!seen(w, bagcheck_mnames[m]))
			bagcheck_problem(w, bagcheck_mnames[m], "%smissing",
				NULL);
	uint64_t bytes = 0, files = 0;
	check_names(w, &bytes, &files);
	char *oxum = info_value(&w->info, "Payload-Oxum");
	char want[64];
	snprintf(want, sizeof(want), "%llu.%llu", (unsigned long long)bytes,
		(unsigned long long)files);
	if (!oxum || strcmp(oxum, want) != 0)
		bagcheck_problem(w, "bag-info.txt", "Payload-Oxum is not %s",
			want);
	free(oxum);
	static const char *const tags[] = { "bagit.txt", "bag-info.txt",
		"manifest-sha256.txt", "manifest-sha512.txt" };
	for (size_t i = 0; i < CV_ARRAY_LEN(tags); i++) {
		struct vfile *f = find(w, tags[i]);
		if (f && (f->flags & F_SEEN) && !(f->flags & F_INTAG))
			bagcheck_problem(w, tags[i],
				"not in tagmanifest-sha256.txt%s", NULL);
	}
}

static void read_info(struct bwalk *w)
{
	struct varch *va = w->va;
	const struct buf *i = &w->info;
	va->loc = info_value(i, "Callvault-Location-Id");
	va->month = info_value(i, "Callvault-Month");
	va->prev_name = info_value(i, "Previous-Bag");
	va->prev_tag = info_value(i, "Previous-Bag-Tagmanifest-SHA256");
	va->chain_index = (int)info_int(i, "Callvault-Chain-Index");
	va->seq = (int)info_int(i, "Callvault-Supplement");
	va->info[DEEP_CALLS] = info_int(i, "Callvault-Calls");
	va->info[DEEP_VERSIONS] = info_int(i, "Callvault-Versions");
	va->info[DEEP_EVENTS] = info_int(i, "Callvault-Events");
}

/* --deep: each media file is what data/media.jsonl says it is (the
 * manifests alone would pass a bag rewritten with other audio). */
static void check_media(struct bwalk *w)
{
	for (uint32_t i = 0; i < w->n_mw; i++) {
		const struct mwant *m = &w->mw[i];
		if (!(m->f->flags & F_DONE))
			bagcheck_problem(w, "data/media.jsonl",
				"names %s, which is not "
				"in the bag",
				m->f->path);
		else if (memcmp(m->f->h256, m->h256, 32) != 0)
			bagcheck_problem(w, m->f->path,
				"%sdoes not hash to the SHA-256 "
				"data/media.jsonl gives",
				NULL);
		else if (m->f->size != m->size)
			bagcheck_problem(w, m->f->path,
				"%sis not the size "
				"data/media.jsonl gives",
				NULL);
	}
}

static void walk_free(struct bwalk *w)
{
	free(w->mw);
	for (uint32_t i = 0; i < w->n; i++)
		free(at(w, i)->path);
	for (size_t b = 0; b < CV_ARRAY_LEN(w->blocks); b++)
		free(w->blocks[b]);
	free(w->slots);
	free(w->hashes);
	fanout_destroy(w->fo); /* joins the lanes */
	for (int i = 0; i < 2; i++)
		cv_hash_destroy(w->lanes[i].h);
	free(w->batch);
	buf_finish(&w->content);
	buf_finish(&w->bagit);
	buf_finish(&w->info);
	buf_finish(&w->line);
	free(w);
}

void bagcheck_run(struct varch *va, const struct verify_opts *o)
{
	struct bwalk *w = xcalloc(1, sizeof(*w));
	w->o = o;
	w->va = va;
	w->mk = M_NONE;
	w->deep = -1;
	for (int i = 0; i < DEEP_N; i++)
		va->lines[i] = va->info[i] = -1;
	buf_init(&w->content);
	buf_init(&w->bagit);
	buf_init(&w->info);
	buf_init(&w->line);
	w->lanes[0].kind = "sha256";
	w->lanes[1].kind = "sha512";
	fanout_fn *const fns[] = { bagcheck_lane_hash, bagcheck_lane_hash };
	void *const args[] = { &w->lanes[0], &w->lanes[1] };
	w->batch = xcalloc(H_SLOTS, sizeof(*w->batch));
	w->fo = fanout_create(H_SLOTS, H_SLOT_SIZE, 2, fns, args);
	struct bagread_cb cb = { w_begin, w_data, w_end };
	char *err = NULL;
	enum cv_err rc = bagread_walk(va->path, &cb, w, &err);
	bagcheck_settle(w); /* the files read to their end */
	/* CV_EINVAL: a callback stopped the walk, its problem named */
	if (rc != CV_OK && rc != CV_EINVAL)
		bagcheck_problem(w, va->name, "%s",
			err ? err : cv_strerror(rc));
	if (rc == CV_OK) {
		va->walked = true;
		check_bag(w);
		check_media(w);
		read_info(w);
	}
	free(err);
	walk_free(w);
}
