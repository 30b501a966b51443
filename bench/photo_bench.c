/* bench/photo_bench.c — time of the whole photo pipeline (pc_photo_process with the standard
 * file) per photo, next to TurboJPEG's plain full-resolution decode of the same file
 * (tjDecompress2 to RGB), median of N interleaved runs each, in the same process.
 * Inputs are generated (photo/testgen.h): a 4032×3024 q92 4:2:0 JPEG with EXIF orientation 6
 * (a phone held upright) and a 1080×1440 q92 one. Then the face analysis alone (finding the
 * faces, the eyes) on the 1080×1440 portrait, and the costly steps of the 4032×3024 one one by
 * one (internal API), to show where the time goes.
 * Wall time, CPU time (the pipeline's helper threads included) and the pipeline's own
 * thread's CPU time (its critical path on an idle second core: a lower bound of its wall
 * time there, which a busy machine cannot show).
 * Usage: photo_bench [RUNS] (default 21). See bench/README.md "Photo pipeline". */
#include "face/face.h"
#include "photo/internal.h"
#include "photo/photo.h"
#include "photo/testgen.h"
#include "photo/thresholds.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <turbojpeg.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of the whole process: the pipeline's own thread and its helper (the scan for
 * other faces) together. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of the calling thread alone: the pipeline's critical path when its helper threads
 * run beside it on an idle core and finish before it waits for them. */
static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A plain full-resolution decode to RGB (handle made per run, as the pipeline does). Wall
 * time; its CPU time in *cpu. */
static double time_decode(const unsigned char *j, size_t n, unsigned char *rgb, double *cpu)
{
    double t0 = now_ms(), c0 = cpu_ms();
    tjhandle tj = tjInitDecompress();
    int w = 0, h = 0, ss = -1, cs = -1;
    if (!tj || tjDecompressHeader3(tj, j, (unsigned long)n, &w, &h, &ss, &cs) != 0 ||
        tjDecompress2(tj, j, (unsigned long)n, rgb, w, 0, h, TJPF_RGB, 0) != 0) {
        fprintf(stderr, "decode failed\n");
        exit(1);
    }
    tjDestroy(tj);
    *cpu = cpu_ms() - c0;
    return now_ms() - t0;
}

static double time_pipeline(const unsigned char *j, size_t n, struct pc_photo_result *r,
                            double *cpu, double *own)
{
    struct pc_photo_opts o = {.standardise = true};
    double t0 = now_ms(), c0 = cpu_ms(), o0 = thread_cpu_ms();
    if (pc_photo_process(j, n, &o, r) != 0 || !r->ok || !r->jpeg) {
        fprintf(stderr, "pipeline refused the benchmark photo\n");
        exit(1);
    }
    double t = now_ms() - t0;
    *cpu = cpu_ms() - c0;
    *own = thread_cpu_ms() - o0;
    pc_photo_result_free(r);
    return t;
}

static void bench(const char *name, const unsigned char *j, size_t n, int w, int h, int runs)
{
    unsigned char *rgb = malloc((size_t)w * h * 3);
    double *td = calloc((size_t)runs, sizeof *td), *tp = calloc((size_t)runs, sizeof *tp);
    double *cd = calloc((size_t)runs, sizeof *cd), *cp = calloc((size_t)runs, sizeof *cp);
    double *co = calloc((size_t)runs, sizeof *co);
    struct pc_photo_result r;
    time_decode(j, n, rgb, cd); /* warm-up */
    time_pipeline(j, n, &r, cp, co);
    for (int i = 0; i < runs; i++) {
        td[i] = time_decode(j, n, rgb, &cd[i]);
        tp[i] = time_pipeline(j, n, &r, &cp[i], &co[i]);
    }
    double md = median(td, runs), mp = median(tp, runs), mcd = median(cd, runs),
           mcp = median(cp, runs), mco = median(co, runs);
    printf("%-28s %9zu B  decode %7.2f ms  pipeline %7.2f ms  ratio %.2f\n", name, n, md, mp,
           mp / md);
    printf("%-28s %11s  CPU    %7.2f ms  CPU      %7.2f ms  ratio %.2f\n", "", "", mcd, mcp,
           mcp / mcd);
    printf("%-28s %11s  CPU    %7.2f ms  own CPU  %7.2f ms  ratio %.2f\n", "", "", mcd, mco,
           mco / mcd);
    free(rgb);
    free(td);
    free(tp);
    free(cd);
    free(cp);
    free(co);
}

static unsigned char *make(int w, int h, int orientation, size_t *len, int *sw, int *sh)
{
    struct pc_photo_testgen g;
    size_t n;
    pc_photo_testgen_defaults(&g, w, h);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    if (orientation != 1)
        pc_photo_testgen_store_as(&rgb, &w, &h, orientation);
    unsigned char *j = pc_photo_testgen_jpeg(rgb, w, h, 92, TJSAMP_420, false, false, &n);
    free(rgb);
    *sw = w;
    *sh = h;
    if (orientation == 1) {
        *len = n;
        return j;
    }
    unsigned char *e = pc_photo_testgen_exif(j, n, orientation, len);
    free(j);
    return e;
}

/* The face analysis steps of the pipeline on one portrait: finding the faces on the 640-row
 * analysis image (crops from the decoded picture), then the eyes on the face patch. */
static void bench_faces(int runs)
{
    struct pc_photo_testgen g;
    pc_photo_testgen_defaults(&g, 1080, 1440);
    unsigned char *rgb = pc_photo_testgen_render(&g);
    struct pc__img src = {rgb, 1080, 1440, 3}, ana, patch;
    pc__img_alloc(&ana, 480, 640, 3);
    pc__resample(&src, 0, 0, 1080, 1440, &ana, NULL);
    struct pc__seg seg;
    struct pc__faces f;
    pc__segment(&ana, &seg);
    pc__faces_find(&ana, &seg, &src, 1, &f); /* warm-up: loads the detectors */
    double pw = PC__T(FACE_PATCH_W), k = 1440 / 640.0;
    pc__img_alloc(&patch, (int)lround(1.5 * pw), (int)lround(1.5 * pw), 3);
    const unsigned char grey[3] = {128, 128, 128};
    pc__resample(&src, (f.x - 0.25 * f.w) * k, (f.y - 0.25 * f.w) * k, 1.5 * f.w * k, 1.5 * f.w * k,
                 &patch, grey);
    double *tf = calloc((size_t)runs, sizeof *tf), *te = calloc((size_t)runs, sizeof *te);
    for (int i = 0; i < runs; i++) {
        double t0 = now_ms();
        pc__faces_find(&ana, &seg, &src, 1, &f);
        double t1 = now_ms();
        pc__faces_eyes(&patch, 0.25 * pw, 0.25 * pw, pw, &f);
        te[i] = now_ms() - t1;
        tf[i] = t1 - t0;
    }
    printf("%-28s finding faces %7.2f ms  eyes %7.2f ms\n", "face analysis 1080x1440",
           median(tf, runs), median(te, runs));
    free(tf);
    free(te);
    pc__img_free(&patch);
    pc__img_free(&ana);
    pc__seg_free(&seg);
    free(rgb);
}

/* The pipeline's costly steps one by one on the 4032×3024 photo, as pc_photo_process runs
 * them (internal API): the scaled decode, the 640-row analysis picture, the segmentation, the
 * face finding (and within it the frontal Haar scan for other faces, timed again alone), the
 * eye analysis on the face patch. What the whole pipeline spends beyond their sum is the rest:
 * rules, crop, mask, background replacement, pHash, the standard file. */
static void bench_steps(const unsigned char *j, size_t n, int runs)
{
    enum { DEC, ANA, SEG, FACES, HAAR, EYES, NSTEP };
    static const char *const name[NSTEP] = {"scaled decode (1/2)",
                                            "640-row analysis picture",
                                            "segmentation",
                                            "finding faces (all)",
                                            "  of which the Haar scan for other faces",
                                            "eyes on the face patch (with its resample)"};
    double *t[NSTEP];
    for (int k = 0; k < NSTEP; k++)
        t[k] = calloc((size_t)runs + 1, sizeof *t[k]);
    for (int i = 0; i <= runs; i++) { /* run 0: warm-up */
        struct pc__hdr hdr;
        struct pc__img src = {0}, ana = {0}, patch = {0};
        struct pc__seg seg;
        struct pc__faces f;
        double scale, t0 = now_ms(), t1;
        pc__probe(j, n, &hdr);
        if (pc__decode(j, n, &hdr, (int)PC__T(WORK_MIN_H), &src, &scale) != 0)
            exit(1);
        bool swap = hdr.orientation >= 5;
        int ow = swap ? src.h : src.w, oh = swap ? src.w : src.h, ah = (int)PC__T(ANA_H);
        t1 = now_ms();
        t[DEC][i] = t1 - t0;
        pc__img_alloc(&ana, (int)lround((double)ow * ah / oh), ah, 3);
        pc__resample_oriented(&src, hdr.orientation, 0, 0, ow, oh, &ana, NULL);
        t0 = now_ms();
        t[ANA][i] = t0 - t1;
        pc__segment(&ana, &seg);
        t1 = now_ms();
        t[SEG][i] = t1 - t0;
        pc__faces_find(&ana, &seg, &src, hdr.orientation, &f);
        t0 = now_ms();
        t[FACES][i] = t0 - t1;
        t0 = now_ms();
        pc__faces_scan_free(pc__faces_scan_start(&ana, false));
        t1 = now_ms();
        t[HAAR][i] = t1 - t0;
        if (f.found) {
            double pw = PC__T(FACE_PATCH_W), fx = (double)ow / ana.w, fy = (double)oh / ana.h;
            const unsigned char mid[3] = {128, 128, 128};
            pc__img_alloc(&patch, (int)lround(1.5 * pw), (int)lround(1.5 * pw), 3);
            pc__resample_oriented(&src, hdr.orientation, (f.x - 0.25 * f.w) * fx,
                                  (f.y - 0.25 * f.w) * fy, 1.5 * f.w * fx, 1.5 * f.w * fy, &patch,
                                  mid);
            pc__faces_eyes(&patch, 0.25 * pw, 0.25 * pw, pw, &f);
        }
        t[EYES][i] = now_ms() - t1;
        pc__img_free(&patch);
        pc__seg_free(&seg);
        pc__img_free(&ana);
        pc__img_free(&src);
    }
    for (int k = 0; k < NSTEP; k++) {
        printf("  %-44s %7.2f ms\n", name[k], median(t[k] + 1, runs));
        free(t[k]);
    }
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 21;
    if (runs < 1)
        runs = 1;
    size_t n;
    int w, h;
    printf("photo pipeline vs plain TurboJPEG full decode, median of %d runs each\n", runs);
    unsigned char *a = make(3024, 4032, 6, &n, &w, &h);
    bench("4032x3024 q92 (EXIF 6)", a, n, w, h, runs);
    printf("its steps, median of %d runs each:\n", runs);
    bench_steps(a, n, runs);
    free(a);
    a = make(1080, 1440, 1, &n, &w, &h);
    bench("1080x1440 q92", a, n, w, h, runs);
    free(a);
    bench_faces(runs);
    return 0;
}
