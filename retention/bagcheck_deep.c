/*
 * bagcheck_deep.c — bagcheck's JSON Lines files: with --deep each line of
 * calls.jsonl, versions.jsonl and events.jsonl checked (and held to the
 * store's record of the archive), data/media.jsonl's word on each media
 * file kept for the end of the walk; data/erasures.jsonl always parsed.
 * And the splitting of a file's bytes into lines, for these and for the
 * manifests (bagcheck_manifest.c).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bagcheck_int.h"
#include "bagjson.h"
#include "store/store_deep.h"
#include "store/store_retention.h"

/* ---- JSON Lines (--deep) ---- */

/* Membership problems: the first few named, the rest counted. */
#define DEEP_REPORT_MAX 20
static void deep_problem(struct bwalk *w, const char *fmt, const char *id)
{
	if (++w->va->deep_reported > DEEP_REPORT_MAX) {
		w->va->bad++;
		return;
	}
	bagcheck_problem(w, w->cur->path, fmt, id);
}

/* A calls.jsonl line, held to the calls the store recorded here. */
static void deep_member(struct bwalk *w, const char *id, const char *sha)
{
	enum store_deep_state st = DEEP_MATCH;
	if (store_deep_call(w->o->store, w->va->deep, id, sha, &st, NULL) !=
		CV_OK)
		deep_problem(w, "call %s: the store cannot be asked", id);
	else if (st == DEEP_NOT_RECORDED)
		deep_problem(w,
			"call %s is not one the store recorded in "
			"this archive",
			id);
	else if (st == DEEP_OTHER)
		deep_problem(w,
			"call %s is not the version the store "
			"recorded in this archive",
			id);
	else if (st == DEEP_DUPLICATE)
		deep_problem(w, "call %s is in it twice", id);
}

/* The call id and canonical hash at the start of a versions.jsonl line
 * as callvault writes it ({"callId":"…","canonicalSha256":"…", keys
 * sorted); false for any other shape (the full parse decides then). */
static bool version_head(const char *p, size_t n, char *id, size_t id_max,
	unsigned char sha[32])
{
	static const char a[] = "{\"callId\":\"",
			  b[] = "\",\"canonicalSha256\":\"";
	if (n < sizeof(a) || memcmp(p, a, sizeof(a) - 1))
		return false;
	const char *s = p + sizeof(a) - 1, *end = p + n;
	const char *q = memchr(s, '"', (size_t)(end - s));
	if (!q || (size_t)(q - s) >= id_max ||
		memchr(s, '\\', (size_t)(q - s)) ||
		(size_t)(end - q) < sizeof(b) - 1 + 65 ||
		memcmp(q, b, sizeof(b) - 1) || q[sizeof(b) - 1 + 64] != '"' ||
		!cv_unhex(q + sizeof(b) - 1, 32, sha, true))
		return false;
	memcpy(id, s, (size_t)(q - s));
	id[q - s] = '\0';
	return true;
}

/* A versions.jsonl line: a version of a call recorded here, no newer
 * than the one recorded. */
static void deep_version(struct bwalk *w, const char *p, size_t n)
{
	char id[256];
	unsigned char sha[32];
	if (version_head(p, n, id, sizeof(id), sha) &&
		store_deep_version_fast(w->va->deep, id, sha))
		return;
	struct bag_version v;
	if (bagjson_parse_version(p, n, &v, NULL) != CV_OK) {
		deep_problem(w, "a line that is not a version record%s", "");
		return;
	}
	enum store_deep_state st = DEEP_MATCH;
	if (store_deep_version(w->o->store, w->va->deep, v.call_id,
		    v.canonical_sha256, &st, NULL) != CV_OK)
		deep_problem(w, "call %s: the store cannot be asked",
			v.call_id);
	else if (st == DEEP_NOT_RECORDED)
		deep_problem(w,
			"a version of call %s, which the store did not "
			"record in this archive",
			v.call_id);
	else if (st == DEEP_OTHER)
		deep_problem(w,
			"a version of call %s the store does not hold "
			"(or newer than the one archived)",
			v.call_id);
	bag_version_finish(&v);
}

/* A calls.jsonl line that is exactly a call recorded here, at its
 * recorded version (so a version the store holds): no parse needed. */
static bool deep_call_fast(struct bwalk *w, const unsigned char *sha)
{
	enum store_deep_state st;
	if (!store_deep_call_fast(w->va->deep, sha, &st))
		return false;
	w->va->deep_same++;
	if (st == DEEP_DUPLICATE)
		deep_problem(w, "a call is in it twice%s", "");
	return true;
}

static void deep_line(struct bwalk *w, const char *p, size_t n)
{
	const char *member = w->cur->path;
	w->va->lines[w->deep]++;
	if (memchr(p, '\0', n) || !cv_utf8_valid(p, n) || n == 0) {
		char num[32];
		snprintf(num, sizeof(num), "%lld",
			(long long)w->va->lines[w->deep]);
		bagcheck_problem(w, member,
			"line %s is empty or not UTF-8 text "
			"without NUL bytes",
			num);
		return;
	}
	if (w->deep == DEEP_VERSIONS && w->va->deep)
		deep_version(w, p, n);
	if (w->deep != DEEP_CALLS || !w->o->store)
		return;
	unsigned char bin[32];
	cv_sha256(p, n, bin);
	if (w->va->deep && deep_call_fast(w, bin))
		return;
	char sha[CV_SHA256_HEX];
	cv_sha256_hex(p, n, sha);
	char *id = bagjson_call_id(p, n);
	int state = 0;
	if (!id || store_ret_version_state(w->o->store, id, sha, &state,
			   NULL) != CV_OK) {
		bagcheck_problem(w, member,
			"a line the store cannot be asked about%s", NULL);
	} else if (state == 0) {
		w->va->deep_absent++;
	} else if (state == 1) {
		w->va->deep_same++;
	} else {
		w->va->deep_differ++;
		bagcheck_problem(w, member,
			"call %s differs from every version in the "
			"store",
			id);
	}
	if (id && w->va->deep)
		deep_member(w, id, sha);
	free(id);
}

/* A line of data/erasures.jsonl must parse (restore honours them): always
 * checked, not only with --deep. */
void bagcheck_erasure_line(struct bwalk *w, const char *p, size_t n)
{
	struct bag_erasure e;
	char num[32];
	snprintf(num, sizeof(num), "%lld", (long long)++w->erasure_lines);
	if (memchr(p, '\0', n) ||
		bagjson_parse_erasure(p, n, &e, NULL) != CV_OK) {
		bagcheck_problem(w, w->cur->path,
			"line %s is not an erasure "
			"(callId, erasedAt, reason \"erasure: …\")",
			num);
		return;
	}
	bag_erasure_finish(&e);
}

/* --deep: a line of data/media.jsonl, {"file", "sha256", "size", …}. */
static void media_line(struct bwalk *w, const char *p, size_t n)
{
	json_t *o = json_loadb(p, n, 0, NULL);
	const char *file = json_string_value(json_object_get(o, "file"));
	const char *sha = json_string_value(json_object_get(o, "sha256"));
	json_t *size = json_object_get(o, "size");
	struct vfile *f = NULL;
	unsigned char h256[32];
	if (file && sha && strlen(sha) == 64 && cv_unhex(sha, 32, h256, true) &&
		json_is_integer(size) && strlen(file) < BAG_PATH_MAX - 5) {
		char path[BAG_PATH_MAX + 1];
		snprintf(path, sizeof(path), "data/%s", file);
		f = bagcheck_lookup(w, path);
	}
	if (!f && !w->media_bad) {
		bagcheck_problem(w, "data/media.jsonl",
			"%sa line without a file, its "
			"sha256 and size, or past the bag's bounds",
			NULL);
		w->media_bad = true;
	} else if (f) {
		if (w->n_mw == w->cap_mw) {
			w->cap_mw = w->cap_mw ? w->cap_mw * 2 : 256;
			w->mw = xrealloc(w->mw, w->cap_mw * sizeof(*w->mw));
		}
		struct mwant *m = &w->mw[w->n_mw++];
		m->f = f;
		memcpy(m->h256, h256, 32);
		m->size = (int64_t)json_integer_value(size);
	}
	json_decref(o);
}

/* A JSON line (without its LF). */
static void json_line(struct bwalk *w, const char *p, size_t n)
{
	if (w->erasures)
		bagcheck_erasure_line(w, p, n);
	else if (w->media)
		media_line(w, p, n);
	else
		deep_line(w, p, n);
}

/* Feed bytes split into lines of at most max bytes; false past it. A
 * JSON line wholly in p is read where it is, not copied. */
bool bagcheck_feed_lines(struct bwalk *w, const char *p, size_t n, size_t max)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		if (w->line.len + k > max)
			return false;
		if (nl && !w->line.len && w->mk == M_NONE) {
			json_line(w, p, k);
		} else {
			buf_append(&w->line, p, k);
			if (!nl)
				return true;
			buf_putc(&w->line, '\0');
			if (w->mk != M_NONE)
				bagcheck_manifest_line(w, w->line.data);
			else
				json_line(w, w->line.data, w->line.len - 1);
			buf_reset(&w->line);
		}
		p += k + 1;
		n -= k + 1;
	}
	return true;
}
