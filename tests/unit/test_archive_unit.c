/*
 * test_archive_unit.c — the archive API: failures injected at write,
 * fsync and rename leave no archive visible and the store unchanged; a
 * bag with several versions, webhook events and agent names restores into
 * an empty store and archives again to identical payload files.
 */
#include "t.h"

#include <sys/stat.h>

#include "bagfmt.h"
#include "blob.h"
#include "bagjson.h"
#include "bagread.h"
#include "retention.h"
#include "rt_fixture.h"
#include "store/store_archive_state.h"
#include "store/store_audit.h"
#include "store/store_recordings.h"
#include "store/store_retention.h"
#include "spool.h"
#include "store/store_webhook.h"

static int count_cb(const struct store_archive *a, void *arg)
{
	(*(int *)arg)++;
	return 0;
}
static int audit_cb(const struct audit_entry *e, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static int n_archives(struct store *s)
{
	int n = 0;
	CHECK(store_ret_each_archive(s, count_cb, &n, NULL) == CV_OK);
	return n;
}
static int n_audit(struct store *s)
{
	int n = 0;
	CHECK(store_audit_each(s, NULL, audit_cb, &n, NULL) == CV_OK);
	return n;
}

static void fill(struct store *s)
{
	char json[512];
	for (int i = 0; i < 12; i++) {
		snprintf(json, sizeof(json),
			"{\"id\":\"call%02d\",\"locationId\":\"LOC1\","
			"\"agentId\":\"ag%d\",\"contactId\":\"k%d\","
			"\"fromNumber\":\"+1512555%04d\",\"createdAt\":"
			"\"2026-0%d-%02dT10:00:00.000Z\",\"duration\":%d,"
			"\"summary\":\"sum, \\\"quoted\\\" %d\",\"transcript\":"
			"\"bot: hello\\nhuman: hi %d\"}",
			i, i % 3, i % 4, i, 1 + i % 2, 1 + i, 10 + i, i, i);
		CHECK(rt_ingest(s, json) == 0);
	}
	/* a second version of one call, its body kept once in raw_payloads
	 * and named by a webhook event (as the receiver does) */
	static const char v2[] = "{\"id\":\"call03\",\"locationId\":"
				 "\"LOC1\",\"createdAt\":\"2026-02-04T10:00:"
				 "00.000Z\",\"summary\":\"changed\"}";
	CHECK(rt_ingest(s, v2) == 0);
	char v2sha[CV_SHA256_HEX];
	cv_sha256_hex(v2, strlen(v2), v2sha);
	struct store_webhook_event we = { .dedup_key = "wh-0",
		.type = "VoiceAiCallEnd",
		.call_id = "call03",
		.location_id = "LOC1",
		.received_at = 1767261600001,
		.body_sha256 = v2sha,
		.in_payloads = true,
		.outcome = "call updated" };
	bool dup;
	CHECK(store_webhook_insert(s, &we, &dup, NULL) == CV_OK);
	struct store_event ev = { .dedup_key = "wh-1",
		.type = "VoiceAiCallEnd",
		.call_id = "call03",
		.location_id = "LOC1",
		.received_at = 1767261600000,
		.body = "{\"x\":\"\\u00e9\"}",
		.body_len = 14 };
	char sha[CV_SHA256_HEX];
	cv_sha256_hex(ev.body, ev.body_len, sha);
	ev.body_sha256 = sha;
	struct store_event bin = ev;
	bin.dedup_key = "wh-2";
	bin.body = "\xff\x00\x01";
	bin.body_len = 3;
	char sha2[CV_SHA256_HEX];
	cv_sha256_hex(bin.body, bin.body_len, sha2);
	bin.body_sha256 = sha2;
	CHECK(store_ret_put_event(s, &ev, NULL) == CV_OK);
	CHECK(store_ret_put_event(s, &bin, NULL) == CV_OK);
	struct store_event wh = ev;
	wh.dedup_key = "wh-3";
	wh.withheld = true;
	wh.outcome = "call updated";
	CHECK(store_ret_put_event(s, &wh, NULL) == CV_OK);
	CHECK(store_ret_put_agent(s, "LOC1", "ag1", "Front Desk", NULL) ==
		CV_OK);
}

static void test_faults(struct store *s, const char *dir)
{
	const enum sink_fault faults[] = { SINK_FAULT_WRITE, SINK_FAULT_FSYNC,
		SINK_FAULT_RENAME };
	int audit0 = n_audit(s);
	for (size_t i = 0; i < CV_ARRAY_LEN(faults); i++) {
		struct archive_opts o = { .out_dir = dir,
			.through = "2026-02",
			.actor = "test",
			.fault = faults[i],
			.level = 1 };
		char *err = NULL;
		CHECK(archive_run(s, &o, NULL, NULL, &err) != CV_OK);
		CHECK(err != NULL);
		free(err);
		CHECK_INT(rt_count_files(dir, ".tar.zst"), 0);
		CHECK_INT(rt_count_files(dir, ".tmp"), 0);
		CHECK_INT(rt_count_files(dir, ".callvault-spool"), 0);
		CHECK_INT(n_archives(s), 0);
		CHECK_INT(n_audit(s), audit0);
		/* no publish intent outlives a failure it saw */
		struct store_intent *iv;
		size_t ni;
		CHECK(store_ret_intents(s, &iv, &ni, NULL) == CV_OK);
		CHECK_INT(ni, 0);
		store_intents_free(iv, ni);
	}
	char *err = NULL;
	CHECK(store_check(s, &err) == CV_OK);
	free(err);
}

struct hashes {
	struct buf list; /* "path sha256\n" of each data/ file */
	struct cv_hash *h;
	char path[512];
	bool tags;       /* the tag files too */
	struct buf info; /* bag-info.txt, with tags */
	bool in_info;
};
static int h_begin(const struct bagread_entry *e, void *arg)
{
	struct hashes *h = arg;
	/* tags: all but what says when and by whom; bag-info.txt as
	 * text, less its date and the audit log's head */
	h->in_info = h->tags && !strcmp(e->path, "bag-info.txt");
	if (h->tags ? !strcmp(e->path, "tagmanifest-sha256.txt")
		    : strncmp(e->path, "data/", 5) != 0)
		return 1;
	if (!strcmp(e->path, "data/audit.jsonl"))
		return 1;
	snprintf(h->path, sizeof(h->path), "%s", e->path);
	h->h = cv_hash_create("sha256");
	return 0;
}
static int h_data(const void *p, size_t n, void *arg)
{
	struct hashes *h = arg;
	cv_hash_update(h->h, p, n);
	if (h->in_info)
		buf_append(&h->info, p, n);
	return 0;
}
static int h_end(void *arg)
{
	struct hashes *h = arg;
	char hex[CV_SHA512_HEX];
	cv_hash_final_hex(h->h, hex);
	h->h = NULL;
	if (!h->in_info) {
		buf_printf(&h->list, "%s %s\n", h->path, hex);
		return 0;
	}
	buf_append(&h->info, "", 1);
	for (char *l = h->info.data, *nl; l && *l; l = nl ? nl + 1 : NULL) {
		nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(l, "Bagging-Date:", 13) &&
			strncmp(l, "Callvault-Audit", 15))
			buf_printf(&h->list, "bag-info: %s\n", l);
	}
	buf_finish(&h->info);
	return 0;
}
static char *entry_hashes(const char *path, bool tags)
{
	struct hashes h = { .tags = tags };
	buf_init(&h.list);
	struct bagread_cb cb = { h_begin, h_data, h_end };
	CHECK(bagread_walk(path, &cb, &h, NULL) == CV_OK);
	return buf_steal(&h.list);
}

static char *payload_hashes(const char *path)
{
	return entry_hashes(path, false);
}

/* Progress as the library reports it: calls of each month, then done. */
struct seen_progress {
	int64_t last_done, last_total;
	int finals, calls;
};

static void on_progress(void *ctx, const char *location, const char *month,
	int64_t done, int64_t total, bool final)
{
	struct seen_progress *p = ctx;
	CHECK_STR(location, "LOC1");
	CHECK(strncmp(month, "2026-0", 6) == 0);
	if (final) {
		p->finals++;
		CHECK_INT(done, total);
	} else {
		p->calls++;
		p->last_done = done;
		p->last_total = total;
	}
}

static void test_roundtrip(struct store *s, const char *dir)
{
	struct seen_progress sp = { 0 };
	struct archive_opts o = { .out_dir = dir,
		.through = "2026-02",
		.actor = "test",
		.level = 1,
		.threads = 1,
		.progress = on_progress,
		.progress_ctx = &sp };
	char *err = NULL;
	CHECK(archive_run(s, &o, NULL, NULL, &err) == CV_OK);
	CHECK_INT(n_archives(s), 2);
	/* each month: its last call reported, then its end */
	CHECK_INT(sp.finals, 2);
	CHECK(sp.calls >= 2);
	CHECK(sp.last_done == sp.last_total && sp.last_total > 0);
	o.progress = NULL;
	char *feb = xasprintf("%s/LOC1/2026-02.tar.zst", dir);
	char *const paths[] = { feb };
	FILE *null = fopen("/dev/null", "w");
	struct verify_opts vo = { .out = null, .store = s, .deep = true };
	CHECK(verify_archives(paths, 1, &vo, &err) == CV_OK);

	char *db2 = xasprintf("%s/restored.db", dir);
	char *dir2 = xasprintf("%s/again", dir);
	struct store *r;
	CHECK(store_open(&r, db2, 0, &err) == CV_OK);
	struct restore_stats st;
	CHECK(restore_archive(r, feb, "test", &st, &err) == CV_OK);
	CHECK_INT(st.calls, 6);
	CHECK_INT(st.events, 4);
	CHECK_INT(st.versions_added, 7); /* call03 has two */
	CHECK(restore_archive(r, feb, "test", &st, &err) == CV_OK);
	CHECK_INT(st.versions_added, 0);
	CHECK_INT(st.versions_present, 7);
	struct store_call sc;
	CHECK(store_get_call(r, "call03", &sc, &err) == CV_OK);
	CHECK_INT(sc.n_versions, 2);
	CHECK_STR(sc.log.summary, "changed");
	store_call_finish(&sc);
	CHECK(store_check(r, &err) == CV_OK);
	struct archive_opts o2 = o;
	o2.out_dir = dir2;
	CHECK(archive_run(r, &o2, NULL, NULL, &err) == CV_OK);
	char *feb2 = xasprintf("%s/LOC1/2026-02.tar.zst", dir2);
	char *a = payload_hashes(feb), *b = payload_hashes(feb2);
	CHECK(strstr(a, "data/events.jsonl") != NULL);
	CHECK(strstr(a, "data/transcripts/call03.txt") != NULL);
	CHECK_STR(a, b);
	free(a);
	free(b);
	store_close(r);
	fclose(null);
	free(err);
	free(feb);
	free(feb2);
	free(db2);
	free(dir2);
}

static void copy_file(const char *from, const char *to)
{
	char *p = NULL;
	size_t n = 0;
	CHECK(cv_read_file(from, 1 << 24, &p, &n, NULL) == CV_OK);
	CHECK(cv_write_file_atomic(to, p, n, 0644, NULL) == CV_OK);
	free(p);
}

static char *swap_from;
/* Put another (valid) archive, February's, where the one being restored
 * was: what restore loads must still be the one it verified. */
static void swap_hook(const char *path)
{
	char *side = xasprintf("%s.sha256", path);
	char *from_side = xasprintf("%s.sha256", swap_from);
	CHECK(rename(swap_from, path) == 0);
	CHECK(rename(from_side, side) == 0);
	free(side);
	free(from_side);
}

/* issue 22 item 4: a file swapped between verify and load */
static void test_swap_during_restore(const char *dir)
{
	char *sw = xasprintf("%s/swap", dir),
	     *jan = xasprintf("%s/jan.tar.zst", sw);
	swap_from = xasprintf("%s/feb.tar.zst", sw);
	CHECK(mkdir(sw, 0700) == 0);
	const char *names[][2] = { { "2026-01.tar.zst", "jan.tar.zst" },
		{ "2026-02.tar.zst", "feb.tar.zst" } };
	for (int i = 0; i < 2; i++) {
		char *f = xasprintf("%s/a/LOC1/%s", dir, names[i][0]);
		char *t = xasprintf("%s/%s", sw, names[i][1]);
		char *fs = xasprintf("%s.sha256", f),
		     *ts = xasprintf("%s.sha256", t);
		copy_file(f, t);
		copy_file(fs, ts);
		free(f);
		free(t);
		free(fs);
		free(ts);
	}
	char *db = xasprintf("%s/swapped.db", dir), *err = NULL;
	struct store *r;
	CHECK(store_open(&r, db, 0, &err) == CV_OK);
	restore_test_after_verify = swap_hook;
	struct restore_stats st;
	CHECK(restore_archive(r, jan, "test", &st, &err) == CV_OK);
	restore_test_after_verify = NULL;
	CHECK_INT(st.calls, 6);
	struct store_call sc;
	CHECK(store_get_call(r, "call00", &sc, &err) == CV_OK);
	store_call_finish(&sc);
	free(err);
	err = NULL;
	/* February's calls were never verified: none of them is loaded */
	CHECK(store_get_call(r, "call01", &sc, &err) == CV_ENOTFOUND);
	store_close(r);
	free(err);
	free(db);
	free(jan);
	free(swap_from);
	free(sw);
}

/* An event whose body is not UTF-8 text goes into events.jsonl as
 * bodyBase64 and comes back byte for byte, for each length mod 3; a
 * bodyBase64 that is not base64 (here data after the padding, which the
 * old reader dropped silently) is refused. */
static void test_event_base64(void)
{
	static const char body[] = "\xff\x00\xfe\x01binary\x80";
	for (size_t n = 1; n <= sizeof(body) - 1; n++) {
		struct store_event e = { .dedup_key = "d1",
			.type = "t",
			.call_id = "c1",
			.body_sha256 = "00",
			.outcome = "ok",
			.received_at = 1700000000000,
			.body = body,
			.body_len = n };
		struct buf l;
		buf_init(&l);
		bagfmt_event(&l, &e);
		CHECK(strstr(l.data, "\"bodyBase64\":\"") != NULL);
		struct bag_event back = { 0 };
		char *err = NULL;
		CHECK_INT(bagjson_parse_event(l.data, l.len, &back, &err),
			CV_OK);
		CHECK_INT(back.body_len, n);
		CHECK(back.body && memcmp(back.body, body, n) == 0);
		bag_event_finish(&back);
		free(err);
		buf_finish(&l);
	}
	static const char *const bad[] = { "QQ==QUJD", "QR==", "Q", "QU JD",
		"QUJD=" };
	for (size_t i = 0; i < CV_ARRAY_LEN(bad); i++) {
		char *line = xasprintf("{\"bodyBase64\":\"%s\","
				       "\"bodySha256\":\"00\",\"callId\":"
				       "\"c1\",\"dedupKey\":\"d1\","
				       "\"receivedAt\":"
				       "\"2023-11-14T22:13:20.000Z\"}",
			bad[i]);
		struct bag_event back = { 0 };
		char *err = NULL;
		CHECK_MSG(bagjson_parse_event(line, strlen(line), &back,
				  &err) == CV_EPARSE,
			"bodyBase64 \"%s\" accepted", bad[i]);
		bag_event_finish(&back);
		free(err);
		free(line);
	}
}

/* ---- counted spools (spool.h): what goes to S3 is made twice ---- */

struct regen {
	struct spool *sp;
	const char *text;
};

static enum cv_err put_text(void *arg, char **errmsg)
{
	(void)errmsg;
	struct regen *r = arg;
	spool_put(r->sp, r->text, strlen(r->text));
	return CV_OK;
}

/* Made again the same: in the tar, with the digests of the first
 * making; made again otherwise (other bytes, more, fewer): refused,
 * whatever the tar holds then is not finished. */
static void test_spool_replay(void)
{
	const char *again[] = { "hello, world\n", "hello, World\n",
		"hello, world\n!", "hello" };
	for (size_t i = 0; i < CV_ARRAY_LEN(again); i++) {
		struct sink *sk = sink_open_mem();
		struct tarzst *t;
		char *err = NULL;
		CHECK(tarzst_create(&t, sk, 1, 0, 0, &err) == CV_OK);
		struct spool sp, other;
		spool_open_counted(&sp);
		spool_open_counted(&other);
		spool_put(&sp, "hello, ", 7);
		spool_put(&sp, "world\n", 6);
		spool_put(&other, "x", 1);
		spool_seal(&other);
		struct regen r = { &sp, again[i] };
		char h256[CV_SHA256_HEX], h512[CV_SHA512_HEX];
		enum cv_err rc = spool_replay(&sp, t, "f.txt", put_text, &r,
			h256, h512, &err);
		if (i == 0) {
			CHECK(rc == CV_OK);
			char want[CV_SHA256_HEX];
			cv_sha256_hex("hello, world\n", 13, want);
			CHECK_STR(h256, want);
			CHECK_INT(sp.size, 13);
		} else {
			CHECK(rc == CV_EINTEGRITY);
			CHECK(err && strstr(err, "f.txt") != NULL);
		}
		/* a sealed spool ignores what is put while another replays */
		spool_put(&other, "yyy", 3);
		CHECK_INT(other.size, 1);
		/* replayed once only */
		free(err);
		err = NULL;
		if (i == 0)
			CHECK(spool_replay(&sp, t, "f.txt", put_text, &r, h256,
				      h512, &err) == CV_EINVAL);
		free(err);
		spool_close(&sp);
		spool_close(&other);
		tarzst_destroy(t);
		sink_destroy(sk);
	}
}

/* Give call id (with messageId mid) a recording and a timed
 * transcription, as the fetcher does (tests/mkrec.c). */
static void add_media(struct store *s, const char *db, const char *mid,
	size_t bytes)
{
	struct blobstore *b;
	struct blob_writer *w;
	char sha[CV_SHA256_HEX], *err = NULL;
	int64_t size;
	CHECK(blob_open(&b, db, true, &err) == CV_OK);
	CHECK(blob_writer_new(b, 0, &w, &err) == CV_OK);
	unsigned char *p = xmalloc(bytes);
	for (size_t i = 0; i < bytes; i++)
		p[i] = (unsigned char)(i * 31 + strlen(mid));
	CHECK(blob_writer_write(w, p, bytes, &err) == CV_OK);
	free(p);
	CHECK(store_begin(s, &err) == CV_OK);
	CHECK(blob_writer_commit(w, NULL, sha, &size, &err) == CV_OK);
	struct store_recording r = { .message_id = (char *)mid,
		.location_id = "LOC1",
		.sha256 = sha,
		.size = size,
		.content_type = "audio/x-wav",
		.duration_ms = 1000,
		.sample_rate = 8000,
		.channels = 1,
		.fetched_at = 1767225600000,
		.source = "api" };
	static const char tr[] = "[{\"sentenceIndex\":0,\"transcript\":"
				 "\"hello\"}]";
	bool added;
	CHECK(store_recording_add(s, &r, &added, &err) == CV_OK);
	CHECK(store_transcription_add(s, mid, "LOC1", tr, strlen(tr),
		      r.fetched_at, "api", &added, &err) == CV_OK);
	CHECK(store_commit(s, &err) == CV_OK);
	free(err);
	blob_close(b);
}

/* What archive_run reports of each bag, as text. */
static void outcome_line(const struct archive_outcome *r, void *arg)
{
	buf_printf(arg,
		"%s %s %d calls %lld versions %lld events %lld "
		"payload %llu\n",
		r->location, r->month, r->seq, (long long)r->calls,
		(long long)r->versions, (long long)r->events,
		(unsigned long long)r->payload_bytes);
}

/* Two stores with the same contents, archived at the same time: one
 * with its files spooled to out_dir, one counted and made again as to
 * S3, come to the same files (bag-info.txt aside: it names the audit log's
 * head, which differs by the time of each entry). */
static void test_counted_same_bytes(const char *dir)
{
	char *db1 = xasprintf("%s/c1.db", dir),
	     *db2 = xasprintf("%s/c2.db", dir);
	struct store *s;
	CHECK(store_open(&s, db1, 0, NULL) == CV_OK);
	fill(s);
	/* recordings and timed transcriptions: data/media.jsonl and the
	 * media files, in the manifests made again */
	CHECK(rt_ingest(s, "{\"id\":\"m1\",\"locationId\":\"LOC1\","
			   "\"messageId\":\"msg1\",\"createdAt\":"
			   "\"2026-01-20T10:00:00.000Z\",\"transcript\":"
			   "\"bot: hi\"}") == 0);
	CHECK(rt_ingest(s, "{\"id\":\"m2\",\"locationId\":\"LOC1\","
			   "\"messageId\":\"msg2\",\"createdAt\":"
			   "\"2026-02-20T10:00:00.000Z\",\"transcript\":"
			   "\"bot: hi\"}") == 0);
	add_media(s, db1, "msg1", 3000);
	add_media(s, db1, "msg2", 5000);
	store_close(s);
	copy_file(db1, db2);
	char *cp = xasprintf("cp -a '%s.blobs' '%s.blobs'", db1, db2);
	CHECK(system(cp) == 0);
	free(cp);
	char *w1 = xasprintf("%s-wal", db1), *w2 = xasprintf("%s-wal", db2);
	if (access(w1, F_OK) == 0)
		copy_file(w1, w2);
	free(w1);
	free(w2);
	char *out[2];
	struct buf said[2];
	for (int i = 0; i < 2; i++) {
		buf_init(&said[i]);
		out[i] = xasprintf("%s/counted%d", dir, i);
		CHECK(store_open(&s, i ? db2 : db1, 0, NULL) == CV_OK);
		struct archive_opts o = { .out_dir = out[i],
			.through = "2026-02",
			.actor = "test",
			.level = 1,
			.counted_spools = i == 1,
			.now_ms = 1790000000000 };
		char *err = NULL;
		CHECK(archive_run(s, &o, outcome_line, &said[i], &err) ==
			CV_OK);
		if (err)
			fprintf(stderr, "%s\n", err);
		free(err);
		CHECK_INT(n_archives(s), 2);
		store_close(s);
	}
	const char *months[] = { "2026-01", "2026-02" };
	for (int m = 0; m < 2; m++) {
		char *a = xasprintf("%s/LOC1/%s.tar.zst", out[0], months[m]);
		char *b = xasprintf("%s/LOC1/%s.tar.zst", out[1], months[m]);
		char *ha = entry_hashes(a, true), *hb = entry_hashes(b, true);
		CHECK(strstr(ha, "data/calls.jsonl") != NULL);
		CHECK(strstr(ha, "manifest-sha512.txt") != NULL);
		CHECK(strstr(ha, "data/media.jsonl") != NULL);
		CHECK(strstr(ha, "data/recordings/m") != NULL);
		CHECK(strstr(ha, "data/transcriptions/m") != NULL);
		CHECK(strstr(ha, "bag-info: Payload-Oxum: ") != NULL);
		CHECK_STR(ha, hb);
		free(ha);
		free(hb);
		free(a);
		free(b);
	}
	CHECK(said[0].len > 0);
	CHECK_STR(said[0].data, said[1].data);
	buf_finish(&said[0]);
	buf_finish(&said[1]);
	free(out[0]);
	free(out[1]);
	free(db1);
	free(db2);
}

int main(void)
{
	char *dir = rt_tempdir();
	char *db = xasprintf("%s/store.db", dir), *out = xasprintf("%s/a", dir);
	struct store *s;
	CHECK(store_open(&s, db, 0, NULL) == CV_OK);
	fill(s);
	test_faults(s, out);
	test_roundtrip(s, out);
	test_swap_during_restore(dir);
	test_event_base64();
	test_spool_replay();
	test_counted_same_bytes(dir);
	store_close(s);
	rt_rmrf(dir);
	free(db);
	free(out);
	free(dir);
	return t_done();
}
