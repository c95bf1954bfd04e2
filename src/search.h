/*
 * search.h — the search query language and the call filters.
 *
 * A query in callvault's own grammar (words, "phrases", AND/OR/NOT,
 * parentheses, NEAR(a b, N), prefix*, field scoping summary:/transcript:,
 * speaker scoping bot:/human:) is parsed into a plan: one FTS5 MATCH
 * string, or a tree of conditions (FTS5 MATCH strings, digit fragments,
 * literal text) that the store turns into SQL. User text never reaches
 * FTS5 raw: every term is emitted as a double-quoted FTS5 string. No SQL
 * here; see store/store_search.h for execution.
 */
#ifndef CV_SEARCH_H
#define CV_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define SEARCH_MAX_QUERY 1024 /* bytes of query text */
#define SEARCH_MAX_TERMS 64   /* words, phrases and numbers */
#define SEARCH_MAX_DEPTH 16   /* nested parentheses */

/* Bytes that mark the start and end of a hit in snippets. */
#define SEARCH_MARK_ON '\x02'
#define SEARCH_MARK_OFF '\x03'

/*
 * The text condition when it is not one FTS5 expression: a tree of
 * conditions on a call, which the store turns into SQL (store_search.h).
 */
enum search_cond_kind {
	SEARCH_COND_TEXT,    /* match: an FTS5 expression over the call's
				summary and transcript */
	SEARCH_COND_DIGITS,  /* match: an FTS5 trigram phrase over the digits
				in the call's text; whole (or NULL): the
				digit string they hold when match is its
				tail only (a long number) */
	SEARCH_COND_LITERAL, /* whole: bytes the summary or the transcript
				holds; match (or NULL): an FTS5 expression
				of whole words inside it, which narrows */
	SEARCH_COND_AND,     /* kids; the last n_neg of them negated */
	SEARCH_COND_OR,      /* kids */
};

struct search_cond {
	enum search_cond_kind kind;
	char *match;
	char *whole;
	struct search_cond *kids; /* n of them */
	size_t n, n_neg;
};

struct search_plan {
	/* The whole query as one FTS5 MATCH string when it needs nothing
	 * else (no digit fragments, no leading NOT, not literal); NULL
	 * otherwise. */
	char *fts;
	/* Otherwise: the condition (NULL: no text query). */
	struct search_cond *cond;
	/* For snippets and highlighting: the positive FTS terms OR'ed (NULL
	 * when none) and the positive digit fragments. */
	char *highlight;
	size_t n_digits;
	char **digits;
	bool prefix; /* has a prefix term (slow to probe) */
	/* Terms with no ASCII or Latin letter or digit: the store asks
	 * FTS5's tokenizer whether each has a token at all (an empty phrase
	 * would silently match nothing). text is the term, pos its 1-based
	 * character position in the query. */
	size_t n_unsure;
	struct search_unsure {
		char *text;
		int pos;
	} * unsure;
	bool literal; /* --literal */
	char *literal_text;
};

/*
 * Parse `query` into *plan (caller calls search_plan_finish). An empty
 * or all-blank query gives a plan with no text condition. On a syntax
 * error returns CV_EPARSE, sets *errpos to the 1-based character position
 * and *errmsg to "what is wrong; hint: what to do" (caller frees).
 */
enum cv_err search_parse(const char *query, struct search_plan *plan,
	int *errpos, char **errmsg) CV_MUST_CHECK;

/*
 * Plan for --literal: calls whose summary or transcript contain `text`
 * byte for byte; the whole words inside it narrow through FTS5.
 */
enum cv_err search_parse_literal(const char *text, struct search_plan *plan,
	char **errmsg) CV_MUST_CHECK;

void search_plan_finish(struct search_plan *plan);

/* Filters shared by search and export. Strings are borrowed. */
struct search_filter {
	int64_t from_ms, to_ms; /* inclusive; valid when has_* */
	bool has_from, has_to;
	const char *location;
	const char *agent; /* agent id or name */
	const char *contact;
	char number_e164[20]; /* "" = any */
	const char *action;   /* action type, upper case */
	double min_duration, max_duration;
	bool has_min_duration, has_max_duration;
	int trial; /* -1 any, 0 not trial, 1 trial */
	/* set by the store: the agent ids that --agent (an id or a name)
	 * stands for */
	bool agent_resolved;
	size_t n_agent_ids;
	char agent_ids[8][257];
};
void search_filter_init(struct search_filter *f);

/*
 * The one parser and validator of filter values, used by the CLI's
 * options (--min-duration), the JSON API's arguments (min_duration) and
 * holds placed from a search, so that all of them accept and refuse the
 * same values with the same message. Keys, as the API spells them:
 */
enum search_filter_key {
	SFK_FROM,
	SFK_TO,
	SFK_TZ,
	SFK_LOCATION,
	SFK_AGENT,
	SFK_CONTACT,
	SFK_NUMBER,
	SFK_ACTION,
	SFK_MIN_DURATION,
	SFK_MAX_DURATION,
	SFK_TRIAL,
	SFK_N
};
extern const char *const search_filter_keys[SFK_N];

/* A value as given (already %-decoded by the API: it may hold any byte,
 * NUL included) with a NUL after its len bytes; p NULL when the filter
 * was not given. Borrowed by what search_filters_parse fills. */
struct search_filter_arg {
	const char *p;
	size_t len;
};

/* Checked filters. f's strings are the values given (borrowed), but its
 * action points into action[]: a copy of the struct must repoint it. */
struct search_filters {
	struct search_filter f;
	const char *given[SFK_N]; /* each value as given, checked */
	char action[64];
};

/*
 * Check and parse every given value into sf. A value that is empty, not
 * UTF-8, holds a NUL byte or a control character, is too long or does not
 * parse, an unknown zone, and a range that is empty (from after to, min
 * duration over max duration) are refused: CV_EINVAL and *errmsg naming
 * the filter ("min_duration '5x' is not a number of seconds").
 */
enum cv_err search_filters_parse(struct search_filters *sf,
	const struct search_filter_arg args[SFK_N],
	char **errmsg) CV_MUST_CHECK;

/*
 * Parse a --from/--to value: ISO 8601 (with or without offset) or
 * YYYY-MM-DD. Without an offset the time is in zone `tz` (IANA name,
 * NULL = UTC), converted from the zone's TZif file (src/tz.h), so any
 * number of threads may do it at once with different zones. `end` true
 * makes a bare date mean the end of that day (last millisecond) and a
 * time without seconds the end of that minute. false on a bad value or
 * unknown zone (*errmsg says which).
 */
bool search_parse_time(const char *s, const char *tz, bool end, int64_t *out_ms,
	char **errmsg);

/*
 * Find the digit string `digits` in text, allowing phone punctuation
 * (space ( ) - . +) and mark bytes between digits. On success sets the
 * byte range [*start, *end) and returns true. Search starts at `from`.
 */
bool search_find_digits(const char *text, size_t from, const char *digits,
	size_t *start, size_t *end);

/*
 * Mark the digit fragments of plan in text (which may already hold mark
 * bytes). Returns a new string (caller frees).
 */
char *search_mark_digits(const struct search_plan *plan, const char *text);

/* How hits are shown when rendering marked text. */
enum search_style {
	SEARCH_STYLE_BOLD,     /* ANSI bold on, off */
	SEARCH_STYLE_BRACKETS, /* [hit] */
	SEARCH_STYLE_PLAIN,    /* no marks (ranges tell where) */
};

/*
 * Render text holding SEARCH_MARK_ON/OFF bytes. Control characters
 * (escape sequences included) become spaces, and so do newlines when
 * one_line; for a terminal (BOLD, BRACKETS) C1 controls (U+0080-U+009F)
 * and the bidirectional overrides and isolates (U+202A-U+202E,
 * U+2066-U+2069) become U+FFFD. When ranges is non-NULL it gets *n_ranges pairs [start, end)
 * of hit offsets in the output, in Unicode code points (caller frees).
 * Returns the new string (caller frees).
 */
char *search_render(const char *marked, enum search_style style, bool one_line,
	size_t **ranges, size_t *n_ranges);

#endif
