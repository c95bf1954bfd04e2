/*
 * highlight.h — `show --highlight QUERY`: a call's summary and whole
 * transcript with the query's hits marked (bold on a terminal, [hit]
 * otherwise).
 */
#ifndef CV_CLI_HIGHLIGHT_H
#define CV_CLI_HIGHLIGHT_H

#include "../search.h"
#include "../store/store.h"

/* Parse the query; on a syntax error print it (exit 2) and return
 * false. */
bool cli_highlight_parse(const char *query, struct search_plan *plan);

/* Print the summary and the transcript of call_id with the hits of plan
 * marked. Returns an exit code (0 ok). */
int cli_highlight_print(struct store *s, const struct calllog *c,
	const struct search_plan *plan);

#endif
