/*
 * bagcheck_manifest.c — bagcheck's manifests, line by line, and the two
 * lanes that compute each file's digests for them off the reading thread
 * (bagcheck_int.h says how): a manifest line is compared with its file's
 * digests when they are in, else it waits in the file's slot.
 */
#include <string.h>

#include "bagcheck_int.h"

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
	const char *m = sha512 ? bagcheck_mnames[M_512]
			: tag  ? bagcheck_mnames[M_TAG]
			       : bagcheck_mnames[M_256];
	if (memcmp(sha512 ? f->h512 : f->h256, want, sha512 ? 64 : 32))
		bagcheck_problem(w, f->path, "checksum does not match %s", m);
}

static void lane_update(struct hlane *l, const char *p, size_t n)
{
	if (!l->h)
		l->h = cv_hash_create(l->kind);
	cv_hash_update(l->h, p, n);
}

/* A slot: the files ending in it (tag, a struct hbatch) get their
 * digests, the bytes after the last end begin the next file. */
bool bagcheck_lane_hash(void *arg, const void *p, size_t n, void *tag)
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
void bagcheck_settle(struct bwalk *w)
{
	if (w->fill)
		slot_push(w);
	(void)fanout_drain(w->fo); /* (the lanes never fail) */
	take_in(w, w->pushed);
}

/* Hand n bytes of the current file to the lanes. */
void bagcheck_lanes_feed(struct bwalk *w, const char *p, size_t n)
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
void bagcheck_lanes_end(struct bwalk *w, struct vfile *f)
{
	slot_open(w);
	struct hbatch *b = &w->batch[w->pushed % H_SLOTS];
	b->ends[b->n++] = (struct hend){ .f = f, .off = w->filled };
	f->flags |= F_HASHING;
	if (b->n == H_ENDS)
		slot_push(w);
}

void bagcheck_manifest_line(struct bwalk *w, char *ln)
{
	const char *name = bagcheck_mnames[w->mk];
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
		bagcheck_problem(w, name,
			"has a line that is not \"<%s> <path>\"",
			w->mk == M_512 ? "sha512" : "sha256");
		return;
	}
	struct vfile *f = bagcheck_lookup(w, path);
	unsigned bit = w->mk == M_256   ? F_IN256
		       : w->mk == M_512 ? F_IN512
					: F_INTAG;
	if (!f) {
		bagcheck_problem(w, name,
			"names more files than a bag may hold%s", NULL);
		return;
	}
	if (f->flags & bit) {
		bagcheck_problem(w, name, "names %s twice", path);
		return;
	}
	f->flags |= bit;
	if (f->flags & F_HASHING)
		bagcheck_settle(w);
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
