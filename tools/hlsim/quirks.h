/*
 * quirks.h — freedoms HighLevel's OpenAPI file leaves a server, each one
 * a deterministic switch (`--quirk name=value,...`), so that callvault's
 * tests meet every reading of the spec, not only the one hlsim started
 * with. Unlike faults (random misbehaviour), a quirk is how the server
 * always behaves.
 */
#ifndef HLSIM_QUIRKS_H
#define HLSIM_QUIRKS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

enum quirk_echo {
	ECHO_SERVED,
	ECHO_ASKED,
	ECHO_COUNT,
	ECHO_STRING,
	ECHO_EXAMPLE
};
enum quirk_agents { AGENTS_OK, AGENTS_SCOPE, AGENTS_5XX, AGENTS_SCHEMA };

struct quirks {
	int page_size;         /* 0: as asked (1..50) */
	enum quirk_echo echo;  /* what pageSize the answer names */
	int64_t date_grain_ms; /* 0: to the ms; else whole units */
	int64_t tz_offset_ms;  /* the zone the bounds are read in */
	bool ignore_sort;      /* newest first, whatever is asked */
	bool total_all;        /* total: every call of the location */
	enum quirk_agents agents;
	double odd_values;     /* share of calls served with values out
				     of the example's range or type */
	double unidentifiable; /* share served without a createdAt */
	/* recordings (media.c) */
	double rec_none;     /* share of calls without a recording */
	int64_t rec_late_ms; /* a recording appears this long after
				     the call ended (or hlsim started) */
	int rec_rate;        /* 8000, 16000; 0: either, by call */
	int rec_max_s;       /* recordings cut to this length; 0 none */
	int rec_s;           /* every recording this long; 0: the
				     call's duration (benchmarks) */
	bool trans_none;     /* no transcription (404), as for Voice AI */
};

/* Parse a spec into q (zeroed first). 0, or -1 with *errmsg set. */
int quirks_parse(struct quirks *q, const char *spec, char **errmsg);

/* The date range [*lo, *hi] (inclusive) a request's bounds select. */
void quirks_dates(const struct quirks *q, int64_t *lo, int64_t *hi);

/* The pageSize field of an answer serving n records of pages of ps. */
json_t *quirks_echo(const struct quirks *q, int asked, int ps, size_t n);

/* A call as served (new reference): odd values for some calls. */
json_t *quirks_call(const struct quirks *q, json_t *call);

extern const char quirks_help[];

#endif
