/* base/timeutil.h — clocks and RFC 3339 / MariaDB DATETIME conversions.
 *
 * The database stores UTC DATETIMEs; the API shows RFC 3339 with an offset,
 * Asia/Shanghai (+08:00, no DST) by default. Pure functions; any thread. */
#ifndef PC_BASE_TIMEUTIL_H
#define PC_BASE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PC_TZ_SHANGHAI_MIN 480 /* Asia/Shanghai is UTC+08:00 all year */

/* Wall clock in milliseconds since the epoch. */
int64_t pc_time_now_ms(void);
/* Monotonic clock in nanoseconds (for durations only). */
uint64_t pc_time_mono_ns(void);
/* Formats t (seconds) as "2024-01-19T10:02:11+08:00" at the given UTC offset in minutes.
 * Returns 0, or PC_EINVAL if out is too small (needs 26 bytes). */
int pc_time_rfc3339(int64_t t, char *out, size_t outlen, int offset_min);
/* Same with milliseconds ("...T10:02:11.123Z" for offset 0). Needs 30 bytes. */
int pc_time_rfc3339_ms(int64_t ms, char *out, size_t outlen, int offset_min);
/* Parses RFC 3339 ("2024-01-18T23:59:59+08:00", "…Z", optional fraction) into epoch seconds.
 * An offset is required. 0 or PC_EINVAL. */
int pc_time_parse_rfc3339(const char *s, int64_t *t);
/* Parses a MariaDB UTC DATETIME text ("2024-01-18 15:59:59[.fff]") into epoch seconds. */
int pc_time_parse_db(const char *s, int64_t *t);
/* Formats epoch seconds as a UTC DATETIME text "YYYY-MM-DD HH:MM:SS" (needs 20 bytes). */
int pc_time_format_db(int64_t t, char *out, size_t outlen);
/* Converts a DB DATETIME text to RFC 3339 at +08:00. out needs 26 bytes; "" if s is NULL. */
int pc_time_db_to_api(const char *s, char *out, size_t outlen);

#endif
