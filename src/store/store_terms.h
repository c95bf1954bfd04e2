/*
 * store_terms.h — the list of the full-text index's words (fts_terms),
 * kept so that a prefix query can be answered without FTS5's prefix
 * merge. Internal to src/store.
 */
#ifndef CV_STORE_TERMS_H
#define CV_STORE_TERMS_H

#include "store_int.h"

/* Register, on s's connection, the tokenizer that lets FTS5's own
 * tokenizing of a call feed fts_terms (store_terms.c says how). Before
 * anything opens calls_fts. */
enum cv_err store_terms_register(struct store *s, char **errmsg) CV_MUST_CHECK;

/* Around the INSERT into calls_fts of one call: the terms FTS5 indexes
 * between begin and end are written to fts_terms, in the open
 * transaction, by end when keep is true (the insert succeeded). */
enum cv_err store_terms_capture_begin(struct store *s,
	char **errmsg) CV_MUST_CHECK;
enum cv_err store_terms_capture_end(struct store *s, bool keep,
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
enum cv_err store_terms_check(struct store *s, char **errmsg) CV_MUST_CHECK;

void store_terms_free(struct store *s);

#endif
