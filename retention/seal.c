/* seal.c — see seal.h */
#include "seal.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_archive_state.h"

/* How long a timestamp authority may take to answer. */
#define TSA_TIMEOUT_S 30

void seal_make(const struct archive_opts *o, const void *tm, size_t len,
	struct seal *out)
{
	seal_make_with(o->key, o->tsa_url, tm, len, out);
}

void seal_make_with(const struct sitekey *key, const char *tsa_url,
	const void *tm, size_t len, struct seal *out)
{
	memset(out, 0, sizeof(*out));
	if (key) {
		sitekey_sign(key, tm, len, out->sig);
		out->has_sig = true;
	}
	if (!tsa_url)
		return;
	char *err = NULL;
	if (tsa_fetch(tsa_url, tm, len, TSA_TIMEOUT_S, &out->token,
		    &out->token_len, &err) != CV_OK) {
		out->tsa_error = err ? err : xstrdup("no token");
		out->token = NULL;
		out->token_len = 0;
	}
}

enum cv_err seal_load(struct store *s, int64_t id, struct seal *out,
	char **errmsg)
{
	memset(out, 0, sizeof(*out));
	unsigned char *p = NULL;
	size_t n = 0;
	enum cv_err rc = store_ret_get_tagfile(s, id, SITEKEY_SIG_FILE, &p, &n,
		errmsg);
	if (rc == CV_OK && n == SITEKEY_SIG_LEN) {
		memcpy(out->sig, p, n);
		out->has_sig = true;
	}
	free(p);
	if (rc != CV_OK && rc != CV_ENOTFOUND)
		return rc;
	rc = store_ret_get_tagfile(s, id, TSA_TOKEN_FILE, &out->token,
		&out->token_len, errmsg);
	return rc == CV_ENOTFOUND ? CV_OK : rc;
}

enum cv_err seal_write(const struct seal *sl, struct tarzst *t,
	const char *root, char **errmsg)
{
	enum cv_err rc = CV_OK;
	if (sl->has_sig) {
		char *p = xasprintf("%s/%s", root, SITEKEY_SIG_FILE);
		rc = tarzst_add(t, p, sl->sig, SITEKEY_SIG_LEN, errmsg);
		free(p);
	}
	if (rc == CV_OK && sl->token) {
		char *p = xasprintf("%s/%s", root, TSA_TOKEN_FILE);
		rc = tarzst_add(t, p, sl->token, sl->token_len, errmsg);
		free(p);
	}
	return rc;
}

enum cv_err seal_record(struct store *s, int64_t id, const struct seal *sl,
	char **errmsg)
{
	enum cv_err rc = CV_OK;
	if (sl && sl->has_sig)
		rc = store_ret_put_tagfile(s, id, SITEKEY_SIG_FILE, sl->sig,
			SITEKEY_SIG_LEN, errmsg);
	if (rc == CV_OK && sl && sl->token)
		rc = store_ret_put_tagfile(s, id, TSA_TOKEN_FILE, sl->token,
			sl->token_len, errmsg);
	return rc;
}

void seal_finish(struct seal *sl)
{
	free(sl->token);
	free(sl->tsa_error);
	memset(sl, 0, sizeof(*sl));
}
