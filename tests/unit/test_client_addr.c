/*
 * test_client_addr.c — which address a request comes from (issue 23):
 * X-Forwarded-For counts only when the peer is a trusted proxy, and only
 * back through trusted proxies; anything that is not an address ends
 * the walk. Rows of peer, header, expected client.
 */
#include <string.h>

#include "client_addr.h"
#include "t.h"

static void test_normal(void)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "127.0.0.1", "127.0.0.1" },
		{ "::1", "::1" },
		{ "::ffff:10.1.2.3", "10.1.2.3" },
		{ "2001:DB8:0:0::1", "2001:db8::1" },
	};
	char out[CLIENT_ADDR_MAX];
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK_MSG(client_addr_normal(ok[i].in, out), "%s", ok[i].in);
		CHECK_STR(out, ok[i].out);
	}
	static const char *const bad[] = { "", "localhost", "10.0.0",
		"10.0.0.1/8", "1.2.3.4:80", "256.1.1.1", " 10.0.0.1", "::g" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(!client_addr_normal(bad[i], out), "'%s'", bad[i]);
}

static void test_resolve(void)
{
	static const char *const trusted[] = { "127.0.0.1", "10.0.0.5" };
	static const struct {
		const char *peer, *xff, *want;
		size_t n;
	} rows[] = {
		/* no trusted proxy: the header is anybody's word */
		{ "127.0.0.1", "203.0.113.7", "127.0.0.1", 0 },
		{ "198.51.100.2", "203.0.113.7", "198.51.100.2", 2 },
		/* from a trusted proxy */
		{ "127.0.0.1", "203.0.113.7", "203.0.113.7", 2 },
		{ "127.0.0.1", NULL, "127.0.0.1", 2 },
		{ "::ffff:127.0.0.1", " 203.0.113.7 ", "203.0.113.7", 2 },
		/* a client's own header is to the left of what the proxy
		 * added: the right-most untrusted entry wins */
		{ "127.0.0.1", "6.6.6.6, 203.0.113.7", "203.0.113.7", 2 },
		/* through two trusted proxies */
		{ "127.0.0.1", "6.6.6.6, 203.0.113.7, 10.0.0.5", "203.0.113.7",
			2 },
		/* garbage ends the walk at the last hop reached */
		{ "127.0.0.1", "203.0.113.7, unknown", "127.0.0.1", 2 },
		{ "127.0.0.1", "unknown, 10.0.0.5", "10.0.0.5", 2 },
		{ "127.0.0.1", "", "127.0.0.1", 2 },
		{ "127.0.0.1", ",", "127.0.0.1", 2 },
		{ "127.0.0.1", "2001:db8::7", "2001:db8::7", 2 },
		/* only trusted proxies: the left-most of them */
		{ "127.0.0.1", "10.0.0.5", "10.0.0.5", 2 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[CLIENT_ADDR_MAX];
		client_addr_resolve(rows[i].peer, trusted, rows[i].n,
			rows[i].xff, out);
		CHECK_MSG(strcmp(out, rows[i].want) == 0,
			"row %zu: %s, want %s", i, out, rows[i].want);
	}
}

int main(void)
{
	test_normal();
	test_resolve();
	return t_done();
}
