/*
 * credcheck.h — what a location's credentials can do, found out before
 * they are stored (`callvault location add`): one cheap request per
 * endpoint callvault reads (a call-log page of one record in a one-minute
 * window, an agents page of one record) and, for OAuth, the location and
 * the scopes that the token reply names.
 */
#ifndef CV_CREDCHECK_H
#define CV_CREDCHECK_H

#include <stdbool.h>

#include "auth.h"
#include "common.h"
#include "highlevel.h"
#include "store/store_sync.h"

/* The scopes callvault's features need (README, "Credentials"). */
#define CC_SCOPE_CALLS "voice-ai-dashboard.readonly"
#define CC_SCOPE_AGENTS "voice-ai-agents.readonly"
#define CC_SCOPE_RECORDINGS "conversations/message.readonly"

enum credcheck_state {
	CC_NOT_CHECKED,
	CC_OK,
	CC_GRANTED,       /* named in the OAuth scope list, not requested */
	CC_MISSING_SCOPE, /* 401 "not authorized for this scope", 403, or
			      absent from the OAuth scope list */
	CC_REFUSED,       /* any other refusal (4xx) */
	CC_UNKNOWN,       /* no answer: transport, 5xx, 429 past retries */
};

enum { CC_CALLS, CC_AGENTS, CC_RECORDINGS, CC__N };

struct credcheck_item {
	const char *what;  /* "call logs", "agents", "recordings" */
	const char *scope; /* the scope the feature needs */
	enum credcheck_state state;
	char *detail; /* the server's words or NULL; no secret */
};

struct credcheck {
	struct credcheck_item item[CC__N];
	bool oauth;
	bool scope_listed;    /* the OAuth reply had a scope list */
	char *token_location; /* OAuth: the reply's locationId when it is
				      not the location's; else NULL */
	int requests;
};

void credcheck_init(struct credcheck *c);
void credcheck_finish(struct credcheck *c);

/*
 * Check loc's credentials, opened as a (an OAuth token is refreshed, its
 * new pair saved in loc's secrets directory as sync would). 429, 5xx and
 * transport failures are retried twice, after the server's Retry-After
 * (at most 10 s). Returns CV_OK when the checks ran (results in c), else
 * auth_token()'s error (CV_EAUTH: refresh refused; CV_EHTTP: the token
 * endpoint could not be reached) with *errmsg set.
 */
enum cv_err credcheck_run(const struct store_location *loc, struct auth *a,
	const struct hl_client_opts *http, struct credcheck *c,
	char **errmsg) CV_MUST_CHECK;

/* "call logs: ok; agents: missing scope voice-ai-agents.readonly;
 * recordings: not checked" (caller frees). */
char *credcheck_summary(const struct credcheck *c);

/*
 * The verdict on the location's credentials: CV_OK when call logs can be
 * read; CV_EAUTH when they cannot (another location's token, a missing
 * scope, a refused token); CV_EHTTP when it could not be found out. Sets
 * *why (caller frees) unless CV_OK.
 */
enum cv_err credcheck_verdict(const struct credcheck *c, const char *loc,
	char **why);

#endif
