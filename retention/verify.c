/*
 * verify.c — `callvault verify`: check archives the way an auditor would,
 * from the files alone (bagcheck.c, within fixed bounds), then against
 * what the store recorded of each one at its path (hash, tag manifest,
 * counts), and the chain. A successful verify is noted in the store.
 */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bagread.h"
#include "store/store_archive_state.h"
#include "store/store_deep.h"
#include "store/store_retention.h"
#include "verify_int.h"

void verify_problem(struct varch *va, const struct verify_opts *o,
	const char *member, const char *fmt, const char *arg)
{
	va->bad++;
	fprintf(o->out, "%s: BAD %s: ", va->name, member);
	fprintf(o->out, fmt, arg ? arg : "");
	fputc('\n', o->out);
}

static void problem(struct varch *va, const struct verify_opts *o,
	const char *member, const char *fmt, const char *arg)
{
	verify_problem(va, o, member, fmt, arg);
}

/* The outer SHA-256 against the .sha256 beside the archive. */
static void check_outer(struct varch *va, const struct verify_opts *o)
{
	char *side = xasprintf("%s.sha256", va->path), *text = NULL;
	size_t len;
	if (cv_read_file(side, 4096, &text, &len, NULL) != CV_OK) {
		problem(va, o, side, "%smissing or unreadable", NULL);
		free(side);
		return;
	}
	char hex[CV_SHA256_HEX];
	if (!retention_file_sha256(va->path, hex))
		problem(va, o, va->path, "%scannot be read", NULL);
	else if (len < 64 || strncasecmp(text, hex, 64) != 0)
		problem(va, o, va->path, "SHA-256 does not match %s", side);
	memcpy(va->outer, hex, CV_SHA256_HEX);
	free(text);
	free(side);
}

/* --deep: the lines of each JSON Lines file against bag-info.txt. */
static void check_counts(struct varch *va, const struct verify_opts *o)
{
	static const char *const files[] = { "data/calls.jsonl",
		"data/versions.jsonl", "data/events.jsonl" };
	static const char *const labels[] = { "Callvault-Calls",
		"Callvault-Versions", "Callvault-Events" };
	for (int i = 0; i < DEEP_N; i++) {
		if (va->lines[i] < 0) {
			problem(va, o, files[i], "%smissing", NULL);
			continue;
		}
		if (va->info[i] == va->lines[i])
			continue;
		char msg[128];
		snprintf(msg, sizeof(msg),
			"%lld lines where bag-info.txt's "
			"%s says %lld",
			(long long)va->lines[i], labels[i],
			(long long)va->info[i]);
		problem(va, o, files[i], "%s", msg);
	}
}

/* --deep with the store: hold the bag to the calls recorded in it. */
static void deep_begin(struct varch *va, const struct verify_opts *o)
{
	struct store_archive rec;
	char *e = NULL;
	if (vrecord_of(o->store, va->name, &rec)) {
		if (store_deep_begin(o->store, rec.id, &va->deep, &e) != CV_OK)
			problem(va, o, "data/calls.jsonl",
				"the store cannot "
				"be asked: %s",
				e);
		store_archive_finish(&rec);
	}
	free(e);
}

static void deep_end(struct varch *va, const struct verify_opts *o)
{
	int64_t n = store_deep_unseen(va->deep);
	if (n) {
		char msg[96];
		snprintf(msg, sizeof(msg), "%lld", (long long)n);
		problem(va, o, "data/calls.jsonl",
			"lacks %s call(s) the "
			"store recorded in this archive",
			msg);
	}
}

/* Everything but the outer SHA-256: the bag read from va->path once. */
static void verify_bag(struct varch *va, const struct verify_opts *o)
{
	/* one read transaction for the whole walk: a lock per line's
	 * question would cost more than the question, and the record
	 * gathered first is the one the lines are asked about */
	bool snap = o->deep && o->store &&
		    store_read_begin(o->store, NULL) == CV_OK;
	if (o->deep && o->store)
		deep_begin(va, o);
	bagcheck_run(va, o);
	if (va->walked && va->deep)
		deep_end(va, o);
	store_deep_free(va->deep);
	va->deep = NULL;
	if (snap)
		store_read_end(o->store);
	if (va->walked)
		vseal_check(va, o);
	buf_finish(&va->tagm);
	buf_finish(&va->sig);
	buf_finish(&va->tsr);
	if (!va->walked || !o->deep)
		return;
	check_counts(va, o);
	if (o->store)
		fprintf(o->out,
			"%s: deep: %lld calls as stored, %lld no "
			"longer in the store, %lld differ\n",
			va->name, (long long)va->deep_same,
			(long long)va->deep_absent, (long long)va->deep_differ);
}

static void verify_one(struct varch *va, const struct verify_opts *o)
{
	check_outer(va, o);
	verify_bag(va, o);
}

enum cv_err verify_fed(const char *name, const struct verify_feed *f,
	const struct verify_opts *o, int *bad, char **errmsg)
{
	char path[32], sink[1 << 16], *why = NULL;
	snprintf(path, sizeof path, "/dev/fd/%d", f->fd);
	struct varch va = { .path = path,
		.name = name,
		.chain_index = -1,
		.seq = -1 };
	verify_bag(&va, o);
	/* the feeder writes to its end: let it (tar's padding, or what a
	 * bag that stopped the walk left) */
	while (read(f->fd, sink, sizeof sink) > 0)
		;
	if (!f->finish(f->arg, va.outer, &why)) {
		verify_problem(&va, o, name, "cannot be read: %s", why);
		va.outer[0] = '\0';
	}
	free(why);
	if (o->store && *va.outer && vrecord_check(&va, o) == 0)
		verify_problem(&va, o, name,
			"%sthe store has no record of an "
			"archive at this URL",
			NULL);
	free(va.loc);
	free(va.month);
	free(va.prev_name);
	free(va.prev_tag);
	*bad = va.bad;
	(void)errmsg;
	return CV_OK;
}

/* The tag manifest hash of another archive file, "" when unreadable. */
static int tag_begin(const struct bagread_entry *e, void *arg)
{
	return strcmp(e->path, "tagmanifest-sha256.txt") == 0 ? 0 : 1;
}
static int tag_data(const void *p, size_t n, void *arg)
{
	cv_hash_update(arg, p, n);
	return 0;
}
static void tag_sha_of(const char *path, char out[CV_SHA256_HEX])
{
	struct cv_hash *h = cv_hash_create("sha256");
	struct bagread_cb cb = { tag_begin, tag_data, NULL };
	char hex[CV_SHA512_HEX];
	enum cv_err rc = bagread_walk(path, &cb, h, NULL);
	cv_hash_final_hex(h, hex);
	if (rc != CV_OK)
		hex[0] = '\0';
	memcpy(out, hex, CV_SHA256_HEX - 1);
	out[CV_SHA256_HEX - 1] = '\0';
}

/* Is there reason to say the chain before va is broken? */
static void check_chain(struct varch *all, size_t n, struct varch *va,
	const struct verify_opts *o)
{
	if (!va->prev_tag || !strcmp(va->prev_tag, "none"))
		return;
	for (size_t i = 0; i < n; i++)
		if (&all[i] != va && !strcmp(all[i].tag_sha, va->prev_tag))
			return;
	char *copy = xstrdup(va->path);
	char *prev = xasprintf("%s/%s", dirname(copy),
		va->prev_name ? va->prev_name : "?");
	free(copy);
	if (access(prev, F_OK) == 0) {
		char sha[CV_SHA256_HEX];
		tag_sha_of(prev, sha);
		if (strcmp(sha, va->prev_tag) != 0)
			problem(va, o, prev,
				"chain break: its tag manifest is "
				"not the one %s names",
				va->path);
		free(prev);
		return;
	}
	bool older = false;
	for (size_t i = 0; i < n; i++)
		older |= &all[i] != va && all[i].loc && va->loc &&
			 !strcmp(all[i].loc, va->loc) &&
			 all[i].chain_index >= 0 &&
			 all[i].chain_index < va->chain_index;
	struct store_archive rec;
	char *e = NULL;
	const char *remote = NULL;
	if (!older && o->store && va->loc &&
		store_ret_find_archive(o->store, NULL, va->loc,
			va->chain_index - 1, &rec, &e) == CV_OK) {
		/* in S3 (storage verify checks it there): the link is
		 * checked against the record of its tag manifest */
		if (!strncmp(rec.path, "s3://", 5))
			remote = strcmp(rec.tagmanifest_sha256, va->prev_tag)
					 ? "chain break: the previous archive "
					   "recorded in S3 has another tag "
					   "manifest"
					 : "";
		else
			older = access(rec.path, F_OK) != 0;
		store_archive_finish(&rec);
	}
	free(e);
	if (remote && *remote)
		problem(va, o, prev, "%s", remote);
	else if (remote)
		fprintf(o->out,
			"%s: note: previous archive is in S3; chain "
			"link checked against the store's record of "
			"it\n",
			va->path);
	else if (older)
		problem(va, o, prev,
			"chain break: the previous archive is "
			"missing%s",
			NULL);
	else
		fprintf(o->out,
			"%s: note: previous archive %s not present; "
			"chain link not checked\n",
			va->path, prev);
	free(prev);
}

/* The closing line of a good archive, and the note of its verify. */
static enum cv_err verified(struct varch *va, const struct verify_opts *o,
	int64_t id, char **errmsg)
{
	if (!o->store) {
		fprintf(o->out, "%s: OK (checked against itself only)\n",
			va->name);
		return CV_OK;
	}
	if (!id) {
		fprintf(o->out,
			"%s: OK (checked against itself only: the "
			"store has no record of an archive at this "
			"path)\n",
			va->name);
		return CV_OK;
	}
	enum cv_err rc = store_ret_mark_verified_id(o->store, id, cv_now_ms(),
		errmsg);
	if (rc == CV_OK) {
		fprintf(o->out,
			"%s: OK (checked against itself and the "
			"store's record of it; recorded in the "
			"store)\n",
			va->name);
		vrecord_note_purged(o, va->name, id);
	}
	return rc;
}

enum cv_err verify_archives(char *const *paths, size_t n,
	const struct verify_opts *o, char **errmsg)
{
	struct varch *all = xcalloc(n, sizeof(*all));
	int64_t *ids = xcalloc(n, sizeof(*ids));
	for (size_t i = 0; i < n; i++) {
		all[i].path = paths[i];
		all[i].name = o->names ? o->names[i] : paths[i];
		all[i].chain_index = all[i].seq = -1;
		verify_one(&all[i], o);
		if (o->store)
			ids[i] = vrecord_check(&all[i], o);
	}
	int bad = 0,
	    missing = o->store ? vrecord_missing(paths, o->names, n, o) : 0;
	enum cv_err rc = CV_OK;
	for (size_t i = 0; i < n && rc == CV_OK; i++) {
		check_chain(all, n, &all[i], o);
		if (all[i].bad) {
			bad++;
			if (ids[i])
				vrecord_hint(o, all[i].name, ids[i]);
			continue;
		}
		rc = verified(&all[i], o, ids[i], errmsg);
	}
	for (size_t i = 0; i < n; i++) {
		free(all[i].loc);
		free(all[i].month);
		free(all[i].prev_name);
		free(all[i].prev_tag);
	}
	free(all);
	free(ids);
	if (rc == CV_OK && missing)
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"%d of %zu archive(s) "
			"failed verification, %d recorded archive(s) missing",
			bad, n, missing);
	else if (rc == CV_OK && bad)
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"%d of %zu archive(s) "
			"failed verification",
			bad, n);
	return rc;
}
