/* search_text.c — see search.h: digit fragments found and marked in a
 * call's text, and marked text rendered */
#include "search.h"
#include "search_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* ---- digits in text ---- */

bool search_find_digits(const char *text, size_t from, const char *digits,
	size_t *start, size_t *end)
{
	size_t n = strlen(text);
	if (!*digits)
		return false;
	for (size_t i = from; i < n; i++) {
		if (text[i] != digits[0])
			continue;
		size_t q = i + 1, j = 1;
		while (digits[j] && q < n) {
			size_t gap = 0;
			while (q < n && gap < 4 &&
				(search_is_phone_punct(text[q]) ||
					text[q] == SEARCH_MARK_ON ||
					text[q] == SEARCH_MARK_OFF)) {
				q++;
				gap++;
			}
			if (q >= n || text[q] != digits[j])
				break;
			q++;
			j++;
		}
		if (!digits[j]) {
			*start = i;
			*end = q;
			return true;
		}
	}
	return false;
}

char *search_mark_digits(const struct search_plan *plan, const char *text)
{
	size_t n = strlen(text);
	unsigned char *mark = xcalloc(n + 1, 1); /* 1 = start, 2 = end */
	bool any = false;
	for (size_t d = 0; d < plan->n_digits; d++) {
		size_t from = 0, s, e;
		while (search_find_digits(text, from, plan->digits[d], &s,
			&e)) {
			mark[s] |= 1;
			mark[e] |= 2;
			from = e;
			any = true;
		}
	}
	struct buf b;
	buf_init(&b);
	if (!any) {
		buf_puts(&b, text);
	} else {
		for (size_t i = 0; i <= n; i++) {
			if (mark[i] & 2)
				buf_putc(&b, SEARCH_MARK_OFF);
			if (mark[i] & 1)
				buf_putc(&b, SEARCH_MARK_ON);
			if (i < n)
				buf_putc(&b, text[i]);
		}
	}
	free(mark);
	return buf_steal(&b);
}

/* ---- rendering ---- */

/* Is the UTF-8 at p a C1 control (U+0080-U+009F: U+009B starts a
 * terminal command) or a bidirectional override or isolate (U+202A-202E,
 * U+2066-2069), which reorder what a reader sees? */
static bool term_active(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	if (p[0] == 0xC2)
		return p[1] >= 0x80 && p[1] <= 0x9F;
	if (p[0] != 0xE2)
		return false;
	return (p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE) ||
	       (p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9);
}

char *search_render(const char *marked, enum search_style style, bool one_line,
	size_t **ranges, size_t *n_ranges)
{
	struct buf b;
	buf_init(&b);
	size_t cps = 0, cap = 0, depth = 0;
	if (ranges) {
		*ranges = NULL;
		*n_ranges = 0;
	}
	for (const char *p = marked ? marked : ""; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == SEARCH_MARK_ON || c == SEARCH_MARK_OFF) {
			bool on = c == SEARCH_MARK_ON;
			if (on ? depth++ != 0 : depth == 0 || --depth != 0)
				continue;
			if (style == SEARCH_STYLE_BOLD)
				buf_puts(&b, on ? "\033[1m" : "\033[0m");
			else if (style == SEARCH_STYLE_BRACKETS)
				buf_putc(&b, on ? '[' : ']');
			if (ranges) {
				if (on && *n_ranges * 2 + 2 > cap) {
					cap = cap ? cap * 2 : 16;
					*ranges = xrealloc(*ranges,
						cap * sizeof(**ranges));
				}
				if (on)
					(*ranges)[*n_ranges * 2] = cps;
				else
					(*ranges)[(*n_ranges)++ * 2 + 1] = cps;
			}
			continue;
		}
		if (style != SEARCH_STYLE_PLAIN && term_active(p)) {
			/* for a terminal: U+FFFD, one code point as well */
			buf_puts(&b, "\xef\xbf\xbd");
			p += c == 0xC2 ? 1 : 2;
			cps++;
			continue;
		}
		if (c == '\n' && !one_line)
			buf_putc(&b, '\n');
		else if (c < 0x20 || c == 0x7f)
			buf_putc(&b, ' ');
		else
			buf_putc(&b, (char)c);
		if ((c & 0xC0) != 0x80)
			cps++;
	}
	if (depth && style == SEARCH_STYLE_BOLD)
		buf_puts(&b, "\033[0m");
	if (ranges && depth)
		(*ranges)[(*n_ranges)++ * 2 + 1] = cps;
	return buf_steal(&b);
}
