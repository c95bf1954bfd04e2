/* login_gate.c — see login_gate.h */
#include "login_gate.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* One key with attempts in flight. */
struct pending {
	char *key;
	int n;
};

struct login_gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int max_failures, slots, queue;
	int running, waiting; /* checks running, waiting for a slot */
	struct pending *p;    /* (slots + queue) * 2 entries */
	size_t cap;
	int64_t checks;
};

struct login_gate *login_gate_create(int max_failures, int slots, int queue)
{
	struct login_gate *g = xcalloc(1, sizeof(*g));
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->max_failures = max_failures;
	g->slots = slots < 1 ? 1 : slots;
	g->queue = queue < 0 ? 0 : queue;
	/* every attempt in flight holds at most 2 keys */
	g->cap = (size_t)(g->slots + g->queue) * 2;
	g->p = xcalloc(g->cap, sizeof(*g->p));
	return g;
}

void login_gate_destroy(struct login_gate *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->cap; i++)
		free(g->p[i].key);
	free(g->p);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	free(g);
}

static struct pending *find(struct login_gate *g, const char *key)
{
	for (size_t i = 0; i < g->cap; i++)
		if (g->p[i].key && strcmp(g->p[i].key, key) == 0)
			return &g->p[i];
	return NULL;
}

static void add(struct login_gate *g, const char *key)
{
	struct pending *e = find(g, key);
	for (size_t i = 0; !e && i < g->cap; i++)
		if (!g->p[i].key) {
			e = &g->p[i];
			e->key = xstrdup(key);
		}
	e->n++; /* cap covers every key of every attempt admitted */
}

enum login_gate_verdict login_gate_enter(struct login_gate *g,
	const char *const *keys, int n,
	bool (*count)(void *arg, const char *key, int64_t *recorded), void *arg)
{
	enum login_gate_verdict v = LOGIN_GATE_OK;
	pthread_mutex_lock(&g->mu);
	if (g->running + g->waiting >= g->slots + g->queue || n > 2)
		v = LOGIN_GATE_BUSY;
	for (int i = 0; i < n && v == LOGIN_GATE_OK; i++) {
		const struct pending *e = find(g, keys[i]);
		int64_t rec = 0;
		if (!count(arg, keys[i], &rec) ||
			rec + (e ? e->n : 0) >= g->max_failures)
			v = LOGIN_GATE_LIMITED;
	}
	if (v == LOGIN_GATE_OK) {
		for (int i = 0; i < n; i++)
			add(g, keys[i]);
		g->waiting++;
		while (g->running >= g->slots)
			pthread_cond_wait(&g->cv, &g->mu);
		g->waiting--;
		g->running++;
		g->checks++;
	}
	pthread_mutex_unlock(&g->mu);
	return v;
}

void login_gate_leave(struct login_gate *g, const char *const *keys, int n)
{
	pthread_mutex_lock(&g->mu);
	for (int i = 0; i < n; i++) {
		struct pending *e = find(g, keys[i]);
		if (e && --e->n == 0) {
			free(e->key);
			e->key = NULL;
		}
	}
	g->running--;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

int64_t login_gate_checks(struct login_gate *g)
{
	pthread_mutex_lock(&g->mu);
	int64_t n = g->checks;
	pthread_mutex_unlock(&g->mu);
	return n;
}
