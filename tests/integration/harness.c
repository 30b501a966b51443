/* tests/integration/harness.c — real MariaDB + real portraitd + libcurl client. */
#include "harness.h"

#include "config/config.h"
#include "payment/wxpay_crypto.h"
#include "store/db.h"
#include "store/migrate.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static char g_workdir[256];
static int g_srv_seq;

void h_msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static void cleanup_workdir(void)
{
    if (g_workdir[0] && !getenv("PC_KEEP_TEST_DIRS")) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_workdir);
        if (system(cmd) != 0)
            fprintf(stderr, "harness: could not remove %s\n", g_workdir);
    }
}

const char *h_workdir(void)
{
    if (!g_workdir[0]) {
        snprintf(g_workdir, sizeof g_workdir, "/tmp/pcit-XXXXXX");
        if (!mkdtemp(g_workdir))
            fail_msg("mkdtemp: %s", strerror(errno));
        atexit(cleanup_workdir);
        curl_global_init(CURL_GLOBAL_DEFAULT);
    }
    return g_workdir;
}

/* Runs a shell command; returns its exit code; stdout (trimmed) into out. */
static int run(const char *cmd, const char *stdin_text, char *out, size_t outlen)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/cmd.in", h_workdir());
    FILE *in = fopen(tmp, "w");
    if (in) {
        fputs(stdin_text ? stdin_text : "", in);
        fclose(in);
    }
    char full[2048];
    snprintf(full, sizeof full, "%s < '%s'", cmd, tmp);
    FILE *p = popen(full, "r");
    if (!p)
        return -1;
    size_t n = 0;
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, p)) > 0) {
        if (out && n + 1 < outlen) {
            size_t c = got < outlen - 1 - n ? got : outlen - 1 - n;
            memcpy(out + n, buf, c);
            n += c;
        }
    }
    if (out && outlen) {
        while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
            n--;
        out[n] = '\0';
    }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void h_db_start(struct h_db *db)
{
    memset(db, 0, sizeof *db);
    snprintf(db->dir, sizeof db->dir, "%s/db", h_workdir());
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s/scripts/mariadb.sh' start '%s'", PC_SOURCE_DIR, db->dir);
    int rc = run(cmd, NULL, db->sock, sizeof db->sock);
    if (rc != 0)
        fail_msg("mariadb.sh start failed (%d)", rc);
    char pwfile[400];
    snprintf(pwfile, sizeof pwfile, "%s/db.password", db->dir);
    FILE *f = fopen(pwfile, "r");
    assert_non_null(f);
    assert_non_null(fgets(db->password, sizeof db->password, f));
    db->password[strcspn(db->password, "\n")] = '\0';
    fclose(f);
}

void h_db_stop(struct h_db *db)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s/scripts/mariadb.sh' stop '%s'", PC_SOURCE_DIR, db->dir);
    assert_int_equal(run(cmd, NULL, NULL, 0), 0);
}

void h_db_restart(struct h_db *db)
{
    char cmd[512], sock[300];
    snprintf(cmd, sizeof cmd, "'%s/scripts/mariadb.sh' start '%s'", PC_SOURCE_DIR, db->dir);
    assert_int_equal(run(cmd, NULL, sock, sizeof sock), 0);
}

void h_db_destroy(struct h_db *db)
{
    if (db->dir[0])
        h_db_stop(db);
}

long long h_db_task(struct h_db *db, const char *school_code, const char *school_name,
                    const char *feature, long long *school)
{
    h_db_int(db, "INSERT INTO schools (code, name) VALUES ('%s', '%s')", school_code, school_name);
    long long sid = h_db_int(db, "SELECT id FROM schools WHERE code='%s'", school_code);
    if (school)
        *school = sid;
    h_db_int(db,
             "INSERT INTO tasks (school_id, name, collection_type, feature_code, "
             "feature_code_norm, opens_at, closes_at, price_fen, grad_year) VALUES (%lld, '采集', "
             "'centralized', '%s', '%s', UTC_TIMESTAMP() - INTERVAL 1 DAY, "
             "UTC_TIMESTAMP() + INTERVAL 1 DAY, 2500, 2024)",
             sid, feature, feature);
    return h_db_int(db, "SELECT id FROM tasks WHERE feature_code_norm='%s'", feature);
}

void h_db_with_task(struct h_db *db, struct pc_config *cfg, const char *school_code,
                    const char *school_name, const char *feature, long long *school,
                    long long *task)
{
    char err[200];
    h_db_start(db);
    pc_config_defaults(cfg);
    assert_int_equal(pc_config_set(cfg, "db", "socket", db->sock, err, sizeof err), 0);
    assert_int_equal(pc_config_set(cfg, "db", "password", db->password, err, sizeof err), 0);
    assert_int_equal(pc_config_set(cfg, "wechat", "appid", "wx8f3c2a1b0d4e5f60", err, sizeof err),
                     0);
    assert_int_equal(pc_config_set(cfg, "pay", "mchid", "1900000109", err, sizeof err), 0);
    struct pc_db *pdb = pc_db_new(cfg);
    int applied = 0;
    assert_int_equal(pc_migrate_run(pdb, &applied), 0);
    pc_db_free(pdb);
    *task = h_db_task(db, school_code, school_name, feature, school);
}

static MYSQL *root_conn(struct h_db *db)
{
    MYSQL *my = mysql_init(NULL);
    unsigned proto = MYSQL_PROTOCOL_SOCKET;
    mysql_options(my, MYSQL_OPT_PROTOCOL, &proto);
    if (!mysql_real_connect(my, "localhost", "root", NULL, "portraitd", 0, db->sock, 0))
        fail_msg("connect as root: %s", mysql_error(my));
    return my;
}

unsigned h_db_try(struct h_db *db, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    MYSQL *my = root_conn(db);
    unsigned e = mysql_query(my, sql) ? mysql_errno(my) : 0;
    MYSQL_RES *res = e ? NULL : mysql_store_result(my);
    if (res)
        mysql_free_result(res);
    mysql_close(my);
    return e;
}

long long h_db_int(struct h_db *db, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    MYSQL *my = root_conn(db);
    if (mysql_query(my, sql))
        fail_msg("%s: %s", sql, mysql_error(my));
    long long v = 0;
    MYSQL_RES *res = mysql_store_result(my);
    if (res) {
        MYSQL_ROW row = mysql_fetch_row(res);
        if (row && row[0])
            v = strtoll(row[0], NULL, 10);
        mysql_free_result(res);
    }
    mysql_close(my);
    return v;
}

static void write_conf(struct h_srv *srv, const char *extra)
{
    FILE *f = fopen(srv->conf, "w");
    assert_non_null(f);
    fprintf(
        f,
        "[server]\nlisten = 127.0.0.1:0\nport_file = %s/port\ntls_cert = %s/tls/server.pem\n"
        "tls_key = %s/tls/server.key\ndebug_routes = true\nthreads = 2\nworkers = 4\n"
        "shutdown_grace_ms = 10000\n\n[db]\nsocket = %s\n\n[log]\nlevel = info\n\n"
        "[crypto]\ndata_key = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
        "[storage]\ndir = %s/data\n",
        srv->dir, h_workdir(), h_workdir(), srv->db->sock, srv->dir);
    if (extra)
        fprintf(f, "\n%s\n", extra);
    fclose(f);
}

int h_srv_cli(struct h_srv *srv, const char *stdin_text, char *out, size_t outlen, const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "PORTRAITD_DB_PASSWORD='%s' '%s' -c '%s' %s 2>>'%s'",
             srv->db->password, PC_BINARY, srv->conf, args, srv->log);
    return run(cmd, stdin_text, out, outlen);
}

void h_srv_dump_log(struct h_srv *srv)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "tail -n 30 '%s' >&2", srv->log);
    if (system(cmd) != 0)
        fprintf(stderr, "harness: no log at %s\n", srv->log);
}

/* Waits for a child to write its port file; fails the test if it exits first. */
static int wait_port(pid_t pid, const char *portfile, const char *log)
{
    for (int i = 0; i < 600; i++) {
        FILE *f = fopen(portfile, "r");
        int port = 0;
        if (f) {
            char line[32] = "";
            if (fgets(line, sizeof line, f))
                port = (int)strtol(line, NULL, 10);
            fclose(f);
        }
        if (port)
            return port;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            char cmd[512];
            snprintf(cmd, sizeof cmd, "tail -n 30 '%s' >&2", log);
            if (system(cmd) != 0)
                fprintf(stderr, "harness: no log at %s\n", log);
            fail_msg("child %d exited during start-up", (int)pid);
        }
        h_msleep(25);
    }
    fail_msg("child %d did not write %s", (int)pid, portfile);
    return 0;
}

static void ensure_tls(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "'%s/scripts/gen-tls.sh' '%s/tls'", PC_SOURCE_DIR, h_workdir());
    assert_int_equal(run(cmd, NULL, NULL, 0), 0);
}

static pid_t spawn_logged(const char *log, char *const argv[], const char *env_name,
                          const char *env_value)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
            close(fd);
        }
        if (env_name)
            setenv(env_name, env_value, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

void h_srv_start(struct h_srv *srv, struct h_db *db, const char *extra, int skip_migrate)
{
    memset(srv, 0, sizeof *srv);
    srv->db = db;
    snprintf(srv->dir, sizeof srv->dir, "%s/srv%d", h_workdir(), ++g_srv_seq);
    mkdir(srv->dir, 0700);
    snprintf(srv->conf, sizeof srv->conf, "%s/portraitd.conf", srv->dir);
    snprintf(srv->log, sizeof srv->log, "%s/portraitd.log", srv->dir);
    snprintf(srv->ca, sizeof srv->ca, "%s/tls/dev-ca.pem", h_workdir());
    ensure_tls();
    write_conf(srv, extra);
    if (!skip_migrate) {
        char out[256];
        int rc = h_srv_cli(srv, NULL, out, sizeof out, "migrate");
        if (rc)
            h_srv_dump_log(srv);
        assert_int_equal(rc, 0);
    }
    char *const argv[] = {(char *)PC_BINARY, (char *)"-c", srv->conf, (char *)"serve", NULL};
    srv->pid = spawn_logged(srv->log, argv, "PORTRAITD_DB_PASSWORD", db->password);
    char portfile[400];
    snprintf(portfile, sizeof portfile, "%s/port", srv->dir);
    srv->port = wait_port(srv->pid, portfile, srv->log);
}

bool h_file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return found;
}

/* 1 if the log holds a sanitizer report (ASan, LSan, UBSan builds). */
static int log_has_sanitizer_report(const char *path)
{
    return h_file_has(path, "Sanitizer") || h_file_has(path, "runtime error:");
}

int h_srv_stop(struct h_srv *srv, int sig)
{
    if (srv->pid <= 0)
        return -1;
    kill(srv->pid, sig);
    int st = 0;
    for (int i = 0; i < 1200; i++) {
        pid_t w = waitpid(srv->pid, &st, WNOHANG);
        if (w < 0) { /* already reaped (it died during start-up) */
            srv->pid = 0;
            return -1;
        }
        if (w == srv->pid) {
            srv->pid = 0;
            if (log_has_sanitizer_report(srv->log)) {
                h_srv_dump_log(srv);
                return 99;
            }
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        h_msleep(25);
    }
    kill(srv->pid, SIGKILL);
    waitpid(srv->pid, &st, 0);
    srv->pid = 0;
    h_srv_dump_log(srv);
    fail_msg("portraitd did not exit within 30 s of signal %d", sig);
    return -1;
}

void h_user_add(struct h_srv *srv, const char *username, const char *role, const char *password)
{
    char args[256], in[1100];
    snprintf(args, sizeof args, "user add --username '%s' --role '%s'", username, role);
    snprintf(in, sizeof in, "%s\n", password);
    int rc = h_srv_cli(srv, in, NULL, 0, args);
    if (rc)
        h_srv_dump_log(srv);
    assert_int_equal(rc, 0);
}

struct sink {
    char *p;
    size_t n;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct sink *s = arg;
    size_t n = size * nmemb;
    s->p = realloc(s->p, s->n + n + 1);
    memcpy(s->p + s->n, ptr, n);
    s->n += n;
    s->p[s->n] = '\0';
    return n;
}

int h_http_try(struct h_srv *srv, const char *method, const char *path, const char *const *headers,
               const void *body, size_t len, struct h_resp *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", srv->port, path);
    struct sink b = {0}, h = {0};
    struct curl_slist *hl = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, srv->ca);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L); /* no body follows the headers */
    else
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = b.p ? b.p : calloc(1, 1);
    out->len = b.n;
    out->headers = h.p ? h.p : calloc(1, 1);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return (int)rc;
}

void h_http(struct h_srv *srv, const char *method, const char *path, const char *const *headers,
            const void *body, size_t len, struct h_resp *out)
{
    int rc = h_http_try(srv, method, path, headers, body, len, out);
    if (rc != CURLE_OK) {
        h_srv_dump_log(srv);
        fail_msg("%s %s: %s", method, path, curl_easy_strerror((CURLcode)rc));
    }
}

void h_get(struct h_srv *srv, const char *path, const char *token, struct h_resp *out)
{
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
    const char *hs[] = {auth, NULL};
    h_http(srv, "GET", path, token ? hs : NULL, NULL, 0, out);
}

void h_post_json(struct h_srv *srv, const char *path, const char *token, const char *json,
                 struct h_resp *out)
{
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
    const char *hs[] = {"Content-Type: application/json", token ? auth : NULL, NULL};
    h_http(srv, "POST", path, hs, json, strlen(json), out);
}

const char *h_header(const struct h_resp *r, const char *name, char *buf, size_t len)
{
    size_t nl = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t ll = end ? (size_t)(end - line) : strlen(line);
        if (ll > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = ll - (size_t)(v - line);
            snprintf(buf, len, "%.*s", (int)vl, v);
            return buf;
        }
        line = end ? end + 2 : NULL;
    }
    return NULL;
}

cJSON *h_json(const struct h_resp *r)
{
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    if (!j)
        fail_msg("not JSON (status %ld): %.200s", r->status, r->body);
    return j;
}

void h_assert_error(const struct h_resp *r, long status, const char *code)
{
    if (r->status != status)
        fail_msg("expected %ld %s, got %ld: %.300s", status, code, r->status, r->body);
    cJSON *j = h_json(r);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    assert_true(cJSON_IsObject(e));
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    assert_true(cJSON_IsString(c));
    assert_string_equal(c->valuestring, code);
    assert_true(cJSON_IsString(m) && m->valuestring[0]);
    char rid[80];
    assert_non_null(h_header(r, "X-Request-Id", rid, sizeof rid));
    cJSON_Delete(j);
}

void h_resp_free(struct h_resp *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

void h_login(struct h_srv *srv, const char *username, const char *password, char *token, size_t len)
{
    char body[512];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", username, password);
    struct h_resp r;
    h_post_json(srv, "/api/v1/admin/login", NULL, body, &r);
    if (r.status != 200)
        fail_msg("login %s: %ld %s", username, r.status, r.body);
    cJSON *j = h_json(&r);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "token");
    assert_true(cJSON_IsString(t));
    snprintf(token, len, "%s", t->valuestring);
    cJSON_Delete(j);
    h_resp_free(&r);
}

void h_sandbox_start(struct h_sandbox *sb, const char *extra_args)
{
    static int seq;
    memset(sb, 0, sizeof *sb);
    snprintf(sb->dir, sizeof sb->dir, "%s/sandbox%d", h_workdir(), ++seq);
    mkdir(sb->dir, 0700);
    snprintf(sb->log, sizeof sb->log, "%s/sandbox.log", sb->dir);
    ensure_tls();
    char portfile[400], cert[400], key[400], args[1024];
    snprintf(portfile, sizeof portfile, "%s/port", sb->dir);
    snprintf(cert, sizeof cert, "%s/tls/server.pem", h_workdir());
    snprintf(key, sizeof key, "%s/tls/server.key", h_workdir());
    snprintf(args, sizeof args, "%s", extra_args ? extra_args : "");
    char *argv[32] = {(char *)PC_SANDBOX,
                      (char *)"--listen",
                      (char *)"127.0.0.1:0",
                      (char *)"--port-file",
                      portfile,
                      (char *)"--cert",
                      cert,
                      (char *)"--key",
                      key,
                      (char *)"--appid",
                      (char *)H_APPID,
                      (char *)"--secret",
                      (char *)H_SECRET,
                      (char *)"--code-key",
                      (char *)H_CODES_KEY};
    int argc = 15;
    char *save = NULL;
    for (char *t = strtok_r(args, " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    argv[argc] = NULL;
    sb->pid = spawn_logged(sb->log, argv, NULL, NULL);
    sb->port = wait_port(sb->pid, portfile, sb->log);
    snprintf(sb->base, sizeof sb->base, "https://127.0.0.1:%d", sb->port);
}

int h_sandbox_stop(struct h_sandbox *sb)
{
    struct h_srv tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.pid = sb->pid;
    snprintf(tmp.log, sizeof tmp.log, "%s", sb->log);
    int rc = h_srv_stop(&tmp, SIGTERM);
    sb->pid = 0;
    return rc;
}

void h_sb_call(struct h_sandbox *sb, const char *method, const char *path, const char *json,
               struct h_resp *out)
{
    struct h_srv tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.port = sb->port;
    snprintf(tmp.ca, sizeof tmp.ca, "%s/tls/dev-ca.pem", h_workdir());
    snprintf(tmp.log, sizeof tmp.log, "%s", sb->log);
    const char *hs[] = {"Content-Type: application/json", NULL};
    h_http(&tmp, method, path, json ? hs : NULL, json, json ? strlen(json) : 0, out);
}

cJSON *h_sb_json(struct h_sandbox *sb, const char *method, const char *path, const char *json)
{
    struct h_resp r;
    h_sb_call(sb, method, path, json, &r);
    if (r.status != 200)
        fail_msg("sandbox %s %s: %ld %s", method, path, r.status, r.body);
    cJSON *j = h_json(&r);
    h_resp_free(&r);
    return j;
}

const char *h_sandbox_conf(const struct h_sandbox *sb, char *buf, size_t len)
{
    snprintf(buf, len,
             "[codes]\nkey = %s\n[wechat]\nappid = %s\nsecret = %s\napi_base = %s\n"
             "ca_file = %s/tls/dev-ca.pem\n",
             H_CODES_KEY, H_APPID, H_SECRET, sb->base, h_workdir());
    return buf;
}

void h_req_json(struct h_srv *srv, const char *method, const char *path, const char *token,
                const char *body, struct h_resp *out)
{
    char auth[200];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
    const char *hs[] = {"Content-Type: application/json", token ? auth : NULL, NULL};
    h_http(srv, method, path, hs, body, body ? strlen(body) : 0, out);
}

void h_when(long delta, char *out, size_t len)
{
    time_t t = time(NULL) + delta + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

long long h_student(struct h_srv *srv, struct h_sandbox *sb, const char *openid,
                    const char *real_name, char *token, size_t len)
{
    char body[256];
    snprintf(body, sizeof body, "{\"openid\":\"%s\"}", openid);
    cJSON *lc = h_sb_json(sb, "POST", "/__sandbox/login-code", body);
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", cJSON_GetObjectItem(lc, "code")->valuestring);
    cJSON_Delete(lc);
    struct h_resp r;
    h_post_json(srv, "/api/v1/auth/wx-login", NULL, body, &r);
    if (r.status != 200)
        fail_msg("login %s: %ld %s", openid, r.status, r.body);
    cJSON *j = h_json(&r);
    snprintf(token, len, "%s", cJSON_GetObjectItem(j, "token")->valuestring);
    long long id =
        (long long)cJSON_GetObjectItem(cJSON_GetObjectItem(j, "user"), "id")->valuedouble;
    cJSON_Delete(j);
    h_resp_free(&r);
    if (real_name) {
        snprintf(body, sizeof body, "{\"real_name\":\"%s\"}", real_name);
        h_req_json(srv, "PUT", "/api/v1/me/profile", token, body, &r);
        if (r.status != 200)
            fail_msg("profile %s: %ld %s", openid, r.status, r.body);
        h_resp_free(&r);
    }
    return id;
}

int h_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    close(fd);
    return ntohs(a.sin_port);
}

const char *h_read_text(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f || !fgets(buf, (int)len, f))
        fail_msg("cannot read %s", path);
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf;
}

int h_stack_down(struct h_srv *srv, struct h_sandbox *sb, struct h_db *db)
{
    if (srv && srv->pid > 0)
        h_srv_stop(srv, SIGKILL);
    if (sb && sb->pid > 0)
        h_sandbox_stop(sb);
    h_db_destroy(db);
    return 0;
}

/* ---- WeChat Pay ---- */

static const char *pay_dir(void)
{
    static char dir[400];
    if (!dir[0]) {
        char cmd[900];
        snprintf(dir, sizeof dir, "%s/pay", h_workdir());
        snprintf(cmd, sizeof cmd, "'%s/scripts/gen-pay-keys.sh' '%s' >/dev/null", PC_SOURCE_DIR,
                 dir);
        if (system(cmd) != 0)
            fail_msg("gen-pay-keys.sh failed");
    }
    return dir;
}

void h_pay_sandbox_start(struct h_sandbox *sb, char *paydir, size_t len, const char *extra_args)
{
    char args[1600];
    snprintf(paydir, len, "%s", pay_dir());
    snprintf(args, sizeof args, "--pay-dir %s --ca-file %s/tls/dev-ca.pem %s", paydir, h_workdir(),
             extra_args ? extra_args : "");
    h_sandbox_start(sb, args);
}

const char *h_pay_file(const char *paydir, const char *name, char *buf, size_t len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", paydir, name);
    return h_read_text(path, buf, len);
}

const char *h_pay_conf_at(const struct h_sandbox *sb, const char *paydir, int port,
                          bool platform_certs, char *buf, size_t len)
{
    char mchid[32], serial[64], apiv3[64], certs[600] = "", urls[300] = "";
    if (platform_certs)
        snprintf(certs, sizeof certs, "platform_certs = %s/platform.pem\n", paydir);
    if (port)
        snprintf(urls, sizeof urls,
                 "notify_url = https://127.0.0.1:%d/api/v1/pay/notify\n"
                 "refund_notify_url = https://127.0.0.1:%d/api/v1/pay/refund-notify\n",
                 port, port);
    snprintf(buf, len,
             "[pay]\nmchid = %s\napi_base = %s\nca_file = %s/tls/dev-ca.pem\n"
             "merchant_key_file = %s/merchant.key\nmerchant_serial = %s\napiv3_key = %s\n%s%s",
             h_pay_file(paydir, "mchid", mchid, sizeof mchid), sb->base, h_workdir(), paydir,
             h_pay_file(paydir, "merchant.serial", serial, sizeof serial),
             h_pay_file(paydir, "apiv3.key", apiv3, sizeof apiv3), certs, urls);
    return buf;
}

const char *h_pay_conf(const struct h_sandbox *sb, char *conf, size_t len)
{
    h_pay_conf_at(sb, pay_dir(), 0, true, conf, len);
    size_t n = strlen(conf);
    snprintf(conf + n, len - n, "sweep_interval_ms = 3600000\n");
    return conf;
}

int h_upload_try(struct h_srv *srv, const char *method, const char *path, const char *token,
                 const void *data, size_t len, const char *part_type, struct h_resp *out)
{
    const char *b = "----PcHarnessBoundary7f3a";
    char head[300], tail[64], ct[96], auth[200];
    int hl = snprintf(head, sizeof head,
                      "--%s\r\nContent-Disposition: form-data; name=\"file\"; "
                      "filename=\"upload\"\r\nContent-Type: %s\r\n\r\n",
                      b, part_type);
    int tl = snprintf(tail, sizeof tail, "\r\n--%s--\r\n", b);
    size_t n = (size_t)hl + len + (size_t)tl;
    char *body = malloc(n);
    memcpy(body, head, (size_t)hl);
    memcpy(body + hl, data, len);
    memcpy(body + hl + len, tail, (size_t)tl);
    snprintf(ct, sizeof ct, "Content-Type: multipart/form-data; boundary=%s", b);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
    const char *hs[] = {ct, token ? auth : NULL, NULL};
    int rc = h_http_try(srv, method, path, hs, body, n, out);
    free(body);
    return rc;
}

void h_upload(struct h_srv *srv, const char *method, const char *path, const char *token,
              const void *data, size_t len, const char *part_type, struct h_resp *out)
{
    int rc = h_upload_try(srv, method, path, token, data, len, part_type, out);
    if (rc != CURLE_OK) {
        h_srv_dump_log(srv);
        fail_msg("%s %s: %s", method, path, curl_easy_strerror((CURLcode)rc));
    }
}

char *h_pay_envelope(const char *paydir, const char *id, const char *event_type,
                     const char *original_type, const char *plaintext)
{
    char apiv3[64];
    size_t n = strlen(plaintext), cap = 4 * ((n + 16 + 2) / 3) + 1;
    char *ct = malloc(cap), *body = malloc(cap + 1024);
    h_pay_file(paydir, "apiv3.key", apiv3, sizeof apiv3);
    assert_int_equal(
        pc_pay_encrypt(apiv3, 32, "0123456789ab", original_type, plaintext, n, ct, cap), 0);
    snprintf(body, cap + 1024,
             "{\"id\":\"%s\",\"create_time\":\"2024-01-19T10:02:12+08:00\","
             "\"resource_type\":\"encrypt-resource\",\"event_type\":\"%s\","
             "\"summary\":\"x\",\"resource\":{\"original_type\":\"%s\","
             "\"algorithm\":\"AEAD_AES_256_GCM\",\"ciphertext\":\"%s\","
             "\"associated_data\":\"%s\",\"nonce\":\"0123456789ab\"}}",
             id, event_type, original_type, ct, original_type);
    free(ct);
    return body;
}

/* The five Wechatpay-* headers of body signed with paydir/key_file under serial (timestamp
 * now, the given nonce), as "Name: value" lines into hdr. */
static void pay_sign(const char *paydir, const char *key_file, const char *serial,
                     const char *nonce, const char *body, char hdr[5][800])
{
    char key[600], sig[PC_PAY_SIG_B64_MAX];
    size_t len = strlen(body);
    long ts = (long)time(NULL);
    char *msg = malloc(len + 128);
    int m = snprintf(msg, len + 128, "%ld\n%s\n%s\n", ts, nonce, body);
    snprintf(key, sizeof key, "%s/%s", paydir, key_file);
    struct pc_pay_signer *signer = pc_pay_signer_load(key, "", "");
    if (!signer || pc_pay_sign(signer, msg, (size_t)m, sig, sizeof sig))
        fail_msg("signing the notification failed");
    pc_pay_signer_free(signer);
    free(msg);
    snprintf(hdr[0], 800, "Wechatpay-Serial: %s", serial);
    snprintf(hdr[1], 800, "Wechatpay-Timestamp: %ld", ts);
    snprintf(hdr[2], 800, "Wechatpay-Nonce: %s", nonce);
    snprintf(hdr[3], 800, "Wechatpay-Signature: %s", sig);
    snprintf(hdr[4], 800, "Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048");
}

long h_pay_notify_post(struct h_srv *srv, const char *paydir, const char *path, const char *body)
{
    char serial[64];
    h_pay_file(paydir, "platform.serial", serial, sizeof serial);
    return h_pay_notify_post_as(srv, paydir, path, body, "platform.key", serial);
}

long h_pay_notify_post_as(struct h_srv *srv, const char *paydir, const char *path, const char *body,
                          const char *key_file, const char *serial)
{
    char hdr[5][800];
    pay_sign(paydir, key_file, serial, "NONCE1234567890", body, hdr);
    const char *hs[] = {
        "Content-Type: application/json", hdr[0], hdr[1], hdr[2], hdr[3], hdr[4], NULL};
    struct h_resp r;
    h_http(srv, "POST", path, hs, body, strlen(body), &r);
    long st = r.status;
    h_resp_free(&r);
    return st;
}

void h_pay_note_make(struct h_pay_note *n, const char *notify_id, const char *out_trade_no,
                     const char *transaction_id, const char *openid, long amount_fen)
{
    char mchid[32], serial[64], tx[1024], nonce[80];
    h_pay_file(pay_dir(), "mchid", mchid, sizeof mchid);
    h_pay_file(pay_dir(), "platform.serial", serial, sizeof serial);
    snprintf(tx, sizeof tx,
             "{\"appid\":\"%s\",\"mchid\":\"%s\",\"out_trade_no\":\"%s\",\"transaction_id\":"
             "\"%s\",\"trade_type\":\"JSAPI\",\"trade_state\":\"SUCCESS\",\"success_time\":"
             "\"2024-01-19T10:02:11+08:00\",\"payer\":{\"openid\":\"%s\"},\"amount\":{"
             "\"total\":%ld,\"payer_total\":%ld,\"currency\":\"CNY\"}}",
             H_APPID, mchid, out_trade_no, transaction_id, openid, amount_fen, amount_fen);
    n->body = h_pay_envelope(pay_dir(), notify_id, "TRANSACTION.SUCCESS", "transaction", tx);
    n->len = strlen(n->body);
    snprintf(nonce, sizeof nonce, "NONCE-%s", notify_id);
    pay_sign(pay_dir(), "platform.key", serial, nonce, n->body, n->hdr);
}

void h_pay_orders_and_notes(struct h_db *db, const char *prefix, const char *openid,
                            const char *feature_code, int n, struct h_pay_note *notes)
{
    long long uid = h_db_int(db, "SELECT id FROM users WHERE openid = '%s'", openid);
    long long task =
        h_db_int(db, "SELECT id FROM tasks WHERE feature_code_norm = '%s'", feature_code);
    long long school = h_db_int(db, "SELECT school_id FROM tasks WHERE id = %lld", task);
    h_db_int(db,
             "INSERT INTO orders (order_no, task_id, user_id, school_id, grad_year, student_no, "
             "student_name, status, amount_fen) SELECT CONCAT('%s', LPAD(seq, 15, '0')), %lld, "
             "%lld, %lld, 2024, CONCAT('%s', seq), 'pay', 'unpaid', 2500 FROM seq_1_to_%d",
             prefix, task, uid, school, prefix, n);
    for (int i = 0; i < n; i++) {
        char id[48], no[32], tx[40];
        snprintf(id, sizeof id, "EV-%s-%d", prefix, i);
        snprintf(no, sizeof no, "%s%015d", prefix, i + 1);
        snprintf(tx, sizeof tx, "42%02x%014d", (unsigned)prefix[1] & 0xff, i + 1);
        h_pay_note_make(&notes[i], id, no, tx, openid, 2500);
    }
}

void h_pay_note_free(struct h_pay_note *n)
{
    free(n->body);
    n->body = NULL;
}

void h_storage_file(struct h_srv *srv, const char *rel, const char *text, long age_s)
{
    char path[700], dir[700];
    snprintf(path, sizeof path, "%s/data/%s", srv->dir, rel);
    for (char *p = path + strlen(srv->dir) + 1; (p = strchr(p, '/')); p++) {
        snprintf(dir, sizeof dir, "%.*s", (int)(p - path), path);
        mkdir(dir, 0700);
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    struct timeval tv[2] = {{time(NULL) - age_s, 0}, {time(NULL) - age_s, 0}};
    assert_int_equal(utimes(path, tv), 0);
}

long h_proc_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    size_t k = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, k))
            v = strtol(line + k, NULL, 10);
    if (f)
        fclose(f);
    return v;
}
