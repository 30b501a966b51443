/* base/json.c — cJSON helpers. See json.h. */
#include "base/json.h"

#include "base/timeutil.h"

void pc_json_add_time(cJSON *o, const char *key, const char *db_text)
{
    char t[32];
    if (db_text && db_text[0] && pc_time_db_to_api(db_text, t, sizeof t) == 0)
        cJSON_AddStringToObject(o, key, t);
    else
        cJSON_AddNullToObject(o, key);
}
