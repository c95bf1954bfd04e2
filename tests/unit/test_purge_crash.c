/*
 * test_purge_crash.c — a purge killed (SIGKILL) at random moments leaves
 * a consistent store: store_check passes, and every location-month is
 * either wholly purged or wholly still there (one transaction each).
 */
#include "t.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "retention.h"
#include "rt_fixture.h"
#include "store/store_retention.h"

#define MONTHS 6
#define PER_MONTH 40

static void build(const char *db, const char *out)
{
	struct store *s;
	CHECK(store_open(&s, db, 0, NULL) == CV_OK);
	char json[400];
	for (int m = 0; m < MONTHS; m++)
		for (int i = 0; i < PER_MONTH; i++) {
			snprintf(json, sizeof(json),
				"{\"id\":\"m%d-%02d\",\"locationId\":\"L\","
				"\"createdAt\":\"2026-%02d-%02dT08:00:00Z\","
				"\"summary\":\"s\",\"transcript\":\"bot: hi "
				"%d\\nhuman: 555-0100\"}",
				m, i, m + 1, 1 + i % 28, i);
			CHECK(rt_ingest(s, json) == 0);
		}
	struct archive_opts o = { .out_dir = out,
		.through = "2026-06",
		.actor = "t",
		.level = 1 };
	CHECK(archive_run(s, &o, NULL, NULL, NULL) == CV_OK);
	FILE *null = fopen("/dev/null", "w");
	char *paths[MONTHS];
	for (int m = 0; m < MONTHS; m++)
		paths[m] = xasprintf("%s/L/2026-%02d.tar.zst", out, m + 1);
	struct verify_opts vo = { .out = null, .store = s };
	CHECK(verify_archives(paths, MONTHS, &vo, NULL) == CV_OK);
	for (int m = 0; m < MONTHS; m++)
		free(paths[m]);
	fclose(null);
	CHECK(store_ret_set_policy(s, NULL, 0, "t", NULL) == CV_OK);
	store_close(s);
}

static void copy_file(const char *from, const char *to)
{
	char *cmd = xasprintf("cp '%s' '%s' && rm -f '%s-wal' '%s-shm'", from,
		to, to, to);
	CHECK(system(cmd) == 0);
	free(cmd);
}

/* Run purge in a child and kill it after delay_us (< 0: let it end). */
static void killed_purge(const char *db, long delay_us)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct store *s;
		if (store_open(&s, db, STORE_NOCREATE, NULL) != CV_OK)
			_exit(1);
		struct purge_opts po = { .actor = "t" };
		struct purge_stats st;
		int rc = purge_run(s, &po, &st, NULL) == CV_OK ? 0 : 1;
		store_close(s);
		_exit(rc);
	}
	if (delay_us >= 0) {
		struct timespec ts = { 0, delay_us * 1000 };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
	}
	int status;
	waitpid(pid, &status, 0);
}

static void check_whole_months(const char *db, int *partial, int *gone)
{
	struct store *s;
	CHECK(store_open(&s, db, STORE_NOCREATE, NULL) == CV_OK);
	char *err = NULL;
	CHECK_MSG(store_check(s, &err) == CV_OK, "%s", err ? err : "");
	free(err);
	for (int m = 0; m < MONTHS; m++) {
		int present = 0;
		for (int i = 0; i < PER_MONTH; i++) {
			char id[32];
			snprintf(id, sizeof(id), "m%d-%02d", m, i);
			struct store_call sc;
			present += store_get_call(s, id, &sc, NULL) == CV_OK;
			store_call_finish(&sc);
		}
		*partial += present != 0 && present != PER_MONTH;
		*gone += present == 0;
	}
	store_close(s);
}

int main(void)
{
	char *dir = rt_tempdir();
	char *base = xasprintf("%s/base.db", dir),
	     *db = xasprintf("%s/t.db", dir);
	char *out = xasprintf("%s/a", dir);
	build(base, out);
	int partial = 0, gone = 0, rounds = rt_under_valgrind() ? 4 : 16;
	/* first a purge that runs to its end, to time it */
	copy_file(base, db);
	int64_t t0 = cv_mono_ms();
	killed_purge(db, -1);
	long full_us = (long)(cv_mono_ms() - t0) * 1000;
	check_whole_months(db, &partial, &gone);
	CHECK_INT(gone, MONTHS);
	/* then kills spread over that time */
	int mid = 0;
	for (int r = 1; r <= rounds; r++) {
		int before = gone;
		copy_file(base, db);
		killed_purge(db, full_us * r / (rounds + 1));
		check_whole_months(db, &partial, &gone);
		mid += gone - before > 0 && gone - before < MONTHS;
	}
	CHECK_INT(partial, 0);
	printf("purge takes %ld ms; %d of %d kills landed between months\n",
		full_us / 1000, mid, rounds);
	rt_rmrf(dir);
	free(base);
	free(db);
	free(out);
	free(dir);
	return t_done();
}
