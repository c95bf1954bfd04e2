/*
 * emit.h — hlsim's webhook emitter: POSTs VoiceAiCallEnd (and some
 * InboundMessage CALL) events to a URL, signed with Ed25519 in
 * x-ghl-signature (base64 of the 64-byte signature over the exact body),
 * with HighLevel's retry policy: retry only on 429, at most N times; 5xx
 * and transport errors are final.
 *
 * `hlsim emit` sends the events of the generated calls once (duplicates and
 * reordering on demand); the server uses an emitter with a sender thread to
 * deliver webhooks for calls that arrive while it runs.
 */
#ifndef HLSIM_EMIT_H
#define HLSIM_EMIT_H

#include <stdbool.h>

#include "opts.h"

struct emitter;

/* Counters, as printed in the summary line and /__sim/stats. */
struct emit_tally {
	long sent, ok, retried, failed, bad_sig, dups, dropped;
};

/*
 * Create an emitter for o->url with o->key (or a new key), writing
 * o->key_out / o->key_out_private. threaded: deliver from a sender thread
 * (emitter_enqueue) instead of the caller's (emitter_send). NULL on error
 * (logged).
 */
struct emitter *emitter_create(const struct hlsim_opts *o, bool threaded);
/* Deliver one body now (sign, POST, retry on 429). bad_sig corrupts it. */
void emitter_send(struct emitter *e, const char *body, bool bad_sig);
/* Queue a body (malloc'd; the emitter frees it) for the sender thread. */
void emitter_enqueue(struct emitter *e, char *body);
/* Count a webhook deliberately not sent (--webhook-drop) or a duplicate. */
void emitter_note(struct emitter *e, bool dropped, bool dup);
/* A copy of the counters (thread-safe). */
void emitter_tally(struct emitter *e, struct emit_tally *t);
/* Stop the sender thread (undelivered bodies are discarded) and free. */
void emitter_destroy(struct emitter *e);

/* Run emit mode. Returns the exit code (0 all delivered, 1 otherwise). */
int emit_run(const struct hlsim_opts *o);

#endif
