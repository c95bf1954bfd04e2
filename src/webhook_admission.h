/*
 * webhook_admission.h — who may hold what of the receiver before they
 * have proved anything. A webhook is authenticated only when its whole
 * body is in (the signature covers it), so every connection is
 * unauthenticated while it is receiving a request: its request line,
 * headers and body, or nothing at all between two requests. Receiving
 * connections are bounded three ways, each well below the server's
 * totals, so that only authenticated work can exhaust the server:
 *
 *   - per client address (IPv4, or the /64 of an IPv6 address): at most
 *     per_addr_conns receiving connections; a new one closes that
 *     address's oldest receiving one, and at most per_addr_buffered body
 *     bytes, counted as they arrive (not as declared);
 *   - in time: a receiving connection that has not delivered a whole
 *     request within request_timeout_ms of its start (or of the end of
 *     its previous request) is cut, however steadily it drips;
 *   - in number: once more than max_live connections are open, a new
 *     connection closes the oldest receiving one anywhere (one of an
 *     address over its share first); when none has been receiving for
 *     long enough to be anything but a genuine request on its way, the
 *     new one takes a spare slot (between max_live and the server's
 *     limit) for that long, and when every other connection is
 *     answering (authenticated work), it is answered 429 as soon as its
 *     headers are in.
 *
 * Connections answering (parked for a commit, a console query, sending an
 * answer) are out of reach of all three. Cutting a connection is a
 * shutdown(2) of its socket, which libmicrohttpd then closes: safe from
 * any thread because the socket stays open until admission_close, which
 * takes the same lock.
 */
#ifndef CV_WEBHOOK_ADMISSION_H
#define CV_WEBHOOK_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util.h"

struct admission_opts {
	unsigned max_live;           /* open connections before eviction */
	unsigned per_addr_conns;     /* receiving connections per address */
	size_t max_buffered;         /* body bytes held, all requests */
	size_t per_addr_buffered;    /* body bytes held per address */
	unsigned request_timeout_ms; /* to deliver a whole request */
};

/* Why connections were cut, for /metrics. */
struct admission_counts {
	uint64_t deadline;    /* past request_timeout_ms */
	uint64_t per_address; /* displaced by the same address */
	uint64_t evicted;     /* displaced when the server was full */
	uint64_t full;        /* all else answering: answered 429 */
};

struct admission;
struct adm_conn;

/* Start the deadline watcher thread; aborts when it cannot. */
struct admission *admission_create(const struct admission_opts *o);
/* Stop the watcher and free; every connection must be closed. NULL ok. */
void admission_destroy(struct admission *a);

/* A connection was accepted from sa with socket fd: it is receiving. May
 * cut older connections (see above). Returns its state (freed by
 * admission_close). */
struct adm_conn *admission_open(struct admission *a, const struct sockaddr *sa,
	int fd);
void admission_close(struct admission *a, struct adm_conn *c);
/* The connection came in when nothing could be displaced, and every
 * other connection is still answering: answer it 429. */
bool admission_full(struct admission *a, struct adm_conn *c);
/* Its request is whole (or answered): no deadline while it answers. */
void admission_busy(struct admission *a, struct adm_conn *c);
/* Its request is over: it is receiving again, with a fresh deadline. */
void admission_idle(struct admission *a, struct adm_conn *c);

/* Could a body of n bytes be held now, by this address and in all?
 * (Checked on Content-Length before any of it is read.) */
bool admission_fits(struct admission *a, const struct adm_conn *c, size_t n);
/* Hold n more body bytes as they arrive; false (nothing held) when the
 * address's or the server's bound would be passed. */
bool admission_reserve(struct admission *a, struct adm_conn *c, size_t n);
/* Give back n bytes reserved through c. */
void admission_release(struct admission *a, struct adm_conn *c, size_t n);

/* Append the counts and gauges in Prometheus text to out. */
void admission_render(struct admission *a, struct buf *out);

#endif
