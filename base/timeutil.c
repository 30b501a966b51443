/* base/timeutil.c — clocks and time text conversions. Pure; any thread. */
#include "base/timeutil.h"

#include "base/err.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int64_t pc_time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t pc_time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int fmt_offset(int offset_min, char *out, size_t outlen)
{
    if (offset_min == 0)
        return snprintf(out, outlen, "Z");
    unsigned a = (unsigned)(offset_min < 0 ? -offset_min : offset_min) % (24 * 60);
    return snprintf(out, outlen, "%c%02u:%02u", offset_min < 0 ? '-' : '+', a / 60, a % 60);
}

static int fmt(int64_t t, int ms, int offset_min, char *out, size_t outlen)
{
    time_t tt = (time_t)(t + (int64_t)offset_min * 60);
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return PC_EINVAL;
    char off[8];
    fmt_offset(offset_min, off, sizeof off);
    int n;
    if (ms >= 0)
        n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms, off);
    else
        n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d%s", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, off);
    return (n < 0 || (size_t)n >= outlen) ? PC_EINVAL : 0;
}

int pc_time_rfc3339(int64_t t, char *out, size_t outlen, int offset_min)
{
    return fmt(t, -1, offset_min, out, outlen);
}

int pc_time_rfc3339_ms(int64_t ms, char *out, size_t outlen, int offset_min)
{
    int64_t s = ms / 1000, r = ms % 1000;
    if (r < 0) {
        r += 1000;
        s -= 1;
    }
    return fmt(s, (int)r, offset_min, out, outlen);
}

/* Reads exactly n digits. */
static int digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return PC_EINVAL;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return 0;
}

static int parse_common(const char **pp, char sep, struct tm *tm)
{
    const char *p = *pp;
    int y, mo, d, h, mi, s;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return PC_EINVAL;
    if (!(*p == sep || (sep == 'T' && *p == 't')))
        return PC_EINVAL;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &s))
        return PC_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return PC_EINVAL;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return PC_EINVAL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    memset(tm, 0, sizeof *tm);
    tm->tm_year = y - 1900;
    tm->tm_mon = mo - 1;
    tm->tm_mday = d;
    tm->tm_hour = h;
    tm->tm_min = mi;
    tm->tm_sec = s == 60 ? 59 : s;
    /* Reject dates like 02-30 by round-tripping through timegm. */
    struct tm chk = *tm;
    time_t tt = timegm(&chk);
    if (chk.tm_mday != d || chk.tm_mon != mo - 1 || tt == (time_t)-1)
        return PC_EINVAL;
    *pp = p;
    return 0;
}

int pc_time_parse_rfc3339(const char *s, int64_t *t)
{
    if (!s)
        return PC_EINVAL;
    const char *p = s;
    struct tm tm;
    if (parse_common(&p, 'T', &tm))
        return PC_EINVAL;
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
            return PC_EINVAL;
        off = sign * (oh * 60 + om);
    } else {
        return PC_EINVAL;
    }
    if (*p)
        return PC_EINVAL;
    *t = (int64_t)timegm(&tm) - (int64_t)off * 60;
    return 0;
}

int pc_time_parse_db(const char *s, int64_t *t)
{
    if (!s)
        return PC_EINVAL;
    const char *p = s;
    struct tm tm;
    if (parse_common(&p, ' ', &tm) || *p)
        return PC_EINVAL;
    *t = (int64_t)timegm(&tm);
    return 0;
}

int pc_time_format_db(int64_t t, char *out, size_t outlen)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return PC_EINVAL;
    int n = snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return (n < 0 || (size_t)n >= outlen) ? PC_EINVAL : 0;
}

int pc_time_db_to_api(const char *s, char *out, size_t outlen)
{
    int64_t t;
    if (!s) {
        if (outlen)
            out[0] = '\0';
        return 0;
    }
    if (pc_time_parse_db(s, &t))
        return PC_EINVAL;
    return pc_time_rfc3339(t, out, outlen, PC_TZ_SHANGHAI_MIN);
}
