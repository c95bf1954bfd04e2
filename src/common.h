/*
 * common.h — the project-wide error codes, allocation helpers and logging.
 *
 * Every fallible function returns enum cv_err (CV_OK == 0). Details go out
 * through a `char **errmsg` the caller frees. Out of memory aborts: an
 * application need not propagate it, but every size that comes from outside
 * is bounded by the module that reads it.
 */
#ifndef CV_COMMON_H
#define CV_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "cv_config.h"

#define CV_MUST_CHECK __attribute__((warn_unused_result))
#define CV_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define CV_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum cv_err {
	CV_OK = 0,
	CV_ENOMEM,
	CV_EIO,     /* file or socket I/O failed */
	CV_EPARSE,  /* input is not what it should be */
	CV_EDB,     /* the store failed */
	CV_EBUSY,   /* the store is locked past its bound */
	CV_EHTTP,   /* an HTTP exchange failed */
	CV_ETOOBIG, /* input over a size bound */
	CV_EINVAL,  /* bad argument or usage */
	CV_ENOTFOUND,
	CV_EINTEGRITY, /* a check of stored or archived data failed */
	CV_EAUTH,      /* credentials missing or refused */
	CV_ELIMIT,     /* a rate limit or budget is spent */
};

/* Exit codes of the callvault binary. */
enum {
	CV_EXIT_OK = 0,
	CV_EXIT_FAIL = 1,
	CV_EXIT_USAGE = 2,
	CV_EXIT_INTEGRITY = 3,
};

const char *cv_strerror(enum cv_err e);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) CV_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) CV_PRINTF(1, 0);

/* Set *errmsg (if errmsg is non-NULL) to a formatted message; returns err. */
enum cv_err cv_error(char **errmsg, enum cv_err err, const char *fmt, ...)
	CV_PRINTF(3, 4);

/*
 * Logging to stderr, one line per event, grep-able: `level=warn src=file:line
 * msg="..."`. Never pass secrets or request bodies.
 */
enum cv_log_level { CV_LOG_DEBUG, CV_LOG_INFO, CV_LOG_WARN, CV_LOG_ERROR };
void cv_log_set_level(enum cv_log_level lvl);
void cv_log_at(enum cv_log_level lvl, const char *file, int line,
	const char *fmt, ...) CV_PRINTF(4, 5);
#define cv_debug(...) cv_log_at(CV_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)
#define cv_info(...) cv_log_at(CV_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define cv_warn(...) cv_log_at(CV_LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define cv_errlog(...) cv_log_at(CV_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)

#endif
