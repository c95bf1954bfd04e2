/*
 * progress.h — a progress table for sync and reconcile, redrawn in place
 * on a terminal (stderr). The library reports rows through its callback;
 * only the commands draw.
 */
#ifndef CV_CLI_PROGRESS_H
#define CV_CLI_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "../sync.h"

struct cli_progress {
	int drawn_lines;
};

/* A sync_opts.progress callback; ctx is a struct cli_progress. */
void cli_sync_progress(void *ctx, const struct sync_progress *rows, size_t n,
	bool final);

#endif
