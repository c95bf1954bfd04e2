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
	fprintf(stderr, "callvault show: --highlight: syntax error at "
			"position %d: %s\n",
		pos, err ? err : "");
	free(err);
	return false;
}

/* The next `lines` lines of *col (advancing it); a new string. */
static char *take_lines(const char **col, size_t lines)
{
	const char *p = *col ? *col : "", *start = p;
	for (size_t i = 0; i < lines && *p; i++) {
		const char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : p + strlen(p);
	}
	size_t n = (size_t)(p - start);
	if (n && start[n - 1] == '\n')
		n--;
	*col = p;
	return xstrndup(start, n);
}

static size_t count_lines(const char *s, size_t n)
{
	size_t k = 1;
	for (size_t i = 0; i < n; i++)
		k += s[i] == '\n';
	return k;
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
	/* the FTS columns hold each speaker's turns joined by '\n', in
	 * order: walk the turns and take each one's lines from its column */
	const char *cur[3] = { cols[3], cols[1], cols[2] };
	struct calllog_turn *turns;
	size_t n = calllog_turns(c->transcript, &turns);
	for (size_t i = 0; i < n; i++) {
		int k = turns[i].speaker == CALLLOG_BOT ? 1
			: turns[i].speaker == CALLLOG_HUMAN ? 2 : 0;
		char *raw = take_lines(&cur[k],
			count_lines(turns[i].text, turns[i].len));
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
	free(turns);
	for (int i = 0; i < 4; i++)
		free(cols[i]);
	return CV_EXIT_OK;
}
