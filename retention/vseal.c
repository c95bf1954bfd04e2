/*
 * vseal.c — verify's check of what seals a bag's tag manifest: the site
 * key's detached signature (a rewrite of the bag, however consistent,
 * shows without the store) and the RFC 3161 timestamp token.
 */
#include <stdlib.h>
#include <string.h>

#include "sitekey.h"
#include "store/store_archive_state.h"
#include "tsa.h"
#include "verify_int.h"

/* Did the store record archive va->path as written without a
 * signature (before the site key existed)? Its record (tag-manifest
 * hash) then protects it instead; a signature it recorded and the bag
 * lacks was stripped. */
static bool written_unsigned(struct varch *va, const struct verify_opts *o)
{
	struct store_archive rec;
	char *e = NULL;
	bool unsigned_ = false;
	/* by the name given: restore verifies a private copy of it */
	if (o->store && vrecord_of(o->store, va->name, &rec)) {
		unsigned char *sig = NULL;
		size_t n;
		unsigned_ = store_ret_get_tagfile(o->store, rec.id,
				    SITEKEY_SIG_FILE, &sig, &n,
				    &e) == CV_ENOTFOUND;
		free(sig);
		store_archive_finish(&rec);
	}
	free(e);
	return unsigned_;
}

static void check_signature(struct varch *va, const struct verify_opts *o)
{
	if (!o->pubkey) {
		if (va->has_sig)
			fprintf(o->out,
				"%s: note: signed, but no public key "
				"was given to check it (--pubkey)\n",
				va->name);
		return;
	}
	if (!va->has_sig && written_unsigned(va, o)) {
		fprintf(o->out,
			"%s: note: not signed: the store recorded it "
			"as written before the site key existed (its "
			"record is checked instead)\n",
			va->name);
		return;
	}
	if (!va->has_sig) {
		verify_problem(va, o, SITEKEY_SIG_FILE,
			"%smissing: the bag "
			"is not signed by the site key",
			NULL);
		return;
	}
	if (!va->tagm_whole ||
		!sitekey_verify(o->pubkey, va->tagm.data, va->tagm.len,
			(const unsigned char *)va->sig.data, va->sig.len)) {
		verify_problem(va, o, SITEKEY_SIG_FILE,
			"%sdoes not verify "
			"with the site key: the tag manifest or the signature "
			"is not the one signed",
			NULL);
		return;
	}
	fprintf(o->out, "%s: signature good (site key)\n", va->name);
}

static void check_timestamp(struct varch *va, const struct verify_opts *o)
{
	if (!va->has_tsr)
		return;
	char *err = NULL;
	int64_t t = 0;
	enum cv_err rc =
		!va->tagm_whole ? CV_EINTEGRITY
				: tsa_check((const unsigned char *)va->tsr.data,
					  va->tsr.len, va->tagm.data,
					  va->tagm.len, o->tsa_ca, &t, &err);
	if (rc == CV_EINVAL) {
		/* the CA file itself: not the bag's fault */
		fprintf(o->out, "%s: note: timestamp not checked: %s\n",
			va->name, err);
	} else if (rc != CV_OK) {
		verify_problem(va, o, TSA_TOKEN_FILE, "%s",
			err ? err : "not a token over the tag manifest");
	} else {
		char ts[32];
		cv_format_iso8601(t, ts);
		fprintf(o->out,
			"%s: timestamp good: %s, over the tag "
			"manifest%s\n",
			va->name, ts,
			o->tsa_ca ? "; signed by an authority "
				    "the CA file trusts"
				  : " (authority's signature "
				    "not checked: no --tsa-ca)");
	}
	free(err);
}

void vseal_check(struct varch *va, const struct verify_opts *o)
{
	check_signature(va, o);
	check_timestamp(va, o);
}
