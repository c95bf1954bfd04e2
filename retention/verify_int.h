/*
 * verify_int.h — verify.c and bagcheck*.c: what one archive turned out to
 * be, and how a problem is reported (not part of retention.h).
 */
#ifndef CV_VERIFY_INT_H
#define CV_VERIFY_INT_H

#include <stdint.h>

#include "retention.h"
#include "store/store_deep.h"
#include "store/store_retention.h"

/* The payload files verify --deep reads line by line. */
enum { DEEP_CALLS, DEEP_VERSIONS, DEEP_EVENTS, DEEP_N };

struct varch {
	const char *path;
	const char *name; /* how the path is shown */
	int bad;          /* problems found */
	bool walked;      /* the bag could be read to its end */
	char outer[CV_SHA256_HEX];
	char tag_sha[CV_SHA256_HEX]; /* of its tagmanifest-sha256.txt */
	char *loc, *prev_name, *prev_tag, *month;
	int chain_index;       /* -1 unknown */
	int seq;               /* Callvault-Supplement, -1 unknown */
	int64_t info[DEEP_N];  /* Callvault-Calls/-Versions/-Events */
	int64_t lines[DEEP_N]; /* --deep: lines of each file, -1 absent */
	int64_t deep_same, deep_absent, deep_differ;
	struct store_deep *deep; /* --deep: what the store's record of
				     this archive holds, which each line is
				     held to; NULL = no record */
	int64_t deep_reported;   /* membership problems named so far */
	/* the tag manifest and what seals it (vseal.c); zeroed bufs */
	struct buf tagm, sig, tsr;
	bool tagm_whole, has_sig, has_tsr;
};

/* Count a problem of va and name it on o->out: "<name>: BAD member: …"
 * (fmt has one %s, for arg). */
void verify_problem(struct varch *va, const struct verify_opts *o,
	const char *member, const char *fmt, const char *arg);

/* Check the bag inside va->path (manifests, Payload-Oxum, tag manifest,
 * and with o->deep the JSON Lines files), within fixed bounds; fills in
 * what bag-info.txt says. */
void bagcheck_run(struct varch *va, const struct verify_opts *o);

/* The seal of a walked bag: its signature against o->pubkey (missing
 * or wrong: a problem when there is a key), its timestamp token against
 * the tag manifest (and o->tsa_ca). Frees va's copies. */
void vseal_check(struct varch *va, const struct verify_opts *o);

/* The record of the archive at path: written at that path, or at another
 * name of the same file (relative, symlinked); its id (rec to be
 * finished), 0 when none. */
int64_t vrecord_of(struct store *s, const char *path,
	struct store_archive *rec);

/*
 * The store's record of the archive at va->path (at that path, or at
 * another name of the same file), compared with what va turned out to
 * be (each difference a problem); its id, 0 when the store has none.
 */
int64_t vrecord_check(struct varch *va, const struct verify_opts *o);
/* Say whether recorded archive id can be rebuilt, or why not. */
void vrecord_hint(const struct verify_opts *o, const char *name, int64_t id);
/* For a good archive: say so when some of its calls were purged (it is
 * their only copy, and cannot be rebuilt). */
void vrecord_note_purged(const struct verify_opts *o, const char *name,
	int64_t id);
/* Name the recorded archives whose file is missing from the directories
 * of paths (none when names is set: restore's copy); how many. */
int vrecord_missing(char *const *paths, const char *const *names, size_t n,
	const struct verify_opts *o);

#endif
