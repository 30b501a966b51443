/* tests/integration/s3server.c — s3rver for the tests; see s3server.h. */
#include "harness.h"
#include "s3server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

void h_s3_start(struct h_s3 *s3)
{
    static int seq;
    memset(s3, 0, sizeof *s3);
    snprintf(s3->dir, sizeof s3->dir, "%s/s3-%d", h_workdir(), ++seq);
    mkdir(s3->dir, 0700);
    snprintf(s3->log, sizeof s3->log, "%s/s3.log", s3->dir);
    char data[400], portfile[400];
    snprintf(data, sizeof data, "%s/data", s3->dir);
    snprintf(portfile, sizeof portfile, "%s/port", s3->dir);
    setenv("PORTRAITD_STORAGE_S3_ACCESS_KEY", H_S3_KEY, 1);
    setenv("PORTRAITD_STORAGE_S3_SECRET_KEY", H_S3_KEY, 1);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(s3->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execl(PC_SOURCE_DIR "/scripts/s3.sh", "s3.sh", "serve", data, H_S3_BUCKET, "127.0.0.1:0",
              portfile, (char *)NULL);
        _exit(127);
    }
    s3->pid = pid;
    for (int i = 0; i < 1200 && !s3->port; i++) { /* node starts slowly on a busy machine */
        FILE *f = fopen(portfile, "r");
        char line[32] = "";
        if (f) {
            if (fgets(line, sizeof line, f))
                s3->port = (int)strtol(line, NULL, 10);
            fclose(f);
        }
        int st;
        if (!s3->port && waitpid(pid, &st, WNOHANG) == pid) {
            char cmd[600];
            snprintf(cmd, sizeof cmd, "cat '%s' >&2", s3->log);
            if (system(cmd) != 0)
                fprintf(stderr, "s3server: no log\n");
            fail_msg("the S3 server exited during start-up (scripts/s3.sh install?)");
        }
        if (!s3->port)
            h_msleep(50);
    }
    if (!s3->port)
        fail_msg("the S3 server did not start within 60 s");
    snprintf(s3->endpoint, sizeof s3->endpoint, "http://127.0.0.1:%d", s3->port);
}

int h_s3_stop(struct h_s3 *s3)
{
    if (s3->pid <= 0)
        return -1;
    kill(s3->pid, SIGTERM);
    int st = 0;
    for (int i = 0; i < 400; i++) {
        if (waitpid(s3->pid, &st, WNOHANG) == s3->pid) {
            s3->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        h_msleep(25);
    }
    kill(s3->pid, SIGKILL);
    waitpid(s3->pid, &st, 0);
    s3->pid = 0;
    return 128 + SIGKILL;
}

const char *h_s3_conf(const struct h_s3 *s3, char *buf, size_t len)
{
    snprintf(buf, len,
             "[storage]\nbackend = s3\ns3_endpoint = %s\ns3_bucket = %s\ns3_path_style = true\n"
             "s3_region = us-east-1\ns3_timeout_ms = 20000\n",
             s3->endpoint, H_S3_BUCKET);
    return buf;
}

int h_s3_objects(const struct h_s3 *s3, const char *prefix)
{
    /* s3rver keeps an object KEY as the file data/BUCKET/KEY._S3rver_object */
    char cmd[900], out[32];
    snprintf(cmd, sizeof cmd,
             "find '%s/data/%s/%s' -type f -name '*._S3rver_object' 2>/dev/null "
             "| wc -l",
             s3->dir, H_S3_BUCKET, prefix);
    FILE *p = popen(cmd, "r");
    int n = p && fgets(out, sizeof out, p) ? (int)strtol(out, NULL, 10) : -1;
    if (p)
        pclose(p);
    return n;
}
