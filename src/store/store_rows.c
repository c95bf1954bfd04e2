/* store_rows.c — the row loop of the store's walkers; see store_int.h */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#include "../util.h"

enum cv_err store_each(struct store *s, sqlite3_stmt *st, store_row_fn row,
	store_fn fn, void *arg, enum cv_err stopped, const char *what,
	char **errmsg)
{
	int r;
	enum cv_err rc = CV_OK;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (row(st, fn, arg) != 0) {
			rc = stopped;
			break;
		}
	}
	if (rc == CV_OK && r != SQLITE_ROW && r != SQLITE_DONE)
		rc = store_dberr(s, errmsg, what);
	sqlite3_reset(st);
	return rc;
}

enum cv_err store_collect(struct store *s, sqlite3_stmt *st, size_t size,
	store_fill_fn fill, store_drop_fn drop, void **out, size_t *n,
	const char *what, char **errmsg)
{
	unsigned char *v = NULL;
	size_t cap = 0, len = 0;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * size);
		}
		memset(v + len * size, 0, size);
		fill(st, v + len * size);
		len++;
	}
	enum cv_err rc = r == SQLITE_DONE ? CV_OK
					  : store_dberr(s, errmsg, what);
	sqlite3_reset(st);
	if (rc != CV_OK) {
		if (drop)
			drop(v, len);
		else
			free(v);
		v = NULL;
		len = 0;
	}
	*out = v;
	*n = len;
	return rc;
}

enum cv_err store_list(struct store *s, const char *sql, size_t size,
	store_fill_fn fill, store_drop_fn drop, void **out, size_t *n,
	const char *what, char **errmsg)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	return store_collect(s, st, size, fill, drop, out, n, what, errmsg);
}

typedef int (*text_fn)(const char *text, void *arg);

int store_text_row(sqlite3_stmt *st, store_fn fn, void *arg)
{
	return ((text_fn)fn)((const char *)sqlite3_column_text(st, 0), arg);
}

void store_text_fill(sqlite3_stmt *st, void *elem)
{
	*(char **)elem = store_col_dup(st, 0);
}

void store_texts_drop(void *v, size_t n)
{
	char **texts = v;
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
}
