/* progress.c — see progress.h */
#include "progress.h"

#include <stdio.h>

void cli_sync_progress(void *ctx, const struct sync_progress *rows, size_t n,
	bool final)
{
	struct cli_progress *p = ctx;
	(void) final;
	if (p->drawn_lines)
		fprintf(stderr, "\033[%dA", p->drawn_lines);
	for (size_t i = 0; i < n; i++) {
		const struct sync_progress *r = &rows[i];
		char eta[32] = "-";
		if (r->eta_s >= 0)
			snprintf(eta, sizeof(eta), "%.0fs", r->eta_s);
		fprintf(stderr,
			"\033[K%-24.24s %-6s pages %5lld  calls %7lld"
			"  %6.0f calls/s  ETA %s\n",
			r->location, r->state, (long long)r->pages,
			(long long)r->calls, r->calls_per_s, eta);
	}
	p->drawn_lines = (int)n;
	fflush(stderr);
}
