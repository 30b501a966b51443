/* handlers/health.c — GET /healthz, /readyz and /metrics. */
#include "handlers/handlers.h"

#include "base/buf.h"
#include "base/err.h"
#include "base/stats.h"
#include "handlers/auth.h"
#include "config/config.h"
#include "server/server.h"
#include "store/db.h"
#include "store/migrate.h"

#include <stdio.h>

/* Loop thread: the process is up. */
void h_healthz(struct pc_req *r, struct pc_ctx *ctx)
{
    (void)ctx;
    static const char body[] = "{\"status\":\"ok\"}";
    pc_resp_raw(r, 200, "application/json; charset=utf-8", body, sizeof body - 1);
}

/* Worker: the database answers and every migration is applied. */
void h_readyz(struct pc_req *r, struct pc_ctx *ctx)
{
    int current = 0, complete = 0;
    int rc = pc_db_ensure(ctx->db);
    if (rc == 0)
        rc = pc_migrate_status(ctx->db, &current, &complete);
    if (rc == 0 && complete) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "ready");
        cJSON_AddNumberToObject(o, "schema_version", current);
        pc_resp_json(r, 200, o);
        return;
    }
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "database", rc == 0 ? "ok" : "unreachable");
    cJSON_AddNumberToObject(d, "schema_version", current);
    cJSON_AddNumberToObject(d, "schema_expected", pc_migrate_latest());
    char ra[16];
    snprintf(ra, sizeof ra, "%d", ctx->cfg->db_retry_after_s);
    pc_resp_header(r, "Retry-After", ra);
    pc_resp_error(r, 503, "NOT_READY",
                  rc == 0 ? "数据库结构未更新，请先执行迁移" : "数据库暂时不可用", d);
}

/* Worker: Prometheus text exposition, for clients in server.metrics_allow or any staff member. */
void h_metrics(struct pc_req *r, struct pc_ctx *ctx)
{
    if (!pc_req_metrics_allowed(r) && pc_auth_staff(r, ctx, 0) != 0)
        return;
    struct pc_buf b;
    pc_buf_init(&b, 64u << 20);
    pc_server_render_metrics(pc_req_server(r), &b);
    pc_stats_render(&b); /* jobs, retention, limits, platform certificates (base/stats.h) */
    pc_resp_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.p ? b.p : "", b.len);
    pc_buf_free(&b);
}
