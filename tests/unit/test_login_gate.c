/*
 * test_login_gate.c — src/login_gate.c: attempts counted before the
 * check (40 at once for one key: at most the limit let through), checks
 * bounded to the slots, the queue bounded, failures recorded before
 * leaving never missed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "login_gate.h"
#include "t.h"

struct world {
	struct login_gate *g;
	atomic_int recorded;      /* failures "in the store" */
	atomic_int running, most; /* checks running now, at most */
	pthread_barrier_t go;
	const char *user; /* NULL: a key of each thread's own */
	atomic_int ok, limited, busy;
};

static bool count(void *arg, const char *key, int64_t *n)
{
	struct world *w = arg;
	/* every failure here is the shared user's or the shared address's */
	*n = strncmp(key, "user:u", 6) == 0 || strcmp(key, "addr:a") == 0
		     ? atomic_load(&w->recorded)
		     : 0;
	return true;
}

struct attempt {
	struct world *w;
	int i;
};

static void *attempt_run(void *arg)
{
	struct attempt *a = arg;
	struct world *w = a->w;
	char ukey[32];
	if (w->user)
		snprintf(ukey, sizeof(ukey), "user:%s", w->user);
	else
		snprintf(ukey, sizeof(ukey), "user:x%d", a->i);
	const char *keys[1] = { ukey };
	pthread_barrier_wait(&w->go);
	enum login_gate_verdict v = login_gate_enter(w->g, keys, 1, count, w);
	if (v == LOGIN_GATE_OK) {
		int now = atomic_fetch_add(&w->running, 1) + 1;
		for (int m = atomic_load(&w->most);
			now > m &&
			!atomic_compare_exchange_weak(&w->most, &m, now);)
			;
		usleep(20 * 1000); /* the password check */
		atomic_fetch_sub(&w->running, 1);
		atomic_fetch_add(&w->recorded, 1); /* a wrong password */
		login_gate_leave(w->g, keys, 1);
		atomic_fetch_add(&w->ok, 1);
	} else {
		atomic_fetch_add(v == LOGIN_GATE_BUSY ? &w->busy : &w->limited,
			1);
	}
	return NULL;
}

static void burst(struct world *w, int n)
{
	pthread_t th[64];
	struct attempt a[64];
	pthread_barrier_init(&w->go, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		a[i] = (struct attempt){ w, i };
		pthread_create(&th[i], NULL, attempt_run, &a[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&w->go);
}

int main(void)
{
	/* 40 wrong passwords for one user at once, limit 5, room for all */
	struct world w = { .g = login_gate_create(5, 2, 60), .user = "u" };
	burst(&w, 40);
	CHECK_MSG(w.ok == 5, "%d checked", atomic_load(&w.ok));
	CHECK_INT(w.limited, 35);
	CHECK_MSG(w.most <= 2, "%d checks at once", atomic_load(&w.most));
	CHECK_INT(login_gate_checks(w.g), 5);
	/* recorded failures count once the attempts have left */
	w.ok = w.limited = 0;
	burst(&w, 4);
	CHECK_INT(w.ok, 0);
	CHECK_INT(w.limited, 4);
	login_gate_destroy(w.g);

	/* 40 users at once: one check at a time, 3 wait, the rest busy */
	struct world v = { .g = login_gate_create(5, 1, 3) };
	burst(&v, 40);
	CHECK_MSG(v.most == 1, "%d checks at once", atomic_load(&v.most));
	CHECK_MSG(v.ok >= 1 && v.ok <= 40, "%d checked", atomic_load(&v.ok));
	CHECK_INT(v.ok + v.busy, 40);
	CHECK_INT(v.limited, 0);
	CHECK_MSG(v.busy > 0, "the queue was never full");
	login_gate_destroy(v.g);
	login_gate_destroy(NULL);
	return t_done();
}
