/*
 * archive_int.h — what archive.c (the archive's target, sink and
 * record: one bag's steps in order), archive_payload.c (the payload
 * files) and archive_tags.c (the manifests and tag files) share: one bag
 * being written (not part of retention.h).
 */
#ifndef CV_ARCHIVE_INT_H
#define CV_ARCHIVE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "retention.h"
#include "seal.h"
#include "spool.h"

enum {
	SP_CALLS,
	SP_VERSIONS,
	SP_EVENTS,
	SP_OUTCOMES,
	SP_AUDIT,
	SP_ERASURES,
	SP_M256,
	SP_M512,
	SP_N
};

struct bag {
	struct store *s;
	const struct archive_opts *o;
	const char *location, *month;
	char *root; /* top directory inside the tar */
	struct tarzst *t;
	struct spool sp[SP_N];
	struct buf line, path;
	int64_t calls, versions, events, total, first, last;
	uint64_t oxum_bytes, oxum_files;
	char **ids; /* the calls, for archive_calls */
	int64_t *vids;
	size_t n_ids, cap_ids;
	enum cv_err rc;
	char **errmsg;
	const char *cur_id;
	int64_t archive_id;   /* --rebuild: just this archive's calls */
	struct buf info;      /* bag-info.txt: given (rebuild) or made */
	struct amedia *media; /* recordings, timed transcriptions */
	struct seal seal;     /* signature, timestamp of the tag manifest */
	/* what the calls were selected by, for making a file again */
	int64_t from, to, now;
	bool only_new;
	bool again; /* a file is being made again: count nothing */
};

struct chain {
	int index;
	char *prev_tag; /* NULL for the first bag of a location */
	char *prev_name;
};

/* (archive_payload.c) The payload of bag b, calls created in [from,
 * to) (only_new: those no archive holds yet), into its tar: data/ and
 * its files, each with its manifest lines; erasures made by now. */
enum cv_err archive_payload_write(struct bag *b, int64_t from, int64_t to,
	bool only_new, int64_t now) CV_MUST_CHECK;

/* (archive_payload.c) Make both manifests' lines again, in the order the
 * payload listed them (spool_regen_fn; arg is the bag). */
enum cv_err archive_manifest_again(void *arg, char **errmsg) CV_MUST_CHECK;

/* (archive_tags.c) The manifests, bagit.txt, bag-info.txt and the tag
 * manifest (its SHA-256 into tag_sha), and the seal of the tag manifest. */
enum cv_err archive_tags_write(struct bag *b, int seq, const struct chain *ch,
	int64_t now, char tag_sha[CV_SHA256_HEX]) CV_MUST_CHECK;

#endif
