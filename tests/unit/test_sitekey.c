/*
 * test_sitekey.c — the site signing key (sitekey.h): a key made by init
 * signs what its public key verifies, and nothing else; the files are
 * what OpenSSL reads (PKCS#8, SubjectPublicKeyInfo); a key file others
 * can read is refused, naming the fix.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sitekey.h"
#include "t.h"
#include "util.h"

static const char manifest[] =
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	"  bagit.txt\n";

static void sign_and_verify(const char *dir)
{
	char *kpath = xasprintf("%s/%s", dir, SITEKEY_PRIVATE_NAME);
	char *ppath = xasprintf("%s/%s", dir, SITEKEY_PUBLIC_NAME);
	unsigned char sig[SITEKEY_SIG_LEN], pub[SITEKEY_PUB_LEN];
	char *err = NULL;
	CHECK(sitekey_sign_manifest(kpath, manifest, strlen(manifest), sig,
		      &err) == CV_OK);
	CHECK(sitekey_load_public(ppath, pub, &err) == CV_OK);
	CHECK(sitekey_verify(pub, manifest, strlen(manifest), sig,
		sizeof(sig)));
	/* one byte of the manifest, or of the signature, changed */
	char *m = xstrdup(manifest);
	m[3] ^= 1;
	CHECK(!sitekey_verify(pub, m, strlen(m), sig, sizeof(sig)));
	free(m);
	sig[10] ^= 0x40;
	CHECK(!sitekey_verify(pub, manifest, strlen(manifest), sig,
		sizeof(sig)));
	CHECK(!sitekey_verify(pub, manifest, strlen(manifest), sig, 63));
	/* stock openssl verifies our signature with our PEM */
	sig[10] ^= 0x40;
	char *mf = xasprintf("%s/m", dir), *sf = xasprintf("%s/m.sig", dir);
	CHECK(cv_write_file_atomic(mf, manifest, strlen(manifest), 0600,
		      &err) == CV_OK);
	CHECK(cv_write_file_atomic(sf, sig, sizeof(sig), 0600, &err) == CV_OK);
	char *cmd = xasprintf("openssl pkeyutl -verify -pubin -inkey %s "
			      "-rawin -in %s -sigfile %s >/dev/null",
		ppath, mf, sf);
	CHECK_INT(system(cmd), 0);
	free(cmd);
	free(mf);
	free(sf);
	free(kpath);
	free(ppath);
	free(err);
}

static void permissions(const char *dir)
{
	char *kpath = xasprintf("%s/%s", dir, SITEKEY_PRIVATE_NAME);
	struct stat st;
	CHECK(stat(kpath, &st) == 0 && (st.st_mode & 0777) == 0600);
	chmod(kpath, 0640);
	struct sitekey *k = NULL;
	char *err = NULL;
	CHECK_INT(sitekey_load(kpath, &k, &err), CV_EINVAL);
	CHECK(k == NULL);
	char *fix = xasprintf("chmod 600 %s", kpath);
	CHECK_MSG(err && strstr(err, fix), "%s", err ? err : "(none)");
	free(fix);
	free(err);
	err = NULL;
	chmod(kpath, 0604);
	CHECK_INT(sitekey_load(kpath, &k, &err), CV_EINVAL);
	free(err);
	err = NULL;
	chmod(kpath, 0600);
	CHECK_INT(sitekey_load(kpath, &k, &err), CV_OK);
	sitekey_destroy(k);
	free(kpath);
}

static void refusals(const char *dir)
{
	char *pem = NULL, *err = NULL;
	/* never replaces a key */
	CHECK_INT(sitekey_init(dir, &pem, &err), CV_EINVAL);
	CHECK(pem == NULL);
	free(err);
	err = NULL;
	/* a public key where a private one belongs */
	char *ppath = xasprintf("%s/%s", dir, SITEKEY_PUBLIC_NAME);
	char *copy = xasprintf("%s/pub-as-key", dir), *text = NULL;
	size_t len;
	CHECK(cv_read_file(ppath, 4096, &text, &len, &err) == CV_OK);
	CHECK(cv_write_file_atomic(copy, text, len, 0600, &err) == CV_OK);
	struct sitekey *k = NULL;
	CHECK_INT(sitekey_load(copy, &k, &err), CV_EINVAL);
	free(err);
	err = NULL;
	CHECK_INT(sitekey_load(ppath, &k, &err) == CV_OK, 0);
	free(err);
	free(text);
	free(copy);
	free(ppath);
}

int main(void)
{
	char tmpl[] = "/tmp/test_sitekey.XXXXXX";
	char *base = mkdtemp(tmpl);
	CHECK(base != NULL);
	char *dir = xasprintf("%s/keys", base), *pem = NULL, *err = NULL;
	CHECK_INT(sitekey_init(dir, &pem, &err), CV_OK);
	CHECK(pem && strstr(pem, "-----BEGIN PUBLIC KEY-----"));
	free(pem);
	free(err);
	sign_and_verify(dir);
	permissions(dir);
	refusals(dir);
	char *rm = xasprintf("rm -rf %s", base);
	CHECK_INT(system(rm), 0);
	free(rm);
	free(dir);
	return t_done();
}
