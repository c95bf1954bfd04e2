/*
 * t.h — a tiny test harness: CHECK macros, and a summary line
 * "N passed, N failed" that meson and CI read. Include once per test
 * program; call t_done() last and return its value from main.
 */
#ifndef CV_T_H
#define CV_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_pass, t_fail;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (cond) {                                                    \
			t_pass++;                                              \
		} else {                                                       \
			t_fail++;                                              \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__,          \
				__LINE__, #cond);                              \
		}                                                              \
	} while (0)

#define CHECK_MSG(cond, ...)                                                   \
	do {                                                                   \
		if (cond) {                                                    \
			t_pass++;                                              \
		} else {                                                       \
			t_fail++;                                              \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__,          \
				__LINE__, #cond);                              \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *t_a = (a), *t_b = (b);                             \
		CHECK_MSG(t_a &&t_b &&strcmp(t_a, t_b) == 0,                   \
			"\"%s\" != \"%s\"", t_a ? t_a : "(null)",              \
			t_b ? t_b : "(null)");                                 \
	} while (0)

#define CHECK_INT(a, b)                                                        \
	do {                                                                   \
		long long t_a = (long long)(a), t_b = (long long)(b);          \
		CHECK_MSG(t_a == t_b, "%lld != %lld", t_a, t_b);               \
	} while (0)

static inline int t_done(void)
{
	printf("%d passed, %d failed\n", t_pass, t_fail);
	return t_fail ? 1 : 0;
}

#endif
