/* store_rows.c — the row loop of the store's walkers; see store_int.h */
#include "store_int.h"

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
