/*
 * store_users.h — console users, their sessions, failed logins and API
 * tokens. Session ids and API tokens are stored only as SHA-256 hex; the
 * password only as its PBKDF2 string (see password.h).
 */
#ifndef CV_STORE_USERS_H
#define CV_STORE_USERS_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

struct store_user {
	char *name, *role, *pw_hash;
	char *permissions; /* "search,export" (roles.h), "none" */
	bool disabled;
	int64_t created_at;
};
void store_user_finish(struct store_user *u);

/* Add a user with a role label (a preset's name or "custom") and its
 * permission set (roles_format); CV_EINVAL when the name is taken. */
enum cv_err store_user_add(struct store *s, const char *name, const char *role,
	const char *permissions, const char *pw_hash,
	char **errmsg) CV_MUST_CHECK;
/* Give the user another role label and permission set (in force at the
 * user's next request); CV_ENOTFOUND when there is no such user. */
enum cv_err store_user_set_permissions(struct store *s, const char *name,
	const char *role, const char *permissions, char **errmsg) CV_MUST_CHECK;
/* Make the user a hold-admin of matter (add) or no longer (drop);
 * CV_ENOTFOUND when there is no such user (add) or assignment (drop). */
enum cv_err store_user_matter(struct store *s, const char *name,
	const char *matter, bool add, char **errmsg) CV_MUST_CHECK;
/* Whether matter is one of the user's. */
enum cv_err store_user_has_matter(struct store *s, const char *name,
	const char *matter, bool *has, char **errmsg) CV_MUST_CHECK;
/* The user's matters, by name; a non-zero return from fn stops. */
enum cv_err store_user_each_matter(struct store *s, const char *name,
	int (*fn)(const char *matter, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;
/* CV_ENOTFOUND when there is no such user. */
enum cv_err store_user_get(struct store *s, const char *name,
	struct store_user *out, char **errmsg) CV_MUST_CHECK;
/* Each user by name; a non-zero return from fn stops the walk. */
enum cv_err store_user_each(struct store *s,
	int (*fn)(const struct store_user *u, void *arg), void *arg,
	char **errmsg) CV_MUST_CHECK;
/* Disable the user and end their sessions and token. */
enum cv_err store_user_disable(struct store *s, const char *name,
	char **errmsg) CV_MUST_CHECK;
/* Set a new password hash and end the user's sessions. */
enum cv_err store_user_set_password(struct store *s, const char *name,
	const char *pw_hash, char **errmsg) CV_MUST_CHECK;

struct store_session {
	char *user, *role, *permissions, *csrf;
	int64_t created_at, last_seen;
};
void store_session_finish(struct store_session *ss);

enum cv_err store_session_create(struct store *s, const char *id_hash,
	const char *user, const char *csrf, int64_t now,
	char **errmsg) CV_MUST_CHECK;
/* The session with the user's current role; CV_ENOTFOUND when there is
 * none or its user is disabled. */
enum cv_err store_session_get(struct store *s, const char *id_hash,
	struct store_session *out, char **errmsg) CV_MUST_CHECK;
enum cv_err store_session_touch(struct store *s, const char *id_hash,
	int64_t now, char **errmsg) CV_MUST_CHECK;
enum cv_err store_session_delete(struct store *s, const char *id_hash,
	char **errmsg) CV_MUST_CHECK;

/* Failed logins by key ("user:NAME" or "addr:IP"). */
enum cv_err store_login_failure_add(struct store *s, const char *key,
	int64_t now, char **errmsg) CV_MUST_CHECK;
enum cv_err store_login_failure_count(struct store *s, const char *key,
	int64_t since, int64_t *n, char **errmsg) CV_MUST_CHECK;
/* The time of key's (skip+1)-th oldest failure at or after since;
 * CV_ENOTFOUND when there are not that many. */
enum cv_err store_login_failure_nth(struct store *s, const char *key,
	int64_t since, int64_t skip, int64_t *ts, char **errmsg) CV_MUST_CHECK;

/* Replace the user's API token hash. */
enum cv_err store_token_set(struct store *s, const char *user,
	const char *token_hash, int64_t now, char **errmsg) CV_MUST_CHECK;
/* The enabled user (name, role, permissions) a token hash belongs to. */
enum cv_err store_token_user(struct store *s, const char *token_hash,
	struct store_user *out, char **errmsg) CV_MUST_CHECK;

#endif
