/*
 * sitekey.c — see sitekey.h. libsodium makes and uses the key; OpenSSL
 * only reads and writes the PEM files (PKCS#8, SubjectPublicKeyInfo),
 * so no ASN.1 is written here by hand.
 */
#include "sitekey.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "util.h"

#define KEY_FILE_MAX (16 * 1024)

struct sitekey {
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
};

char *sitekey_default_dir(const char *db_path)
{
	return xasprintf("%s.secrets", db_path);
}

static char *env_or(const char *env, const char *db_path, const char *name)
{
	const char *v = getenv(env);
	if (v && *v)
		return xstrdup(v);
	return xasprintf("%s.secrets/%s", db_path, name);
}

char *sitekey_private_path(const char *db_path)
{
	return env_or("CALLVAULT_SIGNING_KEY", db_path, SITEKEY_PRIVATE_NAME);
}

char *sitekey_public_path(const char *db_path)
{
	return env_or("CALLVAULT_SIGNING_PUBKEY", db_path, SITEKEY_PUBLIC_NAME);
}

/* PEM text of pkey, private or public; caller frees. */
static char *pem_of(EVP_PKEY *pkey, bool private)
{
	BIO *bio = BIO_new(BIO_s_mem());
	if (!bio)
		abort();
	int ok = private ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0,
				   NULL, NULL)
			 : PEM_write_bio_PUBKEY(bio, pkey);
	char *data;
	long n = BIO_get_mem_data(bio, &data);
	char *out = ok && n > 0 ? xstrndup(data, (size_t)n) : NULL;
	BIO_free(bio);
	if (!out)
		abort(); /* only memory can fail here */
	return out;
}

static char *pem_raw(const unsigned char *raw, bool private)
{
	EVP_PKEY *p = private ? EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519,
					NULL, raw, 32)
			      : EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
					NULL, raw, 32);
	if (!p)
		abort();
	char *pem = pem_of(p, private);
	EVP_PKEY_free(p);
	return pem;
}

char *sitekey_public_pem(const struct sitekey *k)
{
	return pem_raw(k->pk, false);
}

void sitekey_public_raw(const struct sitekey *k,
	unsigned char pub[SITEKEY_PUB_LEN])
{
	memcpy(pub, k->pk, SITEKEY_PUB_LEN);
}

enum cv_err sitekey_init(const char *dir, char **pem, char **errmsg)
{
	if (sodium_init() < 0)
		return cv_error(errmsg, CV_EIO, "libsodium cannot start");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return cv_error(errmsg, CV_EIO, "cannot create %s: %s", dir,
			strerror(errno));
	char *kpath = xasprintf("%s/%s", dir, SITEKEY_PRIVATE_NAME);
	char *ppath = xasprintf("%s/%s", dir, SITEKEY_PUBLIC_NAME);
	enum cv_err rc = CV_OK;
	if (access(kpath, F_OK) == 0 || access(ppath, F_OK) == 0) {
		rc = cv_error(errmsg, CV_EINVAL,
			"%s already holds a site key; "
			"a key is never replaced (move it away first)",
			dir);
		goto out;
	}
	struct sitekey k;
	unsigned char seed[crypto_sign_SEEDBYTES];
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(k.pk, k.sk, seed);
	char *priv = pem_raw(seed, true);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(k.sk, sizeof(k.sk));
	*pem = pem_raw(k.pk, false);
	/* the public key first: a private key never exists without it */
	rc = cv_write_file_atomic(ppath, *pem, strlen(*pem), 0644, errmsg);
	if (rc == CV_OK)
		rc = cv_write_file_atomic(kpath, priv, strlen(priv), 0600,
			errmsg);
	sodium_memzero(priv, strlen(priv));
	free(priv);
	if (rc != CV_OK) {
		unlink(ppath);
		free(*pem);
		*pem = NULL;
	}
out:
	free(kpath);
	free(ppath);
	return rc;
}

/* Read a key file of at most KEY_FILE_MAX bytes; with check_mode, one
 * that group or others can reach is refused. */
static enum cv_err read_key_file(const char *path, bool check_mode, char **out,
	size_t *len, char **errmsg)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return cv_error(errmsg, errno == ENOENT ? CV_ENOTFOUND : CV_EIO,
			"cannot open key file %s: %s", path, strerror(errno));
	struct stat st;
	enum cv_err rc = CV_OK;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = cv_error(errmsg, CV_EINVAL,
			"key file %s is not a "
			"regular file",
			path);
	else if (check_mode && (st.st_mode & 077))
		rc = cv_error(errmsg, CV_EINVAL,
			"key file %s may be read or "
			"written by group or others (mode %04o); fix it with: "
			"chmod 600 %s",
			path, (unsigned)(st.st_mode & 07777), path);
	else if (st.st_size > KEY_FILE_MAX)
		rc = cv_error(errmsg, CV_EINVAL,
			"key file %s is larger than "
			"a key (%d bytes)",
			path, KEY_FILE_MAX);
	char *b = NULL;
	ssize_t n = 0;
	if (rc == CV_OK) {
		b = xmalloc(KEY_FILE_MAX + 1);
		n = read(fd, b, KEY_FILE_MAX);
		if (n < 0)
			rc = cv_error(errmsg, CV_EIO, "cannot read %s: %s",
				path, strerror(errno));
	}
	close(fd);
	if (rc != CV_OK) {
		free(b);
		return rc;
	}
	*out = b;
	*len = (size_t)n;
	return CV_OK;
}

/* The raw 32 bytes of an Ed25519 PEM key (private: its seed). */
static enum cv_err parse_pem(const char *path, const char *text, size_t len,
	bool private, unsigned char raw[32], char **errmsg)
{
	BIO *bio = BIO_new_mem_buf(text, (int)len);
	if (!bio)
		abort();
	EVP_PKEY *p = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
			      : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	size_t n = 32;
	bool ok = p && EVP_PKEY_id(p) == EVP_PKEY_ED25519 &&
		  (private ? EVP_PKEY_get_raw_private_key(p, raw, &n)
			   : EVP_PKEY_get_raw_public_key(p, raw, &n)) == 1 &&
		  n == 32;
	EVP_PKEY_free(p);
	if (!ok)
		return cv_error(errmsg, CV_EINVAL,
			"%s is not an Ed25519 %s "
			"key in PEM form",
			path, private ? "private" : "public");
	return CV_OK;
}

enum cv_err sitekey_load(const char *path, struct sitekey **out, char **errmsg)
{
	if (sodium_init() < 0)
		return cv_error(errmsg, CV_EIO, "libsodium cannot start");
	char *text = NULL;
	size_t len = 0;
	unsigned char seed[32];
	enum cv_err rc = read_key_file(path, true, &text, &len, errmsg);
	if (rc == CV_OK)
		rc = parse_pem(path, text, len, true, seed, errmsg);
	if (text) {
		sodium_memzero(text, len);
		free(text);
	}
	if (rc != CV_OK)
		return rc;
	struct sitekey *k = sodium_malloc(sizeof(*k));
	if (!k)
		abort();
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	sodium_memzero(seed, sizeof(seed));
	*out = k;
	return CV_OK;
}

void sitekey_destroy(struct sitekey *k)
{
	if (k)
		sodium_free(k); /* zeroes it */
}

void sitekey_sign(const struct sitekey *k, const void *msg, size_t len,
	unsigned char sig[SITEKEY_SIG_LEN])
{
	crypto_sign_detached(sig, NULL, msg, len, k->sk);
}

enum cv_err sitekey_sign_manifest(const char *key_path, const void *manifest,
	size_t len, unsigned char sig[SITEKEY_SIG_LEN], char **errmsg)
{
	struct sitekey *k = NULL;
	enum cv_err rc = sitekey_load(key_path, &k, errmsg);
	if (rc == CV_OK)
		sitekey_sign(k, manifest, len, sig);
	sitekey_destroy(k);
	return rc;
}

enum cv_err sitekey_load_public(const char *path,
	unsigned char pub[SITEKEY_PUB_LEN], char **errmsg)
{
	char *text = NULL;
	size_t len = 0;
	enum cv_err rc = read_key_file(path, false, &text, &len, errmsg);
	if (rc == CV_OK)
		rc = parse_pem(path, text, len, false, pub, errmsg);
	free(text);
	return rc;
}

bool sitekey_verify(const unsigned char pub[SITEKEY_PUB_LEN], const void *msg,
	size_t len, const unsigned char *sig, size_t sig_len)
{
	if (sodium_init() < 0 || sig_len != SITEKEY_SIG_LEN)
		return false;
	return crypto_sign_verify_detached(sig, msg, len, pub) == 0;
}
