/* import.c — see import.h */
#include "import.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define OVERSIZE_KEEP (1024u * 1024)

struct line_reader {
	FILE *f;
	struct buf line;
	size_t total;     /* bytes of the current line, kept or not */
	bool oversize;
	int64_t lineno;
};

/* Read one line (without '\n'); false at EOF. Oversized lines keep only
 * their first OVERSIZE_KEEP bytes. */
static bool read_line(struct line_reader *r)
{
	buf_reset(&r->line);
	r->total = 0;
	r->oversize = false;
	int c;
	bool any = false;
	char chunk[4096];
	size_t n = 0;
	while ((c = getc_unlocked(r->f)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		r->total++;
		if (r->total > CALLLOG_MAX_PAYLOAD)
			r->oversize = true;
		if (r->line.len + n < OVERSIZE_KEEP || !r->oversize) {
			chunk[n++] = (char)c;
			if (n == sizeof(chunk)) {
				buf_append(&r->line, chunk, n);
				n = 0;
			}
		}
	}
	if (n)
		buf_append(&r->line, chunk, n);
	if (r->oversize && r->line.len > OVERSIZE_KEEP)
		r->line.len = OVERSIZE_KEEP;
	if (any)
		r->lineno++;
	return any;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r", s[i]))
			return false;
	return true;
}

enum cv_err import_stream(struct store *s, FILE *f, const char *name,
	const struct import_opts *o, struct ingest_stats *st, char **errmsg)
{
	struct line_reader r = { .f = f };
	buf_init(&r.line);
	int batch = o->batch_records > 0 ? o->batch_records : 2000;
	int64_t in_batch = 0;
	int64_t t0 = cv_mono_ms(), last_progress = t0;
	enum cv_err rc = store_begin(s, errmsg);
	while (rc == CV_OK && read_line(&r)) {
		if (r.oversize) {
			char *why = xasprintf("%s line %lld: %zu bytes, over "
					      "the %u-byte bound (first %u "
					      "bytes kept)",
				name, (long long)r.lineno, r.total,
				CALLLOG_MAX_PAYLOAD, OVERSIZE_KEEP);
			st->read++;
			st->quarantined++;
			rc = store_quarantine(s, o->source, r.line.data,
				r.line.len, why, errmsg);
			free(why);
			in_batch++;
		} else if (!blank(r.line.data ? r.line.data : "", r.line.len)) {
			int64_t before = st->read;
			rc = ingest_payload(s, o->source, r.line.data,
				r.line.len, o->location_hint, st, NULL, errmsg);
			in_batch += st->read - before;
		}
		if (rc == CV_OK && in_batch >= batch) {
			rc = store_commit(s, errmsg);
			if (rc == CV_OK)
				rc = store_begin(s, errmsg);
			in_batch = 0;
		}
		if (o->progress && rc == CV_OK) {
			int64_t now = cv_mono_ms();
			if (now - last_progress >= 250) {
				last_progress = now;
				o->progress(st, (double)(now - t0) / 1000.0,
					o->progress_arg);
			}
		}
	}
	if (rc == CV_OK && ferror(f))
		rc = cv_error(errmsg, CV_EIO, "cannot read %s: %s", name,
			strerror(errno));
	if (rc == CV_OK)
		rc = store_commit(s, errmsg);
	else
		store_rollback(s);
	if (o->progress)
		o->progress(st, (double)(cv_mono_ms() - t0) / 1000.0,
			o->progress_arg);
	buf_finish(&r.line);
	return rc;
}
