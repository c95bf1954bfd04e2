/*
 * fuzz_calllog.c — the call-log parser at its boundary. Built two ways:
 * with -fsanitize=fuzzer as a libFuzzer target (clang), and, in the
 * ordinary test run, as a replay driver that feeds every seed in the
 * corpus plus a fixed number of deterministic mutations of them, so the
 * gcc, ASan and valgrind builds exercise the same entry point.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calllog.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct calllog_batch b;
	char *reason = NULL;
	if (calllog_parse_payload((const char *)data, size, "LOC", &b,
		    &reason) == CV_OK) {
		for (size_t i = 0; i < b.n; i++) {
			const struct calllog_item *it = &b.items[i];
			if (it->reason)
				continue;
			/* invariants of an accepted record */
			if (!it->rec.id || !*it->rec.id || !it->rec.canonical)
				abort();
			struct calllog again;
			char *r2 = NULL;
			if (calllog_parse_one(it->rec.canonical,
				    it->rec.canonical_len, NULL, &again,
				    &r2) != CV_OK)
				abort(); /* canonical form must re-parse */
			if (strcmp(again.canonical, it->rec.canonical) != 0)
				abort(); /* and be a fixed point */
			calllog_finish(&again);
			struct calllog_turn *t;
			size_t n = calllog_turns(it->rec.transcript, &t);
			for (size_t k = 0; k < n; k++)
				if (!t[k].text)
					abort();
			free(t);
		}
	}
	free(reason);
	calllog_batch_finish(&b);
	return 0;
}

#ifndef CV_LIBFUZZER
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void mutate(char *buf, size_t *len, size_t cap)
{
	static const char *const tokens[] = { "{", "}", "[", "]", "\"", ",",
		":", "null", "1e999", "\\u0000", "\xff", "-1", "\"_id\"",
		"\"id\"", "\"createdAt\"", "true" };
	int ops = 1 + (int)(next() % 4);
	for (int i = 0; i<ops && * len> 0; i++) {
		size_t at = next() % *len;
		switch (next() % 4) {
		case 0: /* flip a byte */
			buf[at] ^= (char)(1u << (next() % 8));
			break;
		case 1: /* truncate */ *len = at; break;
		case 2: { /* insert a token */
			const char *t = tokens[next() % CV_ARRAY_LEN(tokens)];
			size_t tl = strlen(t);
			if (*len + tl < cap) {
				memmove(buf + at + tl, buf + at, *len - at);
				memcpy(buf + at, t, tl);
				*len += tl;
			}
			break;
		}
		default: /* delete a span */
		{
			size_t n = next() % 8;
			if (at + n > *len)
				n = *len - at;
			memmove(buf + at, buf + at + n, *len - at - n);
			*len -= n;
		}
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR [MUTATIONS]\n", argv[0]);
		return 2;
	}
	long mutations = argc > 2 ? atol(argv[2]) : 2000;
	DIR *d = opendir(argv[1]);
	if (!d) {
		perror(argv[1]);
		return 1;
	}
	struct dirent *e;
	int seeds = 0;
	long runs = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *path = xasprintf("%s/%s", argv[1], e->d_name);
		char *data = NULL;
		size_t len = 0;
		if (cv_read_file(path, 1 << 24, &data, &len, NULL) == CV_OK) {
			seeds++;
			LLVMFuzzerTestOneInput((const uint8_t *)data, len);
			size_t cap = len * 2 + 64;
			char *buf = xmalloc(cap);
			for (long i = 0; i < mutations; i++) {
				size_t n = len;
				memcpy(buf, data, len);
				mutate(buf, &n, cap);
				LLVMFuzzerTestOneInput((const uint8_t *)buf, n);
				runs++;
			}
			free(buf);
			free(data);
		}
		free(path);
	}
	closedir(d);
	printf("%d seeds, %ld mutated inputs: 1 passed, 0 failed\n", seeds,
		runs);
	return seeds > 0 ? 0 : 1;
}
#endif
