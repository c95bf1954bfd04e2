/*
 * store_settings.h — store-wide settings kept in the store itself, so
 * that every command, serve and the console read the same value:
 * `timezone` (the zone times are read and shown in; default UTC).
 */
#ifndef CV_STORE_SETTINGS_H
#define CV_STORE_SETTINGS_H

#include "store.h"

/*
 * The value of setting `key` in *value (caller frees), NULL when it was
 * never set. CV_EDB on a database error (*errmsg says which).
 */
enum cv_err store_setting_get(struct store *s, const char *key, char **value,
	char **errmsg) CV_MUST_CHECK;

/*
 * Set `key` to `value` (already checked by the caller), recording who
 * and when, and audit it ("config set", the key, the old and the new
 * value) in the same transaction. CV_EDB on a database error.
 */
enum cv_err store_setting_set(struct store *s, const char *key,
	const char *value, const char *actor, char **errmsg) CV_MUST_CHECK;

/* The store's time zone name in *name (caller frees): the `timezone`
 * setting, "UTC" when unset. */
enum cv_err store_timezone(struct store *s, char **name,
	char **errmsg) CV_MUST_CHECK;

#endif
