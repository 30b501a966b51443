/* review/review.c — review decisions (rules). See review.h. */
#include "review/review.h"

#include "base/err.h"
#include "orders/orders.h"
#include "staff/staff.h"
#include "tasks/tasks.h"
#include "store/audit.h"
#include "store/orders.h"
#include "store/outbox.h"
#include "store/tasks.h"

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
    return pc_task_in_scope(s, school_id) && (s->task_id == 0 || s->task_id == task_id);
}

struct decide_args {
    const struct pc_staff_auth *by;
    const char *order_no, *ip, *rid;
    const struct pc_review_decision *d;
    enum pc_review_outcome *outcome;
    struct pc_order *o;
};

/* The student's message, queued with the decision: delivered later by the outbox worker. */
static cJSON *notice_payload(const struct pc_order *o, int64_t review_id)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "event", o->review_decision[0] == 'a' ? "approved" : "rejected");
    cJSON_AddStringToObject(p, "order_no", o->order_no);
    cJSON_AddNumberToObject(p, "user_id", (double)o->user_id);
    cJSON_AddStringToObject(p, "openid", o->openid);
    cJSON_AddNumberToObject(p, "review_id", (double)review_id);
    cJSON_AddStringToObject(p, "student_name", o->student_name);
    if (o->review_code[0]) {
        cJSON_AddStringToObject(p, "reason_code", o->review_code);
        cJSON_AddStringToObject(p, "reason", o->review_reason);
    }
    cJSON *order = pc_order_json(o);
    cJSON *eu = cJSON_DetachItemFromObjectCaseSensitive(order, "editable_until");
    cJSON_AddItemToObject(p, "editable_until", eu);
    if (o->editable_until[0])
        cJSON_AddStringToObject(p, "editable_until_db", o->editable_until);
    cJSON_Delete(order);
    return p;
}

static int decide_tx(struct pc_db *db, void *arg)
{
    struct decide_args *a = arg;
    struct pc_task t;
    int rc = pc_store_order_get_locked(db, a->order_no, a->o);
    if (rc == 0 && !pc_review_in_scope(a->by, a->o->school_id, a->o->task_id))
        rc = PC_ENOTFOUND;
    if (rc == PC_ENOTFOUND) {
        *a->outcome = PC_REVIEW_NOT_FOUND;
        return 0;
    }
    if (rc)
        return rc;
    if (strcmp(a->o->status, "pending_review") != 0) {
        *a->outcome = PC_REVIEW_STATE;
        return 0;
    }
    rc = pc_store_task_get(db, a->o->task_id, false, &t);
    if (rc)
        return rc;
    const struct pc_review_reason *why = a->d->approve ? NULL : pc_review_reason(a->d->reason_code);
    const char *text = !why                                                         ? NULL
                       : !strcmp(why->code, "OTHER") && a->d->note && a->d->note[0] ? a->d->note
                                                                                    : why->text;
    int64_t review_id = 0;
    rc = pc_store_order_status_reviewed(db, a->o->id, a->d->approve,
                                        t.edit_days > 0 ? t.edit_days : 7);
    if (rc == 0)
        rc = pc_store_review_insert(db, a->o->id, a->by->id, a->d->approve ? "approve" : "reject",
                                    why ? why->code : NULL, text, a->d->note, &review_id);
    if (rc == 0)
        rc = pc_store_order_get(db, a->order_no, a->o);
    if (rc)
        return rc;
    char key[64];
    snprintf(key, sizeof key, "review:%lld", (long long)review_id);
    cJSON *payload = notice_payload(a->o, review_id);
    rc = pc_store_outbox_insert(db, "student.notice", key, payload);
    cJSON_Delete(payload);
    if (rc == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "order_no", a->o->order_no);
        cJSON_AddStringToObject(d, "decision", a->d->approve ? "approve" : "reject");
        if (why)
            cJSON_AddStringToObject(d, "reason_code", why->code);
        rc = pc_staff_audit(db, a->by, a->d->approve ? "review.approve" : "review.reject", "order",
                            a->o->id, d, a->ip, a->rid);
        cJSON_Delete(d);
    }
    *a->outcome = PC_REVIEW_OK;
    return rc;
}

int pc_review_decide(struct pc_db *db, const struct pc_staff_auth *by, const char *order_no,
                     const struct pc_review_decision *d, const char *ip, const char *request_id,
                     enum pc_review_outcome *outcome, struct pc_order *o)
{
    struct decide_args a = {by, order_no, ip, request_id, d, outcome, o};
    return pc_db_tx(db, decide_tx, &a);
}
