/*
 * archive_tags.c — the tag files of one bag (archive.c), after its
 * payload: the two manifests from their spools, bagit.txt, bag-info.txt
 * (counts, holds, the audit chain's head, the previous bag), the tag
 * manifest, and the seal of the tag manifest (seal.c).
 */
#include <string.h>

#include "archive_int.h"
#include "audithead.h"
#include "store/store_audit.h"
#include "store/store_holds.h"
#include "store/store_retention.h"
#include "tarzst.h"

/* ---- tag files ---- */

static int hold_line(const struct store_hold *h, int64_t matched, void *arg)
{
	struct bag *b = arg;
	if (!store_hold_in_scope(h, b->location))
		return 0;
	/* by id: a matter's name is not for whoever receives the bag */
	buf_printf(&b->path, "Callvault-Legal-Hold: #%lld\n", (long long)h->id);
	return 0;
}

/* The audit chain's head as this bag is written, MACed with the audit
 * key: `audit --verify --against` holds the live log to it. */
static enum cv_err audit_head(struct bag *b, struct buf *out)
{
	int64_t id;
	char hash[CV_SHA256_HEX], mac[CV_SHA256_HEX];
	enum cv_err rc = store_audit_head(b->s, &id, hash, b->errmsg);
	if (rc != CV_OK)
		return rc;
	buf_printf(out, AUDITHEAD_LABEL ": %lld %s\n", (long long)id, hash);
	if (b->o->audit_key) {
		audithead_mac(b->o->audit_key, id, hash, mac);
		buf_printf(out, AUDITHEAD_MAC_LABEL ": hmac-sha256 %s\n", mac);
	}
	return CV_OK;
}

static enum cv_err bag_info(struct bag *b, int seq, const struct chain *ch,
	int64_t now, struct buf *out)
{
	char date[32], first[32], last[32];
	cv_format_iso8601(now, date);
	date[10] = '\0';
	cv_format_iso8601(b->first, first);
	cv_format_iso8601(b->last, last);
	int keep;
	enum cv_err rc = store_ret_policy_for(b->s, b->location, &keep,
		b->errmsg);
	if (rc != CV_OK)
		return rc;
	buf_printf(out,
		"Bag-Software-Agent: callvault %s\n"
		"Bagging-Date: %s\n"
		"Payload-Oxum: %llu.%llu\n"
		"External-Identifier: callvault:%s:%s%s%.0d\n"
		"Callvault-Version: %s\n"
		"Callvault-Location-Id: %s\n"
		"Callvault-Month: %s\n"
		"Callvault-Supplement: %d\n"
		"Callvault-Chain-Index: %d\n"
		"Callvault-Calls: %lld\n"
		"Callvault-Versions: %lld\n"
		"Callvault-Events: %lld\n"
		"Callvault-First-Created-At: %s\n"
		"Callvault-Last-Created-At: %s\n",
		CALLVAULT_VERSION, date, (unsigned long long)b->oxum_bytes,
		(unsigned long long)b->oxum_files, b->location, b->month,
		seq ? "." : "", seq, CALLVAULT_VERSION, b->location, b->month,
		seq, ch->index, (long long)b->calls, (long long)b->versions,
		(long long)b->events, first, last);
	if (keep >= 0)
		buf_printf(out, "Callvault-Retention-Policy: keep %d months\n",
			keep);
	else
		buf_puts(out, "Callvault-Retention-Policy: none\n");
	buf_reset(&b->path);
	rc = store_hold_each(b->s, true, 0, hold_line, b, b->errmsg);
	if (rc != CV_OK)
		return rc;
	buf_puts(out,
		b->path.len ? b->path.data : "Callvault-Legal-Hold: none\n");
	if ((rc = audit_head(b, out)) != CV_OK)
		return rc;
	buf_printf(out,
		"Previous-Bag: %s\nPrevious-Bag-Tagmanifest-SHA256: %s\n",
		ch->prev_name ? ch->prev_name : "none",
		ch->prev_tag ? ch->prev_tag : "none");
	return CV_OK;
}

static void tag_line(struct buf *tm, const char *name, const void *p, size_t n)
{
	char h[CV_SHA256_HEX];
	cv_sha256_hex(p, n, h);
	buf_printf(tm, "%s  %s\n", h, name);
}

/* The manifests, bagit.txt, bag-info.txt and the tag manifest. */
enum cv_err archive_tags_write(struct bag *b, int seq, const struct chain *ch,
	int64_t now, char tag_sha[CV_SHA256_HEX])
{
	static const char bagit[] =
		"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	struct buf tm, p;
	buf_init(&tm);
	buf_init(&p);
	char h[2][CV_SHA256_HEX];
	enum cv_err rc = CV_OK;
	static const char *const mnames[] = { "manifest-sha256.txt",
		"manifest-sha512.txt" };
	/* counted: both are final before either is made again */
	spool_seal(&b->sp[SP_M256]);
	spool_seal(&b->sp[SP_M512]);
	for (int i = 0; i < 2 && rc == CV_OK; i++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%s", b->root, mnames[i]);
		char h512[CV_SHA512_HEX];
		rc = spool_emit(&b->sp[SP_M256 + i], b->t, p.data,
			archive_manifest_again, b, h[i], h512, b->errmsg);
		if (rc == CV_OK)
			buf_printf(&tm, "%s  %s\n", h[i], mnames[i]);
	}
	if (rc == CV_OK && !b->info.len)
		rc = bag_info(b, seq, ch, now, &b->info);
	if (rc == CV_OK) {
		const struct buf info = b->info;
		tag_line(&tm, "bagit.txt", bagit, strlen(bagit));
		tag_line(&tm, "bag-info.txt", info.data, info.len);
		const char *names[] = { "bagit.txt", "bag-info.txt",
			"tagmanifest-sha256.txt" };
		const struct buf bodies[] = {
			{ (char *)bagit, strlen(bagit), 0 }, info, tm
		};
		for (int i = 0; i < 3 && rc == CV_OK; i++) {
			buf_reset(&p);
			buf_printf(&p, "%s/%s", b->root, names[i]);
			rc = tarzst_add(b->t, p.data, bodies[i].data,
				bodies[i].len, b->errmsg);
		}
		cv_sha256_hex(tm.data, tm.len, tag_sha);
	}
	/* a rebuilt bag has the same tag manifest: its seal, as kept */
	if (rc == CV_OK && b->archive_id)
		rc = seal_load(b->s, b->archive_id, &b->seal, b->errmsg);
	else if (rc == CV_OK)
		seal_make(b->o, tm.data, tm.len, &b->seal);
	if (rc == CV_OK)
		rc = seal_write(&b->seal, b->t, b->root, b->errmsg);
	buf_finish(&tm);
	buf_finish(&p);
	return rc;
}
