/*
 * test_tz.c — time zones from TZif files (src/tz.c) against glibc's own
 * reading of the same files, the footer rule past the last transition,
 * wall clock to instant at the changes, and conversions on many threads
 * at once with different zones (issue 18 item 5: setenv("TZ") on request
 * threads gave concurrent searches each other's offsets).
 */
#include <pthread.h>
#include <time.h>

#include "search.h"
#include "t.h"
#include "tz.h"

static const char *const zones[] = { "America/New_York", "Europe/London",
	"Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo",
	"Pacific/Chatham", "Europe/Dublin", "Africa/Casablanca", "Asia/Tehran",
	"America/St_Johns", "Pacific/Apia", "Antarctica/Troll",
	"Australia/Lord_Howe", "America/Santiago", "Europe/Moscow" };

/* glibc's offset at t under TZ=zone (single-threaded: the test's own
 * use of the process-global state the product no longer touches). */
static long glibc_offset(const char *zone, time_t t)
{
	static const char *set;
	if (set != zone) {
		setenv("TZ", zone, 1);
		tzset();
		set = zone;
	}
	struct tm tm;
	localtime_r(&t, &tm);
	return tm.tm_gmtoff;
}

static void offsets_match_glibc(void)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(zones); i++) {
		struct tz *z = NULL;
		char *err = NULL;
		CHECK_MSG(tz_load(&z, zones[i], &err) == CV_OK, "%s: %s",
			zones[i], err ? err : "");
		free(err);
		if (!z)
			continue;
		long bad = 0, n = 0;
		int64_t first_bad = 0;
		/* 1950 to 2100 (past the files' last transition, 2037: the
		 * footer rule), every 7 h 13 min 17 s */
		for (int64_t t = -631152000; t < 4102444800; t += 61991) {
			n++;
			if (tz_offset_at(z, t) != glibc_offset(zones[i], t) &&
				!bad++)
				first_bad = t;
		}
		CHECK_MSG(bad == 0,
			"%s: %ld of %ld offsets differ from glibc, "
			"first at %lld (%d vs %ld)",
			zones[i], bad, n, (long long)first_bad,
			tz_offset_at(z, first_bad),
			glibc_offset(zones[i], first_bad));
		tz_free(z);
	}
	unsetenv("TZ");
	tzset();
}

/* Every instant's wall clock converts back to it, or to the earlier
 * instant showing the same wall clock (clocks going back). */
static void wall_clock_round_trips(void)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(zones); i++) {
		struct tz *z = NULL;
		char *err = NULL;
		if (tz_load(&z, zones[i], &err) != CV_OK) {
			free(err);
			continue;
		}
		long bad = 0;
		for (int64_t t = 0; t < 4102444800; t += 3541) {
			int64_t wall = t + tz_offset_at(z, t);
			int64_t r = tz_local_to_utc(z, wall);
			bad += !(r + tz_offset_at(z, r) == wall && r <= t &&
				 t - r <= 3 * 3600);
		}
		CHECK_MSG(bad == 0, "%s: %ld wall clocks do not come back",
			zones[i], bad);
		tz_free(z);
	}
}

static void changes(void)
{
	struct tz *z = NULL;
	char *err = NULL;
	CHECK(tz_load(&z, "America/New_York", &err) == CV_OK);
	/* 2026-03-08 02:30 does not exist: read before the change, 07:30Z */
	CHECK_INT(tz_local_to_utc(z, 1772937000), 1772937000 + 5 * 3600);
	/* 2026-11-01 01:30 happens twice: the first, EDT, 05:30Z */
	CHECK_INT(tz_local_to_utc(z, 1793496600), 1793496600 + 4 * 3600);
	/* 2080-07-01 12:00, from the footer rule: EDT */
	CHECK_INT(tz_offset_at(z, 3487060800), -4 * 3600);
	tz_free(z);
	CHECK(tz_load(&z, "Mars/Olympus", &err) == CV_EINVAL);
	CHECK(tz_load(&z, "../../etc/passwd", &err) == CV_EINVAL);
	CHECK(tz_load(&z, "/etc/localtime", &err) == CV_EINVAL);
	CHECK(tz_load(&z, "America", &err) != CV_OK);
	CHECK(z == NULL);
	CHECK(tz_load(&z, "UTC", &err) == CV_OK && tz_offset_at(z, 0) == 0);
	tz_free(z);
	free(err);
}

/* ---- many threads, many zones ---- */

#define N_THREADS 8
#define ROUNDS 3000

struct job {
	const char *zone;
	int64_t want_from, want_to;
	long wrong;
};

static void *convert(void *arg)
{
	struct job *j = arg;
	for (int i = 0; i < ROUNDS; i++) {
		struct search_filters sf;
		struct search_filter_arg a[SFK_N] = { { 0 } };
		a[SFK_FROM] = (struct search_filter_arg){ "2026-03-01", 10 };
		a[SFK_TO] = (struct search_filter_arg){ "2026-03-31", 10 };
		a[SFK_TZ] = (struct search_filter_arg){ j->zone,
			strlen(j->zone) };
		char *err = NULL;
		if (search_filters_parse(&sf, a, &err) != CV_OK ||
			sf.f.from_ms != j->want_from ||
			sf.f.to_ms != j->want_to)
			j->wrong++;
		free(err);
	}
	return NULL;
}

static void threads_with_different_zones(void)
{
	struct job jobs[N_THREADS];
	pthread_t th[N_THREADS];
	for (int i = 0; i < N_THREADS; i++) {
		jobs[i] = (struct job){ .zone = zones[i] };
		char *err = NULL;
		CHECK(search_parse_time("2026-03-01", zones[i], false,
			&jobs[i].want_from, &err));
		CHECK(search_parse_time("2026-03-31", zones[i], true,
			&jobs[i].want_to, &err));
		free(err);
	}
	/* the answers differ between zones, so a mix-up shows */
	CHECK(jobs[0].want_from != jobs[1].want_from);
	CHECK_INT(jobs[0].want_from, 1772341200000);   /* 05:00Z, EST */
	CHECK_INT(jobs[0].want_to, 1775016000000 - 1); /* 04:00Z, EDT */
	for (int i = 0; i < N_THREADS; i++)
		pthread_create(&th[i], NULL, convert, &jobs[i]);
	for (int i = 0; i < N_THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK_MSG(jobs[i].wrong == 0, "%s: %ld of %d conversions wrong",
			jobs[i].zone, jobs[i].wrong, ROUNDS);
	}
}

int main(void)
{
	offsets_match_glibc();
	wall_clock_round_trips();
	changes();
	threads_with_different_zones();
	return t_done();
}
