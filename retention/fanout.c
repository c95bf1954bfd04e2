/* fanout.c — see fanout.h */
#include "fanout.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "util.h"

struct slot {
	char *p;
	size_t n;
	void *tag;
	unsigned pending; /* lanes yet to see it */
};

struct lane {
	struct fanout *f;
	pthread_t th;
	fanout_fn *fn;
	void *arg;
	uint64_t next; /* the next chunk to take */
	bool failed;
};

struct fanout {
	pthread_mutex_t mu;
	pthread_cond_t more; /* lanes wait: a chunk, or stop */
	pthread_cond_t done; /* the producer waits: a slot freed */
	struct slot *slots;
	size_t nslots, slot_size;
	struct lane *lanes;
	size_t nlanes;
	uint64_t pushed; /* chunk k is in slot k % nslots */
	bool stop, failed;
};

static void *lane_main(void *arg)
{
	struct lane *l = arg;
	struct fanout *f = l->f;
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!f->stop && l->next == f->pushed)
			pthread_cond_wait(&f->more, &f->mu);
		if (l->next == f->pushed)
			break; /* stopped, and nothing left */
		struct slot *s = &f->slots[l->next % f->nslots];
		pthread_mutex_unlock(&f->mu);
		/* the producer leaves the slot alone until pending is 0 */
		bool ok = l->failed || l->fn(l->arg, s->p, s->n, s->tag);
		pthread_mutex_lock(&f->mu);
		if (!ok)
			l->failed = f->failed = true;
		l->next++;
		if (--s->pending == 0)
			pthread_cond_signal(&f->done);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

struct fanout *fanout_create(size_t nslots, size_t slot_size, size_t nlanes,
	fanout_fn *const fns[], void *const args[])
{
	if (nslots < 1 || slot_size < 1 || nlanes < 1 || nlanes > 8)
		abort();
	struct fanout *f = xcalloc(1, sizeof(*f));
	if (pthread_mutex_init(&f->mu, NULL) ||
		pthread_cond_init(&f->more, NULL) ||
		pthread_cond_init(&f->done, NULL))
		abort();
	f->nslots = nslots;
	f->slot_size = slot_size;
	f->slots = xcalloc(nslots, sizeof(*f->slots));
	for (size_t i = 0; i < nslots; i++)
		f->slots[i].p = xmalloc(slot_size);
	f->nlanes = nlanes;
	f->lanes = xcalloc(nlanes, sizeof(*f->lanes));
	for (size_t i = 0; i < nlanes; i++) {
		struct lane *l = &f->lanes[i];
		*l = (struct lane){ .f = f, .fn = fns[i], .arg = args[i] };
		if (pthread_create(&l->th, NULL, lane_main, l))
			abort(); /* no threads: nothing sensible left to do */
	}
	return f;
}

void *fanout_slot(struct fanout *f)
{
	struct slot *s = &f->slots[f->pushed % f->nslots];
	pthread_mutex_lock(&f->mu);
	while (s->pending)
		pthread_cond_wait(&f->done, &f->mu);
	pthread_mutex_unlock(&f->mu);
	return s->p;
}

void fanout_push(struct fanout *f, size_t n, void *tag)
{
	struct slot *s = &f->slots[f->pushed % f->nslots];
	if (n > f->slot_size)
		abort();
	pthread_mutex_lock(&f->mu);
	while (s->pending) /* not asked for with fanout_slot: wait here */
		pthread_cond_wait(&f->done, &f->mu);
	s->n = n;
	s->tag = tag;
	s->pending = (unsigned)f->nlanes;
	f->pushed++;
	pthread_cond_broadcast(&f->more);
	pthread_mutex_unlock(&f->mu);
}

bool fanout_drain(struct fanout *f)
{
	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->nslots; i++)
		while (f->slots[i].pending)
			pthread_cond_wait(&f->done, &f->mu);
	bool ok = !f->failed;
	pthread_mutex_unlock(&f->mu);
	return ok;
}

bool fanout_failed(struct fanout *f)
{
	pthread_mutex_lock(&f->mu);
	bool failed = f->failed;
	pthread_mutex_unlock(&f->mu);
	return failed;
}

void fanout_destroy(struct fanout *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_broadcast(&f->more);
	pthread_mutex_unlock(&f->mu);
	for (size_t i = 0; i < f->nlanes; i++)
		pthread_join(f->lanes[i].th, NULL);
	for (size_t i = 0; i < f->nslots; i++)
		free(f->slots[i].p);
	free(f->slots);
	free(f->lanes);
	pthread_cond_destroy(&f->more);
	pthread_cond_destroy(&f->done);
	pthread_mutex_destroy(&f->mu);
	free(f);
}
