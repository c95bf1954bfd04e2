/* store_rank.c — see store_rank.h */
#include "store_rank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "store_int.h"

/* FTS5's bm25() constants */
#define BM25_K1 1.2
#define BM25_B 0.75
/* the most phrases scored; a longer expression is refused by search_parse.c's
 * query bounds long before this */
#define MAX_PHRASES 4096

/*
 * cv_bm25_parts(calls_fts): this row's part of BM25 as a blob of doubles:
 * the row's length in tokens (all columns), the index's average row
 * length, the number of phrases in the query, then a (phrase, hits) pair
 * for each phrase with hits in the row. Sparse, so that a query with
 * thousands of phrases (64 prefixes of 64 words each) costs what the row
 * holds, not phrases x rows. Cheap: it reads the row's size record and
 * its position lists, nothing else.
 */
static void bm25_parts(const Fts5ExtensionApi *api, Fts5Context *fts,
	sqlite3_context *ctx, int nval, sqlite3_value **val)
{
	int nphrase = api->xPhraseCount(fts);
	if (nphrase < 0 || nphrase > MAX_PHRASES) {
		sqlite3_result_error(ctx, "cv_bm25_parts: too many phrases",
			-1);
		return;
	}
	double *freq = sqlite3_malloc64(sizeof(double) * ((size_t)nphrase + 1));
	if (!freq) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	memset(freq, 0, sizeof(double) * ((size_t)nphrase + 1));
	int ntok = 0, ninst = 0;
	int rc = api->xColumnSize(fts, -1, &ntok);
	/* the index's average row length, once per query */
	double *avg = api->xGetAuxdata(fts, 0);
	if (rc == SQLITE_OK && !avg) {
		sqlite3_int64 nrow = 0, total = 0;
		rc = api->xRowCount(fts, &nrow);
		if (rc == SQLITE_OK)
			rc = api->xColumnTotalSize(fts, -1, &total);
		if (rc == SQLITE_OK && !(avg = sqlite3_malloc(sizeof(*avg))))
			rc = SQLITE_NOMEM;
		if (rc == SQLITE_OK) {
			*avg = nrow > 0 ? (double)total / (double)nrow : 1.0;
			rc = api->xSetAuxdata(fts, avg, sqlite3_free);
		}
	}
	if (rc == SQLITE_OK)
		rc = api->xInstCount(fts, &ninst);
	int hit = 0;
	for (int i = 0; rc == SQLITE_OK && i < ninst; i++) {
		int phrase, col, off;
		rc = api->xInst(fts, i, &phrase, &col, &off);
		if (rc == SQLITE_OK && phrase >= 0 && phrase < nphrase &&
			freq[phrase]++ == 0)
			hit++;
	}
	size_t n = 3 + 2 * (size_t)hit;
	double *out = rc == SQLITE_OK ? sqlite3_malloc64(sizeof(double) * n)
				      : NULL;
	if (rc == SQLITE_OK && !out)
		rc = SQLITE_NOMEM;
	if (rc != SQLITE_OK) {
		sqlite3_free(freq);
		sqlite3_result_error_code(ctx, rc);
		return;
	}
	out[0] = ntok;
	out[1] = *avg;
	out[2] = nphrase;
	size_t k = 3;
	for (int p = 0; p < nphrase; p++)
		if (freq[p] > 0) {
			out[k++] = p;
			out[k++] = freq[p];
		}
	sqlite3_free(freq);
	sqlite3_result_blob64(ctx, out, sizeof(double) * n, sqlite3_free);
}

static enum cv_err rank_register(struct store *s, char **errmsg)
{
	if (s->rank_ready)
		return CV_OK;
	fts5_api *api = store_fts5_api(s->db);
	if (!api || api->xCreateFunction(api, "cv_bm25_parts", NULL, bm25_parts,
			    NULL) != SQLITE_OK)
		return cv_error(errmsg, CV_EDB,
			"cannot register the FTS5 "
			"ranking function");
	s->rank_ready = true;
	return CV_OK;
}

struct row {
	int64_t rid;
	double score;
	double *parts; /* as cv_bm25_parts returned them */
	size_t nparts;
};

static int by_score(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->rid < y->rid ? 1 : x->rid > y->rid ? -1 : 0;
}

/* Score rows in place: BM25 with each phrase's document frequency taken
 * among the n rows (the pool) rather than the whole index. */
static void score(struct row *rows, size_t n, int nphrase)
{
	double *idf = xcalloc((size_t)nphrase + 1, sizeof(*idf));
	for (size_t i = 0; i < n; i++)
		for (size_t k = 3; k + 1 < rows[i].nparts; k += 2)
			idf[(size_t)rows[i].parts[k]] +=
				1; /* rows holding it */
	for (int p = 0; p < nphrase; p++) {
		/* FTS5's formula and floor, with the pool as the corpus */
		double v = log(((double)n - idf[p] + 0.5) / (idf[p] + 0.5));
		idf[p] = v > 0 ? v : 1e-6;
	}
	for (size_t i = 0; i < n; i++) {
		const double *pt = rows[i].parts;
		double len = pt[0], avg = pt[1] > 0 ? pt[1] : 1.0, sc = 0;
		for (size_t k = 3; k + 1 < rows[i].nparts; k += 2) {
			double f = pt[k + 1];
			sc += idf[(size_t)pt[k]] * (f * (BM25_K1 + 1.0)) /
			      (f + BM25_K1 * (1.0 - BM25_B +
						     BM25_B * len / avg));
		}
		rows[i].score = sc;
	}
	free(idf);
}

enum cv_err store_rank(struct store *s, const char *sql,
	const struct store_sql_args *a, int64_t limit, int64_t offset,
	struct store_hit **hits, size_t *n, char **errmsg)
{
	sqlite3_stmt *st;
	if (rank_register(s, errmsg) != CV_OK)
		return CV_EDB;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_dberr(s, errmsg, "search");
	store_bind_args(st, 1, a);
	struct row *rows = NULL;
	size_t nrows = 0, cap = 0;
	int nphrase = -1, r;
	enum cv_err rc = CV_OK;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int bytes = sqlite3_column_bytes(st, 1);
		const double *blob = sqlite3_column_blob(st, 1);
		size_t nd = (size_t)bytes / sizeof(double);
		if (!blob || nd < 3 || nd % 2 == 0 || blob[2] < 0 ||
			blob[2] > MAX_PHRASES ||
			(nphrase >= 0 && (int)blob[2] != nphrase)) {
			rc = cv_error(errmsg, CV_EDB,
				"search: malformed "
				"ranking data");
			break;
		}
		nphrase = (int)blob[2];
		for (size_t k = 3; k + 1 < nd && rc == CV_OK; k += 2)
			if (!(blob[k] >= 0 && blob[k] < nphrase))
				rc = cv_error(errmsg, CV_EDB,
					"search: "
					"malformed ranking data");
		if (rc != CV_OK)
			break;
		if (nrows == cap) {
			cap = cap ? cap * 2 : 256;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		rows[nrows].rid = sqlite3_column_int64(st, 0);
		rows[nrows].parts = xmalloc((size_t)bytes);
		memcpy(rows[nrows].parts, blob, (size_t)bytes);
		rows[nrows].nparts = nd;
		nrows++;
	}
	if (rc == CV_OK && r != SQLITE_DONE)
		rc = store_dberr(s, errmsg, "search");
	sqlite3_finalize(st);
	if (rc == CV_OK && nrows > 0) {
		score(rows, nrows, nphrase);
		qsort(rows, nrows, sizeof(*rows), by_score);
		size_t from = offset < (int64_t)nrows ? (size_t)offset : nrows;
		size_t k = nrows - from;
		if (limit >= 0 && (int64_t)k > limit)
			k = (size_t)limit;
		*hits = xcalloc(k + 1, sizeof(**hits));
		for (size_t i = 0; i < k; i++)
			(*hits)[i].rid = rows[from + i].rid;
		*n = k;
	}
	for (size_t i = 0; i < nrows; i++)
		free(rows[i].parts);
	free(rows);
	return rc;
}
