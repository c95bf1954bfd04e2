/* console.c — see console.h and console_int.h: the console, its pool of
 * store connections, the admission of searches, and one request's life
 * (console_handle). The routes are in console_routes.c. */
#include "console_int.h"

#include <jansson.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "login_gate.h"
#include "store/store.h"
#include "store/store_audit.h"

enum cv_err console_create(struct console **out,
	const struct console_config *cfg, char **errmsg)
{
	struct console *c = xcalloc(1, sizeof(*c));
	c->cfg = *cfg;
	if (!c->cfg.idle_ms)
		c->cfg.idle_ms = 30 * 60 * 1000;
	if (!c->cfg.absolute_ms)
		c->cfg.absolute_ms = 12 * 3600 * 1000;
	if (!c->cfg.max_failures)
		c->cfg.max_failures = 5;
	if (!c->cfg.failure_window_ms)
		c->cfg.failure_window_ms = 15 * 60 * 1000;
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->audit_mu, NULL);
	pthread_cond_init(&c->audit_cv, NULL);
	c->audit_tail = &c->audit_head;
	for (int i = 0; i < ADMIT_CVS; i++)
		pthread_cond_init(&c->admit_cv[i], NULL);
	/* the CPUs this process may run on (its affinity, which a
	 * container's cpuset limits), not the machine's */
	cpu_set_t set;
	long cpus = sched_getaffinity(0, sizeof(set), &set) == 0
			    ? CPU_COUNT(&set)
			    : sysconf(_SC_NPROCESSORS_ONLN);
	c->slots = cpus < 1 ? 1 : cpus > 64 ? 64 : (int)cpus;
	/* half the cores at most check passwords; the rest answer webhooks
	 * whatever the logins do */
	c->gate = login_gate_create(c->cfg.max_failures,
		c->slots / 2 < 1 ? 1 : c->slots / 2, LOGIN_QUEUE);
	/* fail early when the store cannot be opened */
	struct store *s = NULL;
	enum cv_err rc = store_open(&s, cfg->db_path, STORE_NOCREATE, errmsg);
	if (rc != CV_OK) {
		console_destroy(c);
		return rc;
	}
	store_audit_set_os_user(s, c->cfg.os_user);
	store_audit_set_key(s, c->cfg.audit_key);
	c->pool[c->n_pool++] = s;
	*out = c;
	return CV_OK;
}

void console_destroy(struct console *c)
{
	if (!c)
		return;
	/* the server has closed its connections: a stream still writing
	 * fails on its pipe at its next write and ends. It uses the console
	 * (its store goes back to the pool), so wait for it however long
	 * its query runs between writes. */
	for (int i = 0;; i++) {
		pthread_mutex_lock(&c->mu);
		int n = c->streams;
		pthread_mutex_unlock(&c->mu);
		if (n == 0)
			break;
		if (i == 3000)
			cv_warn("msg=\"console: waiting for %d export(s) to "
				"end\"",
				n);
		usleep(10 * 1000);
	}
	for (size_t i = 0; i < c->n_pool; i++)
		store_close(c->pool[i]);
	login_gate_destroy(c->gate);
	pthread_mutex_destroy(&c->mu);
	pthread_mutex_destroy(&c->audit_mu);
	pthread_cond_destroy(&c->audit_cv);
	for (int i = 0; i < ADMIT_CVS; i++)
		pthread_cond_destroy(&c->admit_cv[i]);
	free(c);
}

struct store *cx_store_take(struct console *c, char **errmsg)
{
	struct store *s = NULL;
	pthread_mutex_lock(&c->mu);
	if (c->n_pool)
		s = c->pool[--c->n_pool];
	pthread_mutex_unlock(&c->mu);
	if (!s &&
		store_open(&s, c->cfg.db_path, STORE_NOCREATE, errmsg) != CV_OK)
		return NULL;
	store_audit_set_os_user(s, c->cfg.os_user);
	store_audit_set_key(s, c->cfg.audit_key);
	return s;
}

void cx_store_give(struct console *c, struct store *s)
{
	if (s) /* the client was the request's */
		(void)store_audit_set_client(s, NULL);
	pthread_mutex_lock(&c->mu);
	if (c->n_pool < POOL_MAX) {
		c->pool[c->n_pool++] = s;
		s = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	store_close(s);
}

int64_t console_login_checks(struct console *c)
{
	return login_gate_checks(c->gate);
}

void console_response_finish(struct console_response *res)
{
	buf_finish(&res->body);
	free(res->set_cookie);
	free(res->disposition);
	free(res->content_range);
	if (res->has_file)
		close(res->file_fd);
}

/* ---- admission --------------------------------------------------- */

/* Give the search slot back (once): the audit append that follows the
 * search waits for the disk, not for a core. */
void cx_admit_leave(struct ctx *x)
{
	struct console *c = x->c;
	if (!x->admitted)
		return;
	x->admitted = false;
	pthread_mutex_lock(&c->mu);
	/* the ticket this admits: done + slots - 1 after the increment */
	uint64_t next = c->admit_done++ + (uint64_t)c->slots;
	pthread_cond_broadcast(&c->admit_cv[next % ADMIT_CVS]);
	pthread_mutex_unlock(&c->mu);
}

/* Wait for a search slot (FIFO), run fn, give the slot back. */
void cx_admitted(struct ctx *x, void (*fn)(struct ctx *, const char *),
	const char *arg)
{
	struct console *c = x->c;
	/* wait without a connection: the admitted requests then run on the
	 * most recently used ones (the pool is a stack), whose page caches
	 * are warm, instead of on 32 cold ones */
	cx_store_give(c, x->s);
	x->s = NULL;
	pthread_mutex_lock(&c->mu);
	uint64_t ticket = c->admit_next++;
	while (ticket >= c->admit_done + (uint64_t)c->slots)
		pthread_cond_wait(&c->admit_cv[ticket % ADMIT_CVS], &c->mu);
	pthread_mutex_unlock(&c->mu);
	x->admitted = true;
	char *err = NULL;
	if ((x->s = cx_store_take(c, &err)) != NULL) {
		(void)store_audit_set_client(x->s, x->client);
		fn(x, arg);
	} else
		cx_reply_error(x, 503,
			err ? err : "the store cannot be opened");
	free(err);
	cx_admit_leave(x);
}

void console_handle(struct console *c, const struct console_request *req,
	struct console_response *res)
{
	memset(res, 0, sizeof(*res));
	buf_init(&res->body);
	struct ctx x = { .c = c, .req = req, .res = res };
	cx_find_client(&x);
	cx_route(&x);
	if (x.s)
		cx_store_give(c, x.s);
	free(x.user);
	free(x.role);
	free(x.csrf);
	for (size_t i = 0; i < x.n_owned; i++)
		free(x.owned[i]);
}
