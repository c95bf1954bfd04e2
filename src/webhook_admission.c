/* webhook_admission.c — see webhook_admission.h */
#include "webhook_admission.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util.h"

#define N_BUCKETS 1024
/* When the server is full, a connection receiving for less than this is
 * not displaced to make room (unless its address is over its share): a
 * genuine request is whole within a round trip of its connection's
 * start. A new connection finding none older takes one of the spare
 * slots, and has as long to deliver its request whole. */
#define GRACE_MS 100
/* An address's receiving connections beyond its share are closed once
 * they are this old (a burst of new ones from a busy proxy is left be). */
#define ADDR_GRACE_MS 1000

/* One client address: IPv4 as an IPv4-mapped IPv6 address, IPv6 cut to
 * its /64 (one host is given a whole /64, so its addresses are one). */
struct addr {
	unsigned char key[16];
	unsigned receiving; /* its connections on its list */
	unsigned open;      /* all its connections */
	size_t buffered;
	struct adm_conn *head, *tail; /* receiving, oldest first */
	struct addr *next;            /* hash chain */
};

struct adm_conn {
	struct addr *addr;
	int fd;
	int64_t since_ms;               /* receiving since */
	bool receiving;                 /* on the lists below */
	bool cut;                       /* shut down; closing */
	bool spare;                     /* came in when the server was full */
	struct adm_conn *prev, *next;   /* all receiving, oldest first */
	struct adm_conn *aprev, *anext; /* its address's */
};

struct admission {
	struct admission_opts o;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t watcher;
	bool stopping;
	struct adm_conn *head, *tail; /* receiving, oldest first */
	unsigned live;                /* open and not cut */
	unsigned receiving;           /* on the list */
	unsigned over;                /* addresses over their share */
	size_t buffered;
	struct admission_counts counts;
	struct addr *buckets[N_BUCKETS];
	uint64_t seed; /* of addr_hash */
};

static void addr_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &in->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		const unsigned char *b = in6->sin6_addr.s6_addr;
		bool mapped = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);
		memcpy(key, b, mapped ? 16 : 8);
	}
}

static uint64_t mix64(uint64_t x) /* MurmurHash3's finaliser */
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	return x ^ (x >> 33);
}

/* Keyed with a secret drawn at start: a client choosing its addresses
 * (IPv6 gives it many) cannot pile them into one chain. */
static unsigned addr_hash(const struct admission *a,
	const unsigned char key[16])
{
	uint64_t w[2];
	memcpy(w, key, 16);
	return (unsigned)(mix64(mix64(a->seed ^ w[0]) ^ w[1]) % N_BUCKETS);
}

static struct addr *addr_get(struct admission *a, const unsigned char key[16])
{
	struct addr **slot = &a->buckets[addr_hash(a, key)];
	for (struct addr *e = *slot; e; e = e->next)
		if (memcmp(e->key, key, 16) == 0)
			return e;
	struct addr *e = xcalloc(1, sizeof(*e));
	memcpy(e->key, key, 16);
	e->next = *slot;
	*slot = e;
	return e;
}

/* Free e when nothing refers to it any more. */
static void addr_put(struct admission *a, struct addr *e)
{
	if (e->open || e->buffered)
		return;
	struct addr **p = &a->buckets[addr_hash(a, e->key)];
	while (*p != e)
		p = &(*p)->next;
	*p = e->next;
	free(e);
}

static void link_receiving(struct admission *a, struct adm_conn *c)
{
	struct addr *e = c->addr;
	c->since_ms = cv_mono_ms();
	c->receiving = true;
	c->next = NULL;
	c->prev = a->tail;
	if (a->tail)
		a->tail->next = c;
	else
		a->head = c;
	a->tail = c;
	c->anext = NULL;
	c->aprev = e->tail;
	if (e->tail)
		e->tail->anext = c;
	else
		e->head = c;
	e->tail = c;
	if (++e->receiving == a->o.per_addr_conns + 1)
		a->over++;
	a->receiving++;
}

static void unlink_receiving(struct admission *a, struct adm_conn *c)
{
	struct addr *e = c->addr;
	if (!c->receiving)
		return;
	c->receiving = false;
	*(c->prev ? &c->prev->next : &a->head) = c->next;
	*(c->next ? &c->next->prev : &a->tail) = c->prev;
	*(c->aprev ? &c->aprev->anext : &e->head) = c->anext;
	*(c->anext ? &c->anext->aprev : &e->tail) = c->aprev;
	c->prev = c->next = c->aprev = c->anext = NULL;
	if (e->receiving-- == a->o.per_addr_conns + 1)
		a->over--;
	a->receiving--;
}

/* Shut c's socket down: libmicrohttpd sees the end of the stream and
 * closes the connection (admission_close comes later, under a->mu, and
 * only then is the socket closed, so fd is still c's here). */
static void cut(struct admission *a, struct adm_conn *c, uint64_t *counter)
{
	unlink_receiving(a, c);
	c->cut = true;
	a->live--;
	(*counter)++;
	shutdown(c->fd, SHUT_RDWR);
}

/* Who makes room for c when the server is full: the oldest receiving
 * connection of an address over its share, at any age; else the oldest
 * receiving connection if it began before old; else nobody. */
static struct adm_conn *victim(struct admission *a, struct adm_conn *c,
	int64_t old)
{
	for (struct adm_conn *x = a->head; x && a->over; x = x->next)
		if (x != c && x->addr->receiving > a->o.per_addr_conns)
			return x;
	return a->head != c && a->head->since_ms <= old ? a->head : NULL;
}

struct adm_conn *admission_open(struct admission *a, const struct sockaddr *sa,
	int fd)
{
	unsigned char key[16];
	addr_key(sa, key);
	struct adm_conn *c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	pthread_mutex_lock(&a->mu);
	c->addr = addr_get(a, key);
	c->addr->open++;
	a->live++;
	link_receiving(a, c);
	int64_t old = c->since_ms - GRACE_MS;
	/* the address's oldest receiving connection makes room: a sender
	 * with many idle keep-alive connections loses its oldest, a
	 * client opening slow ones holds at most per_addr_conns (and the
	 * watcher trims the rest once they are a second old) */
	struct adm_conn *h = c->addr->head;
	if (c->addr->receiving > a->o.per_addr_conns &&
		h->since_ms <= c->since_ms - ADDR_GRACE_MS)
		cut(a, h, &a->counts.per_address);
	/* full: a receiving connection elsewhere makes room; none (only
	 * authenticated work and requests just begun are open): this one
	 * takes a spare slot for the grace period */
	if (a->live > a->o.max_live) {
		struct adm_conn *v = victim(a, c, old);
		if (v && v->addr->receiving > a->o.per_addr_conns)
			cut(a, v, &a->counts.per_address);
		else if (v)
			cut(a, v, &a->counts.evicted);
		else
			c->spare = true;
	}
	pthread_mutex_unlock(&a->mu);
	return c;
}

void admission_close(struct admission *a, struct adm_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&a->mu);
	unlink_receiving(a, c);
	if (!c->cut)
		a->live--;
	c->addr->open--;
	addr_put(a, c->addr);
	pthread_mutex_unlock(&a->mu);
	free(c);
}

bool admission_full(struct admission *a, struct adm_conn *c)
{
	if (!c || !c->spare)
		return false;
	pthread_mutex_lock(&a->mu);
	/* nothing but this one receiving: all else is answering */
	bool full = a->receiving == (c->receiving ? 1u : 0u);
	if (full)
		a->counts.full++;
	pthread_mutex_unlock(&a->mu);
	return full;
}

void admission_busy(struct admission *a, struct adm_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&a->mu);
	unlink_receiving(a, c);
	pthread_mutex_unlock(&a->mu);
}

void admission_idle(struct admission *a, struct adm_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&a->mu);
	if (!c->cut && !c->receiving)
		link_receiving(a, c);
	c->spare = false;
	pthread_mutex_unlock(&a->mu);
}

static bool room(const struct admission *a, const struct adm_conn *c, size_t n)
{
	if (n > a->o.max_buffered - a->buffered)
		return false;
	return !c || n <= a->o.per_addr_buffered - c->addr->buffered;
}

bool admission_fits(struct admission *a, const struct adm_conn *c, size_t n)
{
	pthread_mutex_lock(&a->mu);
	bool ok = room(a, c, n);
	pthread_mutex_unlock(&a->mu);
	return ok;
}

bool admission_reserve(struct admission *a, struct adm_conn *c, size_t n)
{
	pthread_mutex_lock(&a->mu);
	bool ok = room(a, c, n);
	if (ok) {
		a->buffered += n;
		if (c)
			c->addr->buffered += n;
	}
	pthread_mutex_unlock(&a->mu);
	return ok;
}

void admission_release(struct admission *a, struct adm_conn *c, size_t n)
{
	pthread_mutex_lock(&a->mu);
	a->buffered -= n;
	if (c) {
		c->addr->buffered -= n;
		addr_put(a, c->addr); /* kept while it holds anything */
	}
	pthread_mutex_unlock(&a->mu);
}

void admission_render(struct admission *a, struct buf *out)
{
	pthread_mutex_lock(&a->mu);
	struct admission_counts n = a->counts;
	unsigned live = a->live;
	size_t buffered = a->buffered;
	pthread_mutex_unlock(&a->mu);
	buf_printf(out,
		"# HELP callvault_webhook_connections_cut_total Connections "
		"closed before a whole request, by reason.\n"
		"# TYPE callvault_webhook_connections_cut_total counter\n"
		"callvault_webhook_connections_cut_total{reason=\"deadline\"} "
		"%llu\n"
		"callvault_webhook_connections_cut_total{reason=\"per_address"
		"\"} %llu\n"
		"callvault_webhook_connections_cut_total{reason=\"evicted\"} "
		"%llu\n"
		"# HELP callvault_webhook_connections_full_total Requests "
		"answered 429 because every other connection was answering.\n"
		"# TYPE callvault_webhook_connections_full_total counter\n"
		"callvault_webhook_connections_full_total %llu\n"
		"# HELP callvault_webhook_connections Open connections.\n"
		"# TYPE callvault_webhook_connections gauge\n"
		"callvault_webhook_connections %u\n"
		"# HELP callvault_webhook_buffered_bytes Request body bytes "
		"held in memory.\n"
		"# TYPE callvault_webhook_buffered_bytes gauge\n"
		"callvault_webhook_buffered_bytes %zu\n",
		(unsigned long long)n.deadline,
		(unsigned long long)n.per_address,
		(unsigned long long)n.evicted, (unsigned long long)n.full, live,
		buffered);
}

/* Addresses over their share of receiving connections lose the oldest
 * of them that are past the grace period; connections that took a spare
 * slot and have not delivered a request within it are closed, to keep
 * the spare slots free for new connections. */
static void trim(struct admission *a, int64_t now)
{
	struct adm_conn *c = a->head, *next;
	for (; c && c->since_ms <= now - GRACE_MS; c = next) {
		next = c->next;
		if (c->spare)
			cut(a, c, &a->counts.evicted);
		else if (c->addr->receiving > a->o.per_addr_conns &&
			 c->since_ms <= now - ADDR_GRACE_MS)
			cut(a, c, &a->counts.per_address);
	}
}

/* Cut receiving connections past their deadline (the list is in order of
 * since_ms, so only its head need be looked at), trim addresses, then
 * sleep until the next deadline, at most a quarter of a second. */
static void *watcher_main(void *arg)
{
	struct admission *a = arg;
	pthread_setname_np(pthread_self(), "cv-admission");
	pthread_mutex_lock(&a->mu);
	while (!a->stopping) {
		int64_t now = cv_mono_ms(), wait = 250;
		uint64_t before = a->counts.deadline;
		while (a->head &&
			a->head->since_ms + a->o.request_timeout_ms <= now)
			cut(a, a->head, &a->counts.deadline);
		if (a->counts.deadline != before)
			cv_warn("msg=\"requests not whole within the deadline; "
				"closed\" connections=%llu deadline_ms=%u",
				(unsigned long long)(a->counts.deadline -
						     before),
				a->o.request_timeout_ms);
		trim(a, now);
		if (a->head)
			wait = a->head->since_ms + a->o.request_timeout_ms -
			       now;
		if (wait > 250)
			wait = 250;
		if (a->live > a->o.max_live && wait > GRACE_MS / 4)
			wait = GRACE_MS / 4; /* spare slots to free */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(wait / 1000);
		ts.tv_nsec += (long)(wait % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&a->cv, &a->mu, &ts);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

struct admission *admission_create(const struct admission_opts *o)
{
	struct admission *a = xcalloc(1, sizeof(*a));
	a->o = *o;
	if (getrandom(&a->seed, sizeof(a->seed), 0) != sizeof(a->seed))
		a->seed = (uint64_t)cv_mono_ms() ^ (uint64_t)(uintptr_t)a;
	pthread_mutex_init(&a->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&a->watcher, NULL, watcher_main, a) != 0)
		abort(); /* no threads: nothing sensible left to do */
	return a;
}

void admission_destroy(struct admission *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stopping = true;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->watcher, NULL);
	for (size_t i = 0; i < N_BUCKETS; i++) {
		while (a->buckets[i]) {
			struct addr *e = a->buckets[i];
			a->buckets[i] = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a);
}
