/*
 * test_signature.c — the signature module alone: base64, each scheme, the
 * no-fall-back rule, the legacy cut-off, key files, HighLevel's built-in
 * keys (a signature by another key never verifies against them), the
 * Ed25519 inputs libsodium refuses though the equation holds; and the
 * SHA-256/SHA-512 helpers every stored hash comes from.
 */
#include <openssl/bn.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "hash.h"
#include "signature.h"
#include "util.h"
#include "t.h"
#include "whtest.h"

static const char body[] = "{\"type\":\"VoiceAiCallEnd\",\"id\":\"c1\"}";

/* FIPS 180-2 test vectors, one-shot and fed in pieces */
static void test_hash(void)
{
	static const char abc_256[] = "ba7816bf8f01cfea414140de5dae2223"
				      "b00361a396177a9cb410ff61f20015ad";
	static const char abc_512[] =
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
	static const char empty_256[] = "e3b0c44298fc1c149afbf4c8996fb924"
					"27ae41e4649b934ca495991b7852b855";
	char h256[CV_SHA256_HEX], h512[CV_SHA512_HEX];
	cv_sha256_hex("abc", 3, h256);
	CHECK_STR(h256, abc_256);
	cv_sha256_hex("", 0, h256);
	CHECK_STR(h256, empty_256);
	cv_sha512_hex("abc", 3, h512);
	CHECK_STR(h512, abc_512);
	struct cv_hash *h = cv_hash_create("sha256");
	cv_hash_update(h, "a", 1);
	cv_hash_update(h, "bc", 2);
	cv_hash_final_hex(h, h512);
	CHECK_STR(h512, abc_256);
	h = cv_hash_create("sha512");
	cv_hash_update(h, "ab", 2);
	cv_hash_update(h, "c", 1);
	cv_hash_final_hex(h, h512);
	CHECK_STR(h512, abc_512);
	cv_hash_destroy(cv_hash_create("sha256")); /* unused: no leak */
}

/* The order of Ed25519's prime subgroup, big-endian hex. */
static const char ed_order_hex[] =
	"1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed";

/* 32 little-endian bytes of x mod the group order. */
static void sc_out(const BIGNUM *x, unsigned char out[32])
{
	if (BN_bn2lebinpad(x, out, 32) != 32)
		wt_die("BN_bn2lebinpad");
}

/* A signature by k over msg whose R is the neutral element (encoded
 * 01 00 .. 00, a point of small order): S = H(R || A || msg) * a, so that
 * [S]B = R + [H]A holds and a verifier that checks only the equation
 * accepts it. Built from k's secret scalar with OpenSSL's BIGNUMs, not
 * with the code under test. */
static void small_order_r_sig(EVP_PKEY *k, const char *msg, size_t n,
	unsigned char sig[64])
{
	unsigned char seed[32], a_bytes[64], pub[32], h[64];
	size_t len = sizeof(seed);
	if (EVP_PKEY_get_raw_private_key(k, seed, &len) != 1 ||
		(len = sizeof(pub),
			EVP_PKEY_get_raw_public_key(k, pub, &len) != 1))
		wt_die("raw key");
	SHA512(seed, sizeof(seed), a_bytes); /* RFC 8032 5.1.5 */
	a_bytes[0] &= 248;
	a_bytes[31] &= 127;
	a_bytes[31] |= 64;
	memset(sig, 0, 64);
	sig[0] = 1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int hl = 0;
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) != 1 ||
		EVP_DigestUpdate(ctx, sig, 32) != 1 ||
		EVP_DigestUpdate(ctx, pub, 32) != 1 ||
		EVP_DigestUpdate(ctx, msg, n) != 1 ||
		EVP_DigestFinal_ex(ctx, h, &hl) != 1 || hl != 64)
		wt_die("sha512");
	EVP_MD_CTX_free(ctx);
	BN_CTX *bc = BN_CTX_new();
	BIGNUM *l = NULL, *a = BN_lebin2bn(a_bytes, 32, NULL),
	       *hn = BN_lebin2bn(h, 64, NULL), *s = BN_new();
	if (!bc || !a || !hn || !s || !BN_hex2bn(&l, ed_order_hex) ||
		!BN_mod_mul(s, hn, a, l, bc))
		wt_die("bignum");
	sc_out(s, sig + 32);
	BN_free(l);
	BN_free(a);
	BN_free(hn);
	BN_free(s);
	BN_CTX_free(bc);
}

/* Ed25519 inputs refused though the verification equation holds (or
 * would under a lax verifier): an R of small order (libsodium, stricter
 * than RFC 8032; OpenSSL 3.0 accepts it), S not reduced (RFC 8032 itself),
 * and keys that are not points of the prime-order subgroup (callvault's
 * own check when a key is loaded). Pinned so that a change of verifier
 * cannot loosen them unnoticed. */
static void test_ed25519_strict(const char *dir)
{
	EVP_PKEY *k = wt_keygen("ED25519", 0);
	char pem[96], *err = NULL;
	const char *why;
	size_t n = strlen(body);
	snprintf(pem, sizeof(pem), "%s/strict.pem", dir);
	wt_write_pubkey(k, pem);
	struct sig_verifier *v = sig_verifier_create();
	CHECK(sig_add_key_file(v, pem, &err) == CV_OK);

	/* R of small order: the equation holds (OpenSSL 3.0 accepts it,
	 * which shows the signature is not merely wrong), callvault not */
	unsigned char sig[64];
	small_order_r_sig(k, body, n, sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	CHECK(ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
		EVP_DigestVerify(ctx, sig, 64, (const unsigned char *)body,
			n) == 1);
	EVP_MD_CTX_free(ctx);
	char *es = wt_b64(sig, 64);
	struct sig_headers h = { .ghl = es };
	CHECK_INT(sig_verify(v, &h, body, n, &why), SIG_NONE);
	CHECK_STR(why, "x-ghl-signature does not verify");
	free(es);

	/* S not reduced (S + L, same point): refused, as RFC 8032 asks */
	char *good = wt_sign(k, NULL, body, n);
	CHECK_INT(cv_base64_decode(good, sig, sizeof(sig)), 64);
	h.ghl = good;
	CHECK_INT(sig_verify(v, &h, body, n, &why), SIG_ED25519);
	BIGNUM *s = BN_lebin2bn(sig + 32, 32, NULL), *l = NULL;
	if (!s || !BN_hex2bn(&l, ed_order_hex) || !BN_add(s, s, l))
		wt_die("bignum");
	CHECK(BN_num_bytes(s) <= 32); /* S < L < 2^253: S + L fits */
	sc_out(s, sig + 32);
	es = wt_b64(sig, 64);
	h.ghl = es;
	CHECK_INT(sig_verify(v, &h, body, n, &why), SIG_NONE);
	free(es);
	BN_free(s);
	BN_free(l);

	/* the same signature unpadded and URL-safe verifies, as HighLevel's
	 * SDK reads it; with a bit set past its last byte (the same bytes
	 * under a lax decoder) it is refused */
	char forms[3][96];
	size_t gl = strlen(good);
	snprintf(forms[0], sizeof(forms[0]), "%.*s", (int)(gl - 2), good);
	strcpy(forms[1], good);
	for (char *p = forms[1]; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	strcpy(forms[2], good);
	char *last = &forms[2][gl - 3]; /* 4 spare bits: 64 = 21 * 3 + 1 */
	*last = (char)(*last == 'A'   ? 'B'
		       : *last == 'Q' ? 'R'
		       : *last == 'g' ? 'h'
		       : *last == 'w' ? 'x'
				      : '?');
	for (int i = 0; i < 3; i++) {
		h.ghl = forms[i];
		CHECK_MSG(sig_verify(v, &h, body, n, &why) ==
				  (i < 2 ? SIG_ED25519 : SIG_NONE),
			"signature as \"%s\"", forms[i]);
	}
	free(good);

	/* keys no signer derives from a secret, refused when loaded:
	 * the neutral element (small order: under it a lax verifier takes
	 * (R = [S]B, S) as a signature of every message); the same point
	 * encoded with y = p + 1 (not canonical); the test key plus a point
	 * of order 8 (outside the prime-order subgroup) */
	unsigned char bad_keys[3][32] = { { 1 } }, pub[32];
	static const unsigned char order8[32] = { 0xc7, 0x17, 0x6a, 0x70, 0x3d,
		0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
		0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e,
		0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a };
	memset(bad_keys[1], 0xff, 32);
	bad_keys[1][0] = 0xee;
	bad_keys[1][31] = 0x7f;
	size_t pl = sizeof(pub);
	CHECK(EVP_PKEY_get_raw_public_key(k, pub, &pl) == 1);
	/* add decodes both: the sum is a point of the curve, refused only
	 * for the subgroup it lies outside of */
	CHECK(crypto_core_ed25519_add(bad_keys[2], pub, order8) == 0);
	for (size_t i = 0; i < CV_ARRAY_LEN(bad_keys); i++) {
		EVP_PKEY *bad = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
			NULL, bad_keys[i], 32);
		CHECK(bad != NULL);
		snprintf(pem, sizeof(pem), "%s/unusable.pem", dir);
		wt_write_pubkey(bad, pem);
		EVP_PKEY_free(bad);
		free(err);
		err = NULL;
		CHECK_MSG(sig_add_key_file(v, pem, &err) == CV_EPARSE,
			"unusable key %zu loaded", i);
		CHECK(err && strstr(err, "unusable.pem") &&
			strstr(err, "not a usable point"));
		unlink(pem);
	}
	snprintf(pem, sizeof(pem), "%s/strict.pem", dir);
	unlink(pem);
	free(err);
	EVP_PKEY_free(k);
	sig_verifier_destroy(v);
}

int main(void)
{
	test_hash();
	char dir[] = "/tmp/cvsig.XXXXXX", pem[64], junk[64];
	if (!mkdtemp(dir))
		wt_die("mkdtemp");
	test_ed25519_strict(dir);
	EVP_PKEY *ed = wt_keygen("ED25519", 0), *rsa = wt_keygen(NULL, 1024);
	EVP_PKEY *x25519 = wt_keygen("X25519", 0);
	struct sig_verifier *v = sig_verifier_create();
	const char *why;
	size_t n = strlen(body);
	char *es = wt_sign(ed, NULL, body, n);
	char *rs = wt_sign(rsa, EVP_sha256(), body, n);
	struct sig_headers h = { .ghl = es };

	/* HighLevel's built-in keys do not verify our test signatures */
	CHECK_INT(sig_verify(v, &h, body, n, &why), SIG_NONE);
	CHECK_STR(why, "x-ghl-signature does not verify");
	snprintf(pem, sizeof(pem), "%s/keys.pem", dir);
	wt_write_pubkey(ed, pem);
	FILE *f = fopen(pem, "a"); /* two keys in one file */
	PEM_write_PUBKEY(f, rsa);
	fclose(f);
	char *err = NULL;
	CHECK(sig_add_key_file(v, pem, &err) == CV_OK);
	CHECK_INT(sig_verify(v, &h, body, n, &why), SIG_ED25519);
	CHECK_INT(sig_verify(v, &h, body, n - 1, &why), SIG_NONE); /* 1 byte */
	/* a second added key (rotation): each key's signatures verify in
	 * any order, whichever key verified last (tried first) */
	EVP_PKEY *ed2 = wt_keygen("ED25519", 0);
	char pem2[80];
	snprintf(pem2, sizeof(pem2), "%s/second.pem", dir);
	wt_write_pubkey(ed2, pem2);
	CHECK(sig_add_key_file(v, pem2, &err) == CV_OK);
	char *es2 = wt_sign(ed2, NULL, body, n);
	struct sig_headers h2 = { .ghl = es2 };
	for (int round = 0; round < 2; round++) {
		CHECK_INT(sig_verify(v, &h2, body, n, &why), SIG_ED25519);
		CHECK_INT(sig_verify(v, &h, body, n, &why), SIG_ED25519);
		CHECK_INT(sig_verify(v, &h2, body, n - 1, &why), SIG_NONE);
	}
	free(es2);
	EVP_PKEY_free(ed2);

	/* legacy RSA: only without x-ghl-signature, only before cut-off */
	struct sig_headers l = { .wh = rs };
	sig_set_now(v, SIG_LEGACY_CUTOFF_MS - 1);
	CHECK_INT(sig_verify(v, &l, body, n, &why), SIG_RSA_LEGACY);
	struct sig_headers both = { .ghl = "AAAA", .wh = rs };
	CHECK_INT(sig_verify(v, &both, body, n, &why), SIG_NONE);
	sig_set_now(v, SIG_LEGACY_CUTOFF_MS);
	CHECK_INT(sig_verify(v, &l, body, n, &why), SIG_NONE);
	CHECK_STR(why, "x-wh-signature (legacy RSA) is past its cut-off");
	sig_set_legacy_cutoff(v, SIG_LEGACY_CUTOFF_MS + 1);
	CHECK_INT(sig_verify(v, &l, body, n, &why), SIG_RSA_LEGACY);

	/* HMAC: needs a secret of 32 bytes or more; hex of either case;
	 * constant-time compare */
	static const char key[] = "k3y-0123456789abcdef0123456789ab";
	char mac[65], *serr = NULL;
	wt_hmac_hex(key, body, n, mac);
	struct sig_headers m = { .hmac = mac };
	CHECK_INT(sig_verify(v, &m, body, n, &why), SIG_NONE);
	CHECK_INT(sig_set_shared_secret(v, key, 31, &serr), CV_EINVAL);
	CHECK(serr && strstr(serr, "31 bytes") && strstr(serr, "at least 32"));
	free(serr);
	CHECK_INT(sig_verify(v, &m, body, n, &why), SIG_NONE); /* none set */
	CHECK_INT(sig_set_shared_secret(v, key, 32, NULL), CV_OK);
	CHECK_INT(sig_verify(v, &m, body, n, &why), SIG_HMAC);
	for (char *p = mac; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	CHECK_INT(sig_verify(v, &m, body, n, &why), SIG_HMAC);
	mac[63] = mac[63] == '0' ? '1' : '0';
	CHECK_INT(sig_verify(v, &m, body, n, &why), SIG_NONE);
	m.hmac = "abc";
	CHECK_INT(sig_verify(v, &m, body, n, &why), SIG_NONE);
	struct sig_headers ghl_and_hmac = { .ghl = "AAAA", .hmac = mac };
	CHECK_INT(sig_verify(v, &ghl_and_hmac, body, n, &why), SIG_NONE);
	struct sig_headers none = { 0 };
	CHECK_INT(sig_verify(v, &none, body, n, &why), SIG_NONE);
	CHECK_STR(why, "no signature header");

	/* key files: not PEM, and a key of another kind, are refused */
	snprintf(junk, sizeof(junk), "%s/junk.pem", dir);
	f = fopen(junk, "w");
	fputs("not a key\n", f);
	fclose(f);
	free(err);
	err = NULL;
	CHECK(sig_add_key_file(v, junk, &err) == CV_EPARSE);
	CHECK(err && strstr(err, "junk.pem"));
	wt_write_pubkey(x25519, junk);
	free(err);
	err = NULL;
	CHECK(sig_add_key_file(v, junk, &err) == CV_EPARSE);
	CHECK_STR(sig_scheme_name(SIG_RSA_LEGACY), "rsa-legacy");

	free(err);
	free(es);
	free(rs);
	unlink(pem);
	unlink(junk);
	rmdir(dir);
	sig_verifier_destroy(v);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(x25519);
	return t_done();
}
