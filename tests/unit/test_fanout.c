/* test_fanout.c — every lane sees every chunk, in order, with its tag;
 * a slot is never refilled while a lane still reads it; a failing lane
 * stops being called and is reported; destroy finishes what was pushed. */
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fanout.h"
#include "t.h"

enum { SLOTS = 3, SLOT_SIZE = 4096, CHUNKS = 2000 };

struct seen {
	uint64_t chunks, bytes, bad, tags;
	uint64_t fail_at; /* fail on this chunk (1-based), 0 = never */
	uint64_t calls;
	int slow; /* yield now and then: the ring fills up */
};

/* chunk k: n = k % SLOT_SIZE bytes, byte i = (k * 31 + i) & 0xff */
static size_t chunk_len(uint64_t k)
{
	return (size_t)((k * 7919) % (SLOT_SIZE + 1));
}

static bool lane(void *arg, const void *p, size_t n, void *tag)
{
	struct seen *s = arg;
	uint64_t k = s->chunks++;
	s->calls++;
	const unsigned char *c = p;
	if (n != chunk_len(k))
		s->bad++;
	for (size_t i = 0; i < n; i++)
		if (c[i] != (unsigned char)((k * 31 + i) & 0xff)) {
			s->bad++;
			break;
		}
	if (tag) {
		if ((uintptr_t)tag != k + 1)
			s->bad++;
		s->tags++;
	}
	s->bytes += n;
	if (s->slow && k % 50 == 0)
		usleep(200);
	else if (s->slow)
		sched_yield();
	if (s->fail_at && k + 1 == s->fail_at) {
		s->chunks = 0; /* not counted any more: the lane is failed */
		return false;
	}
	return true;
}

static uint64_t produce(struct fanout *f, uint64_t from, uint64_t to)
{
	uint64_t bytes = 0;
	for (uint64_t k = from; k < to; k++) {
		unsigned char *c = fanout_slot(f);
		size_t n = chunk_len(k);
		for (size_t i = 0; i < n; i++)
			c[i] = (unsigned char)((k * 31 + i) & 0xff);
		/* every fifth chunk ends a "file" */
		fanout_push(f, n,
			k % 5 == 0 ? (void *)(uintptr_t)(k + 1) : NULL);
		bytes += n;
	}
	return bytes;
}

static void test_order(void)
{
	struct seen s[3] = { { .slow = 0 }, { .slow = 1 }, { .slow = 0 } };
	fanout_fn *const fns[] = { lane, lane, lane };
	void *const args[] = { &s[0], &s[1], &s[2] };
	struct fanout *f = fanout_create(SLOTS, SLOT_SIZE, 3, fns, args);
	uint64_t bytes = produce(f, 0, CHUNKS);
	CHECK(fanout_drain(f));
	CHECK(!fanout_failed(f));
	for (int i = 0; i < 3; i++) {
		CHECK_INT(s[i].chunks, CHUNKS);
		CHECK_INT(s[i].bytes, bytes);
		CHECK_INT(s[i].bad, 0);
		CHECK_INT(s[i].tags, CHUNKS / 5);
	}
	/* more after a drain, in the same order */
	bytes += produce(f, CHUNKS, CHUNKS + 10);
	CHECK(fanout_drain(f));
	CHECK_INT(s[1].chunks, CHUNKS + 10);
	CHECK_INT(s[1].bad, 0);
	fanout_destroy(f);
}

static void test_failure(void)
{
	struct seen s[2] = { { .fail_at = 7 }, { .slow = 1 } };
	fanout_fn *const fns[] = { lane, lane };
	void *const args[] = { &s[0], &s[1] };
	struct fanout *f = fanout_create(SLOTS, SLOT_SIZE, 2, fns, args);
	produce(f, 0, 100);
	CHECK(!fanout_drain(f));
	CHECK(fanout_failed(f));
	CHECK_INT(s[0].calls, 7);    /* not called after it failed */
	CHECK_INT(s[1].chunks, 100); /* the other lane saw everything */
	CHECK_INT(s[1].bad, 0);
	fanout_destroy(f);
}

static void test_destroy_finishes(void)
{
	struct seen s = { .slow = 1 };
	fanout_fn *const fns[] = { lane };
	void *const args[] = { &s };
	struct fanout *f = fanout_create(SLOTS, SLOT_SIZE, 1, fns, args);
	produce(f, 0, 40);
	fanout_destroy(f); /* no drain first */
	CHECK_INT(s.chunks, 40);
	CHECK_INT(s.bad, 0);
	fanout_destroy(NULL);
}

int main(void)
{
	test_order();
	test_failure();
	test_destroy_finishes();
	return t_done();
}
