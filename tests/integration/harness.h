/* tests/integration/harness.h — the real stack for integration tests: a throw-away
 * MariaDB (scripts/mariadb.sh, private datadir and socket, stopped by PID), the real
 * portraitd binary on a free loopback port with a fresh development CA, and an HTTPS
 * client (libcurl) that verifies the server certificate against that CA. */
#ifndef PC_TESTS_HARNESS_H
#define PC_TESTS_HARNESS_H

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/types.h>

struct h_db {
    char dir[256];
    char sock[300];
    char password[80];
};

struct h_srv {
    struct h_db *db;
    pid_t pid;
    int port;
    char dir[320];
    char conf[400];
    char log[400];
    char ca[400];
};

struct h_resp {
    long status;
    char *body;
    size_t len;
    char *headers; /* raw response headers */
};

/* The WeChat sandbox (tools/sandbox) on a free loopback port, HTTPS with the test CA. */
struct h_sandbox {
    pid_t pid;
    int port;
    char dir[320];
    char log[400];
    char base[64]; /* https://127.0.0.1:PORT */
};

/* Sleeps ms milliseconds (whole, through signals). For polling a state with a deadline, never
 * as a timing assertion. */
void h_msleep(long ms);

/* Work directory shared by one test binary (/tmp/pcit-XXXXXX), made on first use. */
const char *h_workdir(void);

/* Starts a private MariaDB in a fresh directory; asserts on failure. */
void h_db_start(struct h_db *db);
/* Stops it (data kept) / starts it again on the same data. */
void h_db_stop(struct h_db *db);
void h_db_restart(struct h_db *db);
/* Stops and deletes it. */
void h_db_destroy(struct h_db *db);
/* Runs one SQL statement as root on the portraitd database; returns the first column of
 * the first row as an integer (0 when there is none). */
long long h_db_int(struct h_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Adds a school (code, name) and its open centralized task (2,500 fen, class of 2024, open
 * from yesterday to tomorrow) whose feature code is feature; the school's id goes to *school
 * (may be NULL). Returns the task's id. */
long long h_db_task(struct h_db *db, const char *school_code, const char *school_name,
                    const char *feature, long long *school);

/* For tests that call domain code in-process: starts db, fills cfg (the caller's,
 * pc_config_free) with its socket and password, WeChat's demo appid and mchid, applies every
 * migration, and adds one school (code, name) with an open centralized task whose feature
 * code is feature; their ids go to *school and *task. */
struct pc_config;
void h_db_with_task(struct h_db *db, struct pc_config *cfg, const char *school_code,
                    const char *school_name, const char *feature, long long *school,
                    long long *task);

/* Runs a statement as root; returns the server error number (0 when it succeeded). */
unsigned h_db_try(struct h_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes a config for srv (extra: more INI lines, may be NULL), runs `portraitd migrate`
 * unless skip_migrate, starts `portraitd serve` and waits until /healthz answers. */
void h_srv_start(struct h_srv *srv, struct h_db *db, const char *extra, int skip_migrate);
/* Sends sig and waits for exit; returns the exit status (or 128+signal), or 99 when the
 * server log holds a sanitizer report. */
int h_srv_stop(struct h_srv *srv, int sig);
/* Runs `portraitd -c CONF ARGS` with stdin_text; returns the exit code; stdout into out. */
int h_srv_cli(struct h_srv *srv, const char *stdin_text, char *out, size_t outlen,
              const char *args);
/* Creates a staff account through the CLI; asserts success. */
void h_user_add(struct h_srv *srv, const char *username, const char *role, const char *password);
/* Whether a line of the text file path contains needle. */
bool h_file_has(const char *path, const char *needle);
/* Prints the last lines of the server log (on failure). */
void h_srv_dump_log(struct h_srv *srv);

/* One HTTPS request. headers: NULL-terminated "Name: value" list (may be NULL). */
void h_http(struct h_srv *srv, const char *method, const char *path, const char *const *headers,
            const void *body, size_t len, struct h_resp *out);
/* Like h_http but returns the libcurl error code instead of failing (0 = answered). */
int h_http_try(struct h_srv *srv, const char *method, const char *path, const char *const *headers,
               const void *body, size_t len, struct h_resp *out);
/* Shorthands: JSON body (Content-Type application/json), optional bearer token. */
void h_get(struct h_srv *srv, const char *path, const char *token, struct h_resp *out);
void h_post_json(struct h_srv *srv, const char *path, const char *token, const char *json,
                 struct h_resp *out);
/* Value of a response header (case-insensitive) copied into buf; NULL if absent. */
const char *h_header(const struct h_resp *r, const char *name, char *buf, size_t len);
/* Parses the body as JSON (asserts it is JSON); caller deletes. */
cJSON *h_json(const struct h_resp *r);
/* Asserts the API.md error shape with this status and code. */
void h_assert_error(const struct h_resp *r, long status, const char *code);
void h_resp_free(struct h_resp *r);
/* A JSON request with an optional bearer token (body may be NULL). */
void h_req_json(struct h_srv *srv, const char *method, const char *path, const char *token,
                const char *body, struct h_resp *out);
/* now + delta seconds as RFC 3339 at +08:00 ("2024-01-18T23:59:59+08:00"). */
void h_when(long delta, char *out, size_t len);
struct h_sandbox;
/* A student logged in through the sandbox as openid (token into token); with real_name,
 * the profile is completed too. Returns the user id. */
long long h_student(struct h_srv *srv, struct h_sandbox *sb, const char *openid,
                    const char *real_name, char *token, size_t len);

/* Group teardown of a stack: kills the server (when still running), stops the sandbox (when
 * given and running), destroys the database. Always 0. */
int h_stack_down(struct h_srv *srv, struct h_sandbox *sb, struct h_db *db);

/* A loopback TCP port that was free a moment ago (for configs that must name their port). */
int h_free_port(void);
/* Reads a small text file of the work directory (trailing newline trimmed) into buf. */
const char *h_read_text(const char *path, char *buf, size_t len);

/* Logs in and returns a token (static buffer per call site is the caller's). */
void h_login(struct h_srv *srv, const char *username, const char *password, char *token,
             size_t len);

/* Starts portraitd-sandbox with extra command-line arguments (may be NULL); waits until it
 * listens. The sandbox's app id and secret are H_APPID / H_SECRET. */
#define H_APPID     "wx8f3c2a1b0d4e5f60"
#define H_SECRET    "5f0c8e1d2b3a49c6a7d8e9f001122334"
#define H_CODES_KEY "c0dec0dec0dec0dec0dec0dec0dec0de0123456789abcdef0123456789abcdef"
void h_sandbox_start(struct h_sandbox *sb, const char *extra_args);
/* Stops it (SIGTERM) and returns its exit status (99 on a sanitizer report). */
int h_sandbox_stop(struct h_sandbox *sb);
/* Calls the sandbox: method, path (with query), JSON body or NULL. */
void h_sb_call(struct h_sandbox *sb, const char *method, const char *path, const char *json,
               struct h_resp *out);
/* Calls a control endpoint that must answer 200 and returns its JSON (caller deletes). */
cJSON *h_sb_json(struct h_sandbox *sb, const char *method, const char *path, const char *json);
/* INI lines pointing portraitd at the sandbox ([codes] key, then the [wechat] section last,
 * so that more [wechat] keys may follow), into buf. */
const char *h_sandbox_conf(const struct h_sandbox *sb, char *buf, size_t len);

/* ---- WeChat Pay for tests and benchmarks ---- */
/* Makes merchant and platform keys (scripts/gen-pay-keys.sh) in <workdir>/pay, once, and
 * writes into conf the [pay] section of a server that trusts them, calls the sandbox sb for
 * WeChat Pay and never sweeps on its own; returns conf. */
const char *h_pay_conf(const struct h_sandbox *sb, char *conf, size_t len);
/* A TRANSACTION.SUCCESS notification as WeChat Pay sends it: body encrypted with the APIv3
 * key and signed (timestamp now) with the platform key of h_pay_conf. */
struct h_pay_note {
    char *body;
    size_t len;
    char hdr[5][800]; /* Wechatpay-Serial, -Timestamp, -Nonce, -Signature, -Signature-Type */
};
void h_pay_note_make(struct h_pay_note *n, const char *notify_id, const char *out_trade_no,
                     const char *transaction_id, const char *openid, long amount_fen);
void h_pay_note_free(struct h_pay_note *n);
/* n unpaid orders "<prefix>%015d" (1..n, 25.00 each) of the student openid in task feature_code,
 * and notes[i] the notification "EV-<prefix>-<i>" paying order i + 1 (transaction id
 * "42<prefix digits>…"). */
void h_pay_orders_and_notes(struct h_db *db, const char *prefix, const char *openid,
                            const char *feature_code, int n, struct h_pay_note *notes);

/* Writes text to rel under srv's storage directory (directories made), last modified age_s
 * seconds ago: a file as storage/ would hold it. */
void h_storage_file(struct h_srv *srv, const char *rel, const char *text, long age_s);
/* A field of /proc/PID/status ("VmHWM:", "RssAnon:") in kB, or -1. */
long h_proc_kb(pid_t pid, const char *key);

/* A multipart/form-data upload of data as field "file" (with the given part Content-Type,
 * e.g. "image/jpeg") by method to path with a bearer token (may be NULL). */
void h_upload(struct h_srv *srv, const char *method, const char *path, const char *token,
              const void *data, size_t len, const char *part_type, struct h_resp *out);
/* The same without failing the test when the request gets no answer: returns 0 or the
 * transport's error (a CURLcode), for servers that may be gone. */
int h_upload_try(struct h_srv *srv, const char *method, const char *path, const char *token,
                 const void *data, size_t len, const char *part_type, struct h_resp *out);

/* WeChat Pay against the sandbox: the development keys of h_pay_conf (made once, in
 * <workdir>/pay), that path into paydir; the sandbox started with them (--pay-dir, the test CA for
 * the notify URLs) and extra arguments (may be NULL). */
void h_pay_sandbox_start(struct h_sandbox *sb, char *paydir, size_t len, const char *extra_args);
/* The [pay] section pointing portraitd at the sandbox's WeChat Pay with the keys of paydir and
 * the notify URLs of a server on port (none when 0), into buf (more [pay] keys may follow).
 * With platform_certs false the platform certificate is not configured (downloaded instead). */
const char *h_pay_conf_at(const struct h_sandbox *sb, const char *paydir, int port,
                          bool platform_certs, char *buf, size_t len);
/* A WeChat Pay notification body as WeChat sends it: plaintext encrypted with paydir's APIv3
 * key under associated_data original_type, in an envelope of id and event_type (malloc'd; the
 * caller frees). */
char *h_pay_envelope(const char *paydir, const char *id, const char *event_type,
                     const char *original_type, const char *plaintext);
/* POSTs body to path signed with paydir's platform key (its serial, now's timestamp); returns
 * the HTTP status. */
long h_pay_notify_post(struct h_srv *srv, const char *paydir, const char *path, const char *body);
/* The same signed with paydir/key_file under the Wechatpay-Serial serial. */
long h_pay_notify_post_as(struct h_srv *srv, const char *paydir, const char *path, const char *body,
                          const char *key_file, const char *serial);
/* A small text file of paydir (trailing newline trimmed) into buf. */
const char *h_pay_file(const char *paydir, const char *name, char *buf, size_t len);

#endif
