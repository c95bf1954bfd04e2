/*
 * client_addr.h — the address a request really comes from. Behind a
 * reverse proxy every peer is the proxy, so the console's audit entries
 * and its login limits saw one client; X-Forwarded-For names the real
 * one, but anybody can send that header. It counts only when the peer
 * is a proxy the operator trusts (serve --trusted-proxy), and then only
 * as far back as the chain of trusted proxies goes.
 */
#ifndef CV_CLIENT_ADDR_H
#define CV_CLIENT_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#define CLIENT_ADDR_MAX 46 /* INET6_ADDRSTRLEN */

/* s as an IPv4 or IPv6 address literal, written the one way inet_ntop
 * writes it (an IPv4-mapped IPv6 address as IPv4); false when s is not
 * an address. */
bool client_addr_normal(const char *s, char out[CLIENT_ADDR_MAX]);

/*
 * The client of a request from peer: peer itself unless it is one of
 * the n trusted proxies (normalised), else the right-most address of
 * xff (the X-Forwarded-For values, comma-separated; may be NULL) that is
 * not a trusted proxy, walking left only through trusted ones. An entry
 * that is not an address ends the walk: the last address reached is the
 * client (a proxy that forwards garbage is not taken at its word).
 */
void client_addr_resolve(const char *peer, const char *const *trusted, size_t n,
	const char *xff, char out[CLIENT_ADDR_MAX]);

#endif
