/* store_settings.c — see store_settings.h */
#include "store_settings.h"

#include <jansson.h>
#include <stdlib.h>

#include "../util.h"
#include "store_audit.h"
#include "store_int.h"

enum cv_err store_setting_get(struct store *s, const char *key, char **value,
	char **errmsg)
{
	static const char sql[] = "SELECT value FROM settings WHERE key = ?";
	*value = NULL;
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*value = store_col_dup(st, 0);
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE
		       ? CV_OK
		       : store_dberr(s, errmsg, "settings");
}

static enum cv_err put(struct store *s, const char *key, const char *value,
	const char *actor, char **errmsg)
{
	static const char sql[] =
		"INSERT INTO settings(key, value, set_at, set_by)"
		" VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
		" value = excluded.value, set_at = excluded.set_at,"
		" set_by = excluded.set_by";
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, cv_now_ms());
	sqlite3_bind_text(st, 4, actor ? actor : "", -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? CV_OK : store_dberr(s, errmsg, "settings");
}

enum cv_err store_setting_set(struct store *s, const char *key,
	const char *value, const char *actor, char **errmsg)
{
	char *was = NULL;
	enum cv_err rc = store_begin(s, errmsg);
	if (rc == CV_OK)
		rc = store_setting_get(s, key, &was, errmsg);
	if (rc == CV_OK)
		rc = put(s, key, value, actor, errmsg);
	if (rc == CV_OK) {
		json_t *d = json_pack("{s:s,s:s,s:o}", "key", key, "value",
			value, "was", was ? json_string(was) : json_null());
		char *detail = json_dumps(d, JSON_COMPACT);
		rc = store_audit_append(s, actor, "config set", detail, -1,
			errmsg);
		free(detail);
		json_decref(d);
	}
	if (rc == CV_OK)
		rc = store_commit(s, errmsg);
	else
		store_rollback(s);
	free(was);
	return rc;
}

enum cv_err store_timezone(struct store *s, char **name, char **errmsg)
{
	enum cv_err rc = store_setting_get(s, "timezone", name, errmsg);
	if (rc == CV_OK && !*name)
		*name = xstrdup("UTC");
	return rc;
}
