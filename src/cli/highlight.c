/* highlight.c — see highlight.h */
#include "highlight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store_search.h"
#include "../util.h"
#include "cli.h"

bool cli_highlight_parse(const char *query, struct search_plan *plan)
{
	char *err = NULL;
	int pos = 0;
	if (search_parse(query, plan, &pos, &err) == CV_OK)
		return true;
	fprintf(stderr,
		"callvault show: --highlight: syntax error at "
		"position %d: %s\n",
		pos, err ? err : "");
	free(err);
	return false;
}

static size_t count_marks(const char *s)
{
	size_t k = 0;
	for (; *s; s++)
		k += *s == SEARCH_MARK_ON;
	return k;
}

int cli_highlight_print(struct store *s, const struct calllog *c,
	const struct search_plan *plan)
{
	char *cols[4], *err = NULL;
	enum cv_err rc = store_search_highlight(s, c->id, plan, cols, &err);
	if (rc != CV_OK) {
		int code = cli_fail(cli_exit_for(rc), "show", "%s",
			err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	enum search_style style = cv_stdout_fancy() ? SEARCH_STYLE_BOLD
						    : SEARCH_STYLE_BRACKETS;
	size_t hits = 0;
	char *sum = search_render(cols[0], style, false, NULL, NULL);
	hits += cols[0] ? count_marks(cols[0]) : 0;
	printf("\nSummary\n  %s\n", cols[0] ? sum : "(none)");
	free(sum);
	printf("\nTranscript\n");
	struct calllog_turn *turns;
	size_t n = calllog_turns(c->transcript, &turns);
	char **marked = store_highlight_turns(turns, n, cols);
	for (size_t i = 0; i < n; i++) {
		char *raw = marked[i];
		hits += count_marks(raw);
		char *line = search_render(raw, style, false, NULL, NULL);
		const char *who = calllog_speaker_name(turns[i].speaker);
		printf("  %-6s %s\n", *who ? who : "-", line);
		free(line);
		free(raw);
	}
	if (n == 0)
		printf("  (none)\n");
	printf("\n%zu hit%s marked\n", hits, hits == 1 ? "" : "s");
	free(marked);
	free(turns);
	for (int i = 0; i < 4; i++)
		free(cols[i]);
	return CV_EXIT_OK;
}
