/* base/log.h — structured JSON logs, one line per event, on stderr.
 *
 * Fields are typed so that nothing is formatted unless the level is enabled.
 * Never pass secrets (session_key, keys, passwords, tokens) as fields.
 * Thread-safe: lines from different threads never interleave. */
#ifndef PC_BASE_LOG_H
#define PC_BASE_LOG_H

#include <stdint.h>

enum pc_log_level { PC_LOG_DEBUG = 0, PC_LOG_INFO, PC_LOG_WARN, PC_LOG_ERROR };

struct pc_log_field {
    const char *key;
    char type; /* 's' string, 'i' integer, 'f' double, 0 end of list */
    const char *s;
    int64_t i;
    double f;
};

#define PC_LS(k, v) ((struct pc_log_field){(k), 's', (v), 0, 0})
#define PC_LI(k, v) ((struct pc_log_field){(k), 'i', NULL, (int64_t)(v), 0})
#define PC_LF(k, v) ((struct pc_log_field){(k), 'f', NULL, 0, (double)(v)})
#define PC_LEND     ((struct pc_log_field){NULL, 0, NULL, 0, 0})

/* Sets the minimum level written; parses "debug", "info", "warn", "error". 0 or PC_EINVAL. */
int pc_log_set_level_name(const char *name);
void pc_log_set_level(enum pc_log_level lvl);
int pc_log_enabled(enum pc_log_level lvl);
/* Writes one line; fields end with a PC_LEND entry. */
void pc_log_fields(enum pc_log_level lvl, const char *msg, const struct pc_log_field *f);

#define pc_log(lvl, msg, ...)                                                                      \
    pc_log_fields((lvl), (msg), (const struct pc_log_field[]){__VA_ARGS__, PC_LEND})
#define pc_log_msg(lvl, msg) pc_log_fields((lvl), (msg), (const struct pc_log_field[]){PC_LEND})

#endif
