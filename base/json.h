/* base/json.h — small cJSON helpers shared by the modules that render API objects.
 * Pure; any thread. */
#ifndef PC_BASE_JSON_H
#define PC_BASE_JSON_H

#include <cjson/cJSON.h>

/* Adds key: the database DATETIME text db_text as RFC 3339 at +08:00, or null when db_text
 * is NULL, empty or unreadable. */
void pc_json_add_time(cJSON *o, const char *key, const char *db_text);

#endif
