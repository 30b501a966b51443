/* store/migrate.h — numbered SQL migrations (schema/NNN_name.sql), embedded in the
 * binary at build time and applied in order by `portraitd migrate`.
 *
 * Applied versions are recorded in schema_migrations with the SHA-256 of their text;
 * a second run is a no-op, and an applied migration whose text changed is an error.
 * Concurrent runners serialise on a named lock (GET_LOCK). Worker or main thread. */
#ifndef PC_STORE_MIGRATE_H
#define PC_STORE_MIGRATE_H

#include <stddef.h>

struct pc_db;

struct pc_migration {
    int version;
    const char *name;
    const char *sql;
    size_t len;
};

extern const struct pc_migration pc_migrations[];
extern const size_t pc_migrations_count;

/* Version of the newest embedded migration. */
int pc_migrate_latest(void);
/* Applies every missing migration. *applied receives how many ran (may be NULL).
 * 0, PC_EDBDOWN, PC_ECONFLICT (an applied migration's text changed) or PC_EDB. */
int pc_migrate_run(struct pc_db *db, int *applied);
/* Reads the applied state: *current = highest applied version (0 if none) and
 * *complete = 1 when every embedded migration is applied. 0 or PC_EDBDOWN/PC_EDB. */
int pc_migrate_status(struct pc_db *db, int *current, int *complete);
/* Splits migration text into statements: calls fn for each (text without the final ';').
 * A statement ends at a ';' that ends a line; lines starting with "--" are comments.
 * Pure; exposed for unit tests. Returns fn's first non-zero result, else 0. */
int pc_migrate_split(const char *sql, size_t len, int (*fn)(const char *, size_t, void *),
                     void *arg);

#endif
