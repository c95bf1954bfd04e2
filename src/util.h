/*
 * util.h — small helpers shared by every module: a growable buffer, time
 * conversion, and durable file writes through a sink interface.
 */
#ifndef CV_UTIL_H
#define CV_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"

/* A growable byte buffer, always NUL-terminated. */
struct buf {
	char *data;
	size_t len, cap;
};
void buf_init(struct buf *b);
void buf_finish(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) CV_PRINTF(2, 3);
/* Hand the buffer's bytes to the caller (free() them); the buf is reset. */
char *buf_steal(struct buf *b);

/* Current time, epoch milliseconds UTC. */
int64_t cv_now_ms(void);
/* Monotonic clock, milliseconds. */
int64_t cv_mono_ms(void);

/*
 * Who may read the data callvault creates (the store, its WAL and SHM,
 * backups, blobs, archives): the owner only (0600 files, 0700
 * directories), or with the global --group the owner's group too (0640,
 * 0750); never others. Secrets (keys, tokens, the secrets directory) stay
 * 0600/0700 whatever this says. Set once, in main, before anything is
 * created.
 */
void cv_set_group_readable(bool on);
unsigned cv_data_mode(void);
unsigned cv_data_dir_mode(void);
/* The same in microseconds. */
int64_t cv_mono_us(void);

/*
 * Parse an ISO 8601 date-time ("2026-03-02T15:04:05.123Z", offsets "+02:00",
 * fractions of any length, or a bare date "2026-03-02" = midnight UTC) into
 * epoch milliseconds. Returns false on anything else.
 */
/* A count from outside (a JSON number): -1 when negative or not a
 * number, at most 2^53 (past that a double has no integers to give). */
int64_t cv_count_of(double d);
bool cv_parse_iso8601(const char *s, int64_t *out_ms);
/* Format epoch ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (>= 25 bytes). */
void cv_format_iso8601(int64_t ms, char out[32]);
/* "YYYY-MM" of epoch ms, UTC. */
void cv_format_month(int64_t ms, char out[8]);

/* n bytes as 2n lower-case hex digits and a NUL (out holds 2n + 1). */
void cv_hex(const void *p, size_t n, char *out);
/* The value of a hex digit of either case, or -1. */
int cv_hex_digit(char c);
/* The 2n hex digits at s as n bytes into out; false (out partly written)
 * when one is not a hex digit, or is upper-case and !any_case (the
 * files callvault writes hold lower-case digits only). */
bool cv_unhex(const char *s, size_t n, unsigned char *out, bool any_case);

/* The length of the base64 of n bytes, padding included (no NUL). */
#define CV_BASE64_LEN(n) (4 * (((n) + 2) / 3))
/* n bytes as standard, padded base64 and a NUL (out holds
 * CV_BASE64_LEN(n) + 1); answers the length without the NUL. */
size_t cv_base64_encode(const void *p, size_t n, char *out);
/*
 * Decode the base64 string in (NUL-terminated) into out, at most cap
 * bytes: the number of bytes, or -1 when it is not base64 or does not
 * fit. Either alphabet, the standard ('+', '/') or the URL-safe one ('-',
 * '_'), but one per string; padding optional, but when there only where
 * due and whole; no whitespace; the bits past the last byte zero, so that
 * one byte string has one encoding.
 */
long cv_base64_decode(const char *in, unsigned char *out, size_t cap);

/* true when s is valid UTF-8 (n bytes). */
bool cv_utf8_valid(const char *s, size_t n);

/*
 * Text from outside (stored calls, client input) made safe to print on a
 * terminal: what a terminal would obey instead of show becomes a visible
 * escape. C0 controls and DEL as \xNN (\t and \n as such), C1 controls
 * (U+0080-U+009F, CSI U+009B among them) and the bidirectional embeddings,
 * overrides and isolates (U+202A-U+202E, U+2066-U+2069) as \uNNNN, bytes
 * that are not UTF-8 as \xNN. CV_SAFE_NEWLINES keeps newlines.
 */
#define CV_SAFE_NEWLINES 1
void cv_term_safe_append(struct buf *b, const char *s, size_t n, int flags);
/* The same as a new string (caller frees); NULL for NULL. */
char *cv_term_safe(const char *s, int flags) CV_MUST_CHECK;
/* Strings made safe for one piece of output, freed together by
 * cv_safe_finish: printf("%s", cv_safe(&k, name)). NULL stays NULL. */
struct cv_safe {
	char **s;
	size_t n, cap;
};
const char *cv_safe(struct cv_safe *k, const char *s);
void cv_safe_finish(struct cv_safe *k);

/*
 * A sink is where durable output goes: a file written atomically (temp file in
 * the target directory, fsync, rename, fsync the directory) or memory. Tests
 * inject failures at write, fsync and rename through the fault hooks.
 */
struct sink;
enum sink_fault {
	SINK_FAULT_NONE,
	SINK_FAULT_WRITE,
	SINK_FAULT_FSYNC,
	SINK_FAULT_RENAME
};
/* Open an atomic file sink for `path` (created with `mode`). */
enum cv_err sink_open_file(struct sink **out, const char *path, int mode,
	char **errmsg) CV_MUST_CHECK;
/* A sink that collects into memory. */
struct sink *sink_open_mem(void);
/* A sink handing each write to fn (an S3 upload: not a file); a failed
 * write fails the sink, and commit only reports whether one did. */
struct sink *sink_open_fn(enum cv_err (*fn)(const void *p, size_t n, void *arg),
	void *arg);
/* Make the sink fail at the given step (for tests). */
void sink_set_fault(struct sink *s, enum sink_fault f);
/* A file sink starts writing back to disk each time `every` more bytes
 * have been written (sync_file_range, not waiting), so that the fsync of
 * a large file at commit has little left to do. 0 = off (the default). */
void sink_set_writeback(struct sink *s, uint64_t every);
enum cv_err sink_write(struct sink *s, const void *p, size_t n) CV_MUST_CHECK;
/* Make the output durable and visible; on failure nothing is visible. */
enum cv_err sink_commit(struct sink *s, char **errmsg) CV_MUST_CHECK;
/* Memory sink contents (valid until sink_destroy). */
const struct buf *sink_mem(const struct sink *s);
/* Abandon (unlink the temp file when not committed) and free. NULL ok. */
void sink_destroy(struct sink *s);

/* fsync a directory (after a rename or unlink in it). */
enum cv_err cv_fsync_dir(const char *dir, char **errmsg) CV_MUST_CHECK;

/* Write a whole small file atomically with the given mode (e.g. 0600). */
enum cv_err cv_write_file_atomic(const char *path, const void *p, size_t n,
	int mode, char **errmsg) CV_MUST_CHECK;
/* Read a whole file up to max bytes; NUL-terminated. */
enum cv_err cv_read_file(const char *path, size_t max, char **out, size_t *len,
	char **errmsg) CV_MUST_CHECK;
/* Read a secret file: first line, trailing whitespace trimmed. */
enum cv_err cv_read_secret(const char *path, char **out,
	char **errmsg) CV_MUST_CHECK;

/* true when stdout is a terminal and NO_COLOR is unset. */
bool cv_stdout_fancy(void);

#endif
