/* console_login.c — POST /login and /logout, GET /api/me (console_int.h).
 * A login reserves its attempt at the login gate before its password is
 * checked (src/login_gate.h). */
#include "console_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "login_gate.h"
#include "password.h"
#include "store/store_audit.h"
#include "store/store_settings.h"
#include "store/store_users.h"

/* ---- login and logout -------------------------------------------- */

static bool failures_in_window(void *arg, const char *key, int64_t *n)
{
	struct ctx *x = arg;
	int64_t since = cv_now_ms() - x->c->cfg.failure_window_ms;
	char *err = NULL;
	bool ok = store_login_failure_count(x->s, key, since, n, &err) == CV_OK;
	free(err);
	return ok;
}

/* Seconds until key may try again: until enough of its recorded
 * failures leave the window (1 when attempts in flight are the cause). */
static int64_t login_wait(struct ctx *x, const char *key)
{
	const struct console_config *cfg = &x->c->cfg;
	int64_t now = cv_now_ms(), since = now - cfg->failure_window_ms, n = 0,
		ts = 0;
	char *err = NULL;
	if (failures_in_window(x, key, &n) && n >= cfg->max_failures &&
		store_login_failure_nth(x->s, key, since, n - cfg->max_failures,
			&ts, &err) == CV_OK) {
		int64_t ms = ts + cfg->failure_window_ms - now;
		return ms <= 0 ? 1 : (ms + 999) / 1000;
	}
	free(err);
	return 1;
}

static void login_refused(struct ctx *x, enum login_gate_verdict v,
	const char *const keys[2])
{
	int64_t wait = 1;
	for (int i = 0; v == LOGIN_GATE_LIMITED && i < 2; i++) {
		int64_t w = login_wait(x, keys[i]);
		wait = w > wait ? w : wait;
	}
	x->res->retry_after = wait;
	char *msg = xasprintf(
		v == LOGIN_GATE_BUSY
			? "too many logins at once; try again in %lld s"
			: "too many failed logins; try again in %lld s",
		(long long)wait);
	cx_reply_json(x, v == LOGIN_GATE_BUSY ? 503 : 429,
		json_pack("{s:s,s:I}", "error", msg, "retryAfter",
			(json_int_t)wait));
	free(msg);
}

static void login_failed(struct ctx *x, const char *user, const char *ukey,
	const char *akey)
{
	char *err = NULL;
	int64_t now = cv_now_ms();
	if (store_begin(x->s, &err) == CV_OK &&
		store_login_failure_add(x->s, ukey, now, &err) == CV_OK &&
		store_login_failure_add(x->s, akey, now, &err) == CV_OK &&
		store_audit_append(x->s, user, "login failed",
			"{\"via\":\"console\"}", -1, &err) == CV_OK) {
		if (store_commit(x->s, &err) != CV_OK)
			cv_warn("msg=\"console: failed login not recorded\"");
	} else {
		store_rollback(x->s);
	}
	free(err);
	cv_warn("msg=\"console: failed login\" client=%s", x->client);
	cx_reply_error(x, 401, "wrong user name or password");
}

static bool user_ok(struct ctx *x, const char *name, const char *pw)
{
	/* a fixed hash for unknown users keeps the timing the same */
	static const char dummy[] =
		"pbkdf2-sha256$210000$"
		"00000000000000000000000000000000$"
		"0000000000000000000000000000000000000000000000000000000000000000";
	struct store_user u;
	char *err = NULL;
	bool found = store_user_get(x->s, name, &u, &err) == CV_OK;
	free(err);
	bool ok = password_verify(pw, found ? u.pw_hash : dummy) && found &&
		  !u.disabled;
	if (found)
		store_user_finish(&u);
	return ok;
}

/* The permissions of a set as a JSON array of their names. */
static json_t *perms_json(unsigned perms)
{
	json_t *a = json_array();
	for (int i = 0; i < PERM_N; i++)
		if (perms & (1u << i))
			json_array_append_new(a, json_string(perm_names[i]));
	return a;
}

static void login_session(struct ctx *x, const char *name)
{
	char sid[65], csrf[65], *err = NULL;
	password_random_hex(32, sid);
	password_random_hex(32, csrf);
	cv_sha256_hex(sid, 64, x->sid_hash);
	struct store_user u;
	enum cv_err rc = store_user_get(x->s, name, &u, &err);
	if (rc == CV_OK)
		rc = store_session_create(x->s, x->sid_hash, name, csrf,
			cv_now_ms(), &err);
	x->user = xstrdup(name);
	if (rc != CV_OK) {
		cx_reply_error(x, 503, "cannot create a session");
	} else if (cx_audit(x, "login", json_object(), -1)) {
		cx_set_cookie(x, sid);
		unsigned perms = 0;
		char *perr = NULL;
		if (!roles_parse(u.permissions, &perms, &perr))
			perms = 0;
		free(perr);
		cx_reply_json(x, 200,
			json_pack("{s:s,s:s,s:o,s:s}", "user", name, "role",
				u.role, "permissions", perms_json(perms),
				"csrf", csrf));
	}
	if (rc == CV_OK)
		store_user_finish(&u);
	free(err);
	memset(sid, 0, sizeof(sid));
}

void cx_do_login(struct ctx *x, const char *unused)
{
	if (!cx_origin_ok(x))
		return;
	const char *name = cx_form(x, "user"), *pw = cx_form(x, "password");
	if (!name || !pw || strlen(name) > 64 || strlen(pw) > PASSWORD_MAX) {
		cx_reply_error(x, 400, "send user and password (form fields)");
		return;
	}
	char *ukey = xasprintf("user:%s", name);
	/* per user, and per real client address (behind a trusted proxy,
	 * X-Forwarded-For's), not per proxy */
	char *akey = xasprintf("addr:%s", x->client);
	const char *const keys[2] = { ukey, akey };
	/* the attempt is counted before the password is checked */
	enum login_gate_verdict v = login_gate_enter(x->c->gate, keys, 2,
		failures_in_window, x);
	if (v != LOGIN_GATE_OK) {
		login_refused(x, v, keys);
	} else {
		bool ok = user_ok(x, name, pw);
		if (!ok)
			login_failed(x, name, ukey, akey);
		login_gate_leave(x->c->gate, keys, 2);
		if (ok)
			login_session(x, name);
	}
	free(ukey);
	free(akey);
}

/* (the router checked the session and its CSRF token) */
void cx_do_logout(struct ctx *x, const char *unused)
{
	char *err = NULL;
	if (x->csrf && store_session_delete(x->s, x->sid_hash, &err) != CV_OK)
		free(err);
	cx_set_cookie(x, "");
	if (cx_audit(x, "logout", json_object(), -1))
		cx_reply_json(x, 200,
			json_pack("{s:s}", "status", "logged out"));
}

void cx_api_me(struct ctx *x, const char *unused)
{
	json_t *o = json_pack("{s:s,s:s,s:o}", "user", x->user, "role", x->role,
		"permissions", perms_json(x->perms));
	if (x->csrf)
		json_object_set_new(o, "csrf", json_string(x->csrf));
	/* the store's zone: the console's default for reading and showing
	 * times (a session may choose another: the tz argument) */
	char *zone = NULL;
	if (store_timezone(x->s, &zone, NULL) == CV_OK)
		json_object_set_new(o, "timeZone", json_string(zone));
	free(zone);
	cx_reply_json(x, 200, o);
}
