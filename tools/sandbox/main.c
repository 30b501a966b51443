/* tools/sandbox/main.c — portraitd-sandbox: the command line, the event loop and a clean
 * shutdown on SIGTERM/SIGINT. One thread: the main thread runs the loop. */
#include "tools/sandbox/sandbox.h"

#include "base/crypto.h"
#include "base/log.h"
#include "net/outbound.h"
#include "tools/sandbox/pay.h"
#include "tools/sandbox/state.h"

#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sb_usage(FILE *fp)
{
    fprintf(fp, "usage: portraitd-sandbox --listen HOST:PORT [--port-file FILE]\n"
                "                         (--cert FILE --key FILE | --plain)\n"
                "                         --appid APPID --secret SECRET\n"
                "                         [--code-ttl-s 300] [--token-ttl-s 7200]\n"
                "                         [--code-key HEX64]   (collection-code issuer key)\n"
                "                         [--pay-dir DIR [--pay-mode cert|pubkey]\n"
                "                          [--notify-schedule S,S,...] [--ca-file FILE]\n"
                "                          [--refund-delay-ms 1000]]   (WeChat Pay v3)\n"
                "                         [--sms-key KEY]   (SMS gateway API key)\n"
                "                         [--log-level debug|info|warn|error]\n"
                "Stands in for WeChat on development and CI machines (docs/sandbox.md).\n");
}

/* Parses a positive number of seconds. 0 or -1. */
static int sb_parse_secs(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (!s[0] || *end || v < 1 || v > 86400LL * 365)
        return -1;
    *out = v;
    return 0;
}

/* Writes the port to path through a temporary file and a rename. 0 or -1. */
static int sb_write_port_file(const char *path, int port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) || rename(tmp, path))
        return -1;
    return 0;
}

/* WeChat's retry gaps (wechat-protocols.md §5.4): 15 s … 6 h, about 24 h 4 min in all. */
#define SB_DEFAULT_SCHEDULE                                                                        \
    "15,15,30,180,600,1200,1800,1800,1800,3600,10800,10800,10800,21600,21600"

/* Parses "0.2,0.2,0.5" (1 to SB_MAX_SCHEDULE gaps of 0.001 to 86400 s). 0 or -1. */
static int sb_parse_schedule(const char *s, struct sb_opts *o)
{
    o->notify_n = 0;
    while (*s) {
        char *end = NULL;
        double v = strtod(s, &end);
        if (end == s || !(v >= 0.001 && v <= 86400) || o->notify_n >= SB_MAX_SCHEDULE ||
            (*end && *end != ','))
            return -1;
        o->notify_schedule[o->notify_n++] = v;
        s = *end ? end + 1 : end;
        if (end[0] == ',' && !end[1])
            return -1;
    }
    return o->notify_n ? 0 : -1;
}

#define SB_FLUSH_MS 200 /* after a signal, time for the last replies to reach their clients */

struct sb_main {
    struct event_base *base;
    struct sb_http *h;
};

/* Answers the delayed replies at once and stops the loop SB_FLUSH_MS later. */
static void sb_on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct sb_main *m = arg;
    pc_log(PC_LOG_INFO, "shutting down", PC_LS("signal", sig == SIGINT ? "SIGINT" : "SIGTERM"));
    sb_http_flush(m->h);
    struct timeval flush = {0, SB_FLUSH_MS * 1000};
    event_base_loopexit(m->base, &flush);
}

static int sb_parse_args(int argc, char **argv, struct sb_opts *o)
{
    static const struct option longopts[] = {{"listen", required_argument, NULL, 'l'},
                                             {"port-file", required_argument, NULL, 'p'},
                                             {"cert", required_argument, NULL, 'c'},
                                             {"key", required_argument, NULL, 'k'},
                                             {"plain", no_argument, NULL, 'P'},
                                             {"appid", required_argument, NULL, 'a'},
                                             {"secret", required_argument, NULL, 's'},
                                             {"code-ttl-s", required_argument, NULL, 'C'},
                                             {"token-ttl-s", required_argument, NULL, 'T'},
                                             {"log-level", required_argument, NULL, 'L'},
                                             {"code-key", required_argument, NULL, 'K'},
                                             {"pay-dir", required_argument, NULL, 'D'},
                                             {"pay-mode", required_argument, NULL, 'M'},
                                             {"notify-schedule", required_argument, NULL, 'S'},
                                             {"ca-file", required_argument, NULL, 'A'},
                                             {"refund-delay-ms", required_argument, NULL, 'R'},
                                             {"sms-key", required_argument, NULL, 'Y'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->code_ttl_s = 300;
    o->token_ttl_s = 7200;
    o->log_level = "info";
    o->refund_delay_ms = 1000;
    if (sb_parse_schedule(SB_DEFAULT_SCHEDULE, o))
        return -1;
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'l':
            o->listen = optarg;
            break;
        case 'p':
            o->port_file = optarg;
            break;
        case 'c':
            o->cert = optarg;
            break;
        case 'k':
            o->key = optarg;
            break;
        case 'P':
            o->plain = 1;
            break;
        case 'a':
            o->appid = optarg;
            break;
        case 's':
            o->secret = optarg;
            break;
        case 'C':
            if (sb_parse_secs(optarg, &o->code_ttl_s)) {
                fprintf(stderr, "portraitd-sandbox: bad --code-ttl-s '%s'\n", optarg);
                return -1;
            }
            break;
        case 'T':
            if (sb_parse_secs(optarg, &o->token_ttl_s)) {
                fprintf(stderr, "portraitd-sandbox: bad --token-ttl-s '%s'\n", optarg);
                return -1;
            }
            break;
        case 'L':
            o->log_level = optarg;
            break;
        case 'K':
            if (pc_data_key_parse(optarg, o->code_key)) {
                fprintf(stderr, "portraitd-sandbox: --code-key needs 64 hex digits\n");
                return -1;
            }
            o->has_code_key = 1;
            break;
        case 'D':
            o->pay_dir = optarg;
            break;
        case 'M':
            if (strcmp(optarg, "cert") && strcmp(optarg, "pubkey")) {
                fprintf(stderr, "portraitd-sandbox: --pay-mode is cert or pubkey\n");
                return -1;
            }
            o->pay_pubkey_mode = !strcmp(optarg, "pubkey");
            break;
        case 'S':
            if (sb_parse_schedule(optarg, o)) {
                fprintf(stderr, "portraitd-sandbox: bad --notify-schedule '%s'\n", optarg);
                return -1;
            }
            break;
        case 'A':
            o->ca_file = optarg;
            break;
        case 'Y':
            o->sms_key = optarg;
            break;
        case 'R': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (!optarg[0] || *end || v < 0 || v > SB_MAX_DELAY_MS) {
                fprintf(stderr, "portraitd-sandbox: bad --refund-delay-ms '%s'\n", optarg);
                return -1;
            }
            o->refund_delay_ms = v;
            break;
        }
        case 'h':
            sb_usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind != argc || !o->listen || !o->appid || !o->appid[0] || !o->secret || !o->secret[0] ||
        (o->plain ? (o->cert || o->key) : (!o->cert || !o->key))) {
        fprintf(stderr, "portraitd-sandbox: need --listen, --appid, --secret and either "
                        "--cert and --key or --plain\n");
        return -1;
    }
    if (pc_log_set_level_name(o->log_level)) {
        fprintf(stderr, "portraitd-sandbox: bad --log-level '%s'\n", o->log_level);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct sb_opts opts;
    if (sb_parse_args(argc, argv, &opts)) {
        sb_usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (pc_outbound_global_init()) {
        fprintf(stderr, "portraitd-sandbox: cannot initialise libcurl\n");
        return 1;
    }
    int rc = 1;
    char err[512] = "";
    struct event_base *base = event_base_new();
    struct sb_state *st = sb_state_new(&opts);
    struct sb_http *h = NULL;
    struct sb_pay *pay = NULL;
    struct event *sigterm = NULL, *sigint = NULL;
    if (!base) {
        pc_log_msg(PC_LOG_ERROR, "cannot create the event loop");
        goto out;
    }
    pay = sb_pay_new(base, &opts, st, err, sizeof err);
    if (!pay) {
        pc_log(PC_LOG_ERROR, "cannot load the WeChat Pay keys", PC_LS("error", err));
        goto out;
    }
    sb_state_set_pay(st, pay);
    h = sb_http_new(base, &opts, st, err, sizeof err);
    if (!h) {
        pc_log(PC_LOG_ERROR, "cannot start", PC_LS("error", err));
        goto out;
    }
    struct sb_main m = {base, h};
    sigterm = evsignal_new(base, SIGTERM, sb_on_signal, &m);
    sigint = evsignal_new(base, SIGINT, sb_on_signal, &m);
    evsignal_add(sigterm, NULL);
    evsignal_add(sigint, NULL);
    if (opts.port_file && sb_write_port_file(opts.port_file, sb_http_port(h))) {
        pc_log(PC_LOG_ERROR, "cannot write port file", PC_LS("path", opts.port_file));
        goto out;
    }
    pc_log(PC_LOG_INFO, "listening", PC_LS("listen", opts.listen), PC_LI("port", sb_http_port(h)),
           PC_LS("scheme", opts.plain ? "http" : "https"), PC_LS("appid", opts.appid),
           PC_LI("code_ttl_s", opts.code_ttl_s), PC_LI("token_ttl_s", opts.token_ttl_s),
           PC_LS("pay", opts.pay_dir ? (opts.pay_pubkey_mode ? "pubkey" : "cert") : "off"));
    event_base_dispatch(base);
    rc = 0;
out:
    sb_http_free(h);
    sb_pay_free(pay);
    sb_bill_reset();
    sb_state_set_pay(st, NULL);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    sb_state_free(st);
    if (base)
        event_base_free(base);
    libevent_global_shutdown();
    pc_outbound_global_cleanup();
    if (!rc)
        pc_log_msg(PC_LOG_INFO, "stopped");
    return rc;
}
