/* console_pages.c — the audit log, holds (list and release), the
 * archives and the users (console_int.h). */
#include "console_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"
#include "store/store_audit.h"
#include "store/store_holds.h"
#include "store/store_retention.h"
#include "store/store_users.h"

struct audit_page {
	json_t *arr;
	size_t limit;
};

static int audit_row(const struct audit_entry *e, void *arg)
{
	struct audit_page *p = arg;
	json_t *d = json_loads(e->detail, 0, NULL);
	json_array_append_new(p->arr,
		json_pack("{s:I,s:o,s:s,s:s,s:o,s:I,s:o,s:o,s:s}", "id",
			(json_int_t)e->id, "ts", cx_jtime(e->ts), "actor",
			e->actor, "command", e->command, "detail",
			d ? d : json_string(e->detail), "resultCount",
			(json_int_t)e->result_count, "osUser",
			cx_jstr(e->os_user), "client", cx_jstr(e->client),
			"hash", e->hash));
	if (json_array_size(p->arr) > p->limit)
		json_array_remove(p->arr, 0); /* keep the newest */
	return 0;
}

/* The filters of GET /api/audit, as `callvault audit` takes them (from
 * and to inclusive, in the zone tz names, UTC by default); each given
 * goes into detail. false after a 400 naming the bad one. */
static bool audit_filter(struct ctx *x, struct audit_filter *f, json_t *detail)
{
	const struct {
		const char *key;
		const char **dst;
	} text[] = { { "actor", &f->actor }, { "os_user", &f->os_user },
		{ "client", &f->client }, { "command", &f->command } };
	for (size_t i = 0; i < CV_ARRAY_LEN(text); i++) {
		*text[i].dst = cx_arg(x, text[i].key);
		if (*text[i].dst)
			json_object_set_new(detail, text[i].key,
				json_string(*text[i].dst));
	}
	const char *tz = cx_arg(x, "tz");
	for (int end = 0; end < 2; end++) {
		const char *key = end ? "to" : "from", *v = cx_arg(x, key);
		char *err = NULL;
		if (!v)
			continue;
		if (!search_parse_time(v, tz, end,
			    end ? &f->to_ms : &f->from_ms, &err)) {
			char *msg = xasprintf("%s: %s", key, err ? err : v);
			cx_reply_error(x, 400, msg);
			free(msg);
			free(err);
			return false;
		}
		json_object_set_new(detail, key, json_string(v));
	}
	if (tz)
		json_object_set_new(detail, "tz", json_string(tz));
	return true;
}

void cx_api_audit(struct ctx *x, const char *unused)
{
	long limit;
	if (!cx_int_arg(x, "limit", 1, AUDIT_PAGE_MAX, 200, &limit))
		return;
	struct audit_filter f = { 0 };
	json_t *detail = json_pack("{s:I}", "limit", (json_int_t)limit);
	if (!audit_filter(x, &f, detail)) {
		json_decref(detail);
		return;
	}
	struct audit_page p = { .arr = json_array(), .limit = (size_t)limit };
	int64_t checked = 0, bad = 0;
	char *err = NULL, *verr = NULL;
	if (store_audit_each(x->s, &f, audit_row, &p, &err) != CV_OK) {
		cx_reply_error(x, 500,
			err ? err : "reading the audit log failed");
		json_decref(p.arr);
		json_decref(detail);
		free(err);
		return;
	}
	enum cv_err vr = store_audit_verify(x->s, &checked, &bad, &verr);
	json_t *chain = json_pack("{s:b,s:I}", "ok", vr == CV_OK, "checked",
		(json_int_t)checked);
	if (vr != CV_OK) {
		json_object_set_new(chain, "badId", json_integer(bad));
		json_object_set_new(chain, "error", cx_jstr(verr));
	}
	free(verr);
	if (cx_audit(x, "audit view", detail, (int64_t)json_array_size(p.arr)))
		cx_reply_json(x, 200,
			json_pack("{s:o,s:o}", "chain", chain, "entries",
				p.arr));
	else
		json_decref(chain), json_decref(p.arr);
}

static json_t *jms(bool has, int64_t ms)
{
	return has ? cx_jtime(ms) : json_null();
}

static int hold_json(const struct store_hold *h, int64_t matched, void *arg)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(h->id));
	json_object_set_new(o, "matter", cx_jstr(h->matter));
	json_object_set_new(o, "reason", cx_jstr(h->reason));
	json_object_set_new(o, "contactId", cx_jstr(h->contact_id));
	json_object_set_new(o, "number", cx_jstr(h->from_e164));
	json_object_set_new(o, "agentId", cx_jstr(h->agent_id));
	json_object_set_new(o, "locationId", cx_jstr(h->location_id));
	json_object_set_new(o, "from", jms(h->has_from, h->from_ms));
	json_object_set_new(o, "to", jms(h->has_to, h->to_ms));
	json_t *calls = json_array();
	for (size_t i = 0; i < h->n_calls; i++)
		json_array_append_new(calls, json_string(h->call_ids[i]));
	json_object_set_new(o, "calls", calls);
	json_object_set_new(o, "createdAt", cx_jtime(h->created_at));
	json_object_set_new(o, "createdBy", cx_jstr(h->created_by));
	json_object_set_new(o, "releasedAt", cx_jtime(h->released_at));
	json_object_set_new(o, "releasedBy", cx_jstr(h->released_by));
	json_object_set_new(o, "releaseReason", cx_jstr(h->release_reason));
	json_object_set_new(o, "query", cx_jstr(h->query));
	json_object_set_new(o, "queryFilters", cx_jstr(h->query_filters));
	json_object_set_new(o, "matchedCalls", json_integer(matched));
	json_array_append_new(arg, o);
	return 0;
}

/* GET /api/holds[?all=1]: active holds (all with all=1). */
void cx_api_holds(struct ctx *x, const char *unused)
{
	const char *all = cx_arg(x, "all");
	json_t *arr = json_array();
	char *err = NULL;
	if (store_holds_evaluate(x->s, &err) != CV_OK ||
		store_hold_each(x->s, !all, 0, hold_json, arr, &err) != CV_OK) {
		cx_reply_error(x, 500, err ? err : "reading holds failed");
		json_decref(arr);
	} else if (cx_audit(x, "hold list",
			   json_pack("{s:b}", "all", all != NULL),
			   (int64_t)json_array_size(arr))) {
		cx_reply_json(x, 200, json_pack("{s:o}", "holds", arr));
	} else {
		json_decref(arr);
	}
	free(err);
}

/* Whether the user may release a hold of matter: a hold-admin of that
 * matter (user set --matter), or an admin (user-admin: who administers
 * users could give themselves the matter anyway). The route table
 * checked hold-release. false after a 403 (or a 500). */
static bool may_release(struct ctx *x, int64_t id)
{
	char *matter = NULL, *err = NULL;
	bool mine = false;
	if (x->perms & PERM_USER_ADMIN)
		return true;
	enum cv_err rc = store_hold_matter(x->s, id, &matter, NULL, &err);
	if (rc == CV_ENOTFOUND) {
		cx_reply_error(x, 404, err ? err : "no such hold");
	} else if (rc != CV_OK || store_user_has_matter(x->s, x->user, matter,
					  &mine, &err) != CV_OK) {
		cx_reply_error(x, 500, err ? err : "reading the hold failed");
	} else if (!mine) {
		char *msg = xasprintf("hold %lld is of matter \"%s\", and you "
				      "are not a hold-admin of it (callvault "
				      "user set %s --matter …)",
			(long long)id, matter, x->user);
		cx_reply_error(x, 403, msg);
		free(msg);
	}
	free(matter);
	free(err);
	return rc == CV_OK && mine;
}

/* POST /api/holds/{id}/release (form: reason). store_hold_release
 * audits it, with the matter and the reason. */
void cx_api_hold_release(struct ctx *x, const char *raw_id)
{
	char *end;
	long long id = strtoll(raw_id, &end, 10);
	const char *reason = cx_form(x, "reason");
	char *err = NULL;
	if (end == raw_id || *end || id <= 0) {
		cx_reply_error(x, 404, "not found");
	} else if (!reason || !*reason || strlen(reason) > 2000) {
		cx_reply_error(x, 400,
			"releasing a hold needs a reason (at "
			"most 2000 bytes)");
	} else if (!may_release(x, id)) {
		/* answered */
	} else if (store_hold_release(x->s, id, x->user, reason, &err) !=
		   CV_OK) {
		cx_reply_error(x, 400, err ? err : "the hold was not released");
	} else {
		x->audited = true; /* in the release's transaction */
		cx_reply_json(x, 200, json_pack("{s:s}", "status", "released"));
	}
	free(err);
}

struct archive_list {
	json_t *arr;
	const struct store_locmonth *purged; /* sorted by location, month */
	size_t n_purged;
};

static int64_t purged_for(const struct archive_list *l, const char *loc,
	const char *month)
{
	for (size_t i = 0; i < l->n_purged; i++)
		if (strcmp(l->purged[i].location, loc) == 0 &&
			strcmp(l->purged[i].month, month) == 0)
			return l->purged[i].calls;
	return 0;
}

static int archive_json(const struct store_archive *a, void *arg)
{
	struct archive_list *l = arg;
	json_t *o = json_object();
	json_object_set_new(o, "locationId", cx_jstr(a->location_id));
	json_object_set_new(o, "month", cx_jstr(a->month));
	json_object_set_new(o, "seq", json_integer(a->seq));
	json_object_set_new(o, "file", cx_jstr(a->path));
	json_object_set_new(o, "sha256", cx_jstr(a->sha256));
	json_object_set_new(o, "calls", json_integer(a->n_calls));
	json_object_set_new(o, "writtenAt", cx_jtime(a->written_at));
	json_object_set_new(o, "verifiedAt", cx_jtime(a->verified_at));
	json_object_set_new(o, "purged",
		json_integer(purged_for(l, a->location_id ? a->location_id : "",
			a->month ? a->month : "")));
	json_array_append_new(l->arr, o);
	return 0;
}

/* GET /api/archives: every archive recorded, in the order written, with
 * the calls purge removed from its location-month (from the audit log). */
void cx_api_archives(struct ctx *x, const char *unused)
{
	struct store_locmonth *purged = NULL;
	struct archive_list l = { .arr = json_array() };
	char *err = NULL;
	enum cv_err rc = store_ret_purged(x->s, &purged, &l.n_purged, &err);
	l.purged = purged;
	if (rc == CV_OK)
		rc = store_ret_each_archive(x->s, archive_json, &l, &err);
	if (rc != CV_OK) {
		cx_reply_error(x, 500, err ? err : "reading archives failed");
		json_decref(l.arr);
	} else if (cx_audit(x, "archive list", json_object(),
			   (int64_t)json_array_size(l.arr))) {
		cx_reply_json(x, 200, l.arr);
	} else {
		json_decref(l.arr);
	}
	free(purged);
	free(err);
}

struct user_list {
	struct ctx *x;
	json_t *arr;
	enum cv_err rc;
	char *err;
};

static int matter_json(const char *matter, void *arg)
{
	json_array_append_new(arg, json_string(matter));
	return 0;
}

static int user_json(const struct store_user *u, void *arg)
{
	struct user_list *l = arg;
	json_t *m = json_array();
	l->rc = store_user_each_matter(l->x->s, u->name, matter_json, m,
		&l->err);
	json_array_append_new(l->arr,
		json_pack("{s:s,s:s,s:s,s:b,s:o,s:o}", "name", u->name, "role",
			u->role, "permissions",
			u->permissions ? u->permissions : "none", "disabled",
			u->disabled, "matters", m, "createdAt",
			cx_jtime(u->created_at)));
	return l->rc != CV_OK;
}

/* GET /api/users: who may do what (never a password hash). */
void cx_api_users(struct ctx *x, const char *unused)
{
	struct user_list l = { .x = x, .arr = json_array() };
	enum cv_err rc = store_user_each(x->s, user_json, &l, &l.err);
	if (rc == CV_OK)
		rc = l.rc;
	if (rc != CV_OK) {
		cx_reply_error(x, 500, l.err ? l.err : "reading users failed");
		json_decref(l.arr);
	} else if (cx_audit(x, "user list", json_object(),
			   (int64_t)json_array_size(l.arr))) {
		cx_reply_json(x, 200, json_pack("{s:o}", "users", l.arr));
	} else {
		json_decref(l.arr);
	}
	free(l.err);
}
