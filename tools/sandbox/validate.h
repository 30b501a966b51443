/* tools/sandbox/validate.h — UTF-8 helpers and the subscribe-message value rules
 * (wechat-protocols.md §3). Pure functions; any thread. */
#ifndef SB_VALIDATE_H
#define SB_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

/* Decodes UTF-8 s[0..n) into at most max code points. Returns the number of code points,
 * or -1 on invalid UTF-8 (overlong, surrogate, truncated) or more than max. */
long sb_utf8_decode(const char *s, size_t n, uint32_t *cps, size_t max);
/* Copy of s[0..n) as valid UTF-8: invalid bytes become U+FFFD, NUL bytes too.
 * The caller frees it. */
char *sb_utf8_sanitize(const char *s, size_t n);
/* Checks the value of a subscribe-message data key ("thing1", "time2", …) by the key's
 * prefix. 0 when valid; otherwise writes WeChat's errmsg
 * ("argument invalid! data.thing1.value is empty" / "... invalid") into err. */
int sb_validate_subscribe(const char *key, const char *value, char *err, size_t errlen);

#endif
