/*
 * rt_fixture.h — helpers shared by the retention test programs: a temp
 * directory (on /dev/shm when there is one, so fsync is cheap), calls
 * ingested from small JSON records, and a listing of a directory tree.
 */
#ifndef CV_RT_FIXTURE_H
#define CV_RT_FIXTURE_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest.h"
#include "store/store.h"
#include "util.h"

static inline char *rt_tempdir(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char *d = xasprintf("%s/cvrt.XXXXXX", base);
	if (!mkdtemp(d))
		abort();
	return d;
}

static inline void rt_rmrf(const char *path)
{
	char *cmd = xasprintf("rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
	free(cmd);
}

/* Whether we run under valgrind (its preload is in LD_PRELOAD): the
 * tests then do fewer rounds. */
static inline bool rt_under_valgrind(void)
{
	const char *pre = getenv("LD_PRELOAD");
	return pre && strstr(pre, "vgpreload");
}

/* Ingest one call record (JSON text); returns 0 on success. */
static inline int rt_ingest(struct store *s, const char *json)
{
	struct ingest_stats st = { 0 };
	char *err = NULL;
	enum cv_err rc = store_begin(s, &err);
	if (rc == CV_OK)
		rc = ingest_payload(s, SRC_IMPORT, json, strlen(json), NULL,
			&st, NULL, &err);
	if (rc == CV_OK)
		rc = store_commit(s, &err);
	else
		store_rollback(s);
	if (rc != CV_OK || st.quarantined)
		fprintf(stderr, "ingest failed: %s\n",
			err ? err : "quarantined");
	free(err);
	return rc != CV_OK || st.quarantined;
}

/* Count files under dir whose name contains needle ("" = all files). */
static inline int rt_count_files(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = xasprintf("%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			n += rt_count_files(p, needle);
		else if (strstr(e->d_name, needle))
			n++;
		free(p);
	}
	closedir(d);
	return n;
}

#endif
