/*
 * evidence_report.c — the chain-of-custody report of a package
 * (evidence.h): a printable HTML page for people. Who exported, when,
 * why, what chose the calls, the store; for each call where and when
 * each version came from and its files; who searched for or opened the
 * calls (the audit entries that name them, and only those); and the
 * stock-tool commands that verify the package. Every stored value is
 * HTML-escaped.
 */
#include "evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_audit.h"
#include "util.h"

/* The page goes to an unlinked temp file past this many bytes: a report
 * of 10,000 calls is ~12 MB, which memory need not hold. */
#define SPILL (256 * 1024)

struct evreport {
	struct buf h; /* the page's tail, not yet spilled */
	FILE *f;      /* the page so far (tmpfile) */
	bool io_error;
	char *root;           /* the bag's directory */
	bool sealed, stamped; /* signature and timestamp asked for */
	char **ids;           /* the calls, sorted (bsearch) */
	size_t n, cap;
	struct buf *access; /* per call: its audit rows */
	size_t n_access;    /* audit entries naming a call */
};

static void esc(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_putc(b, (unsigned char)*s < 0x20 ? ' ' : *s);
		}
	}
}

static void row(struct buf *b, const char *k, const char *v)
{
	buf_puts(b, "<tr><th>");
	esc(b, k);
	buf_puts(b, "</th><td>");
	esc(b, v && *v ? v : "-");
	buf_puts(b, "</td></tr>\n");
}

static void iso(int64_t ms, char out[40])
{
	cv_format_iso8601(ms, out);
}

struct evreport *evreport_create(const struct evpkg_opts *o,
	const char *store_path, int64_t now_ms)
{
	struct evreport *r = xcalloc(1, sizeof(*r));
	struct buf *b = &r->h;
	r->root = xstrdup(o->root);
	r->sealed = o->key != NULL;
	r->stamped = o->tsa_url != NULL;
	r->f = tmpfile();
	r->io_error = !r->f;
	char ts[40];
	buf_init(b);
	buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
		    "charset=\"utf-8\"><title>");
	esc(b, o->title);
	buf_puts(b, "</title>\n<style>body{font:11pt serif;margin:2em}"
		    "table{border-collapse:collapse;margin:.5em 0}"
		    "th,td{border:1px solid #888;padding:2px 6px;"
		    "text-align:left;vertical-align:top}"
		    "code,pre{font:9pt monospace}pre{white-space:pre-wrap}"
		    "section{page-break-inside:avoid}</style></head><body>\n"
		    "<h1>Chain of custody</h1>\n<p>");
	esc(b, o->title);
	buf_puts(b, "</p>\n<h2>Export</h2>\n<table>\n");
	iso(now_ms, ts);
	row(b, "Exported at (UTC)", ts);
	row(b, "Operating-system user", o->os_user);
	row(b, "Actor (on behalf of)", o->actor);
	row(b, "Reason", o->reason);
	row(b, "Selection", o->selection);
	row(b, "Store", store_path);
	row(b, "Times in", o->tz ? o->tz : "UTC");
	row(b, "Software", "callvault " CALLVAULT_VERSION);
	buf_puts(b, "</table>\n<h2>Calls</h2>\n");
	return r;
}

/* Move the page's tail to the temp file. */
static void spill(struct evreport *r)
{
	if (!r->io_error && r->h.len &&
		fwrite(r->h.data, 1, r->h.len, r->f) != r->h.len)
		r->io_error = true;
	buf_reset(&r->h);
}

void evreport_call(struct evreport *r, const struct evpkg_call *c)
{
	struct buf *b = &r->h;
	char ts[40];
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->ids = xrealloc(r->ids, r->cap * sizeof(*r->ids));
	}
	r->ids[r->n++] = xstrdup(c->id);
	buf_puts(b, "<section><h3>Call <code>");
	esc(b, c->id);
	buf_puts(b, "</code></h3>\n<table>\n");
	iso(c->created_at, ts);
	row(b, "Created (UTC)", ts);
	row(b, "Location", c->location);
	row(b, "Agent", c->agent);
	row(b, "Caller", c->number);
	buf_puts(b, "</table>\n<table><tr><th>version</th><th>source</th>"
		    "<th>received (UTC)</th><th>authenticated by</th>"
		    "<th>SHA-256 as received</th></tr>\n");
	for (size_t i = 0; i < c->n_versions; i++) {
		const struct evpkg_version *v = &c->v[i];
		iso(v->received_at, ts);
		buf_printf(b, "<tr><td>%d</td><td>", v->seq);
		esc(b, v->source);
		buf_puts(b, "</td><td>");
		esc(b, ts);
		buf_puts(b, "</td><td>");
		esc(b, v->trust ? v->trust : "not recorded");
		buf_puts(b, "</td><td><code>");
		esc(b, v->raw_sha256);
		buf_puts(b, "</code></td></tr>\n");
	}
	buf_printf(b, "</table>\n<p>%zu webhook event%s. Files:</p>\n<table>",
		c->n_events, c->n_events == 1 ? "" : "s");
	for (int i = 0; i < EVPKG_F_N; i++) {
		if (!c->path[i])
			continue;
		buf_puts(b, "<tr><td><code>");
		esc(b, c->path[i]);
		buf_puts(b, "</code></td><td><code>");
		esc(b, c->sha256[i]);
		buf_puts(b, "</code></td></tr>");
	}
	buf_puts(b, "</table></section>\n");
	if (b->len > SPILL)
		spill(r);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The index of the call whose id is the n bytes at p, or -1. */
static long named_call(const struct evreport *r, const char *p, size_t n)
{
	char id[257];
	if (n == 0 || n >= sizeof(id))
		return -1;
	memcpy(id, p, n);
	id[n] = '\0';
	const char *key = id;
	char **hit = bsearch(&key, r->ids, r->n, sizeof(*r->ids), cmp_str);
	return hit ? (long)(hit - r->ids) : -1;
}

static void access_row(struct evreport *r, size_t i,
	const struct audit_entry *e)
{
	struct buf *b = &r->access[i];
	char ts[40];
	iso(e->ts, ts);
	buf_printf(b, "<tr><td>%lld</td><td>", (long long)e->id);
	esc(b, ts);
	buf_puts(b, "</td><td>");
	esc(b, e->os_user ? e->os_user : "-");
	buf_puts(b, "</td><td>");
	esc(b, e->actor);
	buf_puts(b, "</td><td>");
	esc(b, e->command);
	buf_puts(b, "</td></tr>\n");
}

/* An audit entry: a row for each call of the package that one of its
 * detail's JSON strings names (ids are plain text: a string with an
 * escape names none). */
static int audit_cb(const struct audit_entry *e, void *arg)
{
	struct evreport *r = arg;
	const char *d = e->detail ? e->detail : "";
	long last = -1;
	bool any = false;
	for (const char *p = strchr(d, '"'); p; p = strchr(p, '"')) {
		const char *q = ++p;
		bool escaped = false;
		while (*q && *q != '"') {
			if (*q == '\\' && q[1]) {
				escaped = true;
				q++;
			}
			q++;
		}
		long i = escaped ? -1 : named_call(r, p, (size_t)(q - p));
		if (i >= 0 && i != last) {
			access_row(r, (size_t)i, e);
			any = true;
			last = i;
		}
		if (!*q)
			break;
		p = q + 1;
	}
	r->n_access += any;
	return 0;
}

static void access_section(struct evreport *r, char *const *order)
{
	struct buf *b = &r->h;
	buf_printf(b,
		"<h2>Who searched for or opened these calls</h2>\n"
		"<p>Audit entries that name one of these calls (searches "
		"that showed it, views, exports, holds, erasures), "
		"oldest first: %zu. Searches audited before their "
		"results were recorded name no call; the audit log "
		"(<code>callvault audit</code>) has them all.</p>\n",
		r->n_access);
	for (size_t k = 0; k < r->n; k++) {
		const char *key = order[k];
		char **hit = bsearch(&key, r->ids, r->n, sizeof(*r->ids),
			cmp_str);
		size_t i = (size_t)(hit - r->ids);
		if (!r->access[i].len)
			continue;
		buf_puts(b, "<section><h3>Call <code>");
		esc(b, key);
		buf_puts(b, "</code></h3><table><tr><th>entry</th><th>time "
			    "(UTC)</th><th>OS user</th><th>actor</th>"
			    "<th>command</th></tr>\n");
		buf_append(b, r->access[i].data, r->access[i].len);
		buf_puts(b, "</table></section>\n");
		if (b->len > SPILL)
			spill(r);
	}
}

static void verify_section(struct buf *b, const struct evreport *r,
	const char *pkg)
{
	const char *root = r->root;
	buf_puts(b, "<h2>Verify this package with stock tools</h2>\n<p>GNU "
		    "tar, zstd and coreutils; no callvault. In the directory "
		    "holding the package and its <code>.sha256</code>:</p>\n"
		    "<!-- verify-begin -->\n<pre id=\"verify\">set -e\nA='");
	/* quoted for the shell first ('\'' ends, escapes and reopens),
	 * then for HTML: the text a reader copies is the command */
	for (const char *q = pkg; *q; q++) {
		char one[2] = { *q, '\0' };
		if (*q == '\'')
			esc(b, "'\\''");
		else
			esc(b, one);
	}
	buf_puts(b, "'\n# 1. the file is the one that was written\n"
		    "sha256sum -c \"$A.sha256\"\n"
		    "# 2. the zstd frame is whole\nzstd -q -t \"$A\"\n"
		    "# 3. nothing but regular files and directories\n"
		    "tar --zstd -tvf \"$A\" | awk '$1 !~ /^[-d]/ { bad = 1 } "
		    "END { exit bad }'\n"
		    "# 4. unpack into a new directory\n"
		    "W=$(mktemp -d ./verify.XXXXXX)\n"
		    "tar --zstd -xf \"$A\" -C \"$W\" --no-same-owner "
		    "--no-same-permissions\ncd \"$W/");
	esc(b, root);
	buf_puts(b, "\"\n# 5. the bag: tag files, then every payload file\n"
		    "printf 'BagIt-Version: 1.0\\nTag-File-Character-Encoding: "
		    "UTF-8\\n' | cmp - bagit.txt\n"
		    "sha256sum --quiet -c tagmanifest-sha256.txt\n"
		    "sha256sum --quiet -c manifest-sha256.txt\n"
		    "# 6. no file that the manifest does not list\n"
		    "test \"$(find data -type f | wc -l)\" -eq \"$(wc -l &lt; "
		    "manifest-sha256.txt)\"\n");
	if (r->sealed)
		buf_puts(b, "# 7. the site's signature over the tag manifest "
			    "(site.pub: the\n#    site's public key, from "
			    "`callvault key show`, kept apart from\n#    the "
			    "package)\nopenssl pkeyutl -verify -pubin -inkey "
			    "\"${SITE_PUB:-../../site.pub}\" -rawin \\\n"
			    "    -in tagmanifest-sha256.txt -sigfile "
			    "tagmanifest-sha256.txt.sig\n");
	if (r->stamped)
		buf_puts(b,
			"# 8. when it was sealed: the RFC 3161 token, "
			"if the package has one\n#    (tsa-ca.pem: the "
			"timestamp authority's CA)\n"
			"if [ -e tagmanifest-sha256.txt.tsr ]; then\n"
			"  openssl ts -verify -data tagmanifest-sha256.txt "
			"-in tagmanifest-sha256.txt.tsr \\\n"
			"    -CAfile \"${TSA_CA:-../../tsa-ca.pem}\"\nfi\n");
	buf_puts(b, "echo \"package OK: $A\"\n</pre>\n<!-- verify-end -->\n"
		    "<p>Each call's files and their SHA-256 are also in "
		    "<code>data/loadfile.csv</code>.</p>\n");
}

FILE *evreport_finish(struct evreport *r, struct store *s,
	const char *package_name, char **errmsg)
{
	if (!r)
		return NULL;
	FILE *out = NULL;
	if (s) {
		/* written in export order; looked up sorted */
		char **order = xcalloc(r->n ? r->n : 1, sizeof(*order));
		memcpy(order, r->ids, r->n * sizeof(*order));
		qsort(r->ids, r->n, sizeof(*r->ids), cmp_str);
		r->access = xcalloc(r->n ? r->n : 1, sizeof(*r->access));
		for (size_t i = 0; i < r->n; i++)
			buf_init(&r->access[i]);
		struct audit_filter f = { 0 };
		if (store_audit_each(s, &f, audit_cb, r, errmsg) == CV_OK) {
			access_section(r, order);
			verify_section(&r->h, r, package_name);
			buf_puts(&r->h, "</body></html>\n");
			spill(r);
			if (!r->io_error && fflush(r->f) == 0 &&
				fseek(r->f, 0, SEEK_SET) == 0) {
				out = r->f;
				r->f = NULL;
			} else {
				cv_error(errmsg, CV_EIO,
					"writing the custody "
					"report to a temp "
					"file failed");
			}
		}
		free(order);
	}
	if (r->f)
		fclose(r->f);
	for (size_t i = 0; r->access && i < r->n; i++)
		buf_finish(&r->access[i]);
	for (size_t i = 0; i < r->n; i++)
		free(r->ids[i]);
	free(r->access);
	free(r->ids);
	free(r->root);
	buf_finish(&r->h);
	free(r);
	return out;
}
