/* roster/roster.h — a task's roster: import from the clerk's CSV (csvimport.h), single
 * amendments, both audited. Worker thread. */
#ifndef PC_ROSTER_ROSTER_H
#define PC_ROSTER_ROSTER_H

#include "core/ctx.h"
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
                     const char *data, size_t len, const char *ip, const char *request_id,
                     struct pc_roster_import_result *out, char *err, size_t errlen);

/* Adds a forgotten student (name and college required) or amends one: name, college,
 * class, seq, collected_offline. PC_EINVAL with field/message on bad input. */
int pc_roster_patch(struct pc_db *db, const struct pc_staff_auth *by, int64_t task_id,
                    const char *student_no, const cJSON *j, const char *ip, const char *request_id,
                    struct pc_roster_entry *out, bool *created, const char **field,
                    const char **message);

#endif
