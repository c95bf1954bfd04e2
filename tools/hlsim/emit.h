/*
 * emit.h — hlsim's webhook emitter: POSTs VoiceAiCallEnd (and some
 * InboundMessage CALL) events for the generated calls to a URL, signed with
 * Ed25519 in x-ghl-signature, with duplicates, reordering and HighLevel's
 * retry policy (retry only on 429, at most N times; 5xx is final).
 */
#ifndef HLSIM_EMIT_H
#define HLSIM_EMIT_H

#include "opts.h"

/* Run emit mode. Returns the process exit code (0 all delivered, 1 some
 * failed or setup error). */
int emit_run(const struct hlsim_opts *o);

#endif
