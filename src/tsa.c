/*
 * tsa.c — see tsa.h. Every ASN.1 structure is OpenSSL's (TS_REQ,
 * TS_RESP, TS_VERIFY_CTX); nothing is encoded or parsed here by hand.
 */
#include "tsa.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "util.h"

/* ---- the request ---- */

static TS_REQ *make_request(const void *data, size_t len)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	unsigned char nonce[8];
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		abort();
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	BIGNUM *bn = BN_bin2bn(nonce, sizeof(nonce), NULL);
	ASN1_INTEGER *n = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	if (!req || !mi || !alg || !n ||
		!X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL,
			NULL) ||
		!TS_MSG_IMPRINT_set_algo(mi, alg) ||
		!TS_MSG_IMPRINT_set_msg(mi, md, (int)mdlen) ||
		!TS_REQ_set_version(req, 1) ||
		!TS_REQ_set_msg_imprint(req, mi) || !TS_REQ_set_nonce(req, n) ||
		!TS_REQ_set_cert_req(req, 1))
		abort(); /* only memory can fail here */
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	ASN1_INTEGER_free(n);
	BN_free(bn);
	return req;
}

/* ---- the exchange ---- */

struct body {
	struct buf b;
	bool too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *r = arg;
	if (r->b.len + size * n > TSA_TOKEN_MAX) {
		r->too_big = true;
		return 0;
	}
	buf_append(&r->b, p, size * n);
	return size * n;
}

static enum cv_err post(const char *url, const unsigned char *req,
	size_t req_len, long timeout_s, struct body *r, char **errmsg)
{
	CURL *c = curl_easy_init();
	if (!c)
		abort();
	struct curl_slist *h = curl_slist_append(NULL,
		"Content-Type: application/timestamp-query");
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req_len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	CURLcode cc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (r->too_big)
		return cv_error(errmsg, CV_EPARSE,
			"timestamp authority %s "
			"answered more than %d bytes",
			url, TSA_TOKEN_MAX);
	if (cc != CURLE_OK)
		return cv_error(errmsg, CV_EHTTP, "timestamp authority %s: %s",
			url, *cerr ? cerr : curl_easy_strerror(cc));
	if (status != 200)
		return cv_error(errmsg, CV_EHTTP,
			"timestamp authority %s "
			"answered HTTP %ld",
			url, status);
	return CV_OK;
}

/* The response is a granted token for exactly this request. */
static enum cv_err check_response(const char *url, TS_REQ *req,
	const struct buf *b, char **errmsg)
{
	const unsigned char *p = (const unsigned char *)b->data;
	TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)b->len);
	TS_VERIFY_CTX *ctx = TS_REQ_to_TS_VERIFY_CTX(req, NULL);
	enum cv_err rc = CV_OK;
	if (!resp || p != (const unsigned char *)b->data + b->len)
		rc = cv_error(errmsg, CV_EPARSE,
			"timestamp authority %s "
			"answered something that is not a timestamp response",
			url);
	else if (!ctx || TS_RESP_verify_response(ctx, resp) != 1)
		rc = cv_error(errmsg, CV_EPARSE,
			"timestamp authority %s "
			"did not grant a token for this request (status, "
			"imprint or nonce)",
			url);
	ERR_clear_error();
	TS_VERIFY_CTX_free(ctx);
	TS_RESP_free(resp);
	return rc;
}

enum cv_err tsa_fetch(const char *url, const void *data, size_t len,
	long timeout_s, unsigned char **token, size_t *token_len, char **errmsg)
{
	TS_REQ *req = make_request(data, len);
	unsigned char *der = NULL;
	int der_len = i2d_TS_REQ(req, &der);
	if (der_len <= 0)
		abort();
	struct body r = { .too_big = false };
	buf_init(&r.b);
	enum cv_err rc = post(url, der, (size_t)der_len, timeout_s, &r, errmsg);
	if (rc == CV_OK)
		rc = check_response(url, req, &r.b, errmsg);
	if (rc == CV_OK) {
		*token_len = r.b.len;
		*token = (unsigned char *)buf_steal(&r.b);
	}
	buf_finish(&r.b);
	OPENSSL_free(der);
	TS_REQ_free(req);
	return rc;
}

/* ---- checking a kept token ---- */

static int64_t token_time(TS_RESP *resp)
{
	TS_TST_INFO *ti = TS_RESP_get_tst_info(resp);
	const ASN1_GENERALIZEDTIME *t = ti ? TS_TST_INFO_get_time(ti) : NULL;
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm) * 1000;
}

static X509_STORE *ca_store(const char *ca_file)
{
	X509_STORE *st = X509_STORE_new();
	if (!st)
		abort();
	if (X509_STORE_load_file(st, ca_file) != 1) {
		X509_STORE_free(st);
		return NULL;
	}
	return st;
}

enum cv_err tsa_check(const unsigned char *token, size_t token_len,
	const void *data, size_t len, const char *ca_file, int64_t *gen_time,
	char **errmsg)
{
	const unsigned char *p = token;
	TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)token_len);
	if (!resp || p != token + token_len) {
		TS_RESP_free(resp);
		return cv_error(errmsg, CV_EINTEGRITY,
			"not an RFC 3161 "
			"timestamp response");
	}
	TS_VERIFY_CTX *ctx = TS_VERIFY_CTX_new();
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	if (!ctx || !bio)
		abort();
	TS_VERIFY_CTX_set_data(ctx, bio); /* ctx owns it */
	int flags = TS_VFY_VERSION | TS_VFY_DATA;
	enum cv_err rc = CV_OK;
	if (ca_file) {
		X509_STORE *st = ca_store(ca_file);
		if (!st)
			rc = cv_error(errmsg, CV_EINVAL,
				"cannot read the "
				"timestamp CA certificates in %s",
				ca_file);
		else
			TS_VERIFY_CTX_set_store(ctx, st); /* owns it */
		flags |= TS_VFY_SIGNATURE;
	}
	TS_VERIFY_CTX_set_flags(ctx, flags);
	if (rc == CV_OK && TS_RESP_verify_response(ctx, resp) != 1) {
		unsigned long e = ERR_peek_last_error();
		const char *why = e ? ERR_reason_error_string(e) : NULL;
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"the timestamp does not "
			"verify%s%s",
			why ? ": " : "", why ? why : "");
	}
	ERR_clear_error();
	if (rc == CV_OK && gen_time)
		*gen_time = token_time(resp);
	TS_VERIFY_CTX_free(ctx);
	TS_RESP_free(resp);
	return rc;
}
