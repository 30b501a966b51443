/* notify/message.c — what a message says: subscription data values fitted to WeChat's rules
 * (wechat-protocols.md §3), the subscribeMessage.send body, the SMS text, retry delays.
 * Pure; any thread. */
#include "notify/notify.h"

#include "base/err.h"
#include "base/timeutil.h"
#include "base/utf8.h"
#include "config/config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *pc_notify_event_name(enum pc_notify_event e)
{
    return e == PC_NOTIFY_PAID       ? "paid"
           : e == PC_NOTIFY_APPROVED ? "approved"
           : e == PC_NOTIFY_REJECTED ? "rejected"
                                     : "none";
}

static bool is_han(long cp)
{
    return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
           (cp >= 0x20000 && cp <= 0x2ebef);
}

/* Copies at most max code points of v (control characters dropped, invalid bytes refused)
 * into out; when v is longer, the last kept code point becomes "…". -1 on invalid UTF-8 or
 * an empty result. Sets *han_only / *ascii_only. */
static int cut(const char *v, size_t max, char *out, size_t outlen, bool *han_only,
               bool *ascii_only)
{
    size_t n = strlen(v), i = 0, o = 0, cps = 0;
    size_t marks[64]; /* byte offset in out of each kept code point (max ≤ 32) */
    *han_only = *ascii_only = true;
    if (outlen < 4)
        return -1;
    while (i < n) {
        size_t at = i;
        long cp = pc_utf8_next(v, n, &i);
        if (cp < 0)
            return -1;
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
            continue;
        if (cps == max) { /* one too many: end with an ellipsis in place of the last */
            o = marks[max - 1];
            if (o + 3 >= outlen)
                return -1;
            memcpy(out + o, "\xe2\x80\xa6", 3);
            o += 3;
            *han_only = false;
            break;
        }
        size_t len = i - at;
        if (o + len >= outlen || cps >= sizeof marks / sizeof marks[0])
            return -1;
        marks[cps++] = o;
        memcpy(out + o, v + at, len);
        o += len;
        if (!is_han(cp))
            *han_only = false;
        if (cp >= 0x80)
            *ascii_only = false;
    }
    out[o] = '\0';
    return o ? 0 : -1;
}

static bool all_of(const char *s, const char *set, bool digits, bool letters)
{
    for (; *s; s++) {
        bool ok = (digits && *s >= '0' && *s <= '9') ||
                  (letters && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) ||
                  (set && strchr(set, *s));
        if (!ok)
            return false;
    }
    return true;
}

int pc_notify_fit_value(const char *key, const char *value, char *out, size_t outlen)
{
    size_t kl = key ? strlen(key) : 0, pl = kl;
    while (pl > 0 && key[pl - 1] >= '0' && key[pl - 1] <= '9')
        pl--;
    if (!value || pl == 0 || pl == kl || kl > 48)
        return PC_EINVAL;
    char prefix[49];
    memcpy(prefix, key, pl);
    prefix[pl] = '\0';
    bool han, ascii;
    int rc = 0;
    if (!strcmp(prefix, "thing") || !strcmp(prefix, "car_number")) {
        rc = cut(value, !strcmp(prefix, "thing") ? 20 : 8, out, outlen, &han, &ascii);
    } else if (!strcmp(prefix, "name")) {
        rc = cut(value, 20, out, outlen, &han, &ascii);
        if (rc == 0 && !ascii)
            rc = cut(value, 10, out, outlen, &han, &ascii);
    } else if (!strcmp(prefix, "phrase")) {
        rc = cut(value, 5, out, outlen, &han, &ascii);
        if (rc == 0 && !han)
            rc = -1; /* pure Chinese only: no digits, no punctuation, no ellipsis */
    } else if (!strcmp(prefix, "character_string")) {
        rc = cut(value, 32, out, outlen, &han, &ascii);
        if (rc == 0 && (!ascii || strchr(out, ' ')))
            rc = -1;
    } else if (!strcmp(prefix, "number") || !strcmp(prefix, "letter") ||
               !strcmp(prefix, "phone_number") || !strcmp(prefix, "symbol")) {
        size_t max = !strcmp(prefix, "phone_number") ? 17 : !strcmp(prefix, "symbol") ? 5 : 32;
        rc = strlen(value) <= max && strlen(value) < outlen && value[0] ? 0 : -1;
        if (rc == 0) {
            snprintf(out, outlen, "%s", value);
            bool ok = !strcmp(prefix, "number")   ? all_of(value, ".", true, false)
                      : !strcmp(prefix, "letter") ? all_of(value, NULL, false, true)
                      : !strcmp(prefix, "phone_number")
                          ? all_of(value, "+-() ", true, false)
                          : all_of(value, "!#$%&*+-./:;<=>?@^_~", false, false);
            rc = ok ? 0 : -1;
        }
    } else if (!strcmp(prefix, "amount")) {
        /* one currency symbol, ≤ 10 digits, decimals allowed, may end with 元 */
        const char *p = value;
        if (!strncmp(p, "\xc2\xa5", 2) || !strncmp(p, "\xef\xbf\xa5", 3))
            p += p[0] == '\xc2' ? 2 : 3;
        else if (*p == '$')
            p++;
        size_t d = 0;
        while (p[d] >= '0' && p[d] <= '9')
            d++;
        const char *rest = p + d;
        if (*rest == '.') {
            rest++;
            while (*rest >= '0' && *rest <= '9')
                rest++;
        }
        if (!strcmp(rest, "\xe5\x85\x83"))
            rest += 3;
        rc = p != value && d >= 1 && d <= 10 && !*rest && strlen(value) < outlen ? 0 : -1;
        if (rc == 0)
            snprintf(out, outlen, "%s", value);
    } else if (!strcmp(prefix, "time") || !strcmp(prefix, "date")) {
        rc = cut(value, 32, out, outlen, &han, &ascii);
    } else {
        rc = -1; /* enum and unknown types: nothing we can fit safely */
    }
    if (rc)
        out[0] = '\0';
    return rc ? PC_EINVAL : 0;
}

/* "2024年1月26日 23:59" in Beijing time from UTC database text; "" when absent. */
static void cn_time(const char *db, char *out, size_t outlen)
{
    int64_t t;
    char iso[40];
    out[0] = '\0';
    if (!db || !db[0] || pc_time_parse_db(db, &t) || pc_time_rfc3339(t, iso, sizeof iso, 480))
        return;
    /* iso: YYYY-MM-DDTHH:MM:SS+08:00 */
    long y = strtol(iso, NULL, 10), mo = strtol(iso + 5, NULL, 10), d = strtol(iso + 8, NULL, 10);
    snprintf(out, outlen, "%ld年%ld月%ld日 %.5s", y, mo, d, iso + 11);
}

static void yuan(int64_t fen, char *out, size_t outlen)
{
    snprintf(out, outlen, "\xc2\xa5%lld.%02lld", (long long)(fen / 100), (long long)(fen % 100));
}

/* The named value of v for event e ("" when there is none). */
static void named(const char *name, enum pc_notify_event e, const struct pc_notify_values *v,
                  char *out, size_t outlen)
{
    const char *s = "";
    out[0] = '\0';
    if (!strcmp(name, "student"))
        s = v->student;
    else if (!strcmp(name, "task"))
        s = v->task;
    else if (!strcmp(name, "order_no"))
        s = v->order_no;
    else if (!strcmp(name, "reason"))
        s = v->reason;
    else if (!strcmp(name, "amount")) {
        yuan(v->amount_fen, out, outlen);
        return;
    } else if (!strcmp(name, "paid_at")) {
        cn_time(v->paid_at, out, outlen);
        return;
    } else if (!strcmp(name, "deadline")) {
        cn_time(v->deadline, out, outlen);
        return;
    } else if (!strcmp(name, "result"))
        s = e == PC_NOTIFY_APPROVED   ? "审核通过"
            : e == PC_NOTIFY_REJECTED ? "审核未通过"
                                      : "待审核";
    else if (!strcmp(name, "tip"))
        s = e == PC_NOTIFY_PAID       ? "已付款，照片等待审核"
            : e == PC_NOTIFY_APPROVED ? "照片已通过审核"
                                      : "请在截止时间前重新上传照片";
    snprintf(out, outlen, "%s", s ? s : "");
}

const char *pc_notify_template(const struct pc_config *cfg, enum pc_notify_event e)
{
    return e == PC_NOTIFY_PAID       ? cfg->notify_tpl_paid
           : e == PC_NOTIFY_APPROVED ? cfg->notify_tpl_approved
           : e == PC_NOTIFY_REJECTED ? cfg->notify_tpl_rejected
                                     : NULL;
}

int pc_notify_subscribe_msg(const struct pc_config *cfg, enum pc_notify_event e, const char *openid,
                            const struct pc_notify_values *v, cJSON **msg, char *err, size_t errlen)
{
    const char *tpl = pc_notify_template(cfg, e);
    const char *fields = e == PC_NOTIFY_PAID       ? cfg->notify_fields_paid
                         : e == PC_NOTIFY_APPROVED ? cfg->notify_fields_approved
                                                   : cfg->notify_fields_rejected;
    *msg = NULL;
    err[0] = '\0';
    if (!tpl || !tpl[0])
        return PC_ENOTFOUND;
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "touser", openid);
    cJSON_AddStringToObject(m, "template_id", tpl);
    if (cfg->notify_page && cfg->notify_page[0] && v->order_no) {
        char page[256];
        snprintf(page, sizeof page, "%s?order_no=%s", cfg->notify_page, v->order_no);
        cJSON_AddStringToObject(m, "page", page);
    }
    cJSON *data = cJSON_AddObjectToObject(m, "data");
    if (cfg->notify_miniprogram_state && cfg->notify_miniprogram_state[0])
        cJSON_AddStringToObject(m, "miniprogram_state", cfg->notify_miniprogram_state);
    cJSON_AddStringToObject(m, "lang", "zh_CN");
    /* fields: "key=name,key=name" */
    const char *p = fields ? fields : "";
    int rc = 0;
    while (*p && rc == 0) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        char key[49], name[33], raw[512], fit[256];
        if (!eq || eq == p || (size_t)(eq - p) >= sizeof key ||
            (size_t)(end - eq - 1) >= sizeof name || end == eq + 1) {
            snprintf(err, errlen, "bad field map for %s: '%s'", pc_notify_event_name(e), fields);
            rc = PC_EINVAL;
            break;
        }
        snprintf(key, sizeof key, "%.*s", (int)(eq - p), p);
        snprintf(name, sizeof name, "%.*s", (int)(end - eq - 1), eq + 1);
        named(name, e, v, raw, sizeof raw);
        if (pc_notify_fit_value(key, raw, fit, sizeof fit)) {
            snprintf(err, errlen, "value '%s' does not fit data key %s", name, key);
            rc = PC_EINVAL;
            break;
        }
        cJSON *item = cJSON_AddObjectToObject(data, key);
        cJSON_AddStringToObject(item, "value", fit);
        p = comma ? comma + 1 : end;
    }
    if (rc == 0 && !data->child) {
        snprintf(err, errlen, "empty field map for %s", pc_notify_event_name(e));
        rc = PC_EINVAL;
    }
    if (rc)
        cJSON_Delete(m);
    else
        *msg = m;
    return rc;
}

void pc_notify_sms_text(const struct pc_config *cfg, enum pc_notify_event e,
                        const struct pc_notify_values *v, char *out, size_t outlen)
{
    char when[64], amount[32];
    const char *sign = cfg->sms_sign ? cfg->sms_sign : "";
    const char *who = v->student && v->student[0] ? v->student : "";
    switch (e) {
    case PC_NOTIFY_REJECTED:
        cn_time(v->deadline, when, sizeof when);
        snprintf(out, outlen,
                 "%s%s同学，你的毕业生图像未通过审核：%s。请在%s前打开小程序重新上传照片，无需再次"
                 "付款。订单号%s",
                 sign, who, v->reason && v->reason[0] ? v->reason : "照片不符合要求",
                 when[0] ? when : "修改期内", v->order_no ? v->order_no : "");
        break;
    case PC_NOTIFY_APPROVED:
        snprintf(out, outlen, "%s%s同学，你的毕业生图像已通过审核。订单号%s", sign, who,
                 v->order_no ? v->order_no : "");
        break;
    default:
        yuan(v->amount_fen, amount, sizeof amount);
        snprintf(out, outlen, "%s%s同学，已收到你的付款%s，照片等待审核。订单号%s", sign, who,
                 amount, v->order_no ? v->order_no : "");
        break;
    }
}

int64_t pc_notify_backoff_ms(const struct pc_config *cfg, int attempts, uint32_t rnd)
{
    double d = cfg->notify_backoff_base_ms;
    for (int i = 1; i < attempts && d < cfg->notify_backoff_max_ms; i++)
        d *= 2;
    if (d > cfg->notify_backoff_max_ms)
        d = cfg->notify_backoff_max_ms;
    d *= 0.75 + 0.5 * ((double)rnd / 4294967296.0);
    return d < 1 ? 1 : (int64_t)d;
}
