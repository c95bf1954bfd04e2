/*
 * tz.h — IANA time zones read from their TZif files (RFC 8536), without
 * the C library's process-global TZ state.
 *
 * glibc converts local time only through mktime/localtime under the TZ
 * environment variable: changing it with setenv/tzset on one request's
 * thread changed the zone of every other thread's conversion (and setenv
 * races every getenv in the process), so concurrent searches with
 * different --tz values got each other's offsets. A zone here is a plain
 * immutable object: load it, ask it, free it; any number of threads may
 * use their own or a shared one at once.
 */
#ifndef CV_TZ_H
#define CV_TZ_H

#include <stdint.h>

#include "common.h"

struct tz;

/*
 * Load zone `name` (e.g. "America/New_York", "UTC") from
 * /usr/share/zoneinfo. The name is checked first (no "..", no leading
 * '/', letters, digits and _+-/ only, at most 64 bytes). Returns CV_EINVAL
 * for a bad or unknown name, CV_EPARSE for a file that is not a usable
 * TZif file (*errmsg says which; caller frees). The caller frees *out
 * with tz_free.
 */
enum cv_err tz_load(struct tz **out, const char *name,
	char **errmsg) CV_MUST_CHECK;
void tz_free(struct tz *z);

/* The zone's offset from UTC (seconds east) at instant `utc` (epoch s). */
int32_t tz_offset_at(const struct tz *z, int64_t utc);

/*
 * The instant (epoch seconds) of wall-clock time `local` (epoch seconds
 * as if the wall clock were UTC). A time that occurs twice (clocks go
 * back) is its first occurrence; a time that does not occur (clocks go
 * forward) is read with the offset in force before the change, so 02:30
 * on the morning clocks go from 02:00 to 03:00 is 03:30 of the new time.
 */
int64_t tz_local_to_utc(const struct tz *z, int64_t local);

/*
 * The zone a user named for reading or showing times (--tz, the store's
 * `timezone` setting, a console session's choice): NULL (*out) for UTC
 * ("UTC", "Z", "Etc/UTC" or name NULL), else the loaded zone, which the
 * caller frees with tz_free. An unknown name is CV_EINVAL and *errmsg
 * "unknown time zone 'X'; use an IANA name such as America/New_York, or
 * UTC" (caller frees; the name shown with controls escaped).
 */
enum cv_err tz_open(struct tz **out, const char *name,
	char **errmsg) CV_MUST_CHECK;

/* Instant `ms` (epoch milliseconds) as ISO 8601 on zone z's wall clock
 * with the offset in force then ("2026-03-08T01:30:00.000-06:00"); z
 * NULL gives UTC with a Z, as cv_format_iso8601 does. */
#define TZ_TIME_LEN 40
void tz_format(const struct tz *z, int64_t ms, char out[TZ_TIME_LEN]);

#endif
