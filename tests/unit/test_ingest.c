/*
 * test_ingest.c — the one way in (src/ingest.h), on its own: a new call,
 * the same bytes again, a changed version, an API page of several calls,
 * a lower-trust version kept but not made current, and payloads that are
 * not usable going to quarantine with a reason that names the problem.
 */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "store/store.h"
#include "t.h"
#include "util.h"

static char dir[] = "/tmp/cv_ingest.XXXXXX";

static const char call_a[] =
	"{\"id\":\"call-a\",\"agentId\":\"ag1\",\"locationId\":\"L1\","
	"\"createdAt\":\"2026-06-01T10:00:00.000Z\",\"duration\":61,"
	"\"summary\":\"first summary\",\"transcript\":\"bot: hello\\n"
	"human: hi\"}";
static const char call_a2[] =
	"{\"id\":\"call-a\",\"agentId\":\"ag1\",\"locationId\":\"L1\","
	"\"createdAt\":\"2026-06-01T10:00:00.000Z\",\"duration\":61,"
	"\"summary\":\"second summary\",\"transcript\":\"bot: hello\\n"
	"human: hi\"}";

static struct ingest_stats run(struct store *s, enum store_source src,
	const char *bytes)
{
	struct ingest_stats st = { 0 };
	char *err = NULL;
	CHECK(store_begin(s, &err) == CV_OK);
	enum cv_err rc = ingest_payload(s, src, bytes, strlen(bytes), NULL, &st,
		NULL, &err);
	CHECK_MSG(rc == CV_OK, "%s", err ? err : "");
	CHECK(store_commit(s, &err) == CV_OK);
	free(err);
	return st;
}

static char *summary_of(struct store *s, const char *id)
{
	struct store_call c;
	char *err = NULL;
	if (store_get_call(s, id, &c, &err) != CV_OK) {
		free(err);
		return NULL;
	}
	char *sum = c.log.summary ? xstrdup(c.log.summary) : NULL;
	store_call_finish(&c);
	return sum;
}

static int n_versions(struct store *s, const char *id)
{
	struct store_call c;
	char *err = NULL;
	if (store_get_call(s, id, &c, &err) != CV_OK) {
		free(err);
		return -1;
	}
	int n = c.n_versions;
	store_call_finish(&c);
	return n;
}

int main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	char *path = xasprintf("%s/s.db", dir);
	struct store *s;
	char *err = NULL;
	CHECK(store_open(&s, path, 0, &err) == CV_OK);

	struct ingest_stats st = run(s, SRC_IMPORT, call_a);
	CHECK_INT(st.read, 1);
	CHECK_INT(st.added, 1);
	st = run(s, SRC_IMPORT, call_a); /* same bytes */
	CHECK_INT(st.unchanged, 1);
	CHECK_INT(st.added + st.updated, 0);
	CHECK_INT(n_versions(s, "call-a"), 1);
	st = run(s, SRC_IMPORT, call_a2); /* changed */
	CHECK_INT(st.updated, 1);
	CHECK_INT(n_versions(s, "call-a"), 2);
	char *sum = summary_of(s, "call-a");
	CHECK_STR(sum, "second summary");
	free(sum);

	/* the API's shape: a page of call logs; the API outranks import,
	 * so its version becomes current */
	char *page = xasprintf(
		"{\"callLogs\":[%s,"
		"{\"id\":\"call-b\",\"agentId\":\"ag1\",\"locationId\":\"L1\","
		"\"createdAt\":\"2026-06-02T10:00:00.000Z\",\"duration\":5}],"
		"\"total\":2,\"page\":1,\"pageSize\":50}",
		call_a);
	st = run(s, SRC_API, page);
	free(page);
	CHECK_INT(st.read, 2);
	CHECK_INT(st.added, 1);
	CHECK_INT(st.updated, 1);
	sum = summary_of(s, "call-a");
	CHECK_STR(sum, "first summary");
	free(sum);
	/* an import saying otherwise now is kept, not made current */
	st = run(s, SRC_IMPORT, call_a2);
	CHECK_INT(st.kept + st.unchanged, 1);
	sum = summary_of(s, "call-a");
	CHECK_STR(sum, "first summary");
	free(sum);

	/* not usable: quarantined with a reason, nothing else changes */
	static const char *const bad[] = {
		"{\"id\":\"call-c\",\"createdAt\":\"not a date\"}",
		"{\"agentId\":\"ag1\",\"createdAt\":\"2026-06-01\"}",
		"{\"id\":\"call-d\",\"createdAt\":\"2026-06",
		"[1,2,3]",
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(bad); i++) {
		st = run(s, SRC_IMPORT, bad[i]);
		CHECK_MSG(st.quarantined == 1 && st.added == 0,
			"payload %zu: quarantined %lld added %lld", i,
			(long long)st.quarantined, (long long)st.added);
	}
	struct store_stats ss;
	CHECK(store_stats(s, &ss, &err) == CV_OK);
	CHECK_INT(ss.calls, 2);
	CHECK_INT(ss.quarantined, (int64_t)CV_ARRAY_LEN(bad));
	store_stats_finish(&ss);

	store_close(s);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	free(path);
	free(err);
	return t_done();
}
