/*
 * evidence.c — see evidence.h: the package writer shared by evidence and
 * subject-access exports, and the selection of an evidence export.
 */
#include "evidence.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"

#include "bagfmt.h"
#include "seal.h"
#include "storage.h"
#include "bagjson.h"
#include "publish.h"
#include "retention.h"
#include "store/store_audit.h"
#include "store/store_recordings.h"
#include "store/store_holds.h"
#include "store/store_retention.h"
#include "store/store_search.h"
#include "tarzst.h"
#include "tz.h"

/* zstd level 3 (zstd's own default) with one worker thread, so that
 * compression runs beside the store reads: at level 9 in the caller's
 * thread an export of 10,000 calls took several times as long as `tar |
 * zstd -T0` for a few percent of size (tools/bench/bench_evidence.sh,
 * docs/benchmarks.md). */
/* Bytes of the load file held before they go to its temp file. */
#define SPILL (256 * 1024)

#define EVPKG_LEVEL 3
#define EVPKG_THREADS 1

/* the recording (the first; later ones are recording.2.wav, …) and the
 * timed transcription come from the blob store and the store's rows */
static const char *const file_names[EVPKG_F_N] = { "versions.jsonl",
	"transcript.txt", "events.jsonl", NULL, NULL };

struct pkgw {
	struct store *s;
	const struct evpkg_opts *o;
	struct evpkg_stats *st;
	struct tarzst *t;
	struct tz *z;
	struct evreport *rep;
	struct blobstore *blobs; /* NULL until a call has a recording */
	struct buf man, load, line, path;
	/* the load file and the manifest grow with the calls: past SPILL
	 * bytes they go to unlinked temp files */
	FILE *loadf, *manf;
	bool spill_err;
	uint64_t oxum_bytes, oxum_files;
	/* the call being written */
	const char *cur;
	struct evpkg_version *v;
	size_t n_v, cap_v, n_ev;
	/* the ids written, for the audit entry */
	char **done;
	size_t n_done;
	char **errmsg;
	enum cv_err rc;
};

/* ---- payload files ---- */

/* Move b's bytes to the temp file f. */
static void spill(struct pkgw *w, FILE *f, struct buf *b)
{
	if (!w->spill_err && b->len && fwrite(b->data, 1, b->len, f) != b->len)
		w->spill_err = true;
	buf_reset(b);
}

static enum cv_err spilled(struct pkgw *w)
{
	return w->spill_err ? cv_error(w->errmsg, CV_EIO,
				      "writing a temp "
				      "file failed")
			    : CV_OK;
}

/* Add ROOT/rel (a payload file: in the manifest and Payload-Oxum). */
static enum cv_err add_payload(struct pkgw *w, const char *rel,
	const struct buf *body, char sha256[CV_SHA256_HEX])
{
	const char *p = body->data ? body->data : "";
	cv_sha256_hex(p, body->len, sha256);
	buf_reset(&w->path);
	bagfmt_cat(&w->path, w->o->root, "/", rel, NULL);
	bagfmt_cat(&w->man, sha256, "  ", rel, "\n", NULL);
	if (w->man.len > SPILL)
		spill(w, w->manf, &w->man);
	w->oxum_bytes += body->len;
	w->oxum_files++;
	return tarzst_add(w->t, w->path.data, p, body->len, w->errmsg);
}

/* Add ROOT/rel from f, streamed: a payload file (in the manifest and
 * Payload-Oxum) or a tag file. */
static enum cv_err add_from_file(struct pkgw *w, const char *rel, FILE *f,
	bool payload, char sha256[CV_SHA256_HEX])
{
	if (fseek(f, 0, SEEK_END) != 0)
		return cv_error(w->errmsg, CV_EIO, "%s: temp file", rel);
	long size = ftell(f);
	rewind(f);
	buf_reset(&w->path);
	bagfmt_cat(&w->path, w->o->root, "/", rel, NULL);
	enum cv_err rc = tarzst_begin(w->t, w->path.data, (uint64_t)size,
		w->errmsg);
	struct cv_hash *h = cv_hash_create("sha256");
	char chunk[65536];
	size_t n, left = (size_t)size;
	while (rc == CV_OK && left &&
		(n = fread(chunk, 1,
			 left < sizeof(chunk) ? left : sizeof(chunk), f)) > 0) {
		cv_hash_update(h, chunk, n);
		rc = tarzst_write(w->t, chunk, n, w->errmsg);
		left -= n;
	}
	char hex[CV_SHA512_HEX];
	cv_hash_final_hex(h, hex);
	memcpy(sha256, hex, CV_SHA256_HEX);
	if (rc == CV_OK && left)
		rc = cv_error(w->errmsg, CV_EIO, "%s: temp file read short",
			rel);
	if (rc == CV_OK)
		rc = tarzst_end(w->t, w->errmsg);
	if (!payload)
		return rc;
	bagfmt_cat(&w->man, sha256, "  ", rel, "\n", NULL);
	w->oxum_bytes += (uint64_t)size;
	w->oxum_files++;
	return rc;
}

static enum cv_err add_dir(struct pkgw *w, const char *rel)
{
	buf_reset(&w->path);
	bagfmt_cat(&w->path, w->o->root, *rel ? "/" : "", rel, NULL);
	return tarzst_add_dir(w->t, w->path.data, w->errmsg);
}

static int version_cb(const struct store_version *v, void *arg)
{
	struct pkgw *w = arg;
	bagfmt_version(&w->line, w->cur, v);
	if (w->n_v == w->cap_v) {
		w->cap_v = w->cap_v ? 2 * w->cap_v : 8;
		w->v = xrealloc(w->v, w->cap_v * sizeof(*w->v));
	}
	struct evpkg_version *e = &w->v[w->n_v++];
	e->seq = v->seq;
	e->source = store_source_name(v->source);
	e->trust = v->auth != CRED_UNRECORDED ? store_cred_name(v->auth) : NULL;
	e->received_at = v->received_at;
	snprintf(e->raw_sha256, sizeof(e->raw_sha256), "%s",
		v->raw_sha256 ? v->raw_sha256 : "");
	w->st->versions++;
	return 0;
}

static int event_cb(const struct store_event *e, void *arg)
{
	struct pkgw *w = arg;
	bagfmt_event(&w->line, e);
	w->n_ev++;
	w->st->events++;
	return 0;
}

/* A time in the chosen zone, with its offset (UTC: Z). */
static void zoned(const struct tz *z, int64_t ms, char out[40])
{
	if (!z) {
		cv_format_iso8601(ms, out);
		return;
	}
	int32_t off = tz_offset_at(z, ms / 1000 - (ms % 1000 < 0));
	cv_format_iso8601(ms + (int64_t)off * 1000, out);
	char *zch = strchr(out, 'Z');
	int a = abs(off) / 60;
	if (zch && zch - out < 32) /* "YYYY-MM-DDTHH:MM:SS.mmm" */
		snprintf(zch, 8, "%c%02d:%02d", off < 0 ? '-' : '+',
			a / 60 % 100, a % 60);
}

static const char load_header[] =
	"callId,createdAtLocal,createdAtUtc,locationId,agent,callerNumber,"
	"durationSeconds,versionsPath,versionsSha256,transcriptPath,"
	"transcriptSha256,eventsPath,eventsSha256,recordingPath,"
	"recordingSha256,timedTranscriptPath,timedTranscriptSha256\r\n";

static void load_row(struct pkgw *w, const struct evpkg_call *c,
	const struct store_arch_call *a)
{
	char local[40], utc[40], dur[64] = "";
	zoned(w->z, a->created_at, local);
	cv_format_iso8601(a->created_at, utc);
	if (a->has_duration)
		snprintf(dur, sizeof(dur), "%.15g", a->duration);
	const char *f[] = { a->id, local, utc, a->location_id, c->agent,
		a->from_number, dur };
	for (size_t i = 0; i < CV_ARRAY_LEN(f); i++)
		bagfmt_csv_field(&w->load, f[i], false);
	for (int i = 0; i < EVPKG_F_N; i++) {
		bagfmt_csv_field(&w->load, c->path[i], false);
		bagfmt_csv_field(&w->load, c->sha256[i], i + 1 == EVPKG_F_N);
	}
	if (w->load.len > SPILL)
		spill(w, w->loadf, &w->load);
}

/* Add ROOT/rel: a recording's bytes streamed from the blob store, hashed
 * on the way; bytes that no longer hash to the SHA-256 recorded when they
 * were fetched stop the export (exit 3) rather than hand over damaged
 * evidence. */
static enum cv_err add_blob(struct pkgw *w, const char *rel,
	const struct store_recording *r)
{
	if (!w->blobs) {
		enum cv_err rc = blob_open(&w->blobs, store_db_path(w->s),
			false, w->errmsg);
		if (rc != CV_OK)
			return rc;
	}
	int fd;
	int64_t size;
	/* an evicted recording is fetched back from its target first */
	enum cv_err rc = storage_blob_open_read(w->s, w->blobs, r->sha256, &fd,
		&size, NULL, w->errmsg);
	if (rc != CV_OK)
		return rc;
	buf_reset(&w->path);
	bagfmt_cat(&w->path, w->o->root, "/", rel, NULL);
	rc = tarzst_begin(w->t, w->path.data, (uint64_t)size, w->errmsg);
	struct cv_hash *h = cv_hash_create("sha256");
	char chunk[65536];
	int64_t left = size;
	while (rc == CV_OK && left > 0) {
		ssize_t n = read(fd, chunk,
			left < (int64_t)sizeof(chunk) ? (size_t)left
						      : sizeof(chunk));
		if (n <= 0) {
			rc = cv_error(w->errmsg, CV_EIO,
				"recording %s: read "
				"short",
				r->sha256);
			break;
		}
		cv_hash_update(h, chunk, (size_t)n);
		rc = tarzst_write(w->t, chunk, (size_t)n, w->errmsg);
		left -= n;
	}
	close(fd);
	char hex[CV_SHA512_HEX];
	cv_hash_final_hex(h, hex);
	if (rc == CV_OK && strcmp(hex, r->sha256) != 0)
		rc = cv_error(w->errmsg, CV_EINTEGRITY,
			"recording of call %s: "
			"its bytes hash to %.64s, not to %s recorded when it "
			"was fetched",
			w->cur, hex, r->sha256);
	if (rc == CV_OK)
		rc = tarzst_end(w->t, w->errmsg);
	if (rc == CV_OK) {
		bagfmt_cat(&w->man, r->sha256, "  ", rel, "\n", NULL);
		if (w->man.len > SPILL)
			spill(w, w->manf, &w->man);
		w->oxum_bytes += (uint64_t)size;
		w->oxum_files++;
		w->st->recordings++;
	}
	return rc;
}

/* The call's recordings (the first named in the load file) and its
 * newest timed transcription, as received. */
static enum cv_err media_files(struct pkgw *w, const struct store_arch_call *a,
	const char *safe, char *paths[EVPKG_F_N],
	char shas[EVPKG_F_N][CV_SHA256_HEX])
{
	struct store_recording *r = NULL;
	size_t n = 0;
	enum cv_err rc = store_recordings_of_call(w->s, a->id, &r, &n,
		w->errmsg);
	for (size_t i = 0; i < n && rc == CV_OK; i++) {
		char *rel = i ? xasprintf("data/calls/%s/recording.%zu.wav",
					safe, i + 1)
			      : xasprintf("data/calls/%s/recording.wav", safe);
		rc = add_blob(w, rel, &r[i]);
		if (rc == CV_OK && i == 0) {
			paths[EVPKG_F_RECORDING] = rel;
			snprintf(shas[EVPKG_F_RECORDING], CV_SHA256_HEX, "%s",
				r[i].sha256);
		} else {
			free(rel);
		}
	}
	store_recordings_free(r, n);
	if (rc != CV_OK)
		return rc;
	struct store_transcription t;
	bool found = false;
	rc = store_transcription_of_call(w->s, a->id, &t, &found, w->errmsg);
	if (rc == CV_OK && found) {
		paths[EVPKG_F_TIMED] =
			xasprintf("data/calls/%s/timed-transcript.json", safe);
		struct buf b = { .data = t.body, .len = t.len };
		rc = add_payload(w, paths[EVPKG_F_TIMED], &b,
			shas[EVPKG_F_TIMED]);
	}
	store_transcription_clear(&t);
	return rc;
}

/* A call's files: versions, transcript, events, then its media. */
static enum cv_err call_files(struct pkgw *w, const struct store_arch_call *a,
	const char *safe, char *paths[EVPKG_F_N],
	char shas[EVPKG_F_N][CV_SHA256_HEX])
{
	enum cv_err rc = CV_OK;
	for (int i = 0; i < EVPKG_F_N && rc == CV_OK; i++) {
		if (!file_names[i])
			continue;
		buf_reset(&w->line);
		if (i == EVPKG_F_VERSIONS)
			rc = store_ret_each_version(w->s, a->id, version_cb, w,
				w->errmsg);
		else if (i == EVPKG_F_EVENTS)
			rc = store_ret_each_event(w->s, a->id, event_cb, w,
				w->errmsg);
		else
			bagfmt_transcript(&w->line, a);
		paths[i] = xasprintf("data/calls/%s/%s", safe, file_names[i]);
		if (rc == CV_OK)
			rc = add_payload(w, paths[i], &w->line, shas[i]);
	}
	if (rc == CV_OK)
		rc = media_files(w, a, safe, paths, shas);
	return rc;
}

static int call_cb(const struct store_arch_call *a, void *arg)
{
	struct pkgw *w = arg;
	char *safe = retention_safe_name(a->id);
	char *dir = xasprintf("data/calls/%s", safe);
	char *paths[EVPKG_F_N] = { 0 };
	char shas[EVPKG_F_N][CV_SHA256_HEX];
	w->cur = a->id;
	w->n_v = w->n_ev = 0;
	w->rc = add_dir(w, dir);
	if (w->rc == CV_OK)
		w->rc = call_files(w, a, safe, paths, shas);
	if (w->rc == CV_OK) {
		char *agent = a->agent_name
				      ? xasprintf("%s (%s)", a->agent_name,
						a->agent_id ? a->agent_id : "-")
				      : xstrdup(a->agent_id ? a->agent_id : "");
		struct evpkg_call c = { .id = a->id,
			.location = a->location_id,
			.agent = agent,
			.number = a->from_number,
			.created_at = a->created_at,
			.n_versions = w->n_v,
			.n_events = w->n_ev,
			.v = w->v };
		for (int i = 0; i < EVPKG_F_N; i++) {
			c.path[i] = paths[i];
			c.sha256[i] = paths[i] ? shas[i] : NULL;
		}
		load_row(w, &c, a);
		evreport_call(w->rep, &c);
		w->done[w->n_done++] = xstrdup(a->id);
		w->st->calls++;
		free(agent);
	}
	for (int i = 0; i < EVPKG_F_N; i++)
		free(paths[i]);
	free(dir);
	free(safe);
	return w->rc != CV_OK;
}

static enum cv_err write_calls(struct pkgw *w, char *const *ids, size_t n)
{
	static const char *const dirs[] = { "", "data", "data/calls" };
	enum cv_err rc = CV_OK;
	for (size_t i = 0; i < CV_ARRAY_LEN(dirs) && rc == CV_OK; i++)
		rc = add_dir(w, dirs[i]);
	buf_puts(&w->load, load_header);
	for (size_t i = 0; i < n && rc == CV_OK; i++) {
		rc = store_ret_get_call(w->s, ids[i], call_cb, w, w->errmsg);
		if (rc == CV_EINVAL && w->rc != CV_OK)
			rc = w->rc;
	}
	return rc;
}

/* ---- tag files ---- */

static void bag_info(struct pkgw *w, int64_t now, struct buf *out)
{
	char date[40];
	cv_format_iso8601(now, date);
	date[10] = '\0';
	buf_printf(out,
		"Bag-Software-Agent: callvault %s\n"
		"Bagging-Date: %s\n"
		"Payload-Oxum: %llu.%llu\n"
		"External-Description: %s\n",
		CALLVAULT_VERSION, date, (unsigned long long)w->oxum_bytes,
		(unsigned long long)w->oxum_files, w->o->title);
	buf_puts(out, w->o->bag_info ? w->o->bag_info : "");
	buf_printf(out,
		"Callvault-Calls: %lld\nCallvault-Versions: %lld\n"
		"Callvault-Events: %lld\n"
		/* one package, in no chain of bags */
		"Previous-Bag: none\n"
		"Previous-Bag-Tagmanifest-SHA256: none\n",
		(long long)w->st->calls, (long long)w->st->versions,
		(long long)w->st->events);
}

static enum cv_err add_tag(struct pkgw *w, struct buf *tm, const char *name,
	const char *p, size_t n)
{
	char h[CV_SHA256_HEX];
	cv_sha256_hex(p, n, h);
	if (tm)
		bagfmt_cat(tm, h, "  ", name, "\n", NULL);
	buf_reset(&w->path);
	bagfmt_cat(&w->path, w->o->root, "/", name, NULL);
	return tarzst_add(w->t, w->path.data, p, n, w->errmsg);
}

/*
 * bagit.txt, bag-info.txt, manifest-sha256.txt, and last the tag
 * manifest over them, whose bytes stay in *tm: a detached signature of
 * the package (site key, RFC 3161 time) is made over exactly these bytes,
 * right after this call.
 */
static enum cv_err write_tags(struct pkgw *w, int64_t now, struct buf *tm)
{
	static const char bagit[] =
		"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	struct buf info;
	buf_init(&info);
	bag_info(w, now, &info);
	enum cv_err rc = add_tag(w, tm, "bagit.txt", bagit, strlen(bagit));
	if (rc == CV_OK)
		rc = add_tag(w, tm, "bag-info.txt", info.data, info.len);
	char h[CV_SHA256_HEX];
	spill(w, w->manf, &w->man);
	if (rc == CV_OK)
		rc = spilled(w);
	if (rc == CV_OK)
		rc = add_from_file(w, "manifest-sha256.txt", w->manf, false, h);
	if (rc == CV_OK)
		bagfmt_cat(tm, h, "  manifest-sha256.txt\n", NULL);
	if (rc == CV_OK)
		rc = add_tag(w, NULL, "tagmanifest-sha256.txt", tm->data,
			tm->len);
	buf_finish(&info);
	return rc;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Everything inside the tar, from the snapshot the caller holds. */
static enum cv_err write_contents(struct pkgw *w, char *const *ids, size_t n,
	int64_t now)
{
	enum cv_err rc = write_calls(w, ids, n);
	char sha[CV_SHA256_HEX];
	spill(w, w->loadf, &w->load);
	if (rc == CV_OK)
		rc = spilled(w);
	if (rc == CV_OK)
		rc = add_from_file(w, "data/loadfile.csv", w->loadf, true, sha);
	FILE *report = NULL;
	if (rc == CV_OK) {
		report = evreport_finish(w->rep, w->s,
			base_name(w->o->out_path), w->errmsg);
		w->rep = NULL;
		rc = report ? CV_OK : CV_EIO;
	}
	if (rc == CV_OK)
		rc = add_from_file(w, "data/custody-report.html", report, true,
			sha);
	if (report)
		fclose(report);
	struct buf tm;
	buf_init(&tm);
	if (rc == CV_OK)
		rc = write_tags(w, now, &tm);
	/* the seal: signature and timestamp over the tag manifest's bytes,
	 * two tag files it cannot list (docs/evidence.md) */
	if (rc == CV_OK && (w->o->key || w->o->tsa_url)) {
		struct seal sl;
		seal_make_with(w->o->key, w->o->tsa_url, tm.data, tm.len, &sl);
		rc = seal_write(&sl, w->t, w->o->root, w->errmsg);
		w->st->is_signed = sl.has_sig;
		w->st->stamped = sl.token != NULL;
		if (sl.tsa_error)
			snprintf(w->st->tsa_error, sizeof(w->st->tsa_error),
				"%s", sl.tsa_error);
		seal_finish(&sl);
	}
	buf_finish(&tm);
	return rc;
}

static enum cv_err write_package(struct pkgw *w, char *const *ids, size_t n,
	int64_t now)
{
	struct sink *sk = NULL;
	const struct evpkg_opts *o = w->o;
	enum cv_err rc = sink_open_file(&sk, o->out_path, 0600, w->errmsg);
	if (rc == CV_OK)
		rc = tarzst_create(&w->t, sk, EVPKG_LEVEL, EVPKG_THREADS, now,
			w->errmsg);
	if (rc == CV_OK)
		rc = store_read_begin(w->s, w->errmsg);
	if (rc == CV_OK) {
		w->rep = evreport_create(o, store_db_path(w->s), now);
		rc = write_contents(w, ids, n, now);
		store_read_end(w->s);
	}
	uint64_t tar_size;
	if (rc == CV_OK && w->st->calls)
		rc = tarzst_finish(w->t, w->st->sha256, &w->st->size, &tar_size,
			w->errmsg);
	/* the calls were purged meanwhile: nothing is written */
	if (rc == CV_OK && w->st->calls)
		rc = sink_commit(sk, w->errmsg);
	tarzst_destroy(w->t); /* before its sink */
	w->t = NULL;
	sink_destroy(sk);
	if (rc == CV_OK && w->st->calls &&
		(rc = publish_write_sidecar(o->out_path, w->st->sha256,
			 w->errmsg)) != CV_OK)
		unlink(o->out_path);
	return rc;
}

static enum cv_err audit(struct pkgw *w)
{
	const struct evpkg_opts *o = w->o;
	struct buf d;
	buf_init(&d);
	buf_puts(&d, o->audit_detail ? o->audit_detail : "{\"x\":0");
	buf_puts(&d, ",\"file\":");
	bagjson_cstr(&d, o->out_path);
	buf_printf(&d,
		",\"sha256\":\"%s\",\"versions\":%lld,\"events\":%lld,"
		"\"calls\":[",
		w->st->sha256, (long long)w->st->versions,
		(long long)w->st->events);
	for (size_t i = 0; i < w->n_done; i++) {
		buf_puts(&d, i ? "," : "");
		bagjson_cstr(&d, w->done[i]);
	}
	buf_puts(&d, "]}");
	enum cv_err rc = store_audit_append(w->s, o->actor, o->audit_command,
		d.data, w->st->calls, w->errmsg);
	buf_finish(&d);
	return rc;
}

enum cv_err evpkg_write(struct store *s, const struct evpkg_opts *o,
	char *const *ids, size_t n, struct evpkg_stats *st, char **errmsg)
{
	*st = (struct evpkg_stats){ 0 };
	if (n > EVPKG_MAX_CALLS)
		return cv_error(errmsg, CV_ETOOBIG,
			"%zu calls: a package holds "
			"at most %d; narrow the selection",
			n, EVPKG_MAX_CALLS);
	if (!n)
		return CV_OK;
	struct pkgw w = { .s = s, .o = o, .st = st, .errmsg = errmsg };
	enum cv_err rc = CV_OK;
	if (o->tz && strcmp(o->tz, "UTC") != 0)
		rc = tz_load(&w.z, o->tz, errmsg);
	buf_init(&w.man);
	buf_init(&w.load);
	if (rc == CV_OK && (!(w.loadf = tmpfile()) || !(w.manf = tmpfile())))
		rc = cv_error(errmsg, CV_EIO, "cannot make a temp file");
	buf_init(&w.line);
	buf_init(&w.path);
	w.done = xcalloc(n, sizeof(*w.done));
	int64_t now = o->now_ms ? o->now_ms : cv_now_ms();
	if (rc == CV_OK)
		rc = write_package(&w, ids, n, now);
	/* the file is out: if the audit fails, it must not stay */
	if (rc == CV_OK && st->calls && (rc = audit(&w)) != CV_OK)
		publish_unlink_pair(o->out_path);
	(void)evreport_finish(w.rep, NULL, NULL, NULL);
	if (w.loadf)
		fclose(w.loadf);
	if (w.manf)
		fclose(w.manf);
	tz_free(w.z);
	blob_close(w.blobs);
	buf_finish(&w.man);
	buf_finish(&w.load);
	buf_finish(&w.line);
	buf_finish(&w.path);
	for (size_t i = 0; i < w.n_done; i++)
		free(w.done[i]);
	free(w.done);
	free(w.v);
	return rc;
}

/* ---- what an evidence export selects ---- */

struct sel {
	char **ids;
	size_t n, cap;
	struct buf text, info, detail; /* for people, bag-info, the audit */
};

static int add_id(const char *id, void *arg)
{
	struct sel *x = arg;
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 64;
		x->ids = xrealloc(x->ids, x->cap * sizeof(*x->ids));
	}
	x->ids[x->n++] = xstrdup(id);
	/* one over the bound is enough to refuse */
	return x->n > EVPKG_MAX_CALLS;
}

/* A stored value on one line of bag-info.txt or the report. */
static void one_line(struct buf *b, const char *s)
{
	for (; s && *s; s++)
		buf_putc(b, (unsigned char)*s < 0x20 ? ' ' : *s);
}

static void describe_query(struct sel *x, const char *query,
	const char *filters)
{
	buf_puts(&x->text, "query ");
	one_line(&x->text, *query ? query : "(none: filters only)");
	buf_puts(&x->info, "Callvault-Query: ");
	one_line(&x->info, query);
	buf_putc(&x->info, '\n');
	for (const char *l = filters; l && *l;) {
		size_t n = strcspn(l, "\n");
		char *kv = xasprintf("%.*s", (int)n, l);
		buf_puts(&x->text, "; ");
		one_line(&x->text, kv);
		buf_puts(&x->info, "Callvault-Filter: ");
		one_line(&x->info, kv);
		buf_putc(&x->info, '\n');
		free(kv);
		l += n + (l[n] != '\0');
	}
	buf_puts(&x->detail, ",\"query\":");
	bagjson_cstr(&x->detail, query);
	buf_puts(&x->detail, ",\"filters\":");
	bagjson_cstr(&x->detail, filters ? filters : "");
}

static int hold_cb(const struct store_hold *h, int64_t matched, void *arg)
{
	struct sel *x = arg;
	buf_printf(&x->text, "legal hold #%lld (matter: ", (long long)h->id);
	one_line(&x->text, h->matter);
	buf_printf(&x->text, ")%s: ", h->released_at ? ", released" : "");
	buf_printf(&x->info, "Callvault-Hold: #%lld\n", (long long)h->id);
	buf_printf(&x->detail, "{\"hold\":%lld", (long long)h->id);
	if (h->query)
		describe_query(x, h->query, h->query_filters);
	else
		buf_puts(&x->text, "the calls its criteria cover now");
	return 0;
}

static enum cv_err select_hold(struct store *s, int64_t id, struct sel *x,
	char **errmsg)
{
	enum cv_err rc = store_holds_evaluate(s, errmsg);
	if (rc == CV_OK)
		rc = store_hold_each(s, false, id, hold_cb, x, errmsg);
	if (rc == CV_OK)
		rc = store_hold_each_call(s, id, add_id, x, errmsg);
	return rc == CV_EINVAL && x->n > EVPKG_MAX_CALLS ? CV_OK : rc;
}

static enum cv_err select_query(struct store *s, const struct evidence_opts *o,
	struct sel *x, char **errmsg)
{
	struct search_filters sf;
	struct search_plan plan;
	int pos = 0;
	enum cv_err rc = search_filters_parse(&sf, o->filters, errmsg);
	if (rc != CV_OK)
		return rc;
	if ((rc = search_parse(o->query, &plan, &pos, errmsg)) != CV_OK)
		return rc;
	char *filters = store_hold_filters_text(sf.given);
	buf_puts(&x->detail, "{\"search\":true");
	describe_query(x, o->query, filters);
	free(filters);
	struct store_search_opts so = { .plan = &plan,
		.filter = &sf.f,
		.sort = STORE_SORT_OLDEST,
		.limit = EVPKG_MAX_CALLS + 1,
		.ids_only = true };
	struct store_hit *hits = NULL;
	size_t n = 0;
	rc = store_search(s, &so, &hits, &n, errmsg);
	for (size_t i = 0; rc == CV_OK && i < n; i++)
		add_id(hits[i].id, x);
	store_hits_free(hits, n);
	search_plan_finish(&plan);
	return rc;
}

enum cv_err evidence_export(struct store *s, const struct evidence_opts *o,
	struct evpkg_stats *st, char **errmsg)
{
	*st = (struct evpkg_stats){ 0 };
	if (!o->reason || !*o->reason)
		return cv_error(errmsg, CV_EINVAL, "an export needs a reason");
	struct sel x = { 0 };
	buf_init(&x.text);
	buf_init(&x.info);
	buf_init(&x.detail);
	enum cv_err rc = o->hold_id ? select_hold(s, o->hold_id, &x, errmsg)
				    : select_query(s, o, &x, errmsg);
	if (rc == CV_OK) {
		buf_puts(&x.info, "Callvault-Reason: ");
		one_line(&x.info, o->reason);
		buf_putc(&x.info, '\n');
		buf_puts(&x.detail, ",\"reason\":");
		bagjson_cstr(&x.detail, o->reason);
		struct evpkg_opts po = { .root = "evidence",
			.title = "Evidence package: the calls of "
				 "a legal hold or a search, with their "
				 "versions, transcripts and events",
			.out_path = o->out_path,
			.selection = x.text.data,
			.bag_info = x.info.data,
			.reason = o->reason,
			.tz = o->tz,
			.actor = o->actor,
			.os_user = o->os_user,
			.audit_command = "evidence export",
			.audit_detail = x.detail.data,
			.now_ms = o->now_ms,
			.key = o->key,
			.tsa_url = o->tsa_url };
		rc = evpkg_write(s, &po, x.ids, x.n, st, errmsg);
	}
	for (size_t i = 0; i < x.n; i++)
		free(x.ids[i]);
	free(x.ids);
	buf_finish(&x.text);
	buf_finish(&x.info);
	buf_finish(&x.detail);
	return rc;
}
