/*
 * hljson.h — the JSON that the HighLevel client reads besides call logs:
 * error bodies, OAuth token responses and agent pages (jansson, bounded
 * depth). Call-log pages go through calllog.h.
 */
#ifndef CV_HLJSON_H
#define CV_HLJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define HLJSON_MAX_DEPTH 64

/*
 * HighLevel's error text from an error body: "message" as a string, or an
 * array of strings joined with ", "; else "error"; else NULL. Control
 * characters are replaced and the text is cut to 300 bytes. Caller frees.
 */
char *hljson_error_message(const char *body, size_t n);

/* An OAuth token response; strings owned (free with hljson_token_finish). */
struct hljson_token {
	char *access_token;
	char *refresh_token;
	int64_t expires_in; /* seconds; -1 when absent */
	char *location_id;  /* NULL when absent */
	char *scope;        /* space-separated; NULL when absent */
	char *company_id;   /* NULL when absent */
};
/* CV_EPARSE (with *errmsg) when access_token or refresh_token is missing. */
enum cv_err hljson_token_parse(const char *body, size_t n,
	struct hljson_token *out, char **errmsg) CV_MUST_CHECK;
/* The same; need_refresh false for a reply that may lack a refresh
 * token (POST /oauth/locationToken). */
enum cv_err hljson_token_parse_opt(const char *body, size_t n,
	bool need_refresh, struct hljson_token *out,
	char **errmsg) CV_MUST_CHECK;
void hljson_token_finish(struct hljson_token *t);

/* Whether a space-separated scope list holds scope (whole words only). */
bool hljson_scope_has(const char *list, const char *scope);

struct hljson_agent {
	char *id;
	char *name; /* agentName; NULL when absent */
};
/* One page of GET /voice-ai/agents. */
struct hljson_agents {
	int64_t total; /* -1 when absent */
	size_t n;
	struct hljson_agent *items;
};
enum cv_err hljson_agents_parse(const char *body, size_t n,
	struct hljson_agents *out, char **errmsg) CV_MUST_CHECK;
void hljson_agents_finish(struct hljson_agents *a);

/* A page of GET /oauth/installedLocations: the ids (`_id`) of the
 * locations the app is installed in (isInstalled not false). */
struct hljson_installed {
	int64_t count; /* "count"; -1 when absent */
	size_t listed; /* entries on the page, installed or not */
	size_t n;
	char **ids;
};
enum cv_err hljson_installed_parse(const char *body, size_t n,
	struct hljson_installed *out, char **errmsg) CV_MUST_CHECK;
void hljson_installed_finish(struct hljson_installed *in);

#endif
