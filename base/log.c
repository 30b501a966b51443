/* base/log.c — JSON-lines logger. Global level, one mutex around each write. */
#include "base/log.h"

#include "base/buf.h"
#include "base/err.h"
#include "base/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum pc_log_level g_level = PC_LOG_INFO;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *const g_names[] = {"debug", "info", "warn", "error"};

int pc_log_set_level_name(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, g_names[i]) == 0) {
            g_level = (enum pc_log_level)i;
            return 0;
        }
    }
    return PC_EINVAL;
}

void pc_log_set_level(enum pc_log_level lvl)
{
    g_level = lvl;
}

int pc_log_enabled(enum pc_log_level lvl)
{
    return lvl >= g_level;
}

void pc_log_fields(enum pc_log_level lvl, const char *msg, const struct pc_log_field *f)
{
    if (lvl < g_level)
        return;
    char ts[40];
    pc_time_rfc3339_ms(pc_time_now_ms(), ts, sizeof ts, 0);
    struct pc_buf b;
    pc_buf_init(&b, 16384);
    pc_buf_addf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts, g_names[lvl]);
    pc_buf_add_json_str(&b, msg, strlen(msg));
    pc_buf_adds(&b, "\"");
    for (; f && f->type; f++) {
        pc_buf_adds(&b, ",\"");
        pc_buf_add_json_str(&b, f->key, strlen(f->key));
        pc_buf_adds(&b, "\":");
        switch (f->type) {
        case 's':
            if (!f->s) {
                pc_buf_adds(&b, "null");
                break;
            }
            pc_buf_adds(&b, "\"");
            pc_buf_add_json_str(&b, f->s, strlen(f->s));
            pc_buf_adds(&b, "\"");
            break;
        case 'i':
            pc_buf_addf(&b, "%lld", (long long)f->i);
            break;
        default:
            pc_buf_addf(&b, "%.3f", f->f);
            break;
        }
    }
    pc_buf_adds(&b, "}\n");
    pthread_mutex_lock(&g_mu);
    size_t off = 0;
    while (b.p && off < b.len) {
        ssize_t n = write(STDERR_FILENO, b.p + off, b.len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    pthread_mutex_unlock(&g_mu);
    pc_buf_free(&b);
}
