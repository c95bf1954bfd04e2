/*
 * test_media.c — the recording fetcher's rules (src/media.h) that do
 * not need a server: the retry ladder, which message ids may go into a
 * URL, the URL itself, and the denied state of the fetch queue.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "media.h"
#include "store/store.h"
#include "store/store_recordings.h"
#include "t.h"
#include "util.h"

static void test_ladder(void)
{
	static const int64_t min[] = { 2, 10, 30, 60, 180, 360, 720, 720, 720 };
	int64_t total = 0;
	for (int i = 0; i < 9; i++) {
		CHECK_INT(media_retry_delay(i), min[i] * 60000);
		total += media_retry_delay(i);
	}
	CHECK_INT(media_retry_delay(-1), 2 * 60000);
	/* the retries go on for more than a day before `missing` */
	CHECK(total > MEDIA_MISSING_AFTER_MS);
	CHECK(MEDIA_MISSING_AFTER_MS >= 24 * INT64_C(3600000));
}

static void test_ids(void)
{
	CHECK(media_id_ok("tDtDnQdgm2LXpyiqYvZ6"));
	CHECK(media_id_ok("a_b-C9"));
	CHECK(!media_id_ok(""));
	CHECK(!media_id_ok(NULL));
	CHECK(!media_id_ok(".."));
	CHECK(!media_id_ok("a/b"));
	CHECK(!media_id_ok("a?x=1"));
	CHECK(!media_id_ok("https://evil.example/x.wav"));
	char id[66];
	memset(id, 'a', 65);
	id[65] = '\0';
	CHECK(!media_id_ok(id));
	id[64] = '\0';
	CHECK(media_id_ok(id));
}

static void test_urls(void)
{
	struct store_media_job j = { .message_id = "M1",
		.location_id = "L 1",
		.kind = MEDIA_RECORDING };
	char *u = media_url("http://127.0.0.1:9", &j);
	CHECK_STR(u, "http://127.0.0.1:9/conversations/messages/M1/"
		     "locations/L%201/recording");
	free(u);
	j.kind = MEDIA_TRANSCRIPTION;
	u = media_url("https://services.leadconnectorhq.com", &j);
	CHECK_STR(u, "https://services.leadconnectorhq.com/conversations/"
		     "locations/L%201/messages/M1/transcription");
	free(u);
}

static void test_denied(void)
{
	char dir[] = "/tmp/cv_media.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *path = xasprintf("%s/s.db", dir), *err = NULL;
	struct store *s = NULL;
	CHECK(store_open(&s, path, 0, &err) == CV_OK);
	CHECK(store_media_want(s, "m1", "L1", 1000, 1000, &err) == CV_OK);
	CHECK(store_media_want(s, "m2", "L1", 1000, 1000, &err) == CV_OK);
	CHECK(store_media_want(s, "m3", "L2", 1000, 1000, &err) == CV_OK);
	CHECK(store_media_deny_location(s, "L1", 5000, "HTTP 401", &err) ==
		CV_OK);
	struct store_media_counts c;
	CHECK(store_media_counts(s, "L1", MEDIA_RECORDING, &c, &err) == CV_OK);
	CHECK_INT(c.denied, 2);
	CHECK_INT(c.pending, 0);
	CHECK(store_media_counts(s, "L2", MEDIA_RECORDING, &c, &err) == CV_OK);
	CHECK_INT(c.pending, 1);
	struct store_media_job *v;
	size_t n;
	/* not asked again before next_at, asked again after it */
	CHECK(store_media_due(s, "L1", 4999, 10, &v, &n, &err) == CV_OK);
	CHECK_INT(n, 0);
	store_media_jobs_free(v, n);
	CHECK(store_media_due(s, "L1", 5000, 10, &v, &n, &err) == CV_OK);
	CHECK_INT(n, 4);
	store_media_jobs_free(v, n);
	store_close(s);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
	free(cmd);
	free(path);
	free(err);
}

int main(void)
{
	test_ladder();
	test_ids();
	test_urls();
	test_denied();
	return t_done();
}
