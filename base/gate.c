/* base/gate.c — the image gate: a counter under a mutex, a condition to wait on (base/gate.h). */
#include "base/gate.h"

#include "base/err.h"
#include "base/stats.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER; /* CLOCK_REALTIME: waits are short */
static int g_capacity;                                 /* 0 = no cap */
static int g_busy;

static struct pc_stat g_active =
    PC_STAT_INIT("portraitd_image_work_active", "gauge", NULL,
                 "Image decodes (photo checks and uploads, QR codes) running now.", 0);
static struct pc_stat g_waiting = PC_STAT_INIT("portraitd_image_work_waiting", "gauge", NULL,
                                               "Requests waiting for an image slot.", 0);
static struct pc_stat g_refused = PC_STAT_INIT(
    "portraitd_image_work_refused_total", "counter", NULL,
    "Requests answered 503 because no image slot freed up within limits.image_wait_ms.", 0);

void pc_image_gate_set(int capacity)
{
    pthread_mutex_lock(&g_mu);
    g_capacity = capacity > 0 ? capacity : 0;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

int pc_image_gate_enter(int wait_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    pthread_mutex_lock(&g_mu);
    if (g_capacity && g_busy >= g_capacity) {
        pc_stat_add(&g_waiting, 1);
        while (rc != ETIMEDOUT && g_capacity && g_busy >= g_capacity)
            rc = pthread_cond_timedwait(&g_cv, &g_mu, &until);
        pc_stat_add(&g_waiting, -1);
    }
    int ok = !g_capacity || g_busy < g_capacity;
    if (ok)
        g_busy++;
    pthread_mutex_unlock(&g_mu);
    if (!ok) {
        pc_stat_add(&g_refused, 1);
        return PC_EBUSY;
    }
    pc_stat_add(&g_active, 1);
    return 0;
}

void pc_image_gate_leave(void)
{
    pthread_mutex_lock(&g_mu);
    if (g_busy > 0)
        g_busy--;
    pthread_cond_signal(&g_cv);
    pthread_mutex_unlock(&g_mu);
    pc_stat_add(&g_active, -1);
}
