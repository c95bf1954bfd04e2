/* hljson.c — see hljson.h */
#include "hljson.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "calllog.h"
#include "util.h"

#define ERRMSG_MAX 300

static json_t *load(const char *body, size_t n, char **errmsg)
{
	if (calllog_json_depth(body, n, HLJSON_MAX_DEPTH) > HLJSON_MAX_DEPTH) {
		cv_error(errmsg, CV_EPARSE, "JSON nested deeper than %d",
			HLJSON_MAX_DEPTH);
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(body, n, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		cv_error(errmsg, CV_EPARSE, "invalid JSON at line %d: %s",
			je.line, je.text);
	return j;
}

/* Append s, control characters as '?', up to ERRMSG_MAX bytes. */
static void put_clean(struct buf *b, const char *s)
{
	for (; *s && b->len < ERRMSG_MAX; s++)
		buf_putc(b, (unsigned char)*s < 0x20 ? '?' : *s);
}

char *hljson_error_message(const char *body, size_t n)
{
	json_t *j = load(body, n, NULL);
	if (!j)
		return NULL;
	struct buf b;
	buf_init(&b);
	json_t *m = json_object_get(j, "message");
	if (json_is_string(m)) {
		put_clean(&b, json_string_value(m));
	} else if (json_is_array(m)) {
		size_t i;
		json_t *v;
		json_array_foreach(m, i, v)
		{
			if (!json_is_string(v))
				continue;
			if (b.len)
				buf_puts(&b, ", ");
			put_clean(&b, json_string_value(v));
		}
	}
	json_t *e = json_object_get(j, "error");
	if (b.len == 0 && json_is_string(e))
		put_clean(&b, json_string_value(e));
	json_decref(j);
	if (b.len == 0) {
		buf_finish(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static char *dup_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v) || json_string_length(v) == 0 ||
		json_string_length(v) > 16384)
		return NULL;
	return xstrdup(json_string_value(v));
}

enum cv_err hljson_token_parse(const char *body, size_t n,
	struct hljson_token *out, char **errmsg)
{
	return hljson_token_parse_opt(body, n, true, out, errmsg);
}

enum cv_err hljson_token_parse_opt(const char *body, size_t n,
	bool need_refresh, struct hljson_token *out, char **errmsg)
{
	memset(out, 0, sizeof(*out));
	out->expires_in = -1;
	json_t *j = load(body, n, errmsg);
	if (!j)
		return CV_EPARSE;
	out->access_token = dup_str(j, "access_token");
	out->refresh_token = dup_str(j, "refresh_token");
	out->location_id = dup_str(j, "locationId");
	out->scope = dup_str(j, "scope");
	out->company_id = dup_str(j, "companyId");
	json_t *e = json_object_get(j, "expires_in");
	if (json_is_number(e) && json_number_value(e) > 0)
		out->expires_in = (int64_t)json_number_value(e);
	json_decref(j);
	if (!out->access_token || (need_refresh && !out->refresh_token)) {
		const char *what = out->access_token ? "refresh_token"
						     : "access_token";
		hljson_token_finish(out);
		return cv_error(errmsg, CV_EPARSE, "token response lacks %s",
			what);
	}
	return CV_OK;
}

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

void hljson_token_finish(struct hljson_token *t)
{
	if (!t)
		return;
	wipe_free(t->access_token);
	wipe_free(t->refresh_token);
	free(t->location_id);
	free(t->scope);
	free(t->company_id);
	memset(t, 0, sizeof(*t));
	t->expires_in = -1;
}

bool hljson_scope_has(const char *list, const char *scope)
{
	size_t n = strlen(scope);
	for (const char *p = list; p && *p;) {
		p += strspn(p, " \t");
		size_t w = strcspn(p, " \t");
		if (w == n && n > 0 && strncmp(p, scope, n) == 0)
			return true;
		p += w;
	}
	return false;
}

enum cv_err hljson_agents_parse(const char *body, size_t n,
	struct hljson_agents *out, char **errmsg)
{
	memset(out, 0, sizeof(*out));
	out->total = -1;
	json_t *j = load(body, n, errmsg);
	if (!j)
		return CV_EPARSE;
	json_t *list = json_object_get(j, "agents");
	if (!json_is_array(list)) {
		json_decref(j);
		return cv_error(errmsg, CV_EPARSE,
			"agents page has no "
			"\"agents\" array");
	}
	json_t *t = json_object_get(j, "total");
	if (json_is_number(t))
		out->total = cv_count_of(json_number_value(t));
	out->items = xcalloc(json_array_size(list) + 1, sizeof(*out->items));
	size_t i;
	json_t *a;
	json_array_foreach(list, i, a)
	{
		char *id = dup_str(a, "id");
		if (!id)
			id = dup_str(a, "_id");
		if (!id || strlen(id) > CALLLOG_MAX_ID) {
			free(id);
			continue;
		}
		out->items[out->n].id = id;
		out->items[out->n].name = dup_str(a, "agentName");
		out->n++;
	}
	json_decref(j);
	return CV_OK;
}

void hljson_agents_finish(struct hljson_agents *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->items[i].id);
		free(a->items[i].name);
	}
	free(a->items);
	memset(a, 0, sizeof(*a));
}

enum cv_err hljson_installed_parse(const char *body, size_t n,
	struct hljson_installed *out, char **errmsg)
{
	memset(out, 0, sizeof(*out));
	out->count = -1;
	json_t *j = load(body, n, errmsg);
	if (!j)
		return CV_EPARSE;
	json_t *list = json_object_get(j, "locations");
	if (!json_is_array(list)) {
		json_decref(j);
		return cv_error(errmsg, CV_EPARSE,
			"installed locations: no "
			"\"locations\" array");
	}
	json_t *c = json_object_get(j, "count");
	if (json_is_number(c))
		out->count = (int64_t)json_number_value(c);
	out->listed = json_array_size(list);
	out->ids = xcalloc(out->listed + 1, sizeof(*out->ids));
	size_t i;
	json_t *l;
	json_array_foreach(list, i, l)
	{
		char *id = dup_str(l, "_id");
		/* listed but not installed (isInstalled false): skip */
		if (!id || json_is_false(json_object_get(l, "isInstalled"))) {
			free(id);
			continue;
		}
		out->ids[out->n++] = id;
	}
	json_decref(j);
	return CV_OK;
}

void hljson_installed_finish(struct hljson_installed *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < in->n; i++)
		free(in->ids[i]);
	free(in->ids);
	memset(in, 0, sizeof(*in));
}
