/* client_addr.c — see client_addr.h */
#include "client_addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

bool client_addr_normal(const char *s, char out[CLIENT_ADDR_MAX])
{
	unsigned char a[16];
	if (inet_pton(AF_INET, s, a) == 1)
		return inet_ntop(AF_INET, a, out, CLIENT_ADDR_MAX) != NULL;
	if (inet_pton(AF_INET6, s, a) != 1)
		return false;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	if (memcmp(a, mapped, 12) == 0)
		return inet_ntop(AF_INET, a + 12, out, CLIENT_ADDR_MAX) != NULL;
	return inet_ntop(AF_INET6, a, out, CLIENT_ADDR_MAX) != NULL;
}

static bool trusted_addr(const char *a, const char *const *trusted, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a, trusted[i]) == 0)
			return true;
	return false;
}

/* The entry of xff that ends at end (exclusive), trimmed, normalised
 * into out; *start gets where it begins (its comma, or xff). */
static bool entry_before(const char *xff, const char *end, const char **start,
	char out[CLIENT_ADDR_MAX])
{
	const char *b = end;
	while (b > xff && b[-1] != ',')
		b--;
	*start = b;
	while (b < end && (*b == ' ' || *b == '\t'))
		b++;
	const char *e = end;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	char tmp[CLIENT_ADDR_MAX + 2];
	if (e == b || (size_t)(e - b) >= sizeof(tmp))
		return false;
	memcpy(tmp, b, (size_t)(e - b));
	tmp[e - b] = '\0';
	return client_addr_normal(tmp, out);
}

void client_addr_resolve(const char *peer, const char *const *trusted, size_t n,
	const char *xff, char out[CLIENT_ADDR_MAX])
{
	if (!client_addr_normal(peer, out)) {
		snprintf(out, CLIENT_ADDR_MAX, "%s", peer);
		return;
	}
	const char *end = xff ? xff + strlen(xff) : NULL;
	while (end && trusted_addr(out, trusted, n)) {
		const char *start;
		char next[CLIENT_ADDR_MAX];
		if (!entry_before(xff, end, &start, next))
			break;
		memcpy(out, next, CLIENT_ADDR_MAX);
		end = start > xff ? start - 1 : NULL;
	}
}
