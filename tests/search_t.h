/*
 * search_t.h — helpers shared by the search test programs (test_search,
 * test_search_export, test_search_paths in unit/): a temp directory, the
 * fixture corpus imported through the real ingest path into a store
 * there (with agents' names, as sync would record them), one call
 * ingested, one query run. Static functions: include it once per program.
 */
#ifndef CV_SEARCH_T_H
#define CV_SEARCH_T_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "search.h"
#include "store/store.h"
#include "store/store_search.h"
#include "t.h"
#include "util.h"

/* The program's temp directory and, when a fixture is loaded, its store
 * (db, s); NULL s: none. */
struct ts_fixture {
	char dir[32];
	char *db;
	struct store *s;
};

static inline struct store *ts_load_fixture(const char *path, const char *db)
{
	struct store *s;
	char *err = NULL;
	if (store_open(&s, db, 0, &err) != CV_OK) {
		fprintf(stderr, "open: %s\n", err);
		exit(1);
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	char line[16384];
	struct ingest_stats st = { 0 };
	CHECK(store_begin(s, &err) == CV_OK);
	while (fgets(line, sizeof(line), f))
		CHECK(ingest_payload(s, SRC_IMPORT, line, strlen(line), NULL,
			      &st, NULL, &err) == CV_OK);
	CHECK(store_commit(s, &err) == CV_OK);
	fclose(f);
	CHECK_INT(st.added, 8);
	CHECK_INT(st.quarantined, 0);
	free(err);
	return s;
}

/* The fixture named on the command line (exit 2 without one); logs
 * quieted to warnings. */
static inline const char *ts_fixture_arg(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FIXTURE.jsonl\n", argv[0]);
		exit(2);
	}
	cv_log_set_level(CV_LOG_WARN);
	return argv[1];
}

/* A temp directory in fx; with fixture (a JSONL path), that corpus in
 * the store dir/s.db. */
static inline void ts_open(struct ts_fixture *fx, const char *fixture)
{
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cvsearchXXXXXX");
	if (!mkdtemp(fx->dir)) {
		perror("mkdtemp");
		exit(1);
	}
	fx->db = NULL;
	fx->s = NULL;
	if (!fixture)
		return;
	fx->db = xasprintf("%s/s.db", fx->dir);
	fx->s = ts_load_fixture(fixture, fx->db);
	/* an agent's name, as sync would record it */
	sqlite3 *raw;
	CHECK(sqlite3_open(fx->db, &raw) == SQLITE_OK);
	CHECK(sqlite3_exec(raw,
		      "INSERT INTO agents(location_id, id, name,"
		      " updated_at) VALUES ('L1', 'A2', 'Billing "
		      "Desk', 0), ('L9', 'A3', 'Zed', 0), ('L5',"
		      " 'A3', 'Amy', 0)",
		      NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(raw);
}

/* The fixture's store passes store_check; the directory goes. */
static inline void ts_close(struct ts_fixture *fx)
{
	if (fx->s) {
		char *err = NULL;
		CHECK(store_check(fx->s, &err) == CV_OK);
		free(err);
		store_close(fx->s);
	}
	char *cmd = xasprintf("rm -rf '%s'", fx->dir);
	CHECK(system(cmd) == 0);
	free(cmd);
	free(fx->db);
}

/* Ingest one call record (JSON text), committed or rolled back. */
static inline void ts_ingest_line(struct store *s, const char *line,
	bool commit)
{
	char *err = NULL;
	struct ingest_stats st = { 0 };
	CHECK(store_begin(s, &err) == CV_OK);
	CHECK(ingest_payload(s, SRC_IMPORT, line, strlen(line), NULL, &st, NULL,
		      &err) == CV_OK);
	if (commit)
		CHECK(store_commit(s, &err) == CV_OK);
	else
		store_rollback(s);
	free(err);
}

/* Up to 100 hits of q in sort's order (store_hits_free); *n of them. */
static inline struct store_hit *ts_one(struct store *s, const char *q,
	enum store_sort sort, size_t *n)
{
	struct search_plan pl;
	char *err = NULL;
	int pos;
	struct store_hit *h = NULL;
	*n = 0;
	if (search_parse(q, &pl, &pos, &err) == CV_OK) {
		struct store_search_opts o = { .plan = &pl,
			.sort = sort,
			.limit = 100 };
		CHECK(store_search(s, &o, &h, n, &err) == CV_OK);
	}
	free(err);
	search_plan_finish(&pl);
	return h;
}

#endif
