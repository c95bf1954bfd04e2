/*
 * old_store.h — a store as an older callvault left it, for the tests of
 * migrations: run SQL on a database file, and build the schema as it
 * was just before a named migration (whichever came after it since).
 * Static functions: include it once per program.
 */
#ifndef CV_OLD_STORE_H
#define CV_OLD_STORE_H

#include <sqlite3.h>
#include <string.h>

#include "store/store_int.h" /* the migrations */
#include "t.h"
#include "util.h"

static void sql(const char *path, const char *q)
{
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK_MSG(sqlite3_exec(db, q, NULL, NULL, NULL) == SQLITE_OK, "%s: %s",
		q, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* Create path with every migration before the one named `name`. */
static void store_before(const char *path, const char *name)
{
	int mig = 0;
	while (mig < store_n_migrations &&
		strcmp(store_migrations[mig].name, name))
		mig++;
	CHECK_MSG(mig < store_n_migrations, "no migration \"%s\"", name);
	for (int i = 0; i < mig; i++) {
		char *q = xasprintf("BEGIN; %s; PRAGMA user_version = %d;"
				    " COMMIT;",
			store_migrations[i].sql, i + 1);
		sql(path, q);
		free(q);
	}
}

#endif
