/*
 * test_s3_unit.c — the S3 module's offline parts: the bounded XML
 * extraction (entities, nesting, truncation, hostile input), lock-mode
 * names, retain-until dates, and the key files' permission check.
 */
#include "t.h"

#include <sys/stat.h>
#include <unistd.h>

#include "retention.h"
#include "s3.h"
#include "storage.h"

struct xml_case {
	const char *xml, *tag;
	size_t cap;
	bool found;
	const char *want;
};

static const struct xml_case xml_cases[] = {
	{ "<Error><Code>AccessDenied</Code></Error>", "Code", 64, true,
		"AccessDenied" },
	{ "<a><Key>x&amp;y&lt;&gt;&quot;&apos;</Key></a>", "Key", 64, true,
		"x&y<>\"'" },
	{ "<Key>a&#47;b&#x2F;c</Key>", "Key", 64, true, "a/b/c" },
	{ "<Key>a&#233;</Key>", "Key", 64, false, NULL },  /* not ASCII */
	{ "<Key>a&nbsp;b</Key>", "Key", 64, false, NULL }, /* no DTDs */
	{ "<Key>a&amp</Key>", "Key", 64, false, NULL },
	{ "<Key>abcdef</Key>", "Key", 4, false, NULL }, /* too long */
	{ "<Key>abc</Key>", "Key", 4, true, "abc" },
	{ "<Key>abc", "Key", 64, false, NULL },            /* unclosed */
	{ "<Key><b>x</b></Key>", "Key", 64, false, NULL }, /* nested */
	{ "<KeyMarker>m</KeyMarker><Key>k</Key>", "Key", 64, true, "k" },
	{ "<Key></Key>", "Key", 64, true, "" },
	{ "", "Key", 64, false, NULL },
	{ "<Code>x</Code>", "Message", 64, false, NULL },
};

static void xml(void)
{
	for (size_t i = 0; i < sizeof(xml_cases) / sizeof(*xml_cases); i++) {
		const struct xml_case *c = &xml_cases[i];
		char out[64] = "";
		bool f = s3_xml_text(c->xml, c->xml + strlen(c->xml), c->tag,
			out, c->cap, NULL);
		CHECK_MSG(f == c->found, "case %zu", i);
		if (f && c->want)
			CHECK_STR(out, c->want);
	}
	/* the end bound is honoured: a tag past it is not seen */
	const char *x = "<Code>A</Code><Code>B</Code>", *next;
	char out[8];
	CHECK(s3_xml_text(x, x + strlen(x), "Code", out, sizeof out, &next));
	CHECK_STR(out, "A");
	CHECK(s3_xml_text(next, x + strlen(x), "Code", out, sizeof out, NULL));
	CHECK_STR(out, "B");
	CHECK(!s3_xml_text(x, x + 10, "Code", out, sizeof out, NULL));
}

static void modes_and_dates(void)
{
	enum s3_lock_mode m;
	CHECK(s3_lock_mode_parse("compliance", &m) && m == S3_LOCK_COMPLIANCE);
	CHECK(s3_lock_mode_parse("GOVERNANCE", &m) && m == S3_LOCK_GOVERNANCE);
	CHECK(!s3_lock_mode_parse("LEGAL", &m));
	char d[32];
	/* 2026-03 kept 12 months: purgeable from 2027-04-01 */
	int64_t until = storage_retain_until("2026-03", 12);
	s3_format_date(until, d);
	CHECK_STR(d, "2027-04-01T00:00:00Z");
	s3_format_date(storage_retain_until("2026-12", 0), d);
	CHECK_STR(d, "2027-01-01T00:00:00Z");
	s3_format_date(storage_retain_until("2026-11", 25), d);
	CHECK_STR(d, "2029-01-01T00:00:00Z");
	CHECK(storage_retain_until("2026-01", -1) == 0);
}

static void key_files(void)
{
	char dir[] = "/tmp/cvs3unitXXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char ak[64], sk[64];
	snprintf(ak, sizeof ak, "%s/ak", dir);
	snprintf(sk, sizeof sk, "%s/sk", dir);
	FILE *f = fopen(ak, "w");
	fputs("AKID\n", f);
	fclose(f);
	f = fopen(sk, "w");
	fputs("secret\n", f);
	fclose(f);
	chmod(ak, 0600);
	chmod(sk, 0640);
	struct s3_target t = { .endpoint = "http://127.0.0.1:1",
		.bucket = "bkt",
		.prefix = "p/",
		.path_style = true,
		.access_key_file = ak,
		.secret_key_file = sk };
	struct s3 *c = NULL;
	char *err = NULL;
	CHECK(s3_create(&c, &t, &err) == CV_EINVAL);
	CHECK(err && strstr(err, "chmod 600") && !strstr(err, "secret\n"));
	free(err);
	err = NULL;
	chmod(sk, 0600);
	t.endpoint = "ftp://x";
	CHECK(s3_create(&c, &t, &err) == CV_EINVAL);
	free(err);
	err = NULL;
	t.endpoint = "http://127.0.0.1:1/";
	CHECK(s3_create(&c, &t, &err) == CV_OK);
	char *key = s3_key(c, "L/2026-01.tar.zst"), *url = s3_url(c, key);
	CHECK_STR(url, "s3://bkt/p/L/2026-01.tar.zst");
	/* nothing listens on port 1: a transport error, named */
	struct s3_obj o;
	CHECK(s3_head(c, key, NULL, &o, &err) == CV_EHTTP);
	CHECK(err && strstr(err, "S3 HEAD"));
	free(err);
	free(key);
	free(url);
	s3_destroy(c);
	unlink(ak);
	unlink(sk);
	rmdir(dir);
}

int main(void)
{
	xml();
	modes_and_dates();
	key_files();
	return t_done();
}
