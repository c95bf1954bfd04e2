/*
 * test_admission.c — the admission module alone (webhook_admission.h):
 * which connections count as one client address (IPv4, IPv4-mapped IPv6,
 * an IPv6 /64), the body budgets, the request deadline, and that a
 * connection being answered is never cut. Connections are socket pairs:
 * a cut one's peer reads end-of-file.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "t.h"
#include "util.h"
#include "webhook_admission.h"

struct conn {
	int fd[2]; /* [0] the server's end, [1] the client's */
	struct adm_conn *c;
};

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1)
		in->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1)
		in6->sin6_family = AF_INET6;
	return ss;
}

static void open_conn(struct admission *a, struct conn *k, const char *from)
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, k->fd) != 0)
		abort();
	struct sockaddr_storage ss = addr(from);
	k->c = admission_open(a, (struct sockaddr *)&ss, k->fd[0]);
}

/* Whether the server's end was shut down (the client reads EOF). */
static bool was_cut(const struct conn *k)
{
	char b;
	return recv(k->fd[1], &b, 1, MSG_DONTWAIT) == 0;
}

static void close_conn(struct admission *a, struct conn *k)
{
	admission_close(a, k->c);
	close(k->fd[0]);
	close(k->fd[1]);
}

/* IPv4 and its IPv4-mapped IPv6 form are one address; so is an IPv6 /64;
 * another /64 is another address. Beyond the share of 2, the oldest is
 * cut once a second old. */
static void test_addresses(void)
{
	struct admission_opts o = { .max_live = 100,
		.per_addr_conns = 2,
		.max_buffered = 1 << 20,
		.per_addr_buffered = 1000,
		.request_timeout_ms = 60000 };
	struct admission *a = admission_create(&o);
	static const char *const from[] = { "192.0.2.7", "::ffff:192.0.2.7",
		"192.0.2.7", "2001:db8:0:5::1", "2001:db8:0:5:ffff::9",
		"2001:db8:0:5::2", "2001:db8:0:6::1", "192.0.2.8" };
	struct conn k[8];
	for (int i = 0; i < 8; i++)
		open_conn(a, &k[i], from[i]);
	for (int i = 0; i < 8; i++)
		CHECK_MSG(!was_cut(&k[i]), "%s cut at once", from[i]);
	usleep(1400 * 1000); /* a second old, and a watcher round */
	bool want[8] = { true, false, false, true, false, false, false, false };
	for (int i = 0; i < 8; i++)
		CHECK_MSG(was_cut(&k[i]) == want[i],
			"connection %d from %s: "
			"cut %d",
			i, from[i], was_cut(&k[i]));
	/* body bytes: the address's 1,000, whatever its connection */
	CHECK(admission_fits(a, k[1].c, 1000));
	CHECK(!admission_fits(a, k[1].c, 1001));
	CHECK(admission_reserve(a, k[1].c, 600));
	CHECK(!admission_reserve(a, k[2].c, 600)); /* same address */
	CHECK(admission_reserve(a, k[7].c, 600));  /* another */
	admission_release(a, k[1].c, 600);
	CHECK(admission_reserve(a, k[2].c, 600));
	admission_release(a, k[2].c, 600);
	admission_release(a, k[7].c, 600);
	for (int i = 0; i < 8; i++)
		close_conn(a, &k[i]);
	admission_destroy(a);
}

/* A receiving connection is cut at the deadline; one being answered is
 * not, and gets a fresh deadline when its answer is done. */
static void test_deadline(void)
{
	struct admission_opts o = { .max_live = 100,
		.per_addr_conns = 10,
		.max_buffered = 1 << 20,
		.per_addr_buffered = 1 << 20,
		.request_timeout_ms = 300 };
	struct admission *a = admission_create(&o);
	struct conn slow, busy;
	open_conn(a, &slow, "198.51.100.1");
	open_conn(a, &busy, "198.51.100.2");
	admission_busy(a, busy.c);
	usleep(150 * 1000);
	CHECK(!was_cut(&slow));
	usleep(450 * 1000);
	CHECK(was_cut(&slow));
	CHECK(!was_cut(&busy));
	admission_idle(a, busy.c);
	usleep(150 * 1000);
	CHECK(!was_cut(&busy));
	usleep(450 * 1000);
	CHECK(was_cut(&busy));
	close_conn(a, &slow);
	close_conn(a, &busy);
	admission_destroy(a);
}

/* Full: the oldest receiving connection makes room; with none old
 * enough the new one takes a spare slot, and is full (429) only when
 * every other connection is being answered. */
static void test_full(void)
{
	struct admission_opts o = { .max_live = 2,
		.per_addr_conns = 10,
		.max_buffered = 1 << 20,
		.per_addr_buffered = 1 << 20,
		.request_timeout_ms = 60000 };
	struct admission *a = admission_create(&o);
	struct conn k[4];
	open_conn(a, &k[0], "203.0.113.1");
	open_conn(a, &k[1], "203.0.113.2");
	admission_busy(a, k[1].c);
	usleep(200 * 1000);
	open_conn(a, &k[2], "203.0.113.3"); /* k[0] is old: it goes */
	CHECK(was_cut(&k[0]));
	CHECK(!admission_full(a, k[2].c));
	admission_busy(a, k[2].c);
	open_conn(a, &k[3], "203.0.113.4"); /* nothing receiving */
	CHECK(!was_cut(&k[1]) && !was_cut(&k[2]));
	CHECK(admission_full(a, k[3].c));
	for (int i = 0; i < 4; i++)
		close_conn(a, &k[i]);
	admission_destroy(a);
}

int main(void)
{
	test_addresses();
	test_deadline();
	test_full();
	return t_done();
}
