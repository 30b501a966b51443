/* review/review.c — review decisions (rules). See review.h. */
#include "review/review.h"

#include "base/alloc.h"
#include "base/err.h"
#include "orders/orders.h"
#include "orders/state.h"
#include "staff/scope.h"
#include "staff/staff.h"
#include "tasks/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The notice's photo rules, as a reviewer names them and a student reads them. */
static const struct pc_review_reason g_reasons[] = {
    {"BACKGROUND", "背景不符合要求，请在浅蓝色纯色背景前重拍"},
    {"GLASSES_GLARE", "眼镜反光遮挡眼睛，请调整角度或摘下眼镜后重拍"},
    {"TINTED_LENSES", "请勿佩戴有色眼镜或美瞳，摘下后重拍"},
    {"FRINGE_COVERS_BROWS", "刘海遮挡额头或眉毛，请整理头发，露出额头和眉毛后重拍"},
    {"HAIR_COVERS_EARS", "头发遮挡耳朵，请露出双耳后重拍"},
    {"JEWELLERY", "请摘下耳环、项链等饰品后重拍"},
    {"MAKEUP", "请勿浓妆，以日常淡妆或素颜重拍"},
    {"CLOTHING", "服装颜色与背景接近或有图案，请换穿与背景反差明显的纯色有领上衣后重拍"},
    {"POSTURE", "姿势不端正，请正对镜头坐直、头部居中后重拍"},
    {"EXPRESSION", "表情不自然，请双眼平视镜头、嘴巴自然闭合后重拍"},
    {"BLURRY", "照片模糊，请在光线充足处保持相机稳定后重拍"},
    {"ENROLLMENT_PHOTO_REUSED", "不得使用入学照片，请拍摄近期正面免冠照片"},
    {"NOT_THE_STUDENT", "照片非本人，请本人重新拍摄"},
    {"OTHER", "照片不符合要求，请按审核意见重拍"},
};

const struct pc_review_reason *pc_review_reason(const char *code)
{
    for (size_t i = 0; code && i < sizeof g_reasons / sizeof g_reasons[0]; i++)
        if (!strcmp(code, g_reasons[i].code))
            return &g_reasons[i];
    return NULL;
}

cJSON *pc_review_reasons_json(void)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < sizeof g_reasons / sizeof g_reasons[0]; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", g_reasons[i].code);
        cJSON_AddStringToObject(o, "text", g_reasons[i].text);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

bool pc_review_in_scope(const struct pc_staff_auth *s, int64_t school_id, int64_t task_id)
{
    return pc_staff_may(s, PC_ROLE_REVIEWER, school_id, task_id);
}

int pc_review_decide(struct pc_db *db, const struct pc_staff_auth *by, const char *order_no,
                     const struct pc_review_decision *d, const char *ip, const char *request_id,
                     enum pc_review_outcome *outcome, struct pc_order *o)
{
    /* An order's school and task never change: its scope is checked before the transition. */
    int rc = pc_order_get(db, order_no, o);
    if (rc == 0 && !pc_review_in_scope(by, o->school_id, o->task_id))
        rc = PC_ENOTFOUND;
    if (rc == PC_ENOTFOUND) {
        *outcome = PC_REVIEW_NOT_FOUND;
        return 0;
    }
    if (rc)
        return rc;
    const struct pc_review_reason *why = d->approve ? NULL : pc_review_reason(d->reason_code);
    struct pc_order_review rv = {.by = by,
                                 .reason_code = why ? why->code : NULL,
                                 .reason = !why ? NULL
                                           : !strcmp(why->code, "OTHER") && d->note && d->note[0]
                                               ? d->note
                                               : why->text,
                                 .note = d->note,
                                 .ip = ip,
                                 .request_id = request_id};
    enum pc_order_change ch;
    rc = d->approve ? pc_order_approved(db, order_no, &rv, &ch, o)
                    : pc_order_rejected(db, order_no, &rv, &ch, o);
    *outcome = ch == PC_ORDER_CHANGED     ? PC_REVIEW_OK
               : ch == PC_ORDER_NOT_FOUND ? PC_REVIEW_NOT_FOUND
                                          : PC_REVIEW_STATE;
    return rc;
}

int pc_review_queue(struct pc_db *db, const struct pc_staff_auth *by, int64_t task_id,
                    int64_t after_id, int limit, const char *ip, const char *request_id,
                    struct pc_order **out, size_t *n)
{
    struct pc_scope scope;
    pc_staff_scope(by, PC_ROLE_REVIEWER, &scope);
    int rc = pc_order_list_pending(db, &scope, task_id, after_id, limit, out, n);
    if (rc)
        return rc;
    /* The queue shows names and student numbers: the read is audited before it is answered. */
    struct pc_read_item *items = pc_xcalloc(*n ? *n : 1, sizeof *items);
    for (size_t i = 0; i < *n; i++)
        items[i] = (struct pc_read_item){(*out)[i].school_id, (*out)[i].order_no};
    cJSON *d = cJSON_CreateObject();
    if (task_id)
        cJSON_AddNumberToObject(d, "task_id", (double)task_id);
    rc = pc_staff_audit_read(db, by, "review.queue_read", "task", task_id, d, items, *n, ip,
                             request_id);
    cJSON_Delete(d);
    free(items);
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}
