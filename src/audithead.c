/* audithead.c — see audithead.h (HMAC-SHA256 by libsodium; the key file
 * is auditkey.c's) */
#include "audithead.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void audithead_mac(const unsigned char key[AUDITHEAD_KEY_LEN], int64_t id,
	const char *hash, char out[CV_SHA256_HEX])
{
	char *msg = xasprintf("callvault-audit-head-v1\n%lld\n%s",
		(long long)id, hash);
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256(mac, (const unsigned char *)msg, strlen(msg),
		key);
	sodium_bin2hex(out, CV_SHA256_HEX, mac, sizeof(mac));
	free(msg);
}
