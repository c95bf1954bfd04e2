/*
 * fanout.h — one producer, a few consumer threads ("lanes"), each of
 * which sees every chunk the producer pushes, in order. The archive uses
 * it to hash a recording's bytes (SHA-256 on one lane, SHA-512 on
 * another) while the calling thread hands the same bytes to zstd, and to
 * hash and write the compressed bytes while zstd makes more; verify
 * (bagcheck_manifest.c) hashes each bag file's bytes for the two
 * manifests on two lanes while its thread splits and checks the lines.
 * The work per byte is spread over threads instead of queued on one.
 *
 * Memory is a ring of nslots buffers of slot_size bytes, allocated once;
 * a slot is filled again only after every lane has seen it, so the
 * producer waits (never allocates) when the slowest lane falls behind.
 */
#ifndef CV_FANOUT_H
#define CV_FANOUT_H

#include <stdbool.h>
#include <stddef.h>

struct fanout;

/*
 * A lane's work on one chunk: n bytes at p (n may be 0) and the tag the
 * producer pushed with them. false = failed: the lane calls fn no more
 * (it still takes the chunks, so the producer never blocks on it) and
 * fanout_failed() turns true.
 */
typedef bool fanout_fn(void *arg, const void *p, size_t n, void *tag);

/* Start nlanes (1..8) threads, lane i calling fns[i](args[i], …).
 * Aborts when a thread cannot be started. */
struct fanout *fanout_create(size_t nslots, size_t slot_size, size_t nlanes,
	fanout_fn *const fns[], void *const args[]);
/* The next slot to fill (slot_size bytes), once every lane is done with
 * it. The same slot until it is pushed. */
void *fanout_slot(struct fanout *f);
/* Hand the slot's first n bytes and tag to every lane. */
void fanout_push(struct fanout *f, size_t n, void *tag);
/* Wait until every lane has seen every chunk pushed; !fanout_failed(). */
bool fanout_drain(struct fanout *f);
/* Has a lane failed? (It never clears.) */
bool fanout_failed(struct fanout *f);
/* Drain, stop and join the lanes, free. NULL ok. */
void fanout_destroy(struct fanout *f);

#endif
