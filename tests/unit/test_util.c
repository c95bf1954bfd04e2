/*
 * test_util.c — the small helpers every module leans on (src/util.h):
 * ISO 8601 in and out, UTF-8 validation, terminal-safe text, the atomic
 * file sink and its failure points, bounded file reads and secrets, the
 * buffer and counts from outside. Each could fail silently elsewhere.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "t.h"
#include "util.h"

static char dir[] = "/tmp/cv_util.XXXXXX";

static void test_iso8601(void)
{
	int64_t ms;
	CHECK(cv_parse_iso8601("1970-01-01T00:00:00Z", &ms) && ms == 0);
	CHECK(cv_parse_iso8601("2026-03-02", &ms) && ms == 1772409600000LL);
	CHECK(cv_parse_iso8601("2026-03-02T15:04:05.123Z", &ms) &&
		ms == 1772463845123LL);
	/* fractions of any length: the first three digits count */
	CHECK(cv_parse_iso8601("2026-03-02T15:04:05.1234567Z", &ms) &&
		ms == 1772463845123LL);
	CHECK(cv_parse_iso8601("2026-03-02T15:04:05.1Z", &ms) &&
		ms == 1772463845100LL);
	/* offsets move the instant, with or without a colon */
	int64_t a, b, c;
	CHECK(cv_parse_iso8601("2026-03-02T10:04:05-05:00", &a));
	CHECK(cv_parse_iso8601("2026-03-02T15:04:05Z", &b));
	CHECK(cv_parse_iso8601("2026-03-02T20:34:05+0530", &c));
	CHECK(a == b && b == c);
	CHECK(cv_parse_iso8601("2024-02-29", &ms));  /* a leap day */
	CHECK(!cv_parse_iso8601("2026-02-29", &ms)); /* not one */
	CHECK(!cv_parse_iso8601("2100-02-29", &ms)); /* century */
	CHECK(cv_parse_iso8601("2000-02-29", &ms));  /* 400 years */
	static const char *const bad[] = {
		"",
		"2026",
		"2026-13-01",
		"2026-00-10",
		"2026-04-31",
		"2026-03-02T24:00:00Z",
		"2026-03-02T12:60Z",
		"2026-03-02T12:00:00.Z",
		"2026-03-02T12:00:00+25:00",
		"2026-03-02T12:00:00Zjunk",
		"2026-03-02junk",
		"26-03-02",
		"2026-3-2",
		"２０２６-03-02",
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(bad); i++)
		CHECK_MSG(!cv_parse_iso8601(bad[i], &ms), "accepted '%s'",
			bad[i]);
	CHECK(!cv_parse_iso8601(NULL, &ms));

	/* format then parse gives the same instant, over four centuries */
	char out[32];
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t t = (int64_t)(x % 12622780800000ULL); /* to 2370 */
		cv_format_iso8601(t, out);
		int64_t back = -1;
		if (!cv_parse_iso8601(out, &back) || back != t) {
			CHECK_MSG(0, "%lld -> %s -> %lld", (long long)t, out,
				(long long)back);
			break;
		}
	}
	cv_format_iso8601(1772463845123LL, out);
	CHECK_STR(out, "2026-03-02T15:04:05.123Z");
	cv_format_iso8601(-1, out); /* before the epoch: a real instant */
	CHECK_STR(out, "1969-12-31T23:59:59.999Z");
	char m[8];
	cv_format_month(1772463845123LL, m);
	CHECK_STR(m, "2026-03");
}

static void test_unhex(void)
{
	unsigned char b[4] = { 0 };
	CHECK(cv_unhex("00fFa9", 3, b, true) && b[0] == 0 && b[1] == 0xff &&
		b[2] == 0xa9);
	CHECK(!cv_unhex("0g", 1, b, true));
	CHECK(!cv_unhex("g0", 1, b, true));
	CHECK(!cv_unhex(" 1", 1, b, true));
	CHECK(!cv_unhex("a", 1, b, true)); /* cut short: its NUL is no digit */
	CHECK(!cv_unhex("", 1, b, true));
	CHECK(cv_unhex("", 0, b, true));
	unsigned char d[32];
	cv_sha256("abc", 3, d); /* FIPS 180-2's first example */
	CHECK(d[0] == 0xba && d[1] == 0x78 && d[31] == 0xad);
}

static void test_utf8_and_term(void)
{
	CHECK(cv_utf8_valid("José", strlen("José")));
	CHECK(!cv_utf8_valid("Jos\xe9", 4));          /* Latin-1 */
	CHECK(!cv_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
	CHECK(!cv_utf8_valid("\xed\xa0\x80", 3));     /* a surrogate */
	CHECK(!cv_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
	CHECK(!cv_utf8_valid("\xe2\x82", 2));         /* cut short */
	CHECK(cv_utf8_valid("a\0b", 3));
	/* past the 32-byte ASCII runs: what follows them is still read */
	char run[100];
	for (size_t at = 0; at < 70; at++) {
		memset(run, 'x', sizeof(run));
		CHECK(cv_utf8_valid(run, sizeof(run)));
		run[at] = '\xe9'; /* a lone Latin-1 byte */
		CHECK(!cv_utf8_valid(run, sizeof(run)));
		CHECK(cv_utf8_valid(run, at));
		memcpy(run + at, "\xc3\xa9", 2); /* é */
		CHECK(cv_utf8_valid(run, sizeof(run)));
		CHECK(!cv_utf8_valid(run, at + 1)); /* cut short */
	}

	char *s = cv_term_safe("ok \x1b[31mred\x1b[0m", 0);
	CHECK(s && !strchr(s, '\x1b'));
	CHECK(s && strstr(s, "\\x1b[31m"));
	free(s);
	s = cv_term_safe("a\u202Eevil", 0); /* right-to-left override */
	CHECK(s && strstr(s, "\\u202E") && !strstr(s, "\u202E"));
	free(s);
	s = cv_term_safe("csi\xc2\x9b"
			 "2J",
		0); /* C1 CSI */
	CHECK(s && strstr(s, "\\u009B"));
	free(s);
	s = cv_term_safe("line1\nline2", CV_SAFE_NEWLINES);
	CHECK_STR(s, "line1\nline2");
	free(s);
	s = cv_term_safe("line1\nline2", 0);
	CHECK(s && !strchr(s, '\n'));
	free(s);
	CHECK(cv_term_safe(NULL, 0) == NULL);
}

static void test_sink(void)
{
	char *path = xasprintf("%s/out.txt", dir);
	char *err = NULL;
	struct sink *k;
	/* each failure point: nothing visible, no temp file left */
	static const enum sink_fault faults[] = { SINK_FAULT_WRITE,
		SINK_FAULT_FSYNC, SINK_FAULT_RENAME };
	for (size_t i = 0; i < CV_ARRAY_LEN(faults); i++) {
		CHECK(sink_open_file(&k, path, 0600, &err) == CV_OK);
		sink_set_fault(k, faults[i]);
		enum cv_err w = sink_write(k, "data", 4);
		enum cv_err c = w == CV_OK ? sink_commit(k, &err) : w;
		CHECK_MSG(c != CV_OK, "fault %zu committed", i);
		sink_destroy(k);
		free(err);
		err = NULL;
		CHECK(access(path, F_OK) != 0);
		char *cmd = xasprintf("test $(ls -A '%s' | wc -l) -eq 0", dir);
		CHECK_MSG(system(cmd) == 0, "fault %zu left a file", i);
		free(cmd);
	}
	CHECK(sink_open_file(&k, path, 0640, &err) == CV_OK);
	CHECK(sink_write(k, "hello", 5) == CV_OK);
	CHECK(access(path, F_OK) != 0); /* not visible before commit */
	CHECK(sink_commit(k, &err) == CV_OK);
	sink_destroy(k);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640 &&
		st.st_size == 5);

	/* bounded reads */
	char *data;
	size_t len;
	CHECK(cv_read_file(path, 5, &data, &len, &err) == CV_OK && len == 5);
	CHECK_STR(data, "hello");
	free(data);
	CHECK(cv_read_file(path, 4, &data, &len, &err) == CV_ETOOBIG);
	CHECK(err && strstr(err, "larger than 4 bytes"));
	free(err);
	err = NULL;

	/* secrets: first line, trailing blanks trimmed; empty refused */
	char *sec = xasprintf("%s/secret", dir);
	CHECK(cv_write_file_atomic(sec, "s3cr3t \t\r\nsecond\n", 17, 0600,
		      &err) == CV_OK);
	CHECK(cv_read_secret(sec, &data, &err) == CV_OK);
	CHECK_STR(data, "s3cr3t");
	free(data);
	CHECK(cv_write_file_atomic(sec, "  \n", 3, 0600, &err) == CV_OK);
	CHECK(cv_read_secret(sec, &data, &err) == CV_EINVAL);
	free(err);
	free(sec);
	free(path);
}

static void test_buf_and_counts(void)
{
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < 10000; i++)
		buf_printf(&b, "%d,", i);
	CHECK(b.len == strlen(b.data));
	CHECK(!strncmp(b.data, "0,1,2,", 6));
	CHECK(!strcmp(b.data + b.len - 5, "9999,"));
	buf_append(&b, "\0x", 2); /* bytes, NUL included */
	CHECK(b.data[b.len] == '\0' && b.data[b.len - 1] == 'x');
	char *s = buf_steal(&b);
	CHECK(b.len == 0);
	free(s);
	buf_finish(&b);

	CHECK(cv_count_of(3.0) == 3);
	CHECK(cv_count_of(-1.0) == -1);
	CHECK(cv_count_of(0.0 / 0.0) == -1); /* NaN */
	CHECK(cv_count_of(1e300) == 9007199254740992LL);
}

/* the one hex coder: key files, password hashes, signatures, bags */
static void test_hex(void)
{
	const unsigned char b[] = { 0x00, 0x9f, 0xa0, 0xff };
	char h[9];
	cv_hex(b, sizeof(b), h);
	CHECK_STR(h, "009fa0ff");
	unsigned char back[4] = { 0 };
	CHECK(cv_unhex("009fa0ff", 4, back, false));
	CHECK(memcmp(back, b, 4) == 0);
	/* upper case only where asked (a header), never in our own files */
	CHECK(!cv_unhex("009FA0FF", 4, back, false));
	CHECK(cv_unhex("009FA0FF", 4, back, true));
	CHECK(memcmp(back, b, 4) == 0);
	CHECK(!cv_unhex("009fa0fg", 4, back, true));
	CHECK(!cv_unhex("0 9fa0ff", 4, back, true));
	CHECK_INT(cv_hex_digit('7'), 7);
	CHECK_INT(cv_hex_digit('b'), 11);
	CHECK_INT(cv_hex_digit('B'), 11);
	CHECK_INT(cv_hex_digit('g'), -1);
	CHECK_INT(cv_hex_digit('\0'), -1);
}

/* base64: one coder for the webhook signatures (either alphabet), Basic
 * credentials, Content-MD5 and the archive's non-UTF-8 event bodies */
static void test_base64(void)
{
	/* RFC 4648 §10: every length mod 3, so every padding */
	static const struct {
		const char *plain, *b64;
	} vec[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	unsigned char out[64];
	char enc[64];
	for (size_t i = 0; i < CV_ARRAY_LEN(vec); i++) {
		size_t n = strlen(vec[i].plain);
		CHECK_INT(cv_base64_encode(vec[i].plain, n, enc),
			strlen(vec[i].b64));
		CHECK_STR(enc, vec[i].b64);
		CHECK_INT(CV_BASE64_LEN(n), strlen(vec[i].b64));
		CHECK_INT(cv_base64_decode(vec[i].b64, out, sizeof(out)),
			(long)n);
		CHECK(memcmp(out, vec[i].plain, n) == 0);
	}
	/* decoding: padding optional but, when there, whole and last; one
	 * alphabet per string (standard or URL-safe); no whitespace; the
	 * bits past the last byte zero (one string per byte string) */
	static const struct {
		const char *in;
		long want;
	} rows[] = {
		{ "", 0 },
		{ "QQ", 1 },
		{ "QQ==", 1 },
		{ "QUI", 2 },
		{ "QUI=", 2 },
		{ "QUJD", 3 },
		{ "QUJDRA", 4 },
		{ "-_-_", 3 },
		{ "-_8=", 2 },
		{ "+/+/", 3 },
		{ "Q", -1 },     /* length 1 mod 4: no byte ends there */
		{ "QUJDR", -1 }, /* nor here */
		{ "QQ=", -1 },   /* half the padding */
		{ "Q===", -1 },
		{ "====", -1 },
		{ "QUJD====", -1 },
		{ "QQ==QUJD", -1 }, /* padding before the end */
		{ "QUJD=", -1 },
		{ "QUJD ", -1 },
		{ " QUJD", -1 },
		{ "QU JD", -1 },
		{ "QUJD\n", -1 },
		{ "QU\tJD", -1 },
		{ "QU*D", -1 },
		{ "QUJ*", -1 },
		{ "=QUJ", -1 },
		{ "QU.D", -1 },
		{ "+_+_", -1 }, /* two alphabets */
		{ "-/", -1 },
		{ "QR==", -1 },
		{ "QR", -1 },
		{ "QUJ=", -1 },
		{ "QUJ", -1 },
		{ "QUL=", -1 },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(rows); i++)
		CHECK_MSG(cv_base64_decode(rows[i].in, out, sizeof(out)) ==
				  rows[i].want,
			"base64 \"%s\"", rows[i].in);
	/* a high byte as '/' or '_': both alphabets decode it alike */
	CHECK_INT(cv_base64_decode("_w==", out, sizeof(out)), 1);
	CHECK_INT(out[0], 0xff);
	CHECK_INT(cv_base64_decode("/w==", out, sizeof(out)), 1);
	CHECK_INT(out[0], 0xff);
	/* the bound: a result that does not fit is refused, not cut */
	CHECK_INT(cv_base64_decode("QUJD", out, 3), 3);
	CHECK_INT(cv_base64_decode("QUJD", out, 2), -1);
	CHECK_INT(cv_base64_decode("QUJDRA==", out, 3), -1);
	CHECK_INT(cv_base64_decode("QUI", out, 1), -1);
	/* every byte value, every length 0..3 mod 4 of the encoding, back */
	unsigned char all[256], back[256];
	char text[CV_BASE64_LEN(256) + 1];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)(255 - i);
	for (size_t n = 0; n <= 256; n += n < 8 ? 1 : 31) {
		size_t len = cv_base64_encode(all, n, text);
		CHECK_INT(len, CV_BASE64_LEN(n));
		CHECK_INT(cv_base64_decode(text, back, sizeof(back)), (long)n);
		CHECK(memcmp(all, back, n) == 0);
		/* and without its padding */
		while (len && text[len - 1] == '=')
			text[--len] = '\0';
		CHECK_INT(len % 4 == 1, 0);
		CHECK_INT(cv_base64_decode(text, back, sizeof(back)), (long)n);
		CHECK(memcmp(all, back, n) == 0);
	}
}

int main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	test_iso8601();
	test_utf8_and_term();
	test_unhex();
	test_sink();
	test_buf_and_counts();
	test_hex();
	test_base64();
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	return t_done();
}
