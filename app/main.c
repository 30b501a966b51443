/* app/main.c — the portraitd command line: serve, migrate, user, config.
 * Main thread only. */
#include "base/crypto.h"
#include "base/err.h"
#include "base/gate.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "app/jobs.h"
#include "users/sessions.h"
#include "handlers/handlers.h"
#include "config/config.h"
#include "net/outbound.h"
#include "server/server.h"
#include "staff/staff.h"
#include "storage/storage.h"
#include "store/db.h"
#include "store/migrate.h"
#include "orders/closeout.h"
#include "orders/listing.h"
#include "finance/finance.h"
#include "notify/notify.h"
#include "payment/group.h"
#include "payment/sweeper.h"
#include "payment/wxpay.h"
#include "retention/retention.h"
#include "wechat/token.h"

#include <event2/thread.h>
#include <errno.h>
#include <getopt.h>
#include <mysql.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PC_VERSION
#define PC_VERSION "dev"
#endif

static void usage(FILE *fp)
{
    fprintf(
        fp,
        "usage: portraitd [-c FILE] [serve]\n"
        "       portraitd [-c FILE] migrate\n"
        "       portraitd [-c FILE] user add --username U --role admin|reviewer|finance|college\n"
        "                            [--school CODE] [--college NAME] [--task ID]\n"
        "                                                 (password on stdin)\n"
        "       portraitd [-c FILE] user passwd --username U (password on stdin; ends its "
        "sessions)\n"
        "       portraitd [-c FILE] user grant|revoke --username U --role ROLE [--school CODE]\n"
        "                            [--college NAME] [--task ID]   (e.g. a reviewer's task)\n"
        "       portraitd [-c FILE] purge [--dry-run] [--as-of 'YYYY-MM-DD HH:MM:SS']\n"
        "                            one retention run now (UTC --as-of: as if it were then)\n"
        "       portraitd [-c FILE] config      print the effective configuration\n"
        "       portraitd version\n"
        "The configuration file defaults to $PORTRAITD_CONFIG; every key can be overridden\n"
        "with PORTRAITD_<SECTION>_<KEY> (see docs/configuration.md).\n");
}

/* host:pid:random — names this process among several (lease holders, outbox claims). */
static void instance_name(char *out, size_t len)
{
    unsigned char rnd[4];
    char host[64] = "localhost";
    pc_rand_bytes(rnd, sizeof rnd);
    gethostname(host, sizeof host - 1);
    snprintf(out, len, "%s:%d:%02x%02x%02x%02x", host, (int)getpid(), rnd[0], rnd[1], rnd[2],
             rnd[3]);
}

static int cmd_serve(const struct pc_config *cfg)
{
    char err[512];
    unsigned char key[32];
    if (pc_data_key_parse(cfg->data_key, key)) {
        pc_log(PC_LOG_ERROR, "cannot start",
               PC_LS("error", "crypto.data_key must be 64 hex digits (PORTRAITD_CRYPTO_DATA_KEY)"));
        return 1;
    }
    if (pc_storage_check(cfg, err, sizeof err)) {
        pc_log(PC_LOG_ERROR, "cannot start", PC_LS("error", err));
        return 1;
    }
    struct pc_server *srv = pc_server_new(cfg, pc_routes, pc_routes_count, err, sizeof err);
    if (!srv) {
        pc_log(PC_LOG_ERROR, "cannot start", PC_LS("error", err));
        return 1;
    }
    struct pc_pay *pay = pc_pay_load(cfg, err, sizeof err);
    if (!pay && err[0]) {
        pc_log(PC_LOG_ERROR, "cannot start", PC_LS("error", err));
        pc_server_free(srv);
        return 1;
    }
    pc_image_gate_set(cfg->limit_image_workers); /* before any worker decodes a picture */
    /* The domain's context: handlers get a copy per worker, the jobs their own. */
    char instance[128];
    instance_name(instance, sizeof instance);
    struct pc_ctx base = {.cfg = cfg, .pay = pay, .instance = instance};
    struct pc_jobs *jobs = pc_jobs_new(&base);
    pc_jobs_add(jobs, "wx_access_token", pc_wxtoken_job, NULL);
    pc_jobs_add(jobs, "pay_certificates", pc_pay_certs_job, NULL);
    pc_jobs_add(jobs, "pay_sweeper", pc_pay_sweeper_job, NULL);
    pc_jobs_add(jobs, "outbox", pc_notify_outbox_job, NULL);
    pc_jobs_add(jobs, "window_closeout", pc_order_closeout_job, NULL);
    pc_jobs_add(jobs, "reconciliation", pc_finance_recon_job, NULL);
    pc_jobs_add(jobs, "retention", pc_retention_job, NULL);
    pc_server_set_context(srv, &base);
    pc_server_block_signals(); /* before the first thread: only pc_server_run takes them */
    pc_user_sessions_start(cfg);
    pc_order_lists_start(cfg);
    pc_pay_group_start(cfg);
    pc_jobs_start(jobs);
    int rc = pc_server_run(srv);
    pc_jobs_free(jobs);
    pc_pay_group_stop(); /* before the server is freed: they complete parked requests */
    pc_order_lists_stop();
    pc_user_sessions_stop();
    pc_server_free(srv);
    pc_pay_free(pay);
    return rc ? 1 : 0;
}

static int cmd_migrate(const struct pc_config *cfg)
{
    struct pc_db *db = pc_db_new(cfg);
    int applied = 0;
    int rc = pc_migrate_run(db, &applied);
    pc_db_free(db);
    if (rc) {
        fprintf(stderr, "portraitd: migrate failed: %s\n", pc_strerror(rc));
        return 1;
    }
    if (applied)
        printf("applied %d migration(s); schema is at version %d\n", applied, pc_migrate_latest());
    else
        printf("schema is up to date (version %d)\n", pc_migrate_latest());
    return 0;
}

/* Reads one line from stdin into buf without its newline. */
static int read_password(char *buf, size_t len)
{
    if (!fgets(buf, (int)len, stdin))
        return PC_EINVAL;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static int cmd_user(const struct pc_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        {"username", required_argument, NULL, 'u'}, {"role", required_argument, NULL, 'r'},
        {"school", required_argument, NULL, 's'},   {"college", required_argument, NULL, 'C'},
        {"task", required_argument, NULL, 't'},     {NULL, 0, NULL, 0}};
    const char *username = NULL, *role = NULL, *school = NULL, *college = NULL;
    long long task = 0;
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    bool add = !strcmp(sub, "add"), passwd = !strcmp(sub, "passwd");
    bool grant = !strcmp(sub, "grant"), revoke = !strcmp(sub, "revoke");
    optind = 2;
    int c;
    char *end = NULL;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            username = optarg;
            break;
        case 'r':
            role = optarg;
            break;
        case 's':
            school = optarg;
            break;
        case 'C':
            college = optarg;
            break;
        case 't':
            errno = 0;
            task = strtoll(optarg, &end, 10);
            if (errno || !end || *end || task <= 0) {
                fprintf(stderr, "portraitd: --task takes a task id\n");
                return 2;
            }
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!username || (!add && !passwd && !grant && !revoke) || (!passwd && !role)) {
        usage(stderr);
        return 2;
    }
    char pw[PC_STAFF_PASSWORD_MAX + 2];
    if ((add || passwd) && read_password(pw, sizeof pw)) {
        fprintf(stderr, "portraitd: expected the password on standard input\n");
        return 2;
    }
    struct pc_db *db = pc_db_new(cfg);
    int rc;
    uint64_t revoked = 0;
    if (add)
        rc = pc_staff_create(db, username, pw, role, school, college, task, NULL);
    else if (passwd)
        rc = pc_staff_set_password(db, username, pw, &revoked);
    else
        rc = pc_staff_role_change(db, username, grant, role, school, college, task);
    OPENSSL_cleanse(pw, sizeof pw);
    pc_db_free(db);
    switch (rc) {
    case 0:
        if (add)
            printf("created %s\n", username);
        else if (passwd)
            printf("password changed for %s; %llu session(s) ended\n", username,
                   (unsigned long long)revoked);
        else
            printf("%s %s %s\n", grant ? "granted" : "revoked", role, username);
        return 0;
    case PC_EEXIST:
        fprintf(stderr, "portraitd: user %s already exists\n", username);
        return 1;
    case PC_ENOTFOUND:
        fprintf(stderr, "portraitd: %s not found\n",
                add      ? "school or task"
                : revoke ? "user or role"
                         : "user, school or task");
        return 1;
    case PC_ETOOBIG:
        fprintf(stderr, "portraitd: %s has too many roles\n", username);
        return 1;
    case PC_EINVAL:
        fprintf(stderr,
                "portraitd: invalid input: username is 1-64 of [A-Za-z0-9._@-], role one of "
                "admin|reviewer|finance|college (college needs --school and --college; only a "
                "reviewer takes --task, of that school), password %d-%d characters\n",
                PC_STAFF_PASSWORD_MIN, PC_STAFF_PASSWORD_MAX);
        return 1;
    default:
        fprintf(stderr, "portraitd: %s\n", pc_strerror(rc));
        return 1;
    }
}

/* One retention run from the command line (docs/privacy.md), its counts printed as JSON. */
static int cmd_purge(const struct pc_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {{"dry-run", no_argument, NULL, 'd'},
                                         {"as-of", required_argument, NULL, 'a'},
                                         {NULL, 0, NULL, 0}};
    struct pc_retention_opts o = {0};
    int64_t t;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') {
            o.dry_run = true;
        } else if (c == 'a' && pc_time_parse_db(optarg, &t) == 0) {
            o.as_of = optarg;
        } else {
            fprintf(stderr, "portraitd: purge [--dry-run] [--as-of 'YYYY-MM-DD HH:MM:SS' (UTC)]\n");
            return 2;
        }
    }
    char instance[96];
    snprintf(instance, sizeof instance, "cli:%d", (int)getpid());
    struct pc_ctx ctx = {.cfg = cfg, .db = pc_db_new(cfg), .instance = instance};
    struct pc_retention_counts counts;
    int rc = pc_retention_run(&ctx, &o, &counts);
    pc_db_free(ctx.db);
    if (rc == PC_EBUSY) {
        fprintf(stderr, "portraitd: another instance holds the retention lease; try later\n");
        return 1;
    }
    cJSON *j = pc_retention_counts_json(&counts);
    cJSON_AddBoolToObject(j, "dry_run", o.dry_run);
    char *s = cJSON_PrintUnformatted(j);
    printf("%s\n", s);
    free(s);
    cJSON_Delete(j);
    if (rc) {
        fprintf(stderr, "portraitd: purge stopped: %s\n", pc_strerror(rc));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = getenv("PORTRAITD_CONFIG");
    int c;
    while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
        if (c == 'c') {
            path = optarg;
        } else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    const char *cmd = optind < argc ? argv[optind] : "serve";
    if (!strcmp(cmd, "version")) {
        printf("portraitd %s\n", PC_VERSION);
        return 0;
    }
    struct pc_config cfg;
    char err[512];
    pc_config_defaults(&cfg);
    if (pc_config_load(&cfg, path && path[0] ? path : NULL, err, sizeof err)) {
        fprintf(stderr, "portraitd: %s\n", err);
        pc_config_free(&cfg);
        return 2;
    }
    if (pc_log_set_level_name(cfg.log_level)) {
        fprintf(stderr, "portraitd: log.level must be debug, info, warn or error\n");
        pc_config_free(&cfg);
        return 2;
    }
    evthread_use_pthreads();
    mysql_library_init(0, NULL, NULL);
    if (pc_outbound_global_init()) {
        fprintf(stderr, "portraitd: libcurl initialisation failed\n");
        pc_config_free(&cfg);
        return 1;
    }
    int rc;
    if (!strcmp(cmd, "serve"))
        rc = cmd_serve(&cfg);
    else if (!strcmp(cmd, "migrate"))
        rc = cmd_migrate(&cfg);
    else if (!strcmp(cmd, "user"))
        rc = cmd_user(&cfg, argc - optind, argv + optind);
    else if (!strcmp(cmd, "purge"))
        rc = cmd_purge(&cfg, argc - optind, argv + optind);
    else if (!strcmp(cmd, "config")) {
        pc_config_print(&cfg, stdout);
        rc = 0;
    } else {
        usage(stderr);
        rc = 2;
    }
    pc_outbound_global_cleanup();
    mysql_library_end();
    pc_config_free(&cfg);
    return rc;
}
