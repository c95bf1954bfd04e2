/*
 * export.h — `callvault export`: one row per call for reporting, as CSV
 * (RFC 4180, header row, UTF-8) or JSONL, streamed with flat memory, and
 * named cursors so a scheduled job gets only what is new or changed.
 */
#ifndef CV_EXPORT_H
#define CV_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "search.h"
#include "store/store_export.h"
#include "store/store.h"
#include "util.h"

enum export_format { EXPORT_CSV, EXPORT_JSONL };

/*
 * Append s as one CSV field, quoted when it holds , " CR or LF (NULL is
 * an empty field), followed by ',' or, when last, CRLF. Text a
 * spreadsheet would run as a formula (starting with = + - @ TAB or CR,
 * OWASP's CSV injection list) or that starts with ' gets a leading '
 * and quotes: every marked cell starts with ', and removing that one '
 * gives the text back (docs/operations.md, "Exports").
 */
void export_csv_field(struct buf *b, const char *s, bool last);
/* The same for an identifier or a phone number: always quoted, and
 * marked with a leading ' also when it is all digits, so that a
 * spreadsheet keeps it as text (leading zeros, every digit). */
void export_csv_id(struct buf *b, const char *s, bool last);
/* Append s as a JSON string (NULL as null). */
void export_json_string(struct buf *b, const char *s);

/* Where the rows go: write may be called many times; commit makes the
 * whole output durable and visible, or fails and nothing is visible. */
struct export_out {
	enum cv_err (*write)(void *ctx, const void *p, size_t n);
	enum cv_err (*commit)(void *ctx, char **errmsg);
	void *ctx;
};

struct export_opts {
	const struct search_filter *filter; /* NULL: every call */
	const struct search_plan *plan;     /* NULL: no text condition */
	enum export_format format;
	const char *since_last; /* cursor name, or NULL: with one, rows
				  * also carry updatedAt and operation */
	bool bom;               /* CSV: start with a UTF-8 byte-order mark */
	const char *actor;      /* for the audit entry */
	const char *detail;     /* audit detail: a JSON object */
};

struct export_result {
	int64_t rows;
	int64_t from_version; /* the cursor before (0 = none) */
	int64_t to_version;   /* highest version written (or from) */
};

/*
 * Write the export to out. Then, in one store transaction, move the
 * cursor (when since_last) and append the audit entry, and commit out:
 * the cursor moves only when the output was written completely. On any
 * failure nothing moves and the error is returned.
 */
enum cv_err export_run(struct store *s, const struct export_opts *o,
	const struct export_out *out, struct export_result *res,
	char **errmsg) CV_MUST_CHECK;

/*
 * Delete the named export cursor and append an "export reset-cursor"
 * audit entry naming what it held, in one transaction; *before gets
 * that (see store_export.h). CV_ENOTFOUND (nothing changed) when there
 * is no such cursor.
 */
enum cv_err export_cursor_reset(struct store *s, const char *name,
	const char *actor, struct store_cursor *before,
	char **errmsg) CV_MUST_CHECK;

#endif
