/* search_purged.c — see search_purged.h */
#include "search_purged.h"

#include <stdlib.h>
#include <string.h>

#include "../store/store_retention.h"
#include "../util.h"
#ifndef CV_LEAN
#include "retention.h"
#endif

static int archive_cb(const struct store_purged_archive *a, void *arg)
{
	struct search_purged *p = arg;
	p->a = xrealloc(p->a, (p->n + 1) * sizeof(*p->a));
	p->a[p->n++] = (struct search_purged_archive){ .path = xstrdup(a->path),
		.location = xstrdup(a->location_id),
		.month = xstrdup(a->month),
		.calls = a->calls };
	return 0;
}

enum cv_err search_purged_find(struct store *s, const struct search_filter *f,
	struct search_purged *p, char **errmsg)
{
	memset(p, 0, sizeof(*p));
	return store_ret_purged_in(s, f, &p->calls, archive_cb, p, errmsg);
}

#ifndef CV_LEAN
struct live {
	struct store *s;
	struct search_purged *p;
	char *err;
};

static void purged_cb(const struct store_tombstone *t, void *arg)
{
	*(bool *)arg = strncmp(t->reason, "purge:", 6) == 0;
}

/* A hit in an archive counts when purge removed the call from the live
 * store: a call still there was found by the live search already, and an
 * erased one (a data-subject request) must not come back through its
 * archive. */
static int hit_cb(const char *archive, const struct store_hit *h, void *arg)
{
	struct live *l = arg;
	bool purged = false;
	enum cv_err rc = store_get_tombstone(l->s, h->id, purged_cb, &purged,
		&l->err);
	if (rc == CV_ENOTFOUND || (rc == CV_OK && !purged)) {
		free(l->err);
		l->err = NULL;
		return 0;
	}
	if (rc != CV_OK)
		return 1;
	struct search_purged *p = l->p;
	p->hits = xrealloc(p->hits, (p->n_hits + 1) * sizeof(*p->hits));
	p->hit_archive = xrealloc(p->hit_archive,
		(p->n_hits + 1) * sizeof(*p->hit_archive));
	struct store_hit *d = &p->hits[p->n_hits];
	*d = *h;
	const char **strs[] = { (const char **)&d->id,
		(const char **)&d->location_id, (const char **)&d->agent_id,
		(const char **)&d->agent_name, (const char **)&d->contact_id,
		(const char **)&d->from_number, (const char **)&d->snippet };
	for (size_t i = 0; i < CV_ARRAY_LEN(strs); i++)
		*strs[i] = *strs[i] ? xstrdup(*strs[i]) : NULL;
	p->hit_archive[p->n_hits++] = xstrdup(archive);
	return 0;
}
#endif

enum cv_err search_purged_archives(struct store *s, const char *dir,
	const struct store_search_opts *so, struct search_purged *p,
	char **errmsg)
{
#ifdef CV_LEAN
	return cv_error(errmsg, CV_EINVAL, "--archives needs callvault-full");
#else
	p->dir = dir;
	char **paths = xcalloc(p->n ? p->n : 1, sizeof(*paths));
	for (size_t i = 0; i < p->n; i++)
		paths[i] = archsearch_path(dir, p->a[i].path);
	struct live l = { .s = s, .p = p };
	enum cv_err rc = archsearch_run(paths, p->n, so, hit_cb, &l, errmsg);
	if (rc == CV_EINVAL && l.err) {
		free(*errmsg);
		*errmsg = l.err;
		l.err = NULL;
		rc = CV_EDB;
	}
	free(l.err);
	for (size_t i = 0; i < p->n; i++) {
		free(p->a[i].path);
		p->a[i].path = paths[i]; /* the files searched */
	}
	free(paths);
	return rc;
#endif
}

void search_purged_audit(const struct search_purged *p, json_t *detail)
{
	if (!p->calls)
		return;
	json_object_set_new(detail, "purged", json_integer(p->calls));
	if (!p->dir)
		return;
	json_t *arr = json_array();
	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(arr, json_string(p->a[i].path));
	json_object_set_new(detail, "archives", arr);
	json_object_set_new(detail, "archiveHits",
		json_integer((json_int_t)p->n_hits));
}

void search_purged_note(const struct search_purged *p, FILE *f)
{
	if (!p->calls)
		return;
	struct cv_safe k = { 0 };
	fprintf(f,
		"note: %lld call%s of the months this search covers %s "
		"purged from the live store (time and location checked, "
		"not the query); %s in:\n",
		(long long)p->calls, p->calls == 1 ? "" : "s",
		p->calls == 1 ? "was" : "were",
		p->calls == 1 ? "it is" : "they are");
	for (size_t i = 0; i < p->n; i++)
		fprintf(f, "  %s (%s %s, %lld call%s)\n",
			cv_safe(&k, p->a[i].path),
			cv_safe(&k, *p->a[i].location ? p->a[i].location
						      : "(no location)"),
			p->a[i].month, (long long)p->a[i].calls,
			p->a[i].calls == 1 ? "" : "s");
	cv_safe_finish(&k);
	if (p->dir)
		fprintf(f, "%zu match%s in %s archive%s\n", p->n_hits,
			p->n_hits == 1 ? "" : "es",
			p->n == 1 ? "that" : "those", p->n == 1 ? "" : "s");
	else
		fprintf(f, "search them too with --archives DIR (the archive "
			   "directory)\n");
}

void search_purged_finish(struct search_purged *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->a[i].path);
		free(p->a[i].location);
		free(p->a[i].month);
	}
	free(p->a);
	store_hits_free(p->hits, p->n_hits);
	for (size_t i = 0; i < p->n_hits; i++)
		free(p->hit_archive[i]);
	free(p->hit_archive);
	memset(p, 0, sizeof(*p));
}
