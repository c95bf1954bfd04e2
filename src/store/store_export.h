/*
 * store_export.h — reading calls for reporting exports, and named export
 * cursors (`export --since-last NAME`) kept in the store.
 */
#ifndef CV_STORE_EXPORT_H
#define CV_STORE_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "../search.h"
#include "store.h"

/* One call as exported. Strings are valid during the callback only. */
struct store_export_row {
	const char *id, *location_id, *agent_id, *agent_name, *contact_id;
	const char *from_number;
	int64_t created_at;
	double duration;
	bool has_duration;
	int trial_call;           /* -1 unknown, 0, 1 */
	const char *action_types; /* distinct executed types, "A,B" */
	bool appointment_booked, transferred;
	const char *summary;
	int64_t version_id;       /* the call's current version */
	int64_t updated_at;       /* when that version was stored (ms) */
	int64_t first_version_id; /* the call's first version; by_version
				    * walks only, else 0 */
};

/*
 * Call fn for each call matching f (NULL: all) and the search plan (NULL:
 * no text condition; see search.h) whose current version id
 * is greater than after_version (0: all), in one consistent read. Order:
 * by version id when after_version >= 0 was asked for a cursor
 * (by_version), else by created time. A non-zero return from fn stops
 * the walk and is returned as CV_EIO (the caller's write failed).
 */
enum cv_err store_export_each(struct store *s, const struct search_filter *f,
	const struct search_plan *plan, int64_t after_version, bool by_version,
	int (*fn)(const struct store_export_row *r, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

/* The named cursor's version id; 0 when it does not exist yet. */
enum cv_err store_cursor_get(struct store *s, const char *name,
	int64_t *version_id, char **errmsg) CV_MUST_CHECK;

/* Set (create) the named cursor, inside the caller's transaction when
 * one is open. */
enum cv_err store_cursor_set(struct store *s, const char *name,
	int64_t version_id, int64_t rows, char **errmsg) CV_MUST_CHECK;

/* One export cursor. Strings are valid during the callback only. */
struct store_cursor {
	const char *name;
	int64_t version_id; /* highest version exported */
	int64_t updated_at; /* last successful export (ms) */
	int64_t last_rows;  /* rows that export wrote */
};

/* Call fn for every cursor, by name. A non-zero return from fn stops the
 * walk (CV_OK is returned). */
enum cv_err store_cursor_each(struct store *s,
	int (*fn)(const struct store_cursor *c, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;

/* Delete the named cursor, inside the caller's transaction when one is
 * open; *before gets what it held (version_id 0 and name NULL when
 * there was no such cursor, which is not an error). */
enum cv_err store_cursor_delete(struct store *s, const char *name,
	struct store_cursor *before, char **errmsg) CV_MUST_CHECK;

#endif
