/*
 * bagfmt.h — the lines and texts of a bag's payload, shared by the
 * monthly archives and the evidence and subject-access packages, so that
 * a version, an event or a transcript reads the same in all of them
 * (docs/archives.md, docs/evidence.md).
 */
#ifndef CV_BAGFMT_H
#define CV_BAGFMT_H

#include <stdbool.h>

#include "store/store.h"
#include "store/store_retention.h"
#include "util.h"

/* Append the NUL-terminated strings (NULL ends the list): the hot paths
 * avoid buf_printf's allocation per call. */
void bagfmt_cat(struct buf *b, ...);
/* One line of versions.jsonl (keys sorted, newline-terminated): the
 * version's canonical JSON as `record`, its original source, received
 * time, SHA-256 as received, and trust when recorded. */
void bagfmt_version(struct buf *l, const char *call_id,
	const struct store_version *v);
/* One line of events.jsonl: the body as text, base64, or withheld. */
void bagfmt_event(struct buf *l, const struct store_event *e);
/* An RFC 4180 field and its separator (CRLF after the last). */
void bagfmt_csv_field(struct buf *l, const char *s, bool last);
/* The human-readable transcript of a call, with its fields. */
void bagfmt_transcript(struct buf *l, const struct store_arch_call *c);

#endif
