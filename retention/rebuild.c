/*
 * rebuild.c — `archive --rebuild MONTH`: which archives of a month need
 * writing again (their file is lost or not the one recorded); archive.c
 * writes each from the live store.
 */
#include <stdlib.h>
#include <string.h>

#include "rebuild.h"

struct month_archives {
	const char *location, *month;
	struct store_archive *v;
	size_t n;
};

static int collect_month(const struct store_archive *a, void *arg)
{
	struct month_archives *m = arg;
	if ((m->location && strcmp(a->location_id, m->location)) ||
		strcmp(a->month, m->month))
		return 0;
	m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
	struct store_archive *c = &m->v[m->n++];
	*c = *a;
	c->location_id = xstrdup(a->location_id);
	c->month = xstrdup(a->month);
	c->path = xstrdup(a->path);
	c->sha256 = xstrdup(a->sha256);
	c->tagmanifest_sha256 = xstrdup(a->tagmanifest_sha256);
	c->prev_tagmanifest_sha256 =
		a->prev_tagmanifest_sha256 ? xstrdup(a->prev_tagmanifest_sha256)
					   : NULL;
	return 0;
}

/* Rebuild each archive of a location-month whose file is lost or no
 * longer the one recorded; intact ones are left alone (path empty). */
enum cv_err archive_rebuild_month(struct store *s, const struct archive_opts *o,
	const char *loc, const char *month,
	void (*fn)(const struct archive_outcome *r, void *arg), void *arg,
	char **errmsg)
{
	struct month_archives m = { loc, month, NULL, 0 };
	enum cv_err rc = store_ret_each_archive(s, collect_month, &m, errmsg);
	if (rc == CV_OK && !m.n)
		rc = cv_error(errmsg, CV_ENOTFOUND,
			"no archive of %s%s%s is "
			"recorded in the store",
			month, loc ? " for " : "", loc ? loc : "");
	for (size_t i = 0; i < m.n && rc == CV_OK; i++) {
		struct archive_outcome res = { 0 };
		snprintf(res.location, sizeof(res.location), "%s",
			m.v[i].location_id);
		snprintf(res.month, sizeof(res.month), "%s", month);
		char sha[CV_SHA256_HEX];
		res.seq = m.v[i].seq;
		if (!retention_file_sha256(m.v[i].path, sha) ||
			strcmp(sha, m.v[i].sha256) != 0)
			rc = archive_rebuild_one(s, o, &m.v[i], &res, errmsg);
		if (rc == CV_OK && fn)
			fn(&res, arg);
	}
	for (size_t i = 0; i < m.n; i++)
		store_archive_finish(&m.v[i]);
	free(m.v);
	return rc;
}
