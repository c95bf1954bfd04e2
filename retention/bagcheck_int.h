/*
 * bagcheck_int.h — what bagcheck.c (the walk over the tar, the file
 * table and the bag as a whole), bagcheck_manifest.c (manifest lines and
 * the lanes that hash each file) and bagcheck_deep.c (the JSON Lines
 * files) share: the bounds, one walk's state and its helpers (not part
 * of verify_int.h).
 */
#ifndef CV_BAGCHECK_INT_H
#define CV_BAGCHECK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fanout.h"
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
/* The three manifests' names, by enum mkind. */
extern const char *const bagcheck_mnames[];

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

/* The file named path, added when new; NULL past FILES_MAX. */
struct vfile *bagcheck_lookup(struct bwalk *w, const char *path);
/* A problem of the archive (verify_problem). */
void bagcheck_problem(struct bwalk *w, const char *member, const char *fmt,
	const char *arg);

/* (bagcheck_manifest.c) A lane's slot (fanout_fn): the files ending in
 * it get their digests. */
bool bagcheck_lane_hash(void *arg, const void *p, size_t n, void *tag);
/* Every file read to its end has its digests (F_DONE). */
void bagcheck_settle(struct bwalk *w);
/* Hand n bytes of the current file to the lanes. */
void bagcheck_lanes_feed(struct bwalk *w, const char *p, size_t n);
/* The current file f has ended: the lanes finish its digests there. */
void bagcheck_lanes_end(struct bwalk *w, struct vfile *f);
/* A line of the manifest being read (w->mk), NUL-terminated. */
void bagcheck_manifest_line(struct bwalk *w, char *ln);

/* (bagcheck_deep.c) A line of data/erasures.jsonl (without its LF). */
void bagcheck_erasure_line(struct bwalk *w, const char *p, size_t n);
/* Feed bytes split into lines of at most max bytes (manifest lines, or
 * JSON lines); false past it. */
bool bagcheck_feed_lines(struct bwalk *w, const char *p, size_t n, size_t max);

#endif
