/*
 * subject_export.c — the subject-access package: one person's calls, every
 * version, as a BagIt bag (RFC 8493) in a tar.zst, written with
 * retention/'s tarzst writer. The bag layout is the monthly archives'
 * (docs/archives.md) cut down to what a request needs:
 *
 *   subject-access/bagit.txt, bag-info.txt
 *   subject-access/manifest-sha256.txt, tagmanifest-sha256.txt
 *   subject-access/data/calls.jsonl     the current version of each call
 *   subject-access/data/versions.jsonl  every version, as in an archive
 *
 * so `tar --zstd -xf` and `sha256sum -c` check it without callvault. A
 * person's calls are few; the files are built in memory, bounded by
 * SUBJECT_EXPORT_MAX.
 */
#include "subject.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bagjson.h"
#include "store/store_audit.h"
#include "store/store_retention.h"
#include "tarzst.h"
#include "util.h"

#define ROOT "subject-access"

enum { F_CALLS, F_VERSIONS, F_N };
static const char *const data_names[F_N] = { "calls.jsonl",
	"versions.jsonl" };

struct pkg {
	struct store *s;
	const struct subject_export_opts *o;
	struct buf f[F_N];
	char **ids;
	size_t n_ids, cap_ids;
	const char *cur;          /* the call being written */
	int64_t versions;
	bool too_big;
};

static int add_id(const struct store_subject_call *c, void *arg)
{
	struct pkg *p = arg;
	if (p->n_ids == p->cap_ids) {
		p->cap_ids = p->cap_ids ? 2 * p->cap_ids : 16;
		p->ids = xrealloc(p->ids, p->cap_ids * sizeof(*p->ids));
	}
	p->ids[p->n_ids++] = xstrdup(c->id);
	return 0;
}

static int version_line(const struct store_version *v, void *arg)
{
	struct pkg *p = arg;
	struct buf *l = &p->f[F_VERSIONS];
	char ts[32];
	cv_format_iso8601(v->received_at, ts);
	buf_puts(l, "{\"callId\":");
	bagjson_cstr(l, p->cur);
	buf_printf(l, ",\"canonicalSha256\":\"%s\",\"current\":%s,"
		      "\"rawSha256\":\"%s\",\"receivedAt\":\"%s\",\"record\":",
		v->canonical_sha256, v->current ? "true" : "false",
		v->raw_sha256, ts);
	buf_puts(l, v->canonical);
	buf_printf(l, ",\"redacted\":%d,\"seq\":%d,\"source\":\"%s\","
		      "\"trust\":\"%s\"}\n",
		v->redacted, v->seq, store_source_name(v->source),
		store_cred_name(v->auth));
	if (v->current) {
		buf_puts(&p->f[F_CALLS], v->canonical);
		buf_putc(&p->f[F_CALLS], '\n');
	}
	p->versions++;
	if (l->len + p->f[F_CALLS].len > SUBJECT_EXPORT_MAX) {
		p->too_big = true;
		return 1;
	}
	return 0;
}

/* The calls and their versions, from one read snapshot. */
static enum cv_err gather(struct pkg *p, char **errmsg)
{
	enum cv_err rc = store_read_begin(p->s, errmsg);
	if (rc != CV_OK)
		return rc;
	rc = store_subject_each_call(p->s, p->o->sel, add_id, p, errmsg);
	for (size_t i = 0; i < p->n_ids && rc == CV_OK; i++) {
		p->cur = p->ids[i];
		rc = store_each_version(p->s, p->ids[i], version_line, p,
			errmsg);
	}
	store_read_end(p->s);
	if (p->too_big)
		return cv_error(errmsg, CV_ETOOBIG, "the package would pass "
			"%zu MiB: narrow it with --from and --to",
			SUBJECT_EXPORT_MAX >> 20);
	return rc;
}

static void bag_info(struct pkg *p, int64_t now, struct buf *out)
{
	const struct store_subject_sel *sel = p->o->sel;
	char date[32], from[32] = "", to[32] = "";
	cv_format_iso8601(now, date);
	date[10] = '\0';
	if (sel->has_from)
		cv_format_iso8601(sel->from_ms, from);
	if (sel->has_to)
		cv_format_iso8601(sel->to_ms, to);
	uint64_t bytes = p->f[F_CALLS].len + p->f[F_VERSIONS].len;
	buf_printf(out,
		"Bag-Software-Agent: callvault %s\n"
		"Bagging-Date: %s\n"
		"Payload-Oxum: %llu.%d\n"
		"External-Description: subject access: every call the store "
		"holds for this person, with all versions\n"
		"Callvault-Subject-%s: %s\n"
		"Callvault-From: %s\nCallvault-To: %s\n"
		"Callvault-Calls: %zu\n"
		"Callvault-Versions: %lld\n"
		/* one package, in no chain of bags */
		"Previous-Bag: none\n"
		"Previous-Bag-Tagmanifest-SHA256: none\n",
		CALLVAULT_VERSION, date, (unsigned long long)bytes, F_N,
		sel->contact_id ? "Contact-Id" : "Number",
		sel->contact_id ? sel->contact_id : sel->e164,
		*from ? from : "any", *to ? to : "any", p->n_ids,
		(long long)p->versions);
}

static enum cv_err add_file(struct tarzst *t, struct buf *tm, const char *name,
	const struct buf *body, char **errmsg)
{
	char h[CV_SHA256_HEX];
	cv_sha256_hex(body->data, body->len, h);
	if (tm)
		buf_printf(tm, "%s  %s\n", h, name);
	char *path = xasprintf(ROOT "/%s", name);
	enum cv_err rc = tarzst_add(t, path, body->data, body->len, errmsg);
	free(path);
	return rc;
}

/* data/, the manifest, bagit.txt, bag-info.txt, the tag manifest. */
static enum cv_err write_bag(struct pkg *p, struct tarzst *t, int64_t now,
	char **errmsg)
{
	static const char bagit[] =
		"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	struct buf man, tm, info;
	buf_init(&man);
	buf_init(&tm);
	buf_init(&info);
	enum cv_err rc = CV_OK;
	for (int i = 0; i < F_N && rc == CV_OK; i++) {
		char *name = xasprintf("data/%s", data_names[i]);
		rc = add_file(t, &man, name, &p->f[i], errmsg);
		free(name);
	}
	bag_info(p, now, &info);
	const struct buf bagit_b = { (char *)bagit, strlen(bagit), 0 };
	if (rc == CV_OK)
		rc = add_file(t, &tm, "bagit.txt", &bagit_b, errmsg);
	if (rc == CV_OK)
		rc = add_file(t, &tm, "bag-info.txt", &info, errmsg);
	if (rc == CV_OK)
		rc = add_file(t, &tm, "manifest-sha256.txt", &man, errmsg);
	if (rc == CV_OK)
		rc = add_file(t, NULL, "tagmanifest-sha256.txt", &tm, errmsg);
	buf_finish(&man);
	buf_finish(&tm);
	buf_finish(&info);
	return rc;
}

/* FILE.sha256 beside the package, as beside an archive: `sha256sum -c`
 * checks the file as it was written. */
static enum cv_err write_sidecar(const char *path, const char *sha256,
	char **errmsg)
{
	const char *slash = strrchr(path, '/');
	char *side = xasprintf("%s.sha256", path);
	char *line = xasprintf("%s  %s\n", sha256, slash ? slash + 1 : path);
	enum cv_err rc = cv_write_file_atomic(side, line, strlen(line), 0600,
		errmsg);
	if (rc != CV_OK)
		unlink(path);
	free(side);
	free(line);
	return rc;
}

static enum cv_err write_package(struct pkg *p, int64_t now,
	struct subject_export_stats *st, char **errmsg)
{
	struct sink *sk = NULL;
	struct tarzst *t = NULL;
	/* personal data: readable by its owner only */
	enum cv_err rc = sink_open_file(&sk, p->o->out_path, 0600, errmsg);
	if (rc == CV_OK)
		rc = tarzst_create(&t, sk, 9, 0, now, errmsg);
	if (rc == CV_OK)
		rc = tarzst_add_dir(t, ROOT, errmsg);
	if (rc == CV_OK)
		rc = tarzst_add_dir(t, ROOT "/data", errmsg);
	if (rc == CV_OK)
		rc = write_bag(p, t, now, errmsg);
	uint64_t tar_size;
	if (rc == CV_OK)
		rc = tarzst_finish(t, st->sha256, &st->size, &tar_size,
			errmsg);
	if (rc == CV_OK)
		rc = sink_commit(sk, errmsg);
	tarzst_destroy(t);
	sink_destroy(sk);
	if (rc == CV_OK)
		rc = write_sidecar(p->o->out_path, st->sha256, errmsg);
	return rc;
}

static enum cv_err audit(struct pkg *p, const struct subject_export_stats *st,
	char **errmsg)
{
	const struct store_subject_sel *sel = p->o->sel;
	struct buf d;
	buf_init(&d);
	/* a read, audited like a search: the filters and what came out */
	buf_puts(&d, sel->contact_id ? "{\"contact\":" : "{\"number\":");
	bagjson_cstr(&d, sel->contact_id ? sel->contact_id : sel->e164);
	if (sel->has_from)
		buf_printf(&d, ",\"fromMs\":%lld", (long long)sel->from_ms);
	if (sel->has_to)
		buf_printf(&d, ",\"toMs\":%lld", (long long)sel->to_ms);
	buf_puts(&d, ",\"file\":");
	bagjson_cstr(&d, p->o->out_path);
	buf_printf(&d, ",\"sha256\":\"%s\",\"versions\":%lld,\"calls\":[",
		st->sha256, (long long)st->versions);
	for (size_t i = 0; i < p->n_ids; i++) {
		buf_puts(&d, i ? "," : "");
		bagjson_cstr(&d, p->ids[i]);
	}
	buf_puts(&d, "]}");
	enum cv_err rc = store_audit_append(p->s, p->o->actor,
		"subject export", d.data, st->calls, errmsg);
	buf_finish(&d);
	return rc;
}

enum cv_err subject_export(struct store *s,
	const struct subject_export_opts *o, struct subject_export_stats *st,
	char **errmsg)
{
	*st = (struct subject_export_stats){ 0 };
	if (!o->sel->contact_id && !o->sel->e164)
		return cv_error(errmsg, CV_EINVAL, "a contact or a number is "
						   "required");
	struct pkg p = { .s = s, .o = o };
	for (int i = 0; i < F_N; i++)
		buf_init(&p.f[i]);
	int64_t now = o->now_ms ? o->now_ms : cv_now_ms();
	enum cv_err rc = gather(&p, errmsg);
	st->calls = (int64_t)p.n_ids;
	st->versions = p.versions;
	if (rc == CV_OK && p.n_ids)
		rc = write_package(&p, now, st, errmsg);
	/* the file is out: if the audit fails, it must not stay */
	if (rc == CV_OK && p.n_ids && (rc = audit(&p, st, errmsg)) != CV_OK) {
		char *side = xasprintf("%s.sha256", o->out_path);
		unlink(o->out_path);
		unlink(side);
		free(side);
	}
	for (int i = 0; i < F_N; i++)
		buf_finish(&p.f[i]);
	for (size_t i = 0; i < p.n_ids; i++)
		free(p.ids[i]);
	free(p.ids);
	return rc;
}
