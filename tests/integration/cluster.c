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
    static const double sizes[] = {1.0, 0.93, 1.07, 0.96, 1.04};
    static const double cxs[] = {0.5, 0.46, 0.54};
    static const unsigned char cloth[][3] = {
        {40, 40, 60}, {200, 200, 190}, {90, 30, 30}, {30, 80, 40}};
    uint64_t kept[64];
    size_t k = 0;
    for (size_t t = 0; k < n && t < 5 * 3 * 4 * 2; t++) {
        struct pc_photo_testgen g;
        pc_photo_testgen_defaults(&g, 1080, 1440);
        g.seed = 4000u + (uint32_t)t;
        g.size = sizes[t % 5];
        g.cx = cxs[(t / 5) % 3];
        memcpy(g.cloth, cloth[(t / 15) % 4], 3);
        g.long_hair = (t / 60) % 2;
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
