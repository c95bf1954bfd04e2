/*
 * search_purged.h — what a search cannot see in the live store: the
 * calls purge removed from the months its period covers, the archives
 * holding them, and (`search --archives DIR`, callvault-full) the hits
 * of the same search inside those archives.
 */
#ifndef CV_CLI_SEARCH_PURGED_H
#define CV_CLI_SEARCH_PURGED_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "../store/store_search.h"

struct search_purged {
	int64_t calls; /* purged calls of those months */
	size_t n;      /* the archives holding them */
	struct search_purged_archive {
		char *path, *location, *month;
		int64_t calls;
	} * a;
	/* --archives: the archives searched, and their hits (calls that
	 * are not in the live store any more) */
	const char *dir;
	size_t n_hits;
	struct store_hit *hits;
	char **hit_archive;
};

/* Fill p for the filters' period and location. */
enum cv_err search_purged_find(struct store *s, const struct search_filter *f,
	struct search_purged *p, char **errmsg) CV_MUST_CHECK;
/* Run so in each archive of p, found under dir (callvault-full). */
enum cv_err search_purged_archives(struct store *s, const char *dir,
	const struct store_search_opts *so, struct search_purged *p,
	char **errmsg) CV_MUST_CHECK;
/* Add "purged" (and "archives" searched) to an audit detail. */
void search_purged_audit(const struct search_purged *p, json_t *detail);
/* The human note: how many, which archives, how to search them. */
void search_purged_note(const struct search_purged *p, FILE *f);
void search_purged_finish(struct search_purged *p);

#endif
