/* handlers/staff_tasks.c — GET /api/v1/staff/tasks: the tasks any staff member may pick in the
 * console (their school's; a reviewer assigned to one task sees that one), with the fields a
 * task picker needs. Admins manage tasks at /admin/tasks. */
#include "handlers/handlers.h"

#include "handlers/auth.h"
#include "tasks/tasks.h"

#include <stdlib.h>

#define MAX_TASKS 500

void h_staff_tasks(struct pc_req *r, struct pc_ctx *ctx)
{
    if (pc_auth_staff(r, ctx, 0))
        return;
    struct pc_task *ts = NULL;
    size_t n = 0;
    int rc = pc_task_list_pickable(ctx->db, pc_req_staff(r), MAX_TASKS, &ts, &n);
    if (rc) {
        pc_resp_from_err(r, ctx, rc);
        return;
    }
    cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < n; i++) {
        cJSON *t = pc_task_json(&ts[i], false);
        cJSON_AddNumberToObject(t, "school_id", (double)ts[i].school_id);
        cJSON_AddItemToArray(items, t);
    }
    free(ts);
    pc_resp_json(r, 200, o);
}
