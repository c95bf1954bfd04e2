/* console_audit.c — the console's audit entries (console_int.h), written
 * in groups: the requests that finish while one group commits form the
 * next, which one of them commits in a single transaction and fsync. */
#include "console_int.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>

#include "store/store_audit.h"

/* One audit entry waiting for its group's commit. */
struct audit_job {
	const char *actor, *command, *detail, *client;
	int64_t count;
	bool done;
	enum cv_err rc;
	char *err; /* the group's error, the job's copy */
	struct audit_job *next;
};

/* Commit a group of entries on s, in their order, all or none. (A
 * caller inside its own transaction does not come here: see cx_audit().) */
static void audit_group(struct store *s, struct audit_job *group)
{
	char *err = NULL;
	/* s is the leader's: each entry names its own request's client */
	const char *was = store_audit_set_client(s, NULL);
	enum cv_err rc = store_begin(s, &err);
	for (struct audit_job *j = group; j && rc == CV_OK; j = j->next) {
		(void)store_audit_set_client(s, j->client);
		rc = store_audit_append(s, j->actor, j->command, j->detail,
			j->count, &err);
	}
	(void)store_audit_set_client(s, was);
	if (rc == CV_OK)
		rc = store_commit(s, &err);
	if (rc != CV_OK)
		store_rollback(s);
	for (struct audit_job *j = group; j; j = j->next) {
		j->rc = rc;
		j->err = rc != CV_OK && err ? xstrdup(err) : NULL;
	}
	free(err);
}

/* Add j to the next group and wait until a group holding it commits;
 * the first to find no group committing commits the waiting ones. */
static void audit_wait(struct console *c, struct store *s, struct audit_job *j)
{
	pthread_mutex_lock(&c->audit_mu);
	*c->audit_tail = j;
	c->audit_tail = &j->next;
	while (!j->done) {
		if (c->audit_busy) {
			pthread_cond_wait(&c->audit_cv, &c->audit_mu);
			continue;
		}
		struct audit_job *group = c->audit_head;
		c->audit_head = NULL;
		c->audit_tail = &c->audit_head;
		c->audit_busy = true;
		pthread_mutex_unlock(&c->audit_mu);
		audit_group(s, group);
		pthread_mutex_lock(&c->audit_mu);
		for (struct audit_job *g = group; g; g = g->next)
			g->done = true;
		c->audit_busy = false;
		pthread_cond_broadcast(&c->audit_cv);
	}
	pthread_mutex_unlock(&c->audit_mu);
}

/* Append an audit entry for the current user; false (and a 503) when
 * it cannot be written: nothing is shown that is not audited. */
bool cx_audit(struct ctx *x, const char *command, json_t *detail, int64_t count)
{
	json_object_set_new(detail, "via", json_string("console"));
	char *d = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(detail);
	cx_admit_leave(x);
	struct audit_job j = { .actor = x->user ? x->user : "-",
		.command = command,
		.detail = d,
		.count = count,
		.client = x->client };
	if (store_tx_active(x->s)) {
		/* part of the caller's transaction, committed with it */
		j.rc = store_audit_append(x->s, j.actor, command, d, count,
			&j.err);
	} else {
		audit_wait(x->c, x->s, &j);
	}
	free(d);
	enum cv_err rc = j.rc;
	char *err = j.err;
	if (rc != CV_OK) {
		cv_warn("msg=\"console: audit append failed\" err=\"%s\"",
			err ? err : cv_strerror(rc));
		cx_reply_error(x, 503,
			"the audit log cannot be written; "
			"try again");
	}
	free(err);
	if (rc == CV_OK)
		x->audited = true;
	return rc == CV_OK;
}
