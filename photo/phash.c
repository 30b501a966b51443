/* photo/phash.c — 64-bit DCT perceptual hash. Pure; any thread. */
#include "photo/internal.h"

#include "photo/photo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 32
#define K 8

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

uint64_t pc__phash(const struct pc__img *im)
{
    struct pc__img small = {0};
    double lum[N][N], cosv[K][N], tmp[K][N], dct[K * K], sorted[K * K];
    pc__img_alloc(&small, N, N, im->nch);
    pc__resample(im, 0, 0, im->w, im->h, &small, NULL);
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) {
            const unsigned char *p = small.p + ((size_t)y * N + x) * im->nch;
            lum[y][x] = im->nch >= 3 ? 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] : p[0];
        }
    pc__img_free(&small);
    for (int u = 0; u < K; u++)
        for (int x = 0; x < N; x++)
            cosv[u][x] = cos((2 * x + 1) * u * M_PI / (2.0 * N));
    for (int u = 0; u < K; u++) /* rows: tmp[u][y] = sum_x lum[y][x] cos(u, x) */
        for (int y = 0; y < N; y++) {
            double a = 0;
            for (int x = 0; x < N; x++)
                a += lum[y][x] * cosv[u][x];
            tmp[u][y] = a;
        }
    for (int v = 0; v < K; v++)
        for (int u = 0; u < K; u++) {
            double a = 0;
            for (int y = 0; y < N; y++)
                a += tmp[u][y] * cosv[v][y];
            dct[v * K + u] = a;
        }
    memcpy(sorted, dct, sizeof sorted);
    qsort(sorted, K * K, sizeof sorted[0], cmp_double);
    double med = (sorted[K * K / 2 - 1] + sorted[K * K / 2]) / 2;
    uint64_t h = 0;
    for (int i = 0; i < K * K; i++)
        if (dct[i] > med)
            h |= (uint64_t)1 << i;
    return h;
}

int pc_phash_distance(uint64_t a, uint64_t b)
{
    return __builtin_popcountll(a ^ b);
}
