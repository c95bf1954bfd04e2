/*
 * restore.c — `callvault restore`: verify an archive, then load its
 * versions (data/versions.jsonl), webhook events (data/events.jsonl) and
 * agent names (data/outcomes.csv) back into the store in one transaction.
 * Versions go in through the store's ingest with source `restore`,
 * keeping their original source, credential kind, received time and
 * payload hash, so archiving the restored calls again gives the same
 * payload bytes. Calls that were disposed of (tombstones) are not loaded,
 * nor their events: they are counted as disposed. The erasures a bag
 * carries (data/erasures.jsonl) become tombstones, and remove the calls
 * they name (load_erasure).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bagjson.h"
#include "bagread.h"
#include "restore_media.h"
#include "retention.h"
#include "s3.h"
#include "store/store_audit.h"
#include "store/store_retention.h"
#include "store/store_subject.h"
#include "store/store_storage.h"

#define LINE_MAX_BYTES (2u * CALLLOG_MAX_PAYLOAD)

enum rfile { R_SKIP, R_VERSIONS, R_EVENTS, R_OUTCOMES, R_ERASURES, R_MEDIA };

struct rctx {
	struct store *s;
	struct restore_stats *st;
	enum rfile kind;
	struct buf line;
	/* outcomes.csv state */
	bool quoted, after_quote;
	int field;
	int64_t row;
	struct buf f[3];      /* locationId, agentId, agentName */
	struct rmedia *media; /* recordings, timed transcriptions */
	enum cv_err rc;
	char *err;
};

static int r_begin(const struct bagread_entry *e, void *arg)
{
	struct rctx *r = arg;
	r->kind = !strcmp(e->path, "data/versions.jsonl")   ? R_VERSIONS
		  : !strcmp(e->path, "data/events.jsonl")   ? R_EVENTS
		  : !strcmp(e->path, "data/outcomes.csv")   ? R_OUTCOMES
		  : !strcmp(e->path, "data/erasures.jsonl") ? R_ERASURES
							    : R_SKIP;
	buf_reset(&r->line);
	r->row = 0;
	r->field = 0;
	r->quoted = r->after_quote = false;
	if (r->kind == R_SKIP && rmedia_takes(e->path)) {
		r->kind = R_MEDIA;
		r->rc = rmedia_begin(r->media, e->path, &r->err);
		return r->rc != CV_OK ? -1 : 0;
	}
	return r->kind == R_SKIP ? 1 : 0;
}

static void count_version(struct restore_stats *st,
	enum store_ingest_result res, int seq)
{
	if (res == INGEST_DISPOSED) {
		/* a disposed call stays disposed: counted once, by its
		 * first version */
		st->disposed += seq == 1;
		return;
	}
	if (res == INGEST_UNCHANGED)
		st->versions_present++;
	else
		st->versions_added++;
	if (seq == 1)
		st->calls++;
}

static enum cv_err load_version(struct rctx *r, const char *p, size_t n)
{
	struct bag_version v;
	struct calllog c;
	enum cv_err rc = bagjson_parse_version(p, n, &v, &r->err);
	if (rc != CV_OK)
		return rc;
	rc = calllog_from_canonical(v.record, v.record_len, &c, &r->err);
	if (rc == CV_OK && (strcmp(c.canonical_sha256, v.canonical_sha256) ||
				   strcmp(c.id, v.call_id)))
		rc = cv_error(&r->err, CV_EINTEGRITY,
			"call %s version %d: "
			"record does not match its hash",
			v.call_id, v.seq);
	if (rc == CV_OK) {
		struct store_restore_version rv = { .log = &c,
			.seq = v.seq,
			.origin = v.source,
			.cred = v.cred,
			.received_at = v.received_at,
			.raw_sha256 = v.raw_sha256,
			.redacted = v.redacted };
		enum store_ingest_result res = INGEST_UNCHANGED;
		rc = store_ret_restore_version(r->s, &rv, &res, &r->err);
		if (rc == CV_OK)
			count_version(r->st, res, v.seq);
	}
	calllog_finish(&c);
	bag_version_finish(&v);
	return rc;
}

static enum cv_err load_event(struct rctx *r, const char *p, size_t n)
{
	struct bag_event e;
	enum cv_err rc = bagjson_parse_event(p, n, &e, &r->err);
	if (rc != CV_OK)
		return rc;
	char sha[CV_SHA256_HEX];
	cv_sha256_hex(e.body, e.body_len, sha);
	struct store_event se = { .dedup_key = e.dedup_key,
		.type = e.type,
		.call_id = e.call_id,
		.message_id = e.message_id,
		.location_id = e.location_id,
		.body_sha256 = e.body_sha256,
		.signature = e.signature,
		.received_at = e.received_at,
		.outcome = e.outcome,
		.withheld = e.withheld,
		.body = e.withheld ? NULL : e.body,
		.body_len = e.body_len };
	bool dead = false;
	if (!e.withheld && strcmp(sha, e.body_sha256) != 0)
		rc = cv_error(&r->err, CV_EINTEGRITY,
			"event %s: body does not match its hash", e.dedup_key);
	else if ((rc = store_tombstoned(r->s, e.call_id, NULL, &dead,
			  &r->err)) == CV_OK &&
		 !dead &&
		 (rc = store_tombstoned(r->s, NULL, e.message_id, &dead,
			  &r->err)) == CV_OK &&
		 !dead)
		rc = store_ret_put_event(r->s, &se, &r->err);
	if (rc == CV_OK && dead)
		r->st->events_disposed++;
	else if (rc == CV_OK)
		r->st->events++;
	bag_event_finish(&e);
	return rc;
}

/* An erasure carried by the bag (data/erasures.jsonl, written after its
 * calls): a call of it the store holds now — loaded from this bag or an
 * earlier one — goes as `subject erase` removed it, and its tombstone is
 * kept, so no later restore, sync or webhook brings it back. A call a
 * hold covers here stays (holds win), counted. */
static enum cv_err load_erasure(struct rctx *r, const char *p, size_t n)
{
	struct bag_erasure b;
	enum cv_err rc = bagjson_parse_erasure(p, n, &b, &r->err);
	if (rc != CV_OK)
		return rc;
	char *why = NULL;
	rc = store_ret_purge_call(r->s, b.call_id, b.reason, &why);
	if (rc == CV_EINVAL) {
		r->st->erasures_held++;
	} else if (rc == CV_OK || rc == CV_ENOTFOUND) {
		r->st->erased += rc == CV_OK;
		struct store_erasure e = { .call_id = b.call_id,
			.location_id = b.location_id,
			.message_id = b.message_id,
			.erased_at = b.erased_at,
			.reason = b.reason,
			.subject_hmac = b.subject_hmac };
		rc = store_erasure_put(r->s, &e, &r->err);
	} else {
		free(r->err);
		r->err = why;
		why = NULL;
	}
	rc = rc == CV_EINVAL ? CV_OK : rc;
	r->st->erasures++;
	free(why);
	bag_erasure_finish(&b);
	return rc;
}

static int feed_lines(struct rctx *r, const char *p, size_t n)
{
	while (n > 0 && r->rc == CV_OK) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		if (r->line.len + k > LINE_MAX_BYTES) {
			r->rc = cv_error(&r->err, CV_ETOOBIG,
				"a line longer "
				"than %u bytes",
				LINE_MAX_BYTES);
			break;
		}
		buf_append(&r->line, p, k);
		if (!nl)
			break;
		r->rc = r->kind == R_VERSIONS
				? load_version(r, r->line.data, r->line.len)
			: r->kind == R_ERASURES
				? load_erasure(r, r->line.data, r->line.len)
				: load_event(r, r->line.data, r->line.len);
		buf_reset(&r->line);
		p += k + 1;
		n -= k + 1;
	}
	return r->rc != CV_OK;
}

/* End of one CSV record: remember the agent's name. */
static void csv_row(struct rctx *r)
{
	if (r->row++ > 0 && r->f[1].len && r->f[2].len)
		r->rc = store_ret_put_agent(r->s, r->f[0].data, r->f[1].data,
			r->f[2].data, &r->err);
	for (int i = 0; i < 3; i++)
		buf_reset(&r->f[i]);
	r->field = 0;
}

static int feed_csv(struct rctx *r, const char *p, size_t n)
{
	for (size_t i = 0; i < n && r->rc == CV_OK; i++) {
		char c = p[i];
		if (r->quoted) {
			if (c == '"') {
				r->quoted = false;
				r->after_quote = true;
				continue;
			}
		} else if (c == '"') {
			r->quoted = true;
			if (!r->after_quote)
				continue;       /* opening quote */
			r->after_quote = false; /* "" is a quote */
		} else if (c == ',' || c == '\n') {
			r->after_quote = false;
			if (c == '\n')
				csv_row(r);
			else
				r->field++;
			continue;
		} else if (c == '\r') {
			continue;
		}
		r->after_quote = false;
		if (r->field >= 1 && r->field <= 3 &&
			r->f[r->field - 1].len < 4096)
			buf_putc(&r->f[r->field - 1], c);
	}
	return r->rc != CV_OK;
}

static int r_data(const void *p, size_t n, void *arg)
{
	struct rctx *r = arg;
	if (r->kind == R_MEDIA)
		return (r->rc = rmedia_data(r->media, p, n, &r->err)) != CV_OK;
	return r->kind == R_OUTCOMES ? feed_csv(r, p, n) : feed_lines(r, p, n);
}

static int r_end(void *arg)
{
	struct rctx *r = arg;
	if (r->kind == R_MEDIA)
		return (r->rc = rmedia_end(r->media, &r->err)) != CV_OK;
	if (r->line.len && r->rc == CV_OK)
		feed_lines(r, "\n", 1);
	return r->rc != CV_OK;
}

void (*restore_test_after_verify)(const char *path);

/* A private copy of the archive and of its .sha256 in a fresh 0700
 * directory. */
struct privcopy {
	char *dir, *path, *side;
};

static void privcopy_finish(struct privcopy *pc)
{
	if (pc->side)
		unlink(pc->side);
	if (pc->path)
		unlink(pc->path);
	if (pc->dir)
		rmdir(pc->dir);
	free(pc->dir);
	free(pc->path);
	free(pc->side);
}

static enum cv_err copy_fd(int in, const char *to, char **errmsg)
{
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		return cv_error(errmsg, CV_EIO, "cannot create %s: %s", to,
			strerror(errno));
	static char chunk[1 << 16];
	ssize_t n;
	enum cv_err rc = CV_OK;
	while ((n = read(in, chunk, sizeof(chunk))) > 0 && rc == CV_OK)
		for (ssize_t w, off = 0; off < n && rc == CV_OK; off += w)
			if ((w = write(out, chunk + off, (size_t)(n - off))) <
				0)
				rc = cv_error(errmsg, CV_EIO,
					"cannot write %s: "
					"%s",
					to, strerror(errno));
	if (rc == CV_OK && n < 0)
		rc = cv_error(errmsg, CV_EIO, "read: %s", strerror(errno));
	if (close(out) != 0 && rc == CV_OK)
		rc = cv_error(errmsg, CV_EIO, "cannot write %s", to);
	return rc;
}

/* The fresh private directory, and the names in it for an archive
 * whose file (or key) is path. */
static enum cv_err privcopy_dir(const char *path, struct privcopy *pc,
	char **errmsg)
{
	memset(pc, 0, sizeof(*pc));
	const char *tmp = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/callvault-restore-XXXXXX",
		tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl)) {
		enum cv_err e = cv_error(errmsg, CV_EIO,
			"cannot create a "
			"temp directory: %s",
			strerror(errno));
		free(tmpl);
		return e;
	}
	pc->dir = tmpl;
	char *copy = xstrdup(path);
	pc->path = xasprintf("%s/%s", pc->dir, basename(copy));
	pc->side = xasprintf("%s.sha256", pc->path);
	free(copy);
	return CV_OK;
}

static enum cv_err privcopy_make(const char *path, struct privcopy *pc,
	char **errmsg)
{
	enum cv_err rc = privcopy_dir(path, pc, errmsg);
	if (rc != CV_OK)
		return rc;
	char *side = xasprintf("%s.sha256", path), *text = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		rc = cv_error(errmsg, CV_EIO, "%s: %s", path,
			fd < 0 ? strerror(errno) : "not a regular file");
	if (rc == CV_OK)
		rc = copy_fd(fd, pc->path, errmsg);
	/* a missing .sha256 is verify's to report */
	if (rc == CV_OK && cv_read_file(side, 4096, &text, &len, NULL) == CV_OK)
		rc = cv_write_file_atomic(pc->side, text, len, 0600, errmsg);
	if (fd >= 0)
		close(fd);
	free(text);
	free(side);
	return rc;
}

/* Verify the private copy pc of path, then load it; pc is finished. */
static enum cv_err restore_copy(struct store *s, const char *path,
	struct privcopy *pcp, enum cv_err rc, const char *actor,
	const unsigned char *pubkey, struct restore_stats *st, char **errmsg)
{
	struct privcopy pc = *pcp;
	const char *const names[] = { path };
	/* with the store: an archive it recorded must be the one recorded */
	struct verify_opts vo = { .out = stderr,
		.names = names,
		.store = s,
		.pubkey = pubkey };
	if (rc == CV_OK)
		rc = verify_archives(&pc.path, 1, &vo, errmsg);
	if (rc != CV_OK) {
		privcopy_finish(&pc);
		return rc;
	}
	if (restore_test_after_verify)
		restore_test_after_verify(path);
	struct rmedia_stats ms = { 0 };
	struct rctx r = { .s = s, .st = st, .media = rmedia_create(s, &ms) };
	bool committed = false;
	buf_init(&r.line);
	for (int i = 0; i < 3; i++)
		buf_init(&r.f[i]);
	struct bagread_cb cb = { r_begin, r_data, r_end };
	if ((rc = store_begin(s, errmsg)) != CV_OK)
		goto out;
	rc = bagread_walk(pc.path, &cb, &r, errmsg);
	if (rc == CV_EINVAL && r.rc != CV_OK) {
		rc = r.rc;
		cv_error(errmsg, rc, "%s: %s", path, r.err ? r.err : "failed");
	}
	if (rc == CV_OK) {
		struct buf d;
		buf_init(&d);
		buf_puts(&d, "{\"archive\":");
		bagjson_cstr(&d, path);
		buf_printf(&d,
			",\"versions\":%lld,\"events\":%lld,"
			"\"recordings\":%lld,\"transcriptions\":%lld,"
			"\"disposed\":%lld,\"erasures\":%lld,"
			"\"erased\":%lld,\"erasuresHeld\":%lld}",
			(long long)st->versions_added, (long long)st->events,
			(long long)ms.recordings_added,
			(long long)ms.transcriptions, (long long)st->disposed,
			(long long)st->erasures, (long long)st->erased,
			(long long)st->erasures_held);
		rc = store_audit_append(s, actor, "restore", d.data, st->calls,
			errmsg);
		buf_finish(&d);
	}
	if (rc == CV_OK && (rc = store_commit(s, errmsg)) == CV_OK)
		committed = true;
	else if (rc != CV_OK)
		store_rollback(s);
	st->recordings_added = ms.recordings_added;
	st->recordings_present = ms.recordings_present;
	st->transcriptions = ms.transcriptions;
	st->media_disposed = ms.disposed;
out:
	rmedia_destroy(r.media, committed);
	privcopy_finish(&pc);
	free(r.err);
	buf_finish(&r.line);
	for (int i = 0; i < 3; i++)
		buf_finish(&r.f[i]);
	return rc;
}

enum cv_err restore_archive(struct store *s, const char *path,
	const char *actor, struct restore_stats *st, char **errmsg)
{
	return restore_archive_signed(s, path, actor, NULL, st, errmsg);
}

enum cv_err restore_archive_signed(struct store *s, const char *path,
	const char *actor, const unsigned char *pubkey,
	struct restore_stats *st, char **errmsg)
{
	memset(st, 0, sizeof(*st));
	struct privcopy pc;
	enum cv_err rc = privcopy_make(path, &pc, errmsg);
	return restore_copy(s, path, &pc, rc, actor, pubkey, st, errmsg);
}

/* ---- from S3 ---- */

struct fetch {
	int fd;
	struct cv_hash *h;
	bool failed;
};

static bool fetch_cb(const void *p, size_t n, void *arg)
{
	struct fetch *f = arg;
	cv_hash_update(f->h, p, n);
	for (size_t off = 0; off < n;) {
		ssize_t w = write(f->fd, (const char *)p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			f->failed = true;
			return false;
		}
		off += (size_t)w;
	}
	return true;
}

/* Stream the object into pc->path (hashed on the way) and write the
 * .sha256 beside it: expect's hash when the store recorded the archive,
 * else what came (the bag's own manifests are still checked). */
static enum cv_err fetch_copy(struct s3 *c, const char *key,
	const char *version, const char *expect, struct privcopy *pc,
	char **errmsg)
{
	struct fetch f = { .h = cv_hash_create("sha256") };
	f.fd = open(pc->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	enum cv_err rc = f.fd < 0 ? cv_error(errmsg, CV_EIO,
					    "cannot create "
					    "%s: %s",
					    pc->path, strerror(errno))
				  : CV_OK;
	if (rc == CV_OK)
		rc = s3_get(c, key, version, 0, -1, fetch_cb, &f, errmsg);
	if (f.fd >= 0 && close(f.fd) != 0 && rc == CV_OK)
		rc = cv_error(errmsg, CV_EIO, "cannot write %s", pc->path);
	if (rc != CV_OK && f.failed)
		rc = cv_error(errmsg, CV_EIO, "cannot write %s", pc->path);
	char sha[CV_SHA512_HEX];
	cv_hash_final_hex(f.h, sha);
	if (rc == CV_OK && expect && strcmp(sha, expect))
		rc = cv_error(errmsg, CV_EINTEGRITY,
			"s3 object %s%s%s: sha256 "
			"%s, the store recorded %s",
			key, version ? " version " : "", version ? version : "",
			sha, expect);
	if (rc != CV_OK)
		return rc;
	const char *slash = strrchr(pc->path, '/');
	char *line = xasprintf("%s  %s\n", expect ? expect : sha, slash + 1);
	rc = cv_write_file_atomic(pc->side, line, strlen(line), 0600, errmsg);
	free(line);
	return rc;
}

enum cv_err restore_archive_s3(struct store *s, struct s3 *c, const char *url,
	const char *actor, const unsigned char *pubkey,
	struct restore_stats *st, char **errmsg)
{
	memset(st, 0, sizeof(*st));
	const char *b = url + 5,
		   *key = strncmp(url, "s3://", 5) ? NULL : strchr(b, '/');
	const char *bucket = s3_bucket(c);
	if (!key || !key[1] || (size_t)(key - b) != strlen(bucket) ||
		strncmp(b, bucket, strlen(bucket)))
		return cv_error(errmsg, CV_EINVAL,
			"%s: not an s3://%s/KEY URL "
			"of this target",
			url, bucket);
	key++;
	struct store_remote *v = NULL;
	size_t n = 0;
	enum cv_err rc = store_remote_list(s, url, &v, &n, errmsg);
	struct privcopy pc;
	if (rc == CV_OK)
		rc = privcopy_dir(key, &pc, errmsg);
	else
		memset(&pc, 0, sizeof(pc));
	if (rc == CV_OK)
		rc = fetch_copy(c, key, n ? v[0].version_id : NULL,
			n ? v[0].sha256 : NULL, &pc, errmsg);
	store_remotes_free(v, n);
	return restore_copy(s, url, &pc, rc, actor, pubkey, st, errmsg);
}
