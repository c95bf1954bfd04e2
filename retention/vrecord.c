/*
 * vrecord.c — verify against the store: each archive is compared with
 * the record of the archive written at its path (not merely with some
 * record of the same hash, which a copy of another archive would match),
 * recorded archives missing from the directories verified are named, and
 * each lost or bad one is said to be rebuildable or not.
 */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_archive_state.h"
#include "store/store_retention.h"
#include "verify_int.h"

struct same_file {
	dev_t dev;
	ino_t ino;
	int64_t id;
};

static int same_cb(const struct store_archive *a, void *arg)
{
	struct same_file *sf = arg;
	struct stat st;
	if (stat(a->path, &st) == 0 && st.st_dev == sf->dev &&
		st.st_ino == sf->ino)
		sf->id = a->id; /* the newest such record wins */
	return 0;
}

int64_t vrecord_of(struct store *s, const char *path, struct store_archive *rec)
{
	char *e = NULL;
	enum cv_err rc = store_ret_archive_at(s, path, rec, &e);
	free(e);
	if (rc == CV_OK)
		return rec->id;
	struct stat st;
	struct same_file sf = { 0 };
	if (stat(path, &st) != 0)
		return 0;
	sf.dev = st.st_dev;
	sf.ino = st.st_ino;
	if (store_ret_each_archive(s, same_cb, &sf, NULL) != CV_OK || !sf.id ||
		store_ret_archive_by_id(s, sf.id, rec, NULL) != CV_OK)
		return 0;
	return rec->id;
}

static void differs(struct varch *va, const struct verify_opts *o,
	const char *what, const char *got, const char *want)
{
	char *msg = xasprintf("%s is %s, the store recorded %s", what,
		got && *got ? got : "(none)", want);
	verify_problem(va, o, va->name, "%s", msg);
	free(msg);
}

static void differs_int(struct varch *va, const struct verify_opts *o,
	const char *what, int64_t got, int64_t want)
{
	if (got == want)
		return;
	char g[32], w[32];
	snprintf(g, sizeof(g), "%lld", (long long)got);
	snprintf(w, sizeof(w), "%lld", (long long)want);
	differs(va, o, what, got < 0 ? NULL : g, w);
}

int64_t vrecord_check(struct varch *va, const struct verify_opts *o)
{
	struct store_archive r;
	/* by the name given: restore verifies a private copy of it */
	if (!vrecord_of(o->store, va->name, &r))
		return 0;
	if (strcmp(va->outer, r.sha256) != 0)
		differs(va, o, "its SHA-256", va->outer, r.sha256);
	if (va->walked) {
		if (strcmp(va->tag_sha, r.tagmanifest_sha256) != 0)
			differs(va, o, "its tag manifest's SHA-256",
				va->tag_sha, r.tagmanifest_sha256);
		if (!va->loc || strcmp(va->loc, r.location_id) != 0)
			differs(va, o, "its location", va->loc, r.location_id);
		if (!va->month || strcmp(va->month, r.month) != 0)
			differs(va, o, "its month", va->month, r.month);
		differs_int(va, o, "its supplement number", va->seq, r.seq);
		differs_int(va, o, "its chain index", va->chain_index,
			r.chain_index);
		differs_int(va, o, "its Callvault-Calls", va->info[DEEP_CALLS],
			r.n_calls);
		differs_int(va, o, "its Callvault-Versions",
			va->info[DEEP_VERSIONS], r.n_versions);
	}
	int64_t id = r.id;
	store_archive_finish(&r);
	return id;
}

void vrecord_hint(const struct verify_opts *o, const char *name, int64_t id)
{
	struct store_archive r;
	int64_t gone, changed;
	if (store_ret_archive_by_id(o->store, id, &r, NULL) != CV_OK)
		return;
	if (store_ret_archive_rebuildable(o->store, id, &gone, &changed,
		    NULL) != CV_OK)
		gone = changed = 0;
	if (gone)
		fprintf(o->out,
			"%s: cannot be rebuilt: %lld of its %lld calls "
			"were purged\n",
			name, (long long)gone, (long long)r.n_calls);
	else if (changed)
		fprintf(o->out,
			"%s: cannot be rebuilt: %lld of its calls "
			"changed since it was written\n",
			name, (long long)changed);
	else
		fprintf(o->out,
			"%s: can be rebuilt: callvault archive "
			"--rebuild %s --location '%s'\n",
			name, r.month, r.location_id);
	store_archive_finish(&r);
}

void vrecord_note_purged(const struct verify_opts *o, const char *name,
	int64_t id)
{
	int64_t gone, changed;
	if (store_ret_archive_rebuildable(o->store, id, &gone, &changed,
		    NULL) == CV_OK &&
		gone)
		fprintf(o->out,
			"%s: note: the only copy of %lld purged calls; "
			"it can no longer be rebuilt\n",
			name, (long long)gone);
}

struct missing {
	char **dirs; /* real paths of the directories given */
	size_t n;
	const struct verify_opts *o;
	int64_t *ids;
	size_t n_ids;
};

static char *real_dir(const char *path)
{
	char *copy = xstrdup(path);
	char *r = realpath(dirname(copy), NULL);
	free(copy);
	return r;
}

static int missing_cb(const struct store_archive *a, void *arg)
{
	struct missing *m = arg;
	if (access(a->path, F_OK) == 0)
		return 0;
	char *d = real_dir(a->path);
	for (size_t i = 0; d && i < m->n; i++)
		if (!strcmp(d, m->dirs[i])) {
			m->ids = xrealloc(m->ids,
				(m->n_ids + 1) * sizeof(*m->ids));
			m->ids[m->n_ids++] = a->id;
			break;
		}
	free(d);
	return 0;
}

int vrecord_missing(char *const *paths, const char *const *names, size_t n,
	const struct verify_opts *o)
{
	struct missing m = { xcalloc(n + 1, sizeof(char *)), 0, o, NULL, 0 };
	for (size_t i = 0; i < n; i++)
		if ((m.dirs[m.n] = real_dir(paths[i])))
			m.n++;
	/* restore's private copy: its directory holds nothing recorded */
	if (names ||
		store_ret_each_archive(o->store, missing_cb, &m, NULL) != CV_OK)
		m.n_ids = 0;
	for (size_t i = 0; i < m.n_ids; i++) {
		struct store_archive r;
		if (store_ret_archive_by_id(o->store, m.ids[i], &r, NULL) !=
			CV_OK)
			continue;
		fprintf(o->out,
			"%s: BAD %s: missing: the store recorded it "
			"(%lld calls)\n",
			r.path, r.path, (long long)r.n_calls);
		vrecord_hint(o, r.path, r.id);
		store_archive_finish(&r);
	}
	for (size_t i = 0; i < m.n; i++)
		free(m.dirs[i]);
	free(m.dirs);
	free(m.ids);
	return (int)m.n_ids;
}
