/* tests/integration/cluster.c — distinct portraits and haproxy for the tests; see cluster.h. */
#include "harness.h"
#include "cluster.h"

#include "photo/photo.h"
#include "photo/testgen.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <turbojpeg.h>
#include <unistd.h>

void h_distinct_portraits(size_t n, unsigned char **out, size_t *len)
{
    /* People, as tools/demo_portrait.c makes them: hair length, clothes, skin, hair colour
     * and posture change the subject's pHash; framing alone does not (it is normalised). */
    static const unsigned char cloth[][3] = {
        {30, 30, 34}, {240, 240, 236}, {120, 20, 30}, {30, 90, 50}};
    static const unsigned char skin[][3] = {{214, 170, 140}, {170, 120, 90}, {228, 190, 160}};
    static const unsigned char hair[][3] = {{15, 12, 10}, {90, 60, 35}, {40, 28, 20}};
    uint64_t kept[64];
    size_t k = 0;
    for (size_t t = 0; k < n && t < 2 * 4 * 3 * 3 * 2; t++) {
        struct pc_photo_testgen g;
        pc_photo_testgen_defaults(&g, 1080, 1440);
        g.seed = 4000u + (uint32_t)t;
        g.long_hair = t % 2;
        memcpy(g.cloth, cloth[(t / 2) % 4], 3);
        memcpy(g.skin, skin[(t / 8) % 3], 3);
        memcpy(g.hair, hair[(t / 24) % 3], 3);
        g.tilt = (t / 72) % 2 ? 0.02 : 0;
        unsigned char *rgb = pc_photo_testgen_render(&g);
        size_t l = 0;
        unsigned char *jpg =
            pc_photo_testgen_jpeg(rgb, 1080, 1440, 90, TJSAMP_420, false, false, &l);
        free(rgb);
        struct pc_photo_opts o = {.standardise = false, .max_pixels = 0};
        struct pc_photo_result r;
        pc_photo_process(jpg, l, &o, &r);
        bool ok = r.ok && r.has_phash;
        for (size_t i = 0; ok && i < k; i++)
            ok = pc_phash_distance(kept[i], r.phash) > PC_PHASH_SAME_MAX;
        if (ok && k < 64) {
            kept[k] = r.phash;
            out[k] = jpg;
            len[k] = l;
            k++;
        } else {
            free(jpg);
        }
        pc_photo_result_free(&r);
    }
    if (k < n)
        fail_msg("only %zu distinct portraits of %zu", k, n);
}

void h_balancer_start(struct h_balancer *b, struct h_srv *const *srvs, size_t n, int port)
{
    static int seq;
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "%s/haproxy%d", h_workdir(), ++seq);
    mkdir(b->dir, 0700);
    snprintf(b->cfg, sizeof b->cfg, "%s/haproxy.cfg", b->dir);
    snprintf(b->log, sizeof b->log, "%s/haproxy.log", b->dir);
    b->port = port ? port : h_free_port();
    char cmd[2048], pem[400];
    snprintf(pem, sizeof pem, "%s/haproxy.pem", b->dir);
    snprintf(cmd, sizeof cmd, "cat '%s/tls/server.pem' '%s/tls/server.key' > '%s'", h_workdir(),
             h_workdir(), pem);
    assert_int_equal(system(cmd), 0);
    int k = snprintf(cmd, sizeof cmd,
                     "'%s/scripts/haproxy-conf.sh' 127.0.0.1:%d '%s' '%s/tls/dev-ca.pem'",
                     PC_SOURCE_DIR, b->port, pem, h_workdir());
    for (size_t i = 0; i < n; i++)
        k += snprintf(cmd + k, sizeof cmd - (size_t)k, " 127.0.0.1:%d", srvs[i]->port);
    snprintf(cmd + k, sizeof cmd - (size_t)k, " > '%s'", b->cfg);
    assert_int_equal(system(cmd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(b->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execlp("haproxy", "haproxy", "-db", "-f", b->cfg, (char *)NULL);
        _exit(127);
    }
    b->pid = pid;
    struct h_srv via;
    h_balancer_srv(b, &via);
    for (int i = 0; i < 400; i++) { /* until it answers for the instances */
        struct h_resp r;
        if (h_http_try(&via, "GET", "/readyz", NULL, NULL, 0, &r) == 0 && r.status == 200) {
            h_resp_free(&r);
            return;
        }
        h_resp_free(&r);
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            snprintf(cmd, sizeof cmd, "cat '%s' >&2", b->log);
            if (system(cmd) != 0)
                fprintf(stderr, "cluster: no haproxy log\n");
            fail_msg("haproxy exited during start-up");
        }
        h_msleep(50);
    }
    fail_msg("haproxy did not answer within 20 s");
}

void h_balancer_stop(struct h_balancer *b)
{
    if (b->pid <= 0)
        return;
    kill(b->pid, SIGTERM);
    int st;
    waitpid(b->pid, &st, 0);
    b->pid = 0;
}

void h_balancer_srv(const struct h_balancer *b, struct h_srv *out)
{
    memset(out, 0, sizeof *out);
    out->port = b->port;
    snprintf(out->ca, sizeof out->ca, "%s/tls/dev-ca.pem", h_workdir());
    snprintf(out->log, sizeof out->log, "%s", b->log);
}

int h_put_photo(struct h_srv *s, const char *tok, const char *no, const void *img, size_t len,
                struct h_resp *r)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/orders/%s/photo", no);
    return h_upload_try(s, "PUT", path, tok, img, len, "image/jpeg", r);
}

cJSON *h_transaction_json(const char *no, const char *tx_id)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"appid\":\"wx8f3c2a1b0d4e5f60\",\"mchid\":\"1900000109\",\"out_trade_no\":\"%s\","
             "\"transaction_id\":\"%s\",\"trade_type\":\"JSAPI\",\"trade_state\":\"SUCCESS\","
             "\"success_time\":\"2024-01-19T10:02:11+08:00\",\"payer\":{\"openid\":\"o_%s\"},"
             "\"amount\":{\"total\":2500,\"payer_total\":2500,\"currency\":\"CNY\"}}",
             no, tx_id, no);
    return cJSON_Parse(json);
}
