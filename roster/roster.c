/* roster/roster.c — roster import and amendments (rules); SQL in store/tasks.c. */
#include "roster/roster.h"

#include "base/alloc.h"
#include "base/err.h"
#include "roster/csvimport.h"
#include "staff/staff.h"
#include "users/users.h"
#include "store/audit.h"
#include "store/roster.h"
#include "store/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct import_args {
    const struct pc_staff_auth *by;
    int64_t task_id, school_id;
    const struct pc_roster_parse *p;
    const char *ip, *rid;
    int imported, updated;
};

static int import_tx(struct pc_db *db, void *arg)
{
    struct import_args *a = arg;
    a->imported = a->updated = 0;
    for (size_t i = 0; i < a->p->nrows; i++) {
        const struct pc_roster_row *row = &a->p->rows[i];
        struct pc_roster_entry r = {0};
        r.seq = row->seq;
        snprintf(r.college, sizeof r.college, "%s", row->college);
        snprintf(r.name, sizeof r.name, "%s", row->name);
        snprintf(r.student_no, sizeof r.student_no, "%s", row->student_no);
        snprintf(r.class_name, sizeof r.class_name, "%s", row->class_name);
        snprintf(r.id_masked, sizeof r.id_masked, "%s", row->id_masked);
        r.collected = row->collected;
        int outcome = 0;
        int rc = pc_store_roster_upsert(db, a->task_id, &r, &outcome);
        if (rc)
            return rc;
        if (outcome == 1)
            a->imported++;
        else
            a->updated++;
    }
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "imported", a->imported);
    cJSON_AddNumberToObject(d, "updated", a->updated);
    cJSON_AddNumberToObject(d, "rejected", (double)a->p->nerrors);
    cJSON_AddStringToObject(d, "encoding", a->p->encoding);
    int rc = pc_staff_audit(db, a->by, a->school_id, "roster.import", "task", a->task_id, d, a->ip,
                            a->rid);
    cJSON_Delete(d);
    return rc;
}

int pc_roster_import(struct pc_db *db, const struct pc_staff_auth *by, int64_t task_id,
                     int64_t school_id, const char *data, size_t len, const char *ip,
                     const char *request_id, struct pc_roster_import_result *out, char *err,
                     size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct pc_roster_parse p;
    int rc = pc_roster_parse(data, len, PC_ROSTER_MAX_ROWS, &p, err, errlen);
    if (rc)
        return rc;
    struct import_args a = {by, task_id, school_id, &p, ip, request_id, 0, 0};
    rc = pc_db_tx(db, import_tx, &a);
    if (rc == 0) {
        out->imported = a.imported;
        out->updated = a.updated;
        snprintf(out->encoding, sizeof out->encoding, "%s", p.encoding);
        out->rejected = cJSON_CreateArray();
        for (size_t i = 0; i < p.nerrors; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "line", (double)p.errors[i].line);
            cJSON_AddStringToObject(e, "reason", p.errors[i].reason);
            cJSON_AddItemToArray(out->rejected, e);
        }
    }
    pc_roster_parse_free(&p);
    return rc;
}

static int text_field(const cJSON *j, const char *key, char *dst, size_t len, bool name_rules,
                      const char **field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v)
        return 0;
    char tmp[160];
    bool ok =
        cJSON_IsString(v) && (name_rules ? pc_user_name_valid(v->valuestring, tmp, sizeof tmp)
                                         : pc_user_nickname_valid(v->valuestring, tmp, sizeof tmp));
    if (!ok || (!tmp[0] && strcmp(key, "class")) || strlen(tmp) >= len) {
        *field = key;
        return PC_EINVAL;
    }
    snprintf(dst, len, "%s", tmp);
    return 0;
}

struct amend_args {
    const struct pc_staff_auth *by;
    int64_t task_id, school_id;
    const char *student_no;
    const cJSON *j;
    const char *ip, *rid;
    struct pc_roster_entry *out;
    bool created;
};

/* The amendment and its audit row, one transaction. */
static int amend_tx(struct pc_db *db, void *arg)
{
    struct amend_args *a = arg;
    int outcome;
    int rc = pc_store_roster_upsert(db, a->task_id, a->out, &outcome);
    if (rc == 0)
        rc = pc_store_roster_get(db, a->task_id, a->student_no, a->out);
    if (rc == 0) {
        cJSON *d = cJSON_Duplicate(a->j, 1);
        cJSON_AddStringToObject(d, "student_no", a->student_no);
        cJSON_AddBoolToObject(d, "created", a->created);
        rc = pc_staff_audit(db, a->by, a->school_id, "roster.amend", "task", a->task_id, d, a->ip,
                            a->rid);
        cJSON_Delete(d);
    }
    return rc;
}

int pc_roster_patch(struct pc_db *db, const struct pc_staff_auth *by, int64_t task_id,
                    int64_t school_id, const char *student_no, const cJSON *j, const char *ip,
                    const char *request_id, struct pc_roster_entry *out, bool *created,
                    const char **field, const char **message)
{
    *field = NULL;
    *message = "参数不正确";
    size_t n = strlen(student_no);
    bool sno_ok = n >= 1 && n <= 32;
    for (size_t i = 0; sno_ok && i < n; i++) {
        char c = student_no[i];
        sno_ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }
    if (!sno_ok)
        return *field = "student_no", *message = "学号为 1–32 位字母或数字", PC_EINVAL;
    int rc = pc_store_roster_get(db, task_id, student_no, out);
    if (rc && rc != PC_ENOTFOUND)
        return rc;
    *created = rc == PC_ENOTFOUND;
    if (*created) {
        memset(out, 0, sizeof *out);
        snprintf(out->student_no, sizeof out->student_no, "%s", student_no);
        if (!cJSON_GetObjectItemCaseSensitive(j, "name") ||
            !cJSON_GetObjectItemCaseSensitive(j, "college"))
            return *field = "name", *message = "新增学生需要姓名和学院", PC_EINVAL;
    }
    out->collected = -1;
    if (text_field(j, "name", out->name, sizeof out->name, true, field))
        return *message = "姓名不正确", PC_EINVAL;
    if (text_field(j, "college", out->college, sizeof out->college, false, field))
        return *message = "学院不能为空", PC_EINVAL;
    if (text_field(j, "class", out->class_name, sizeof out->class_name, false, field))
        return *message = "班级不正确", PC_EINVAL;
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq");
    if (seq) {
        if (!cJSON_IsNumber(seq) || seq->valuedouble < 0 || seq->valuedouble > 1e7)
            return *field = "seq", *message = "序号应为非负整数", PC_EINVAL;
        out->seq = seq->valueint;
    }
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(j, "collected_offline");
    if (off) {
        if (!cJSON_IsBool(off))
            return *field = "collected_offline", *message = "collected_offline 应为 true 或 false",
                   PC_EINVAL;
        out->collected = cJSON_IsTrue(off) ? 1 : 0;
    }
    struct amend_args a = {by, task_id, school_id, student_no, j, ip, request_id, out, *created};
    return pc_db_tx(db, amend_tx, &a);
}

/* Audits a read of roster rows (names, student numbers) of a task. */
static int audit_roster_read(struct pc_db *db, const struct pc_roster_reader *rd, const char *what,
                             const cJSON *items, size_t rows)
{
    size_t n = items ? (size_t)cJSON_GetArraySize(items) : rows;
    struct pc_read_item *ri = pc_xcalloc(n ? n : 1, sizeof *ri);
    size_t k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        const cJSON *no = cJSON_GetObjectItem(it, "student_no");
        ri[k++] = (struct pc_read_item){rd->school_id, cJSON_IsString(no) ? no->valuestring : NULL};
    }
    for (; k < n; k++) /* a file: counted, not named */
        ri[k] = (struct pc_read_item){rd->school_id, NULL};
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "format", what);
    if (rd->college)
        cJSON_AddStringToObject(d, "college", rd->college);
    if (rd->state)
        cJSON_AddStringToObject(d, "state", rd->state);
    int rc = pc_staff_audit_read(db, rd->by, "roster.read", "task", rd->task_id, d, ri, n, rd->ip,
                                 rd->request_id);
    cJSON_Delete(d);
    free(ri);
    return rc;
}

int pc_roster_list(struct pc_db *db, const struct pc_roster_reader *rd, int64_t after_id, int limit,
                   cJSON **items, int64_t *last_id)
{
    int rc = pc_store_roster_list(db, rd->task_id, rd->college, rd->state, after_id, limit, items,
                                  last_id);
    if (rc == 0)
        rc = audit_roster_read(db, rd, "json", *items, 0);
    if (rc) {
        cJSON_Delete(*items);
        *items = NULL;
    }
    return rc;
}

int pc_roster_csv(struct pc_db *db, const struct pc_roster_reader *rd, struct pc_buf *b)
{
    cJSON *items = NULL;
    int64_t last = 0;
    int rc = pc_store_roster_list(db, rd->task_id, rd->college, rd->state, 0, 0, &items, &last);
    if (rc)
        return rc;
    rc = pc_buf_adds(b, "\xef\xbb\xbf序号,学院,姓名,学号,班级,状态,订单号\r\n");
    cJSON *it;
    size_t rows = 0;
    cJSON_ArrayForEach(it, items)
    {
        const cJSON *seq = cJSON_GetObjectItem(it, "seq");
        if (rc == 0 && cJSON_IsNumber(seq))
            rc = pc_buf_addf(b, "%d", seq->valueint);
        static const char *const cols[] = {"college", "name",  "student_no",
                                           "class",   "state", "order_no"};
        if (rc == 0)
            rc = pc_buf_adds(b, ",");
        for (size_t k = 0; rc == 0 && k < 6; k++) {
            const cJSON *v = cJSON_GetObjectItem(it, cols[k]);
            rc = pc_buf_add_csv_cell(b, cJSON_IsString(v) ? v->valuestring : "", k == 5);
        }
        rows++;
    }
    cJSON_Delete(items);
    if (rc == 0)
        rc = audit_roster_read(db, rd, "csv", NULL, rows);
    return rc;
}

int pc_roster_stats(struct pc_db *db, int64_t task_id, const char *college, cJSON **out)
{
    return pc_store_roster_stats(db, task_id, college, out);
}
