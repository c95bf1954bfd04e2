/*
 * subject_export.c — the subject-access package: one person's calls, in
 * the evidence package format (retention/evidence.h, docs/evidence.md)
 * under subject-access/: every version, transcript and webhook event of
 * each call, a load file and a chain-of-custody report, checked by tar,
 * zstd and sha256sum without callvault.
 */
#include "subject.h"

#include <stdlib.h>
#include <string.h>

#include "bagjson.h"
#include "evidence.h"
#include "store/store_retention.h"
#include "util.h"

struct ids {
	char **v;
	size_t n, cap;
};

static int add_id(const struct store_subject_call *c, void *arg)
{
	struct ids *x = arg;
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 16;
		x->v = xrealloc(x->v, x->cap * sizeof(*x->v));
	}
	x->v[x->n++] = xstrdup(c->id);
	return x->n > EVPKG_MAX_CALLS;
}

/* What chose the calls: for the report, bag-info.txt and the audit. */
static void describe(const struct store_subject_sel *sel, struct buf *text,
	struct buf *info, struct buf *detail)
{
	char from[32] = "any", to[32] = "any";
	if (sel->has_from)
		cv_format_iso8601(sel->from_ms, from);
	if (sel->has_to)
		cv_format_iso8601(sel->to_ms, to);
	const char *who = sel->contact_id ? sel->contact_id : sel->e164;
	buf_printf(text,
		"data-subject access: every call of %s %s, created "
		"from %s to %s",
		sel->contact_id ? "contact" : "number", who, from, to);
	buf_printf(info,
		"Callvault-Subject-%s: %s\nCallvault-From: %s\n"
		"Callvault-To: %s\n",
		sel->contact_id ? "Contact-Id" : "Number", who, from, to);
	/* a read, audited like a search: the filters and what came out */
	buf_puts(detail, sel->contact_id ? "{\"contact\":" : "{\"number\":");
	bagjson_cstr(detail, who);
	if (sel->has_from)
		buf_printf(detail, ",\"fromMs\":%lld", (long long)sel->from_ms);
	if (sel->has_to)
		buf_printf(detail, ",\"toMs\":%lld", (long long)sel->to_ms);
}

enum cv_err subject_export(struct store *s, const struct subject_export_opts *o,
	struct subject_export_stats *st, char **errmsg)
{
	*st = (struct subject_export_stats){ 0 };
	if (!o->sel->contact_id && !o->sel->e164)
		return cv_error(errmsg, CV_EINVAL,
			"a contact or a number is "
			"required");
	struct ids x = { 0 };
	struct buf text, info, detail;
	buf_init(&text);
	buf_init(&info);
	buf_init(&detail);
	enum cv_err rc = store_subject_each_call(s, o->sel, add_id, &x, errmsg);
	if (rc == CV_EINVAL && x.n > EVPKG_MAX_CALLS)
		rc = CV_OK; /* evpkg_write refuses it, saying why */
	describe(o->sel, &text, &info, &detail);
	struct evpkg_opts po = { .root = "subject-access",
		.title = "Subject access package: every call the store holds "
			 "for this person, with all versions",
		.out_path = o->out_path,
		.selection = text.data,
		.bag_info = info.data,
		.reason = "data-subject access request",
		.actor = o->actor,
		.os_user = o->os_user,
		.audit_command = "subject export",
		.audit_detail = detail.data,
		.now_ms = o->now_ms,
		.key = o->key };
	struct evpkg_stats ps;
	if (rc == CV_OK)
		rc = evpkg_write(s, &po, x.v, x.n, &ps, errmsg);
	if (rc == CV_OK) {
		st->calls = ps.calls;
		st->versions = ps.versions;
		st->recordings = ps.recordings;
		st->is_signed = ps.is_signed;
		st->size = ps.size;
		memcpy(st->sha256, ps.sha256, sizeof(st->sha256));
	}
	for (size_t i = 0; i < x.n; i++)
		free(x.v[i]);
	free(x.v);
	buf_finish(&text);
	buf_finish(&info);
	buf_finish(&detail);
	return rc;
}
