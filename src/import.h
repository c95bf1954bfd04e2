/*
 * import.h — `callvault import`: JSONL files (one call log, one
 * VoiceAiCallEnd body, or one list response per line) into the store.
 * Streaming with bounded memory; transactions are batched.
 */
#ifndef CV_IMPORT_H
#define CV_IMPORT_H

#include <stdio.h>

#include "ingest.h"

struct import_opts {
	enum store_source source;  /* SRC_IMPORT normally */
	int batch_records;         /* records per transaction (default 20000) */
	const char *location_hint; /* locationId for records without one */
	/* called about every 250 ms when set */
	void (*progress)(const struct ingest_stats *st, double secs, void *arg);
	void *progress_arg;
};

/*
 * Read f to its end. Lines longer than CALLLOG_MAX_PAYLOAD are quarantined
 * (their first MiB and their length). Returns CV_OK when the whole stream
 * was read and stored, even with quarantined lines.
 */
enum cv_err import_stream(struct store *s, FILE *f, const char *name,
	const struct import_opts *o, struct ingest_stats *st,
	char **errmsg) CV_MUST_CHECK;

#endif
