/*
 * store_terms.h — the list of the full-text index's words (fts_terms),
 * kept so that a prefix query can be answered without FTS5's prefix
 * merge. Internal to src/store.
 */
#ifndef CV_STORE_TERMS_H
#define CV_STORE_TERMS_H

#include "store_int.h"

/* Record the index terms of text (one FTS5 column of a call being
 * indexed) in fts_terms, in the open transaction. */
enum cv_err store_terms_note(struct store *s, const char *text,
	char **errmsg) CV_MUST_CHECK;

/* The open transaction committed / rolled back: what it noted is now
 * known to be stored / forgotten. */
void store_terms_committed(struct store *s);
void store_terms_rolled_back(struct store *s);

/*
 * fts (an FTS5 expression built by search.c) with each prefix term
 * outside NEAR(...) replaced by an OR of the stored terms it stands for,
 * or NULL when nothing was replaced. *left: prefixes left to FTS5.
 */
char *store_terms_expand(struct store *s, const char *fts, int *left);

/* CV_EINTEGRITY naming a term the index holds and fts_terms lacks. */
enum cv_err store_terms_check(struct store *s, char **errmsg)
	CV_MUST_CHECK;

void store_terms_free(struct store *s);

#endif
