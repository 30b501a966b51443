/* handlers/export.c — GET /admin/tasks/{id}/export.zip (admin): the approved standard photos,
 * manifest.csv and errors.csv, streamed from a temporary file (export/). */
#include "handlers/handlers.h"

#include "base/err.h"
#include "export/export.h"
#include "handlers/auth.h"
#include "staff/staff.h"
#include "tasks/tasks.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void h_admin_task_export(struct pc_req *r, struct pc_ctx *ctx)
{
    struct pc_task t;
    if (pc_auth_staff(r, ctx, PC_ROLE_ADMIN) || pc_h_task_for_staff(r, ctx, PC_ROLE_ADMIN, &t))
        return;
    const char *group = pc_req_query(r, "group");
    if (group && strcmp(group, "college") && strcmp(group, "none")) {
        pc_resp_invalid(r, "group", "group 应为 college 或 none");
        return;
    }
    struct pc_export_result res;
    int rc = pc_export_task_zip(ctx->db, ctx->cfg, t.id, group && !strcmp(group, "college"), &res);
    if (rc == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "photos", (double)res.photos);
        cJSON_AddNumberToObject(d, "errors", (double)res.errors);
        cJSON_AddNumberToObject(d, "bytes", (double)res.len);
        rc = pc_staff_audit(ctx->db, pc_req_staff(r), t.school_id, "task.export", "task", t.id, d,
                            pc_req_client_ip(r), pc_req_id(r));
        cJSON_Delete(d);
        if (rc)
            close(res.fd);
    }
    if (rc) { /* PC_ETOOBIG: never a zip with a cut list */
        pc_h_export_failed(r, ctx, rc);
        return;
    }
    char name[64];
    snprintf(name, sizeof name, "task-%lld-photos.zip", (long long)t.id);
    pc_resp_file(r, 200, "application/zip", res.fd, res.len);
    pc_h_attachment(r, name);
}
