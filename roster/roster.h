/* roster/roster.h — a task's roster: import from the clerk's CSV (csvimport.h), single
 * amendments, both audited. Worker thread. */
#ifndef PC_ROSTER_ROSTER_H
#define PC_ROSTER_ROSTER_H

#include "core/ctx.h"
#include "base/buf.h"
#include "store/roster.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define PC_ROSTER_MAX_ROWS 50000

struct pc_roster_import_result {
    int imported;    /* new students */
    int updated;     /* students already there (their data refreshed) */
    cJSON *rejected; /* [{"line","reason"}], caller deletes */
    char encoding[16];
};

/* Parses data and upserts every good row in one transaction (re-importing updates rather
 * than duplicates). PC_EINVAL / PC_ETOOBIG refuse the whole file (reason in err). */
int pc_roster_import(struct pc_db *db, const struct pc_staff_auth *by, int64_t task_id,
                     int64_t school_id, const char *data, size_t len, const char *ip,
                     const char *request_id, struct pc_roster_import_result *out, char *err,
                     size_t errlen);

/* Who reads a task's roster, which part, and from where (the read is audited). */
struct pc_roster_reader {
    const struct pc_staff_auth *by;
    int64_t task_id, school_id;
    const char *college, *state; /* filters; NULL = any */
    const char *ip, *request_id;
};

/* Roster entries of rd's task with their progress state, ordered by id after after_id; limit
 * 0 = all. *items (the caller's) is a JSON array of {seq, college, name, student_no, class,
 * state, order_no, collected_offline}; *last_id the last entry's id. The read is audited
 * ("roster.read": the student numbers shown). Returns 0 or a store error (nothing then). */
int pc_roster_list(struct pc_db *db, const struct pc_roster_reader *rd, int64_t after_id, int limit,
                   cJSON **items, int64_t *last_id);
/* The same entries (all of them) as a CSV for Excel into b: UTF-8 with a BOM, header
 * 序号,学院,姓名,学号,班级,状态,订单号, CRLF rows; audited with the number of rows. Returns 0,
 * PC_ETOOBIG (b cannot hold them all: never a cut file) or a store error. */
int pc_roster_csv(struct pc_db *db, const struct pc_roster_reader *rd, struct pc_buf *b);
/* Progress counts of a task's roster (college NULL = all) into *out (the caller's):
 * {"total","by_state":{...},"colleges":[{"college","total","by_state"}]}. Returns 0 or a store
 * error. */
int pc_roster_stats(struct pc_db *db, int64_t task_id, const char *college, cJSON **out);

/* Adds a forgotten student (name and college required) or amends one: name, college,
 * class, seq, collected_offline, with its audit row in one transaction. PC_EINVAL with
 * field/message on bad input. */
int pc_roster_patch(struct pc_db *db, const struct pc_staff_auth *by, int64_t task_id,
                    int64_t school_id, const char *student_no, const cJSON *j, const char *ip,
                    const char *request_id, struct pc_roster_entry *out, bool *created,
                    const char **field, const char **message);

#endif
