/*
 * bagcheck.c — the inside of one archive, checked in one streaming pass
 * within fixed bounds whatever the bag holds: tag files, manifest lines,
 * manifests, JSON lines and the number of files are capped, each excess
 * a problem of that archive. Manifests are not kept: each line is
 * checked against the file it names when that file was read already,
 * else its digest waits in the file's slot until the file comes.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bagjson.h"
#include "bagread.h"
#include "fanout.h"
#include "sitekey.h"
#include "tsa.h"
#include "store/store_deep.h"
#include "store/store_retention.h"
#include "verify_int.h"

/* bagit.txt, bag-info.txt (which has a line per legal hold) */
#define TAG_MAX (1024u * 1024)
#define MANIFEST_MAX (64u * 1024 * 1024) /* each manifest */
#define MANIFEST_LINE_MAX 4096u
#define FILES_MAX RETENTION_BAG_FILES_MAX /* files and names in a bag */
#define BAG_PATH_MAX 1024u
#define JSON_LINE_MAX CALLLOG_MAX_PAYLOAD /* one JSON line (--deep) */
#define BLOCK 4096u

enum {
	F_SEEN = 1 << 0,    /* in the tar */
	F_DONE = 1 << 1,    /* its bytes are hashed */
	F_IN256 = 1 << 2,   /* named by manifest-sha256.txt */
	F_IN512 = 1 << 3,   /* named by manifest-sha512.txt */
	F_INTAG = 1 << 4,   /* named by tagmanifest-sha256.txt */
	F_WANT256 = 1 << 5, /* h256 holds a manifest's digest, not yet
				compared */
	F_WANT512 = 1 << 6,
	F_HASHING = 1 << 7, /* read to its end, its digests on the lanes */
};

struct vfile {
	char *path;
	int64_t size;
	unsigned char h256[32], h512[64];
	unsigned flags;
};

/* --deep: what data/media.jsonl says of a media file (issue 20), held
 * until the walk is over: the file comes after it in the tar. */
struct mwant {
	struct vfile *f; /* (vfile blocks never move) */
	unsigned char h256[32];
	int64_t size;
};

/*
 * Each file's digests for the manifests (SHA-256 and SHA-512 of every
 * byte, ~40 % of the work of --deep) are computed off this thread: its
 * bytes are copied into the slots of a fanout (fanout.h), SHA-256 on one
 * lane, SHA-512 on the other, while this thread splits the same bytes
 * into lines and checks them. A slot holds the bytes of as many files as
 * fit (a month has a transcript file per call); its batch says where in
 * it each file ends, and has room for the lanes to write that file's
 * digests. This thread takes them in (settle_one) when the slot comes
 * round again, or at once when it needs them: when a manifest line names
 * a file whose digests are under way, when a file ends that a manifest
 * named already, and after the walk. So every problem is reported where
 * it was when the digests were computed on this thread, and the memory
 * is the slots and their batches whatever the bag holds.
 */
enum { H_SLOTS = 8, H_SLOT_SIZE = 128 << 10, H_ENDS = 256 };

struct hend {
	struct vfile *f;
	size_t off; /* where in the slot its bytes end */
	unsigned char h256[32], h512[64];
};

struct hbatch {
	uint32_t n;
	struct hend ends[H_ENDS];
};

struct hlane {
	const char *kind;
	struct cv_hash *h; /* the file under way, or NULL */
};

enum mkind { M_NONE = -1, M_256, M_512, M_TAG };
static const char *const mnames[] = { "manifest-sha256.txt",
	"manifest-sha512.txt", "tagmanifest-sha256.txt" };

struct bwalk {
	struct vfile *blocks[FILES_MAX / BLOCK + 1];
	uint32_t n;
	uint32_t *slots;  /* hash table of indices + 1 */
	uint32_t *hashes; /* hash_path() of each slot's path */
	uint32_t cap;
	struct vfile *cur;
	struct fanout *fo;
	struct hlane lanes[2];
	struct hbatch *batch; /* [H_SLOTS], slot k's: batch[k % H_SLOTS] */
	char *fill;           /* the slot being filled, or NULL */
	size_t filled;        /* bytes in it */
	uint64_t pushed;      /* slots handed to the lanes */
	uint64_t settled;     /* of which the batches are taken in */
	enum mkind mk;        /* the current file is this manifest */
	int deep;             /* DEEP_* being read, or -1 */
	bool erasures;        /* data/erasures.jsonl: every line parsed */
	int64_t erasure_lines;
	bool media;     /* --deep: data/media.jsonl being read */
	bool media_bad; /* a bad line of it was reported */
	struct mwant *mw;
	uint32_t n_mw, cap_mw;
	bool keep;        /* bagit.txt / bag-info.txt: kept */
	struct buf *seal; /* the tag manifest, .sig, .tsr: kept */
	size_t seal_max;
	struct buf content, bagit, info, line;
	uint64_t streamed; /* bytes of the current manifest */
	const struct verify_opts *o;
	struct varch *va;
};

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
static struct vfile *lookup(struct bwalk *w, const char *path)
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


static void problem(struct bwalk *w, const char *member, const char *fmt,
	const char *arg)
{
	verify_problem(w->va, w->o, member, fmt, arg);
}

/* ---- manifests, line by line ---- */

/* RFC 8493 2.1.3: %0A, %0D and %25 in manifest file paths. */
static void unescape_path(char *p)
{
	char *o = p;
	for (; *p; p++) {
		if (p[0] == '%' &&
			(!strncmp(p, "%0A", 3) || !strncmp(p, "%0D", 3) ||
				!strncmp(p, "%25", 3))) {
			*o++ = p[2] == 'A' ? '\n' : p[2] == 'D' ? '\r' : '%';
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

static void compare(struct bwalk *w, struct vfile *f, bool sha512,
	const unsigned char *want)
{
	bool tag = !strchr(f->path, '/');
	const char *m = sha512 ? mnames[M_512]
			: tag  ? mnames[M_TAG]
			       : mnames[M_256];
	if (memcmp(sha512 ? f->h512 : f->h256, want, sha512 ? 64 : 32))
		problem(w, f->path, "checksum does not match %s", m);
}

static void lane_update(struct hlane *l, const char *p, size_t n)
{
	if (!l->h)
		l->h = cv_hash_create(l->kind);
	cv_hash_update(l->h, p, n);
}

/* A slot: the files ending in it (tag, a struct hbatch) get their
 * digests, the bytes after the last end begin the next file. */
static bool lane_hash(void *arg, const void *p, size_t n, void *tag)
{
	struct hlane *l = arg;
	struct hbatch *b = tag;
	bool is512 = !strcmp(l->kind, "sha512");
	size_t at = 0;
	for (uint32_t i = 0; i < b->n; i++) {
		struct hend *e = &b->ends[i];
		lane_update(l, (const char *)p + at, e->off - at);
		cv_hash_final(l->h, is512 ? e->h512 : e->h256);
		l->h = NULL;
		at = e->off;
	}
	if (at < n)
		lane_update(l, (const char *)p + at, n - at);
	return true; /* (hashing cannot fail: it aborts) */
}

/* A file's digests are in: compare them with what the manifests said of
 * it so far; later manifest lines compare at once (F_DONE). */
static void settle_one(struct bwalk *w, const struct hend *e)
{
	struct vfile *f = e->f;
	unsigned char want256[32], want512[64];
	memcpy(want256, f->h256, 32);
	memcpy(want512, f->h512, 64);
	memcpy(f->h256, e->h256, 32);
	memcpy(f->h512, e->h512, 64);
	if (!strcmp(f->path, "tagmanifest-sha256.txt"))
		cv_hex(f->h256, 32, w->va->tag_sha);
	f->flags = (f->flags & ~(unsigned)F_HASHING) | F_DONE;
	if (f->flags & F_WANT256)
		compare(w, f, false, want256);
	if (f->flags & F_WANT512)
		compare(w, f, true, want512);
	f->flags &= ~(unsigned)(F_WANT256 | F_WANT512);
}

/* Take in the digests of the files of the slots pushed before upto (the
 * lanes are done with them), in order. */
static void take_in(struct bwalk *w, uint64_t upto)
{
	for (; w->settled < upto; w->settled++) {
		struct hbatch *b = &w->batch[w->settled % H_SLOTS];
		for (uint32_t i = 0; i < b->n; i++)
			settle_one(w, &b->ends[i]);
		b->n = 0;
	}
}

/* The slot under way, or the next one once the lanes are done with it
 * (what they finished in it taken in). */
static void slot_open(struct bwalk *w)
{
	if (w->fill)
		return;
	w->fill = fanout_slot(w->fo);
	w->filled = 0;
	if (w->pushed >= H_SLOTS)
		take_in(w, w->pushed - H_SLOTS + 1);
}

static void slot_push(struct bwalk *w)
{
	fanout_push(w->fo, w->filled, &w->batch[w->pushed % H_SLOTS]);
	w->pushed++;
	w->fill = NULL;
}

/* Every file read to its end has its digests (F_DONE). */
static void settle(struct bwalk *w)
{
	if (w->fill)
		slot_push(w);
	(void)fanout_drain(w->fo); /* (the lanes never fail) */
	take_in(w, w->pushed);
}

/* Hand n bytes of the current file to the lanes. */
static void lanes_feed(struct bwalk *w, const char *p, size_t n)
{
	for (size_t k; n > 0; p += k, n -= k) {
		slot_open(w);
		k = n < H_SLOT_SIZE - w->filled ? n : H_SLOT_SIZE - w->filled;
		memcpy(w->fill + w->filled, p, k);
		if ((w->filled += k) == H_SLOT_SIZE)
			slot_push(w);
	}
}

/* The current file has ended: where, for the lanes to finish its
 * digests there. */
static void lanes_end(struct bwalk *w, struct vfile *f)
{
	slot_open(w);
	struct hbatch *b = &w->batch[w->pushed % H_SLOTS];
	b->ends[b->n++] = (struct hend){ .f = f, .off = w->filled };
	f->flags |= F_HASHING;
	if (b->n == H_ENDS)
		slot_push(w);
}

static void manifest_line(struct bwalk *w, char *ln)
{
	const char *name = mnames[w->mk];
	size_t hexlen = w->mk == M_512 ? 128 : 64;
	ln[strcspn(ln, "\r")] = '\0';
	if (!*ln)
		return;
	size_t hl = strcspn(ln, " \t");
	char *path = ln + hl + strspn(ln + hl, " \t");
	unescape_path(path);
	bool data = !strncmp(path, "data/", 5);
	unsigned char want[64];
	if (hl != hexlen || !cv_unhex(ln, hl / 2, want, true) || !*path ||
		(w->mk == M_TAG ? data || strchr(path, '/') : !data)) {
		problem(w, name, "has a line that is not \"<%s> <path>\"",
			w->mk == M_512 ? "sha512" : "sha256");
		return;
	}
	struct vfile *f = lookup(w, path);
	unsigned bit = w->mk == M_256   ? F_IN256
		       : w->mk == M_512 ? F_IN512
					: F_INTAG;
	if (!f) {
		problem(w, name, "names more files than a bag may hold%s",
			NULL);
		return;
	}
	if (f->flags & bit) {
		problem(w, name, "names %s twice", path);
		return;
	}
	f->flags |= bit;
	if (f->flags & F_HASHING)
		settle(w);
	if (f->flags & F_DONE) {
		compare(w, f, w->mk == M_512, want);
	} else if (w->mk == M_512) {
		memcpy(f->h512, want, 64);
		f->flags |= F_WANT512;
	} else {
		memcpy(f->h256, want, 32);
		f->flags |= F_WANT256;
	}
}

/* ---- JSON Lines (--deep) ---- */

/* Membership problems: the first few named, the rest counted. */
#define DEEP_REPORT_MAX 20
static void deep_problem(struct bwalk *w, const char *fmt, const char *id)
{
	if (++w->va->deep_reported > DEEP_REPORT_MAX) {
		w->va->bad++;
		return;
	}
	problem(w, w->cur->path, fmt, id);
}

/* A calls.jsonl line, held to the calls the store recorded here. */
static void deep_member(struct bwalk *w, const char *id, const char *sha)
{
	enum store_deep_state st = DEEP_MATCH;
	if (store_deep_call(w->o->store, w->va->deep, id, sha, &st, NULL) !=
		CV_OK)
		deep_problem(w, "call %s: the store cannot be asked", id);
	else if (st == DEEP_NOT_RECORDED)
		deep_problem(w,
			"call %s is not one the store recorded in "
			"this archive",
			id);
	else if (st == DEEP_OTHER)
		deep_problem(w,
			"call %s is not the version the store "
			"recorded in this archive",
			id);
	else if (st == DEEP_DUPLICATE)
		deep_problem(w, "call %s is in it twice", id);
}

/* The call id and canonical hash at the start of a versions.jsonl line
 * as callvault writes it ({"callId":"…","canonicalSha256":"…", keys
 * sorted); false for any other shape (the full parse decides then). */
static bool version_head(const char *p, size_t n, char *id, size_t id_max,
	unsigned char sha[32])
{
	static const char a[] = "{\"callId\":\"",
			  b[] = "\",\"canonicalSha256\":\"";
	if (n < sizeof(a) || memcmp(p, a, sizeof(a) - 1))
		return false;
	const char *s = p + sizeof(a) - 1, *end = p + n;
	const char *q = memchr(s, '"', (size_t)(end - s));
	if (!q || (size_t)(q - s) >= id_max ||
		memchr(s, '\\', (size_t)(q - s)) ||
		(size_t)(end - q) < sizeof(b) - 1 + 65 ||
		memcmp(q, b, sizeof(b) - 1) || q[sizeof(b) - 1 + 64] != '"' ||
		!cv_unhex(q + sizeof(b) - 1, 32, sha, true))
		return false;
	memcpy(id, s, (size_t)(q - s));
	id[q - s] = '\0';
	return true;
}

/* A versions.jsonl line: a version of a call recorded here, no newer
 * than the one recorded. */
static void deep_version(struct bwalk *w, const char *p, size_t n)
{
	char id[256];
	unsigned char sha[32];
	if (version_head(p, n, id, sizeof(id), sha) &&
		store_deep_version_fast(w->va->deep, id, sha))
		return;
	struct bag_version v;
	if (bagjson_parse_version(p, n, &v, NULL) != CV_OK) {
		deep_problem(w, "a line that is not a version record%s", "");
		return;
	}
	enum store_deep_state st = DEEP_MATCH;
	if (store_deep_version(w->o->store, w->va->deep, v.call_id,
		    v.canonical_sha256, &st, NULL) != CV_OK)
		deep_problem(w, "call %s: the store cannot be asked",
			v.call_id);
	else if (st == DEEP_NOT_RECORDED)
		deep_problem(w,
			"a version of call %s, which the store did not "
			"record in this archive",
			v.call_id);
	else if (st == DEEP_OTHER)
		deep_problem(w,
			"a version of call %s the store does not hold "
			"(or newer than the one archived)",
			v.call_id);
	bag_version_finish(&v);
}

/* A calls.jsonl line that is exactly a call recorded here, at its
 * recorded version (so a version the store holds): no parse needed. */
static bool deep_call_fast(struct bwalk *w, const unsigned char *sha)
{
	enum store_deep_state st;
	if (!store_deep_call_fast(w->va->deep, sha, &st))
		return false;
	w->va->deep_same++;
	if (st == DEEP_DUPLICATE)
		deep_problem(w, "a call is in it twice%s", "");
	return true;
}

static void deep_line(struct bwalk *w, const char *p, size_t n)
{
	const char *member = w->cur->path;
	w->va->lines[w->deep]++;
	if (memchr(p, '\0', n) || !cv_utf8_valid(p, n) || n == 0) {
		char num[32];
		snprintf(num, sizeof(num), "%lld",
			(long long)w->va->lines[w->deep]);
		problem(w, member,
			"line %s is empty or not UTF-8 text "
			"without NUL bytes",
			num);
		return;
	}
	if (w->deep == DEEP_VERSIONS && w->va->deep)
		deep_version(w, p, n);
	if (w->deep != DEEP_CALLS || !w->o->store)
		return;
	unsigned char bin[32];
	cv_sha256(p, n, bin);
	if (w->va->deep && deep_call_fast(w, bin))
		return;
	char sha[CV_SHA256_HEX];
	cv_sha256_hex(p, n, sha);
	char *id = bagjson_call_id(p, n);
	int state = 0;
	if (!id || store_ret_version_state(w->o->store, id, sha, &state,
			   NULL) != CV_OK) {
		problem(w, member, "a line the store cannot be asked about%s",
			NULL);
	} else if (state == 0) {
		w->va->deep_absent++;
	} else if (state == 1) {
		w->va->deep_same++;
	} else {
		w->va->deep_differ++;
		problem(w, member,
			"call %s differs from every version in the "
			"store",
			id);
	}
	if (id && w->va->deep)
		deep_member(w, id, sha);
	free(id);
}

/* A line of data/erasures.jsonl must parse (restore honours them): always
 * checked, not only with --deep. */
static void erasure_line(struct bwalk *w, const char *p, size_t n)
{
	struct bag_erasure e;
	char num[32];
	snprintf(num, sizeof(num), "%lld", (long long)++w->erasure_lines);
	if (memchr(p, '\0', n) ||
		bagjson_parse_erasure(p, n, &e, NULL) != CV_OK) {
		problem(w, w->cur->path,
			"line %s is not an erasure "
			"(callId, erasedAt, reason \"erasure: …\")",
			num);
		return;
	}
	bag_erasure_finish(&e);
}

/* --deep: a line of data/media.jsonl, {"file", "sha256", "size", …}. */
static void media_line(struct bwalk *w, const char *p, size_t n)
{
	json_t *o = json_loadb(p, n, 0, NULL);
	const char *file = json_string_value(json_object_get(o, "file"));
	const char *sha = json_string_value(json_object_get(o, "sha256"));
	json_t *size = json_object_get(o, "size");
	struct vfile *f = NULL;
	unsigned char h256[32];
	if (file && sha && strlen(sha) == 64 && cv_unhex(sha, 32, h256, true) &&
		json_is_integer(size) && strlen(file) < BAG_PATH_MAX - 5) {
		char path[BAG_PATH_MAX + 1];
		snprintf(path, sizeof(path), "data/%s", file);
		f = lookup(w, path);
	}
	if (!f && !w->media_bad) {
		problem(w, "data/media.jsonl",
			"%sa line without a file, its "
			"sha256 and size, or past the bag's bounds",
			NULL);
		w->media_bad = true;
	} else if (f) {
		if (w->n_mw == w->cap_mw) {
			w->cap_mw = w->cap_mw ? w->cap_mw * 2 : 256;
			w->mw = xrealloc(w->mw, w->cap_mw * sizeof(*w->mw));
		}
		struct mwant *m = &w->mw[w->n_mw++];
		m->f = f;
		memcpy(m->h256, h256, 32);
		m->size = (int64_t)json_integer_value(size);
	}
	json_decref(o);
}

/* A JSON line (without its LF). */
static void json_line(struct bwalk *w, const char *p, size_t n)
{
	if (w->erasures)
		erasure_line(w, p, n);
	else if (w->media)
		media_line(w, p, n);
	else
		deep_line(w, p, n);
}

/* Feed bytes split into lines of at most max bytes; false past it. A
 * JSON line wholly in p is read where it is, not copied. */
static bool feed_lines(struct bwalk *w, const char *p, size_t n, size_t max)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		if (w->line.len + k > max)
			return false;
		if (nl && !w->line.len && w->mk == M_NONE) {
			json_line(w, p, k);
		} else {
			buf_append(&w->line, p, k);
			if (!nl)
				return true;
			buf_putc(&w->line, '\0');
			if (w->mk != M_NONE)
				manifest_line(w, w->line.data);
			else
				json_line(w, w->line.data, w->line.len - 1);
			buf_reset(&w->line);
		}
		p += k + 1;
		n -= k + 1;
	}
	return true;
}

/* ---- the walk ---- */

/* The files vseal.c needs whole, each within its own bound. */
static void seal_begin(struct bwalk *w, const char *path)
{
	struct varch *va = w->va;
	w->seal = NULL;
	if (!strcmp(path, mnames[M_TAG])) {
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
	problem(w, w->cur->path, "larger than a %s may be",
		w->seal == &w->va->sig ? "signature" : "timestamp token");
	return 1;
}

static int w_begin(const struct bagread_entry *e, void *arg)
{
	struct bwalk *w = arg;
	if (strlen(e->path) > BAG_PATH_MAX) {
		problem(w, "(entry)", "a path longer than 1024 bytes%s", NULL);
		return -1;
	}
	struct vfile *f = lookup(w, e->path);
	if (!f) {
		problem(w, e->path, "more than 200000 files in the bag%s",
			NULL);
		return -1;
	}
	if (f->flags & F_SEEN) {
		problem(w, e->path, "in the archive twice%s", NULL);
		return -1;
	}
	f->flags |= F_SEEN;
	w->cur = f;
	w->keep = !strcmp(e->path, "bagit.txt") ||
		  !strcmp(e->path, "bag-info.txt");
	seal_begin(w, e->path);
	w->mk = M_NONE;
	for (int i = 0; i < 3; i++)
		if (!strcmp(e->path, mnames[i]))
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
	lanes_feed(w, p, n);
	w->cur->size += (int64_t)n;
	if (w->keep) {
		if (w->content.len + n > TAG_MAX) {
			problem(w, w->cur->path, "larger than 1 MiB%s", NULL);
			return 1;
		}
		buf_append(&w->content, p, n);
	}
	if (w->seal && seal_data(w, p, n))
		return 1;
	if (w->mk != M_NONE) {
		w->streamed += n;
		if (w->streamed > MANIFEST_MAX) {
			problem(w, w->cur->path, "larger than 64 MiB%s", NULL);
			return 1;
		}
		if (!feed_lines(w, p, n, MANIFEST_LINE_MAX)) {
			problem(w, w->cur->path,
				"a line longer than 4096 "
				"bytes%s",
				NULL);
			return 1;
		}
	}
	if ((w->deep >= 0 || w->erasures || w->media) &&
		!feed_lines(w, p, n, JSON_LINE_MAX)) {
		problem(w, w->cur->path, "a line longer than 16 MiB%s", NULL);
		return 1;
	}
	return 0;
}

static int w_end(void *arg)
{
	struct bwalk *w = arg;
	struct vfile *f = w->cur;
	if (w->erasures && w->line.len) /* a last line without its LF */
		erasure_line(w, w->line.data, w->line.len);
	lanes_end(w, f);
	if (f->flags & (F_WANT256 | F_WANT512)) /* a manifest named it */
		settle(w);
	if (w->line.len && w->mk != M_NONE) {
		buf_putc(&w->line, '\0');
		manifest_line(w, w->line.data);
	} else if (w->line.len) {
		problem(w, f->path, "its last line has no newline%s", NULL);
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
	problem(w, f->path, "%snot a file a callvault bag holds", NULL);
}

static void check_names(struct bwalk *w, uint64_t *bytes, uint64_t *files)
{
	static const unsigned bits[] = { F_IN256, F_IN512, F_INTAG };
	for (uint32_t i = 0; i < w->n; i++) {
		struct vfile *f = at(w, i);
		if (!(f->flags & F_SEEN)) {
			for (int m = 0; m < 3; m++)
				if (f->flags & bits[m])
					problem(w, mnames[m],
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
			problem(w, f->path, "not in %s",
				!(f->flags & F_IN256) ? mnames[M_256]
						      : mnames[M_512]);
	}
}

static void check_bag(struct bwalk *w)
{
	static const char bagit[] =
		"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	if (!seen(w, "bagit.txt") || w->bagit.len != strlen(bagit) ||
		memcmp(w->bagit.data, bagit, w->bagit.len) != 0)
		problem(w, "bagit.txt", "%smissing or not BagIt 1.0", NULL);
	if (!seen(w, "bag-info.txt"))
		problem(w, "bag-info.txt", "%smissing", NULL);
	for (int m = 0; m < 3; m++)
		if (!seen(w, mnames[m]))
			problem(w, mnames[m], "%smissing", NULL);
	uint64_t bytes = 0, files = 0;
	check_names(w, &bytes, &files);
	char *oxum = info_value(&w->info, "Payload-Oxum");
	char want[64];
	snprintf(want, sizeof(want), "%llu.%llu", (unsigned long long)bytes,
		(unsigned long long)files);
	if (!oxum || strcmp(oxum, want) != 0)
		problem(w, "bag-info.txt", "Payload-Oxum is not %s", want);
	free(oxum);
	static const char *const tags[] = { "bagit.txt", "bag-info.txt",
		"manifest-sha256.txt", "manifest-sha512.txt" };
	for (size_t i = 0; i < CV_ARRAY_LEN(tags); i++) {
		struct vfile *f = find(w, tags[i]);
		if (f && (f->flags & F_SEEN) && !(f->flags & F_INTAG))
			problem(w, tags[i], "not in tagmanifest-sha256.txt%s",
				NULL);
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
			problem(w, "data/media.jsonl",
				"names %s, which is not "
				"in the bag",
				m->f->path);
		else if (memcmp(m->f->h256, m->h256, 32) != 0)
			problem(w, m->f->path,
				"%sdoes not hash to the SHA-256 "
				"data/media.jsonl gives",
				NULL);
		else if (m->f->size != m->size)
			problem(w, m->f->path,
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
	fanout_fn *const fns[] = { lane_hash, lane_hash };
	void *const args[] = { &w->lanes[0], &w->lanes[1] };
	w->batch = xcalloc(H_SLOTS, sizeof(*w->batch));
	w->fo = fanout_create(H_SLOTS, H_SLOT_SIZE, 2, fns, args);
	struct bagread_cb cb = { w_begin, w_data, w_end };
	char *err = NULL;
	enum cv_err rc = bagread_walk(va->path, &cb, w, &err);
	settle(w); /* the files read to their end */
	/* CV_EINVAL: a callback stopped the walk, its problem named */
	if (rc != CV_OK && rc != CV_EINVAL)
		problem(w, va->name, "%s", err ? err : cv_strerror(rc));
	if (rc == CV_OK) {
		va->walked = true;
		check_bag(w);
		check_media(w);
		read_info(w);
	}
	free(err);
	walk_free(w);
}
